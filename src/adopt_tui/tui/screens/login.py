"""Login: user name, masked password, one generic message. (The idle lock is tui/admin.py's.)"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from adopt_tui.auth.permissions import Role
from adopt_tui.errors import LoginFailed
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.messages import LoggedIn, LoginRefused
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.typeahead import ENTER_BINDINGS, TypeAhead
from adopt_tui.tui.widgets.footer import KeysFooter

GENERIC = "Login failed: wrong user name or password, or the account is disabled or locked."


def _role_label(role) -> str:
    try:
        return Role(role).label
    except ValueError:
        return str(role)


class LoginScreen(TypeAhead, AdoptScreen):
    """User name, masked password; Enter submits."""

    CSS_PATH = tcss("login.tcss")
    AUTO_FOCUS = "#username"
    TYPE_AHEAD_FIELDS = ("username", "password")

    BINDINGS = [
        *ENTER_BINDINGS,
        Binding("enter", "submit", "Log in", id="login.submit", tooltip="Sign in with this name and password",
                show=True),
    ]

    def __init__(self, demo_accounts: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__()
        self.demo_accounts = demo_accounts

    def compose(self) -> ComposeResult:
        # Few widgets, of few kinds: every widget and every new kind's stylesheet adds to the
        # time from start to this screen (the screen itself centres the box).
        with Vertical(id="login-box"):
            yield Static("adopt-tui", id="login-title")
            yield Static("License deployment and usage of your customers", id="login-subtitle")
            with Horizontal(classes="login-row"):
                yield Static("User name", id="username-label")
                yield Input(placeholder="user name", id="username", select_on_focus=False, compact=True)
            with Horizontal(classes="login-row"):
                yield Static("Password", id="password-label")
                yield Input(placeholder="password", password=True, id="password", select_on_focus=False,
                            compact=True)
            yield Static("", id="login-message")
            if self.demo_accounts:
                yield Static(self._demo_text(), id="demo-accounts")
        yield KeysFooter()

    def on_mount(self) -> None:
        after_first_frame = getattr(self.app, "login_screen_drawn", None)
        if callable(after_first_frame):
            self.call_after_refresh(after_first_frame)

    def _demo_text(self) -> Text:
        text = Text("Demo accounts (demo data only)\n", style="bold")
        for username, role, password in self.demo_accounts or []:
            text.append(f"{username:<10} {password:<25} {_role_label(role)}\n")
        text.rstrip()
        return text

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
        submitted = getattr(self.app, "login_submitted", None)
        if callable(submitted):
            self.call_after_refresh(submitted)  # once the check's thread has started

    @work(thread=True, exclusive=True, group="login", exit_on_error=False)
    def _login(self, username: str, password: str) -> None:
        from adopt_tui.auth.accounts import login
        from adopt_tui.metrics.read import latest_as_of

        app = self.app
        with app.db() as conn:
            try:
                principal = login(conn, username, password, now=app.now())
            except LoginFailed as exc:
                self.post_message(LoginRefused(str(exc), exc.retry_after))
                return
            self._latest = latest_as_of(conn)
        rows = None if principal.must_change_password else self._read_home_rows(principal)
        self.post_message(LoggedIn(principal, rows))

    def _read_home_rows(self, principal):
        """The customer list's rows, read here, in the login's worker, as soon as the password
        is accepted (never before: nothing is read for a name that has not signed in).

        Read by the list's own worker instead, the read (~60 ms at 20,000 customers) ran
        while the UI thread built the list screen, each slowing the other down for the
        GIL, and the list was drawn a second time once they came (profiled: 150-250 ms
        from the password check to the rows). Read here, the screen is built once, with
        its rows. If reading fails, the list reads them itself and reports the failure.
        """
        try:
            from adopt_tui.tui.screens.customers import read_home_rows
        except ImportError:
            return None
        try:
            return read_home_rows(self.app, principal)
        except Exception:  # reported by the list's own read, which runs when these are missing
            return None

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
        self.query_one("#password", Input).value = ""
        self.query_one("#login-message", Static).update("")

        def go_on(new_principal) -> None:
            rows = message.rows if new_principal is principal else None
            self.app.signed_in(new_principal, latest_as_of=self._latest, rows=rows)

        try:
            from adopt_tui.tui.admin import after_login
        except ImportError:
            after_login = None
        if after_login is not None and after_login(self.app, principal, then=go_on):
            return  # the forced password change is up; go_on runs after it
        if principal.must_change_password:
            self.query_one("#login-message", Static).update(Text(
                "You must change your password before you can do anything else: "
                f"adopt-tui passwd --user {principal.username}", style="bold"))
            return
        go_on(principal)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one("#login-box").loading = False
            self.query_one("#login-message", Static).update("")
