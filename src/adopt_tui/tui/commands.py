"""The command palette (Ctrl+P): jump to a customer, switch screens, scope,
export, theme, logout. Offers only what the signed-in role may use now.

Customers come from ``visible_customers(conn, principal)``: a Sales agent finds
only their own customers here, as everywhere. Names are shown literally
(``Content``, not markup): a customer named ``[bold]Acme`` stays so.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from adopt_tui.auth.permissions import Perm


class AdoptCommands(Provider):
    async def startup(self) -> None:
        self.customers: list = []
        app = self.app
        if getattr(app, "principal", None) is None or app.principal.must_change_password:
            return
        self.customers = await asyncio.to_thread(self._load_customers, app)

    @staticmethod
    def _load_customers(app) -> list:
        from adopt_tui.metrics.read import visible_customers

        with app.db() as conn:
            return visible_customers(conn, app.principal)

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) for what applies now."""
        from adopt_tui.tui.app import SCOPE_LABELS, export_dialog_class, portfolio_screen_class
        from adopt_tui.tui.screens.customer import CustomerScreen

        app = self.app
        if getattr(app, "principal", None) is None or app.principal.must_change_password:
            return []
        out: list[tuple[str, str, Callable[[], object]]] = [
            ("Go to the customer list", "The home screen: every customer you may see",
             lambda: app.open_customer_list(None)),
        ]
        if portfolio_screen_class() is not None:
            out.append(("Go to portfolio insights", "Totals, bands, agents, trend and opportunity lists",
                        app.open_portfolio))
        other = "own licenses" if app.scope == "all" else "all sources"
        out.append((f"Scope: switch to {other}", f"Now: {SCOPE_LABELS[app.scope]}", app.toggle_scope))
        if app.can(Perm.EXPORT) and export_dialog_class() is not None:
            screen = app.screen
            if isinstance(screen, CustomerScreen):
                cid = screen.customer_id
                out.append(("Export this customer", "Deployment and usage of the open customer",
                            lambda: app.open_export(cid, None)))
            home = app.home()
            ids = home.current_ids() if home is not None else None
            out.append(("Export the customer list", "All customers you may see, or the current filter",
                        lambda: app.open_export(None, ids)))
        for entry in app.admin_entries():
            out.append((f"Go to {entry.title}", entry.help, lambda key=entry.key: app.open_admin(key)))
        try:
            from adopt_tui.tui.admin import idle_guard
        except ImportError:
            idle_guard = None
        guard = idle_guard(app) if idle_guard is not None else None
        if guard is not None:
            out.append(("Lock screen", "Cover the screen until you type your password", guard.lock_now))
        out.append(("Log out", "End this session; the login screen returns", app.action_logout))
        return out

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(title)), callback, text=title, help=escape(help_text))
        app = self.app
        for customer in getattr(self, "customers", []):
            label = f"Customer: {customer.name}"
            score = max(matcher.match(label), matcher.match(customer.tenant_id) * 0.9,
                        matcher.match(customer.domain) * 0.9)
            if score > 0:
                yield Hit(
                    score, Content(label), lambda cid=customer.id: app.open_customer(cid, None),
                    text=label, help=escape(f"{customer.tenant_id} · {customer.domain}"),
                )
