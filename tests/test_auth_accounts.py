"""Accounts: login and lockout, forced password change, management rules, audit, idle lock."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from adopt_tui.auth import accounts, audit, passwords
from adopt_tui.auth.permissions import Perm, Principal, Role, customer_scope_sql
from adopt_tui.auth.session import IdleLock, Session
from adopt_tui.errors import AdoptError, LoginFailed, NotFound, PermissionDenied
from adopt_tui.store import connect, settings

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=timezone.utc)
ROOT_PW = "root-password-123"
GENERIC = str(LoginFailed())


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def conn(db_path: Path):
    c = connect(db_path)
    accounts.bootstrap_admin(c, "root", ROOT_PW, "Root", now=T0)
    c.execute("INSERT INTO customers(tenant_id, name) VALUES ('11111111-aaaa', 'Contoso'), "
              "('22222222-bbbb', 'Fabrikam'), ('33333333-cccc', 'Twin'), ('44444444-dddd', 'Twin')")
    yield c
    c.close()


@pytest.fixture
def root(conn) -> Principal:
    return accounts.login(conn, "root", ROOT_PW, now=T0)


def make(conn, root, name: str, role: Role, password: str | None = None) -> Principal:
    """An account past its forced first change, signed in."""
    password = password or f"{name}-password-ok"
    temp = accounts.create_account(conn, root, name, role, now=T0)
    return accounts.change_password(conn, name, temp, password, now=T0)


def last_audit(conn) -> sqlite3.Row:
    return conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1").fetchone()


def audit_rows(conn, action: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM audit WHERE action = ? ORDER BY id", (action,)).fetchall()


# ----------------------------------------------------------------------------- login

def test_login_success(conn):
    p = accounts.login(conn, "root", ROOT_PW, now=T0 + timedelta(minutes=1))
    assert p == Principal("root", Role.GLOBAL_ADMIN, "Root", False)
    row = conn.execute("SELECT last_login_at FROM accounts WHERE username = 'root'").fetchone()
    assert row[0] == iso(T0 + timedelta(minutes=1))
    a = last_audit(conn)
    assert (a["user"], a["action"], a["time"]) == ("root", "login_success", iso(T0 + timedelta(minutes=1)))


def test_generic_message_is_identical_for_every_failure(conn, root):
    make(conn, root, "gone", Role.ADMIN_AGENT)
    accounts.disable(conn, root, "gone", now=T0)
    make(conn, root, "locked", Role.ADMIN_AGENT)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login(conn, "locked", "wrong-password-x", now=T0)

    errors = []
    for user, pw in [("nobody", "whatever-password"), ("root", "wrong-password-x"),
                     ("gone", "gone-password-ok"), ("locked", "wrong-password-x")]:
        with pytest.raises(LoginFailed) as info:
            accounts.login(conn, user, pw, now=T0 + timedelta(minutes=1))
        errors.append(info.value)
    assert {str(e) for e in errors} == {GENERIC}
    assert all(e.retry_after is None for e in errors)
    details = [r["detail"] for r in audit_rows(conn, "login_failure")[-4:]]
    assert details == ["login: unknown account", "login: wrong password", "login: account disabled",
                       f"login: account locked until {iso(T0 + timedelta(minutes=15))}"]


def test_unknown_user_is_verified_against_the_dummy_hash(conn, monkeypatch):
    calls = []
    monkeypatch.setattr(passwords, "verify_dummy", lambda pw: calls.append(pw))
    with pytest.raises(LoginFailed):
        accounts.login(conn, "nobody", "some-password-1")
    assert calls == ["some-password-1"]


def test_lockout_after_five_failures_within_fifteen_minutes_and_its_expiry(conn, root):
    make(conn, root, "ann", Role.ADMIN_AGENT)
    for i in range(5):
        with pytest.raises(LoginFailed) as info:
            accounts.login(conn, "ann", "wrong-password-x", now=T0 + timedelta(minutes=i))
        assert str(info.value) == GENERIC
    lock_end = T0 + timedelta(minutes=4 + 15)
    lockouts = audit_rows(conn, "lockout")
    assert [r["user"] for r in lockouts] == ["ann"]
    assert iso(lock_end) in lockouts[0]["detail"]

    # Locked: the right password is told when to retry, a wrong one is not.
    with pytest.raises(LoginFailed) as info:
        accounts.login(conn, "ann", "ann-password-ok", now=T0 + timedelta(minutes=10))
    assert info.value.retry_after == iso(lock_end)
    assert "Try again after 2025-03-01 09:19 UTC (in 9 minutes)" in str(info.value)
    with pytest.raises(LoginFailed) as info:
        accounts.login(conn, "ann", "wrong-password-x", now=T0 + timedelta(minutes=10))
    assert info.value.retry_after is None and str(info.value) == GENERIC
    assert len(audit_rows(conn, "lockout")) == 1  # failures while locked do not extend it

    listed = {a.username: a for a in accounts.list_accounts(conn, root, now=T0 + timedelta(minutes=10))}
    assert listed["ann"].state == "locked" and listed["ann"].locked_until == iso(lock_end)

    # Expired: the right password works, and the count starts afresh.
    p = accounts.login(conn, "ann", "ann-password-ok", now=lock_end)
    assert p.username == "ann"
    row = conn.execute("SELECT failed_attempts, locked_until FROM accounts WHERE username = 'ann'").fetchone()
    assert tuple(row) == (0, None)
    assert accounts.list_accounts(conn, root, now=lock_end)[0].state == "active"


def test_failures_outside_the_window_do_not_lock(conn, root):
    make(conn, root, "bob", Role.ADMIN_AGENT)
    for minute in (0, 1, 2, 3, 16):  # the fifth is 16 minutes after the first
        with pytest.raises(LoginFailed):
            accounts.login(conn, "bob", "wrong-password-x", now=T0 + timedelta(minutes=minute))
    assert audit_rows(conn, "lockout") == []
    assert accounts.login(conn, "bob", "bob-password-ok", now=T0 + timedelta(minutes=17)).username == "bob"


def test_lockout_follows_the_settings(conn, root):
    make(conn, root, "cy", Role.ADMIN_AGENT)
    settings.put(conn, "lockout_attempts", 2)
    settings.put(conn, "lockout_minutes", 60)
    for _ in range(2):
        with pytest.raises(LoginFailed):
            accounts.login(conn, "cy", "wrong-password-x", now=T0)
    with pytest.raises(LoginFailed) as info:
        accounts.login(conn, "cy", "cy-password-ok", now=T0 + timedelta(minutes=59))
    assert info.value.retry_after == iso(T0 + timedelta(minutes=60))


def test_admin_unlock(conn, root):
    make(conn, root, "dee", Role.SALES_AGENT)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login(conn, "dee", "wrong-password-x", now=T0)
    assert accounts.unlock(conn, root, "dee", now=T0) is True
    assert last_audit(conn)["action"] == "unlock"
    assert accounts.login(conn, "dee", "dee-password-ok", now=T0).username == "dee"
    assert accounts.unlock(conn, root, "dee", now=T0) is False


def test_rehash_on_login_when_parameters_changed(conn):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(ROOT_PW)
    conn.execute("UPDATE accounts SET password_hash = ? WHERE username = 'root'", (weak,))
    accounts.login(conn, "root", ROOT_PW)
    stored = conn.execute("SELECT password_hash FROM accounts WHERE username = 'root'").fetchone()[0]
    assert stored != weak and not passwords.needs_rehash(stored)
    assert "password hash upgraded" in last_audit(conn)["detail"]
    assert accounts.login(conn, "root", ROOT_PW).username == "root"


# ----------------------------------------------------------------------------- forced change

def test_created_account_must_change_its_password_and_can_do_nothing_else(conn, root):
    temp = accounts.create_account(conn, root, "eve", "user_admin", display_name="Eve")
    assert passwords.policy_problem(temp, "eve") is None
    p = accounts.login(conn, "eve", temp)
    assert p.must_change_password and p.role is Role.USER_ADMIN
    assert not any(p.can(perm) for perm in Perm)
    with pytest.raises(PermissionDenied, match="must change your password"):
        accounts.list_accounts(conn, p)
    with pytest.raises(PermissionDenied, match="must change your password"):
        audit.list_entries(conn, p)
    with pytest.raises(PermissionDenied, match="must change your password"):
        accounts.create_account(conn, p, "x1", Role.SALES_AGENT)
    assert customer_scope_sql(p) == ("0", ())
    assert last_audit(conn)["action"] == "forbidden"

    with pytest.raises(passwords.WeakPassword, match="differ"):
        accounts.change_password(conn, "eve", temp, temp)
    with pytest.raises(passwords.WeakPassword, match="at least 12"):
        accounts.change_password(conn, "eve", temp, "short")
    with pytest.raises(LoginFailed):
        accounts.change_password(conn, "eve", "wrong-password-x", "eve-new-password")
    p2 = accounts.change_password(conn, "eve", temp, "eve-new-password")
    assert not p2.must_change_password and p2.can(Perm.MANAGE_USERS)
    assert last_audit(conn)["action"] == "password_change"
    with pytest.raises(LoginFailed):
        accounts.login(conn, "eve", temp)
    assert not accounts.login(conn, "eve", "eve-new-password").must_change_password


def test_reset_password_forces_a_change_and_lifts_a_lock(conn, root):
    make(conn, root, "fay", Role.SALES_AGENT)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login(conn, "fay", "wrong-password-x", now=T0)
    temp = accounts.reset_password(conn, root, "fay", now=T0)
    assert last_audit(conn)["action"] == "password_reset"
    p = accounts.login(conn, "fay", temp, now=T0)
    assert p.must_change_password
    given = accounts.reset_password(conn, root, "fay", "chosen-by-admin")
    assert given == "chosen-by-admin"
    with pytest.raises(passwords.WeakPassword):
        accounts.reset_password(conn, root, "fay", "fay")


# ----------------------------------------------------------------------------- rules

def test_last_active_global_admin_cannot_be_disabled_or_demoted(conn, root):
    with pytest.raises(PermissionDenied, match="last active Global admin"):
        accounts.set_role(conn, root, "root", Role.USER_ADMIN)
    assert last_audit(conn)["action"] == "forbidden"
    g2 = make(conn, root, "g2", Role.GLOBAL_ADMIN)
    # With two, one can go ...
    assert accounts.disable(conn, g2, "root") is True
    assert accounts.enable(conn, g2, "root") is True
    assert accounts.set_role(conn, root, "g2", Role.ADMIN_AGENT) is True
    # ... but not the last one, and a disabled Global admin does not count.
    accounts.set_role(conn, root, "g2", Role.GLOBAL_ADMIN)
    accounts.disable(conn, root, "g2")
    with pytest.raises(PermissionDenied, match="last active Global admin"):
        accounts.set_role(conn, root, "root", "admin-agent")
    row = conn.execute("SELECT role, disabled FROM accounts WHERE username = 'root'").fetchone()
    assert tuple(row) == ("global_admin", 0)


def test_nobody_can_disable_their_own_account(conn, root):
    make(conn, root, "g2", Role.GLOBAL_ADMIN)
    with pytest.raises(PermissionDenied, match="your own account"):
        accounts.disable(conn, root, "root")
    ua = make(conn, root, "ua", Role.USER_ADMIN)
    with pytest.raises(PermissionDenied, match="your own account"):
        accounts.disable(conn, ua, "ua")
    refusals = audit_rows(conn, "forbidden")
    assert [(r["user"], r["target"]) for r in refusals] == [("root", "root"), ("ua", "ua")]


def test_user_admin_cannot_touch_global_admins(conn, root):
    make(conn, root, "g2", Role.GLOBAL_ADMIN)
    make(conn, root, "sam", Role.SALES_AGENT)
    ua = make(conn, root, "ua", Role.USER_ADMIN)
    attempts = [
        lambda: accounts.create_account(conn, ua, "g3", Role.GLOBAL_ADMIN),
        lambda: accounts.set_role(conn, ua, "sam", Role.GLOBAL_ADMIN),
        lambda: accounts.set_role(conn, ua, "g2", Role.USER_ADMIN),
        lambda: accounts.reset_password(conn, ua, "g2"),
        lambda: accounts.disable(conn, ua, "g2"),
        lambda: accounts.enable(conn, ua, "g2"),
        lambda: accounts.unlock(conn, ua, "g2"),
    ]
    before = len(audit_rows(conn, "forbidden"))
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="only a Global admin"):
            attempt()
    assert len(audit_rows(conn, "forbidden")) == before + len(attempts)
    assert conn.execute("SELECT COUNT(*) FROM accounts WHERE username = 'g3'").fetchone()[0] == 0
    assert conn.execute("SELECT role FROM accounts WHERE username = 'sam'").fetchone()[0] == "sales_agent"
    # What a user admin may do:
    assert accounts.set_role(conn, ua, "sam", Role.ADMIN_AGENT)
    assert accounts.disable(conn, ua, "sam")
    assert accounts.create_account(conn, ua, "newbie", Role.SALES_AGENT)
    assert {a.username for a in accounts.list_accounts(conn, ua)} >= {"root", "g2", "ua"}


@pytest.mark.parametrize("role", [Role.ADMIN_AGENT, Role.SALES_AGENT])
def test_agents_cannot_manage_accounts(conn, root, role):
    p = make(conn, root, "agent1", role)
    for call in (lambda: accounts.list_accounts(conn, p),
                 lambda: accounts.create_account(conn, p, "x2", Role.SALES_AGENT),
                 lambda: accounts.unlock(conn, p, "root"),
                 lambda: audit.list_entries(conn, p)):
        with pytest.raises(PermissionDenied):
            call()
        a = last_audit(conn)
        assert (a["user"], a["action"]) == ("agent1", "forbidden")


def test_a_principal_disabled_or_demoted_since_login_is_refused(conn, root):
    ua = make(conn, root, "ua", Role.USER_ADMIN)
    accounts.set_role(conn, root, "ua", Role.SALES_AGENT)
    with pytest.raises(PermissionDenied, match="sign in again"):
        accounts.list_accounts(conn, ua)


def test_validation(conn, root):
    with pytest.raises(ValueError, match="not a valid user name"):
        accounts.create_account(conn, root, "bad name", Role.SALES_AGENT)
    with pytest.raises(ValueError, match="reserved"):
        accounts.create_account(conn, root, "System", Role.SALES_AGENT)
    with pytest.raises(AdoptError, match="already exists"):
        accounts.create_account(conn, root, "ROOT", Role.SALES_AGENT)
    with pytest.raises(ValueError, match="unknown role"):
        accounts.create_account(conn, root, "zed", "boss")
    with pytest.raises(passwords.WeakPassword):
        accounts.create_account(conn, root, "zed", Role.SALES_AGENT, password="short")
    with pytest.raises(NotFound):
        accounts.disable(conn, root, "nobody")


# ----------------------------------------------------------------------------- assignments

def test_assign_and_unassign_customers(conn, root):
    sam = make(conn, root, "sam", Role.SALES_AGENT)
    make(conn, root, "aa", Role.ADMIN_AGENT)
    added = accounts.assign_customers(conn, root, "sam", ["11111111-AAAA", "Fabrikam"])
    assert added == ["Contoso", "Fabrikam"]
    a = last_audit(conn)
    assert (a["action"], a["target"], a["detail"]) == ("assign_customers", "sam", "assigned: Contoso, Fabrikam")
    assert accounts.assign_customers(conn, root, "sam", ["Contoso"]) == []
    rows = conn.execute("SELECT customer_id, agent FROM customer_agents ORDER BY customer_id").fetchall()
    assert [tuple(r) for r in rows] == [(1, "sam"), (2, "sam")]
    info = {x.username: x for x in accounts.list_accounts(conn, root)}
    assert info["sam"].customer_count == 2
    where, params = customer_scope_sql(sam)
    seen = conn.execute(f"SELECT c.name FROM customers c WHERE {where} ORDER BY c.name", params).fetchall()
    assert [r[0] for r in seen] == ["Contoso", "Fabrikam"]

    with pytest.raises(AdoptError, match="not a Sales agent"):
        accounts.assign_customers(conn, root, "aa", ["Contoso"])
    with pytest.raises(NotFound, match="Nowhere"):
        accounts.assign_customers(conn, root, "sam", ["Nowhere"])
    with pytest.raises(AdoptError, match="2 customers"):
        accounts.assign_customers(conn, root, "sam", ["Twin"])
    with pytest.raises(ValueError):
        accounts.assign_customers(conn, root, "sam", [])
    with pytest.raises(PermissionDenied):
        accounts.assign_customers(conn, sam, "sam", ["Twin"])

    assert accounts.unassign_customers(conn, root, "sam", ["Contoso"]) == ["Contoso"]
    assert last_audit(conn)["action"] == "unassign_customers"
    assert accounts.assigned_customers(conn, root, "sam") == [(2, "22222222-bbbb", "Fabrikam")]
    assert accounts.assigned_customers(conn, sam, "sam") == [(2, "22222222-bbbb", "Fabrikam")]


# ----------------------------------------------------------------------------- audit

def test_each_audited_action_writes_its_row(conn, root):
    temp = accounts.create_account(conn, root, "sam", Role.SALES_AGENT)
    expected = [("account_create", "root", "sam")]
    accounts.change_password(conn, "sam", temp, "sam-password-ok")
    expected.append(("password_change", "sam", "sam"))
    accounts.login(conn, "sam", "sam-password-ok")
    expected.append(("login_success", "sam", "sam"))
    with pytest.raises(LoginFailed):
        accounts.login(conn, "sam", "wrong-password-x")
    expected.append(("login_failure", "sam", "sam"))
    accounts.set_role(conn, root, "sam", Role.ADMIN_AGENT)
    expected.append(("role_change", "root", "sam"))
    accounts.set_role(conn, root, "sam", Role.SALES_AGENT)
    expected.append(("role_change", "root", "sam"))
    accounts.assign_customers(conn, root, "sam", ["Contoso"])
    expected.append(("assign_customers", "root", "sam"))
    accounts.unassign_customers(conn, root, "sam", ["Contoso"])
    expected.append(("unassign_customers", "root", "sam"))
    accounts.reset_password(conn, root, "sam")
    expected.append(("password_reset", "root", "sam"))
    accounts.disable(conn, root, "sam")
    expected.append(("account_disable", "root", "sam"))
    accounts.enable(conn, root, "sam")
    expected.append(("account_enable", "root", "sam"))
    accounts.unlock(conn, root, "sam")
    expected.append(("unlock", "root", "sam"))
    with pytest.raises(PermissionDenied):
        accounts.disable(conn, root, "root")
    expected.append(("forbidden", "root", "root"))
    rows = conn.execute("SELECT action, user, target FROM audit ORDER BY id").fetchall()
    assert [tuple(r) for r in rows][-len(expected):] == expected


def test_audit_rows_cannot_be_updated_or_deleted(conn):
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] > 0
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET detail = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit")
    assert not hasattr(audit, "delete") and not hasattr(audit, "update")


def test_list_entries_filters_newest_first(conn, root):
    make(conn, root, "ua", Role.USER_ADMIN)
    audit.record(conn, "x", "export", target="a.csv", time="2025-01-01T10:00:00")
    audit.record(conn, "x", "export", target="b.csv", time="2025-01-02T10:00:00")
    audit.record(conn, "y", "import", target="c.csv", time="2025-01-02T23:59:59")
    ua = accounts.login(conn, "ua", "ua-password-ok")
    entries = audit.list_entries(conn, ua, user="x")
    assert [e.target for e in entries] == ["b.csv", "a.csv"]
    assert [e.target for e in audit.list_entries(conn, ua, since="2025-01-02", until="2025-01-02")] == ["c.csv", "b.csv"]
    assert [e.target for e in audit.list_entries(conn, ua, until="2025-01-01")] == ["a.csv"]
    assert [e.target for e in audit.list_entries(conn, ua, action="import")] == ["c.csv"]
    everything = audit.list_entries(conn, ua, limit=None)
    assert [e.time for e in everything] == sorted((e.time for e in everything), reverse=True)
    assert len(audit.list_entries(conn, ua, limit=2)) == 2
    assert "export" in audit.list_actions(conn, ua)
    with pytest.raises(ValueError, match="not a date"):
        audit.list_entries(conn, ua, since="yesterday")


# ----------------------------------------------------------------------------- storage

def test_database_holds_only_argon2id_hashes(conn, root, db_path):
    clear = ["sam-password-ok", ROOT_PW]
    make(conn, root, "sam", Role.SALES_AGENT)
    temp = accounts.reset_password(conn, root, "sam")
    clear.append(temp)
    for username, role, password in accounts.create_demo_accounts(conn):
        clear.append(password)
    hashes = [r[0] for r in conn.execute("SELECT password_hash FROM accounts")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    blob = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    assert b"$argon2id$" in blob
    for password in clear:
        assert password.encode() not in blob, password
    assert (db_path.stat().st_mode & 0o777) == 0o600


# ----------------------------------------------------------------------------- bootstrap, demo

def test_bootstrap_only_on_an_empty_database(tmp_path):
    c = connect(tmp_path / "b.db")
    with pytest.raises(passwords.WeakPassword):
        accounts.bootstrap_admin(c, "first", "first")
    p = accounts.bootstrap_admin(c, "first", "first-password-1")
    assert p.role is Role.GLOBAL_ADMIN and not p.must_change_password
    assert not accounts.login(c, "first", "first-password-1").must_change_password
    with pytest.raises(AdoptError, match="already has accounts"):
        accounts.bootstrap_admin(c, "second", "second-password-1")


def test_demo_accounts_one_per_role(tmp_path):
    c = connect(tmp_path / "d.db")
    demo = accounts.create_demo_accounts(c)
    assert [(u, r) for u, r, _ in demo] == [("admin", Role.GLOBAL_ADMIN), ("useradmin", Role.USER_ADMIN),
                                            ("agent", Role.ADMIN_AGENT), ("maria", Role.SALES_AGENT)]
    for username, role, password in demo:
        assert passwords.policy_problem(password, username) is None
        p = accounts.login(c, username, password)
        assert p.role is role and not p.must_change_password
    assert accounts.create_demo_accounts(c) == demo  # idempotent


# ----------------------------------------------------------------------------- idle lock, session

class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_idle_lock_with_a_fake_clock():
    clock = FakeClock()
    lock = IdleLock(60, clock=clock)
    clock.t += 59
    assert not lock.check() and lock.remaining() == pytest.approx(1)
    lock.touch()
    clock.t += 59
    assert not lock.is_locked
    clock.t += 1
    assert lock.is_locked and lock.remaining() == 0
    lock.touch()  # input while locked goes to the prompt: still locked
    assert lock.check()
    lock.unlock()
    assert not lock.check()
    lock.lock()
    assert lock.is_locked
    with pytest.raises(ValueError):
        IdleLock(0)


def test_session_idle_lock_unlock_and_logout(conn, root):
    make(conn, root, "sam", Role.SALES_AGENT)
    settings.put(conn, "idle_lock_minutes", 5)
    clock = FakeClock()
    s = Session(conn, accounts.login(conn, "sam", "sam-password-ok"), clock=clock)
    assert s.idle.timeout == 300
    clock.t += 299
    assert not s.check_idle() and s.can(Perm.VIEW_CUSTOMERS)
    clock.t += 1
    assert s.check_idle() and s.check_idle()
    assert not s.can(Perm.VIEW_CUSTOMERS)
    assert len(audit_rows(conn, "idle_lock")) == 1
    with pytest.raises(LoginFailed):
        s.unlock("wrong-password-x")
    assert s.is_locked
    s.unlock("sam-password-ok")
    assert not s.is_locked and s.can(Perm.VIEW_CUSTOMERS)
    assert last_audit(conn)["action"] == "idle_unlock"
    s.lock()
    assert s.is_locked and len(audit_rows(conn, "idle_lock")) == 2
    s.unlock("sam-password-ok")
    settings.put(conn, "idle_lock_minutes", 1)
    s.reload_settings()
    assert s.idle.timeout == 60
    s.change_password("sam-password-ok", "sam-password-two")
    s.logout()
    s.logout()
    assert [r["user"] for r in audit_rows(conn, "logout")] == ["sam"]
    assert not s.can(Perm.VIEW_CUSTOMERS)


def test_session_unlock_refused_for_a_disabled_account(conn, root):
    make(conn, root, "sam", Role.SALES_AGENT)
    clock = FakeClock()
    s = Session(conn, accounts.login(conn, "sam", "sam-password-ok"), clock=clock, idle_timeout=10)
    clock.t += 10
    assert s.check_idle()
    accounts.disable(conn, root, "sam")
    with pytest.raises(LoginFailed):
        s.unlock("sam-password-ok")
    assert s.is_locked
