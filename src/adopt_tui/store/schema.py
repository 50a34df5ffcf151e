"""The database schema, as a list of versioned migrations.

``PRAGMA user_version`` holds the number of migrations applied.  A database
whose version is higher than ``len(MIGRATIONS)`` was made by a newer adopt-tui
and is refused (see :mod:`adopt_tui.store.db`).

Conventions
-----------
* Dates are ISO ``YYYY-MM-DD`` text, times ISO ``YYYY-MM-DDTHH:MM:SS`` UTC text.
* Booleans are 0/1 integers.
* Subscription ``status``: ``active`` | ``grace`` | ``disabled`` | ``deprovisioned``.
* Subscription ``channel``: ``partner`` (this partner) | ``other_partner`` | ``direct``.
* Assignment ``state``: ``entitled`` | ``suspended`` | ``upgraded`` | ``cancelled``.
* Workload codes: see :mod:`adopt_tui.catalogue` (``exchange``, ``sharepoint``,
  ``teams``, ``skype``, ``yammer``, ``office``, ``dyn_*``).
"""

from __future__ import annotations

MIGRATION_1 = """
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE products (
    sku        TEXT PRIMARY KEY,          -- SKU part number (Graph skuPartNumber)
    sku_id     TEXT,                      -- GUID (Graph skuId)
    name       TEXT NOT NULL,             -- display name
    family     TEXT NOT NULL,             -- 'Office 365' | 'Microsoft 365' | 'Dynamics 365' | 'Other'
    workloads  TEXT NOT NULL DEFAULT '',  -- comma separated workload codes
    list_price REAL,                      -- optional monthly list price
    known      INTEGER NOT NULL DEFAULT 1 -- 0: not in the catalogue, created on import
);
CREATE INDEX products_name ON products(name COLLATE NOCASE);

CREATE TABLE customers (
    id        INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    domain    TEXT NOT NULL DEFAULT '',
    market    TEXT NOT NULL DEFAULT '',
    segment   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customers_name ON customers(name COLLATE NOCASE);

CREATE TABLE customer_agents (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    agent       TEXT NOT NULL,            -- sales agent's account user name
    PRIMARY KEY (customer_id, agent)
);
CREATE INDEX customer_agents_agent ON customer_agents(agent);

CREATE TABLE subscriptions (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    ext_id         TEXT NOT NULL,         -- id in the source system, unique per customer
    sku            TEXT NOT NULL REFERENCES products(sku),
    offer_name     TEXT NOT NULL DEFAULT '',
    quantity       INTEGER NOT NULL CHECK (quantity >= 0),
    status         TEXT NOT NULL CHECK (status IN ('active','grace','disabled','deprovisioned')),
    is_trial       INTEGER NOT NULL DEFAULT 0 CHECK (is_trial IN (0,1)),
    channel        TEXT NOT NULL CHECK (channel IN ('partner','other_partner','direct')),
    start_date     TEXT,
    commitment_end TEXT,
    billing_cycle  TEXT NOT NULL DEFAULT '',
    auto_renew     INTEGER NOT NULL DEFAULT 0 CHECK (auto_renew IN (0,1)),
    UNIQUE (customer_id, ext_id)
);
CREATE INDEX subscriptions_customer ON subscriptions(customer_id);

CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    upn          TEXT NOT NULL,           -- user principal name, may be a concealed 32-hex hash
    display_name TEXT NOT NULL DEFAULT '',
    is_deleted   INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0,1)),
    deleted_date TEXT,
    UNIQUE (customer_id, upn)
);

CREATE TABLE assignments (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sku             TEXT NOT NULL REFERENCES products(sku),
    subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,  -- NULL: not known
    assigned_date   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('entitled','suspended','upgraded','cancelled')),
    UNIQUE (user_id, sku, subscription_id)
);
CREATE INDEX assignments_user ON assignments(user_id);

CREATE TABLE activity (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workload      TEXT NOT NULL,
    report_date   TEXT NOT NULL,          -- the report refresh date (as-of)
    last_activity TEXT,                   -- NULL: no activity
    PRIMARY KEY (user_id, workload, report_date)
) WITHOUT ROWID;
CREATE INDEX activity_report_date ON activity(report_date);

CREATE TABLE support_requests (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    ext_id      TEXT NOT NULL,
    date        TEXT NOT NULL,
    category    TEXT NOT NULL,            -- 'how-to' | 'help' | 'incident' | other text
    UNIQUE (customer_id, ext_id)
);
CREATE INDEX support_requests_customer ON support_requests(customer_id, date);

-- Figures, precomputed per customer, as-of date and scope ('all' | 'own').
-- source: 'computed' from the raw rows above, or 'imported' (aggregates such
-- as Partner Center Insights downloads, for dates without user-level data).
CREATE TABLE fig_product (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    as_of       TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('all','own')),
    sku         TEXT NOT NULL,
    sold        INTEGER NOT NULL,
    assigned    INTEGER NOT NULL,
    source      TEXT NOT NULL DEFAULT 'computed',
    PRIMARY KEY (customer_id, as_of, scope, sku)
) WITHOUT ROWID;

CREATE TABLE fig_workload (
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    as_of           TEXT NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('all','own')),
    workload        TEXT NOT NULL,
    entitled        INTEGER NOT NULL,     -- counted entitlements (users)
    active          INTEGER NOT NULL,     -- active users, all activity counts
    active_entitled INTEGER,              -- active users holding a counted entitlement (NULL if unknown)
    explanations    TEXT NOT NULL DEFAULT '[]',  -- JSON list of {code, ...figures}
    source          TEXT NOT NULL DEFAULT 'computed',
    PRIMARY KEY (customer_id, as_of, scope, workload)
) WITHOUT ROWID;

CREATE TABLE fig_customer (
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    as_of           TEXT NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('all','own')),
    sold            INTEGER NOT NULL,
    assigned        INTEGER NOT NULL,
    entitled        INTEGER NOT NULL,     -- over the core workloads
    active          INTEGER NOT NULL,
    active_entitled INTEGER,
    deployment_pct  REAL,
    usage_pct       REAL,
    adjusted_pct    REAL,
    over_100        INTEGER NOT NULL DEFAULT 0,   -- some workload's usage % > 100
    unexplained     INTEGER NOT NULL DEFAULT 0,   -- ... and at least one of them is unexplained
    recommendations TEXT NOT NULL DEFAULT '[]',   -- JSON list of {code, reason, ...}
    rec_codes       TEXT NOT NULL DEFAULT '',     -- ',low_adoption,upsell,' for quick filtering
    renewal_due     INTEGER NOT NULL DEFAULT 0,   -- own subscriptions ending within 30 days of as_of
    source          TEXT NOT NULL DEFAULT 'computed',
    PRIMARY KEY (customer_id, as_of, scope)
) WITHOUT ROWID;
CREATE INDEX fig_customer_asof ON fig_customer(as_of, scope);

"""

# Version 2: accounts, the audit log and the import register.
MIGRATION_2 = """
-- Accounts and audit (see adopt_tui.auth).
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL CHECK (role IN ('global_admin','user_admin','admin_agent','sales_agent')),
    password_hash   TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    first_failed_at TEXT,
    locked_until    TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    last_login_at   TEXT,
    created_at      TEXT NOT NULL,
    changed_at      TEXT NOT NULL
);

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    time   TEXT NOT NULL,
    user   TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_time ON audit(time);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Imported files, for idempotent re-import (sha256 of the content).
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL,
    customer_id INTEGER,
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    as_of       TEXT,
    imported_at TEXT NOT NULL
);
CREATE INDEX imports_sha ON imports(sha256);
"""


def _figure_cache_migration() -> str:
    """Caches of the figures as of the latest as-of date (see adopt_tui.metrics.cache).

    ``cache_customer``: one row per customer and scope, the customer list's row.
    ``cache_doc_all`` and ``cache_doc_own``: the customer's object of
    ``metrics --format json`` in each scope (only where its ``cache_customer``
    row exists). ``cache_blob``: whole-portfolio pieces per scope, tagged with
    the as-of date they are for. Every table keeps its rows in key order, so
    the same contents always dump alike. Triggers drop
    what a change makes stale, whoever writes: a customer's rows when its
    figures, name or agents change, the whole-portfolio pieces on any change
    they depend on. Each trigger first checks that there is something to drop,
    so bulk writes next to an empty cache stay cheap.
    """
    parts = ["""
CREATE TABLE cache_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE cache_customer (
    customer_id INTEGER NOT NULL,
    scope       TEXT NOT NULL,
    tenant_id, name, domain, market, segment, agents, as_of, sold, assigned, entitled, active,
    active_entitled, deployment_pct, usage_pct, adjusted_pct, over_100, unexplained, rec_codes,
    renewal_due, prev_usage_pct, products,
    PRIMARY KEY (customer_id, scope)
) WITHOUT ROWID;

CREATE TABLE cache_doc_all (
    customer_id INTEGER PRIMARY KEY,
    doc         TEXT NOT NULL,          -- JSON text
    products    INTEGER NOT NULL,       -- product rows in it
    workloads   INTEGER NOT NULL        -- workload rows in it
);

CREATE TABLE cache_doc_own (
    customer_id INTEGER PRIMARY KEY,
    doc         TEXT NOT NULL,
    products    INTEGER NOT NULL,
    workloads   INTEGER NOT NULL
);

CREATE TABLE cache_blob (
    scope TEXT NOT NULL,
    kind  TEXT NOT NULL,
    as_of TEXT NOT NULL,
    data  BLOB NOT NULL,
    PRIMARY KEY (scope, kind)
) WITHOUT ROWID;
"""]
    # Plain equality on the leading key column: the check runs for every row a recompute writes.
    per_customer = {"fig_customer": "customer_id", "fig_product": "customer_id", "fig_workload": "customer_id",
                    "customer_agents": "customer_id", "customers": "id"}
    for table, col in per_customer.items():
        for op, refs in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            ids = [f"{ref}.{col}" for ref in refs]
            when = " OR ".join(f"EXISTS (SELECT 1 FROM cache_customer WHERE customer_id = {i})" for i in ids)
            body = "".join(
                f"    DELETE FROM {t} WHERE customer_id = {i};\n"
                for i in ids for t in ("cache_customer", "cache_doc_all", "cache_doc_own")
            )
            parts.append(
                f"CREATE TRIGGER cache_drop_{table}_{op.lower()} AFTER {op} ON {table}\n"
                f"WHEN EXISTS (SELECT 1 FROM cache_blob) OR {when}\n"
                f"BEGIN\n    DELETE FROM cache_blob;\n{body}END;\n"
            )
    for table in ("subscriptions", "settings"):  # renewals and the renewal window: whole-portfolio pieces only
        for op in ("INSERT", "UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER cache_drop_{table}_{op.lower()} AFTER {op} ON {table}\n"
                "WHEN EXISTS (SELECT 1 FROM cache_blob)\nBEGIN\n    DELETE FROM cache_blob;\nEND;\n"
            )
    for op in ("INSERT", "UPDATE", "DELETE"):  # product names show in the documents and the portfolio
        parts.append(
            f"CREATE TRIGGER cache_drop_products_{op.lower()} AFTER {op} ON products\n"
            "WHEN EXISTS (SELECT 1 FROM cache_blob) OR EXISTS (SELECT 1 FROM cache_doc_all) "
            "OR EXISTS (SELECT 1 FROM cache_doc_own)\n"
            "BEGIN\n    DELETE FROM cache_blob;\n    DELETE FROM cache_doc_all;\n    DELETE FROM cache_doc_own;\nEND;\n"
        )
    return "\n".join(parts)


# Version 3: the figure caches.
MIGRATION_FIGURE_CACHE = _figure_cache_migration()

# Version 4 (import speed), for the rows a large report import writes:
# * activity_report_date goes: every activity read goes through its user
#   (primary key user_id, workload, report_date); the index cost a B-tree
#   insert per activity row and led the planner to scan one date across all
#   customers.
# * assignments is rebuilt, same columns, keys and rows: its state CHECK says
#   the same with OR instead of IN (SQLite builds a temporary index for an IN
#   list of more than two values on every row checked: 1.5 us an assignment),
#   and assignments_user goes, as UNIQUE(user_id, sku, subscription_id) leads
#   with user_id and serves the same lookups (and the foreign key from users).
#   No table refers to assignments, so a plain copy and rename is enough.
MIGRATION_IMPORT_SPEED = """
DROP INDEX IF EXISTS activity_report_date;

CREATE TABLE assignments_v3 (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sku             TEXT NOT NULL REFERENCES products(sku),
    subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,  -- NULL: not known
    assigned_date   TEXT,
    state           TEXT NOT NULL CHECK (state = 'entitled' OR state = 'suspended' OR state = 'upgraded'
                                         OR state = 'cancelled'),
    UNIQUE (user_id, sku, subscription_id)
);

INSERT INTO assignments_v3(id, user_id, sku, subscription_id, assigned_date, state)
SELECT id, user_id, sku, subscription_id, assigned_date, state FROM assignments ORDER BY id;

DROP TABLE assignments;

ALTER TABLE assignments_v3 RENAME TO assignments;
"""

# The workload codes of migration 5's activity columns, in the order of the columns (a workload
# added to the catalogue later needs a migration adding its column).
ACTIVITY_WORKLOADS = (
    "exchange", "sharepoint", "teams", "skype", "yammer", "office",
    "dyn_sales", "dyn_customer_service", "dyn_field_service", "dyn_marketing", "dyn_finance",
    "dyn_supply_chain", "dyn_commerce", "dyn_hr", "dyn_project_operations", "dyn_business_central",
    "dyn_team_members", "dyn_other",
)


def _activity_migration() -> str:
    """Version 5: activity, one row per user and report date, a column per workload.

    A report lists each user once with a last activity date per workload; the
    old layout stored a row per user, workload and date (2.5 rows per user of a
    typical report, each repeating the user and the date): for a 1,000,000-row
    report, 2.5 million B-tree inserts and 109 MB, now 1 million and about half
    the bytes. A workload's column holds the last activity date, '' where the
    report lists the workload without activity (the old row with a NULL date,
    kept for report dates without any activity), NULL where it has no such row.
    ``activity_rows`` gives the old rows back (user_id, workload, report_date,
    last_activity) for queries by hand and the tests; the figures read the
    table itself. The old rows are converted, and each must name a known
    workload (the bundle and the generator only write those; a Graph report's
    workloads are the Office 365 ones): the conversion stops otherwise.
    """
    cols = ",\n".join(f"    {w:<22} TEXT" for w in ACTIVITY_WORKLOADS)
    pivot = ",\n".join(f"       MAX(CASE WHEN workload = '{w}' THEN COALESCE(last_activity, '') END)"
                       for w in ACTIVITY_WORKLOADS)
    known = ", ".join(f"'{w}'" for w in ACTIVITY_WORKLOADS)
    rows = "\nUNION ALL ".join(
        f"SELECT user_id, '{w}', report_date, NULLIF({w}, '') FROM activity WHERE {w} IS NOT NULL"
        for w in ACTIVITY_WORKLOADS)
    return f"""
CREATE TABLE activity_v5 (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    report_date TEXT NOT NULL,            -- the report refresh date (as-of)
{cols},
    PRIMARY KEY (user_id, report_date)
) WITHOUT ROWID;

CREATE TEMP TABLE activity_v5_check (workload TEXT NOT NULL CHECK (workload IN ({known})));

INSERT INTO activity_v5_check SELECT DISTINCT workload FROM activity;

DROP TABLE activity_v5_check;

INSERT INTO activity_v5(user_id, report_date, {", ".join(ACTIVITY_WORKLOADS)})
SELECT user_id, report_date,
{pivot}
FROM activity GROUP BY user_id, report_date ORDER BY user_id, report_date;

DROP TABLE activity;

ALTER TABLE activity_v5 RENAME TO activity;

CREATE VIEW activity_rows(user_id, workload, report_date, last_activity) AS
{rows};
"""


MIGRATION_ACTIVITY_BY_USER = _activity_migration()

# Each entry brings a database from version i to i + 1.
MIGRATIONS: list[str] = [MIGRATION_1, MIGRATION_2, MIGRATION_FIGURE_CACHE, MIGRATION_IMPORT_SPEED,
                         MIGRATION_ACTIVITY_BY_USER]

SCHEMA_VERSION = len(MIGRATIONS)
