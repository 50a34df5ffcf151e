"""The CSV bundle loader: all-or-nothing, errors name file, line and field."""

from __future__ import annotations

import shutil

import pytest

from adopt_tui.auth.permissions import SYSTEM, Principal, Role
from adopt_tui.errors import AdoptError, PermissionDenied
from adopt_tui.importers.bundle import load_bundle
from adopt_tui.importers.fields import ImportFailed
from tests.conftest import SMALL


def dump(conn):
    return list(conn.iterdump())


@pytest.fixture
def bundle(tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(SMALL, target)
    return target


def replace_line(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("file, old, new, expected", [
    ("subscriptions.csv", "ENTERPRISEPACK,Office 365 E3,10,active", "ENTERPRISEPACK,Office 365 E3,ten,active",
     "subscriptions.csv, line 2, field 'quantity': 'ten' is not a whole number"),
    ("subscriptions.csv", ",10,active,false,partner", ",10,active,maybe,partner",
     "subscriptions.csv, line 2, field 'is_trial': 'maybe' is not a boolean"),
    ("subscriptions.csv", ",10,active,false,partner", ",10,paused,false,partner",
     "subscriptions.csv, line 2, field 'status': 'paused' is not one of"),
    ("users.csv", "Fay Six,true,2026-10-20", "Fay Six,true,2026-13-45",
     "users.csv, line 7, field 'deleted_date': '2026-13-45' is not a date"),
    ("activity.csv", "a1@alpha.example,exchange,", "a1@alpha.example,exchange,extra,",
     "activity.csv, line 2: 6 fields, the header has 5"),
    ("assignments.csv", "a1@alpha.example,ENTERPRISEPACK,A-S1", "nobody@alpha.example,ENTERPRISEPACK,A-S1",
     "assignments.csv, line 2, field 'upn': unknown user 'nobody@alpha.example'"),
    ("assignments.csv", "a1@alpha.example,ENTERPRISEPACK,A-S1", "a1@alpha.example,ENTERPRISEPACK,A-S9",
     "assignments.csv, line 2, field 'subscription_id': unknown subscription 'A-S9'"),
    ("activity.csv", "a1@alpha.example,exchange,", "a1@alpha.example,email,",
     "activity.csv, line 2, field 'workload': 'email' is not one of"),
])
def test_bad_row_names_file_line_field_and_changes_nothing(small_conn, bundle, file, old, new, expected):
    replace_line(bundle / file, old, new)
    before = dump(small_conn)
    with pytest.raises(ImportFailed) as info:
        load_bundle(small_conn, bundle, SYSTEM)
    assert expected in str(info.value)
    assert dump(small_conn) == before


def test_missing_required_column(small_conn, bundle):
    (bundle / "users.csv").write_text("tenant_id,display_name\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="users.csv, line 1, field 'upn': required column is missing"):
        load_bundle(small_conn, bundle, SYSTEM)


def test_several_errors_reported_at_once_and_capped(small_conn, bundle):
    rows = "".join(f"aaaaaaaa-0000-0000-0000-000000000001,R{i},not-a-date,how-to\n" for i in range(30))
    (bundle / "support_requests.csv").write_text("tenant_id,request_id,date,category\n" + rows, encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        load_bundle(small_conn, bundle, SYSTEM)
    assert len(info.value.errors) == 20 and info.value.more == 10
    assert "and 10 more error(s)" in str(info.value)


def test_empty_file_and_not_utf8(small_conn, bundle):
    (bundle / "users.csv").write_bytes(b"")
    (bundle / "activity.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ImportFailed) as info:
        load_bundle(small_conn, bundle, SYSTEM)
    text = str(info.value)
    assert "users.csv, line 1: the file is empty" in text
    assert "activity.csv: not UTF-8" in text


def test_bom_and_crlf_are_fine(tmp_path, small_conn, bundle):
    path = bundle / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    load_bundle(small_conn, bundle, SYSTEM)  # no error


def test_reload_is_idempotent(small_conn):
    before = [tuple(r) for r in small_conn.execute("SELECT * FROM fig_customer ORDER BY 1, 2, 3")]
    load_bundle(small_conn, SMALL, SYSTEM, audit_action=False)
    after = [tuple(r) for r in small_conn.execute("SELECT * FROM fig_customer ORDER BY 1, 2, 3")]
    assert before == after
    assert small_conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 18


def test_unknown_sku_is_kept_with_a_warning(small_conn, bundle):
    replace_line(bundle / "subscriptions.csv", "D-S1,EXCHANGESTANDARD", "D-S1,NEW_SKU_2027")
    result = load_bundle(small_conn, bundle, SYSTEM)
    assert any("NEW_SKU_2027" in w for w in result.warnings)
    assert small_conn.execute("SELECT name, known FROM products WHERE sku = 'NEW_SKU_2027'").fetchone()[:] == ("NEW_SKU_2027", 0)


def test_not_a_bundle(small_conn, tmp_path):
    with pytest.raises(AdoptError, match="no bundle files"):
        load_bundle(small_conn, tmp_path, SYSTEM)
    with pytest.raises(AdoptError, match="not a directory"):
        load_bundle(small_conn, tmp_path / "nope", SYSTEM)


def test_load_needs_import_permission_and_is_audited(small_conn):
    with pytest.raises(PermissionDenied):
        load_bundle(small_conn, SMALL, Principal("maria", Role.SALES_AGENT))
    assert small_conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'forbidden' AND user = 'maria'").fetchone()[0] == 1
    load_bundle(small_conn, SMALL, Principal("agent", Role.ADMIN_AGENT))
    row = small_conn.execute("SELECT detail FROM audit WHERE action = 'import' AND user = 'agent'").fetchone()
    assert "users.csv 18 rows" in row[0]
