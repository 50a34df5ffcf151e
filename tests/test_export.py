"""Export (issue 6): every file read back and compared with the metrics service's figures."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from adopt_tui import exporters
from adopt_tui.auth.permissions import SYSTEM, Principal, Role
from adopt_tui.errors import NotFound, PermissionDenied
from adopt_tui.exporters import (
    ExportCancelled, ExportError, FileExists, check_destination, default_filename, run_export,
)
from adopt_tui.exporters import rows as rowsets
from adopt_tui.exporters.atomic import TEMP_PREFIX
from adopt_tui.metrics import read
from adopt_tui.metrics.rules import pct, round1

from .conftest import AS_OF, TENANT_A, TENANT_B, TENANT_C, TENANT_D

ADMIN = Principal("admin", Role.GLOBAL_ADMIN)
AGENT = Principal("agent", Role.ADMIN_AGENT)
MARIA = Principal("maria", Role.SALES_AGENT)
USERADMIN = Principal("useradmin", Role.USER_ADMIN)

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tTab Co", "\rCR Co", "\nLF Co"]


@pytest.fixture
def out(tmp_path) -> Path:
    """An empty directory for the exported files (the test database lives next to it)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


def _export(conn, out, kind, fmt, principal=ADMIN, name=None, **kw):
    out = out / (name or f"{kind}.{fmt}")
    return run_export(conn, principal, kind=kind, fmt=fmt, out_path=out, **kw)


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _xlsx_rows(path: Path) -> tuple[list[str], list[dict], openpyxl.worksheet.worksheet.Worksheet]:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    header = list(values[0])
    return header, [dict(zip(header, r)) for r in values[1:]], ws


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.startswith(TEMP_PREFIX) or p.name.startswith("tmp")]


def _unquote(text):
    return text[1:] if isinstance(text, str) and text.startswith("'") else text


def _ooxml(text):
    """Undo the OOXML ``_xHHHH_`` escape of control characters (XlsxWriter writes a CR as
    ``_x000D_``, as Excel does; Excel reads it back as a CR, openpyxl leaves it)."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text) if isinstance(text, str) else text


def _assert_no_formulas(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)


# --------------------------------------------------------------------------- API basics


def test_default_filename():
    assert default_filename("usage", "xlsx", "2026-10-31") == "adopt-tui-usage-2026-10-31.xlsx"
    assert default_filename("deployment", "csv", None) == "adopt-tui-deployment-latest.csv"


def test_check_destination(out):
    assert check_destination(out / "out.csv") is None
    assert "is a directory" in check_destination(out)
    assert "does not exist" in check_destination(out / "missing" / "out.csv")
    assert check_destination("") == "no file name given"
    (out / "existing.csv").write_text("x")
    assert check_destination(out / "existing.csv") is None  # existing files: FileExists at export time
    locked = out / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root may write anyway
            assert "not writable" in check_destination(locked / "out.csv")
    finally:
        locked.chmod(0o700)


def test_bad_destination_is_a_readable_error(small_conn, out):
    with pytest.raises(ExportError, match="does not exist"):
        run_export(small_conn, ADMIN, kind="deployment", fmt="csv", out_path=out / "no" / "x.csv")
    with pytest.raises(ExportError, match="is a directory"):
        run_export(small_conn, ADMIN, kind="deployment", fmt="csv", out_path=out)


def test_bad_arguments_are_readable_errors(small_conn, out):
    with pytest.raises(ExportError, match="unknown export kind"):
        _export(small_conn, out, "subscriptions", "csv")
    with pytest.raises(ExportError, match="unknown export format"):
        _export(small_conn, out, "usage", "ods")
    with pytest.raises(ExportError, match="scope"):
        _export(small_conn, out, "usage", "csv", scope="mine")
    with pytest.raises(ExportError, match="not a date"):
        _export(small_conn, out, "usage", "csv", as_of="31.10.2026")
    with pytest.raises(ExportError, match="one customer"):
        _export(small_conn, out, "users", "csv")
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- deployment


def test_deployment_csv_matches_the_metrics_service(small_conn, out):
    result = _export(small_conn, out, "deployment", "csv")
    rows = _csv_rows(result.path)
    assert list(rows[0]) == [c.name for c in rowsets.DEPLOYMENT_COLUMNS]
    assert result.rows == len(rows) and result.kind == "deployment" and result.fmt == "csv"
    alpha_e3 = [r for r in rows if r["customerName"] == "Alpha Tools" and r["sku"] == "ENTERPRISEPACK"]
    assert alpha_e3 == [{
        "customerTenantId": TENANT_A, "customerName": "Alpha Tools", "productName": "Office 365 E3",
        "sku": "ENTERPRISEPACK", "licensesSold": "10", "licensesDeployed": "4", "deploymentPercent": "40.0",
        "scope": "all", "asOf": AS_OF,
    }]
    # every row is one product of the JSON contract, and the other way round
    doc = read.metrics_document(small_conn, ADMIN, "all", AS_OF)
    expected = [
        (c["tenant_id"], c["name"], p["name"], p["sku"], str(p["sold"]), str(p["assigned"]),
         "" if p["deployment_pct"] is None else str(p["deployment_pct"]), "all", c["as_of"])
        for c in doc["customers"] for p in c["products"]
    ]
    assert [tuple(r.values()) for r in rows] == expected
    # and each customer's figures agree with customer_figures
    for cust in read.visible_customers(small_conn, ADMIN):
        figures = read.customer_figures(small_conn, ADMIN, cust.id, "all", AS_OF)
        mine = {r["sku"]: r for r in rows if r["customerTenantId"] == cust.tenant_id}
        assert set(mine) == {p.sku for p in figures.products}
        for p in figures.products:
            assert int(mine[p.sku]["licensesSold"]) == p.sold
            assert int(mine[p.sku]["licensesDeployed"]) == p.assigned
            assert mine[p.sku]["deploymentPercent"] == ("" if p.deployment_pct is None else str(round1(p.deployment_pct)))


def test_deployment_own_scope(small_conn, out):
    result = _export(small_conn, out, "deployment", "csv", scope="own")
    df = pd.read_csv(result.path)
    assert set(df.scope) == {"own"}
    alpha = df[df.customerName == "Alpha Tools"]
    assert "EXCHANGESTANDARD" not in set(alpha.sku)  # bought directly from Microsoft: not own
    total = round1(pct(alpha.licensesDeployed.sum(), alpha.licensesSold.sum()))
    assert total == 41.7
    assert total == round1(read.customer_figures(small_conn, ADMIN, 1, "own", AS_OF).deployment_pct)


def test_deployment_as_of_an_older_date(small_conn, out):
    result = _export(small_conn, out, "deployment", "csv", as_of="2026-08-31")
    rows = _csv_rows(result.path)
    assert rows and all(r["asOf"] <= "2026-08-31" for r in rows)
    alpha = [r for r in rows if r["customerTenantId"] == TENANT_A and r["sku"] == "ENTERPRISEPACK"][0]
    assert (alpha["licensesSold"], alpha["licensesDeployed"], alpha["deploymentPercent"]) == ("10", "3", "30.0")


def test_deployment_xlsx(small_conn, out):
    result = _export(small_conn, out, "deployment", "xlsx")
    header, rows, ws = _xlsx_rows(result.path)
    assert ws.title == "Deployment"
    assert header == [c.name for c in rowsets.DEPLOYMENT_COLUMNS]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 36 and ws.column_dimensions["B"].width >= 30
    assert result.rows == len(rows)
    e3 = [r for r in rows if r["customerName"] == "Alpha Tools" and r["sku"] == "ENTERPRISEPACK"][0]
    assert (e3["licensesSold"], e3["licensesDeployed"]) == (10, 4)
    assert e3["deploymentPercent"] == pytest.approx(0.4)
    assert e3["asOf"] == datetime(2026, 10, 31)  # a real date in Excel (text in CSV)
    assert ws.cell(row=2, column=header.index("asOf") + 1).number_format == "yyyy-mm-dd"
    pct_col = header.index("deploymentPercent") + 1
    for row in ws.iter_rows(min_row=2, min_col=pct_col, max_col=pct_col):
        cell = row[0]
        if cell.value is not None:
            assert cell.number_format == "0.0%" and cell.data_type == "n"
    # not available (0 sold) is an empty cell, never 0 %
    trial = [r for r in rows if r["sku"] == "EXCHANGEENTERPRISE"][0]
    assert trial["licensesSold"] == 0 and trial["deploymentPercent"] is None
    # the same rows as the CSV export
    csv_rows = _csv_rows(_export(small_conn, out, "deployment", "csv").path)
    assert [(r["customerTenantId"], r["sku"]) for r in rows] == [(r["customerTenantId"], r["sku"]) for r in csv_rows]
    for x, c in zip(rows, csv_rows):
        if c["deploymentPercent"]:
            assert round(x["deploymentPercent"] * 100, 1) == float(c["deploymentPercent"])


def test_deployment_and_usage_json_are_the_metrics_contract(small_conn, out):
    doc = read.metrics_document(small_conn, ADMIN, "all", AS_OF)
    for kind in ("deployment", "usage"):
        result = _export(small_conn, out, kind, "json")
        assert json.loads(result.path.read_text(encoding="utf-8")) == json.loads(json.dumps(doc))
    assert _export(small_conn, out, "deployment", "json", name="d2.json").rows == \
        sum(len(c["products"]) for c in doc["customers"])
    own = read.metrics_document(small_conn, ADMIN, "own", AS_OF, [1, 3])
    result = _export(small_conn, out, "usage", "json", name="own.json", scope="own", customer_ids=[1, 3])
    assert json.loads(result.path.read_text(encoding="utf-8")) == json.loads(json.dumps(own))


# --------------------------------------------------------------------------- usage


def test_usage_csv_matches_the_metrics_service(small_conn, out):
    result = _export(small_conn, out, "usage", "csv")
    df = pd.read_csv(result.path, dtype={"explanationCodes": str, "recommendationCodes": str},
                     keep_default_na=False, na_values=[""])
    assert list(df.columns) == [c.name for c in rowsets.USAGE_COLUMNS]
    assert result.rows == len(df)
    doc = read.metrics_document(small_conn, ADMIN, "all", AS_OF)
    expected = {}
    for c in doc["customers"]:
        codes = ";".join(r["code"] for r in c["recommendations"])
        for w in c["workloads"]:
            expected[(c["tenant_id"], w["workload"])] = (
                w["entitled"], w["active"], w["usage_pct"], w["adjusted_usage_pct"],
                ";".join(e["code"] for e in w["explanations"]), codes, c["as_of"],
            )
    got = {}
    for r in df.itertuples(index=False):
        got[(r.customerTenantId, r.workloadCode)] = (
            r.licensesQualified, r.licensesActive, None if pd.isna(r.usagePercent) else r.usagePercent,
            None if pd.isna(r.adjustedUsagePercent) else r.adjustedUsagePercent,
            "" if pd.isna(r.explanationCodes) else r.explanationCodes,
            "" if pd.isna(r.recommendationCodes) else r.recommendationCodes, r.asOf,
        )
    assert got == expected
    ex = df[(df.customerName == "Alpha Tools") & (df.workloadCode == "exchange")].iloc[0]
    assert ex.workloadName == "Exchange"
    assert (ex.licensesQualified, ex.licensesActive, ex.usagePercent, ex.adjustedUsagePercent) == (3, 7, 233.3, 100.0)
    assert ex.explanationCodes == "turnover;inactive_duplicate_subscription;trial"
    assert ex.recommendationCodes == "low_adoption;right_size"
    sp = df[(df.customerName == "Alpha Tools") & (df.workloadCode == "sharepoint")].iloc[0]
    assert sp.workloadName == "SharePoint (incl. OneDrive)"
    # a denominator of 0 is not available: empty, never 0
    bravo = df[df.customerTenantId == TENANT_B].iloc[0]
    assert bravo.licensesQualified == 0 and pd.isna(bravo.usagePercent) and pd.isna(bravo.adjustedUsagePercent)


def test_usage_xlsx(small_conn, out):
    result = _export(small_conn, out, "usage", "xlsx")
    header, rows, ws = _xlsx_rows(result.path)
    assert ws.title == "Usage" and ws.freeze_panes == "A2"
    assert header == [c.name for c in rowsets.USAGE_COLUMNS]
    ex = [r for r in rows if r["customerTenantId"] == TENANT_A and r["workloadCode"] == "exchange"][0]
    assert ex["usagePercent"] == pytest.approx(7 / 3) and ex["adjustedUsagePercent"] == pytest.approx(1.0)
    assert ex["licensesQualified"] == 3 and ex["licensesActive"] == 7
    for col in ("usagePercent", "adjustedUsagePercent"):
        idx = header.index(col) + 1
        formats = {row[0].number_format for row in ws.iter_rows(min_row=2, min_col=idx, max_col=idx)
                   if row[0].value is not None}
        assert formats == {"0.0%"}
    _assert_no_formulas(result.path)


# --------------------------------------------------------------------------- users of one customer


def _user_sums(path: Path) -> tuple[dict, dict]:
    df = pd.read_csv(path, keep_default_na=False)
    ent, act = {}, {}
    for col in df.columns:
        if col.startswith("active_"):
            code = col.removeprefix("active_")
            act[code] = int((df[col] == True).sum())  # noqa: E712 (pandas reads true/false as bool)
            ent[code] = int(df.entitledWorkloads.map(lambda s, c=code: c in s.split(";")).sum())
    return ent, act


@pytest.mark.parametrize("scope", ["all", "own"])
def test_users_export_sums_to_the_workload_figures(small_conn, out, scope):
    for cust in read.visible_customers(small_conn, ADMIN):
        figures = read.customer_figures(small_conn, ADMIN, cust.id, scope, AS_OF)
        result = _export(small_conn, out, "users", "csv", customer_id=cust.id, scope=scope,
                         name=f"users-{cust.id}-{scope}.csv")
        ent, act = _user_sums(result.path)
        for w in figures.workloads:
            assert ent.get(w.workload, 0) == w.entitled, (cust.name, scope, w.workload)
            assert act.get(w.workload, 0) == w.active, (cust.name, scope, w.workload)
        n_users = small_conn.execute("SELECT COUNT(*) FROM users WHERE customer_id = ?", (cust.id,)).fetchone()[0]
        assert result.rows == n_users


def test_users_export_columns(small_conn, out):
    result = _export(small_conn, out, "users", "csv", customer_id=1)
    rows = _csv_rows(result.path)
    header = list(rows[0])
    assert header[:4] == ["userPrincipalName", "displayName", "isDeleted", "entitledWorkloads"]
    assert header[4:6] == ["lastActivity_exchange", "active_exchange"]
    assert header[-2:] == ["scope", "asOf"]
    a1 = [r for r in rows if r["userPrincipalName"] == "a1@alpha.example"][0]
    assert a1["displayName"] == "Ann One" and a1["isDeleted"] == "false"
    assert a1["lastActivity_exchange"] == "2026-10-04" and a1["active_exchange"] == "true"
    assert a1["lastActivity_sharepoint"] == "2026-10-03" and a1["active_sharepoint"] == "false"  # outside 28 days
    assert "exchange" in a1["entitledWorkloads"].split(";")
    a6 = [r for r in rows if r["userPrincipalName"] == "a6@alpha.example"][0]
    assert a6["isDeleted"] == "true" and a6["entitledWorkloads"] == "" and a6["active_exchange"] == "true"
    # XLSX: booleans are booleans
    header_x, xrows, ws = _xlsx_rows(_export(small_conn, out, "users", "xlsx", customer_id=1).path)
    assert ws.title == "Users" and ws.freeze_panes == "A2"
    xa1 = [r for r in xrows if r["userPrincipalName"] == "a1@alpha.example"][0]
    assert xa1["isDeleted"] is False and xa1["active_exchange"] is True
    assert xa1["lastActivity_exchange"] == datetime(2026, 10, 4) and xa1["lastActivity_teams"] is None
    # JSON
    doc = json.loads(_export(small_conn, out, "users", "json", customer_id=1).path.read_text())
    assert doc["customer"] == {"tenant_id": TENANT_A, "name": "Alpha Tools"}
    assert doc["as_of"] == AS_OF and doc["scope"] == "all"
    ja1 = [u for u in doc["users"] if u["upn"] == "a1@alpha.example"][0]
    assert ja1["workloads"]["exchange"] == {"last_activity": "2026-10-04", "active": True}
    assert ja1["is_deleted"] is False and "exchange" in ja1["entitled_workloads"]


def test_users_export_needs_user_level_data(small_conn, out):
    # 2026-08-31 comes from figures_history (aggregates): no users behind those figures
    with pytest.raises(ExportError, match="imported as totals"):
        _export(small_conn, out, "users", "csv", customer_id=1, as_of="2026-08-31")
    with pytest.raises(ExportError, match="no figures on or before"):
        _export(small_conn, out, "users", "csv", customer_id=1, as_of="2020-01-01")
    assert list(out.iterdir()) == []


def test_users_export_of_a_customer_not_visible_is_refused(small_conn, out):
    with pytest.raises(NotFound):
        _export(small_conn, out, "users", "csv", principal=MARIA, customer_id=2)  # Bravo: tomas's
    assert list(out.iterdir()) == []


def test_users_export_sums_on_the_demo_portfolio(demo_conn, out):
    ids = [r[0] for r in demo_conn.execute(
        "SELECT DISTINCT u.customer_id FROM users u ORDER BY u.customer_id LIMIT 12")]
    for cid in ids:
        for scope in ("all", "own"):
            figures = read.customer_figures(demo_conn, ADMIN, cid, scope)
            if figures.as_of is None:
                continue
            result = _export(demo_conn, out, "users", "csv", customer_id=cid, scope=scope,
                             name=f"u-{cid}-{scope}.csv", force=True)
            ent, act = _user_sums(result.path)
            for w in figures.workloads:
                assert ent.get(w.workload, 0) == w.entitled, (cid, scope, w.workload)
                assert act.get(w.workload, 0) == w.active, (cid, scope, w.workload)


# --------------------------------------------------------------------------- portfolio


def test_portfolio_exports(small_conn, out):
    doc = read.metrics_document(small_conn, ADMIN, "all", AS_OF)["portfolio"]
    j = json.loads(_export(small_conn, out, "portfolio", "json").path.read_text())
    assert j == {"as_of": AS_OF, "scope": "all", "portfolio": json.loads(json.dumps(doc))}
    rows = {r["metric"]: r for r in _csv_rows(_export(small_conn, out, "portfolio", "csv").path)}
    assert rows["customers"]["value"] == str(doc["customers"])
    assert rows["licensesSold"]["value"] == str(doc["sold"])
    assert rows["licensesDeployed"]["value"] == str(doc["assigned"])
    assert rows["deploymentPercent"]["value"] == str(doc["deployment_pct"])
    assert rows["usagePercent"]["value"] == str(doc["usage_pct"])
    assert rows["adjustedUsagePercent"]["value"] == str(doc["adjusted_usage_pct"])
    assert rows["customersLowAdoption"]["value"] == str(doc["low_adoption"])
    for band, n in doc["bands"].items():
        assert rows[f"usageBand_{band}"]["value"] == str(n)
    assert {r["scope"] for r in rows.values()} == {"all"} and {r["asOf"] for r in rows.values()} == {AS_OF}
    header, xrows, ws = _xlsx_rows(_export(small_conn, out, "portfolio", "xlsx").path)
    assert ws.title == "Portfolio" and header == ["metric", "value", "scope", "asOf"]
    x = {r["metric"]: r["value"] for r in xrows}
    assert x["licensesSold"] == doc["sold"]
    assert x["deploymentPercent"] == pytest.approx(doc["deployment_pct"] / 100, abs=0.0005)
    cell = [row[1] for row in ws.iter_rows(min_row=2) if row[0].value == "usagePercent"][0]
    assert cell.number_format == "0.0%"


def test_portfolio_of_a_filter(small_conn, out):
    doc = read.metrics_document(small_conn, ADMIN, "own", AS_OF, [1, 2])["portfolio"]
    j = json.loads(_export(small_conn, out, "portfolio", "json", scope="own", customer_ids=[1, 2]).path.read_text())
    assert j["portfolio"] == json.loads(json.dumps(doc)) and j["portfolio"]["customers"] == 2


def test_json_export_of_one_customer_without_right_size(small_conn, out):
    _export(small_conn, out, "deployment", "json", customer_id=3)


# --------------------------------------------------------------------------- formula injection


@pytest.fixture
def injected(small_conn):
    """Customers (and a user) named like formulas; returns {tenant id: literal name}."""
    names = {}
    for i, name in enumerate(INJECTIONS):
        tenant = f"99999999-0000-0000-0000-{i:012d}"
        small_conn.execute("INSERT INTO customers(tenant_id, name) VALUES (?, ?)", (tenant, name))
        names[tenant] = name
    # give them figures: copy Alpha Tools' snapshot
    for tenant in names:
        cid = small_conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (tenant,)).fetchone()[0]
        for table in ("fig_customer", "fig_product", "fig_workload"):
            cols = [r[1] for r in small_conn.execute(f"PRAGMA table_info({table})")]
            rest = ", ".join(c for c in cols if c != "customer_id")
            small_conn.execute(
                f"INSERT INTO {table}(customer_id, {rest}) SELECT ?, {rest} FROM {table} WHERE customer_id = 1",
                (cid,),
            )
    small_conn.execute("UPDATE customers SET name = ? WHERE tenant_id = ?", ("-2", TENANT_D))
    names[TENANT_D] = "-2"
    small_conn.execute("UPDATE users SET display_name = '=1+2' WHERE upn = 'a1@alpha.example'")
    small_conn.execute("UPDATE users SET display_name = '@cmd' WHERE upn = 'a2@alpha.example'")
    return names


@pytest.mark.parametrize("kind", ["deployment", "usage"])
def test_formula_names_come_back_as_literal_text_in_csv(small_conn, out, injected, kind):
    result = _export(small_conn, out, kind, "csv")
    raw = result.path.read_bytes()
    with open(result.path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen = {}
    for r in rows:
        if r["customerTenantId"] in injected:
            # the file never holds a cell starting with a dangerous character
            assert r["customerName"].startswith("'")
            seen[r["customerTenantId"]] = _unquote(r["customerName"])
    assert seen == injected
    df = pd.read_csv(result.path, keep_default_na=False)
    for tenant, name in injected.items():
        got = df[df.customerTenantId == tenant].customerName
        assert len(got) and set(got.map(_unquote)) == {name}
    # numbers stay numbers
    num = "licensesSold" if kind == "deployment" else "licensesActive"
    assert pd.api.types.is_integer_dtype(df[num])
    assert b"\r\n" in raw and raw.count(b"\r\n") >= len(rows) + 1


@pytest.mark.parametrize("kind", ["deployment", "usage"])
def test_formula_names_come_back_as_literal_text_in_xlsx(small_conn, out, injected, kind):
    result = _export(small_conn, out, kind, "xlsx")
    _assert_no_formulas(result.path)
    header, rows, ws = _xlsx_rows(result.path)
    seen = {}
    for r in rows:
        if r["customerTenantId"] in injected:
            assert isinstance(r["customerName"], str) and r["customerName"].startswith("'")
            seen[r["customerTenantId"]] = _ooxml(_unquote(r["customerName"]))
    assert seen == injected
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type in ("s", "n", "b", "d"), (cell.coordinate, cell.data_type)
            if header[cell.column - 1] in ("licensesSold", "licensesDeployed", "licensesQualified", "licensesActive"):
                assert cell.data_type == "n"


def test_formula_names_in_the_users_export(small_conn, out, injected):
    rows = _csv_rows(_export(small_conn, out, "users", "csv", customer_id=1).path)
    names = {r["userPrincipalName"]: r["displayName"] for r in rows}
    assert names["a1@alpha.example"] == "'=1+2" and names["a2@alpha.example"] == "'@cmd"
    xlsx = _export(small_conn, out, "users", "xlsx", customer_id=1).path
    _assert_no_formulas(xlsx)
    _, xrows, _ = _xlsx_rows(xlsx)
    assert {r["userPrincipalName"]: _unquote(r["displayName"]) for r in xrows}["a1@alpha.example"] == "=1+2"


def test_the_demo_formula_customer_is_neutralised(demo_conn, out):
    name = '=HYPERLINK("http://x","y")'
    cid = demo_conn.execute("SELECT id FROM customers WHERE name = ?", (name,)).fetchone()
    if cid is None:
        pytest.skip("the demo portfolio has no formula-named customer")
    for fmt in ("csv", "xlsx"):
        result = _export(demo_conn, out, "deployment", fmt, customer_ids=[cid[0]])
        if fmt == "csv":
            values = {r["customerName"] for r in _csv_rows(result.path)}
        else:
            _assert_no_formulas(result.path)
            values = {r["customerName"] for r in _xlsx_rows(result.path)[1]}
        assert values <= {"'" + name}


# --------------------------------------------------------------------------- files: atomic, overwrite, mode


def test_files_are_owner_only(small_conn, out):
    old = os.umask(0o022)
    try:
        for fmt in ("csv", "xlsx", "json"):
            result = _export(small_conn, out, "usage", fmt)
            assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_overwrite_refused_without_force(small_conn, out):
    target = out / "usage.csv"
    target.write_text("old content\n")
    target.chmod(0o644)
    with pytest.raises(FileExists) as info:
        _export(small_conn, out, "usage", "csv")
    assert info.value.path == target and "--force" in str(info.value)
    assert target.read_text() == "old content\n"
    assert _no_temp_files(out)
    result = _export(small_conn, out, "usage", "csv", force=True)
    assert result.path == target and target.read_text().startswith("customerTenantId,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_interrupted_write_leaves_old_file_and_no_temp_file(small_conn, out, monkeypatch, fmt):
    target = out / f"deployment.{fmt}"
    target.write_bytes(b"the old export")
    real_stream = rowsets._stream

    def failing_stream(conn, sql, params):
        for i, batch in enumerate(real_stream(conn, sql, params)):
            yield batch
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(rowsets, "BATCH_ROWS", 2)
    monkeypatch.setattr(rowsets, "_stream", failing_stream)
    with pytest.raises(ExportError, match="No space left"):
        _export(small_conn, out, "deployment", fmt, force=True)
    assert target.read_bytes() == b"the old export"
    assert sorted(p.name for p in out.iterdir()) == [target.name]
    # nothing audited for a failed export
    assert small_conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'export'").fetchone()[0] == 0


def test_writer_exception_mid_way_leaves_no_file(small_conn, out, monkeypatch):
    from adopt_tui.exporters import writers

    calls = []

    def boom(batch, *a):
        calls.append(1)
        raise RuntimeError("writer crashed")

    monkeypatch.setattr(writers, "csv_lines", lambda columns, safe: boom)
    with pytest.raises(RuntimeError, match="writer crashed"):
        _export(small_conn, out, "usage", "csv")
    assert calls and list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_cancel_leaves_nothing(small_conn, out, monkeypatch, fmt):
    monkeypatch.setattr(rowsets, "BATCH_ROWS", 2)
    seen = []
    target = out / f"usage.{fmt}"
    target.write_text("keep me")

    def progress(done, total):
        seen.append((done, total))

    with pytest.raises(ExportCancelled, match="cancelled"):
        run_export(small_conn, ADMIN, kind="usage", fmt=fmt, out_path=target, force=True,
                   progress=progress, cancelled=lambda: len(seen) >= 1)
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == [target.name]


def test_cancel_before_start(small_conn, out):
    with pytest.raises(ExportCancelled):
        _export(small_conn, out, "deployment", "csv", cancelled=lambda: True)
    assert list(out.iterdir()) == []


def test_progress_reports_rows(small_conn, out, monkeypatch):
    monkeypatch.setattr(rowsets, "BATCH_ROWS", 4)
    seen = []
    result = _export(small_conn, out, "usage", "xlsx", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (result.rows, result.rows)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 3 and all(t == result.rows for _, t in seen)


def test_bom_option(small_conn, out):
    plain = _export(small_conn, out, "deployment", "csv").path.read_bytes()
    bom = _export(small_conn, out, "deployment", "csv", name="bom.csv", bom=True).path.read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf") and bom == b"\xef\xbb\xbf" + plain
    df = pd.read_csv(out / "bom.csv", encoding="utf-8-sig")
    assert df.columns[0] == "customerTenantId"


def test_rfc4180_quoting(small_conn, out):
    small_conn.execute("UPDATE customers SET name = ? WHERE id = 1", ('Alpha, "Tools"\nLtd',))
    result = _export(small_conn, out, "deployment", "csv")
    raw = result.path.read_bytes().decode("utf-8")
    assert '"Alpha, ""Tools""\nLtd"' in raw
    rows = _csv_rows(result.path)
    assert {r["customerName"] for r in rows if r["customerTenantId"] == TENANT_A} == {'Alpha, "Tools"\nLtd'}


# --------------------------------------------------------------------------- who may export what


def _tenants(path: Path, fmt: str, kind: str) -> set[str]:
    if fmt == "csv":
        return {r["customerTenantId"] for r in _csv_rows(path)}
    if fmt == "xlsx":
        return {r["customerTenantId"] for r in _xlsx_rows(path)[1]}
    return {c["tenant_id"] for c in json.loads(path.read_text())["customers"]}


@pytest.mark.parametrize("kind", ["deployment", "usage"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_sales_agent_exports_only_their_customers(small_conn, out, kind, fmt):
    # the fixture assigns maria to Alpha Tools and Cedar Clinics; add Delta Dairy
    small_conn.execute("INSERT INTO customer_agents(customer_id, agent) VALUES (4, 'maria')")
    result = _export(small_conn, out, kind, fmt, principal=MARIA)
    assert _tenants(result.path, fmt, kind) == {TENANT_A, TENANT_C, TENANT_D}
    # asking for everyone (a filter with other agents' customers) still gives only hers
    result = _export(small_conn, out, kind, fmt, principal=MARIA, customer_ids=[1, 2, 3, 4], name=f"f.{fmt}")
    assert _tenants(result.path, fmt, kind) == {TENANT_A, TENANT_C, TENANT_D}


def test_sales_agent_scope_elsewhere(small_conn, out):
    small_conn.execute("INSERT INTO customer_agents(customer_id, agent) VALUES (4, 'sam')")
    sam = Principal("sam", Role.SALES_AGENT)
    result = _export(small_conn, out, "deployment", "csv", principal=sam)
    assert {r["customerTenantId"] for r in _csv_rows(result.path)} == {TENANT_D}
    result = _export(small_conn, out, "portfolio", "json", principal=MARIA)
    assert json.loads(result.path.read_text())["portfolio"]["customers"] == 2
    for customer_id in (2, 4):  # tomas's, sam's
        with pytest.raises(NotFound):
            _export(small_conn, out, "deployment", "csv", principal=MARIA, customer_id=customer_id, name="x.csv")
        with pytest.raises(NotFound):
            _export(small_conn, out, "users", "csv", principal=MARIA, customer_id=customer_id, name="x.csv")
    assert not (out / "x.csv").exists()


def test_filtered_export(small_conn, out):
    result = _export(small_conn, out, "deployment", "csv", customer_ids=[3, 4])
    assert {r["customerTenantId"] for r in _csv_rows(result.path)} == {TENANT_C, TENANT_D}
    result = _export(small_conn, out, "usage", "csv", customer_ids=[], name="none.csv")
    assert result.rows == 0 and _csv_rows(result.path) == []
    result = _export(small_conn, out, "usage", "csv", customer_id=1, name="one.csv")
    assert {r["customerTenantId"] for r in _csv_rows(result.path)} == {TENANT_A}


def test_user_admin_may_not_export_and_the_refusal_is_audited(small_conn, out):
    with pytest.raises(PermissionDenied, match="may not export"):
        _export(small_conn, out, "deployment", "csv", principal=USERADMIN)
    assert list(out.iterdir()) == []
    row = small_conn.execute(
        "SELECT user, action, target FROM audit WHERE action = 'forbidden' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert tuple(row) == ("useradmin", "forbidden", "export")


def test_must_change_password_may_not_export(small_conn, out):
    with pytest.raises(PermissionDenied):
        _export(small_conn, out, "deployment", "csv",
                principal=Principal("admin", Role.GLOBAL_ADMIN, must_change_password=True))


def test_each_export_is_audited(small_conn, out):
    result = _export(small_conn, out, "usage", "xlsx", principal=AGENT, scope="own", customer_ids=[1, 3])
    row = small_conn.execute(
        "SELECT user, action, target, detail FROM audit WHERE action = 'export' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row["user"] == "agent" and row["target"] == str(result.path)
    for part in ("kind=usage", "format=xlsx", "scope=own", f"rows={result.rows}", f"as_of={AS_OF}"):
        assert part in row["detail"]
    _export(small_conn, out, "users", "csv", customer_id=1)
    detail = small_conn.execute("SELECT detail FROM audit WHERE action = 'export' ORDER BY id DESC").fetchone()[0]
    assert f"customer={TENANT_A}" in detail and "kind=users" in detail


def test_system_principal_sees_all(small_conn, out):
    result = _export(small_conn, out, "deployment", "csv", principal=SYSTEM)
    assert {r["customerTenantId"] for r in _csv_rows(result.path)} == {TENANT_A, TENANT_B, TENANT_C, TENANT_D}


def test_package_exports_the_api():
    for name in ("run_export", "check_destination", "default_filename", "ExportResult", "FileExists",
                 "ExportCancelled", "ExportError", "KINDS", "FORMATS"):
        assert hasattr(exporters, name)
    assert exporters.KINDS == ("deployment", "usage", "users", "portfolio")
    assert exporters.FORMATS == ("csv", "xlsx", "json")


def test_relative_path_is_resolved_and_audited_absolute(small_conn, out, monkeypatch):
    monkeypatch.chdir(out)
    result = run_export(small_conn, ADMIN, kind="deployment", fmt="csv", out_path="rel.csv")
    assert result.path == out / "rel.csv" and result.path.is_absolute() and result.path.exists()
    target = small_conn.execute("SELECT target FROM audit WHERE action = 'export'").fetchone()[0]
    assert target == str(out / "rel.csv")


def test_demo_portfolio_exports_match_the_json_contract(demo_conn, out):
    """On the richer demo data: every deployment and usage row equals the metrics document."""
    doc = read.metrics_document(demo_conn, ADMIN, "all")
    dep = _csv_rows(_export(demo_conn, out, "deployment", "csv").path)
    assert [(r["customerTenantId"], r["sku"], r["licensesSold"], r["licensesDeployed"], r["deploymentPercent"])
            for r in dep] == [
        (c["tenant_id"], p["sku"], str(p["sold"]), str(p["assigned"]),
         "" if p["deployment_pct"] is None else str(p["deployment_pct"]))
        for c in doc["customers"] for p in c["products"]
    ]
    use = _csv_rows(_export(demo_conn, out, "usage", "csv").path)
    expected = {
        (c["tenant_id"], w["workload"]): (str(w["entitled"]), str(w["active"]),
                                          "" if w["usage_pct"] is None else str(w["usage_pct"]),
                                          "" if w["adjusted_usage_pct"] is None else str(w["adjusted_usage_pct"]))
        for c in doc["customers"] for w in c["workloads"]
    }
    got = {(r["customerTenantId"], r["workloadCode"]): (r["licensesQualified"], r["licensesActive"],
                                                       r["usagePercent"], r["adjustedUsagePercent"]) for r in use}
    assert got == expected and len(use) == len(expected)
    # within a customer: Office 365 workloads first, then the Dynamics 365 apps, each by code
    by_customer: dict[str, list[str]] = {}
    for r in use:
        by_customer.setdefault(r["customerTenantId"], []).append(r["workloadCode"])
    assert any(any(c.startswith("dyn_") for c in codes) for codes in by_customer.values())
    for codes in by_customer.values():
        assert codes == sorted(codes, key=lambda c: (c.startswith("dyn_"), c))


def test_json_export_is_the_metrics_document_text(small_conn, tmp_path):
    """Deployment and usage JSON: the metrics document as json.dumps indents it, streamed from the
    figure cache; its row count is the products or workloads in it."""
    live = read.metrics_document(small_conn, SYSTEM, cache=False)
    out = run_export(small_conn, SYSTEM, kind="usage", fmt="json", out_path=tmp_path / "u.json")
    assert out.path.read_text(encoding="utf-8") == json.dumps(live, ensure_ascii=False, indent=2) + "\n"
    assert out.rows == sum(len(c["workloads"]) for c in live["customers"])
    out = run_export(small_conn, MARIA, kind="deployment", fmt="json", out_path=tmp_path / "d.json")
    mine = read.metrics_document(small_conn, MARIA, cache=False)
    assert json.loads(out.path.read_text(encoding="utf-8")) == mine
    assert out.rows == sum(len(c["products"]) for c in mine["customers"])
