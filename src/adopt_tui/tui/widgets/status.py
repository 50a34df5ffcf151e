"""The status line every screen shows: counts, as-of date, scope, user and role.

The scope is visible at all times: the line watches ``app.scope``.
"""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    """``N of M customers · as of YYYY-MM-DD · scope: all sources|own licenses · user (Role)``."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, *, id: str | None = "status") -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)
        self.counts: tuple[int, int] | None = None
        self.as_of: str | None = None
        self.extra: str = ""

    def on_mount(self) -> None:
        self.watch(self.app, "scope", lambda _scope: self.redraw(), init=True)

    def on_resize(self) -> None:
        self.redraw()

    def set(self, *, counts: tuple[int, int] | None = None, as_of: str | None = None, extra: str | None = None) -> None:
        if counts is not None:
            self.counts = counts
        if as_of is not None:
            self.as_of = as_of
        if extra is not None:
            self.extra = extra
        self.redraw()

    def redraw(self) -> None:
        from adopt_tui.tui.app import status_text

        text = status_text(self.app, self.counts, self.as_of, width=self.size.width or self.app.size.width)
        if self.extra:
            text.append(" · " + self.extra)
        if text == getattr(self, "_shown", None):
            return
        self._shown = text
        # one line across the screen whatever it says: no layout pass of the whole screen
        # (each keystroke in the customer list's filter updates the counts)
        self.update(text, layout=False)
