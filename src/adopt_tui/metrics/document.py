"""The ``metrics --format json`` document as text, for the command line and the JSON export.

:func:`metrics_json` returns :class:`~adopt_tui.metrics.cache.DocumentParts`:
write them with ``parts.chunks(indent)``. ``json.loads`` of the text equals
:func:`adopt_tui.metrics.read.metrics_document` (and the text is what
``json.dumps`` of that document writes). For a principal who sees every
customer, asking for all of them at the latest as-of date, the document comes
from the cache alone, without importing pandas; everything else goes through
:mod:`adopt_tui.metrics.read`.
"""

from __future__ import annotations

import sqlite3

from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.metrics import cache
from adopt_tui.metrics.cache import DocumentParts

__all__ = ["DocumentParts", "metrics_json"]


def metrics_json(
    conn: sqlite3.Connection, principal: Principal, scope: str = "all", as_of: str | None = None,
    customer_ids: list[int] | None = None,
) -> DocumentParts:
    """The document for the customers ``principal`` may see (or those of ``customer_ids``)."""
    principal.require(Perm.VIEW_CUSTOMERS, conn, action="see customer data")
    if scope not in cache.SCOPES:
        raise ValueError(f"scope must be 'all' or 'own', not {scope!r}")
    if customer_ids is None and principal.sees_all_customers:
        parts = cache.cached_document(conn, scope, as_of)
        if parts is not None:
            return parts
    from adopt_tui.metrics import read  # pandas

    return read.metrics_parts(conn, principal, scope, as_of, customer_ids)
