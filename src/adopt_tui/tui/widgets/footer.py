"""The key footer every screen shows: Textual's Footer, rebuilt only as far as what it shows changes.

Textual's :class:`~textual.widgets.Footer` recomposes (removes every key widget,
mounts and styles new ones) on each ``bindings_updated`` signal, and the screen
sends that signal on every focus change, every push and pop, every
``refresh_bindings()`` and every reactive declared with ``bindings=True``.
Opening a customer sent it six times; each rebuild cost 30-90 ms on a busy
2-core machine, most of the screen's opening time (profiled with pyinstrument).
Each new key widget was also styled three times: once when mounted, then
twice more as its ``compact`` flag went from the default (True) to the
footer's (False) through a data binding, each time matching every rule of the
app's stylesheet.

:class:`KeysFooter` draws exactly what Footer draws (it *is* a Footer with
Footer's key widgets, CSS, mouse and tooltips). It

- coalesces the signals that arrive before the next refresh into one check;
- does nothing when the keys it would show are the ones it shows (key, its
  display, description, action, enabled, tooltip);
- otherwise updates its key widgets in place, mounting or removing only the
  difference;
- makes each key widget with its final ``compact`` state, so it is styled once.

Binding groups (several bindings shown as one key group) and a compact footer
are left to Footer's own compose; this app uses neither.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class _Key(NamedTuple):
    key: str
    display: str
    description: str
    action: str
    disabled: bool
    tooltip: str
    palette: bool  # the command palette's key, docked right


class KeysFooter(Footer):
    """A Footer that rebuilds its keys only as far as they change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: list[_Key] | None = None
        self._check_pending = False

    # ----------------------------------------------------------------- what to show

    def _wanted(self) -> list[_Key] | None:
        """The keys Footer.compose would show, in its order; None when it would show a group."""
        app = self.app
        active_bindings = self.screen.active_bindings
        by_action: defaultdict[str, list] = defaultdict(list)
        for _node, binding, enabled, tooltip in active_bindings.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        keys: list[_Key] = []
        previous_group = object()
        for bindings in by_action.values():
            binding, enabled, tooltip = bindings[0]
            if binding.group is not None and binding.group is previous_group:
                return None  # two actions in one group: a KeyGroup
            previous_group = binding.group
            keys.append(_Key(binding.key, app.get_key_display(binding), binding.description, binding.action,
                             not enabled, tooltip, False))
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = active_bindings[app.COMMAND_PALETTE_BINDING]
            except KeyError:
                pass
            else:
                keys.append(_Key(binding.key, app.get_key_display(binding), binding.description, binding.action,
                                 not enabled, binding.tooltip or binding.description, True))
        return keys

    def _make_key(self, spec: _Key) -> FooterKey:
        # Footer gives the command palette's key the default compact state (True) and
        # every other key its own (False); made with it, the key is styled once.
        classes = "-command-palette -compact" if spec.palette else ""
        key = FooterKey(spec.key, spec.display, spec.description, spec.action, disabled=spec.disabled,
                        tooltip=spec.tooltip, classes=classes)
        key.set_reactive(FooterKey.compact, spec.palette)
        return key

    @staticmethod
    def _set_key(widget: FooterKey, spec: _Key) -> None:
        widget.key, widget.key_display, widget.description, widget.action = (
            spec.key, spec.display, spec.description, spec.action)
        widget._disabled = spec.disabled
        widget.set_class(spec.disabled, "-disabled")
        widget.tooltip = spec.tooltip or None
        widget.refresh(layout=True)

    # ----------------------------------------------------------------- Footer's hooks

    def compose(self):
        # Footer composes nothing until the screen's first bindings signal, then composes
        # again: an extra layout and draw of every screen. The screen's keys are known
        # now (a later change, e.g. when the focus lands, is updated in place).
        if not self._bindings_ready:
            if self.compact or not self.is_attached:
                return
            self._bindings_ready = True
        wanted = self._wanted() if not self.compact else None
        if wanted is None:
            self._shown = None
            yield from super().compose()
            return
        self._shown = wanted
        for spec in wanted:
            yield self._make_key(spec)

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
        wanted = self._wanted() if not self.compact else None
        if wanted is not None and wanted == self._shown:
            return
        if wanted is None or self._shown is None or not self._update_in_place(wanted):
            await self.recompose()

    def _update_in_place(self, wanted: list[_Key]) -> bool:
        children = list(self.children)
        if any(type(child) is not FooterKey for child in children):
            return False
        palette = [child for child in children if child.has_class("-command-palette")]
        keys = [child for child in children if not child.has_class("-command-palette")]
        wanted_keys = [spec for spec in wanted if not spec.palette]
        wanted_palette = [spec for spec in wanted if spec.palette]
        if len(palette) != len(wanted_palette):
            return False
        for widget, spec in zip(keys, wanted_keys):
            self._set_key(widget, spec)
        for widget, spec in zip(palette, wanted_palette):
            self._set_key(widget, spec)
        if len(keys) > len(wanted_keys):
            self.remove_children(keys[len(wanted_keys):])
        elif len(wanted_keys) > len(keys):
            new = [self._make_key(spec) for spec in wanted_keys[len(keys):]]
            self.mount_all(new, before=palette[0] if palette else None)
        self._shown = wanted
        return True
