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
