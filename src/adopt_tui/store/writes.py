"""Bulk writes shared by the bundle loader, the importers and the generator.

All functions run inside the caller's transaction and never commit.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Sequence

from adopt_tui.catalogue import load_catalogue
from adopt_tui.store.schema import ACTIVITY_WORKLOADS


def ensure_catalogue(conn: sqlite3.Connection) -> None:
    """Seed the products table from data/catalogue.csv (once; known products only)."""
    if conn.execute("SELECT 1 FROM products WHERE known = 1 LIMIT 1").fetchone():
        return
    conn.executemany(
        "INSERT OR IGNORE INTO products(sku, sku_id, name, family, workloads, known) VALUES (?, ?, ?, ?, ?, 1)",
        [
            (p["sku"], p["sku_id"], p["name"], p["family"], ",".join(p["workloads"]))
            for p in load_catalogue().values()
        ],
    )


def ensure_products(conn: sqlite3.Connection, skus: Iterable[str]) -> list[str]:
    """Make sure each SKU exists; unknown ones are kept under their part number.

    Returns the SKUs that were not in the catalogue (for a warning).
    """
    ensure_catalogue(conn)
    wanted = set(skus)
    if not wanted:
        return []
    known = {
        row[0]
        for chunk in _chunks(sorted(wanted), 900)
        for row in conn.execute(
            f"SELECT sku FROM products WHERE sku IN ({','.join('?' * len(chunk))})", chunk
        )
    }
    missing = sorted(wanted - known)
    conn.executemany(
        "INSERT INTO products(sku, name, family, workloads, known) VALUES (?, ?, 'Other', '', 0)",
        [(sku, sku) for sku in missing],
    )
    return missing


def product_by_name(conn: sqlite3.Connection) -> dict[str, str]:
    """Upper-cased display name -> SKU, for reports that carry product names."""
    ensure_catalogue(conn)
    return {name.upper(): sku for sku, name in conn.execute("SELECT sku, name FROM products")}


def upsert_customer(
    conn: sqlite3.Connection, tenant_id: str, name: str, domain: str = "", market: str = "", segment: str = ""
) -> int:
    conn.execute(
        """INSERT INTO customers(tenant_id, name, domain, market, segment) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(tenant_id) DO UPDATE SET name = excluded.name,
               domain = CASE WHEN excluded.domain != '' THEN excluded.domain ELSE customers.domain END,
               market = CASE WHEN excluded.market != '' THEN excluded.market ELSE customers.market END,
               segment = CASE WHEN excluded.segment != '' THEN excluded.segment ELSE customers.segment END""",
        (tenant_id, name, domain, market, segment),
    )
    return conn.execute("SELECT id FROM customers WHERE tenant_id = ?", (tenant_id,)).fetchone()[0]


def set_customer_agents(conn: sqlite3.Connection, customer_id: int, agents: Sequence[str]) -> None:
    conn.execute("DELETE FROM customer_agents WHERE customer_id = ?", (customer_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO customer_agents(customer_id, agent) VALUES (?, ?)",
        [(customer_id, a) for a in agents if a],
    )


SUBSCRIPTION_COLUMNS = (
    "customer_id", "ext_id", "sku", "offer_name", "quantity", "status", "is_trial", "channel",
    "start_date", "commitment_end", "billing_cycle", "auto_renew",
)


def upsert_subscriptions(conn: sqlite3.Connection, rows: Iterable[Sequence]) -> None:
    """Rows in SUBSCRIPTION_COLUMNS order; keyed by (customer_id, ext_id)."""
    cols = ", ".join(SUBSCRIPTION_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in SUBSCRIPTION_COLUMNS[2:])
    conn.executemany(
        f"INSERT INTO subscriptions({cols}) VALUES ({', '.join('?' * len(SUBSCRIPTION_COLUMNS))}) "
        f"ON CONFLICT(customer_id, ext_id) DO UPDATE SET {updates}",
        rows,
    )


def subscription_ids(conn: sqlite3.Connection, customer_id: int) -> dict[str, int]:
    return dict(conn.execute("SELECT ext_id, id FROM subscriptions WHERE customer_id = ?", (customer_id,)))


def upsert_users(conn: sqlite3.Connection, rows: Iterable[Sequence], *, keep_display_name: bool = True) -> None:
    """Rows (customer_id, upn, display_name, is_deleted, deleted_date)."""
    name = (
        "CASE WHEN excluded.display_name != '' THEN excluded.display_name ELSE users.display_name END"
        if keep_display_name else "excluded.display_name"
    )
    conn.executemany(
        "INSERT INTO users(customer_id, upn, display_name, is_deleted, deleted_date) VALUES (?, ?, ?, ?, ?) "
        f"ON CONFLICT(customer_id, upn) DO UPDATE SET display_name = {name}, "
        "is_deleted = excluded.is_deleted, deleted_date = excluded.deleted_date",
        rows,
    )


def user_ids(conn: sqlite3.Connection, customer_id: int) -> dict[str, int]:
    return dict(conn.execute("SELECT upn, id FROM users WHERE customer_id = ?", (customer_id,)))


def replace_assignments(conn: sqlite3.Connection, user_id_list: Iterable[int], rows: Iterable[Sequence]) -> None:
    """Replace the assignments of the given users with ``rows``
    (user_id, sku, subscription_id, assigned_date, state): the latest picture wins."""
    conn.executemany("DELETE FROM assignments WHERE user_id = ?", ((u,) for u in user_id_list))
    conn.executemany(
        "INSERT OR REPLACE INTO assignments(user_id, sku, subscription_id, assigned_date, state) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def activity_upsert(workloads: Iterable[str]) -> str:
    """The conflict clause of an activity row setting ``workloads``: per workload the later date
    wins; a date wins over '' (listed without activity), '' over NULL (not listed), and NULL
    changes nothing."""
    sets = ", ".join(
        f"{w} = CASE WHEN excluded.{w} IS NULL THEN activity.{w} WHEN activity.{w} IS NULL OR activity.{w} = '' "
        f"OR excluded.{w} > activity.{w} THEN excluded.{w} ELSE activity.{w} END" for w in workloads)
    return f" ON CONFLICT(user_id, report_date) DO UPDATE SET {sets}"


def upsert_activity(conn: sqlite3.Connection, rows: Iterable[Sequence]) -> None:
    """Rows (user_id, workload, report_date, last_activity or None). The later activity date wins."""
    by_workload: dict[str, list] = {}
    for user_id, workload, report_date, last in rows:
        by_workload.setdefault(workload, []).append((user_id, report_date, last))
    for workload, values in by_workload.items():
        if workload not in ACTIVITY_WORKLOADS:   # a column name: never anything else
            raise ValueError(f"{workload!r} is not a workload code")
        conn.executemany(
            f"INSERT INTO activity(user_id, report_date, {workload}) VALUES (?, ?, COALESCE(?, ''))"
            + activity_upsert([workload]),
            values,
        )


def upsert_support_requests(conn: sqlite3.Connection, rows: Iterable[Sequence]) -> None:
    """Rows (customer_id, ext_id, date, category)."""
    conn.executemany(
        "INSERT INTO support_requests(customer_id, ext_id, date, category) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(customer_id, ext_id) DO UPDATE SET date = excluded.date, category = excluded.category",
        rows,
    )


def _chunks(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --------------------------------------------------------------------------- many rows per statement

MAX_ROWS_PER_STATEMENT = 256
_SQL: dict[tuple, str] = {}


def _multi_sql(head: str, row: str, tail: str, consts: int, width: int, rows: int) -> str:
    key = (head, row, tail, consts, width, rows)
    sql = _SQL.get(key)
    if sql is None:
        n = consts
        parts = []
        for _ in range(rows):
            parts.append(row.format(*(f"?{n + j + 1}" for j in range(width))))
            n += width
        sql = _SQL[key] = f"{head} VALUES {','.join(parts)}{tail}"
        if len(_SQL) > 512:
            _SQL.clear()
    return sql


def insert_many(conn: sqlite3.Connection, head: str, row: str, values: list, width: int,
                consts: Sequence = (), tail: str = "") -> int:
    """Insert ``len(values) // width`` rows given as one flat list, many rows per
    statement (``head VALUES row, row, ... tail``): several times cheaper than
    ``executemany``, whose cost is mostly per statement execution.

    ``row`` is a row template with ``{}`` for each of its ``width`` values;
    it may refer to ``consts`` as ``?1``, ``?2`` .. (bound once per statement).
    Returns the number of rows.
    """
    total = len(values) // width
    if total == 0:
        return 0
    c = len(consts)
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(conn, "getlimit") else 999
    per = max(1, min(MAX_ROWS_PER_STATEMENT, (limit - c) // width))
    consts = list(consts)
    step = per * width
    full = total // per * step
    if full:
        sql = _multi_sql(head, row, tail, c, width, per)
        for i in range(0, full, step):
            conn.execute(sql, consts + values[i:i + step])
    rest = total - full // width
    pos = full
    while rest:  # the remainder in a few statements of power-of-two sizes (few distinct statements)
        size = 1 << (rest.bit_length() - 1)
        conn.execute(_multi_sql(head, row, tail, c, width, size), consts + values[pos:pos + size * width])
        pos += size * width
        rest -= size
    return total


def delete_where_in(conn: sqlite3.Connection, table: str, column: str, values: Sequence) -> None:
    """``DELETE FROM table WHERE column IN (values)``, in chunks."""
    for i in range(0, len(values), 500):
        chunk = list(values[i:i + 500])
        conn.execute(f"DELETE FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)
