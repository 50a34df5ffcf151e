"""Audit log: newest first, filters by user, action and date range, one page at a time.

For Global admins and User management admins (Perm.VIEW_AUDIT); the core
(:func:`adopt_tui.auth.audit.list_entries`) checks it. A large log is read a
page at a time (``limit``/``offset`` in SQL), never all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from adopt_tui.auth import audit
from adopt_tui.auth.audit import AuditEntry
from adopt_tui.tui.admin import CoreCalls, CoreDone, CoreRefused
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.figures import cursor_row_key
from adopt_tui.tui.widgets.footer import KeysFooter

DETAIL_WIDTH = 60  # characters of the detail shown in the table; the pane shows all


@dataclass(frozen=True)
class AuditFilter:
    user: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    @property
    def active(self) -> bool:
        return any((self.user, self.action, self.since, self.until))


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    first: int  # offset of the first entry
    more: bool  # there are older entries after this page
    actions: list[str]
    filters: AuditFilter


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class AuditScreen(CoreCalls, AdoptScreen):
    """The audit log, one page at a time; the highlighted entry in full below."""

    CSS_PATH = tcss("audit.tcss")
    AUTO_FOCUS = "#audit-table"
    PAGE_SIZE = 100

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="audit.filter", tooltip="Filter by user, action or dates"),
        Binding("right_square_bracket", "page(1)", "Older", id="audit.older", tooltip="The next page (older entries)"),
        Binding("left_square_bracket", "page(-1)", "Newer", id="audit.newer",
                tooltip="The previous page (newer entries)"),
        Binding("ctrl+x", "clear", "Clear filters", id="audit.clear", tooltip="Show every entry again"),
        Binding("f5,ctrl+r", "refresh", "Refresh", id="audit.refresh", tooltip="Read the log again", show=False),
        Binding("j", "cursor(1)", "Down", id="audit.down", show=False, tooltip="Next entry"),
        Binding("k", "cursor(-1)", "Up", id="audit.up", show=False, tooltip="Previous entry"),
        Binding("escape", "back", "Back", id="audit.back", tooltip="Back to the list, or close the audit log"),
        Binding("q", "back", "Back", id="audit.quit", show=False, tooltip="Close the audit log"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = AuditFilter()
        self.page_offset = 0
        self.more = False
        self.entries: dict[str, AuditEntry] = {}
        self._actions: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("Audit log (newest first)", classes="section-title", id="audit-title")
        with Horizontal(id="audit-filters"):
            yield Input(id="audit-user", placeholder="user (exact)", compact=True)
            yield Select([], prompt="any action", id="audit-action", compact=True)
            yield Input(id="audit-since", placeholder="since YYYY-MM-DD", compact=True)
            yield Input(id="audit-until", placeholder="until YYYY-MM-DD", compact=True)
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-detail")
        yield Static("", id="audit-page", classes="muted")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_column("Time (UTC)", key="time")
        table.add_column("User", key="user")
        table.add_column("Action", key="action")
        table.add_column("Target", key="target")
        table.add_column("Detail", key="detail")
        table.loading = True
        self._load(self.filters, 0)

    # ----------------------------------------------------------------- data

    def _load(self, filters: AuditFilter, offset: int) -> None:
        principal, size = self.app.principal, self.PAGE_SIZE

        def read(conn) -> AuditPage:
            rows = audit.list_entries(conn, principal, user=filters.user or None, action=filters.action or None,
                                      since=filters.since or None, until=filters.until or None,
                                      limit=size + 1, offset=offset)
            return AuditPage(rows[:size], offset, len(rows) > size, audit.list_actions(conn, principal), filters)

        self.core("page", read, name="reading the audit log")

    def on_core_done(self, message: CoreDone) -> None:
        page: AuditPage = message.result
        self.filters, self.page_offset, self.more = page.filters, page.first, page.more
        self._set_actions(page.actions)
        table = self.query_one("#audit-table", DataTable)
        table.loading = False
        table.clear()
        self.entries = {}
        for entry in page.entries:
            key = str(entry.id)
            self.entries[key] = entry
            table.add_row(Text(entry.time.replace("T", " ")), Text(entry.user), Text(entry.action),
                          Text(entry.target), Text(_one_line(entry.detail, DETAIL_WIDTH)), key=key)
        if page.entries:
            table.move_cursor(row=0)
            first, last = page.first + 1, page.first + len(page.entries)
            where = f"entries {first:,}–{last:,}" + (" (more older: ])" if page.more else "")
        else:
            where = "no entries" + (" match these filters" if page.filters.active else "")
        if page.first:
            where += " · newer: ["
        self.query_one("#audit-page", Static).update(
            Text(f"{where} · page {page.first // self.PAGE_SIZE + 1}"
                 + (" · filtered (Ctrl+X clears)" if page.filters.active else "")))
        self._detail()
        self.refresh_bindings()

    def core_refused(self, message: CoreRefused) -> None:
        self.query_one("#audit-table", DataTable).loading = False
        super().core_refused(message)

    def _set_actions(self, actions: list[str]) -> None:
        if actions == self._actions:
            return
        self._actions = actions
        select = self.query_one("#audit-action", Select)
        with self.prevent(Select.Changed):
            select.set_options([(Text(a), a) for a in actions])
            if self.filters.action in actions:
                select.value = self.filters.action

    def selected(self) -> AuditEntry | None:
        if not self.entries:
            return None
        key = cursor_row_key(self.query_one("#audit-table", DataTable))
        return None if key is None else self.entries.get(key)

    @on(DataTable.RowHighlighted, "#audit-table")
    def _detail(self) -> None:
        entry = self.selected()
        pane = self.query_one("#audit-detail", Static)
        if entry is None:
            pane.update("")
            return
        text = Text()
        text.append(f"#{entry.id}  {entry.time.replace('T', ' ')} UTC  ", style="bold")
        text.append(entry.user, style="bold")
        text.append(f"  {entry.action}")
        if entry.target:
            text.append(f"  → {entry.target}")
        text.append("\n")
        text.append(entry.detail or "(no detail)")
        pane.update(text)

    # ----------------------------------------------------------------- filters

    def _read_filters(self) -> AuditFilter:
        action = self.query_one("#audit-action", Select).value
        return AuditFilter(
            user=self.query_one("#audit-user", Input).value.strip(),
            action=action if isinstance(action, str) else "",
            since=self.query_one("#audit-since", Input).value.strip(),
            until=self.query_one("#audit-until", Input).value.strip(),
        )

    def apply_filters(self) -> None:
        filters = self._read_filters()  # the core says when a date is not one
        self.query_one("#audit-table", DataTable).loading = True
        self._load(filters, 0)

    @on(Input.Submitted, "#audit-filters Input")
    def _submitted(self) -> None:
        self.apply_filters()

    @on(Select.Changed, "#audit-action")
    def _action_changed(self) -> None:
        self.apply_filters()

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            step = parameters[0] if parameters else 1
            return (self.more if step > 0 else self.page_offset > 0) or None
        if action == "clear":
            return self.filters.active or None
        return True

    def action_page(self, step: int) -> None:
        offset = max(self.page_offset + step * self.PAGE_SIZE, 0)
        if (step > 0 and not self.more) or offset == self.page_offset:
            return
        self.query_one("#audit-table", DataTable).loading = True
        self._load(self.filters, offset)

    def action_filter(self) -> None:
        self.query_one("#audit-user", Input).focus()

    def action_clear(self) -> None:
        for name in ("#audit-user", "#audit-since", "#audit-until"):
            self.query_one(name, Input).value = ""
        with self.prevent(Select.Changed):
            self.query_one("#audit-action", Select).clear()
        self.query_one("#audit-table", DataTable).loading = True
        self._load(AuditFilter(), 0)

    def action_refresh(self) -> None:
        self._load(self.filters, self.page_offset)

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#audit-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def action_back(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        if self.focused is not table:
            table.focus()
            return
        self.app.pop_screen()
