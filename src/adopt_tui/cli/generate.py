"""Subcommand: generate, a large realistic portfolio for scale tests and benchmarks.

    adopt-tui generate --db PATH --customers N [--seed S] [--graph-csv DIR]

Writes a generated portfolio (see :mod:`adopt_tui.generate`) into a database
that holds no customer data yet, computes its figures, and prints one line per
stage to standard error and a summary line to standard output::

    generated<TAB>CUSTOMERS<TAB>USERS<TAB>SECONDS

Who may run it: the generator only ever fills a database *without customer
data* (a new file, or one that has accounts and settings but no customers);
it refuses any other (exit code 1), so it can never mix made-up data into a
real portfolio. A database without accounts needs no login (nobody could sign
in to it yet: create the first account afterwards with ``adopt-tui init`` or
``users add``). A database that has accounts needs ``--user`` of someone
allowed to import data (Global admin or Admin agent), and the run is audited.

``--graph-csv DIR`` also writes the users as one Microsoft Graph *Office 365
active user detail* report (``DIR/office365_active_user_detail.csv``, header
exactly as Microsoft documents it; UPN domains tell the tenants apart) and
``DIR/tenants.csv`` (tenant_id, name, domain), for the import benchmark.
"""

from __future__ import annotations

import argparse
import sys
import time

from adopt_tui.cli.common import add_db_arg, add_login_args, db_path, login, open_db


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "generate",
        help="build a large generated portfolio (scale tests, benchmarks) into a database without customers",
        description=(
            "Build a realistic generated portfolio of N customers (5 to 5,000 users each, about 50 on average) "
            "with twelve monthly as-of dates, and compute its figures. Only into a database that holds no "
            "customer data; a database with accounts needs the login of a Global admin or Admin agent."
        ),
    )
    add_db_arg(p)
    p.add_argument("--customers", type=int, required=True, metavar="N", help="number of customers")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (same seed, same portfolio)")
    p.add_argument("--graph-csv", metavar="DIR", help="also write the users as a Graph active user detail CSV")
    p.add_argument(
        "--user-level-months", type=int, default=1, metavar="K",
        help="months (latest first) with user-level activity; older months get aggregate figures (default 1)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    add_login_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adopt_tui.auth import audit
    from adopt_tui.auth.permissions import Perm
    from adopt_tui.errors import AdoptError
    from adopt_tui.generate import database_is_empty, generate, write_graph_csv

    if args.customers < 1:
        raise ValueError("--customers must be at least 1")
    conn = open_db(args, must_exist=False)
    try:
        if not database_is_empty(conn):
            raise AdoptError(
                f"{db_path(args)} already holds customer data; 'generate' only fills a new database"
            )
        has_accounts = conn.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None
        principal = None
        if has_accounts:
            principal = login(args, conn)
            principal.require(Perm.IMPORT, conn, action="generate a portfolio")
        elif getattr(args, "user", None):
            raise AdoptError("this database has no accounts yet: run 'generate' without --user")

        def say(text: str) -> None:
            if not args.quiet:
                print(f"generate: {text}", file=sys.stderr, flush=True)

        start = time.perf_counter()
        stats = generate(conn, args.customers, args.seed, say, user_level_months=args.user_level_months)
        if principal is not None:
            audit.record(conn, principal.username, "generate", target=str(db_path(args)),
                         detail=f"{stats.customers} customers, {stats.users} users, seed {args.seed}")
        if args.graph_csv:
            counts = write_graph_csv(conn, args.graph_csv)
            say("graph csv: " + ", ".join(f"{k} {v:,} rows" for k, v in counts.items()))
        print(f"generated\t{stats.customers}\t{stats.users}\t{time.perf_counter() - start:.1f}")
        return 0
    finally:
        conn.close()
