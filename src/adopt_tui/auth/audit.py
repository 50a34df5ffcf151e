"""The append-only audit log (the table refuses UPDATE and DELETE)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def record(conn: sqlite3.Connection, user: str, action: str, *, target: str = "", detail: str = "", time: str | None = None) -> None:
    conn.execute(
        "INSERT INTO audit(time, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time or now_iso(), user, action, target, detail),
    )
