"""The key footer every screen shows: Textual's Footer, rebuilt only when what it shows changes.

Textual's :class:`~textual.widgets.Footer` recomposes (removes every key widget,
mounts and styles new ones) on each ``bindings_updated`` signal, and the screen
sends that signal on every focus change, every push and pop, every
``refresh_bindings()`` and every reactive declared with ``bindings=True``.
Opening a customer sent it six times; each rebuild cost 30-90 ms on a busy
2-core machine, most of the screen's opening time (profiled with pyinstrument).

:class:`KeysFooter` draws exactly what Footer draws (it *is* a Footer: same
compose, same CSS, same mouse and tooltip behaviour). It only

- coalesces the signals that arrive before the next refresh into one check, and
- recomposes only when the keys it would show differ from the ones it shows
  (key, its display, description, action, enabled, tooltip, group).
"""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """A Footer that rebuilds its keys only when they change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._check_pending = False

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        shown = self._signature()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()

    def _signature(self) -> tuple:
        """What compose() would draw, as plain values."""
        app = self.app
        keys = []
        palette = None
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            if binding.show:
                group = binding.group
                keys.append((binding.key, app.get_key_display(binding), binding.description, binding.action,
                             bool(enabled), tooltip, binding.priority,
                             None if group is None else (id(group), group.description, group.compact)))
            if key == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, app.get_key_display(binding), binding.description, binding.action,
                           bool(enabled), binding.tooltip)
        return (tuple(keys), palette, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, self.compact,
                self.combine_groups)
