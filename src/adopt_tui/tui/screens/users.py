"""Users: accounts, roles, locks, temporary passwords and customer assignments.

For Global admins and User management admins (Perm.MANAGE_USERS). Every
change goes through :mod:`adopt_tui.auth.accounts`, which decides what is
allowed; this screen only greys out what the core would refuse (a User
management admin touching a Global admin, disabling oneself, ...) and shows
the core's refusals as notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from adopt_tui.auth import accounts
from adopt_tui.auth.accounts import AccountInfo
from adopt_tui.auth.permissions import Perm, Role
from adopt_tui.tui.admin import ConfirmDialog, CoreCalls, CoreDone, app_now
from adopt_tui.tui.app import AdoptScreen, WorkerFailures
from adopt_tui.tui.format import NA
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.figures import cursor_row_key
from adopt_tui.tui.widgets.footer import KeysFooter

# Actions that work on the highlighted account.
TARGET_ACTIONS = frozenset({"disable", "enable", "unlock", "reset", "role", "assign", "unassign"})


@dataclass(frozen=True)
class Outcome:
    """What a change did: a line for the notification, and a temporary password to show once."""

    text: str
    password: str | None = None
    username: str = ""


@dataclass(frozen=True)
class UserList:
    accounts: list[AccountInfo]
    assigned: dict[str, list[tuple[int, str, str]]]  # username -> [(id, tenant id, name)]


@dataclass(frozen=True)
class CustomerChoice:
    tenant_id: str
    name: str
    detail: str = ""


def _state_text(info: AccountInfo) -> Text:
    if info.state == "locked":
        return Text(f"locked until {info.locked_until}")
    if info.must_change_password and info.state == "active":
        return Text("active, must change password")
    return Text(info.state)


class UsersScreen(CoreCalls, AdoptScreen):
    """The account list; the actions work on the highlighted account."""

    CSS_PATH = tcss("users.tcss")
    AUTO_FOCUS = "#users-table"

    BINDINGS = [
        Binding("n", "add", "Add", id="users.add", tooltip="Create an account with a temporary password"),
        Binding("d", "disable", "Disable", id="users.disable", tooltip="Disable the highlighted account"),
        Binding("e", "enable", "Enable", id="users.enable", tooltip="Enable the highlighted account again"),
        Binding("u", "unlock", "Unlock", id="users.unlock",
                tooltip="Lift a lockout after failed logins and clear the failed-login count"),
        Binding("r", "reset", "Reset password", id="users.reset",
                tooltip="Give the account a new temporary password (shown once)"),
        Binding("g", "role", "Role", id="users.role", tooltip="Change the role of the highlighted account"),
        Binding("c", "assign", "Assign", id="users.assign", tooltip="Assign customers to this sales agent"),
        Binding("x", "unassign", "Unassign", id="users.unassign",
                tooltip="Remove customers from this account's assignments"),
        Binding("f5,ctrl+r", "refresh", "Refresh", id="users.refresh", tooltip="Read the accounts again",
                show=False),
        Binding("j", "cursor(1)", "Down", id="users.down", show=False, tooltip="Next account"),
        Binding("k", "cursor(-1)", "Up", id="users.up", show=False, tooltip="Previous account"),
        Binding("escape,q", "back", "Back", id="users.back", tooltip="Close the user list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[str, AccountInfo] = {}
        self.assigned: dict[str, list[tuple[int, str, str]]] = {}
        self._select: str | None = None  # the account to highlight after the next load

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Static("Users", classes="section-title", id="users-title")
        yield DataTable(id="users-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="user-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#users-table", DataTable)
        table.add_column("User", key="user")
        table.add_column("Display name", key="display")
        table.add_column("Role", key="role")
        table.add_column("State", key="state")
        table.add_column("Customers", key="customers")
        table.add_column("Last login (UTC)", key="last")
        table.loading = True
        self.action_refresh()

    # ----------------------------------------------------------------- data

    @property
    def principal(self):
        return self.app.principal

    def action_refresh(self) -> None:
        principal, now = self.principal, app_now(self.app)

        def load(conn) -> UserList:
            infos = accounts.list_accounts(conn, principal, now=now)
            assigned = {i.username: accounts.assigned_customers(conn, principal, i.username)
                        for i in infos if i.customer_count}
            return UserList(infos, assigned)

        self.core("load", load, name="reading the accounts")

    def on_core_done(self, message: CoreDone) -> None:
        if message.key == "load":
            self._show(message.result)
        elif message.key == "candidates":
            username, choices = message.result
            self._pick_customers(username, choices, assign=True)
        elif isinstance(message.result, Outcome):
            outcome = message.result
            self.notify(outcome.text, markup=False)
            if message.key == "add":
                self._select = outcome.username
            if outcome.password:
                self.app.push_screen(TemporaryPasswordDialog(outcome.username, outcome.password))
            self.action_refresh()

    def core_refused(self, message) -> None:
        self.query_one("#users-table", DataTable).loading = False
        super().core_refused(message)
        if message.key != "load":
            self.action_refresh()  # the list may be out of date: that is often why

    def _show(self, data: UserList) -> None:
        table = self.query_one("#users-table", DataTable)
        table.loading = False
        current = self._select or getattr(self.selected(), "username", None)
        self._select = None
        self.accounts = {i.username: i for i in data.accounts}
        self.assigned = data.assigned
        table.clear()
        for info in data.accounts:
            customers = str(info.customer_count) if info.role == Role.SALES_AGENT or info.customer_count else NA
            table.add_row(
                Text(info.username), Text(info.display_name), Text(info.role.label), _state_text(info),
                Text(customers), Text(info.last_login_at.replace("T", " ") if info.last_login_at else NA),
                key=info.username,
            )
        if current in self.accounts:
            table.move_cursor(row=table.get_row_index(current))
        self.query_one("#users-title", Static).update(f"Users ({len(data.accounts)})")
        self._detail()
        self.refresh_bindings()

    def selected(self) -> AccountInfo | None:
        if not self.accounts:
            return None
        key = cursor_row_key(self.query_one("#users-table", DataTable))
        return None if key is None else self.accounts.get(key)

    @on(DataTable.RowHighlighted, "#users-table")
    def _highlighted(self) -> None:
        self._detail()
        self.refresh_bindings()

    def _detail(self) -> None:
        info = self.selected()
        pane = self.query_one("#user-detail", Static)
        if info is None:
            pane.update("")
            return
        text = Text()
        text.append(info.username, style="bold")
        if info.display_name:
            text.append(f" — {info.display_name}")
        text.append(f"\nRole: {info.role.label}   State: ")
        text.append_text(_state_text(info))
        text.append(f"   Failed logins: {info.failed_attempts}")
        text.append(f"\nLast login: {(info.last_login_at or NA).replace('T', ' ')}   "
                    f"Created: {info.created_at.replace('T', ' ')}   Changed: {info.changed_at.replace('T', ' ')}")
        customers = self.assigned.get(info.username, [])
        if info.role == Role.SALES_AGENT or customers:
            names = ", ".join(name for _id, _tenant, name in customers) or "none"
            text.append(f"\nAssigned customers ({len(customers)}): {names}")
        pane.update(text)

    # ----------------------------------------------------------------- what applies now

    def _may_touch(self, info: AccountInfo) -> bool:
        principal = self.principal
        return principal is not None and (
            info.role != Role.GLOBAL_ADMIN or principal.can(Perm.MANAGE_GLOBAL_ADMINS)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            return self.principal is not None and self.principal.can(Perm.MANAGE_USERS)
        if action not in TARGET_ACTIONS:
            return True
        info = self.selected()
        if info is None:
            return None
        if action == "unassign":
            return True if self.assigned.get(info.username) else None
        if not self._may_touch(info):
            return None  # greyed: a User management admin cannot change a Global admin
        if action == "disable":
            return None if info.state == "disabled" or info.username == self.principal.username else True
        if action == "enable":
            return True if info.state == "disabled" else None
        if action == "unlock":
            return True if info.state == "locked" or info.failed_attempts else None
        if action == "assign":
            return True if info.role == Role.SALES_AGENT else None
        return True

    # ----------------------------------------------------------------- actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#users-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def action_add(self) -> None:
        roles = [r for r in Role if r != Role.GLOBAL_ADMIN or self.principal.can(Perm.MANAGE_GLOBAL_ADMINS)]
        self.app.push_screen(AddUserDialog(roles), callback=self._add)

    def _add(self, answer: tuple[str, str, Role] | None) -> None:
        if not answer:
            return
        username, display_name, role = answer
        principal, now = self.principal, app_now(self.app)

        def create(conn) -> Outcome:
            password = accounts.create_account(conn, principal, username, role, display_name, now=now)
            return Outcome(f"Created {username} ({role.label}).", password, username)

        self.core("add", create, name="creating the account")

    def _change(self, key: str, call, text: str, unchanged: str) -> None:
        info = self.selected()
        if info is None:
            return
        principal, now, username = self.principal, app_now(self.app), info.username

        def run(conn) -> Outcome:
            changed = call(conn, principal, username, now=now)
            return Outcome((text if changed else unchanged).format(user=username))

        self.core(key, run, name=f"{key} {username}")

    def action_disable(self) -> None:
        info = self.selected()
        if info is None:
            return
        self.app.push_screen(
            ConfirmDialog(f"Disable {info.username}? They can no longer sign in until enabled again.", "Disable"),
            callback=lambda yes: yes and self._change(
                "disable", accounts.disable, "Disabled {user}.", "{user} was already disabled."),
        )

    def action_enable(self) -> None:
        self._change("enable", accounts.enable, "Enabled {user}.", "{user} was not disabled.")

    def action_unlock(self) -> None:
        self._change("unlock", accounts.unlock, "Unlocked {user}.", "{user} was not locked; failed-login count cleared.")

    def action_reset(self) -> None:
        info = self.selected()
        if info is None:
            return
        username = info.username
        self.app.push_screen(
            ConfirmDialog(f"Reset the password of {username}? Their current password stops working; "
                          "they must choose a new one at their next login.", "Reset"),
            callback=lambda yes: yes and self._reset(username),
        )

    def _reset(self, username: str) -> None:
        principal, now = self.principal, app_now(self.app)

        def reset(conn) -> Outcome:
            password = accounts.reset_password(conn, principal, username, now=now)
            return Outcome(f"Reset the password of {username}.", password, username)

        self.core("reset", reset, name=f"resetting the password of {username}")

    def action_role(self) -> None:
        from adopt_tui.tui.screens.error import ChoiceDialog

        info = self.selected()
        if info is None:
            return
        roles = [r for r in Role if r != Role.GLOBAL_ADMIN or self.principal.can(Perm.MANAGE_GLOBAL_ADMINS)]
        username = info.username
        self.app.push_screen(
            ChoiceDialog(f"Role of {username}", [(r.value, r.label) for r in roles], current=info.role.value),
            callback=lambda value: value and value != info.role.value and self._set_role(username, Role(value)),
        )

    def _set_role(self, username: str, role: Role) -> None:
        principal, now = self.principal, app_now(self.app)

        def run(conn) -> Outcome:
            changed = accounts.set_role(conn, principal, username, role, now=now)
            return Outcome(f"{username} is now {role.label}." if changed else f"{username} already was {role.label}.")

        self.core("role", run, name=f"changing the role of {username}")

    def action_assign(self) -> None:
        info = self.selected()
        if info is None:
            return
        principal, username = self.principal, info.username

        def candidates(conn):
            from adopt_tui.metrics.read import visible_customers

            taken = {tenant for _id, tenant, _name in accounts.assigned_customers(conn, principal, username)}
            choices = [
                CustomerChoice(c.tenant_id, c.name, " · ".join(p for p in (c.domain, c.market, c.segment) if p)
                               + (f" · agents: {', '.join(c.agents)}" if c.agents else ""))
                for c in visible_customers(conn, principal) if c.tenant_id not in taken
            ]
            return username, choices

        self.core("candidates", candidates, name="reading the customers")

    def action_unassign(self) -> None:
        info = self.selected()
        if info is None:
            return
        choices = [CustomerChoice(tenant, name) for _id, tenant, name in self.assigned.get(info.username, [])]
        self._pick_customers(info.username, choices, assign=False)

    def _pick_customers(self, username: str, choices: list[CustomerChoice], *, assign: bool) -> None:
        if not choices:
            self.notify(f"No customers left to {'assign to' if assign else 'remove from'} {username}.", markup=False)
            return
        title = f"Assign customers to {username}" if assign else f"Remove customers from {username}"
        self.app.push_screen(
            CustomerPicker(title, choices, "Assign" if assign else "Remove"),
            callback=lambda tenants: tenants and self._assignment(username, tenants, assign),
        )

    def _assignment(self, username: str, tenants: list[str], assign: bool) -> None:
        principal, now = self.principal, app_now(self.app)

        def run(conn) -> Outcome:
            if assign:
                names = accounts.assign_customers(conn, principal, username, tenants, now=now)
                return Outcome(f"Assigned to {username}: {', '.join(names) or 'nothing new'}.")
            names = accounts.unassign_customers(conn, principal, username, tenants, now=now)
            return Outcome(f"Removed from {username}: {', '.join(names) or 'nothing'}.")

        self.core("assign" if assign else "unassign", run, name=f"changing the customers of {username}")


# --------------------------------------------------------------------------- dialogs


class AddUserDialog(WorkerFailures, ModalScreen[tuple[str, str, Role] | None]):
    """User name, display name, role. Dismisses with them, or None."""

    CSS_PATH = tcss("users.tcss")
    AUTO_FOCUS = "#new-username"

    BINDINGS = [
        Binding("ctrl+s", "create", "Create", id="users.add.create", tooltip="Create the account"),
        Binding("escape", "cancel", "Cancel", id="users.add.cancel", tooltip="Close without creating"),
    ]

    def __init__(self, roles: list[Role]) -> None:
        super().__init__()
        self.roles = roles

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Add a user", classes="dialog-title")
            yield Label("User name (letters, digits, . _ - @)")
            yield Input(id="new-username", placeholder="e.g. jan.jansen", max_length=64, compact=True)
            yield Label("Display name (optional)")
            yield Input(id="new-display-name", placeholder="e.g. Jan Jansen", max_length=100, compact=True)
            yield Label("Role")
            default = Role.SALES_AGENT if Role.SALES_AGENT in self.roles else self.roles[-1]
            yield Select([(r.label, r) for r in self.roles], value=default, allow_blank=False, id="new-role",
                         compact=True)
            yield Static("A temporary password is generated and shown once; the person must choose "
                         "a new one at first login.", classes="muted")
            yield Static("", id="add-message", classes="warning-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="add-create", variant="primary", compact=True)
                yield Button("Cancel", id="add-cancel", compact=True)
        yield KeysFooter()

    @on(Input.Submitted, "#new-username")
    def _next(self) -> None:
        self.query_one("#new-display-name", Input).focus()

    @on(Input.Submitted, "#new-display-name")
    def _to_role(self) -> None:
        self.query_one("#new-role", Select).focus()

    @on(Button.Pressed, "#add-create")
    def action_create(self) -> None:
        username = self.query_one("#new-username", Input).value.strip()
        display_name = self.query_one("#new-display-name", Input).value
        try:
            accounts.validate_username(username)
            display_name = accounts.validate_display_name(display_name)
        except ValueError as exc:
            self.query_one("#add-message", Static).update(Text(str(exc)))
            self.query_one("#new-username", Input).focus()
            return
        self.dismiss((username, display_name, self.query_one("#new-role", Select).value))

    @on(Button.Pressed, "#add-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TemporaryPasswordDialog(ModalScreen[None]):
    """Shows a temporary password once, with a copy key."""

    CSS_PATH = tcss("users.tcss")

    BINDINGS = [
        Binding("c", "copy", "Copy", id="users.password.copy", tooltip="Copy the password to the clipboard"),
        Binding("enter,escape", "close", "Done", id="users.password.close",
                tooltip="Close: the password is not shown again"),
    ]

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = username
        self.password = password

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="password-dialog"):
            yield Static(Text(f"Temporary password for {self.username}"), classes="dialog-title")
            yield Static(Text(self.password), id="temporary-password")
            yield Static(
                "It will not be shown again. Copy it now (c) and give it to the person by a safe channel; "
                "they must choose a new password at their first login.", classes="warning-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy", id="password-copy", compact=True)
                yield Button("Done", id="password-done", variant="primary", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#password-done", Button).focus()

    @on(Button.Pressed, "#password-copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.password)
        self.notify("Copied to the clipboard (if your terminal allows it).", markup=False, timeout=3)

    @on(Button.Pressed, "#password-done")
    def action_close(self) -> None:
        self.password = ""
        self.dismiss(None)


class CustomerPicker(ModalScreen[list[str] | None]):
    """Pick several customers from a filterable list; dismisses with their tenant ids, or None."""

    CSS_PATH = tcss("users.tcss")
    AUTO_FOCUS = "#picker-filter"

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Confirm", id="users.picker.confirm", tooltip="Apply the ticked customers"),
        Binding("escape", "cancel", "Cancel", id="users.picker.cancel", tooltip="Close without changes"),
        Binding("slash", "filter", "Filter", id="users.picker.filter", tooltip="Type to filter the customers"),
    ]

    def __init__(self, title: str, choices: list[CustomerChoice], confirm: str = "Confirm") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.confirm = confirm
        self.chosen: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="picker"):
            yield Static(Text(self.title_text), classes="dialog-title")
            yield Input(id="picker-filter", placeholder="filter by name, tenant id, domain (Down: to the list)",
                        compact=True)
            yield SelectionList[str](id="picker-list")
            yield Static("", id="picker-count", classes="muted")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, id="picker-confirm", variant="primary", compact=True)
                yield Button("Cancel", id="picker-cancel", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, text: str) -> None:
        needle = text.strip().casefold()
        shown = [c for c in self.choices
                 if not needle or needle in f"{c.name} {c.tenant_id} {c.detail}".casefold()]
        options = self.query_one("#picker-list", SelectionList)
        options.clear_options()
        options.add_options([
            Selection(Text.assemble(c.name, (f"  {c.detail}" if c.detail else "", "dim")), c.tenant_id,
                      c.tenant_id in self.chosen)
            for c in shown
        ])
        self._count(len(shown))

    def _count(self, shown: int | None = None) -> None:
        if shown is None:
            shown = self.query_one("#picker-list", SelectionList).option_count
        self.query_one("#picker-count", Static).update(
            f"{len(self.chosen)} ticked · {shown} of {len(self.choices)} shown · Space ticks, Ctrl+S confirms")

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _to_list(self) -> None:
        options = self.query_one("#picker-list", SelectionList)
        if options.option_count and options.highlighted is None:
            options.highlighted = 0
        options.focus()

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#picker-filter", Input):
            self._to_list()
            event.stop()

    @on(SelectionList.SelectedChanged, "#picker-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        options = event.selection_list
        shown = {options.get_option_at_index(i).value for i in range(options.option_count)}
        self.chosen = (self.chosen - shown) | set(options.selected)
        self._count()

    def action_filter(self) -> None:
        self.query_one("#picker-filter", Input).focus()

    @on(Button.Pressed, "#picker-confirm")
    def action_confirm(self) -> None:
        if not self.chosen:
            self.notify("Tick at least one customer (Space), or press Escape.", severity="warning", markup=False)
            return
        order = {c.tenant_id: i for i, c in enumerate(self.choices)}
        self.dismiss(sorted(self.chosen, key=order.get))

    @on(Button.Pressed, "#picker-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
