"""Core subcommands: start the TUI, demo, init, load, metrics."""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import date
from pathlib import Path

from adopt_tui.cli.common import (
    EXIT_ERROR, EXIT_OK, add_db_arg, add_login_args, db_path, login, open_db, read_secret_line,
)
from adopt_tui.errors import AdoptError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="build a fresh demo database from data/ and start the TUI on it",
        description="Builds a fresh demo portfolio database (in a new temporary directory unless --db names a "
                    "file that does not exist yet; an existing file is never overwritten) and starts the TUI. "
                    "The login screen lists the demo accounts.",
    )
    add_db_arg(p)
    p.add_argument("--no-tui", action="store_true", help="only build the database and print its path")
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser(
        "init", help="create or migrate a database; --admin creates the first Global admin",
        description="Creates the database (mode 0600) or brings an older one up to date. With --admin NAME on a "
                    "database without accounts, creates the first Global admin (password from a prompt, or the "
                    "first line of standard input with --password-stdin).",
    )
    add_db_arg(p)
    p.add_argument("--admin", metavar="NAME", help="create the first Global admin account")
    p.add_argument("--display-name", default="", help="the admin's display name")
    p.add_argument("--password-stdin", action="store_true", help="read the admin's password from standard input")
    p.set_defaults(func=cmd_init)

    p = subparsers.add_parser(
        "load", help="load a CSV bundle (all-or-nothing)",
        description="Loads a directory of bundle CSV files (see README, 'The import bundle'). Every file is "
                    "checked first; any error names file, line and field and nothing is written.",
    )
    add_db_arg(p)
    add_login_args(p)
    p.add_argument("bundle", metavar="BUNDLE_DIR", type=Path)
    p.set_defaults(func=cmd_load)

    p = subparsers.add_parser(
        "metrics", help="print deployment and usage figures (table, JSON or CSV)",
        description="Prints the figures for the customers you may see, or one customer. The JSON form is a "
                    "contract for scripts (README, 'metrics --format json').",
    )
    add_db_arg(p)
    add_login_args(p)
    p.add_argument("--customer", metavar="NAME_OR_TENANT", help="one customer, by tenant id or exact name")
    p.add_argument("--scope", choices=("all", "own"), default="all",
                   help="all sources (default) or own: this partner's subscriptions only")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", type=_iso_date, help="as of this date (default: the latest data)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_metrics)


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- TUI


def run_tui(args: argparse.Namespace) -> int:
    path = db_path(args)
    if not path.exists():
        raise AdoptError(
            f"{path}: no database yet. Create one with 'adopt-tui init --db {path} --admin NAME', "
            "or try the demo with 'adopt-tui demo'."
        )
    open_db(args).close()  # migrate, and fail early with a clear message
    return _start_tui(path, demo_accounts=None)


def _start_tui(path: Path, demo_accounts) -> int:
    from adopt_tui.tui.app import make_app

    make_app(path, demo_accounts=demo_accounts).run()
    return EXIT_OK


# --------------------------------------------------------------------------- demo


def build_demo(path: Path) -> list[tuple[str, str, str]]:
    """Build the demo portfolio into a new database at ``path``; returns the demo accounts."""
    from adopt_tui.auth.accounts import create_demo_accounts
    from adopt_tui.auth.permissions import SYSTEM
    from adopt_tui.catalogue import data_dir
    from adopt_tui.importers.bundle import load_bundle
    from adopt_tui.store import connect

    if path.exists():
        raise AdoptError(f"{path}: already exists; the demo never overwrites a database (choose a new path)")
    conn = connect(path)
    try:
        load_bundle(conn, data_dir() / "demo", SYSTEM, audit_action=False)
        return create_demo_accounts(conn)
    finally:
        conn.close()


def cmd_demo(args: argparse.Namespace) -> int:
    path = getattr(args, "db", None)
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="adopt-tui-demo-")) / "demo.db"
    print(f"Building the demo portfolio in {path} ...", file=sys.stderr)
    accounts = build_demo(path)
    if args.no_tui:
        print(path)
        return EXIT_OK
    return _start_tui(path, demo_accounts=accounts)


# --------------------------------------------------------------------------- init


def cmd_init(args: argparse.Namespace) -> int:
    from adopt_tui.store import connect
    from adopt_tui.store.db import schema_version

    path = db_path(args)
    existed = path.exists()
    conn = connect(path)
    try:
        print(f"{'Migrated' if existed else 'Created'} {path} (schema version {schema_version(conn)})")
        if args.admin:
            from adopt_tui.auth.accounts import bootstrap_admin

            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = read_secret_line(f"Password for {args.admin}: ")
                if sys.stdin.isatty() and read_secret_line("Repeat the password: ") != password:
                    raise AdoptError("the two passwords differ; nothing was created")
            bootstrap_admin(conn, args.admin, password, display_name=args.display_name)
            print(f"Created Global admin {args.admin!r}")
    finally:
        conn.close()
    return EXIT_OK


# --------------------------------------------------------------------------- load


def cmd_load(args: argparse.Namespace) -> int:
    from adopt_tui.importers.bundle import load_bundle
    from adopt_tui.importers.fields import ImportFailed

    conn = open_db(args)
    try:
        principal = login(args, conn)
        try:
            result = load_bundle(conn, args.bundle, principal)
        except ImportFailed as exc:
            print(f"adopt-tui: {args.bundle}: {exc}", file=sys.stderr)
            return EXIT_ERROR
    finally:
        conn.close()
    for name, rows in result.rows.items():
        print(f"{name}: {rows:,} rows")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Loaded {args.bundle}: {result.customers:,} customers, {result.snapshots:,} snapshots computed")
    return EXIT_OK


# --------------------------------------------------------------------------- metrics


def cmd_metrics(args: argparse.Namespace) -> int:
    conn = open_db(args)
    try:
        principal = login(args, conn)
        ids = None
        if args.customer:
            from adopt_tui.metrics import read

            ids = [read.resolve_customer(conn, principal, args.customer).id]
        if args.format == "json":
            # the document as text, from the figure cache where it can (no pandas for the whole portfolio)
            from adopt_tui.metrics.document import metrics_json

            parts = metrics_json(conn, principal, args.scope, args.as_of, customer_ids=ids)
        else:
            from adopt_tui.metrics import read

            doc = read.metrics_document(conn, principal, args.scope, args.as_of, customer_ids=ids)
        if args.format == "table":
            table = read.customer_table(conn, principal, args.scope, args.as_of)
            if ids is not None:
                table = table[table.id.isin(ids)]
            figures = read.customer_figures(conn, principal, ids[0], args.scope, args.as_of) if ids else None
    finally:
        conn.close()
    out = sys.stdout
    if args.format == "json":
        # Indented for a person at a terminal, compact when piped; the same text json.dumps writes.
        for chunk in parts.chunks(indent=2 if out.isatty() else None):
            out.write(chunk)
        out.write("\n")
    elif args.format == "csv":
        _metrics_csv(doc, out)
    else:
        _metrics_table(doc, table, figures, out)
    return EXIT_OK


def _num(value, pct: bool = False) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    if pct:
        return f"{value:,.1f} %" + ("!" if value > 100 else "")
    return f"{value:,}"


def _metrics_table(doc: dict, table, figures, out) -> None:
    scope = "all sources" if doc["scope"] == "all" else "own licenses"
    out.write(f"As of {doc['as_of'] or '—'} · scope: {scope} · {len(table)} customer(s)\n\n")
    rows = [("Customer", "Sold", "Assigned", "Deploy %", "Usage %", "Adj. usage %", "Recommendations")]
    for r in table.itertuples(index=False):
        rows.append((
            r.name, _num(int(r.sold)), _num(int(r.assigned)), _num(r.deployment_pct, True),
            _num(r.usage_pct, True), _num(r.adjusted_pct, True), r.rec_codes.strip(",").replace(",", ", "),
        ))
    _print_rows(rows, out)
    if figures is not None:
        out.write("\nProducts\n")
        _print_rows([("SKU", "Product", "Sold", "Assigned", "Deploy %")] + [
            (p.sku, p.name, _num(p.sold), _num(p.assigned), _num(p.deployment_pct, True)) for p in figures.products
        ], out)
        out.write("\nWorkloads\n")
        _print_rows([("Workload", "Entitled", "Active", "Usage %", "Adj. usage %")] + [
            (w.name, _num(w.entitled), _num(w.active), _num(w.usage_pct, True), _num(w.adjusted_usage_pct, True))
            for w in figures.workloads
        ], out)
        for w in figures.workloads:
            for e in w.explanations:
                out.write(f"- {w.name}: {e['text']}\n")
        if figures.recommendations:
            out.write("\nRecommendations\n")
            for rec in figures.recommendations:
                out.write(f"- {rec['title']}: {rec['reason']}\n  Consider: {rec['consider']}\n  Try: {rec['try']}\n")
    p = doc["portfolio"]
    out.write(
        f"\nPortfolio: {p['customers']:,} customers · sold {p['sold']:,} · assigned {p['assigned']:,} · "
        f"deployment {_num(p['deployment_pct'], True)} · usage {_num(p['usage_pct'], True)} · "
        f"adjusted usage {_num(p['adjusted_usage_pct'], True)}\n"
        f"Low adoption {p['low_adoption']} · upsell {p['upsell']} · over 100 % {p['over_100']} · "
        f"renewals due {p['renewals_due']}\n"
        "Usage bands: " + " · ".join(f"{k}: {v}" for k, v in p["bands"].items()) + "\n"
    )


def _print_rows(rows: list[tuple], out) -> None:
    """Columns padded to their widths; figures right-aligned."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = []
        for i, (value, width) in enumerate(zip(row, widths)):
            text = str(value)
            figure = i > 0 and (text[:1].isdigit() or text == "—")
            cells.append(text.rjust(width) if figure else text.ljust(width))
        out.write("  ".join(cells).rstrip() + "\n")


def _metrics_csv(doc: dict, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([
        "tenant_id", "name", "sales_agents", "as_of", "workload", "entitled", "active", "usage_pct",
        "adjusted_usage_pct", "explanations", "recommendations",
    ])
    for c in doc["customers"]:
        recs = ";".join(r["code"] for r in c["recommendations"])
        for w in c["workloads"] or [None]:
            writer.writerow([
                c["tenant_id"], c["name"], ";".join(c["sales_agents"]), c["as_of"] or "",
                *( (w["workload"], w["entitled"], w["active"], _blank(w["usage_pct"]), _blank(w["adjusted_usage_pct"]),
                    ";".join(e["code"] for e in w["explanations"])) if w else ("", "", "", "", "", "") ),
                recs,
            ])


def _blank(value) -> str:
    return "" if value is None else value
