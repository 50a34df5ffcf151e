"""The headless core never imports Textual (harlequin's check)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "adopt_tui.store", "adopt_tui.store.writes", "adopt_tui.metrics.compute", "adopt_tui.metrics.read",
    "adopt_tui.importers.bundle", "adopt_tui.auth.accounts", "adopt_tui.auth.session", "adopt_tui.cli",
    "adopt_tui.catalogue",
]


def run_python(code: str) -> None:
    """Run ``code`` in a fresh interpreter (so sys.modules starts empty); it exits 1 on failure."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_does_not_import_textual():
    optional = ["adopt_tui.exporters", "adopt_tui.importers.detect", "adopt_tui.generate"]
    code = (
        "import importlib, importlib.util, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        f"for name in {optional!r}:\n"
        "    if importlib.util.find_spec(name) is not None: importlib.import_module(name)\n"
        "import adopt_tui.cli as cli; cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    run_python(code)


def test_login_path_does_not_import_pandas():
    """Starting the CLI (argument parsing) stays light: no pandas before it is needed."""
    run_python(
        "import sys, adopt_tui.cli as cli\n"
        "cli.build_parser()\n"
        "sys.exit(1 if 'pandas' in sys.modules else 0)\n"
    )


def test_login_screen_does_not_import_pandas():
    """Process start to the login screen stays light: pandas loads after login."""
    run_python(
        "import sys\n"
        "from adopt_tui.tui.app import make_app\n"
        "import adopt_tui.tui.screens.login, adopt_tui.tui.admin\n"
        "sys.exit(1 if 'pandas' in sys.modules else 0)\n"
    )
