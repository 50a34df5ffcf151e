"""The export dialog, driven by keys against the real export core."""

from __future__ import annotations

import csv
import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest
from textual.widgets import Input, RadioButton, RadioSet, Static

from adopt_tui import exporters
from adopt_tui.tui.app import make_app
from adopt_tui.tui.screens.export_dialog import ConfirmDialog, ExportDialog

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PASSWORDS = {
    "admin": "admin-demo-password", "useradmin": "useradmin-demo-password",
    "agent": "agent-demo-password", "maria": "maria-demo-password",
}
TENANT_A = "aaaaaaaa-0000-0000-0000-000000000001"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """The default destination is ~: point it at a temporary directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


async def settle(app, pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def sign_in(app, pilot, user: str = "admin") -> None:
    await pilot.press(*user, "enter", *PASSWORDS[user], "enter")
    await settle(app, pilot)
    assert app.principal is not None and app.principal.username == user


async def open_dialog(app, pilot, user: str = "admin", customer_id=None, filtered_ids=None) -> ExportDialog:
    await sign_in(app, pilot, user)
    app.open_export(customer_id, filtered_ids)
    await settle(app, pilot)
    assert isinstance(app.screen, ExportDialog)
    return app.screen


async def type_path(pilot, dialog: ExportDialog, path: str) -> None:
    field = dialog.query_one("#export-path", Input)
    field.focus()
    field.value = ""
    await pilot.press(*path)
    await pilot.pause()


def message(dialog: ExportDialog) -> str:
    return str(dialog.query_one("#export-message", Static).render())


async def test_default_path_follows_kind_and_format(small_db, home):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        field = dialog.query_one("#export-path", Input)
        assert field.value == "~/adopt-tui-deployment-2026-10-31.csv"
        dialog.query_one("#kind-usage", RadioButton).value = True
        await pilot.pause()
        assert field.value == "~/adopt-tui-usage-2026-10-31.csv"
        dialog.query_one("#format-xlsx", RadioButton).value = True
        await pilot.pause()
        assert field.value == "~/adopt-tui-usage-2026-10-31.xlsx"
        assert dialog.query_one("#export-bom").disabled  # a byte-order mark is for CSV only
        # no user detail and no "this customer" without a customer
        assert not dialog.query("#kind-users") and not dialog.query("#target-customer")
        assert not dialog.query("#target-filter")


async def test_keys_after_tab_in_one_go_land_in_the_next_fields(small_db):
    """Tab moves the focus as soon as it arrives: what is typed right behind it (tmux send-keys, a fast
    typist) goes to the field Tab moved to, not to the radio buttons left behind."""
    from tui_helpers import burst

    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        chain = dialog.focus_chain
        field = dialog.query_one("#export-path", Input)
        steps = chain.index(field) - chain.index(dialog.focused)
        assert steps > 1
        before = field.value
        burst(app, *["tab"] * steps, "-x", "shift+tab", "tab", "y")
        await pilot.pause()
        assert dialog.focused is field and field.value == before + "-xy"


async def test_choices_and_a_path_typed_in_one_go(small_db, tmp_path):
    """Arrows, Space, End and Ctrl+U are bindings, resolved when the key comes back up from the focused widget:
    keys in one burst still act on what their typist saw focused, in the order typed (Ctrl+U clears the field
    before the path is typed, not after)."""
    from tui_helpers import burst

    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        kind, fmt = dialog.query_one("#export-kind", RadioSet), dialog.query_one("#export-format", RadioSet)
        field = dialog.query_one("#export-path", Input)
        chain = dialog.focus_chain
        assert dialog.focused is kind
        target = tmp_path / "usage.xlsx"
        burst(app, "down", " ", *["tab"] * (chain.index(fmt) - chain.index(kind)), "right", " ")
        await pilot.pause()
        chain = dialog.focus_chain  # XLSX has no byte-order mark: one field fewer
        burst(app, *["tab"] * (chain.index(field) - chain.index(fmt)), "end", "ctrl+u", str(target), "enter")
        await settle(app, pilot)
        assert (kind.pressed_button.id, fmt.pressed_button.id) == ("kind-usage", "format-xlsx")
        header = next(openpyxl.load_workbook(target).worksheets[0].iter_rows(max_row=1, values_only=True))
        assert header[:4] == ("customerTenantId", "customerName", "workloadName", "workloadCode")


async def test_a_directory_that_does_not_exist_is_refused_as_you_type(small_db, tmp_path):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        target = tmp_path / "nowhere" / "out.csv"
        await type_path(pilot, dialog, str(target))
        assert "does not exist" in message(dialog)
        assert dialog.query_one("#export-message").has_class("-error")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is dialog and not dialog.running
        assert not target.parent.exists()


async def test_a_completed_export_writes_the_file_and_says_so(small_db, tmp_path):
    app = make_app(small_db, clock=lambda: NOW)
    results = []
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot)
        app.push_screen(ExportDialog(None, None, "all"), callback=results.append)
        await settle(app, pilot)
        dialog = app.screen
        target = tmp_path / "deployment.csv"
        await type_path(pilot, dialog, str(target))
        assert message(dialog) == ""
        await pilot.press("enter")  # Enter in the path field exports
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportDialog)
        with target.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert results and results[0].path == target and results[0].rows == len(rows) > 0
        assert {r["customerTenantId"] for r in rows} >= {TENANT_A}
        notes = [n.message for n in app._notifications]
        assert f"Exported {len(rows):,} rows to {target}" in notes


async def test_an_existing_file_is_replaced_only_after_confirmation(small_db, tmp_path):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        target = tmp_path / "usage.json"
        target.write_text("keep me")
        dialog.query_one("#kind-usage", RadioButton).value = True
        dialog.query_one("#format-json", RadioButton).value = True
        await type_path(pilot, dialog, str(target))
        assert "exists" in message(dialog)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is dialog
        assert target.read_text() == "keep me"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert not isinstance(app.screen, (ExportDialog, ConfirmDialog))
        document = json.loads(target.read_text())
        assert any(w["workload"] for c in document["customers"] for w in c["workloads"])


async def test_cancel_during_an_export_leaves_no_file(small_db, tmp_path, monkeypatch):
    started, proceed = threading.Event(), threading.Event()
    real = exporters.run_export

    def slow_export(*args, progress=None, **kwargs):
        def held(done, total):
            progress(done, total)
            started.set()
            proceed.wait(10)  # the person presses Cancel while rows are being written

        return real(*args, progress=held, **kwargs)

    monkeypatch.setattr(exporters, "run_export", slow_export)
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot)
        target = tmp_path / "out" / "usage.csv"
        target.parent.mkdir()
        dialog.query_one("#kind-usage", RadioButton).value = True
        await type_path(pilot, dialog, str(target))
        await pilot.press("ctrl+s")
        for _ in range(200):
            if started.is_set():
                break
            await pilot.pause(0.05)
        assert started.is_set() and dialog.running
        assert dialog.query_one("#export-progress").display
        await pilot.press("escape")
        proceed.set()
        await settle(app, pilot)
        assert app.screen is dialog and not dialog.running
        assert "cancelled" in message(dialog).lower()
        assert list(target.parent.iterdir()) == []  # neither the file nor a temporary one
        await pilot.press("escape")  # now Escape closes the dialog
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)


async def test_one_customer_offers_user_detail(small_db, tmp_path):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot, customer_id=1, filtered_ids=[1, 2])
        assert dialog.target == "customer"
        assert "Alpha Tools" in str(dialog.query_one("#export-title", Static).render())
        assert "Current filter (2)" in str(dialog.query_one("#target-filter", RadioButton).label)
        dialog.query_one("#kind-users", RadioButton).value = True
        await pilot.pause()
        assert dialog.query_one("#target-all", RadioButton).disabled
        target = tmp_path / "users.csv"
        await type_path(pilot, dialog, str(target))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert target.exists()
        with target.open(newline="", encoding="utf-8") as fh:
            assert len(list(csv.reader(fh))) > 1


async def test_a_sales_agent_exports_only_their_customers(small_db, tmp_path):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(app, pilot, "maria")
        assert "All my customers" in str(dialog.query_one("#target-all", RadioButton).label)
        target = tmp_path / "mine.csv"
        await type_path(pilot, dialog, str(target))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with target.open(newline="", encoding="utf-8") as fh:
            tenants = {r["customerTenantId"] for r in csv.DictReader(fh)}
        assert tenants and tenants <= {TENANT_A, "cccccccc-0000-0000-0000-000000000003"}


async def test_no_dialog_without_the_export_permission(small_db):
    app = make_app(small_db, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot, "useradmin")
        app.open_export(None, None)
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportDialog)
        # and the dialog refuses by itself when pushed anyway
        app.push_screen(ExportDialog(None, None, "all"))
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportDialog)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_export_dialog(snap_compare, small_db, size):
    async def run_before(pilot):
        await open_dialog(pilot.app, pilot, customer_id=1, filtered_ids=[1, 2])
        dialog = pilot.app.screen
        dialog.query_one("#export-path", Input).value = "/nonexistent-dir/out.csv"
        await pilot.pause()

    app = make_app(small_db, clock=lambda: NOW, theme="textual-dark")
    assert snap_compare(app, terminal_size=size, run_before=run_before)
