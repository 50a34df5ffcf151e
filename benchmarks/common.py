"""Shared pieces of the benchmark suite: the cached database, the raw CSV
export for the baseline, timing helpers and the machine description."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"

ADMIN = "admin"  # one of the demo accounts (adopt_tui.auth.accounts.DEMO_ACCOUNTS)
RAW_TABLES = {
    "products": "SELECT sku, name, family, workloads FROM products",
    "subscriptions": "SELECT id, customer_id, sku, quantity, status, is_trial, channel, commitment_end "
                     "FROM subscriptions",
    "users": "SELECT id, customer_id, upn, is_deleted, deleted_date FROM users",
    "assignments": "SELECT user_id, sku, subscription_id, assigned_date, state FROM assignments",
    "activity": "SELECT user_id, workload, report_date, last_activity FROM activity_rows",
    "customers": "SELECT id, tenant_id, name FROM customers",
}


def admin_password() -> str:
    from adopt_tui.auth.accounts import DEMO_ACCOUNTS

    return next(pw for name, _, _, pw in DEMO_ACCOUNTS if name == ADMIN)


def generator_version() -> str:
    """Changes when the generator changes, so that a stale cache is rebuilt."""
    source = (REPO / "src" / "adopt_tui" / "generate.py").read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def cached_db(customers: int, seed: int = 0, *, rebuild: bool = False, say=print) -> Path:
    """The generated database for (customers, seed), built once with the demo accounts."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"portfolio-{customers}-{seed}-{generator_version()}.db"
    if path.exists() and not rebuild:
        return path
    for old in CACHE.glob(f"portfolio-{customers}-{seed}-*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    from adopt_tui.auth.accounts import create_demo_accounts
    from adopt_tui.generate import generate
    from adopt_tui.store import connect

    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        if p.exists():
            p.unlink()
    say(f"building {customers:,} customers (seed {seed}) into {path.name} ...")
    start, cpu = time.perf_counter(), time.process_time()
    conn = connect(tmp)
    stats = generate(conn, customers, seed, progress=lambda text: say(f"  {text}"))
    create_demo_accounts(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    build = {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu, "users": stats.users,
             "stages": stats.seconds}
    (CACHE / f"{path.stem}.build.txt").write_text(repr(build) + "\n")
    say(f"built in {build['wall']:.1f} s wall, {build['cpu']:.1f} s CPU")
    return path


def build_record(db: Path) -> dict | None:
    record = CACHE / f"{db.stem}.build.txt"
    if not record.exists():
        return None
    import ast

    return ast.literal_eval(record.read_text())


def work_copy(db: Path, name: str) -> Path:
    """A copy of the cached database that a benchmark may change."""
    target = CACHE / "work" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        p = Path(f"{target}{suffix}")
        if p.exists():
            p.unlink()
    shutil.copyfile(db, target)
    return target


def raw_csv(db: Path, *, say=print) -> Path:
    """The raw tables of ``db`` as CSV files (what a user would have without adopt-tui), once."""
    out = CACHE / f"{db.stem}-raw"
    done = out / ".complete"
    if done.exists():
        return out
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    for table, sql in RAW_TABLES.items():
        frame = pd.read_sql_query(sql, conn)
        frame.to_csv(out / f"{table}.csv", index=False)
        say(f"  raw {table}.csv: {len(frame):,} rows")
    conn.close()
    done.write_text("ok\n")
    return out


def compile_bytecode() -> int:
    """Write adopt-tui's bytecode caches (``__pycache__``), as ``pip install`` does and as
    the first start of an editable install does. Without them every process compiles the
    modules it imports: 40-50 ms more from start to the login screen (measured), which no
    installed copy pays. A shell with PYTHONDONTWRITEBYTECODE set never writes them, and a
    cache older than its source is not used. Returns the number of modules compiled."""
    import compileall
    import importlib.util

    package = Path(importlib.util.find_spec("adopt_tui").origin).parent
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*.pyc")}
    if not compileall.compile_dir(package, quiet=1):
        raise RuntimeError(f"{package}: some modules do not compile")
    return sum(1 for p in package.rglob("*.pyc") if before.get(p) != p.stat().st_mtime_ns)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a",
    }


def python() -> str:
    return sys.executable
