"""Subcommand: export (deployment, usage, users of one customer, portfolio) as CSV, XLSX or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from adopt_tui.cli.common import add_db_arg, add_login_args, login, open_db


def register(subparsers) -> None:
    from adopt_tui.exporters import FORMATS, KINDS

    p = subparsers.add_parser(
        "export",
        help="export deployment, usage, one customer's users or the portfolio to CSV, XLSX or JSON",
        description=(
            "Write the figures you may see to a file. The file is written to a temporary file next to it "
            "and renamed into place when complete; it is readable by you only. An existing file is kept "
            "unless --force is given. The columns are described in the README."
        ),
    )
    add_db_arg(p)
    add_login_args(p)
    p.add_argument("--kind", required=True, choices=KINDS, help="what to export")
    p.add_argument("--format", dest="fmt", required=True, choices=FORMATS, help="file format")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")
    p.add_argument("--customer", metavar="C",
                   help="only this customer (tenant id or exact name); required for --kind users")
    p.add_argument("--scope", choices=("all", "own"), default="all",
                   help="all: licenses from every source (default); own: this partner's subscriptions only")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="figures as of this date (default: the latest)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 byte-order mark (for Excel)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adopt_tui.exporters import run_export
    from adopt_tui.metrics import read

    conn = open_db(args)
    try:
        principal = login(args, conn)
        customer_id = None
        if args.customer:
            customer_id = read.resolve_customer(conn, principal, args.customer).id
        result = run_export(
            conn, principal, kind=args.kind, fmt=args.fmt, out_path=args.out, scope=args.scope,
            as_of=args.as_of, customer_id=customer_id, bom=args.bom, force=args.force,
        )
    finally:
        conn.close()
    print(f"Exported {result.rows} rows to {result.path}")
    return 0
