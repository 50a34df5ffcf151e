"""The XLSX writer's own row serialiser (``_SheetRows``) writes exactly the sheet
XML that XlsxWriter writes when every cell goes through its ``write_*`` calls;
and text that XlsxWriter would take for rich-text markup is stored literally."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adopt_tui.exporters.atomic import ExportError
from adopt_tui.exporters.rows import BOOL, DATE, INT, MIXED, PCT, TEXT, Column, Percent, RowSet
from adopt_tui.exporters.writers import XLSX_MAX_ROWS, neutralise, write_xlsx

COLUMNS = [Column("name", TEXT, 10), Column("n", INT, 5), Column("p", PCT, 5), Column("b", BOOL, 5),
           Column("d", DATE, 10), Column("m", MIXED, 5), Column("=tail", TEXT, 5)]

MARKUP = ["<r>A & B</r>", "<r><t>x</t></r></is><f>1+1</f><is><r><t>y</t></r>", "<r> </r>", "<r>_x0041_\x01</r>",
          "<r></r>", "<r>", "</r>"]
texts = st.one_of(
    st.none(), st.text(max_size=12),
    st.sampled_from(["=SUM(A1)", "+1", "-2", "@x", "\tx", 'a "b", c', "line\r\nbreak", "", " ", " lead", "trail ",
                     "_x0041_", "a\x00b\x1fc", "\u00a0nbsp", "<b>&amp;</b>", *MARKUP]),
    st.builds(lambda a, b: f"<r>{a}</r>{b}", st.text(max_size=5), st.sampled_from(["", "</r>"])),
)
dates = st.one_of(texts, st.dates(date(1900, 3, 1), date(2100, 1, 1)).map(date.isoformat))
mixed = st.one_of(st.none(), st.integers(-10**6, 10**6), st.booleans(), texts,
                  st.floats(-1e9, 1e9, allow_nan=False), st.floats(0, 300, allow_nan=False).map(Percent))
rows = st.tuples(texts, st.one_of(st.none(), st.integers(-2**60, 2**60)),
                 st.one_of(st.none(), st.floats(-1e12, 1e12, allow_nan=False)),
                 st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1])), dates, mixed, texts)


def _xlsx(batches: list[list[tuple]], *, safe: bool, fast: bool, columns=COLUMNS) -> bytes:
    fh = io.BytesIO()
    rowset = RowSet("usage", "usage", columns, sum(map(len, batches)), iter(batches), safe=safe)
    write_xlsx(fh, rowset, lambda n: None, fast=fast)
    return fh.getvalue()


def _ooxml(text: str) -> str:
    """Undo Excel's ``_xHHHH_`` escape (of control characters, and of ``_x`` itself), as Excel reads it;
    openpyxl leaves it."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _sheet_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


@settings(max_examples=150, deadline=None)
@given(batches=st.lists(st.lists(rows, max_size=6), max_size=4), safe=st.booleans())
def test_the_fast_rows_are_what_xlsxwriter_writes(batches, safe):
    fast, plain = _xlsx(batches, safe=safe, fast=True), _xlsx(batches, safe=safe, fast=False)
    assert _sheet_xml(fast) == _sheet_xml(plain)
    # and the workbook opens
    openpyxl.load_workbook(io.BytesIO(fast))


def test_long_text_is_cut_where_xlsxwriter_cuts_it():
    long_text = "x" * 40_000
    batches = [[(long_text, 1, 50.0, True, "2026-01-31", long_text, "<r>" + "&" * 9000 + "</r>")]]
    fast = _xlsx(batches, safe=False, fast=True)
    assert _sheet_xml(fast) == _sheet_xml(_xlsx(batches, safe=False, fast=False))
    row = next(openpyxl.load_workbook(io.BytesIO(fast)).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert row[0] == "x" * 32_767


@pytest.mark.parametrize("fast", [True, False])
def test_markup_like_text_comes_back_literally_and_makes_no_formula(fast):
    batches = [[(text, None, None, None, None, text, text) for text in MARKUP]]
    data = _xlsx(batches, safe=False, fast=fast)
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in ws[1]] == ["name", "n", "p", "b", "d", "m", "'=tail"]
    got = list(ws.iter_rows(min_row=2, values_only=True))
    for text, row in zip(MARKUP, got):
        assert tuple(map(_ooxml, (row[0], row[5], row[6]))) == (text, text, text)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert b"<f>" not in _sheet_xml(data)


def test_values_come_back_typed():
    batches = [[("Contoso", 7, 61.5, True, "2026-10-31", Percent(12.5), "=x")],
               [(None, None, None, None, None, None, None), ("Fabrikam", 0, 0.0, False, "not a date", "-3", None)]]
    data = _xlsx(batches, safe=False, fast=True)
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    got = list(ws.iter_rows(min_row=2, values_only=True))
    assert got[0][:4] == ("Contoso", 7, 0.615, True)
    assert got[0][4].date() == date(2026, 10, 31) and got[0][5] == 0.125 and got[0][6] == "'=x"
    # an all-empty row is not written (as XlsxWriter does); the next one keeps its row number
    assert ws.max_row == 4 and got[1] == (None,) * 7
    assert got[2] == ("Fabrikam", 0, 0, False, "not a date", neutralise("-3"), None)
    assert ws["C2"].number_format == "0.0%" and ws["E2"].number_format == "yyyy-mm-dd"


def test_more_rows_than_a_sheet_holds_is_a_clear_error():
    class Many(list):
        def __len__(self):
            return XLSX_MAX_ROWS + 1

    with pytest.raises(ExportError, match="at most 1,048,575 rows"):
        _xlsx([Many()], safe=True, fast=True)
