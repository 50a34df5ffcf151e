"""The import API for the CLI and the TUI: idempotence, history, audit, progress, bundles."""

from __future__ import annotations

from pathlib import Path

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.importers.api import plan_import, run_import
from adopt_tui.metrics.read import customer_figures

FIX = Path(__file__).parent / "fixtures" / "import"
SMALL = Path(__file__).parent / "fixtures" / "small"
ECHO = "eeeeeeee-0000-0000-0000-000000000005"
ALL_TENANT_FILES = [
    "active_user_detail.csv", "email_activity.csv", "onedrive_activity.csv", "sharepoint_activity.csv",
    "teams_activity_old.csv", "teams_activity_current.csv", "yammer_activity.csv", "m365_apps.csv",
    "subscribed_skus.json", "company_subscriptions.json", "pc_subscriptions.json",
]


def dump(conn) -> list[str]:
    """The database as SQL, without the audit log (every run is audited)."""
    return [line for line in conn.iterdump() if not line.startswith('INSERT INTO "audit"')]


def run(conn, names, **kw):
    kw.setdefault("customer", ECHO)
    kw.setdefault("customer_name", "Echo Energy")
    plan = plan_import(conn, SYSTEM, [FIX / n if isinstance(n, str) else n for n in names], **kw)
    assert plan.ok, plan.errors
    return plan, run_import(conn, SYSTEM, plan)


def test_reimport_changes_nothing(small_conn):
    names = ALL_TENANT_FILES
    run(small_conn, names)
    run(small_conn, ["pc_customers.json", "insights_o365_usage.tsv", "insights_dynamics_usage.tsv"])
    before = dump(small_conn)
    plan, summary = run(small_conn, names)
    assert all(f.already_imported for f in plan.files)
    assert all(f.skipped for f in summary.files)
    run(small_conn, ["pc_customers.json", "insights_o365_usage.tsv", "insights_dynamics_usage.tsv"])
    assert dump(small_conn) == before


def test_same_content_under_another_name_changes_nothing_either(small_conn, tmp_path):
    run(small_conn, ["active_user_detail.csv", "email_activity.csv"])
    before = dump(small_conn)
    copy = tmp_path / "copy.csv"
    copy.write_bytes((FIX / "active_user_detail.csv").read_bytes())
    run(small_conn, [copy])
    assert dump(small_conn) == before


def test_writes_are_idempotent_without_the_register(small_conn):
    """Even when the import register is bypassed, writing a file twice gives the same data."""
    run(small_conn, ["active_user_detail.csv", "subscribed_skus.json", "pc_subscriptions.json"])
    before = [line for line in dump(small_conn) if 'INSERT INTO "imports"' not in line]
    small_conn.execute("DELETE FROM imports")
    run(small_conn, ["active_user_detail.csv", "subscribed_skus.json", "pc_subscriptions.json"])
    after = [line for line in dump(small_conn) if 'INSERT INTO "imports"' not in line]
    assert after == before


def test_newer_report_updates_the_picture_and_keeps_history(small_conn, tmp_path):
    run(small_conn, ["active_user_detail.csv"])
    newer = tmp_path / "newer.csv"
    text = (FIX / "active_user_detail.csv").read_text(encoding="utf-8-sig")
    text = text.replace("2026-10-31,", "2026-11-30,")
    text = text.replace("Bob Jones,False,,", "Bob Jones,True,2026-11-15,")          # Bob left
    text = text.replace(",OFFICE 365 E3\n", ",OFFICE 365 E1\n")                     # Ann moved to E1
    newer.write_text(text, encoding="utf-8")
    run(small_conn, [newer])
    bob = small_conn.execute("SELECT is_deleted, deleted_date FROM users WHERE upn = 'bob.jones@echo.example'").fetchone()
    assert tuple(bob) == (1, "2026-11-15")
    skus = [r[0] for r in small_conn.execute(
        "SELECT sku FROM assignments a JOIN users u ON u.id = a.user_id WHERE u.upn = 'Ann.Smith@echo.example'")]
    assert skus == ["STANDARDPACK"]
    dates = [r[0] for r in small_conn.execute("SELECT DISTINCT report_date FROM activity a JOIN users u "
                                              "ON u.id = a.user_id JOIN customers c ON c.id = u.customer_id "
                                              "WHERE c.tenant_id = ? ORDER BY 1", (ECHO,))]
    assert dates == ["2026-10-31", "2026-11-30"]
    cid = small_conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (ECHO,)).fetchone()[0]
    assert customer_figures(small_conn, SYSTEM, cid, as_of="2026-10-31").as_of == "2026-10-31"
    assert customer_figures(small_conn, SYSTEM, cid).as_of == "2026-11-30"

    # importing the older report again (another copy) must not bring the old picture back
    older = tmp_path / "older.csv"
    older.write_text((FIX / "active_user_detail.csv").read_text(encoding="utf-8-sig") + "\n", encoding="utf-8")
    _, summary = run(small_conn, [older])
    assert any("older than the latest report" in w for w in summary.files[0].warnings)
    bob = small_conn.execute("SELECT is_deleted FROM users WHERE upn = 'bob.jones@echo.example'").fetchone()[0]
    assert bob == 1


def test_plan_describes_each_file_for_the_import_screen(small_conn):
    plan = plan_import(small_conn, SYSTEM, [FIX / "active_user_detail.csv", FIX / "pc_customers.json",
                                            FIX / "insights_o365_usage.tsv", SMALL],
                       customer=ECHO, customer_name="Echo Energy")
    assert plan.ok, plan.errors
    aud, customers, usage, bundle = plan.files
    assert (aud.format, aud.rows, aud.as_of) == ("graph_active_users", 5, "2026-10-31")
    assert aud.customer == f"new: Echo Energy ({ECHO})"
    assert any("GRAPH:exchange" in w for w in aud.warnings)
    assert (customers.format, customers.customer) == ("pc_customers", "2 customer(s) (2 new)")
    assert usage.customer == "2 customer(s) (1 new)"
    assert (bundle.format, bundle.rows) == ("bundle", 90)
    assert plan.total_rows == 5 + 2 + 7 + 90


def test_one_run_many_sources_progress_and_audit(small_conn):
    seen = []
    plan = plan_import(small_conn, SYSTEM, [FIX / n for n in ALL_TENANT_FILES] + [FIX / "pc_customers.json"],
                       customer=ECHO, customer_name="Echo Energy")
    summary = run_import(small_conn, SYSTEM, plan, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    assert summary.customers == 1 and summary.snapshots >= 2
    assert summary.added > 0
    entry = small_conn.execute("SELECT user, action, target, detail FROM audit WHERE action = 'import'").fetchone()
    assert entry["user"] == "system"
    assert "active_user_detail.csv" in entry["detail"] and "5 rows" in entry["detail"]
    assert small_conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == len(ALL_TENANT_FILES) + 1


def test_bundle_directory_joins_the_run(tmp_path):
    from adopt_tui.store import connect

    conn = connect(tmp_path / "b.db")
    plan, summary = run(conn, [SMALL], customer=None, customer_name=None)
    assert summary.files[0].format == "bundle"
    assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 4
    before = dump(conn)
    plan, summary = run(conn, [SMALL], customer=None, customer_name=None)
    assert plan.files[0].already_imported and dump(conn) == before
