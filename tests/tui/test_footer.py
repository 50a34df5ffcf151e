"""The footer's keys are one widget (KeysLine) but behave like Textual's footer keys:
they show the screen's keys, a click presses one, hovering shows its tooltip."""

from __future__ import annotations

from adopt_tui.tui.screens.customer import CustomerScreen
from adopt_tui.tui.screens.customers import CustomerListScreen
from adopt_tui.tui.widgets.footer import KeysLine

from tui_helpers import login, settle


def keys_text(app) -> str:
    return app.screen.query_one(KeysLine).render().plain


def offset_of(app, words: str) -> tuple[int, int]:
    return keys_text(app).index(words) + 1, 0


async def test_the_footer_shows_the_keys_of_the_screen_shown(make):
    app = make()
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        await settle(pilot)
        assert " s Sort " in keys_text(app) and "Subscriptions" not in keys_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert " esc Back " in keys_text(app) and " s Subscriptions " in keys_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert " s Sort " in keys_text(app)


async def test_a_click_on_a_key_presses_it_and_hovering_shows_its_tooltip(make):
    app = make()
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerListScreen) and screen.sort_key == "sort_name"
        await pilot.hover(KeysLine, offset=offset_of(app, " s Sort "))
        assert screen.query_one(KeysLine).tooltip == "Sort by the next column"
        await pilot.click(KeysLine, offset=offset_of(app, " s Sort "))
        await settle(pilot)
        assert screen.sort_key != "sort_name"


async def test_keys_that_do_not_fit_end_with_the_help_key(make):
    """At 80 columns the list's keys do not fit: they close up, the ones that still do not fit give way to
    ``…`` and the help key, which a click opens; wide enough, every key is drawn as Footer draws it."""
    from adopt_tui.tui.screens.help import HelpScreen

    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await settle(pilot)
        line = app.screen.query_one(KeysLine)
        text = keys_text(app)
        assert text.startswith("⏎ Open / Filter ") and text.endswith(" … ? Help ")
        assert len(text) <= line.size.width and "Portfolio" not in text
        await pilot.click(KeysLine, offset=(text.index("? Help") + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
    app = make()
    async with app.run_test(size=(200, 30)) as pilot:
        await login(pilot)
        await settle(pilot)
        text = keys_text(app)
        assert text.startswith(" ⏎ Open  / Filter ") and "…" not in text
        assert " p Portfolio " in text and " ? Help " in text
