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

from rich.text import Text
from textual import events
from textual.widget import Widget
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


HELP_ACTIONS = ("help", "app.help")
ELLIPSIS = "… "


class KeysLine(Widget):
    """The footer's keys (all but the command palette's) drawn as one line by one widget.

    It draws what a row of FooterKey widgets draws (their CSS is repeated here as
    component classes: key, description, the item background, dim when disabled,
    the hover colours) and does what they do: a click presses the key (or rings the
    bell when it is disabled), hovering shows the key's tooltip. One widget instead
    of ten or so: a FooterKey each cost a quarter of opening a customer's insights
    (cProfile, 432k -> 327k calls without the footer), on every screen.
    """

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeysLine {
        width: 1fr;
        height: 1;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    KeysLine > .keysline--item {
        background: $footer-item-background;
    }
    KeysLine > .keysline--hover {
        color: $footer-key-foreground;
        background: $block-hover-background;
    }
    KeysLine > .keysline--disabled {
        text-style: dim;
    }
    KeysLine > .footer-key--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeysLine > .footer-key--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    """
    COMPONENT_CLASSES = {"keysline--item", "keysline--hover", "keysline--disabled", "footer-key--key",
                         "footer-key--description"}

    def __init__(self, keys: list[_Key]) -> None:
        super().__init__()
        self.keys = keys
        self._hover: int | None = None
        self._spans: list[tuple[int, int, int]] = []

    def set_keys(self, keys: list[_Key]) -> None:
        if keys != self.keys:
            self.keys = keys
            self._hover = None
            self.refresh()

    def _piece(self, spec: _Key, index: int, key_style, description_style, item, compact: bool) -> Text:
        # as FooterKey.render: " key " then "description " (padding 0 1 and 0 1 0 0); compact: "key description "
        if spec.description:
            key = spec.display if compact else f" {spec.display} "
            text = Text.assemble((key, key_style), (f"{' ' if compact else ''}{spec.description} ", description_style))
        else:
            text = Text.assemble((spec.display, key_style))
        base = item
        if index == self._hover:
            base = base + self.get_component_rich_style("keysline--hover", partial=True)
        if spec.disabled:
            base = base + self.get_component_rich_style("keysline--disabled", partial=True)
        text.stylize_before(self.rich_style + base)
        return text

    def render(self) -> Text:
        """The keys as a row of FooterKeys draws them. When they do not fit (the customer list at 80
        columns), they are drawn closer together, and if they still do not fit, the ones that fit are
        followed by ``…`` and the help key, so that the key to every other key is always in sight."""
        styles = (self.get_component_rich_style("footer-key--key", partial=True),
                  self.get_component_rich_style("footer-key--description", partial=True),
                  self.get_component_rich_style("keysline--item", partial=True))
        width = self.size.width
        pieces = [self._piece(spec, index, *styles, compact=False) for index, spec in enumerate(self.keys)]
        order: list[int | None] = list(range(len(pieces)))
        if width and sum(p.cell_len for p in pieces) > width:
            pieces = [self._piece(spec, index, *styles, compact=True) for index, spec in enumerate(self.keys)]
            help_index = next((i for i, spec in enumerate(self.keys) if spec.action in HELP_ACTIONS), None)
            if sum(p.cell_len for p in pieces) > width and help_index is not None:
                room = width - pieces[help_index].cell_len - len(ELLIPSIS)
                order = []
                for index, piece in enumerate(pieces):
                    if index != help_index:
                        if piece.cell_len > room:
                            break
                        order.append(index)
                        room -= piece.cell_len
                order += [None, help_index]
        line = Text(no_wrap=True, overflow="crop", end="")
        spans = []
        for index in order:
            if index is None:
                line.append(ELLIPSIS, self.rich_style + styles[2])
                continue
            spans.append((len(line), len(line) + pieces[index].cell_len, index))
            line.append_text(pieces[index])
        self._spans = spans
        return line

    def _key_at(self, x: int) -> int | None:
        return next((index for start, end, index in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._key_at(event.x)
        if index != self._hover:
            self._hover = index
            self.tooltip = (self.keys[index].tooltip or None) if index is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._key_at(event.x)
        if index is None:
            return
        if self.keys[index].disabled:
            self.app.bell()
        else:
            self.app.simulate_key(self.keys[index].key)


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
        yield KeysLine([spec for spec in wanted if not spec.palette])
        for spec in wanted:
            if spec.palette:
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
        lines = [child for child in children if type(child) is KeysLine]
        palette = [child for child in children if type(child) is FooterKey and child.has_class("-command-palette")]
        if len(lines) != 1 or len(lines) + len(palette) != len(children):
            return False
        wanted_palette = [spec for spec in wanted if spec.palette]
        if len(palette) != len(wanted_palette):
            return False
        lines[0].set_keys([spec for spec in wanted if not spec.palette])
        for widget, spec in zip(palette, wanted_palette):
            if self._shown is None or spec not in self._shown:
                self._set_key(widget, spec)
        self._shown = wanted
        return True
