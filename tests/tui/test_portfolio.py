"""Portfolio insights, driven by keys: log in, press p, switch analyses, Enter on rows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from textual.widgets import DataTable, TabbedContent

from adopt_tui.auth.accounts import login
from adopt_tui.metrics.read import portfolio
from adopt_tui.store import connect
from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import make_app
from adopt_tui.tui.screens.portfolio import TABS, PortfolioScreen
from adopt_tui.tui.widgets.charts import BarChart, TrendChart

AS_OF = "2026-10-31"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PASSWORDS = {
    "admin": "admin-demo-password", "useradmin": "useradmin-demo-password",
    "agent": "agent-demo-password", "maria": "maria-demo-password",
}


async def settle(app, pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()
    # the tabs' underline slides into place: on a busy machine a snapshot could catch it mid-way
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def sign_in(app, pilot, user: str) -> None:
    """Through the login screen, by keys."""
    await pilot.press(*user, "enter", *PASSWORDS[user], "enter")
    await settle(app, pilot)
    assert app.principal is not None and app.principal.username == user


async def open_portfolio(app, pilot, user: str = "admin") -> PortfolioScreen:
    await sign_in(app, pilot, user)
    await pilot.press("p")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, PortfolioScreen)
    assert screen.portfolio is not None
    # the hidden tabs are built one per refresh after the first draw; wait for all of them, then for the
    # tabs' underline to slide into place (a snapshot on a busy machine could otherwise catch it mid-way)
    for _ in range(200):
        if set(screen._built) >= {tab for tab, _label in TABS}:
            break
        await pilot.pause(0.01)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return screen


def expected(db, user: str, scope: str = "all"):
    conn = connect(db)
    try:
        return portfolio(conn, login(conn, user, PASSWORDS[user]), scope, None)
    finally:
        conn.close()


def cells(table: DataTable) -> dict[str, list[str]]:
    """Row key -> the row's cells as plain text."""
    out = {}
    for row_key in table.rows:
        out[row_key.value] = [str(getattr(c, "plain", c)) for c in table.get_row(row_key)]
    return out


def overview_value(screen, key: str) -> str:
    return cells(screen.query_one("#overview-figures", DataTable))[key][1]


async def test_overview_totals_on_the_small_fixture(small_db):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        assert screen.portfolio.as_of == AS_OF
        # by hand (tests/fixtures/small, as of 2026-10-31, all sources)
        assert overview_value(screen, "customers") == "4"
        assert overview_value(screen, "sold") == "22"
        assert overview_value(screen, "assigned") == "12"
        assert overview_value(screen, "deployment_pct") == "54.5 %"  # 12 / 22
        # and everything else as the core computes it
        p = expected(small_db, "admin")
        t = p.totals
        assert overview_value(screen, "entitled") == fmt.num(t["entitled"])
        assert overview_value(screen, "active") == fmt.num(t["active"])
        assert overview_value(screen, "usage_pct") == fmt.usage(t["usage_pct"])
        assert overview_value(screen, "adjusted_usage_pct") == fmt.usage(t["adjusted_usage_pct"])
        signals = cells(screen.query_one("#overview-signals", DataTable))
        assert signals["s:low_adoption"][1] == str(t["low_adoption"])
        assert signals["s:upsell"][1] == str(t["upsell"])
        assert signals["s:renewal_due"][1] == str(t["renewals_due"])
        assert signals["s:over_100"][1].startswith(str(t["over_100"]))
        assert "as of 2026-10-31" in str(screen.query_one("#status").render())


async def test_tabs_switch_by_key_and_show_the_core_figures(demo_db):
    p = expected(demo_db, "admin")
    app = make_app(demo_db, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_portfolio(app, pilot)
        tabs = screen.query_one(TabbedContent)
        for key, tab in zip("2345671", ("products", "workloads", "bands", "agents", "trend", "opportunities",
                                         "overview")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab
        await pilot.press("right_square_bracket")
        assert tabs.active == "products"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tabs.active == "opportunities"

        products = cells(screen.query_one("#products-table", DataTable))
        assert list(products) == [f"p:{r['sku']}" for r in p.by_product]
        first = p.by_product[0]
        assert products[f"p:{first['sku']}"][1:5] == [
            fmt.num(first["customers"]), fmt.num(first["sold"]), fmt.num(first["assigned"]),
            fmt.pct(first["deployment_pct"]),
        ]
        workloads = cells(screen.query_one("#workloads-table", DataTable))
        assert [v[0] for v in workloads.values()] == [r["name"] for r in p.by_workload]
        for r in p.by_workload:
            assert workloads[f"w:{r['workload']}"][4] == fmt.usage(r["usage_pct"])

        bands = cells(screen.query_one("#bands-table", DataTable))
        assert [int(v[1]) for v in bands.values()] == list(p.bands.values())
        assert [count for _, count in screen.query_one("#bands-chart", BarChart).bars] == list(p.bands.values())

        agents = cells(screen.query_one("#agents-table", DataTable))
        assert [v[0] for v in agents.values()] == [r["agent"] for r in p.by_agent]

        chart = screen.query_one("#trend-chart", TrendChart)
        assert len(chart.labels) == len(p.trend) == 12
        assert chart.labels[-1] == "Oct"
        assert chart.series_names == ("Deployment", "Usage", "Adjusted usage")
        await pilot.press("6", "z")
        assert chart.zoomed and "zoomed" in str(screen.query_one("#trend-caption").render())
        await pilot.press("1")
        assert screen.check_action("zoom", ()) is False  # z applies to the trend only

        lowest = cells(screen.query_one("#lowest-table", DataTable))
        assert [int(k.split(":")[1]) for k in lowest] == [r["id"] for r in p.lowest_adopters]
        renewals = screen.query_one("#renewals-table", DataTable)
        assert renewals.row_count == len(p.renewals)


async def test_customer_names_are_never_markup(demo_db):
    app = make_app(demo_db, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_portfolio(app, pilot)
        names = [row[0] for row in cells(screen.query_one("#renewals-table", DataTable)).values()]
        assert "[bold]Acme & Co" in names  # the demo's markup-looking customer, shown as typed


async def test_enter_on_a_lowest_adopter_opens_that_customer(small_db, monkeypatch):
    app = make_app(small_db, clock=lambda: NOW)
    opened: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        orders: list = []
        monkeypatch.setattr(app, "open_customer", lambda cid, order=None: (opened.append(cid), orders.append(order)))
        await pilot.press("7")
        await pilot.pause()
        assert app.focused is screen.query_one("#lowest-table", DataTable)
        await pilot.press("down", "enter")
        await pilot.pause()
        second = screen.portfolio.lowest_adopters[1]
        assert opened == [second["id"]]
        assert orders == [[r["id"] for r in screen.portfolio.lowest_adopters]]  # previous/next walk this list
        assert second["name"] == "Cedar Clinics"


async def test_enter_on_a_lowest_adopter_shows_the_customer_screen(small_db):
    pytest.importorskip("adopt_tui.tui.screens.customer")
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        first = screen.portfolio.lowest_adopters[0]
        await pilot.press("7", "enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "CustomerScreen"
        assert getattr(app.screen, "customer_id", first["id"]) == first["id"]


async def test_enter_on_product_agent_signal_and_band_rows_opens_the_filtered_list(small_db, monkeypatch):
    app = make_app(small_db, clock=lambda: NOW)
    filters: list[dict] = []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        monkeypatch.setattr(app, "open_customer_list", lambda f=None: filters.append(f))
        await pilot.press("2", "enter")  # the product with the most seats sold
        await pilot.press("5", "down", "enter")  # agents: (none), maria, ...
        await pilot.press("1", "enter")  # overview signals: low adoption first
        await pilot.press("4", "enter")  # bands: 0-25 -> low adoption, said in a notification
        await pilot.pause()
        assert filters == [
            {"product": screen.portfolio.by_product[0]["sku"]},
            {"agent": "maria"},
            {"low_adoption": True},
            {"low_adoption": True},
        ]


async def test_scope_toggle_reloads_with_own_licenses(small_db):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        assert overview_value(screen, "sold") == "22"
        await pilot.press("o")
        await settle(app, pilot)
        own = expected(small_db, "admin", "own")
        assert screen.scope == "own"
        assert overview_value(screen, "sold") == fmt.num(own.totals["sold"]) == "16"
        assert overview_value(screen, "assigned") == "9"
        assert "own licenses" in str(screen.query_one("#status").render())


async def test_a_sales_agent_sees_only_their_customers(small_db):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot, "maria")
        mine = expected(small_db, "maria")
        assert overview_value(screen, "customers") == str(mine.totals["customers"]) == "2"
        assert overview_value(screen, "sold") == "20"
        lowest = cells(screen.query_one("#lowest-table", DataTable))
        assert {int(k.split(":")[1]) for k in lowest} <= {1, 3}


async def test_export_key_only_for_roles_that_may_export(small_db):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot, "useradmin")
        assert screen.check_action("export", ()) is False
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is screen


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_overview(snap_compare, small_db, size):
    async def run_before(pilot):
        await open_portfolio(pilot.app, pilot)

    app = make_app(small_db, clock=lambda: NOW, theme="textual-dark")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_trend(snap_compare, demo_db, size):
    async def run_before(pilot):
        await open_portfolio(pilot.app, pilot)
        await pilot.press("6")
        await settle(pilot.app, pilot)

    app = make_app(demo_db, clock=lambda: NOW, theme="textual-dark")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_the_trend_tab_fills_the_screen_after_a_customer_was_opened(demo_db):
    """customer.tcss once styled every #trend, the portfolio's Trend tab included
    (12 rows high), but only after a customer's insights had been opened."""
    heights = []
    for visit_a_customer in (False, True):
        app = make_app(demo_db, clock=lambda: NOW, theme="textual-dark")
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(app, pilot, "admin")
            if visit_a_customer:
                await pilot.press("enter")
                await settle(app, pilot)
                assert app.screen.query("#trend")  # the customer's chart
                await pilot.press("escape")
                await settle(app, pilot)
            await pilot.press("p")
            await settle(app, pilot)
            await pilot.press("6")
            await settle(app, pilot)
            heights.append(app.screen.query_one("#trend-chart", TrendChart).size.height)
    assert heights[0] == heights[1] > 12


async def test_prefetched_figures_fill_the_overview_before_its_first_frame(small_db, monkeypatch):
    """A prefetch that ends while the screen is mounted is drawn from the screen's first
    frame: no loading path (_adopt) and the signals table focused from the start."""
    monkeypatch.setattr(PortfolioScreen, "PREFETCH_WAIT", 30.0)  # however slow the machine
    adopted = []
    monkeypatch.setattr(PortfolioScreen, "_adopt", lambda self, *args: adopted.append(args))
    at_first_frame = []
    real_resume = PortfolioScreen._on_screen_resume

    def resume(self, event):
        if not at_first_frame:  # before Textual's handler lays the screen out and draws it
            figures = self.query_one("#overview-figures", DataTable)
            at_first_frame.append((self.portfolio is not None, figures.row_count, self.focused))
        return real_resume(self, event)

    monkeypatch.setattr(PortfolioScreen, "_on_screen_resume", resume)
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_portfolio(app, pilot)
        assert adopted == []
        signals = screen.query_one("#overview-signals", DataTable)
        assert at_first_frame == [(True, 8, signals)]
        assert overview_value(screen, "customers") == "4"
        assert app.focused is signals
        assert not screen.query_one(TabbedContent).loading


async def test_a_slow_prefetch_draws_the_screen_first_and_the_figures_when_read(small_db, monkeypatch):
    """A read that outlasts PREFETCH_WAIT: the screen is shown without figures, then filled."""
    import adopt_tui.tui.screens.portfolio as portfolio_screen

    monkeypatch.setattr(PortfolioScreen, "PREFETCH_WAIT", 0.0)
    release = __import__("threading").Event()
    real_read = portfolio_screen.read_portfolio

    def slow_read(*args, **kwargs):
        release.wait(30)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(portfolio_screen, "read_portfolio", slow_read)
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot, "admin")
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PortfolioScreen)
        assert screen.portfolio is None
        assert screen.query_one("#overview-figures", DataTable).row_count == 0
        assert "loading" in str(screen.query_one("#status").render())
        release.set()
        screen = await open_portfolio_settled(app, pilot)
        assert overview_value(screen, "customers") == "4"
        assert not screen.query_one(TabbedContent).loading
        assert app.focused is screen.query_one("#overview-signals", DataTable)  # keys work at once
        await pilot.press("down", "enter")  # the second signal's customers, by keys alone
        await settle(app, pilot)
        assert not isinstance(app.screen, PortfolioScreen)


async def open_portfolio_settled(app, pilot) -> PortfolioScreen:
    for _ in range(500):
        await settle(app, pilot)
        if getattr(app.screen, "portfolio", None) is not None:
            break
    screen = app.screen
    assert isinstance(screen, PortfolioScreen) and screen.portfolio is not None
    return screen
