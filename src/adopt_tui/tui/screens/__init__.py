"""The screens, one module each, with their stylesheets beside them.

``CSS_PATH = tcss("name.tcss")`` (an absolute path) in every screen, so that
the app can read the stylesheets ahead under the very names Textual looks for
when a screen is first shown (:data:`CSS_AHEAD`, AdoptApp._read_css_ahead):
a stylesheet new to the app makes Textual parse every stylesheet again and
restyle every widget, 40-100 ms on the first push of each screen.
"""

from __future__ import annotations

from pathlib import Path

STYLES = Path(__file__).parent


def tcss(name: str) -> Path:
    """The path of a stylesheet beside the screens."""
    return STYLES / name


# read while the login screen waits for input, most used first (login.tcss is read at start)
CSS_AHEAD: list[Path] = [
    tcss(name) for name in (
        "customers.tcss", "customer.tcss", "portfolio.tcss", "export_dialog.tcss", "lock.tcss", "password.tcss",
        "settings.tcss", "users.tcss", "audit.tcss", "import_data.tcss",
    )
]
