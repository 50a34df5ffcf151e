"""Figures worked out by hand on tests/fixtures/small (as of 2026-10-31).

The window is [2026-10-04, 2026-10-31]. Alpha Tools (tenant A):

=====  =====================================  ==========  ===============================
user   assignments (subscription, state)      activity    counts as
=====  =====================================  ==========  ===============================
a1     E3 via A-S1 entitled                   ex 10-04    entitled; active (27 days back)
                                              sp 10-03    sp NOT active (28 days back)
a2     E3 via A-S1 + EXCHANGESTANDARD (A-S4)  ex 10-31    entitled once for exchange
                                              teams 10-20
a3     E3 via A-S1 suspended                  ex 10-10    not entitled; active
a4     E3 via A-S2 (grace, other partner)     ex 10-15    inactive duplicate subscription
a5     EXCHANGEENTERPRISE via A-S3 (trial)    ex 10-12    trial
a6     E3 via A-S1 cancelled; deleted 10-20   ex 10-18    turnover
a7     E3 via A-S1 entitled (new hire 10-21)  ex 10-25    entitled; active
a8     OneDrive Plan 1 via A-S5               sp 10-30    SharePoint (OneDrive counts)
a9     none                                   yammer      Yammer beyond the license
a10    E3 via A-S1 upgraded                   none        nothing
=====  =====================================  ==========  ===============================
"""

from __future__ import annotations

import json

import pytest

from adopt_tui.auth.permissions import SYSTEM, Principal, Role
from adopt_tui.metrics import read
from adopt_tui.metrics.compute import recompute
from adopt_tui.metrics.rules import pct, usage_band
from adopt_tui.store import settings, transaction
from tests.conftest import AS_OF, TENANT_A, TENANT_B, TENANT_C, TENANT_D


def cid(conn, tenant):
    return conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (tenant,)).fetchone()[0]


def figures(conn, tenant, scope="all", as_of=None):
    return read.customer_figures(conn, SYSTEM, cid(conn, tenant), scope, as_of)


def wl(f, code):
    return next(w for w in f.workloads if w.workload == code)


def prod(f, sku):
    return next(p for p in f.products if p.sku == sku)


def codes(w):
    return [e["code"] for e in w.explanations]


def test_products_sold_assigned_and_deployment(small_conn):
    f = figures(small_conn, TENANT_A)
    assert f.as_of == AS_OF
    # E3: A-S1 (10 seats) counts; A-S2 is in grace period and does not.
    # Assigned: a1, a2, a3 (suspended still holds a seat), a7. Not a4 (grace
    # subscription), a6 (deleted), a10 (upgraded).
    e3 = prod(f, "ENTERPRISEPACK")
    assert (e3.sold, e3.assigned, e3.deployment_pct) == (10, 4, 40.0)
    assert (prod(f, "EXCHANGESTANDARD").sold, prod(f, "EXCHANGESTANDARD").assigned) == (4, 1)
    # The trial sells nothing: deployment is not available, not 0 %.
    trial = prod(f, "EXCHANGEENTERPRISE")
    assert (trial.sold, trial.assigned, trial.deployment_pct) == (0, 0, None)
    assert (f.sold, f.assigned, f.deployment_pct) == (16, 6, 37.5)


def test_subscription_states_listed_per_product(small_conn):
    e3 = prod(figures(small_conn, TENANT_A), "ENTERPRISEPACK")
    assert {(s["status"], s["channel"], s["quantity"]) for s in e3.subscriptions} == {
        ("active", "partner", 10), ("grace", "other_partner", 5),
    }


def test_exchange_usage_can_exceed_100_and_adjusted_cannot(small_conn):
    ex = wl(figures(small_conn, TENANT_A), "exchange")
    # Entitled: a1, a2 (two SKUs, counted once), a7.
    # Active: a1 (27 days back), a2, a3, a4, a5, a6, a7.
    assert (ex.entitled, ex.active, ex.active_entitled) == (3, 7, 3)
    assert ex.usage_pct == pytest.approx(700 / 3)
    assert ex.adjusted_usage_pct == 100.0


def test_28_day_window_boundary(small_conn):
    f = figures(small_conn, TENANT_A)
    # a1's SharePoint activity on 10-03 is 28 days before the as-of date: not active.
    # a8's OneDrive activity on 10-30 counts as SharePoint.
    sp = wl(f, "sharepoint")
    assert (sp.entitled, sp.active) == (4, 1)
    assert sp.usage_pct == 25.0
    # a1's Exchange activity on 10-04 (27 days before) counts: a1 is among the active entitled.
    assert wl(f, "exchange").active_entitled == 3


def test_onedrive_is_sharepoint_not_a_line_of_its_own(small_conn):
    f = figures(small_conn, TENANT_A)
    assert "onedrive" not in {w.workload for w in f.workloads}
    assert wl(f, "sharepoint").entitled == 4  # a1, a2, a7 through E3 + a8 through OneDrive


def test_explanations_with_numbers(small_conn):
    ex = wl(figures(small_conn, TENANT_A), "exchange")
    by_code = {e["code"]: e for e in ex.explanations}
    assert set(by_code) == {"turnover", "inactive_duplicate_subscription", "trial"}
    assert by_code["turnover"]["users"] == 1
    dup = by_code["inactive_duplicate_subscription"]
    assert (dup["users"], dup["skus"], dup["statuses"]) == (1, ["ENTERPRISEPACK"], ["in grace period"])
    assert (by_code["trial"]["users"], by_code["trial"]["skus"]) == (1, ["EXCHANGEENTERPRISE"])
    assert "1 user(s) deleted" in by_code["turnover"]["text"]
    assert "trial subscription" in by_code["trial"]["text"]


def test_yammer_overuse(small_conn):
    y = wl(figures(small_conn, TENANT_A), "yammer")
    assert (y.entitled, y.active, y.active_entitled) == (3, 1, 0)
    assert codes(y) == ["yammer_overuse"]
    assert y.explanations[0]["users"] == 1


def test_unexplained_over_100(small_conn):
    f = figures(small_conn, TENANT_D)
    ex = wl(f, "exchange")
    # d1 entitled; d2 upgraded and d3 suspended are not entitlements, but all three are active.
    assert (ex.entitled, ex.active) == (1, 3)
    assert ex.usage_pct == 300.0
    assert codes(ex) == ["unexplained"]
    assert f.over_100 and f.unexplained
    # d3 (suspended) still holds a seat: 2 of 2 assigned.
    assert (f.sold, f.assigned) == (2, 2)


def test_zero_denominators_are_not_available(small_conn):
    f = figures(small_conn, TENANT_B)  # only a trial: nothing sold, nothing entitled
    assert (f.sold, f.deployment_pct, f.usage_pct, f.adjusted_usage_pct) == (0, None, None, None)
    ex = wl(f, "exchange")
    assert (ex.entitled, ex.active, ex.usage_pct) == (0, 1, None)
    assert codes(ex) == ["trial"]  # activity counts, the trial does not
    assert not f.over_100
    assert pct(5, 0) is None and usage_band(None) is None


def test_customer_totals_over_core_workloads(small_conn):
    f = figures(small_conn, TENANT_A)
    # Core (not Yammer, not Skype): exchange 3/7, sharepoint 4/1, teams 3/1, office 3/0.
    assert (f.entitled, f.active) == (13, 9)
    assert f.usage_pct == pytest.approx(900 / 13)
    assert f.adjusted_usage_pct == pytest.approx(500 / 13)
    assert f.over_100 and not f.unexplained
    assert f.renewal_due == 1  # A-S1 ends 2026-11-20


def test_own_scope(small_conn):
    f = figures(small_conn, TENANT_A, "own")
    # Own: A-S1 (E3, 10), A-S3 (trial), A-S5 (OneDrive, 2). Not A-S2 (other partner), A-S4 (direct).
    assert {p.sku for p in f.products} == {"ENTERPRISEPACK", "EXCHANGEENTERPRISE", "WACONEDRIVESTANDARD"}
    assert (f.sold, f.assigned) == (12, 5)
    assert round(f.deployment_pct, 1) == 41.7
    ex = wl(f, "exchange")
    # a4's only Exchange license comes from another partner: left out of own activity.
    assert (ex.entitled, ex.active) == (3, 6)
    assert set(codes(ex)) == {"turnover", "trial"}


def test_recommendations(small_conn):
    a = figures(small_conn, TENANT_A)
    assert [r["code"] for r in a.recommendations] == ["low_adoption", "right_size"]
    low = a.recommendations[0]
    assert "38.5 %" in low["reason"] and "37.5 %" in low["reason"]
    assert low["consider"].startswith("The customer may not see the value")
    assert "10 of 16 seats" in a.recommendations[1]["reason"]
    c = figures(small_conn, TENANT_C)
    # 3 how-to/help requests in the 90 days before 2026-10-31 (08-02 is outside, the incident does not count),
    # 4 users assigned: 75 per 100 users.
    assert [r["code"] for r in c.recommendations] == ["high_support_volume", "upsell"]
    assert "3 help and how-to requests" in c.recommendations[0]["reason"]
    assert "75.0 per 100" in c.recommendations[0]["reason"]
    assert c.recommendations[0]["try"].startswith("A dual strategy")


def test_thresholds_are_settings(small_conn):
    with transaction(small_conn):
        settings.put(small_conn, "low_adoption_usage_pct", 30)
        settings.put(small_conn, "low_adoption_deployment_pct", 30)
        recompute(small_conn)
    assert "low_adoption" not in [r["code"] for r in figures(small_conn, TENANT_A).recommendations]
    with pytest.raises(ValueError, match="between"):
        settings.validate("upsell_usage_pct", 140)


def test_as_of_earlier_snapshot_and_trend(small_conn):
    c = figures(small_conn, TENANT_C, as_of="2026-09-30")
    ex = wl(c, "exchange")
    # c1 active 09-29, c2's 09-03 is 27 days before 09-30: both count.
    assert (ex.entitled, ex.active) == (4, 2)
    trend = read.customer_trend(small_conn, SYSTEM, cid(small_conn, TENANT_C))
    assert [(p.as_of, round(p.usage_pct, 1)) for p in trend] == [("2026-09-30", 16.7), ("2026-10-31", 100.0)]
    table = read.customer_table(small_conn, SYSTEM)
    assert table.set_index("tenant_id").loc[TENANT_C, "trend"] == "▲"


def test_imported_history_fills_old_months(small_conn):
    f = figures(small_conn, TENANT_A, as_of="2026-08-31")
    assert f.source == "imported"
    assert (f.sold, f.assigned, f.deployment_pct) == (10, 3, 30.0)
    assert wl(f, "exchange").active_entitled is None
    assert [p.as_of for p in read.customer_trend(small_conn, SYSTEM, cid(small_conn, TENANT_A))] == [
        "2026-08-31", "2026-10-31",
    ]


def test_portfolio(small_conn):
    p = read.portfolio(small_conn, SYSTEM, "all")
    t = p.totals
    assert (t["customers"], t["sold"], t["assigned"]) == (4, 22, 12)
    # Core entitled/active: A 13/9, B 0/1, C 12/12, D 1/3.
    assert (t["entitled"], t["active"]) == (26, 25)
    assert (t["low_adoption"], t["upsell"], t["over_100"], t["renewals_due"]) == (1, 2, 2, 1)
    assert p.bands == {"0-25": 0, "25-50": 0, "50-75": 1, "75-100": 1, ">100": 1, "n/a": 1}
    assert [r["name"] for r in p.lowest_adopters][:1] == ["Alpha Tools"]
    assert [r["name"] for r in p.renewals] == ["Alpha Tools"]
    agents = {a["agent"]: a["customers"] for a in p.by_agent}
    assert agents == {"maria": 2, "tomas": 1, "yuki": 1, "(none)": 1}
    e3 = next(r for r in p.by_product if r["sku"] == "ENTERPRISEPACK")
    assert (e3["sold"], e3["assigned"]) == (10, 4)


def test_sales_agent_sees_only_assigned_customers(small_conn):
    maria = Principal("maria", Role.SALES_AGENT)
    table = read.customer_table(small_conn, maria)
    assert sorted(table.name) == ["Alpha Tools", "Cedar Clinics"]
    assert read.portfolio(small_conn, maria).totals["sold"] == 20
    with pytest.raises(Exception, match="no customer"):
        read.customer_figures(small_conn, maria, cid(small_conn, TENANT_D))
    doc = read.metrics_document(small_conn, maria)
    assert [c["name"] for c in doc["customers"]] == ["Alpha Tools", "Cedar Clinics"]


def test_metrics_json_contract(small_conn):
    doc = read.metrics_document(small_conn, SYSTEM, "all")
    assert set(doc) == {"as_of", "scope", "customers", "portfolio"}
    a = doc["customers"][0]
    assert {"tenant_id", "name", "sales_agents", "products", "workloads", "recommendations"} <= set(a)
    ex = next(w for w in a["workloads"] if w["workload"] == "exchange")
    assert ex == {
        "workload": "exchange", "entitled": 3, "active": 7, "usage_pct": 233.3, "adjusted_usage_pct": 100.0,
        "explanations": ex["explanations"],
    }
    assert {"code", "users"} <= set(ex["explanations"][0])
    assert a["recommendations"][0].keys() == {"code", "reason"}
    assert doc["portfolio"]["bands"][">100"] == 1
    json.dumps(doc)  # serialisable as it is


def test_filter_customers(small_conn):
    table = read.customer_table(small_conn, SYSTEM)
    assert list(read.filter_customers(table, "cedar").name) == ["Cedar Clinics"]
    assert list(read.filter_customers(table, "DELTA.EXAMPLE").name) == ["Delta Dairy"]
    assert list(read.filter_customers(table, TENANT_B[:8]).name) == ["Bravo Bakery"]
    assert list(read.filter_customers(table, upsell=True).name) == ["Cedar Clinics", "Delta Dairy"]
    assert list(read.filter_customers(table, over_100=True).name) == ["Alpha Tools", "Delta Dairy"]
    assert list(read.filter_customers(table, renewal_due=True).name) == ["Alpha Tools"]
    assert list(read.filter_customers(table, product="WACONEDRIVESTANDARD").name) == ["Alpha Tools"]
    assert list(read.filter_customers(table, agent="yuki").name) == ["Cedar Clinics"]
    assert list(read.filter_customers(table, market="NL", segment="Enterprise").name) == ["Cedar Clinics"]


def test_recompute_is_stable(small_conn):
    before = [tuple(r) for r in small_conn.execute("SELECT * FROM fig_workload ORDER BY 1, 2, 3, 4")]
    with transaction(small_conn):
        recompute(small_conn)
    after = [tuple(r) for r in small_conn.execute("SELECT * FROM fig_workload ORDER BY 1, 2, 3, 4")]
    assert before == after
    assert json.loads(after[0][7]) is not None


def test_licenses_without_activity_still_get_figures(small_conn):
    """A customer known only from license data gets figures as of the latest date known."""
    from adopt_tui.store import writes

    with transaction(small_conn):
        new = writes.upsert_customer(small_conn, "eeeeeeee-0000-0000-0000-000000000005", "Echo Events")
        writes.upsert_subscriptions(small_conn, [
            (new, "E-S1", "ENTERPRISEPACK", "", 7, "active", 0, "partner", None, None, "", 0),
        ])
        recompute(small_conn, [new])
    f = read.customer_figures(small_conn, SYSTEM, new)
    assert (f.as_of, f.sold, f.assigned, f.deployment_pct) == (AS_OF, 7, 0, 0.0)


def test_imported_figures_with_workloads_only(small_conn):
    import pandas as pd

    from adopt_tui.metrics.compute import store_imported_figures

    c = cid(small_conn, TENANT_D)
    products = pd.DataFrame(columns=["customer_id", "as_of", "scope", "sku", "sold", "assigned"])
    workloads = pd.DataFrame(
        [(c, "2026-06-30", "all", "exchange", 10, 4)],
        columns=["customer_id", "as_of", "scope", "workload", "entitled", "active"],
    )
    with transaction(small_conn):
        assert store_imported_figures(small_conn, products, workloads) == 1
    f = read.customer_figures(small_conn, SYSTEM, c, as_of="2026-06-30")
    assert (f.as_of, f.usage_pct, f.sold) == ("2026-06-30", 40.0, 0)


def test_portfolio_of_customers_without_right_size(small_conn):
    table = read.customer_table(small_conn, SYSTEM)
    cedar = table[table.tenant_id == TENANT_C]
    p = read.portfolio(small_conn, SYSTEM, table=cedar)
    assert p.right_size_candidates == [] and p.totals["customers"] == 1
