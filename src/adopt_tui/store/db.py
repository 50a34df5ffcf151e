"""Opening the database: pragmas, file mode, versioned migrations."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from adopt_tui.errors import AdoptError
from adopt_tui.store.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
# Page size of a new database (SQLite's default is 4096; an existing database keeps its own: in
# WAL mode it is fixed once the first table exists). Every page a write transaction changes is
# written twice, to the WAL at commit and into the database at the checkpoint that follows, one
# system call each (two for a WAL frame): a 1,000,000-row report import writes 270 MB, and with
# 16 KiB pages its commit and checkpoint take about half the CPU they take with 4 KiB pages.
PAGE_SIZE = 16384


class DatabaseError(AdoptError):
    """The database cannot be opened or used."""


def _secure_create(path: Path) -> None:
    """Create the database file readable by its owner only (mode 0600)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)


def connect(path: str | Path, *, migrate: bool = True, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and bring it up to date.

    Raises :class:`DatabaseError` with a plain message for a file that is not
    a database or that was made by a newer version of adopt-tui.
    """
    path = Path(path)
    new = True
    if str(path) != ":memory:":
        new = not path.exists() or (path.is_file() and path.stat().st_size == 0)
        if path.is_dir():
            raise DatabaseError(f"{path}: is a directory, not a database file")
        try:
            _secure_create(path)
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot create the database: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), check_same_thread=check_same_thread, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: cannot open the database: {exc}") from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if new:  # only before the first write; fixed for the life of a WAL database
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(f"{path}: not an adopt-tui database ({exc})") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise DatabaseError(
            f"{path}: this database was made by a newer version of adopt-tui "
            f"(schema version {version}; this version knows up to {SCHEMA_VERSION}). "
            "Upgrade adopt-tui to open it."
        )
    if migrate and version < SCHEMA_VERSION:
        try:
            migrate_db(conn, version)
        except sqlite3.Error as exc:  # e.g. migration 5 meeting a workload it has no column for
            conn.close()
            raise DatabaseError(f"{path}: cannot upgrade the database from version {version} to {SCHEMA_VERSION} "
                                f"({exc}); it was left as it was") from None
    return conn


def migrate_db(conn: sqlite3.Connection, from_version: int, to_version: int = SCHEMA_VERSION) -> None:
    """Apply migrations ``from_version`` .. ``to_version`` in one transaction."""
    from adopt_tui.store import settings  # local: settings imports this module

    conn.execute("BEGIN IMMEDIATE")
    try:
        for index in range(from_version, to_version):
            for statement in _statements(MIGRATIONS[index]):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {to_version}")
        if to_version == SCHEMA_VERSION:
            settings.seed_defaults(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their bodies)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``; roll back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]
