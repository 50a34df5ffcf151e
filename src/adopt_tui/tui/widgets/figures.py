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
from rich.console import Group
from rich.measure import Measurement
from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.color import Color
from textual.coordinate import Coordinate
from textual._segment_tools import line_crop
from textual.renderables.styled import Styled
from textual.strip import Strip
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


_NULL = Style.null()

# (pre style, text style, post style) -> the style Styled gives the text: a handful per table
_COMBINED: dict[tuple, Style | None] = {}


def _combined(pre_style: Style, style: Style | None, post_style: Style) -> Style | None:
    key = (pre_style, style, post_style)
    combined = _COMBINED.get(key)
    if combined is None:
        combined = pre_style + style if pre_style else style
        if post_style:
            combined = combined + post_style if combined else post_style
        if len(_COMBINED) > 10_000:
            _COMBINED.clear()
        _COMBINED[key] = combined
    return combined


def _draw_plain(plain: str, justify: str, text_style: Style | None, width: int, pre_style: Style,
                post_style: Style) -> list[list[Segment]] | None:
    """What ``console.render_lines(Styled(Padding(Text(plain, style=text_style, justify=justify), (0, 1)),
    pre_style, post_style), width, height 1)`` gives (simplified: neighbours of one style joined) for one
    line of text that fits, without going through rich's layers (wrap, join, Padding, Styled, two line
    splits): ~30x faster. None for anything else.
    """
    inner = width - CELL_X_PADDING
    if inner < 1 or "\n" in plain or "\t" in plain or "\r" in plain or justify not in ("default", "left", "right"):
        return None
    space = _combined(pre_style, _NULL, post_style)
    if not plain.strip():
        # blank (an empty flags cell): every segment rich makes has the cell's style
        if text_style is None and pre_style and cell_len(plain) <= inner:
            return [[Segment(" " * width, space)]]
        return None
    if justify == "right":
        plain = plain.rstrip()
    length = cell_len(plain)
    if length > inner:
        return None
    pad = inner - length
    if justify == "left" and pad:
        plain, pad = plain + " " * pad, 0
    elif justify == "right" and pad:
        plain, pad = " " * pad + plain, 0
    # the padding, the text, the rest of the line and the padding, joined where their styles are
    # equal as Segment.simplify joins them
    text = _combined(pre_style, text_style, post_style)
    if text == space:
        return [[Segment(" " + plain + " " * pad + " ", space)]]
    return [[Segment(" ", space), Segment(plain, text), Segment(" " * pad + " ", space)]]


def _draw_one_line(cell: Text, width: int, pre_style: Style, post_style: Style) -> list[list[Segment]] | None:
    """:func:`_draw_plain` for a Text with no spans; None for anything else."""
    if cell.spans:
        return None
    text_style = cell.style
    if isinstance(text_style, str):
        if text_style:
            return None
        text_style = None
    elif not text_style:
        text_style = None
    return _draw_plain(cell.plain, cell.justify or "default", text_style, width, pre_style, post_style)


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


def _label_key(label: Text) -> tuple:
    return (label.plain, label.style, label.justify, label.overflow, label.no_wrap, tuple(label.spans))


class FigureTable(DataTable):
    """A fast table of formatted figures; one row per customer (or product…).

    Drawing: textual-fastdatatable renders every cell through rich (Padding in
    Styled, split into lines twice), looks up the row's CSS styles for each
    row, and builds, crops and simplifies each line's segments: ~0.1 ms a
    cell, 60-100 ms for a screenful of 45 rows, after every keystroke in the
    customer list's filter. FigureTable draws the same segments, faster:

    - a cell is drawn once per (column kind, raw value, width, styles) and
      copied with its own row and column in the mouse metadata, which is all
      that differs between equal cells (figure tables repeat a lot: counts,
      percentages, flags, agents, markets). The drawn cells depend on values,
      not on rows, so they are kept when new rows come in (:meth:`replace`:
      the customer list's filter), as are the header line and the rows'
      styles; a change of styles (theme, focus, cursor type) forgets them;
    - a one-line cell that fits is laid out directly (:func:`_draw_plain`),
      and a plain string or figure is not first made a Text, formatted and
      parsed for markup (:meth:`_cell_text`);
    - a cell's segments are kept simplified and a line that needs no cropping
      is made a Strip as it is: no measuring, cropping or simplifying per line;
    - a row's styles are looked up once per parity, the widget's style and
      size once per drawing, not once per row.

    These override private methods of textual-fastdatatable 0.19 (``_render_cell``,
    ``_render_line_in_row``, ``_render_line``, ``render_line``) for the plain case
    (no fixed rows or columns, no row labels) and leave everything else to the
    library; tests/tui/test_figure_table.py compares every line with the
    library's own drawing.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", id="table.open", tooltip="Open the highlighted row"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "First", show=False),
        Binding("G", "scroll_end", "Last", show=False),
    ]

    # drawn cells kept (by value); past this many they are forgotten and drawn again as needed
    _DRAWN_LIMIT = 20_000

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
        # what is drawn by value, kept across new rows (see _forget_rows)
        self._drawn_cells: dict[tuple, list[list[Segment]]] = {}
        self._row_styles: dict[tuple, tuple] = {}
        self._style_ids: dict[tuple[Style, Style], int] = {}
        self._header_lines: dict[tuple, Strip] = {}
        self._meta_styles: dict[tuple, Style] = {}  # kept across new styles too (see _with_cell_meta)
        # the widget's style and width while render_lines runs (see render_line)
        self._drawing: tuple[Style, int] | None = None
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
        self._forget_rows()
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()
        return True

    def _forget_rows(self) -> None:
        """Forget what depends on which row is where (the library's caches, the values read) and keep
        what is drawn by value (cells, the header by its labels and widths, the rows' styles)."""
        super()._clear_caches()
        self._values.clear()

    def _clear_caches(self) -> None:
        """The library's caches, and all FigureTable draws: called on a change of styles (a new theme,
        focus, another cursor type...) and of the table's layout."""
        super()._clear_caches()
        if hasattr(self, "_drawn_cells"):
            self._drawn_cells.clear()
            self._row_styles.clear()
            self._style_ids.clear()
            self._header_lines.clear()
            self._values.clear()
            self._warn_style = None

    def _measure(self, obj: object) -> int:
        """The library's measure, kept for column labels: ``ordered_columns`` measures every label
        after each :meth:`replace` (through rich, ~40 us a label), and the labels rarely change."""
        if not isinstance(obj, Text):
            return super()._measure(obj)
        try:
            console_width = self.app.console.width
        except Exception:  # no app yet: the library measures against a console of its own
            return super()._measure(obj)
        key = (_label_key(obj), console_width)
        widths = self.__dict__.setdefault("_label_widths", {})
        width = widths.get(key)
        if width is None:
            if len(widths) > 256:
                widths.clear()
            width = widths[key] = super()._measure(obj)
        return width

    # ----------------------------------------------------------------- values

    def _shown_value(self, value: Any, column: int) -> Any:
        """A raw value as the cell shows it: formatted, and a Text when numeric or warned."""
        numeric, warned, format_value, _label = (self._kinds[column] if column < len(self._kinds)
                                                 else (False, False, None, ""))
        if format_value is not None:
            value = format_value(value)
        if isinstance(value, str) and (numeric or warned):
            return Text(value, style=self._value_style(value, warned) or "", justify="right" if numeric else "left",
                        no_wrap=True, overflow="ellipsis")
        return value

    def _value_style(self, value: str, warned: bool) -> Style | None:
        """The warning style for a usage above 100 % (``…%!``) or an unexplained marker in a warned column."""
        if warned and (value.endswith(fmt.OVER) or value.startswith("?")):
            if self._warn_style is None:
                self._warn_style = warn_style(self.app)
            return self._warn_style
        return None

    def _cell_text(self, raw: Any, column: int) -> tuple[str, str, Style | None] | None:
        """(text, justify, style) of a cell whose value shows as one plain line of text, as
        :meth:`_shown_value`, textual-fastdatatable's ``cell_formatter`` and the console make it;
        None for anything else (a missing value, a number with no format, markup-like text)."""
        numeric, warned, format_value, _label = (self._kinds[column] if column < len(self._kinds)
                                                 else (False, False, None, ""))
        value = format_value(raw) if format_value is not None else raw
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            return None
        if numeric or warned:  # a Text (see _shown_value), which the formatter leaves as it is
            return value, "right" if numeric else "left", self._value_style(value, warned)
        if "[" in value or "\\" in value:  # escaped by the formatter, then parsed as markup: rich's way
            return None
        return value, "default", None  # the formatter's str, made a Text by the console (no markup in it)

    def get_cell_at(self, coordinate: Coordinate):
        return self._shown_value(super().get_cell_at(coordinate), coordinate.column)

    # ----------------------------------------------------------------- drawing

    def _plain_layout(self) -> bool:
        return not (self.fixed_rows or self.fixed_columns or (self._labelled_row_exists and self.show_row_labels))

    def render_lines(self, crop):
        # the widget's style and width are the same for every line of one drawing: worked out once
        # (the style walks the widget's ancestors; 45 lines a screenful)
        self._drawing = (self.rich_style, self.size.width)
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    def render_line(self, y: int) -> Strip:
        """The library's ``render_line``, with the style and width of the drawing under way."""
        drawing = self._drawing
        if drawing is None:
            return super().render_line(y)
        base_style, width = drawing
        scroll_x, scroll_y = self.scroll_offset
        fixed_rows_height = self.fixed_rows
        if self.show_header:
            fixed_rows_height += self.header_height
        if y >= fixed_rows_height:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + width, base_style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """The library's ``_render_line`` for a plain table: a row's segments come simplified from
        :meth:`_row_segments` and become the line as they are when the line needs no cropping; the
        header line is kept while the labels and widths stay (new rows do not change it)."""
        if not self._plain_layout():
            return super()._render_line(y, x1, x2, base_style)
        width = self._drawing[1] if self._drawing is not None else self.size.width
        row_index = y - 1
        if row_index == -1 or not self.is_valid_row_index(row_index):
            if row_index == -1:
                return self._render_header_line(y, x1, x2, base_style, width)
            return super()._render_line(y, x1, x2, base_style)
        cursor_location = self.cursor_coordinate
        hover_location = self.hover_coordinate
        anchor = self.selection_anchor_coordinate
        cache_key = (y, x1, x2, width, cursor_location, hover_location, anchor, base_style, self.cursor_type,
                     self._show_hover_cursor, self._update_count, self._pseudo_class_state)
        strip = self._line_cache.get(cache_key)
        if strip is not None:
            return strip
        segments, hidden_width, length = self._row_segments(row_index, x1, base_style, cursor_location,
                                                            hover_location, anchor, width)
        if x1 == hidden_width and length == width:
            # the library's line_crop, adjust_cell_length and simplify would leave it as it is:
            # the cells are simplified and neighbouring cells never share a style (the column is in it)
            strip = Strip(segments, width)
        else:
            strip = Strip(line_crop(segments, x1 - hidden_width, x2 - hidden_width, width))
            strip = strip.adjust_cell_length(width, base_style).simplify()
        self._line_cache[cache_key] = strip
        return strip

    def _render_header_line(self, y: int, x1: int, x2: int, base_style: Style, width: int) -> Strip:
        """The library's header line, kept across new rows while the labels and column widths stay."""
        columns = tuple((_label_key(col.label), col.render_width) for col in self.ordered_columns)
        key = (x1, x2, width, self.cursor_coordinate, self.hover_coordinate, self.selection_anchor_coordinate,
               base_style, self.cursor_type, self.show_cursor, self._show_hover_cursor, self._pseudo_class_state,
               columns)
        strip = self._header_lines.get(key)
        if strip is None:
            if len(self._header_lines) > 64:
                self._header_lines.clear()
            strip = self._header_lines[key] = super()._render_line(y, x1, x2, base_style)
        return strip

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
        pre_style = base_style + component_style
        styles_id = self._style_ids.setdefault((pre_style, post_style), len(self._style_ids))
        drawn = self._drawn_cell(self._raw_value(row_index, column_index), column_index, width, styles_id,
                                 pre_style, post_style)
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

    def _drawn_cell(self, raw: Any, column_index: int, width: int, styles_id: int, pre_style: Style,
                    post_style: Style) -> list[list[Segment]]:
        """A cell's lines, simplified, without the mouse metadata: drawn once per (column kind, raw
        value, width, styles), ``styles_id`` standing for ``(pre_style, post_style)``."""
        drawn_cells = self._drawn_cells
        try:
            key: tuple | None = (self._kind_ids[column_index], type(raw), raw, styles_id, width)
            drawn = drawn_cells.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable value (a list, a dict): drawn every time
            key, drawn = None, None
        if drawn is None:
            drawn = self._draw_cell(raw, column_index, width, pre_style, post_style)
            if key is not None:
                if len(drawn_cells) >= self._DRAWN_LIMIT:
                    drawn_cells.clear()
                drawn_cells[key] = drawn
        return drawn

    def _draw_cell(self, raw: Any, column_index: int, width: int, pre_style: Style,
                   post_style: Style) -> list[list[Segment]]:
        """The cell's lines as the library draws them (its formatter, then rich), simplified and
        without the mouse metadata."""
        text = self._cell_text(raw, column_index)
        if text is not None and self.max_column_content_width is None:
            drawn = _draw_plain(*text, width, pre_style, post_style)
            if drawn is not None:
                return drawn
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
        lines = console.render_lines(Styled(Padding(cell, (0, 1)), pre_style=pre_style, post_style=post_style),
                                     options)
        return [list(Segment.simplify(line)) for line in lines]

    def _render_line_in_row(self, row_index: int, line_no: int, x1: int, x2: int, base_style: Style,
                            cursor_location: Coordinate, hover_location: Coordinate,
                            selection_anchor_location: Coordinate | None):
        """The library's ``_render_line_in_row`` for a data row of a plain table (see :meth:`_row_segments`)."""
        if (row_index < 0 or line_no or not self._plain_layout() or not self.is_valid_row_index(row_index)):
            return super()._render_line_in_row(row_index, line_no, x1, x2, base_style, cursor_location,
                                               hover_location, selection_anchor_location)
        segments, hidden_width, _length = self._row_segments(row_index, x1, base_style, cursor_location,
                                                             hover_location, selection_anchor_location,
                                                             self.size.width)
        return [], [segments], hidden_width, 0

    def _row_segments(self, row_index: int, x1: int, base_style: Style, cursor_location: Coordinate,
                      hover_location: Coordinate, selection_anchor_location: Coordinate | None,
                      visible_width: int) -> tuple[list[Segment], int, int]:
        """A data row's visible cells and the filler after them, as the library draws them (but each
        cell simplified), with the width of the columns left of them and the row's length in cells.

        The row's styles are looked up once per (parity, base style, state); under a row cursor
        (or none) every cell of a row has the same styles, so they are worked out once per row."""
        cursor_type = self.cursor_type
        show_cursor = self.show_cursor
        columns = self.ordered_columns
        col_widths = [col.render_width for col in columns]
        # which columns are visible (col2 inclusive), as the library computes it
        cumulative_width = 0
        hidden_width = 0
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

        table_width = sum(col_widths)
        style_key = (row_index % 2, base_style, self._pseudo_class_state, visible_width, table_width, self.app.theme)
        styles = self._row_styles.get(style_key)
        if styles is None:
            row_style = self._get_row_style(row_index, base_style)
            remaining_space = max(0, visible_width - table_width)
            faded_color = Color.from_rich_color(row_style.bgcolor).blend(self.background_colors[1], factor=0.25)
            faded_style = Style.from_color(color=row_style.color, bgcolor=faded_color.rich_color)
            styles = (row_style, Segment(" " * remaining_space, faded_style))
            self._row_styles[style_key] = styles
        row_style, filler = styles

        # the row cursor (or hover) covers every cell of the row or none: one style pair per row
        cursor = show_cursor and cursor_type == "row" and cursor_location.row == row_index
        hover = self._show_hover_cursor and cursor_type == "row" and hover_location.row == row_index
        segments: list[Segment] = []
        add = segments.append
        if cursor_type not in ("row", "none"):  # a cell/column/range cursor: per cell, the library's way
            for column_index in range(col1, col2 + 1):
                cell_location = Coordinate(row_index, column_index)
                segments.extend(self._render_cell(
                    row_index, column_index, row_style, col_widths[column_index],
                    cursor=self._should_highlight(cursor_location, cell_location, cursor_type),
                    hover=self._should_highlight(hover_location, cell_location, cursor_type),
                    in_range=self._should_highlight_range(cursor_location, selection_anchor_location,
                                                          cell_location, cursor_type),
                )[0])
        else:
            component_style, post_style = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, False, show_cursor, self._show_hover_cursor, False,
                self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
            )
            pre_style = row_style + component_style
            # the styles as a small number, so that the cache keys below hash and compare fast
            styles_id = self._style_ids.setdefault((pre_style, post_style), len(self._style_ids))
            drawn_cells = self._drawn_cells
            kind_ids = self._kind_ids
            meta_styles = self._meta_styles
            raw_value = self._raw_value
            for column_index in range(col1, col2 + 1):
                width = col_widths[column_index]
                raw = raw_value(row_index, column_index)
                try:
                    drawn = drawn_cells.get((kind_ids[column_index], type(raw), raw, styles_id, width))
                except TypeError:  # an unhashable value: _drawn_cell draws it
                    drawn = None
                if drawn is None:
                    drawn = self._drawn_cell(raw, column_index, width, styles_id, pre_style, post_style)
                for text, style, control in drawn[0]:
                    meta_style = meta_styles.get((style, row_index, column_index))
                    if meta_style is None:
                        meta_style = self._with_cell_meta(style, row_index, column_index)
                    add(Segment(text, meta_style, control))
        add(filler)
        length = sum(col_widths[col1:col2 + 1]) + len(filler.text)
        return segments, hidden_width, length


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
