"""Login, and the idle-lock prompt that covers the screen for the same user."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from adopt_tui.auth.permissions import Role
from adopt_tui.errors import LoginFailed
from adopt_tui.tui.app import AdoptScreen, WorkerFailures
from adopt_tui.tui.messages import LoggedIn, LoginRefused

GENERIC = "Login failed: wrong user name or password, or the account is disabled or locked."


def _role_label(role) -> str:
    try:
        return Role(role).label
    except ValueError:
        return str(role)


class LoginScreen(AdoptScreen):
    """User name, masked password; Enter submits."""

    CSS_PATH = "login.tcss"
    AUTO_FOCUS = "#username"

    BINDINGS = [
        Binding("enter", "submit", "Log in", id="login.submit", tooltip="Sign in with this name and password",
                show=True),
    ]

    def __init__(self, demo_accounts: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__()
        self.demo_accounts = demo_accounts

    def compose(self) -> ComposeResult:
        with Center(id="login-center"):
            with Vertical(id="login-box"):
                yield Static("adopt-tui", id="login-title")
                yield Static("License deployment and usage of your customers", id="login-subtitle")
                with Horizontal(classes="login-row"):
                    yield Label("User name", id="username-label")
                    yield Input(placeholder="user name", id="username", select_on_focus=False, compact=True)
                with Horizontal(classes="login-row"):
                    yield Label("Password", id="password-label")
                    yield Input(placeholder="password", password=True, id="password", select_on_focus=False,
                                compact=True)
                yield Static("", id="login-message")
                if self.demo_accounts:
                    yield Static(self._demo_text(), id="demo-accounts")
        yield Footer()

    def _demo_text(self) -> Text:
        text = Text("Demo accounts (demo data only)\n", style="bold")
        for username, role, password in self.demo_accounts or []:
            text.append(f"{username:<10} {password:<25} {_role_label(role)}\n")
        text.rstrip()
        return text

    @on(Input.Submitted, "#username")
    def _next(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username:
            self.query_one("#username", Input).focus()
            return
        if not password:
            self.query_one("#password", Input).focus()
            return
        self.query_one("#login-message", Static).update("Signing in…")
        self.query_one("#login-box").loading = True
        self._login(username, password)

    @work(thread=True, exclusive=True, group="login", exit_on_error=False)
    def _login(self, username: str, password: str) -> None:
        from adopt_tui.auth.accounts import login
        from adopt_tui.metrics.read import latest_as_of
        from adopt_tui.store import settings

        app = self.app
        with app.db() as conn:
            try:
                principal = login(conn, username, password, now=app.now())
            except LoginFailed as exc:
                self.post_message(LoginRefused(str(exc), exc.retry_after))
                return
            self._latest = latest_as_of(conn)
            try:
                self._idle_seconds = float(settings.get(conn, "idle_lock_minutes")) * 60
            except Exception:  # a database without the setting: no idle lock from it
                self._idle_seconds = None
        self.post_message(LoggedIn(principal))

    def on_login_refused(self, message: LoginRefused) -> None:
        self.query_one("#login-box").loading = False
        text = message.message if message.retry_after else GENERIC
        self.query_one("#login-message", Static).update(Text(text, style="bold"))
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def on_logged_in(self, message: LoggedIn) -> None:
        self.query_one("#login-box").loading = False
        principal = message.principal
        if principal.must_change_password:
            self.query_one("#login-message", Static).update(Text(
                "You must change your password before you can do anything else. "
                "Use: adopt-tui passwd --user " + principal.username, style="bold",
            ))
            self.query_one("#password", Input).value = ""
            return
        self.app.signed_in(principal, latest_as_of=self._latest, idle_seconds=self._idle_seconds)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one("#login-box").loading = False
            self.query_one("#login-message", Static).update("")


class LockScreen(WorkerFailures, ModalScreen[object]):
    """Covers the screen after the idle time; the same user's password unlocks.
    Dismisses with the refreshed Principal, or None to log out."""

    CSS_PATH = "login.tcss"
    AUTO_FOCUS = "#unlock-password"

    BINDINGS = [
        Binding("ctrl+l", "logout", "Log out", id="lock.logout", tooltip="Log out instead of unlocking",
                priority=True),
    ]

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static(Text(f"Locked after a period without input. {self.username}, type your password "
                              "to continue; your work is kept."), id="lock-text")
            yield Input(password=True, id="unlock-password", placeholder="password", compact=True)
            yield Static("", id="lock-message")
        yield Footer()

    @on(Input.Submitted, "#unlock-password")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self._unlock(event.value)

    @work(thread=True, exclusive=True, group="login", exit_on_error=False)
    def _unlock(self, password: str) -> None:
        from adopt_tui.auth.accounts import reauthenticate

        with self.app.db() as conn:
            try:
                principal = reauthenticate(conn, self.username, password, now=self.app.now())
            except LoginFailed as exc:
                self.post_message(LoginRefused(str(exc), exc.retry_after))
                return
        self.post_message(LoggedIn(principal))

    def on_login_refused(self, message: LoginRefused) -> None:
        text = message.message if message.retry_after else GENERIC
        self.query_one("#lock-message", Static).update(Text(text))
        self.query_one("#unlock-password", Input).value = ""

    def on_logged_in(self, message: LoggedIn) -> None:
        self.dismiss(message.principal)

    def action_logout(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters) -> bool | None:
        return True
