"""The idle lock with a fake clock: it covers the screen, keeps the work underneath,
and only the same user's password uncovers it (or Ctrl+L logs out)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Input

import adopt_tui.tui.app as app_module
from adopt_tui.auth.permissions import Principal, Role
from adopt_tui.store import connect
from adopt_tui.tui.admin import AdminCommands, idle_guard, install_idle_lock, is_locked
from adopt_tui.tui.app import AdoptApp
from adopt_tui.tui.screens.lock import IdleLockScreen

MARIA = Principal("maria", Role.SALES_AGENT, "Maria (sales agent)")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Work(Screen):
    """Something half done, to be found again after the unlock."""

    def compose(self) -> ComposeResult:
        yield Input(id="note")


class IdleApp(AdoptApp):
    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")

    def __init__(self, db_path) -> None:
        super().__init__(db_path, theme="textual-ansi")
        self.principal = MARIA


async def settle(app, pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def audit_actions(db) -> list[str]:
    conn = connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit WHERE user = 'maria' ORDER BY id")]
    finally:
        conn.close()


async def test_idle_lock_covers_the_screen_and_the_right_password_unlocks(small_db):
    clock = FakeClock()
    app = IdleApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        work = Work()
        app.push_screen(work)
        await pilot.pause()
        guard = install_idle_lock(app, clock, seconds=60, interval=0.02)
        await pilot.press(*"half")
        clock.now += 59
        await pilot.press("space")  # input postpones the lock
        clock.now += 59
        await pilot.pause(0.1)
        assert app.screen is work and not is_locked(app)

        clock.now += 2  # 61 s without input
        await pilot.pause(0.1)
        await settle(app, pilot)
        lock = app.screen
        assert isinstance(lock, IdleLockScreen) and is_locked(app) and guard.covered
        assert app.screen_stack[-2] is work
        assert audit_actions(small_db)[-1] == "idle_lock"
        assert not app.use_command_palette
        await pilot.press("ctrl+p")
        assert not CommandPalette.is_open(app)

        await pilot.press(*"wrong-password", "enter")
        await settle(app, pilot)
        assert app.screen is lock
        assert "Wrong password" in str(lock.query_one("#idle-message").render())

        await pilot.press(*"maria-demo-password", "enter")
        await settle(app, pilot)
        assert app.screen is work and not is_locked(app)
        assert work.query_one("#note", Input).value == "half "  # nothing typed on the lock reached it
        assert app.use_command_palette
        assert app.principal.username == "maria"
        assert audit_actions(small_db)[-3:] == ["idle_lock", "login_failure", "idle_unlock"]

        clock.now += 30  # the idle time starts again from the unlock
        await pilot.pause(0.1)
        assert not is_locked(app)


async def test_logout_from_the_lock_screen(small_db):
    clock = FakeClock()
    app = IdleApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        install_idle_lock(app, clock, seconds=60, interval=0.02)
        commands = [name for name, _help, _call in AdminCommands(app.screen)._commands()]
        assert "Lock screen" in commands and "Go to Users" not in commands
        idle_guard(app).lock_now()
        await settle(app, pilot)
        assert isinstance(app.screen, IdleLockScreen)
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert app.principal is None and idle_guard(app) is None
        assert not isinstance(app.screen, IdleLockScreen)
    assert audit_actions(small_db)[-2:] == ["idle_lock", "logout"]


async def test_idle_time_from_the_setting_and_its_change(small_db):
    app = IdleApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        guard = install_idle_lock(app, FakeClock())
        await settle(app, pilot)
        assert guard.timeout == 15 * 60
        guard.set_timeout(5 * 60)
        assert guard.timeout == 300
