"""Keys typed in one go: Tab, Shift+Tab (everywhere) and Enter in a form's fields move the focus as soon as
the key arrives.

Textual hands a key to the focused widget's queue and lets that widget act on it later; Tab (and Enter in a
field, through ``Input.Submitted``) moved the focus only when the widget got round to the key. Keys that
arrive together (a password manager's auto-type ``name{TAB}password{ENTER}``, ``tmux send-keys`` over SSH, a
paste of keystrokes, a fast typist) were by then handed to the widget being left: name and password both
landed in the user name field, and a path typed after Tab in the export dialog went nowhere. Priority
bindings run in the app's own key handling, before the keys that follow are handed on, so the focus has
moved when they are.

- :data:`FOCUS_BINDINGS` (the app's): Tab / Shift+Tab move the focus at once, unless the focused widget or a
  container of it binds the key itself (the import screen's path field completes on Tab).
- :class:`TypeAhead` with :data:`ENTER_BINDINGS` (login, change password): Enter in any field but the last
  moves to the next one; in the last it is left to the field, which submits after the keys before it.
"""

from __future__ import annotations

from textual.actions import SkipAction
from textual.binding import Binding

FOCUS_BINDINGS = [
    Binding("tab", "focus_at_once('tab')", show=False, priority=True),
    Binding("shift+tab", "focus_at_once('shift+tab')", show=False, priority=True),
]
ENTER_BINDINGS = [Binding("enter", "next_field", show=False, priority=True)]


def focus_at_once(screen, key: str) -> None:
    """Tab / Shift+Tab on ``screen`` now; :class:`SkipAction` when a widget on the focus's path binds ``key``."""
    node = screen.focused
    while node is not None and node is not screen:
        bindings = getattr(node, "_bindings", None)
        if bindings is not None and key in bindings.key_to_bindings:
            raise SkipAction()
        node = node.parent
    if key == "tab":
        screen.focus_next()
    else:
        screen.focus_previous()


class TypeAhead:
    """Mixin for a form Screen whose fields, in order, are ``TYPE_AHEAD_FIELDS`` (see the module's doc)."""

    TYPE_AHEAD_FIELDS: tuple[str, ...] = ()

    def action_next_field(self) -> None:
        fields = [self.query_one(f"#{ident}") for ident in self.TYPE_AHEAD_FIELDS]
        focused = self.focused
        if focused not in fields or focused is fields[-1]:
            raise SkipAction()
        self.set_focus(fields[fields.index(focused) + 1])
