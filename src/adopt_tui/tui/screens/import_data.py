"""The Import screen: choose partner files, check them, then import them.

The work is :mod:`adopt_tui.importers.api` (the same code as ``adopt-tui
import``): :func:`~adopt_tui.importers.api.plan_import` detects and validates
every file without writing ("Check", F5), and
:func:`~adopt_tui.importers.api.run_import` writes a checked plan in one
transaction ("Import", Ctrl+S). Both run in thread workers with their own
connection (``app.db()``); a cancel, an error or a file changed since the
check rolls everything back, so the database is either fully imported or
exactly as it was.

Files are added one entry at a time in the path field (Tab completes directory
entries, a ``*`` pattern adds every matching file, a directory is our CSV
bundle) or picked in a directory tree (Ctrl+O). Any change to the files, the
customer or the as-of date makes the last check stale: Import needs a fresh
one. After an import the customer list (and any portfolio or customer screen
below) reads its figures again.

Paths and everything read from the files are shown as :class:`rich.text.Text`,
never as markup; errors are the core's messages, never tracebacks.
"""

from __future__ import annotations

import asyncio
import glob
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList, Suggester
from textual.widgets import Button, DirectoryTree, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from adopt_tui.auth.permissions import Perm
from adopt_tui.errors import AdoptError, InputError
from adopt_tui.tui.app import AdoptScreen
from adopt_tui.tui.screens import tcss
from adopt_tui.tui.widgets.footer import KeysFooter

GLOB_CHARS = "*?["
COMPLETION_LIMIT = 200   # candidate names kept for the hint line
PROGRESS_EVERY = 0.05    # seconds between progress messages from the worker


# --------------------------------------------------------------------------- paths (no Textual)


@dataclass
class Completion:
    """What Tab can do with the text of the path field."""

    text: str                     # the completed text (the input itself when nothing can be added)
    head: str = ""                # the text before the last path part
    candidates: list[str] = field(default_factory=list)  # matching entries (directories end in "/")
    total: int = 0                # matches, also beyond COMPLETION_LIMIT


def complete_path(text: str, limit: int = COMPLETION_LIMIT) -> Completion:
    """Complete the last part of ``text`` to the longest prefix shared by the
    entries of its directory, like a shell. Hidden entries only when the part
    starts with a dot; a unique directory gets its ``/``."""
    if text == "~":
        return Completion("~/", "~/")
    expanded = os.path.expanduser(text)
    directory, prefix = os.path.split(expanded)
    head = text[: len(text) - len(prefix)]
    out = Completion(text, head)
    common: str | None = None
    try:
        entries = os.scandir(directory or ".")
    except OSError:
        return out
    with entries:
        for entry in entries:
            name = entry.name
            if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            shown = name + "/" if is_dir else name
            out.total += 1
            if len(out.candidates) < limit:
                out.candidates.append(shown)
            common = shown if common is None else os.path.commonprefix([common, shown])
    out.candidates.sort()
    if common and len(common) > len(prefix):
        out.text = head + common
    return out


def expand_entry(text: str) -> tuple[list[Path], str]:
    """The paths one entry of the path field names, or a reason why none.

    An existing path is taken as it is (a directory: a CSV bundle); otherwise
    ``*``, ``?`` and ``[...]`` patterns add every matching *file*.
    """
    raw = text.strip()
    if not raw:
        return [], ""
    expanded = os.path.expanduser(raw)
    path = Path(expanded)
    if path.exists():
        return [path.absolute()], ""
    if any(ch in expanded for ch in GLOB_CHARS):
        matches = sorted(Path(m).absolute() for m in glob.glob(expanded) if os.path.isfile(m))
        if not matches:
            return [], f"no file matches {raw}"
        return matches, ""
    return [], f"no such file or directory: {raw}"


def display_path(path: Path | str) -> str:
    """Shorter to read: relative to the working directory when under it, else ``~/...``."""
    path = Path(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return prefix + str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


# --------------------------------------------------------------------------- reports (no Textual)

CLI_WORDS = (  # the core's messages name the command-line options; the screen names its fields
    ("--customer-name NAME", "a New name"),
    ("--customer TENANT_OR_NAME", "a Customer (tenant id or name)"),
    ("--customer TENANT_ID", "a Customer tenant id"),
    ("--customer-name", "New name"),
    ("--customer", "Customer"),
    ("--as-of", "As of"),
)


def screen_words(message: str) -> str:
    for cli, ours in CLI_WORDS:
        message = message.replace(cli, ours)
    return message


def _error_line(error: InputError, file_name: str | None) -> str:
    """``line 3, column 'Is Deleted': reason`` (the file is the heading above)."""
    parts = []
    if error.file and file_name and error.file != file_name and error.file.startswith(file_name + "/"):
        parts.append(error.file[len(file_name) + 1:])  # a bundle's member file
    elif error.file and error.file != file_name:
        parts.append(display_path(error.file))
    if error.line is not None:
        parts.append(f"line {error.line}")
    reason = error.reason
    if error.field:
        parts.append(f"column {error.field!r}" if error.line is not None else screen_words(error.field))
    if error.line is None:
        reason = screen_words(reason)  # options and whole-file problems: the core's words, not file content
    where = ", ".join(parts)
    return f"{where}: {reason}" if where else reason


def _warning(text: str) -> str:
    return screen_words(text) if text.startswith("--") else text


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class Report:
    """A heading and rows of (tag, body): the body wraps beside its tag, so
    each file's lines stay indented under it at any width. ``plain`` is the
    text as read (tests, logs)."""

    def __init__(self, heading: str = "") -> None:
        self.heading = Text(heading, style="bold")
        self.rows: list[tuple[Text, Text]] = []

    def row(self, tag: str, style: str = "") -> Text:
        body = Text()
        self.rows.append((Text(tag, style=style), body))
        return body

    @property
    def plain(self) -> str:
        lines = [self.heading.plain]
        for tag, body in self.rows:
            lines.append(f"{tag.plain:<6}{body.plain.rstrip()}")
        return "\n".join(lines)

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=5, no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for tag, body in self.rows:
            shown = body.copy()
            shown.rstrip()
            grid.add_row(tag, shown)
        return Group(self.heading, grid) if self.rows else self.heading


ERROR_STYLE, OK_STYLE, SKIP_STYLE, WARN_STYLE = "bold red", "bold green", "dim", "yellow"


def _file_lines(body: Text, errors: list[InputError], error_count: int, warnings: list[str],
                file_name: str | None) -> None:
    for error in errors:
        body.append("\nerror: ", style="red")
        body.append(_error_line(error, file_name))
    if error_count > len(errors):
        body.append(f"\n… {_plural(error_count - len(errors), 'more error')} in this file "
                    "(only the first ones are listed)", style="red")
    for warning in warnings:
        body.append("\nwarning: ", style=WARN_STYLE)
        body.append(_warning(warning))


def plan_report(plan) -> Report:
    """What the check found, file by file: format, customer, rows, errors, warnings."""
    fresh = [f for f in plan.files if f.ok and not f.already_imported]
    known = {id(e) for f in plan.files for e in f.errors}
    general = [e for e in plan.errors if id(e) not in known]
    if plan.ok:
        heading = (f"Ready: {_plural(len(fresh), 'file')}, {_plural(plan.total_rows, 'row')} to import; "
                   "nothing is written until Import (Ctrl+S).") if fresh else \
            "Nothing new: every file was imported already."
    else:
        count = max(sum(f.error_count for f in plan.files) + len(general), len(plan.errors) + plan.more)
        heading = f"{_plural(count, 'error')}: nothing can be imported until they are fixed."
    report = Report(heading)
    for error in general:
        report.row("ERROR", ERROR_STYLE).append(_error_line(error, None))
    for fp in plan.files:
        if not fp.ok:
            body = report.row("ERROR", ERROR_STYLE)
        elif fp.already_imported:
            body = report.row("SKIP", SKIP_STYLE)
        else:
            body = report.row("OK", OK_STYLE)
        body.append(display_path(fp.path), style="bold")
        facts = [fp.label or "format not recognised"]
        if fp.customer:
            facts.append(f"customer {fp.customer}")
        if fp.format:
            facts.append(_plural(fp.rows, "row"))
        if fp.as_of:
            facts.append(f"as of {fp.as_of}")
        body.append("\n" + " · ".join(facts))
        _file_lines(body, fp.errors, fp.error_count, fp.warnings, fp.name)
    return report


def summary_report(summary) -> Report:
    """What the import wrote: rows added and updated per file, notes and warnings."""
    report = Report(f"Imported: {summary.added:,} added, {summary.updated:,} updated; figures refreshed for "
                    f"{_plural(summary.customers, 'customer')}.")
    for fs in summary.files:
        body = report.row("SKIP" if fs.skipped else "DONE", SKIP_STYLE if fs.skipped else OK_STYLE)
        body.append(display_path(fs.name), style="bold")
        facts = [fs.label] + ([f"customer {fs.customer}"] if fs.customer else [])
        body.append("\n" + " · ".join(facts))
        if fs.skipped:
            body.append("\nalready imported: nothing changed")
        else:
            what = f" {fs.detail}" if fs.detail else ""
            body.append(f"\n{_plural(fs.rows, 'row')}: {fs.added:,}{what} added, {fs.updated:,} updated")
        for note in fs.notes:
            body.append(f"\n{note}")
        _file_lines(body, [], 0, fs.warnings, fs.name)
    return report


def errors_report(message: str, errors: list[InputError], more: int) -> Report:
    report = Report(message.splitlines()[0] if message else "The import stopped.")
    for error in errors:
        report.row("ERROR", ERROR_STYLE).append(_error_line(error, None))
    if more:
        report.row("", ERROR_STYLE).append(f"… {_plural(more, 'more error')}", style="red")
    return report


def text_report(message: str) -> Report:
    return Report(message)


# --------------------------------------------------------------------------- messages


class CustomerChoices(Message):
    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names


class Completed(Message):
    """Tab in the path field listed several entries."""

    def __init__(self, completion: Completion) -> None:
        super().__init__()
        self.completion = completion


class PlanChecked(Message):
    def __init__(self, plan, serial: int) -> None:
        super().__init__()
        self.plan = plan
        self.serial = serial


class PlanRefused(Message):
    def __init__(self, text: str, serial: int) -> None:
        super().__init__()
        self.text = text
        self.serial = serial


class ImportProgress(Message):
    """Rows written so far; a newer one replaces an older one still in the queue."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ImportProgress)


class ImportFinished(Message):
    def __init__(self, summary, latest_as_of: str | None) -> None:
        super().__init__()
        self.summary = summary
        self.latest_as_of = latest_as_of


class ImportStopped(Message):
    """Cancelled, refused or failed validation: nothing was written."""

    def __init__(self, text: str, *, cancelled: bool = False, errors: list | None = None, more: int = 0) -> None:
        super().__init__()
        self.text = text
        self.cancelled = cancelled
        self.errors = errors or []
        self.more = more


# --------------------------------------------------------------------------- widgets


class PathSuggester(Suggester):
    """Suggests the first directory entry that completes the path typed (→ accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        completion = await asyncio.to_thread(complete_path, value)
        if not completion.candidates:
            return None
        return completion.head + completion.candidates[0]


class PathInput(Input):
    """The path field: Tab completes like a shell, then moves on."""

    BINDINGS = [
        Binding("tab", "complete", "Complete", id="import.complete",
                tooltip="Complete the file or directory name (again: next field)"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(suggester=PathSuggester(), **kwargs)
        self._listed_for: str | None = None

    def action_complete(self) -> None:
        # One directory listing, on the UI thread on purpose: keys typed right
        # after Tab must land after the completion, never before it.
        value = self.value
        if not value.strip() or self._listed_for == value:
            self._listed_for = None
            self.screen.focus_next()
            return
        completion = complete_path(value)
        if completion.text != value:
            self.value = completion.text
            self.cursor_position = len(self.value)
            self._listed_for = None
        elif completion.total > 1:
            self._listed_for = value
        else:
            self._listed_for = None
            self.screen.focus_next()
            return
        self.post_message(Completed(completion))


class FileList(OptionList):
    """The chosen files; Delete removes the highlighted one."""

    BINDINGS = [
        Binding("delete,backspace", "remove", "Remove", id="import.remove", tooltip="Remove this file from the list"),
    ]

    class Removed(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Removed(self.highlighted))


class SafeDirectoryTree(DirectoryTree):
    """A directory tree whose names are never markup, marking the chosen paths."""

    def __init__(self, path: Path, chosen: list[Path], **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.chosen = chosen

    def process_label(self, label) -> Text:
        return super().process_label(Text(label) if isinstance(label, str) else label)

    def render_label(self, node, base_style, style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is not None and Path(node.data.path).absolute() in self.chosen:
            return Text.assemble(("+ ", "bold"), label)
        return label


class FilePicker(ModalScreen[list[Path] | None]):
    """Pick files (Enter adds or removes one) and bundle directories (b); Escape: done."""

    DEFAULT_CSS = """
    FilePicker {
        align: center middle;
    }
    FilePicker > Vertical {
        width: 78;
        max-width: 100%;
        height: 100%;
        max-height: 22;
        border: thick $primary;
        background: $surface;
    }
    FilePicker #picker-title {
        text-style: bold;
        color: $accent;
    }
    FilePicker DirectoryTree {
        height: 1fr;
    }
    FilePicker #picker-hint {
        color: $text-muted;
        height: auto;
    }
    """

    BINDINGS = [
        Binding("b", "add_directory", "Add directory", id="picker.bundle",
                tooltip="Add the highlighted directory as a CSV bundle"),
        Binding("u", "parent", "Parent", id="picker.parent", tooltip="Show the parent directory"),
        Binding("escape", "done", "Done", id="picker.done", tooltip="Back to the import with the files chosen"),
    ]

    def __init__(self, start: Path, chosen: list[Path]) -> None:
        super().__init__()
        self.start = start
        self.chosen = list(chosen)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="picker-title")
            yield SafeDirectoryTree(self.start, self.chosen, id="picker-tree")
            yield Static(Text("Enter adds or removes a file (+ marks it) or opens a directory; b adds a "
                              "directory as a CSV bundle; u goes up; Escape: done."), id="picker-hint")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._title()
        self.query_one(SafeDirectoryTree).focus()

    def _title(self) -> None:
        title = Text(f"Choose files · {len(self.chosen)} chosen · ", style="bold")
        title.append(str(self.query_one(SafeDirectoryTree).path))
        self.query_one("#picker-title", Static).update(title)

    def _toggle(self, path: Path) -> None:
        path = path.absolute()
        if path in self.chosen:
            self.chosen.remove(path)
        else:
            self.chosen.append(path)
        tree = self.query_one(SafeDirectoryTree)
        tree.chosen = self.chosen
        tree.refresh()
        self._title()

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self._toggle(Path(event.path))

    def action_add_directory(self) -> None:
        node = self.query_one(SafeDirectoryTree).cursor_node
        if node is not None and node.data is not None and Path(node.data.path).is_dir():
            self._toggle(Path(node.data.path))

    def action_parent(self) -> None:
        tree = self.query_one(SafeDirectoryTree)
        parent = Path(tree.path).absolute().parent
        if parent != Path(tree.path).absolute():
            tree.path = parent
            self._title()

    def action_done(self) -> None:
        self.dismiss(self.chosen)


# --------------------------------------------------------------------------- the screen


class ImportScreen(AdoptScreen):
    """Import partner files: add files, check (F5), import (Ctrl+S)."""

    CSS_PATH = tcss("import_data.tcss")
    AUTO_FOCUS = "#import-path"

    BINDINGS = [
        Binding("f5", "check", "Check", id="import.check",
                tooltip="Read and validate the files: format, customer, rows, errors (nothing is written)"),
        Binding("ctrl+s", "run_import", "Import", id="import.run",
                tooltip="Import the checked files in one transaction"),
        Binding("ctrl+o", "browse", "Browse", id="import.browse", tooltip="Pick files in a directory tree"),
        Binding("ctrl+n", "clear", "Clear", id="import.clear", show=False,
                tooltip="Start again: no files, no customer, no as-of date"),
        Binding("escape", "back", "Back", id="import.back",
                tooltip="Cancel a running import (nothing is written), or close the screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[Path] = []
        self.plan = None            # the last check, while it still matches the inputs
        self.state = "idle"         # idle | checking | checked | running | done
        self._serial = 0            # bumped by every change; a check answering an older one is dropped
        self._cancel = threading.Event()
        self.report = Report()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("Import data", classes="section-title", id="import-title")
        with Horizontal(classes="import-row"):
            yield Label("File", classes="import-label")
            yield PathInput(id="import-path", placeholder="path to a file or a bundle directory; Tab completes",
                            compact=True, select_on_focus=False)
        yield Static("", id="import-hint")
        yield Static(Text("No files yet: type a path and press Enter, or Ctrl+O to browse."),
                     id="import-empty")
        yield FileList(id="import-files", compact=True)
        with Horizontal(classes="import-row"):
            yield Label("Customer", classes="import-label")
            yield Input(id="import-customer", placeholder="tenant id or name", compact=True, select_on_focus=False)
            yield Label("New name", classes="import-label2")
            yield Input(id="import-new-name", placeholder="only for a new customer", compact=True,
                        select_on_focus=False)
        with Horizontal(classes="import-row"):
            yield Label("As of", classes="import-label")
            yield Input(id="import-as-of", placeholder="YYYY-MM-DD", compact=True, max_length=10,
                        select_on_focus=False)
            yield Static(Text("default: each file's report date"), classes="muted", id="import-as-of-note")
        with VerticalScroll(id="import-report"):
            yield Static("", id="import-report-text")
        yield ProgressBar(id="import-progress", show_eta=False)
        with Horizontal(id="import-bar"):
            yield Static("", id="import-message")
            yield Button("Check", id="import-check", compact=True)
            yield Button("Import", id="import-run", variant="primary", compact=True)
            yield Button("Back", id="import-back", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        principal = getattr(self.app, "principal", None)
        if principal is None or not principal.can(Perm.IMPORT):
            self.app.notify("You may not import data.", severity="warning")
            self.app.pop_screen()
            return
        self.query_one("#import-report").border_title = "Check"
        self._hint()
        self._sync()
        self._load_customers()

    # ------------------------------------------------------------------ state

    @property
    def busy(self) -> bool:
        return self.state in ("checking", "running")

    def _sync(self) -> None:
        """Enable what applies now; the footer follows check_action."""
        running = self.state == "running"
        for widget in self.query("#import-path, #import-files, #import-customer, #import-new-name, #import-as-of"):
            widget.disabled = running
        self.query_one("#import-check", Button).disabled = self.busy or not self.paths
        self.query_one("#import-run", Button).disabled = not self._can_import()
        for selector in ("#import-check", "#import-run"):
            self.query_one(selector).display = not running  # room for the message
        self.query_one("#import-back", Button).label = "Cancel import" if running else "Back"
        self.query_one("#import-progress").display = running
        files = self.query_one(FileList)
        files.display = bool(self.paths)
        self.query_one("#import-empty").display = not self.paths
        self.refresh_bindings()

    def _can_import(self) -> bool:
        return (self.state == "checked" and self.plan is not None and self.plan.ok
                and any(not f.already_imported for f in self.plan.files))

    def _message(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#import-message", Static)
        widget.update(Text(text))
        widget.set_class(error, "-error")

    def _show(self, title: str, report: Report) -> None:
        self.report = report
        box = self.query_one("#import-report")
        box.border_title = title
        self.query_one("#import-report-text", Static).update(report)
        box.scroll_home(animate=False)

    def _stale(self) -> None:
        """The inputs changed: the last check no longer applies."""
        self._serial += 1
        if self.state in ("checked", "checking", "done"):
            if self.state == "checking":
                self.query_one("#import-report").loading = False
            if self.state == "checked":
                self._message("Changed since the check: F5 checks again.")
            self.plan = None
            self.state = "idle"
            self._sync()

    def _hint(self, text: Text | str | None = None, *, error: bool = False) -> None:
        widget = self.query_one("#import-hint", Static)
        if text is None:
            text = "Enter adds · Tab completes · *.csv adds all · directory: CSV bundle"
            widget.set_class(True, "muted")
        else:
            widget.set_class(False, "muted")
        widget.set_class(error, "-error")
        widget.update(text if isinstance(text, Text) else Text(text))

    # ------------------------------------------------------------------ files

    def _refresh_files(self, highlight: int | None = None) -> None:
        files = self.query_one(FileList)
        files.clear_options()
        for path in self.paths:
            prompt = Text(display_path(path))
            if path.is_dir():
                prompt.append("  (CSV bundle)", style="italic")
            files.add_option(Option(prompt))
        if self.paths:
            files.highlighted = min(highlight or 0, len(self.paths) - 1)
        self._stale()
        self._sync()

    def add_paths(self, paths: list[Path]) -> int:
        added = 0
        for path in paths:
            if path not in self.paths:
                self.paths.append(path)
                added += 1
        if added:
            self._refresh_files(len(self.paths) - 1)
        return added

    @on(Input.Submitted, "#import-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            self.action_check()  # Enter on an empty field: check what is listed
            return
        paths, problem = expand_entry(text)  # on the UI thread, like Tab: keys typed next come after it
        if problem:
            self._hint(problem, error=True)
            return
        added = self.add_paths(paths)
        self.query_one("#import-path", Input).value = ""
        self._hint(f"{_plural(added, 'file')} added" + ("" if added == len(paths) else
                   f" ({len(paths) - added} listed already)") + ". Another, or Enter again to check (F5).")

    @on(Input.Changed, "#import-path")
    def _path_typed(self, event: Input.Changed) -> None:
        if event.value:
            self._hint()

    def on_completed(self, message: Completed) -> None:
        completion = message.completion
        if completion.total > 1:
            text = Text(f"{completion.total} matches: ", style="bold")
            text.append("  ".join(completion.candidates))
            self._hint(text)
        else:
            self._hint()

    @on(FileList.Removed)
    def _removed(self, message: FileList.Removed) -> None:
        if self.state == "running" or not 0 <= message.index < len(self.paths):
            return
        del self.paths[message.index]
        self._refresh_files(message.index)
        if not self.paths:
            self.query_one("#import-path", Input).focus()

    @on(Input.Changed, "#import-customer, #import-new-name, #import-as-of")
    def _option_changed(self) -> None:
        self._stale()

    def action_browse(self) -> None:
        if self.state == "running":
            return
        text = os.path.expanduser(self.query_one("#import-path", Input).value.strip())
        start = Path(text) if text else Path.cwd()
        if not start.is_dir():
            start = start.parent if start.parent.is_dir() else Path.cwd()

        def picked(chosen: list[Path] | None) -> None:
            if chosen is None:
                return
            if chosen != self.paths:
                self.paths = list(chosen)
                self._refresh_files(len(self.paths) - 1)

        self.app.push_screen(FilePicker(start.absolute(), self.paths), picked)

    def action_clear(self) -> None:
        if self.busy:
            return
        self.paths = []
        for selector in ("#import-path", "#import-customer", "#import-new-name", "#import-as-of"):
            self.query_one(selector, Input).value = ""
        self._refresh_files()
        self._show("Check", Report())
        self._message("")
        self.query_one("#import-path", Input).focus()

    # ------------------------------------------------------------------ customers (suggestions)

    @work(thread=True, exclusive=True, group="import-customers", exit_on_error=False)
    def _load_customers(self) -> None:
        from adopt_tui.metrics.read import visible_customers

        with self.app.db() as conn:
            customers = visible_customers(conn, self.app.principal)
        self.post_message(CustomerChoices(sorted({c.name for c in customers})))

    def on_customer_choices(self, message: CustomerChoices) -> None:
        self.query_one("#import-customer", Input).suggester = SuggestFromList(message.names, case_sensitive=False)

    # ------------------------------------------------------------------ check

    def _options(self) -> dict:
        def value(selector: str) -> str | None:
            return self.query_one(selector, Input).value.strip() or None

        return {"customer": value("#import-customer"), "customer_name": value("#import-new-name"),
                "as_of": value("#import-as-of")}

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "check":
            return None if self.busy or not self.paths else True
        if action == "run_import":
            return True if self._can_import() else None
        if action in ("browse", "clear"):
            return None if self.busy else True
        return True

    def action_check(self) -> None:
        if self.busy:
            return
        if not self.paths:
            self._message("Add a file first.", error=True)
            self.query_one("#import-path", Input).focus()
            return
        self._serial += 1
        self.state = "checking"
        self.plan = None
        self._message("Checking…")
        self.query_one("#import-report").loading = True
        self._sync()
        self._check(list(self.paths), self._options(), self._serial)

    @work(thread=True, exclusive=True, group="import-check", exit_on_error=False, name="the import check")
    def _check(self, paths: list[Path], options: dict, serial: int) -> None:
        from adopt_tui.importers.api import plan_import

        try:
            with self.app.db() as conn:
                plan = plan_import(conn, self.app.principal, [str(p) for p in paths], **options)
        except AdoptError as exc:
            self.post_message(PlanRefused(str(exc), serial))
            return
        self.post_message(PlanChecked(plan, serial))

    def on_plan_checked(self, message: PlanChecked) -> None:
        if message.serial != self._serial:
            return  # the inputs changed meanwhile
        self.query_one("#import-report").loading = False
        plan = message.plan
        self.plan = plan
        self.state = "checked"
        self._show("Check", plan_report(plan))
        if not plan.ok:
            self._message("Fix the errors listed, then check again (F5).", error=True)
            self.query_one("#import-report").focus()
        elif self._can_import():
            self._message(f"Checked: Ctrl+S imports {_plural(plan.total_rows, 'row')}.")
            self._sync()
            self.query_one("#import-run", Button).focus()
        else:
            self._message("Nothing new to import.")
        self._sync()

    def on_plan_refused(self, message: PlanRefused) -> None:
        if message.serial != self._serial:
            return
        self.query_one("#import-report").loading = False
        self.state = "idle"
        self._show("Check", text_report(message.text))
        self._message("The check was refused.", error=True)
        self._sync()

    # ------------------------------------------------------------------ import

    def action_run_import(self) -> None:
        if not self._can_import():
            return
        self.state = "running"
        self._cancel.clear()
        self.query_one("#import-progress", ProgressBar).update(total=None, progress=0)
        self._message("Importing… Escape cancels and writes nothing.")
        self._sync()
        self.query_one("#import-back", Button).focus()
        self._run(self.plan)

    @work(thread=True, exclusive=True, group="import-run", exit_on_error=False, name="the import")
    def _run(self, plan) -> None:
        from adopt_tui.importers.api import ImportCancelled, run_import
        from adopt_tui.importers.fields import ImportFailed
        from adopt_tui.metrics.read import latest_as_of

        last = [0.0, -1]  # time and value of the last message

        def progress(done: int, total: int) -> None:
            # The core counts rows, then one step for refreshing the figures
            # (done == total - 1) and the end: those two always get through.
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or (done >= total - 1 and done != last[1]):
                last[0], last[1] = now, done
                self.post_message(ImportProgress(done, total))

        try:
            with self.app.db() as conn:
                summary = run_import(conn, self.app.principal, plan, progress=progress, cancelled=self._cancel.is_set)
                latest = latest_as_of(conn)
        except ImportCancelled as exc:
            self.post_message(ImportStopped(str(exc), cancelled=True))
            return
        except ImportFailed as exc:
            self.post_message(ImportStopped(str(exc), errors=list(exc.errors), more=exc.more))
            return
        except AdoptError as exc:
            self.post_message(ImportStopped(str(exc)))
            return
        self.post_message(ImportFinished(summary, latest))

    def on_import_progress(self, message: ImportProgress) -> None:
        if self.state != "running" or self._cancel.is_set():
            return
        self.query_one("#import-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)
        if message.total > 1 and message.done == message.total - 1:
            self._message("Rows read; refreshing the figures… Escape still cancels.")

    def on_import_finished(self, message: ImportFinished) -> None:
        summary = message.summary
        self.state = "done"
        self.plan = None
        self._show("Imported", summary_report(summary))
        self._message("Imported. The customer list shows the new figures.")
        self.app.notify(f"Imported {_plural(len(summary.files), 'file')}: {summary.added:,} added, "
                        f"{summary.updated:,} updated.", title="Import", markup=False)
        if message.latest_as_of and hasattr(self.app, "latest_as_of"):
            self.app.latest_as_of = message.latest_as_of
        self.app.data_changed(source=self)
        self._sync()
        self.query_one("#import-report").focus()

    def on_import_stopped(self, message: ImportStopped) -> None:
        self.state = "checked" if message.cancelled else "idle"
        if message.cancelled:
            self._message("Cancelled: nothing was imported.")
            self.app.notify("Import cancelled: nothing was written.", title="Import", markup=False)
        else:
            self.plan = None
            self._show("Errors", errors_report(message.text, message.errors, message.more))
            self._message("Nothing imported: see the errors; F5 checks again.", error=True)
        self._sync()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED) and group in ("import-check", "import-run"):
            self.query_one("#import-report").loading = False
            if group == "import-check":
                self.state = "idle"
            elif self.state == "running":
                self.state = "idle"
                self.plan = None
                self._message("The import stopped: nothing was imported.", error=True)
            self._sync()
        if group == "import-customers" and event.state == WorkerState.ERROR:
            # suggestions only; the check names any problem with the customer
            event.prevent_default()  # Textual would also run WorkerFailures' handler (every class in the MRO)

    # ------------------------------------------------------------------ buttons and back

    @on(Button.Pressed, "#import-check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#import-run")
    def _run_pressed(self) -> None:
        self.action_run_import()

    @on(Button.Pressed, "#import-back")
    def _back_pressed(self) -> None:
        self.action_back()

    def action_back(self) -> None:
        if self.state == "running":
            self._cancel.set()
            self._message("Cancelling…")
            return
        self.app.pop_screen()
