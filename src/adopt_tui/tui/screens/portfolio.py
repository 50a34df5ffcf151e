"""Portfolio insights: the whole portfolio in several analyses, one per tab.

Overview, by product, by workload, adoption bands, by sales agent, trend and
opportunities. Keys 1-7 (or the tabs) switch analyses; Enter on a row opens
the customer, or the customer list filtered to what the row stands for.

The figures come from :func:`adopt_tui.metrics.read.portfolio`, which only
ever sees the customers the signed-in principal may see; they are loaded in a
thread worker with its own sqlite connection and posted back as a message.
"""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import DataTable, Header, Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from adopt_tui.auth.permissions import Perm
from adopt_tui.metrics.read import Portfolio
from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.charts import BarChart, TrendChart
from adopt_tui.tui.widgets.footer import KeysFooter
from adopt_tui.tui.widgets.status import StatusLine

BAND_LABELS = {
    "0-25": "0–25 %", "25-50": "25–50 %", "50-75": "50–75 %", "75-100": "75–100 %", ">100": "over 100 %",
    "n/a": "n/a",
}
# What Enter on a band opens: the customer list has no usage-band filter, so the
# nearest list filter, said out loud in a notification.
BAND_FILTERS: dict[str, tuple[dict, str]] = {
    "0-25": ({"low_adoption": True}, "customers flagged for low adoption"),
    "25-50": ({"low_adoption": True}, "customers flagged for low adoption"),
    ">100": ({"over_100": True}, "customers with a usage figure over 100 %"),
}

TABS = (
    ("overview", "Overview"),
    ("products", "Products"),
    ("workloads", "Workloads"),
    ("bands", "Bands"),
    ("agents", "Agents"),
    ("trend", "Trend"),
    ("opportunities", "Opportunities"),
)


class PortfolioLoaded(Message):
    """The worker's result: the portfolio for one scope and as-of date."""

    def __init__(self, portfolio: Portfolio, scope: str, renewal_days: int = 30) -> None:
        super().__init__()
        self.portfolio = portfolio
        self.scope = scope
        self.renewal_days = renewal_days


RENEWALS_SHOWN = 200  # rows drawn in the renewals list


class TrendLoaded(Message):
    """The second worker's result: the 12-month trend (slow on large portfolios, so it comes after)."""

    def __init__(self, trend: list[dict], scope: str) -> None:
        super().__init__()
        self.trend = trend
        self.scope = scope


def read_portfolio(app, scope: str, as_of: str | None) -> tuple[Portfolio, int]:
    """The portfolio without its trend, and the renewal window (in a worker thread: its own connection)."""
    from adopt_tui.metrics.read import portfolio
    from adopt_tui.store import settings

    with app.db() as conn:
        result = portfolio(conn, app.principal, scope, as_of, with_trend=False)
        renewal_days = int(settings.get(conn, "renewal_window_days"))
    return result, renewal_days


def _month_label(month: str) -> str:
    """``2026-01`` -> ``Jan``; the year shows in the chart's caption."""
    try:
        return date.fromisoformat(f"{month}-01").strftime("%b")
    except ValueError:
        return month


class PortfolioScreen(AdoptScreen):
    """Portfolio insights for the signed-in principal, in the app's scope."""

    CSS_PATH = tcss("portfolio.tcss")
    # Width: the trend's month table beside the chart from 110 columns, the
    # opportunity lists in a 2x2 grid from 180. Height: the overview adds the
    # band chart from 32 rows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (180, "-xwide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    # How long the screen's first frame may wait for the prefetched figures (_prefetch_done).
    PREFETCH_WAIT = 0.1
    # The Overview's signals: the table the screen ends up focusing (_focus_first_table).
    # Textual's default ("*") focused the tab strip first and the table a moment later:
    # three restyles, ~15 ms of the opening (profiled), for the same end state.
    AUTO_FOCUS = "#overview-signals"

    BINDINGS = [
        *(
            Binding(str(n), f"show_tab('{tab}')", label, show=False, id=f"portfolio.tab.{tab}",
                    tooltip=f"Show the {label.lower()} analysis")
            for n, (tab, label) in enumerate(TABS, start=1)
        ),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", show=False, id="portfolio.next_tab"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", show=False, id="portfolio.previous_tab"),
        Binding("z", "zoom", "Zoom", id="portfolio.zoom",
                tooltip="Trend: stretch the y axis to the figures, or back to 0-100 %"),
        Binding("e", "export", "Export", id="portfolio.export", tooltip="Export the portfolio or its customers"),
        Binding("f5", "reload", "Reload", show=False, id="portfolio.reload", tooltip="Read the figures again"),
        Binding("escape,q", "back", "Back", id="portfolio.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, scope: str = "all", as_of: str | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.scope = scope
        self.as_of = as_of
        self.portfolio: Portfolio | None = None
        self.renewal_days = 30
        self._built: set[str] = set()  # the tabs whose widgets are mounted (see _build)
        self._prefetched: tuple[tuple[str, str | None], Worker] | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="portfolio-tabs", initial="overview"):
            for tab, label in TABS:
                with TabPane(label, id=tab):
                    if tab == "overview":
                        self._built.add(tab)
                        yield from self._pane_widgets(tab)
        yield StatusLine()
        yield KeysFooter()

    def _pane_widgets(self, tab: str) -> list:
        """The widgets of one analysis (mounted into its TabPane; see _build)."""
        table = self._table
        if tab == "overview":
            return [
                Horizontal(
                    Vertical(Label("Licenses and usage", classes="panel-title"),
                             table("overview-figures", cursor="none"), classes="panel", id="overview-figures-panel"),
                    Vertical(Label("Signals · Enter lists them", classes="panel-title"), table("overview-signals"),
                             classes="panel"),
                    id="overview-tables",
                ),
                Vertical(Label("Customers per usage band", classes="panel-title"),
                         BarChart(id="overview-bands", empty_text="No customers."), id="overview-bands-box"),
            ]
        if tab in ("products", "workloads", "agents"):
            return [table(f"{tab}-table")]
        if tab == "bands":
            return [Vertical(Label("Customers per usage band (core workloads)", classes="panel-title"),
                             BarChart(id="bands-chart", empty_text="No customers."), table("bands-table"),
                             id="bands-body")]
        if tab == "trend":
            return [Horizontal(
                Vertical(Label("", id="trend-caption", classes="panel-title"),
                         TrendChart(id="trend-chart", empty_text="No figures in the last 12 months."),
                         id="trend-chart-box"),
                table("trend-table", cursor="none"),
                id="trend-body",
            )]
        if tab == "opportunities":
            return [VerticalScroll(
                *(Vertical(Label(title, id=f"{key}-title", classes="panel-title"), table(f"{key}-table"),
                           classes="opportunity")
                  for key, title in (("lowest", "Lowest adopters"), ("upsell", "Upsell candidates"),
                                     ("rightsize", "Right-size candidates"), ("renewals", "Renewals due"))),
                id="opportunities-body",
            )]
        raise ValueError(tab)

    async def _build(self, tab: str) -> None:
        """Mount (and fill) one analysis's widgets, if not done yet.

        The Overview is composed with the screen; the six others are built
        after its figures are drawn, one per refresh (_build_the_rest), or at once when
        one is shown before that. Composing all seven with the screen mounted
        and styled some 60 widgets, 12 of them tables, before the first frame:
        ~110 ms of a portfolio's opening (profiled), for tabs nobody sees yet.
        """
        if tab in self._built or not self.is_attached:
            return
        self._built.add(tab)
        try:
            await self.query_one(f"#{tab}", TabPane).mount_all(self._pane_widgets(tab))
            if self.portfolio is not None:
                self._fill_tab(tab, self.portfolio)
        except NoMatches:
            return  # the screen was closed (Escape, quit) while its widgets were mounted

    async def _build_the_rest(self) -> None:
        for tab, _label in TABS:
            if not self.is_attached:
                return
            if tab not in self._built:
                await self._build(tab)
                self.call_after_refresh(self._build_the_rest)
                return

    @staticmethod
    def _table(table_id: str, cursor: str = "row") -> DataTable:
        table = DataTable(id=table_id, cursor_type=cursor, zebra_stripes=True)
        if cursor == "none":
            table.can_focus = False
        return table

    async def on_mount(self) -> None:
        self.title = "Portfolio insights"
        self.sub_title = ""
        self.watch(self.app, "scope", self._scope_changed, init=False)
        if self.scope != self.app.scope:
            self.scope = self.app.scope
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == (self.scope, self.as_of):
            worker = prefetched[1]
            if await self._prefetch_done(worker):
                if not self.is_attached:
                    return  # closed while it waited
                # the figures are in before the first frame: the screen's first layout and
                # draw show them, instead of a layout and draw of empty tables first
                result, renewal_days = worker.result
                self.on_portfolio_loaded(PortfolioLoaded(result, self.scope, renewal_days))
                return
            self.show_loading(self.query_one(TabbedContent), True)
            self.query_one(StatusLine).set(extra="loading…")
            self._adopt(prefetched[1], self.scope)
        else:
            self.load()

    # ------------------------------------------------------------------ loading

    def prefetch(self) -> None:
        """Start reading the figures before the screen is shown (app.open_portfolio),
        so that reading overlaps building and drawing the screen."""
        app = self.app
        worker = app.run_worker(partial(read_portfolio, app, self.scope, self.as_of), thread=True,
                                group="portfolio", exit_on_error=False, description="loading the portfolio")
        self._prefetched = ((self.scope, self.as_of), worker)

    async def _prefetch_done(self, worker: Worker) -> bool:
        """Whether the prefetch read succeeded, waiting up to :attr:`PREFETCH_WAIT` for it.

        Called as the screen is mounted, before its first layout (the screen's
        messages, its ScreenResume among them, wait for this handler). The read
        usually ends about then: it shares the CPU with mounting the screen. Laying
        out and drawing the screen with empty tables and then again with the
        figures cost ~60 ms more than waiting for them (profiled); a read that
        takes longer gets the empty screen and the loading indicator as before.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.PREFETCH_WAIT
        while worker.state in (WorkerState.PENDING, WorkerState.RUNNING) and loop.time() < deadline:
            await asyncio.sleep(0.002)
        return worker.state == WorkerState.SUCCESS

    @work(exclusive=True, group="portfolio", exit_on_error=False, description="loading the portfolio")
    async def _adopt(self, worker: Worker, scope: str) -> None:
        """Take the figures the prefetch reads (its failure is reported by the app)."""
        try:
            result, renewal_days = await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            self._not_loaded()
            return
        self.post_message(PortfolioLoaded(result, scope, renewal_days))

    def load(self) -> None:
        self.show_loading(self.query_one(TabbedContent), True)
        self.query_one(StatusLine).set(extra="loading…")
        self._load(self.scope, self.as_of)

    @work(thread=True, exclusive=True, exit_on_error=False, group="portfolio", description="loading the portfolio")
    def _load(self, scope: str, as_of: str | None) -> None:
        result, renewal_days = read_portfolio(self.app, scope, as_of)
        self.post_message(PortfolioLoaded(result, scope, renewal_days))

    @work(thread=True, exclusive=True, exit_on_error=False, group="portfolio-trend",
          description="loading the portfolio's trend")
    def _load_trend(self, scope: str, as_of: str | None) -> None:
        from adopt_tui.metrics.read import portfolio_trend

        with self.app.db() as conn:
            trend = portfolio_trend(conn, self.app.principal, scope, as_of)
        self.post_message(TrendLoaded(trend, scope))

    def on_trend_loaded(self, message: TrendLoaded) -> None:
        if message.scope != self.scope or self.portfolio is None:
            return  # a stale result from before a scope toggle
        self.portfolio.trend = message.trend
        self._trend_loaded = True
        if "trend" in self._built:
            self._fill_trend(self.portfolio)

    def on_portfolio_loaded(self, message: PortfolioLoaded) -> None:
        if message.scope != self.scope:
            return  # a stale result from before a scope toggle
        self.portfolio = message.portfolio
        self.renewal_days = message.renewal_days
        self._trend_loaded = False
        tabs = self.query_one(TabbedContent)
        self.show_loading(tabs, False)
        for tab in self._built:
            self._fill_tab(tab, message.portfolio)
        if self.focused is None and tabs.active:
            # the loading indicator took the focus away while the figures were read
            self._focus_first_table(tabs.active)
        self._load_trend(message.scope, self.as_of)
        self.call_after_refresh(self._build_the_rest)  # once the figures are drawn
        customers = message.portfolio.totals["customers"]
        self.query_one(StatusLine).set(
            as_of=message.portfolio.as_of or "", extra=f"{customers:,} customers",
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Failures go to the app's one handler (an error dialog); here only the spinner stops."""
        if event.worker.group == "portfolio" and event.state == WorkerState.ERROR:
            self._not_loaded()
        # no super() call: Textual runs WorkerFailures' handler too (every class in the MRO)

    def _not_loaded(self) -> None:
        self.show_loading(self.query_one(TabbedContent), False)
        self.query_one(StatusLine).set(extra="figures not loaded (F5 to try again)")

    def _scope_changed(self, scope: str) -> None:
        if scope in ("all", "own") and scope != self.scope:
            self.scope = scope
            self.load()

    # ------------------------------------------------------------------ filling the tables

    def _over_style(self) -> Style:
        """Bold in the theme's warning colour (bold alone still marks it without colour)."""
        try:
            return Style(color=Color.parse(self.app.current_theme.warning).rich_color, bold=True)
        except Exception:  # a theme without a parsable warning colour
            return Style(bold=True)

    def _n(self, value) -> Text:
        return Text(fmt.num(value), justify="right")

    def _pct(self, value) -> Text:
        return Text(fmt.pct(value), justify="right")

    def _usage(self, value) -> Text:
        text = fmt.usage(value)
        return Text(text, justify="right", style=self._over_style() if fmt.is_over(text) else "")

    def _fill_tab(self, tab: str, p: Portfolio) -> None:
        """Fill one analysis's widgets (those of a tab not built yet are filled when it is): ``_fill_<tab>``."""
        getattr(self, f"_fill_{tab}")(p)
        if tab == "trend" and not getattr(self, "_trend_loaded", False):
            self.query_one("#trend-caption", Label).update("Deployment and usage % by month · loading…")

    def _fill_overview(self, p: Portfolio) -> None:
        t = p.totals
        figures = self.query_one("#overview-figures", DataTable)
        figures.clear(columns=True)
        figures.add_column("Figure", key="figure")
        figures.add_column("Value", key="value")
        for key, label, value in (
            ("customers", "Customers", self._n(t["customers"])),
            ("sold", "Licenses sold", self._n(t["sold"])),
            ("assigned", "Assigned", self._n(t["assigned"])),
            ("deployment_pct", "Deployment", self._pct(t["deployment_pct"])),
            ("entitled", "Entitlements (core)", self._n(t.get("entitled"))),
            ("active", "Active (core)", self._n(t.get("active"))),
            ("usage_pct", "Usage", self._usage(t.get("usage_pct"))),
            ("adjusted_usage_pct", "Adjusted usage", self._usage(t.get("adjusted_usage_pct"))),
        ):
            figures.add_row(label, value, key=key)

        signals = self.query_one("#overview-signals", DataTable)
        signals.clear(columns=True)
        signals.add_column("Signal", key="signal")
        signals.add_column("Customers", key="count")
        over = Text(fmt.num(t["over_100"]), justify="right")
        if t.get("unexplained"):
            over = Text(f"{t['over_100']:,} ({t['unexplained']:,} unexplained)", justify="right",
                        style=self._over_style())
        for key, label, value in (
            ("s:low_adoption", "Low adoption", self._n(t["low_adoption"])),
            ("s:upsell", "Upsell", self._n(t["upsell"])),
            ("s:right_size", "Right-size", self._n(t.get("right_size"))),
            ("s:over_100", "Usage over 100 %", over),
            ("s:renewal_due", "Renewals due", self._n(t["renewals_due"])),
            ("s:high_support", "Many help requests", self._n(t.get("high_support_volume"))),
        ):
            signals.add_row(label, value, key=key)
        self._set_bands(self.query_one("#overview-bands", BarChart), p)

    def _set_bands(self, chart: BarChart, p: Portfolio) -> None:
        chart.set_bars([(BAND_LABELS.get(b, b), n) for b, n in p.bands.items()], warn={BAND_LABELS[">100"]})

    def _fill_products(self, p: Portfolio) -> None:
        products = self.query_one("#products-table", DataTable)
        products.clear(columns=True)
        for label, key in (("Product", "name"), ("Customers", "customers"), ("Sold", "sold"),
                           ("Assigned", "assigned"), ("Deployment", "deployment_pct"), ("SKU", "sku")):
            products.add_column(label, key=key)
        for r in p.by_product:
            products.add_row(fmt.literal(r["name"]), self._n(r["customers"]), self._n(r["sold"]),
                             self._n(r["assigned"]), self._pct(r["deployment_pct"]), fmt.literal(r["sku"]),
                             key=f"p:{r['sku']}")

    def _fill_workloads(self, p: Portfolio) -> None:
        workloads = self.query_one("#workloads-table", DataTable)
        workloads.clear(columns=True)
        for label, key in (("Workload", "name"), ("Customers", "customers"), ("Entitled", "entitled"),
                           ("Active", "active"), ("Usage", "usage_pct"), ("Adjusted", "adjusted_usage_pct")):
            workloads.add_column(label, key=key)
        for r in p.by_workload:
            workloads.add_row(fmt.literal(r["name"]), self._n(r["customers"]), self._n(r["entitled"]),
                              self._n(r["active"]), self._usage(r["usage_pct"]),
                              self._usage(r["adjusted_usage_pct"]), key=f"w:{r['workload']}")

    def _fill_bands(self, p: Portfolio) -> None:
        self._set_bands(self.query_one("#bands-chart", BarChart), p)
        bands = self.query_one("#bands-table", DataTable)
        bands.clear(columns=True)
        bands.add_column("Usage band", key="band")
        bands.add_column("Customers", key="customers")
        bands.add_column("Share", key="share")
        total = sum(p.bands.values())
        for b, n in p.bands.items():
            bands.add_row(BAND_LABELS.get(b, b), self._n(n), self._pct(100.0 * n / total if total else None),
                          key=f"b:{b}")

    def _fill_agents(self, p: Portfolio) -> None:
        agents = self.query_one("#agents-table", DataTable)
        agents.clear(columns=True)
        for label, key in (("Sales agent", "agent"), ("Customers", "customers"), ("Sold", "sold"),
                           ("Assigned", "assigned"), ("Deployment", "deployment_pct"), ("Usage", "usage_pct"),
                           ("Low", "low_adoption"), ("Upsell", "upsell")):
            agents.add_column(label, key=key)
        for r in p.by_agent:
            agents.add_row(fmt.literal(r["agent"]), self._n(r["customers"]), self._n(r["sold"]),
                           self._n(r["assigned"]), self._pct(r["deployment_pct"]), self._usage(r["usage_pct"]),
                           self._n(r["low_adoption"]), self._n(r["upsell"]), key=f"a:{r['agent']}")

    def _fill_trend(self, p: Portfolio) -> None:
        trend = p.trend
        chart = self.query_one("#trend-chart", TrendChart)
        chart.set_points(
            [_month_label(m["month"]) for m in trend],
            {
                "Deployment": [m["deployment_pct"] for m in trend],
                "Usage": [m["usage_pct"] for m in trend],
                "Adjusted usage": [m["adjusted_usage_pct"] for m in trend],
            },
        )
        self._caption()
        table = self.query_one("#trend-table", DataTable)
        table.clear(columns=True)
        for label, key in (("Month", "month"), ("Customers", "customers"), ("Deployment", "deployment_pct"),
                           ("Usage", "usage_pct"), ("Adjusted", "adjusted_usage_pct")):
            table.add_column(label, key=key)
        for m in trend:
            table.add_row(m["month"], self._n(m["customers"]), self._pct(m["deployment_pct"]),
                          self._usage(m["usage_pct"]), self._usage(m["adjusted_usage_pct"]), key=f"m:{m['month']}")

    def _caption(self) -> None:
        trend = self.portfolio.trend if self.portfolio is not None else []
        caption = "Deployment and usage % by month"
        if trend:
            first, last = trend[0]["month"], trend[-1]["month"]
            caption += f", {first} to {last}" if first != last else f", {last}"
        if self.query_one("#trend-chart", TrendChart).zoomed:
            caption += " · zoomed (z)"
        self.query_one("#trend-caption", Label).update(caption)

    def _fill_opportunities(self, p: Portfolio) -> None:
        def customers(table_id: str, rows: list[dict], *, unassigned: bool = False) -> None:
            table = self.query_one(table_id, DataTable)
            table.clear(columns=True)
            columns = [("Customer", "name"), ("Sold", "sold"), ("Assigned", "assigned")]
            if unassigned:
                columns.append(("Unassigned", "unassigned"))
            columns += [("Deployment", "deployment_pct"), ("Usage", "usage_pct"), ("Adjusted", "adjusted_pct")]
            for label, key in columns:
                table.add_column(label, key=key)
            for r in rows:
                cells = [fmt.literal(r["name"]), self._n(r["sold"]), self._n(r["assigned"])]
                if unassigned:
                    cells.append(self._n(r["sold"] - r["assigned"]))
                cells += [self._pct(r["deployment_pct"]), self._usage(r["usage_pct"]), self._usage(r["adjusted_pct"])]
                table.add_row(*cells, key=f"c:{r['id']}")
            self._title(table_id, len(rows))

        customers("#lowest-table", p.lowest_adopters)
        customers("#upsell-table", p.upsell_candidates)
        customers("#rightsize-table", p.right_size_candidates, unassigned=True)
        renewals = self.query_one("#renewals-table", DataTable)
        renewals.clear(columns=True)
        for label, key in (("Customer", "name"), ("Product", "product"), ("Seats", "quantity"),
                           ("Ends", "commitment_end"), ("Auto-renew", "auto_renew")):
            renewals.add_column(label, key=key)
        # the soonest first; a large book can have thousands (the Overview's "Renewals due" lists every customer)
        for index, r in enumerate(p.renewals[:RENEWALS_SHOWN]):
            renewals.add_row(fmt.literal(r["name"]), fmt.literal(r["product"]), self._n(r["quantity"]),
                             fmt.date(r["commitment_end"]), fmt.yes_no(r["auto_renew"]),
                             key=f"c:{r['id']}:{index}")
        self._title("#renewals-table", len(p.renewals))

    def _title(self, table_id: str, count: int) -> None:
        key = table_id.removeprefix("#").removesuffix("-table")
        base = {
            "lowest": "Lowest adopters", "upsell": "Upsell candidates",
            "rightsize": "Right-size candidates", "renewals": "Renewals due",
        }[key]
        suffix = " (none)" if count == 0 else ""
        if key == "renewals":
            base = f"Renewals within {self.renewal_days} days (own subscriptions)"
            if count > RENEWALS_SHOWN:
                base += f": the first {RENEWALS_SHOWN} of {count:,}"
        self.query_one(f"#{key}-title", Label).update(f"{base}{suffix}")

    # ------------------------------------------------------------------ actions

    async def action_show_tab(self, tab: str) -> None:
        await self._build(tab)
        self.query_one(TabbedContent).active = tab
        self._focus_first_table(tab)

    async def action_next_tab(self, step: int) -> None:
        ids = [tab for tab, _ in TABS]
        current = self.query_one(TabbedContent).active
        index = ids.index(current) if current in ids else 0
        await self.action_show_tab(ids[(index + step) % len(ids)])

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "portfolio-tabs" and event.pane.id:
            await self._build(event.pane.id)
            self._focus_first_table(event.pane.id, only_if_tabs_unfocused=True)
            self.refresh_bindings()  # z (zoom) applies to the trend only

    def _focus_first_table(self, tab: str, *, only_if_tabs_unfocused: bool = False) -> None:
        if only_if_tabs_unfocused and self.focused is not None and self.focused.id is not None \
                and self.focused.id.startswith("portfolio-tabs"):
            return
        pane = self.query_one(f"#{tab}", TabPane)
        for table in pane.query(DataTable):
            if table.can_focus:
                table.focus()
                return

    async def action_zoom(self) -> None:
        await self._build("trend")
        chart = self.query_one("#trend-chart", TrendChart)
        chart.set_zoom(not chart.zoomed)
        self._caption()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "export":
            principal = getattr(self.app, "principal", None)
            return principal is not None and principal.can(Perm.EXPORT)
        if action == "back":
            return len(self.app.screen_stack) > 1
        if action == "zoom":
            return self.query_one(TabbedContent).active == "trend"
        return True

    def action_export(self) -> None:
        principal = getattr(self.app, "principal", None)
        if principal is None or not principal.can(Perm.EXPORT):
            return
        self.app.open_export(None, None)

    # ------------------------------------------------------------------ Enter on a row

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        kind, _, rest = key.partition(":")
        if kind == "c":
            # previous/next on the customer screen walk this list (lowest adopters, ...)
            order: list[int] = []
            for row_key in event.data_table.rows:
                cid = int((row_key.value or "c:0").split(":")[1])
                if cid not in order:
                    order.append(cid)
            self.app.open_customer(int(rest.split(":")[0]), order)
        elif kind == "p":
            self.app.open_customer_list({"product": rest})
        elif kind == "a":
            if rest == "(none)":
                self.notify("These customers have no sales agent; the list cannot filter on that.",
                            title="Portfolio")
            else:
                self.app.open_customer_list({"agent": rest})
        elif kind == "s":
            if rest in ("low_adoption", "upsell", "over_100", "renewal_due", "right_size"):
                self.app.open_customer_list({rest: True})
            else:
                self.notify("The customer list has no filter for this signal; open a customer to see it.",
                            title="Portfolio")
        elif kind == "b":
            target = BAND_FILTERS.get(rest)
            if target is None:
                self.notify(f"The customer list has no filter for the {BAND_LABELS.get(rest, rest)} band.",
                            title="Portfolio")
            else:
                filters, what = target
                self.notify(f"The list cannot filter by band; showing {what}.", title="Portfolio")
                self.app.open_customer_list(dict(filters))
        elif kind == "w":
            self.notify("The customer list has no workload filter; see each customer's insights.",
                        title="Portfolio")
        event.stop()
