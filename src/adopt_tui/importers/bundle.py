"""Our own CSV bundle: one file per table, loaded all-or-nothing.

A bundle is a directory holding some of these files (UTF-8, with or without
a byte-order mark, one header row, columns mapped by name; booleans
``true``/``false``; dates ``YYYY-MM-DD``; an empty cell is "none"):

=====================  ==========================================================================
file                   columns
=====================  ==========================================================================
customers.csv          tenant_id, name, domain, market, segment, sales_agents (user names, ``;``)
subscriptions.csv      tenant_id, subscription_id, sku, offer_name, quantity, status, is_trial,
                       channel, start_date, commitment_end, billing_cycle, auto_renew
users.csv              tenant_id, upn, display_name, is_deleted, deleted_date
assignments.csv        tenant_id, upn, sku, subscription_id, assigned_date, state
activity.csv           tenant_id, upn, workload, report_date, last_activity
support_requests.csv   tenant_id, request_id, date, category
figures_history.csv    tenant_id, as_of, scope, kind, key, sold, assigned, entitled, active
=====================  ==========================================================================

Every file is validated before anything is written; any error names file,
line and field, and the database is left exactly as it was.
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adopt_tui.auth import audit
from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.catalogue import WORKLOADS
from adopt_tui.errors import AdoptError
from adopt_tui.importers.fields import Errors, parse_bool, parse_choice, parse_date, parse_int
from adopt_tui.metrics.compute import recompute, store_imported_figures
from adopt_tui.store import transaction, writes

STATUSES = {"active": "active", "grace": "grace", "in grace period": "grace", "disabled": "disabled",
            "deprovisioned": "deprovisioned", "de-provisioned": "deprovisioned"}
CHANNELS = {"partner": "partner", "this partner": "partner", "other_partner": "other_partner",
            "other partner": "other_partner", "direct": "direct"}
STATES = ("entitled", "suspended", "upgraded", "cancelled")

# file -> (required columns, optional columns)
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customers.csv": (("tenant_id", "name"), ("domain", "market", "segment", "sales_agents")),
    "subscriptions.csv": (
        ("tenant_id", "subscription_id", "sku", "quantity", "status"),
        ("offer_name", "is_trial", "channel", "start_date", "commitment_end", "billing_cycle", "auto_renew"),
    ),
    "users.csv": (("tenant_id", "upn"), ("display_name", "is_deleted", "deleted_date")),
    "assignments.csv": (("tenant_id", "upn", "sku", "state"), ("subscription_id", "assigned_date")),
    "activity.csv": (("tenant_id", "upn", "workload", "report_date"), ("last_activity",)),
    "support_requests.csv": (("tenant_id", "request_id", "date", "category"), ()),
    "figures_history.csv": (
        ("tenant_id", "as_of", "scope", "kind", "key"), ("sold", "assigned", "entitled", "active"),
    ),
}


@dataclass
class LoadResult:
    rows: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    snapshots: int = 0
    warnings: list[str] = field(default_factory=list)


def _read(path: Path, errors: Errors) -> list[tuple[int, dict[str, str]]]:
    """Rows of one bundle file as (line number, {column: text})."""
    name = path.name
    required, optional = FILES[name]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.add(f"not UTF-8 text (byte {exc.start})", file=name)
        return []
    except OSError as exc:
        errors.add(f"cannot read: {exc.strerror}", file=name)
        return []
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        errors.add("the file is empty (a header row is required)", file=name, line=1)
        return []
    except csv.Error as exc:
        errors.add(f"unreadable header: {exc}", file=name, line=1)
        return []
    missing = [c for c in required if c not in header]
    for column in missing:
        errors.add("required column is missing", file=name, line=1, field=column)
    if missing:
        return []
    index = {c: header.index(c) for c in required + optional if c in header}
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue
            if len(row) != len(header):
                errors.add(f"{len(row)} fields, the header has {len(header)}", file=name, line=line)
                continue
            rows.append((line, {c: row[i] for c, i in index.items()}))
    except csv.Error as exc:
        errors.add(f"malformed CSV: {exc}", file=name, line=reader.line_num)
    return rows


def load_bundle(conn: sqlite3.Connection, directory: str | Path, principal: Principal, *, audit_action: bool = True) -> LoadResult:
    """Validate every file of the bundle in ``directory``, then write it in one transaction."""
    principal.require(Perm.IMPORT, conn, action="load data")
    directory = Path(directory)
    errors = Errors()
    prepared = prepare_bundle(conn, directory, errors)
    errors.raise_if_any()
    with transaction(conn):
        result = write_bundle(conn, prepared)
        if audit_action:
            audit.record(conn, principal.username, "import", target=str(directory),
                         detail="bundle: " + ", ".join(f"{k} {v} rows" for k, v in result.rows.items()))
    return result


@dataclass
class PreparedBundle:
    """A validated bundle, ready for :func:`write_bundle` (used by the importer's runs)."""

    raw: dict
    parsed: dict

    @property
    def rows(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.raw.items()}


def prepare_bundle(conn: sqlite3.Connection, directory: Path, errors: Errors) -> PreparedBundle:
    """Read and validate a bundle without writing; errors go to ``errors``.

    Raises AdoptError when ``directory`` is not a bundle at all.
    """
    if not directory.is_dir():
        raise AdoptError(f"{directory}: not a directory (a bundle is a directory of CSV files)")
    present = [n for n in FILES if (directory / n).is_file()]
    if not present:
        raise AdoptError(f"{directory}: no bundle files found (expected some of: {', '.join(FILES)})")
    raw = {name: _read(directory / name, errors) for name in present}
    if errors:
        return PreparedBundle(raw, {})
    return PreparedBundle(raw, _validate(conn, raw, errors))


def write_bundle(conn: sqlite3.Connection, prepared: PreparedBundle) -> LoadResult:
    """Write a prepared bundle inside the caller's transaction."""
    result = _write(conn, prepared.parsed)
    result.rows = prepared.rows
    return result


def _validate(conn: sqlite3.Connection, raw: dict, errors: Errors) -> dict:
    """Parse every field; collect errors. Returns parsed rows per file."""
    out: dict[str, list] = {name: [] for name in raw}
    existing = {t for (t,) in conn.execute("SELECT tenant_id FROM customers")}
    tenants = set(existing)
    new_customers = {r["tenant_id"].strip() for _, r in raw.get("customers.csv", [])}
    tenants |= new_customers
    upns = {(r["tenant_id"].strip(), r["upn"].strip()) for _, r in raw.get("users.csv", [])}
    sub_ids = {(r["tenant_id"].strip(), r["subscription_id"].strip()) for _, r in raw.get("subscriptions.csv", [])}
    if raw.keys() & {"assignments.csv", "activity.csv"}:
        upns |= {tuple(r) for r in conn.execute(
            "SELECT c.tenant_id, u.upn FROM users u JOIN customers c ON c.id = u.customer_id")}
        sub_ids |= {tuple(r) for r in conn.execute(
            "SELECT c.tenant_id, s.ext_id FROM subscriptions s JOIN customers c ON c.id = s.customer_id")}

    def check(name: str, line: int, row: dict, column: str, parse, *args, **kwargs):
        try:
            return parse(row.get(column, ""), *args, **kwargs)
        except ValueError as exc:
            errors.add(str(exc), file=name, line=line, field=column)
            return None

    def text(name, line, row, column, required=True):
        value = row.get(column, "").strip()
        if required and not value:
            errors.add("a value is required", file=name, line=line, field=column)
        return value

    def tenant(name, line, row):
        t = text(name, line, row, "tenant_id")
        if t and t not in tenants:
            errors.add(f"unknown customer {t!r} (not in customers.csv nor in the database)", file=name, line=line, field="tenant_id")
        return t

    for line, r in raw.get("customers.csv", []):
        f = "customers.csv"
        out[f].append((
            text(f, line, r, "tenant_id"), text(f, line, r, "name"), r.get("domain", "").strip(),
            r.get("market", "").strip(), r.get("segment", "").strip(),
            [a.strip() for a in r.get("sales_agents", "").split(";") if a.strip()],
        ))
    for line, r in raw.get("subscriptions.csv", []):
        f = "subscriptions.csv"
        out[f].append((
            tenant(f, line, r), text(f, line, r, "subscription_id"), text(f, line, r, "sku"),
            r.get("offer_name", "").strip(), check(f, line, r, "quantity", parse_int),
            check(f, line, r, "status", parse_choice, STATUSES),
            check(f, line, r, "is_trial", parse_bool, empty=False),
            check(f, line, r, "channel", parse_choice, CHANNELS) if r.get("channel", "").strip() else "partner",
            check(f, line, r, "start_date", parse_date), check(f, line, r, "commitment_end", parse_date),
            r.get("billing_cycle", "").strip().lower(), check(f, line, r, "auto_renew", parse_bool, empty=False),
        ))
    for line, r in raw.get("users.csv", []):
        f = "users.csv"
        out[f].append((
            tenant(f, line, r), text(f, line, r, "upn"), r.get("display_name", "").strip(),
            check(f, line, r, "is_deleted", parse_bool, empty=False), check(f, line, r, "deleted_date", parse_date),
        ))
    for line, r in raw.get("assignments.csv", []):
        f = "assignments.csv"
        t, u = tenant(f, line, r), text(f, line, r, "upn")
        if t and u and (t, u) not in upns:
            errors.add(f"unknown user {u!r} for customer {t!r}", file=f, line=line, field="upn")
        sub = r.get("subscription_id", "").strip() or None
        if t and sub and (t, sub) not in sub_ids:
            errors.add(f"unknown subscription {sub!r} for customer {t!r}", file=f, line=line, field="subscription_id")
        out[f].append((
            t, u, text(f, line, r, "sku"), sub,
            check(f, line, r, "assigned_date", parse_date), check(f, line, r, "state", parse_choice, STATES),
        ))
    for line, r in raw.get("activity.csv", []):
        f = "activity.csv"
        t, u = tenant(f, line, r), text(f, line, r, "upn")
        if t and u and (t, u) not in upns:
            errors.add(f"unknown user {u!r} for customer {t!r}", file=f, line=line, field="upn")
        out[f].append((
            t, u, check(f, line, r, "workload", parse_choice, tuple(WORKLOADS)),
            check(f, line, r, "report_date", parse_date, required=True), check(f, line, r, "last_activity", parse_date),
        ))
    for line, r in raw.get("support_requests.csv", []):
        f = "support_requests.csv"
        out[f].append((
            tenant(f, line, r), text(f, line, r, "request_id"), check(f, line, r, "date", parse_date, required=True),
            text(f, line, r, "category").lower(),
        ))
    for line, r in raw.get("figures_history.csv", []):
        f = "figures_history.csv"
        kind = check(f, line, r, "kind", parse_choice, ("product", "workload"))
        a_col, b_col = ("sold", "assigned") if kind == "product" else ("entitled", "active")
        key = text(f, line, r, "key")
        if kind == "workload" and key and key not in WORKLOADS:
            errors.add(f"{key!r} is not a workload code", file=f, line=line, field="key")
        out[f].append((
            tenant(f, line, r), check(f, line, r, "as_of", parse_date, required=True),
            check(f, line, r, "scope", parse_choice, ("all", "own")), kind, key,
            check(f, line, r, a_col, parse_int), check(f, line, r, b_col, parse_int),
        ))
    return out


def _write(conn: sqlite3.Connection, parsed: dict) -> LoadResult:
    result = LoadResult()
    for tenant_id, name, domain, market, segment, agents in parsed.get("customers.csv", []):
        cid = writes.upsert_customer(conn, tenant_id, name, domain, market, segment)
        writes.set_customer_agents(conn, cid, agents)
    cids = dict(conn.execute("SELECT tenant_id, id FROM customers"))
    skus = {r[2] for r in parsed.get("subscriptions.csv", [])} | {r[2] for r in parsed.get("assignments.csv", [])}
    skus |= {r[4] for r in parsed.get("figures_history.csv", []) if r[3] == "product"}
    unknown = writes.ensure_products(conn, skus)
    if unknown:
        result.warnings.append(f"SKU(s) not in the catalogue, kept under their part number: {', '.join(unknown)}")
    touched: set[int] = set()
    subs = parsed.get("subscriptions.csv", [])
    writes.upsert_subscriptions(conn, [(cids[r[0]],) + tuple(r[1:6]) + (int(r[6]), r[7], r[8], r[9], r[10], int(r[11])) for r in subs])
    touched |= {cids[r[0]] for r in subs}
    users = parsed.get("users.csv", [])
    writes.upsert_users(conn, [(cids[t], u, d, int(x), dd) for t, u, d, x, dd in users])
    touched |= {cids[r[0]] for r in users}
    uids = {
        (t, u): i for t, u, i in conn.execute(
            "SELECT c.tenant_id, u.upn, u.id FROM users u JOIN customers c ON c.id = u.customer_id"
        )
    }
    sids = {(t, e): i for t, e, i in conn.execute(
        "SELECT c.tenant_id, s.ext_id, s.id FROM subscriptions s JOIN customers c ON c.id = s.customer_id")}
    asg = parsed.get("assignments.csv", [])
    if asg:
        rows = []
        for t, u, sku, sub, assigned, state in asg:
            rows.append((uids[(t, u)], sku, sids.get((t, sub)) if sub else None, assigned, state))
        writes.replace_assignments(conn, sorted({r[0] for r in rows}), rows)
        touched |= {cids[r[0]] for r in asg}
    act = parsed.get("activity.csv", [])
    writes.upsert_activity(conn, [(uids[(t, u)], w, d, last) for t, u, w, d, last in act])
    touched |= {cids[r[0]] for r in act}
    sup = parsed.get("support_requests.csv", [])
    writes.upsert_support_requests(conn, [(cids[t], e, d, c) for t, e, d, c in sup])
    touched |= {cids[r[0]] for r in sup}
    result.customers = len(touched | {cids[r[0]] for r in parsed.get("customers.csv", [])})
    if touched:
        result.snapshots += recompute(conn, touched)
    hist = parsed.get("figures_history.csv", [])
    if hist:
        prod = pd.DataFrame(
            [(cids[t], d, s, k, a, b) for t, d, s, kind, k, a, b in hist if kind == "product"],
            columns=["customer_id", "as_of", "scope", "sku", "sold", "assigned"],
        )
        wl = pd.DataFrame(
            [(cids[t], d, s, k, a, b) for t, d, s, kind, k, a, b in hist if kind == "workload"],
            columns=["customer_id", "as_of", "scope", "workload", "entitled", "active"],
        )
        result.snapshots += store_imported_figures(conn, prod, wl)
    return result
