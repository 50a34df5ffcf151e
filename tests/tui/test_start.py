"""The first screen: drawn in the theme the app was started with, and a theme chosen later
restyles it (the start skips Textual's refresh of the not yet styled stylesheets)."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.widgets import Input

from adopt_tui.tui.screens.login import LoginScreen


def _box_border_colour(app):
    return app.screen.query_one("#login-box").styles.border_top[1]


def _colour(app, theme: str, name: str) -> Color:
    return Color.parse(app.get_theme(theme).to_color_system().generate()[name])


@pytest.mark.parametrize("start, later", [("textual-light", "textual-dark"), ("adopt", "textual-light")])
async def test_the_login_screen_is_drawn_in_the_starting_theme_and_follows_a_change(make, start, later):
    app = make(theme=start)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        # the box's border is $primary, the screen's background $background
        assert _box_border_colour(app) == _colour(app, start, "primary")
        assert app.screen.styles.background == _colour(app, start, "background")
        app.theme = later
        await pilot.pause()
        assert _box_border_colour(app) == _colour(app, later, "primary")
        assert app.screen.styles.background == _colour(app, later, "background")
        assert app.screen.query_one("#username", Input).has_focus
