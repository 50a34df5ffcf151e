"""Administration screens in a Pilot: users, audit log, settings, password change.

The screens are pushed on the real AdoptApp (built like make_app's) with the
principal already signed in: the login screen is underneath, as after a real
login. Principals are made directly (no Argon2 verification) where the test is
not about passwords; the core re-checks them against the accounts table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Select, SelectionList

import adopt_tui.tui.app as app_module
from adopt_tui.auth import accounts, audit
from adopt_tui.auth.permissions import Perm, Principal, Role
from adopt_tui.errors import LoginFailed
from adopt_tui.metrics.read import customer_figures, visible_customers
from adopt_tui.store import connect
from adopt_tui.store import settings as store
from adopt_tui.tui.admin import ADMIN_SCREENS, ConfirmDialog, after_login, entries_for
from adopt_tui.tui.app import AdoptApp
from adopt_tui.tui.screens.audit import AuditScreen
from adopt_tui.tui.screens.password import ChangePasswordScreen
from adopt_tui.tui.screens.settings import SettingsScreen
from adopt_tui.tui.screens.users import CustomerPicker, TemporaryPasswordDialog, UsersScreen

ADMIN = Principal("admin", Role.GLOBAL_ADMIN, "Demo Global Admin")
USER_ADMIN = Principal("useradmin", Role.USER_ADMIN, "Demo User Admin")
MARIA = Principal("maria", Role.SALES_AGENT, "Maria (sales agent)")
SIZE = (120, 40)


class AdminApp(AdoptApp):
    """AdoptApp with a signed-in principal and the notifications kept for asserts."""

    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")

    def __init__(self, db_path, principal: Principal | None = None) -> None:
        super().__init__(db_path, theme="textual-ansi")
        self.principal = principal
        self.notes: list[tuple[str, str]] = []

    def notify(self, message, *, severity="information", **kwargs) -> None:
        self.notes.append((str(message), severity))
        super().notify(message, severity=severity, **kwargs)


async def settle(app, pilot, rounds: int = 3) -> None:
    """Let workers finish and their messages be handled (a load may start another)."""
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def open_screen(app, pilot, screen):
    await pilot.pause()
    app.push_screen(screen)
    await settle(app, pilot)
    return screen


def highlight(screen, username: str) -> None:
    table = screen.query_one("#users-table", DataTable)
    table.move_cursor(row=table.get_row_index(username))


def errors(app) -> list[str]:
    return [text for text, severity in app.notes if severity == "error"]


# --------------------------------------------------------------------------- navigation


def test_entries_follow_the_permission_table():
    keys = lambda p: [e.key for e in entries_for(p)]  # noqa: E731
    assert keys(ADMIN) == ["users", "audit", "settings", "password"]
    assert keys(USER_ADMIN) == ["users", "audit", "password"]
    assert keys(Principal("agent", Role.ADMIN_AGENT)) == ["password"]
    assert keys(MARIA) == ["password"]
    assert keys(Principal("x", Role.GLOBAL_ADMIN, must_change_password=True)) == []
    assert keys(None) == []
    perms = {e.key: e.perm for e in ADMIN_SCREENS}
    assert perms == {"users": Perm.MANAGE_USERS, "audit": Perm.VIEW_AUDIT, "settings": Perm.EDIT_SETTINGS,
                     "password": None}


# --------------------------------------------------------------------------- users


async def test_global_admin_adds_a_user_and_sees_the_temporary_password_once(small_db):
    app = AdminApp(small_db, ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, UsersScreen())
        assert set(screen.accounts) == {"admin", "agent", "maria", "useradmin"}
        await pilot.press("n")
        await pilot.press(*"bob", "enter", *"[b]Bob[/b]", "ctrl+s")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, TemporaryPasswordDialog)
        password = dialog.password
        assert str(dialog.query_one("#temporary-password").render()) == password
        await pilot.press("c")
        assert app.clipboard == password
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.selected().username == "bob"
        assert screen.accounts["bob"].display_name == "[b]Bob[/b]"  # kept as typed, never markup
        assert screen.accounts["bob"].role == Role.SALES_AGENT
    conn = connect(small_db)
    assert accounts.login(conn, "bob", password).must_change_password
    assert conn.execute("SELECT user FROM audit WHERE action = 'account_create' AND target = 'bob'").fetchone()[0] == "admin"
    conn.close()


async def test_user_admin_cannot_reset_a_global_admin(small_db):
    conn = connect(small_db)
    before = conn.execute("SELECT password_hash, must_change_password FROM accounts WHERE username = 'agent'").fetchone()
    app = AdminApp(small_db, USER_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, UsersScreen())
        highlight(screen, "admin")
        for action in ("reset", "disable", "role", "unlock"):
            assert screen.check_action(action, ()) is None  # greyed out
        # Meanwhile a Global admin promotes 'agent': the list on screen is out of date, the core is not.
        accounts.set_role(conn, ADMIN, "agent", Role.GLOBAL_ADMIN)
        highlight(screen, "agent")
        assert screen.check_action("reset", ()) is True
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        assert any("only a Global admin can manage Global admin accounts" in e for e in errors(app)), app.notes
        assert not any(isinstance(s, TemporaryPasswordDialog) for s in app.screen_stack)
        # the list was read again: now greyed out
        assert screen.accounts["agent"].role == Role.GLOBAL_ADMIN
        assert screen.check_action("reset", ()) is None
    after = conn.execute("SELECT password_hash, must_change_password FROM accounts WHERE username = 'agent'").fetchone()
    assert tuple(after) == tuple(before)
    forbidden = conn.execute("SELECT user, target FROM audit WHERE action = 'forbidden'").fetchall()
    assert [tuple(r) for r in forbidden] == [("useradmin", "agent")]
    conn.close()


async def test_disable_and_enable(small_db):
    app = AdminApp(small_db, ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, UsersScreen())
        highlight(screen, "admin")
        assert screen.check_action("disable", ()) is None  # not oneself
        highlight(screen, "maria")
        assert screen.check_action("enable", ()) is None
        await pilot.press("d")
        await pilot.press("n")  # changed my mind
        await settle(app, pilot)
        assert screen.accounts["maria"].state == "active"
        await pilot.press("d", "y")
        await settle(app, pilot)
        assert screen.accounts["maria"].state == "disabled"
        assert screen.check_action("disable", ()) is None and screen.check_action("enable", ()) is True
        table = screen.query_one("#users-table", DataTable)
        assert str(table.get_cell("maria", "state")) == "disabled"
        conn = connect(small_db)
        with pytest.raises(LoginFailed):
            accounts.login(conn, "maria", "maria-demo-password")
        await pilot.press("e")
        await settle(app, pilot)
        assert screen.accounts["maria"].state == "active"
    actions = [r[0] for r in conn.execute("SELECT action FROM audit WHERE target = 'maria' AND user = 'admin'")]
    assert actions == ["account_disable", "account_enable"]
    conn.close()


async def test_assigning_a_customer_changes_what_maria_sees(small_db):
    conn = connect(small_db)
    seen = lambda: [c.name for c in visible_customers(conn, MARIA)]  # noqa: E731
    assert seen() == ["Alpha Tools", "Cedar Clinics"]
    app = AdminApp(small_db, USER_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, UsersScreen())
        highlight(screen, "agent")
        assert screen.check_action("assign", ()) is None  # only sales agents have customers
        highlight(screen, "maria")
        await pilot.press("c")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, CustomerPicker)
        assert {c.name for c in picker.choices} == {"Bravo Bakery", "Delta Dairy"}  # not those she has
        await pilot.press(*"delta")
        options = picker.query_one(SelectionList)
        assert options.option_count == 1
        await pilot.press("down", "space", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert seen() == ["Alpha Tools", "Cedar Clinics", "Delta Dairy"]
        assert screen.accounts["maria"].customer_count == 3
        await pilot.press("x")
        picker = app.screen
        assert isinstance(picker, CustomerPicker)
        await pilot.press("down", "space", "ctrl+s")  # the first: Alpha Tools
        await settle(app, pilot)
        assert seen() == ["Cedar Clinics", "Delta Dairy"]
    rows = conn.execute("SELECT action, detail FROM audit WHERE target = 'maria' AND user = 'useradmin' ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("assign_customers", "assigned: Delta Dairy"),
                                        ("unassign_customers", "unassigned: Alpha Tools")]
    conn.close()


async def test_change_role_and_unlock(small_db):
    from adopt_tui.tui.screens.error import ChoiceDialog

    conn = connect(small_db)
    conn.execute("UPDATE accounts SET locked_until = '2999-01-01T00:00:00', failed_attempts = 0 WHERE username = 'maria'")
    app = AdminApp(small_db, USER_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, UsersScreen())
        highlight(screen, "maria")
        assert screen.accounts["maria"].state == "locked"
        await pilot.press("u")
        await settle(app, pilot)
        assert screen.accounts["maria"].state == "active" and screen.check_action("unlock", ()) is None
        highlight(screen, "agent")
        await pilot.press("g")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert [key for key, _label in dialog.choices] == ["user_admin", "admin_agent", "sales_agent"]  # no Global admin
        await pilot.press("down", "enter")  # from Admin agent to Sales agent
        await settle(app, pilot)
        assert screen.accounts["agent"].role == Role.SALES_AGENT
        assert screen.check_action("assign", ()) is True
    rows = conn.execute("SELECT action, target, detail FROM audit WHERE user = 'useradmin' ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("unlock", "maria", ""), ("role_change", "agent", "admin-agent -> sales-agent")]
    conn.close()


# --------------------------------------------------------------------------- audit


async def test_audit_log_newest_first_filters_and_pages(small_db):
    conn = connect(small_db)
    for i in range(5):
        audit.record(conn, "admin", audit.UNLOCK, target=f"user{i}", time=f"2030-01-0{i + 1}T10:00:00")
    audit.record(conn, "useradmin", audit.ROLE_CHANGE, target="maria", detail="sales-agent -> admin-agent",
                 time="2031-06-01T08:00:00")
    app = AdminApp(small_db, USER_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = AuditScreen()
        screen.PAGE_SIZE = 3
        await open_screen(app, pilot, screen)
        table = screen.query_one("#audit-table", DataTable)
        first = screen.selected()
        assert (first.time, first.action, first.target) == ("2031-06-01T08:00:00", "role_change", "maria")
        assert "sales-agent -> admin-agent" in str(screen.query_one("#audit-detail").render())
        assert table.row_count == 3 and screen.more
        assert screen.check_action("page", (-1,)) is None
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert screen.page_offset == 3 and screen.selected().target == "user2"
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert screen.page_offset == 0 and screen.selected().action == "role_change"

        select = screen.query_one("#audit-action", Select)
        select.value = "unlock"
        await settle(app, pilot)
        shown = [screen.entries[str(table.coordinate_to_cell_key((r, 0)).row_key.value)] for r in range(table.row_count)]
        assert [e.target for e in shown] == ["user4", "user3", "user2"]
        assert {e.action for e in shown} == {"unlock"}

        await pilot.press("slash", *"useradmin", "enter")
        await settle(app, pilot)
        assert [screen.entries[k].action for k in screen.entries] == []  # useradmin did no unlock
        screen.query_one("#audit-user", Input).value = ""
        await pilot.press("tab", "tab", *"2030-01-03", "enter")  # since
        await settle(app, pilot)
        assert [screen.entries[k].target for k in screen.entries] == ["user4", "user3", "user2"]
        assert not screen.more
        screen.query_one("#audit-until", Input).value = "tomorrow"
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        assert any("is not a date" in e for e in errors(app))

        await pilot.press("escape", "ctrl+x")
        await settle(app, pilot)
        assert not screen.filters.active and screen.selected().action == "role_change"
    conn.close()


# --------------------------------------------------------------------------- settings


async def test_settings_change_is_saved_audited_and_recomputes(small_db):
    conn = connect(small_db)
    codes = lambda: [r["code"] for r in customer_figures(conn, ADMIN, 1).recommendations]  # noqa: E731
    assert "low_adoption" in codes()  # Alpha Tools: deployment 37.5 %, usage 38.5 %
    app = AdminApp(small_db, ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, SettingsScreen())
        labels = [str(label.render()) for label in screen.query(".setting-label")]
        assert labels == [s.label for s in store.SETTINGS]
        assert screen.query_one("#set-low_adoption_usage_pct", Input).value == "40"

        screen.query_one("#set-low_adoption_usage_pct", Input).value = "500"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any("must be between 0 and 100" in e for e in errors(app))
        assert store.get(conn, "low_adoption_usage_pct") == 40.0

        screen.query_one("#set-low_adoption_usage_pct", Input).value = "10"
        screen.query_one("#set-low_adoption_deployment_pct", Input).value = "10"
        screen.action_save()  # what Ctrl+S does; the form is busy while the figures are recomputed
        assert screen.query_one("#settings-form").loading
        assert "recomputing" in str(screen.query_one("#settings-status").render())
        await settle(app, pilot)
        assert not screen.query_one("#settings-form").loading
        assert screen.edited() == {}
        assert any("Figures recomputed" in text for text, _ in app.notes)
    assert store.get(conn, "low_adoption_usage_pct") == 10.0
    assert "low_adoption" not in codes()
    rows = conn.execute("SELECT user, target, detail FROM audit WHERE action = 'settings_change' ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("admin", "low_adoption_usage_pct"), ("admin", "low_adoption_deployment_pct")]
    assert "40 -> 10" in rows[0][2]
    conn.close()


async def test_settings_save_is_greyed_for_a_user_admin(small_db):
    app = AdminApp(small_db, USER_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, SettingsScreen())
        assert screen.check_action("save", ()) is None
        screen.query_one("#set-idle_lock_minutes", Input).value = "5"
        screen.action_save()
        await settle(app, pilot)
        assert any("may not change settings" in e for e in errors(app))
    conn = connect(small_db)
    assert store.get(conn, "idle_lock_minutes") == 15.0
    conn.close()


# --------------------------------------------------------------------------- password


async def test_forced_password_change_at_login(small_db):
    conn = connect(small_db)
    temporary = accounts.create_account(conn, ADMIN, "newbie", Role.SALES_AGENT)
    principal = accounts.login(conn, "newbie", temporary)
    assert principal.must_change_password
    done: list[Principal] = []
    app = AdminApp(small_db)  # not signed in yet: the login screen is up
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert after_login(app, ADMIN, then=done.append) is False
        assert after_login(app, principal, then=done.append) is True
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangePasswordScreen) and screen.forced
        await pilot.press("escape", "ctrl+p")  # no way out, no palette
        await pilot.pause()
        assert app.screen is screen and not CommandPalette.is_open(app)
        await pilot.press(*temporary, "enter", *"a-new-password-1", "enter", *"a-new-password-2", "enter")
        assert "differ" in str(screen.query_one("#pw-message").render())
        screen.query_one("#pw-repeat", Input).value = "a-new-password-1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is not screen
        assert app.use_command_palette
    assert len(done) == 1 and done[0].username == "newbie" and not done[0].must_change_password
    assert not conn.execute("SELECT must_change_password FROM accounts WHERE username = 'newbie'").fetchone()[0]
    assert conn.execute("SELECT detail FROM audit WHERE action = 'password_change'").fetchone()[0] == "forced change done"
    conn.close()


async def test_password_change_typed_in_one_go(small_db):
    """Current, new and repeated password auto-typed with Tab between them, Enter at the end."""
    from tui_helpers import burst

    conn = connect(small_db)
    temporary = accounts.create_account(conn, ADMIN, "newbie", Role.SALES_AGENT)
    principal = accounts.login(conn, "newbie", temporary)
    done: list[Principal] = []
    app = AdminApp(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        after_login(app, principal, then=done.append)
        await pilot.pause()
        assert isinstance(app.screen, ChangePasswordScreen)
        burst(app, temporary, "tab", "a-new-password-1", "tab", "a-new-password-1", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ChangePasswordScreen)
    assert len(done) == 1 and not done[0].must_change_password
    assert accounts.login(conn, "newbie", "a-new-password-1").username == "newbie"
    conn.close()


async def test_forced_password_change_can_log_out(small_db):
    principal = Principal("maria", Role.SALES_AGENT, must_change_password=True)
    done: list[Principal] = []
    app = AdminApp(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        after_login(app, principal, then=done.append)
        await pilot.pause()
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert not isinstance(app.screen, ChangePasswordScreen)
    assert done == []
    conn = connect(small_db)
    assert conn.execute("SELECT user FROM audit WHERE action = 'logout'").fetchone()[0] == "maria"
    conn.close()


async def test_anyone_changes_their_own_password(small_db):
    from adopt_tui.tui.admin import open_entry

    app = AdminApp(small_db, MARIA)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert open_entry(app, "users") is False  # not for a sales agent
        assert open_entry(app, "password") is True
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangePasswordScreen) and not screen.forced
        assert app.use_command_palette  # not forced: the palette stays
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
        open_entry(app, "password")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#pw-current", Input).value = "not-marias-password"
        screen.query_one("#pw-new", Input).value = "maria-new-password"
        screen.query_one("#pw-repeat", Input).value = "maria-new-password"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert "current password is not right" in str(screen.query_one("#pw-message").render())
        screen.query_one("#pw-current", Input).value = "maria-demo-password"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is not screen
        assert ("Your password was changed.", "information") in app.notes
    conn = connect(small_db)
    assert accounts.login(conn, "maria", "maria-new-password").username == "maria"
    conn.close()
