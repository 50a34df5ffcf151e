"""`adopt-tui import` end to end, signed in with the demo accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from adopt_tui.cli import main
from adopt_tui.store import connect

FIX = Path(__file__).parent / "fixtures" / "import"
ECHO = "eeeeeeee-0000-0000-0000-000000000005"


@pytest.fixture
def agent(monkeypatch):
    monkeypatch.setenv("ADOPT_TUI_PASSWORD", "agent-demo-password")
    return ["--user", "agent"]


def dump(db):
    """The database without the audit log and the accounts (signing in records the login)."""
    conn = connect(db)
    try:
        return [line for line in conn.iterdump()
                if not line.startswith(('INSERT INTO "audit"', 'INSERT INTO "accounts"'))]
    finally:
        conn.close()


def test_import_prints_each_file_then_the_summary(small_db, agent, capsys):
    code = main(["import", "--db", str(small_db), *agent, "--customer", ECHO, "--customer-name", "Echo Energy",
                 str(FIX / "active_user_detail.csv"), str(FIX / "pc_subscriptions.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"active_user_detail.csv: Office 365 active user detail (Graph), customer new: Echo Energy ({ECHO}), " \
           "5 rows, as of 2026-10-31" in out
    assert "pc_subscriptions.json: Partner Center subscriptions (this partner's own, JSON)" in out
    assert "active_user_detail.csv: 5 users added, 0 updated" in out
    assert "figures refreshed for 1 customer(s)" in out
    conn = connect(small_db)
    assert conn.execute("SELECT COUNT(*) FROM users u JOIN customers c ON c.id = u.customer_id "
                        "WHERE c.tenant_id = ?", (ECHO,)).fetchone()[0] == 5
    audit = conn.execute("SELECT user, detail FROM audit WHERE action = 'import'").fetchone()
    assert audit[0] == "agent" and "pc_subscriptions.json" in audit[1]
    conn.close()

    before = dump(small_db)
    code = main(["import", "--db", str(small_db), *agent, "--customer", "Echo Energy",
                 str(FIX / "active_user_detail.csv")])
    assert code == 0
    assert "already imported, nothing changed" in capsys.readouterr().out
    assert dump(small_db) == before


def test_errors_exit_non_zero_and_change_nothing(small_db, agent, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    text = (FIX / "email_activity.csv").read_text()
    bad.write_text(text.replace("2026-11-06", "06/31/2026x").replace(",12,40,38,", ",12,40,"))
    before = dump(small_db)
    code = main(["import", "--db", str(small_db), *agent, "--customer", "Alpha Tools",
                 str(FIX / "m365_apps.csv"), str(bad)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{bad}, line 2: 10 fields, the header has 11" in captured.err
    assert "nothing was imported" in captured.err
    assert dump(small_db) == before


def test_dry_run_writes_nothing(small_db, agent, capsys):
    before = dump(small_db)
    code = main(["import", "--db", str(small_db), *agent, "--dry-run", str(FIX / "insights_o365_usage.tsv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Insights: Office 365 license usage" in out and "2 customer(s) (1 new)" in out
    assert "Dry run: 7 rows checked" in out
    assert dump(small_db) == before


def test_sales_agent_may_not_import(small_db, monkeypatch, capsys):
    monkeypatch.setenv("ADOPT_TUI_PASSWORD", "maria-demo-password")
    code = main(["import", "--db", str(small_db), "--user", "maria", str(FIX / "pc_customers.json")])
    assert code == 3
    assert "may not import" in capsys.readouterr().err


def test_password_on_stdin(small_db, monkeypatch, capsys):
    import io

    monkeypatch.delenv("ADOPT_TUI_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("admin-demo-password\n"))
    code = main(["import", "--db", str(small_db), "--user", "admin", "--password-stdin", str(FIX / "pc_customers.json")])
    assert code == 0, capsys.readouterr()
