"""While the login screen waits for a password, the app reads ahead what the next
screens need; opened by keys afterwards, those screens find it there."""

from __future__ import annotations

from adopt_tui.tui.screens import WIDGETS_AHEAD
from adopt_tui.tui.screens.customer import CustomerScreen
from adopt_tui.tui.screens.portfolio import PortfolioScreen
from adopt_tui.tui.widgets.figures import FigureGrid

from tui_helpers import login, settle


async def _until_warmed_up(pilot) -> None:
    """Wait (not a timing assertion) until the warm-up added the widgets' CSS."""
    app = pilot.app
    for _ in range(200):
        if any(name == "FigureGrid.DEFAULT_CSS" for _path, name in app.stylesheet.source):
            return
        await pilot.pause(0.05)
    raise AssertionError("the warm-up never added the widgets' CSS")


async def test_the_next_screens_add_no_css_read_ahead_at_login(make):
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await _until_warmed_up(pilot)
        before = set(app.stylesheet.source)
        assert len(WIDGETS_AHEAD) > 1
        await login(pilot)
        await settle(pilot)
        await pilot.press("enter")  # Alpha Tools' insights
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.query(FigureGrid)
        await pilot.press("escape", "p")
        await settle(pilot)
        assert isinstance(app.screen, PortfolioScreen)
        added = {name for _path, name in set(app.stylesheet.source) - before}
        # Textual's DataTable (the portfolio's tables) is left to be read when first shown:
        # its rules would restyle the customer list's table (see screens.WIDGETS_AHEAD)
        assert added <= {"DataTable.DEFAULT_CSS"}

