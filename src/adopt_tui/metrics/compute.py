"""Compute the figures from the raw rows and store them per as-of date.

The screens and the command line never recompute: they read ``fig_product``,
``fig_workload`` and ``fig_customer`` (see :mod:`adopt_tui.metrics.read`).
This module fills those tables, vectorised with pandas, one chunk of customers
at a time so that memory stays bounded on large portfolios.

The rules (domain.md):

* Licenses sold: seats of subscriptions in scope that are active and not trials.
* Assigned: users (not deleted) holding the SKU in state entitled or suspended
  through such a subscription.
* Entitled (per workload): users (not deleted) holding, in state ``entitled``,
  a SKU that includes the workload, through a counted subscription. A user
  entitled through two SKUs counts once; OneDrive is SharePoint (catalogue).
* Active: users whose last activity for the workload lies in
  ``[as_of - 27 days, as_of]``. All activity counts: deleted users, trials,
  subscriptions not in good standing, users without a license. In the ``own``
  scope, activity of users whose license for the workload comes only from
  other channels is left out.
* Adjusted active: active users who hold a counted entitlement.

An assignment whose subscription is unknown is attributed to the SKU: it
counts when the customer has a counted subscription for the SKU in scope (or,
in the ``all`` scope, when no subscription for the SKU is known at all).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Sequence

import pandas as pd

from adopt_tui.catalogue import CORE_WORKLOADS
from adopt_tui.metrics import cache
from adopt_tui.metrics.rules import SCOPES, add_days, pct, window_start
from adopt_tui.store import settings as settings_store
from adopt_tui.store.schema import ACTIVITY_WORKLOADS

CHUNK_CUSTOMERS = 2000

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- loading


def _in(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def _load(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[str, pd.DataFrame]:
    where = _in(ids)
    q = lambda sql: pd.read_sql_query(sql, conn)  # noqa: E731
    return {
        "subs": q(
            "SELECT id AS subscription_id, customer_id, sku, quantity, status, is_trial, channel, commitment_end "
            f"FROM subscriptions WHERE customer_id IN ({where})"
        ),
        "users": q(
            "SELECT id AS user_id, customer_id, is_deleted, deleted_date "
            f"FROM users WHERE customer_id IN ({where})"
        ),
        "asg": q(
            "SELECT a.user_id, u.customer_id, a.sku, a.subscription_id, a.assigned_date, a.state "
            f"FROM assignments a JOIN users u ON u.id = a.user_id WHERE u.customer_id IN ({where})"
        ),
        "act": activity_rows(q(
            f"SELECT a.user_id, u.customer_id, a.report_date, {', '.join('a.' + w for w in ACTIVITY_WORKLOADS)} "
            f"FROM activity a JOIN users u ON u.id = a.user_id WHERE u.customer_id IN ({where})"
        )),
        "support": q(
            "SELECT customer_id, date, category FROM support_requests "
            f"WHERE customer_id IN ({where}) AND category IN ('how-to', 'help')"
        ),
    }


def activity_rows(wide: pd.DataFrame) -> pd.DataFrame:
    """Activity read per user and report date (a column per workload) as rows: user_id,
    customer_id, workload, report_date, last_activity (None: listed without activity), one per
    workload value that is not NULL, by user, date and workload."""
    parts = []
    for w in ACTIVITY_WORKLOADS:
        values = wide[w]
        listed = values.notna()
        if not listed.any():
            continue
        part = wide.loc[listed, ["user_id", "customer_id", "report_date"]]
        last = values[listed].astype(object)
        parts.append(part.assign(workload=w, last_activity=last.where(last != "", None)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in
                             ("user_id", "customer_id", "workload", "report_date", "last_activity")})
    rows = pd.concat(parts)
    rows = rows.sort_values(["user_id", "report_date", "workload"], kind="stable", ignore_index=True)
    return rows[["user_id", "customer_id", "workload", "report_date", "last_activity"]]


def _sku_workloads(conn: sqlite3.Connection) -> pd.DataFrame:
    rows = [
        (sku, w)
        for sku, workloads in conn.execute("SELECT sku, workloads FROM products WHERE workloads != ''")
        for w in workloads.split(",")
        if w
    ]
    return pd.DataFrame(rows, columns=["sku", "workload"])


# --------------------------------------------------------------------------- one date, one scope


@dataclass
class UserFacts:
    """Per-user facts for some customers, as of a date, in a scope: the one place
    the rules of the brief are applied (the figures and the users export both
    build on it)."""

    subs_s: pd.DataFrame   # subscriptions in scope, with counted / trial / inactive flags
    a: pd.DataFrame        # assignments in scope: user_id, customer_id, sku, state, cls, deleted, has_counted
    uw: pd.DataFrame       # ``a`` per workload the SKU includes
    ent: pd.DataFrame      # counted entitlements: customer_id, user_id, workload (each once)
    act: pd.DataFrame      # active (user, workload): customer_id, user_id, workload, unlicensed, entitled, deleted
    report: pd.DataFrame   # the activity report rows dated as_of (any last activity)
    sold: pd.Series        # seats of counted subscriptions per (customer_id, sku)


def load_customers(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The raw rows of ``ids`` and the SKU -> workload table, for :func:`user_facts`."""
    return _load(conn, ids), _sku_workloads(conn)


def user_facts(
    data: dict[str, pd.DataFrame], sku_wl: pd.DataFrame, as_of: str, scope: str, customers: Iterable[int]
) -> UserFacts:
    """Classify every assignment and activity of ``customers`` (see the module docstring)."""
    cust = set(customers)
    subs = data["subs"][data["subs"].customer_id.isin(cust)]
    users = data["users"][data["users"].customer_id.isin(cust)].copy()
    asg = data["asg"][data["asg"].customer_id.isin(cust)]
    asg = asg[asg.assigned_date.isna() | (asg.assigned_date <= as_of)]

    users["deleted"] = (users.is_deleted == 1) & (users.deleted_date.isna() | (users.deleted_date <= as_of))
    deleted = users.set_index("user_id")["deleted"]

    subs_s = subs if scope == "all" else subs[subs.channel == "partner"]
    subs_s = subs_s.assign(
        counted=(subs_s.status == "active") & (subs_s.is_trial == 0),
        trial=subs_s.is_trial == 1,
        inactive=(subs_s.status != "active") & (subs_s.is_trial == 0),
    )
    flags = subs_s.groupby(["customer_id", "sku"]).agg(
        has_counted=("counted", "any"), has_trial=("trial", "any"), has_inactive=("inactive", "any")
    )
    sold = (
        subs_s[subs_s.counted].groupby(["customer_id", "sku"])["quantity"].sum().rename("sold")
    )
    known_any = set(zip(subs.customer_id, subs.sku))  # any channel: is a subscription known at all?

    # Resolve each assignment's class within the scope.
    known = asg[asg.subscription_id.notna()].merge(
        subs_s[["subscription_id", "counted", "trial"]], on="subscription_id", how="inner"
    )
    known["cls"] = "inactive"
    known.loc[known.counted, "cls"] = "counted"
    known.loc[known.trial, "cls"] = "trial"
    unknown = asg[asg.subscription_id.isna()].merge(
        flags.reset_index(), on=["customer_id", "sku"], how="left"
    )
    unknown["cls"] = None
    unknown.loc[unknown.has_inactive.eq(True), "cls"] = "inactive"
    unknown.loc[unknown.has_trial.eq(True), "cls"] = "trial"
    unknown.loc[unknown.has_counted.eq(True), "cls"] = "counted"
    if scope == "all":
        no_sub = [(c, s) not in known_any for c, s in zip(unknown.customer_id, unknown.sku)]
        unknown.loc[pd.Series(no_sub, index=unknown.index, dtype=bool), "cls"] = "counted"
    unknown = unknown[unknown.cls.notna()]
    cols = ["user_id", "customer_id", "sku", "state", "cls"]
    a = pd.concat([known[cols], unknown[cols]], ignore_index=True)
    a["deleted"] = a.user_id.map(deleted).fillna(False).astype(bool)
    a = a.merge(flags[["has_counted"]].reset_index(), on=["customer_id", "sku"], how="left")
    a["has_counted"] = a.has_counted.eq(True)

    uw = a.merge(sku_wl, on="sku", how="inner")
    ent = uw[(uw.cls == "counted") & (uw.state == "entitled") & ~uw.deleted][
        ["customer_id", "user_id", "workload"]
    ].drop_duplicates()
    report = data["act"]
    report = report[report.customer_id.isin(cust) & (report.report_date == as_of)]
    act = report[
        report.last_activity.notna()
        & (report.last_activity >= window_start(as_of))
        & (report.last_activity <= as_of)
    ][["customer_id", "user_id", "workload"]].drop_duplicates()
    # every (user, workload) the user holds any assignment for, in any scope
    all_asg = data["asg"][data["asg"].customer_id.isin(cust)].merge(sku_wl, on="sku")[["user_id", "workload"]]
    held_any = pd.MultiIndex.from_frame(all_asg.drop_duplicates())
    held_scope = pd.MultiIndex.from_frame(uw[["user_id", "workload"]].drop_duplicates())
    act_idx = pd.MultiIndex.from_frame(act[["user_id", "workload"]])
    unlicensed = ~act_idx.isin(held_any)
    if scope == "own":
        act = act[act_idx.isin(held_scope) | unlicensed]
        unlicensed = unlicensed[act_idx.isin(held_scope) | unlicensed]
    act = act.assign(unlicensed=unlicensed)
    ent_idx = pd.MultiIndex.from_frame(ent[["user_id", "workload"]])
    act["entitled"] = pd.MultiIndex.from_frame(act[["user_id", "workload"]]).isin(ent_idx)
    act["deleted"] = act.user_id.map(deleted).fillna(False).astype(bool)
    return UserFacts(subs_s, a, uw, ent, act, report, sold)


def _compute(
    data: dict[str, pd.DataFrame], sku_wl: pd.DataFrame, as_of: str, scope: str, customers: Iterable[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Product rows and workload rows for ``customers`` as of ``as_of`` in ``scope``."""
    f = user_facts(data, sku_wl, as_of, scope, customers)
    subs_s, a, uw, ent, act = f.subs_s, f.a, f.uw, f.ent, f.act

    # Products: sold and assigned.
    seated = a[(a.cls == "counted") & a.state.isin(["entitled", "suspended"]) & ~a.deleted]
    assigned = seated.groupby(["customer_id", "sku"])["user_id"].nunique().rename("assigned")
    keys = pd.MultiIndex.from_frame(
        pd.concat([subs_s[["customer_id", "sku"]], a[["customer_id", "sku"]]]).drop_duplicates()
    )
    products = pd.DataFrame(index=keys).join(f.sold).join(assigned).fillna(0).astype("int64").reset_index()

    g_ent = ent.groupby(["customer_id", "workload"]).size().rename("entitled")
    g_act = act.groupby(["customer_id", "workload"]).size().rename("active")
    g_ae = act[act.entitled].groupby(["customer_id", "workload"]).size().rename("active_entitled")
    workloads = (
        pd.concat([g_ent, g_act, g_ae], axis=1).fillna(0).astype("int64").reset_index()
    )

    # Explanations: who among the active users is not counted, and why.
    infl = act[~act.entitled]
    expl: dict[tuple[int, str], list[dict]] = {}
    if len(infl):
        turnover = infl[infl.deleted].groupby(["customer_id", "workload"]).size()
        for (c, w), n in turnover.items():
            expl.setdefault((c, w), []).append({"code": "turnover", "users": int(n)})
        infl_uw = infl[["customer_id", "user_id", "workload"]].merge(
            uw[["user_id", "workload", "sku", "cls", "has_counted"]], on=["user_id", "workload"]
        )
        sub_status = subs_s.groupby(["customer_id", "sku"])["status"].agg(lambda s: sorted(set(s) - {"active"}))
        dup = infl_uw[(infl_uw.cls == "inactive") & infl_uw.has_counted]
        for (c, w), grp in dup.groupby(["customer_id", "workload"]):
            skus = sorted(grp.sku.unique())
            statuses = sorted({s for sku in skus for s in sub_status.get((c, sku), [])}) or ["not in good standing"]
            expl.setdefault((c, w), []).append({
                "code": "inactive_duplicate_subscription", "users": int(grp.user_id.nunique()),
                "skus": skus, "statuses": [_STATUS_WORDS.get(s, s) for s in statuses],
            })
        trial = infl_uw[infl_uw.cls == "trial"]
        for (c, w), grp in trial.groupby(["customer_id", "workload"]):
            expl.setdefault((c, w), []).append({
                "code": "trial", "users": int(grp.user_id.nunique()), "skus": sorted(grp.sku.unique()),
            })
        yammer = infl[(infl.workload == "yammer") & infl.unlicensed & ~infl.deleted]
        for (c, w), n in yammer.groupby(["customer_id", "workload"]).size().items():
            expl.setdefault((c, w), []).append({"code": "yammer_overuse", "users": int(n)})
    workloads["explanations"] = [
        _finish_explanations(expl.get((c, w), []), e, a_)
        for c, w, e, a_ in zip(workloads.customer_id, workloads.workload, workloads.entitled, workloads.active)
    ]
    return products, workloads


_STATUS_WORDS = {"grace": "in grace period", "disabled": "disabled", "deprovisioned": "de-provisioned"}


def _finish_explanations(found: list[dict], entitled: int, active: int) -> str:
    for e in found:
        e["entitled"], e["active"] = int(entitled), int(active)
    usage = pct(active, entitled)
    if usage is not None and usage > 100 and not found:
        found = [{"code": "unexplained", "entitled": int(entitled), "active": int(active)}]
    return json.dumps(found, separators=(",", ":"))


# --------------------------------------------------------------------------- customer summary


def summarise(
    conn: sqlite3.Connection,
    products: pd.DataFrame,
    workloads: pd.DataFrame,
    keys: pd.DataFrame,
    *,
    support: pd.DataFrame | None = None,
    subs: pd.DataFrame | None = None,
    source: str = "computed",
) -> pd.DataFrame:
    """One fig_customer row per (customer_id, as_of, scope) in ``keys``.

    ``products`` and ``workloads`` carry customer_id, as_of, scope plus their
    figures. Support requests and subscriptions are read from the database
    when not given.
    """
    s = settings_store.get_all(conn)
    k = ["customer_id", "as_of", "scope"]
    out = keys[k].drop_duplicates().set_index(k)
    p = products.groupby(k)[["sold", "assigned"]].sum()
    core = workloads[workloads.workload.isin(CORE_WORKLOADS)]
    core = core.assign(ae_missing=core.active_entitled.isna())
    w = core.groupby(k).agg(
        entitled=("entitled", "sum"), active=("active", "sum"),
        active_entitled=("active_entitled", "sum"), ae_missing=("ae_missing", "any"),
    )
    # adjusted figures exist only where every core workload has them (not for imported aggregates)
    w["active_entitled"] = w.active_entitled.astype("float64").where(~w.ae_missing)
    w = w.drop(columns="ae_missing")
    out = out.join(p).join(w)
    for col in ("sold", "assigned", "entitled", "active"):
        out[col] = out[col].fillna(0).astype("int64")
    wl = workloads.assign(
        over=(workloads.entitled > 0) & (workloads.active > workloads.entitled),
        unexpl=workloads.explanations.astype("string").str.contains('"unexplained"', regex=False)
        .fillna(False).astype(bool),
    ).groupby(k)[["over", "unexpl"]].any()
    out = out.join(wl)
    out["over_100"] = out.over.fillna(False).astype(bool).astype(int)
    out["unexplained"] = out.unexpl.fillna(False).astype(bool).astype(int)
    out = out.drop(columns=["over", "unexpl"]).reset_index()

    ids = out.customer_id.unique().tolist()
    if support is None:
        support = pd.read_sql_query(
            f"SELECT customer_id, date FROM support_requests WHERE customer_id IN ({_in(ids)}) "
            "AND category IN ('how-to', 'help')", conn,
        ) if ids else pd.DataFrame(columns=["customer_id", "date"])
    if subs is None:
        subs = pd.read_sql_query(
            "SELECT customer_id, status, channel, commitment_end FROM subscriptions "
            f"WHERE customer_id IN ({_in(ids)})", conn,
        ) if ids else pd.DataFrame(columns=["customer_id", "status", "channel", "commitment_end"])
    own_active = subs[(subs.channel == "partner") & (subs.status == "active") & subs.commitment_end.notna()]
    support_by = support.groupby("customer_id")["date"].apply(sorted).to_dict()
    renew_by = own_active.groupby("customer_id")["commitment_end"].apply(list).to_dict()
    window = int(s["support_window_days"])
    renew_days = int(s["renewal_window_days"])

    recs, codes, dep, use, adj, due = [], [], [], [], [], []
    for row in out.itertuples(index=False):
        ae = None if pd.isna(row.active_entitled) else int(row.active_entitled)
        d, u, a_ = pct(row.assigned, row.sold), pct(row.active, row.entitled), pct(ae, row.entitled)
        start = add_days(row.as_of, -window)
        n_support = sum(1 for day in support_by.get(row.customer_id, ()) if start < day <= row.as_of)
        r = recommend(s, sold=row.sold, assigned=row.assigned, deployment=d, usage=u, adjusted=a_,
                      support_requests=n_support)
        end = add_days(row.as_of, renew_days)
        due.append(sum(1 for day in renew_by.get(row.customer_id, ()) if row.as_of <= day <= end))
        recs.append(json.dumps(r, separators=(",", ":")))
        codes.append("," + ",".join(x["code"] for x in r) + "," if r else "")
        dep.append(d), use.append(u), adj.append(a_)
    out["deployment_pct"], out["usage_pct"], out["adjusted_pct"] = dep, use, adj
    out["recommendations"], out["rec_codes"], out["renewal_due"] = recs, codes, due
    out["source"] = source
    return out


def recommend(s: dict, *, sold: int, assigned: int, deployment, usage, adjusted, support_requests: int) -> list[dict]:
    """The recommendation rules, each with the figure that triggered it."""
    out: list[dict] = []
    adoption = adjusted if adjusted is not None else usage
    name = "adjusted usage" if adjusted is not None else "usage"
    low = []
    if adoption is not None and adoption < s["low_adoption_usage_pct"]:
        low.append(f"{name} {adoption:.1f} % is below {s['low_adoption_usage_pct']:g} %")
    if deployment is not None and deployment < s["low_adoption_deployment_pct"]:
        low.append(f"deployment {deployment:.1f} % is below {s['low_adoption_deployment_pct']:g} %")
    if low:
        out.append({"code": "low_adoption", "reason": _cap("; ".join(low))})
    rate = pct(support_requests, assigned)
    if (
        rate is not None
        and support_requests >= s["support_min_requests"]
        and rate >= s["support_per_100_users"]
    ):
        out.append({"code": "high_support_volume", "reason": (
            f"{support_requests} help and how-to requests in {int(s['support_window_days'])} days: "
            f"{rate:.1f} per 100 assigned users (threshold {s['support_per_100_users']:g})"
        )})
    if (
        deployment is not None and adoption is not None
        and deployment >= s["upsell_deployment_pct"] and adoption >= s["upsell_usage_pct"]
    ):
        out.append({"code": "upsell", "reason": (
            f"Deployment {deployment:.1f} % (at least {s['upsell_deployment_pct']:g} %) and "
            f"{name} {adoption:.1f} % (at least {s['upsell_usage_pct']:g} %)"
        )})
    unassigned = sold - assigned
    share = pct(unassigned, sold)
    if share is not None and unassigned >= s["right_size_min_seats"] and share >= s["right_size_unassigned_pct"]:
        out.append({"code": "right_size", "reason": (
            f"{unassigned:,} of {sold:,} seats never assigned ({share:.1f} %, threshold "
            f"{s['right_size_unassigned_pct']:g} %)"
        )})
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- storing


def _store(conn: sqlite3.Connection, products: pd.DataFrame, workloads: pd.DataFrame, summary: pd.DataFrame) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO fig_product(customer_id, as_of, scope, sku, sold, assigned, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        products[["customer_id", "as_of", "scope", "sku", "sold", "assigned", "source"]].itertuples(index=False),
    )
    w = workloads[["customer_id", "as_of", "scope", "workload", "entitled", "active", "active_entitled",
                   "explanations", "source"]].astype(object)
    w = w.where(w.notna(), None)
    conn.executemany(
        "INSERT OR REPLACE INTO fig_workload(customer_id, as_of, scope, workload, entitled, active, "
        "active_entitled, explanations, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        w.itertuples(index=False),
    )
    cols = ["customer_id", "as_of", "scope", "sold", "assigned", "entitled", "active", "active_entitled",
            "deployment_pct", "usage_pct", "adjusted_pct", "over_100", "unexplained", "recommendations",
            "rec_codes", "renewal_due", "source"]
    s = summary[cols].astype(object)
    s = s.where(s.notna(), None)
    conn.executemany(
        f"INSERT OR REPLACE INTO fig_customer({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        s.itertuples(index=False),
    )


def _delete(conn: sqlite3.Connection, keys: Iterable[tuple[int, str]], source: str | None = None) -> None:
    extra = "" if source is None else f" AND source = '{source}'"
    for table in ("fig_product", "fig_workload", "fig_customer"):
        conn.executemany(f"DELETE FROM {table} WHERE customer_id = ? AND as_of = ?{extra}", keys)


# --------------------------------------------------------------------------- entry points


def recompute(
    conn: sqlite3.Connection,
    customer_ids: Iterable[int] | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    warm: bool = True,
) -> int:
    """Recompute the figures of ``customer_ids`` (default: every customer) for
    every as-of date their user-level data has. Runs in the caller's
    transaction. Returns the number of (customer, as-of) snapshots written.

    ``warm``: refill the figure caches afterwards (:func:`adopt_tui.metrics.cache.warm`;
    the writes above dropped what they made stale)."""
    if customer_ids is None:
        ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    else:
        ids = sorted(set(int(i) for i in customer_ids))
    sku_wl = _sku_workloads(conn)
    # A customer with licenses but no activity report yet gets figures as of the
    # latest date known anywhere (or today, in an empty database): the figures'
    # dates (every report date of a customer's activity has its figures) and the
    # activity of the customers recomputed here (through their users: activity
    # has no report-date index, which would cost every imported row).
    fallback = conn.execute(
        "SELECT MAX(d) FROM (SELECT MAX(a.report_date) AS d FROM users u JOIN activity a ON a.user_id = u.id "
        f"WHERE u.customer_id IN ({_in(ids)}) UNION ALL SELECT MAX(as_of) FROM fig_customer)"
    ).fetchone()[0] or date.today().isoformat()
    written = 0
    for start in range(0, len(ids), CHUNK_CUSTOMERS):
        if cancelled is not None and cancelled():
            raise InterruptedError("cancelled")
        chunk = ids[start:start + CHUNK_CUSTOMERS]
        written += _recompute_chunk(conn, chunk, sku_wl, fallback)
        if progress is not None:
            progress(min(start + CHUNK_CUSTOMERS, len(ids)), len(ids))
    if warm:
        cache.warm(conn)
    return written


def _recompute_chunk(conn: sqlite3.Connection, ids: list[int], sku_wl: pd.DataFrame, fallback: str | None) -> int:
    data = _load(conn, ids)
    dates = data["act"].groupby("customer_id")["report_date"].unique().to_dict()
    has_data = set(data["subs"].customer_id) | set(data["asg"].customer_id)
    by_date: dict[str, list[int]] = {}
    for c in ids:
        ds = list(dates.get(c, ()))
        if not ds and c in has_data and fallback:
            ds = [fallback]
        for d in ds:
            by_date.setdefault(d, []).append(c)
    # remove what was computed before (imported aggregates stay where no raw data exists)
    old = conn.execute(
        f"SELECT DISTINCT customer_id, as_of FROM fig_customer WHERE source = 'computed' AND customer_id IN ({_in(ids)})"
    ).fetchall()
    _delete(conn, [tuple(r) for r in old], "computed")
    new_keys = [(c, d) for d, cs in by_date.items() for c in cs]
    _delete(conn, new_keys)
    products, workloads = [], []
    for as_of, customers in sorted(by_date.items()):
        for scope in SCOPES:
            p, w = _compute(data, sku_wl, as_of, scope, customers)
            products.append(p.assign(as_of=as_of, scope=scope))
            workloads.append(w.assign(as_of=as_of, scope=scope))
    if not new_keys:
        return 0
    products_df = pd.concat(products, ignore_index=True).assign(source="computed")
    workloads_df = pd.concat(workloads, ignore_index=True).assign(source="computed")
    keys = pd.DataFrame(
        [(c, d, s) for c, d in new_keys for s in SCOPES], columns=["customer_id", "as_of", "scope"]
    )
    summary = summarise(
        conn, products_df, workloads_df, keys,
        support=data["support"], subs=data["subs"],
    )
    _store(conn, products_df, workloads_df, summary)
    return len(new_keys)


def store_imported_figures(
    conn: sqlite3.Connection, products: pd.DataFrame, workloads: pd.DataFrame, *, warm: bool = True,
) -> int:
    """Store aggregate figures (for dates without user-level data).

    ``products``: customer_id, as_of, scope, sku, sold, assigned.
    ``workloads``: customer_id, as_of, scope, workload, entitled, active.
    A (customer, as-of) that has computed figures keeps them: raw data wins.
    Returns the number of snapshots written. ``warm``: as for :func:`recompute`.
    """
    keys = pd.concat([products[["customer_id", "as_of", "scope"]], workloads[["customer_id", "as_of", "scope"]]])
    keys = keys.drop_duplicates()
    computed = {
        tuple(r) for r in conn.execute("SELECT DISTINCT customer_id, as_of FROM fig_customer WHERE source = 'computed'")
    }
    mask = [(c, d) not in computed for c, d in zip(keys.customer_id, keys.as_of)]
    keys = keys[mask]
    if keys.empty:
        return 0
    wanted = set(zip(keys.customer_id, keys.as_of))

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        mask = pd.Series([(c, d) in wanted for c, d in zip(frame.customer_id, frame.as_of)], index=frame.index, dtype=bool)
        return frame[mask].copy()

    p = keep(products).assign(source="imported")
    w = keep(workloads)
    w["active_entitled"] = None
    w["explanations"] = [_finish_explanations([], e, a) for e, a in zip(w.entitled, w.active)]
    w["source"] = "imported"
    pairs = sorted(wanted)
    _delete(conn, pairs, "imported")
    summary = summarise(conn, p, w, keys, source="imported")
    _store(conn, p, w, summary)
    if warm:
        cache.warm(conn)
    return len(pairs)
