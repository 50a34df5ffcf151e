"""Every supported format: a hand-written fixture in Microsoft's exact header,
imported, then the stored rows and figures checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.importers.api import plan_import, run_import
from adopt_tui.metrics.read import customer_figures
from adopt_tui.store import connect

FIX = Path(__file__).parent / "fixtures" / "import"
ECHO = "eeeeeeee-0000-0000-0000-000000000005"
GOLF = "gggggggg-0000-0000-0000-000000000007"


@pytest.fixture
def conn(tmp_path):
    c = connect(tmp_path / "import.db")
    yield c
    c.close()


def imp(conn, *names, customer=ECHO, customer_name="Echo Energy", as_of=None):
    plan = plan_import(conn, SYSTEM, [FIX / n for n in names], customer=customer,
                       customer_name=customer_name, as_of=as_of)
    assert plan.ok, plan.errors
    return plan, run_import(conn, SYSTEM, plan)


def cid(conn, tenant=ECHO):
    return conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (tenant,)).fetchone()[0]


def workloads(conn, tenant=ECHO, scope="all", as_of=None):
    fig = customer_figures(conn, SYSTEM, cid(conn, tenant), scope=scope, as_of=as_of)
    return {w.workload: (w.entitled, w.active) for w in fig.workloads}, fig


def products(fig):
    return {p.sku: (p.sold, p.assigned) for p in fig.products}


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("name, code", [
    ("active_user_detail.csv", "graph_active_users"),
    ("email_activity.csv", "graph_email_activity"),
    ("onedrive_activity.csv", "graph_onedrive_activity"),
    ("sharepoint_activity.csv", "graph_sharepoint_activity"),
    ("teams_activity_old.csv", "graph_teams_activity"),
    ("teams_activity_current.csv", "graph_teams_activity"),
    ("yammer_activity.csv", "graph_yammer_activity"),
    ("m365_apps.csv", "graph_m365_apps"),
    ("subscribed_skus.json", "graph_subscribed_skus"),
    ("company_subscriptions.json", "graph_company_subscriptions"),
    ("pc_subscriptions.json", "pc_subscriptions"),
    ("pc_customers.json", "pc_customers"),
    ("insights_o365_usage.tsv", "insights_o365_usage"),
    ("insights_dynamics_usage.tsv", "insights_dynamics_usage"),
])
def test_format_detected(conn, name, code):
    plan = plan_import(conn, SYSTEM, [FIX / name], customer=ECHO, customer_name="Echo Energy")
    assert plan.ok, plan.errors
    assert plan.files[0].format == code
    assert plan.files[0].rows > 0


def test_teams_forms_are_told_apart(conn):
    plan = plan_import(conn, SYSTEM, [FIX / "teams_activity_old.csv", FIX / "teams_activity_current.csv"],
                       customer=ECHO, customer_name="Echo Energy")
    old, current = plan.files
    assert "older" in old.label and "current" in current.label


def test_plan_writes_nothing(conn):
    before = list(conn.iterdump())
    plan_import(conn, SYSTEM, sorted(FIX.iterdir()), customer=ECHO, customer_name="Echo Energy")
    assert list(conn.iterdump()) == before


# --------------------------------------------------------------------------- user level


def test_active_user_detail_figures(conn):
    plan, summary = imp(conn, "active_user_detail.csv")
    f = plan.files[0]
    assert (f.rows, f.as_of) == (5, "2026-10-31")
    assert f.customer == f"new: Echo Energy ({ECHO})"
    assert summary.files[0].added == 5
    wl, fig = workloads(conn)
    assert fig.as_of == "2026-10-31" and fig.source == "computed"
    # Ann (E3), Bob (M365 E5 + EMS E5), Carl (deleted), a concealed user (Exchange flag only), a guest
    assert wl == {
        "exchange": (3, 3),     # Ann, Bob, concealed user entitled; Ann, Carl (deleted, still active), concealed active
        "sharepoint": (2, 2),   # OneDrive counts as SharePoint: Ann 10-20 (OneDrive), Bob 10-31 (OneDrive)
        "teams": (2, 3),        # Ann on the window's first day, Bob, and the unlicensed guest
        "skype": (2, 0),
        "yammer": (2, 0),
        "office": (2, 0),       # entitled through E3/E5; this report has no Office activity
    }
    assert products(fig) == {"ENTERPRISEPACK": (0, 1), "SPE_E5": (0, 1), "EMSPREMIUM": (0, 1), "GRAPH:exchange": (0, 1)}


def test_active_user_detail_rows(conn):
    imp(conn, "active_user_detail.csv")
    users = {r[0]: r[1:] for r in conn.execute("SELECT upn, display_name, is_deleted, deleted_date FROM users")}
    assert users["carl@echo.example"] == ("Carl Old", 1, "2026-10-10")
    assert users["guest_partner.example#EXT#@echo.onmicrosoft.com"][1] == 0
    assert "0F1E2D3C4B5A69788796A5B4C3D2E1F0" in users
    asg = dict(((u, s), d) for u, s, d in conn.execute(
        "SELECT u.upn, a.sku, a.assigned_date FROM assignments a JOIN users u ON u.id = a.user_id"))
    assert asg[("Ann.Smith@echo.example", "ENTERPRISEPACK")] == "2025-03-01"   # earliest of its workloads
    assert asg[("bob.jones@echo.example", "EMSPREMIUM")] is None                # no workload, no date
    assert asg[("0F1E2D3C4B5A69788796A5B4C3D2E1F0", "GRAPH:exchange")] == "2024-05-05"
    sp = conn.execute(
        "SELECT last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id "
        "WHERE u.upn = 'Ann.Smith@echo.example' AND workload = 'sharepoint'").fetchone()[0]
    assert sp == "2026-10-20"   # the later of OneDrive (10-20) and SharePoint (09-01)
    known = conn.execute("SELECT known, workloads FROM products WHERE sku = 'GRAPH:exchange'").fetchone()
    assert tuple(known) == (0, "exchange")


def test_as_of_overrides_the_report_date(conn):
    imp(conn, "active_user_detail.csv", as_of="2026-11-20")
    dates = {r[0] for r in conn.execute("SELECT DISTINCT report_date FROM activity")}
    assert dates == {"2026-11-20"}
    wl, fig = workloads(conn)
    assert fig.as_of == "2026-11-20"
    assert wl["exchange"] == (3, 2)   # window 10-24 .. 11-20: Ann 10-30, concealed 10-25


def test_email_activity(conn):
    imp(conn, "email_activity.csv")
    wl, fig = workloads(conn)
    assert fig.as_of == "2026-11-07"
    assert wl["exchange"] == (3, 2)   # Ann (E3), Dora (Exchange Plan 1), Bob (E5); Ann and Dora active
    assert products(fig)["EXCHANGESTANDARD"] == (0, 1)


@pytest.mark.parametrize("name, active", [("onedrive_activity.csv", 1), ("sharepoint_activity.csv", 2)])
def test_onedrive_and_sharepoint_are_one_workload(conn, name, active):
    imp(conn, name)
    wl, _ = workloads(conn)
    assert wl["sharepoint"] == (2, active)
    assert "onedrive" not in wl


def test_onedrive_and_sharepoint_combine_to_the_later_date(conn):
    imp(conn, "onedrive_activity.csv", "sharepoint_activity.csv")
    rows = dict(conn.execute(
        "SELECT u.upn, a.last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id WHERE workload = 'sharepoint'"))
    assert rows == {"ann.smith@echo.example": "2026-11-05", "bob.jones@echo.example": "2026-11-04"}


@pytest.mark.parametrize("name, entitled, active", [("teams_activity_old.csv", 2, 1), ("teams_activity_current.csv", 2, 2)])
def test_teams(conn, name, entitled, active):
    imp(conn, name)
    wl, _ = workloads(conn)
    assert wl["teams"] == (entitled, active)


def test_yammer_state_and_unlicensed_use(conn):
    imp(conn, "yammer_activity.csv")
    wl, _ = workloads(conn)
    assert wl["yammer"] == (1, 2)   # Erin uses Yammer without a license
    carl = conn.execute("SELECT is_deleted, deleted_date FROM users WHERE upn = 'carl@echo.example'").fetchone()
    assert tuple(carl) == (1, "2026-10-10")
    fig = customer_figures(conn, SYSTEM, cid(conn))
    yammer = next(w for w in fig.workloads if w.workload == "yammer")
    assert any(e["code"] == "yammer_overuse" for e in yammer.explanations)


def test_m365_apps(conn):
    imp(conn, "m365_apps.csv")
    wl, _ = workloads(conn)
    assert wl == {"office": (0, 1)}   # Bob's last activity 09-30 is outside the window
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0


def test_reports_combine_by_upn_case_insensitively(conn):
    imp(conn, "active_user_detail.csv")
    imp(conn, "email_activity.csv", "teams_activity_current.csv", "m365_apps.csv", "yammer_activity.csv")
    upns = [r[0] for r in conn.execute("SELECT upn FROM users ORDER BY upn")]
    assert len(upns) == len({u.lower() for u in upns}) == 7   # + Dora, Erin
    assert "Ann.Smith@echo.example" in upns                    # the first spelling is kept
    wl, fig = workloads(conn)
    assert fig.as_of == "2026-11-07"
    # Ann, Bob, Dora, and the concealed user, whose license no newer report mentions; Ann and Dora active
    assert wl["exchange"] == (4, 2)
    assert wl["teams"][1] == 2 and wl["office"][1] == 1 and wl["yammer"][1] == 2
    # history kept: the older report date still has its figures
    old, fig_old = workloads(conn, as_of="2026-10-31")
    assert fig_old.as_of == "2026-10-31" and old["teams"] == (2, 3)


# --------------------------------------------------------------------------- license level


def test_subscribed_skus(conn):
    imp(conn, "subscribed_skus.json", "active_user_detail.csv")
    subs = {r[0]: r[1:] for r in conn.execute("SELECT ext_id, sku, quantity, status, channel FROM subscriptions")}
    assert subs["graph-sku:ENTERPRISEPACK:enabled"] == ("ENTERPRISEPACK", 10, "active", "other_partner")
    assert subs["graph-sku:ENTERPRISEPACK:warning"] == ("ENTERPRISEPACK", 2, "grace", "other_partner")
    assert subs["graph-sku:SPE_E5:enabled"] == ("SPE_E5", 0, "disabled", "other_partner")
    assert subs["graph-sku:SPE_E5:suspended"] == ("SPE_E5", 5, "disabled", "other_partner")
    assert conn.execute("SELECT known FROM products WHERE sku = 'BRAND_NEW_SKU_2027'").fetchone()[0] == 0
    wl, fig = workloads(conn)
    p = products(fig)
    assert p["ENTERPRISEPACK"] == (10, 1)         # sold = enabled units only
    assert p["BRAND_NEW_SKU_2027"] == (3, 0)
    assert wl["exchange"] == (2, 3)               # Bob's E5 is suspended: not an entitlement
    ex = next(w for w in fig.workloads if w.workload == "exchange")
    assert ex.usage_pct > 100


def test_subscribed_skus_warning_and_new_file_replaces(conn, tmp_path):
    imp(conn, "subscribed_skus.json")
    newer = tmp_path / "skus.json"
    newer.write_text('{"value": [{"skuPartNumber": "ENTERPRISEPACK", "capabilityStatus": "Enabled", '
                     '"consumedUnits": 1, "prepaidUnits": {"enabled": 12, "warning": 0}}]}')
    plan = plan_import(conn, SYSTEM, [newer], customer=ECHO)
    assert plan.ok, plan.errors
    run_import(conn, SYSTEM, plan)
    subs = dict(conn.execute("SELECT ext_id, quantity FROM subscriptions"))
    assert subs == {"graph-sku:ENTERPRISEPACK:enabled": 12}


def test_company_subscriptions(conn):
    imp(conn, "company_subscriptions.json")
    subs = {r[0]: r[1:] for r in conn.execute(
        "SELECT ext_id, sku, quantity, status, is_trial, channel, start_date, commitment_end FROM subscriptions")}
    assert subs["aaaa1111-0000-0000-0000-000000000001"] == (
        "ENTERPRISEPACK", 10, "active", 0, "other_partner", "2025-03-01", "2027-03-01")
    assert subs["bbbb2222-0000-0000-0000-000000000002"] == (
        "STANDARDPACK", 25, "grace", 1, "other_partner", "2026-10-20", "2026-11-19")


def test_partner_center_subscriptions_are_own(conn):
    imp(conn, "pc_subscriptions.json", "active_user_detail.csv")
    subs = {r[0]: r[1:] for r in conn.execute(
        "SELECT ext_id, sku, offer_name, quantity, status, is_trial, channel, start_date, commitment_end, "
        "billing_cycle, auto_renew FROM subscriptions")}
    assert subs["aaaa1111-0000-0000-0000-000000000001"] == (
        "ENTERPRISEPACK", "Office 365 E3", 8, "active", 0, "partner", "2025-03-01", "2027-03-01", "monthly", 1)
    assert subs["aaaa3333-0000-0000-0000-000000000003"][3] == "grace"         # expired
    assert subs["aaaa4444-0000-0000-0000-000000000004"][0] == "DZH318Z0BQ3Q:0007"  # unknown offer: the offer id
    name, known = conn.execute("SELECT name, known FROM products WHERE sku = 'DZH318Z0BQ3Q:0007'").fetchone()
    assert (name, known) == ("Contoso Widget Pro (partner special)", 0)
    own, fig = workloads(conn, scope="own")
    assert products(fig)["ENTERPRISEPACK"] == (8, 1)
    assert own["exchange"][0] == 1    # Ann's E3 is counted in the own scope


def test_graph_totals_are_not_counted_twice_with_partner_center(conn):
    for order in (("subscribed_skus.json", "pc_subscriptions.json"), ("pc_subscriptions.json", "subscribed_skus.json")):
        conn.execute("DELETE FROM subscriptions")
        conn.execute("DELETE FROM imports")
        for name in order:
            imp(conn, name)
        q = dict(conn.execute("SELECT ext_id, quantity FROM subscriptions"))
        assert q["graph-sku:ENTERPRISEPACK:enabled"] == 2      # 10 in the tenant, 8 of them this partner's
        assert q["graph-sku:SPE_E5:suspended"] == 0            # the partner's expired 5 explain them
        total = conn.execute("SELECT SUM(quantity) FROM subscriptions WHERE sku = 'ENTERPRISEPACK' "
                             "AND status = 'active'").fetchone()[0]
        assert total == 10


def test_partner_center_customers(conn):
    plan, summary = imp(conn, "pc_customers.json", customer=None, customer_name=None)
    assert plan.files[0].customer == "2 customer(s) (2 new)"
    rows = {r[0]: r[1:] for r in conn.execute("SELECT tenant_id, name, domain FROM customers")}
    assert rows == {ECHO: ("Echo Energy", "echoenergy.onmicrosoft.com"),
                    "ffffffff-0000-0000-0000-000000000006": ("Foxtrot Foods", "foxtrot.onmicrosoft.com")}
    assert summary.files[0].added == 2


# --------------------------------------------------------------------------- Insights


def test_insights_office_365_usage(conn):
    plan, summary = imp(conn, "insights_o365_usage.tsv", customer=None, customer_name=None)
    f = plan.files[0]
    assert f.as_of == "2026-08-31 .. 2026-09-30"
    assert any("Intune" in w for w in f.warnings)
    assert tuple(conn.execute("SELECT name, market, segment FROM customers WHERE tenant_id = ?", (GOLF,)).fetchone()) == \
        ("Golf Garages", "NL", "SMB")
    wl, fig = workloads(conn, GOLF, as_of="2026-08-31")
    assert fig.as_of == "2026-08-31" and fig.source == "imported"
    assert wl == {"exchange": (50, 40), "sharepoint": (50, 25), "teams": (50, 45)}
    assert fig.products == []
    wl, fig = workloads(conn, GOLF)
    assert fig.as_of == "2026-09-30" and wl == {"exchange": (60, 30)}


def test_insights_dynamics_usage_combines_with_office_365(conn):
    imp(conn, "insights_o365_usage.tsv", customer=None, customer_name=None)
    plan, _ = imp(conn, "insights_dynamics_usage.tsv", customer=None, customer_name=None)
    assert any("Fancy Future App" in w for w in plan.files[0].warnings)
    wl, fig = workloads(conn, GOLF, as_of="2026-08-31")
    assert wl["dyn_sales"] == (20, 10)            # assigned 15 + 5, active 9 + 1
    assert wl["dyn_other"] == (2, 2)              # the SKU not in the catalogue
    assert wl["exchange"] == (50, 40)             # the Office 365 figures of the month are kept
    assert products(fig) == {"DYN365_ENTERPRISE_SALES": (25, 20), "Dynamics 365 Fancy Future App": (4, 2)}


def test_insights_do_not_replace_computed_figures(conn):
    conn.execute("INSERT INTO customers(tenant_id, name) VALUES (?, 'Golf Garages')", (GOLF,))
    imp(conn, "active_user_detail.csv", customer=GOLF, customer_name=None, as_of="2026-08-31")
    imp(conn, "insights_o365_usage.tsv", customer=None, customer_name=None)
    _, fig = workloads(conn, GOLF, as_of="2026-08-31")
    assert fig.source == "computed"


AUD_HEADER = (FIX / "active_user_detail.csv").read_text(encoding="utf-8-sig").splitlines()[0]


def _aud_row(refresh: str, upn: str, exchange_active: str, assigned: str) -> str:
    # Exchange licence only: flags, then six last activity dates, six assign dates, the product
    return ",".join([refresh, upn, upn.split("@")[0].title(), "False", "", "True", "False", "False", "False",
                     "False", "False", exchange_active, "", "", "", "", "", assigned, "", "", "", "", "",
                     "EXCHANGE ONLINE (PLAN 1)"])


def test_rows_with_every_date_given_and_a_date_without_activity(conn, tmp_path):
    # every licence has its assign date and every row its activity date (no missing value to store
    # as NULL), then a newer report of the same users without any activity at all: that date is
    # kept, its rows without a last activity date
    full = tmp_path / "full.csv"
    full.write_text("\r\n".join([AUD_HEADER, _aud_row("2026-10-31", "ann@echo.example", "2026-10-30", "2025-01-15"),
                                 _aud_row("2026-10-31", "bob@echo.example", "2026-09-01", "2024-12-01")]) + "\r\n")
    idle = tmp_path / "idle.csv"
    idle.write_text("\r\n".join([AUD_HEADER, _aud_row("2026-11-30", "ann@echo.example", "", "2025-01-15"),
                                 _aud_row("2026-11-30", "bob@echo.example", "", "2024-12-01")]) + "\r\n")
    imp(conn, full)
    rows = lambda sql: sorted(tuple(r) for r in conn.execute(sql))  # noqa: E731
    assignments = "SELECT u.upn, a.sku, a.subscription_id, a.assigned_date, a.state FROM assignments a " \
                  "JOIN users u ON u.id = a.user_id"
    activity = "SELECT u.upn, a.workload, a.report_date, a.last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id"
    assert rows(assignments) == [("ann@echo.example", "EXCHANGESTANDARD", None, "2025-01-15", "entitled"),
                                 ("bob@echo.example", "EXCHANGESTANDARD", None, "2024-12-01", "entitled")]
    assert rows(activity) == [("ann@echo.example", "exchange", "2026-10-31", "2026-10-30"),
                              ("bob@echo.example", "exchange", "2026-10-31", "2026-09-01")]
    assert workloads(conn)[0]["exchange"] == (2, 1)   # Ann active on 10-30; Bob's 09-01 is before the window
    imp(conn, idle)
    assert rows(assignments) == [("ann@echo.example", "EXCHANGESTANDARD", None, "2025-01-15", "entitled"),
                                 ("bob@echo.example", "EXCHANGESTANDARD", None, "2024-12-01", "entitled")]
    assert [r for r in rows(activity) if r[2] == "2026-11-30"] == [
        (upn, workload, "2026-11-30", None) for upn in ("ann@echo.example", "bob@echo.example")
        for workload in ("exchange", "sharepoint", "skype", "teams", "yammer")]   # the report's workloads
    assert workloads(conn)[0]["exchange"] == (2, 0)
