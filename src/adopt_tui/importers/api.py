"""Importing partner files: plan (detect and validate, no writes), then run
(one transaction). The command line and the TUI Import screen both use this.

>>> plan = plan_import(conn, principal, ["report.csv"], customer="Contoso")
>>> for f in plan.files: print(f.name, f.label, f.customer, f.rows, f.errors, f.warnings)
>>> summary = run_import(conn, principal, plan, progress=cb, cancelled=flag)

* :func:`plan_import` detects each file's format (header line or JSON keys),
  resolves the customer, and validates every row without writing anything.
  Errors (file, line, column, reason; capped, see :mod:`.fields`) are
  collected in the plan, never raised; a plan with errors cannot run.
* :func:`run_import` re-reads the files (they are streamed, never held whole
  in memory; for a Graph user report, the typed batches the check kept in a
  private temporary file, once the file is confirmed unchanged: same inode,
  size and times as the check found it, else the same sha256) and
  writes them in one transaction, then refreshes the figures of the customers
  it touched (:func:`adopt_tui.metrics.compute.recompute`), registers each
  file (sha256) and audits the run. Any failure, or ``cancelled()`` returning
  true, rolls everything back. A run of user-level reports only writes with
  foreign-key enforcement off (see the comment in :func:`run_import`).
* A file already imported (same content, format, customer and as-of date) is
  skipped, so importing it again changes nothing.
* Tenant-level files (Graph reports and license JSON, Partner Center
  subscriptions) belong to the one customer named by ``customer`` (tenant id
  or exact name), created when ``customer_name`` is given; Partner Center
  customer lists and Insights downloads name their own customers.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from adopt_tui.auth import audit
from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.errors import AdoptError, InputError
from adopt_tui.importers import bundle as bundle_mod
from adopt_tui.importers import graph_licenses, graph_reports, insights, partner_center
from adopt_tui.importers.detect import FORMATS, JSON_FORMATS, USER_LEVEL, Detected, NotRecognised, detect, load_json
from adopt_tui.importers.fields import Errors, ImportFailed, parse_date
from adopt_tui.importers.products import ProductMatcher, ensure_synthetic
from adopt_tui.importers.textio import CsvFile, FileErrors, sha256_of
from adopt_tui.store import transaction, writes

Progress = Callable[[int, int], None]
RUN_CACHE_KIB = 256 * 1024   # SQLite page cache during a large run (KiB)


class ImportCancelled(AdoptError):
    """The run was cancelled; nothing was written."""


@dataclass
class FilePlan:
    """One file as checked: what it is, for whom, how many rows, what is wrong."""

    path: Path
    name: str                       # as given
    format: str | None = None       # code, see detect.FORMATS
    label: str = ""                 # human name of the format
    customer: str = ""              # shown: "Name (tenant)", "new: ...", "3 customers (1 new)"
    customer_id: int | None = None  # tenant-level files: the customer (None: to be created)
    rows: int = 0
    as_of: str | None = None        # report date, or "first .. last" month ends
    sha256: str = ""
    already_imported: bool = False
    error_count: int = 0
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # details for the run
    _detected: Detected | None = field(default=None, repr=False)
    _unknown_skus: set[str] = field(default_factory=set, repr=False)
    _unknown_names: dict[str, str] = field(default_factory=dict, repr=False)
    _synthetic: set[str] = field(default_factory=set, repr=False)
    _empty_dates: set[str] = field(default_factory=set, repr=False)
    _fast: bool = field(default=False, repr=False)   # the check read it with the fast reader
    _staged: object = field(default=None, repr=False)  # ... and kept its batches for the run (textio.Staged)
    _stat: tuple = field(default=(), repr=False)       # the file as the check found it (see _fingerprint)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def level(self) -> str:
        return FORMATS.get(self.format or "", ("", ""))[1]


@dataclass
class ImportPlan:
    files: list[FilePlan]
    customer: str | None = None
    customer_name: str | None = None
    as_of: str | None = None
    customer_id: int | None = None
    new_customer: tuple[str, str] | None = None      # (tenant id, name) to create
    errors: list[InputError] = field(default_factory=list)   # capped, every file's
    more: int = 0                                    # errors beyond the cap
    general_errors: int = 0                          # errors not tied to a file (options)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more and all(f.ok for f in self.files)

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files if not f.already_imported)

    def raise_if_errors(self) -> None:
        if not self.ok:
            raise ImportFailed(self.errors or [InputError("the files have errors")], self.more)


@dataclass
class FileSummary:
    name: str
    format: str
    label: str
    customer: str
    rows: int
    added: int = 0
    updated: int = 0
    skipped: bool = False           # already imported: nothing changed
    detail: str = ""                # what the counts are ("users", "subscriptions" ...)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what else was written


@dataclass
class ImportSummary:
    files: list[FileSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    customers: int = 0              # customers whose figures were refreshed
    snapshots: int = 0              # (customer, as-of) figure snapshots written

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)


# --------------------------------------------------------------------------- planning


def plan_import(
    conn: sqlite3.Connection,
    principal: Principal,
    paths: Iterable[str | Path],
    customer: str | None = None,
    customer_name: str | None = None,
    as_of: str | None = None,
) -> ImportPlan:
    """Detect and validate ``paths`` without writing anything (Perm.IMPORT)."""
    principal.require(Perm.IMPORT, conn, action="import data")
    sink = Errors()
    plan = ImportPlan([], customer=customer, customer_name=customer_name)
    if as_of:
        try:
            plan.as_of = parse_date(as_of, required=True)
        except ValueError as exc:
            sink.add(str(exc), field="--as-of")
            plan.general_errors += 1
    _resolve_customer(conn, plan, sink)
    matcher = ProductMatcher(conn)
    for raw in paths:
        path = Path(raw)
        fp = FilePlan(path, str(raw))
        plan.files.append(fp)
        errors = FileErrors(sink, fp.name)
        try:
            _plan_file(conn, plan, fp, errors, matcher)
        except AdoptError as exc:
            errors.add(str(exc))
        except (OSError, ValueError, RecursionError, MemoryError) as exc:  # pragma: no cover - last resort
            errors.add(f"cannot read the file: {exc}")
        fp.error_count = errors.count
    for fp in plan.files:
        fp.errors = [e for e in sink.items if e.file == fp.name or (e.file or "").startswith(fp.name + "/")]
    plan.errors, plan.more = sink.items, sink.more
    return plan


def _resolve_customer(conn: sqlite3.Connection, plan: ImportPlan, sink: Errors) -> None:
    text = (plan.customer or "").strip()
    name = (plan.customer_name or "").strip()
    if not text:
        if name:
            sink.add("--customer-name needs --customer TENANT_ID (the new customer's tenant id)", field="--customer")
            plan.general_errors += 1
        return
    rows = conn.execute(
        "SELECT id, tenant_id, name FROM customers WHERE tenant_id = ? COLLATE NOCASE OR name = ? COLLATE NOCASE",
        (text, text),
    ).fetchall()
    if len(rows) == 1:
        plan.customer_id = rows[0][0]   # an existing customer keeps its name (--customer-name only creates)
        return
    if len(rows) > 1:
        exact = [r for r in rows if r[1].lower() == text.lower()]
        if len(exact) == 1:
            plan.customer_id = exact[0][0]
            return
        sink.add(f"{text!r} names {len(rows)} customers; use the tenant id", field="--customer")
        plan.general_errors += 1
        return
    if name:
        plan.new_customer = (text, name)
        return
    sink.add(f"no customer {text!r} (by tenant id or exact name); give --customer-name NAME to create it",
             field="--customer")
    plan.general_errors += 1


def _customer_label(conn: sqlite3.Connection, plan: ImportPlan) -> str:
    if plan.customer_id is not None:
        tenant, name = conn.execute("SELECT tenant_id, name FROM customers WHERE id = ?", (plan.customer_id,)).fetchone()
        return f"{name} ({tenant})"
    if plan.new_customer:
        return f"new: {plan.new_customer[1]} ({plan.new_customer[0]})"
    return ""


def _plan_file(conn: sqlite3.Connection, plan: ImportPlan, fp: FilePlan, errors: FileErrors,
               matcher: ProductMatcher) -> None:
    path = fp.path
    if path.is_dir():
        _plan_bundle(conn, plan, fp, errors)
        return
    if not path.exists():
        errors.add("no such file")
        return
    if not path.is_file():
        errors.add("not a regular file")
        return
    fp._stat = _fingerprint(path)   # before the content is read: a change from here on shows
    fp.sha256 = sha256_of(path)
    try:
        detected = detect(path)
    except NotRecognised as exc:
        errors.add(str(exc), line=exc.line, field=exc.field)
        return
    fp.format, fp.label, fp._detected = detected.code, detected.label, detected
    level = FORMATS[detected.code][1]
    if level == "tenant":
        fp.customer = _customer_label(conn, plan)
        fp.customer_id = plan.customer_id
        if not plan.customer:
            errors.add("this file holds one customer tenant's data: give --customer TENANT_OR_NAME "
                       "(and --customer-name NAME to create a new customer)")
    elif plan.customer:
        fp.warnings.append("--customer is ignored for this file: it names its own customers")

    if detected.code in USER_LEVEL:
        _plan_report(plan, fp, errors, matcher)
    elif detected.code in JSON_FORMATS:
        _plan_json(conn, plan, fp, errors, matcher)
    else:
        _plan_insights(conn, plan, fp, errors, matcher)
    if fp.format != "bundle" and errors.count == 0:
        fp.already_imported = _already_imported(conn, fp)
        if fp.already_imported:
            fp.warnings.append("already imported (same content, customer and as-of date): it will be skipped")


def _fingerprint(path: Path) -> tuple:
    """Device, inode, size, modification and change times (ns) of ``path``; () if it cannot be read.
    Any write to the file, or a file put in its place, changes the change time or the inode (the
    change time cannot be set back), so an equal fingerprint means the content the check read."""
    try:
        st = path.stat()
    except OSError:
        return ()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _already_imported(conn: sqlite3.Connection, fp: FilePlan) -> bool:
    return conn.execute(
        "SELECT 1 FROM imports WHERE sha256 = ? AND kind = ? AND customer_id IS ? AND as_of IS ? LIMIT 1",
        (fp.sha256, fp.format, fp.customer_id, _as_of_key(fp)),
    ).fetchone() is not None


def _as_of_key(fp: FilePlan) -> str | None:
    return fp.as_of.split(" ")[-1] if fp.as_of else None


def _report_reader(fp: FilePlan, errors: FileErrors, matcher: ProductMatcher, as_of: str | None):
    spec = graph_reports.BY_CODE[fp.format]
    csvfile = CsvFile(fp.path, errors, ",")
    return graph_reports.ReportReader(spec, csvfile, errors, matcher, as_of), csvfile


def _plan_report(plan: ImportPlan, fp: FilePlan, errors: FileErrors, matcher: ProductMatcher) -> None:
    reader, csvfile = _report_reader(fp, errors, matcher, plan.as_of)
    reader.check()
    fp.rows = csvfile.rows
    if reader.report_dates:
        fp.as_of = max(reader.report_dates)
        if len(reader.report_dates) > 1 and not plan.as_of:
            fp.warnings.append(
                f"rows carry {len(reader.report_dates)} report refresh dates ({min(reader.report_dates)} .. "
                f"{fp.as_of}); each row's activity is kept under its own date")
    elif plan.as_of:
        fp.as_of = plan.as_of
    fp._unknown_skus = set(reader.unknown)
    fp._synthetic = set(reader.synthetic)
    fp._empty_dates = reader.report_dates - reader.dates_with_activity
    fp._fast = reader.fast
    fp._staged = reader.staged
    if reader.unknown:
        names = sorted(reader.unknown)
        fp.warnings.append(
            f"{len(names)} product name(s) not in the catalogue, kept as unknown products: "
            + ", ".join(names[:5]) + (" ..." if len(names) > 5 else ""))
    if reader.synthetic:
        fp.warnings.append(
            "licenses without a named product recorded as "
            + ", ".join(f"GRAPH:{w}" for w in sorted(reader.synthetic)))
    if reader.concealed:
        fp.warnings.append(f"{reader.concealed} concealed user name(s) (the tenant hides names in reports)")
    if fp.rows == 0 and errors.count == 0:
        fp.warnings.append("the report has no user rows")


def _plan_json(conn: sqlite3.Connection, plan: ImportPlan, fp: FilePlan, errors: FileErrors,
               matcher: ProductMatcher) -> None:
    data = fp._detected.data
    fp._detected.data = None  # re-read in the run: the plan stays small
    if fp.format == "pc_customers":
        rows = partner_center.parse_customers(data, errors)
        fp.rows = len(rows)
        known = {t.lower() for (t,) in conn.execute("SELECT tenant_id FROM customers")}
        new = sum(1 for r in rows if r.tenant_id.lower() not in known)
        fp.customer = f"{len(rows)} customer(s) ({new} new)"
        return
    parsed, unknown = _parse_subscriptions(fp.format, data, errors, matcher)
    fp.rows = parsed.count
    fp.as_of = plan.as_of
    missing = {s for s in parsed.skus if s not in matcher.names}
    fp._unknown_skus = missing
    fp._unknown_names = unknown
    if missing:
        fp.warnings.append(
            f"{len(missing)} SKU(s) not in the catalogue, kept under their part number or offer id: "
            + ", ".join(sorted(missing)[:5]) + (" ..." if len(missing) > 5 else ""))


def _parse_subscriptions(code: str, data, errors: FileErrors, matcher: ProductMatcher):
    if code == "graph_subscribed_skus":
        return graph_licenses.parse_subscribed_skus(data, errors, matcher.names), {}
    if code == "graph_company_subscriptions":
        return graph_licenses.parse_company_subscriptions(data, errors, matcher.names), {}
    parsed, offers = partner_center.parse_subscriptions(data, errors, matcher)
    return parsed, offers.unknown


def _insights_kind(code: str) -> str:
    return "o365" if code == "insights_o365_usage" else "dynamics"


def _plan_insights(conn: sqlite3.Connection, plan: ImportPlan, fp: FilePlan, errors: FileErrors,
                   matcher: ProductMatcher) -> None:
    csvfile = CsvFile(fp.path, errors, fp._detected.delimiter)
    data = insights.parse(_insights_kind(fp.format), csvfile, errors, matcher)
    fp.rows = csvfile.rows
    known = {t for (t,) in conn.execute("SELECT tenant_id FROM customers")}
    new = sum(1 for t in data.customers if t not in known)
    fp.customer = f"{len(data.customers)} customer(s) ({new} new)"
    if data.months:
        first, last = min(data.months), max(data.months)
        fp.as_of = last if first == last else f"{first} .. {last}"
    if data.skipped_workloads:
        fp.warnings.append("rows of workloads adopt-tui does not track were skipped: "
                           + ", ".join(sorted(data.skipped_workloads)))
    if data.unknown_skus:
        fp.warnings.append(f"{len(data.unknown_skus)} SKU(s) not in the catalogue, kept as they are: "
                           + ", ".join(sorted(data.unknown_skus)[:5]))
    if plan.as_of:
        fp.warnings.append("--as-of is ignored for Insights downloads: each month is its own as-of date")


def _bundle_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in sorted(bundle_mod.FILES):
        path = directory / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + sha256_of(path).encode() + b"\0")
    return digest.hexdigest()


def _plan_bundle(conn: sqlite3.Connection, plan: ImportPlan, fp: FilePlan, errors: FileErrors) -> None:
    fp.format, fp.label = "bundle", FORMATS["bundle"][0]
    sub = Errors()
    prepared = bundle_mod.prepare_bundle(conn, fp.path, sub)
    for e in sub.items:  # keep the bundle file's own name in each error
        errors.count += 1
        if errors.sink is not None:
            errors.sink.add(e.reason, file=f"{fp.name}/{e.file}", line=e.line, field=e.field)
    errors.count += sub.more
    fp.rows = sum(prepared.rows.values())
    fp.customer = "as named in the bundle"
    fp.sha256 = _bundle_hash(fp.path)
    if plan.customer:
        fp.warnings.append("--customer is ignored for a bundle: it names its own customers")
    if errors.count == 0:
        fp.already_imported = _already_imported(conn, fp)
        if fp.already_imported:
            fp.warnings.append("already imported (same content): it will be skipped")


# --------------------------------------------------------------------------- running


class _Run:
    def __init__(self, conn, plan, progress, cancelled):
        self.conn, self.plan = conn, plan
        self.progress, self.cancelled = progress, cancelled
        self.total = max(1, plan.total_rows)
        self.done = 0
        self.touched: set[int] = set()        # customers whose raw data changed: recompute
        self.subs_touched: set[int] = set()   # customers whose subscriptions changed: reconcile
        self.snapshots = 0
        self.users: dict[int, graph_reports.TenantUsers] = {}
        self._next_user = None
        self.latest_report: dict[int, str | None] = {}

    def tick(self, n: int) -> None:
        if self.cancelled is not None and self.cancelled():
            raise ImportCancelled("the import was cancelled; nothing was written")
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total + 1)

    def next_user_id(self, count: int = 1) -> int:
        """Reserve ``count`` user ids (the run holds the write lock); returns the first."""
        if self._next_user is None:
            self._next_user = (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0]) + 1
        uid = self._next_user
        self._next_user += count
        return uid


def run_import(
    conn: sqlite3.Connection,
    principal: Principal,
    plan: ImportPlan,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Write a checked plan in one transaction (Perm.IMPORT). Raises ImportFailed
    when the plan has errors, ImportCancelled when cancelled; either way nothing
    is written."""
    principal.require(Perm.IMPORT, conn, action="import data")
    plan.raise_if_errors()
    for fp in plan.files:
        if fp.format != "bundle" and fp._staged is not None and fp._staged.usable and fp._stat \
                and _fingerprint(fp.path) == fp._stat:
            continue   # the run writes the batches the check kept, not the file: no need to hash it again
        current = _bundle_hash(fp.path) if fp.format == "bundle" else (sha256_of(fp.path) if fp.path.is_file() else "")
        if current != fp.sha256:
            raise AdoptError(f"{fp.name}: the file changed since it was checked; check it again")
    run = _Run(conn, plan, progress, cancelled)
    summary = ImportSummary()
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    big = plan.total_rows > 50_000
    if big:  # large files: keep the indexes being filled in memory (bounded) instead of spilling pages
        conn.execute(f"PRAGMA cache_size = {-RUN_CACHE_KIB}")
    # A run of user-level reports only writes rows whose keys it made or checked itself
    # (user ids it reserved, SKUs it ensured first) and deletes nothing a foreign key
    # cascades from: enforcement off spares a lookup per row. The pragma only changes
    # outside a transaction; any other file keeps it on (cascades on deletes).
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    bulk = foreign_keys and all(f.format in USER_LEVEL for f in plan.files if not f.already_imported)
    if bulk:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with transaction(conn):
            conn.execute("PRAGMA defer_foreign_keys = ON")
            writes.ensure_catalogue(conn)
            customer_id = plan.customer_id
            if plan.new_customer and any(f.level == "tenant" and not f.already_imported for f in plan.files):
                customer_id = writes.upsert_customer(conn, plan.new_customer[0], plan.new_customer[1])
            matcher = ProductMatcher(conn)
            for fp in _run_order(plan.files):
                if fp.already_imported:
                    summary.files.append(FileSummary(fp.name, fp.format or "", fp.label, fp.customer, fp.rows,
                                                     skipped=True, warnings=list(fp.warnings)))
                    continue
                result = _run_file(run, fp, customer_id, matcher)
                summary.files.append(result)
                conn.execute(
                    "INSERT INTO imports(sha256, customer_id, kind, file_name, rows, as_of, imported_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (fp.sha256, customer_id if fp.level == "tenant" else None, fp.format,
                     fp.path.name, fp.rows, _as_of_key(fp), audit.now_iso()),
                )
            if run.subs_touched:
                graph_licenses.reconcile(conn, sorted(run.subs_touched))
            if run.touched:
                from adopt_tui.metrics.compute import recompute

                def recompute_progress(done: int, total: int) -> None:
                    if progress is not None:
                        progress(run.total, run.total + 1)

                try:
                    run.snapshots += recompute(conn, run.touched, progress=recompute_progress, cancelled=cancelled)
                except InterruptedError:
                    raise ImportCancelled("the import was cancelled; nothing was written") from None
            summary.customers = len(run.touched)
            summary.snapshots = run.snapshots
            summary.warnings = [f"{f.name}: {w}" for f in summary.files for w in f.warnings]
            audit.record(conn, principal.username, "import", target=", ".join(f.name for f in plan.files)[:500],
                         detail=_audit_detail(summary))
            if cancelled is not None and cancelled():
                raise ImportCancelled("the import was cancelled; nothing was written")
    except InputError as exc:  # the file changed between the check and the run
        raise ImportFailed([exc]) from None
    finally:
        if big:
            conn.execute(f"PRAGMA cache_size = {cache}")
        if bulk:
            conn.execute("PRAGMA foreign_keys = ON")
    for fp in plan.files:   # written: what the check kept for the run can go
        if fp._staged is not None:
            fp._staged.discard()
            fp._staged = None
    if progress is not None:
        progress(run.total + 1, run.total + 1)
    return summary


def _run_order(files: list[FilePlan]) -> list[FilePlan]:
    """Customers first, then licenses, then user reports oldest first (the newest picture wins), then aggregates."""
    rank = {"pc_customers": 0, "bundle": 1, "graph_company_subscriptions": 2, "pc_subscriptions": 3,
            "graph_subscribed_skus": 4, "insights_o365_usage": 6, "insights_dynamics_usage": 6}
    return sorted(files, key=lambda f: (rank.get(f.format or "", 5), _as_of_key(f) or "", ))


def _audit_detail(summary: ImportSummary) -> str:
    parts = []
    for f in summary.files:
        what = "already imported, skipped" if f.skipped else f"{f.rows} rows, {f.added} added, {f.updated} updated"
        parts.append(f"{f.name} [{f.format}] {f.customer}: {what}")
    return "; ".join(parts)


def _run_file(run: _Run, fp: FilePlan, customer_id: int | None, matcher: ProductMatcher) -> FileSummary:
    conn = run.conn
    errors = FileErrors(None, fp.name, strict=True)
    out = FileSummary(fp.name, fp.format or "", fp.label, fp.customer, fp.rows, warnings=list(fp.warnings))
    code = fp.format
    if code == "bundle":
        sub = Errors()
        prepared = bundle_mod.prepare_bundle(conn, fp.path, sub)
        sub.raise_if_any()
        result = bundle_mod.write_bundle(conn, prepared)  # refreshes its customers' figures itself
        out.added, out.detail = fp.rows, "rows"
        out.warnings += result.warnings
        run.snapshots += result.snapshots
        run.tick(fp.rows)
        return out
    if code in USER_LEVEL:
        assert customer_id is not None
        if fp._unknown_skus:
            writes.ensure_products(conn, fp._unknown_skus)
        if fp._synthetic:
            ensure_synthetic(conn, fp._synthetic)
        matcher = ProductMatcher(conn) if (fp._unknown_skus or fp._synthetic) else matcher
        users = run.users.get(customer_id)
        if users is None:
            users = run.users[customer_id] = graph_reports.TenantUsers(conn, customer_id)
            users.reserve(sum(f.rows for f in run.plan.files if f.customer_id == fp.customer_id
                              and f.format in USER_LEVEL and not f.already_imported))
        if customer_id not in run.latest_report:
            kinds = ",".join(f"'{k}'" for k in sorted(USER_LEVEL))
            run.latest_report[customer_id] = conn.execute(
                f"SELECT MAX(as_of) FROM imports WHERE customer_id = ? AND kind IN ({kinds})", (customer_id,),
            ).fetchone()[0]
        latest_known = run.latest_report[customer_id]
        file_date = _as_of_key(fp)
        latest = latest_known is None or file_date is None or file_date >= latest_known
        if not latest:
            out.warnings.append(f"older than the latest report imported for this customer ({latest_known}): "
                                "only its activity history and new users were added")
        elif file_date:
            run.latest_report[customer_id] = file_date
        reader, _ = _report_reader(fp, errors, matcher, run.plan.as_of)
        reader.fast = fp._fast   # the same reader as the check: same content (sha256), same rows
        reader.staged = fp._staged
        stats = graph_reports.write_report(conn, reader, users, run.next_user_id, latest=latest,
                                           keep_empty_dates=fp._empty_dates, tick=run.tick)
        out.added, out.updated, out.detail = stats.added, stats.updated, "users"
        out.notes.append(f"{stats.activity:,} activity row(s) and {stats.assignments:,} assignment(s) written")
        run.touched.add(customer_id)
        return out
    if code in JSON_FORMATS:
        try:
            data = load_json(fp.path)
        except NotRecognised as exc:
            raise InputError(str(exc), file=fp.name, line=exc.line) from None
        if code == "pc_customers":
            rows = partner_center.parse_customers(data, errors)
            known = {t for (t,) in conn.execute("SELECT tenant_id FROM customers")}
            for r in rows:
                writes.upsert_customer(conn, r.tenant_id, r.name, r.domain)
            out.added = sum(1 for r in rows if r.tenant_id not in known)
            out.updated = len(rows) - out.added
            out.detail = "customers"
            run.tick(fp.rows)
            return out
        assert customer_id is not None
        parsed, unknown_names = _parse_subscriptions(code, data, errors, matcher)
        if fp._unknown_skus:
            writes.ensure_products(conn, fp._unknown_skus)
            for sku, name in unknown_names.items():
                conn.execute("UPDATE products SET name = ? WHERE sku = ? AND known = 0 AND name = sku", (name, sku))
        out.added, out.updated = graph_licenses.write_subscriptions(conn, customer_id, parsed)
        out.detail = "subscriptions"
        run.subs_touched.add(customer_id)
        run.touched.add(customer_id)
        run.tick(fp.rows)
        return out
    # Insights
    csvfile = CsvFile(fp.path, errors, fp._detected.delimiter)
    data = insights.parse(_insights_kind(code), csvfile, errors, matcher)
    added, known, ids, snapshots = insights.write(conn, data)
    out.added, out.updated, out.detail = added, known, "customers"
    out.notes.append(f"{snapshots} monthly figure snapshot(s) stored")
    run.snapshots += snapshots
    run.tick(fp.rows)
    return out
