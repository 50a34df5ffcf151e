"""Typed messages that workers post back to the screens (post_message is thread-safe).

A worker never touches a widget: it computes, then posts one of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

from adopt_tui.auth.permissions import Principal

if TYPE_CHECKING:  # pandas costs ~0.6 s to import: keep it off the path to the login screen
    from adopt_tui.tui.screens.customers import CustomerRows


class LoggedIn(Message):
    """``rows``: the customer list's rows (screens.customers.CustomerRows), read by the
    login's worker right after the password check; None when not read there."""

    def __init__(self, principal: Principal, rows=None) -> None:
        super().__init__()
        self.principal = principal
        self.rows = rows


class LoginRefused(Message):
    def __init__(self, message: str, retry_after: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.retry_after = retry_after


class CustomersLoaded(Message):
    """customer_table() for one (scope, as_of), ready for the list."""

    def __init__(self, rows: CustomerRows, scope: str, as_of: str | None) -> None:
        super().__init__()
        self.rows = rows
        self.scope = scope
        self.as_of = as_of


class CustomerLoaded(Message):
    """customer_figures() and customer_trend() for one customer and scope."""

    def __init__(self, customer_id: int, scope: str, figures: Any, trend: list) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.scope = scope
        self.figures = figures
        self.trend = trend


class SubscriptionsLoaded(Message):
    def __init__(self, customer_id: int, customer: Any, rows: list, as_of: str | None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer = customer
        self.rows = rows
        self.as_of = as_of


class ScopeChanged(Message):
    """Posted to every screen when the scope changes ('all' or 'own')."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope
