#!/usr/bin/env python3
"""Derive data/catalogue.csv from Microsoft's licensing reference.

Input: ``product-names-and-service-plans.csv`` (one row per SKU x service
plan; UTF-8 with a BOM).  Output: ``data/catalogue.csv`` with one row per SKU
(``String_Id``): ``sku,sku_id,name,family,workloads``.

Usage::

    python scripts/build_catalogue.py [REFERENCE_CSV] [-o data/catalogue.csv]

The rules are the tables below.  Plan names are matched case-insensitively
with ``re.fullmatch``; the first matching rule wins.  A rule's workloads may be
empty, which means "this plan gives no workload" (it is listed so that a
broader rule below does not catch it).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / ".." / "shared" / "reference" / "product-names-and-service-plans.csv"
DEFAULT_OUT = REPO / "data" / "catalogue.csv"

# --------------------------------------------------------------------------
# Office 365 workloads, by service plan name.
# --------------------------------------------------------------------------
O365_PLAN_RULES: list[tuple[str, tuple[str, ...], str]] = [
    # pattern                                    workloads        why
    # Exchange: only real mailboxes.  EXCHANGE_S_FOUNDATION is in nearly every
    # SKU (it backs calendars/groups for other services) and is not a mailbox;
    # archive, analytics, multi-geo and protection plans are add-ons.
    (r"EXCHANGE_[SLB]_(STANDARD|ENTERPRISE|DESKLESS|ESSENTIALS)(_\w+)?", ("exchange",), "mailbox plan"),
    (r"EXCHANGE.*", (), "foundation / archive / analytics / multi-geo: no mailbox"),
    # SharePoint and OneDrive (OneDrive counts as SharePoint).
    (r"SHAREPOINTWAC.*", (), "Office for the web, not SharePoint"),
    (r"SHAREPOINTSTORAGE.*", (), "extra file storage add-on"),
    (r"SHAREPOINTONLINE_MULTIGEO", (), "multi-geo add-on"),
    (r"SHAREPOINT_PROJECT.*", (), "Project Online service, not SharePoint"),
    (r"SHAREPOINT(STANDARD|ENTERPRISE|DESKLESS|LITE)(_\w+)?", ("sharepoint",), "SharePoint plan"),
    (r"SHAREPOINT_S_DEVELOPER", ("sharepoint",), "SharePoint for developer"),
    (r"SharePoint Plan 1G", ("sharepoint",), "SharePoint Plan 1 (government), odd name in the source"),
    (r"ONEDRIVECLIPCHAMP", (), "Clipchamp storage helper"),
    (r"ONEDRIVE.*", ("sharepoint",), "OneDrive counts as SharePoint"),
    # Teams itself (not Premium, Rooms, multi-geo or calling add-ons).
    (r"TEAMS1|TEAMS_GOV|TEAMS_AR_\w+|TEAMS_DESKLESS|TEAMS_FREE|TeamsEss|MCO_TEAMS_IW", ("teams",), "Teams"),
    (r"TEAMS.*|Teams_Room.*|MCO_VIRTUAL_APPT", (), "Teams add-on (Premium, Rooms, multi-geo...)"),
    # Skype for Business Online itself (not phone system, PSTN, audio conferencing).
    (r"MCOSTANDARD(_\w+)?|MCOIMP(_\w+)?|MCOLITE|MCOVOICECONF", ("skype",), "Skype for Business Online"),
    # Yammer / Viva Engage core.
    (r"YAMMER_\w+|VIVAENGAGE_CORE", ("yammer",), "Yammer (Viva Engage core)"),
    # Microsoft 365 Apps (the desktop Office apps).
    (r"OFFICESUBSCRIPTION_unattended.*", (), "unattended (robot) licence"),
    (r"OFFICESUBSCRIPTION(_GOV)?|OFFICE_BUSINESS|OFFICE_PRO_PLUS_SUBSCRIPTION_SMBIZ", ("office",), "Microsoft 365 Apps"),
]

# --------------------------------------------------------------------------
# Dynamics 365 workloads.  Only plans that look like Dynamics (prefix below)
# are considered; a Dynamics plan that matches no rule gives dyn_other.
# These patterns are case-SENSITIVE (so "CS_" does not match "Dynamics_").
# --------------------------------------------------------------------------
DYN_PLAN_PREFIX = (r"(DYN365|D365|DYNB365|CRM|Dynamics_365|Dyn365|PROJECT_FOR_PROJECT_OPERATIONS"
                   r"|PROJECT_MADEIRA|CDS_FIELD_SERVICE_CONTRACTOR).*")

DYN_PLAN_RULES: list[tuple[str, tuple[str, ...], str]] = [
    # helpers first: they never add a workload
    (r"CDS_FIELD_SERVICE_CONTRACTOR.*", ("dyn_field_service",), "Field Service contractor"),
    (r".*CDS.*", (), "Common Data Service / Dataverse helper"),
    (r"DYN365BC_MS_INVOICING", (), "Microsoft Invoicing, in Microsoft 365 business SKUs"),
    (r".*(CSI_EMBED|REGULATORY_SERVICE|HYBRIDCONNECTOR|_MSE_USER|_APP_MSE).*", (), "embedded helper"),
    (r"CRM(INSTANCE|TESTINSTANCE|STORAGE|_ONLINE_PORTAL)(_\w+)?", (), "instance / storage / portal add-on"),
    (r".*(DB_CAPACITY|ENVIRONMENT|CONTACT_ADDON|APPLICATION_ADDON|Sandbox|AUTO_ROUTING|IOTFORSCM"
     r"|AssetforSCM|DemandPlanning|ERP_TRIAL).*", (), "capacity / environment / contacts / sandbox / add-in"),
    # the Customer Engagement plan: Sales + Customer Service (the Plan 1 SKU
    # lists its other apps as separate plans)
    (r"DYN365_ENTERPRISE_P1(_IW)?", ("dyn_sales", "dyn_customer_service"), "Customer Engagement plan"),
    (r".*(TEAM_MEMBERS|Team_members|TeamMember).*", ("dyn_team_members",), "Team Members"),
    (r".*(PROJECT_SERVICE_AUTOMATION|ProjectOperations|PROJECT_FOR_PROJECT_OPERATIONS).*",
     ("dyn_project_operations",), "Project Operations"),
    (r".*(FIELD_SERVICE|_FS_).*", ("dyn_field_service",), "Field Service"),
    (r".*(CUSTOMER_SERVICE|_CS_|CASE_MANAGEMENT|DYN365_CC|SERVICE_INSIGHTS|_CSI_).*",
     ("dyn_customer_service",), "Customer Service / Contact Center"),
    (r".*(MARKETING|Marketing|INSIGHTS_JOURNEYS).*", ("dyn_marketing",), "Marketing / Customer Insights Journeys"),
    (r".*(SALES|Sales).*|CRMSTANDARD(_\w+)?|CRMPLAN2(_\w+)?", ("dyn_sales",), "Sales (CRM Online)"),
    (r".*(BUSCENTRAL|FINANCIALS|MADEIRA).*", ("dyn_business_central",), "Business Central"),
    (r".*(Finance|FINANCE).*", ("dyn_finance",), "Finance"),
    (r"Dynamics_365_for_Operations(_Activity)?", ("dyn_finance", "dyn_supply_chain"),
     "Unified Operations (Finance and Supply Chain)"),
    (r".*SCM.*", ("dyn_supply_chain",), "Supply Chain Management"),
    (r".*(RETAIL|Retail).*", ("dyn_commerce",), "Commerce (Retail)"),
    (r".*(_HR_|_HR$|HR_OPS|TALENT|Talent|HCM|Hiring|HIRING|Onboard).*", ("dyn_hr",), "Human Resources (Talent)"),
]
# Dynamics apps that bigger SKUs bundle (Guides and Remote Assist in Team
# Members, Fraud Protection and Intelligent Order Management in Commerce):
# they give their workload only when the SKU has no other Dynamics workload.
DYN_BUNDLED_RULES: list[tuple[str, tuple[str, ...], str]] = [
    (r"GUIDES|MICROSOFT_REMOTE_ASSIST|D365_GUIDES\w*", ("dyn_other",), "mixed-reality apps"),
    (r"DYN365_FP_\w+", ("dyn_other",), "Fraud Protection"),
    (r"DYN365_IOM(_USER)?", ("dyn_supply_chain",), "Intelligent Order Management"),
]
# Team Members is a light-use licence: the app plans it lists (for example
# DYN365_ENTERPRISE_FIELD_SERVICE) are read-mostly rights, so a SKU that
# includes Team Members gives dyn_team_members only.
TEAM_MEMBERS_ONLY = True

# --------------------------------------------------------------------------
# Families, by display name (first match wins), then by the plans.
# --------------------------------------------------------------------------
FAMILY_BY_NAME: list[tuple[str, str]] = [
    (r"Office 365.*", "Office 365"),
    (r"Microsoft 365.*|Microsoft Teams Essentials.*", "Microsoft 365"),
    (r"(Microsoft )?Dynamics 365.*|Microsoft Dynamics.*", "Dynamics 365"),
]
# Standalone Office 365 services (not starting with "Office 365") that carry
# an Office 365 workload are Office 365 products too.
O365_STANDALONE_NAMES = r"(Exchange Online|SharePoint|OneDrive|Skype for Business|Yammer|Microsoft Teams|Teams|Office ).*"

# Office 365 workloads are counted for Office 365 and Microsoft 365 products
# only.  Dynamics 365, Project and Visio SKUs list SharePoint/Teams/Office-web
# plans as use rights for their own app (document storage, Project Online
# sites), not as Office 365 licences: a Dynamics 365 SKU gets Dynamics
# workloads only, and an "Other" SKU gets none.
O365_FAMILIES = ("Office 365", "Microsoft 365")

O365_CODES = ("exchange", "sharepoint", "teams", "skype", "yammer", "office")
DYN_CODES = (
    "dyn_sales", "dyn_customer_service", "dyn_field_service", "dyn_marketing", "dyn_finance",
    "dyn_supply_chain", "dyn_commerce", "dyn_hr", "dyn_project_operations",
    "dyn_business_central", "dyn_team_members", "dyn_other",
)
ORDER = O365_CODES + DYN_CODES


def _first(rules, plan: str, flags: int = re.IGNORECASE):
    for pattern, workloads, _why in rules:
        if re.fullmatch(pattern, plan, flags=flags):
            return workloads
    return None


def o365_workloads(plan: str) -> tuple[str, ...]:
    return _first(O365_PLAN_RULES, plan) or ()


def dyn_workloads(plan: str) -> tuple[str, ...]:
    if _first(DYN_BUNDLED_RULES, plan, flags=0) is not None:
        return ()
    if not re.fullmatch(DYN_PLAN_PREFIX, plan):
        return ()
    found = _first(DYN_PLAN_RULES, plan, flags=0)
    return ("dyn_other",) if found is None else found


def dyn_bundled_workloads(plan: str) -> tuple[str, ...]:
    return _first(DYN_BUNDLED_RULES, plan, flags=0) or ()


def derive(name: str, plans: list[str]) -> tuple[str, tuple[str, ...]]:
    """(family, workloads) for one SKU."""
    plans = [p.strip() for p in plans if p.strip()]
    o365 = {w for p in plans for w in o365_workloads(p)}
    dyn = {w for p in plans for w in dyn_workloads(p)}
    if not dyn:
        dyn = {w for p in plans for w in dyn_bundled_workloads(p)}
    if TEAM_MEMBERS_ONLY and "dyn_team_members" in dyn:
        dyn = {"dyn_team_members"}
    family = None
    for pattern, fam in FAMILY_BY_NAME:
        if re.fullmatch(pattern, name.strip(), flags=re.IGNORECASE | re.DOTALL):
            family = fam
            break
    if family is None:
        if dyn:
            family = "Dynamics 365"
        elif o365 and re.fullmatch(O365_STANDALONE_NAMES, name.strip(), flags=re.IGNORECASE):
            family = "Office 365"
        else:
            family = "Other"
    if family not in O365_FAMILIES:
        o365 = set()
    found = o365 | dyn
    return family, tuple(w for w in ORDER if w in found)


def read_reference(path: Path) -> dict[str, dict]:
    skus: dict[str, dict] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            sku = row["String_Id"].strip()
            entry = skus.setdefault(sku, {"sku": sku, "sku_id": row["GUID"].strip(),
                                          "name": row["Product_Display_Name"].strip(), "plans": []})
            entry["plans"].append(row["Service_Plan_Name"])
    return skus


def build(source: Path) -> list[dict]:
    rows = []
    for sku, entry in sorted(read_reference(source).items()):
        family, workloads = derive(entry["name"], entry["plans"])
        rows.append({"sku": sku, "sku_id": entry["sku_id"], "name": entry["name"],
                     "family": family, "workloads": ",".join(workloads)})
    return rows


def write(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["sku", "sku_id", "name", "family", "workloads"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source}: no such file", file=sys.stderr)
        return 2
    rows = build(args.source)
    write(rows, args.out)
    fam = Counter(r["family"] for r in rows)
    wl = Counter(w for r in rows for w in r["workloads"].split(",") if w)
    print(f"wrote {len(rows)} SKUs to {args.out}")
    print("families: " + ", ".join(f"{k} {v}" for k, v in sorted(fam.items())))
    print("SKUs per workload: " + ", ".join(f"{w} {wl[w]}" for w in ORDER if wl[w]))
    print(f"SKUs without workloads: {sum(1 for r in rows if not r['workloads'])}")
    by_sku = {r["sku"]: r for r in rows}
    for sku in ("ENTERPRISEPACK", "SPE_E3", "O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "SPB",
                "EXCHANGESTANDARD", "DYN365_ENTERPRISE_SALES", "EMS", "EMSPREMIUM"):
        r = by_sku.get(sku)
        if r:
            print(f"  {sku:26} {r['family']:14} {r['workloads'] or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
