"""Product names in Graph reports (`Assigned Products`) and offers, to SKUs.

Graph joins a user's product names with ``+`` while some names contain
`` + `` themselves (``ENTERPRISE MOBILITY + SECURITY E5``), and writes them
in upper case. :class:`ProductMatcher` splits such a list by matching known
product names (``products.name``, case-insensitive), longest first; a part
that matches nothing is kept as an unknown product named as written.

Usage reports that carry per-workload license flags but no product names
(older active user detail files, or a user whose flags are set while the
product list is empty) get one synthetic product per workload: ``GRAPH:<workload>``
(e.g. ``GRAPH:exchange``), kept as not in the catalogue (``known = 0``) but
with that workload, so the user's entitlement counts for it. Such an
assignment has no subscription; the figures attribute it to the SKU.
"""

from __future__ import annotations

import sqlite3

from adopt_tui.catalogue import load_catalogue, workload_name
from adopt_tui.store import writes

SYNTHETIC_PREFIX = "GRAPH:"


def synthetic_sku(workload: str) -> str:
    return f"{SYNTHETIC_PREFIX}{workload}"


def ensure_synthetic(conn: sqlite3.Connection, workloads) -> None:
    writes.ensure_catalogue(conn)
    conn.executemany(
        "INSERT OR IGNORE INTO products(sku, name, family, workloads, known) VALUES (?, ?, 'Office 365', ?, 0)",
        [(synthetic_sku(w), f"{workload_name(w)} license (from a usage report, product not named)", w)
         for w in sorted(set(workloads))],
    )


class ProductMatcher:
    """Upper-cased product name -> SKU, with the ``+`` splitting rule."""

    def __init__(self, conn: sqlite3.Connection):
        # Read-only: the catalogue file plus the products table (which may not be seeded yet).
        products: dict[str, tuple[str, int, str]] = {
            p["sku"]: (p["name"], 1, ",".join(p["workloads"])) for p in load_catalogue().values()
        }
        for sku, name, known, workloads in conn.execute("SELECT sku, name, known, workloads FROM products"):
            products[sku] = (name, known, workloads)
        self.by_name: dict[str, str] = {}
        # Known products first, then by SKU, so that a name shared by several SKUs maps stably.
        for sku, (name, _, _) in sorted(products.items(), key=lambda kv: (-kv[1][1], kv[0])):
            self.by_name.setdefault(name.strip().upper(), sku)
        for sku in products:
            self.by_name.setdefault(sku.upper(), sku)
        self.max_parts = max((n.count("+") + 1 for n in self.by_name), default=1)
        self.workloads = {sku: tuple(w for w in wl.split(",") if w) for sku, (_, _, wl) in products.items()}
        self.names = {sku: name for sku, (name, _, _) in products.items()}
        self._cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.unknown: set[str] = set()

    def split(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(SKUs, unknown names) for an `Assigned Products` cell. Memoised."""
        try:
            return self._cache[text]
        except KeyError:
            pass
        parts = text.split("+")
        skus: list[str] = []
        unknown: list[str] = []
        i = 0
        while i < len(parts):
            for j in range(min(len(parts), i + self.max_parts), i, -1):
                candidate = "+".join(parts[i:j]).strip().upper()
                sku = self.by_name.get(candidate)
                if sku is not None:
                    skus.append(sku)
                    i = j
                    break
            else:
                name = parts[i].strip()
                if name:
                    unknown.append(name.upper())
                    skus.append(name.upper())
                i += 1
        result = (tuple(dict.fromkeys(skus)), tuple(dict.fromkeys(unknown)))
        if len(self._cache) < 50_000:
            self._cache[text] = result
        self.unknown.update(result[1])
        return result

    def by_offer(self, *names: str) -> str | None:
        """The SKU whose display name or part number equals one of ``names``."""
        for name in names:
            if name:
                sku = self.by_name.get(name.strip().upper())
                if sku is not None:
                    return sku
        return None

    def workloads_of(self, sku: str) -> tuple[str, ...]:
        return self.workloads.get(sku, ())
