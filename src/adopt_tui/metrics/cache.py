"""Caches of the figures as of the latest as-of date, kept in the database.

The figures are precomputed per customer (``fig_*``); what costs time on a
large portfolio is assembling them per request. So the assembled results for
the *default* as-of date (the latest one in the database) are kept, per scope:

``cache_customer`` (one row per customer and scope)
    the customer list's row (the columns of ``read.customer_table``'s query).
``cache_doc_all``, ``cache_doc_own`` (one row per customer)
    the customer's object of the ``metrics --format json`` document as JSON
    text, with its product and workload counts; only where the customer's
    ``cache_customer`` row exists.
    Neither depends on the portfolio's latest date: a customer's row is its
    own latest snapshot.
``cache_blob`` (per scope and kind, tagged with the latest as-of date)
    ``list``: the finished customer list frame (Arrow IPC) for principals who
    see every customer; ``order``: its customer ids in list order (JSON);
    ``portfolio``: :class:`read.Portfolio` without the trend (JSON);
    ``summary``: its ``portfolio`` object of the JSON document (JSON text);
    ``trend``: the 12-month trend (JSON).
``cache_meta``
    ``format``: :data:`FORMAT`; a cache written by another version of the
    code is ignored and rebuilt.

Everything cached is computed by the live code paths in :mod:`read`, from one
read snapshot, so a cached result is the live result (``cache=False`` on the
read functions gives the live computation; the tests compare the two). Sales
agents read the per-customer rows filtered by their assignments in SQL; other
as-of dates, filtered requests and agents' portfolios are computed live (from
the per-customer rows where they fit).

Invalidation is done by triggers (the schema migration ``figure cache``) so
that every writer is covered: a change to a customer's figures, name or agents
drops that customer's rows and every ``cache_blob`` row; a change to
subscriptions or settings drops the ``cache_blob`` rows; a change to the
products drops the documents and the ``cache_blob`` rows.

Filling: :func:`warm` fills what is missing in the caller's transaction (the
end of ``recompute`` and ``store_imported_figures``, the generator): always
the per-customer rows, the whole-portfolio pieces when a large share changed.
Reads that find something missing compute it and store it *best effort*: in
the read snapshot they computed it from, with a short busy timeout, and not at
all when the database cannot be written (read-only file, another writer busy,
or the data changed since the snapshot began).

This module imports neither pandas nor :mod:`read` at import time: the
cached ``metrics --format json`` path for a principal who sees every customer
(:func:`cached_document`) runs without pandas.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

FORMAT = "1"  # change when what is cached, or the code computing it, changes
SCOPES = ("all", "own")
STORE_BUSY_TIMEOUT_MS = 50  # a read that stores what it computed never waits longer for the write lock

Write = Callable[[sqlite3.Connection], None]

_local = threading.local()


# --------------------------------------------------------------------------- snapshots


class Snapshot:
    """One read transaction; writes queued with :meth:`write` are applied in it at the end.

    ``mode``:
    * ``"lazy"``: reads computed something the cache lacked. If this snapshot
      began the transaction, the queued writes are tried at the end with a
      short busy timeout; any failure (read-only database, busy, the data
      changed since the snapshot began) rolls back and is ignored. Inside a
      transaction the caller began, nothing is stored.
    * ``"warm"``: writes go straight into the current transaction (the
      caller's, or one begun here with BEGIN IMMEDIATE); errors propagate.
    """

    def __init__(self, conn: sqlite3.Connection, mode: str) -> None:
        self.conn = conn
        self.mode = mode
        self.own = False
        self.pending: list[Write] = []
        self.memo: dict = {}  # results computed in this snapshot (a frame is built once per snapshot)
        self._latest: tuple[str | None] | None = None
        self._valid: bool | None = None

    # -- what every cached read needs: the latest date and a usable cache

    @property
    def latest(self) -> str | None:
        if self._latest is None:
            self._latest = (self.conn.execute("SELECT MAX(as_of) FROM fig_customer").fetchone()[0],)
        return self._latest[0]

    @property
    def valid(self) -> bool:
        """The cache tables exist and hold this code's format."""
        if self._valid is None:
            try:
                row = self.conn.execute("SELECT value FROM cache_meta WHERE key = 'format'").fetchone()
                self._valid = row is not None and row[0] == FORMAT
            except sqlite3.OperationalError:  # no cache tables (an older schema opened without migrating)
                self._valid = False
        return self._valid

    def exists(self) -> bool:
        try:
            self.conn.execute("SELECT 1 FROM cache_meta LIMIT 0")
            return True
        except sqlite3.OperationalError:
            return False

    @property
    def can_store(self) -> bool:
        return self.mode == "warm" or self.own

    def write(self, fn: Write) -> None:
        """Apply ``fn(conn)`` now (warm) or when the snapshot ends (lazy)."""
        if not self.can_store:
            return
        if self.mode == "warm":
            self._prepare()
            fn(self.conn)
        else:
            self.pending.append(fn)

    def _prepare(self) -> None:
        """Bring the cache to this code's format (dropping another format's contents) before writing."""
        if self.valid:
            return
        for table in CACHE_TABLES:
            self.conn.execute(f"DELETE FROM {table}")
        self.conn.execute("INSERT OR REPLACE INTO cache_meta(key, value) VALUES ('format', ?)", (FORMAT,))
        self._valid = True

    def _flush(self) -> None:
        conn = self.conn
        timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute(f"PRAGMA busy_timeout = {STORE_BUSY_TIMEOUT_MS}")
        try:
            if not self.exists():
                raise sqlite3.OperationalError("no cache tables")
            self._prepare()
            for fn in self.pending:
                fn(conn)
            conn.execute("COMMIT")
        except sqlite3.Error:
            # read-only file, another writer, the data changed since this snapshot began, a full
            # disk ...: keep nothing; the caller has its result anyway
            pass
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _stack() -> dict[int, Snapshot]:
    stack = getattr(_local, "snapshots", None)
    if stack is None:
        stack = _local.snapshots = {}
    return stack


@contextmanager
def snapshot(conn: sqlite3.Connection, mode: str = "lazy") -> Iterator[Snapshot]:
    """The current snapshot of ``conn`` (nested uses share the outermost one)."""
    stack = _stack()
    outer = stack.get(id(conn))
    if outer is not None and outer.conn is conn:
        if mode == "warm" and outer.mode != "warm":
            raise RuntimeError("cannot warm the cache inside a lazy snapshot")
        yield outer
        return
    snap = Snapshot(conn, mode)
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE" if mode == "warm" else "BEGIN")
        snap.own = True
    stack[id(conn)] = snap
    try:
        yield snap
    except BaseException:
        del stack[id(conn)]
        if snap.own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    del stack[id(conn)]
    if snap.own:
        if snap.pending:
            snap._flush()
        elif conn.in_transaction:
            conn.execute("COMMIT")


# --------------------------------------------------------------------------- reading


def get_blob(snap: Snapshot, scope: str, kind: str) -> bytes | str | None:
    """A whole-portfolio piece for the latest as-of date, or None."""
    latest = snap.latest
    if latest is None or not snap.valid:
        return None
    row = snap.conn.execute(
        "SELECT data FROM cache_blob WHERE scope = ? AND kind = ? AND as_of = ?", (scope, kind, latest)
    ).fetchone()
    return None if row is None else row[0]


def put_blob(snap: Snapshot, scope: str, kind: str, data: bytes | str) -> None:
    latest = snap.latest
    if latest is None:
        return
    snap.write(lambda conn: conn.execute(
        "INSERT OR REPLACE INTO cache_blob(scope, kind, as_of, data) VALUES (?, ?, ?, ?)",
        (scope, kind, latest, data),
    ))


def is_default(snap: Snapshot, as_of: str | None) -> bool:
    """``as_of`` means the latest as-of date (None or that date), and there is one."""
    latest = snap.latest
    return latest is not None and (as_of is None or as_of == latest)


def docs(snap: Snapshot, scope: str, ids: list[int] | None) -> dict[int, tuple[str, int, int]]:
    """Cached document parts {customer id: (json, products, workloads)} of ``ids`` (None: all)."""
    if not snap.valid:
        return {}
    sql = f"SELECT customer_id, doc, products, workloads FROM {doc_table(scope)}"
    params: tuple = ()
    if ids is not None:
        sql += " WHERE customer_id IN (SELECT value FROM json_each(?))"
        params = (json.dumps(ids),)
    cur = snap.conn.cursor()
    cur.row_factory = None
    return {r[0]: (r[1], r[2], r[3]) for r in cur.execute(sql, params)}


def docs_missing(snap: Snapshot, scope: str, ids: list[int]) -> list[int]:
    """Those of ``ids`` without a cached document part."""
    if not snap.valid:
        return list(ids)
    have = {r[0] for r in snap.conn.execute(
        f"SELECT customer_id FROM {doc_table(scope)} WHERE customer_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )}
    return [i for i in ids if i not in have]


def put_docs(snap: Snapshot, scope: str, docs: dict[int, tuple[str, int, int]]) -> None:
    """Store document parts. Only for customers whose list row is cached or stored before in this
    snapshot (the documents are made from the list's rows): the triggers drop the two together."""
    snap.write(lambda conn: conn.executemany(
        f"INSERT OR REPLACE INTO {doc_table(scope)}(customer_id, doc, products, workloads) VALUES (?, ?, ?, ?)",
        [(cid, text, n_products, n_workloads) for cid, (text, n_products, n_workloads) in docs.items()],
    ))


def doc_table(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"scope must be 'all' or 'own', not {scope!r}")
    return f"cache_doc_{scope}"


def missing_rows(snap: Snapshot) -> tuple[int, int]:
    """(customers times scopes without a cached list row, customers times scopes)."""
    customers = snap.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    if not snap.valid:
        return customers * len(SCOPES), customers * len(SCOPES)
    cached = snap.conn.execute(
        "SELECT COUNT(*) FROM cache_customer WHERE customer_id IN (SELECT id FROM customers)"
    ).fetchone()[0]
    return customers * len(SCOPES) - cached, customers * len(SCOPES)


# --------------------------------------------------------------------------- the JSON document as text


class DocumentParts:
    """The pieces of the ``metrics --format json`` document, as JSON text."""

    def __init__(self, as_of: str | None, scope: str, customers: list[str], summary: str,
                 products: int, workloads: int) -> None:
        self.as_of = as_of
        self.scope = scope
        self.customers = customers    # each customer's object, json.dumps(..., ensure_ascii=False)
        self.summary = summary        # the portfolio object, likewise
        self.products = products      # product rows across the customers
        self.workloads = workloads    # workload rows across the customers

    def chunks(self, indent: int | None = None, batch: int = 2000) -> Iterator[str]:
        """The document, exactly as ``json.dumps(doc, ensure_ascii=False, indent=indent)`` writes it
        (``indent``: None or 2)."""
        dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
        if indent is None:
            yield f'{{"as_of": {dump(self.as_of)}, "scope": {dump(self.scope)}, "customers": ['
            for start in range(0, len(self.customers), batch):
                yield (", " if start else "") + ", ".join(self.customers[start:start + batch])
            yield f'], "portfolio": {self.summary}}}'
            return
        if indent != 2:
            raise ValueError("indent must be None or 2")
        yield f'{{\n  "as_of": {dump(self.as_of)},\n  "scope": {dump(self.scope)},\n  "customers": '
        if not self.customers:
            yield "[]"
        else:
            # JSON text never holds a raw newline inside a string, so shifting lines is safe
            def nested(text: str) -> str:
                return "    " + json.dumps(json.loads(text), ensure_ascii=False, indent=2).replace("\n", "\n    ")

            yield "[\n"
            for start in range(0, len(self.customers), batch):
                yield (",\n" if start else "") + ",\n".join(nested(t) for t in self.customers[start:start + batch])
            yield "\n  ]"
        summary = json.dumps(json.loads(self.summary), ensure_ascii=False, indent=2).replace("\n", "\n  ")
        yield f',\n  "portfolio": {summary}\n}}'

    def text(self, indent: int | None = None) -> str:
        return "".join(self.chunks(indent))


def cached_document(conn: sqlite3.Connection, scope: str, as_of: str | None) -> DocumentParts | None:
    """The whole-portfolio document for a principal who sees every customer, from the cache
    alone (no pandas), or None when any piece is missing. The caller checks permissions."""
    try:
        with snapshot(conn) as snap:
            if not is_default(snap, as_of):
                return None
            order, summary = get_blob(snap, scope, "order"), get_blob(snap, scope, "summary")
            if order is None or summary is None:
                return None
            ids = json.loads(order)
            found = docs(snap, scope, None)
            if len(found) < len(ids):
                return None
            parts = [found[i] for i in ids]
            return DocumentParts(
                snap.latest, scope, [p[0] for p in parts], summary,
                sum(p[1] for p in parts), sum(p[2] for p in parts),
            )
    except (KeyError, ValueError, TypeError):  # a damaged cache: compute live
        return None


CACHE_TABLES = ("cache_customer", "cache_doc_all", "cache_doc_own", "cache_blob")


@contextmanager
def suspended(conn: sqlite3.Connection) -> Iterator[None]:
    """Empty the cache and lift its triggers while the caller writes figures in bulk, then put the
    triggers back: all inside the caller's transaction, so no other connection ever sees the
    triggers missing and a rollback restores them. (Each trigger costs a couple of microseconds
    per figure row even with nothing to drop; the generator writes millions.) Outside a
    transaction this does nothing: the triggers stay."""
    if not conn.in_transaction:
        yield
        return
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cache\\_drop\\_%' ESCAPE '\\'"
    ).fetchall()
    if not triggers:
        yield
        return
    for table in CACHE_TABLES:
        conn.execute(f"DELETE FROM {table}")
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        if conn.in_transaction:  # (after an error SQLite may have rolled back already, triggers and all)
            for _, sql in triggers:
                conn.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


WHOLE_SHARE = 0.1  # warm the whole-portfolio pieces when at least this share of the rows was missing


def warm(conn: sqlite3.Connection, *, whole: bool | None = None) -> None:
    """Fill the missing cache entries for the latest as-of date, in the caller's
    transaction (or in one of its own).

    Every customer's list row and document part is filled (the cost follows
    the number of customers that changed). The whole-portfolio pieces (list
    frame, portfolio, trend) cost about the same whatever changed, a few
    seconds at 20,000 customers: they are filled when ``whole`` is True, or
    when it is None and at least :data:`WHOLE_SHARE` of the rows was missing (a
    full recompute, the generator, a new threshold); after a small change the
    first read that needs them computes and stores them.
    """
    from adopt_tui.metrics import read  # pandas

    read.warm_cache(conn, whole=whole)
