"""TUI timings, run in a fresh process each time (so that every session pays
its own imports and caches, like a person starting adopt-tui).

    python -m benchmarks.tui_session session DB   # headless App.run_test + Pilot; prints JSON
    python -m benchmarks.tui_session startup DB   # the real command in a pty; prints JSON

``session`` measures, with the app driven headless at 160x48:
login submitted -> customer list drawn; one filter keystroke -> narrowed list
drawn; opening customers' insights (the largest and a typical one) -> figures
drawn; opening the portfolio insights -> drawn; and the process's peak
resident memory (VmHWM) at the end.

Timed keys are posted to the app as the terminal driver posts them
(``pilot.press`` would add two waits for an idle process, 40 ms or more, to
every key). "Drawn" is: the screen shows the result (the condition holds), its pending
messages are handled and the frame is composed (``pilot.pause(0)``: what
Textual's refresh timer would do within 1/60 s). ``--settle idle`` waits
instead until the process is idle (``pilot.pause()``, the first version of this
benchmark): that adds 20 ms polling steps and any background work still
running, e.g. the portfolio's trend, which loads after the screen is drawn.

``--data-ms customer_table=50,portfolio=100,portfolio_trend=100`` is a
projection, not a measurement of the data layer: those ``metrics.read`` calls
are made once before the session (same arguments as the screens pass) and
then answered from memory after the given delay (a sleep in the worker
thread). It shows what the screens cost once the data side is that fast.

``--typing-s 2`` waits that long on the filled-in login screen before Enter,
as a person typing a name and password would (the app uses that time to
import what comes after login); the default, 0, presses Enter as soon as the
login screen is idle.

``startup`` runs ``adopt-tui --db DB`` in a pseudo-terminal and measures from
process start until the login screen's text has been written to the terminal,
and the CPU time the process used by then (steadier than the wall clock when the
machine's speed varies).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

SIZE = (160, 48)


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SETTLE = "frame"  # or "idle" (see the module docstring)
TYPING_S = 0.0  # --typing-s


# The list before the tui-speed work had no shown_count/view_serial; these keep the
# benchmark able to measure that version too (for before/after numbers).
def _shown(screen) -> int:
    return screen.shown_count if hasattr(screen, "shown_count") else len(screen.view)


def _serial(screen) -> object:
    return screen.view_serial if hasattr(screen, "view_serial") else id(screen.view)


def _loaded(screen) -> bool:
    return getattr(screen, "rows", None) is not None or getattr(screen, "view", None) is not None


def serve_data_from_memory(db: str, user: str, password: str, delays_ms: dict[str, float]) -> None:
    """See --data-ms in the module docstring."""
    import dataclasses

    import adopt_tui.metrics.read as read
    from adopt_tui.auth.accounts import login
    from adopt_tui.store import connect

    calls = {
        "customer_table": lambda fn, conn, p: fn(conn, p, "all", None),
        "portfolio": lambda fn, conn, p: fn(conn, p, "all", None, with_trend=False),
        "portfolio_trend": lambda fn, conn, p: fn(conn, p, "all", None),
    }
    conn = connect(db)
    principal = login(conn, user, password)
    for name, ms in delays_ms.items():
        real = getattr(read, name)
        answer = calls[name](real, conn, principal)

        def served(conn, principal, scope="all", as_of=None, *args, _real=real, _answer=answer, _ms=ms,
                   **kwargs):
            if scope != "all" or as_of is not None or args or kwargs.get("table") is not None:
                return _real(conn, principal, scope, as_of, *args, **kwargs)
            time.sleep(_ms / 1000)
            if dataclasses.is_dataclass(_answer):
                return dataclasses.replace(_answer)
            if hasattr(_answer, "copy"):
                return _answer.copy(deep=False) if hasattr(_answer, "columns") else _answer.copy()
            return _answer

        setattr(read, name, served)
    conn.close()


def _key(app, key: str, character: str | None) -> None:
    """Press a key the way the terminal driver delivers it, without pilot.press's idle waits."""
    from textual import events

    event = events.Key(key, character)
    event.set_sender(app)
    app.post_message(event)


async def _until(pilot, condition, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the screen did not get there in time")
        await asyncio.sleep(0.002)
    if SETTLE == "idle":
        await pilot.pause()  # until the process is idle
    else:
        await pilot.pause(0)  # pending messages handled, then the frame that draws it


async def session(db: str, user: str, password: str) -> dict:
    from adopt_tui.tui.app import make_app
    from adopt_tui.tui.screens.customer import CustomerScreen
    from adopt_tui.tui.screens.customers import CustomerListScreen
    from adopt_tui.tui.screens.login import LoginScreen
    from textual.widgets import Input, TabbedContent

    out: dict = {"settle": SETTLE}
    app = make_app(db, idle_minutes=0)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen.query("#password"))
        app.screen.query_one("#username", Input).value = user
        app.screen.query_one("#password", Input).value = password
        app.screen.query_one("#password", Input).focus()
        await pilot.pause()
        if TYPING_S:
            await pilot.pause(TYPING_S)
            out["typing_s"] = TYPING_S

        def list_drawn() -> bool:
            s = app.screen
            if not isinstance(s, CustomerListScreen) or not _loaded(s):
                return False
            table = s._table()
            return (table is not None and table.row_count == _shown(s)
                    and not s.query_one("#table-holder").loading)

        start = time.perf_counter()
        _key(app, "enter", "\r")
        await _until(pilot, list_drawn)
        out["login_to_list_s"] = time.perf_counter() - start
        screen = app.screen
        out["customers_listed"] = _shown(screen)

        # the filter: one keystroke on the full list (a letter that narrows it well), then one more
        search = screen.frame.search
        counts = {ch: int(search.str.contains(ch, regex=False).sum()) for ch in "qxzjvkwy"}
        first = min((c for c in counts if counts[c]), key=lambda c: counts[c])
        await pilot.press("slash")
        await pilot.pause(0.3)
        before, shown = _serial(screen), _shown(screen)
        start = time.perf_counter()
        _key(app, first, first)
        await _until(pilot, lambda: _serial(screen) != before and list_drawn())
        out["filter_keystroke_s"] = time.perf_counter() - start
        out["filter_rows"] = [shown, _shown(screen)]
        await pilot.pause(0.3)
        second = screen.view.search.str.slice(0, 1).mode().iloc[0] if _shown(screen) else "a"
        before = _serial(screen)
        second = second if second.isalnum() else "a"
        start = time.perf_counter()
        _key(app, second, second)
        await _until(pilot, lambda: _serial(screen) != before and list_drawn())
        out["filter_second_keystroke_s"] = time.perf_counter() - start
        await pilot.press("escape")
        await pilot.pause()

        # customer insights: the largest customer and one of typical size
        sizes = screen.frame.sort_values(["sold", "id"])
        picks = {"largest": int(sizes.id.iloc[-1]), "typical": int(sizes.id.iloc[len(sizes) // 2])}
        for label, cid in picks.items():
            start = time.perf_counter()
            app.open_customer(cid)
            await _until(pilot, lambda: isinstance(app.screen, CustomerScreen) and app.screen.customer_id == cid
                         and app.screen.figures is not None and not app.screen.query_one("#insights").loading)
            out[f"open_customer_{label}_s"] = time.perf_counter() - start
            app.pop_screen()
            await pilot.pause()

        start = time.perf_counter()
        app.open_portfolio()

        def portfolio_drawn() -> bool:
            s = app.screen
            return (getattr(s, "portfolio", None) is not None and s.query(TabbedContent)
                    and not s.query_one(TabbedContent).loading)

        await _until(pilot, portfolio_drawn)
        out["portfolio_s"] = time.perf_counter() - start
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def startup(db: str, timeout: float = 30.0) -> dict:
    """Process start -> the login screen's text on the terminal, through a pty."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import subprocess
    import termios

    exe = Path(sys.executable).parent / "adopt-tui"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from adopt_tui.cli import main; "
                                           "sys.exit(main())"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADOPT_TUI_PASSWORD")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd + ["--db", db], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = b""
    drawn = cpu = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                if b"User name" in seen and b"Password" in seen:
                    drawn = time.perf_counter() - start
                    cpu = _cpu_s(proc.pid)
                    break
            elif proc.poll() is not None:
                break
    finally:
        try:
            os.write(master, b"\x11")  # ctrl+q
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    if drawn is None:
        raise RuntimeError(f"no login screen within {timeout} s; output began {seen[:300]!r}")
    return {"start_to_login_s": drawn, "start_to_login_cpu_s": cpu}


def _cpu_s(pid: int) -> float | None:
    """The CPU seconds (user + system) process ``pid`` has used, from /proc (None elsewhere):
    the wall-clock time on a shared machine also counts waiting for a CPU."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str]) -> int:
    global SETTLE, TYPING_S
    if "--typing-s" in argv:
        at = argv.index("--typing-s")
        TYPING_S = float(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    if "--settle" in argv:
        at = argv.index("--settle")
        SETTLE = argv[at + 1]
        argv = argv[:at] + argv[at + 2:]
    data_ms: dict[str, float] = {}
    if "--data-ms" in argv:
        at = argv.index("--data-ms")
        data_ms = {k: float(v) for k, v in (item.split("=") for item in argv[at + 1].split(","))}
        argv = argv[:at] + argv[at + 2:]
    mode, db = argv[0], argv[1]
    if mode == "session":
        from benchmarks.common import ADMIN, admin_password

        if data_ms:
            serve_data_from_memory(db, ADMIN, admin_password(), data_ms)
        result = asyncio.run(session(db, ADMIN, admin_password()))
        if data_ms:
            result["data_ms_projection"] = data_ms
    else:
        result = startup(db)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
