"""Workloads and the product catalogue (data, not code: see data/catalogue.csv)."""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

# Workload code -> display name. Dynamics 365 apps are one workload each.
WORKLOADS: dict[str, str] = {
    "exchange": "Exchange",
    "sharepoint": "SharePoint (incl. OneDrive)",
    "teams": "Teams",
    "skype": "Skype for Business",
    "yammer": "Yammer",
    "office": "Office apps",
    "dyn_sales": "Dynamics 365 Sales",
    "dyn_customer_service": "Dynamics 365 Customer Service",
    "dyn_field_service": "Dynamics 365 Field Service",
    "dyn_marketing": "Dynamics 365 Marketing",
    "dyn_finance": "Dynamics 365 Finance",
    "dyn_supply_chain": "Dynamics 365 Supply Chain",
    "dyn_commerce": "Dynamics 365 Commerce",
    "dyn_hr": "Dynamics 365 Human Resources",
    "dyn_project_operations": "Dynamics 365 Project Operations",
    "dyn_business_central": "Dynamics 365 Business Central",
    "dyn_team_members": "Dynamics 365 Team Members",
    "dyn_other": "Dynamics 365 (other apps)",
}

# The customer-level usage % is taken over these: every workload except the
# two that skew it (Yammer, see the brief, and retired Skype for Business).
NON_CORE_WORKLOADS = frozenset({"yammer", "skype"})
CORE_WORKLOADS = tuple(w for w in WORKLOADS if w not in NON_CORE_WORKLOADS)


def workload_name(code: str) -> str:
    return WORKLOADS.get(code, code)


def data_dir() -> Path:
    """The repository's data/ folder (or $ADOPT_TUI_DATA)."""
    env = os.environ.get("ADOPT_TUI_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data"


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, dict]:
    """sku -> {sku, sku_id, name, family, workloads (tuple)} from data/catalogue.csv."""
    path = data_dir() / "catalogue.csv"
    out: dict[str, dict] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["sku"]] = {
                "sku": row["sku"],
                "sku_id": row["sku_id"],
                "name": row["name"],
                "family": row["family"],
                "workloads": tuple(w for w in row["workloads"].split(",") if w),
            }
    return out
