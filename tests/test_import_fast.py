"""The fast reader (Arrow, column-wise, many rows per statement) against the exact one.

Whatever a clean report holds, both must store exactly the same rows; anything
irregular goes to the exact reader, which names lines. Also: users repeated in
one file, user-name hash collisions, the batches the check keeps for the run.
"""

from __future__ import annotations

import gc
import random
from pathlib import Path

import pytest

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.importers import graph_reports, textio
from adopt_tui.importers.api import plan_import, run_import
from adopt_tui.importers.textio import NotClean
from adopt_tui.store import connect

HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,"
    "Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,"
    "Has Teams License,Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,"
    "Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date,"
    "Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,"
    "Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date,Assigned Products"
)
PRODUCTS = ["OFFICE 365 E3", "MICROSOFT 365 E5+ENTERPRISE MOBILITY + SECURITY E5", "Office 365 E1", "",
            "EXCHANGE ONLINE (PLAN 1)", "FANCY UNKNOWN THING", "OFFICE 365 E3+FANCY UNKNOWN THING"]


def messy(path: Path, seed: int, rows: int, dates=("2026-10-31",), names: list | None = None) -> Path:
    """A valid active user detail report with the quirks of real ones (and users repeated in it)."""
    rnd = random.Random(seed)
    names = [] if names is None else names

    def day(year):
        return f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"

    lines = [HEADER]
    for i in range(rows):
        if names and rnd.random() < 0.25:
            upn = rnd.choice(names)
            upn = upn.upper() if rnd.random() < 0.3 else upn
        else:
            kind = rnd.random()
            upn = (f"{rnd.getrandbits(128):032X}" if kind < 0.1 else
                   f"g{seed}_{i}_x.example#EXT#@t.onmicrosoft.com" if kind < 0.2 else f"User{i}.{seed}@Messy.example")
            names.append(upn)
        if rnd.random() < 0.05:
            upn = f" {upn} "
        deleted = rnd.random() < 0.1
        flags = [rnd.random() < 0.6 for _ in range(6)]
        same = day(2025)
        assigned = [(same if rnd.random() < 0.7 else rnd.choice([day(2024), ""])) if f else "" for f in flags]
        fields = [rnd.choice(dates), upn, rnd.choice(["Ann", "Bob", "", "Cé, Dí"]),
                  "True" if deleted else rnd.choice(["False", ""]), day(2026) if deleted and rnd.random() < 0.8 else "",
                  *("True" if f else rnd.choice(["False", ""]) for f in flags),
                  *(day(2026) if rnd.random() < 0.5 else "" for _ in range(6)), *assigned, rnd.choice(PRODUCTS)]
        lines.append(",".join(f'"{x}"' if "," in x else x for x in fields))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig" if seed % 2 else "utf-8")
    return path


def dump(conn) -> list[str]:
    """The data the import writes (not the audit, not the import register's times; assignments
    without their ids, which follow the order rows are written in, and batches differ)."""
    lines = [line for line in conn.iterdump()
             if not line.startswith(('INSERT INTO "audit"', 'INSERT INTO "imports"', 'INSERT INTO "assignments"'))]
    return lines + sorted(repr(tuple(r)) for r in conn.execute(
        "SELECT user_id, sku, subscription_id, assigned_date, state FROM assignments"))


def import_all(paths, *, exact=False, monkeypatch=None) -> tuple[list[str], list]:
    if exact:
        def refuse(*args, **kwargs):
            raise NotClean("the exact reader, for this test")
            yield  # pragma: no cover

        monkeypatch.setattr(graph_reports, "arrow_batches", refuse)
    conn = connect(":memory:")
    summaries = []
    for path in paths:
        plan = plan_import(conn, SYSTEM, [path], customer="tenant-m", customer_name="Messy")
        assert plan.ok, plan.errors
        assert plan.files[0]._fast is not exact
        summary = run_import(conn, SYSTEM, plan)
        f = summary.files[0]
        summaries.append((f.rows, f.added, f.updated, f.warnings, f.notes))
    if exact:
        monkeypatch.undo()
    return dump(conn), summaries


@pytest.fixture
def small_blocks(monkeypatch):
    """Batches of a few dozen rows, so that every file spans many of them."""
    monkeypatch.setattr(textio, "ARROW_BLOCK", 4096)
    monkeypatch.setattr(graph_reports, "BATCH", 37)


def test_fast_and_exact_readers_store_the_same(tmp_path, monkeypatch, small_blocks):
    names: list[str] = []
    files = [messy(tmp_path / "a.csv", 1, 400, names=names),
             messy(tmp_path / "b.csv", 2, 400, dates=("2026-11-30", "2026-11-29"), names=names),
             messy(tmp_path / "c.csv", 3, 200, dates=("2026-09-30",), names=names)]   # older: history only
    fast, fast_summaries = import_all(files)
    exact, exact_summaries = import_all(files, exact=True, monkeypatch=monkeypatch)
    assert fast == exact
    assert fast_summaries == exact_summaries
    assert sum(line.startswith("(") for line in fast) > 500   # assignments


def test_hash_collisions_never_mix_users(tmp_path, monkeypatch):
    names: list[str] = []
    files = [messy(tmp_path / "a.csv", 4, 120, names=names), messy(tmp_path / "b.csv", 5, 120, names=names,
                                                                    dates=("2026-11-30",))]
    expected, summaries = import_all(files)
    monkeypatch.setattr(graph_reports, "_key_hash", lambda text: 42)   # every name collides with every other
    assert import_all(files) == (expected, summaries)


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(upn, name="", products="", teams="", exchange="", assigned="2025-01-02", refresh="2026-10-31"):
    flags = ["True" if products else "False"] * 6
    acts = [exchange, "", "", "", "", teams]
    return ",".join([refresh, upn, name, "False", "", *flags, *acts, *([assigned if products else ""] * 6), products])


def test_a_user_repeated_in_one_file_ends_as_its_last_row(tmp_path, small_blocks):
    """As if the rows were written one by one: the last products win, activity keeps the latest dates."""
    first = [row("ann@x.example", "Ann", "OFFICE 365 E1", teams="2026-10-01")]
    filler = [row(f"u{i}@x.example", products="OFFICE 365 E1") for i in range(60)]   # the repeats fall in later batches
    path = write(tmp_path / "aud.csv", first + [row("ANN@x.example", "", "OFFICE 365 E3", exchange="2026-10-20")]
                 + filler + [row("Ann@X.example", "Ann Smith", "OFFICE 365 E3+EXCHANGE ONLINE (PLAN 1)",
                                 teams="2026-09-01", assigned="2025-03-04")])
    conn = connect(":memory:")
    plan = plan_import(conn, SYSTEM, [path], customer="tenant-x", customer_name="X")
    assert plan.ok and plan.files[0]._fast
    summary = run_import(conn, SYSTEM, plan)
    assert summary.files[0].added == 61 and summary.files[0].updated == 1
    users = conn.execute("SELECT id, upn, display_name FROM users WHERE lower(upn) = 'ann@x.example'").fetchall()
    assert [tuple(u)[1:] for u in users] == [("ann@x.example", "Ann Smith")]
    uid = users[0][0]
    assert sorted(tuple(r) for r in conn.execute("SELECT sku, assigned_date FROM assignments WHERE user_id = ?",
                                                  (uid,))) == [("ENTERPRISEPACK", "2025-03-04"),
                                                               ("EXCHANGESTANDARD", "2025-03-04")]
    assert dict(conn.execute("SELECT workload, last_activity FROM activity_rows WHERE user_id = ?", (uid,)).fetchall()) == {
        "exchange": "2026-10-20", "teams": "2026-10-01"}


def test_irregular_but_valid_files_take_the_exact_reader(tmp_path):
    rows = [row("ann@x.example", "Ann", "OFFICE 365 E3", teams="2026-10-01"),
            row("bob@x.example", "Bob", "", exchange="2026-10-05")]
    iso = write(tmp_path / "iso.csv", rows)
    us_dates = write(tmp_path / "us.csv", [r.replace("2026-10-01", "10/1/2026") for r in rows])
    blank_line = write(tmp_path / "blank.csv", [rows[0], "   ", rows[1]])
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-16")
    expected = None
    for path, fast in [(iso, True), (us_dates, False), (blank_line, False), (utf16, False)]:
        conn = connect(":memory:")
        plan = plan_import(conn, SYSTEM, [path], customer="tenant-x", customer_name="X")
        assert plan.ok, plan.errors
        assert plan.files[0]._fast is fast, path.name
        run_import(conn, SYSTEM, plan)
        data = [line for line in dump(conn) if not line.startswith('INSERT INTO "fig_')]
        expected = expected or data
        assert data == expected, path.name


def test_year_zero_is_named_by_line(tmp_path):
    path = write(tmp_path / "aud.csv", [row("ann@x.example", teams="0000-01-01")])
    plan = plan_import(connect(":memory:"), SYSTEM, [path], customer="tenant-x", customer_name="X")
    assert [(e.line, e.field) for e in plan.errors] == [(2, "Teams Last Activity Date")]


def test_the_checks_batches_are_kept_for_the_run_then_removed(tmp_path):
    path = messy(tmp_path / "a.csv", 6, 50)
    conn = connect(tmp_path / "a.db")
    plan = plan_import(conn, SYSTEM, [path], customer="tenant-m", customer_name="Messy")
    staged = Path(plan.files[0]._staged.path)
    assert staged.is_file() and staged.stat().st_size > 0
    run_import(conn, SYSTEM, plan)
    assert not staged.exists()
    # a plan that is dropped takes its file along
    plan = plan_import(connect(":memory:"), SYSTEM, [path], customer="tenant-m", customer_name="Messy")
    staged = Path(plan.files[0]._staged.path)
    del plan
    gc.collect()
    assert not staged.exists()


def test_the_run_reads_the_file_again_when_the_kept_batches_are_gone(tmp_path):
    path = messy(tmp_path / "a.csv", 7, 80)
    expected, _ = import_all([path])
    conn = connect(":memory:")
    plan = plan_import(conn, SYSTEM, [path], customer="tenant-m", customer_name="Messy")
    Path(plan.files[0]._staged.path).unlink()   # a temporary directory cleaned behind our back
    run_import(conn, SYSTEM, plan)
    assert dump(conn) == expected


def test_user_index_finds_the_oldest_user_of_a_hash():
    """TenantUsers against a dict of lists, with many equal hashes, growth and a reservation."""
    import numpy as np

    index = graph_reports.TenantUsers(connect(":memory:"), customer_id=1)
    rnd = np.random.default_rng(5)
    reference: dict[int, list[int]] = {}
    next_id = 1
    for step in range(40):
        if step == 10:
            index.reserve(30_000)
        size = int(rnd.integers(1, 150 if step % 3 == 0 else 2500))
        if step % 3 == 0:   # few distinct values: equal hashes within and across additions
            hashes = rnd.integers(-40, 40, size)
        else:
            hashes = rnd.integers(-2**63, 2**63 - 1, size, dtype=np.int64)
        hashes = hashes.astype(np.int64)
        ids = np.arange(next_id, next_id + size, dtype=np.int64)
        next_id += size
        probe = np.concatenate([hashes, rnd.integers(-2**63, 2**63 - 1, 50, dtype=np.int64)])
        assert index.lookup(probe).tolist() == [reference.get(h, [0])[0] for h in probe.tolist()]
        index.add(hashes, ids, matched=any(h in reference for h in hashes.tolist()))
        for h, i in zip(hashes.tolist(), ids.tolist()):
            reference.setdefault(h, []).append(i)
        for h in list(reference)[:30]:
            assert index.candidates(h) == reference[h]
    assert len(index) == next_id - 1


def test_a_file_with_two_report_dates_one_without_activity(tmp_path):
    """Rows of two report refresh dates: each row's activity under its own date; the date whose rows
    have no activity at all is kept, every workload of the report listed without a date."""
    path = write(tmp_path / "aud.csv", [
        row("ann@x.example", "Ann", "OFFICE 365 E1", exchange="2026-10-30", teams="2026-10-02"),
        row("bob@x.example", "Bob", "OFFICE 365 E1", teams="2026-10-15"),
        row("cy@x.example", "Cy", "OFFICE 365 E1", refresh="2026-11-30"),
        row("dee@x.example", "Dee", "", refresh="2026-11-30"),
    ])
    conn = connect(":memory:")
    plan = plan_import(conn, SYSTEM, [path], customer="tenant-x", customer_name="X")
    assert plan.ok and plan.files[0]._fast
    run_import(conn, SYSTEM, plan)
    got = sorted(tuple(r) for r in conn.execute(
        "SELECT u.upn, a.workload, a.report_date, a.last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id"))
    listed = [(upn, w, "2026-11-30", None) for upn in ("cy@x.example", "dee@x.example")
              for w in ("exchange", "sharepoint", "skype", "teams", "yammer")]
    assert got == sorted([("ann@x.example", "exchange", "2026-10-31", "2026-10-30"),
                          ("ann@x.example", "teams", "2026-10-31", "2026-10-02"),
                          ("bob@x.example", "teams", "2026-10-31", "2026-10-15")] + listed)
    # stored as a row per user and date: '' for listed without activity, NULL for not listed
    assert [tuple(r) for r in conn.execute(
        "SELECT a.exchange, a.teams, a.office FROM activity a JOIN users u ON u.id = a.user_id "
        "ORDER BY u.upn")] == [("2026-10-30", "2026-10-02", None), (None, "2026-10-15", None),
                               ("", "", None), ("", "", None)]
