"""One failed worker gives one readable error dialog, never two and never a traceback."""

from __future__ import annotations

from adopt_tui.metrics import read
from adopt_tui.tui.screens.error import ErrorDialog
from tests.tui.tui_helpers import build, login, settle


async def test_a_failing_portfolio_load_shows_one_error_dialog(small_db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    app = build(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "admin")
        monkeypatch.setattr(read, "portfolio", broken)
        await pilot.press("p")
        await settle(pilot)
        dialogs = [s for s in app.screen_stack if isinstance(s, ErrorDialog)]
        assert len(dialogs) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert not any(isinstance(s, ErrorDialog) for s in app.screen_stack)
