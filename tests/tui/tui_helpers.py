"""Helpers for the TUI tests: build the app with a fixed clock and log in by keys."""

from __future__ import annotations

from datetime import datetime, timezone

from adopt_tui.tui.app import AdoptApp, make_app

FIXED_NOW = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
PASSWORDS = {
    "admin": "admin-demo-password",
    "useradmin": "useradmin-demo-password",
    "agent": "agent-demo-password",
    "maria": "maria-demo-password",
}
DEMO_ACCOUNTS = [
    ("admin", "global_admin", "admin-demo-password"),
    ("useradmin", "user_admin", "useradmin-demo-password"),
    ("agent", "admin_agent", "agent-demo-password"),
    ("maria", "sales_agent", "maria-demo-password"),
]


def build(db_path, **kwargs) -> AdoptApp:
    kwargs.setdefault("theme", "adopt")
    return make_app(db_path, clock=lambda: FIXED_NOW, **kwargs)


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and their messages land (a few rounds: loads chain).

    A worker that fails is the app's to report (an error dialog, which tests
    look for): waiting for it here does not raise."""
    from textual.worker import WorkerFailed

    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause()


async def login(pilot, username: str = "admin", password: str | None = None, *, type_keys: bool = False) -> None:
    """Log in on the login screen. Enter moves from the name to the password
    and submits; ``type_keys`` types every character (slow: ~0.15 s a key),
    else the fields are filled and only Enter is pressed."""
    await pilot.pause()
    password = password if password is not None else PASSWORDS[username]
    if type_keys:
        await pilot.press(*username, "enter")
        await pilot.press(*password, "enter")
    else:
        pilot.app.screen.query_one("#username").value = username
        await pilot.press("enter")
        pilot.app.screen.query_one("#password").value = password
        await pilot.press("enter")
    await settle(pilot)
    await pilot.pause(0.2)  # the filter debounce
    await settle(pilot)


def list_names(app) -> list[str]:
    home = app.home()
    return [] if home is None or home.view is None else list(home.view.name)


def burst(app, *keys: str) -> None:
    """Keys that arrive together (a password manager's auto-type, ``tmux send-keys``, a fast typist): posted to
    the app as the terminal driver posts what it reads in one go, with no wait between them (``pilot.press``
    waits for the app to be idle after every key). A string of several characters is typed character by
    character; ``tab``, ``shift+tab``, ``enter`` and the arrows (``down``...), ``end`` and ``ctrl+u`` are those keys."""
    from textual import events
    from textual.keys import _character_to_key

    named = {"tab": "\t", "shift+tab": None, "enter": "\r", "up": None, "down": None, "left": None, "right": None,
             "end": None, "ctrl+u": None}
    for item in keys:
        for key, character in ([(item, named[item])] if item in named else
                               [(_character_to_key(c), c) for c in item]):
            event = events.Key(key, character)
            event.set_sender(app)
            app.post_message(event)


async def save_low_adoption_thresholds(pilot, percent: str) -> None:
    """On the settings screen, by its fields: low adoption below ``percent`` % deployment and usage;
    saved (the figures are recomputed), then back to the screen underneath."""
    from textual.widgets import Input

    app = pilot.app
    app.open_admin("settings")
    await settle(pilot)
    screen = app.screen
    screen.query_one("#set-low_adoption_usage_pct", Input).value = percent
    screen.query_one("#set-low_adoption_deployment_pct", Input).value = percent
    screen.action_save()
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)
