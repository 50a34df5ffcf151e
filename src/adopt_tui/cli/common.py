"""Shared command-line pieces: the database argument, login, exit codes."""

from __future__ import annotations

import argparse
import getpass
import os
import sqlite3
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1        # bad input, missing file, failed import ...
EXIT_USAGE = 2        # argparse's own code for bad arguments
EXIT_FORBIDDEN = 3    # the signed-in user may not do this
EXIT_LOGIN = 4        # login failed

PASSWORD_ENV = "ADOPT_TUI_PASSWORD"


def default_db_path() -> Path:
    """$ADOPT_TUI_DB, else adopt-tui.db in the user data directory."""
    env = os.environ.get("ADOPT_TUI_DB")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("adopt-tui", appauthor=False)) / "adopt-tui.db"


def add_db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", type=Path, default=argparse.SUPPRESS,
        help="the database file (default: $ADOPT_TUI_DB, else the user data directory)",
    )


def db_path(args: argparse.Namespace) -> Path:
    return getattr(args, "db", None) or default_db_path()


def open_db(args: argparse.Namespace, *, must_exist: bool = True) -> sqlite3.Connection:
    from adopt_tui.errors import AdoptError
    from adopt_tui.store import connect

    path = db_path(args)
    if must_exist and not path.exists():
        raise AdoptError(f"{path}: no such database (create one with 'adopt-tui init --db {path} --admin NAME')")
    return connect(path)


def add_login_args(parser: argparse.ArgumentParser, *, password_stdin: bool = True) -> None:
    """``--user NAME`` and (unless the command uses it otherwise) ``--password-stdin``."""
    group = parser.add_argument_group("login")
    group.add_argument("--user", metavar="NAME", help="your adopt-tui account (required)")
    if password_stdin:
        group.add_argument(
            "--password-stdin", action="store_true",
            help=f"read your password from the first line of standard input (or set ${PASSWORD_ENV})",
        )


def read_secret_line(prompt: str) -> str:
    """One line from stdin without its line end (prompted when stdin is a terminal)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def login(
    args: argparse.Namespace, conn: sqlite3.Connection, *, stdin_is_for_login: bool | None = None,
    allow_must_change: bool = False,
):
    """Sign in from ``--user`` and $ADOPT_TUI_PASSWORD / ``--password-stdin`` / a prompt.

    Returns the Principal; raises LoginFailed (exit code EXIT_LOGIN) otherwise.
    ``stdin_is_for_login=False`` means ``--password-stdin`` belongs to the
    command (``users add``/``users reset``), so the login needs the variable
    or a prompt.
    """
    from adopt_tui.auth.accounts import login as core_login
    from adopt_tui.errors import LoginFailed

    user = getattr(args, "user", None)
    if not user:
        raise LoginFailed("this command needs a login: pass --user NAME")
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        use_stdin = getattr(args, "password_stdin", False) if stdin_is_for_login is None else stdin_is_for_login
        if use_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = getpass.getpass(f"Password for {user}: ")
        elif stdin_is_for_login is False:
            raise LoginFailed(
                f"no password for {user}: standard input carries the new password (--password-stdin), "
                f"so set ${PASSWORD_ENV} or run from a terminal to be prompted"
            )
        else:
            raise LoginFailed(f"no password for {user}: use --password-stdin, ${PASSWORD_ENV} or a terminal prompt")
    principal = core_login(conn, user, password)
    if principal.must_change_password and not allow_must_change:
        from adopt_tui.errors import PermissionDenied

        raise PermissionDenied(
            f"{user!r} must change its password before doing anything else: run 'adopt-tui passwd --user {user}'."
        )
    return principal
