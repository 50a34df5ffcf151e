"""The append-only audit log (the table refuses UPDATE and DELETE).

:func:`record` appends; :func:`list_entries` reads (Perm.VIEW_AUDIT). There is
deliberately no function that changes or removes an entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

# Actions written by adopt_tui.auth (other modules add e.g. "import", "export",
# "settings_change"); listed for filters and documentation.
LOGIN_SUCCESS = "login_success"
LOGIN_FAILURE = "login_failure"
LOCKOUT = "lockout"
UNLOCK = "unlock"
LOGOUT = "logout"
IDLE_LOCK = "idle_lock"
IDLE_UNLOCK = "idle_unlock"
ACCOUNT_CREATE = "account_create"
ACCOUNT_DISABLE = "account_disable"
ACCOUNT_ENABLE = "account_enable"
ROLE_CHANGE = "role_change"
PASSWORD_RESET = "password_reset"
PASSWORD_CHANGE = "password_change"
ASSIGN_CUSTOMERS = "assign_customers"
UNASSIGN_CUSTOMERS = "unassign_customers"
FORBIDDEN = "forbidden"

AUTH_ACTIONS: tuple[str, ...] = (
    LOGIN_SUCCESS, LOGIN_FAILURE, LOCKOUT, UNLOCK, LOGOUT, IDLE_LOCK, IDLE_UNLOCK,
    ACCOUNT_CREATE, ACCOUNT_DISABLE, ACCOUNT_ENABLE, ROLE_CHANGE, PASSWORD_RESET,
    PASSWORD_CHANGE, ASSIGN_CUSTOMERS, UNASSIGN_CUSTOMERS, FORBIDDEN,
)

DEFAULT_LIMIT = 1000


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def record(conn: sqlite3.Connection, user: str, action: str, *, target: str = "", detail: str = "", time: str | None = None) -> None:
    conn.execute(
        "INSERT INTO audit(time, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time or now_iso(), user, action, target, detail),
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str        # ISO UTC, YYYY-MM-DDTHH:MM:SS
    user: str
    action: str
    target: str
    detail: str


def _bound(value: str | date | datetime | None, *, upper: bool) -> tuple[str, str] | None:
    """(operator, ISO text) for a since/until bound; a bare date covers its whole day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return ("<=" if upper else ">="), value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        if "T" in text or " " in text:
            try:
                moment = datetime.fromisoformat(text.replace(" ", "T").removesuffix("Z"))
            except ValueError:
                raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS)") from None
            return _bound(moment, upper=upper)
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS)") from None
    if upper:
        return "<", (day + timedelta(days=1)).isoformat()
    return ">=", day.isoformat()


def list_entries(
    conn: sqlite3.Connection,
    principal,
    user: str | None = None,
    action: str | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[AuditEntry]:
    """Audit entries, newest first (Perm.VIEW_AUDIT; a refusal is audited).

    ``user`` and ``action`` match exactly; ``since``/``until`` take a date
    (``YYYY-MM-DD``, the whole day, inclusive) or a UTC time. ``limit=None``
    returns every matching entry.
    """
    from adopt_tui.auth.permissions import Perm

    principal.require(Perm.VIEW_AUDIT, conn, action="view the audit log")
    where, params = [], []
    if user:
        where.append("user = ?")
        params.append(user)
    if action:
        where.append("action = ?")
        params.append(action)
    for value, upper in ((since, False), (until, True)):
        bound = _bound(value, upper=upper)
        if bound:
            where.append(f"time {bound[0]} ?")
            params.append(bound[1])
    sql = "SELECT id, time, user, action, target, detail FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY time DESC, id DESC"
    if limit is not None:
        if int(limit) < 1:
            raise ValueError("the limit must be at least 1")
        sql += " LIMIT ? OFFSET ?"
        params += [int(limit), max(int(offset), 0)]
    return [AuditEntry(*row) for row in conn.execute(sql, params)]


def list_actions(conn: sqlite3.Connection, principal) -> list[str]:
    """The distinct actions in the log, for a filter (Perm.VIEW_AUDIT)."""
    from adopt_tui.auth.permissions import Perm

    principal.require(Perm.VIEW_AUDIT, conn, action="view the audit log")
    return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit ORDER BY action")]
