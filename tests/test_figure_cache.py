"""The figure caches (adopt_tui.metrics.cache): a cached result is the live result.

Every check compares what the cached path returns with the same function
computed from the figures (``cache=False``), before and after each kind of
change that the cache depends on, whoever makes it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat

import pandas as pd
import pytest

from adopt_tui.auth import accounts
from adopt_tui.auth.permissions import SYSTEM, Principal, Role
from adopt_tui.importers.bundle import load_bundle
from adopt_tui.metrics import cache, read
from adopt_tui.metrics.compute import recompute, store_imported_figures
from adopt_tui.metrics.document import metrics_json
from adopt_tui.services.settings import change_settings
from adopt_tui.store import connect, settings
from adopt_tui.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import SMALL, TENANT_A, TENANT_B, TENANT_C, TENANT_D

AGENT = Principal("agent", Role.ADMIN_AGENT)      # sees every customer
MARIA = Principal("maria", Role.SALES_AGENT)      # sees her customers only
PRINCIPALS = (SYSTEM, AGENT, MARIA)


def cid(conn, tenant):
    return conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (tenant,)).fetchone()[0]


def blobs(conn) -> set[tuple[str, str]]:
    return {tuple(r) for r in conn.execute("SELECT scope, kind FROM cache_blob")}


def rows(conn, table: str = "cache_customer") -> set[tuple[str, int]]:
    if table == "cache_doc":
        return {(s, r[0]) for s in ("all", "own") for r in conn.execute(f"SELECT customer_id FROM cache_doc_{s}")}
    return {tuple(r) for r in conn.execute(f"SELECT scope, customer_id FROM {table}")}


def customers(conn) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM customers")}


EVERYTHING = {(s, k) for s in ("all", "own") for k in ("list", "order", "portfolio", "summary", "trend")}


def assert_cached_is_live(conn, principal=SYSTEM, scope="all", as_of=None):
    """Every cached read equals its live computation (twice: filling, then from the cache)."""
    live_table = read.customer_table(conn, principal, scope, as_of, cache=False)
    live_portfolio = read.portfolio(conn, principal, scope, as_of, cache=False)
    live_doc = read.metrics_document(conn, principal, scope, as_of, cache=False)
    for _ in range(2):
        pd.testing.assert_frame_equal(read.customer_table(conn, principal, scope, as_of), live_table)
        assert read.portfolio(conn, principal, scope, as_of) == live_portfolio
        lean = read.portfolio(conn, principal, scope, as_of, with_trend=False)
        assert lean.trend == [] and lean.totals == live_portfolio.totals
        assert read.portfolio_trend(conn, principal, scope, as_of) == live_portfolio.trend
        parts = metrics_json(conn, principal, scope, as_of)
        assert json.loads(parts.text()) == live_doc
        # the very text json.dumps writes, compact (piped) and indented (a terminal, the export)
        assert parts.text() == json.dumps(live_doc, ensure_ascii=False)
        assert parts.text(indent=2) == json.dumps(live_doc, ensure_ascii=False, indent=2)
        assert read.metrics_document(conn, principal, scope, as_of) == live_doc
    return live_table, live_portfolio, live_doc


# --------------------------------------------------------------------------- equal to the live figures


@pytest.mark.parametrize("scope", ["all", "own"])
@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.username)
def test_cached_equals_live_on_the_small_fixture(small_conn, principal, scope):
    assert_cached_is_live(small_conn, principal, scope)


@pytest.mark.parametrize("scope", ["all", "own"])
@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.username)
def test_cached_equals_live_on_the_demo(demo_conn, principal, scope):
    table, p, doc = assert_cached_is_live(demo_conn, principal, scope)
    assert len(table) and p.trend and doc["customers"]


def test_subsets_and_other_dates_are_computed_like_before(small_conn):
    ids = [cid(small_conn, TENANT_A), cid(small_conn, TENANT_C)]
    for principal in PRINCIPALS:
        live = read.metrics_document(small_conn, principal, "own", customer_ids=ids, cache=False)
        assert json.loads(metrics_json(small_conn, principal, "own", customer_ids=ids).text()) == live
        assert read.metrics_document(small_conn, principal, "own", customer_ids=ids) == live
    # an older as-of date, and one past the latest: the live path, unchanged
    for as_of in ("2026-09-30", "2030-01-01"):
        assert_cached_is_live(small_conn, SYSTEM, "all", as_of)
    assert read.portfolio(small_conn, SYSTEM, as_of="2030-01-01").as_of == "2030-01-01"


def test_the_load_fills_the_cache(small_conn):
    assert blobs(small_conn) == EVERYTHING
    everyone = {(s, c) for s in ("all", "own") for c in customers(small_conn)}
    assert rows(small_conn) == everyone and rows(small_conn, "cache_doc") == everyone
    fmt = small_conn.execute("SELECT value FROM cache_meta WHERE key = 'format'").fetchone()[0]
    assert fmt == cache.FORMAT


def test_reads_come_from_the_cache(small_conn):
    """Proof that the cached entries are what the reads return (edited behind the triggers' back)."""
    a = cid(small_conn, TENANT_A)
    small_conn.execute("UPDATE cache_customer SET name = 'Edited In Cache' WHERE customer_id = ?", (a,))
    small_conn.execute("UPDATE cache_doc_all SET doc = json_set(doc, '$.name', 'Edited Doc') WHERE customer_id = ?", (a,))
    small_conn.execute("UPDATE cache_blob SET data = json_set(data, '$.customers', 99) WHERE kind = 'summary'")
    assert "Edited In Cache" in set(read.customer_table(small_conn, MARIA).name)  # per-customer rows
    assert "Edited In Cache" not in set(read.customer_table(small_conn, SYSTEM).name)  # the list frame
    doc = json.loads(metrics_json(small_conn, SYSTEM).text())
    assert doc["portfolio"]["customers"] == 99
    assert "Edited Doc" in {c["name"] for c in doc["customers"]}
    assert read.metrics_document(small_conn, SYSTEM)["portfolio"]["customers"] == 99


# --------------------------------------------------------------------------- sales agents


def test_sales_agents_see_only_their_customers(small_conn):
    expected = {cid(small_conn, TENANT_A), cid(small_conn, TENANT_C)}
    for _ in range(2):
        assert set(read.customer_table(small_conn, MARIA).id) == expected
        doc = json.loads(metrics_json(small_conn, MARIA).text())
        assert {c["tenant_id"] for c in doc["customers"]} == {TENANT_A, TENANT_C}
        assert doc["portfolio"]["customers"] == 2
        assert read.portfolio(small_conn, MARIA).totals["customers"] == 2
    # asking for another agent's customer by id gives nothing
    assert json.loads(metrics_json(small_conn, MARIA, customer_ids=[cid(small_conn, TENANT_D)]).text())[
        "customers"] == []
    nobody = Principal("nobody", Role.SALES_AGENT)
    assert read.customer_table(small_conn, nobody).empty
    assert json.loads(metrics_json(small_conn, nobody).text())["customers"] == []


# --------------------------------------------------------------------------- invalidation


@pytest.fixture
def admin(small_conn):
    return accounts.login(small_conn, "admin", "admin-demo-password")


def test_assigning_a_customer_to_an_agent(small_conn, admin):
    d = cid(small_conn, TENANT_D)
    before = rows(small_conn)
    accounts.assign_customers(small_conn, admin, "maria", [TENANT_D])
    assert blobs(small_conn) == set() and rows(small_conn) == before - {("all", d), ("own", d)}
    assert d in set(read.customer_table(small_conn, MARIA).id)
    for principal in PRINCIPALS:
        for scope in ("all", "own"):
            assert_cached_is_live(small_conn, principal, scope)
    assert "maria" in read.customer_table(small_conn, SYSTEM).set_index("id").agents[d]
    accounts.unassign_customers(small_conn, admin, "maria", [TENANT_D])
    assert d not in set(read.customer_table(small_conn, MARIA).id)
    assert_cached_is_live(small_conn, MARIA)


def test_renaming_a_customer_by_import(small_conn, tmp_path):
    bundle = tmp_path / "rename"
    bundle.mkdir()
    text = (SMALL / "customers.csv").read_text(encoding="utf-8").replace("Bravo Bakery", "Bravo Bakeries")
    (bundle / "customers.csv").write_text(text, encoding="utf-8")
    b = cid(small_conn, TENANT_B)
    load_bundle(small_conn, bundle, SYSTEM, audit_action=False)
    assert ("all", b) not in rows(small_conn) and ("all", b) not in rows(small_conn, "cache_doc")
    for principal in PRINCIPALS:
        assert_cached_is_live(small_conn, principal)
    assert "Bravo Bakeries" in set(read.customer_table(small_conn, SYSTEM).name)
    assert "Bravo Bakeries" in {c["name"] for c in read.metrics_document(small_conn, AGENT)["customers"]}


def test_changing_a_subscription(small_conn):
    # a partner subscription now ends within the renewal window: only the whole-portfolio pieces change
    before = rows(small_conn)
    small_conn.execute(
        "UPDATE subscriptions SET commitment_end = '2026-11-05' WHERE ext_id = 'A-S4'"
    )
    small_conn.execute("UPDATE subscriptions SET channel = 'partner' WHERE ext_id = 'A-S4'")
    assert blobs(small_conn) == set() and rows(small_conn) == before
    assert_cached_is_live(small_conn, SYSTEM)
    assert len(read.portfolio(small_conn, SYSTEM).renewals) == 2
    # through an import, which recomputes the customer
    small_conn.execute("DELETE FROM subscriptions WHERE ext_id = 'A-S2'")
    recompute(small_conn, [cid(small_conn, TENANT_A)])
    for principal in PRINCIPALS:
        assert_cached_is_live(small_conn, principal, "own")


def test_changing_a_threshold(small_conn, admin):
    right = set(read.customer_table(small_conn, SYSTEM).query("right_size").name)
    change = change_settings(small_conn, admin, {"right_size_min_seats": 0, "right_size_unassigned_pct": 0})
    assert change.recomputed
    assert blobs(small_conn) == EVERYTHING  # the recompute of every customer warmed everything again
    table, p, _ = assert_cached_is_live(small_conn, SYSTEM)
    assert set(table.query("right_size").name) > right and p.totals["right_size"] == 3
    # the renewal window, written by anyone, without a recompute
    settings.put(small_conn, "renewal_window_days", 366)
    assert blobs(small_conn) == set()
    _, p, _ = assert_cached_is_live(small_conn, AGENT)
    assert len(p.renewals) > 1


def test_recompute(small_conn, monkeypatch):
    a = cid(small_conn, TENANT_A)
    monkeypatch.setattr(cache, "WHOLE_SHARE", 0.5)  # one customer of four is a small change here
    recompute(small_conn, [a])  # a small change: the customer's rows again, the rest when read
    assert ("all", a) in rows(small_conn) and ("own", a) in rows(small_conn, "cache_doc")
    assert blobs(small_conn) == set()
    for principal in PRINCIPALS:
        assert_cached_is_live(small_conn, principal)
    recompute(small_conn)
    assert blobs(small_conn) == EVERYTHING
    assert_cached_is_live(small_conn, SYSTEM, "own")
    recompute(small_conn, warm=False)
    assert blobs(small_conn) == set() and rows(small_conn) == set()
    assert_cached_is_live(small_conn, MARIA, "own")


def test_product_names_deleted_customers_and_a_later_date(small_conn):
    small_conn.execute("UPDATE products SET name = 'Renamed E3' WHERE sku = 'ENTERPRISEPACK'")
    assert rows(small_conn, "cache_doc") == set() and rows(small_conn)
    doc = assert_cached_is_live(small_conn, SYSTEM)[2]
    assert "Renamed E3" in {p["name"] for c in doc["customers"] for p in c["products"]}
    small_conn.execute("DELETE FROM customers WHERE tenant_id = ?", (TENANT_B,))
    assert_cached_is_live(small_conn, AGENT)
    # figures for a later date move the default as-of date
    c = cid(small_conn, TENANT_C)
    store_imported_figures(
        small_conn,
        pd.DataFrame([(c, "2026-11-30", "all", "ENTERPRISEPACK", 9, 9)],
                     columns=["customer_id", "as_of", "scope", "sku", "sold", "assigned"]),
        pd.DataFrame([(c, "2026-11-30", "all", "exchange", 9, 8)],
                     columns=["customer_id", "as_of", "scope", "workload", "entitled", "active"]),
    )
    table, p, doc = assert_cached_is_live(small_conn, SYSTEM)
    assert p.as_of == doc["as_of"] == "2026-11-30"
    assert_cached_is_live(small_conn, SYSTEM, "own")
    assert_cached_is_live(small_conn, MARIA)


def test_a_cache_in_another_format_is_ignored_and_rebuilt(small_conn):
    small_conn.execute("UPDATE cache_meta SET value = 'some other version' WHERE key = 'format'")
    small_conn.execute("UPDATE cache_customer SET name = 'stale'")
    small_conn.execute("UPDATE cache_blob SET data = 'not what it seems'")
    assert_cached_is_live(small_conn, SYSTEM)
    assert_cached_is_live(small_conn, MARIA, "own")
    assert small_conn.execute("SELECT value FROM cache_meta WHERE key = 'format'").fetchone()[0] == cache.FORMAT
    assert "stale" not in {r[0] for r in small_conn.execute("SELECT name FROM cache_customer")}


# --------------------------------------------------------------------------- storing on read is best effort


def _empty_cache(conn):
    for table in ("cache_customer", "cache_doc_all", "cache_doc_own", "cache_blob"):
        conn.execute(f"DELETE FROM {table}")


def test_read_only_database_computes_live(small_db):
    conn = connect(small_db)
    _empty_cache(conn)
    expected = {p.username: read.metrics_document(conn, p, cache=False) for p in PRINCIPALS}
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    uri = sqlite3.connect(f"file:{small_db}?mode=ro", uri=True, isolation_level=None)
    uri.row_factory = sqlite3.Row
    only = connect(small_db)
    only.execute("PRAGMA query_only = 1")
    try:
        for ro in (uri, only):
            for principal in PRINCIPALS:
                assert_cached_is_live(ro, principal)
                assert json.loads(metrics_json(ro, principal).text()) == expected[principal.username]
            assert not ro.in_transaction
            assert blobs(ro) == set() and rows(ro) == set()
    finally:
        uri.close()
        only.close()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only files")
def test_read_only_file(small_db):
    conn = connect(small_db)
    _empty_cache(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    small_db.chmod(stat.S_IRUSR)
    try:
        conn = connect(small_db)
        try:
            assert_cached_is_live(conn, SYSTEM)
            assert blobs(conn) == set()
        finally:
            conn.close()
    finally:
        small_db.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_busy_writer_is_not_waited_for(small_db):
    conn = connect(small_db)
    _empty_cache(conn)
    writer = connect(small_db)
    writer.execute("BEGIN IMMEDIATE")
    try:
        for principal in PRINCIPALS:
            assert_cached_is_live(conn, principal)
        assert blobs(conn) == set() and rows(conn) == set()
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000  # restored afterwards
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    read.customer_table(conn, SYSTEM)
    assert ("all", "list") in blobs(conn)
    conn.close()


def test_what_is_stored_comes_from_the_snapshot_it_was_computed_in(small_db):
    """A change committed by someone else while a read computes: the read's result is not stored."""
    conn = connect(small_db)
    _empty_cache(conn)
    other = connect(small_db)
    with cache.snapshot(conn):
        stale = read.customer_table(conn, SYSTEM)
        other.execute("UPDATE customers SET name = 'Renamed Meanwhile' WHERE tenant_id = ?", (TENANT_A,))
    assert "Renamed Meanwhile" not in set(stale.name)
    assert blobs(conn) == set() and rows(conn) == set()
    assert "Renamed Meanwhile" in set(read.customer_table(conn, SYSTEM).name)
    assert_cached_is_live(conn, SYSTEM)
    other.close()
    conn.close()


# --------------------------------------------------------------------------- the migration


def test_an_existing_database_is_upgraded(small_db, tmp_path):
    """A database at the version before the cache (with data) gets the cache tables and triggers."""
    old = tmp_path / "old.db"
    shutil.copyfile(small_db, old)
    raw = sqlite3.connect(old)
    version = MIGRATIONS.index(MIGRATION_OF_THE_CACHE())
    for name, kind in raw.execute(
        "SELECT name, type FROM sqlite_master WHERE (type = 'table' AND name LIKE 'cache\\_%' ESCAPE '\\') "
        "OR (type = 'trigger' AND name LIKE 'cache\\_drop\\_%' ESCAPE '\\')"
    ).fetchall():
        raw.execute(f"DROP {kind.upper()} {name}")
    # ... and the activity as rows, as the versions before 5 kept it
    raw.execute("CREATE TABLE activity_old (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, "
                "workload TEXT NOT NULL, report_date TEXT NOT NULL, last_activity TEXT, "
                "PRIMARY KEY (user_id, workload, report_date)) WITHOUT ROWID")
    raw.execute("INSERT INTO activity_old SELECT * FROM activity_rows")
    raw.execute("DROP VIEW activity_rows")
    raw.execute("DROP TABLE activity")
    raw.execute("ALTER TABLE activity_old RENAME TO activity")
    raw.execute(f"PRAGMA user_version = {version}")
    raw.commit()
    raw.close()
    conn = connect(old)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {f"cache_drop_{t}_insert" for t in ("fig_customer", "customer_agents", "products")} <= triggers
        assert blobs(conn) == set() and rows(conn) == set()
        for principal in PRINCIPALS:
            assert_cached_is_live(conn, principal)
        assert ("all", "list") in blobs(conn)
        cache.warm(conn)
        assert {("all", "trend"), ("own", "summary")} <= blobs(conn)
        assert_cached_is_live(conn, SYSTEM, "own")
    finally:
        conn.close()


def MIGRATION_OF_THE_CACHE() -> str:
    from adopt_tui.store import schema

    return schema.MIGRATION_FIGURE_CACHE


def test_no_cache_tables_at_all(small_db):
    """A database opened without migrating (no cache tables): reads compute live."""
    conn = connect(small_db)
    for name, kind in conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE 'cache%'"
    ).fetchall():
        if kind == "trigger":
            conn.execute(f"DROP TRIGGER {name}")
    for table in ("cache_customer", "cache_doc_all", "cache_doc_own", "cache_blob", "cache_meta"):
        conn.execute(f"DROP TABLE {table}")
    for principal in PRINCIPALS:
        assert_cached_is_live(conn, principal)
    cache.warm(conn)
    recompute(conn)
    assert_cached_is_live(conn, SYSTEM, "own")
    conn.close()


def test_suspending_the_triggers_for_a_bulk_write(small_conn):
    def triggers():
        return small_conn.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cache_drop_%'").fetchone()[0]

    count = triggers()
    with cache.suspended(small_conn):  # outside a transaction: nothing happens
        assert triggers() == count and blobs(small_conn) == EVERYTHING
    small_conn.execute("BEGIN IMMEDIATE")
    with cache.suspended(small_conn):
        assert triggers() == 0 and blobs(small_conn) == set() and rows(small_conn) == set()
        recompute(small_conn, warm=False)
    assert triggers() == count
    small_conn.execute("ROLLBACK")
    assert triggers() == count and blobs(small_conn) == EVERYTHING
    small_conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(ZeroDivisionError):
        with cache.suspended(small_conn):
            1 / 0
    assert triggers() == count
    small_conn.execute("COMMIT")
    assert rows(small_conn) == set()  # emptied for good: the triggers were not there to keep it right
    assert_cached_is_live(small_conn, MARIA)
