"""Field parsing and error collection shared by every importer.

Each parser raises ValueError with a short reason; :class:`Errors` turns it
into "file, line N, field X: reason" and caps how many are kept.
"""

from __future__ import annotations

from datetime import date

from adopt_tui.errors import AdoptError, InputError

MAX_ERRORS = 20

_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


def parse_bool(text: str, *, empty: bool | None = None) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value == "" and empty is not None:
        return empty
    raise ValueError(f"{text!r} is not a boolean (use true or false)")


def parse_date(text: str, *, required: bool = False) -> str | None:
    """An ISO date (a datetime's date part is accepted); '' is None unless required."""
    value = text.strip()
    if not value:
        if required:
            raise ValueError("a date is required")
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def parse_int(text: str, *, minimum: int | None = 0) -> int:
    value = text.strip()
    try:
        number = int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not as_float.is_integer():
            raise ValueError(f"{text!r} is not a whole number") from None
        number = int(as_float)
    if minimum is not None and number < minimum:
        raise ValueError(f"{number} is below {minimum}")
    return number


def parse_choice(text: str, choices: dict[str, str] | tuple[str, ...]) -> str:
    value = text.strip().lower()
    mapping = choices if isinstance(choices, dict) else {c: c for c in choices}
    if value in mapping:
        return mapping[value]
    raise ValueError(f"{text!r} is not one of: {', '.join(sorted(set(mapping)))}")


class ImportFailed(AdoptError):
    """Validation found errors; nothing was written."""

    def __init__(self, errors: list[InputError], more: int = 0):
        self.errors, self.more = errors, more
        lines = [str(e) for e in errors]
        if more:
            lines.append(f"... and {more} more error(s)")
        super().__init__(
            f"{len(errors) + more} error(s); nothing was imported:\n  " + "\n  ".join(lines)
        )


class Errors:
    """Collects InputErrors, keeping the first MAX_ERRORS."""

    def __init__(self, cap: int = MAX_ERRORS):
        self.cap, self.items, self.more = cap, [], 0

    def add(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None) -> None:
        if len(self.items) < self.cap:
            self.items.append(InputError(message, file=file, line=line, field=field))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def full(self) -> bool:
        return len(self.items) >= self.cap

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFailed(self.items, self.more)
