"""The customer list: the home screen.

``customer_table`` is read once per (scope, as-of) in a worker, formatted once
(display columns added to the frame), and kept. Typing in the filter, quick
filters and sorting only select and order rows of that frame (in a worker,
debounced) and hand a new frame to a fresh fastdatatable: no SQL per keystroke,
no per-row widgets, instant at 20,000 customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from adopt_tui.auth.permissions import Perm
from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.messages import CustomersLoaded
from adopt_tui.tui.widgets.figures import FigureTable
from adopt_tui.tui.widgets.status import StatusLine

DEBOUNCE = 0.12  # seconds after the last keystroke before filtering


@dataclass(frozen=True)
class Col:
    key: str  # display column in the frame
    label: str
    width: int  # content width (cells) when shown
    min_screen: int  # shown when the screen is at least this wide
    sort: str  # raw column to sort by
    numeric: bool = False
    warn: bool = False


# In display order. The name column takes what is left (see _layout).
COLUMNS: list[Col] = [
    Col("d_name", "Customer", 0, 0, "sort_name"),
    Col("d_agents", "Sales agent", 14, 110, "agents"),
    Col("d_market", "Mkt", 3, 150, "market"),
    Col("d_segment", "Segment", 25, 170, "segment"),
    Col("d_sold", "Sold", 7, 0, "sold", numeric=True),
    Col("d_assigned", "Assigned", 8, 92, "assigned", numeric=True),
    Col("d_deployment", "Deploy %", 8, 0, "deployment_pct", numeric=True),
    Col("d_usage", "Usage %", 8, 0, "usage_pct", numeric=True, warn=True),
    Col("d_adjusted", "Adj. %", 8, 0, "adjusted_pct", numeric=True, warn=True),
    Col("d_markers", "Flags", 5, 0, "marker_rank", warn=True),
    Col("trend", "Tr", 2, 0, "trend_rank"),
    Col("d_domain", "Domain", 30, 195, "domain"),
]

QUICK_FLAGS = [
    ("low_adoption", "Low adoption"),
    ("upsell", "Upsell opportunity"),
    ("over_100", "Usage over 100 %"),
    ("renewal_due", "Renewal due (30 days)"),
    ("right_size", "Right-size candidate"),
]
QUICK_CHOICES = [
    ("product", "Product", "products"),
    ("agent", "Sales agent", "agents"),
    ("market", "Market", "market"),
    ("segment", "Segment", "segment"),
]
FILTER_KEYS = {k for k, _ in QUICK_FLAGS} | {k for k, _, _ in QUICK_CHOICES} | {"query"}


def add_display_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Formatted text columns (``d_*``) and sort keys, computed once per load."""
    df = df.copy()
    df["sort_name"] = df.name.str.lower()
    df["d_name"] = df.name
    df["d_agents"] = df.agents
    df["d_market"] = df.market
    df["d_segment"] = df.segment
    df["d_domain"] = df.domain
    df["d_sold"] = [fmt.num(v) for v in df.sold.to_numpy()]
    df["d_assigned"] = [fmt.num(v) for v in df.assigned.to_numpy()]
    df["d_deployment"] = [fmt.pct(v) for v in df.deployment_pct.to_numpy()]
    df["d_usage"] = [fmt.usage(v) for v in df.usage_pct.to_numpy()]
    df["d_adjusted"] = [fmt.usage(v) for v in df.adjusted_pct.to_numpy()]
    df["d_markers"] = [
        fmt.markers(over_100=bool(o), unexplained=bool(u), low_adoption=bool(lo), upsell=bool(up),
                    renewal_due=bool(r))
        for o, u, lo, up, r in zip(df.over_100, df.unexplained, df.low_adoption, df.upsell, df.renewal_due > 0)
    ]
    # markers sort most urgent first when descending: unexplained > explained > low > renewal > upsell
    df["marker_rank"] = (
        df.over_100 * (2 + df.unexplained) * 100 + df.low_adoption * 10 + (df.renewal_due > 0) * 5 + df.upsell * 1
    ).astype("int64")
    df["trend_rank"] = df.trend.map({"▲": 1, "=": 0, "▼": -1}).astype("float64")
    df["is_over_100"] = df.over_100.astype(bool)
    return df


def apply_view(frame: pd.DataFrame, filters: dict, sort: str, descending: bool) -> pd.DataFrame:
    """Filter and sort the loaded frame (pure pandas, no database)."""
    from adopt_tui.metrics.read import filter_customers

    args = {k: v for k, v in filters.items() if k != "query" and v}
    view = filter_customers(frame, filters.get("query", ""), **args)
    if sort != "sort_name":
        view = view.sort_values([sort, "sort_name"], ascending=[not descending, True], na_position="last",
                                kind="stable")
    else:
        view = view.sort_values("sort_name", ascending=not descending, kind="stable")
    return view


class FilterPicker(ModalScreen[None]):
    """Quick filters: Enter toggles a flag or picks a value; changes apply at once."""

    DEFAULT_CSS = """
    FilterPicker { align: center middle; }
    FilterPicker > Vertical {
        width: 56; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    FilterPicker OptionList { height: auto; max-height: 18; }
    """
    BINDINGS = [
        Binding("escape,q,f", "close", "Done", id="filters.close", tooltip="Close the quick filters"),
        Binding("c", "clear", "Clear all", id="filters.clear", tooltip="Remove every quick filter"),
    ]

    def __init__(self, owner: "CustomerListScreen") -> None:
        super().__init__()
        self.owner = owner

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Quick filters: Enter toggles or picks; they apply at once.")
            yield OptionList(id="quick")
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        self.query_one(OptionList).focus()

    def _fill(self, keep: int | None = None) -> None:
        filters = self.owner.filters
        options = self.query_one(OptionList)
        options.clear_options()
        for key, label in QUICK_FLAGS:
            mark = "[x]" if filters.get(key) else "[ ]"
            options.add_option(Option(Text(f"{mark} {label}"), id=key))
        for key, label, _col in QUICK_CHOICES:
            value = filters.get(key)
            shown = self.owner.choice_label(key, value) if value else "any"
            options.add_option(Option(Text(f"{label}: {shown}"), id=key))
        options.add_option(Option(Text("Clear all filters"), id="clear"))
        options.highlighted = keep if keep is not None else 0

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        from adopt_tui.tui.screens.error import ChoiceDialog

        key, index = event.option.id, event.option_index
        if key == "clear":
            self.action_clear()
            return
        if key in dict(QUICK_FLAGS):
            self.owner.set_filters({key: not self.owner.filters.get(key)}, merge=True)
            self._fill(index)
            return
        label = dict((k, lbl) for k, lbl, _ in QUICK_CHOICES)[key]
        choices = [("", "any")] + self.owner.choice_values(key)

        def picked(value: str | None) -> None:
            if value is not None:
                self.owner.set_filters({key: value or None}, merge=True)
                self._fill(index)

        self.app.push_screen(ChoiceDialog(f"{label}:", choices, self.owner.filters.get(key) or ""), picked)

    def action_clear(self) -> None:
        query = self.owner.filters.get("query", "")
        self.owner.set_filters({"query": query})
        self._fill()

    def action_close(self) -> None:
        self.dismiss(None)


class CustomerListScreen(AdoptScreen):
    """One row per customer the user may see."""

    CSS_PATH = "customers.tcss"
    AUTO_FOCUS = ""

    BINDINGS = [
        Binding("enter", "open", "Open", id="customers.open", tooltip="Open the customer's insights"),
        Binding("slash", "search", "Filter", id="customers.search", tooltip="Filter by name, tenant id or domain"),
        Binding("f", "quick_filters", "Quick filters", id="customers.quick",
                tooltip="Low adoption, upsell, over 100 %, renewal due, product, agent, market, segment"),
        Binding("s", "sort_next", "Sort", id="customers.sort", tooltip="Sort by the next column"),
        Binding("S", "sort_prev", "Sort back", id="customers.sort_prev", tooltip="Sort by the previous column",
                show=False),
        Binding("r", "reverse", "Reverse", id="customers.reverse", tooltip="Reverse the sort order"),
        Binding("c", "clear_filters", "Clear", id="customers.clear", tooltip="Remove the filter and quick filters"),
        Binding("e", "export", "Export", id="customers.export", tooltip="Export the customers in this list"),
        Binding("d", "as_of", "As of", id="customers.as_of", tooltip="Show the figures as of an earlier date",
                show=False),
        Binding("ctrl+r", "reload", "Reload", id="customers.reload", tooltip="Read the figures again", show=False),
        Binding("escape", "leave_filter", "Back to list", id="customers.leave_filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.frame: pd.DataFrame | None = None
        self.view: pd.DataFrame | None = None
        self.filters: dict = {}
        self.sort_col = 0  # index into the shown columns
        self.sort_key = "sort_name"
        self.descending = False
        self._cache: dict[tuple[str, str | None], pd.DataFrame] = {}
        self._debounce: Timer | None = None
        self._shown: list[Col] = []
        self._name_width = 20
        self._cursor_id: int | None = None
        self._table_serial = 0

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            yield Static("/", id="filter-prompt")
            yield Input(placeholder="filter: name, tenant id or domain", id="filter", compact=True)
            yield Static("", id="view-info")
        yield Vertical(id="table-holder")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "scope", self._scope_changed, init=False)
        self._layout(self.size.width or self.app.size.width)
        self.load()

    def on_resize(self, event) -> None:
        old = [c.key for c in self._shown], self._name_width
        self._layout(event.size.width)
        if ([c.key for c in self._shown], self._name_width) != old and self.view is not None:
            self._show_view(self.view)

    def _layout(self, width: int) -> None:
        """Pick the columns that fit; the name column gets the rest (16..40)."""
        fixed = [c for c in COLUMNS if c.key != "d_name" and width >= c.min_screen]
        used = sum(c.width + 2 for c in fixed) + 2 + 2  # cell padding, name padding, scrollbar
        self._name_width = max(14, min(40, width - used))
        sort_key = self.sort_key
        self._shown = [c for c in COLUMNS if c.key == "d_name" or c in fixed]
        keys = [c.sort for c in self._shown]
        self.sort_col = keys.index(sort_key) if sort_key in keys else 0
        if sort_key not in keys:
            self.sort_key, self.descending = "sort_name", False

    # ----------------------------------------------------------------- loading

    def _scope_changed(self, _scope: str) -> None:
        self.load()

    def load(self, *, force: bool = False) -> None:
        key = (self.app.scope, self.app.as_of)
        if not force and key in self._cache:
            self._loaded(self._cache[key], *key)
            return
        self.query_one("#table-holder").loading = True
        self._load(*key)

    @work(thread=True, exclusive=True, group="customers", exit_on_error=False)
    def _load(self, scope: str, as_of: str | None) -> None:
        from adopt_tui.metrics.read import customer_table

        with self.app.db() as conn:
            frame = customer_table(conn, self.app.principal, scope, as_of)
        frame = add_display_columns(frame)
        if not get_current_worker().is_cancelled:
            self.post_message(CustomersLoaded(frame, scope, as_of))

    def on_customers_loaded(self, message: CustomersLoaded) -> None:
        self._cache[(message.scope, message.as_of)] = message.frame
        if (message.scope, message.as_of) == (self.app.scope, self.app.as_of):
            self._loaded(message.frame, message.scope, message.as_of)

    def _loaded(self, frame: pd.DataFrame, scope: str, as_of: str | None) -> None:
        self.frame = frame
        self.query_one("#table-holder").loading = False
        self._refilter(now=True)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR and event.worker.group == "customers":
            self.query_one("#table-holder").loading = False

    # ----------------------------------------------------------------- filtering

    @on(Input.Changed, "#filter")
    def _typed(self, event: Input.Changed) -> None:
        self.filters["query"] = event.value
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, self._refilter)

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        self._focus_table()

    def _refilter(self, now: bool = False) -> None:
        if self.frame is None:
            return
        self._filter(self.frame, dict(self.filters), self.sort_key, self.descending)

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def _filter(self, frame: pd.DataFrame, filters: dict, sort: str, descending: bool) -> None:
        view = apply_view(frame, filters, sort, descending)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._filtered, frame, view)

    def _filtered(self, frame: pd.DataFrame, view: pd.DataFrame) -> None:
        if frame is not self.frame:
            return  # a newer load replaced it meanwhile
        self.view = view
        self._show_view(view)

    def _show_view(self, view: pd.DataFrame) -> None:
        holder = self.query_one("#table-holder")
        old = self._table()
        had_focus = old is not None and old.has_focus
        if old is not None and old.row_count and 0 <= old.cursor_row < len(self._ids):
            self._cursor_id = self._ids[old.cursor_row]
        self._ids = [int(i) for i in view.id.to_numpy()]
        labels, numeric, warn, widths = [], [], [], []
        for index, col in enumerate(self._shown):
            label = col.label
            if col.sort == self.sort_key:
                label += " ▼" if self.descending else " ▲"
            labels.append(Text(label, justify="right" if col.numeric else "left"))
            if col.numeric:
                numeric.append(index)
            if col.warn:
                warn.append(index)
            widths.append(self._name_width if col.key == "d_name" else col.width + (2 if col.sort == self.sort_key else 0))
        display = view[[c.key for c in self._shown]]
        if old is not None and old.replace(display, labels, numeric=numeric, warn=warn, widths=widths):
            table = old
            row = self._ids.index(self._cursor_id) if self._cursor_id in self._ids else 0
            table.move_cursor(row=row, column=0)
        else:
            self._table_serial += 1
            table = FigureTable(display, labels, numeric=numeric, warn=warn, widths=widths,
                                id=f"customers-{self._table_serial}")
            table.add_class("customer-table")
            if old is not None:
                old.remove()
            holder.mount(table)
            if self._cursor_id is not None and self._cursor_id in self._ids:
                table.move_cursor(row=self._ids.index(self._cursor_id), column=0)
            if had_focus or not self.query_one("#filter", Input).has_focus:
                table.focus()
        self._update_info()

    _ids: list[int] = []

    def _table(self) -> FigureTable | None:
        tables = self.query(".customer-table")
        return tables.last() if tables else None

    def _focus_table(self) -> None:
        table = self._table()
        if table is not None:
            table.focus()

    def _update_info(self) -> None:
        total = 0 if self.frame is None else len(self.frame)
        shown = 0 if self.view is None else len(self.view)
        as_of = None
        if self.frame is not None and len(self.frame):
            as_of = self.app.as_of or max(self.frame.as_of) or None
        self.query_one(StatusLine).set(counts=(shown, total), as_of=as_of or "")
        parts = []
        active = self.describe_filters()
        if active:
            parts.append("filters: " + active)
        sort_label = next((c.label for c in self._shown if c.sort == self.sort_key), "Customer")
        parts.append(f"sort: {sort_label} {'▼' if self.descending else '▲'}")
        if self.size.width >= 120:
            parts.append("flags: ! over 100 % explained · ? not explained · L low adoption · U upsell · R renewal due")
        self.query_one("#view-info", Static).update(Text(" · ".join(parts)))

    def describe_filters(self) -> str:
        out = [label for key, label in QUICK_FLAGS if self.filters.get(key)]
        for key, label, _ in QUICK_CHOICES:
            if self.filters.get(key):
                out.append(f"{label.lower()}={self.choice_label(key, self.filters[key])}")
        return ", ".join(out)

    def choice_values(self, key: str) -> list[tuple[str, str]]:
        if self.frame is None:
            return []
        if key == "product":
            skus = sorted({s for v in self.frame.products for s in v.split(",") if s})
            return [(s, self.choice_label("product", s)) for s in skus]
        if key == "agent":
            names = sorted({a for v in self.frame.agents for a in v.split("; ") if a})
            return [(a, a) for a in names]
        values = sorted({v for v in self.frame[key] if v})
        return [(v, v) for v in values]

    def choice_label(self, key: str, value: str) -> str:
        if key == "product":
            from adopt_tui.catalogue import load_catalogue

            try:
                name = load_catalogue().get(value, {}).get("name")
            except OSError:
                name = None
            return f"{name} ({value})" if name else value
        return value

    # ----------------------------------------------------------------- API used by the app

    def current_ids(self) -> list[int]:
        """Customer ids in the list's current order (filter and sort applied)."""
        return list(self._ids)

    def set_filters(self, filters: dict, *, merge: bool = False) -> None:
        """Set quick filters (keys of ``filter_customers`` plus 'query')."""
        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        if merge:
            self.filters.update(filters)
        else:
            self.filters = dict(filters)
        search = self.query_one("#filter", Input)
        if search.value != self.filters.get("query", ""):
            with search.prevent(Input.Changed):
                search.value = self.filters.get("query", "")
        self._refilter()

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "export":
            return self.app.can(Perm.EXPORT) and _export_available()
        if action == "open":
            return bool(self._ids)
        if action == "leave_filter":
            return self.query_one("#filter", Input).has_focus
        return True

    def on_data_table_row_selected(self, event) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self._table()
        if table is None or not self._ids:
            return
        row = table.cursor_row
        if 0 <= row < len(self._ids):
            self.app.open_customer(self._ids[row], self.current_ids())

    def action_search(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self._focus_table()

    def action_quick_filters(self) -> None:
        self.app.push_screen(FilterPicker(self))

    def action_clear_filters(self) -> None:
        self.set_filters({})

    def _sort_to(self, index: int) -> None:
        index %= len(self._shown)
        self.sort_col = index
        col = self._shown[index]
        self.sort_key = col.sort
        # numbers read best largest first; names A to Z
        self.descending = col.numeric or col.sort in ("marker_rank", "trend_rank")
        self._refilter()

    def action_sort_next(self) -> None:
        self._sort_to(self.sort_col + 1)

    def action_sort_prev(self) -> None:
        self._sort_to(self.sort_col - 1)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._refilter()

    def action_export(self) -> None:
        self.app.open_export(None, self.current_ids() if self.describe_filters() or self.filters.get("query") else None)

    def action_reload(self) -> None:
        self._cache.clear()
        self.load(force=True)

    def action_as_of(self) -> None:
        self._pick_as_of()

    @work(thread=True, exclusive=True, group="as_of", exit_on_error=False)
    def _pick_as_of(self) -> None:
        from adopt_tui.metrics.read import as_of_dates

        with self.app.db() as conn:
            dates = as_of_dates(conn)
        self.app.call_from_thread(self._choose_as_of, dates)

    def _choose_as_of(self, dates: list[str]) -> None:
        from adopt_tui.tui.screens.error import ChoiceDialog

        if not dates:
            self.notify("No figures in the database yet.")
            return
        latest = dates[-1]
        choices = [("", f"latest ({latest})")] + [(d, d) for d in reversed(dates)]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.app.as_of = value or None
            self.load()

        self.app.push_screen(ChoiceDialog("Show the figures as of:", choices, self.app.as_of or ""), chosen)


def _export_available() -> bool:
    from adopt_tui.tui.app import export_dialog_class

    return export_dialog_class() is not None
