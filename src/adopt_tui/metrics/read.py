"""Reading the precomputed figures: what the screens, exports and CLI call.

Every function takes the signed-in :class:`Principal` and returns only what it
may see (a Sales agent: the customers assigned to them, everywhere).

A customer's figures "as of D" are its latest snapshot on or before D; the
default D is the latest as-of date in the database.
"""

from __future__ import annotations

import json
import sqlite3
from json.encoder import encode_basestring as _encode_str
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from adopt_tui.auth.permissions import Perm, Principal, customer_scope_sql
from adopt_tui.catalogue import workload_name
from adopt_tui.errors import NotFound
from adopt_tui.metrics import cache as _cache
from adopt_tui.metrics.rules import (
    RECOMMENDATIONS, USAGE_BANDS, add_days, describe_explanation, pct, round1, usage_band,
)
from adopt_tui.store import settings as settings_store

TREND_DEADBAND = 0.5  # percentage points: smaller changes show as flat


@dataclass(frozen=True)
class Customer:
    id: int
    tenant_id: str
    name: str
    domain: str
    market: str
    segment: str
    agents: tuple[str, ...] = ()


@dataclass
class ProductFigure:
    sku: str
    name: str
    sold: int
    assigned: int
    deployment_pct: float | None
    subscriptions: list[dict] = field(default_factory=list)  # {status, is_trial, channel, quantity}


@dataclass
class WorkloadFigure:
    workload: str
    name: str
    entitled: int
    active: int
    active_entitled: int | None
    usage_pct: float | None
    adjusted_usage_pct: float | None
    explanations: list[dict] = field(default_factory=list)  # {code, text, ...figures}


@dataclass
class CustomerFigures:
    customer: Customer
    scope: str
    as_of: str | None
    source: str | None
    sold: int = 0
    assigned: int = 0
    entitled: int = 0
    active: int = 0
    deployment_pct: float | None = None
    usage_pct: float | None = None
    adjusted_usage_pct: float | None = None
    over_100: bool = False
    unexplained: bool = False
    renewal_due: int = 0
    products: list[ProductFigure] = field(default_factory=list)
    workloads: list[WorkloadFigure] = field(default_factory=list)
    recommendations: list[dict] = field(default_factory=list)  # {code, reason, title, consider, try}


# --------------------------------------------------------------------------- helpers


def _require_view(conn: sqlite3.Connection, principal: Principal) -> None:
    principal.require(Perm.VIEW_CUSTOMERS, conn, action="see customer data")


def latest_as_of(conn: sqlite3.Connection) -> str | None:
    return conn.execute("SELECT MAX(as_of) FROM fig_customer").fetchone()[0]


def as_of_dates(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT as_of FROM fig_customer ORDER BY as_of")]


def _as_of(conn: sqlite3.Connection, as_of: str | None) -> str:
    return as_of or latest_as_of(conn) or "9999-12-31"


def _check_scope(scope: str) -> str:
    if scope not in ("all", "own"):
        raise ValueError(f"scope must be 'all' or 'own', not {scope!r}")
    return scope


def visible_customers(conn: sqlite3.Connection, principal: Principal) -> list[Customer]:
    _require_view(conn, principal)
    cond, params = customer_scope_sql(principal)
    rows = conn.execute(
        "SELECT c.id, c.tenant_id, c.name, c.domain, c.market, c.segment, "
        "(SELECT group_concat(agent, ';') FROM (SELECT agent FROM customer_agents WHERE customer_id = c.id ORDER BY agent)) "
        f"FROM customers c WHERE {cond} ORDER BY c.name COLLATE NOCASE", params,
    )
    return [_customer(r) for r in rows]


def _customer(r) -> Customer:
    return Customer(r[0], r[1], r[2], r[3], r[4], r[5], tuple(a for a in (r[6] or "").split(";") if a))


def get_customer(conn: sqlite3.Connection, principal: Principal, customer_id: int) -> Customer:
    _require_view(conn, principal)
    cond, params = customer_scope_sql(principal)
    row = conn.execute(
        "SELECT c.id, c.tenant_id, c.name, c.domain, c.market, c.segment, "
        "(SELECT group_concat(agent, ';') FROM (SELECT agent FROM customer_agents WHERE customer_id = c.id ORDER BY agent)) "
        f"FROM customers c WHERE c.id = ? AND {cond}", (customer_id, *params),
    ).fetchone()
    if row is None:
        raise NotFound(f"no customer with id {customer_id} that you may see")
    return _customer(row)


def resolve_customer(conn: sqlite3.Connection, principal: Principal, text: str) -> Customer:
    """A visible customer by tenant id or exact name (case-insensitive)."""
    _require_view(conn, principal)
    cond, params = customer_scope_sql(principal)
    rows = conn.execute(
        f"SELECT c.id FROM customers c WHERE (c.tenant_id = ? COLLATE NOCASE OR c.name = ? COLLATE NOCASE) AND {cond}",
        (text.strip(), text.strip(), *params),
    ).fetchall()
    if not rows:
        raise NotFound(f"no customer {text!r} (by tenant id or exact name) that you may see")
    if len(rows) > 1:
        raise NotFound(f"{text!r} names {len(rows)} customers; use the tenant id")
    return get_customer(conn, principal, rows[0][0])


# --------------------------------------------------------------------------- the customer list


LIST_COLUMNS = [
    "id", "tenant_id", "name", "domain", "market", "segment", "agents", "as_of", "sold", "assigned",
    "entitled", "active", "active_entitled", "deployment_pct", "usage_pct", "adjusted_pct", "over_100", "unexplained", "rec_codes", "renewal_due",
    "prev_usage_pct", "products",
]
_INT_COLUMNS = frozenset({"sold", "assigned", "entitled", "active", "over_100", "unexplained", "renewal_due"})
_FLOAT_COLUMNS = frozenset({"active_entitled", "deployment_pct", "usage_pct", "adjusted_pct", "prev_usage_pct"})
_BLANK_COLUMNS = frozenset({"agents", "rec_codes", "products", "as_of"})  # NULL becomes ""

# One row per customer (ordered by id): its latest snapshot on or before :as_of.
_LIST_SQL = """
SELECT c.id, c.tenant_id, c.name, c.domain, c.market, c.segment,
    (SELECT group_concat(agent, '; ') FROM (SELECT agent FROM customer_agents WHERE customer_id = c.id ORDER BY agent)) AS agents,
    f.as_of, f.sold, f.assigned, f.entitled, f.active, f.active_entitled, f.deployment_pct, f.usage_pct, f.adjusted_pct, f.over_100, f.unexplained,
    f.rec_codes, f.renewal_due,
    (SELECT p.usage_pct FROM fig_customer p WHERE p.customer_id = c.id AND p.scope = :scope
        AND p.as_of < date(f.as_of, 'start of month') ORDER BY p.as_of DESC LIMIT 1) AS prev_usage_pct,
    (SELECT ',' || group_concat(sku, ',') || ',' FROM fig_product fp WHERE fp.customer_id = c.id
        AND fp.as_of = f.as_of AND fp.scope = :scope AND (fp.sold > 0 OR fp.assigned > 0)) AS products
FROM customers c
LEFT JOIN fig_customer f ON f.customer_id = c.id AND f.scope = :scope AND f.as_of = (
    SELECT MAX(g.as_of) FROM fig_customer g WHERE g.customer_id = c.id AND g.scope = :scope AND g.as_of <= :as_of)
WHERE {cond}
ORDER BY c.id
"""

# The same columns from the cache (rows of the latest as-of date).
_CACHED_LIST_SQL = f"SELECT customer_id, {', '.join(LIST_COLUMNS[1:])} FROM cache_customer WHERE scope = :scope"


def _tuples(conn: sqlite3.Connection, sql: str, params) -> list[tuple]:
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: faster than sqlite3.Row for many rows
    return cur.execute(sql, params).fetchall()


def _list_rows_live(conn: sqlite3.Connection, cond: str, named: dict) -> list[tuple]:
    return _tuples(conn, _LIST_SQL.format(cond=cond), named)


def _list_frame(rows: list[tuple]) -> pd.DataFrame:
    """:func:`customer_table`'s frame from the list query's rows (in id order)."""
    columns = list(zip(*rows)) if rows else [()] * len(LIST_COLUMNS)
    data = {}
    for name, col in zip(LIST_COLUMNS, columns):
        if name == "id":
            data[name] = np.array(col, dtype="int64")
        elif name in _INT_COLUMNS:
            data[name] = np.array([0 if v is None else v for v in col], dtype="int64")
        elif name in _FLOAT_COLUMNS:
            data[name] = np.array([np.nan if v is None else v for v in col], dtype="float64")
        elif name in _BLANK_COLUMNS:
            data[name] = pd.array(["" if v is None else v for v in col], dtype="str")
        else:
            data[name] = pd.array(list(col), dtype="str")
    df = pd.DataFrame(data)
    codes = df.rec_codes
    df["low_adoption"] = codes.str.contains(",low_adoption,", regex=False)
    df["upsell"] = codes.str.contains(",upsell,", regex=False)
    df["right_size"] = codes.str.contains(",right_size,", regex=False)
    df["high_support"] = codes.str.contains(",high_support_volume,", regex=False)
    delta = df.usage_pct - df.prev_usage_pct
    df["trend"] = ""
    df.loc[delta > TREND_DEADBAND, "trend"] = "▲"
    df.loc[delta < -TREND_DEADBAND, "trend"] = "▼"
    df.loc[delta.abs() <= TREND_DEADBAND, "trend"] = "="
    df["search"] = (df.name + "\t" + df.tenant_id + "\t" + df.domain).str.lower()
    return df.sort_values("name", key=lambda s: s.str.lower(), kind="stable").reset_index(drop=True)


def customer_table(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    *, cache: bool = True,
) -> pd.DataFrame:
    """One row per visible customer with its summary figures (the customer list).

    Adds boolean columns ``low_adoption``, ``upsell``, ``right_size``,
    ``high_support``, ``trend`` (``▲``/``▼``/``=``/``""``) and a lower-cased
    ``search`` column (name, tenant id, domain) for the filter.

    For the latest as-of date it reads the cache (:mod:`adopt_tui.metrics.cache`),
    filling what is missing; ``cache=False`` computes everything from the figures.
    """
    _require_view(conn, principal)
    scope = _check_scope(scope)
    if cache:
        with _cache.snapshot(conn) as snap:
            if _cache.is_default(snap, as_of):
                return _cached_table(snap, principal, scope)
    as_of = _as_of(conn, as_of)
    cond, params = customer_scope_sql(principal)
    named = {"scope": scope, "as_of": as_of}
    if params:
        named["agent"] = params[0]
    return _list_frame(_list_rows_live(conn, cond.replace("?", ":agent"), named))


def _frame_to_arrow(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _frame_from_arrow(data: bytes) -> pd.DataFrame | None:
    import pyarrow as pa

    try:
        return pa.ipc.open_stream(data).read_all().to_pandas()
    except (pa.ArrowException, ValueError, TypeError):  # a damaged entry: compute again
        return None


def _cached_table(snap: _cache.Snapshot, principal: Principal, scope: str) -> pd.DataFrame:
    """customer_table for the latest as-of date: the whole list from one entry for a
    principal who sees every customer; a Sales agent's rows from the per-customer cache."""
    everyone = principal.sees_all_customers
    key = ("list", scope, None if everyone else principal.username)
    frame = snap.memo.get(key)
    if frame is not None:
        return frame
    if everyone:
        blob = _cache.get_blob(snap, scope, "list")
        frame = _frame_from_arrow(blob) if blob is not None else None
    if frame is None:
        frame = _list_frame(_cached_list_rows(snap, principal, scope))
        if everyone:
            _cache.put_blob(snap, scope, "list", _frame_to_arrow(frame))
            _cache.put_blob(snap, scope, "order", json.dumps(frame.id.tolist()))
    snap.memo[key] = frame
    return frame


def _cached_list_rows(snap: _cache.Snapshot, principal: Principal, scope: str) -> list[tuple]:
    """The list query's rows of the visible customers for the latest as-of date, in id
    order: from the cache where present, the rest computed (and stored)."""
    conn = snap.conn
    cond, params = customer_scope_sql(principal)
    cond = cond.replace("?", ":agent")
    named = {"scope": scope, "as_of": snap.latest}
    if params:
        named["agent"] = params[0]
    visible = [r[0] for r in _tuples(conn, f"SELECT c.id FROM customers c WHERE {cond} ORDER BY c.id", named)]
    cached: dict[int, tuple] = {}
    if snap.valid and visible:
        sql = _CACHED_LIST_SQL if principal.sees_all_customers else (
            f"{_CACHED_LIST_SQL} AND customer_id IN (SELECT c.id FROM customers c WHERE {cond})")
        cached = {r[0]: r for r in _tuples(conn, sql, named)}
    missing = [i for i in visible if i not in cached]
    if not missing:
        return [cached[i] for i in visible]
    if len(missing) == len(visible):
        fresh = _list_rows_live(conn, cond, named)
    else:
        fresh = _list_rows_live(conn, "c.id IN (SELECT value FROM json_each(:ids))", dict(named, ids=json.dumps(missing)))
    cols = ", ".join(LIST_COLUMNS[1:])
    snap.write(lambda c: c.executemany(
        f"INSERT OR IGNORE INTO cache_customer(scope, customer_id, {cols}) "
        f"VALUES (?, {', '.join('?' * len(LIST_COLUMNS))})",
        [(scope, *r) for r in fresh],
    ))
    if not cached:
        return fresh
    cached.update((r[0], r) for r in fresh)
    return [cached[i] for i in visible if i in cached]


def filter_customers(
    df: pd.DataFrame,
    query: str = "",
    *,
    low_adoption: bool = False,
    upsell: bool = False,
    over_100: bool = False,
    renewal_due: bool = False,
    right_size: bool = False,
    product: str | None = None,
    agent: str | None = None,
    market: str | None = None,
    segment: str | None = None,
) -> pd.DataFrame:
    """Vectorised filters over :func:`customer_table`'s frame (no database)."""
    mask = pd.Series(True, index=df.index)
    q = query.strip().lower()
    if q:
        mask &= df.search.str.contains(q, regex=False)
    if low_adoption:
        mask &= df.low_adoption
    if upsell:
        mask &= df.upsell
    if right_size:
        mask &= df.right_size
    if over_100:
        mask &= df.over_100.astype(bool)
    if renewal_due:
        mask &= df.renewal_due > 0
    if product:
        mask &= df.products.str.contains(f",{product},", regex=False)
    if agent:
        mask &= ("; " + df.agents + ";").str.contains(f"; {agent};", regex=False)
    if market:
        mask &= df.market == market
    if segment:
        mask &= df.segment == segment
    return df[mask]


# --------------------------------------------------------------------------- one customer


def customer_figures(
    conn: sqlite3.Connection, principal: Principal, customer_id: int, scope: str = "all", as_of: str | None = None
) -> CustomerFigures:
    customer = get_customer(conn, principal, customer_id)
    scope, as_of = _check_scope(scope), _as_of(conn, as_of)
    row = conn.execute(
        "SELECT * FROM fig_customer WHERE customer_id = ? AND scope = ? AND as_of <= ? ORDER BY as_of DESC LIMIT 1",
        (customer_id, scope, as_of),
    ).fetchone()
    if row is None:
        return CustomerFigures(customer, scope, None, None)
    snap = row["as_of"]
    figures = CustomerFigures(
        customer, scope, snap, row["source"], row["sold"], row["assigned"], row["entitled"], row["active"],
        row["deployment_pct"], row["usage_pct"], row["adjusted_pct"], bool(row["over_100"]),
        bool(row["unexplained"]), row["renewal_due"],
    )
    subs: dict[str, list[dict]] = {}
    channel_sql = "" if scope == "all" else " AND channel = 'partner'"
    for r in conn.execute(
        "SELECT sku, status, is_trial, channel, SUM(quantity) FROM subscriptions WHERE customer_id = ?"
        f"{channel_sql} GROUP BY sku, status, is_trial, channel ORDER BY sku, status", (customer_id,),
    ):
        subs.setdefault(r[0], []).append(
            {"status": r[1], "is_trial": bool(r[2]), "channel": r[3], "quantity": r[4]}
        )
    for r in conn.execute(
        "SELECT f.sku, COALESCE(p.name, f.sku), f.sold, f.assigned FROM fig_product f "
        "LEFT JOIN products p ON p.sku = f.sku WHERE f.customer_id = ? AND f.as_of = ? AND f.scope = ? "
        "ORDER BY f.sold DESC, f.sku", (customer_id, snap, scope),
    ):
        figures.products.append(ProductFigure(r[0], r[1], r[2], r[3], pct(r[3], r[2]), subs.get(r[0], [])))
    for r in conn.execute(
        "SELECT workload, entitled, active, active_entitled, explanations FROM fig_workload "
        "WHERE customer_id = ? AND as_of = ? AND scope = ? ORDER BY workload", (customer_id, snap, scope),
    ):
        explanations = [dict(e, text=describe_explanation(e)) for e in json.loads(r[4])]
        figures.workloads.append(WorkloadFigure(
            r[0], workload_name(r[0]), r[1], r[2], r[3], pct(r[2], r[1]), pct(r[3], r[1]), explanations,
        ))
    figures.workloads.sort(key=lambda w: (w.workload.startswith("dyn_"), w.name))
    figures.recommendations = [dict(rec, **RECOMMENDATIONS[rec["code"]]) for rec in json.loads(row["recommendations"])]
    return figures


@dataclass
class TrendPoint:
    as_of: str
    deployment_pct: float | None
    usage_pct: float | None
    adjusted_pct: float | None


def customer_trend(
    conn: sqlite3.Connection, principal: Principal, customer_id: int, scope: str = "all",
    as_of: str | None = None, months: int = 12,
) -> list[TrendPoint]:
    """The last snapshot of each month, for the ``months`` months up to ``as_of``."""
    get_customer(conn, principal, customer_id)
    scope, as_of = _check_scope(scope), _as_of(conn, as_of)
    rows = conn.execute(
        """SELECT as_of, deployment_pct, usage_pct, adjusted_pct FROM fig_customer f
           WHERE customer_id = ? AND scope = ? AND as_of <= ? AND as_of = (
               SELECT MAX(as_of) FROM fig_customer g WHERE g.customer_id = f.customer_id AND g.scope = f.scope
               AND substr(g.as_of, 1, 7) = substr(f.as_of, 1, 7) AND g.as_of <= ?)
           ORDER BY as_of DESC LIMIT ?""",
        (customer_id, scope, as_of, as_of, months),
    ).fetchall()
    return [TrendPoint(*r) for r in reversed(rows)]


@dataclass
class SubscriptionRow:
    ext_id: str
    sku: str
    name: str
    offer_name: str
    quantity: int
    status: str
    is_trial: bool
    billing_cycle: str
    start_date: str | None
    commitment_end: str | None
    auto_renew: bool
    renewal_due: bool


def own_subscriptions(
    conn: sqlite3.Connection, principal: Principal, customer_id: int, as_of: str | None = None
) -> list[SubscriptionRow]:
    """This partner's own subscriptions for one customer (the subscriptions view)."""
    get_customer(conn, principal, customer_id)
    as_of = _as_of(conn, as_of)
    days = int(settings_store.get(conn, "renewal_window_days"))
    end = add_days(as_of, days) if as_of != "9999-12-31" else as_of
    rows = conn.execute(
        "SELECT s.ext_id, s.sku, COALESCE(p.name, s.sku), s.offer_name, s.quantity, s.status, s.is_trial, "
        "s.billing_cycle, s.start_date, s.commitment_end, s.auto_renew FROM subscriptions s "
        "LEFT JOIN products p ON p.sku = s.sku WHERE s.customer_id = ? AND s.channel = 'partner' "
        "ORDER BY s.commitment_end IS NULL, s.commitment_end, s.sku", (customer_id,),
    )
    return [
        SubscriptionRow(
            r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9], bool(r[10]),
            r[5] == "active" and r[9] is not None and as_of <= r[9] <= end,
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- the portfolio


@dataclass
class Portfolio:
    as_of: str | None
    scope: str
    totals: dict
    bands: dict[str, int]
    by_product: list[dict]
    by_workload: list[dict]
    by_agent: list[dict]
    lowest_adopters: list[dict]
    upsell_candidates: list[dict]
    right_size_candidates: list[dict]
    renewals: list[dict]
    trend: list[dict]


def _snapshot_pairs(table: pd.DataFrame) -> list[tuple[int, str]]:
    t = table[table.as_of != ""]
    return list(zip(t.id.astype(int), t.as_of))


def portfolio(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    *, table: pd.DataFrame | None = None, top: int = 10, with_trend: bool = True, cache: bool = True,
) -> Portfolio:
    """Portfolio figures over the visible customers (or over ``table``, a
    filtered :func:`customer_table` frame). ``with_trend=False`` leaves the
    12-month trend empty: the slowest part on a large portfolio, which a
    screen can fetch afterwards with :func:`portfolio_trend`.

    For the latest as-of date, a principal who sees every customer gets the
    cached portfolio (``cache=False``: computed from the figures)."""
    scope = _check_scope(scope)
    if table is None and cache and top == 10 and principal.sees_all_customers:
        _require_view(conn, principal)
        with _cache.snapshot(conn) as snap:
            if _cache.is_default(snap, as_of):
                p = _cached_portfolio(snap, principal, scope)
                if with_trend:
                    p.trend = _cached_trend(snap, principal, scope)
                return p
    as_of = _as_of(conn, as_of)
    if table is None:
        table = customer_table(conn, principal, scope, as_of, cache=cache)
    else:
        _require_view(conn, principal)
    return _portfolio_of(conn, table, scope, as_of, top=top, with_trend=with_trend)


def _portfolio_of(
    conn: sqlite3.Connection, table: pd.DataFrame, scope: str, as_of: str, *, top: int = 10, with_trend: bool = True,
) -> Portfolio:
    """The portfolio of the customers in ``table`` (computed from the figures)."""
    t = table
    totals = {
        "customers": int(len(t)),
        "sold": int(t.sold.sum()),
        "assigned": int(t.assigned.sum()),
    }
    known = t[t.active_entitled.notna()]
    totals.update({
        "entitled": int(t.entitled.sum()), "active": int(t.active.sum()),
        "usage_pct": pct(int(t.active.sum()), int(t.entitled.sum())),
        "adjusted_usage_pct": pct(int(known.active_entitled.sum()), int(known.entitled.sum())) if len(known) else None,
    })
    totals["deployment_pct"] = pct(totals["assigned"], totals["sold"])
    totals.update({
        "low_adoption": int(t.low_adoption.sum()),
        "upsell": int(t.upsell.sum()),
        "right_size": int(t.right_size.sum()),
        "high_support_volume": int(t.high_support.sum()),
        "over_100": int(t.over_100.sum()),
        "unexplained": int(t.unexplained.sum()),
        "renewals_due": int((t.renewal_due > 0).sum()),
    })
    bands = {b: 0 for b in USAGE_BANDS}
    bands["n/a"] = 0
    for value in t.usage_pct:
        bands[usage_band(None if pd.isna(value) else value) or "n/a"] += 1

    by_agent = []
    exploded = t.assign(agent=t.agents.str.split("; ")).explode("agent")
    exploded["agent"] = exploded.agent.replace("", "(none)").fillna("(none)")
    for agent, grp in exploded.groupby("agent", sort=True):
        by_agent.append({
            "agent": agent, "customers": int(len(grp)), "sold": int(grp.sold.sum()),
            "assigned": int(grp.assigned.sum()), "deployment_pct": pct(grp.assigned.sum(), grp.sold.sum()),
            "usage_pct": pct(int(grp.active.sum()), int(grp.entitled.sum())),
            "low_adoption": int(grp.low_adoption.sum()), "upsell": int(grp.upsell.sum()),
        })

    def rows(frame: pd.DataFrame) -> list[dict]:
        return [
            {"id": int(r.id), "tenant_id": r.tenant_id, "name": r.name, "agents": r.agents,
             "sold": int(r.sold), "assigned": int(r.assigned), "deployment_pct": _nan(r.deployment_pct),
             "usage_pct": _nan(r.usage_pct), "adjusted_pct": _nan(r.adjusted_pct)}
            for r in frame.itertuples(index=False)
        ]

    with_usage = t[t.usage_pct.notna()]
    lowest = with_usage.sort_values(["usage_pct", "name"]).head(top)
    upsell = t[t.upsell].sort_values(["adjusted_pct", "usage_pct"], ascending=False).head(top)
    candidates = t[t.right_size]
    right = candidates.assign(unassigned=candidates.sold - candidates.assigned)
    right = right.sort_values("unassigned", ascending=False).head(top)
    by_workload, by_product = _sum_snapshots(conn, t, scope)
    return Portfolio(
        as_of=as_of if as_of != "9999-12-31" else None, scope=scope, totals=totals, bands=bands,
        by_product=by_product, by_workload=by_workload, by_agent=by_agent,
        lowest_adopters=rows(lowest), upsell_candidates=rows(upsell), right_size_candidates=rows(right),
        renewals=_renewals(conn, t, as_of), trend=_portfolio_trend(conn, t, scope, as_of) if with_trend else [],
    )


def portfolio_trend(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    *, table: pd.DataFrame | None = None, cache: bool = True,
) -> list[dict]:
    """The portfolio's 12-month trend alone (see :func:`portfolio`)."""
    scope = _check_scope(scope)
    if table is None and cache and principal.sees_all_customers:
        _require_view(conn, principal)
        with _cache.snapshot(conn) as snap:
            if _cache.is_default(snap, as_of):
                return _cached_trend(snap, principal, scope)
    as_of = _as_of(conn, as_of)
    if table is None:
        table = customer_table(conn, principal, scope, as_of, cache=cache)
    else:
        _require_view(conn, principal)
    return _portfolio_trend(conn, table, scope, as_of)


def _cached_portfolio(snap: _cache.Snapshot, principal: Principal, scope: str) -> Portfolio:
    """The whole portfolio (without the trend) for the latest as-of date, for a principal
    who sees every customer: cached, or computed and stored."""
    data = _cache.get_blob(snap, scope, "portfolio")
    if data is not None:
        try:
            return Portfolio(**json.loads(data))
        except (ValueError, TypeError):  # a damaged entry: compute again
            pass
    table = customer_table(snap.conn, principal, scope)
    p = _portfolio_of(snap.conn, table, scope, snap.latest, with_trend=False)
    _cache.put_blob(snap, scope, "portfolio", json.dumps({f.name: getattr(p, f.name) for f in fields(p)}, ensure_ascii=False))
    _cache.put_blob(snap, scope, "summary", json.dumps(portfolio_summary(p), ensure_ascii=False))
    return p


def _cached_trend(snap: _cache.Snapshot, principal: Principal, scope: str) -> list[dict]:
    data = _cache.get_blob(snap, scope, "trend")
    if data is not None:
        try:
            return json.loads(data)
        except ValueError:
            pass
    table = customer_table(snap.conn, principal, scope)
    trend = _portfolio_trend(snap.conn, table, scope, snap.latest)
    _cache.put_blob(snap, scope, "trend", json.dumps(trend, ensure_ascii=False))
    return trend


def _nan(value):
    return None if value is None or pd.isna(value) else float(value)


# The (customer, snapshot date) pairs of a customer table, handed to SQLite as
# JSON: no temporary table to fill, and CROSS JOIN keeps SQLite walking the
# pairs and looking each one up by primary key.
_PAIRS = (
    "(SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS customer_id, "
    "json_extract(value, '$[1]') AS as_of FROM json_each(:pairs))"
)


def _pairs_json(t: pd.DataFrame) -> str:
    return json.dumps([[int(i), d] for i, d in _snapshot_pairs(t)])


def _sum_snapshots(conn: sqlite3.Connection, t: pd.DataFrame, scope: str) -> tuple[list[dict], list[dict]]:
    """Per workload and per product sums over the given customers' snapshots (summed by SQLite)."""
    params = {"pairs": _pairs_json(t), "scope": scope}
    by_workload = [
        {
            "workload": w, "name": workload_name(w), "customers": n, "entitled": ent, "active": act,
            "usage_pct": pct(act, ent), "adjusted_usage_pct": pct(ae, ae_ent) if known else None,
        }
        for w, n, ent, act, ae, ae_ent, known in conn.execute(
            "SELECT f.workload, COUNT(*), SUM(f.entitled), SUM(f.active), SUM(f.active_entitled), "
            "SUM(CASE WHEN f.active_entitled IS NULL THEN 0 ELSE f.entitled END), COUNT(f.active_entitled) "
            f"FROM {_PAIRS} s CROSS JOIN fig_workload f "
            "ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope GROUP BY f.workload",
            params,
        )
    ]
    by_workload.sort(key=lambda r: (r["workload"].startswith("dyn_"), -r["entitled"]))
    by_product = [
        {"sku": sku, "name": name, "customers": n, "sold": sold, "assigned": assigned,
         "deployment_pct": pct(assigned, sold)}
        for sku, name, n, sold, assigned in conn.execute(
            "SELECT f.sku, COALESCE(p.name, f.sku), COUNT(*), SUM(f.sold), SUM(f.assigned) "
            f"FROM {_PAIRS} s CROSS JOIN fig_product f "
            "ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope "
            "LEFT JOIN products p ON p.sku = f.sku GROUP BY f.sku",
            params,
        )
    ]
    by_product.sort(key=lambda r: (-r["sold"], r["sku"]))
    return by_workload, by_product


def _renewals(conn: sqlite3.Connection, t: pd.DataFrame, as_of: str) -> list[dict]:
    if as_of == "9999-12-31" or t.empty:
        return []
    days = int(settings_store.get(conn, "renewal_window_days"))
    rows = conn.execute(
        "SELECT c.id, c.tenant_id, c.name, s.sku, COALESCE(p.name, s.sku), s.quantity, s.commitment_end, s.auto_renew "
        "FROM json_each(:ids) x CROSS JOIN subscriptions s ON s.customer_id = x.value "
        "JOIN customers c ON c.id = s.customer_id LEFT JOIN products p ON p.sku = s.sku "
        "WHERE s.channel = 'partner' AND s.status = 'active' AND s.commitment_end BETWEEN :start AND :end "
        "ORDER BY s.commitment_end, c.name",
        {"ids": json.dumps([int(i) for i in t.id]), "start": as_of, "end": add_days(as_of, days)},
    )
    return [
        {"id": r[0], "tenant_id": r[1], "name": r[2], "sku": r[3], "product": r[4], "quantity": r[5],
         "commitment_end": r[6], "auto_renew": bool(r[7])}
        for r in rows
    ]


def _portfolio_trend(conn: sqlite3.Connection, t: pd.DataFrame, scope: str, as_of: str, months: int = 12) -> list[dict]:
    """Per month: sums over each visible customer's last snapshot in that month."""
    if t.empty:
        return []
    # one row per customer and month: the month's last snapshot (with a single max(), SQLite takes
    # the other columns from the row holding the maximum)
    rows = conn.execute(
        """WITH last AS (
               SELECT substr(f.as_of, 1, 7) AS month, MAX(f.as_of) AS as_of,
                      f.sold, f.assigned, f.entitled, f.active, f.active_entitled
               FROM json_each(:ids) i CROSS JOIN fig_customer f ON f.customer_id = i.value
               WHERE f.scope = :scope AND f.as_of <= :as_of GROUP BY f.customer_id, month)
           SELECT month, MAX(as_of), COUNT(*), SUM(sold), SUM(assigned), SUM(entitled), SUM(active),
                  SUM(active_entitled), SUM(CASE WHEN active_entitled IS NULL THEN 0 ELSE entitled END)
           FROM last GROUP BY month ORDER BY month DESC LIMIT :months""",
        {"ids": json.dumps([int(i) for i in t.id]), "scope": scope, "as_of": as_of, "months": months},
    ).fetchall()
    return [
        {"month": r[0], "as_of": r[1], "customers": r[2], "sold": r[3], "assigned": r[4],
         "deployment_pct": pct(r[4], r[3]), "usage_pct": pct(r[6], r[5]),
         "adjusted_usage_pct": pct(r[7], r[8]) if r[8] else None}
        for r in reversed(rows)
    ]


# --------------------------------------------------------------------------- the JSON document


def metrics_document(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    customer_ids: list[int] | None = None, *, cache: bool = True,
) -> dict:
    """The ``adopt-tui metrics --format json`` contract (README): as_of, scope,
    customers, portfolio. Percentages rounded to one decimal, or None.

    The parsed form of :func:`metrics_parts` (the document as JSON text, which
    ``metrics --format json`` and the JSON export write); ``cache=False``
    computes it from the figures."""
    if cache:
        parts = metrics_parts(conn, principal, scope, as_of, customer_ids)
        return {
            "as_of": parts.as_of, "scope": parts.scope,
            "customers": [json.loads(text) for text in parts.customers],
            "portfolio": json.loads(parts.summary),
        }
    scope, as_of = _check_scope(scope), _as_of(conn, as_of)
    table = customer_table(conn, principal, scope, as_of, cache=False)
    if customer_ids is not None:
        table = table[table.id.isin(customer_ids)]
    customers = list(_customer_dicts(conn, scope, table).values())
    p = _portfolio_of(conn, table, scope, as_of, with_trend=False)
    return {"as_of": p.as_of, "scope": scope, "customers": customers, "portfolio": portfolio_summary(p)}


def metrics_parts(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    customer_ids: list[int] | None = None,
) -> _cache.DocumentParts:
    """The ``metrics --format json`` document as JSON text pieces (see
    :class:`adopt_tui.metrics.cache.DocumentParts`): each customer's object from
    the cache for the latest as-of date (computed and stored where missing), the
    portfolio object cached for a principal who sees every customer and asks for
    all of them, computed otherwise."""
    _require_view(conn, principal)
    scope = _check_scope(scope)
    with _cache.snapshot(conn) as snap:
        default = _cache.is_default(snap, as_of)
        resolved = snap.latest if default else _as_of(conn, as_of)
        table = customer_table(conn, principal, scope, resolved)
        if customer_ids is not None:
            table = table[table.id.isin(customer_ids)]
        if default:
            texts, products, workloads = _cached_docs(snap, scope, table)
        else:
            docs = _customer_docs(conn, scope, table)
            texts = [d[0] for d in docs.values()]
            products, workloads = sum(d[1] for d in docs.values()), sum(d[2] for d in docs.values())
        if default and customer_ids is None and principal.sees_all_customers:
            doc_as_of = snap.latest
            summary = _cache.get_blob(snap, scope, "summary")
            if summary is None:
                summary = json.dumps(portfolio_summary(_cached_portfolio(snap, principal, scope)), ensure_ascii=False)
        else:
            p = _portfolio_of(conn, table, scope, resolved, with_trend=False)
            doc_as_of, summary = p.as_of, json.dumps(portfolio_summary(p), ensure_ascii=False)
    return _cache.DocumentParts(doc_as_of, scope, texts, summary, products, workloads)


def _cached_docs(snap: _cache.Snapshot, scope: str, table: pd.DataFrame) -> tuple[list[str], int, int]:
    """The customers' objects of the document (in ``table``'s order) for the latest as-of
    date, with their product and workload counts: cached, or computed and stored."""
    ids = table.id.tolist()
    found = _cache.docs(snap, scope, None if len(ids) > 2000 else ids)
    missing = [i for i in ids if i not in found]
    if missing:
        fresh = _customer_docs(snap.conn, scope, table[table.id.isin(missing)])
        found.update(fresh)
        _cache.put_docs(snap, scope, fresh)
    parts = [found[i] for i in ids]
    return [p[0] for p in parts], sum(p[1] for p in parts), sum(p[2] for p in parts)


def _customer_docs(conn: sqlite3.Connection, scope: str, table: pd.DataFrame) -> dict[int, tuple[str, int, int]]:
    """{customer id: (its object of the document as JSON text, products, workloads)} in ``table``'s order.

    The text is exactly ``json.dumps(_customer_dicts(...)[id], ensure_ascii=False)``
    (a test holds it to that), written directly: building the dicts and
    encoding them costs three times as much on a large portfolio."""
    params = {"pairs": _pairs_json(table), "scope": scope}
    s, n = _json_str, _json_num
    products: dict[int, list[str]] = {}
    for cid, sku, name, sold, assigned in _tuples(
        conn,
        f"SELECT f.customer_id, f.sku, COALESCE(p.name, f.sku), f.sold, f.assigned FROM {_PAIRS} s "
        "CROSS JOIN fig_product f ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope "
        "LEFT JOIN products p ON p.sku = f.sku ORDER BY f.customer_id, f.sold DESC, f.sku", params,
    ):
        products.setdefault(cid, []).append(
            f'{{"sku": {s(sku)}, "name": {s(name)}, "sold": {sold if type(sold) is int else n(sold)}, '
            f'"assigned": {assigned if type(assigned) is int else n(assigned)}, '
            f'"deployment_pct": {n(round1(pct(assigned, sold)))}}}'
        )
    workloads: dict[int, list[str]] = {}
    for cid, w, ent, act, ae, expl in _tuples(
        conn,
        "SELECT f.customer_id, f.workload, f.entitled, f.active, f.active_entitled, f.explanations "
        f"FROM {_PAIRS} s CROSS JOIN fig_workload f ON f.customer_id = s.customer_id AND f.as_of = s.as_of "
        "AND f.scope = :scope ORDER BY f.customer_id, f.workload", params,
    ):
        explanations = "[]" if expl == "[]" else json.dumps(json.loads(expl), ensure_ascii=False)
        workloads.setdefault(cid, []).append(
            f'{{"workload": {s(w)}, "entitled": {ent if type(ent) is int else n(ent)}, '
            f'"active": {act if type(act) is int else n(act)}, '
            f'"usage_pct": {n(round1(pct(act, ent)))}, "adjusted_usage_pct": {n(round1(pct(ae, ent)))}, '
            f'"explanations": {explanations}}}'
        )
    recs = dict(_tuples(
        conn,
        f"SELECT f.customer_id, f.recommendations FROM {_PAIRS} s CROSS JOIN fig_customer f "
        "ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope", params,
    ))
    out = {}
    for cid, tenant_id, name, agents, snap in zip(
        table.id.tolist(), table.tenant_id.tolist(), table.name.tolist(), table.agents.tolist(), table.as_of.tolist(),
    ):
        prods, wls = products.get(cid, ()), workloads.get(cid, ())
        rec = recs.get(cid) or "[]"
        rec_text = "[]" if rec == "[]" else ", ".join(
            json.dumps({"code": x["code"], "reason": x["reason"]}, ensure_ascii=False) for x in json.loads(rec)
        )
        out[cid] = (
            f'{{"tenant_id": {s(tenant_id)}, "name": {s(name)}, '
            f'"sales_agents": [{", ".join(s(a) for a in agents.split("; ") if a)}], '
            f'"as_of": {s(snap) if snap else "null"}, "products": [{", ".join(prods)}], '
            f'"workloads": [{", ".join(wls)}], "recommendations": [{"" if rec_text == "[]" else rec_text}]}}',
            len(prods), len(wls),
        )
    return out


def _json_str(value) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for a str (the encoder's own function)."""
    if type(value) is str:
        return _encode_str(value)
    return json.dumps(value, ensure_ascii=False)


def _json_num(value) -> str:
    """``json.dumps(value)`` for an int, a finite float or None."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is int or (kind is float and value - value == 0.0):  # not NaN or infinite
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _customer_dicts(conn: sqlite3.Connection, scope: str, table: pd.DataFrame) -> dict[int, dict]:
    """{customer id: its object of the document} in ``table``'s order, from each
    customer's snapshot in ``table``."""
    params = {"pairs": _pairs_json(table), "scope": scope}
    products: dict[int, list] = {}
    for cid, sku, name, sold, assigned in conn.execute(
        f"SELECT f.customer_id, f.sku, COALESCE(p.name, f.sku), f.sold, f.assigned FROM {_PAIRS} s "
        "CROSS JOIN fig_product f ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope "
        "LEFT JOIN products p ON p.sku = f.sku ORDER BY f.customer_id, f.sold DESC, f.sku", params,
    ):
        products.setdefault(cid, []).append({
            "sku": sku, "name": name, "sold": sold, "assigned": assigned,
            "deployment_pct": round1(pct(assigned, sold)),
        })
    workloads: dict[int, list] = {}
    for cid, w, ent, act, ae, expl in conn.execute(
        "SELECT f.customer_id, f.workload, f.entitled, f.active, f.active_entitled, f.explanations "
        f"FROM {_PAIRS} s CROSS JOIN fig_workload f ON f.customer_id = s.customer_id AND f.as_of = s.as_of "
        "AND f.scope = :scope ORDER BY f.customer_id, f.workload", params,
    ):
        workloads.setdefault(cid, []).append({
            "workload": w, "entitled": ent, "active": act,
            "usage_pct": round1(pct(act, ent)), "adjusted_usage_pct": round1(pct(ae, ent)),
            "explanations": [] if expl == "[]" else json.loads(expl),
        })
    recs = dict(conn.execute(
        f"SELECT f.customer_id, f.recommendations FROM {_PAIRS} s CROSS JOIN fig_customer f "
        "ON f.customer_id = s.customer_id AND f.as_of = s.as_of AND f.scope = :scope", params,
    ).fetchall())
    return {
        cid: {
            "tenant_id": tenant_id, "name": name,
            "sales_agents": [a for a in agents.split("; ") if a],
            "as_of": snap or None,
            "products": products.get(cid, []),
            "workloads": workloads.get(cid, []),
            "recommendations": [
                {"code": x["code"], "reason": x["reason"]} for x in json.loads(recs.get(cid) or "[]")
            ],
        }
        # plain lists: iterating Arrow-backed columns row by row is slow
        for cid, tenant_id, name, agents, snap in zip(
            table.id.tolist(), table.tenant_id.tolist(), table.name.tolist(), table.agents.tolist(),
            table.as_of.tolist(),
        )
    }


def portfolio_summary(p: Portfolio) -> dict:
    """The ``portfolio`` object of the JSON contract (percentages rounded to one decimal)."""
    tot = p.totals
    return {
        "customers": tot["customers"], "sold": tot["sold"], "assigned": tot["assigned"],
        "deployment_pct": round1(tot["deployment_pct"]), "entitled": tot["entitled"], "active": tot["active"],
        "usage_pct": round1(tot["usage_pct"]), "adjusted_usage_pct": round1(tot["adjusted_usage_pct"]),
        "low_adoption": tot["low_adoption"], "upsell": tot["upsell"], "right_size": tot["right_size"],
        "high_support_volume": tot["high_support_volume"], "over_100": tot["over_100"],
        "renewals_due": tot["renewals_due"], "bands": p.bands,
    }


# --------------------------------------------------------------------------- filling the cache


def warm_cache(conn: sqlite3.Connection, *, whole: bool | None = None) -> None:
    """Fill the missing cache entries for the latest as-of date (see :func:`adopt_tui.metrics.cache.warm`)."""
    from adopt_tui.auth.permissions import SYSTEM

    with _cache.snapshot(conn, "warm") as snap:
        if not snap.exists() or snap.latest is None:
            return
        if whole is None:
            missing, total = _cache.missing_rows(snap)
            whole = missing >= _cache.WHOLE_SHARE * total
        for scope in _cache.SCOPES:
            if whole:
                table = customer_table(conn, SYSTEM, scope)
                _cached_docs(snap, scope, table)
                _cached_portfolio(snap, SYSTEM, scope)
                _cached_trend(snap, SYSTEM, scope)
            else:
                _warm_rows(snap, scope)


def _warm_rows(snap: _cache.Snapshot, scope: str) -> None:
    """Fill the list rows and document parts of the customers that have none, and nothing else."""
    conn = snap.conn
    missing = None  # all
    if snap.valid:
        # a document part exists only where the list row does: customers without one lack either or both
        missing = [r[0] for r in conn.execute(
            f"SELECT id FROM customers c WHERE NOT EXISTS "
            f"(SELECT 1 FROM {_cache.doc_table(scope)} d WHERE d.customer_id = c.id) ORDER BY id",
        )]
        if not missing:
            return
    named = {"scope": scope, "as_of": snap.latest}
    if missing is None:
        rows = _list_rows_live(conn, "1", named)
    else:
        rows = _list_rows_live(conn, "c.id IN (SELECT value FROM json_each(:ids))", dict(named, ids=json.dumps(missing)))
    cols = ", ".join(LIST_COLUMNS[1:])
    snap.write(lambda c: c.executemany(
        f"INSERT OR IGNORE INTO cache_customer(scope, customer_id, {cols}) VALUES (?, {', '.join('?' * len(LIST_COLUMNS))})",
        [(scope, *r) for r in rows],
    ))
    _cache.put_docs(snap, scope, _customer_docs(conn, scope, _list_frame(rows)))
