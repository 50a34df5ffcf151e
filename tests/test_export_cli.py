"""``adopt-tui export`` end to end: login, files, exit codes, messages."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from adopt_tui.auth.accounts import DEMO_ACCOUNTS
from adopt_tui.cli import main
from adopt_tui.cli.common import EXIT_ERROR, EXIT_FORBIDDEN, EXIT_LOGIN, EXIT_USAGE
from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.metrics import read
from adopt_tui.store import connect

from .conftest import AS_OF, TENANT_A, TENANT_B, TENANT_C

PASSWORDS = {name: password for name, _role, _display, password in DEMO_ACCOUNTS}


@pytest.fixture
def out(tmp_path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def run(small_db, monkeypatch, capsys):
    """run(user, args...) -> (exit code, stdout, stderr), password from --password-stdin."""

    def _run(user: str, *args: str, password: str | None = None):
        monkeypatch.delenv("ADOPT_TUI_PASSWORD", raising=False)
        monkeypatch.setattr(sys, "stdin", io.StringIO((password or PASSWORDS[user]) + "\n"))
        capsys.readouterr()
        code = main(["export", "--db", str(small_db), "--user", user, "--password-stdin", *args])
        stdout, stderr = capsys.readouterr()
        return code, stdout, stderr

    return _run


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_deployment_csv(run, out, small_db):
    target = out / "deployment.csv"
    code, stdout, stderr = run("admin", "--kind", "deployment", "--format", "csv", "--out", str(target))
    assert code == 0, stderr
    rows = _rows(target)
    assert stdout.strip() == f"Exported {len(rows)} rows to {target}"
    e3 = [r for r in rows if r["customerTenantId"] == TENANT_A and r["sku"] == "ENTERPRISEPACK"][0]
    assert (e3["licensesSold"], e3["licensesDeployed"], e3["deploymentPercent"], e3["asOf"]) == ("10", "4", "40.0", AS_OF)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    conn = connect(small_db)
    try:
        audit = conn.execute("SELECT user, target, detail FROM audit WHERE action = 'export'").fetchall()
    finally:
        conn.close()
    assert [(a[0], a[1]) for a in audit] == [("admin", str(target))]
    assert f"rows={len(rows)}" in audit[0][2] and "kind=deployment" in audit[0][2]


def test_export_refuses_to_overwrite_without_force(run, out):
    target = out / "usage.xlsx"
    target.write_bytes(b"old")
    code, stdout, stderr = run("agent", "--kind", "usage", "--format", "xlsx", "--out", str(target))
    assert code == EXIT_ERROR and "already exists" in stderr and "--force" in stderr
    assert target.read_bytes() == b"old" and stdout == ""
    code, stdout, stderr = run("agent", "--kind", "usage", "--format", "xlsx", "--out", str(target), "--force")
    assert code == 0, stderr
    ws = openpyxl.load_workbook(target).worksheets[0]
    assert ws.title == "Usage" and ws["A1"].value == "customerTenantId"


def test_export_one_customer_by_name_and_scope(run, out):
    target = out / "alpha.csv"
    code, _, stderr = run("maria", "--kind", "deployment", "--format", "csv", "--out", str(target),
                          "--customer", "alpha tools", "--scope", "own")
    assert code == 0, stderr
    rows = _rows(target)
    assert {r["customerTenantId"] for r in rows} == {TENANT_A} and {r["scope"] for r in rows} == {"own"}
    sold = sum(int(r["licensesSold"]) for r in rows)
    deployed = sum(int(r["licensesDeployed"]) for r in rows)
    assert round(100 * deployed / sold, 1) == 41.7


def test_sales_agent_cannot_reach_another_agents_customer(run, out):
    target = out / "bravo.csv"
    code, _, stderr = run("maria", "--kind", "users", "--format", "csv", "--out", str(target),
                          "--customer", TENANT_B)
    assert code == EXIT_ERROR and "no customer" in stderr and not target.exists()
    code, _, stderr = run("maria", "--kind", "deployment", "--format", "csv", "--out", str(target))
    assert code == 0
    assert {r["customerTenantId"] for r in _rows(target)} == {TENANT_A, TENANT_C}


def test_user_admin_is_refused(run, out):
    target = out / "x.csv"
    code, stdout, stderr = run("useradmin", "--kind", "deployment", "--format", "csv", "--out", str(target))
    assert code == EXIT_FORBIDDEN and "may not export" in stderr and not target.exists()


def test_wrong_password(run, out):
    code, _, _ = run("admin", "--kind", "usage", "--format", "csv", "--out", str(out / "x.csv"), password="nope")
    assert code == EXIT_LOGIN and not (out / "x.csv").exists()


def test_users_json_and_portfolio(run, out, small_db):
    code, _, stderr = run("agent", "--kind", "users", "--format", "json", "--out", str(out / "u.json"),
                          "--customer", TENANT_A)
    assert code == 0, stderr
    doc = json.loads((out / "u.json").read_text())
    assert doc["customer"]["tenant_id"] == TENANT_A and doc["users"]
    code, _, stderr = run("agent", "--kind", "portfolio", "--format", "json", "--out", str(out / "p.json"))
    assert code == 0, stderr
    conn = connect(small_db)
    try:
        expected = read.metrics_document(conn, SYSTEM)["portfolio"]
    finally:
        conn.close()
    assert json.loads((out / "p.json").read_text())["portfolio"] == json.loads(json.dumps(expected))


def test_bad_destination_and_arguments(run, out):
    code, _, stderr = run("admin", "--kind", "usage", "--format", "csv", "--out", str(out / "missing" / "x.csv"))
    assert code == EXIT_ERROR and "does not exist" in stderr
    code, _, stderr = run("admin", "--kind", "usage", "--format", "csv", "--out", str(out))
    assert code == EXIT_ERROR and "is a directory" in stderr
    code, _, stderr = run("admin", "--kind", "users", "--format", "csv", "--out", str(out / "u.csv"))
    assert code == EXIT_ERROR and "--customer" in stderr
    code, _, stderr = run("admin", "--kind", "usage", "--format", "csv", "--out", str(out / "u.csv"),
                          "--as-of", "yesterday")
    assert code == EXIT_ERROR and "not a date" in stderr
    with pytest.raises(SystemExit) as info:
        run("admin", "--kind", "usage", "--format", "ods", "--out", str(out / "u.ods"))
    assert info.value.code == EXIT_USAGE
    assert list(out.iterdir()) == []


def test_bom_flag(run, out):
    code, _, stderr = run("admin", "--kind", "usage", "--format", "csv", "--out", str(out / "b.csv"), "--bom")
    assert code == 0, stderr
    assert (out / "b.csv").read_bytes().startswith(b"\xef\xbb\xbfcustomerTenantId,")


def test_export_as_a_subprocess(small_db, out):
    """A separate process, password on stdin."""
    target = out / "usage.csv"
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from adopt_tui.cli import main; sys.exit(main())", "export", "--db", str(small_db), "--user", "admin",
         "--password-stdin", "--kind", "usage", "--format", "csv", "--out", str(target)],
        input=PASSWORDS["admin"] + "\n", capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Exported ") and target.exists()
