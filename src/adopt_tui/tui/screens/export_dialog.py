"""The export dialog: what, which customers, scope, format, where; then a
progress bar with cancel. Dismisses with the :class:`ExportResult`, or None.

The export itself is :func:`adopt_tui.exporters.run_export` (the same code as
``adopt-tui export``), run in a thread worker with its own connection. It
checks the permission, drops customers the principal may not see, writes to a
temporary file and renames it into place, so a cancelled or failed export
leaves no file behind and never damages an existing one. The dialog only
offers what applies: the user detail and "this customer" only for one
customer, "the current filter" only when there is one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Button, Checkbox, Input, Label, ProgressBar, RadioButton, RadioSet, Static,
)
from textual.worker import Worker, WorkerState

from adopt_tui.auth.permissions import Perm
from adopt_tui.errors import AdoptError
from adopt_tui.tui.app import WorkerFailures
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.screens.error import ConfirmDialog
from adopt_tui.tui.widgets.footer import KeysFooter
from adopt_tui.tui.widgets.toggles import Check, Radio

KIND_LABELS = {
    "deployment": "Deployment per customer and product",
    "usage": "Usage per customer and workload",
    "users": "User-level detail for this customer",
    "portfolio": "Portfolio summary",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON"}
SCOPE_LABELS = {"all": "All sources", "own": "Own licenses"}
EXTENSIONS = tuple(f".{f}" for f in FORMAT_LABELS)


def _check_destination(path: str) -> str | None:
    from adopt_tui.exporters import check_destination

    return check_destination(path)


def _display_path(path: Path) -> str:
    """``~/name`` for a file under the home directory (shorter to read and edit)."""
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


class DestinationValidator(Validator):
    """The directory exists and is writable (the export core's own check)."""

    def validate(self, value: str) -> ValidationResult:
        problem = _check_destination(value)
        return self.failure(problem) if problem else self.success()


class ExportProgress(Message):
    """Rows written so far; a newer one replaces an older one still in the queue."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ExportProgress)


class ExportFinished(Message):
    def __init__(self, result) -> None:
        super().__init__()
        self.result = result


class ExportRefused(Message):
    """The core refused or stopped the export (an AdoptError, incl. a cancel)."""

    def __init__(self, message: str, cancelled: bool = False) -> None:
        super().__init__()
        self.message = message
        self.cancelled = cancelled


class CustomerName(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ExportDialog(WorkerFailures, ModalScreen):
    """Export deployment, usage, one customer's users or the portfolio summary."""

    CSS_PATH = tcss("export_dialog.tcss")
    AUTO_FOCUS = "#export-kind"

    BINDINGS = [
        Binding("ctrl+s", "export", "Export", id="export.start", tooltip="Write the file", priority=True),
        Binding("escape", "cancel", "Cancel", id="export.cancel",
                tooltip="Stop a running export (no file is written), or close the dialog"),
    ]

    def __init__(self, customer_id: int | None = None, filtered_ids: list[int] | None = None,
                 scope: str = "all") -> None:
        super().__init__()
        self.customer_id = None if customer_id is None else int(customer_id)
        self.filtered_ids = None if filtered_ids is None else [int(i) for i in filtered_ids]
        self.scope = scope if scope in SCOPE_LABELS else "all"
        self.running = False
        self._cancel = threading.Event()
        self._auto_path = True  # the path follows the choices until the person edits it
        self._last_set = ""  # the value we put in (Input.Changed arrives later, as a message)

    # ------------------------------------------------------------------ choices

    @property
    def kinds(self) -> list[str]:
        return [k for k in KIND_LABELS if k != "users" or self.customer_id is not None]

    @property
    def targets(self) -> list[tuple[str, str]]:
        principal = self.app.principal
        everyone = "All my customers" if principal is not None and not principal.sees_all_customers \
            else "All customers"
        out = [("all", everyone)]
        if self.filtered_ids is not None:
            out.append(("filter", f"Current filter ({len(self.filtered_ids):,})"))
        if self.customer_id is not None:
            out.append(("customer", "This customer"))
        return out

    def _pressed_id(self, radio_set_id: str, default: str) -> str:
        button = self.query_one(f"#{radio_set_id}", RadioSet).pressed_button
        return button.id.partition("-")[2] if button is not None and button.id else default

    @property
    def kind(self) -> str:
        return self._pressed_id("export-kind", self.kinds[0])

    @property
    def target(self) -> str:
        return self._pressed_id("export-target", "all")

    @property
    def chosen_scope(self) -> str:
        return self._pressed_id("export-scope", self.scope)

    @property
    def fmt(self) -> str:
        return self._pressed_id("export-format", "csv")

    @property
    def as_of(self) -> str | None:
        return getattr(self.app, "as_of", None)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        first_kind = self.kinds[0]
        first_target = "customer" if self.customer_id is not None else (
            "filter" if self.filtered_ids is not None else "all")
        with Vertical(id="export-box"):
            yield Static("Export", id="export-title")
            with Horizontal(classes="export-row", id="row-kind"):
                yield Label("What", classes="export-label")
                with RadioSet(id="export-kind"):
                    for k in self.kinds:
                        yield Radio(KIND_LABELS[k], id=f"kind-{k}", value=k == first_kind)
            with Horizontal(classes="export-row"):
                yield Label("Customers", classes="export-label")
                with RadioSet(id="export-target", classes="inline"):
                    for key, label in self.targets:
                        yield Radio(label, id=f"target-{key}", value=key == first_target)
            with Horizontal(classes="export-row"):
                yield Label("Scope", classes="export-label")
                with RadioSet(id="export-scope", classes="inline"):
                    for key, label in SCOPE_LABELS.items():
                        yield Radio(label, id=f"scope-{key}", value=key == self.scope)
            with Horizontal(classes="export-row"):
                yield Label("Format", classes="export-label")
                with RadioSet(id="export-format", classes="inline"):
                    for key, label in FORMAT_LABELS.items():
                        yield Radio(label, id=f"format-{key}", value=key == "csv")
                yield Check("Byte-order mark (Excel)", id="export-bom", value=False)
            with Horizontal(classes="export-row", id="row-path"):
                yield Label("File", classes="export-label")
                yield Input(id="export-path", validators=[DestinationValidator()],
                            validate_on=["changed", "submitted"], compact=True, select_on_focus=False)
            yield Static("", id="export-message")
            yield ProgressBar(id="export-progress", show_eta=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-start", variant="primary", compact=True)
                yield Button("Cancel", id="export-close", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        principal = getattr(self.app, "principal", None)
        if principal is None or not principal.can(Perm.EXPORT):
            self.app.notify("You may not export.", severity="warning")
            self.dismiss(None)
            return
        self._set_path(self._default_path())
        self._sync()
        if self.customer_id is not None:
            self._load_customer_name(self.customer_id)

    def _default_path(self) -> Path:
        from adopt_tui.exporters import default_filename

        as_of = self.as_of or getattr(self.app, "latest_as_of", None)
        return Path.home() / default_filename(self.kind, self.fmt, as_of)

    def _set_path(self, path: Path | str) -> None:
        field = self.query_one("#export-path", Input)
        self._last_set = path if isinstance(path, str) else _display_path(path)
        field.value = self._last_set
        field.cursor_position = len(field.value)

    def _sync(self) -> None:
        """Enable what applies to the current choices."""
        users = self.kind == "users"
        for button in self.query_one("#export-target", RadioSet).query(RadioButton):
            button.disabled = self.running or (users and button.id != "target-customer")
        if users and self.target != "customer":
            self.query_one("#target-customer", RadioButton).value = True
        bom = self.query_one("#export-bom", Checkbox)
        bom.disabled = self.running or self.fmt != "csv"
        for widget in self.query("RadioSet, Input, #export-start"):
            widget.disabled = self.running
        self.query_one("#export-progress").display = self.running
        self.query_one("#export-close", Button).label = "Cancel export" if self.running else "Cancel"
        self._validate_path()

    def _validate_path(self) -> bool:
        field = self.query_one("#export-path", Input)
        result = field.validate(field.value)
        message = self.query_one("#export-message", Static)
        if result is not None and not result.is_valid:
            problem = result.failure_descriptions[0] if result.failure_descriptions else "not a usable file name"
            message.update(Text(f"Cannot write there: {problem}"))
            message.set_class(True, "-error")
            return False
        if not self.running:
            exists = Path(os.path.expanduser(field.value.strip())).exists()
            message.update(Text("The file exists: you will be asked before it is replaced." if exists else ""))
            message.set_class(False, "-error")
        return True

    @on(RadioSet.Changed)
    def _choice_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id in ("export-kind", "export-format"):
            if self._auto_path:
                self._set_path(self._default_path())
            elif event.radio_set.id == "export-format":
                self._set_path(self._with_extension(self.query_one("#export-path", Input).value, self.fmt))
        self._sync()

    @staticmethod
    def _with_extension(text: str, fmt: str) -> str:
        stem, ext = os.path.splitext(text)
        if ext.lower() in EXTENSIONS:
            return f"{stem}.{fmt}"
        return text

    @on(Input.Changed, "#export-path")
    def _path_changed(self, event: Input.Changed) -> None:
        if event.value != self._last_set:
            self._auto_path = False
        self._validate_path()

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-start")
    def _start_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-close")
    def _close_pressed(self) -> None:
        self.action_cancel()

    # ------------------------------------------------------------------ the customer's name

    @work(thread=True, exclusive=True, group="export-name", exit_on_error=False)
    def _load_customer_name(self, customer_id: int) -> None:
        from adopt_tui.metrics.read import get_customer

        with self.app.db() as conn:
            customer = get_customer(conn, self.app.principal, customer_id)
        self.post_message(CustomerName(customer.name))

    def on_customer_name(self, message: CustomerName) -> None:
        title = Text("Export · ")
        title.append(message.name)  # customer data: never markup
        self.query_one("#export-title", Static).update(title)

    # ------------------------------------------------------------------ running

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "export":
            return not self.running
        return True

    def action_export(self) -> None:
        if self.running:
            return
        if not self._validate_path():
            self.query_one("#export-path", Input).focus()
            return
        path = Path(os.path.expanduser(self.query_one("#export-path", Input).value.strip()))
        if path.exists():
            question = Text("Replace the existing file?\n")
            question.append(str(path))
            self.app.push_screen(
                ConfirmDialog(question.plain, yes="Replace", no="Keep it"),
                callback=lambda yes: self._start(path, force=True) if yes else self._kept(),
            )
            return
        self._start(path, force=False)

    def _kept(self) -> None:
        self.query_one("#export-message", Static).update("Not replaced; choose another file name.")
        self.query_one("#export-path", Input).focus()

    def _start(self, path: Path, *, force: bool) -> None:
        self.running = True
        self._cancel.clear()
        progress = self.query_one("#export-progress", ProgressBar)
        progress.update(total=None, progress=0)
        self.query_one("#export-message", Static).update(Text("Exporting… (Escape cancels)"))
        self._sync()
        self.query_one("#export-close", Button).focus()
        self._run(
            path, force=force, kind=self.kind, fmt=self.fmt, scope=self.chosen_scope, as_of=self.as_of,
            customer_ids=self.filtered_ids if self.target == "filter" else None,
            customer_id=self.customer_id if self.target == "customer" else None,
            bom=self.fmt == "csv" and self.query_one("#export-bom", Checkbox).value,
        )

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, description="exporting")
    def _run(self, path: Path, *, force: bool, kind: str, fmt: str, scope: str, as_of: str | None,
             customer_ids: list[int] | None, customer_id: int | None, bom: bool) -> None:
        from adopt_tui import exporters

        try:
            with self.app.db() as conn:
                result = exporters.run_export(
                    conn, self.app.principal, kind=kind, fmt=fmt, out_path=path, scope=scope, as_of=as_of,
                    customer_ids=customer_ids, customer_id=customer_id, bom=bom, force=force,
                    progress=lambda done, total: self.post_message(ExportProgress(done, total)),
                    cancelled=self._cancel.is_set,
                )
        except exporters.ExportCancelled as exc:
            self.post_message(ExportRefused(str(exc), cancelled=True))
            return
        except AdoptError as exc:
            self.post_message(ExportRefused(str(exc)))
            return
        self.post_message(ExportFinished(result))

    def on_export_progress(self, message: ExportProgress) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)

    def on_export_finished(self, message: ExportFinished) -> None:
        self.running = False
        result = message.result
        self.app.notify(f"Exported {result.rows:,} rows to {result.path}", title="Export", markup=False)
        self.dismiss(result)

    def on_export_refused(self, message: ExportRefused) -> None:
        self.running = False
        self._sync()
        text = self.query_one("#export-message", Static)
        text.update(Text(message.message))
        text.set_class(not message.cancelled, "-error")
        if message.cancelled:
            self.app.notify(message.message, title="Export", markup=False)
        self.query_one("#export-path", Input).focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "export" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.running = False
            self._sync()
        if event.worker.group == "export-name" and event.state == WorkerState.ERROR:
            # the label keeps saying "This customer"; the export itself checks visibility
            event.prevent_default()  # Textual would also run WorkerFailures' handler (every class in the MRO)

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.query_one("#export-message", Static).update(Text("Cancelling…"))
            return
        self.dismiss(None)
