"""Settings kept in the database: recommendation thresholds, lockout, idle lock.

Every setting has a default here; the table holds only the values in force.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    key: str
    default: float
    label: str
    unit: str
    minimum: float
    maximum: float


SETTINGS: tuple[Setting, ...] = (
    Setting("low_adoption_usage_pct", 40.0, "Low adoption: usage % below", "%", 0, 100),
    Setting("low_adoption_deployment_pct", 50.0, "Low adoption: deployment % below", "%", 0, 100),
    Setting("support_window_days", 90.0, "Support volume: look back", "days", 1, 366),
    Setting("support_per_100_users", 5.0, "High support volume: how-to and help requests per 100 assigned users at least", "per 100", 0, 1000),
    Setting("support_min_requests", 3.0, "High support volume: at least this many requests", "requests", 1, 10000),
    Setting("upsell_deployment_pct", 90.0, "Upsell: deployment % at least", "%", 0, 100),
    Setting("upsell_usage_pct", 80.0, "Upsell: adjusted usage % at least", "%", 0, 100),
    Setting("right_size_unassigned_pct", 30.0, "Right-size: unassigned seats at least (% of sold)", "%", 0, 100),
    Setting("right_size_min_seats", 5.0, "Right-size: unassigned seats at least", "seats", 0, 100000),
    Setting("renewal_window_days", 30.0, "Renewal due within", "days", 1, 366),
    Setting("lockout_attempts", 5.0, "Lock an account after failed logins", "attempts", 1, 100),
    Setting("lockout_window_minutes", 15.0, "Count failed logins within", "minutes", 1, 1440),
    Setting("lockout_minutes", 15.0, "Lock for", "minutes", 1, 1440),
    Setting("idle_lock_minutes", 15.0, "Idle lock after", "minutes", 1, 1440),
)
BY_KEY = {s.key: s for s in SETTINGS}

# Settings that change computed figures: changing one recomputes them.
FIGURE_SETTINGS = frozenset(
    k for k in BY_KEY if not k.startswith(("lockout_", "idle_"))
)


def seed_defaults(conn: sqlite3.Connection) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO settings(key, value) VALUES (?, ?)",
        [(s.key, repr(s.default)) for s in SETTINGS],
    )


def get_all(conn: sqlite3.Connection) -> dict[str, float]:
    values = {s.key: s.default for s in SETTINGS}
    for key, value in conn.execute("SELECT key, value FROM settings"):
        if key in values:
            values[key] = float(value)
    return values


def get(conn: sqlite3.Connection, key: str) -> float:
    return get_all(conn)[key]


def validate(key: str, value: float) -> float:
    """Return ``value`` as a float or raise ValueError with a readable message."""
    if key not in BY_KEY:
        raise ValueError(f"unknown setting {key!r}")
    s = BY_KEY[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{s.label}: {value!r} is not a number") from None
    if not s.minimum <= number <= s.maximum:
        raise ValueError(f"{s.label}: must be between {s.minimum:g} and {s.maximum:g}")
    return number


def put(conn: sqlite3.Connection, key: str, value: float) -> None:
    """Store one setting (no permission check: see adopt_tui.services)."""
    number = validate(key, value)
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, repr(number)),
    )
