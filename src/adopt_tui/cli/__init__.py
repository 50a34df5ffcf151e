"""The command line. Every subcommand calls the headless core.

Each module in ``COMMAND_MODULES`` defines ``register(subparsers)`` adding its
subcommands with ``set_defaults(func=...)``; ``func(args) -> int`` returns the
exit code. Errors meant for people (:class:`AdoptError`) are printed without a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from adopt_tui import __version__
from adopt_tui.cli.common import EXIT_ERROR, EXIT_FORBIDDEN, EXIT_LOGIN, EXIT_USAGE, add_db_arg
from adopt_tui.errors import AdoptError, LoginFailed, PermissionDenied

COMMAND_MODULES = ("core", "users", "imports", "export", "generate")


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The command line's parser; ``commands=False``: without the subcommands (see :func:`plain_start`)."""
    parser = argparse.ArgumentParser(
        prog="adopt-tui",
        description="See whether your customers deploy and use the Office 365 and Dynamics 365 licenses they bought.",
        epilog="Without a command, starts the terminal UI on the database.",
    )
    parser.add_argument("--version", action="version", version=f"adopt-tui {__version__}")
    add_db_arg(parser)
    if not commands:
        parser.set_defaults(command=None)
        return parser
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"adopt_tui.cli.{name}").register(subparsers)
    return parser


def plain_start(argv: list[str]) -> bool:
    """Whether ``argv`` only starts the TUI: nothing, ``--db PATH`` or ``--db=PATH``.

    That command line is parsed without the subcommands: importing their modules and
    building their nineteen parsers took 25-35 ms, a tenth of the time from start to
    the login screen (measured). Anything else (a command, --help, --version, a typo)
    gets the whole parser, so its help and its errors are the same as ever.
    """
    if not argv:
        return True
    if len(argv) == 1:
        return argv[0].startswith("--db=")
    return len(argv) == 2 and argv[0] == "--db" and not argv[1].startswith("-")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(commands=not plain_start(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        from adopt_tui.cli.core import run_tui

        func = run_tui
    else:
        func = args.func
    try:
        return int(func(args) or 0)
    except LoginFailed as exc:
        print(f"adopt-tui: {exc}", file=sys.stderr)
        return EXIT_LOGIN
    except PermissionDenied as exc:
        print(f"adopt-tui: {exc}", file=sys.stderr)
        return EXIT_FORBIDDEN
    except AdoptError as exc:
        print(f"adopt-tui: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("adopt-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except ValueError as exc:  # argument values the core refused
        print(f"adopt-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
