"""Subcommands: generate (being written)."""


def register(subparsers) -> None:
    return None
