"""Change my password: for everyone, and forced after login for a must-change account.

A modal: while it is open the screens underneath and the App's own keys are
out of reach (and, when forced, the command palette too), so an account that
must change its password can do nothing else. It dismisses with the refreshed
:class:`~adopt_tui.auth.permissions.Principal`, or None (cancelled, or, when
forced, logged out).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from adopt_tui.auth import accounts, passwords
from adopt_tui.auth.permissions import Principal
from adopt_tui.errors import LoginFailed
from adopt_tui.tui.admin import CoreCalls, CoreDone, CoreRefused, PaletteOff, app_now
from adopt_tui.tui.app import WorkerFailures
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.typeahead import ENTER_BINDINGS, TypeAhead
from adopt_tui.tui.widgets.footer import KeysFooter

WRONG_CURRENT = "The current password is not right (or the account is locked or disabled)."


class ChangePasswordScreen(TypeAhead, PaletteOff, CoreCalls, WorkerFailures, ModalScreen[Principal | None]):
    """Current password, new password twice. Ctrl+S (or Enter in the last field) changes it."""

    CSS_PATH = tcss("password.tcss")
    AUTO_FOCUS = "#pw-current"
    TYPE_AHEAD_FIELDS = ("pw-current", "pw-new", "pw-repeat")

    BINDINGS = [
        *ENTER_BINDINGS,
        Binding("ctrl+s", "change", "Change", id="password.change", tooltip="Change the password"),
        Binding("escape", "cancel", "Cancel", id="password.cancel", tooltip="Keep the current password"),
        Binding("ctrl+l", "logout", "Log out", id="password.logout", tooltip="Log out without changing it",
                priority=True),
    ]

    def __init__(self, username: str | None = None, *, forced: bool = False) -> None:
        super().__init__()
        self.username = username
        self.forced = forced

    def compose(self) -> ComposeResult:
        with Vertical(id="password-box"):
            if self.forced:
                yield Static("Choose a new password", classes="dialog-title")
                yield Static("Your password was set by an administrator. You must choose a new one "
                             "before you can do anything else.", classes="warning-text")
            else:
                yield Static("Change my password", classes="dialog-title")
            yield Static(Text(f"Account: {self.username or ''}"), id="pw-account")
            yield Label("Current password" + (" (the temporary one)" if self.forced else ""))
            yield Input(id="pw-current", password=True)
            yield Label(f"New password (at least {passwords.MIN_LENGTH} characters, not your user name)")
            yield Input(id="pw-new", password=True)
            yield Label("New password again")
            yield Input(id="pw-repeat", password=True)
            yield Static("", id="pw-message")
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.username is None:
            principal = getattr(self.app, "principal", None)
            self.username = principal.username if principal is not None else ""
            self.query_one("#pw-account", Static).update(Text(f"Account: {self.username}"))

    def palette_off(self) -> bool:
        return self.forced

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return not self.forced
        if action == "logout":
            return self.forced
        return True

    def _say(self, text: str) -> None:
        self.query_one("#pw-message", Static).update(Text(text))

    @on(Input.Submitted, "#pw-repeat")
    def action_change(self) -> None:
        current = self.query_one("#pw-current", Input).value
        new = self.query_one("#pw-new", Input).value
        repeat = self.query_one("#pw-repeat", Input).value
        if not current:
            self._say("Type your current password.")
            self.query_one("#pw-current", Input).focus()
            return
        problem = passwords.policy_problem(new, self.username or "")
        if problem is None and new != repeat:
            problem = "The two new passwords differ."
        if problem is None and new == current:
            problem = "The new password must differ from the current one."
        if problem:
            self._say(problem)
            self.query_one("#pw-new", Input).focus()
            return
        self._say("Changing…")
        username, now = self.username, app_now(self.app)

        def change(conn) -> Principal:
            try:
                return accounts.change_password(conn, username, current, new, now=now)
            except LoginFailed as exc:
                raise LoginFailed(str(exc) if exc.retry_after else WRONG_CURRENT) from None

        self.core("change", change, name="changing the password")

    def on_core_done(self, message: CoreDone) -> None:
        if not self.forced:
            self.notify("Your password was changed.", markup=False)
        self.dismiss(message.result)

    def core_refused(self, message: CoreRefused) -> None:
        self._say(message.text)
        current = self.query_one("#pw-current", Input)
        if message.text == WRONG_CURRENT:
            current.value = ""
            current.focus()

    def action_cancel(self) -> None:
        if not self.forced:
            self.dismiss(None)

    def action_logout(self) -> None:
        self.dismiss(None)
