"""The adopt-tui App: one factory (:func:`make_app`) for the command line and the tests.

Database access
    The app holds the database *path*, never a shared connection. Every worker
    opens its own connection with ``with app.db() as conn:`` (``store.connect``
    in the worker thread, closed when the block ends). sqlite connections are
    per thread; opening one costs about a millisecond, and WAL plus the busy
    timeout of ``store.connect`` let several workers read at once. The UI
    thread never runs SQL.

Navigation
    A screen stack. After login the customer list is the base screen (home);
    the customer insights, subscriptions, portfolio, help and the
    administration screens are pushed on top of it. :meth:`AdoptApp.show` pops
    back to a screen of the wanted kind when one is already open, so the
    stack never grows without bound.

Administration screens
    Two lists, joined by :meth:`AdoptApp.admin_entries`: ``adopt_tui.tui.admin``
    (users, audit log, settings, change my password: ``entries_for``) and
    :data:`ADMIN_SCREENS` here (entries naming their class as "module:Class";
    one whose module does not exist yet is simply not offered). To add a
    screen: write it (a ``Screen`` taking no arguments) and add an entry with
    the permission it needs. The ``a`` key (administration menu), the command
    palette and help then offer it to the roles holding that permission.
    The idle lock and the forced password change are ``tui/admin.py``'s too
    (``install_idle_lock``, ``after_login``); the app calls them.

Scope
    ``app.scope`` ('all' = all sources, 'own' = this partner's own licenses) is
    a reactive shared by every screen; screens watch it with
    ``self.watch(self.app, "scope", callback)`` and the status line shows it at
    all times.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import BUILTIN_THEMES, Theme
from textual.worker import Worker, WorkerState

from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.errors import AdoptError
from adopt_tui.store import connect
from adopt_tui.tui.typeahead import KeysInOrder

Clock = Callable[[], datetime]

SCOPE_LABELS = {"all": "all sources", "own": "own licenses"}


@dataclass(frozen=True)
class AdminEntry:
    """One administration screen: shown only to roles holding ``perm``."""

    key: str  # a short id, also the palette's "Go to …" name
    title: str
    perm: Perm
    target: str  # "package.module:ScreenClass"; the class takes no arguments
    help: str = ""

    def available(self) -> bool:
        module = self.target.partition(":")[0]
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    def make(self) -> Screen:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)()


ADMIN_SCREENS: list[AdminEntry] = [
    # users, audit log, settings and "change my password" come from
    # adopt_tui.tui.admin (entries_for); entries here join them.
    AdminEntry("import", "Import data", Perm.IMPORT, "adopt_tui.tui.screens.import_data:ImportScreen",
               "load a partner-center export or a bundle"),
]


def _admin_module():
    try:
        from adopt_tui.tui import admin
    except ImportError:
        return None
    return admin


def _adopt_theme() -> Theme:
    return Theme(
        name="adopt",
        primary="#3B7DD8",
        secondary="#2F9E8F",
        accent="#E0A030",
        warning="#F0A020",
        error="#E05050",
        success="#4CAF50",
        foreground="#E0E0E0",
        background="#121417",
        surface="#1B1E23",
        panel="#252A31",
        dark=True,
    )


def _ansi_theme() -> Theme:
    base = BUILTIN_THEMES["ansi-dark"]
    return Theme(
        name="textual-ansi", ansi=True, dark=True, primary=base.primary, secondary=base.secondary,
        warning=base.warning, error=base.error, success=base.success, accent=base.accent,
        foreground=base.foreground, background=base.background, surface=base.surface,
        panel=base.panel, boost=base.boost, variables=dict(base.variables),
    )


def default_theme(environ: dict | None = None) -> str:
    """'textual-ansi' for NO_COLOR and plain 8/16-colour terminals, else 'adopt'.

    ``ADOPT_TUI_THEME`` overrides. Over SSH we trust what the client's terminal
    says (TERM, COLORTERM); we never set those ourselves.
    """
    env = os.environ if environ is None else environ
    chosen = env.get("ADOPT_TUI_THEME")
    if chosen:
        return chosen
    if "NO_COLOR" in env:
        return "textual-ansi"
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "adopt"
    term = env.get("TERM", "")
    if "256" in term or "direct" in term or "truecolor" in term:
        return "adopt"
    return "textual-ansi"


class WorkerFailures:
    """Mixin for screens and modals: forwards worker failures to the one handler
    (:meth:`AdoptApp.worker_failed`); Worker.StateChanged does not bubble."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.worker_failed(event.worker)


class AdoptScreen(WorkerFailures, Screen):
    """Base of adopt-tui's full screens."""

    # How long a read may take before its widget shows a loading indicator.
    LOADING_DELAY = 0.15

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loading_timers: dict = {}
        self._preset_breakpoints()

    def _on_mount(self, event: events.Mount) -> None:
        self._styled_with_theme = self.app.theme

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """The first time a new screen is shown, skip Textual's restyle of all of it.

        ``push_screen`` asks for every widget to be styled again when the screen is
        resumed, but a screen pushed for the first time was styled a moment ago, as
        its widgets were mounted; the second pass (20-35 ms on a customer's insights,
        the portfolio or the customer list, profiled) changed nothing. Only when the
        theme is still the one it was styled with; later resumes restyle as Textual does.
        Textual's own handler runs after this one (the event is only told so).
        """
        if getattr(self, "_styled_with_theme", None) is not None:
            if self._styled_with_theme == self.app.theme:
                event.refresh_styles = False
            self._styled_with_theme = None

    def show_loading(self, widget, loading: bool) -> None:
        """Cover ``widget`` with a loading indicator while it waits for a read, but only
        once the wait has lasted :attr:`LOADING_DELAY` seconds.

        Most reads are done sooner (a customer's figures in milliseconds, the list
        and the portfolio once the data side caches them); an indicator shown for a
        frame or two cost its mount, a layout and draw of the screen and its removal
        (profiled), and only flickered.
        """
        timer = self._loading_timers.pop(widget, None)
        if timer is not None:
            timer.stop()
        if not loading:
            widget.loading = False
        elif not widget.loading:
            def cover() -> None:
                # a timer that fired just before it was stopped still calls this: only the
                # current wait may cover the widget (else the indicator stayed on for good)
                if self._loading_timers.get(widget) is timer:
                    del self._loading_timers[widget]
                    widget.loading = True

            timer = self._loading_timers[widget] = self.set_timer(self.LOADING_DELAY, cover)

    def _preset_breakpoints(self) -> None:
        """Give the screen its breakpoint classes (HORIZONTAL_/VERTICAL_BREAKPOINTS) for the
        app's size now, as Textual does on the screen's first resize.

        Set then, after every widget had been styled, a new class restyled the
        whole screen and laid it out again: ~20 % of the portfolio's opening
        (profiled). Set here, the first resize finds them in place and changes
        nothing.
        """
        try:
            width, height = self.app.size
        except Exception:  # no running app (a screen built outside one)
            return
        for dimension, breakpoints in (
            (width, self.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is not None
             else self.app.HORIZONTAL_BREAKPOINTS),
            (height, self.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is not None
             else self.app.VERTICAL_BREAKPOINTS),
        ):
            chosen = next((name for at, name in sorted(breakpoints or [], reverse=True) if dimension >= at), None)
            for _at, name in breakpoints or []:
                self.set_class(name == chosen, name, update=False)


def _import_heavy_modules() -> None:
    """What the screens after login need, imported while the login screen waits for input."""
    import adopt_tui.auth.accounts  # noqa: F401  (argon2 and its dummy hash)
    import adopt_tui.auth.session  # noqa: F401  (the idle lock's)
    import adopt_tui.metrics.read  # noqa: F401  (pandas)
    import adopt_tui.tui.admin  # noqa: F401  (the idle lock, installed at login)
    import adopt_tui.tui.screens.customer  # noqa: F401
    import adopt_tui.tui.screens.customers  # noqa: F401  (numpy, pyarrow, textual-fastdatatable)
    # the Footer of the customer list asks whether export is available: ~30 ms of imports (profiled)
    import adopt_tui.tui.screens.export_dialog  # noqa: F401
    import adopt_tui.tui.screens.lock  # noqa: F401  (the idle lock's screen)
    import adopt_tui.tui.screens.portfolio  # noqa: F401  (tabs, charts)
    import rich._emoji_codes  # noqa: F401  (rich's markup, first used by the customer list)
    import textual.scrollbar  # noqa: F401

    _settle_garbage_collector()


def default_css(widget_class: type) -> list[tuple]:
    """The DEFAULT_CSS sources Textual adds to the stylesheet when a ``widget_class`` is
    first mounted: ``[(read_from, css, tie_breaker, scope)]`` (Textual's own list)."""
    return widget_class.__new__(widget_class)._get_default_css()


# The youngest generation every 2,000 net allocations (default 700), the middle one every
# 10 of those, the oldest every 20 of the middle (default 10): short pauses, few full ones.
GC_THRESHOLDS = (2_000, 10, 20)


def _settle_garbage_collector() -> None:
    """Keep Python's cyclic garbage collector from pausing the screen.

    Measured with gc.callbacks over a benchmark session at 20,000 customers:
    ~900 young and 7 full collections, the full ones 70-350 ms each, holding
    the GIL (so the UI thread waited too) in the middle of a login or a
    portfolio load: the readers build hundreds of thousands of short-lived
    tuples. Once the modules are imported their objects live for the whole
    session, so they are moved out of the collector's way (gc.freeze), and
    collections run less often: full collections fell to 2 of ~60 ms, young
    ones stay under ~8 ms (10,000/20/20 had fewer but up to ~100 ms), peak
    memory unchanged (~280 MB). Once per process (tests build many apps): the
    garbage of start-up is collected first, so that none of it is kept for good.
    """
    global _gc_settled
    if _gc_settled:
        return
    _gc_settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


_gc_settled = False


class AdoptApp(KeysInOrder, App):
    """adopt-tui. Build it with :func:`make_app`."""

    TITLE = "adopt-tui"
    # The login screen's stylesheet is read with the app's: shown first, it would otherwise
    # be read when the screen is pushed, and a new stylesheet makes Textual parse every
    # stylesheet again (~20-40 ms before the login screen is drawn).
    CSS_PATH = ["app.tcss", str(Path(__file__).parent / "screens" / "login.tcss")]
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    COMMANDS = App.COMMANDS | {lambda: _commands_provider()}

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave adopt-tui", priority=True),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Keys of this screen and a glossary"),
        Binding("o", "toggle_scope", "Scope", id="app.scope",
                tooltip="Switch between all sources and this partner's own licenses"),
        Binding("p", "portfolio", "Portfolio", id="app.portfolio", tooltip="Portfolio insights"),
        Binding("a", "admin", "Admin", id="app.admin", tooltip="Administration screens"),
        Binding("ctrl+l", "logout", "Log out", id="app.logout", tooltip="Log out", show=False),
    ]

    scope: reactive[str] = reactive("all")

    def __init__(
        self,
        db_path: str | Path,
        *,
        demo_accounts: list[tuple[str, str, str]] | None = None,
        clock: Clock | None = None,
        idle_minutes: float | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.demo_accounts = list(demo_accounts) if demo_accounts else None
        self.clock: Clock = clock or (lambda: datetime.now(timezone.utc))
        self._clock_given = clock is not None
        self.idle_minutes = idle_minutes
        self.principal: Principal | None = None
        self._waiting_screen: tuple[Screen, Worker] | None = None  # see push_when_read
        self._waiting_push: Callable[[], None] = lambda: None
        self.as_of: str | None = None  # None: the latest as-of date
        self.latest_as_of: str | None = None
        self.register_theme(_adopt_theme())
        self.register_theme(_ansi_theme())
        self.theme = theme or default_theme()

    # ----------------------------------------------------------------- database

    @contextmanager
    def db(self) -> Iterator:
        """A connection for the calling (worker) thread, closed afterwards."""
        conn = connect(self.db_path, check_same_thread=True)
        try:
            yield conn
        finally:
            conn.close()

    # ----------------------------------------------------------------- lifecycle

    def refresh_css(self, animate: bool = True) -> None:
        """Before the first screen, only the theme's variables are set: nothing is styled yet.

        Setting the theme in ``__init__`` queues a refresh that Textual runs once the
        stylesheets are read and before anything is styled. It parsed them all in a
        throwaway stylesheet, whose parse cache was dropped, so the first screen parsed
        them all again (profiled: 5 % of the calls from start to the login screen)."""
        if not self.screen_stack:
            self.stylesheet.set_variables(self.get_css_variables())
            return
        super().refresh_css(animate)

    def on_mount(self) -> None:
        from adopt_tui.tui.screens.login import LoginScreen

        self.push_screen(LoginScreen(self.demo_accounts))

    # How long after the login screen's first frame the warm-up starts (see login_screen_drawn).
    WARM_UP_AFTER = 0.02

    def login_screen_drawn(self) -> None:
        """The login screen calls this after its first frame. While someone types their
        password, load what the customer list needs (pandas, the metrics reader, the
        password hasher, the screens) and read the screens' stylesheets: the login
        screen itself is drawn without them, and (shortly after it is on the terminal,
        not at a fixed time after start) nothing of this delays it on a slow start.

        Shortly: the warm-up takes 0.3-0.5 s of CPU; started 0.1 s after the first
        frame, a quick login (a password manager, the benchmark) came in the middle of
        it, and the password check, the imports and the stylesheets' parsing all
        competed for two CPUs (profiled: 750-800 ms from Enter to the list instead of
        ~550). 20 ms leaves the frame time to reach the terminal."""
        if not getattr(self, "_warming_up", False):
            self._warming_up = True
            self.set_timer(self.WARM_UP_AFTER, self._warm_up)

    def login_submitted(self) -> None:
        """The login screen calls this once the password check has started: a login
        quicker than the warm-up's start starts it now, beside the check (which waits
        in argon2, outside the GIL), rather than after it."""
        if not getattr(self, "_warming_up", False):
            self._warming_up = True
            self._warm_up()

    def _warm_up(self) -> None:
        from adopt_tui.tui.screens import CSS_AHEAD

        def warm_up() -> None:
            _import_heavy_modules()
            self.call_from_thread(self._default_css_ahead)

        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False,
                        description="loading the modules used after login")
        self._css_ahead = [path for path in CSS_AHEAD if path.exists()]
        self._read_css_ahead()

    def _read_css_ahead(self) -> None:
        """Read the other screens' stylesheets now, while nobody is signed in.

        Textual reads a screen's stylesheet when the screen is first shown, and
        a new stylesheet makes it parse every stylesheet again, from scratch,
        and restyle every widget: 40-100 ms when the customer list, a
        customer's insights or the portfolio is first opened (profiled). Read
        here (added, then parsed once with the parser's cache: only the new
        files are parsed, ~40-90 ms on the busy machine), those screens find
        theirs already read. Only while nobody is signed in, when restyling
        means the few widgets of the login screen (0.2 s after it is shown, so
        while the password is typed or checked); if someone signed in first,
        Textual reads them as it always does.
        """
        if self.principal is not None:
            return
        stylesheet = self.stylesheet
        new = [path for path in getattr(self, "_css_ahead", []) if not stylesheet.has_source(str(path), "")]
        self._css_ahead = []
        if not new:
            return
        for path in new:
            stylesheet.read(path)
        stylesheet.parse()
        stylesheet.update(self)

    def _default_css_ahead(self) -> None:
        """Add the DEFAULT_CSS of the widgets the next screens mount (:data:`WIDGETS_AHEAD`)
        now, while nobody is signed in, as :meth:`_read_css_ahead` does for the screens'
        stylesheets.

        Textual adds a widget class's DEFAULT_CSS when the first such widget is mounted,
        and the next style lookup parses the stylesheet again: 12 ms of a customer's first
        opening, 35 ms of the portfolio's (profiled). Added here with the same names,
        Textual finds them in place and parses nothing. A class that cannot be imported
        or described is left to Textual, as before.
        """
        from adopt_tui.tui.screens import WIDGETS_AHEAD

        if self.principal is not None:
            return
        stylesheet = self.stylesheet
        added = False
        for target in WIDGETS_AHEAD:
            module, _, name = target.partition(":")
            try:
                sources = default_css(getattr(importlib.import_module(module), name))
            except Exception:  # another Textual, a renamed widget: Textual adds it when mounted
                continue
            for read_from, css, tie_breaker, scope in sources:
                if not stylesheet.has_source(*read_from):
                    stylesheet.add_source(css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker,
                                          scope=scope)
                    added = True
        if added:
            stylesheet.parse()
            stylesheet.update(self)

    def now(self) -> datetime:
        return self.clock()

    def signed_in(self, principal: Principal, *, latest_as_of: str | None, rows=None) -> None:
        """Called by the login screen once the core accepted the password (and
        any forced password change is done). ``rows``: the customer list's rows if
        the login already read them (all sources, latest as-of date)."""
        from adopt_tui.tui.screens.customers import CustomerListScreen

        self.principal = principal
        self.latest_as_of = latest_as_of
        self.as_of = None
        self.scope = "all"
        admin = _admin_module()
        if admin is not None:
            clock = (lambda: self.clock().timestamp()) if self._clock_given else None
            admin.install_idle_lock(self, clock)
        home = CustomerListScreen()
        if rows is not None:
            home.take_rows(rows, self.scope, self.as_of)  # shown as the screen is mounted
        else:
            home.prefetch()  # read the customers while the screen is built
        self.switch_screen(home)

    def can(self, perm: Perm) -> bool:
        return self.principal is not None and self.principal.can(perm)

    @property
    def user_label(self) -> str:
        if self.principal is None:
            return "not signed in"
        return f"{self.principal.username} ({self.principal.role.label})"

    # ----------------------------------------------------------------- idle lock

    async def on_event(self, event: events.Event) -> None:
        if self.principal is not None:  # the idle lock exists only while signed in
            admin = _admin_module()
            if admin is not None:
                admin.idle_touch(self, event)
        await super().on_event(event)

    def is_locked(self) -> bool:
        if self.principal is None:  # the idle lock is installed at login (signed_in) and removed at logout
            return False
        admin = _admin_module()
        return admin is not None and admin.is_locked(self)

    @work(thread=True, group="audit", exit_on_error=False)
    def _audit(self, username: str, action: str, detail: str = "") -> None:
        from adopt_tui.auth import audit

        with self.db() as conn:
            audit.record(conn, username, action, target=username, detail=detail,
                         time=self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))

    # ----------------------------------------------------------------- navigation

    def show(self, kind: type[Screen], make: Callable[[], Screen]) -> None:
        """Pop back to an open screen of ``kind``, or push a new one."""
        for index, screen in enumerate(self.screen_stack):
            if isinstance(screen, kind):
                for _ in range(len(self.screen_stack) - 1 - index):
                    self.pop_screen()
                return
        self.push_screen(make())

    def data_changed(self, source=None) -> None:
        """The figures in the database changed (an import, a threshold setting): every
        open screen that shows figures reads them again (the customer list drops its
        cache). ``source``, the screen that changed them, is left as it is."""
        for screen in self.screen_stack:
            reload = getattr(screen, "action_reload", None)
            if screen is not source and callable(reload):
                reload()

    def home(self):
        """The customer list (base screen after login), or None before login."""
        from adopt_tui.tui.screens.customers import CustomerListScreen

        for screen in self.screen_stack:
            if isinstance(screen, CustomerListScreen):
                return screen
        return None

    def open_customer(self, customer_id: int, order: list[int] | None = None) -> None:
        """Open one customer's insights. ``order``: ids for previous/next
        (default: the customer list's current order)."""
        from adopt_tui.tui.screens.customer import CustomerScreen

        if order is None:
            home = self.home()
            order = home.current_ids() if home is not None else []
        screen = self.screen
        if isinstance(screen, CustomerScreen):
            screen.show_customer(int(customer_id), order)
            return
        customer = CustomerScreen(int(customer_id), order)
        self.push_when_read(customer, customer.prefetch())

    # The longest a screen waits for its figures before it is shown with a loading indicator.
    SHOW_WITHOUT_DATA_AFTER = 0.15

    def push_when_read(self, screen: Screen, worker: Worker) -> None:
        """Push ``screen`` once ``worker`` (reading what it shows) is done, or after
        :attr:`SHOW_WITHOUT_DATA_AFTER` seconds if that is sooner.

        A customer's figures take a few milliseconds to read: shown with them,
        the screen is laid out and drawn once, without a first empty frame, a
        loading indicator mounted and removed again, and its content mounted
        into it afterwards (profiled: ~30-40 ms of the 150 ms budget). A slow
        read still shows the screen at once, with its loading indicator. If the
        read fails, the screen is shown empty under the error dialog, as
        before. Only the latest such screen is waited for.
        """
        self._waiting_screen = (screen, worker)

        def push() -> None:
            if self._waiting_screen != (screen, worker):
                return
            self._waiting_screen = None
            if worker.state != WorkerState.CANCELLED:
                self.push_screen(screen)

        self._waiting_push = push
        if worker.is_finished:
            push()
        else:
            self.set_timer(self.SHOW_WITHOUT_DATA_AFTER, push)

    def open_customer_list(self, filters: dict | None = None) -> None:
        """Back to the customer list, with these quick filters (keys as in
        ``metrics.read.filter_customers``: low_adoption, upsell, over_100,
        renewal_due, right_size, product, agent, market, segment, query)."""
        from adopt_tui.tui.screens.customers import CustomerListScreen

        self.show(CustomerListScreen, CustomerListScreen)
        home = self.home()
        if home is not None and filters is not None:
            home.set_filters(filters)

    def toggle_scope(self) -> None:
        self.scope = "own" if self.scope == "all" else "all"
        self.notify(f"Scope: {SCOPE_LABELS[self.scope]}", timeout=2)

    def open_subscriptions(self, customer_id: int) -> None:
        from adopt_tui.tui.screens.subscriptions import SubscriptionsScreen

        self.push_screen(SubscriptionsScreen(int(customer_id)))

    def open_portfolio(self) -> None:
        cls = portfolio_screen_class()
        if cls is None:
            self.notify("Portfolio insights are not available in this build.", severity="warning")
            return

        def make() -> Screen:
            screen = cls(self.scope, self.as_of)
            prefetch = getattr(screen, "prefetch", None)
            if callable(prefetch):
                prefetch()  # read the figures while the screen is built and drawn
            return screen

        self.show(cls, make)

    def open_export(self, customer_id: int | None = None, filtered_ids: list[int] | None = None) -> None:
        cls = export_dialog_class()
        if cls is None or not self.can(Perm.EXPORT):
            self.notify("Export is not available.", severity="warning")
            return
        self.push_screen(cls(customer_id, filtered_ids, self.scope))

    def admin_entries(self) -> list:
        """The administration screens the signed-in role may open (and that exist)."""
        if self.principal is None or self.principal.must_change_password:
            return []
        admin = _admin_module()
        entries = list(admin.entries_for(self.principal)) if admin is not None else []
        keys = {e.key for e in entries}
        entries += [e for e in ADMIN_SCREENS if e.key not in keys and self.can(e.perm) and e.available()]
        return entries

    def open_admin(self, key: str) -> None:
        admin = _admin_module()
        if admin is not None and any(e.key == key for e in admin.entries_for(self.principal)):
            admin.open_entry(self, key)
            return
        for entry in self.admin_entries():
            if entry.key == key:
                screen = entry.make()
                self.show(type(screen), lambda: screen)
                return
        self.notify("That screen is not available to you.", severity="warning")

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.is_locked():
            return action == "quit"
        signed_in = self.principal is not None and not self.principal.must_change_password
        if action in ("toggle_scope", "logout"):
            return signed_in
        if action == "portfolio":
            return signed_in and portfolio_screen_class() is not None
        if action == "admin":
            return signed_in and bool(self.admin_entries())
        return True

    def action_toggle_scope(self) -> None:
        self.toggle_scope()

    def action_portfolio(self) -> None:
        self.open_portfolio()

    def action_admin(self) -> None:
        from adopt_tui.tui.screens.help import AdminMenu

        entries = self.admin_entries()
        if len(entries) == 1:
            self.open_admin(entries[0].key)
        elif entries:
            self.push_screen(AdminMenu(entries), callback=lambda key: key and self.open_admin(key))

    def action_help(self) -> None:
        from adopt_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_logout(self) -> None:
        from adopt_tui.tui.screens.login import LoginScreen

        if self.principal is None:
            return
        self._audit(self.principal.username, "logout")
        admin = _admin_module()
        if admin is not None:
            admin.uninstall_idle_lock(self)
        self.principal = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen(self.demo_accounts))
        self.scope = "all"

    # ----------------------------------------------------------------- errors

    def worker_failed(self, worker: Worker) -> None:
        """The one place a failed worker is reported (screens forward here)."""
        error = worker.error
        self.log.error(f"worker {worker.name!r} failed: {error!r}")
        if isinstance(error, AdoptError):
            message = str(error)
        else:
            message = (
                f"Something went wrong while {describe_worker(worker)}: {type(error).__name__}: {error}\n\n"
                "The screen stays as it was. If this repeats, tell your administrator."
            )
        from adopt_tui.tui.screens.error import ErrorDialog

        self.push_screen(ErrorDialog("Could not finish", message))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        waiting = self._waiting_screen
        if waiting is not None and event.worker is waiting[1] and event.worker.is_finished:
            self._waiting_push()  # first: a failure's dialog goes over the screen, as always
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def _fatal_error(self) -> None:
        """A crash prints a traceback WITHOUT local variables (they can hold
        passwords or customer data); Textual's default shows them.

        Overrides a private Textual method (checked against textual 8.2.8): if
        a later Textual renames it, the default (with locals) comes back, so
        tests/tui/test_app.py pins that this method is still called.
        """
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def show_error(self, title: str, message: str) -> None:
        from adopt_tui.tui.screens.error import ErrorDialog

        self.push_screen(ErrorDialog(title, message))

    # ----------------------------------------------------------------- palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Theme, quit and keys from Textual; the rest comes from :mod:`commands`."""
        yield SystemCommand("Theme", "Change the colours (try textual-ansi on a 16-colour terminal)",
                            self.action_change_theme)
        yield SystemCommand("Quit", "Leave adopt-tui", self.action_quit)
        yield SystemCommand("Help", "Keys of this screen and the glossary", self.action_help)


def describe_worker(worker: Worker) -> str:
    return {
        "customers": "loading the customer list",
        "customer": "loading the customer",
        "subscriptions": "loading the subscriptions",
        "login": "signing in",
    }.get(worker.group, f"running {worker.name or 'a task'}")


def status_text(app: AdoptApp, counts: tuple[int, int] | None = None, as_of: str | None = None,
                width: int = 200) -> Text:
    """``N of M customers · as of D · scope: all sources|own licenses · user (Role)``;
    shorter words below 90 columns so that it fits at 80."""
    narrow = width < 90
    parts = []
    if counts is not None:
        parts.append(f"{counts[0]:,} of {counts[1]:,}" + ("" if narrow else " customers"))
    shown = as_of or app.as_of or app.latest_as_of
    parts.append(f"as of {shown or '—'}")
    parts.append(f"scope: {SCOPE_LABELS[app.scope]}")
    parts.append(app.user_label)
    return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")


def _commands_provider():
    from adopt_tui.tui.commands import AdoptCommands

    return AdoptCommands


def portfolio_screen_class():
    """PortfolioScreen (another module's), or None while it does not exist."""
    try:
        from adopt_tui.tui.screens.portfolio import PortfolioScreen
    except ImportError:
        return None
    return PortfolioScreen


def export_dialog_class():
    try:
        from adopt_tui.tui.screens.export_dialog import ExportDialog
    except ImportError:
        return None
    return ExportDialog


def make_app(
    db_path: str | Path,
    *,
    demo_accounts: list[tuple[str, str, str]] | None = None,
    clock: Clock | None = None,
    idle_minutes: float | None = None,
    theme: str | None = None,
) -> AdoptApp:
    """The app for ``adopt-tui`` and for the tests.

    ``demo_accounts``: ``[(username, role, password)]`` shown on the login
    screen (``adopt-tui demo`` only). ``clock``: returns the current time (an
    aware datetime) for login lockout and the idle lock; tests pass a fixed one.
    ``idle_minutes``: overrides the ``idle_lock_minutes`` setting (0 or None
    with no setting: no idle lock). ``theme``: a theme name (default: see
    :func:`default_theme`).
    """
    return AdoptApp(db_path, demo_accounts=demo_accounts, clock=clock, idle_minutes=idle_minutes, theme=theme)
