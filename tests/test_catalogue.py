"""The derived product catalogue (data/catalogue.csv, built by scripts/build_catalogue.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from adopt_tui.catalogue import WORKLOADS, load_catalogue

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference" / "product-names-and-service-plans.csv"
O365 = {"exchange", "sharepoint", "teams", "skype", "yammer", "office"}


def _builder():
    spec = importlib.util.spec_from_file_location("build_catalogue", REPO / "scripts" / "build_catalogue.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cat() -> dict[str, dict]:
    return load_catalogue()


def wl(cat, sku) -> set[str]:
    return set(cat[sku]["workloads"])


def test_shape(cat):
    assert len(cat) > 500
    for sku, p in cat.items():
        assert p["sku"] == sku
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", p["sku_id"]), sku
        assert p["family"] in {"Office 365", "Microsoft 365", "Dynamics 365", "Other"}, sku
        assert set(p["workloads"]) <= set(WORKLOADS), sku
        assert len(p["workloads"]) == len(set(p["workloads"])), sku


def test_office_365_suites(cat):
    assert cat["ENTERPRISEPACK"]["family"] == "Office 365"
    assert cat["ENTERPRISEPACK"]["name"] == "Office 365 E3"
    assert wl(cat, "ENTERPRISEPACK") == O365
    assert cat["STANDARDPACK"]["family"] == "Office 365"
    assert "office" not in wl(cat, "STANDARDPACK")  # E1: no desktop apps
    assert {"exchange", "sharepoint", "teams"} <= wl(cat, "STANDARDPACK")


def test_microsoft_365_suites(cat):
    for sku in ("SPE_E3", "SPE_E5", "SPB", "O365_BUSINESS_PREMIUM"):
        assert cat[sku]["family"] == "Microsoft 365", sku
        assert wl(cat, sku) == O365, sku
    # Business Basic: web and mobile only, no Microsoft 365 Apps
    assert wl(cat, "O365_BUSINESS_ESSENTIALS") == O365 - {"office"}


def test_standalone_services(cat):
    assert cat["EXCHANGESTANDARD"]["workloads"] == ("exchange",)
    assert cat["EXCHANGESTANDARD"]["family"] == "Office 365"
    assert cat["EXCHANGEENTERPRISE"]["workloads"] == ("exchange",)
    # OneDrive counts as SharePoint
    assert cat["WACONEDRIVESTANDARD"]["workloads"] == ("sharepoint",)
    assert cat["SHAREPOINTSTANDARD"]["workloads"] == ("sharepoint",)
    # Microsoft 365 Apps for business includes OneDrive
    assert wl(cat, "O365_BUSINESS") == {"office", "sharepoint"}


def test_add_ons_give_no_workloads(cat):
    # archive and protection are not mailboxes; extra storage is not SharePoint
    for sku in ("EXCHANGEARCHIVE_ADDON", "ATP_ENTERPRISE", "SHAREPOINTSTORAGE", "MCOEV", "EMS", "EMSPREMIUM"):
        assert cat[sku]["workloads"] == (), sku
    assert cat["EMSPREMIUM"]["family"] == "Other"


def test_dynamics(cat):
    assert cat["DYN365_ENTERPRISE_SALES"]["family"] == "Dynamics 365"
    assert cat["DYN365_ENTERPRISE_SALES"]["workloads"] == ("dyn_sales",)
    assert cat["DYN365_ENTERPRISE_CUSTOMER_SERVICE"]["workloads"] == ("dyn_customer_service",)
    assert cat["DYN365_ENTERPRISE_FIELD_SERVICE"]["workloads"] == ("dyn_field_service",)
    assert cat["DYN365_FINANCE"]["workloads"] == ("dyn_finance",)
    assert cat["DYN365_SCM"]["workloads"] == ("dyn_supply_chain",)
    assert cat["DYN365_RETAIL"]["workloads"] == ("dyn_commerce",)
    assert cat["DYN365_BUSCENTRAL_ESSENTIAL"]["workloads"] == ("dyn_business_central",)
    assert cat["DYN365_TEAM_MEMBERS"]["workloads"] == ("dyn_team_members",)
    assert cat["DYN365_PROJECT_OPERATIONS"]["workloads"] == ("dyn_project_operations",)
    assert cat["DYN365_MARKETING_APP"]["workloads"] == ("dyn_marketing",)
    assert cat["DYN365_HUMAN_RESOURCES_ATTACH"]["workloads"] == ("dyn_hr",)
    assert cat["GUIDES_USER"]["workloads"] == ("dyn_other",)
    # storage / instance add-ons are Dynamics products without a workload
    assert cat["CRMSTORAGE"]["family"] == "Dynamics 365"
    assert cat["CRMSTORAGE"]["workloads"] == ()


def test_dynamics_helpers_do_not_leak_into_office(cat):
    # Microsoft 365 suites carry DYN365_CDS_O365_* and DYN365BC_MS_INVOICING
    for sku, p in cat.items():
        if p["family"] in ("Office 365", "Microsoft 365"):
            assert not any(w.startswith("dyn_") for w in p["workloads"]), sku
    # Power Apps / Power Automate standalone carry Common Data Service only
    assert cat["POWERAPPS_PER_USER"]["workloads"] == ()
    assert cat["FLOW_FREE"]["workloads"] == ()


def test_rules_on_plan_lists():
    b = _builder()
    assert b.derive("Office 365 Test", ["EXCHANGE_S_FOUNDATION"]) == ("Office 365", ())
    assert b.derive("Office 365 Test", ["ONEDRIVESTANDARD"]) == ("Office 365", ("sharepoint",))
    assert b.derive("Office 365 Test", ["SHAREPOINTWAC"]) == ("Office 365", ())
    assert b.derive("Office 365 Test", ["EXCHANGE_S_ARCHIVE_ADDON", "ATP_ENTERPRISE"]) == ("Office 365", ())
    assert b.derive("Microsoft 365 Test", ["VIVAENGAGE_CORE", "MCOSTANDARD"]) == ("Microsoft 365", ("skype", "yammer"))
    assert b.derive("Microsoft 365 Test", ["TEAMSPRO_CUST", "MCOEV"]) == ("Microsoft 365", ())
    assert b.derive("Something", ["DYN365_CDS_VIRAL", "FLOW_DYN_APPS", "POWERAPPS_DYN_APPS"]) == ("Other", ())
    assert b.derive("Something", ["DYN365_BRAND_NEW_APP"]) == ("Dynamics 365", ("dyn_other",))
    # bundled SharePoint in a Dynamics SKU is a use right, not a SharePoint licence
    assert b.derive("Dynamics 365 X", ["DYN365_ENTERPRISE_SALES", "SHAREPOINTENTERPRISE"]) == (
        "Dynamics 365", ("dyn_sales",))


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference CSV not available")
def test_catalogue_is_up_to_date(tmp_path):
    b = _builder()
    out = tmp_path / "catalogue.csv"
    b.write(b.build(REFERENCE), out)
    assert out.read_bytes() == (REPO / "data" / "catalogue.csv").read_bytes()
