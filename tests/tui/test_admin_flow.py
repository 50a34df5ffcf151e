"""The administration screens reached the way people reach them: log in, press
``a``, pick a screen (the app's menu over tui/admin's and app.py's entries)."""

from __future__ import annotations

from tui_helpers import login, settle

from adopt_tui.tui.screens.audit import AuditScreen
from adopt_tui.tui.screens.users import UsersScreen


async def test_admin_menu_opens_the_users_and_audit_screens(make):
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "admin")
        assert {"users", "audit", "settings"} <= {e.key for e in app.admin_entries()}
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter")  # the first entry: Users
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "maria" in app.screen.accounts
        await pilot.press("escape")
        await pilot.pause()
        app.open_admin("audit")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        entries = list(screen.entries.values())
        assert [e.time for e in entries] == sorted((e.time for e in entries), reverse=True)
        assert ("admin", "login_success") in {(e.user, e.action) for e in entries}


async def test_a_sales_agent_gets_no_administration_screen(make):
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "maria")
        keys = {e.key for e in app.admin_entries()}
        assert not keys & {"users", "audit", "settings"}


async def test_forced_password_change_after_a_real_login(make, small_db):
    from adopt_tui.auth import accounts
    from adopt_tui.auth.permissions import Principal, Role
    from adopt_tui.store import connect
    from adopt_tui.tui.screens.customers import CustomerListScreen
    from adopt_tui.tui.screens.password import ChangePasswordScreen

    conn = connect(small_db)
    temporary = accounts.create_account(conn, Principal("admin", Role.GLOBAL_ADMIN), "newbie", Role.SALES_AGENT)
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "newbie", temporary)
        screen = app.screen
        assert isinstance(screen, ChangePasswordScreen) and screen.forced
        assert app.principal is None and app.admin_entries() == []
        screen.query_one("#pw-current").value = temporary
        screen.query_one("#pw-new").value = "newbie-own-password"
        screen.query_one("#pw-repeat").value = "newbie-own-password"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerListScreen)
        assert app.principal.username == "newbie" and not app.principal.must_change_password
    assert not conn.execute("SELECT must_change_password FROM accounts WHERE username = 'newbie'").fetchone()[0]
    conn.close()


async def test_idle_lock_after_a_real_login_keeps_the_customer_list(small_db):
    from datetime import timedelta

    from tui_helpers import FIXED_NOW

    from adopt_tui.tui.app import make_app
    from adopt_tui.tui.screens.customers import CustomerListScreen
    from adopt_tui.tui.screens.lock import IdleLockScreen

    now = [FIXED_NOW]
    app = make_app(small_db, clock=lambda: now[0], idle_minutes=0.01, theme="adopt")  # 0.6 s
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "maria")
        home = app.screen
        assert isinstance(home, CustomerListScreen)
        now[0] += timedelta(seconds=2)
        await pilot.pause(0.4)
        await settle(pilot)
        assert isinstance(app.screen, IdleLockScreen) and app.is_locked()
        assert app.check_action("portfolio", ()) is False
        app.screen.query_one("#idle-password").value = "maria-demo-password"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is home and not app.is_locked()
