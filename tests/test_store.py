"""The store: migrations, pragmas, file mode, refusing a newer database."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from adopt_tui.store import DatabaseError, connect
from adopt_tui.store.db import _statements
from adopt_tui.store.schema import MIGRATIONS, SCHEMA_VERSION


def test_new_database_is_current_wal_private(tmp_path):
    path = tmp_path / "new.db"
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # thresholds are seeded as settings
    assert conn.execute("SELECT value FROM settings WHERE key = 'low_adoption_usage_pct'").fetchone()[0] == "40.0"


def _database_at(path, version: int, *pragmas: str) -> sqlite3.Connection:
    """A database as schema ``version`` left it (``pragmas`` first, e.g. an old page size), with one
    customer (id 1, 'Old Customer'); the caller adds rows and commits."""
    raw = sqlite3.connect(path)
    for pragma in pragmas:
        raw.execute(pragma)
    for script in MIGRATIONS[:version]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {version}")
    raw.execute("INSERT INTO customers(id, tenant_id, name) VALUES (1, 't-1', 'Old Customer')")
    return raw


def test_page_size_is_set_for_new_databases_only(tmp_path):
    from adopt_tui.store.db import PAGE_SIZE

    assert PAGE_SIZE == 16384
    conn = connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    conn.close()
    assert connect(tmp_path / "new.db").execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE  # reopened
    empty = tmp_path / "empty.db"
    empty.touch()   # an empty file is a new database too
    assert connect(empty).execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    # a database made with SQLite's default page size keeps it, data and all
    old = tmp_path / "old.db"
    raw = _database_at(old, 1, "PRAGMA page_size = 4096", "PRAGMA journal_mode = WAL")
    raw.commit()
    raw.close()
    conn = connect(old)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert conn.execute("SELECT name FROM customers").fetchone()[0] == "Old Customer"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_migration_from_version_1_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    raw = _database_at(path, 1)
    raw.commit()
    raw.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT name FROM customers").fetchone()[0] == "Old Customer"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"accounts", "audit", "imports"} <= tables


def test_newer_database_is_refused_clearly(tmp_path):
    path = tmp_path / "future.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(DatabaseError, match="newer version of adopt-tui"):
        connect(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not an adopt-tui database"):
        connect(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(DatabaseError, match="is a directory"):
        connect(tmp_path)


def test_foreign_keys_enforced(tmp_path):
    conn = connect(tmp_path / "fk.db")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users(customer_id, upn) VALUES (999, 'x@example.com')")


def _v2_database(path):
    """A database made by the version 2 schema, with a user, assignments and activity."""
    raw = _database_at(path, 2, "PRAGMA foreign_keys = ON")
    raw.execute("INSERT INTO products(sku, name, family, workloads) VALUES ('ENTERPRISEPACK', 'Office 365 E3', "
                "'Office 365', 'exchange,sharepoint')")
    raw.execute("INSERT INTO subscriptions(id, customer_id, ext_id, sku, quantity, status, channel) "
                "VALUES (7, 1, 's-1', 'ENTERPRISEPACK', 10, 'active', 'partner')")
    raw.execute("INSERT INTO users(id, customer_id, upn) VALUES (5, 1, 'ann@old.example')")
    raw.execute("INSERT INTO users(id, customer_id, upn) VALUES (6, 1, 'bob@old.example')")
    raw.executemany("INSERT INTO assignments(id, user_id, sku, subscription_id, assigned_date, state) "
                    "VALUES (?, ?, 'ENTERPRISEPACK', ?, ?, ?)",
                    [(11, 5, 7, "2026-01-02", "entitled"), (12, 6, None, None, "suspended")])
    raw.executemany("INSERT INTO activity(user_id, workload, report_date, last_activity) VALUES (?, ?, ?, ?)",
                    [(5, "exchange", "2026-10-31", "2026-10-30"), (6, "teams", "2026-10-31", None)])
    raw.commit()
    raw.close()


def test_migration_from_version_2_keeps_assignments_and_activity(tmp_path):
    path = tmp_path / "v2.db"
    _v2_database(path)
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [tuple(r) for r in conn.execute("SELECT * FROM assignments ORDER BY id")] == [
        (11, 5, "ENTERPRISEPACK", 7, "2026-01-02", "entitled"), (12, 6, "ENTERPRISEPACK", None, None, "suspended")]
    assert [tuple(r) for r in conn.execute("SELECT * FROM activity_rows ORDER BY user_id")] == [
        (5, "exchange", "2026-10-31", "2026-10-30"), (6, "teams", "2026-10-31", None)]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not indexes & {"activity_report_date", "assignments_user"}
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # the rebuilt table keeps its rules: states, uniqueness, and the keys' actions
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO assignments(user_id, sku, state) VALUES (5, 'ENTERPRISEPACK', 'borrowed')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO assignments(user_id, sku, subscription_id, state) "
                     "VALUES (5, 'ENTERPRISEPACK', 7, 'entitled')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO assignments(user_id, sku, state) VALUES (99, 'ENTERPRISEPACK', 'entitled')")
    conn.execute("DELETE FROM subscriptions WHERE id = 7")
    assert conn.execute("SELECT subscription_id FROM assignments WHERE id = 11").fetchone()[0] is None
    conn.execute("DELETE FROM users WHERE id = 6")
    assert [r[0] for r in conn.execute("SELECT id FROM assignments")] == [11]
    # lookups by user still use an index (the unique one)
    plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN SELECT * FROM assignments WHERE user_id = 5"))
    assert "USING INDEX" in plan


def test_migration_5_turns_activity_rows_into_a_row_per_user_and_date(tmp_path):
    # a version 4 database with activity rows of several workloads, dates and users, one listed
    # without activity (NULL), converted: a row per user and report date, a column per workload
    # ('' for listed without activity), the same rows through activity_rows, the same figures
    path = tmp_path / "v4.db"
    raw = _database_at(path, 4)
    raw.executemany("INSERT INTO users(id, customer_id, upn) VALUES (?, 1, ?)",
                    [(5, "ann@old.example"), (6, "bob@old.example"), (7, "cy@old.example")])
    old_rows = [(5, "exchange", "2026-09-30", "2026-09-12"), (5, "exchange", "2026-10-31", "2026-10-30"),
                (5, "teams", "2026-10-31", "2026-10-02"), (5, "dyn_sales", "2026-10-31", "2026-08-01"),
                (6, "teams", "2026-10-31", None), (6, "yammer", "2026-10-31", "2026-10-31")]
    raw.executemany("INSERT INTO activity(user_id, workload, report_date, last_activity) VALUES (?, ?, ?, ?)", old_rows)
    raw.commit()
    raw.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    wide = {(r[0], r[1]): {k: r[k] for k in r.keys()[2:] if r[k] is not None}
            for r in conn.execute("SELECT * FROM activity ORDER BY user_id, report_date")}
    assert wide == {
        (5, "2026-09-30"): {"exchange": "2026-09-12"},
        (5, "2026-10-31"): {"exchange": "2026-10-30", "teams": "2026-10-02", "dyn_sales": "2026-08-01"},
        (6, "2026-10-31"): {"teams": "", "yammer": "2026-10-31"},
    }
    assert sorted(tuple(r) for r in conn.execute("SELECT * FROM activity_rows")) == sorted(old_rows)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # the later date wins, as before; a workload listed without activity takes a date
    from adopt_tui.store import writes

    writes.upsert_activity(conn, [(5, "exchange", "2026-10-31", "2026-10-01"), (6, "teams", "2026-10-31", "2026-10-20"),
                                  (7, "office", "2026-10-31", None), (5, "teams", "2026-10-31", None)])
    assert sorted(tuple(r) for r in conn.execute("SELECT * FROM activity_rows WHERE report_date = '2026-10-31'")) == [
        (5, "dyn_sales", "2026-10-31", "2026-08-01"), (5, "exchange", "2026-10-31", "2026-10-30"),
        (5, "teams", "2026-10-31", "2026-10-02"), (6, "teams", "2026-10-31", "2026-10-20"),
        (6, "yammer", "2026-10-31", "2026-10-31"), (7, "office", "2026-10-31", None)]
    with pytest.raises(ValueError):
        writes.upsert_activity(conn, [(5, "exchange'; DROP TABLE users; --", "2026-10-31", None)])


def test_migration_5_refuses_an_unknown_workload(tmp_path):
    path = tmp_path / "v4.db"
    raw = _database_at(path, 4)
    raw.execute("INSERT INTO users(id, customer_id, upn) VALUES (5, 1, 'ann@old.example')")
    raw.execute("INSERT INTO activity VALUES (5, 'telepathy', '2026-10-31', '2026-10-30')")
    raw.commit()
    raw.close()
    with pytest.raises(DatabaseError, match=r"cannot upgrade the database from version 4 .*CHECK constraint failed"
                                            r".*left as it was"):
        connect(path)
    raw = sqlite3.connect(path)   # nothing changed: still version 4, the row still there
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 4
    assert raw.execute("SELECT * FROM activity").fetchall() == [(5, "telepathy", "2026-10-31", "2026-10-30")]


def test_activity_has_a_column_for_every_catalogue_workload():
    """Activity stores a workload's last date in a column of its own (migration 5): a workload added to the
    catalogue needs a migration adding its column, or its activity could not be stored."""
    from adopt_tui.catalogue import WORKLOADS
    from adopt_tui.store.schema import ACTIVITY_WORKLOADS

    assert sorted(ACTIVITY_WORKLOADS) == sorted(WORKLOADS)
