"""The core flow driven by keys: login, the customer list, insights, subscriptions, help."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from adopt_tui.tui.screens.customer import CustomerScreen
from adopt_tui.tui.screens.customers import CustomerListScreen, FilterPicker
from adopt_tui.tui.screens.error import ErrorDialog
from adopt_tui.tui.screens.help import HelpScreen
from adopt_tui.tui.screens.login import GENERIC, LoginScreen
from adopt_tui.tui.screens.subscriptions import SubscriptionsScreen
from adopt_tui.tui.widgets.status import StatusLine

from tui_helpers import DEMO_ACCOUNTS, build, burst, list_names, login, settle


def static_text(screen, selector: str) -> str:
    widget = screen.query_one(selector, Static)
    content = widget.render()
    return content.plain if hasattr(content, "plain") else str(content)


def status(app) -> str:
    return app.screen.query_one(StatusLine).render().plain


def shown_cell(home, name: str, label: str) -> str:
    """The text the customer list shows for one customer in one column."""
    from textual.coordinate import Coordinate

    row = list_names(home.app).index(name)
    column = [c.label for c in home._shown].index(label)
    cell = home._table().get_cell_at(Coordinate(row, column))
    return cell.plain if isinstance(cell, Text) else str(cell)


async def test_login_success_opens_the_customer_list(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "admin", type_keys=True)
        assert isinstance(app.screen, CustomerListScreen)
        assert app.principal.username == "admin"
        assert list_names(app) == ["Alpha Tools", "Bravo Bakery", "Cedar Clinics", "Delta Dairy"]
        assert status(app) == "4 of 4 customers · as of 2026-10-31 · scope: all sources · admin (Global admin)"


async def test_name_and_password_typed_in_one_go_log_in(make):
    """Auto-type's ``name{TAB}password{ENTER}`` and ``name{ENTER}password{ENTER}``, arriving in one read: each
    key lands in the field it was typed for."""
    for between in ("tab", "enter"):
        app = make()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            burst(app, "maria", between, "maria-demo-password", "enter")
            await settle(pilot)
            assert isinstance(app.screen, CustomerListScreen), between
            assert app.principal.username == "maria"


async def test_shift_tab_in_a_burst_goes_back_to_the_name(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        burst(app, "mar", "tab", "secret", "shift+tab", "ia")
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#username").value == "maria" and screen.query_one("#password").value == "secret"
        assert screen.focused is screen.query_one("#username")


async def test_login_failure_shows_one_generic_message(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "admin", "wrong-password", type_keys=True)
        assert isinstance(app.screen, LoginScreen)
        assert static_text(app.screen, "#login-message") == GENERIC
        assert app.screen.query_one("#password").value == ""
        assert app.screen.query_one("#password").password  # masked
        app.screen.query_one("#username").focus()
        await login(pilot, "nobody", "whatever-password")
        assert static_text(app.screen, "#login-message") == GENERIC
        assert app.principal is None


async def test_demo_accounts_are_listed_only_when_given(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#demo-accounts")
    app = make(demo_accounts=DEMO_ACCOUNTS)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = static_text(app.screen, "#demo-accounts")
        assert "maria" in text and "maria-demo-password" in text and "Sales agent" in text


async def test_filter_narrows_the_list_as_you_type(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("slash", *"cedar")
        await pilot.pause(0.2)
        await settle(pilot)
        assert list_names(app) == ["Cedar Clinics"]
        assert status(app).startswith("1 of 4 customers")
        await pilot.press("enter")  # leaves the filter for the table
        await pilot.press("enter")  # opens the only row
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.figures.customer.name == "Cedar Clinics"


async def test_slash_and_a_filter_typed_in_one_go(make):
    """``/`` moves the focus to the filter (by call_later): the letters typed right behind it go there too."""
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "admin")
        burst(app, "/", "ce")
        await settle(pilot)
        await pilot.pause(0.2)
        assert app.screen.query_one("#filter").value == "ce"
        assert list_names(app) == ["Cedar Clinics"]


async def test_filter_matches_tenant_id_and_domain(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("slash", *"dddddddd")
        await pilot.pause(0.2)
        await settle(pilot)
        assert list_names(app) == ["Delta Dairy"]
        app.screen.set_filters({"query": "bravo.example"})
        await settle(pilot)
        assert list_names(app) == ["Bravo Bakery"]


async def test_each_filter_change_selects_rows_once(make):
    """A key in the field filters as it is handled; a filter set from code fills the field without
    filtering a second time; typing on from there extends that filter (the text cursor is at its end)."""
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        home = app.screen
        field = home.query_one("#filter")
        await pilot.press("slash")
        serial = home.view_serial
        await pilot.press("a")
        assert home.view_serial == serial + 1 and home.filters["query"] == "a"
        home.set_filters({"query": "ce"})
        assert field.value == "ce" and home.view_serial == serial + 2
        assert list_names(app) == ["Cedar Clinics"]
        await pilot.press("d")  # the text cursor is at the end of the filter set from code
        assert home.filters["query"] == "ced" and home.view_serial == serial + 3
        assert list_names(app) == ["Cedar Clinics"]
        home.set_filters({})
        assert field.value == "" and home.view_serial == serial + 4 and len(list_names(app)) == 4


async def test_sorting_orders_the_list_and_reverses(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        screen = app.screen
        await pilot.press("s")  # next column: Sold, largest first
        await settle(pilot)
        assert screen.sort_key == "sold" and screen.descending
        assert list(screen.view.sold) == sorted(screen.view.sold, reverse=True)
        assert list_names(app)[0] == "Alpha Tools"
        await pilot.press("r")
        await settle(pilot)
        assert list(screen.view.sold) == sorted(screen.view.sold)
        # every shown column can be reached with s
        seen = {screen.sort_key}
        for _ in range(len(screen._shown)):
            await pilot.press("s")
            await settle(pilot)
            seen.add(screen.sort_key)
        assert {c.sort for c in screen._shown} <= seen
        # usage %: missing figures always last
        while screen.sort_key != "usage_pct":
            await pilot.press("s")
            await settle(pilot)
        assert list_names(app)[-2:] == ["Bravo Bakery", "Delta Dairy"] or list_names(app)[-1] in (
            "Bravo Bakery", "Delta Dairy")
        assert screen.view.usage_pct.isna().tolist()[-1]


async def test_quick_filters_by_key(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FilterPicker)
        await pilot.press("down", "enter")  # the second entry: Upsell
        await settle(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, CustomerListScreen)
        assert list_names(app) == ["Cedar Clinics", "Delta Dairy"]
        assert "Upsell" in static_text(app.screen, "#view-info")
        await pilot.press("c")
        await settle(pilot)
        assert len(list_names(app)) == 4


async def test_open_customer_list_with_filters_from_another_screen(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        app.open_customer_list({"market": "NL"})
        await settle(pilot)
        assert list_names(app) == ["Alpha Tools", "Cedar Clinics"]
        app.open_customer_list({"agent": "tomas"})
        await settle(pilot)
        assert list_names(app) == ["Bravo Bakery"]


async def test_enter_opens_the_highlighted_customer(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.figures.customer.name == "Cedar Clinics"
        assert "Cedar Clinics" in static_text(app.screen, "#customer-title")
        await pilot.press("escape")
        assert isinstance(app.screen, CustomerListScreen)


async def test_scope_toggle_changes_the_figures(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("enter")  # Alpha Tools
        await settle(pilot)
        assert "Deployment 37.5 %" in static_text(app.screen, "#summary")
        assert "scope: all sources" in status(app)
        await pilot.press("o")
        await settle(pilot)
        assert app.scope == "own"
        assert "Deployment 41.7 %" in static_text(app.screen, "#summary")
        assert "scope: own licenses" in status(app)
        await pilot.press("escape")
        await settle(pilot)
        home = app.screen
        assert "scope: own licenses" in status(app)
        assert shown_cell(home, "Alpha Tools", "Deploy %") == "41.7 %"


async def test_previous_and_next_follow_the_list_order(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("s")  # by sold, largest first: Alpha 16, Cedar 4, Delta 2, Bravo 0
        await settle(pilot)
        order = list_names(app)
        await pilot.press("enter")
        await settle(pilot)
        names = [app.screen.figures.customer.name]
        for _ in range(2):
            await pilot.press("right_square_bracket")
            await settle(pilot)
            names.append(app.screen.figures.customer.name)
        assert names == order[:3]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.screen.figures.customer.name == order[1]
        await pilot.press("b", "b")  # b is previous too; wraps around at the start
        await settle(pilot)
        assert app.screen.figures.customer.name == order[-1]


async def test_insights_show_explanations_recommendations_and_marked_usage(make):
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await pilot.press("enter")  # Alpha Tools
        await settle(pilot)
        screen = app.screen
        explanations = static_text(screen, "#explanations")
        assert "Exchange (233.3 %!)" in explanations
        assert "deleted by the as-of date" in explanations  # turnover, in plain words
        recs = static_text(screen, "#recommendations")
        assert "Low adoption" in recs and "Consider:" in recs and "Try:" in recs
        workloads = screen.query_one("#workloads")
        cells = [workloads.get_row_at(i) for i in range(workloads.row_count)]
        exchange = next(row for row in cells if row[0].plain == "Exchange")
        assert exchange[3].plain == "233.3 %!"


async def test_subscriptions_screen_marks_renewals(make):
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await pilot.press("enter", "s")
        await settle(pilot)
        assert isinstance(app.screen, SubscriptionsScreen)
        table = app.screen.query_one("#subscriptions")
        rows = [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]
        e3 = next(r for r in rows if r[0] == "Office 365 E3")
        assert e3[-1] == "renewal due"
        assert all("other" not in " ".join(r) for r in rows)  # own licenses only
        await pilot.press("escape")
        assert isinstance(app.screen, CustomerScreen)


async def test_help_lists_the_keys_of_the_current_screen(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        actions = {d for _k, d, _t in app.screen.rows}
        assert {"Open", "Filter", "Quick filters", "Sort", "Reverse", "Scope", "Help"} <= actions
        assert "Subscriptions" not in actions
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f1")
        actions = {d for _k, d, _t in app.screen.rows}
        assert {"Back", "Prev", "Next", "Subscriptions", "Scope"} <= actions
        assert "Quick filters" not in actions
        glossary = " ".join(w.render().plain for w in app.screen.query(".glossary-term"))
        assert "Adjusted usage %" in glossary and "Why usage can exceed 100 %" in glossary


async def test_a_failing_worker_shows_an_error_dialog(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        app.open_customer(999)
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert "no customer with id 999" in app.screen.message
        await pilot.press("escape")
        assert isinstance(app.screen, CustomerScreen)


async def test_logout_returns_to_the_login_screen(make):
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.principal is None
        await login(pilot, "maria")
        assert list_names(app) == ["Alpha Tools", "Cedar Clinics"]
