"""Radio buttons and check boxes whose state shows without colour.

Textual draws the same glyph for on and off and tells them apart by colour
only, which is lost with NO_COLOR and on monochrome terminals. These draw
``●``/``○`` and ``X``/space instead, keeping the colours where they exist.
"""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton


class Radio(RadioButton):
    """A RadioButton reading ``●`` when chosen and ``○`` when not."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual's class attribute name)
        return "●" if self.value else "○"


class Check(Checkbox):
    """A Checkbox reading ``X`` when ticked and blank when not."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802
        return "X" if self.value else " "
