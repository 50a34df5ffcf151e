"""Password hashing (Argon2id), the password policy and temporary passwords.

Parameters: argon2-cffi's ``RFC_9106_LOW_MEMORY`` profile, the second
recommended option of RFC 9106 section 4: Argon2id, time_cost=3,
memory_cost=65536 KiB (64 MiB), parallelism=4, 16-byte salt, 32-byte hash.
That is above OWASP's current minimum for Argon2id (19 MiB, t=2, p=1; or any
of its equivalent trade-offs such as 46 MiB, t=1). When these parameters are
raised later, :func:`needs_rehash` says so and the next successful login stores
a new hash (see :func:`adopt_tui.auth.accounts.login`).

Nothing here logs, prints or stores a clear password.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from adopt_tui.errors import AdoptError

MIN_LENGTH = 12
MAX_LENGTH = 1024   # a very long "password" would only cost hashing time

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)

# Verified against when the user name is unknown, so that an unknown user takes
# about as long to refuse as a wrong password (same parameters as real hashes).
# A constant: the hash of a random password that was never kept, made once with the
# parameters above (what is verified against it is thrown away, so knowing it gives
# nothing). Hashing a fresh one at import cost ~140 ms of both CPUs in every process,
# in the login screen's warm-up, just when the first login comes. When the
# parameters change, dummy_hash() makes one with the new parameters, once.
_DUMMY_HASH_MADE_WITH_RFC_9106_LOW_MEMORY = (
    "$argon2id$v=19$m=65536,t=3,p=4$oQktohnr5aGHh9dFzxjLFQ$ip6VmMVrutJtlfRK4LaANCH/EixhW+ArNekSyFq7Iq8"
)
_dummy_hash: str | None = None


def dummy_hash() -> str:
    """The hash :func:`verify_dummy` verifies against, with the current parameters."""
    global _dummy_hash
    if _dummy_hash is None:
        constant = _DUMMY_HASH_MADE_WITH_RFC_9106_LOW_MEMORY
        _dummy_hash = constant if not needs_rehash(constant) else _hasher.hash(secrets.token_urlsafe(24))
    return _dummy_hash


def __getattr__(name: str) -> str:
    if name == "DUMMY_HASH":  # the module's old constant, still readable
        return dummy_hash()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class WeakPassword(AdoptError, ValueError):
    """The new password does not meet the policy (the message says why)."""


def hash_password(password: str) -> str:
    """An ``$argon2id$...`` hash of ``password`` with a fresh random salt."""
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises.

    A missing, malformed or non-Argon2 hash is simply a mismatch (still
    spending the time of one verification, against the dummy hash).
    """
    if not isinstance(password, str):
        password = ""
    if not password_hash or not isinstance(password_hash, str) or not password_hash.startswith("$argon2"):
        verify_dummy(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, ValueError, TypeError):
        return False
    except Exception:  # argon2 internals: a bad hash must never reach the user as a traceback
        return False


def verify_dummy(password: str) -> None:
    """Spend one verification's time and learn nothing (for unknown users)."""
    try:
        _hasher.verify(dummy_hash(), password if isinstance(password, str) else "")
    except Exception:
        pass


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except Exception:
        return True


def policy_problem(password: str, username: str = "") -> str | None:
    """The reason ``password`` is refused, or None when it is acceptable."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    if not password.strip():
        return "The password must not be only spaces."
    if any(ch in password for ch in "\r\n\x00"):
        return "The password must not contain line breaks or NUL characters."
    if username and password.casefold() == username.casefold():
        return "The password must not be the same as the user name."
    return None


def check_policy(password: str, username: str = "") -> None:
    """Raise :class:`WeakPassword` with a readable message when refused."""
    problem = policy_problem(password, username)
    if problem:
        raise WeakPassword(problem)


# No look-alike characters (0/O, 1/l/I), so it can be read out and typed.
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_temporary_password(length: int = 16) -> str:
    """A random temporary password (``secrets``), ``length`` >= MIN_LENGTH, grouped by 4 with dashes."""
    length = max(length, MIN_LENGTH)
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return "-".join(chars[i:i + 4] for i in range(0, length, 4))
