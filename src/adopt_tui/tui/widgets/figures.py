"""Tables of figures.

:class:`FigureTable` is textual-fastdatatable's DataTable over a frame of
pre-formatted strings (see :mod:`adopt_tui.tui.format`): it draws 100k rows in
milliseconds. Cells are never markup (``render_markup=False``); numeric
columns are right-aligned and a usage above 100 % (``…%!``) or an unexplained
marker is drawn in the warning style, repeating what the text already says.

:func:`small_table` builds Textual's own DataTable for the short tables of one
customer (products, workloads, subscriptions), with Text cells.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable as SmallDataTable
from textual_fastdatatable import ArrowBackend, DataTable

from adopt_tui.tui import format as fmt


def warn_style(app) -> Style:
    """Bold in the theme's warning colour (bold alone under NO_COLOR)."""
    from textual.color import Color

    try:
        value = app.theme_variables.get("warning")
        colour = Color.parse(value).rich_color if value else None
    except Exception:  # not mounted yet, or a colour rich cannot draw
        colour = None
    return Style(bold=True, color=colour) if colour else Style(bold=True)


class FigureTable(DataTable):
    """A fast table of formatted figures; one row per customer (or product…)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", id="table.open", tooltip="Open the highlighted row"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "First", show=False),
        Binding("G", "scroll_end", "Last", show=False),
    ]

    def __init__(
        self,
        frame: pd.DataFrame,
        labels: Sequence[str | Text],
        *,
        numeric: Iterable[int] = (),
        warn: Iterable[int] = (),
        widths: Sequence[int | None] | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(
            backend=ArrowBackend.from_pandas(frame),
            column_labels=[label if isinstance(label, Text) else Text(label) for label in labels],
            column_widths=list(widths) if widths is not None else None,
            max_column_content_width=None,
            cursor_type="row",
            show_row_labels=False,
            zebra_stripes=True,
            render_markup=False,
            null_rep=fmt.NA,
            id=id,
        )
        self._numeric = frozenset(numeric)
        self._warn = frozenset(warn)

    def replace(self, frame: pd.DataFrame, labels: Sequence[str | Text], *, numeric: Iterable[int] = (),
                warn: Iterable[int] = (), widths: Sequence[int | None] | None = None) -> bool:
        """Show a new frame in place (no remount: focus, Footer and scroll stay).

        textual-fastdatatable 0.19 has no public way to swap its data
        ("unmount and mount a new one"); remounting costs a Footer recompose per
        keystroke. This resets the few fields its constructor sets. Returns
        False when those fields are not there (another version): the caller
        then remounts.
        """
        needed = ("_column_labels", "_column_widths", "_ordered_columns", "_update_count",
                  "_require_update_dimensions", "_clear_caches")
        if not all(hasattr(self, name) for name in needed):
            return False
        backend = ArrowBackend.from_pandas(frame)
        backend.render_markup = False
        self.backend = backend
        self._column_labels = [label if isinstance(label, Text) else Text(label) for label in labels]
        self._column_widths = list(widths) if widths is not None else None
        self._ordered_columns = None
        self._numeric = frozenset(numeric)
        self._warn = frozenset(warn)
        self._update_count += 1
        self._clear_caches()
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()
        return True

    def get_cell_at(self, coordinate: Coordinate):
        value = super().get_cell_at(coordinate)
        column = coordinate.column
        if isinstance(value, str) and (column in self._numeric or column in self._warn):
            style = ""
            if column in self._warn and (value.endswith(fmt.OVER) or value.startswith("?")):
                style = warn_style(self.app)
            return Text(value, style=style, justify="right" if column in self._numeric else "left",
                        no_wrap=True, overflow="ellipsis")
        return value


def small_table(id: str, columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence], *,  # noqa: A002
                app=None) -> SmallDataTable:
    """A short read-only table: ``columns`` is ``[(label, right_aligned)]``;
    cells may be str or Text; a str ending in ``!`` gets the warning style."""
    table = SmallDataTable(id=id, cursor_type="row", zebra_stripes=True, show_row_labels=False)
    for label, right in columns:
        table.add_column(Text(label, justify="right" if right else "left"))
    style = warn_style(app) if app is not None else Style(bold=True)
    for row in rows:
        cells = []
        for (label, right), value in zip(columns, row):
            if isinstance(value, Text):
                if right:
                    value.justify = "right"
                cells.append(value)
                continue
            text = Text("" if value is None else str(value), justify="right" if right else "left")
            if text.plain.endswith(fmt.OVER):
                text.stylize(style)
            cells.append(text)
        table.add_row(*cells)
    return table


def cursor_row_key(table) -> str | None:
    """The key of the DataTable row under the cursor, or None (an empty table, no row there)."""
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # no row under the cursor
        return None
