"""The exported row sets: columns and rows, read with SQL from the figures.

Each builder returns a :class:`RowSet`: its columns (name, type, width) and
an iterator of row batches (lists of tuples, one value per column). Values are
raw: percentages exact on a 0-100 scale (or None: not available), dates ISO
text; the writers round and scale (see writers.py). Text is neutralised
against formula injection either here, in the SQL (``safe=True``: deployment,
usage), or by the writers (users, portfolio).

The users row set reconstructs, per user, the rules of
:mod:`adopt_tui.metrics.compute` (see :func:`users_frame`); the tests check
that it sums to the stored figures, so a change of the rules there must be
made here too.

Deployment and usage rows come from one SQL statement each over
``fig_product`` / ``fig_workload`` joined to every visible customer's snapshot
(its latest figures on or before the as-of date), like
:func:`adopt_tui.metrics.read.metrics_document`, so 100,000+ rows stream in
batches without per-customer queries.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

from adopt_tui.auth.permissions import Principal, customer_scope_sql
from adopt_tui.catalogue import WORKLOADS, workload_name
from adopt_tui.metrics.rules import USAGE_BANDS

if TYPE_CHECKING:  # pandas is imported where it is used: CSV exports of figures do not need it
    import pandas as pd

BATCH_ROWS = 5000

TEXT, INT, PCT, BOOL, DATE, MIXED = "text", "int", "pct", "bool", "date", "mixed"


@dataclass(frozen=True)
class Column:
    name: str
    type: str   # text | int | pct | bool | date (ISO text) | mixed (per value: int, float, Percent, text)
    width: int  # XLSX column width in characters


class Percent(float):
    """A percentage (0-100 scale) in a MIXED column (the portfolio's value column)."""


@dataclass
class RowSet:
    kind: str
    sheet: str
    columns: list[Column]
    total: int                            # number of rows (for progress)
    batches: Iterable[list[tuple]]
    safe: bool = False                    # text already neutralised (by SQL); else the writers do it


# The first characters that make a spreadsheet read text as a formula (or
# that Excel strips before doing so): = + - @ tab CR LF.
DANGEROUS_FIRST = "=+-@\t\r\n"


def safe_sql(expr: str) -> str:
    """SQL for ``expr`` with a leading apostrophe when it starts with a
    character of :data:`DANGEROUS_FIRST` (the writers' ``neutralise``, in SQL)."""
    return (f"CASE WHEN substr({expr}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13), char(10)) "
            f"THEN '''' || {expr} ELSE {expr} END")


DEPLOYMENT_COLUMNS = [
    Column("customerTenantId", TEXT, 38),
    Column("customerName", TEXT, 32),
    Column("productName", TEXT, 36),
    Column("sku", TEXT, 26),
    Column("licensesSold", INT, 13),
    Column("licensesDeployed", INT, 17),
    Column("deploymentPercent", PCT, 19),
    Column("scope", TEXT, 7),
    Column("asOf", DATE, 11),
]

USAGE_COLUMNS = [
    Column("customerTenantId", TEXT, 38),
    Column("customerName", TEXT, 32),
    Column("workloadName", TEXT, 30),
    Column("workloadCode", TEXT, 22),
    Column("licensesQualified", INT, 18),
    Column("licensesActive", INT, 15),
    Column("usagePercent", PCT, 14),
    Column("adjustedUsagePercent", PCT, 22),
    Column("explanationCodes", TEXT, 40),
    Column("recommendationCodes", TEXT, 40),
    Column("asOf", DATE, 11),
]

PORTFOLIO_COLUMNS = [
    Column("metric", TEXT, 30),
    Column("value", MIXED, 12),
    Column("scope", TEXT, 7),
    Column("asOf", DATE, 11),
]

# metric name in the export -> key of metrics_document()["portfolio"]
PORTFOLIO_METRICS = [
    ("customers", "customers"),
    ("licensesSold", "sold"),
    ("licensesDeployed", "assigned"),
    ("deploymentPercent", "deployment_pct"),
    ("licensesQualified", "entitled"),
    ("licensesActive", "active"),
    ("usagePercent", "usage_pct"),
    ("adjustedUsagePercent", "adjusted_usage_pct"),
    ("customersLowAdoption", "low_adoption"),
    ("customersUpsell", "upsell"),
    ("customersRightSize", "right_size"),
    ("customersHighSupportVolume", "high_support_volume"),
    ("customersOver100", "over_100"),
    ("customersRenewalsDue", "renewals_due"),
]
PORTFOLIO_PCT = {"deployment_pct", "usage_pct", "adjusted_usage_pct"}
BAND_KEYS = (*USAGE_BANDS, "n/a")


# --------------------------------------------------------------------------- shared SQL


def _where(principal: Principal, customer_ids: list[int] | None) -> tuple[str, dict]:
    cond, params = customer_scope_sql(principal)
    named: dict = {}
    where = cond.replace("?", ":agent")
    if params:
        named["agent"] = params[0]
    if customer_ids is not None:
        where += " AND c.id IN (SELECT value FROM json_each(:ids))"
        named["ids"] = json.dumps([int(i) for i in customer_ids])
    return where, named


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


SNAP_TABLE = "temp._export_snap"


def _snapshots(conn: sqlite3.Connection, principal: Principal, scope: str, as_of: str,
               customer_ids: list[int] | None) -> None:
    """Fill a temporary table with each exported customer's snapshot: its latest
    as-of date on or before ``as_of`` in ``scope`` (visible customers only).

    Built once per export so that the row count (for progress) and the rows
    share it; a per-customer search on fig_customer's primary key, newest first.
    ``ord`` numbers the customers by name (case-insensitive), the export's order.
    The per-customer columns of the rows (tenant id, name, recommendation
    codes, as-of date) are looked up and neutralised here, once per customer
    rather than once per exported row.
    The queries over it start from it (CROSS JOIN fixes the join order: the
    planner has no statistics for a temporary table and would scan the figures).
    """
    where, params = _where(principal, customer_ids)
    params.update(scope=scope, as_of=as_of)
    conn.execute(f"DROP TABLE IF EXISTS {SNAP_TABLE}")
    conn.execute(f"CREATE TEMP TABLE {SNAP_TABLE.split('.')[1]}"
                 "(ord INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, as_of TEXT NOT NULL,"
                 " tenant_id TEXT, name TEXT, as_of_text TEXT, rec_codes TEXT)")
    conn.execute(
        f"""INSERT INTO {SNAP_TABLE}(customer_id, as_of, tenant_id, name, as_of_text, rec_codes)
        WITH snap AS MATERIALIZED (
            SELECT c.id, c.tenant_id, c.name, (SELECT g.as_of FROM fig_customer g WHERE g.customer_id = c.id
                                               AND g.as_of <= :as_of AND g.scope = :scope
                                               ORDER BY g.as_of DESC LIMIT 1) AS snap_as_of
            FROM customers c WHERE {where}
        ), found AS MATERIALIZED (
            SELECT id, tenant_id, name, snap_as_of,
                (SELECT trim(replace(fc.rec_codes, ',', ';'), ';') FROM fig_customer fc
                 WHERE fc.customer_id = snap.id AND fc.as_of = snap.snap_as_of AND fc.scope = :scope) AS recs
            FROM snap WHERE snap_as_of IS NOT NULL
        )
        SELECT id, snap_as_of, {safe_sql('tenant_id')}, {safe_sql('name')}, {safe_sql('snap_as_of')}, {safe_sql('recs')}
        FROM found ORDER BY name COLLATE NOCASE, id""",
        params,
    )


def _stream(conn: sqlite3.Connection, sql: str, params: dict) -> Iterator[list[tuple]]:
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples, whatever the connection's factory
    cur.execute(sql, params)
    try:
        while True:
            batch = cur.fetchmany(BATCH_ROWS)
            if not batch:
                return
            yield batch
    finally:
        cur.close()


def _count(conn: sqlite3.Connection, table: str, scope: str) -> int:
    return conn.execute(
        f"SELECT COUNT(*) FROM {SNAP_TABLE} s CROSS JOIN {table} f "
        "ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = ?", (scope,),
    ).fetchone()[0]


# --------------------------------------------------------------------------- deployment


def deployment_rows(
    conn: sqlite3.Connection, principal: Principal, scope: str, as_of: str, customer_ids: list[int] | None
) -> RowSet:
    """One row per customer and product in the customer's snapshot."""
    _snapshots(conn, principal, scope, as_of, customer_ids)
    sql = f"""
        SELECT s.tenant_id, s.name, {safe_sql('COALESCE(p.name, f.sku)')},
               {safe_sql('f.sku')}, f.sold, f.assigned,
               CASE WHEN f.sold = 0 THEN NULL ELSE 100.0 * f.assigned / f.sold END,
               :scope, s.as_of_text
        FROM {SNAP_TABLE} s
        CROSS JOIN fig_product f ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope
        LEFT JOIN products p ON p.sku = f.sku
        ORDER BY s.ord, f.sold DESC, f.sku"""
    return RowSet("deployment", "Deployment", DEPLOYMENT_COLUMNS, _count(conn, "fig_product", scope),
                  _stream(conn, sql, {"scope": scope}), safe=True)


# --------------------------------------------------------------------------- usage


def usage_rows(
    conn: sqlite3.Connection, principal: Principal, scope: str, as_of: str, customer_ids: list[int] | None
) -> RowSet:
    """One row per customer and workload in the customer's snapshot."""
    _snapshots(conn, principal, scope, as_of, customer_ids)
    # catalogue names are ours (checked safe below); an unknown code is neutralised like any text
    assert not any(n[:1] in DANGEROUS_FIRST for n in WORKLOADS.values())
    names = "CASE f.workload " + " ".join(
        f"WHEN {_sql_text(code)} THEN {_sql_text(name)}" for code, name in WORKLOADS.items()
    ) + f" ELSE {safe_sql('f.workload')} END"
    sql = f"""
        SELECT s.tenant_id, s.name, {names},
               {safe_sql('f.workload')}, f.entitled, f.active,
               CASE WHEN f.entitled = 0 THEN NULL ELSE 100.0 * f.active / f.entitled END,
               CASE WHEN f.entitled = 0 OR f.active_entitled IS NULL THEN NULL
                    ELSE 100.0 * f.active_entitled / f.entitled END,
               CASE WHEN f.explanations IN ('', '[]') THEN '' ELSE (SELECT {safe_sql('codes')} FROM (
                   SELECT group_concat(json_extract(e.value, '$.code'), ';') AS codes FROM json_each(f.explanations) e)) END,
               s.rec_codes, s.as_of_text
        FROM {SNAP_TABLE} s
        CROSS JOIN fig_workload f ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope
        ORDER BY s.ord, f.workload LIKE 'dyn\\_%' ESCAPE '\\', f.workload"""
    return RowSet("usage", "Usage", USAGE_COLUMNS, _count(conn, "fig_workload", scope),
                  _stream(conn, sql, {"scope": scope}), safe=True)


# --------------------------------------------------------------------------- users of one customer


def _workload_order(code: str) -> tuple[int, int, str]:
    codes = list(WORKLOADS)
    return (0, codes.index(code), code) if code in WORKLOADS else (1, 0, code)


def users_frame(conn: sqlite3.Connection, customer_id: int, scope: str, snap: str) -> tuple[pd.DataFrame, list[str]]:
    """Per user of one customer, as of ``snap``: upn, display_name, is_deleted,
    and per workload code ``ent_<code>``, ``last_<code>``, ``act_<code>``.

    The rules are those of :mod:`adopt_tui.metrics.compute` (so the columns
    sum to the customer's fig_workload figures in the scope):
    entitled = not deleted by ``snap``, holding in state ``entitled`` a SKU
    that includes the workload through a counted subscription in scope
    (active, not a trial; an assignment whose subscription is unknown is
    attributed to the SKU); active = last activity within
    ``[snap - 27 days, snap]`` in the report dated ``snap`` (all activity
    counts; in the ``own`` scope, activity of a user whose license for the
    workload comes only from other channels is left out).
    """
    import pandas as pd

    from adopt_tui.metrics import compute

    data, sku_wl = compute.load_customers(conn, [customer_id])
    users = conn.execute(
        "SELECT id, upn, display_name, is_deleted, deleted_date FROM users WHERE customer_id = ? ORDER BY upn",
        (customer_id,),
    ).fetchall()
    frame = pd.DataFrame([tuple(u) for u in users],
                         columns=["user_id", "upn", "display_name", "is_deleted", "deleted_date"])
    frame["deleted"] = (frame.is_deleted == 1) & (frame.deleted_date.isna() | (frame.deleted_date <= snap))
    facts = compute.user_facts(data, sku_wl, snap, scope, [customer_id])
    a, ent, act, report = facts.a, facts.ent, facts.act, facts.report

    fig_workloads = [r[0] for r in conn.execute(
        "SELECT workload FROM fig_workload WHERE customer_id = ? AND as_of = ? AND scope = ?",
        (customer_id, snap, scope),
    )]
    codes = sorted(
        set(fig_workloads) | set(ent.workload) | set(report.workload) | set(sku_wl.workload[sku_wl.sku.isin(a.sku)]),
        key=_workload_order,
    )
    last = report.pivot_table(index="user_id", columns="workload", values="last_activity", aggfunc="max") \
        if len(report) else pd.DataFrame()
    ent_set = set(zip(ent.user_id, ent.workload))
    act_set = set(zip(act.user_id, act.workload))
    for code in codes:
        frame[f"ent_{code}"] = [(u, code) in ent_set for u in frame.user_id]
        frame[f"act_{code}"] = [(u, code) in act_set for u in frame.user_id]
        if code in getattr(last, "columns", ()):
            col = frame.user_id.map(last[code])
            frame[f"last_{code}"] = pd.Series([None if pd.isna(v) else str(v) for v in col], index=frame.index,
                                              dtype=object)
        else:
            frame[f"last_{code}"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame, codes


def customer_snapshot(conn: sqlite3.Connection, customer_id: int, scope: str, as_of: str) -> tuple[str, str] | None:
    """(as-of date, source) of the customer's latest figures on or before ``as_of``; None when none.
    source: ``computed`` (from user-level rows) or ``imported`` (aggregates only)."""
    row = conn.execute(
        "SELECT as_of, source FROM fig_customer WHERE customer_id = ? AND scope = ? AND as_of <= ? "
        "ORDER BY as_of DESC LIMIT 1",
        (customer_id, scope, as_of),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def users_rows(frame: pd.DataFrame, codes: list[str], scope: str, snap: str) -> RowSet:
    columns = [
        Column("userPrincipalName", TEXT, 36),
        Column("displayName", TEXT, 26),
        Column("isDeleted", BOOL, 10),
        Column("entitledWorkloads", TEXT, 40),
    ]
    for code in codes:
        columns.append(Column(f"lastActivity_{code}", DATE, max(13, len(code) + 14)))
        columns.append(Column(f"active_{code}", BOOL, max(8, len(code) + 8)))
    columns += [Column("scope", TEXT, 7), Column("asOf", DATE, 11)]
    rows = []
    for rec in frame.to_dict("records"):
        row = [rec["upn"], rec["display_name"], bool(rec["deleted"]),
               ";".join(c for c in codes if rec[f"ent_{c}"])]
        for code in codes:
            row.append(rec[f"last_{code}"])
            row.append(bool(rec[f"act_{code}"]))
        row += [scope, snap]
        rows.append(tuple(row))
    batches = [rows[i:i + BATCH_ROWS] for i in range(0, len(rows), BATCH_ROWS)]
    return RowSet("users", "Users", columns, len(rows), batches)


def users_document(frame: pd.DataFrame, codes: list[str], customer, scope: str, snap: str) -> dict:
    """The JSON for the users kind (documented in README.md ("Export"))."""
    return {
        "as_of": snap,
        "scope": scope,
        "customer": {"tenant_id": customer.tenant_id, "name": customer.name},
        "workloads": [{"workload": c, "name": workload_name(c)} for c in codes],
        "users": [
            {
                "upn": rec["upn"],
                "display_name": rec["display_name"],
                "is_deleted": bool(rec["deleted"]),
                "entitled_workloads": [c for c in codes if rec[f"ent_{c}"]],
                "workloads": {
                    c: {"last_activity": rec[f"last_{c}"], "active": bool(rec[f"act_{c}"])} for c in codes
                },
            }
            for rec in frame.to_dict("records")
        ],
    }


# --------------------------------------------------------------------------- portfolio


def portfolio_document(
    conn: sqlite3.Connection, principal: Principal, scope: str, as_of: str, customer_ids: list[int] | None
) -> dict:
    """``{"as_of", "scope", "portfolio"}`` where ``portfolio`` is exactly
    ``metrics_document(...)["portfolio"]`` (computed without the per-customer part)."""
    from adopt_tui.metrics import read

    if customer_ids is None:  # every visible customer: the cached portfolio where there is one
        p = read.portfolio(conn, principal, scope, as_of, with_trend=False)
    else:
        table = read.customer_table(conn, principal, scope, as_of)
        p = read.portfolio(conn, principal, scope, as_of, table=table[table.id.isin(customer_ids)], with_trend=False)
    tot = p.totals
    return {
        "as_of": p.as_of,
        "scope": scope,
        "portfolio": read.portfolio_summary(p),
        "_exact": {k: tot[k] for k in PORTFOLIO_PCT},
    }


def portfolio_rows(doc: dict) -> RowSet:
    """metric, value, scope, asOf: the totals, then one ``usageBand_<band>`` row per band."""
    port, exact = doc["portfolio"], doc["_exact"]
    scope, as_of = doc["scope"], doc["as_of"]
    rows = []
    for metric, key in PORTFOLIO_METRICS:
        if key in PORTFOLIO_PCT:
            value = None if exact[key] is None else Percent(exact[key])
        else:
            value = port[key]
        rows.append((metric, value, scope, as_of))
    for band in BAND_KEYS:
        rows.append((f"usageBand_{band}", port["bands"].get(band, 0), scope, as_of))
    return RowSet("portfolio", "Portfolio", PORTFOLIO_COLUMNS, len(rows), [rows])
