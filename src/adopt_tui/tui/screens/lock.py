"""The idle lock: after the idle time without input a password prompt covers the screen.

:class:`IdleGuard` owns an :class:`adopt_tui.auth.session.IdleLock` (an
injectable clock: tests pass a fake one), polls it from a timer and, once it
locks, pushes :class:`IdleLockScreen` over whatever is open, so the work
underneath is kept. The same user's password (checked by
:func:`adopt_tui.auth.accounts.reauthenticate`, with the login lockout)
uncovers it; Ctrl+L logs out instead. Locking writes ``idle_lock`` to the
audit log, unlocking ``idle_unlock`` (the core does that one).

Install it with :func:`adopt_tui.tui.admin.install_idle_lock`; the App passes
its input events to :func:`adopt_tui.tui.admin.idle_touch`.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from adopt_tui.auth import accounts, audit
from adopt_tui.auth.permissions import Principal
from adopt_tui.auth.session import IdleLock
from adopt_tui.errors import LoginFailed
from adopt_tui.tui.admin import CoreCalls, CoreDone, CoreRefused, PaletteOff, app_now, record_audit
from adopt_tui.tui.app import WorkerFailures
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.footer import KeysFooter

WRONG_PASSWORD = "Wrong password, or the account is now locked or disabled. Try again, or log out (Ctrl+L)."

# Input that counts as activity (mouse movement alone does not).
INPUT_EVENTS = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp, events.Paste)


class IdleLockScreen(PaletteOff, CoreCalls, WorkerFailures, ModalScreen[Principal | None]):
    """Covers everything; dismisses with the refreshed Principal, or None to log out.

    ``on_close(result)`` is called by the app once it is gone. (Not a
    push_screen callback: that runs through whatever message pump was active
    when the idle timer was created, typically the login screen, which is long
    gone by the time the lock closes.)
    """

    CSS_PATH = tcss("lock.tcss")
    AUTO_FOCUS = "#idle-password"

    BINDINGS = [
        Binding("ctrl+l", "logout", "Log out", id="idle.logout", tooltip="Log out instead of unlocking",
                priority=True),
    ]

    def __init__(self, username: str, display_name: str = "",
                 on_close: Callable[[Principal | None], object] | None = None) -> None:
        super().__init__()
        self.username = username
        self.display_name = display_name
        self.on_close = on_close

    def close(self, result: Principal | None) -> None:
        self.dismiss(result)
        if self.on_close is not None:
            self.app.call_later(self.on_close, result)

    def compose(self) -> ComposeResult:
        who = f"{self.display_name} ({self.username})" if self.display_name else self.username
        with Vertical(id="idle-box"):
            yield Static("adopt-tui is locked", id="idle-title")
            yield Static(Text(f"Locked after a period without input. {who}, type your password to "
                              "continue; your work is kept."), id="idle-text")
            yield Input(id="idle-password", password=True, placeholder="password")
            yield Static("", id="idle-message")
        yield KeysFooter()

    @on(Input.Submitted, "#idle-password")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            return
        password, username, now = event.value, self.username, app_now(self.app)
        event.input.value = ""
        self.query_one("#idle-message", Static).update("Checking…")

        def unlock(conn) -> Principal:
            try:
                return accounts.reauthenticate(conn, username, password, now=now)
            except LoginFailed as exc:
                raise LoginFailed(str(exc) if exc.retry_after else WRONG_PASSWORD) from None

        self.core("unlock", unlock, name="checking the password")

    def on_core_done(self, message: CoreDone) -> None:
        self.close(message.result)

    def core_refused(self, message: CoreRefused) -> None:
        self.query_one("#idle-message", Static).update(Text(message.text))
        self.query_one("#idle-password", Input).focus()

    def action_logout(self) -> None:
        self.close(None)


class IdleGuard:
    """The idle lock of one signed-in app: a timer, an input hook, the covering screen."""

    def __init__(
        self,
        app: App,
        seconds: float | None,
        *,
        clock: Callable[[], float] | None = None,
        interval: float | None = None,
    ) -> None:
        self.app = app
        self.clock = clock or time.monotonic
        self.interval = interval
        self.lock: IdleLock | None = None
        self.screen: IdleLockScreen | None = None
        self._timer = None
        self._stopped = False
        if seconds:
            self._start(seconds)
        else:
            self._read_setting()

    # ----------------------------------------------------------------- setup

    def _read_setting(self) -> None:
        from adopt_tui.store import settings

        app = self.app

        def read() -> None:
            with app.db() as conn:
                minutes = settings.get(conn, "idle_lock_minutes")
            app.call_from_thread(self._start, minutes * 60)

        app.run_worker(read, thread=True, group="idle", name="reading the idle-lock time", exit_on_error=False)

    def _start(self, seconds: float) -> None:
        if self._stopped:
            return
        self.lock = IdleLock(seconds, clock=self.clock)
        interval = self.interval or min(5.0, max(seconds / 4, 0.1))
        self._timer = self.app.set_interval(interval, self.check, name="idle lock")

    def set_timeout(self, seconds: float) -> None:
        """Apply a changed idle-lock time (the Settings screen calls this)."""
        if self.lock is None:
            self._start(seconds)
            return
        self.lock.timeout = seconds
        if self.interval is None and self._timer is not None:
            self._timer.stop()
            self._timer = self.app.set_interval(min(5.0, max(seconds / 4, 0.1)), self.check, name="idle lock")

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # ----------------------------------------------------------------- state

    @property
    def covered(self) -> bool:
        """True while the lock screen is up."""
        return self.screen is not None

    @property
    def timeout(self) -> float | None:
        return self.lock.timeout if self.lock is not None else None

    def on_input(self, event: object) -> None:
        if self.lock is not None and not self.covered and isinstance(event, INPUT_EVENTS):
            self.lock.touch()

    def _principal(self) -> Principal | None:
        return getattr(self.app, "principal", None)

    def check(self) -> bool:
        """Cover the screen when the idle time has passed; True while covered."""
        if self._stopped or self.lock is None:
            return False
        if self._principal() is None:  # logged out meanwhile
            self.stop()
            return False
        if self.covered:
            return True
        if self.lock.check():
            self._cover(f"no input for {self.lock.timeout / 60:g} minutes")
            return True
        return False

    def lock_now(self) -> None:
        """Lock at once (a key or palette command)."""
        if self._stopped or self.lock is None or self.covered or self._principal() is None:
            return
        self.lock.lock()
        self._cover("locked by the user")

    def _cover(self, detail: str) -> None:
        principal = self._principal()
        self.screen = IdleLockScreen(principal.username, principal.display_name, on_close=self._uncovered)
        self.app.push_screen(self.screen)
        record_audit(self.app, principal.username, audit.IDLE_LOCK, detail)

    def _uncovered(self, principal: Principal | None) -> None:
        self.screen = None
        if principal is None:
            self._logout()
            return
        if hasattr(self.app, "principal"):
            self.app.principal = principal
        if self.lock is not None:
            self.lock.unlock()
        self.app.refresh_bindings()

    def _logout(self) -> None:
        from adopt_tui.tui.admin import uninstall_idle_lock

        logout = getattr(self.app, "action_logout", None)
        uninstall_idle_lock(self.app)
        self.stop()
        if callable(logout):
            logout()  # the app audits the logout and shows the login screen
            return
        principal = self._principal()
        if principal is not None:
            record_audit(self.app, principal.username, audit.LOGOUT, "from the idle lock")
        self.app.exit()
