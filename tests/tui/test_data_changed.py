"""When the figures change under an open customer list (a threshold setting here),
the list shows the new figures without a restart."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.tui_helpers import build, login, settle


def low_adoption(app, name: str) -> bool:
    view = app.home().view
    return bool(view[view.name == name].low_adoption.iloc[0])


async def test_new_thresholds_reach_the_open_customer_list(small_db):
    app = build(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "admin")
        assert low_adoption(app, "Alpha Tools")  # deployment 37.5 %, adjusted usage 38.5 %
        app.open_admin("settings")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#set-low_adoption_usage_pct", Input).value = "10"
        screen.query_one("#set-low_adoption_deployment_pct", Input).value = "10"
        screen.action_save()
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.home()
        assert not low_adoption(app, "Alpha Tools")
