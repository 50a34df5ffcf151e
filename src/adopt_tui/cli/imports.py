"""Subcommand: import partner files (Graph reports and JSON, Partner Center, Insights, our bundle)."""

from __future__ import annotations

import argparse
import sys

from adopt_tui.cli.common import EXIT_ERROR, EXIT_OK, add_db_arg, add_login_args, login, open_db


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="import report files from Microsoft Graph and Partner Center (or an adopt-tui bundle directory)",
        description=(
            "Import the files partners download from Microsoft: Graph usage reports (Office 365 active user "
            "detail; email, OneDrive, SharePoint, Teams, Yammer and Microsoft 365 Apps activity user detail), "
            "Graph subscribedSkus and companySubscription JSON, Partner Center subscriptions and customer list "
            "JSON, Partner Center Insights downloads (Office 365 license usage, Dynamics 365 usage), or an "
            "adopt-tui CSV bundle directory. The format is detected from each file. All files are checked "
            "first; any error leaves the database unchanged. Re-importing a file changes nothing."
        ),
    )
    add_db_arg(p)
    add_login_args(p)
    p.add_argument("--customer", metavar="TENANT_OR_NAME",
                   help="the customer of tenant-level files (Graph reports and JSON, Partner Center subscriptions): "
                        "tenant id or exact name")
    p.add_argument("--customer-name", metavar="NAME",
                   help="create the customer --customer (a tenant id) with this name when it does not exist")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="the as-of date of user-level reports (default: each report's refresh date)")
    p.add_argument("--dry-run", action="store_true", help="check and show the files, write nothing")
    p.add_argument("files", nargs="+", metavar="FILE", help="files (or a bundle directory) to import")
    p.set_defaults(func=run)


def _print_plan(plan, out) -> None:
    for f in plan.files:
        fmt = f.label or "not recognised"
        parts = [fmt]
        if f.customer:
            parts.append(f"customer {f.customer}")
        parts.append(f"{f.rows:,} rows")
        if f.as_of:
            parts.append(f"as of {f.as_of}")
        print(f"{f.name}: " + ", ".join(parts), file=out)
        for w in f.warnings:
            print(f"  warning: {w}", file=out)


def run(args: argparse.Namespace) -> int:
    from adopt_tui.importers.api import plan_import, run_import

    conn = open_db(args)
    try:
        principal = login(args, conn)
        plan = plan_import(conn, principal, args.files, customer=args.customer,
                           customer_name=args.customer_name, as_of=args.as_of)
        _print_plan(plan, sys.stdout)
        if not plan.ok:
            count = len(plan.errors) + plan.more
            print(f"adopt-tui: {count} error(s); nothing was imported:", file=sys.stderr)
            for e in plan.errors:
                print(f"  {e}", file=sys.stderr)
            if plan.more:
                print(f"  ... and {plan.more} more error(s)", file=sys.stderr)
            return EXIT_ERROR
        if args.dry_run:
            print(f"Dry run: {plan.total_rows:,} rows checked, nothing written.")
            return EXIT_OK
        summary = run_import(conn, principal, plan)
        for f in summary.files:
            if f.skipped:
                print(f"{f.name}: already imported, nothing changed")
            else:
                print(f"{f.name}: {f.added:,} {f.detail} added, {f.updated:,} updated")
                for note in f.notes:
                    print(f"  {note}")
        print(f"Imported {len(summary.files)} file(s); figures refreshed for {summary.customers} customer(s).")
        return EXIT_OK
    finally:
        conn.close()
