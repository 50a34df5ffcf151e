"""Fixtures of the TUI tests (helpers live in tui_helpers.py)."""

from __future__ import annotations

import pytest
from tui_helpers import build


@pytest.fixture
def make(small_db):
    def factory(**kwargs):
        return build(small_db, **kwargs)
    return factory
