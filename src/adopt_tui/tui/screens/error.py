"""Dialogs: the error dialog (every failure ends here, never a traceback) and a
small keyboard chooser used by several screens."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from adopt_tui.tui.widgets.footer import KeysFooter


class ErrorDialog(ModalScreen[None]):
    """A readable error; Enter or Escape closes it."""

    DEFAULT_CSS = """
    ErrorDialog {
        align: center middle;
    }
    ErrorDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $error;
        background: $surface;
        padding: 0 1;
    }
    ErrorDialog #error-title {
        text-style: bold;
        color: $error;
    }
    ErrorDialog VerticalScroll {
        height: auto;
        max-height: 16;
    }
    ErrorDialog Button {
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="error.close", tooltip="Close this message"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="error-title")
            with VerticalScroll():
                yield Static(Text(self.message), id="error-message")
            yield Button("OK", id="error-ok", variant="error")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#error-ok", Button).focus()

    @on(Button.Pressed, "#error-ok")
    def action_close(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of ``choices`` ([(id, label)]); dismisses with the id, or None on Escape."""

    DEFAULT_CSS = """
    ChoiceDialog {
        align: center middle;
    }
    ChoiceDialog > Vertical {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ChoiceDialog #choice-title {
        text-style: bold;
    }
    ChoiceDialog OptionList {
        height: auto;
        max-height: 20;
    }
    """

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", id="choice.cancel", tooltip="Close without choosing")]

    def __init__(self, title: str, choices: list[tuple[str, str | Text]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="choice-title")
            yield OptionList(*[
                Option(label if isinstance(label, Text) else Text(label), id=key) for key, label in self.choices
            ], id="choices")
        yield KeysFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        for index, (key, _label) in enumerate(self.choices):
            if key == self.current:
                options.highlighted = index
                break

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no. ``y`` confirms, ``n``/Escape cancels; the safe answer (no) has the focus."""

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
    }
    ConfirmDialog > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 0 1;
    }
    ConfirmDialog #confirm-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ConfirmDialog Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.yes, id="confirm-yes", variant="warning", compact=True)
                yield Button(self.no, id="confirm-no", variant="primary", compact=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # the safe answer first

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
