"""The CSV writer's own line formatting writes exactly what ``csv.writer``
(excel dialect, QUOTE_MINIMAL, CRLF) writes for the same converted rows."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from adopt_tui.exporters.rows import BOOL, DATE, INT, MIXED, PCT, TEXT, Column, Percent, RowSet
from adopt_tui.exporters.writers import neutralise, write_csv

COLUMNS = [Column("name", TEXT, 10), Column("n", INT, 5), Column("p", PCT, 5), Column("b", BOOL, 5),
           Column("d", DATE, 10), Column("m", MIXED, 5)]

texts = st.one_of(st.none(), st.text(max_size=12),
                  st.sampled_from(["=SUM(A1)", "+1", "-2", "@x", "\tx", 'a "b", c', "line\r\nbreak", "", " "]))
mixed = st.one_of(st.none(), st.integers(-10**6, 10**6), st.booleans(), texts,
                  st.floats(0, 300, allow_nan=False).map(Percent))
rows = st.tuples(texts, st.one_of(st.none(), st.integers(-10**9, 10**9)),
                 st.one_of(st.none(), st.floats(0, 1000, allow_nan=False)),
                 st.one_of(st.none(), st.booleans()), texts, mixed)


def _reference(batch: list[tuple], safe: bool) -> str:
    """csv.writer over the values converted as the writers document them."""
    def b(v):
        return None if v is None else ("true" if v else "false")

    def m(v):
        if isinstance(v, Percent):
            return repr(round(float(v), 1))
        if isinstance(v, bool):
            return b(v)
        if isinstance(v, str):
            return neutralise(v)
        return v

    out = io.StringIO(newline="")
    w = csv.writer(out, dialect="excel", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow([c.name for c in COLUMNS])
    z = (lambda v: v) if safe else neutralise
    w.writerows([
        (z(t), n, None if p is None else repr(round(float(p), 1)), b(flag), z(d), m(x))
        for t, n, p, flag, d, x in batch
    ])
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, max_size=8), st.booleans(), st.booleans())
def test_same_bytes_as_csv_writer(batch, safe, bom):
    fh = io.BytesIO()
    n = write_csv(fh, RowSet("t", "T", COLUMNS, len(batch), [batch[:3], batch[3:]], safe=safe), lambda done: None,
                  bom=bom)
    assert n == len(batch)
    expected = _reference(batch, safe).encode("utf-8-sig" if bom else "utf-8")
    assert fh.getvalue() == expected


def test_quoting_and_neutralising_by_hand():
    batch = [('=HYPERLINK("http://x","y")', 3, 66.66666, True, "2026-10-31", Percent(12.25)),
             ("plain", None, None, None, None, None)]
    fh = io.BytesIO()
    write_csv(fh, RowSet("t", "T", COLUMNS, 2, [batch]), lambda done: None)
    assert fh.getvalue().decode() == (
        "name,n,p,b,d,m\r\n"
        '"\'=HYPERLINK(""http://x"",""y"")",3,66.7,true,2026-10-31,12.2\r\n'
        "plain,,,,,\r\n"
    )
