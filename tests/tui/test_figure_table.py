"""FigureTable draws exactly what textual-fastdatatable draws, only faster.

FigureTable shares the drawing of equal cells and skips measuring columns of a
fixed width (both reach into textual-fastdatatable 0.19); these tests compare
every line it draws with the library's own drawing of the same table, so that
a new version of the library cannot change the picture unnoticed.
"""

from __future__ import annotations

import pyarrow as pa
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual_fastdatatable import DataTable

from adopt_tui.tui import format as fmt
from adopt_tui.tui.widgets.figures import FigureTable


class LibraryDrawn(FigureTable):
    """The same table, every line, row and cell drawn the library's way."""

    render_lines = DataTable.render_lines
    render_line = DataTable.render_line
    _render_line = DataTable._render_line
    _render_cell = DataTable._render_cell
    _render_line_in_row = DataTable._render_line_in_row


NAMES = ["Alpha Tools", "[bold]Acme", "Bäckerei Müller GmbH & Co. KG with a very long name", None,
         "株式会社サンプル", "Echo", "Foxtrot Logistics", "Golf", "Hotel", "India"]
DATA = pa.table({
    "name": NAMES,
    "sold": [16, 1200, 0, None, 16, 7, 16, 3, 16, 9],
    "usage": [69.2, 233.3, None, 100.0, 69.2, 12.5, 0.0, 101.0, 69.2, 45.0],
    "flags": ["", "? L", "!", "L", "", " U", "", "R", "", "?"],
    "trend": ["▲", "▼", "=", "", "▲", "▲", "=", "", "▼", "▲"],
    # the usage's raw values again, shown another way: equal values of two columns are not one cell
    "adjusted": [69.2, 233.3, None, 100.0, 69.2, 12.5, 0.0, 101.0, 69.2, 45.0],
    # text the formatter and the console treat specially (markup, escapes, breaks, tabs, blanks)
    "note": ["", "back\\slash", "tab\there", "two\nlines", "ends with \\", "  padded  ", None, "[link]x[/link]",
             "plain", "emoji :smile:"],
})
LABELS = [Text("Customer"), Text("Sold", justify="right"), Text("Usage %", justify="right"), Text("Flags"),
          Text("Tr"), Text("Adj. %", justify="right"), Text("Note")]
OPTIONS = dict(numeric=[1, 2, 5], warn=[2, 3], widths=[20, 7, 8, 5, 2, 8, 12],
               formats={1: fmt.num, 2: fmt.usage, 5: fmt.pct})


class TablesApp(App):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield FigureTable(DATA, LABELS, id="fast", **OPTIONS)
            yield LibraryDrawn(DATA, LABELS, id="library", **OPTIONS)


def drawn(table) -> list[list[tuple]]:
    return [[(seg.text, seg.style) for seg in table.render_line(y).simplify()] for y in range(table.size.height)]


async def test_figure_table_draws_what_the_library_draws():
    app = TablesApp()
    async with app.run_test(size=(160, 16)) as pilot:
        fast, library = app.query_one("#fast", FigureTable), app.query_one("#library", FigureTable)
        for table in (fast, library):
            table.focus()
            table.move_cursor(row=1)
            await pilot.pause()
        assert fast.size == library.size
        assert drawn(fast) == drawn(library)
        # the cells shared between rows still tell a click which row it is on
        first, fifth = fast.render_line(1), fast.render_line(5)
        assert {s.style.meta.get("row") for s in first if s.style and s.style.meta} == {0}
        assert {s.style.meta.get("row") for s in fifth if s.style and s.style.meta} == {4}


async def test_new_rows_in_place_draw_what_the_library_draws():
    app = TablesApp()
    async with app.run_test(size=(160, 16)) as pilot:
        fast, library = app.query_one("#fast", FigureTable), app.query_one("#library", FigureTable)
        rows = DATA.take([4, 1, 8])
        for table in (fast, library):
            assert table.replace(rows, LABELS, **OPTIONS)
        await pilot.pause()
        assert fast.row_count == 3
        assert drawn(fast) == drawn(library)
        text = "\n".join("".join(t for t, _ in line) for line in drawn(fast))
        assert "233.3 %!" in text and "[bold]Acme" in text and "1,200" in text


class NarrowApp(App):
    def compose(self) -> ComposeResult:
        with Horizontal():
            yield FigureTable(DATA, LABELS, id="fast", **OPTIONS)
            yield LibraryDrawn(DATA, LABELS, id="library", **OPTIONS)

    CSS = "FigureTable { width: 24; height: 8; }"


async def test_a_table_scrolled_sideways_draws_what_the_library_draws():
    app = NarrowApp()
    async with app.run_test(size=(60, 10)) as pilot:
        fast, library = app.query_one("#fast", FigureTable), app.query_one("#library", FigureTable)
        for table in (fast, library):
            table.focus()
            table.move_cursor(row=6, column=3)
            table.scroll_to(x=15, y=2, animate=False)
        await pilot.pause()
        assert fast.scroll_offset == library.scroll_offset and fast.scroll_offset.x > 0
        assert drawn(fast) == drawn(library)
