"""Forms filled in one go: Tab, Shift+Tab and Enter move between the fields as soon as the key arrives.

Textual hands a key to the focused widget's queue and lets that widget act on it later; Tab (and Enter in a
field, through ``Input.Submitted``) moves the focus only when the field gets round to the key. Keys that
arrive together (a fast typist, a password manager's auto-type ``name{TAB}password{ENTER}``, ``tmux
send-keys`` over SSH) were by then handed to the field being left: name and password both landed in the user
name field, and Enter submitted half a form. Priority bindings run in the app's own key handling, before the
keys that follow are handed on, so the focus has moved when they are.

A screen lists its fields in order in ``TYPE_AHEAD_FIELDS`` and adds :data:`TYPE_AHEAD_BINDINGS` to its
BINDINGS. Enter in the last field is left to the field (it submits the form, after the keys before it).
"""

from __future__ import annotations

from textual.actions import SkipAction
from textual.binding import Binding

TYPE_AHEAD_BINDINGS = [
    Binding("tab", "type_ahead(1)", show=False, priority=True),
    Binding("shift+tab", "type_ahead(-1)", show=False, priority=True),
    Binding("enter", "type_ahead(1, True)", show=False, priority=True),
]


class TypeAhead:
    """Mixin for a Screen (see the module's doc)."""

    TYPE_AHEAD_FIELDS: tuple[str, ...] = ()

    def action_type_ahead(self, step: int, enter: bool = False) -> None:
        fields = [self.query_one(f"#{ident}") for ident in self.TYPE_AHEAD_FIELDS]
        focused = self.focused
        if focused not in fields or (enter and focused is fields[-1]):
            raise SkipAction()
        self.set_focus(fields[(fields.index(focused) + step) % len(fields)])
