"""Subcommands: core (being written)."""


def register(subparsers) -> None:
    return None
