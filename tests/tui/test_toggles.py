"""Toggles show their state by glyph, not only by colour (NO_COLOR terminals)."""

from textual.app import App, ComposeResult
from textual.widgets import RadioSet

from adopt_tui.tui.widgets.toggles import Check, Radio


class Toggles(App):
    def compose(self) -> ComposeResult:
        with RadioSet():
            yield Radio("one", value=True, id="one")
            yield Radio("two", id="two")
        yield Check("tick", id="tick")


async def test_state_is_in_the_glyph():
    app = Toggles()
    async with app.run_test() as pilot:
        one, two, tick = app.query_one("#one"), app.query_one("#two"), app.query_one("#tick")
        assert "●" in one.render().plain and "○" in two.render().plain
        two.value = True
        await pilot.pause()
        assert "○" in one.render().plain and "●" in two.render().plain
        assert "X" not in tick.render().plain
        tick.value = True
        await pilot.pause()
        assert "X" in tick.render().plain
