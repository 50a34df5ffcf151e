"""Administration in the TUI: the one integration point for the app.

What the app wires in (see screens.md, "Administration screens"):

* :data:`ADMIN_SCREENS` / :func:`entries_for`: the administration screens with
  the permission each needs (``None``: everyone signed in), for navigation,
  the command palette (:class:`AdminCommands`) and help.
* :func:`after_login`: call it with the principal the core returned; when
  the account must change its password it pushes the forced
  :class:`~adopt_tui.tui.screens.password.ChangePasswordScreen` and returns
  True (the app continues in ``then`` once the password is changed).
* :func:`install_idle_lock` / :func:`idle_guard`: the idle lock (a timer and an
  input hook the App's ``on_event`` calls, see :class:`IdleGuard`).

Also shared by the administration screens: :class:`ConfirmDialog`,
:class:`CoreCalls` (runs a core call in a thread worker and posts
:class:`CoreDone` or :class:`CoreRefused` back) and :func:`app_now`.

Everything that reads or writes the database runs in a thread worker with its
own connection (``app.db()``); the core decides what is allowed.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen

from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.errors import AdoptError
from adopt_tui.tui.screens.error import ConfirmDialog  # noqa: F401  (shared by the administration screens)

if TYPE_CHECKING:
    from adopt_tui.tui.screens.lock import IdleGuard

# What the core raises for people to read: PermissionDenied, NotFound, LoginFailed
# and WeakPassword are AdoptErrors; bad input is a ValueError.
REFUSALS: tuple[type[BaseException], ...] = (AdoptError, ValueError)


# --------------------------------------------------------------------------- screens


@dataclass(frozen=True)
class AdminEntry:
    """One administration screen; ``perm`` None: every signed-in person."""

    key: str
    title: str
    perm: Perm | None
    factory: Callable[[], Screen]
    help: str = ""

    def allowed(self, principal: Principal | None) -> bool:
        if principal is None or principal.must_change_password:
            return False
        if self.perm is None:
            return True
        return principal.can(self.perm)

    # the same shape as adopt_tui.tui.app.AdminEntry, so the app can list both
    def available(self) -> bool:
        return True

    def make(self) -> Screen:
        return self.factory()


def _users() -> Screen:
    from adopt_tui.tui.screens.users import UsersScreen

    return UsersScreen()


def _audit() -> Screen:
    from adopt_tui.tui.screens.audit import AuditScreen

    return AuditScreen()


def _settings() -> Screen:
    from adopt_tui.tui.screens.settings import SettingsScreen

    return SettingsScreen()


def _password() -> Screen:
    from adopt_tui.tui.screens.password import ChangePasswordScreen

    return ChangePasswordScreen()


ADMIN_SCREENS: list[AdminEntry] = [
    AdminEntry("users", "Users", Perm.MANAGE_USERS, _users,
               "Accounts, roles, locks, temporary passwords and customer assignments"),
    AdminEntry("audit", "Audit log", Perm.VIEW_AUDIT, _audit, "Who did what, newest first, with filters"),
    AdminEntry("settings", "Settings", Perm.EDIT_SETTINGS, _settings,
               "Recommendation thresholds, lockout and idle-lock times"),
    AdminEntry("password", "Change my password", None, _password, "Choose a new password for your account"),
]


PASSWORD_ENTRY = ADMIN_SCREENS[-1]


def entries_for(principal: Principal | None) -> list[AdminEntry]:
    """The entries ``principal`` may open (none before login or while a password change is forced)."""
    if principal is None or principal.must_change_password:
        return []
    return [e for e in ADMIN_SCREENS if e.allowed(principal)]


def open_entry(app: App, key: str) -> bool:
    """Open one administration screen (pop back to it when open); False when not allowed."""
    for entry in entries_for(getattr(app, "principal", None)):
        if entry.key == key:
            screen = entry.factory()
            for index, open_screen in enumerate(app.screen_stack):
                if type(open_screen) is type(screen) and index:
                    while app.screen is not open_screen:
                        app.pop_screen()
                    return True
            app.push_screen(screen)  # a voluntary password change leaves the principal as it was
            return True
    app.notify("That screen is not available to you.", severity="warning")
    return False


class AdminCommands(Provider):
    """Command palette: the administration screens this role may open, and Lock screen."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        principal = getattr(app, "principal", None)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (f"Go to {e.title}", e.help, lambda key=e.key: open_entry(app, key)) for e in entries_for(principal)
        ]
        guard = idle_guard(app)
        if guard is not None and entries_for(principal):
            commands.append(("Lock screen", "Cover the screen until you type your password", guard.lock_now))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


# --------------------------------------------------------------------------- login


def after_login(app: App, principal: Principal, then: Callable[[Principal], object] | None = None) -> bool:
    """Push the forced password change when ``principal`` must change its password.

    Returns False when nothing is needed (the caller goes on as usual). Returns
    True when the forced :class:`ChangePasswordScreen` was pushed: the person can
    do nothing else there but change the password or log out. After the change
    ``then(new_principal)`` runs (default: ``app.principal = new_principal``);
    after a log out the screen underneath (the login screen) is shown again.
    """
    if not principal.must_change_password:
        return False
    from adopt_tui.tui.screens.password import ChangePasswordScreen

    def done(new_principal: Principal | None) -> None:
        if new_principal is None:
            record_audit(app, principal.username, "logout", "left the forced password change")
            return
        if then is not None:
            then(new_principal)
        elif hasattr(app, "principal"):
            app.principal = new_principal

    app.push_screen(ChangePasswordScreen(principal.username, forced=True), callback=done)
    return True


# --------------------------------------------------------------------------- idle lock

_GUARDS: "weakref.WeakKeyDictionary[App, IdleGuard]" = weakref.WeakKeyDictionary()


def install_idle_lock(
    app: App,
    clock: Callable[[], float] | None = None,
    *,
    seconds: float | None = None,
    interval: float | None = None,
) -> "IdleGuard":
    """Start the idle lock for the signed-in ``app.principal``; returns the guard.

    ``clock`` returns seconds (default ``time.monotonic``; tests pass a fake).
    ``seconds``: the idle time (default: ``app.idle_minutes`` when set, else
    the ``idle_lock_minutes`` setting, read in a worker). A guard installed
    before is stopped. The App must pass input to it: in ``on_event``,
    ``idle_touch(self, event)``.
    """
    from adopt_tui.tui.screens.lock import IdleGuard

    uninstall_idle_lock(app)
    if seconds is None:
        minutes = getattr(app, "idle_minutes", None)
        seconds = minutes * 60 if minutes else None
    guard = IdleGuard(app, seconds, clock=clock, interval=interval)
    _GUARDS[app] = guard
    return guard


def uninstall_idle_lock(app: App) -> None:
    """Stop the idle lock (at logout)."""
    guard = _GUARDS.pop(app, None)
    if guard is not None:
        guard.stop()


def idle_guard(app: App) -> "IdleGuard | None":
    return _GUARDS.get(app)


def idle_touch(app: App, event: object) -> None:
    """The App's ``on_event`` hook: input postpones the idle lock."""
    guard = _GUARDS.get(app)
    if guard is not None:
        guard.on_input(event)


def is_locked(app: App) -> bool:
    """True while the idle lock covers the screen (the App's check_action may refuse everything then)."""
    guard = _GUARDS.get(app)
    return guard is not None and guard.covered


# --------------------------------------------------------------------------- shared helpers


def app_now(app: App) -> datetime | None:
    """The app's clock (AdoptApp.now, fixed in tests), or None for the real time."""
    now = getattr(app, "now", None)
    return now() if callable(now) else None


def record_audit(app: App, user: str, action: str, detail: str = "") -> None:
    """Append an audit row from a thread worker (the UI thread runs no SQL)."""
    from adopt_tui.auth import audit

    moment = app_now(app)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else None

    def write() -> None:
        with app.db() as conn:
            audit.record(conn, user, action, target=user, detail=detail, time=stamp)

    app.run_worker(write, thread=True, group="audit", name=f"audit {action}", exit_on_error=False)


def refusal_text(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[0].upper() + text[1:]


class CoreDone(Message, bubble=False):
    """A core call run by :meth:`CoreCalls.core` succeeded; ``key`` says which."""

    def __init__(self, key: str, result: Any) -> None:
        super().__init__()
        self.key = key
        self.result = result


class CoreRefused(Message, bubble=False):
    """The core refused (PermissionDenied, NotFound, bad input...): ``text`` is for people."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__()
        self.key = key
        self.text = text


class CoreCalls:
    """Mixin for screens: run a core call in a thread worker with its own connection.

    ``self.core("disable", lambda conn: accounts.disable(conn, principal, name))``
    posts :class:`CoreDone` with the result, or :class:`CoreRefused` with the
    refusal's message; any other exception is a worker failure (the app's one
    handler). The default refusal handler shows a notification (never markup).
    """

    def core(self, key: str, call: Callable[[Any], Any], *, name: str = "") -> None:
        app = self.app

        def run() -> None:
            with app.db() as conn:
                try:
                    result = call(conn)
                except REFUSALS as exc:
                    self.post_message(CoreRefused(key, refusal_text(exc)))
                    return
            self.post_message(CoreDone(key, result))

        self.run_worker(run, thread=True, group="admin", name=name or key, exit_on_error=False)

    def on_core_refused(self, message: CoreRefused) -> None:
        self.core_refused(message)

    def core_refused(self, message: CoreRefused) -> None:
        """Override to do more; the default shows the refusal as a notification (never markup)."""
        self.notify(message.text, title="Not done", severity="error", markup=False, timeout=8)


class PaletteOff:
    """Mixin for modals that keep people in (forced password change, idle lock):
    no command palette while open. Textual calls these handlers in addition
    to the screen's own ``on_mount``/``on_unmount``."""

    def palette_off(self) -> bool:
        return True

    def on_mount(self) -> None:
        self._palette_was = self.app.use_command_palette
        if self.palette_off():
            self.app.use_command_palette = False

    def on_unmount(self) -> None:
        self.app.use_command_palette = getattr(self, "_palette_was", self.app.use_command_palette)


