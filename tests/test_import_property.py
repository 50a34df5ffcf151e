"""Property: whatever the bytes, importing gives a result or a readable error, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.errors import AdoptError
from adopt_tui.importers.api import plan_import, run_import
from adopt_tui.store import connect

FIX = Path(__file__).parent / "fixtures" / "import"
FIXTURES = sorted(p.name for p in FIX.iterdir())
TENANT = "eeeeeeee-0000-0000-0000-000000000005"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def attempt(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        conn = connect(":memory:")
        try:
            before = list(conn.iterdump())
            try:
                plan = plan_import(conn, SYSTEM, [path], customer=TENANT, customer_name="Echo Energy")
            except AdoptError:
                return
            assert list(conn.iterdump()) == before, "checking must not write"
            if not plan.ok:
                assert plan.errors, "a failed check names its errors"
                for e in plan.errors:
                    assert str(e)
                return
            try:
                run_import(conn, SYSTEM, plan)
            except AdoptError:
                assert list(conn.iterdump()) == before
        finally:
            conn.close()


@SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".json", ".tsv", ""]))
def test_random_bytes(data, suffix):
    attempt(data, suffix)


_MUTATION = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "duplicate_line", "truncate"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=40),
    st.sampled_from([b",", b'"', b"\n", b"\r\n", b"\t", b"\x00", b"\xff", b"{", b"}", b"True", b"2026-13-45",
                     b"+", b" + ", b"#EXT#", b"", b"x" * 300, b'""', b"null", b"[", b"-1", b"1e309"]),
)


def mutate(data: bytes, mutations) -> bytes:
    for kind, pos, length, chunk in mutations:
        if not data:
            break
        pos %= len(data)
        if kind == "delete":
            data = data[:pos] + data[pos + length:]
        elif kind == "insert":
            data = data[:pos] + chunk + data[pos:]
        elif kind == "replace":
            data = data[:pos] + chunk + data[pos + len(chunk):]
        elif kind == "duplicate_line":
            lines = data.split(b"\n")
            i = pos % len(lines)
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        else:
            data = data[:pos]
    return data


@SETTINGS
@given(name=st.sampled_from(FIXTURES), mutations=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_valid_files(name, mutations):
    data = (FIX / name).read_bytes()
    attempt(mutate(data, mutations), Path(name).suffix)
