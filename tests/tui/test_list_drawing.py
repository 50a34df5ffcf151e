"""The customer list's table never shows a stale line.

FigureTable keeps what it draws (cells by value, the header, rows' styles,
whole lines) across new rows; these tests drive the list with keys and check,
after every step, what the table hands the screen: each line shows the
cells of the row now at that place (its text read back from the data), the
cursor's highlight is on the cursor's row only, warnings are in the current
theme's colour, and everything equals a drawing from scratch (every cache
emptied).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.coordinate import Coordinate
from textual.geometry import Region

from adopt_tui.tui import format as fmt
from adopt_tui.tui.widgets.figures import FigureTable
from tui_helpers import build, login, save_low_adoption_thresholds, settle


def table_of(app) -> FigureTable:
    table = app.home()._table()
    assert table is not None
    return table


def drawn(table: FigureTable) -> list[list[tuple[str, Style | None]]]:
    """What the table gives the screen now (as the compositor asks for it: through its line cache)."""
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [[(segment.text, segment.style) for segment in strip.simplify()] for strip in strips]


def texts(lines) -> list[str]:
    return ["".join(text for text, _ in line) for line in lines]


def from_scratch(table: FigureTable) -> list[list[tuple[str, Style | None]]]:
    table._clear_caches()
    table._meta_styles.clear()
    return drawn(table)


def cell_text(table: FigureTable, row: int, column: int, inner: int) -> str | None:
    """A cell's text as it should read, from the table's data; None when it does not fit (not checked)."""
    value = table.get_cell_at(Coordinate(row, column))
    if value is None:
        plain = fmt.NA
        if cell_len(plain) > inner:
            return None
        left = (inner - cell_len(plain)) // 2
        return " " * left + plain + " " * (inner - left - cell_len(plain))
    plain = value.plain if isinstance(value, Text) else str(value)
    if cell_len(plain) > inner:
        return None
    if isinstance(value, Text) and value.justify == "right":
        return " " * (inner - cell_len(plain)) + plain
    return plain + " " * (inner - cell_len(plain))


def check(app) -> list[list[tuple[str, Style | None]]]:
    """Every line the table draws shows its row as the data has it, with the right styles; returns the lines."""
    table = table_of(app)
    lines = drawn(table)
    shown = texts(lines)
    columns = table.ordered_columns
    widths = [column.render_width for column in columns]
    assert sum(widths) <= table.size.width  # the whole row is in view (no sideways scrolling here)
    starts = [sum(widths[:i]) for i in range(len(widths))]
    # the header: the labels, as the list's columns and sort order have them now
    for column, start, width in zip(columns, starts, widths):
        label = column.label
        inner = width - 2
        expected = " " * (inner - label.cell_len) + label.plain if label.justify == "right" else label.plain.ljust(inner)
        assert shown[0][start:start + width] == " " + expected + " "
    scroll_y = table.scroll_offset.y
    cursor_bg = table.get_component_rich_style("datatable--cursor").bgcolor
    warning = Color.parse(app.theme_variables["warning"]).rich_color
    shown_rows = 0
    for y in range(1, len(lines)):
        row = y - 1 + scroll_y
        if row >= table.row_count:
            assert shown[y].strip() == "", f"line {y} shows a row the table does not have: {shown[y]!r}"
            continue
        shown_rows += 1
        for column, (start, width) in enumerate(zip(starts, widths)):
            expected = cell_text(table, row, column, width - 2)
            if expected is not None:
                assert shown[y][start:start + width] == " " + expected + " ", (row, column)
        # the cursor's highlight is on the cursor's row, and only there
        cell_segments = [(text, style) for text, style in lines[y] if style is not None and style.meta]
        assert {style.meta["row"] for _, style in cell_segments} == {row}
        highlighted = [style.bgcolor == cursor_bg for _, style in cell_segments]
        assert all(highlighted) if row == table.cursor_row else not any(highlighted), (row, table.cursor_row)
        # usage over 100 % and unexplained flags: in this theme's warning colour
        for text, style in cell_segments:
            if text.strip().endswith(fmt.OVER) or text.strip().startswith("?"):
                assert style.color == warning and style.bold, (row, text)
    assert shown_rows == min(table.row_count - scroll_y, len(lines) - 1)
    assert lines == from_scratch(table)
    return lines


async def type_into_filter(pilot, text: str) -> None:
    await pilot.press(*text)
    await settle(pilot, 1)


async def test_each_filter_keystroke_shows_the_rows_it_selects(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        home = app.home()
        everything = check(app)
        await pilot.press("slash")
        seen = [everything]
        for char in "ol":
            await type_into_filter(pilot, char)
            seen.append(check(app))
            assert table_of(app).row_count == home.shown_count
        assert all(a != b for a, b in zip(seen, seen[1:]))  # each keystroke changed what is shown
        # back: the same rows (the cursor stays on its customer, so it may be on another row)
        await pilot.press("backspace")
        await settle(pilot, 1)
        assert texts(check(app)) == texts(seen[1])
        await pilot.press("backspace")
        await settle(pilot, 1)
        assert texts(check(app)) == texts(everything)
        await type_into_filter(pilot, "acme")  # a name that looks like markup is shown as typed
        lines = check(app)
        assert any("[bold]Acme & Co" in "".join(text for text, _ in line) for line in lines)
        await type_into_filter(pilot, "zzz-no-such-customer")
        assert table_of(app).row_count == 0
        check(app)


async def test_the_cursor_highlight_follows_the_cursor(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        table = table_of(app)
        check(app)
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        check(app)
        await pilot.press("G")  # the last row: the table scrolls
        await settle(pilot, 1)
        assert table.scroll_offset.y > 0
        check(app)
        await pilot.press("up", "g")
        await settle(pilot, 1)
        assert table.cursor_row == 0
        check(app)
        # a filter keeps the cursor on its customer, who is then on another row
        await pilot.press("down", "down")
        name = app.home().view.name.iloc[2]
        await pilot.press("slash")
        await type_into_filter(pilot, name[:4].lower())
        assert app.home().view.name.iloc[table_of(app).cursor_row] == name
        check(app)


async def test_sorting_shows_the_new_order_and_labels(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        home = app.home()
        before = check(app)
        for key in ("s", "r", "s", "S", "S"):
            await pilot.press(key)
            await settle(pilot, 1)
            arrow = "▼" if home.descending else "▲"
            sorted_label = next(c.label for c in home._shown if c.sort == home.sort_key)
            lines = check(app)
            assert f"{sorted_label} {arrow}" in "".join(text for text, _ in lines[0])
            assert lines != before
            before = lines


async def test_a_resize_redraws_every_column_at_its_new_width(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        wide = check(app)
        await pilot.resize_terminal(100, 30)  # fewer columns, a narrower name column
        await settle(pilot, 1)
        narrow = check(app)
        assert len(narrow[0]) < len(wide[0])  # the sales agents' column is gone
        assert "".join(t for t, _ in narrow[0]) != "".join(t for t, _ in wide[0])
        await pilot.resize_terminal(200, 30)  # every column
        await settle(pilot, 1)
        check(app)
        await pilot.resize_terminal(120, 30)
        await settle(pilot, 1)
        assert check(app) == wide


async def test_a_new_theme_redraws_every_cell_in_its_colours(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        await pilot.press("slash")
        await type_into_filter(pilot, "e")  # some rows drawn before the theme changes
        await pilot.press("enter")  # back to the table
        before = check(app)
        warning_before = app.theme_variables["warning"]
        app.theme = "textual-light"
        await settle(pilot, 1)
        assert app.theme_variables["warning"] != warning_before
        after = check(app)
        assert after != before
        # and new rows after the change are drawn in the new colours too
        await pilot.press("slash")
        await pilot.press("backspace")
        await settle(pilot, 1)
        check(app)
        app.theme = "adopt"
        await settle(pilot, 1)
        await type_into_filter(pilot, "e")
        await pilot.press("enter")
        assert check(app) == before


async def test_scope_and_new_figures_reach_the_shown_cells(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        all_sources = check(app)
        await pilot.press("o")  # own licenses only: other figures for the same customers
        await settle(pilot)
        assert app.scope == "own"
        own = check(app)
        assert own != all_sources
        await pilot.press("o")
        await settle(pilot)
        assert check(app) == all_sources
        # figures recomputed under the open list (new thresholds): the flags change in place
        await save_low_adoption_thresholds(pilot, "1")
        assert app.screen is app.home()
        assert check(app) != all_sources
