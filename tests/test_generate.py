"""The portfolio generator: deterministic, consistent, refuses real data; its CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path

import pytest

from adopt_tui.errors import AdoptError
from adopt_tui.generate import GRAPH_ACTIVE_USER_DETAIL, generate, write_graph_csv
from adopt_tui.store import connect

TABLES = ("customers", "customer_agents", "subscriptions", "users", "assignments", "activity",
          "support_requests", "fig_product", "fig_workload", "fig_customer")

FORMATS_MD = Path(__file__).resolve().parents[2] / "shared" / "formats.md"


def _digest(conn, table: str) -> tuple[int, str]:
    n = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
    order = ", ".join(str(i) for i in range(1, min(n, 4) + 1))
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    return len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()


def _build(path: Path, customers: int = 30, seed: int = 7, **kwargs):
    conn = connect(path)
    stats = generate(conn, customers, seed, **kwargs)
    return conn, stats


def test_same_seed_same_portfolio(tmp_path):
    a, sa = _build(tmp_path / "a.db")
    b, sb = _build(tmp_path / "b.db")
    c, _ = _build(tmp_path / "c.db", seed=8)
    for table in TABLES:
        assert _digest(a, table) == _digest(b, table), table
    assert _digest(a, "users") != _digest(c, "users")
    assert (sa.customers, sa.users, sa.activity) == (sb.customers, sb.users, sb.activity)
    assert sa.customers == 30 and sa.users == _digest(a, "users")[0]


def test_consistent_rows(tmp_path):
    conn, stats = _build(tmp_path / "g.db", customers=40, seed=3)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the build's pragmas are undone
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # every index of the schema is there again
    query = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    names = {r[0] for r in conn.execute(query)}
    schema = {r[0] for r in connect(":memory:").execute(query)}
    assert {"subscriptions_customer", "customers_name"} <= schema == names
    sizes = [r[0] for r in conn.execute("SELECT COUNT(*) FROM users GROUP BY customer_id")]
    assert len(sizes) == 40 and min(sizes) >= 5 and max(sizes) <= 5000
    # upns unique per customer (the schema says so too), dates ISO
    assert conn.execute("SELECT COUNT(*) FROM activity_rows WHERE last_activity > report_date").fetchone()[0] == 0
    assert conn.execute(
        "SELECT COUNT(*) FROM assignments a JOIN users u ON u.id = a.user_id "
        "WHERE a.subscription_id IS NOT NULL AND a.subscription_id NOT IN "
        "(SELECT id FROM subscriptions s WHERE s.customer_id = u.customer_id)"
    ).fetchone()[0] == 0
    dates = [r[0] for r in conn.execute("SELECT DISTINCT as_of FROM fig_customer ORDER BY 1")]
    assert len(dates) == 12 and dates[-1] == "2026-10-31"
    assert stats.snapshots == 40


def test_direct_history_equals_store_imported_figures(tmp_path):
    """The bulk-written history is exactly what store_imported_figures writes."""
    a, sa = _build(tmp_path / "a.db", seed=11, history="direct")
    b, sb = _build(tmp_path / "b.db", seed=11, history="store")
    for table in ("fig_product", "fig_workload", "fig_customer"):
        assert _digest(a, table) == _digest(b, table), table
    assert sa.history_snapshots == sb.history_snapshots > 0


def test_more_user_level_months(tmp_path):
    conn, _ = _build(tmp_path / "g.db", customers=15, user_level_months=3)
    rows = dict(conn.execute("SELECT as_of, MIN(source) FROM fig_customer GROUP BY as_of").fetchall())
    assert len(rows) == 12
    assert [rows[d] for d in ("2026-08-31", "2026-09-30", "2026-10-31")] == ["computed"] * 3
    assert rows["2026-07-31"] == "imported"
    assert conn.execute("SELECT COUNT(DISTINCT report_date) FROM activity").fetchone()[0] == 3


def test_refuses_a_database_with_customers(demo_conn):
    before = demo_conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    with pytest.raises(AdoptError, match="already holds customer data"):
        generate(demo_conn, 5)
    assert demo_conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == before


def test_graph_csv(tmp_path):
    conn, stats = _build(tmp_path / "g.db", customers=12)
    counts = write_graph_csv(conn, tmp_path / "graph")
    path = tmp_path / "graph" / "office365_active_user_detail.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert ",".join(rows[0]) == GRAPH_ACTIVE_USER_DETAIL
    if FORMATS_MD.exists():
        assert GRAPH_ACTIVE_USER_DETAIL in FORMATS_MD.read_text(encoding="utf-8")
    assert len(rows) - 1 == stats.users == counts["office365_active_user_detail.csv"]
    head = rows[0]
    assert {r[head.index("Is Deleted")] for r in rows[1:]} <= {"True", "False"}
    assert all(r[0] == "2026-10-31" for r in rows[1:])
    # activity for the same user and workload shows up
    upn, last = conn.execute(
        "SELECT u.upn, a.last_activity FROM activity_rows a JOIN users u ON u.id = a.user_id "
        "WHERE a.workload = 'exchange' ORDER BY u.id LIMIT 1").fetchone()
    row = next(r for r in rows[1:] if r[1] == upn)
    assert row[head.index("Exchange Last Activity Date")] == last
    assert row[head.index("Has Exchange License")] in ("True", "False")
    tenants = list(csv.DictReader((tmp_path / "graph" / "tenants.csv").open(encoding="utf-8")))
    assert len(tenants) == 12 and set(tenants[0]) == {"tenant_id", "name", "domain"}


# --------------------------------------------------------------------------- the command


@pytest.fixture
def cli(monkeypatch, capsys):
    """cli(args..., stdin=...) -> (exit code, stdout, stderr), in this process."""
    from adopt_tui.cli import main

    def run(*args: str, stdin: str = ""):
        monkeypatch.delenv("ADOPT_TUI_PASSWORD", raising=False)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_new_database_needs_no_login(tmp_path, cli):
    db = tmp_path / "new.db"
    code, out, err = cli("generate", "--db", str(db), "--customers", "8", "--seed", "2",
                         "--graph-csv", str(tmp_path / "g"))
    assert code == 0, err
    fields = out.strip().split("\t")
    assert fields[0] == "generated" and fields[1] == "8"
    assert "users:" in err and "recompute:" in err
    assert (tmp_path / "g" / "office365_active_user_detail.csv").exists()
    # a second run refuses: the database holds customers now
    code, out, err = cli("generate", "--db", str(db), "--customers", "8")
    assert code == 1 and "already holds customer data" in err


def test_cli_database_with_accounts_needs_an_importer(tmp_path, cli):
    from adopt_tui.auth.accounts import DEMO_ACCOUNTS, create_demo_accounts

    db = tmp_path / "accounts.db"
    conn = connect(db)
    create_demo_accounts(conn)
    conn.close()
    passwords = {name: pw for name, _, _, pw in DEMO_ACCOUNTS}
    assert cli("generate", "--db", str(db), "--customers", "5")[0] == 4  # no login
    code, _, err = cli("generate", "--db", str(db), "--customers", "5", "--user", "maria", "--password-stdin",
                       stdin=passwords["maria"] + "\n")
    assert code == 3, err
    code, _, err = cli("generate", "--db", str(db), "--customers", "5", "--quiet", "--user", "admin",
                       "--password-stdin", stdin=passwords["admin"] + "\n")
    assert code == 0, err
    assert err == ""
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 5
    assert conn.execute("SELECT user FROM audit WHERE action = 'generate'").fetchone()[0] == "admin"
    conn.close()
