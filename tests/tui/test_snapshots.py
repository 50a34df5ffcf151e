"""Snapshots of the main screens at 80x24 and 120x40 (fixed fixture data, fixed
theme, cursor blink off; nothing on these screens depends on the clock).

Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.widgets import Input
from tui_helpers import DEMO_ACCOUNTS, build, login, settle

SIZES = [(80, 24), (120, 40)]


def no_blink(app) -> None:
    for widget in app.screen.query(Input):
        widget.cursor_blink = False


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login_screen(snap_compare, small_db, size):
    async def run_before(pilot):
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(build(small_db, demo_accounts=DEMO_ACCOUNTS), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_customer_list(snap_compare, small_db, size):
    async def run_before(pilot):
        await login(pilot)
        no_blink(pilot.app)
        await settle(pilot)

    assert snap_compare(build(small_db), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_customer_insights(snap_compare, small_db, size):
    async def run_before(pilot):
        await login(pilot)
        await pilot.press("enter")  # Alpha Tools
        await settle(pilot)
        await pilot.pause(0.1)

    assert snap_compare(build(small_db), terminal_size=size, run_before=run_before)
