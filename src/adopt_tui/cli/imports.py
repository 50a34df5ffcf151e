"""Subcommands: imports (being written)."""


def register(subparsers) -> None:
    return None
