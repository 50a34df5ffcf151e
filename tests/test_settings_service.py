"""services.settings.change_settings: permission, validation, audit, recomputation."""

from __future__ import annotations

import pytest

from adopt_tui.auth.permissions import Principal, Role
from adopt_tui.errors import PermissionDenied
from adopt_tui.metrics.read import customer_figures
from adopt_tui.services.settings import SETTINGS_CHANGE, change_settings
from adopt_tui.store import settings

ADMIN = Principal("admin", Role.GLOBAL_ADMIN)
USER_ADMIN = Principal("useradmin", Role.USER_ADMIN)
ALPHA = 1  # Alpha Tools in the small fixture: deployment 37.5 %, adjusted usage 38.5 %


def _codes(conn) -> list[str]:
    return [r["code"] for r in customer_figures(conn, ADMIN, ALPHA).recommendations]


def _audit(conn):
    return conn.execute("SELECT user, target, detail FROM audit WHERE action = ? ORDER BY id", (SETTINGS_CHANGE,)).fetchall()


def test_figure_setting_is_saved_audited_and_recomputes(small_conn):
    assert "low_adoption" in _codes(small_conn)
    result = change_settings(small_conn, ADMIN, {"low_adoption_usage_pct": 10, "low_adoption_deployment_pct": 10,
                                                 "upsell_usage_pct": 80})
    assert result.changed == {"low_adoption_usage_pct": (40.0, 10.0), "low_adoption_deployment_pct": (50.0, 10.0)}
    assert result.figures_changed and result.recomputed > 0
    assert settings.get(small_conn, "low_adoption_usage_pct") == 10.0
    assert "low_adoption" not in _codes(small_conn)
    rows = _audit(small_conn)
    assert [(r["user"], r["target"]) for r in rows] == [
        ("admin", "low_adoption_usage_pct"), ("admin", "low_adoption_deployment_pct")]
    assert "40 -> 10" in rows[0]["detail"]


def test_lock_setting_does_not_recompute(small_conn):
    before = small_conn.execute("SELECT COUNT(*) FROM fig_customer").fetchone()[0]
    result = change_settings(small_conn, ADMIN, {"idle_lock_minutes": "5"})
    assert result.changed == {"idle_lock_minutes": (15.0, 5.0)} and result.recomputed is None
    assert settings.get(small_conn, "idle_lock_minutes") == 5.0
    assert small_conn.execute("SELECT COUNT(*) FROM fig_customer").fetchone()[0] == before


def test_nothing_changed_writes_nothing(small_conn):
    result = change_settings(small_conn, ADMIN, {"idle_lock_minutes": 15})
    assert result.changed == {} and result.recomputed is None
    assert _audit(small_conn) == []


def test_invalid_value_writes_nothing(small_conn):
    with pytest.raises(ValueError, match="Idle lock after: must be between 1 and 1440"):
        change_settings(small_conn, ADMIN, {"lockout_minutes": 30, "idle_lock_minutes": 0})
    with pytest.raises(ValueError, match="not a number"):
        change_settings(small_conn, ADMIN, {"lockout_minutes": "soon"})
    assert settings.get(small_conn, "lockout_minutes") == 15.0
    assert _audit(small_conn) == []


def test_refused_without_permission_and_audited(small_conn):
    with pytest.raises(PermissionDenied):
        change_settings(small_conn, USER_ADMIN, {"idle_lock_minutes": 5})
    assert settings.get(small_conn, "idle_lock_minutes") == 15.0
    row = small_conn.execute("SELECT user, detail FROM audit WHERE action = 'forbidden'").fetchone()
    assert tuple(row) == ("useradmin", "change settings")


def test_refused_after_role_change(small_conn):
    small_conn.execute("UPDATE accounts SET role = 'admin_agent' WHERE username = 'admin'")
    with pytest.raises(PermissionDenied, match="sign in again"):
        change_settings(small_conn, ADMIN, {"idle_lock_minutes": 5})


def test_service_does_not_import_textual():
    import subprocess
    import sys

    code = ("import sys, adopt_tui.services.settings\n"
            "sys.exit(1 if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
