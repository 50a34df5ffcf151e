"""The core commands end to end through adopt_tui.cli.main."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest

from adopt_tui.cli import build_parser, main, plain_start
from adopt_tui.cli.common import EXIT_ERROR, EXIT_FORBIDDEN, EXIT_LOGIN
from adopt_tui.store import connect
from tests.conftest import SMALL


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
    return feed


def as_user(monkeypatch, password):
    monkeypatch.setenv("ADOPT_TUI_PASSWORD", password)


def test_init_creates_private_db_and_first_admin(tmp_path, stdin, capsys):
    db = tmp_path / "a.db"
    stdin("a-long-admin-password\n")
    assert main(["init", "--db", str(db), "--admin", "root", "--password-stdin"]) == 0
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert "Created Global admin 'root'" in capsys.readouterr().out
    hashed = connect(db).execute("SELECT password_hash FROM accounts WHERE username = 'root'").fetchone()[0]
    assert hashed.startswith("$argon2id$")
    stdin("another-long-password\n")
    assert main(["init", "--db", str(db), "--admin", "second", "--password-stdin"]) == EXIT_ERROR


def test_load_then_metrics_json(tmp_path, stdin, monkeypatch, capsys):
    db = tmp_path / "b.db"
    stdin("a-long-admin-password\n")
    main(["init", "--db", str(db), "--admin", "root", "--password-stdin"])
    as_user(monkeypatch, "a-long-admin-password")
    assert main(["load", "--db", str(db), "--user", "root", str(SMALL)]) == 0
    assert "users.csv: 18 rows" in capsys.readouterr().out
    assert main(["metrics", "--db", str(db), "--user", "root", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["as_of"] == "2026-10-31" and doc["scope"] == "all"
    assert doc["portfolio"]["deployment_pct"] == 54.5  # 12 of 22
    alpha = next(c for c in doc["customers"] if c["name"] == "Alpha Tools")
    assert next(p for p in alpha["products"] if p["sku"] == "ENTERPRISEPACK")["deployment_pct"] == 40.0


def test_metrics_table_one_customer_own_scope(small_db, monkeypatch, capsys):
    as_user(monkeypatch, "admin-demo-password")
    assert main(["metrics", "--db", str(small_db), "--user", "admin", "--customer", "alpha tools", "--scope", "own"]) == 0
    out = capsys.readouterr().out
    assert "scope: own licenses" in out and "41.7 %" in out
    assert "200.0 %!" in out  # Exchange in own scope, marked as over 100 %
    assert "Consider:" in out and "Try:" in out


def test_metrics_csv_and_sales_agent_view(small_db, monkeypatch, capsys):
    as_user(monkeypatch, "maria-demo-password")
    assert main(["metrics", "--db", str(small_db), "--user", "maria", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = {line.split(",")[1] for line in lines[1:]}
    assert names == {"Alpha Tools", "Cedar Clinics"}
    assert main(["metrics", "--db", str(small_db), "--user", "maria", "--customer", "Delta Dairy"]) == EXIT_ERROR
    assert "no customer 'Delta Dairy'" in capsys.readouterr().err


def test_metrics_needs_login(small_db, monkeypatch, capsys):
    monkeypatch.delenv("ADOPT_TUI_PASSWORD", raising=False)
    assert main(["metrics", "--db", str(small_db)]) == EXIT_LOGIN
    as_user(monkeypatch, "wrong-password-here")
    assert main(["metrics", "--db", str(small_db), "--user", "admin"]) == EXIT_LOGIN
    assert "Login failed" in capsys.readouterr().err


def test_load_refused_for_sales_agent(small_db, monkeypatch, capsys):
    as_user(monkeypatch, "maria-demo-password")
    assert main(["load", "--db", str(small_db), "--user", "maria", str(SMALL)]) == EXIT_FORBIDDEN
    assert "may not load data" in capsys.readouterr().err


def test_load_bad_bundle_reports_and_fails(small_db, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "customers.csv").write_text("tenant_id,name\nt-9,\n", encoding="utf-8")
    as_user(monkeypatch, "admin-demo-password")
    assert main(["load", "--db", str(small_db), "--user", "admin", str(bad)]) == EXIT_ERROR
    assert "customers.csv, line 2, field 'name': a value is required" in capsys.readouterr().err


def test_missing_database_is_a_clear_error(tmp_path, monkeypatch, capsys):
    as_user(monkeypatch, "whatever-password")
    assert main(["metrics", "--db", str(tmp_path / "none.db"), "--user", "x"]) == EXIT_ERROR
    assert "no such database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("argv", [[], ["--db", "some.db"], ["--db=some.db"], ["--db", "metrics"]])
def test_plain_start_is_parsed_as_the_whole_parser_parses_it(argv):
    assert plain_start(argv)
    assert vars(build_parser(commands=False).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["metrics"], ["--help"], ["--version"], ["--db"], ["--db", "--help"], ["--db", "x.db", "metrics"], ["demo"],
    ["metrcs"],
])
def test_anything_else_gets_the_whole_parser(argv):
    assert not plain_start(argv)


def test_starting_the_tui_loads_no_command_module(tmp_path):
    """``adopt-tui --db PATH`` does not build the subcommands' parsers, and still fails clearly."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from adopt_tui.cli import main\n"
        f"rc = main(['--db', {str(tmp_path / 'none.db')!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('adopt_tui.cli.') and m != 'adopt_tui.cli.common')\n"
        "print(rc, loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "1 ['adopt_tui.cli.core']", done.stdout + done.stderr
    assert "none.db: no database yet" in done.stderr


def test_bad_as_of_is_a_usage_error(small_db, capsys):
    with pytest.raises(SystemExit) as info:
        main(["metrics", "--db", str(small_db), "--as-of", "31/10/2026"])
    assert info.value.code == 2


def test_demo_builds_without_overwriting(tmp_path, capsys):
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db), "--no-tui"]) == 0
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] >= 50
    assert {r[0] for r in conn.execute("SELECT role FROM accounts")} == {
        "global_admin", "user_admin", "admin_agent", "sales_agent",
    }
    conn.close()
    assert main(["demo", "--db", str(db), "--no-tui"]) == EXIT_ERROR
    assert "never overwrites" in capsys.readouterr().err


def test_whole_portfolio_metrics_json_needs_no_pandas(small_db):
    """The whole portfolio's ``metrics --format json`` comes from the figure cache, without pandas,
    and is exactly what json.dumps writes for the document computed from the figures."""
    import subprocess
    import sys

    from adopt_tui.auth.permissions import SYSTEM
    from adopt_tui.metrics import read

    code = (
        "import sys\n"
        "from adopt_tui.cli import main\n"
        f"rc = main(['metrics', '--db', {str(small_db)!r}, '--user', 'admin', '--format', 'json'])\n"
        "sys.stdout.flush()\n"
        "sys.exit(3 if 'pandas' in sys.modules else rc)\n"
    )
    env = dict(os.environ, ADOPT_TUI_PASSWORD="admin-demo-password")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    conn = connect(small_db)
    try:
        live = read.metrics_document(conn, SYSTEM, cache=False)
        assert result.stdout == json.dumps(live, ensure_ascii=False) + "\n"
    finally:
        conn.close()
