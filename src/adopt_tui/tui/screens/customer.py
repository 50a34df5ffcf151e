"""Customer insights: one customer's figures, explanations, recommendations and trend."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState, get_current_worker

from adopt_tui.auth.permissions import Perm
from adopt_tui.metrics.rules import EXPLANATIONS
from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import SCOPE_LABELS, AdoptScreen, export_dialog_class
from adopt_tui.tui.messages import CustomerLoaded
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.figures import FigureGrid, warn_style
from adopt_tui.tui.widgets.footer import KeysFooter
from adopt_tui.tui.widgets.status import StatusLine

WIDE = 150  # from this width the insights use two columns

STATUS_WORDS = {
    "active": "active", "grace": "in grace period", "disabled": "disabled", "deprovisioned": "de-provisioned",
    "suspended": "suspended", "expired": "expired", "cancelled": "cancelled",
}
CHANNEL_WORDS = {"partner": "ours", "other_partner": "other partner", "direct": "direct"}


def describe_subscriptions(subs: list[dict]) -> str:
    parts = []
    for s in subs:
        words = [f"{s['quantity']:,}", STATUS_WORDS.get(s["status"], s["status"])]
        if s.get("is_trial"):
            words.append("trial")
        words.append(f"({CHANNEL_WORDS.get(s['channel'], s['channel'])})")
        parts.append(" ".join(words))
    return "; ".join(parts) or fmt.NA


def read_customer(app, customer_id: int, scope: str, as_of: str | None) -> tuple:
    """``customer_figures`` and ``customer_trend`` (in a worker thread: its own connection)."""
    from adopt_tui.metrics.read import customer_figures, customer_trend

    with app.db() as conn:
        figures = customer_figures(conn, app.principal, customer_id, scope, as_of)
        trend = customer_trend(conn, app.principal, customer_id, scope, as_of)
    return figures, trend


def trend_chart_class():
    try:
        from adopt_tui.tui.widgets.charts import TrendChart
    except ImportError:
        return None
    return TrendChart


class Sparklines(Static):
    """A compact trend when the chart widget is not available."""

    def __init__(self, labels: list[str], series: dict[str, list[float | None]], **kwargs) -> None:
        text = Text()
        if labels:
            text.append(f"{labels[0]} … {labels[-1]}\n", style="dim")
        for name, values in series.items():
            last = next((v for v in reversed(values) if v is not None), None)
            text.append(f"{name:<14} {fmt.sparkline(values)}  {fmt.pct(last, mark_over=True)}\n")
        super().__init__(text, **kwargs)


class Section(Static):
    """A section's title and its text in one widget (each widget costs its styling, layout
    and drawing as the screen opens); the title drawn as ``.section-title`` draws it."""

    DEFAULT_CSS = """
    Section {
        margin-top: 1;
    }
    Section > .section--title {
        text-style: bold;
        color: $accent;
    }
    Section > .section--muted {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"section--title", "section--muted"}

    def __init__(self, title: str, body: Text, *, muted: bool = False, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.title = title
        self.body = body
        self.muted = muted

    def render(self) -> Text:
        body = self.body.copy()
        if self.muted:
            body.stylize_before(self.get_component_rich_style("section--muted", partial=True))
        return Text.assemble((self.title, self.get_component_rich_style("section--title", partial=True)), "\n",
                             body)


class CustomerScreen(AdoptScreen):
    """Customer insights for one customer; [ and ] walk the customer list's order."""

    CSS_PATH = tcss("customer.tcss")
    AUTO_FOCUS = "#insights"

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="customer.back", tooltip="Back to the previous screen"),
        Binding("left_square_bracket,b", "previous", "Prev", id="customer.previous",
                tooltip="The previous customer in the list"),
        Binding("right_square_bracket,n", "next", "Next", id="customer.next",
                tooltip="The next customer in the list"),
        Binding("s", "subscriptions", "Subscriptions", id="customer.subscriptions",
                tooltip="This partner's own subscriptions for the customer"),
        Binding("e", "export", "Export", id="customer.export", tooltip="Export this customer's figures"),
    ]

    def __init__(self, customer_id: int, order: list[int] | None = None) -> None:
        super().__init__()
        self.customer_id = int(customer_id)
        self.order = list(order or [])
        self.figures = None
        self.trend: list = []
        self._prefetched: Worker | None = None
        self._prefetched_for: tuple | None = None

    def compose(self) -> ComposeResult:
        # the two-column layout from the start: set on the first resize instead, it restyled
        # and laid out every widget of the screen a second time
        self.set_class(self.app.size.width >= WIDE, "-wide")
        ready = self._prefetched_result()
        if ready is not None:
            # read before the screen was shown (app.open_customer): drawn with the screen
            self.figures, self.trend = ready
            self._prefetched = None
        yield Static(self._title() if ready is not None else "", id="customer-title")
        with VerticalScroll(id="insights"):
            if ready is not None:
                yield self._columns()
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "scope", lambda _scope: self.load(), init=False)
        prefetched, self._prefetched = self._prefetched, None
        if self.figures is not None:
            self.query_one(StatusLine).set(as_of=self.figures.as_of or "")
            self.refresh_bindings()
        elif prefetched is not None and prefetched.state == WorkerState.ERROR:
            pass  # reported by the app (an error dialog over this screen)
        elif prefetched is not None and not prefetched.is_finished and self._prefetched_for == self._now_for():
            self.show_loading(self.query_one("#insights"), True)
            self._adopt(prefetched, self.customer_id, self.app.scope)
        else:
            self.load()

    def on_resize(self, event) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    # ----------------------------------------------------------------- data

    def prefetch(self) -> Worker:
        """Start reading the figures before the screen is shown (app.open_customer
        shows it when they are read, or after a moment if that takes longer)."""
        app = self.app
        self._prefetched_for = self._now_for()
        self._prefetched = app.run_worker(
            partial(read_customer, app, self.customer_id, app.scope, app.as_of),
            thread=True, group="customer", exit_on_error=False, description="loading the customer",
        )
        return self._prefetched

    def _now_for(self) -> tuple:
        return (self.customer_id, self.app.scope, self.app.as_of)

    def _prefetched_result(self) -> tuple | None:
        """The prefetch's figures if they are read and still the ones to show (same scope, as-of)."""
        worker = self._prefetched
        if worker is None or worker.state != WorkerState.SUCCESS or self._prefetched_for != self._now_for():
            return None
        return worker.result

    @work(exclusive=True, group="customer", exit_on_error=False, description="loading the customer")
    async def _adopt(self, worker: Worker, customer_id: int, scope: str) -> None:
        """Take the figures the prefetch reads (its failure, if any, is reported by the app)."""
        try:
            figures, trend = await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            self.show_loading(self.query_one("#insights"), False)
            return
        self.post_message(CustomerLoaded(customer_id, scope, figures, trend))

    def show_customer(self, customer_id: int, order: list[int] | None = None) -> None:
        self.customer_id = int(customer_id)
        if order is not None:
            self.order = list(order)
        self.load()

    def action_reload(self) -> None:
        """Read the figures again (the app calls this when the data changed)."""
        self.load()

    def load(self) -> None:
        self.show_loading(self.query_one("#insights"), True)
        self.refresh_bindings()
        self._load(self.customer_id, self.app.scope, self.app.as_of)

    @work(thread=True, exclusive=True, group="customer", exit_on_error=False, description="loading the customer")
    def _load(self, customer_id: int, scope: str, as_of: str | None) -> None:
        figures, trend = read_customer(self.app, customer_id, scope, as_of)
        if not get_current_worker().is_cancelled:
            self.post_message(CustomerLoaded(customer_id, scope, figures, trend))

    async def on_customer_loaded(self, message: CustomerLoaded) -> None:
        if message.customer_id != self.customer_id or message.scope != self.app.scope:
            return
        self.figures, self.trend = message.figures, message.trend
        await self._render_figures()
        self.show_loading(self.query_one("#insights"), False)
        self.refresh_bindings()

    def on_worker_state_changed(self, event) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "customer":
            self.show_loading(self.query_one("#insights"), False)

    # ----------------------------------------------------------------- drawing

    def _title(self) -> Text:
        position = ""
        if self.customer_id in self.order:
            position = f"  ({self.order.index(self.customer_id) + 1} of {len(self.order)})"
        title = Text(self.figures.customer.name, style="bold")
        title.append(position, style="dim")
        return title

    def _columns(self) -> Widget:
        return Horizontal(Vertical(*self._left(), id="col-left"), Vertical(*self._right(), id="col-right"),
                          id="cols")

    async def _render_figures(self) -> None:
        self.query_one("#customer-title", Static).update(self._title())
        self.query_one(StatusLine).set(as_of=self.figures.as_of or "")
        insights = self.query_one("#insights")
        await insights.remove_children()
        await insights.mount(self._columns())
        insights.scroll_home(animate=False)

    def _left(self) -> list[Widget]:
        f = self.figures
        c = f.customer
        app = self.app
        details = Text()
        details.append("Tenant ", style="dim")
        details.append(c.tenant_id)
        details.append("  Domain ", style="dim")
        details.append(c.domain or fmt.NA)
        details.append("\nMarket ", style="dim")
        details.append(c.market or fmt.NA)
        details.append("  Segment ", style="dim")
        details.append(c.segment or fmt.NA)
        details.append("  Sales agent ", style="dim")
        details.append(", ".join(c.agents) or fmt.NA)
        details.append("\nAs of ", style="dim")
        details.append(f.as_of or "no figures yet")
        details.append("  Scope ", style="dim")
        details.append(SCOPE_LABELS[f.scope])

        # one Static for the details and the figures (fewer widgets: each costs its styling,
        # layout and drawing as the screen opens)
        summary = details
        summary.append("\n")
        summary.append("Sold ", style="dim")
        summary.append(fmt.num(f.sold))
        summary.append("  Assigned ", style="dim")
        summary.append(fmt.num(f.assigned))
        summary.append("  Deployment ", style="dim")
        summary.append(fmt.pct(f.deployment_pct))
        summary.append("\nEntitled ", style="dim")
        summary.append(fmt.num(f.entitled))
        summary.append("  Active ", style="dim")
        summary.append(fmt.num(f.active))
        summary.append("  Usage ", style="dim")
        usage = fmt.usage(f.usage_pct)
        summary.append(usage, style=warn_style(app) if fmt.is_over(usage) else "")
        summary.append("  Adjusted ", style="dim")
        summary.append(fmt.usage(f.adjusted_usage_pct))
        if f.over_100:
            summary.append("\n")
            summary.append(
                "Usage is over 100 % and NOT explained by the data." if f.unexplained
                else "Usage is over 100 %: explained below; this is not good news by itself.",
                style=warn_style(app),
            )
        if f.renewal_due:
            summary.append(f"\nRenewal due: {f.renewal_due} subscription(s) within 30 days (press s).",
                           style="bold")
        out: list[Widget] = [Static(summary, id="summary")]

        wide = self.size.width >= 110
        if f.products:
            columns = [("Product", False), ("Sold", True), ("Assigned", True), ("Deploy %", True)]
            if wide:
                columns.append(("Subscriptions", False))
            out.append(FigureGrid(columns, [
                (Text(p.name), fmt.num(p.sold), fmt.num(p.assigned), fmt.pct(p.deployment_pct),
                 Text(describe_subscriptions(p.subscriptions)))[:len(columns)]
                for p in f.products
            ], app=app, id="products", title="Products"))
            if not wide:
                states = Text("Subscription states\n", style="dim")
                for index, p in enumerate(f.products):
                    if index:
                        states.append("\n")
                    states.append(p.name + ": ")
                    states.append(describe_subscriptions(p.subscriptions))
                out.append(Static(states, id="subscription-states"))
        else:
            out.append(Static("Products", classes="section-title"))
            out.append(Static("No products in this scope.", classes="muted"))

        if f.workloads:
            columns = [("Workload", False), ("Entitled", True), ("Active", True), ("Usage %", True),
                       ("Adj. usage %", True)]
            if wide:
                columns.append(("Why over 100 %", False))
            out.append(FigureGrid(columns, [
                (Text(w.name), fmt.num(w.entitled), fmt.num(w.active), fmt.usage(w.usage_pct),
                 fmt.usage(w.adjusted_usage_pct),
                 Text(", ".join(EXPLANATIONS.get(e["code"], e["code"]) for e in w.explanations)))[:len(columns)]
                for w in f.workloads
            ], app=app, id="workloads", title="Workloads"))
        else:
            out.append(Static("Workloads", classes="section-title"))
            out.append(Static("No workloads in this scope.", classes="muted"))
        out.append(Static(
            "Usage % = active / entitled (activity from every subscription). Adjusted usage % counts only "
            "active users who hold an entitlement, so it cannot exceed 100 %.", classes="muted note",
        ))
        return out

    def _right(self) -> list[Widget]:
        f = self.figures
        out: list[Widget] = []
        explained = [(w, e) for w in f.workloads for e in w.explanations]
        if explained:
            text = Text()
            for w, e in explained:
                text.append(f"{w.name}", style="bold")
                text.append(f" ({fmt.usage(w.usage_pct)}): ")
                text.append(e.get("text") or e["code"])
                text.append("\n")
            text.rstrip()
            out.append(Section("Why usage is inflated", text, id="explanations"))

        if f.recommendations:
            text = Text()
            for index, r in enumerate(f.recommendations):
                if index:
                    text.append("\n\n")
                text.append(r.get("title", r["code"]), style="bold")
                if r.get("reason"):
                    text.append(f": {r['reason']}")
                text.append("\nConsider: ", style="dim")
                text.append(r.get("consider", ""))
                text.append("\nTry: ", style="dim")
                text.append(r.get("try", ""))
            out.append(Section("Recommendations", text, id="recommendations"))
        else:
            out.append(Section("Recommendations", Text("None: no rule is triggered by these figures."), muted=True,
                               id="recommendations"))

        out.append(Static("Trend, last 12 months", classes="section-title"))
        labels = [p.as_of[:7] for p in self.trend]
        series = {
            "Deployment %": [p.deployment_pct for p in self.trend],
            "Usage %": [p.usage_pct for p in self.trend],
            "Adjusted %": [p.adjusted_pct for p in self.trend],
        }
        chart_cls = trend_chart_class()
        if not self.trend:
            out.append(Static("No history yet.", classes="muted"))
        elif chart_cls is not None:
            chart = chart_cls(id="trend")
            chart.set_points(labels, series)
            out.append(chart)
        else:
            out.append(Sparklines(labels, series, id="trend"))
        return out

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("previous", "next"):
            return len(self.order) > 1 and self.customer_id in self.order
        if action == "export":
            return self.app.can(Perm.EXPORT) and export_dialog_class() is not None
        return True

    def _step(self, delta: int) -> None:
        if self.customer_id not in self.order:
            return
        index = (self.order.index(self.customer_id) + delta) % len(self.order)
        self.show_customer(self.order[index])

    def action_previous(self) -> None:
        self._step(-1)

    def action_next(self) -> None:
        self._step(1)

    def action_subscriptions(self) -> None:
        self.app.open_subscriptions(self.customer_id)

    def action_export(self) -> None:
        self.app.open_export(self.customer_id, None)

    def action_back(self) -> None:
        self.app.pop_screen()
