"""When the figures change under an open customer list (a threshold setting here),
the list shows the new figures without a restart."""

from __future__ import annotations

from tests.tui.tui_helpers import build, login, save_low_adoption_thresholds, settle


def low_adoption(app, name: str) -> bool:
    view = app.home().view
    return bool(view[view.name == name].low_adoption.iloc[0])


async def test_new_thresholds_reach_the_open_customer_list(small_db):
    app = build(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "admin")
        assert low_adoption(app, "Alpha Tools")  # deployment 37.5 %, adjusted usage 38.5 %
        await save_low_adoption_thresholds(pilot, "10")
        assert app.screen is app.home()
        assert not low_adoption(app, "Alpha Tools")
