"""Settings: recommendation thresholds, lockout and idle-lock times (Global admin).

Labels, units and ranges come from :data:`adopt_tui.store.settings.SETTINGS`.
Saving calls :func:`adopt_tui.services.settings.change_settings` in a worker
(checked, validated, audited); when a threshold changed it recomputes every
customer's figures, which can take a while: the form shows a loading
indicator meanwhile.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.validation import Number
from textual.widgets import Input, Label, Static

from adopt_tui.auth.permissions import Perm
from adopt_tui.store import settings as store
from adopt_tui.tui.admin import ConfirmDialog, CoreCalls, CoreDone, CoreRefused, app_now, idle_guard
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.footer import KeysFooter

GROUPS = (
    ("Recommendation thresholds (changing one recomputes the figures)",
     [s for s in store.SETTINGS if s.key in store.FIGURE_SETTINGS]),
    ("Sign-in lockout and idle lock", [s for s in store.SETTINGS if s.key not in store.FIGURE_SETTINGS]),
)


def _shown(value: float) -> str:
    return f"{value:g}"


class SettingsScreen(CoreCalls, AdoptScreen):
    """One input per setting; Ctrl+S saves the changed ones."""

    CSS_PATH = tcss("settings.tcss")

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save", tooltip="Save the changed settings (audited)"),
        Binding("ctrl+z", "revert", "Undo edits", id="settings.revert", tooltip="Back to the saved values"),
        Binding("escape", "back", "Back", id="settings.back", tooltip="Close the settings"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        yield Static("Settings", classes="section-title")
        with VerticalScroll(id="settings-form"):
            for title, group in GROUPS:
                yield Static(title, classes="settings-group")
                for s in group:
                    with Horizontal(classes="setting-row"):
                        yield Label(s.label, classes="setting-label")
                        yield Input(id=f"set-{s.key}", type="number", classes="setting-input", compact=True,
                                    validators=[Number(minimum=s.minimum, maximum=s.maximum)],
                                    tooltip=f"{s.minimum:g} to {s.maximum:g} {s.unit}")
                        yield Static(f"{s.unit}  ({s.minimum:g}–{s.maximum:g})", classes="setting-unit muted")
        yield Static("", id="settings-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#settings-form").loading = True
        if not self.app.principal or not self.app.principal.can(Perm.EDIT_SETTINGS):
            self.query_one("#settings-status", Static).update("Only a Global admin can change the settings.")
        self.core("load", store.get_all, name="reading the settings")

    # ----------------------------------------------------------------- values

    def edited(self) -> dict[str, str]:
        """{key: text} of every input whose text differs from the saved value."""
        out = {}
        for s in store.SETTINGS:
            text = self.query_one(f"#set-{s.key}", Input).value.strip()
            if s.key in self.saved and text != _shown(self.saved[s.key]):
                out[s.key] = text
        return out

    def _fill(self, values: dict[str, float]) -> None:
        self.saved = dict(values)
        for s in store.SETTINGS:
            self.query_one(f"#set-{s.key}", Input).value = _shown(values[s.key])

    def on_core_done(self, message: CoreDone) -> None:
        form = self.query_one("#settings-form")
        form.loading = False
        status = self.query_one("#settings-status", Static)
        if message.key == "load":
            self._fill(message.result)
            first = self.query(".setting-input").first(Input)
            first.focus()
            return
        change, values = message.result
        self._fill(values)
        if not change.changed:
            status.update("Nothing to save: no value changed.")
            return
        names = ", ".join(store.BY_KEY[k].label for k in change.changed)
        text = f"Saved {len(change.changed)} setting{'s' if len(change.changed) != 1 else ''}: {names}."
        if change.figures_changed:
            text += f" Figures recomputed ({change.recomputed:,} snapshots)."
            self.app.data_changed(source=self)
        status.update(Text(text))
        self.notify(text, markup=False)
        if "idle_lock_minutes" in change.changed:
            guard = idle_guard(self.app)
            if guard is not None:
                guard.set_timeout(values["idle_lock_minutes"] * 60)

    def core_refused(self, message: CoreRefused) -> None:
        self.query_one("#settings-form").loading = False
        self.query_one("#settings-status", Static).update(Text(message.text))
        super().core_refused(message)

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            principal = self.app.principal
            return (principal is not None and principal.can(Perm.EDIT_SETTINGS)) or None
        return True

    def action_save(self) -> None:
        from adopt_tui.services.settings import change_settings, validate_all

        edited = self.edited()
        if not edited:
            self.query_one("#settings-status", Static).update("Nothing to save: no value changed.")
            return
        try:
            validate_all(edited)
        except ValueError as exc:
            self.query_one("#settings-status", Static).update(Text(str(exc)))
            self.notify(str(exc), severity="error", markup=False)
            return
        principal, now = self.app.principal, app_now(self.app)
        recompute = any(k in store.FIGURE_SETTINGS for k in edited)
        self.query_one("#settings-status", Static).update(
            "Saving and recomputing the figures of every customer…" if recompute else "Saving…")
        self.query_one("#settings-form").loading = True

        def save(conn):
            change = change_settings(conn, principal, edited, now=now)
            return change, store.get_all(conn)

        self.core("save", save, name="saving the settings")

    def action_revert(self) -> None:
        if self.saved:
            self._fill(self.saved)
            self.query_one("#settings-status", Static).update("Edits undone.")

    def action_back(self) -> None:
        if not self.edited():
            self.app.pop_screen()
            return
        self.app.push_screen(ConfirmDialog("Leave without saving your changes?", "Leave"),
                             callback=lambda yes: yes and self.app.pop_screen())

    @on(Input.Submitted, ".setting-input")
    def _next(self) -> None:
        self.focus_next()
