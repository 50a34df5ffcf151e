"""Tables of figures.

:class:`FigureTable` is textual-fastdatatable's DataTable over an Arrow table
(or a pandas frame): it draws 100k rows in milliseconds. Cells are never
markup (``render_markup=False``); numeric columns are right-aligned and a usage
above 100 % (``…%!``) or an unexplained marker is drawn in the warning style,
repeating what the text already says. Columns may hold raw values with a
formatter (see :mod:`adopt_tui.tui.format`): a cell is formatted when its row
is drawn, so a table of 20,000 customers formats only the rows on screen.

:func:`small_table` builds Textual's own DataTable for the short tables of one
customer (products, workloads, subscriptions), with Text cells.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import pyarrow as pa
from rich.align import Align
from rich.console import Group
from rich.measure import Measurement
from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color
from textual.coordinate import Coordinate
from textual.renderables.styled import Styled
from textual.widget import Widget
from textual.widgets import DataTable as SmallDataTable
from textual_fastdatatable import ArrowBackend, DataTable
from textual_fastdatatable.column import CELL_X_PADDING
from textual_fastdatatable.format import cell_formatter

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


class FixedWidthBackend(ArrowBackend):
    """An ArrowBackend whose columns all have a width set by the table.

    The DataTable asks the backend for every column's content width even when
    the table gives each column a fixed width (it then ignores the answer);
    measuring means a pass over every string of every column: ~40 ms at
    20,000 rows, on each new set of rows. With fixed widths the answer is
    known, so it is given instead.
    """

    def __init__(self, data: pa.Table, widths: Sequence[int]) -> None:
        super().__init__(data)
        self._fixed_widths = list(widths)

    @property
    def column_content_widths(self) -> list[int]:
        return self._fixed_widths


def _renderable_key(cell, null_rep: Text) -> tuple | None:
    """What a cell's rendering depends on, for the cells FigureTable makes (None: do not share it)."""
    if isinstance(cell, Text):
        return ("text", cell.plain, cell.style, cell.justify, cell.overflow, cell.no_wrap, cell.end,
                tuple(cell.spans))
    if isinstance(cell, str):
        return ("str", cell)
    if isinstance(cell, Align) and cell.renderable is null_rep:
        return ("null", cell.align)
    return None


_NULL = Style.null()


def _draw_one_line(cell: Text, width: int, pre_style: Style, post_style: Style) -> list[list[Segment]] | None:
    """What ``console.render_lines(Styled(Padding(cell, (0, 1)), pre_style, post_style), width, height 1)``
    gives for a one-line Text with no spans that fits, without going through rich's layers
    (wrap, join, Padding, Styled, two line splits): ~10x faster. None for anything else.
    """
    plain = cell.plain
    inner = width - CELL_X_PADDING
    justify = cell.justify or "default"
    if (not plain or cell.spans or "\n" in plain or "\t" in plain or "\r" in plain or inner < 1
            or justify not in ("default", "left", "right")):
        return None
    if justify == "right":
        plain = plain.rstrip()
        if not plain:
            return None
    length = cell_len(plain)
    if length > inner:
        return None
    text_style = cell.style
    if isinstance(text_style, str):
        if text_style:
            return None
        text_style = None
    elif not text_style:
        text_style = None
    pad = inner - length
    if justify == "left" and pad:
        plain, pad = plain + " " * pad, 0
    elif justify == "right" and pad:
        plain, pad = " " * pad + plain, 0
    segments = [(" ", _NULL), (plain, text_style)]
    if pad:
        segments.append((" " * pad, _NULL))
    segments.append((" ", _NULL))
    out = []
    for text, style in segments:
        key = (pre_style, style, post_style)
        combined = _COMBINED.get(key)
        if combined is None:
            combined = pre_style + style if pre_style else style
            if post_style:
                combined = combined + post_style if combined else post_style
            if len(_COMBINED) > 10_000:
                _COMBINED.clear()
            _COMBINED[key] = combined
        out.append(Segment(text, combined))
    return [out]


# (pre style, text style, post style) -> the style Styled gives the text: a handful per table
_COMBINED: dict[tuple, Style | None] = {}


def _arrow(data) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    return pa.Table.from_pandas(data, preserve_index=False)  # a pandas frame


def _backend(data, widths: Sequence[int | None] | None) -> ArrowBackend:
    table = _arrow(data)
    if widths is not None and len(widths) == table.num_columns and all(w for w in widths):
        backend: ArrowBackend = FixedWidthBackend(table, [int(w) for w in widths])  # type: ignore[misc]
    else:
        backend = ArrowBackend(table)
    backend.render_markup = False
    return backend


class FigureTable(DataTable):
    """A fast table of formatted figures; one row per customer (or product…).

    Drawing: textual-fastdatatable renders every cell through rich (Padding in
    Styled, split into lines twice) and looks up the row's CSS styles for each
    row: ~0.1 ms a cell, 60-100 ms for a screenful of 45 rows, after every
    keystroke in the customer list's filter. FigureTable draws the same
    segments, faster:

    - a cell is drawn once per (column kind, raw value, width, styles) and
      copied with its own row and column in the mouse metadata, which is all
      that differs between equal cells (figure tables repeat a lot: counts,
      percentages, flags, agents, markets);
    - a one-line cell that fits is laid out directly (:func:`_draw_one_line`);
    - a row's styles are looked up once per parity, not once per row.

    These override private methods of textual-fastdatatable 0.19 (``_render_cell``,
    ``_render_line_in_row``) for the plain case (no fixed rows or columns, no row
    labels, row cursor) and leave everything else to the library;
    tests/tui/test_figure_table.py compares every line with the library's own
    drawing.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", id="table.open", tooltip="Open the highlighted row"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "First", show=False),
        Binding("G", "scroll_end", "Last", show=False),
    ]

    def __init__(
        self,
        data: pa.Table | Any,
        labels: Sequence[str | Text],
        *,
        numeric: Iterable[int] = (),
        warn: Iterable[int] = (),
        widths: Sequence[int | None] | None = None,
        formats: Mapping[int, Callable[[Any], str]] | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        """``data``: an Arrow table (or a pandas frame), one column per label.
        ``formats``: column index -> function turning a raw value (None when
        missing) into the text shown."""
        super().__init__(
            backend=_backend(data, widths),
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
        self._drawn_cells: LRUCache[tuple, list[list[Segment]]] = LRUCache(8192)
        self._row_styles: dict[tuple, tuple] = {}
        self._style_ids: dict[tuple[Style, Style], int] = {}
        self._meta_styles: dict[tuple, Style] = {}  # kept across new rows (see _with_cell_meta)
        self._set_columns(numeric, warn, formats)

    def _set_columns(self, numeric: Iterable[int], warn: Iterable[int],
                     formats: Mapping[int, Callable[[Any], str]] | None) -> None:
        self._numeric = frozenset(numeric)
        self._warn = frozenset(warn)
        self._formats = dict(formats or {})
        # what decides how a raw value is shown, per column (see _shown_value)
        count = len(self._column_labels or ())
        labels = [str(label) for label in (self._column_labels or ())]
        self._kinds = [(i in self._numeric, i in self._warn, self._formats.get(i), labels[i]) for i in range(count)]
        kinds = self.__dict__.setdefault("_kind_numbers", {})
        self._kind_ids = [kinds.setdefault(kind, len(kinds)) for kind in self._kinds]
        self._warn_style: Style | None = None
        self._values: dict[tuple[int, int], list] = {}

    _CHUNK = 64

    def _raw_value(self, row_index: int, column_index: int) -> Any:
        """The backend's value at a cell (as ``backend.get_cell_at``), read 64 rows of a column at a time."""
        chunk = row_index // self._CHUNK
        values = self._values.get((column_index, chunk))
        if values is None:
            backend = self.backend
            data = getattr(backend, "data", None)
            if not isinstance(backend, ArrowBackend) or getattr(backend, "_holds_nanoseconds", True) \
                    or not isinstance(data, pa.Table):
                return backend.get_cell_at(row_index, column_index)
            try:
                values = data.column(column_index).slice(chunk * self._CHUNK, self._CHUNK).to_pylist()
            except OverflowError:  # a date Python cannot hold: the backend knows what to show
                return backend.get_cell_at(row_index, column_index)
            self._values[(column_index, chunk)] = values
        return values[row_index - chunk * self._CHUNK]

    def replace(self, data: pa.Table | Any, labels: Sequence[str | Text], *, numeric: Iterable[int] = (),
                warn: Iterable[int] = (), widths: Sequence[int | None] | None = None,
                formats: Mapping[int, Callable[[Any], str]] | None = None) -> bool:
        """Show new rows in place (no remount: focus, Footer and scroll stay).

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
        self.backend = _backend(data, widths)
        self._column_labels = [label if isinstance(label, Text) else Text(label) for label in labels]
        self._column_widths = list(widths) if widths is not None else None
        self._ordered_columns = None
        self._set_columns(numeric, warn, formats)
        self._update_count += 1
        self._clear_caches()
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()
        return True

    def _clear_caches(self) -> None:
        super()._clear_caches()
        if hasattr(self, "_drawn_cells"):
            self._drawn_cells.clear()
            self._row_styles.clear()
            self._style_ids.clear()
            self._values.clear()
            self._warn_style = None

    # ----------------------------------------------------------------- values

    def _shown_value(self, value: Any, column: int) -> Any:
        """A raw value as the cell shows it: formatted, and a Text when numeric or warned."""
        numeric, warned, format_value, _label = (self._kinds[column] if column < len(self._kinds)
                                                 else (False, False, None, ""))
        if format_value is not None:
            value = format_value(value)
        if isinstance(value, str) and (numeric or warned):
            style: Style | str = ""
            if warned and (value.endswith(fmt.OVER) or value.startswith("?")):
                if self._warn_style is None:
                    self._warn_style = warn_style(self.app)
                style = self._warn_style
            return Text(value, style=style, justify="right" if numeric else "left", no_wrap=True,
                        overflow="ellipsis")
        return value

    def get_cell_at(self, coordinate: Coordinate):
        return self._shown_value(super().get_cell_at(coordinate), coordinate.column)

    # ----------------------------------------------------------------- drawing

    def _plain_layout(self) -> bool:
        return not (self.fixed_rows or self.fixed_columns or (self._labelled_row_exists and self.show_row_labels))

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False, in_range: bool = False) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0 or not self._plain_layout():
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover, in_range)
        cell_key = (row_index, column_index, base_style, cursor, hover, in_range, self._show_hover_cursor,
                    self._update_count, self._pseudo_class_state)
        cache = self._cell_render_cache
        if cell_key in cache:
            return cache[cell_key]
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, in_range, self.show_cursor, self._show_hover_cursor,
            self.cursor_type == "range", self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        raw = self._raw_value(row_index, column_index)
        kind = self._kinds[column_index] if column_index < len(self._kinds) else None
        pre_style = base_style + component_style
        try:
            drawn_key: tuple | None = (kind, type(raw), raw, pre_style, post_style, width)
            drawn = self._drawn_cells.get(drawn_key)
        except TypeError:  # an unhashable value (a list, a dict): drawn every time
            drawn_key, drawn = None, None
        if drawn is None:
            drawn = self._draw_cell(raw, column_index, width, pre_style, post_style)
            if drawn_key is not None:
                self._drawn_cells[drawn_key] = drawn
        lines = [[Segment(text, self._with_cell_meta(style, row_index, column_index), control)
                  for text, style, control in line] for line in drawn]
        cache[cell_key] = lines
        return lines

    def _with_cell_meta(self, style: Style | None, row_index: int, column_index: int) -> Style:
        """``style`` with the cell's row and column in its mouse metadata, as the library adds them.

        Adding metadata pickles and unpickles it (~5 us a segment, 1,500 segments a
        screenful); the result depends only on the style and the cell's place, and
        the places repeat from one set of rows to the next, so it is kept.
        """
        key = (style, row_index, column_index)
        combined = self._meta_styles.get(key)
        if combined is None:
            if len(self._meta_styles) > 50_000:
                self._meta_styles.clear()
            meta = Style.from_meta({"row": row_index, "column": column_index})
            combined = self._meta_styles[key] = meta if style is None else style + meta
        return combined

    def _draw_cell(self, raw: Any, column_index: int, width: int, pre_style: Style,
                   post_style: Style) -> list[list[Segment]]:
        """The cell's lines as the library draws them (its formatter, then rich), without the mouse metadata."""
        cell = cell_formatter(self._shown_value(raw, column_index), null_rep=self.null_rep,
                              col=self.ordered_columns[column_index], render_markup=self.render_markup,
                              max_width=width - CELL_X_PADDING)
        console = self.app.console
        if isinstance(cell, str):
            cell = console.render_str(cell)  # as rich would: markup (escaped by the formatter)
        if isinstance(cell, Text) and self.max_column_content_width is None:
            drawn = _draw_one_line(cell, width, pre_style, post_style)
            if drawn is not None:
                return drawn
        options = console.options.update_dimensions(width, 1)
        if self.max_column_content_width is not None:
            options.overflow = "ellipsis"
            options.no_wrap = True
        return console.render_lines(Styled(Padding(cell, (0, 1)), pre_style=pre_style, post_style=post_style),
                                    options)

    def _render_line_in_row(self, row_index: int, line_no: int, x1: int, x2: int, base_style: Style,
                            cursor_location: Coordinate, hover_location: Coordinate,
                            selection_anchor_location: Coordinate | None):
        """The library's ``_render_line_in_row`` for a data row of a plain table, with the
        row's styles looked up once per (parity, base style, state) instead of once per row."""
        if row_index < 0 or not self._plain_layout() or not self.is_valid_row_index(row_index):
            return super()._render_line_in_row(row_index, line_no, x1, x2, base_style, cursor_location,
                                               hover_location, selection_anchor_location)
        cursor_type = self.cursor_type
        show_cursor = self.show_cursor
        columns = self.ordered_columns
        col_widths = [col.render_width for col in columns]
        # which columns are visible (col2 inclusive), as the library computes it
        cumulative_width = 0
        hidden_width = 0
        visible_width = self.size.width
        col1 = 0
        col2 = None
        for i, w in enumerate(col_widths):
            if cumulative_width < x1:
                col1 = i
                hidden_width = cumulative_width
            if col2 is None and cumulative_width - x1 > visible_width:
                col2 = i
                break
            cumulative_width += w
        else:
            col2 = len(columns) - 1

        cache_key = (row_index, line_no, col1, col2, base_style, cursor_location, hover_location,
                     selection_anchor_location, cursor_type, show_cursor, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached[0], cached[1], hidden_width, 0

        style_key = (row_index % 2, base_style, self._pseudo_class_state, self._update_count, visible_width,
                     sum(col_widths), self.app.theme)
        styles = self._row_styles.get(style_key)
        if styles is None:
            row_style = self._get_row_style(row_index, base_style)
            remaining_space = max(0, visible_width - sum(col_widths))
            faded_color = Color.from_rich_color(row_style.bgcolor).blend(self.background_colors[1], factor=0.25)
            faded_style = Style.from_color(color=row_style.color, bgcolor=faded_color.rich_color)
            styles = (row_style, [Segment(" " * remaining_space, faded_style)])
            self._row_styles[style_key] = styles
        row_style, filler = styles

        # the row cursor (or hover) covers every cell of the row or none: one style pair per row
        cursor = show_cursor and cursor_type == "row" and cursor_location.row == row_index
        hover = self._show_hover_cursor and cursor_type == "row" and hover_location.row == row_index
        if cursor_type not in ("row", "none"):
            cell_styles = None  # a cell/column/range cursor: per cell, the library's way
        else:
            cell_styles = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, False, show_cursor, self._show_hover_cursor, False,
                self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
            )
        scrollable_row = []
        if cell_styles is None:
            for column_index in range(col1, col2 + 1):
                cell_location = Coordinate(row_index, column_index)
                scrollable_row.append(self._render_cell(
                    row_index, column_index, row_style, col_widths[column_index],
                    cursor=self._should_highlight(cursor_location, cell_location, cursor_type),
                    hover=self._should_highlight(hover_location, cell_location, cursor_type),
                    in_range=self._should_highlight_range(cursor_location, selection_anchor_location,
                                                          cell_location, cursor_type),
                )[line_no])
        else:
            component_style, post_style = cell_styles
            pre_style = row_style + component_style
            # the styles as a small number, so that the cache keys below hash and compare fast
            styles_id = self._style_ids.setdefault((pre_style, post_style), len(self._style_ids))
            drawn_cells = self._drawn_cells
            kind_ids = self._kind_ids
            for column_index in range(col1, col2 + 1):
                width = col_widths[column_index]
                raw = self._raw_value(row_index, column_index)
                try:
                    drawn_key: tuple | None = (kind_ids[column_index], type(raw), raw, styles_id, width)
                    drawn = drawn_cells.get(drawn_key)
                except TypeError:  # an unhashable value (a list, a dict): drawn every time
                    drawn_key, drawn = None, None
                if drawn is None:
                    drawn = self._draw_cell(raw, column_index, width, pre_style, post_style)
                    if drawn_key is not None:
                        drawn_cells[drawn_key] = drawn
                scrollable_row.append([Segment(text, self._with_cell_meta(style, row_index, column_index), control)
                                       for text, style, control in drawn[line_no]])
        scrollable_row.append(filler)
        fixed_row: list = []
        self._row_render_cache[cache_key] = (fixed_row, scrollable_row)
        return fixed_row, scrollable_row, hidden_width, 0


def small_table(id: str, columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence], *,  # noqa: A002
                app=None) -> SmallDataTable:
    """A short read-only table: ``columns`` is ``[(label, right_aligned)]``;
    cells may be str or Text; a str ending in ``!`` gets the warning style."""
    table = SmallDataTable(id=id, cursor_type="row", zebra_stripes=True, show_row_labels=False)
    for label, right in columns:
        table.add_column(Text(label, justify="right" if right else "left"))
    for cells in _cells(columns, rows, app):
        table.add_row(*cells)
    return table


class FigureGrid(Widget):
    """A short read-only table drawn as one rich Table: what :func:`small_table` shows
    (header, zebra stripes, right-aligned figures, warnings) for tables nobody moves a
    cursor in (a customer's products and workloads).

    Textual's DataTable is a scrolling widget with its own layout pass: measured on
    idle, it lays out the screen again once its size is known. Two of them made up
    a good part of a customer's opening (profiled); this is one widget that is laid
    out with the screen and drawn once.

    ``rows`` keeps the cells as given (``Text``), for tests and for readers.
    """

    DEFAULT_CSS = """
    FigureGrid {
        height: auto;
        background: $surface;
        color: $foreground;
    }
    FigureGrid > .figuregrid--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    FigureGrid > .figuregrid--even-row {
        background: $surface-lighten-1 50%;
    }
    FigureGrid > .figuregrid--title {
        text-style: bold;
        color: $accent;
        background: $background;  /* the title line stands on the screen, the table on $surface */
    }
    FigureGrid.-titled {
        margin-top: 1;
    }
    FigureGrid:ansi > .figuregrid--header {
        background: ansi_bright_blue;
        color: ansi_default;
    }
    """
    COMPONENT_CLASSES = {"figuregrid--header", "figuregrid--even-row", "figuregrid--title"}

    def __init__(self, columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence], *, app=None,
                 id: str | None = None, title: str = "") -> None:  # noqa: A002
        """``title``: drawn above the table as ``.section-title`` draws it (one widget, not two)."""
        super().__init__(id=id, classes="-titled" if title else "")
        self.title = title
        self.columns = list(columns)
        self.rows: list[list[Text]] = _cells(self.columns, rows, app)
        self._drawn: _Drawn | None = None

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def get_row_at(self, index: int) -> list[Text]:
        return self.rows[index]

    def render(self) -> _Drawn:
        header = self.get_component_rich_style("figuregrid--header", partial=True)
        even = self.get_component_rich_style("figuregrid--even-row", partial=True)
        title = self.get_component_rich_style("figuregrid--title") if self.title else None
        key = (header, even, title)
        if self._drawn is None or self._drawn.key != key:
            self._drawn = _Drawn(key, self._renderable(header, even, title))
        return self._drawn

    def _renderable(self, header: Style, even: Style, title_style: Style | None) -> Table | Group:
        table = Table(box=None, padding=(0, 1), collapse_padding=False, pad_edge=True, show_edge=False,
                      header_style=header, row_styles=[Style(), even], expand=False, show_header=True)
        last = len(self.columns) - 1
        for index, (label, right) in enumerate(self.columns):
            if index == last and index and not right:
                # free text (subscription states, causes): wraps rather than squeezing the figures
                table.add_column(Text(label), overflow="fold", ratio=1)
                continue
            width = max([cell_len(label)] + [row[index].cell_len for row in self.rows if index < len(row)])
            table.add_column(Text(label, justify="right" if right else "left"), justify="right" if right else "left",
                             no_wrap=True, min_width=width)
        for row in self.rows:
            table.add_row(*row)
        if title_style is not None:
            title = Text(self.title, style=title_style, justify="left", no_wrap=True, overflow="ellipsis")
            return Group(title, table)
        return table


class _Drawn:
    """A FigureGrid's table, drawn once per width: Textual measures a widget's height and
    then draws it, again after every layout pass of the screen (four as a customer's
    insights open), and drawing a rich Table each time was a fifth of the opening
    (cProfile). The styles it was built with are its ``key``."""

    def __init__(self, key: tuple, renderable) -> None:
        self.key = key
        self.renderable = renderable
        self._segments: dict[tuple, list[Segment]] = {}

    def __rich_console__(self, console, options):
        key = (options.max_width, options.min_width, options.height, options.justify, options.overflow,
               options.no_wrap)
        segments = self._segments.get(key)
        if segments is None:
            segments = self._segments[key] = list(console.render(self.renderable, options))
        return segments

    def __rich_measure__(self, console, options):
        return Measurement.get(console, options, self.renderable)


def _cells(columns: Sequence[tuple[str, bool]], rows: Iterable[Sequence], app) -> list[list[Text]]:
    """Cells as ``Text``: right-aligned in numeric columns; a str ending in ``!`` in the warning style."""
    style = warn_style(app) if app is not None else Style(bold=True)
    out = []
    for row in rows:
        cells = []
        for (_label, right), value in zip(columns, row):
            if isinstance(value, Text):
                if right:
                    value.justify = "right"
                cells.append(value)
                continue
            text = Text("" if value is None else str(value), justify="right" if right else "left")
            if text.plain.endswith(fmt.OVER):
                text.stylize(style)
            cells.append(text)
        out.append(cells)
    return out


def cursor_row_key(table) -> str | None:
    """The key of the DataTable row under the cursor, or None (an empty table, no row there)."""
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # no row under the cursor
        return None
