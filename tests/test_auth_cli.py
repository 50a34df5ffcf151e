"""The account commands: users, passwd, audit (exit codes, output, login)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from adopt_tui.auth import accounts
from adopt_tui.cli import main
from adopt_tui.cli.common import EXIT_FORBIDDEN, EXIT_LOGIN, EXIT_USAGE
from adopt_tui.errors import LoginFailed
from adopt_tui.store import connect

ROOT_PW = "root-password-123"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    c = connect(path)
    accounts.bootstrap_admin(c, "root", ROOT_PW)
    c.execute("INSERT INTO customers(tenant_id, name) VALUES ('11111111-aaaa', 'Contoso'), ('22222222-bbbb', 'Fabrikam')")
    c.close()
    return path


@pytest.fixture
def run(db, monkeypatch, capsys):
    """run(args..., password=..., stdin=...) -> (exit code, stdout, stderr)."""

    def _run(*args: str, password: str | None = ROOT_PW, stdin: str = ""):
        if password is None:
            monkeypatch.delenv("ADOPT_TUI_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("ADOPT_TUI_PASSWORD", password)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main([*args, "--db", str(db)])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def add_ready(run, name: str, role: str, password: str) -> None:
    """users add with a chosen password, then the account's own forced change."""
    assert run("users", "add", name, "--role", role, "--user", "root", "--password-stdin",
               stdin="temporary-pass-1\n")[0] == 0
    assert run("passwd", "--user", name, "--password-stdin", password=None,
               stdin=f"temporary-pass-1\n{password}\n")[0] == 0


def test_users_add_list_and_forced_change(run, db):
    code, out, err = run("users", "add", "maria", "--role", "sales-agent", "--display-name", "Maria M",
                         "--user", "root", "--password-stdin", stdin="maria-temp-pass\n")
    assert code == 0, err
    assert out == "created\tmaria\tsales-agent\n"

    code, out, _ = run("users", "list", "--user", "root")
    assert code == 0
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == ["user", "role", "state", "last_login", "customers", "must_change", "display_name"]
    assert lines[1] == ["maria", "sales-agent", "active", "-", "0", "yes", "Maria M"]
    assert lines[2][:3] == ["root", "global-admin", "active"]

    # The new account can do nothing but change its password.
    code, out, err = run("users", "list", "--user", "maria", password="maria-temp-pass")
    assert code == EXIT_FORBIDDEN and out == ""
    assert "must change its password" in err and "adopt-tui passwd --user maria" in err
    code, _, err = run("audit", "--user", "maria", password="maria-temp-pass")
    assert code == EXIT_FORBIDDEN and "must change" in err

    code, out, err = run("passwd", "--user", "maria", "--password-stdin", password=None,
                         stdin="maria-temp-pass\nmaria-own-password\n")
    assert code == 0, err
    assert out == "password-changed\tmaria\n"
    # Now a plain sales agent: forbidden, not "must change".
    code, _, err = run("users", "list", "--user", "maria", password="maria-own-password")
    assert code == EXIT_FORBIDDEN and "may not" in err and "must change" not in err


def test_users_add_prints_a_generated_temporary_password(run):
    code, out, err = run("users", "add", "tomas", "--role", "admin-agent", "--user", "root")
    assert code == 0, err
    created, temp = out.splitlines()
    assert created == "created\ttomas\tadmin-agent"
    label, password = temp.split("\t")
    assert label == "temporary-password" and len(password) >= 12
    code, _, err = run("passwd", "--user", "tomas", "--password-stdin", password=None,
                       stdin=f"{password}\ntomas-own-password\n")
    assert code == 0, err


def test_login_failures_exit_4_with_the_generic_message(run):
    code, out, err = run("users", "list", "--user", "root", password="wrong-password-x")
    assert code == EXIT_LOGIN and out == ""
    assert err == f"adopt-tui: {LoginFailed()}\n"
    code, _, err2 = run("users", "list", "--user", "nobody", password="wrong-password-x")
    assert code == EXIT_LOGIN and err2 == err
    code, _, err = run("users", "list", password=None)
    assert code == EXIT_LOGIN and "--user" in err
    # --password-stdin for the login itself
    code, out, _ = run("users", "list", "--user", "root", "--password-stdin", "--no-header",
                       password=None, stdin=ROOT_PW + "\n")
    assert code == 0 and out.startswith("root\tglobal-admin\t")


def test_locked_account_with_the_right_password_is_told_when(run):
    add_ready(run, "sam", "sales-agent", "sam-own-password")
    for _ in range(5):
        assert run("users", "list", "--user", "sam", password="wrong-password-x")[0] == EXIT_LOGIN
    code, _, err = run("users", "list", "--user", "sam", password="sam-own-password")
    assert code == EXIT_LOGIN and "Try again after" in err
    code, out, _ = run("users", "list", "--user", "root", "--no-header")
    assert "sam\tsales-agent\tlocked\t" in out
    assert run("users", "unlock", "sam", "--user", "root")[1] == "unlocked\tsam\n"
    assert run("users", "unlock", "sam", "--user", "root")[1] == "unchanged\tsam\tnot locked\n"
    assert run("users", "list", "--user", "sam", password="sam-own-password")[0] == EXIT_FORBIDDEN


def test_disable_enable_role_reset(run):
    add_ready(run, "sam", "sales-agent", "sam-own-password")
    assert run("users", "disable", "sam", "--user", "root")[1] == "disabled\tsam\n"
    assert run("users", "disable", "sam", "--user", "root")[1] == "unchanged\tsam\talready disabled\n"
    assert run("users", "list", "--user", "sam", password="sam-own-password")[0] == EXIT_LOGIN
    assert run("users", "enable", "sam", "--user", "root")[1] == "enabled\tsam\n"
    assert run("users", "role", "sam", "user-admin", "--user", "root")[1] == "role\tsam\tuser-admin\n"
    assert run("users", "list", "--user", "sam", password="sam-own-password")[0] == 0

    code, out, err = run("users", "reset", "sam", "--user", "root", "--password-stdin", stdin="reset-by-admin-1\n")
    assert (code, out) == (0, "reset\tsam\n"), err
    code, _, err = run("users", "list", "--user", "sam", password="reset-by-admin-1")
    assert code == EXIT_FORBIDDEN and "must change" in err
    code, out, _ = run("users", "reset", "sam", "--user", "root")
    assert code == 0 and out.splitlines()[1].startswith("temporary-password\t")


def test_rules_on_the_command_line(run):
    code, _, err = run("users", "disable", "root", "--user", "root")
    assert code == EXIT_FORBIDDEN and "your own account" in err
    code, _, err = run("users", "role", "root", "admin-agent", "--user", "root")
    assert code == EXIT_FORBIDDEN and "last active Global admin" in err
    add_ready(run, "ua", "user-admin", "ua-own-password")
    for args in (("users", "add", "boss", "--role", "global-admin"),
                 ("users", "disable", "root"), ("users", "reset", "root"),
                 ("users", "role", "ua", "global-admin")):
        code, _, err = run(*args, "--user", "ua", password="ua-own-password")
        assert code == EXIT_FORBIDDEN, args
        assert "only a Global admin" in err
    code, _, err = run("users", "add", "x", "--role", "boss", "--user", "root")
    assert code == EXIT_USAGE and "unknown role" in err
    code, _, err = run("users", "add", "weak", "--role", "sales-agent", "--user", "root", "--password-stdin",
                       stdin="short\n")
    assert code == 1 and "at least 12" in err
    code, _, err = run("users", "enable", "ghost", "--user", "root")
    assert code == 1 and "no account named 'ghost'" in err


def test_assign_and_unassign(run):
    add_ready(run, "maria", "sales-agent", "maria-own-password")
    code, out, err = run("users", "assign", "maria", "11111111-aaaa", "Fabrikam", "--user", "root")
    assert code == 0, err
    assert out == "assigned\tmaria\tContoso\nassigned\tmaria\tFabrikam\n"
    code, out, _ = run("users", "list", "--user", "root", "--no-header")
    assert "maria\tsales-agent\tactive\t" in out and "\t2\tno\t" in out
    assert run("users", "unassign", "maria", "Contoso", "--user", "root")[1] == "unassigned\tmaria\tContoso\n"
    code, _, err = run("users", "assign", "maria", "Nowhere", "--user", "root")
    assert code == 1 and "Nowhere" in err
    code, _, err = run("users", "assign", "root", "Contoso", "--user", "root")
    assert code == 1 and "not a Sales agent" in err


def test_audit_command(run):
    add_ready(run, "sam", "sales-agent", "sam-own-password")
    run("users", "list", "--user", "nobody", password="wrong-password-x")
    code, out, err = run("audit", "--user", "root", "--action", "login_failure")
    assert code == 0, err
    fields = out.splitlines()[0].split("\t")
    assert len(fields) == 5 and fields[1:4] == ["nobody", "login_failure", "nobody"]
    code, out, _ = run("audit", "--user", "root", "--user-filter", "sam", "--limit", "1")
    assert code == 0 and len(out.splitlines()) == 1
    assert out.split("\t")[2] == "password_change"
    code, out, _ = run("audit", "--user", "root", "--since", "2000-01-01")
    times = [line.split("\t")[0] for line in out.splitlines()]
    assert times == sorted(times, reverse=True) and len(times) > 5
    code, _, err = run("audit", "--user", "sam", password="sam-own-password")
    assert code == EXIT_FORBIDDEN and "may not view the audit log" in err
    code, _, err = run("audit", "--user", "root", "--since", "someday")
    assert code == EXIT_USAGE and "not a date" in err
    with pytest.raises(SystemExit) as info:  # argparse's own refusal
        run("audit", "--user", "root", "--limit", "0")
    assert info.value.code == EXIT_USAGE


def test_audit_output_neutralises_control_characters(run):
    run("users", "list", "--user", "evil\x1b[2J\tname", password="wrong-password-x")
    code, out, _ = run("audit", "--user", "root", "--action", "login_failure")
    assert code == 0
    assert "\x1b" not in out and len(out.splitlines()[0].split("\t")) == 5


def test_passwd_errors(run):
    code, _, err = run("passwd", "--user", "root", "--password-stdin", password=None,
                       stdin="wrong-password-x\nroot-new-password\n")
    assert code == EXIT_LOGIN
    code, _, err = run("passwd", "--user", "root", "--password-stdin", password=None, stdin=f"{ROOT_PW}\n")
    assert code == EXIT_USAGE and "two lines" in err
    code, _, err = run("passwd", "--user", "root", "--password-stdin", password=None, stdin=f"{ROOT_PW}\nroot\n")
    assert code == 1 and "at least 12" in err
