"""The role matrix of domain.md, checked on every path: core entry points, command
line commands and the administration screens each role is offered.

| role                  | customers | import | export | users | audit | settings |
|-----------------------|-----------|--------|--------|-------|-------|----------|
| Global admin          | all       | yes    | yes    | yes   | yes   | yes      |
| User management admin | all       | no     | no     | yes   | yes   | no       |
| Admin agent           | all       | yes    | yes    | no    | no    | no       |
| Sales agent           | assigned  | no     | theirs | no    | no    | no       |
"""

from __future__ import annotations

import csv

import pytest

from adopt_tui.auth import accounts, audit
from adopt_tui.cli import main
from adopt_tui.cli.common import EXIT_FORBIDDEN
from adopt_tui.errors import PermissionDenied
from adopt_tui.exporters import run_export
from adopt_tui.importers.api import plan_import
from adopt_tui.importers.bundle import load_bundle
from adopt_tui.metrics import read
from adopt_tui.services.settings import change_settings
from tests.conftest import FIXTURES, SMALL

PASSWORDS = {
    "admin": "admin-demo-password", "useradmin": "useradmin-demo-password",
    "agent": "agent-demo-password", "maria": "maria-demo-password",
}
ROLES = list(PASSWORDS)
ALL_CUSTOMERS = ["Alpha Tools", "Bravo Bakery", "Cedar Clinics", "Delta Dairy"]
MARIAS = ["Alpha Tools", "Cedar Clinics"]

# what each role may do (True) or is refused (False)
MATRIX = {
    #            import  export  users  audit  settings
    "admin":     (True,  True,   True,  True,  True),
    "useradmin": (False, False,  True,  True,  False),
    "agent":     (True,  True,   False, False, False),
    "maria":     (False, True,   False, False, False),
}
IMPORT_FILE = FIXTURES / "import" / "insights_o365_usage.tsv"


def allowed(role: str, what: str) -> bool:
    return MATRIX[role][("import", "export", "users", "audit", "settings").index(what)]


def core_calls(conn, principal, tmp_path):
    return {
        "import": lambda: plan_import(conn, principal, [IMPORT_FILE]),
        "export": lambda: run_export(conn, principal, kind="deployment", fmt="csv", out_path=tmp_path / "d.csv"),
        "users": lambda: accounts.list_accounts(conn, principal),
        "audit": lambda: audit.list_entries(conn, principal),
        "settings": lambda: change_settings(conn, principal, {"upsell_usage_pct": 81}),
    }


@pytest.mark.parametrize("role", ROLES)
def test_core_entry_points(small_conn, tmp_path, role):
    principal = accounts.login(small_conn, role, PASSWORDS[role])
    expected_names = MARIAS if role == "maria" else ALL_CUSTOMERS
    # customers: in the list, the portfolio, the JSON document, one by one
    assert sorted(read.customer_table(small_conn, principal).name) == expected_names
    assert read.portfolio(small_conn, principal).totals["customers"] == len(expected_names)
    assert [c["name"] for c in read.metrics_document(small_conn, principal)["customers"]] == expected_names
    assert sorted(c.name for c in read.visible_customers(small_conn, principal)) == expected_names
    delta = small_conn.execute("SELECT id FROM customers WHERE name = 'Delta Dairy'").fetchone()[0]
    if role == "maria":
        with pytest.raises(Exception, match="no customer"):
            read.customer_figures(small_conn, principal, delta)
    else:
        assert read.customer_figures(small_conn, principal, delta).customer.name == "Delta Dairy"
    # the rights of the table
    for what, call in core_calls(small_conn, principal, tmp_path).items():
        refused_before = small_conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'forbidden'").fetchone()[0]
        if allowed(role, what):
            call()
        else:
            with pytest.raises(PermissionDenied):
                call()
            refused_after = small_conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'forbidden'").fetchone()[0]
            assert refused_after == refused_before + 1, f"{role} refused {what} without an audit row"
    if allowed(role, "export"):
        with open(tmp_path / "d.csv", encoding="utf-8-sig") as fh:
            assert sorted({row["customerName"] for row in csv.DictReader(fh)}) == expected_names
    if allowed(role, "import"):
        load_bundle(small_conn, SMALL, principal)
    else:
        with pytest.raises(PermissionDenied):
            load_bundle(small_conn, SMALL, principal)


@pytest.mark.parametrize("role", ROLES)
def test_command_line(small_db, tmp_path, monkeypatch, capsys, role):
    monkeypatch.setenv("ADOPT_TUI_PASSWORD", PASSWORDS[role])
    db = ["--db", str(small_db), "--user", role]
    commands = {
        "import": ["import", *db, "--dry-run", str(IMPORT_FILE)],
        "export": ["export", *db, "--kind", "usage", "--format", "csv", "--out", str(tmp_path / "u.csv")],
        "users": ["users", "list", *db],
        "audit": ["audit", *db],
    }
    for what, argv in commands.items():
        code = main(argv)
        expected = 0 if allowed(role, what) else EXIT_FORBIDDEN
        assert code == expected, f"{role}: {' '.join(argv[:2])} gave {code}: {capsys.readouterr().err}"
    assert main(["load", *db, str(SMALL)]) == (0 if allowed(role, "import") else EXIT_FORBIDDEN)
    capsys.readouterr()
    assert main(["metrics", *db, "--format", "csv"]) == 0
    names = {line.split(",")[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert sorted(names) == (MARIAS if role == "maria" else ALL_CUSTOMERS)


@pytest.mark.parametrize("role", ROLES)
def test_administration_screens_offered(small_conn, role):
    from adopt_tui.tui.app import AdoptApp

    app = AdoptApp.__new__(AdoptApp)  # the entries depend on the principal only; no terminal needed
    app.principal = accounts.login(small_conn, role, PASSWORDS[role])
    keys = {e.key for e in AdoptApp.admin_entries(app)}
    assert ("users" in keys) == allowed(role, "users")
    assert ("audit" in keys) == allowed(role, "audit")
    assert ("settings" in keys) == allowed(role, "settings")
    assert ("import" in keys) == allowed(role, "import")
    assert "password" in keys or any("password" in k for k in keys)  # everyone may change their password
