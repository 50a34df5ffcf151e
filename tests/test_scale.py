"""Correctness at scale: on a generated portfolio, the precomputed figures equal
figures recomputed from the raw rows by a plain reference implementation.

The reference below follows the rules in the docstring of
:mod:`adopt_tui.metrics.compute` (and domain.md) one customer at a time, with
plain SQL and Python sets: no pandas, nothing shared with the vectorised code
except the product catalogue (which SKU includes which workload).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest

from adopt_tui.catalogue import CORE_WORKLOADS
from adopt_tui.generate import generate
from adopt_tui.metrics.rules import pct
from adopt_tui.store import connect

CUSTOMERS = 200
SAMPLE = 200  # the reference is cheap: compare every customer

EXPLANATIONS = ("turnover", "inactive_duplicate_subscription", "trial", "yammer_overuse", "unexplained")
RECOMMENDATIONS = ("low_adoption", "high_support_volume", "upsell", "right_size")


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "generated.db"
    conn = connect(path)
    stats = generate(conn, CUSTOMERS, seed=2026)
    yield conn, stats
    conn.close()


# --------------------------------------------------------------------------- the reference


def catalogue(conn) -> dict[str, set[str]]:
    """SKU -> the workloads it includes (the products table)."""
    return {sku: {w for w in wl.split(",") if w} for sku, wl in conn.execute("SELECT sku, workloads FROM products")}


def reference(conn, customer_id: int, as_of: str, scope: str, workloads_of: dict[str, set[str]]):
    """({sku: (sold, assigned)}, {workload: (entitled, active, active_entitled)}), zero rows left out."""
    window_start = (date.fromisoformat(as_of) - timedelta(days=27)).isoformat()
    subs = {
        r[0]: {"sku": r[1], "quantity": r[2], "status": r[3], "trial": bool(r[4]), "channel": r[5]}
        for r in conn.execute(
            "SELECT id, sku, quantity, status, is_trial, channel FROM subscriptions WHERE customer_id = ?",
            (customer_id,))
    }

    def in_scope(s):
        return scope == "all" or s["channel"] == "partner"

    def counted(s):
        return s["status"] == "active" and not s["trial"]

    def kind(s):
        return "counted" if counted(s) else "trial" if s["trial"] else "inactive"

    def resolve(sku, subscription_id):
        """The class of an assignment in this scope; None when it is out of scope."""
        if subscription_id is not None:
            s = subs[subscription_id]
            return kind(s) if in_scope(s) else None
        classes = {kind(s) for s in subs.values() if s["sku"] == sku and in_scope(s)}
        for c in ("counted", "trial", "inactive"):
            if c in classes:
                return c
        if scope == "all" and not any(s["sku"] == sku for s in subs.values()):
            return "counted"  # no subscription known for the SKU at all
        return None

    users = {
        r[0]: bool(r[1]) and (r[2] is None or r[2] <= as_of)  # gone by the as-of date
        for r in conn.execute("SELECT id, is_deleted, deleted_date FROM users WHERE customer_id = ?", (customer_id,))
    }
    sold = defaultdict(int)
    for s in subs.values():
        if in_scope(s) and counted(s):
            sold[s["sku"]] += s["quantity"]
    assigned = defaultdict(set)
    entitled = defaultdict(set)
    held_in_scope = set()   # (user, workload) with a license in scope
    held_any = set()        # (user, workload) with any license at all
    for user, sku, sub, day, state in conn.execute(
        "SELECT a.user_id, a.sku, a.subscription_id, a.assigned_date, a.state FROM assignments a "
        "JOIN users u ON u.id = a.user_id WHERE u.customer_id = ?", (customer_id,)
    ):
        for w in workloads_of.get(sku, ()):
            held_any.add((user, w))
        if day is not None and day > as_of:
            continue
        cls = resolve(sku, sub)
        if cls is None:
            continue
        for w in workloads_of.get(sku, ()):
            held_in_scope.add((user, w))
        if cls != "counted" or users[user]:
            continue
        if state in ("entitled", "suspended"):
            assigned[sku].add(user)
        if state == "entitled":
            for w in workloads_of.get(sku, ()):
                entitled[w].add(user)
    active = defaultdict(set)
    for user, w, last in conn.execute(
        "SELECT a.user_id, a.workload, a.last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id "
        "WHERE u.customer_id = ? AND +a.report_date = ?", (customer_id, as_of)  # +: not the date index
    ):
        if last is None or not window_start <= last <= as_of:
            continue
        # own scope: leave out users whose license for the workload comes only from other channels
        if scope == "own" and (user, w) in held_any and (user, w) not in held_in_scope:
            continue
        active[w].add(user)
    products = {
        sku: (sold.get(sku, 0), len(assigned.get(sku, ())))
        for sku in set(sold) | set(assigned)
        if sold.get(sku, 0) or assigned.get(sku)
    }
    figures = {
        w: (len(entitled.get(w, ())), len(active.get(w, ())), len(active.get(w, set()) & entitled.get(w, set())))
        for w in set(entitled) | set(active)
    }
    return products, {w: f for w, f in figures.items() if any(f)}


def stored(conn, customer_id: int, as_of: str, scope: str):
    products = {
        sku: (sold, assigned) for sku, sold, assigned in conn.execute(
            "SELECT sku, sold, assigned FROM fig_product WHERE customer_id = ? AND as_of = ? AND scope = ?",
            (customer_id, as_of, scope))
        if sold or assigned
    }
    workloads = {
        w: (e, a, ae) for w, e, a, ae in conn.execute(
            "SELECT workload, entitled, active, active_entitled FROM fig_workload "
            "WHERE customer_id = ? AND as_of = ? AND scope = ?", (customer_id, as_of, scope))
        if e or a or ae
    }
    return products, workloads


# --------------------------------------------------------------------------- the tests


def _sample(conn) -> list[int]:
    """Every customer when the portfolio is small enough, else the showcases and a random sample."""
    ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    if len(ids) <= SAMPLE:
        return ids
    special = set(ids[:8])  # the showcases of every special case
    rest = random.Random(7).sample(ids[8:], SAMPLE - len(special))
    return sorted(special | set(rest))


@pytest.mark.parametrize("scope", ["all", "own"])
def test_precomputed_figures_equal_the_reference(portfolio, scope):
    conn, _ = portfolio
    as_of = conn.execute("SELECT MAX(report_date) FROM activity").fetchone()[0]
    checked = 0
    workloads_of = catalogue(conn)
    for cid in _sample(conn):
        want_products, want_workloads = reference(conn, cid, as_of, scope, workloads_of)
        got_products, got_workloads = stored(conn, cid, as_of, scope)
        assert got_products == want_products, f"customer {cid} {scope}: products"
        assert got_workloads == want_workloads, f"customer {cid} {scope}: workloads"
        row = conn.execute(
            "SELECT sold, assigned, entitled, active, active_entitled, deployment_pct, source FROM fig_customer "
            "WHERE customer_id = ? AND as_of = ? AND scope = ?", (cid, as_of, scope)).fetchone()
        assert row is not None and row[6] == "computed"
        sold = sum(p[0] for p in want_products.values())
        assigned = sum(p[1] for p in want_products.values())
        core = [f for w, f in want_workloads.items() if w in CORE_WORKLOADS]
        assert tuple(row[:4]) == (sold, assigned, sum(f[0] for f in core), sum(f[1] for f in core)), \
            f"customer {cid} {scope}: summary"
        # without any core workload figure, active-and-entitled is unknown (None) rather than 0
        assert row[4] == sum(f[2] for f in core) or (not core and row[4] is None), f"customer {cid} {scope}"
        assert row[5] == pytest.approx(pct(assigned, sold)) if sold else row[5] is None
        checked += 1
    assert checked == min(SAMPLE, CUSTOMERS)


def test_every_case_shows_somewhere(portfolio):
    conn, stats = portfolio
    as_of = "2026-10-31"
    explanations = " ".join(r[0] for r in conn.execute(
        "SELECT explanations FROM fig_workload WHERE as_of = ? AND source = 'computed'", (as_of,)))
    for code in EXPLANATIONS:
        assert f'"code":"{code}"' in explanations, code
    codes = " ".join(r[0] for r in conn.execute("SELECT rec_codes FROM fig_customer WHERE as_of = ?", (as_of,)))
    for code in RECOMMENDATIONS:
        assert f",{code}," in codes, code
    # the variety of the raw data
    assert {r[0] for r in conn.execute("SELECT DISTINCT status FROM subscriptions")} == {
        "active", "grace", "disabled", "deprovisioned"}
    assert {r[0] for r in conn.execute("SELECT DISTINCT channel FROM subscriptions")} == {
        "partner", "other_partner", "direct"}
    assert conn.execute("SELECT COUNT(*) FROM subscriptions WHERE is_trial = 1").fetchone()[0] > 0
    assert conn.execute("SELECT COUNT(*) FROM assignments WHERE subscription_id IS NULL").fetchone()[0] > 0
    assert {r[0] for r in conn.execute("SELECT DISTINCT state FROM assignments")} == {
        "entitled", "suspended", "upgraded", "cancelled"}
    assert conn.execute("SELECT COUNT(*) FROM products p JOIN subscriptions s ON s.sku = p.sku "
                        "WHERE p.family = 'Dynamics 365'").fetchone()[0] > 0
    assert conn.execute("SELECT COUNT(*) FROM support_requests").fetchone()[0] > 0
    assert conn.execute("SELECT COUNT(DISTINCT agent) FROM customer_agents").fetchone()[0] >= 30
    assert conn.execute("SELECT COUNT(*) FROM customers WHERE id NOT IN "
                        "(SELECT customer_id FROM customer_agents)").fetchone()[0] > 0
    dates = [r[0] for r in conn.execute("SELECT DISTINCT as_of FROM fig_customer ORDER BY 1")]
    assert len(dates) == 12
    # about 50 users per customer, skewed small
    sizes = sorted(r[0] for r in conn.execute("SELECT COUNT(*) FROM users GROUP BY customer_id"))
    assert sizes[0] >= 5 and sizes[-1] == 5000
    assert sizes[len(sizes) // 2] < 40
    assert 30 <= stats.users / CUSTOMERS <= 90
    # concealed (32-hex) and guest user names
    assert conn.execute("SELECT COUNT(*) FROM users WHERE length(upn) = 32 AND upn NOT LIKE '%@%'").fetchone()[0] > 0


def test_history_follows_into_the_computed_month(portfolio):
    """The aggregate history joins the computed latest month without a jump in sold seats."""
    conn, _ = portfolio
    rows = conn.execute(
        "SELECT a.customer_id, a.sold, b.sold FROM fig_customer a JOIN fig_customer b "
        "ON b.customer_id = a.customer_id AND b.scope = a.scope "
        "WHERE a.scope = 'all' AND a.as_of = '2026-09-30' AND b.as_of = '2026-10-31'").fetchall()
    assert len(rows) > CUSTOMERS * 0.8
    same = sum(1 for _, before, after in rows if before == after)
    assert same / len(rows) > 0.8


def test_the_generated_portfolio_comes_with_its_figure_cache(portfolio):
    """The generator warms the figure cache once at the end (its triggers lifted during the bulk
    writes and back in place), and every cached read equals its live computation."""
    import json

    import pandas as pd

    from adopt_tui.auth.permissions import SYSTEM, Principal, Role
    from adopt_tui.metrics import read
    from adopt_tui.metrics.document import metrics_json
    from adopt_tui.store.schema import MIGRATION_FIGURE_CACHE

    conn, _ = portfolio
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {name for name in triggers if name.startswith("cache_drop_")} == {
        line.split()[2] for line in MIGRATION_FIGURE_CACHE.splitlines() if line.startswith("CREATE TRIGGER")}
    kinds = {tuple(r) for r in conn.execute("SELECT scope, kind FROM cache_blob")}
    assert kinds == {(s, k) for s in ("all", "own") for k in ("list", "order", "portfolio", "summary", "trend")}
    assert conn.execute("SELECT COUNT(*) FROM cache_doc_own").fetchone()[0] == CUSTOMERS
    agent = conn.execute("SELECT agent FROM customer_agents GROUP BY agent ORDER BY COUNT(*) DESC").fetchone()[0]
    for principal in (SYSTEM, Principal(agent, Role.SALES_AGENT)):
        for scope in ("all", "own"):
            pd.testing.assert_frame_equal(read.customer_table(conn, principal, scope),
                                          read.customer_table(conn, principal, scope, cache=False))
            assert read.portfolio(conn, principal, scope) == read.portfolio(conn, principal, scope, cache=False)
            live = read.metrics_document(conn, principal, scope, cache=False)
            assert metrics_json(conn, principal, scope).text() == json.dumps(live, ensure_ascii=False)
