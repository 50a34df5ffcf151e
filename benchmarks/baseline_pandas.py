"""The baseline: what a partner's analyst would otherwise do, in plain pandas.

    python benchmarks/baseline_pandas.py RAW_DIR [--as-of YYYY-MM-DD] [--out FILE]

Reads the raw tables as CSV (users, assignments, subscriptions, activity,
products; see ``benchmarks.common.RAW_TABLES``) and computes, per customer,
the same figures as ``adopt-tui metrics --format json`` for the whole
portfolio (scope ``all``): per product licenses sold, assigned and deployment
%, per workload entitlements, active users and usage %, with the rules of the
domain brief (counted = active and not a trial; deleted users and assignments
that are not entitlements drop out; activity in the 28 days up to the as-of
date; a user counts once per workload). It writes one JSON document.

Written the way one would write it by hand: read_csv, merge, groupby, no
tricks to make it slow and none to make it fast (it does not know about
chunking, categoricals or the pyarrow engine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd


def compute(raw: Path, as_of: str | None = None) -> dict:
    products = pd.read_csv(raw / "products.csv", keep_default_na=False)
    subs = pd.read_csv(raw / "subscriptions.csv")
    users = pd.read_csv(raw / "users.csv")
    assignments = pd.read_csv(raw / "assignments.csv")
    activity = pd.read_csv(raw / "activity.csv")
    customers = pd.read_csv(raw / "customers.csv", keep_default_na=False)

    as_of = as_of or activity.report_date.max()
    window_start = (pd.Timestamp(as_of) - pd.Timedelta(days=27)).strftime("%Y-%m-%d")

    # which SKU includes which workload
    sku_workloads = products.assign(workload=products.workloads.str.split(",")).explode("workload")
    sku_workloads = sku_workloads[sku_workloads.workload.notna() & (sku_workloads.workload != "")]
    sku_workloads = sku_workloads[["sku", "workload"]]

    # licenses sold: subscriptions in good standing, no trials
    subs["counted"] = (subs.status == "active") & (subs.is_trial == 0)
    sold = subs[subs.counted].groupby(["customer_id", "sku"], as_index=False)["quantity"].sum()
    sold = sold.rename(columns={"quantity": "sold"})

    # assignments that count: through a counted subscription (or, when the
    # subscription is not known, the customer has a counted one for the SKU),
    # by the as-of date, of users not deleted by then
    users["gone"] = (users.is_deleted == 1) & (users.deleted_date.isna() | (users.deleted_date <= as_of))
    a = assignments.merge(users[["id", "customer_id", "gone"]], left_on="user_id", right_on="id")
    a = a[(a.assigned_date.isna() | (a.assigned_date <= as_of)) & ~a.gone]
    known = a[a.subscription_id.notna()].merge(
        subs[["id", "counted"]], left_on="subscription_id", right_on="id", suffixes=("", "_sub"))
    known = known[known.counted]
    counted_skus = subs[subs.counted][["customer_id", "sku"]].drop_duplicates()
    unknown = a[a.subscription_id.isna()].merge(counted_skus, on=["customer_id", "sku"])
    good = pd.concat([known[["customer_id", "user_id", "sku", "state"]],
                      unknown[["customer_id", "user_id", "sku", "state"]]])

    assigned = (good[good.state.isin(["entitled", "suspended"])]
                .groupby(["customer_id", "sku"], as_index=False)["user_id"].nunique()
                .rename(columns={"user_id": "assigned"}))
    deployment = sold.merge(assigned, on=["customer_id", "sku"], how="outer").fillna(0)
    deployment = deployment.merge(products[["sku", "name"]], on="sku", how="left")
    deployment["deployment_pct"] = (100 * deployment.assigned / deployment.sold.where(deployment.sold > 0)).round(1)

    # entitlements per workload: a user once per workload
    entitled = (good[good.state == "entitled"].merge(sku_workloads, on="sku")
                [["customer_id", "workload", "user_id"]].drop_duplicates())
    entitled_n = entitled.groupby(["customer_id", "workload"], as_index=False).size().rename(
        columns={"size": "entitled"})

    # active users: any activity in the window counts
    act = activity[(activity.report_date == as_of) & (activity.last_activity >= window_start)
                   & (activity.last_activity <= as_of)]
    act = act.merge(users[["id", "customer_id"]], left_on="user_id", right_on="id")
    active_n = (act[["customer_id", "workload", "user_id"]].drop_duplicates()
                .groupby(["customer_id", "workload"], as_index=False).size().rename(columns={"size": "active"}))
    usage = entitled_n.merge(active_n, on=["customer_id", "workload"], how="outer").fillna(0)
    usage["usage_pct"] = (100 * usage.active / usage.entitled.where(usage.entitled > 0)).round(1)

    def records(frame: pd.DataFrame) -> dict:
        """customer_id -> its rows as dicts (one to_dict over the whole frame, not one per group)."""
        out: dict = defaultdict(list)
        for record in frame.to_dict("records"):
            out[record.pop("customer_id")].append(record)
        return out

    products_by = records(deployment.sort_values(["customer_id", "sold"], ascending=[True, False]))
    usage_by = records(usage.sort_values(["customer_id", "workload"]))
    out = []
    for c in customers.itertuples(index=False):
        out.append({"tenant_id": c.tenant_id, "name": c.name, "products": products_by.get(c.id, []),
                    "workloads": usage_by.get(c.id, [])})
    return {"as_of": as_of, "customers": out}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Per-customer deployment and usage figures from raw CSV, with pandas.")
    ap.add_argument("raw", type=Path, help="directory with the raw CSV tables")
    ap.add_argument("--as-of", help="YYYY-MM-DD (default: the latest report date)")
    ap.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    doc = compute(args.raw, args.as_of)
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=float)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    print(f"baseline: {len(doc['customers']):,} customers in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
