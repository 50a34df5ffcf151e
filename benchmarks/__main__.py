"""The benchmark suite: ``python -m benchmarks`` (from the repository root).

    python -m benchmarks [--customers 20000] [--seed 0] [--runs 5] [--heavy-runs 2]
                         [--only NAME,...] [--rebuild] [--no-write]

Builds a generated portfolio once (``adopt_tui.generate``, cached under
``benchmarks/.cache/``, rebuilt when the generator changes) with the demo
accounts, then prints a table of medians over several runs and writes it to
``benchmarks/RESULTS.md`` with the machine it ran on. Benchmarks (``--only``
takes these names):

  build      the generator itself (from the cache record; --rebuild to measure again)
  startup    process start -> login screen drawn (the real command in a pty)
  tui        login -> customer list; one filter keystroke -> narrowed list; open a
             customer's insights (largest, typical); portfolio insights; peak RSS
             (headless App.run_test with a Pilot, a fresh process per run)
  recompute  recompute every figure (as after an import), in a rolled-back transaction
  metrics    ``adopt-tui metrics --format json`` for the whole portfolio, against the
             pandas baseline (benchmarks/baseline_pandas.py on the raw tables as CSV)
  import     a 1,000,000-row Office 365 active user detail file (benchmarks/bench_import.py)
  export     every customer's usage rows to CSV and XLSX (benchmarks/bench_export.py)

adopt-tui's bytecode caches are written first, as an installed copy has them
(see ``common.compile_bytecode``). Wall-clock times are what a person waits; on a machine shared with other work
they suffer, so the load average is printed beside them (and CPU seconds where
the benchmark reports them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import common

ALL = ("build", "startup", "tui", "recompute", "metrics", "import", "export")
TARGETS = {
    "start_to_login_s": ("< 0.5 s", lambda v: v < 0.5),
    "login_to_list_s": ("< 0.5 s", lambda v: v < 0.5),
    "filter_keystroke_s": ("< 50 ms", lambda v: v < 0.05),
    "open_customer_largest_s": ("< 150 ms", lambda v: v < 0.15),
    "open_customer_typical_s": ("< 150 ms", lambda v: v < 0.15),
    "portfolio_s": ("< 300 ms", lambda v: v < 0.3),
    "peak_rss_mb": ("< 500 MB", lambda v: v < 500),
    "build_s": ("< 180 s", lambda v: v < 180),
    "metrics_ratio": (">= 5x faster", lambda v: v >= 5),
}


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, label: str, value: str, runs: str = "", target_key: str | None = None, number=None,
            note: str = "") -> None:
        target, verdict = "", ""
        if target_key in TARGETS and number is not None:
            target, ok = TARGETS[target_key][0], TARGETS[target_key][1](number)
            verdict = "ok" if ok else "MISSED"
        self.rows.append((label, value, runs, f"{target} {verdict}".strip(), note))
        print(f"  {label}: {value} {f'({runs})' if runs else ''} {target} {verdict} {note}".rstrip(), flush=True)

    def markdown(self) -> str:
        head = "| benchmark | median | runs | target | notes |\n|---|---:|---:|---|---|\n"
        return head + "".join(f"| {' | '.join(r)} |\n" for r in self.rows)


def _secs(v: float) -> str:
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _run_json(args: list[str], timeout: float = 900) -> dict:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                            cwd=common.REPO)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- benchmarks


def bench_build(db: Path, table: Table) -> None:
    record = common.build_record(db)
    if record is None:
        table.add("generate 20k portfolio (build + figures)", "n/a (no build record)")
        return
    stages = record.get("stages", {})
    detail = ", ".join(f"{k} {v:.0f}" for k, v in stages.items() if v >= 1)
    table.add("generate the portfolio (rows + figures)", f"{record['wall']:.0f} s", "1", "build_s", record["wall"],
              f"{record['users']:,} users; CPU {record['cpu']:.0f} s; stages (s): {detail}")


def bench_startup(db: Path, table: Table, runs: int) -> None:
    if not _tui_ready():
        table.add("start -> login screen drawn", "n/a (not built yet)")
        return
    results = [_run_json(["-m", "benchmarks.tui_session", "startup", str(db)]) for _ in range(runs)]
    v = common.median([r["start_to_login_s"] for r in results])
    cpu = [r["start_to_login_cpu_s"] for r in results if r.get("start_to_login_cpu_s") is not None]
    note = f"; CPU {common.median(cpu) * 1000:.0f} ms" if cpu else ""
    table.add("start -> login screen drawn", _secs(v), str(runs), "start_to_login_s", v,
              f"`adopt-tui --db` in a 160x48 pty{note}")


def bench_tui(db: Path, table: Table, runs: int) -> None:
    if not _tui_ready():
        for label in ("login -> customer list drawn", "filter keystroke -> narrowed list", "open customer insights",
                      "open portfolio insights", "peak RSS of a TUI session"):
            table.add(label, "n/a (not built yet)")
        return
    work = common.work_copy(db, "tui.db")  # logins write last_login and the audit log
    results = [_run_json(["-m", "benchmarks.tui_session", "session", str(work)]) for _ in range(runs)]

    def med(key: str) -> float:
        return common.median([r[key] for r in results])

    r0 = results[0]
    table.add("login -> customer list drawn", _secs(med("login_to_list_s")), str(runs), "login_to_list_s",
              med("login_to_list_s"), f"{r0['customers_listed']:,} customers; includes the password check")
    table.add("filter keystroke -> narrowed list drawn", _secs(med("filter_keystroke_s")), str(runs),
              "filter_keystroke_s", med("filter_keystroke_s"),
              f"rows {r0['filter_rows'][0]:,} -> {r0['filter_rows'][1]:,}")
    table.add("second filter keystroke -> narrowed list drawn", _secs(med("filter_second_keystroke_s")), str(runs),
              "filter_keystroke_s", med("filter_second_keystroke_s"), "on the narrowed list")
    table.add("open customer insights (largest customer)", _secs(med("open_customer_largest_s")), str(runs),
              "open_customer_largest_s", med("open_customer_largest_s"))
    table.add("open customer insights (typical customer)", _secs(med("open_customer_typical_s")), str(runs),
              "open_customer_typical_s", med("open_customer_typical_s"))
    table.add("open portfolio insights", _secs(med("portfolio_s")), str(runs), "portfolio_s", med("portfolio_s"))
    peak = max(r["peak_rss_mb"] for r in results)
    table.add("peak RSS of a TUI session", f"{peak:.0f} MB", f"max of {runs}", "peak_rss_mb", peak,
              "login, list, filter, two customers, portfolio")


def bench_recompute(db: Path, table: Table, runs: int) -> None:
    from adopt_tui.metrics.compute import recompute
    from adopt_tui.store import connect

    work = common.work_copy(db, "recompute.db")
    conn = connect(work)
    walls, cpus = [], []
    for _ in range(runs):
        conn.execute("BEGIN IMMEDIATE")
        start, cpu = time.perf_counter(), time.process_time()
        n = recompute(conn)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        conn.execute("ROLLBACK")
    conn.close()
    table.add("recompute all figures (after an import)", _secs(common.median(walls)), str(runs), None, None,
              f"{n:,} snapshots; CPU {common.median(cpus):.1f} s")


def bench_metrics(db: Path, table: Table, runs: int) -> None:
    exe = Path(sys.executable).parent / "adopt-tui"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from adopt_tui.cli import main; "
                                           "sys.exit(main())"]
    env = dict(os.environ, ADOPT_TUI_PASSWORD=common.admin_password())
    work = common.work_copy(db, "metrics.db")
    ours, ours_cpu = [], []
    for _ in range(runs):
        with tempfile.TemporaryFile() as out:
            start, cpu = time.perf_counter(), _children_cpu()
            subprocess.run(cmd + ["metrics", "--db", str(work), "--user", common.ADMIN, "--format", "json"],
                           stdout=out, stderr=subprocess.PIPE, env=env, check=True)
            ours.append(time.perf_counter() - start)
            ours_cpu.append(_children_cpu() - cpu)
            size = out.tell()
    raw = common.raw_csv(db)
    base, base_cpu = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            start, cpu = time.perf_counter(), _children_cpu()
            subprocess.run([sys.executable, str(common.HERE / "baseline_pandas.py"), str(raw), "--out", out.name],
                           stderr=subprocess.PIPE, check=True)
            base.append(time.perf_counter() - start)
            base_cpu.append(_children_cpu() - cpu)
    o, b = common.median(ours), common.median(base)
    table.add("`adopt-tui metrics --format json`, whole portfolio", _secs(o), str(runs), None, None,
              f"{size / 1e6:.0f} MB of JSON; process start and login included; CPU {common.median(ours_cpu):.2f} s")
    table.add("baseline: pandas script on the raw CSV", _secs(b), str(runs), None, None,
              f"benchmarks/baseline_pandas.py; same per-customer figures; CPU {common.median(base_cpu):.2f} s")
    ratio = b / o
    table.add("metrics JSON vs baseline", f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower", "",
              "metrics_ratio", ratio, "baseline time / our time")


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_import(table: Table, runs: int) -> None:
    script = common.HERE / "bench_import.py"
    if not script.exists():
        table.add("import 1,000,000-row active user detail", "n/a (bench_import.py not there yet)")
        return
    rates, totals = [], []
    for _ in range(runs):
        result = subprocess.run([sys.executable, str(script), "--rows", "1000000"], capture_output=True, text=True,
                                cwd=common.REPO, timeout=3600)
        if result.returncode != 0:
            table.add("import 1,000,000-row active user detail", "failed", note=result.stderr[-200:])
            return
        for line in result.stdout.splitlines():
            parts = line.split()
            if line.startswith("check + write"):
                rates.append(float(parts[-3].replace(",", "")))
            elif line.startswith("total"):
                totals.append(float(parts[1]))
    if not rates:
        table.add("import 1,000,000-row active user detail", "see bench_import.py output")
        return
    table.add("import 1,000,000-row active user detail (check + write)", f"{common.median(rates):,.0f} rows/s",
              str(runs), None, None, f"total with figures {common.median(totals):.1f} s; benchmarks/bench_import.py")


def bench_export(db: Path, table: Table, runs: int) -> None:
    try:
        from benchmarks import bench_export as be
    except ImportError:
        table.add("export all customers' usage rows", "n/a (bench_export.py not there yet)")
        return
    from adopt_tui.store import connect

    work = common.work_copy(db, "export.db")
    conn = connect(work)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "xlsx"):
            walls = []
            for _ in range(runs):
                rows, secs, cpu, size = be.bench(conn, Path(tmp), "usage", fmt, 1)
                walls.append(secs)
            v = common.median(walls)
            table.add(f"export all customers' usage rows to {fmt.upper()}", _secs(v), str(runs), None, None,
                      f"{rows:,} rows, {size / 1e6:.0f} MB; {rows / v:,.0f} rows/s")
    conn.close()


def _tui_ready() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("adopt_tui.tui.app") is not None and importlib.util.find_spec(
            "adopt_tui.tui.screens.customers") is not None
    except (ImportError, ValueError):
        return False


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5, help="runs of the quick benchmarks (median)")
    ap.add_argument("--heavy-runs", type=int, default=2, help="runs of recompute, import, export, metrics")
    ap.add_argument("--only", help=f"comma-separated: {', '.join(ALL)}")
    ap.add_argument("--rebuild", action="store_true", help="build the portfolio again (and time it)")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(ALL)
    unknown = only - set(ALL)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    info = common.machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}, {info['ram']}, Python {info['python']}; load {info['load']}")
    compiled = common.compile_bytecode()
    if compiled:
        print(f"compiled {compiled} adopt-tui modules' bytecode (as an installed copy has it)")
    db = common.cached_db(args.customers, args.seed, rebuild=args.rebuild)
    table = Table()
    started = time.perf_counter()
    steps = [
        ("build", lambda: bench_build(db, table)),
        ("startup", lambda: bench_startup(db, table, args.runs)),
        ("tui", lambda: bench_tui(db, table, args.runs)),
        ("metrics", lambda: bench_metrics(db, table, args.heavy_runs)),
        ("recompute", lambda: bench_recompute(db, table, args.heavy_runs)),
        ("export", lambda: bench_export(db, table, args.heavy_runs)),
        ("import", lambda: bench_import(table, max(1, args.heavy_runs - 1))),
    ]
    loads = []
    for name, step in steps:
        if name in only:
            print(f"{name} ...", flush=True)
            loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
            step()
    import shutil

    shutil.rmtree(common.CACHE / "work", ignore_errors=True)  # the per-benchmark copies (700 MB each at 20k)
    print()
    print(table.markdown())
    if not args.no_write:
        _write_results(table, info, args, loads, time.perf_counter() - started)
    return 0


def _write_results(table: Table, info: dict, args, loads: list[float], seconds: float) -> None:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = f"{min(loads):.1f} .. {max(loads):.1f}" if loads else "n/a"
    text = f"""# Benchmark results

Latest run of `python -m benchmarks --customers {args.customers} --runs {args.runs} --heavy-runs {args.heavy_runs}`
({when}, {seconds / 60:.0f} min). Medians of the runs; wall-clock seconds.

Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, Python {info['python']}, SQLite {info['sqlite']},
{info['platform']}. Load average at the start of the benchmarks: {load} (a shared machine: wall-clock
times include waiting for a CPU when the load is above the CPU count).

{table.markdown()}
Portfolio: `adopt_tui.generate`, {args.customers:,} customers, seed {args.seed}, built once and cached in
`benchmarks/.cache/`. See `python -m benchmarks --help` for what each row measures.
"""
    (common.HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    print(f"wrote {common.HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.exit(main())
