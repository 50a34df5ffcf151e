"""Changing settings: permission, validation, audit and recomputation in one place.

The Settings screen and any command-line use call :func:`change_settings`; the
store's :func:`adopt_tui.store.settings.put` does no permission check.

A change of a setting in :data:`~adopt_tui.store.settings.FIGURE_SETTINGS`
(recommendation thresholds, look-back windows) recomputes every customer's
figures in the same transaction, so the stored recommendations always match
the thresholds in force. Lockout and idle-lock times only need storing.
"""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping

from adopt_tui.auth import audit
from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.errors import PermissionDenied
from adopt_tui.store import settings as store
from adopt_tui.store.db import transaction

SETTINGS_CHANGE = "settings_change"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SettingsChange:
    """What :func:`change_settings` did."""

    changed: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (old, new)
    recomputed: int | None = None  # snapshots written; None when no figure setting changed

    @property
    def figures_changed(self) -> bool:
        return self.recomputed is not None


def _stamp(now: datetime | None) -> str:
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _check_account(conn: sqlite3.Connection, principal: Principal) -> None:
    """Refuse a principal whose account was disabled or changed role since it signed in."""
    row = conn.execute("SELECT role, disabled FROM accounts WHERE username = ?", (principal.username,)).fetchone()
    if row is not None and (row["disabled"] or row["role"] != principal.role.value):
        message = "Your account was disabled or its role changed since you signed in; sign in again."
        audit.record(conn, principal.username, audit.FORBIDDEN, target=principal.username, detail=message)
        raise PermissionDenied(message)


def validate_all(values: Mapping[str, object]) -> dict[str, float]:
    """Every value as a float, or ValueError naming the first bad setting (by its label)."""
    return {key: store.validate(key, value) for key, value in values.items()}


def change_settings(
    conn: sqlite3.Connection,
    principal: Principal,
    values: Mapping[str, object],
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SettingsChange:
    """Store ``values`` ({key: number}) for a principal holding ``Perm.EDIT_SETTINGS``.

    All values are validated before anything is written (ValueError names the
    setting and its range). Each setting whose value changes gets one audit
    row ``settings_change`` (target: the key; detail: ``label: old -> new``).
    When a figure setting changed, every customer's figures are recomputed in
    the same transaction (``progress(done, total)`` is passed on). Unchanged
    values write nothing.
    """
    _check_account(conn, principal)
    principal.require(Perm.EDIT_SETTINGS, conn, action="change settings")
    numbers = validate_all(values)
    stamp = _stamp(now)
    with (nullcontext(conn) if conn.in_transaction else transaction(conn)):
        old = store.get_all(conn)
        changed = {key: (old[key], new) for key, new in numbers.items() if new != old[key]}
        for key, (before, after) in changed.items():
            store.put(conn, key, after)
            s = store.BY_KEY[key]
            audit.record(conn, principal.username, SETTINGS_CHANGE, target=key, time=stamp,
                         detail=f"{s.label}: {before:g} -> {after:g} {s.unit}".rstrip())
        recomputed = None
        if any(key in store.FIGURE_SETTINGS for key in changed):
            from adopt_tui.metrics.compute import recompute  # pandas: only when needed

            recomputed = recompute(conn, progress=progress)
    return SettingsChange(changed, recomputed)
