"""The file writers: CSV, XLSX and JSON, into an open binary file.

Formula injection: a text cell that begins with ``=``, ``+``, ``-``, ``@``,
tab, carriage return or line feed gets a leading apostrophe in CSV and XLSX,
so no spreadsheet evaluates it; XLSX strings are always written with
``write_string`` (never as formulas) and numbers stay numbers.

Percentages: CSV rounds to one decimal on the 0-100 scale (empty when not
available); XLSX writes the exact fraction (0-1) with the ``0.0%`` format.
"""

from __future__ import annotations

import csv
import io
import json
from typing import BinaryIO, Callable

from adopt_tui.exporters.rows import BOOL, INT, MIXED, PCT, TEXT, Percent, RowSet

DANGEROUS_FIRST = "=+-@\t\r\n"

OnBatch = Callable[[int], None]  # called after each batch with the rows written so far


def neutralise(text: str) -> str:
    """``'`` + text when a spreadsheet could read the text as a formula."""
    if text and text[0] in DANGEROUS_FIRST:
        return "'" + text
    return text


# --------------------------------------------------------------------------- CSV


def write_csv(fh: BinaryIO, rowset: RowSet, on_batch: OnBatch, *, bom: bool = False) -> int:
    """RFC 4180 (minimal quoting, CRLF), UTF-8 with an optional byte-order mark, one header row."""
    text = io.TextIOWrapper(fh, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
    writer = csv.writer(text, dialect="excel", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    columns = rowset.columns
    writer.writerow([neutralise(c.name) for c in columns])
    text_idx = [i for i, c in enumerate(columns) if c.type == TEXT]
    pct_idx = [i for i, c in enumerate(columns) if c.type == PCT]
    bool_idx = [i for i, c in enumerate(columns) if c.type == BOOL]
    mixed_idx = [i for i, c in enumerate(columns) if c.type == MIXED]
    danger = DANGEROUS_FIRST
    done = 0
    try:
        for batch in rowset.batches:
            out = []
            append = out.append
            for row in batch:
                r = list(row)
                for i in text_idx:
                    v = r[i]
                    if v and v[0] in danger:
                        r[i] = "'" + v
                for i in pct_idx:
                    v = r[i]
                    if v is not None:
                        r[i] = round(v, 1)
                for i in bool_idx:
                    v = r[i]
                    if v is not None:
                        r[i] = "true" if v else "false"
                for i in mixed_idx:
                    r[i] = _csv_mixed(r[i])
                append(r)
            writer.writerows(out)
            done += len(batch)
            on_batch(done)
        text.flush()
    finally:
        text.detach()  # leave fh open for the caller (fsync, rename)
    return done


def _csv_mixed(v):
    if isinstance(v, Percent):
        return round(float(v), 1)
    if isinstance(v, str):
        return neutralise(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


# --------------------------------------------------------------------------- XLSX


def write_xlsx(fh: BinaryIO, rowset: RowSet, on_batch: OnBatch, *, tmpdir: str | None = None) -> int:
    """One sheet named after the kind, header frozen, widths set, constant-memory mode."""
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
        columns = rowset.columns
        for i, c in enumerate(columns):
            ws.set_column(i, i, max(c.width, len(c.name) + 2), pct_fmt if c.type == PCT else None)
        ws.freeze_panes(1, 0)
        for i, c in enumerate(columns):
            ws.write_string(0, i, neutralise(c.name), header)
        write_string, write_number, write_boolean = ws.write_string, ws.write_number, ws.write_boolean
        danger = DANGEROUS_FIRST
        plan = [(i, c.type) for i, c in enumerate(columns)]
        row_no = 0
        for batch in rowset.batches:
            for row in batch:
                row_no += 1
                for i, kind in plan:
                    v = row[i]
                    if v is None or v == "":
                        continue
                    if kind == TEXT:
                        write_string(row_no, i, "'" + v if v[0] in danger else v)
                    elif kind == INT:
                        write_number(row_no, i, v)
                    elif kind == PCT:
                        write_number(row_no, i, v / 100.0, pct_fmt)
                    elif kind == BOOL:
                        write_boolean(row_no, i, bool(v))
                    else:
                        _xlsx_mixed(ws, row_no, i, v, pct_fmt)
            on_batch(row_no)
    except BaseException:
        # xlsxwriter keeps temporary files per worksheet; close them without writing more
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


def _xlsx_mixed(ws, row_no: int, col: int, v, pct_fmt) -> None:
    if isinstance(v, Percent):
        ws.write_number(row_no, col, float(v) / 100.0, pct_fmt)
    elif isinstance(v, bool):
        ws.write_boolean(row_no, col, v)
    elif isinstance(v, (int, float)):
        ws.write_number(row_no, col, v)
    else:
        ws.write_string(row_no, col, neutralise(str(v)))


# --------------------------------------------------------------------------- JSON


def write_json(fh: BinaryIO, document: dict) -> None:
    """UTF-8 JSON, indented, non-ASCII kept (the same shape as ``adopt-tui metrics --format json``)."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
    try:
        json.dump(document, text, ensure_ascii=False, indent=2)
        text.write("\n")
        text.flush()
    finally:
        text.detach()
