"""The Import screen, driven by keys against the real import core at 80x24."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input
from tui_helpers import list_names, login, settle

from adopt_tui.auth.permissions import SYSTEM
from adopt_tui.importers import api
from adopt_tui.importers.detect import FORMATS
from adopt_tui.metrics.read import customer_figures, customer_table
from adopt_tui.store import connect
from adopt_tui.tui.screens.import_data import FileList, ImportScreen, complete_path, expand_entry

FIX = Path(__file__).parents[1] / "fixtures" / "import"
ECHO = "eeeeeeee-0000-0000-0000-000000000005"
SIZE = (80, 24)


def dump(db) -> list[str]:
    conn = connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


async def open_import(pilot, user: str = "agent") -> ImportScreen:
    await login(pilot, user)
    app = pilot.app
    assert "import" in {e.key for e in app.admin_entries()}
    await pilot.press("a")  # the administration menu: Change my password, Import data
    await pilot.pause()
    await pilot.press("down", "enter")
    await settle(pilot)
    assert isinstance(app.screen, ImportScreen)
    return app.screen


async def add_path(pilot, screen: ImportScreen, text: str) -> None:
    field = screen.query_one("#import-path", Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


async def set_field(pilot, screen: ImportScreen, selector: str, text: str) -> None:
    screen.query_one(selector, Input).value = text
    await pilot.pause()


async def check(pilot, screen: ImportScreen) -> None:
    await pilot.press("f5")
    await settle(pilot)
    assert screen.state == "checked"


async def test_agent_checks_then_imports_an_insights_download(make, small_db):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        await add_path(pilot, screen, str(FIX / "insights_o365_usage.tsv"))
        assert screen.paths == [FIX / "insights_o365_usage.tsv"]
        assert not screen.check_action("run_import", ())  # nothing checked yet

        await check(pilot, screen)
        shown = screen.report.plain
        assert FORMATS["insights_o365_usage"][0] in shown
        plan = screen.plan
        assert plan.ok and plan.files[0].rows > 0
        assert f"{plan.files[0].rows} rows" in shown and "customer 2 customer(s) (1 new)" in shown
        assert "OK    " in shown and screen.check_action("run_import", ())

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.state == "done"
        shown = screen.report.plain
        assert shown.startswith("Imported:") and "DONE  " in shown and "monthly figure snapshot" in shown
        assert not screen.check_action("run_import", ())  # the plan is spent

        conn = connect(small_db)
        try:
            table = customer_table(conn, SYSTEM)
            golf = table[table.name == "Golf Garages"]
            assert len(golf) == 1
            assert customer_figures(conn, SYSTEM, int(golf.id.iloc[0])).as_of is not None
            audited = conn.execute("SELECT COUNT(*) FROM audit WHERE user = 'agent' AND action = 'import'").fetchone()
            assert audited[0] == 1
        finally:
            conn.close()

        await pilot.press("escape")  # back to the customer list, which read its figures again
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert "Golf Garages" in list_names(app)


async def test_tenant_report_with_a_new_customer(make, small_db):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        await add_path(pilot, screen, str(FIX / "active_user_detail.csv"))
        await check(pilot, screen)
        assert "this file holds one customer tenant's data: give a Customer" in screen.report.plain
        assert not screen.check_action("run_import", ())

        screen.query_one("#import-customer", Input).focus()
        await pilot.press(*ECHO, "tab", *"Echo Energy")  # typed: a changed field makes the check stale
        assert screen.state == "idle" and screen.plan is None
        await check(pilot, screen)
        shown = screen.report.plain
        assert f"customer new: Echo Energy ({ECHO})" in shown and "5 rows · as of 2026-10-31" in shown
        assert "concealed user name" in shown

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "5 rows: 5 users added, 0 updated" in screen.report.plain
        conn = connect(small_db)
        try:
            users = conn.execute("SELECT COUNT(*) FROM users u JOIN customers c ON c.id = u.customer_id "
                                 "WHERE c.tenant_id = ?", (ECHO,)).fetchone()[0]
            assert users == 5
        finally:
            conn.close()

        await check(pilot, screen)  # the same file again: already imported, nothing to do
        assert "SKIP  " in screen.report.plain and not screen.check_action("run_import", ())


async def test_broken_file_shows_file_and_line_and_changes_nothing(make, small_db, tmp_path):
    header, row = (FIX / "teams_activity_old.csv").read_text(encoding="utf-8").splitlines()[:2]
    bad = tmp_path / "[bold]teams.csv"  # a name that would be markup
    bad.write_text("\n".join([header, row, row.rsplit(",", 1)[0]]) + "\n", encoding="utf-8")
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        before = dump(small_db)
        await add_path(pilot, screen, str(bad))
        await set_field(pilot, screen, "#import-customer", "Alpha Tools")
        await check(pilot, screen)
        shown = screen.report.plain
        assert "ERROR " in shown and "[bold]teams.csv" in shown
        assert "line 3: 11 fields, the header has 12" in shown
        assert str(screen.query_one(FileList).get_option_at_index(0).prompt).endswith("[bold]teams.csv")
        assert not screen.check_action("run_import", ())
        await pilot.press("ctrl+s")  # refused: the plan has errors
        await settle(pilot)
        assert screen.state == "checked"
        assert dump(small_db) == before


async def test_cancel_leaves_the_database_unchanged(make, small_db, monkeypatch):
    real = api.run_import
    app = make()

    def cancel_midway(conn, principal, plan, progress=None, cancelled=None):
        def on_progress(done, total):
            if not cancelled():
                app.call_from_thread(app.screen.action_back)  # Escape while running: cancel
            progress(done, total)
        return real(conn, principal, plan, progress=on_progress, cancelled=cancelled)

    monkeypatch.setattr(api, "run_import", cancel_midway)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        before = dump(small_db)
        await add_path(pilot, screen, str(FIX / "pc_customers.json"))
        await add_path(pilot, screen, str(FIX / "insights_o365_usage.tsv"))
        await check(pilot, screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)  # Escape cancelled; it did not leave
        assert screen.state == "checked"
        assert "Cancelled: nothing was imported" in str(screen.query_one("#import-message").render())
        assert dump(small_db) == before


async def test_sales_agent_cannot_reach_the_import_screen(make, small_db):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "maria")
        assert "import" not in {e.key for e in app.admin_entries()}
        app.open_admin("import")
        await settle(pilot)
        assert not isinstance(app.screen, ImportScreen)
        app.push_screen(ImportScreen())  # even pushed directly, it closes itself
        await settle(pilot)
        assert not isinstance(app.screen, ImportScreen)


async def test_tab_completes_paths_and_lists_choices(make, small_db):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        field = screen.query_one("#import-path", Input)
        field.focus()
        field.value = str(FIX / "act")
        await pilot.press("tab")
        assert field.value == str(FIX / "active_user_detail.csv")
        field.value = str(FIX / "teams_")
        await pilot.press("tab")
        assert field.value == str(FIX / "teams_activity_")  # the shared part
        await pilot.press("tab")  # ambiguous: the choices are listed
        await pilot.pause()
        hint = str(screen.query_one("#import-hint").render())
        assert "2 matches" in hint and "teams_activity_current.csv" in hint
        await pilot.press("tab")  # again: on to the next field
        assert app.focused is not field


def test_complete_path_and_expand_entry(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "report.csv").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    assert complete_path(str(tmp_path / "repo")).text == str(tmp_path / "report")
    assert complete_path(str(tmp_path / "reports")).text == str(tmp_path / "reports") + "/"
    assert complete_path(str(tmp_path) + "/").candidates == ["report.csv", "reports/"]
    assert complete_path(str(tmp_path / "nope" / "x")).candidates == []
    assert expand_entry(str(tmp_path / "*.csv")) == ([tmp_path / "report.csv"], "")
    assert expand_entry(str(tmp_path / "reports")) == ([tmp_path / "reports"], "")
    assert expand_entry(str(tmp_path / "*.tsv"))[1].startswith("no file matches")
    assert expand_entry(str(tmp_path / "missing.csv"))[1].startswith("no such file")


async def test_fits_80x24(make, small_db):
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(pilot)
        for name in ("insights_o365_usage.tsv", "pc_customers.json", "email_activity.csv", "m365_apps.csv"):
            await add_path(pilot, screen, str(FIX / name))
        report = screen.query_one("#import-report")
        assert report.region.height >= 8
        for selector in ("#import-path", "#import-customer", "#import-as-of", "#import-run", "#import-back"):
            region = screen.query_one(selector).region
            assert region.height >= 1 and region.right <= SIZE[0] and region.bottom <= SIZE[1] - 1, selector
