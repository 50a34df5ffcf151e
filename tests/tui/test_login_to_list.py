"""From login to the customer list: the login's worker reads the list's rows as soon as the
password is accepted, and the list is built once, with them, its table focused."""

from __future__ import annotations

import adopt_tui.tui.screens.customers as customers
from adopt_tui.tui.messages import CustomersLoaded
from adopt_tui.tui.screens.customers import CustomerListScreen

from tui_helpers import list_names, login, settle


async def test_the_list_is_built_with_the_rows_read_at_login(make):
    app = make()
    loaded: list = []
    hook = lambda message: loaded.append(message) if isinstance(message, CustomersLoaded) else None  # noqa: E731
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await login(pilot, "maria")  # a Sales agent: the rows are read for her, not for everyone
        await settle(pilot)
        assert isinstance(app.screen, CustomerListScreen)
        assert list_names(app) == ["Alpha Tools", "Cedar Clinics"]
        assert loaded == []  # the list did not read them a second time
        assert app.screen.focused is app.screen._table()


async def test_a_failed_read_at_login_leaves_the_list_to_read_them(make, monkeypatch):
    def broken(app, principal):
        raise RuntimeError("the database went away for a moment")

    monkeypatch.setattr(customers, "read_home_rows", broken)
    app = make()
    loaded: list = []
    hook = lambda message: loaded.append(message) if isinstance(message, CustomersLoaded) else None  # noqa: E731
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await login(pilot, "maria")
        await settle(pilot)
        assert isinstance(app.screen, CustomerListScreen)
        assert list_names(app) == ["Alpha Tools", "Cedar Clinics"]
        assert len({id(message) for message in loaded}) == 1  # read once, by the list itself (a message bubbles)
        assert app.screen.focused is app.screen._table()
