"""Core operations that combine the store, metrics and auth. Never imports Textual."""
