"""Who sees what, customer data shown literally, the palette, formatting."""

from __future__ import annotations

import math

from textual.command import CommandPalette
from tui_helpers import build, list_names, login, settle

from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import AdoptApp, default_theme
from adopt_tui.tui.screens.customer import CustomerScreen
from adopt_tui.tui.screens.error import ErrorDialog


async def palette_hits(pilot, query: str) -> list[str]:
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    await pilot.pause(0.4)
    await settle(pilot)
    from textual.command import CommandList

    options = app.screen.query_one(CommandList)
    hits = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return hits


async def test_sales_agent_sees_only_her_customers_in_list_and_palette(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "maria")
        assert list_names(app) == ["Alpha Tools", "Cedar Clinics"]
        assert "2 of 2 customers" in app.screen.query_one("#status").render().plain
        assert "maria (Sales agent)" in app.screen.query_one("#status").render().plain
        hits = await palette_hits(pilot, "Customer")
        names = [h for h in hits if "Alpha" in h or "Bravo" in h or "Cedar" in h or "Delta" in h]
        assert any("Alpha Tools" in h for h in names) and any("Cedar Clinics" in h for h in names)
        assert not any("Bravo" in h or "Delta" in h for h in names)
        await pilot.press("escape")
        await pilot.pause()
        # no other path either: opening another agent's customer by id is refused
        bravo = 2
        app.open_customer(bravo)
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert "Bravo" not in app.screen.message


async def test_palette_jumps_to_a_customer_and_offers_role_commands(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "useradmin")  # may not export
        hits = await palette_hits(pilot, "export")
        assert not any("Export" in h for h in hits)
        await pilot.press("escape")
        await pilot.pause()
        hits = await palette_hits(pilot, "delta")
        assert any("Delta Dairy" in h for h in hits)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.figures.customer.name == "Delta Dairy"


async def test_markup_looking_names_are_shown_literally(demo_db):
    app = build(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await login(pilot)
        app.screen.set_filters({"query": "acme"})
        await settle(pilot)
        assert list_names(app) == ["[bold]Acme & Co"]
        svg = app.export_screenshot()
        assert "[bold]Acme&#160;&amp;&#160;Co" in svg
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.figures.customer.name == "[bold]Acme & Co"
        assert "[bold]Acme&#160;&amp;&#160;Co" in app.export_screenshot()


def test_figures_are_formatted_for_reading():
    assert fmt.num(1234567) == "1,234,567"
    assert fmt.num(None) == "—"
    assert fmt.pct(37.5) == "37.5 %"
    assert fmt.pct(41.66666) == "41.7 %"
    assert fmt.pct(None) == "—" and fmt.pct(math.nan) == "—"
    assert fmt.usage(233.333) == "233.3 %!"
    assert fmt.usage(100.0) == "100.0 %"
    assert fmt.pct(1234.5) == "1,234.5 %"
    assert fmt.markers(over_100=True, unexplained=True, low_adoption=False, upsell=True, renewal_due=False) == "? U"
    assert fmt.markers(over_100=False, unexplained=False, low_adoption=False, upsell=False, renewal_due=False) == ""
    assert fmt.sparkline([0, 50, 100, None, 300]) == "▁▅█·█"


def test_theme_follows_the_terminal():
    assert default_theme({"NO_COLOR": "1", "TERM": "xterm-256color"}) == "textual-ansi"
    assert default_theme({"TERM": "xterm"}) == "textual-ansi"
    assert default_theme({"TERM": "xterm-256color"}) == "adopt"
    assert default_theme({"COLORTERM": "truecolor", "TERM": "xterm"}) == "adopt"
    assert default_theme({"ADOPT_TUI_THEME": "nord"}) == "nord"


def test_crash_output_hides_local_variables():
    # AdoptApp overrides Textual's private _fatal_error (which shows locals);
    # if Textual renames it, this fails and the override must follow.
    from textual.app import App

    assert hasattr(App, "_fatal_error")
    assert AdoptApp._fatal_error is not App._fatal_error


async def test_ansi_theme_and_no_color_run(small_db, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = build(small_db, theme=None)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "textual-ansi"
        await login(pilot)
        assert len(list_names(app)) == 4
