"""Errors the core raises for people to read (never a traceback)."""

from __future__ import annotations


class AdoptError(Exception):
    """Base class: the message is meant for the user as it is."""


class InputError(AdoptError):
    """Bad input: names the file, line and field where known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = ", ".join(
            part for part in (
                file,
                f"line {line}" if line is not None else None,
                f"field {field!r}" if field else None,
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class PermissionDenied(AdoptError):
    """The signed-in principal may not do this."""


class NotFound(AdoptError):
    """A customer, account or file that does not exist (or is not visible)."""


class LoginFailed(AdoptError):
    """Login refused. The message is generic on purpose (never says which part was wrong).

    ``retry_after`` is set (an ISO time) only when the account is locked and the
    right password was given, so that a locked person is told when to retry.
    """

    def __init__(self, message: str = "Login failed: wrong user name or password, or the account is disabled or locked.", *, retry_after: str | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class PasswordChangeRequired(AdoptError):
    """The account must choose a new password before doing anything else."""
