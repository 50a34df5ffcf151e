"""Microsoft Graph license level (JSON, one customer tenant per file).

``subscribedSkus`` (``GET /subscribedSkus``: a list under ``value``) is the
tenant's total per SKU, across all sources (this partner, other partners,
Microsoft directly). Each SKU becomes up to four *aggregate* subscription rows,
``ext_id = graph-sku:<SKU>:<kind>``:

* ``enabled`` prepaid units, status from ``capabilityStatus``
  (``Enabled`` active, ``Warning`` grace, ``Suspended`` disabled,
  ``Deleted`` de-provisioned, ``LockedOut`` disabled): these are sold;
* ``warning`` units kept apart, status grace (in grace period);
* ``suspended`` and ``lockedOut`` units, status disabled.

Because Graph cannot tell who sold a SKU, the aggregate rows carry the channel
``other_partner`` and hold only the *remainder* not explained by individual
subscriptions of the same SKU and status (Partner Center subscriptions, which
are this partner's own, and directory ``companySubscription`` rows): see
:func:`reconcile`. The tenant total is kept in the row's offer name, so the
remainder is right whichever file is imported first. SKUs that are no longer
in a newer ``subscribedSkus`` file lose their aggregate rows.

Directory ``companySubscription`` lists (``GET /directory/subscriptions``)
give individual subscriptions: ``ext_id`` is ``commerceSubscriptionId`` (the
id Partner Center uses too) or ``id``; ``isTrial``; ``status`` mapped as
above; ``totalLicenses``; ``createdDateTime`` as start; ``nextLifecycleDateTime``
as commitment end. A row that Partner Center already named this partner's
keeps the channel ``partner``; others are ``other_partner``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from adopt_tui.importers.fields import parse_bool, parse_date, parse_int
from adopt_tui.importers.textio import FileErrors

CAPABILITY = {"enabled": "active", "warning": "grace", "suspended": "disabled",
              "deleted": "deprovisioned", "lockedout": "disabled"}

AGGREGATE_PREFIX = "graph-sku:"
UNIT_KINDS = (("enabled", None), ("warning", "grace"), ("suspended", "disabled"), ("lockedOut", "disabled"))
_TOTAL = re.compile(r"\((\d+) [A-Za-z]+ units, all sources per Microsoft Graph\)$")


@dataclass
class SubscriptionRows:
    rows: list[tuple] = field(default_factory=list)   # writes.SUBSCRIPTION_COLUMNS without customer_id
    skus: set[str] = field(default_factory=set)
    count: int = 0          # items in the file
    aggregate: bool = False  # subscribedSkus: replace the tenant's aggregate rows


def items_of(data, errors: FileErrors, key: str = "value") -> list:
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    errors.add(f"expected a JSON object with a {key!r} list")
    return []


class _Item:
    """Typed access to one JSON object with errors naming its path."""

    def __init__(self, obj, path: str, errors: FileErrors):
        self.obj = obj if isinstance(obj, dict) else {}
        self.path, self.errors, self.ok = path, errors, isinstance(obj, dict)
        if not self.ok:
            errors.add("expected a JSON object", field=path)

    def _bad(self, key: str, reason: str) -> None:
        self.ok = False
        self.errors.add(reason, field=f"{self.path}.{key}")

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.obj.get(key)
        if value is None or value == "":
            if required:
                self._bad(key, "a value is required")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self._bad(key, "expected text")
            return ""
        return str(value).strip()

    def int(self, key: str, *, required: bool = False, default: int = 0, obj=None) -> int:
        value = (self.obj if obj is None else obj).get(key)
        if value is None or value == "":
            if required:
                self._bad(key, "a whole number is required")
            return default
        if isinstance(value, bool):
            self._bad(key, f"{value!r} is not a whole number")
            return default
        try:
            return parse_int(str(value))
        except ValueError as exc:
            self._bad(key, str(exc))
            return default

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.obj.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        try:
            return parse_bool(str(value))
        except ValueError as exc:
            self._bad(key, str(exc))
            return default

    def date(self, key: str) -> str | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self._bad(key, "expected a date text")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self._bad(key, str(exc))
            return None

    def choice(self, key: str, mapping: dict[str, str], *, required: bool = True, default: str | None = None) -> str | None:
        raw = self.text(key, required=required)
        if not raw:
            return default
        value = mapping.get(raw.lower().replace(" ", "").replace("_", ""))
        if value is None:
            self._bad(key, f"{raw!r} is not one of: {', '.join(sorted(mapping))}")
        return value


def parse_subscribed_skus(data, errors: FileErrors, names: dict[str, str]) -> SubscriptionRows:
    """``names``: SKU -> display name (for offer names)."""
    out = SubscriptionRows(aggregate=True)
    for i, obj in enumerate(items_of(data, errors)):
        item = _Item(obj, f"value[{i}]", errors)
        out.count += 1
        sku = item.text("skuPartNumber") or item.text("skuId", required=True)
        status = item.choice("capabilityStatus", CAPABILITY)
        prepaid = item.obj.get("prepaidUnits")
        if prepaid is None:
            prepaid = {}
        if not isinstance(prepaid, dict):
            item._bad("prepaidUnits", "expected a JSON object")
            prepaid = {}
        units = {}
        for kind, _ in UNIT_KINDS:
            value = prepaid.get(kind)
            if value is None:
                units[kind] = 0
                continue
            if isinstance(value, bool):
                item._bad(f"prepaidUnits.{kind}", f"{value!r} is not a whole number")
                continue
            try:
                units[kind] = parse_int(str(value))
            except ValueError as exc:
                item._bad(f"prepaidUnits.{kind}", str(exc))
        item.int("consumedUnits")
        if not item.ok or not sku:
            continue
        out.skus.add(sku)
        label = names.get(sku, sku)
        for kind, kind_status in UNIT_KINDS:
            n = units.get(kind, 0)
            if kind != "enabled" and n == 0:
                continue
            out.rows.append((
                f"{AGGREGATE_PREFIX}{sku}:{kind.lower()}", sku,
                f"{label} ({n} {kind} units, all sources per Microsoft Graph)",
                n, kind_status or status, 0, "other_partner", None, None, "", 0,
            ))
    return out


def parse_company_subscriptions(data, errors: FileErrors, names: dict[str, str]) -> SubscriptionRows:
    out = SubscriptionRows()
    for i, obj in enumerate(items_of(data, errors)):
        item = _Item(obj, f"value[{i}]", errors)
        out.count += 1
        ext = item.text("commerceSubscriptionId") or item.text("id", required=True)
        sku = item.text("skuPartNumber") or item.text("skuId", required=True)
        status = item.choice("status", CAPABILITY)
        total = item.int("totalLicenses", required=True)
        trial = item.bool("isTrial")
        start = item.date("createdDateTime")
        end = item.date("nextLifecycleDateTime")
        if not item.ok:
            continue
        out.skus.add(sku)
        out.rows.append((ext, sku, names.get(sku, sku), total, status, int(trial), "other_partner", start, end, "", 0))
    return out


def write_subscriptions(conn: sqlite3.Connection, customer_id: int, parsed: SubscriptionRows) -> tuple[int, int]:
    """Upsert the rows; returns (added, updated). Keeps ``partner`` channels."""
    existing = {ext: (sid, channel) for sid, ext, channel in conn.execute(
        "SELECT id, ext_id, channel FROM subscriptions WHERE customer_id = ?", (customer_id,))}
    rows = []
    added = updated = 0
    for r in parsed.rows:
        ext, channel = r[0], r[6]
        if ext in existing:
            updated += 1
            if existing[ext][1] == "partner":
                channel = "partner"
        else:
            added += 1
        rows.append((customer_id, ext, *r[1:6], channel, *r[7:]))
    if parsed.aggregate:
        keep = {r[0] for r in parsed.rows}
        stale = [(existing[e][0],) for e in existing if e.startswith(AGGREGATE_PREFIX) and e not in keep]
        conn.executemany("DELETE FROM subscriptions WHERE id = ?", stale)
    from adopt_tui.store import writes

    writes.upsert_subscriptions(conn, rows)
    return added, updated


def reconcile(conn: sqlite3.Connection, customer_ids) -> None:
    """Set each aggregate row to the part of its tenant total that individual
    subscriptions of the SKU do not explain (never below 0).

    Individual quantities are matched to the aggregate of the same status
    first, then whatever is left to the SKU's other aggregates (enabled units
    first): Partner Center's and Graph's states do not always agree (an
    expired subscription may already show as suspended in Graph).
    """
    order = {kind.lower(): i for i, (kind, _) in enumerate(UNIT_KINDS)}
    for cid in customer_ids:
        aggregates: dict[str, list] = {}
        for sid, ext, sku, status, offer, quantity in conn.execute(
            "SELECT id, ext_id, sku, status, offer_name, quantity FROM subscriptions "
            f"WHERE customer_id = ? AND ext_id LIKE '{AGGREGATE_PREFIX}%'", (cid,),
        ):
            m = _TOTAL.search(offer or "")
            if m:
                kind = ext.rsplit(":", 1)[-1]
                aggregates.setdefault(sku, []).append([order.get(kind, 9), sid, status, int(m.group(1)), quantity])
        if not aggregates:
            continue
        pool: dict[str, dict[str, int]] = {}
        for sku, status, qty in conn.execute(
            "SELECT sku, status, SUM(quantity) FROM subscriptions WHERE customer_id = ? "
            f"AND ext_id NOT LIKE '{AGGREGATE_PREFIX}%' GROUP BY sku, status", (cid,),
        ):
            pool.setdefault(sku, {})[status] = int(qty)
        for sku, rows in aggregates.items():
            rows.sort()
            left = dict(pool.get(sku, {}))
            remaining = {}
            for _, sid, status, total, _ in rows:
                take = min(total, left.get(status, 0))
                left[status] = left.get(status, 0) - take
                remaining[sid] = total - take
            spare = sum(left.values())
            for _, sid, _, _, quantity in rows:
                take = min(remaining[sid], spare)
                spare -= take
                value = remaining[sid] - take
                if value != quantity:
                    conn.execute("UPDATE subscriptions SET quantity = ? WHERE id = ?", (value, sid))
