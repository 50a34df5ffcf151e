"""Figures formatted for reading: one place, so every screen shows them alike.

Plain functions returning ``str`` (for table cells) or :class:`rich.text.Text`
(customer data is never markup). No colour-only signals: a figure above 100 %
carries a ``!`` and the marker column says why; colour only repeats it.
"""

from __future__ import annotations

import math

from rich.text import Text

NA = "—"
OVER = "!"  # appended to a usage % above 100


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def num(value) -> str:
    """An integer with thousands separators, ``—`` when missing."""
    if _missing(value):
        return NA
    return f"{int(value):,}"


def pct(value, *, mark_over: bool = False) -> str:
    """A percentage with one decimal (``37.5 %``), ``—`` when not available.

    With ``mark_over`` a value above 100 ends in ``!`` (``233.3 %!``) so that
    it reads as a warning without colour.
    """
    if _missing(value):
        return NA
    text = f"{float(value):,.1f} %"
    if mark_over and float(value) > 100.0 + 1e-9:
        text += OVER
    return text


def usage(value) -> str:
    """A usage %: marked when above 100."""
    return pct(value, mark_over=True)


def is_over(text: str) -> bool:
    return text.endswith(OVER)


def date(value) -> str:
    return value if value else NA


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def literal(value) -> Text:
    """Customer data as text, never parsed as markup."""
    return Text("" if value is None else str(value))


# Markers on the customer list: a letter each, so they survive NO_COLOR.
MARKERS = {
    "over_explained": ("!", "usage over 100 %, explained by the data"),
    "over_unexplained": ("?", "usage over 100 %, NOT explained by the data"),
    "low_adoption": ("L", "low adoption"),
    "upsell": ("U", "upsell opportunity"),
    "renewal_due": ("R", "a renewal is due within 30 days"),
}


def markers(*, over_100: bool, unexplained: bool, low_adoption: bool, upsell: bool, renewal_due: bool) -> str:
    """The marker column, fixed positions: ``!``/``?`` over 100 %, ``L``, ``U``, ``R``."""
    out = []
    if over_100:
        out.append("?" if unexplained else "!")
    else:
        out.append(" ")
    out.append("L" if low_adoption else " ")
    out.append("U" if upsell else " ")
    out.append("R" if renewal_due else " ")
    return "".join(out).rstrip()


def trend(arrow: str) -> str:
    return arrow or " "


def sparkline(values: list[float | None], *, high: float = 100.0) -> str:
    """A one-line chart of percentages: ``▁▂▃▅▇`` (``·`` for a missing month).

    Values above ``high`` are drawn as full blocks.
    """
    blocks = "▁▂▃▄▅▆▇█"
    out = []
    for v in values:
        if _missing(v):
            out.append("·")
            continue
        frac = max(0.0, min(float(v) / high, 1.0))
        out.append(blocks[min(int(frac * (len(blocks) - 1) + 0.5), len(blocks) - 1)])
    return "".join(out)
