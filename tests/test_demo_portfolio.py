"""The demo portfolio, loaded through the real loader, shows every explanation and
recommendation, every subscription state, trials and all three channels."""

from __future__ import annotations

import json

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.metrics import read

EXPLANATIONS = {"turnover", "inactive_duplicate_subscription", "trial", "yammer_overuse", "unexplained"}
RECOMMENDATIONS = {"low_adoption", "high_support_volume", "upsell", "right_size"}


def test_demo_shows_every_explanation_and_recommendation(demo_conn):
    as_of = read.latest_as_of(demo_conn)
    assert as_of == "2026-10-31"
    found = {
        e["code"]
        for (expl,) in demo_conn.execute("SELECT explanations FROM fig_workload WHERE as_of = ?", (as_of,))
        for e in json.loads(expl)
    }
    assert found >= EXPLANATIONS
    recs = {
        r["code"]
        for (text,) in demo_conn.execute("SELECT recommendations FROM fig_customer WHERE as_of = ?", (as_of,))
        for r in json.loads(text)
    }
    assert recs == RECOMMENDATIONS


def test_demo_variety(demo_conn):
    states = {r[0] for r in demo_conn.execute("SELECT DISTINCT status FROM subscriptions")}
    assert states == {"active", "grace", "disabled", "deprovisioned"}
    assert {r[0] for r in demo_conn.execute("SELECT DISTINCT channel FROM subscriptions")} == {
        "partner", "other_partner", "direct",
    }
    assert demo_conn.execute("SELECT COUNT(*) FROM subscriptions WHERE is_trial = 1").fetchone()[0] > 0
    assert len(read.as_of_dates(demo_conn)) == 12
    agents = {r[0] for r in demo_conn.execute("SELECT DISTINCT agent FROM customer_agents")}
    assert agents == {"maria", "tomas", "yuki"}
    assert demo_conn.execute("SELECT COUNT(*) FROM support_requests").fetchone()[0] > 0


def test_demo_trend_has_twelve_months(demo_conn):
    p = read.portfolio(demo_conn, SYSTEM)
    assert len(p.trend) == 12
    assert all(point["usage_pct"] is not None for point in p.trend)
    assert p.totals["renewals_due"] > 0
