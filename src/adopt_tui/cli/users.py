"""Subcommands: users (being written)."""


def register(subparsers) -> None:
    return None
