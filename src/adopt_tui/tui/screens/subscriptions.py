"""Subscriptions: this partner's own licenses for one customer.

Renewals within the renewal window and subscriptions that are not active stand
out: a word in the Attention column (so NO_COLOR keeps it) and the warning style.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.messages import SubscriptionsLoaded
from adopt_tui.tui.screens.customer import STATUS_WORDS
from adopt_tui.tui.widgets.figures import small_table, warn_style
from adopt_tui.tui.widgets.footer import KeysFooter
from adopt_tui.tui.widgets.status import StatusLine


def attention(row) -> str:
    if row.status != "active":
        return f"not active: {STATUS_WORDS.get(row.status, row.status)}"
    if row.renewal_due:
        return "renewal due" + ("" if row.auto_renew else ", no auto-renew")
    return ""


class SubscriptionsScreen(AdoptScreen):
    """Offer, quantity, status, trial, billing, start, commitment end, auto-renew."""

    DEFAULT_CSS = """
    SubscriptionsScreen #subs-title { height: 1; padding: 0 1; background: $boost; }
    SubscriptionsScreen #subs-body { height: 1fr; padding: 0 1; }
    SubscriptionsScreen #subs-body DataTable { height: auto; max-height: 100%; }
    SubscriptionsScreen #subs-note { height: auto; color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="subscriptions.back", tooltip="Back to the customer"),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = int(customer_id)

    def compose(self) -> ComposeResult:
        yield Static("", id="subs-title")
        yield Vertical(id="subs-body")
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#subs-body").loading = True
        self._load(self.customer_id, self.app.as_of)

    @work(thread=True, exclusive=True, group="subscriptions", exit_on_error=False)
    def _load(self, customer_id: int, as_of: str | None) -> None:
        from adopt_tui.metrics.read import get_customer, latest_as_of, own_subscriptions

        with self.app.db() as conn:
            customer = get_customer(conn, self.app.principal, customer_id)
            rows = own_subscriptions(conn, self.app.principal, customer_id, as_of)
            shown_as_of = as_of or latest_as_of(conn)
        self.post_message(SubscriptionsLoaded(customer_id, customer, rows, shown_as_of))

    async def on_subscriptions_loaded(self, message: SubscriptionsLoaded) -> None:
        title = Text(message.customer.name, style="bold")
        title.append(" · subscriptions from this partner (own licenses)", style="dim")
        self.query_one("#subs-title", Static).update(title)
        self.query_one(StatusLine).set(as_of=message.as_of or "", extra="subscriptions are always own licenses")
        body = self.query_one("#subs-body")
        body.loading = False
        await body.remove_children()
        if not message.rows:
            await body.mount(Static("This partner sells no subscriptions to this customer.", classes="muted"))
            return
        style = warn_style(self.app)
        wide = self.size.width >= 120
        columns = [("Offer", False), ("Qty", True), ("Status", False), ("Trial", False), ("Billing", False)]
        if wide:
            columns.append(("Start", False))
        columns += [("Commit. end", False), ("Auto-renew", False), ("Attention", False)]
        rows = []
        for r in message.rows:
            note = attention(r)
            cells = [Text(r.offer_name or r.name), fmt.num(r.quantity), STATUS_WORDS.get(r.status, r.status),
                     fmt.yes_no(r.is_trial), r.billing_cycle or fmt.NA]
            if wide:
                cells.append(fmt.date(r.start_date))
            cells += [fmt.date(r.commitment_end), fmt.yes_no(r.auto_renew), note]
            cells = [c if isinstance(c, Text) else Text(str(c)) for c in cells]
            if note:
                for c in cells:
                    c.stylize(style)
            rows.append(cells)
        table = small_table("subscriptions", columns, rows, app=self.app)
        await body.mount(table)
        await body.mount(Static(Text(
            "Attention: 'renewal due' = the commitment ends within the renewal window (30 days by default) of "
            "the as-of date; 'not active' = grace period, disabled, de-provisioned or another state that does "
            "not count toward licenses sold."), id="subs-note"))
        table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()
