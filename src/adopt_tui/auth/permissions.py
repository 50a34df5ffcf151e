"""Roles and the single permission table; the signed-in principal.

Every core entry point takes a :class:`Principal` and calls
:meth:`Principal.require` (which audits a refusal) or filters what it reads
with :func:`customer_scope_sql`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from adopt_tui.errors import PermissionDenied


class Role(StrEnum):
    GLOBAL_ADMIN = "global_admin"
    USER_ADMIN = "user_admin"
    ADMIN_AGENT = "admin_agent"
    SALES_AGENT = "sales_agent"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def cli_name(self) -> str:
        return self.value.replace("_", "-")

    @classmethod
    def from_cli(cls, text: str) -> "Role":
        try:
            return cls(text.strip().lower().replace("-", "_"))
        except ValueError:
            names = ", ".join(r.cli_name for r in cls)
            raise ValueError(f"unknown role {text!r}; use one of: {names}") from None


ROLE_LABELS = {
    Role.GLOBAL_ADMIN: "Global admin",
    Role.USER_ADMIN: "User management admin",
    Role.ADMIN_AGENT: "Admin agent",
    Role.SALES_AGENT: "Sales agent",
}


class Perm(StrEnum):
    VIEW_ALL_CUSTOMERS = "view_all_customers"   # else: only assigned customers
    VIEW_CUSTOMERS = "view_customers"           # see customer data at all
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_USERS = "manage_users"
    MANAGE_GLOBAL_ADMINS = "manage_global_admins"
    VIEW_AUDIT = "view_audit"
    EDIT_SETTINGS = "edit_settings"


# The single permission table (domain.md, "Roles").
PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.GLOBAL_ADMIN: frozenset(Perm),
    Role.USER_ADMIN: frozenset({
        Perm.VIEW_CUSTOMERS, Perm.VIEW_ALL_CUSTOMERS, Perm.MANAGE_USERS, Perm.VIEW_AUDIT,
    }),
    Role.ADMIN_AGENT: frozenset({
        Perm.VIEW_CUSTOMERS, Perm.VIEW_ALL_CUSTOMERS, Perm.IMPORT, Perm.EXPORT,
    }),
    Role.SALES_AGENT: frozenset({Perm.VIEW_CUSTOMERS, Perm.EXPORT}),
}


@dataclass(frozen=True)
class Principal:
    """Who is signed in. Built by adopt_tui.auth.accounts on login."""

    username: str
    role: Role
    display_name: str = ""
    must_change_password: bool = False

    def can(self, perm: Perm) -> bool:
        if self.must_change_password:
            return False
        return perm in PERMISSIONS[self.role]

    def require(self, perm: Perm, conn: sqlite3.Connection | None = None, *, action: str = "") -> None:
        """Raise PermissionDenied (and audit it when ``conn`` is given)."""
        if self.can(perm):
            return
        what = action or perm.value.replace("_", " ")
        if self.must_change_password:
            message = "You must change your password before you can do anything else."
        else:
            message = f"{self.role.label} {self.username!r} may not {what}."
        if conn is not None:
            from adopt_tui.auth import audit

            audit.record(conn, self.username, "forbidden", target=perm.value, detail=what)
        raise PermissionDenied(message)

    @property
    def sees_all_customers(self) -> bool:
        return self.can(Perm.VIEW_ALL_CUSTOMERS)


SYSTEM = Principal("system", Role.GLOBAL_ADMIN, "adopt-tui")
"""Used only by code that runs before any account exists (demo build, tests)."""


def customer_scope_sql(principal: Principal, column: str = "c.id") -> tuple[str, tuple]:
    """An SQL condition limiting ``column`` (a customer id) to what ``principal`` may see."""
    if not principal.can(Perm.VIEW_CUSTOMERS):
        return "0", ()
    if principal.sees_all_customers:
        return "1", ()
    return f"{column} IN (SELECT customer_id FROM customer_agents WHERE agent = ?)", (principal.username,)
