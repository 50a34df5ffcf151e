"""Accounts: login with lockout, forced password change, account management.

Every management function takes the acting :class:`Principal` first, checks
``Perm.MANAGE_USERS`` (and ``Perm.MANAGE_GLOBAL_ADMINS`` when the target is or
would become a Global admin), and audits both the change and a refusal.

Rules enforced here, not in the screens:

* nobody can disable or demote the last active (not disabled) Global admin;
* nobody can disable their own account;
* a User management admin cannot create, change, reset, disable, enable or
  unlock a Global admin, nor grant that role;
* a principal whose account has since been disabled or given another role may
  not manage accounts any more (it must sign in again).

Times are ISO ``YYYY-MM-DDTHH:MM:SS`` UTC text; every function that depends
on the time takes an injectable ``now`` (a datetime; naive means UTC).
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

from adopt_tui.auth import audit, passwords
from adopt_tui.auth.permissions import Perm, Principal, Role
from adopt_tui.errors import AdoptError, LoginFailed, NotFound, PermissionDenied
from adopt_tui.store import settings
from adopt_tui.store.db import transaction

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
RESERVED_NAMES = frozenset({"system"})
MAX_DISPLAY_NAME = 100

# Fixed passwords of the demo database (documented; the demo holds made-up data).
DEMO_ACCOUNTS: tuple[tuple[str, Role, str, str], ...] = (
    ("admin", Role.GLOBAL_ADMIN, "Demo Global Admin", "admin-demo-password"),
    ("useradmin", Role.USER_ADMIN, "Demo User Admin", "useradmin-demo-password"),
    ("agent", Role.ADMIN_AGENT, "Demo Admin Agent", "agent-demo-password"),
    ("maria", Role.SALES_AGENT, "Maria (sales agent)", "maria-demo-password"),
)


# --------------------------------------------------------------------------- time

def _utcnow(now: datetime | None = None) -> datetime:
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- helpers

@contextmanager
def _tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction, or the caller's when one is already open."""
    with (nullcontext(conn) if conn.in_transaction else transaction(conn)):
        yield conn


def _role(value: Role | str) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role(value)
    except ValueError:
        return Role.from_cli(value)


def _row(conn: sqlite3.Connection, username: str) -> sqlite3.Row | None:
    if not isinstance(username, str) or not username:
        return None
    return conn.execute("SELECT * FROM accounts WHERE username = ?", (username,)).fetchone()


def _require_row(conn: sqlite3.Connection, username: str) -> sqlite3.Row:
    row = _row(conn, username)
    if row is None:
        raise NotFound(f"no account named {username!r}")
    return row


def _principal(row: sqlite3.Row) -> Principal:
    return Principal(
        username=row["username"], role=Role(row["role"]), display_name=row["display_name"],
        must_change_password=bool(row["must_change_password"]),
    )


def _safe_name(text: object) -> str:
    """An attempted user name as it may go into the audit log (printable, short)."""
    text = text if isinstance(text, str) else repr(text)
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned[:64] + ("..." if len(cleaned) > 64 else "")


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        raise ValueError(
            f"{_safe_name(username)!r} is not a valid user name: use 1 to 64 letters, digits, "
            "'.', '_', '-' or '@', starting with a letter or digit"
        )
    if username.lower() in RESERVED_NAMES:
        raise ValueError(f"{username!r} is reserved; choose another user name")
    return username


def validate_display_name(display_name: str | None) -> str:
    text = (display_name or "").strip()
    if len(text) > MAX_DISPLAY_NAME:
        raise ValueError(f"the display name must be at most {MAX_DISPLAY_NAME} characters")
    if not text.isprintable():
        raise ValueError("the display name must not contain control characters")
    return text


class _Refusal(Exception):
    """Raised inside a transaction; audited after the rollback, then PermissionDenied."""


def _check_principal(conn: sqlite3.Connection, principal: Principal) -> None:
    """Refuse a principal whose account was disabled or changed role since login.

    Principals come from :func:`login`; one with no account row at all is
    :data:`adopt_tui.auth.permissions.SYSTEM` or a test's, and is taken as is.
    """
    row = _row(conn, principal.username)
    if row is None:
        return
    if row["disabled"] or row["role"] != principal.role.value:
        message = "Your account was disabled or its role changed since you signed in; sign in again."
        audit.record(conn, principal.username, audit.FORBIDDEN, target=principal.username, detail=message)
        raise PermissionDenied(message)


@contextmanager
def _managing(conn: sqlite3.Connection, principal: Principal, what: str, target: str) -> Iterator[sqlite3.Connection]:
    """Permission check, then a transaction whose :class:`_Refusal` is audited and re-raised."""
    _check_principal(conn, principal)
    principal.require(Perm.MANAGE_USERS, conn, action=what)
    try:
        with _tx(conn):
            yield conn
    except _Refusal as refusal:
        message = str(refusal)
        audit.record(conn, principal.username, audit.FORBIDDEN, target=target, detail=f"{what}: {message}")
        raise PermissionDenied(message) from None


def _guard_global_admin(principal: Principal, what: str, *roles: Role | str | None) -> None:
    if Role.GLOBAL_ADMIN in roles and not principal.can(Perm.MANAGE_GLOBAL_ADMINS):
        raise _Refusal(f"{principal.role.label} {principal.username!r} may not {what}: only a Global admin can manage Global admin accounts.")


def _active_global_admins(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT COUNT(*) FROM accounts WHERE role = ? AND disabled = 0", (Role.GLOBAL_ADMIN.value,)
    ).fetchone()[0]


def _guard_last_global_admin(conn: sqlite3.Connection, row: sqlite3.Row, what: str) -> None:
    if row["role"] == Role.GLOBAL_ADMIN.value and not row["disabled"] and _active_global_admins(conn) <= 1:
        raise _Refusal(f"cannot {what}: {row['username']!r} is the last active Global admin")


# --------------------------------------------------------------------------- login

def _lockout_settings(conn: sqlite3.Connection) -> tuple[int, timedelta, timedelta]:
    values = settings.get_all(conn)
    return (
        max(int(values["lockout_attempts"]), 1),
        timedelta(minutes=values["lockout_window_minutes"]),
        timedelta(minutes=values["lockout_minutes"]),
    )


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(int((until - now).total_seconds() + 59) // 60, 1)
    return (
        "This account is locked after too many failed logins. "
        f"Try again after {until.strftime('%Y-%m-%d %H:%M')} UTC "
        f"(in {minutes} minute{'s' if minutes != 1 else ''}), or ask an administrator to unlock it."
    )


def _register_failure(conn: sqlite3.Connection, username: str, now: datetime, purpose: str) -> None:
    attempts, window, lock_for = _lockout_settings(conn)
    stamp = _iso(now)
    with _tx(conn):
        row = _row(conn, username)
        first = _parse(row["first_failed_at"])
        if first is not None and now - first < window:
            count = row["failed_attempts"] + 1
        else:
            count, first = 1, now
        audit.record(conn, username, audit.LOGIN_FAILURE, target=username, detail=f"{purpose}: wrong password", time=stamp)
        if count >= attempts:
            until = now + lock_for
            conn.execute(
                "UPDATE accounts SET failed_attempts = 0, first_failed_at = NULL, locked_until = ? WHERE id = ?",
                (_iso(until), row["id"]),
            )
            audit.record(
                conn, username, audit.LOCKOUT, target=username, time=stamp,
                detail=f"{count} failed logins within {window.total_seconds() / 60:g} minutes; locked until {_iso(until)}",
            )
        else:
            conn.execute(
                "UPDATE accounts SET failed_attempts = ?, first_failed_at = ? WHERE id = ?",
                (count, _iso(first), row["id"]),
            )


def _authenticate(conn: sqlite3.Connection, username: str, password: str, now: datetime | None, purpose: str) -> sqlite3.Row:
    """The account row when ``password`` is right and the account usable; LoginFailed otherwise."""
    moment = _utcnow(now)
    stamp = _iso(moment)
    row = _row(conn, username)
    if row is None:
        passwords.verify_dummy(password)
        audit.record(conn, _safe_name(username), audit.LOGIN_FAILURE, target=_safe_name(username),
                     detail=f"{purpose}: unknown account", time=stamp)
        raise LoginFailed()
    right = passwords.verify(row["password_hash"], password)
    if row["disabled"]:
        audit.record(conn, username, audit.LOGIN_FAILURE, target=username, detail=f"{purpose}: account disabled", time=stamp)
        raise LoginFailed()
    locked_until = _parse(row["locked_until"])
    if locked_until is not None and locked_until > moment:
        audit.record(conn, username, audit.LOGIN_FAILURE, target=username, time=stamp,
                     detail=f"{purpose}: account locked until {_iso(locked_until)}" + (" (right password)" if right else ""))
        if right:
            raise LoginFailed(_locked_message(locked_until, moment), retry_after=_iso(locked_until))
        raise LoginFailed()
    if not right:
        _register_failure(conn, username, moment, purpose)
        raise LoginFailed()
    return row


def _after_success(conn: sqlite3.Connection, row: sqlite3.Row, password: str, now: datetime, action: str, detail: str) -> Principal:
    stamp = _iso(now)
    new_hash = passwords.hash_password(password) if passwords.needs_rehash(row["password_hash"]) else None
    with _tx(conn):
        conn.execute(
            "UPDATE accounts SET failed_attempts = 0, first_failed_at = NULL, locked_until = NULL, "
            "last_login_at = ?, password_hash = COALESCE(?, password_hash) WHERE id = ?",
            (stamp, new_hash, row["id"]),
        )
        if new_hash:
            detail = (detail + "; " if detail else "") + "password hash upgraded"
        audit.record(conn, row["username"], action, target=row["username"], detail=detail, time=stamp)
    return _principal(row)


def login(conn: sqlite3.Connection, username: str, password: str, *, now: datetime | None = None) -> Principal:
    """Sign in; the :class:`Principal` or :class:`LoginFailed` with one generic message.

    Unknown user, wrong password, disabled and locked accounts all give the
    same message in about the same time (an unknown user is verified against
    a dummy hash). Only a locked account given its right password gets a
    message saying when to retry (``LoginFailed.retry_after``). After
    ``lockout_attempts`` failures within ``lockout_window_minutes`` the account
    locks for ``lockout_minutes`` (settings). An account that must change its
    password gets ``Principal(must_change_password=True)``, which may do
    nothing but :func:`change_password`.
    """
    moment = _utcnow(now)
    row = _authenticate(conn, username, password, moment, "login")
    detail = "must change password" if row["must_change_password"] else ""
    return _after_success(conn, row, password, moment, audit.LOGIN_SUCCESS, detail)


def reauthenticate(conn: sqlite3.Connection, username: str, password: str, *, now: datetime | None = None) -> Principal:
    """Unlock an idle-locked session: like :func:`login` (same lockout), audited as ``idle_unlock``."""
    moment = _utcnow(now)
    row = _authenticate(conn, username, password, moment, "idle unlock")
    return _after_success(conn, row, password, moment, audit.IDLE_UNLOCK, "")


def change_password(conn: sqlite3.Connection, username: str, current: str, new: str, *, now: datetime | None = None) -> Principal:
    """Anyone's own password change; clears must-change. Returns the new Principal.

    A wrong current password counts toward the lockout like a failed login.
    """
    passwords.check_policy(new, username)
    moment = _utcnow(now)
    row = _authenticate(conn, username, current, moment, "password change")
    if new == current:
        raise passwords.WeakPassword("The new password must differ from the current one.")
    stamp = _iso(moment)
    with _tx(conn):
        conn.execute(
            "UPDATE accounts SET password_hash = ?, must_change_password = 0, failed_attempts = 0, "
            "first_failed_at = NULL, locked_until = NULL, changed_at = ? WHERE id = ?",
            (passwords.hash_password(new), stamp, row["id"]),
        )
        audit.record(conn, username, audit.PASSWORD_CHANGE, target=username, time=stamp,
                     detail="forced change done" if row["must_change_password"] else "")
    return _principal(_row(conn, username))


def current_principal(conn: sqlite3.Connection, username: str) -> Principal | None:
    """The Principal an active account would have now (None if missing or disabled)."""
    row = _row(conn, username)
    if row is None or row["disabled"]:
        return None
    return _principal(row)


# --------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class AccountInfo:
    username: str
    display_name: str
    role: Role
    state: str                  # 'active' | 'disabled' | 'locked'
    last_login_at: str | None
    customer_count: int         # customers assigned (meaningful for sales agents)
    must_change_password: bool
    locked_until: str | None
    failed_attempts: int
    created_at: str
    changed_at: str

    @property
    def role_label(self) -> str:
        return self.role.label


def _state(row: sqlite3.Row, now: datetime) -> str:
    if row["disabled"]:
        return "disabled"
    until = _parse(row["locked_until"])
    if until is not None and until > now:
        return "locked"
    return "active"


def _info(row: sqlite3.Row, count: int, now: datetime) -> AccountInfo:
    state = _state(row, now)
    return AccountInfo(
        username=row["username"], display_name=row["display_name"], role=Role(row["role"]),
        state=state, last_login_at=row["last_login_at"], customer_count=count,
        must_change_password=bool(row["must_change_password"]),
        locked_until=row["locked_until"] if state == "locked" else None,
        failed_attempts=row["failed_attempts"], created_at=row["created_at"], changed_at=row["changed_at"],
    )


_LIST_SQL = (
    "SELECT a.*, (SELECT COUNT(*) FROM customer_agents ca WHERE ca.agent = a.username) AS customer_count "
    "FROM accounts a"
)


def list_accounts(conn: sqlite3.Connection, principal: Principal, *, now: datetime | None = None) -> list[AccountInfo]:
    """Every account with role, state, last login and assigned customer count (Perm.MANAGE_USERS)."""
    _check_principal(conn, principal)
    principal.require(Perm.MANAGE_USERS, conn, action="list accounts")
    moment = _utcnow(now)
    rows = conn.execute(_LIST_SQL + " ORDER BY a.username").fetchall()
    return [_info(r, r["customer_count"], moment) for r in rows]


def get_account(conn: sqlite3.Connection, principal: Principal, username: str, *, now: datetime | None = None) -> AccountInfo:
    """One account (Perm.MANAGE_USERS, or the principal's own account)."""
    if principal.username != username or principal.must_change_password:
        _check_principal(conn, principal)
        principal.require(Perm.MANAGE_USERS, conn, action="view accounts")
    row = conn.execute(_LIST_SQL + " WHERE a.username = ?", (username,)).fetchone()
    if row is None:
        raise NotFound(f"no account named {username!r}")
    return _info(row, row["customer_count"], _utcnow(now))


def assigned_customers(conn: sqlite3.Connection, principal: Principal, username: str) -> list[tuple[int, str, str]]:
    """(customer id, tenant id, name) assigned to ``username`` (Perm.MANAGE_USERS or oneself)."""
    if principal.username != username or principal.must_change_password:
        _check_principal(conn, principal)
        principal.require(Perm.MANAGE_USERS, conn, action="view customer assignments")
    rows = conn.execute(
        "SELECT c.id, c.tenant_id, c.name FROM customer_agents ca JOIN customers c ON c.id = ca.customer_id "
        "WHERE ca.agent = ? ORDER BY c.name COLLATE NOCASE, c.id",
        (username,),
    )
    return [tuple(r) for r in rows]


# --------------------------------------------------------------------------- management

def create_account(
    conn: sqlite3.Connection, principal: Principal, username: str, role: Role | str,
    display_name: str = "", password: str | None = None, *, now: datetime | None = None,
) -> str:
    """Create an account that must change its password at first login; returns its temporary password.

    ``password`` (checked against the policy) or, when None, a generated one.
    """
    role = _role(role)
    what = f"create the {role.label} account {_safe_name(username)!r}"
    with _managing(conn, principal, what, _safe_name(username)):
        _guard_global_admin(principal, what, role)
        validate_username(username)
        display_name = validate_display_name(display_name)
        if password is None:
            password = passwords.generate_temporary_password()
        else:
            passwords.check_policy(password, username)
        clash = conn.execute("SELECT username FROM accounts WHERE username = ? COLLATE NOCASE", (username,)).fetchone()
        if clash:
            raise AdoptError(f"an account named {clash[0]!r} already exists")
        stamp = _iso(_utcnow(now))
        conn.execute(
            "INSERT INTO accounts(username, display_name, role, password_hash, must_change_password, created_at, changed_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?)",
            (username, display_name, role.value, passwords.hash_password(password), stamp, stamp),
        )
        audit.record(conn, principal.username, audit.ACCOUNT_CREATE, target=username, time=stamp,
                     detail=f"role {role.cli_name}; must change password at first login")
    return password


def disable(conn: sqlite3.Connection, principal: Principal, username: str, *, now: datetime | None = None) -> bool:
    """Disable an account; False when it already was. Not oneself, not the last active Global admin."""
    what = f"disable the account {username!r}"
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        _guard_global_admin(principal, what, row["role"])
        if username == principal.username:
            raise _Refusal("you cannot disable your own account")
        if row["disabled"]:
            return False
        _guard_last_global_admin(conn, row, f"disable {username!r}")
        stamp = _iso(_utcnow(now))
        conn.execute("UPDATE accounts SET disabled = 1, changed_at = ? WHERE id = ?", (stamp, row["id"]))
        audit.record(conn, principal.username, audit.ACCOUNT_DISABLE, target=username, time=stamp)
    return True


def enable(conn: sqlite3.Connection, principal: Principal, username: str, *, now: datetime | None = None) -> bool:
    """Enable a disabled account; False when it was not disabled."""
    what = f"enable the account {username!r}"
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        _guard_global_admin(principal, what, row["role"])
        if not row["disabled"]:
            return False
        stamp = _iso(_utcnow(now))
        conn.execute("UPDATE accounts SET disabled = 0, changed_at = ? WHERE id = ?", (stamp, row["id"]))
        audit.record(conn, principal.username, audit.ACCOUNT_ENABLE, target=username, time=stamp)
    return True


def unlock(conn: sqlite3.Connection, principal: Principal, username: str, *, now: datetime | None = None) -> bool:
    """Lift a lockout and clear the failed-login count; False when it was not locked."""
    what = f"unlock the account {username!r}"
    moment = _utcnow(now)
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        _guard_global_admin(principal, what, row["role"])
        was_locked = _state(row, moment) == "locked"
        stamp = _iso(moment)
        conn.execute(
            "UPDATE accounts SET locked_until = NULL, failed_attempts = 0, first_failed_at = NULL, changed_at = ? WHERE id = ?",
            (stamp, row["id"]),
        )
        audit.record(conn, principal.username, audit.UNLOCK, target=username, time=stamp,
                     detail="" if was_locked else "was not locked; failed-login count cleared")
    return was_locked


def set_role(conn: sqlite3.Connection, principal: Principal, username: str, role: Role | str, *, now: datetime | None = None) -> bool:
    """Change an account's role; False when it already had it. Not demoting the last active Global admin."""
    role = _role(role)
    what = f"give {username!r} the role {role.label}"
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        _guard_global_admin(principal, what, row["role"], role)
        old = Role(row["role"])
        if old == role:
            return False
        _guard_last_global_admin(conn, row, f"demote {username!r}")
        stamp = _iso(_utcnow(now))
        conn.execute("UPDATE accounts SET role = ?, changed_at = ? WHERE id = ?", (role.value, stamp, row["id"]))
        audit.record(conn, principal.username, audit.ROLE_CHANGE, target=username, time=stamp,
                     detail=f"{old.cli_name} -> {role.cli_name}")
    return True


def reset_password(
    conn: sqlite3.Connection, principal: Principal, username: str, new_password: str | None = None,
    *, now: datetime | None = None,
) -> str:
    """Set a temporary password (given or generated) that must be changed at next login; returns it.

    Also lifts a lockout.
    """
    what = f"reset the password of {username!r}"
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        _guard_global_admin(principal, what, row["role"])
        if new_password is None:
            new_password = passwords.generate_temporary_password()
        else:
            passwords.check_policy(new_password, username)
        stamp = _iso(_utcnow(now))
        conn.execute(
            "UPDATE accounts SET password_hash = ?, must_change_password = 1, failed_attempts = 0, "
            "first_failed_at = NULL, locked_until = NULL, changed_at = ? WHERE id = ?",
            (passwords.hash_password(new_password), stamp, row["id"]),
        )
        audit.record(conn, principal.username, audit.PASSWORD_RESET, target=username, time=stamp,
                     detail="must change password at next login")
    return new_password


def _resolve_customers(conn: sqlite3.Connection, refs: Iterable[str]) -> list[tuple[int, str, str]]:
    found: dict[int, tuple[int, str, str]] = {}
    refs = [str(r).strip() for r in refs if str(r).strip()]
    if not refs:
        raise ValueError("name at least one customer (tenant id or exact name)")
    for ref in refs:
        rows = conn.execute(
            "SELECT id, tenant_id, name FROM customers WHERE tenant_id = ? COLLATE NOCASE", (ref,)
        ).fetchall()
        if not rows:
            rows = conn.execute("SELECT id, tenant_id, name FROM customers WHERE name = ?", (ref,)).fetchall()
        if not rows:
            raise NotFound(f"no customer with tenant id or name {ref!r}")
        if len(rows) > 1:
            ids = ", ".join(r["tenant_id"] for r in rows)
            raise AdoptError(f"{ref!r} names {len(rows)} customers; use a tenant id: {ids}")
        found.setdefault(rows[0]["id"], tuple(rows[0]))
    return list(found.values())


def assign_customers(
    conn: sqlite3.Connection, principal: Principal, username: str, customers: Iterable[str],
    *, now: datetime | None = None,
) -> list[str]:
    """Assign customers (tenant id or exact name) to a sales agent; returns the names newly assigned."""
    what = f"assign customers to {username!r}"
    with _managing(conn, principal, what, username):
        row = _require_row(conn, username)
        if row["role"] != Role.SALES_AGENT.value:
            raise AdoptError(
                f"{username!r} is a {Role(row['role']).label}, not a Sales agent: "
                "only sales agents have assigned customers (the other roles see all customers or none)"
            )
        added = []
        for cid, _tenant, name in _resolve_customers(conn, customers):
            cur = conn.execute("INSERT OR IGNORE INTO customer_agents(customer_id, agent) VALUES (?, ?)", (cid, username))
            if cur.rowcount:
                added.append(name)
        if added:
            audit.record(conn, principal.username, audit.ASSIGN_CUSTOMERS, target=username,
                         time=_iso(_utcnow(now)), detail="assigned: " + ", ".join(added))
    return added


def unassign_customers(
    conn: sqlite3.Connection, principal: Principal, username: str, customers: Iterable[str],
    *, now: datetime | None = None,
) -> list[str]:
    """Remove customers (tenant id or exact name) from an agent; returns the names removed.

    Works for any account name, so that assignments left from a former sales
    agent (or a name with no account) can be cleaned up.
    """
    what = f"unassign customers from {username!r}"
    with _managing(conn, principal, what, username):
        removed = []
        for cid, _tenant, name in _resolve_customers(conn, customers):
            cur = conn.execute("DELETE FROM customer_agents WHERE customer_id = ? AND agent = ?", (cid, username))
            if cur.rowcount:
                removed.append(name)
        if removed:
            audit.record(conn, principal.username, audit.UNASSIGN_CUSTOMERS, target=username,
                         time=_iso(_utcnow(now)), detail="unassigned: " + ", ".join(removed))
    return removed


# --------------------------------------------------------------------------- bootstrap and demo

def has_accounts(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None


def bootstrap_admin(
    conn: sqlite3.Connection, username: str, password: str, display_name: str = "",
    *, now: datetime | None = None,
) -> Principal:
    """Create the first Global admin on a database with no accounts (no forced change)."""
    validate_username(username)
    display_name = validate_display_name(display_name)
    passwords.check_policy(password, username)
    password_hash = passwords.hash_password(password)
    stamp = _iso(_utcnow(now))
    with _tx(conn):
        if has_accounts(conn):
            raise AdoptError("this database already has accounts; sign in as a Global admin and use 'adopt-tui users add'")
        conn.execute(
            "INSERT INTO accounts(username, display_name, role, password_hash, must_change_password, created_at, changed_at) "
            "VALUES (?, ?, ?, ?, 0, ?, ?)",
            (username, display_name, Role.GLOBAL_ADMIN.value, password_hash, stamp, stamp),
        )
        audit.record(conn, username, audit.ACCOUNT_CREATE, target=username, time=stamp,
                     detail=f"role {Role.GLOBAL_ADMIN.cli_name}; first account (init)")
    return _principal(_row(conn, username))


def create_demo_accounts(conn: sqlite3.Connection, *, now: datetime | None = None) -> list[tuple[str, Role, str]]:
    """One account per role for the demo database, with fixed passwords (no forced change).

    Accounts that already exist are left as they are. Returns
    ``[(username, role, password), ...]`` for all four.
    """
    stamp = _iso(_utcnow(now))
    result = []
    with _tx(conn):
        for username, role, display_name, password in DEMO_ACCOUNTS:
            if _row(conn, username) is None:
                conn.execute(
                    "INSERT INTO accounts(username, display_name, role, password_hash, must_change_password, created_at, changed_at) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?)",
                    (username, display_name, role.value, passwords.hash_password(password), stamp, stamp),
                )
                audit.record(conn, "system", audit.ACCOUNT_CREATE, target=username, time=stamp,
                             detail=f"role {role.cli_name}; demo account")
            result.append((username, role, password))
    return result
