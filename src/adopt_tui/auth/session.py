"""A signed-in session for the TUI: idle lock, unlock, logout, own password change.

No Textual here: the TUI calls :meth:`Session.touch` on every key or mouse
event, polls :meth:`Session.check_idle` from a timer (covering the screen with
a password prompt while it returns True), and calls :meth:`Session.unlock`
with the password typed there. The work underneath is the TUI's to keep.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from typing import Callable

from adopt_tui.auth import accounts, audit
from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.store import settings

Clock = Callable[[], float]


class IdleLock:
    """Locks after ``timeout`` seconds without :meth:`touch`; stays locked until :meth:`unlock`.

    ``clock`` returns seconds (default :func:`time.monotonic`); tests pass a fake.
    """

    def __init__(self, timeout: float = 15 * 60, *, clock: Clock = time.monotonic):
        if timeout <= 0:
            raise ValueError("the idle timeout must be positive")
        self._timeout = float(timeout)
        self._clock = clock
        self._last = clock()
        self._locked = False

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection, *, clock: Clock = time.monotonic) -> "IdleLock":
        return cls(settings.get(conn, "idle_lock_minutes") * 60, clock=clock)

    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("the idle timeout must be positive")
        self._timeout = float(seconds)

    def touch(self) -> None:
        """Input happened. Ignored once locked (input then goes to the password prompt)."""
        if not self.check():
            self._last = self._clock()

    def check(self) -> bool:
        """True when locked (locking now if the timeout has passed since the last input)."""
        if not self._locked and self._clock() - self._last >= self._timeout:
            self._locked = True
        return self._locked

    @property
    def is_locked(self) -> bool:
        return self.check()

    def remaining(self) -> float:
        """Seconds until the lock (0 when locked)."""
        if self.check():
            return 0.0
        return max(self._timeout - (self._clock() - self._last), 0.0)

    def lock(self) -> None:
        self._locked = True

    def unlock(self) -> None:
        self._locked = False
        self._last = self._clock()


class Session:
    """The signed-in person in the TUI: ``Session(conn, principal)``."""

    def __init__(self, conn: sqlite3.Connection, principal: Principal, *, clock: Clock = time.monotonic,
                 idle_timeout: float | None = None):
        self.conn = conn
        self.principal = principal
        seconds = idle_timeout if idle_timeout is not None else settings.get(conn, "idle_lock_minutes") * 60
        self.idle = IdleLock(seconds, clock=clock)
        self._lock_audited = False
        self.closed = False

    @property
    def username(self) -> str:
        return self.principal.username

    def can(self, perm: Perm) -> bool:
        return not self.closed and not self.is_locked and self.principal.can(perm)

    @property
    def must_change_password(self) -> bool:
        return self.principal.must_change_password

    # idle lock ------------------------------------------------------------
    def touch(self) -> None:
        self.idle.touch()

    @property
    def is_locked(self) -> bool:
        return self.idle.is_locked

    def check_idle(self, *, now: datetime | None = None) -> bool:
        """True while locked; audits ``idle_lock`` once when the timeout locks it."""
        locked = self.idle.check()
        if locked and not self._lock_audited:
            self._audit_lock("no input for %g minutes" % (self.idle.timeout / 60), now)
        return locked

    def lock(self, *, now: datetime | None = None) -> None:
        """Lock now (a key or palette command)."""
        self.idle.lock()
        if not self._lock_audited:
            self._audit_lock("locked by the user", now)

    def _audit_lock(self, detail: str, now: datetime | None) -> None:
        self._lock_audited = True
        stamp = accounts._iso(accounts._utcnow(now))
        audit.record(self.conn, self.username, audit.IDLE_LOCK, target=self.username, detail=detail, time=stamp)

    def unlock(self, password: str, *, now: datetime | None = None) -> Principal:
        """Unlock with the same user's password (LoginFailed otherwise; failures count toward lockout).

        The principal is refreshed (its role may have changed meanwhile).
        """
        principal = accounts.reauthenticate(self.conn, self.username, password, now=now)
        self.principal = principal
        self.idle.unlock()
        self._lock_audited = False
        return principal

    def reload_settings(self) -> None:
        """Apply a changed ``idle_lock_minutes`` setting."""
        self.idle.timeout = settings.get(self.conn, "idle_lock_minutes") * 60

    # account ----------------------------------------------------------------
    def change_password(self, current: str, new: str, *, now: datetime | None = None) -> Principal:
        self.principal = accounts.change_password(self.conn, self.username, current, new, now=now)
        return self.principal

    def logout(self, *, now: datetime | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        stamp = accounts._iso(accounts._utcnow(now))
        audit.record(self.conn, self.username, audit.LOGOUT, target=self.username, time=stamp)
