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

# widgets whose DEFAULT_CSS is added while the login screen waits (AdoptApp._default_css_ahead):
# those the customer list, a customer's insights and the portfolio mount first. Not Textual's
# DataTable (the portfolio's tables): its rules match the customer list's fastdatatable by type
# name, so read before the list is shown they would restyle it (header, cursor).
WIDGETS_AHEAD: list[str] = [
    "adopt_tui.tui.widgets.footer:KeysLine",
    "textual.widgets:LoadingIndicator",
    "adopt_tui.tui.widgets.figures:FigureTable",
    "adopt_tui.tui.widgets.status:StatusLine",
    "textual.containers:VerticalScroll",
    "adopt_tui.tui.widgets.figures:FigureGrid",
    "adopt_tui.tui.screens.customer:Section",
    "adopt_tui.tui.widgets.charts:TrendChart",
    "adopt_tui.tui.widgets.charts:BarChart",
    "textual.widgets:ContentSwitcher",
    "textual.widgets:Header",
    "textual.widgets._header:HeaderClockSpace",
    "textual.widgets._header:HeaderIcon",
    "textual.widgets._header:HeaderTitle",
    "textual.widgets:TabbedContent",
    "textual.widgets:TabPane",
    "textual.widgets:Tab",
    "textual.widgets:Tabs",
    "textual.widgets._tabs:Underline",
    "textual.widgets:Label",  # the portfolio's (the login screen draws its labels with Static)
]
