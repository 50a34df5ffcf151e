"""Facts about the demo bundle's CSV files themselves (data/demo, written by scripts/make_demo.py)."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from adopt_tui.catalogue import WORKLOADS, data_dir, load_catalogue

REPO = Path(__file__).resolve().parents[1]
DEMO = data_dir() / "demo"
FILES = ["customers.csv", "subscriptions.csv", "users.csv", "assignments.csv", "activity.csv",
         "support_requests.csv", "figures_history.csv"]
AS_OF = ["2025-11-30", "2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31",
         "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31"]
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HEX32 = re.compile(r"[0-9a-f]{32}")


@lru_cache(maxsize=1)
def _generator():
    spec = importlib.util.spec_from_file_location("adopt_demo_make_demo", REPO / "scripts" / "make_demo.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def t() -> dict[str, list[dict]]:
    out = {}
    for name in FILES:
        with (DEMO / name).open(encoding="utf-8", newline="") as fh:
            out[name] = list(csv.DictReader(fh))
    return out


def _unique(rows, *cols):
    keys = Counter(tuple(r[c] for c in cols) for r in rows)
    dupes = [k for k, n in keys.items() if n > 1]
    assert not dupes, dupes[:5]


def test_regenerating_reproduces_the_files(tmp_path):
    gen = _generator()
    assert gen.main(["--out", str(tmp_path), "--no-check", "--quiet"]) == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name


def test_showcases_hold_by_the_generators_own_rules():
    gen = _generator()
    demo = gen.Demo()
    demo.build()
    assert gen.check_showcases(demo, verbose=False) == []


def test_headers_and_size():
    gen = _generator()
    total = 0
    for name in FILES:
        raw = (DEMO / name).read_bytes()
        total += len(raw)
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in raw
        assert raw.decode("utf-8").split("\n", 1)[0] == ",".join(gen.FILES[name])
    assert total < 6_000_000


def test_ids_unique(t):
    _unique(t["customers.csv"], "tenant_id")
    _unique(t["customers.csv"], "name")
    _unique(t["subscriptions.csv"], "tenant_id", "subscription_id")
    _unique(t["users.csv"], "tenant_id", "upn")
    _unique(t["assignments.csv"], "tenant_id", "upn", "sku", "subscription_id")
    _unique(t["activity.csv"], "tenant_id", "upn", "workload", "report_date")
    _unique(t["support_requests.csv"], "tenant_id", "request_id")
    _unique(t["figures_history.csv"], "tenant_id", "as_of", "scope", "kind", "key")
    for r in t["customers.csv"]:
        assert GUID.fullmatch(r["tenant_id"])
    for r in t["subscriptions.csv"]:
        assert GUID.fullmatch(r["subscription_id"])


def test_references_resolve(t):
    gen = _generator()
    tenants = {r["tenant_id"] for r in t["customers.csv"]}
    for name in FILES[1:]:
        assert {r["tenant_id"] for r in t[name]} <= tenants, name
    users = {(r["tenant_id"], r["upn"]) for r in t["users.csv"]}
    subs = {(r["tenant_id"], r["subscription_id"]): r["sku"] for r in t["subscriptions.csv"]}
    for r in t["assignments.csv"]:
        assert (r["tenant_id"], r["upn"]) in users, r
        if r["subscription_id"]:
            assert subs[(r["tenant_id"], r["subscription_id"])] == r["sku"], r
    for r in t["activity.csv"]:
        assert (r["tenant_id"], r["upn"]) in users, r
    cat = load_catalogue()
    skus = {r["sku"] for r in t["subscriptions.csv"]} | {r["sku"] for r in t["assignments.csv"]}
    skus |= {r["key"] for r in t["figures_history.csv"] if r["kind"] == "product"}
    unknown = skus - set(cat)
    assert unknown == gen.DELIBERATELY_UNKNOWN
    assert {cat[s]["family"] for s in skus - unknown} >= {"Office 365", "Microsoft 365", "Dynamics 365"}


def test_vocabularies_and_dates(t):
    for r in t["customers.csv"]:
        assert r["market"] in {"NL", "DE", "JP", "CN", "GB", "US"}
        assert r["segment"] in {"Small and medium business", "Corporate", "Enterprise"}
        assert set(filter(None, r["sales_agents"].split(";"))) <= {"maria", "tomas", "yuki"}
    for r in t["subscriptions.csv"]:
        assert r["status"] in {"active", "grace", "disabled", "deprovisioned"}
        assert r["channel"] in {"partner", "other_partner", "direct"}
        assert r["is_trial"] in {"true", "false"} and r["auto_renew"] in {"true", "false"}
        assert r["billing_cycle"] in {"monthly", "annual", ""}
        assert int(r["quantity"]) > 0
        assert DATE.fullmatch(r["start_date"])
        assert r["commitment_end"] == "" or DATE.fullmatch(r["commitment_end"])
        if r["channel"] != "partner":
            assert r["commitment_end"] == r["billing_cycle"] == "" and r["auto_renew"] == "false"
    for r in t["users.csv"]:
        assert r["is_deleted"] in {"true", "false"}
        assert (r["is_deleted"] == "true") == bool(r["deleted_date"])
    for r in t["assignments.csv"]:
        assert r["state"] in {"entitled", "suspended", "upgraded", "cancelled"}
        assert DATE.fullmatch(r["assigned_date"]) and r["assigned_date"] <= "2026-10-31"
    for r in t["activity.csv"]:
        assert r["workload"] in WORKLOADS
        assert r["report_date"] in AS_OF[-3:]
        assert DATE.fullmatch(r["last_activity"]) and r["last_activity"] <= r["report_date"]
    for r in t["support_requests.csv"]:
        assert r["category"] in {"how-to", "help", "incident"}
        assert "2025-11-01" <= r["date"] <= "2026-10-31"
    for r in t["figures_history.csv"]:
        assert r["as_of"] in AS_OF[:-3] and r["scope"] in {"all", "own"}
        if r["kind"] == "product":
            assert int(r["assigned"]) <= int(r["sold"]) and r["entitled"] == r["active"] == ""
        else:
            assert r["kind"] == "workload" and r["key"] in WORKLOADS
            assert int(r["active"]) <= int(r["entitled"]) and r["sold"] == r["assigned"] == ""


def test_coverage(t):
    subs = t["subscriptions.csv"]
    assert {r["status"] for r in subs} == {"active", "grace", "disabled", "deprovisioned"}
    assert {r["channel"] for r in subs} == {"partner", "other_partner", "direct"}
    assert any(r["is_trial"] == "true" for r in subs)
    assert {r["state"] for r in t["assignments.csv"]} == {"entitled", "suspended", "upgraded", "cancelled"}
    assert any(r["subscription_id"] == "" for r in t["assignments.csv"])
    assert {r["category"] for r in t["support_requests.csv"]} == {"how-to", "help", "incident"}
    assert {r["as_of"] for r in t["figures_history.csv"]} == set(AS_OF[:-3])
    assert {r["report_date"] for r in t["activity.csv"]} == set(AS_OF[-3:])
    customers = t["customers.csv"]
    assert 50 <= len(customers) <= 70
    agents = Counter(len(list(filter(None, r["sales_agents"].split(";")))) for r in customers)
    assert agents[0] >= 2 and agents[2] >= 2 and agents[1] > len(customers) / 2
    sizes = Counter(r["tenant_id"] for r in t["users.csv"])
    assert min(sizes.values()) <= 8 and 300 <= max(sizes.values()) <= 450


def test_awkward_cases(t):
    names = {r["name"]: r["tenant_id"] for r in t["customers.csv"]}
    assert "[bold]Acme & Co" in names
    assert '=HYPERLINK("http://x","y")' in names
    users = [r for r in t["users.csv"] if r["tenant_id"] == names["Jinxiao Components Co., Ltd."]]
    assert users and all(HEX32.fullmatch(r["upn"]) and HEX32.fullmatch(r["display_name"]) for r in users)
    guests = [r for r in t["users.csv"] if "#EXT#" in r["upn"]]
    assert guests and {r["tenant_id"] for r in guests} == {names["Lindqvar Consulting B.V."]}
    # leavers deleted within the last 28-day window (the turnover showcase)
    assert any(r["is_deleted"] == "true" and "2026-10-04" <= r["deleted_date"] <= "2026-10-31"
               for r in t["users.csv"])
