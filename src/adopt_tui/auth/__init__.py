"""Accounts, roles and permissions, audit. Never imports Textual."""
