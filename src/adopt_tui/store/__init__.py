"""The SQLite store: schema, migrations, queries. Never imports Textual."""

from adopt_tui.store.db import DatabaseError, connect, transaction

__all__ = ["DatabaseError", "connect", "transaction"]
