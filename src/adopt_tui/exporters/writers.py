"""The file writers: CSV, XLSX and JSON, into an open binary file.

Formula injection: a text cell that begins with ``=``, ``+``, ``-``, ``@``,
tab, carriage return or line feed gets a leading apostrophe in CSV and XLSX
(:func:`neutralise`; for the row sets read with SQL, the same rule is applied
in the query, see ``rows.safe_sql``), so no spreadsheet evaluates it. XLSX
strings are always written with ``write_string`` (never ``write``, which could
turn them into formulas) and the workbook's string conversions are off.
Numbers stay numbers.

Percentages: CSV writes them rounded to one decimal on the 0-100 scale, exactly
as ``metrics_document`` rounds them (empty when not available); XLSX writes the
exact fraction (0-1) with the ``0.0%`` number format. Dates: CSV ``YYYY-MM-DD``
text; XLSX real dates (serial numbers with the ``yyyy-mm-dd`` format).

Speed: each row set gets a small line formatter (CSV: one f-string per row,
with cached text fields; the same bytes as ``csv.writer``, a third faster) or
row writer (XLSX) compiled for its column types, so that the per-row Python
work is one comprehension step or one straight run of ``write_*`` calls.
"""

from __future__ import annotations

import html
import io
import json
from datetime import date
from typing import BinaryIO, Callable, Iterable

from adopt_tui.exporters.atomic import ExportError
from adopt_tui.exporters.rows import BOOL, DANGEROUS_FIRST, DATE, INT, MIXED, PCT, TEXT, Column, Percent, RowSet

OnBatch = Callable[[int], None]  # called after each batch with the rows written so far

_PCT_CACHE_LIMIT = 200_000


def neutralise(text):
    """``'`` + text when a spreadsheet could read the text as a formula (None stays None)."""
    if text and text[0] in DANGEROUS_FIRST:
        return "'" + text
    return text


def _compile(source: str, name: str) -> Callable:
    """Compile generated code (built from column positions only, never from data)."""
    namespace: dict = {}
    exec(compile(source, f"<adopt_tui.exporters {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def _names(columns: list[Column]) -> str:
    return ", ".join(f"c{i}" for i in range(len(columns))) + ","


# --------------------------------------------------------------------------- CSV


def _csv_pct() -> Callable:
    cache: dict = {None: None}

    def fmt(value):
        try:
            return cache[value]
        except KeyError:
            if len(cache) > _PCT_CACHE_LIMIT:
                cache.clear()
                cache[None] = None
            out = cache[value] = repr(round(float(value), 1))
            return out

    return fmt


def _csv_bool(value):
    return None if value is None else ("true" if value else "false")


# A field is quoted when it holds the delimiter, the quote character or a line
# break: the csv module's QUOTE_MINIMAL rule for the excel dialect.
_CSV_SPECIAL = frozenset(',"\r\n')
_CSV_CACHE_LIMIT = 200_000


def csv_field(value) -> str:
    """One CSV field as ``csv.writer`` (excel dialect, QUOTE_MINIMAL) writes it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    if _CSV_SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def _csv_text(neutralised: bool) -> tuple[Callable, Callable]:
    """(get, make) for text fields: ``get(text) or make(text)`` is the text's CSV field (neutralised first unless
    ``neutralised``); ``get`` is a cache lookup, since names repeat on every row of a customer."""
    cache: dict = {}

    def make(value) -> str:
        if len(cache) > _CSV_CACHE_LIMIT:
            cache.clear()
        out = cache[value] = csv_field(value if neutralised else neutralise(value))
        return out

    return cache.get, make


def _csv_mixed(value) -> str:
    if isinstance(value, Percent):
        return repr(round(float(value), 1))
    if isinstance(value, bool):
        return _csv_bool(value)
    if isinstance(value, str):
        return csv_field(neutralise(value))
    return csv_field(value)


def csv_lines(columns: list[Column], safe: bool) -> Callable[[list[tuple]], str]:
    """batch -> its CSV text: text neutralised (unless ``safe``) and quoted where needed, percentages rounded,
    one CRLF-terminated line per row (what ``csv.writer`` would write for the converted row).
    The row's expression is generated from the column types (never from data)."""
    fields = []
    for i, c in enumerate(columns):
        v = f"c{i}"
        fields.append({
            TEXT: f"G({v}) or T({v})", DATE: f"G({v}) or T({v})", INT: f"'' if {v} is None else {v}",
            PCT: f"P({v}) or ''", BOOL: f"B({v}) or ''", MIXED: f"M({v})",
        }[c.type])
    line = ",".join("{" + f + "}" for f in fields)
    source = (
        "def lines(batch, G, T, P, B, M):\n"
        f"    return ''.join([f\"{line}\\r\\n\" for ({_names(columns)}) in batch])\n"
    )
    lines = _compile(source, "lines")
    get, make = _csv_text(safe)
    pct = _csv_pct()
    return lambda batch: lines(batch, get, make, pct, _csv_bool, _csv_mixed)


def write_csv(fh: BinaryIO, rowset: RowSet, on_batch: OnBatch, *, bom: bool = False) -> int:
    """RFC 4180 (minimal quoting, CRLF line ends), UTF-8 with an optional byte-order mark, one header row.

    The rows are formatted by :func:`csv_lines` rather than by ``csv.writer``:
    the same bytes (tests/test_export_csv_format.py compares the two)."""
    text = io.TextIOWrapper(fh, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
    try:
        text.write(",".join(csv_field(neutralise(c.name)) for c in rowset.columns) + "\r\n")
        lines = csv_lines(rowset.columns, rowset.safe)
        done = 0
        for batch in rowset.batches:
            text.write(lines(batch))
            done += len(batch)
            on_batch(done)
        text.flush()
    finally:
        text.detach()  # leave fh open for the caller (fsync, rename)
    return done


# --------------------------------------------------------------------------- XLSX

# XlsxWriter writes a string that begins with ``<r>`` and ends with ``</r>`` into the sheet's XML as it is
# (it takes it for rich text), so a customer named like that would corrupt the workbook or smuggle cell
# markup, a formula among it, into the sheet. Such text is given to XlsxWriter as one plain run holding the
# escaped text, which Excel shows literally.
_RICH_OPEN, _RICH_CLOSE = "<r>", "</r>"
_RICH_TEXT_MAX = 4000    # escaped (at most 5 characters each) it stays under Excel's 32,767 per cell
XLSX_MAX_ROWS = 1_048_575  # below the header row
_XLSX_CACHE_LIMIT = 200_000


def xlsx_text(text: str) -> str:
    """``text`` as XlsxWriter must be given it to store it literally (see above)."""
    if text.startswith(_RICH_OPEN) and text.endswith(_RICH_CLOSE):
        return f'<r><t xml:space="preserve">{html.escape(text[:_RICH_TEXT_MAX], quote=False)}</t></r>'
    return text


def _xlsx_serial(text) -> int | None:
    """The Excel serial number of an ISO date (``None`` for anything else)."""
    try:
        return date.fromisoformat(text).toordinal() - _EXCEL_EPOCH
    except (TypeError, ValueError):
        return None


_EXCEL_EPOCH = date(1899, 12, 30).toordinal()


def _xlsx_dates(write_number, write_string, date_fmt) -> Callable:
    """D(row, col, iso_text): an Excel date (serial number, ``yyyy-mm-dd`` format); text that is not an ISO
    date stays (neutralised) text."""
    def write_date(r: int, c: int, text: str) -> None:
        serial = _xlsx_serial(text)
        if serial is None:
            write_string(r, c, neutralise(text))
        else:
            write_number(r, c, serial, date_fmt)

    return write_date


def xlsx_row_writer(columns: list[Column], safe: bool) -> Callable:
    """``write(batch, row_no, S, N, B, M, Z, D, pct_format) -> last row_no``, one ``write_*`` per non-empty cell:
    the plain way through XlsxWriter's API, used where :class:`_SheetRows` cannot be."""
    lines = [
        "def write(batch, r, S, N, B, M, Z, D, pf):",
        f"    for ({_names(columns)}) in batch:",
        "        r += 1",
    ]
    for i, c in enumerate(columns):
        v = f"c{i}"
        if c.type == TEXT:
            lines.append(f"        if {v}: S(r, {i}, {v if safe else f'Z({v})'})")
        elif c.type == INT:
            lines.append(f"        if {v} is not None: N(r, {i}, {v})")
        elif c.type == PCT:
            lines.append(f"        if {v} is not None: N(r, {i}, {v} / 100.0, pf)")
        elif c.type == BOOL:
            lines.append(f"        if {v} is not None: B(r, {i}, bool({v}))")
        elif c.type == DATE:
            lines.append(f"        if {v}: D(r, {i}, {v})")
        else:
            lines.append(f"        if {v} is not None and {v} != '': M(r, {i}, {v})")
    lines.append("    return r")
    return _compile("\n".join(lines) + "\n", "write")


class _SheetRows:
    """Rows written straight into XlsxWriter's constant-memory row file, as the text XlsxWriter's own
    ``_write_single_row``/``_write_cell`` would write for the same ``write_*`` calls (one string per batch
    instead of a dozen Python calls per cell: a usage export's 100,000 rows take a third of the time).
    ``tests/test_export_xlsx_rows.py`` checks that the sheet's XML is byte for byte what the plain way
    (:func:`xlsx_row_writer`) writes. Escaping, whitespace and length rules are XlsxWriter's own functions,
    applied once per distinct text (names repeat on every row of a customer)."""

    _NEEDS = ("row_data_fh", "fh", "table", "previous_row", "xls_strmax", "_write_single_row",
              "_check_dimensions", "_escape_control_characters", "_escape_data")

    @classmethod
    def possible(cls, ws) -> bool:
        return (getattr(ws, "constant_memory", False) and all(hasattr(ws, a) for a in cls._NEEDS)
                and ws.fh is ws.row_data_fh)

    def __init__(self, ws, columns: list[Column], safe: bool, pct_fmt, date_fmt) -> None:
        from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name

        self.ws = ws
        pf, df = pct_fmt._get_xf_index(), date_fmt._get_xf_index()
        texts: dict = {}
        dates: dict = {}

        def text_tail(text: str, s_attr: str = "") -> str:
            """What follows ``<c r="A2`` for a text cell (``s_attr``: the column's format)."""
            string = xlsx_text(text if safe else neutralise(text))
            if len(string) > ws.xls_strmax // 2 and _utf16_len(string) > ws.xls_strmax:
                string = _utf16_truncate(string, ws.xls_strmax)
            string = ws._escape_control_characters(string)
            if string.startswith(_RICH_OPEN) and string.endswith(_RICH_CLOSE):
                return f'"{s_attr} t="inlineStr"><is>{string}</is></c>'
            preserve = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
            return f'"{s_attr} t="inlineStr"><is><t{preserve}>{ws._escape_data(string)}</t></is></c>'

        def text(value: str) -> str:
            if len(texts) > _XLSX_CACHE_LIMIT:
                texts.clear()
            out = texts[value] = text_tail(value)
            return out

        def a_date(value: str) -> str:
            if len(dates) > _XLSX_CACHE_LIMIT:
                dates.clear()
            serial = _xlsx_serial(value)
            out = dates[value] = (
                text_tail(neutralise(value), f' s="{df}"') if serial is None else f'" s="{df}"><v>{serial:.16G}</v></c>'
            )
            return out

        def mixed(v) -> str:
            if isinstance(v, Percent):
                return f'" s="{pf}"><v>{float(v) / 100.0:.16G}</v></c>'
            if isinstance(v, bool):
                return f'" t="b"><v>{int(v)}</v></c>'
            if isinstance(v, (int, float)):
                return f'"><v>{v:.16G}</v></c>'
            return text_tail(neutralise(str(v)))

        cells = []
        for i, c in enumerate(columns):
            v, ref = f"c{i}", repr(f'<c r="{xl_col_to_name(i)}')
            cells.append({
                TEXT: f"({ref} + R + (TG({v}) or T({v}))) if {v} else ''",
                DATE: f"({ref} + R + (DG({v}) or D({v}))) if {v} else ''",
                INT: f"({ref} + R + '\"><v>' + format({v}, '.16G') + '</v></c>') if {v} is not None else ''",
                PCT: f"({ref} + R + '\" s=\"{pf}\"><v>' + format({v} / 100.0, '.16G') + '</v></c>')"
                     f" if {v} is not None else ''",
                BOOL: f"({ref} + R + ('\" t=\"b\"><v>1</v></c>' if {v} else '\" t=\"b\"><v>0</v></c>'))"
                      f" if {v} is not None else ''",
                MIXED: f"({ref} + R + M({v})) if {v} is not None and {v} != '' else ''",
            }[c.type])
        source = (
            "def rows(batch, r, TG, T, DG, D, M):\n"
            "    out = []\n"
            "    last = -1\n"
            f"    for ({_names(columns)}) in batch:\n"
            "        r += 1\n"
            "        R = str(r + 1)\n"
            f"        cells = ''.join(({', '.join(cells)},))\n"
            "        if cells:\n"
            "            out.append('<row r=\"' + R + '\">' + cells + '</row>')\n"
            "            last = r\n"
            "    return r, last, ''.join(out)\n"
        )
        rows = _compile(source, "rows")
        self._rows = lambda batch, r: rows(batch, r, texts.get, text, dates.get, a_date, mixed)

    def write(self, batch: list[tuple], row_no: int) -> int:
        ws = self.ws
        if ws.table:                     # the header row, still held by XlsxWriter: write it first
            ws._write_single_row(row_no + 1)
        row_no, last, text = self._rows(batch, row_no)
        if text:
            ws.row_data_fh.write(text)
            ws._check_dimensions(last, 0, ignore_col=True)
        ws.previous_row = row_no
        return row_no


def write_xlsx(fh: BinaryIO, rowset: RowSet, on_batch: OnBatch, *, tmpdir: str | None = None,
               fast: bool = True) -> int:
    """One sheet named after the kind, header row bold and frozen, column widths
    set, XlsxWriter's constant-memory mode (rows streamed to ``tmpdir``).
    ``fast=False`` writes every cell through XlsxWriter's ``write_*`` calls (the same file)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(fh, {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "tmpdir": tmpdir,
    })
    try:
        ws = wb.add_worksheet(rowset.sheet)
        header = wb.add_format({"bold": True})
        pct_fmt = wb.add_format({"num_format": "0.0%"})
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        for fmt in (header, pct_fmt, date_fmt):  # style numbers in this order, whichever cell comes first
            fmt._get_xf_index()
        columns = rowset.columns
        for i, c in enumerate(columns):
            col_fmt = pct_fmt if c.type == PCT else date_fmt if c.type == DATE else None
            ws.set_column(i, i, max(c.width, len(c.name) + 2), col_fmt)
        ws.freeze_panes(1, 0)

        def text(r: int, col: int, value: str, cell_format=None) -> None:
            ws.write_string(r, col, xlsx_text(value), cell_format)

        for i, c in enumerate(columns):
            text(0, i, neutralise(c.name), header)
        if fast and _SheetRows.possible(ws):
            write = _SheetRows(ws, columns, rowset.safe, pct_fmt, date_fmt).write
        else:
            def mixed(r: int, col: int, v) -> None:
                if isinstance(v, Percent):
                    ws.write_number(r, col, float(v) / 100.0, pct_fmt)
                elif isinstance(v, bool):
                    ws.write_boolean(r, col, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, col, v)
                else:
                    text(r, col, neutralise(str(v)))

            plain = xlsx_row_writer(columns, rowset.safe)
            write_date = _xlsx_dates(ws.write_number, text, date_fmt)

            def write(batch: list[tuple], r: int) -> int:
                return plain(batch, r, text, ws.write_number, ws.write_boolean, mixed, neutralise, write_date,
                             pct_fmt)
        row_no = 0
        for batch in rowset.batches:
            if row_no + len(batch) > XLSX_MAX_ROWS:
                raise ExportError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows and this export has more; "
                                  "export it as CSV instead")
            row_no = write(batch, row_no)
            on_batch(row_no)
    except BaseException:
        # close XlsxWriter's temporary row files without assembling the workbook
        for sheet in wb.worksheets():
            handle = getattr(sheet, "row_data_fh", None)
            if handle is not None:
                try:
                    handle.close()
                except Exception:
                    pass
        wb.fileclosed = True
        raise
    wb.close()
    return row_no


# --------------------------------------------------------------------------- JSON


def write_json_text(fh: BinaryIO, chunks: Iterable[str]) -> None:
    """UTF-8 JSON already encoded as text (deployment/usage: the metrics document, indented, as
    ``adopt_tui.metrics.document`` writes it), then a newline."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
    try:
        for chunk in chunks:
            text.write(chunk)
        text.write("\n")
        text.flush()
    finally:
        text.detach()


def write_json(fh: BinaryIO, document: dict) -> None:
    """UTF-8 JSON, indented, non-ASCII kept (the users and portfolio documents)."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
    try:
        # json.dumps (one shot) uses the C encoder; json.dump streams through the pure-Python one
        text.write(json.dumps(document, ensure_ascii=False, indent=2))
        text.write("\n")
        text.flush()
    finally:
        text.detach()
