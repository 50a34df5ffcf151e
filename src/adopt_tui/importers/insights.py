"""Partner Center Insights downloads (tab-separated; comma-separated accepted).

Aggregates per customer and month for the whole portfolio; they create the
customers they name that are not known yet (``CustomerTenantId``,
``CustomerName``, ``CustomerMarket``, ``CustomerSegment``) and feed the
figures history (``source = 'imported'``, scope ``all``) through
:func:`adopt_tui.metrics.compute.store_imported_figures`. The as-of date of a
month is its last day. A (customer, month) that has figures computed from
user-level data keeps them (raw data wins).

* **Office 365 license usage**: ``CustomerTenantId, WorkloadName, Month,
  PaidAvailableUnits, MonthlyActiveUsers`` (required) give workload rows:
  entitled = PaidAvailableUnits, active = MonthlyActiveUsers. OneDrive and
  SharePoint are one workload (the larger of each figure is kept, since the
  same people are counted in both); rows of workloads adopt-tui does not
  track are skipped with a warning.
* **Dynamics 365 usage**: ``CustomerTenantId, Month, AvailableSeats,
  AssignedSeats, ActiveSeats`` and the SKU (``SkuName``, ``Sku``, ``SkuId``,
  ``ProductName`` or ``OfferName``: a catalogue part number or display name;
  others are kept as SKUs not in the catalogue, with a warning), summed over
  subscriptions: product rows sold = AvailableSeats, assigned = AssignedSeats;
  workload rows (the SKU's Dynamics workloads, else ``dyn_other``)
  entitled = AssignedSeats, active = ActiveSeats.

Figures imported earlier for the same customer and month (for example Office
365 usage, then Dynamics usage) are kept and combined.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from adopt_tui.importers.products import ProductMatcher
from adopt_tui.importers.textio import CsvFile, FileErrors

O365_REQUIRED = ("customertenantid", "workloadname", "month", "paidavailableunits", "monthlyactiveusers")
DYN_REQUIRED = ("customertenantid", "month", "availableseats", "assignedseats", "activeseats")
SKU_COLUMNS = ("skuname", "sku", "skupartnumber", "skuid", "productname", "offername")
KNOWN_COLUMNS = set(O365_REQUIRED + DYN_REQUIRED + SKU_COLUMNS) | {
    "customertpid", "customername", "customermarket", "customersegment", "mpnid", "partnername",
    "partnerlocation", "partnerattributiontype", "activeusagepercent", "subscriptionid",
}

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})


def workload_code(name: str) -> str | None:
    n = name.strip().lower()
    if "exchange" in n or n in ("email", "outlook"):
        return "exchange"
    if "sharepoint" in n or "onedrive" in n or "one drive" in n:
        return "sharepoint"
    if "teams" in n:
        return "teams"
    if "skype" in n or "lync" in n:
        return "skype"
    if "yammer" in n or "viva engage" in n:
        return "yammer"
    if "office" in n or "apps" in n or "proplus" in n:
        return "office"
    return None


def month_end(text: str) -> str:
    """The last day of the month named by ``text``; raises ValueError."""
    value = text.strip()
    year = month = None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2}(?:[T ].*)?)?", value)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
    if year is None:
        m = re.fullmatch(r"(\d{1,2})/\d{1,2}/(\d{4})(?: .*)?", value)
        if m:
            year, month = int(m.group(2)), int(m.group(1))
    if year is None:
        m = re.fullmatch(r"(\d{4})(\d{2})", value)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
    if year is None:
        m = re.fullmatch(r"([A-Za-z]+)[ -](\d{4})", value)
        if m and m.group(1).lower() in _MONTHS:
            year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
    if year is None or not (1 <= (month or 0) <= 12) or not (1900 <= year <= 9999):
        raise ValueError(f"{text!r} is not a month (expected YYYY-MM or a date)")
    return date(year, month, calendar.monthrange(year, month)[1]).isoformat()


@dataclass
class InsightsData:
    kind: str                                                    # 'o365' | 'dynamics'
    customers: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # tenant -> (name, market, segment)
    workloads: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # (tenant, as_of, wl) -> [ent, act]
    products: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)   # (tenant, as_of, sku) -> [sold, asg]
    skipped_workloads: set[str] = field(default_factory=set)
    unknown_skus: set[str] = field(default_factory=set)
    months: set[str] = field(default_factory=set)


def _int(text: str) -> int:
    value = text.strip().replace(",", "")
    if value == "":
        return 0
    try:
        n = float(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if n < 0 or n != n:
        raise ValueError(f"{text!r} is below 0")
    return int(round(n))


def parse(kind: str, csvfile: CsvFile, errors: FileErrors, matcher: ProductMatcher) -> InsightsData:
    out = InsightsData(kind)
    it = iter(csvfile)
    first = next(it, None)
    if not csvfile.columns:
        return out
    idx = csvfile.index()
    header = csvfile.header
    required = O365_REQUIRED if kind == "o365" else DYN_REQUIRED
    missing = [c for c in required if c not in idx]
    sku_col = next((c for c in SKU_COLUMNS if c in idx), None)
    if kind == "dynamics" and sku_col is None:
        missing.append("skuname")
    for c in missing:
        errors.add("required column is missing", line=1, field={
            "customertenantid": "CustomerTenantId", "workloadname": "WorkloadName", "month": "Month",
            "paidavailableunits": "PaidAvailableUnits", "monthlyactiveusers": "MonthlyActiveUsers",
            "availableseats": "AvailableSeats", "assignedseats": "AssignedSeats", "activeseats": "ActiveSeats",
            "skuname": "SkuName",
        }.get(c, c))
    if missing:
        for _ in it:
            pass
        return out
    i_t, i_m = idx["customertenantid"], idx["month"]
    i_name, i_mkt, i_seg = idx.get("customername"), idx.get("customermarket"), idx.get("customersegment")
    months: dict[str, str] = {}
    rows = [first] if first is not None else []

    def each():
        yield from rows
        yield from it

    for line, row in each():
        ok = True

        def bad(col: int, reason: str):
            nonlocal ok
            ok = False
            errors.add(reason, line=line, field=header[col])

        tenant = row[i_t].strip()
        if not tenant:
            bad(i_t, "a customer tenant id is required")
        raw_month = row[i_m]
        as_of = months.get(raw_month)
        if as_of is None:
            try:
                as_of = month_end(raw_month)
                months[raw_month] = as_of
            except ValueError as exc:
                bad(i_m, str(exc))
        values = []
        cols = ("paidavailableunits", "monthlyactiveusers") if kind == "o365" else (
            "availableseats", "assignedseats", "activeseats")
        for c in cols:
            try:
                values.append(_int(row[idx[c]]))
            except ValueError as exc:
                bad(idx[c], str(exc))
        if not ok:
            continue
        out.months.add(as_of)
        name = row[i_name].strip() if i_name is not None else ""
        market = row[i_mkt].strip() if i_mkt is not None else ""
        segment = row[i_seg].strip() if i_seg is not None else ""
        if tenant not in out.customers or (name and not out.customers[tenant][0]):
            out.customers[tenant] = (name, market, segment)
        if kind == "o365":
            wl_name = row[idx["workloadname"]]
            wl = workload_code(wl_name)
            if wl is None:
                out.skipped_workloads.add(wl_name.strip())
                continue
            cur = out.workloads.setdefault((tenant, as_of, wl), [0, 0])
            cur[0], cur[1] = max(cur[0], values[0]), max(cur[1], values[1])
        else:
            raw_sku = row[idx[sku_col]].strip()
            if not raw_sku:
                errors.add("a SKU is required", line=line, field=header[idx[sku_col]])
                continue
            sku = matcher.by_offer(raw_sku)
            if sku is None:
                sku = raw_sku
                out.unknown_skus.add(sku)
            p = out.products.setdefault((tenant, as_of, sku), [0, 0])
            p[0] += values[0]
            p[1] += values[1]
            dyn = [w for w in matcher.workloads_of(sku) if w.startswith("dyn_")] or ["dyn_other"]
            for wl in dyn:
                cur = out.workloads.setdefault((tenant, as_of, wl), [0, 0])
                cur[0] += values[1]
                cur[1] += values[2]
    return out


def write(conn: sqlite3.Connection, data: InsightsData) -> tuple[int, int, set[int], int]:
    """Create unknown customers, store the figures. Returns (customers added,
    customers known, customer ids, snapshots written)."""
    from adopt_tui.metrics.compute import store_imported_figures
    from adopt_tui.store import writes

    known = {t: (cid, name) for cid, t, name in conn.execute("SELECT id, tenant_id, name FROM customers")}
    added = 0
    ids: dict[str, int] = {}
    for tenant, (name, market, segment) in sorted(data.customers.items()):
        if tenant in known:
            cid, old_name = known[tenant]
            if market or segment:
                writes.upsert_customer(conn, tenant, old_name, "", market, segment)
        else:
            cid = writes.upsert_customer(conn, tenant, name or tenant, "", market, segment)
            added += 1
        ids[tenant] = cid
    if data.unknown_skus:
        writes.ensure_products(conn, data.unknown_skus)
    prod = pd.DataFrame(
        [(ids[t], d, "all", s, v[0], v[1]) for (t, d, s), v in data.products.items()],
        columns=["customer_id", "as_of", "scope", "sku", "sold", "assigned"],
    )
    wl = pd.DataFrame(
        [(ids[t], d, "all", w, v[0], v[1]) for (t, d, w), v in data.workloads.items()],
        columns=["customer_id", "as_of", "scope", "workload", "entitled", "active"],
    )
    prod, wl = _merge_existing(conn, prod, wl)
    snapshots = 0
    if len(prod) or len(wl):
        placeholder = prod.empty
        if placeholder:
            # store_imported_figures cannot take an empty products frame (it selects
            # rows with a Python list, and an empty list selects no columns): give it
            # 0/0 rows, which change no total, and remove them afterwards.
            keys = wl[["customer_id", "as_of", "scope"]].drop_duplicates()
            prod = keys.assign(sku=PLACEHOLDER_SKU, sold=0, assigned=0)
        snapshots = store_imported_figures(conn, prod, wl)
        if placeholder:
            conn.execute("DELETE FROM fig_product WHERE sku = ?", (PLACEHOLDER_SKU,))
    return added, len(ids) - added, set(ids.values()), snapshots


PLACEHOLDER_SKU = "\x00none"


def _merge_existing(conn: sqlite3.Connection, prod: pd.DataFrame, wl: pd.DataFrame):
    """Add the figures imported before for the same (customer, as-of), so that
    storing the new ones (which replaces a snapshot) keeps them."""
    pairs = set(zip(prod.customer_id, prod.as_of)) | set(zip(wl.customer_id, wl.as_of))
    if not pairs:
        return prod, wl
    old_p, old_w = [], []
    for cid, as_of in sorted(pairs):
        old_p += conn.execute(
            "SELECT customer_id, as_of, scope, sku, sold, assigned FROM fig_product "
            "WHERE customer_id = ? AND as_of = ? AND source = 'imported'", (int(cid), as_of)).fetchall()
        old_w += conn.execute(
            "SELECT customer_id, as_of, scope, workload, entitled, active FROM fig_workload "
            "WHERE customer_id = ? AND as_of = ? AND source = 'imported'", (int(cid), as_of)).fetchall()
    if old_p:
        old = pd.DataFrame([tuple(r) for r in old_p], columns=prod.columns)
        prod = pd.concat([old, prod], ignore_index=True).drop_duplicates(
            ["customer_id", "as_of", "scope", "sku"], keep="last")
    if old_w:
        old = pd.DataFrame([tuple(r) for r in old_w], columns=wl.columns)
        wl = pd.concat([old, wl], ignore_index=True).drop_duplicates(
            ["customer_id", "as_of", "scope", "workload"], keep="last")
    return prod.reset_index(drop=True), wl.reset_index(drop=True)
