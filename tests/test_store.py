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


def test_migration_from_version_1_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO customers(tenant_id, name) VALUES ('t-1', 'Old Customer')")
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
