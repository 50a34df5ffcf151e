"""Help (? or F1): the keys of the screen it was opened from, read from that
screen's active bindings (never a hand-written list), and a glossary."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.screens.error import ChoiceDialog
from adopt_tui.tui.widgets.figures import small_table
from adopt_tui.tui.widgets.footer import KeysFooter

GLOSSARY: list[tuple[str, str]] = [
    ("Licenses sold", "Seats bought in subscriptions in good standing that are not trials."),
    ("Assigned", "Seats of a product that are assigned to a user."),
    ("Entitlement", "A license a user is entitled to use. An assignment is not an entitlement when it is "
                    "suspended (fraud or non-payment), upgraded to another license, cancelled or otherwise "
                    "blocked."),
    ("Active", "The user used the entitlement for a task within the last 28 calendar days, counted back from "
               "the as-of date, that day included: [as-of - 27 days, as-of]."),
    ("Deployment %", "Assigned licenses / licenses sold, per product (SKU)."),
    ("Usage %", "Active entitlements / total entitlements, per workload (Exchange, SharePoint with OneDrive, "
                "Teams, Office apps, each Dynamics 365 app...). A user entitled through two SKUs counts once. "
                "The customer figure is over the core workloads (not Yammer or Skype for Business)."),
    ("Adjusted usage %", "Only active users who hold an entitlement, over the entitlements: the usage % "
                         "without the inflation below; it cannot exceed 100 %."),
    ("—", "Not available: the denominator is 0 (nothing sold or no entitlements). Never 0 %."),
    ("Scope", "All sources: licenses from this partner, other partners and Microsoft directly (the insight "
              "views). Own licenses: only this partner's subscriptions. Toggle with o."),
    ("Why usage can exceed 100 %",
     "Only subscriptions in good standing, and not trials, count toward the entitlements, but activity is "
     "counted from everything. Four known causes, each detected and explained next to the figure:\n"
     "  1. Employee turnover: a license taken from a leaver and given to a new employee; both were active "
     "within the 28 days.\n"
     "  2. A second subscription for the same SKU in grace period, disabled or de-provisioned: both register "
     "activity, only the good one counts.\n"
     "  3. A trial subscription: its activity counts, the trial does not count toward entitlements.\n"
     "  4. Yammer used beyond the license, which skews the figures dramatically.\n"
     "A figure over 100 % is marked '!' (explained) or '?' (not explained by the data): it is not good news."),
    ("Flags (customer list)", "! usage over 100 %, explained · ? over 100 %, not explained · L low adoption · "
                              "U upsell opportunity · R a renewal is due within 30 days. Tr: trend of the "
                              "usage % against the previous month (▲ up, ▼ down, = flat)."),
]


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, tooltip) for what can be pressed on ``screen`` now.

    From ``screen.active_bindings`` (what check_action allows): the screen's and
    the app's bindings with a description, plus widget bindings shown in the Footer.
    """
    app = screen.app
    grouped: dict[tuple[int, str], list] = {}
    order: list[tuple[int, str]] = []
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if not binding.description:
            continue
        own = node is screen or node is app
        if not own and not binding.show:
            continue
        ident = (id(node), binding.action)
        if ident not in grouped:
            grouped[ident] = [[], binding.description, active.tooltip or binding.tooltip or "", own]
            order.append(ident)
        display = app.get_key_display(Binding(key, binding.action, binding.description))
        if display not in grouped[ident][0]:
            grouped[ident][0].append(display)
    return [(" ".join(grouped[i][0]), grouped[i][1], grouped[i][2]) for i in order]


class HelpScreen(AdoptScreen):
    """Keys of the screen underneath, then the glossary."""

    DEFAULT_CSS = """
    HelpScreen #help-body { padding: 0 1; }
    HelpScreen DataTable { height: auto; }
    HelpScreen .glossary-term { text-style: bold; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="help.close", tooltip="Back to where you were"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen
        self.rows = binding_rows(screen)
        self.screen_title = getattr(screen, "HELP_TITLE", None) or type(screen).__name__.removesuffix("Screen")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text(f"Keys on this screen ({self.screen_title})"), classes="section-title")
            table = small_table("help-keys", [("Key", False), ("Action", False), ("What it does", False)],
                                [(k, d, t) for k, d, t in self.rows])
            table.can_focus = False
            yield table
            yield Static("Ctrl+P opens the command palette: jump to a customer, switch screens, change theme.",
                         classes="muted")
            yield Static("Glossary", classes="section-title")
            for term, text in GLOSSARY:
                yield Static(Text(term), classes="glossary-term")
                yield Static(Text(text))
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.app.pop_screen()


class AdminMenu(ChoiceDialog):
    """The administration screens this role may open; dismisses with the entry's key."""

    def __init__(self, entries) -> None:
        super().__init__("Administration", [(e.key, f"{e.title}: {e.help}") for e in entries])
