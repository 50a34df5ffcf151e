"""Shared fixtures: databases built from the hand-made fixture and the demo bundle.

Each database is built once per session as a template and copied for every
test, so tests never see each other's changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.catalogue import data_dir
from adopt_tui.importers.bundle import load_bundle
from adopt_tui.store import connect

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "small"
AS_OF = "2026-10-31"
TENANT_A = "aaaaaaaa-0000-0000-0000-000000000001"
TENANT_B = "bbbbbbbb-0000-0000-0000-000000000002"
TENANT_C = "cccccccc-0000-0000-0000-000000000003"
TENANT_D = "dddddddd-0000-0000-0000-000000000004"


def _template(tmp_path_factory, name: str, bundle: Path, accounts: bool) -> Path:
    path = tmp_path_factory.mktemp(name) / f"{name}.db"
    conn = connect(path)
    load_bundle(conn, bundle, SYSTEM, audit_action=False)
    if accounts:
        from adopt_tui.auth.accounts import create_demo_accounts

        create_demo_accounts(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _copy(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / template.name
    shutil.copyfile(template, target)
    return target


@pytest.fixture(scope="session")
def _small_template(tmp_path_factory) -> Path:
    return _template(tmp_path_factory, "small", SMALL, accounts=True)


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory) -> Path:
    return _template(tmp_path_factory, "demo", data_dir() / "demo", accounts=True)


@pytest.fixture
def small_db(_small_template, tmp_path) -> Path:
    """Path to a fresh copy of the hand-made fixture database (with demo accounts)."""
    return _copy(_small_template, tmp_path)


@pytest.fixture
def demo_db(_demo_template, tmp_path) -> Path:
    """Path to a fresh copy of the demo portfolio database (with demo accounts)."""
    return _copy(_demo_template, tmp_path)


@pytest.fixture
def small_conn(small_db):
    conn = connect(small_db)
    yield conn
    conn.close()


@pytest.fixture
def demo_conn(demo_db):
    conn = connect(demo_db)
    yield conn
    conn.close()
