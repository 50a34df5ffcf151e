"""Malformed inputs: a clear error naming file, line and column; the database unchanged."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from adopt_tui.auth.permissions import SYSTEM, Principal, Role
from adopt_tui.errors import PermissionDenied
from adopt_tui.importers.api import ImportCancelled, plan_import, run_import
from adopt_tui.importers.fields import MAX_ERRORS, ImportFailed

FIX = Path(__file__).parent / "fixtures" / "import"
ALPHA = "aaaaaaaa-0000-0000-0000-000000000001"
AUD = (FIX / "active_user_detail.csv").read_text(encoding="utf-8-sig").replace("\r\n", "\n")
HEADER, *ROWS = AUD.splitlines()


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def failing(conn, path, customer=ALPHA):
    """Plan and try to run ``path``: it must fail and leave the database as it was."""
    before = list(conn.iterdump())
    plan = plan_import(conn, SYSTEM, [path], customer=customer)
    assert not plan.ok
    with pytest.raises(ImportFailed) as info:
        run_import(conn, SYSTEM, plan)
    assert list(conn.iterdump()) == before
    assert str(path) in str(info.value)
    return plan.errors


def test_wrong_field_count(small_conn, tmp_path):
    bad = ROWS[1].rsplit(",", 1)[0]  # one field short
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, ROWS[0], bad, ROWS[2]]) + "\n"))
    assert len(errors) == 1
    e = errors[0]
    assert (e.file.endswith("aud.csv"), e.line) == (True, 3)
    assert "23 fields, the header has 24" in e.reason


def test_extra_field_is_an_error_not_a_shift(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, ROWS[0] + ",extra"]) + "\n"))
    assert errors[0].line == 2 and "25 fields" in errors[0].reason


def test_unknown_format(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "x.csv", "Name,Colour\nAnn,blue\n"))
    assert errors[0].line == 1 and "unknown format" in errors[0].reason


def test_unknown_json(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "x.json", '{"value": [{"colour": "blue"}]}'))
    assert "unknown JSON format" in errors[0].reason


def test_missing_required_column(small_conn, tmp_path):
    header = HEADER.replace("User Principal Name,", "")
    rows = [",".join(r.split(",")[:1] + r.split(",")[2:]) for r in ROWS]
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([header, *rows]) + "\n"))
    assert [(e.line, e.field, e.reason) for e in errors] == [(1, "User Principal Name", "required column is missing")]


def test_bad_date(small_conn, tmp_path):
    row = ROWS[0].replace("2026-10-30", "30.10.2026")
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, row]) + "\n"))
    assert [(e.line, e.field) for e in errors] == [(2, "Exchange Last Activity Date")]
    assert "'30.10.2026' is not a date" in errors[0].reason


def test_missing_report_date(small_conn, tmp_path):
    row = "," + ROWS[0].split(",", 1)[1]
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, row]) + "\n"))
    assert [(e.line, e.field, e.reason) for e in errors] == [(2, "Report Refresh Date", "a date is required")]


def test_bad_boolean(small_conn, tmp_path):
    fields = ROWS[0].split(",")
    fields[3] = "Maybe"
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, ",".join(fields)]) + "\n"))
    assert [(e.line, e.field) for e in errors] == [(2, "Is Deleted")]
    assert "not a boolean" in errors[0].reason


def test_empty_file(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "empty.csv", ""))
    assert "empty" in errors[0].reason


def test_binary_garbage(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "garbage.csv", bytes(range(256)) * 40))
    assert errors[0].line == 2   # byte 10 ends line 1; byte 128 on line 2 is not UTF-8
    assert "not UTF-8" in errors[0].reason
    errors = failing(small_conn, write(tmp_path, "nul.csv", b"Report Refresh Date\x00\x01\x02,x\n"))
    assert "NUL" in errors[0].reason


def test_invalid_utf8_later_in_the_file(small_conn, tmp_path):
    data = ("\n".join([HEADER, *ROWS]) + "\n").encode() + b"2026-10-31,\xff\xfe@x,,False,,True\n"
    errors = failing(small_conn, write(tmp_path, "aud.csv", data))
    assert errors[0].line == 7 and "not UTF-8" in errors[0].reason


def test_huge_field(small_conn, tmp_path):
    fields = ROWS[0].split(",")
    fields[2] = '"' + "x" * (csv.field_size_limit() + 10) + '"'
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, ROWS[1], ",".join(fields)]) + "\n"))
    assert errors[0].line == 3 and "longer than" in errors[0].reason


def test_bad_json(small_conn, tmp_path):
    errors = failing(small_conn, write(tmp_path, "skus.json", '{"value": [\n  {"skuPartNumber": "X",}\n]}'))
    assert errors[0].line == 2 and "not valid JSON" in errors[0].reason


def test_bad_json_values_name_the_field(small_conn, tmp_path):
    data = json.loads((FIX / "pc_subscriptions.json").read_text())
    data["items"][1]["quantity"] = "many"
    data["items"][2]["status"] = "sleeping"
    errors = failing(small_conn, write(tmp_path, "pc.json", json.dumps(data)))
    assert [(e.field, e.reason.split(" is ")[0]) for e in errors] == [
        ("items[1].quantity", "'many'"), ("items[2].status", "'sleeping'")]


def test_bad_insights_number(small_conn, tmp_path):
    text = (FIX / "insights_o365_usage.tsv").read_text().replace("\t50\t40\t", "\tfifty\t40\t", 1)
    errors = failing(small_conn, write(tmp_path, "usage.tsv", text), customer=None)
    assert [(e.line, e.field) for e in errors] == [(2, "PaidAvailableUnits")]


def test_several_errors_at_once_capped(small_conn, tmp_path):
    bad = [ROWS[0].replace("2026-10-30", f"bad{i}") for i in range(30)]
    errors = failing(small_conn, write(tmp_path, "aud.csv", "\n".join([HEADER, *bad]) + "\n"))
    assert len(errors) == MAX_ERRORS
    plan = plan_import(small_conn, SYSTEM, [tmp_path / "aud.csv"], customer=ALPHA)
    assert plan.more == 30 - MAX_ERRORS
    assert plan.files[0].error_count == 30


def test_errors_in_several_files_and_good_files_write_nothing(small_conn, tmp_path):
    good = FIX / "email_activity.csv"
    bad = write(tmp_path, "x.csv", "Name\nAnn\n")
    before = list(small_conn.iterdump())
    plan = plan_import(small_conn, SYSTEM, [good, bad, tmp_path / "missing.csv"], customer=ALPHA)
    assert [f.ok for f in plan.files] == [True, False, False]
    assert "no such file" in plan.files[2].errors[0].reason
    with pytest.raises(ImportFailed):
        run_import(small_conn, SYSTEM, plan)
    assert list(small_conn.iterdump()) == before


def test_tenant_files_need_a_customer(small_conn):
    plan = plan_import(small_conn, SYSTEM, [FIX / "email_activity.csv"])
    assert not plan.ok and "--customer" in plan.errors[0].reason
    plan = plan_import(small_conn, SYSTEM, [FIX / "email_activity.csv"], customer="no-such-tenant")
    assert not plan.ok and "--customer-name" in plan.errors[0].reason
    plan = plan_import(small_conn, SYSTEM, [FIX / "email_activity.csv"], customer="alpha tools")
    assert plan.ok and plan.files[0].customer.startswith("Alpha Tools")


def test_bad_as_of(small_conn):
    plan = plan_import(small_conn, SYSTEM, [FIX / "email_activity.csv"], customer=ALPHA, as_of="yesterday")
    assert not plan.ok and plan.errors[0].field == "--as-of"


def test_file_changed_after_the_check(small_conn, tmp_path):
    path = write(tmp_path, "email.csv", (FIX / "email_activity.csv").read_text())
    plan = plan_import(small_conn, SYSTEM, [path], customer=ALPHA)
    assert plan.ok
    path.write_text(path.read_text().replace("2026-11-06", "2026-11-05"))
    before = list(small_conn.iterdump())
    with pytest.raises(Exception, match="changed since it was checked"):
        run_import(small_conn, SYSTEM, plan)
    assert list(small_conn.iterdump()) == before


def test_file_changed_after_the_check_with_its_size_and_time_kept(small_conn, tmp_path):
    # the run writes what the check kept without hashing the file again when the file is as the
    # check found it; a rewrite of the same size with its modification time put back still shows
    path = write(tmp_path, "report.csv", (FIX / "active_user_detail.csv").read_text())
    plan = plan_import(small_conn, SYSTEM, [path], customer=ALPHA)
    assert plan.ok
    st = path.stat()
    text = path.read_text()
    path.write_text(text.replace("2026-10-31", "2026-10-30"))
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    before = list(small_conn.iterdump())
    with pytest.raises(Exception, match="changed since it was checked"):
        run_import(small_conn, SYSTEM, plan)
    assert list(small_conn.iterdump()) == before
    path.write_text(text)   # the content checked, written again: hashed again, found equal, imported
    assert run_import(small_conn, SYSTEM, plan).files[0].added == 5
    assert small_conn.execute("SELECT display_name FROM users WHERE upn = 'carl@echo.example'").fetchone()[0] == "Carl Old"


def test_cancel_leaves_the_database_unchanged(small_conn):
    before = list(small_conn.iterdump())
    plan = plan_import(small_conn, SYSTEM, [FIX / "active_user_detail.csv", FIX / "email_activity.csv"], customer=ALPHA)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(ImportCancelled):
        run_import(small_conn, SYSTEM, plan, cancelled=cancelled)
    assert list(small_conn.iterdump()) == before


@pytest.mark.parametrize("role", [Role.USER_ADMIN, Role.SALES_AGENT])
def test_roles_without_import_are_refused(small_conn, role):
    who = Principal("someone", role)
    with pytest.raises(PermissionDenied):
        plan_import(small_conn, who, [FIX / "email_activity.csv"], customer=ALPHA)
    plan = plan_import(small_conn, SYSTEM, [FIX / "email_activity.csv"], customer=ALPHA)
    with pytest.raises(PermissionDenied):
        run_import(small_conn, who, plan)
    assert small_conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == 0
