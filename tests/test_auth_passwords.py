"""Password hashing, policy and temporary passwords (real Argon2id parameters)."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from adopt_tui.auth import passwords


def _params(h: str) -> dict[str, int]:
    m = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", h)
    assert m, h
    return {"m": int(m[1]), "t": int(m[2]), "p": int(m[3])}


def test_hash_is_argon2id_with_at_least_owasp_minimum():
    h = passwords.hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    p = _params(h)
    # OWASP minimum for Argon2id: 19 MiB, t=2, p=1 (we use RFC 9106 low-memory: 64 MiB, t=3, p=4).
    assert p["m"] >= 19456 and p["t"] >= 2 and p["p"] >= 1
    assert (p["m"], p["t"]) == (65536, 3)
    assert "correct horse battery" not in h
    assert passwords.hash_password("correct horse battery") != h  # fresh salt


def test_verify_right_and_wrong():
    h = passwords.hash_password("correct horse battery")
    assert passwords.verify(h, "correct horse battery") is True
    assert passwords.verify(h, "correct horse batterY") is False
    assert passwords.verify(h, "") is False


@pytest.mark.parametrize("bad", [None, "", "garbage", "$argon2id$broken", "$2b$12$abcdefghijklmnopqrstuv", 42])
def test_verify_never_raises_on_a_bad_hash(bad):
    assert passwords.verify(bad, "whatever-password") is False


def test_needs_rehash():
    assert passwords.needs_rehash(passwords.hash_password("correct horse battery")) is False
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery")
    assert passwords.needs_rehash(weak) is True
    assert passwords.verify(weak, "correct horse battery") is True  # still verifies, then gets rehashed
    assert passwords.needs_rehash("not a hash") is True


def test_dummy_hash_has_the_same_parameters():
    assert _params(passwords.DUMMY_HASH) == _params(passwords.hash_password("x" * 12))
    passwords.verify_dummy("anything")  # never raises


def test_dummy_hash_follows_new_parameters(monkeypatch):
    """The dummy hash is a constant made with today's parameters; raised parameters get a new one."""
    stronger = PasswordHasher(time_cost=4, memory_cost=8192, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", stronger)
    monkeypatch.setattr(passwords, "_dummy_hash", None)
    assert _params(passwords.dummy_hash()) == _params(stronger.hash("x" * 12))
    assert passwords.dummy_hash() == passwords.dummy_hash()  # made once
    passwords.verify_dummy("anything")


def test_policy():
    assert passwords.policy_problem("short", "maria") == "The password must be at least 12 characters long."
    assert "user name" in passwords.policy_problem("MariaMaria12", "mariamaria12")
    assert passwords.policy_problem("a long enough one", "maria") is None
    assert passwords.policy_problem(" " * 12, "maria")
    assert passwords.policy_problem("twelve chars\nmore", "maria")
    with pytest.raises(passwords.WeakPassword, match="at least 12"):
        passwords.check_policy("elevenchars", "x")
    with pytest.raises(ValueError):  # WeakPassword is a ValueError too
        passwords.check_policy("adminadmin12", "AdminAdmin12")


def test_temporary_passwords():
    seen = {passwords.generate_temporary_password() for _ in range(50)}
    assert len(seen) == 50
    for p in seen:
        assert passwords.policy_problem(p, "someone") is None
        assert len(p.replace("-", "")) == 16
        assert not set(p) & set("0O1lI")
    assert len(passwords.generate_temporary_password(4).replace("-", "")) == passwords.MIN_LENGTH
