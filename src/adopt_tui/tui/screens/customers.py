"""The customer list: the home screen.

``customer_table`` is read once per (scope, as-of) in a worker and turned into
:class:`CustomerRows`, kept per (scope, as-of): the frame, an Arrow table of
the columns the list can show (raw values: a figure is formatted when its row
is drawn, so only the rows on screen are ever formatted), the lower-cased
search strings and, per sort order, the rows' positions in that order.

Typing in the filter selects rows in the UI thread, with no debounce, as the
field's value changes (in the key's handler, so that the letter and the
narrowed list are drawn in one frame): a substring test over a Python list of
20,000 strings takes about a millisecond, and a keystroke that extends the
filter tests only the rows that matched before. Quick filters go through
``metrics.read.filter_customers`` once per set of filters; a sort order not
computed yet is computed in a worker. The chosen rows reach the same
fastdatatable with ``Table.take`` (no remount, no SQL, no per-row widgets);
the table draws only the rows on screen, and keeps what it drew by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerCancelled, WorkerFailed, get_current_worker

from adopt_tui.auth.permissions import Perm
from adopt_tui.tui import format as fmt
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.messages import CustomersLoaded
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.figures import FigureTable
from adopt_tui.tui.widgets.footer import KeysFooter
from adopt_tui.tui.widgets.status import StatusLine


@dataclass(frozen=True)
class Col:
    key: str  # column of CustomerRows.table
    label: str
    width: int  # content width (cells) when shown
    min_screen: int  # shown when the screen is at least this wide
    sort: str  # column of the frame to sort by
    numeric: bool = False
    warn: bool = False
    format: Callable[[object], str] | None = None  # raw value (None when missing) -> text


# In display order. The name column takes what is left (see _layout).
COLUMNS: list[Col] = [
    Col("name", "Customer", 0, 0, "sort_name"),
    Col("agents", "Sales agent", 14, 110, "agents"),
    Col("market", "Mkt", 3, 150, "market"),
    Col("segment", "Segment", 25, 170, "segment"),
    Col("sold", "Sold", 7, 0, "sold", numeric=True, format=fmt.num),
    Col("assigned", "Assigned", 8, 92, "assigned", numeric=True, format=fmt.num),
    Col("deployment_pct", "Deploy %", 8, 0, "deployment_pct", numeric=True, format=fmt.pct),
    Col("usage_pct", "Usage %", 8, 0, "usage_pct", numeric=True, warn=True, format=fmt.usage),
    Col("adjusted_pct", "Adj. %", 8, 0, "adjusted_pct", numeric=True, warn=True, format=fmt.usage),
    Col("markers", "Flags", 5, 0, "marker_rank", warn=True),
    Col("trend", "Tr", 2, 0, "trend_rank"),
    Col("domain", "Domain", 30, 195, "domain"),
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


# The flags column for each combination of (over 100 %, unexplained, low adoption, upsell, renewal due),
# indexed by a bit each: 1, 2, 4, 8, 16.
MARKER_TEXT = [
    fmt.markers(over_100=bool(code & 1), unexplained=bool(code & 2), low_adoption=bool(code & 4),
                upsell=bool(code & 8), renewal_due=bool(code & 16))
    for code in range(32)
]


def _trend_rank(trend: np.ndarray) -> np.ndarray:
    """▲ 1, = 0, ▼ -1, anything else missing (NaN)."""
    return np.select([trend == "▲", trend == "=", trend == "▼"], [1.0, 0.0, -1.0], default=np.nan)


def sorted_positions(frame: pd.DataFrame, sort: str, descending: bool) -> np.ndarray:
    """Row positions of ``frame`` (a RangeIndex) in the list's order: by ``sort``, then by name;
    missing values last; ties keep the frame's order."""
    if sort == "sort_name" and not descending and frame.sort_name.is_monotonic_increasing:
        return np.arange(len(frame), dtype=np.int64)  # customer_table's own order: nothing to sort
    if sort != "sort_name":
        ordered = frame.sort_values([sort, "sort_name"], ascending=[not descending, True], na_position="last",
                                    kind="stable")
    else:
        ordered = frame.sort_values("sort_name", ascending=not descending, kind="stable")
    return ordered.index.to_numpy(dtype=np.int64)


def read_rows(app, scope: str, as_of: str | None, sort: str, descending: bool, principal=None) -> CustomerRows:
    """Read ``customer_table`` for the signed-in principal (or ``principal``) and make it
    ready for the list (in a worker thread: its own database connection)."""
    from adopt_tui.metrics.read import customer_table

    with app.db() as conn:
        frame = customer_table(conn, principal if principal is not None else app.principal, scope, as_of)
    rows = CustomerRows(frame)
    rows.order(sort, descending)
    return rows


def read_home_rows(app, principal) -> CustomerRows:
    """The rows a new customer list shows first (all sources, latest figures, by name),
    for ``principal``, who has just signed in (the login's worker)."""
    return read_rows(app, "all", None, CustomerListScreen.FIRST_SORT, False, principal)


class CustomerRows:
    """``customer_table``'s frame made ready for the list; built once per load, in a worker.

    ``frame`` gains the sort keys (``sort_name``, ``marker_rank``, ``trend_rank``);
    ``table`` holds the columns of :data:`COLUMNS` (figures raw, flags as text);
    ``search`` the lower-cased filter strings. After it is built, only the UI
    thread uses it.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        frame = frame.reset_index(drop=True)
        over = frame.over_100.to_numpy() != 0
        unexplained = frame.unexplained.to_numpy() != 0
        low = frame.low_adoption.to_numpy(dtype=bool)
        upsell = frame.upsell.to_numpy(dtype=bool)
        renewal = frame.renewal_due.to_numpy() > 0
        # flags sort most urgent first when descending: unexplained > explained > low > renewal > upsell
        marker_rank = (frame.over_100.to_numpy() * (2 + frame.unexplained.to_numpy()) * 100
                       + low * 10 + renewal * 5 + upsell * 1)
        self.frame = frame.assign(
            sort_name=frame.name.str.lower(),
            marker_rank=marker_rank.astype("int64"),
            trend_rank=_trend_rank(frame.trend.to_numpy()),
            is_over_100=over,
        )
        code = over * 1 + (over & unexplained) * 2 + low * 4 + upsell * 8 + renewal * 16
        markers = np.array(MARKER_TEXT, dtype=object)[code]
        columns = {}
        for col in COLUMNS:
            if col.key == "markers":
                columns[col.key] = pa.array(markers.tolist(), type=pa.string())
            else:
                columns[col.key] = pa.array(frame[col.key], from_pandas=True)
        self.table = pa.table(columns)
        self.search: list[str] = frame.search.tolist()
        self.ids = frame.id.to_numpy(dtype=np.int64)
        self.size = len(frame)
        self.as_of = str(frame.as_of.max()) if self.size else ""
        self.orders: dict[tuple[str, bool], np.ndarray] = {}
        self._flag_masks: dict[tuple, np.ndarray] = {}
        self._last_query: tuple[str, list[int]] | None = None

    def order(self, sort: str, descending: bool) -> np.ndarray:
        """Compute (and keep) the positions in one sort order."""
        key = (sort, descending)
        if key not in self.orders:
            self.orders[key] = sorted_positions(self.frame, sort, descending)
        return self.orders[key]

    def _flags_mask(self, filters: dict) -> np.ndarray | None:
        from adopt_tui.metrics.read import filter_customers

        args = {k: v for k, v in filters.items() if k != "query" and v}
        if not args:
            return None
        key = tuple(sorted(args.items()))
        mask = self._flag_masks.get(key)
        if mask is None:
            mask = np.zeros(self.size, dtype=bool)
            mask[filter_customers(self.frame, "", **args).index.to_numpy()] = True
            self._flag_masks[key] = mask
        return mask

    def _query_mask(self, query: str) -> np.ndarray | None:
        """The rows whose name, tenant id or domain contain ``query`` (as ``filter_customers``)."""
        q = query.strip().lower()
        if not q:
            return None
        last = self._last_query
        candidates = last[1] if last is not None and last[0] in q else range(self.size)
        search = self.search
        hits = [i for i in candidates if q in search[i]]
        self._last_query = (q, hits)
        mask = np.zeros(self.size, dtype=bool)
        mask[hits] = True
        return mask

    def select(self, filters: dict, sort: str, descending: bool) -> np.ndarray | None:
        """Positions of the rows that pass ``filters``, in the sort order; None while
        that order is not computed yet (see :meth:`order`)."""
        order = self.orders.get((sort, descending))
        if order is None:
            return None
        keep = self._flags_mask(filters)
        matches = self._query_mask(filters.get("query") or "")
        if matches is not None:
            keep = matches if keep is None else keep & matches
        return order if keep is None else order[keep[order]]


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
        yield KeysFooter()

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

    CSS_PATH = tcss("customers.tcss")
    # The table, when its rows are there as the screen is shown (they are read at login):
    # focused then, it is drawn once in its focused colours, not drawn and then redrawn
    # when a later focus() lands (~35 ms at 160x48, profiled). Never the filter field.
    AUTO_FOCUS = ".customer-table"

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

    FIRST_SORT = "sort_name"

    def __init__(self) -> None:
        super().__init__()
        self.rows: CustomerRows | None = None
        self.filters: dict = {}
        self.sort_col = 0  # index into the shown columns
        self.sort_key = self.FIRST_SORT
        self.descending = False
        self.view_serial = 0  # counts the row selections shown
        self._cache: dict[tuple[str, str | None], CustomerRows] = {}
        self._prefetched: tuple[tuple[str, str | None], Worker] | None = None
        self._positions: np.ndarray | None = None
        self._view: pd.DataFrame | None = None
        self._ids: list[int] = []
        self._shown: list[Col] = []
        self._name_width = 20
        self._cursor_id: int | None = None
        self._table_serial = 0

    @property
    def frame(self) -> pd.DataFrame | None:
        """``customer_table``'s frame for the current scope and as-of date (with sort keys)."""
        return None if self.rows is None else self.rows.frame

    @property
    def view(self) -> pd.DataFrame | None:
        """The rows shown, in order (a frame built when asked for: the list itself does not need it)."""
        if self.rows is None or self._positions is None:
            return None
        if self._view is None:
            self._view = self.rows.frame.take(self._positions)
        return self._view

    @property
    def shown_count(self) -> int:
        return len(self._ids)

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            yield Static("/", id="filter-prompt")
            # no validators, so no validation: else the first keystroke adds the -valid class, and
            # restyling the field then costs ~2 ms of that keystroke (profiled)
            yield Input(placeholder="filter: name, tenant id or domain", id="filter", compact=True, validate_on=())
            yield Static("", id="view-info")
        yield Vertical(id="table-holder")
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "scope", self._scope_changed, init=False)
        self.watch(self.query_one("#filter", Input), "value", self._typed, init=False)
        self._layout(self.size.width or self.app.size.width)
        self.load()

    def on_resize(self, event) -> None:
        old = [c.key for c in self._shown], self._name_width
        self._layout(event.size.width)
        if ([c.key for c in self._shown], self._name_width) != old and self._positions is not None:
            self._show_rows()

    def _layout(self, width: int) -> None:
        """Pick the columns that fit; the name column gets the rest (16..40)."""
        fixed = [c for c in COLUMNS if c.key != "name" and width >= c.min_screen]
        used = sum(c.width + 2 for c in fixed) + 2 + 2  # cell padding, name padding, scrollbar
        self._name_width = max(14, min(40, width - used))
        sort_key = self.sort_key
        self._shown = [c for c in COLUMNS if c.key == "name" or c in fixed]
        keys = [c.sort for c in self._shown]
        self.sort_col = keys.index(sort_key) if sort_key in keys else 0
        if sort_key not in keys:
            self.sort_key, self.descending = "sort_name", False

    # ----------------------------------------------------------------- loading

    def _scope_changed(self, _scope: str) -> None:
        self.load()

    def prefetch(self) -> None:
        """Start reading the rows now, before the screen is shown (the app calls this
        right after login, so that reading overlaps building and showing the screen)."""
        key = (self.app.scope, self.app.as_of)
        worker = self.app.run_worker(
            partial(read_rows, self.app, *key, self.sort_key, self.descending),
            thread=True, group="customers", exit_on_error=False, description="loading the customers",
        )
        self._prefetched = (key, worker)

    def take_rows(self, rows: CustomerRows, scope: str, as_of: str | None) -> None:
        """Rows read before the screen is shown (at login): the screen is mounted with them."""
        self._cache[(scope, as_of)] = rows

    def load(self, *, force: bool = False) -> None:
        key = (self.app.scope, self.app.as_of)
        prefetched, self._prefetched = self._prefetched, None
        if not force and key in self._cache:
            self._loaded(self._cache[key])
            return
        self.show_loading(self.query_one("#table-holder"), True)
        if not force and prefetched is not None and prefetched[0] == key:
            self._adopt(prefetched[1], *key)
            return
        self._load(*key, self.sort_key, self.descending)

    @work(exclusive=True, group="customers", exit_on_error=False, description="loading the customers")
    async def _adopt(self, worker: Worker, scope: str, as_of: str | None) -> None:
        """Take the rows the prefetch reads (its failure, if any, is reported by the app)."""
        try:
            rows = await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            self.show_loading(self.query_one("#table-holder"), False)
            return
        self.post_message(CustomersLoaded(rows, scope, as_of))

    @work(thread=True, exclusive=True, group="customers", exit_on_error=False, description="loading the customers")
    def _load(self, scope: str, as_of: str | None, sort: str, descending: bool) -> None:
        rows = read_rows(self.app, scope, as_of, sort, descending)
        if not get_current_worker().is_cancelled:
            self.post_message(CustomersLoaded(rows, scope, as_of))

    def on_customers_loaded(self, message: CustomersLoaded) -> None:
        self._cache[(message.scope, message.as_of)] = message.rows
        if (message.scope, message.as_of) == (self.app.scope, self.app.as_of):
            self._loaded(message.rows)

    def _loaded(self, rows: CustomerRows) -> None:
        self.rows = rows
        self.show_loading(self.query_one("#table-holder"), False)
        self._refilter()

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR and event.worker.group == "customers":
            self.show_loading(self.query_one("#table-holder"), False)

    # ----------------------------------------------------------------- filtering

    def _typed(self, value: str) -> None:
        """The filter field's value changed: filter now, in the handler of the key that changed it.

        Not on the Input.Changed message: handled after the key, it let Textual draw a frame with
        only the letter in between (a second layout and drawing of the screen, ~3 ms of a keystroke).
        A value set by :meth:`set_filters` is in ``filters`` already.
        """
        if value == self.filters.get("query", ""):
            return
        self.filters["query"] = value
        self._refilter()

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        self._focus_table()

    def _refilter(self) -> None:
        """Show the rows that pass the filters, in the sort order (now, or once the order is computed)."""
        rows = self.rows
        if rows is None:
            return
        positions = rows.select(self.filters, self.sort_key, self.descending)
        if positions is None:
            self._sort(rows, self.sort_key, self.descending)
            return
        self._positions = positions
        self._view = None
        self.view_serial += 1
        self._show_rows()

    @work(thread=True, exclusive=True, group="sort", exit_on_error=False, description="sorting the customers")
    def _sort(self, rows: CustomerRows, sort: str, descending: bool) -> None:
        order = sorted_positions(rows.frame, sort, descending)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._sorted, rows, sort, descending, order)

    def _sorted(self, rows: CustomerRows, sort: str, descending: bool, order: np.ndarray) -> None:
        rows.orders[(sort, descending)] = order
        if rows is self.rows:
            self._refilter()

    def _show_rows(self) -> None:
        rows, positions = self.rows, self._positions
        holder = self.query_one("#table-holder")
        old = self._table()
        had_focus = old is not None and old.has_focus
        if old is not None and old.row_count and 0 <= old.cursor_row < len(self._ids):
            self._cursor_id = self._ids[old.cursor_row]
        self._ids = rows.ids[positions].tolist()
        labels, numeric, warn, widths, formats = [], [], [], [], {}
        for index, col in enumerate(self._shown):
            label = col.label
            if col.sort == self.sort_key:
                label += " ▼" if self.descending else " ▲"
            labels.append(Text(label, justify="right" if col.numeric else "left"))
            if col.numeric:
                numeric.append(index)
            if col.warn:
                warn.append(index)
            if col.format is not None:
                formats[index] = col.format
            widths.append(self._name_width if col.key == "name" else col.width + (2 if col.sort == self.sort_key else 0))
        data = rows.table.select([c.key for c in self._shown])
        if len(positions) != rows.size or not np.array_equal(positions, np.arange(rows.size)):
            data = data.take(positions)
        if old is not None and old.replace(data, labels, numeric=numeric, warn=warn, widths=widths, formats=formats):
            table = old
            row = self._ids.index(self._cursor_id) if self._cursor_id in self._ids else 0
            table.move_cursor(row=row, column=0)
        else:
            self._table_serial += 1
            table = FigureTable(data, labels, numeric=numeric, warn=warn, widths=widths, formats=formats,
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

    def _table(self) -> FigureTable | None:
        tables = self.query(".customer-table")
        return tables.last() if tables else None

    def _focus_table(self) -> None:
        table = self._table()
        if table is not None:
            table.focus()

    def _update_info(self) -> None:
        rows = self.rows
        total = 0 if rows is None else rows.size
        as_of = None
        if rows is not None and rows.size:
            as_of = self.app.as_of or rows.as_of or None
        self.query_one(StatusLine).set(counts=(len(self._ids), total), as_of=as_of or "")
        parts = []
        active = self.describe_filters()
        if active:
            parts.append("filters: " + active)
        sort_label = next((c.label for c in self._shown if c.sort == self.sort_key), "Customer")
        parts.append(f"sort: {sort_label} {'▼' if self.descending else '▲'}")
        if self.size.width >= 120:
            parts.append("flags: ! over 100 % explained · ? not explained · L low adoption · U upsell · R renewal due")
        info = " · ".join(parts)
        if info != getattr(self, "_view_info", None):  # unchanged while typing in the filter: no new layout
            self._view_info = info
            self.query_one("#view-info", Static).update(Text(info))

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
        query = self.filters.get("query", "")
        if search.value != query:
            search.value = query  # no second filtering: see _typed
            search.cursor_position = len(query)  # typing on extends it
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
