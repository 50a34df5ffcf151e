"""Subcommands: users, passwd, audit.

A contract for scripts (see README):

* ``users add NAME --role ROLE [--display-name TEXT] [--password-stdin]``:
  prints ``created NAME ROLE`` then, when the password was generated,
  ``temporary-password<TAB>PASSWORD``; the account must change it at first login.
* ``users list [--no-header]``: one tab-separated line per account:
  ``user role state last_login customers must_change display_name``
  (``-`` for a missing last login, ``yes``/``no`` for must_change).
* ``users disable|enable|unlock NAME``: ``disabled|enabled|unlocked<TAB>NAME``,
  or ``unchanged<TAB>NAME<TAB>reason`` when there was nothing to do.
* ``users role NAME ROLE``: ``role<TAB>NAME<TAB>ROLE`` (or ``unchanged``...).
* ``users reset NAME [--password-stdin]``: ``reset<TAB>NAME`` then, when generated,
  ``temporary-password<TAB>PASSWORD``.
* ``users assign|unassign NAME CUSTOMER...``: one ``assigned|unassigned<TAB>NAME<TAB>CUSTOMER``
  line per change (``unchanged<TAB>NAME`` when none).
* ``passwd --user NAME --password-stdin``: two lines, current and new password;
  prints ``password-changed<TAB>NAME``.
* ``audit [--user-filter U] [--action A] [--since D] [--until D] [--limit N]``:
  tab-separated ``time user action target detail``, newest first.

Role names: global-admin, user-admin, admin-agent, sales-agent. With
``--password-stdin`` on ``users add``/``users reset`` standard input carries the
account's new password, so the login password comes from $ADOPT_TUI_PASSWORD
or a prompt. Exit codes: 0 ok, 1 error, 2 usage, 3 forbidden (also for an
account that must change its password first), 4 login failed.
"""

from __future__ import annotations

import argparse
import sys

from adopt_tui.cli.common import add_db_arg, add_login_args, login, open_db, read_secret_line
from adopt_tui.errors import LoginFailed

ROLE_HELP = "global-admin, user-admin, admin-agent or sales-agent"


def _clean(value: object) -> str:
    """One field of tab-separated output: no tabs, line ends or terminal control characters."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else " " if ch in "\t\r\n" else "?" for ch in text)


def _out(*fields: object) -> None:
    print("\t".join(_clean(f) for f in fields))


def _signed_in(args: argparse.Namespace, conn, *, stdin_is_for_login: bool | None = None):
    """Log in; cli.common.login already refuses an account that must change its password first."""
    return login(args, conn, stdin_is_for_login=stdin_is_for_login)


def _new_password_from_stdin(args: argparse.Namespace, name: str) -> str | None:
    if not args.password_stdin:
        return None
    password = read_secret_line(f"New password for {name}: ")
    if not password:
        raise ValueError("no password on standard input")
    return password


# ----------------------------------------------------------------------------- users

def _cmd_add(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts
    from adopt_tui.auth.permissions import Role

    role = Role.from_cli(args.role)
    conn = open_db(args)
    principal = _signed_in(args, conn, stdin_is_for_login=False)
    given = _new_password_from_stdin(args, args.name)
    password = accounts.create_account(conn, principal, args.name, role, args.display_name or "", given)
    _out("created", args.name, role.cli_name)
    if given is None:
        _out("temporary-password", password)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts

    conn = open_db(args)
    principal = _signed_in(args, conn)
    rows = accounts.list_accounts(conn, principal)
    if not args.no_header:
        _out("user", "role", "state", "last_login", "customers", "must_change", "display_name")
    for a in rows:
        _out(a.username, a.role.cli_name, a.state, a.last_login_at or "-", a.customer_count,
             "yes" if a.must_change_password else "no", a.display_name)
    return 0


def _simple(action: str):
    def run(args: argparse.Namespace) -> int:
        from adopt_tui.auth import accounts

        conn = open_db(args)
        principal = _signed_in(args, conn)
        changed = getattr(accounts, action)(conn, principal, args.name)
        past, already = {"disable": ("disabled", "already disabled"), "enable": ("enabled", "not disabled"),
                         "unlock": ("unlocked", "not locked")}[action]
        if changed:
            _out(past, args.name)
        else:
            _out("unchanged", args.name, already)
        return 0
    return run


def _cmd_role(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts
    from adopt_tui.auth.permissions import Role

    role = Role.from_cli(args.role)
    conn = open_db(args)
    principal = _signed_in(args, conn)
    changed = accounts.set_role(conn, principal, args.name, role)
    _out("role" if changed else "unchanged", args.name, role.cli_name)
    return 0


def _cmd_reset(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts

    conn = open_db(args)
    principal = _signed_in(args, conn, stdin_is_for_login=False)
    given = _new_password_from_stdin(args, args.name)
    password = accounts.reset_password(conn, principal, args.name, given)
    _out("reset", args.name)
    if given is None:
        _out("temporary-password", password)
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts

    conn = open_db(args)
    principal = _signed_in(args, conn)
    func = accounts.assign_customers if args.users_command == "assign" else accounts.unassign_customers
    names = func(conn, principal, args.name, args.customers)
    verb = "assigned" if args.users_command == "assign" else "unassigned"
    for name in names:
        _out(verb, args.name, name)
    if not names:
        _out("unchanged", args.name)
    return 0


# ----------------------------------------------------------------------------- passwd

def _cmd_passwd(args: argparse.Namespace) -> int:
    from adopt_tui.auth import accounts

    if not args.user:
        raise LoginFailed("this command needs a login: pass --user NAME")
    if args.password_stdin:
        current = sys.stdin.readline().rstrip("\r\n")
        new = sys.stdin.readline().rstrip("\r\n")
        if not new:
            raise ValueError("--password-stdin needs two lines: the current password, then the new one")
    elif sys.stdin.isatty():
        current = read_secret_line(f"Current password for {args.user}: ")
        new = read_secret_line("New password: ")
        if read_secret_line("New password again: ") != new:
            raise ValueError("the two new passwords differ")
    else:
        raise ValueError("use --password-stdin (two lines: current, new) or run it in a terminal")
    conn = open_db(args)
    accounts.change_password(conn, args.user, current, new)
    _out("password-changed", args.user)
    return 0


# ----------------------------------------------------------------------------- audit

def _cmd_audit(args: argparse.Namespace) -> int:
    from adopt_tui.auth import audit

    conn = open_db(args)
    principal = _signed_in(args, conn)
    entries = audit.list_entries(
        conn, principal, user=args.user_filter, action=args.action,
        since=args.since, until=args.until, limit=args.limit,
    )
    for e in entries:
        _out(e.time, e.user, e.action, e.target, e.detail)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ----------------------------------------------------------------------------- register

def _common(parser: argparse.ArgumentParser, *, password_stdin: bool = True) -> None:
    add_db_arg(parser)
    add_login_args(parser, password_stdin=password_stdin)


def register(subparsers) -> None:
    users = subparsers.add_parser("users", help="manage accounts (Global admin, User management admin)",
                                  description="Manage accounts. Role names: " + ROLE_HELP + ".")
    add_db_arg(users)
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    p = sub.add_parser("add", help="create an account (it must change its password at first login)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, help=ROLE_HELP)
    p.add_argument("--display-name", metavar="TEXT", default="")
    _common(p, password_stdin=False)
    p.add_argument("--password-stdin", action="store_true",
                   help="read the NEW account's password from standard input (your login password then "
                        "comes from $ADOPT_TUI_PASSWORD or a prompt); without it a temporary password is printed")
    p.set_defaults(func=_cmd_add)

    p = sub.add_parser("list", help="list accounts (tab-separated)")
    p.add_argument("--no-header", action="store_true", help="omit the header line")
    _common(p)
    p.set_defaults(func=_cmd_list)

    for action, text in (("disable", "disable an account"), ("enable", "enable a disabled account"),
                         ("unlock", "lift a lockout after failed logins")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name", metavar="NAME")
        _common(p)
        p.set_defaults(func=_simple(action))

    p = sub.add_parser("role", help="change an account's role")
    p.add_argument("name", metavar="NAME")
    p.add_argument("role", metavar="ROLE", help=ROLE_HELP)
    _common(p)
    p.set_defaults(func=_cmd_role)

    p = sub.add_parser("reset", help="set a temporary password that must be changed at next login")
    p.add_argument("name", metavar="NAME")
    _common(p, password_stdin=False)
    p.add_argument("--password-stdin", action="store_true",
                   help="read the temporary password from standard input (your login password then "
                        "comes from $ADOPT_TUI_PASSWORD or a prompt); without it one is generated and printed")
    p.set_defaults(func=_cmd_reset)

    for action, text in (("assign", "assign customers to a sales agent"),
                         ("unassign", "remove customers from an agent")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name", metavar="NAME")
        p.add_argument("customers", metavar="CUSTOMER", nargs="+", help="tenant id or exact customer name")
        _common(p)
        p.set_defaults(func=_cmd_assign)

    p = subparsers.add_parser("passwd", help="change your password",
                              description="Change your password. With --password-stdin, standard input "
                                          "holds two lines: the current password, then the new one.")
    _common(p, password_stdin=False)
    p.add_argument("--password-stdin", action="store_true",
                   help="read two lines from standard input: the current password, then the new one")
    p.set_defaults(func=_cmd_passwd)

    p = subparsers.add_parser("audit", help="print the audit log, newest first (tab-separated)")
    p.add_argument("--user-filter", metavar="USER", help="only entries by this user name")
    p.add_argument("--action", metavar="ACTION", help="only this action (e.g. login_failure)")
    p.add_argument("--since", metavar="DATE", help="from this date (YYYY-MM-DD) or UTC time")
    p.add_argument("--until", metavar="DATE", help="up to this date (inclusive) or UTC time")
    p.add_argument("--limit", metavar="N", type=_positive, default=1000, help="at most N entries (default 1000)")
    _common(p)
    p.set_defaults(func=_cmd_audit)
