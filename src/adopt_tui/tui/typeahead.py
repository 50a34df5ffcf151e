"""Keys typed in one go reach the widget they were typed for, in the order they were typed.

Textual hands each key, as it arrives, to the widget focused at that moment. A text field takes a
printable key at once; every other key (Tab, arrows, Space on a radio button, End, Ctrl+U, a letter bound
to an action) comes back up from the widget and its binding is resolved then, against the focus of *that*
moment. Keys that arrive together (a password manager's auto-type ``name{TAB}password{ENTER}``,
``tmux send-keys``, a fast typist over a laggy SSH link, whose keys arrive in one read) therefore went
astray: name and password both landed in the user name field, a path typed after Tab in the export dialog
went to the radio buttons, and Ctrl+U then a path in a field ran Ctrl+U last, erasing the path.

- :class:`KeysInOrder` (the app's): behind a key that will come back up, the keys that follow wait until it
  has (its binding has run: the focus has moved, the field is cleared), so each key meets the state its
  typist saw. A key some widget swallows holds the rest at most :data:`HOLD_LIMIT` seconds. A key typed
  alone is handed on as before, and so are printable keys into a text field (the filter as you type).
- :class:`TypeAhead` with :data:`ENTER_BINDINGS` (login, change password): Enter in any field but the last
  moves to the next one as soon as it arrives (a field's own Enter would move it only through a message,
  later); in the last field Enter is the field's, which submits after the keys before it.
"""

from __future__ import annotations

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding

HOLD_LIMIT = 0.25
ENTER_BINDINGS = [Binding("enter", "next_field", show=False, priority=True)]


class KeysInOrder:
    """App mixin (before ``App`` in the bases): the keys behind one that comes back up wait for it."""

    _held_keys: list[events.Key] | None = None
    _awaited: events.Key | None = None
    _hold_timer = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        if self._held_keys is not None:
            self._held_keys.append(event)
            return
        from textual.widgets import Input

        if event.is_printable and isinstance(self.focused, Input):  # the field takes it at once
            await super().on_event(event)
            return
        self._held_keys, self._awaited = [], event
        self._hold_timer = self.set_timer(HOLD_LIMIT, self._release_keys)
        await super().on_event(event)
        if not event.is_forwarded:  # a priority binding took it: done already
            self._release_soon()

    async def _on_key(self, event: events.Key) -> None:
        # A key back up from the focused widget: App._on_key runs its binding.
        await super()._on_key(event)
        event.prevent_default()  # App._on_key has run; Textual would call it again after this handler
        if event is self._awaited:
            self._release_soon()

    def _release_soon(self) -> None:
        # After what the binding queued on the app: Widget.focus() moves the focus by call_later.
        self._awaited = None
        self.call_later(self._release_keys, self._held_keys)

    async def _release_keys(self, hold: list[events.Key] | None = None) -> None:
        if hold is not None and hold is not self._held_keys:
            return  # that hold ended already (its time limit), and a later one is not this call's to end
        held, self._held_keys, self._awaited = self._held_keys or [], None, None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        for event in held:
            await self.on_event(event)  # the next key among them that comes back up holds the rest again


class TypeAhead:
    """Mixin for a form Screen whose fields, in order, are ``TYPE_AHEAD_FIELDS`` (see the module's doc)."""

    TYPE_AHEAD_FIELDS: tuple[str, ...] = ()

    def action_next_field(self) -> None:
        fields = [self.query_one(f"#{ident}") for ident in self.TYPE_AHEAD_FIELDS]
        focused = self.focused
        if focused not in fields or focused is fields[-1]:
            raise SkipAction()
        self.set_focus(fields[fields.index(focused) + 1])
