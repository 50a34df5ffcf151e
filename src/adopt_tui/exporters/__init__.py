"""Export: deployment, usage, one customer's users, or the portfolio summary,
as CSV, XLSX or JSON. Used by ``adopt-tui export`` and the TUI's export dialog.

    result = run_export(conn, principal, kind="deployment", fmt="xlsx", out_path="d.xlsx",
                        scope="all", as_of=None, customer_ids=None, customer_id=None,
                        bom=False, force=False, progress=None, cancelled=None)

* ``kind``: deployment | usage | users | portfolio (:data:`KINDS`);
  ``fmt``: csv | xlsx | json (:data:`FORMATS`).
* Customers: ``customer_ids`` (the current filter) or None (all the principal
  may see); ids the principal may not see are dropped. ``customer_id``: one
  customer (required for ``users``); refused with :class:`NotFound` when not
  visible.
* ``progress(done, total)`` is called after each batch of rows;
  ``cancelled()`` is checked between batches and a True raises
  :class:`ExportCancelled` (no file, no temporary file).
* An existing file raises :class:`FileExists` unless ``force``; a bad
  destination raises :class:`ExportError` (see :func:`check_destination`).
* Needs Perm.EXPORT (a refusal raises PermissionDenied and is audited); each
  export is audited (action ``export``, target the path, detail kind, format,
  scope, as-of, customers, rows).

The columns and the JSON shapes are documented in README.md ("Export").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from adopt_tui.auth import audit
from adopt_tui.auth.permissions import Perm, Principal
from adopt_tui.errors import AdoptError
from adopt_tui.exporters.atomic import TEMP_PREFIX, ExportError, FileExists, atomic_output, check_destination

# rows/writers (pandas, XlsxWriter) are imported when an export runs, so that
# importing this module (the CLI's argument parser, the TUI) stays light.

__all__ = [
    "KINDS", "FORMATS", "ExportResult", "ExportError", "ExportCancelled", "FileExists",
    "run_export", "check_destination", "default_filename",
]

KINDS = ("deployment", "usage", "users", "portfolio")
FORMATS = ("csv", "xlsx", "json")
EXPORT_ACTION = "export"


class ExportCancelled(AdoptError):
    """The export was cancelled; nothing was written."""

    def __init__(self, message: str = "Export cancelled; no file was written."):
        super().__init__(message)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    kind: str
    fmt: str


def default_filename(kind: str, fmt: str, as_of: str | None) -> str:
    """``adopt-tui-<kind>-<as-of or 'latest'>.<fmt>``, e.g. ``adopt-tui-usage-2026-10-31.xlsx``."""
    return f"adopt-tui-{kind}-{as_of or 'latest'}.{fmt}"


def _validate(kind: str, fmt: str, scope: str, as_of: str | None) -> None:
    if kind not in KINDS:
        raise ExportError(f"unknown export kind {kind!r}; use one of: {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if scope not in ("all", "own"):
        raise ExportError(f"scope must be 'all' or 'own', not {scope!r}")
    if as_of is not None:
        try:
            date.fromisoformat(as_of)
        except (TypeError, ValueError):
            raise ExportError(f"{as_of!r} is not a date (YYYY-MM-DD)") from None


def run_export(
    conn: sqlite3.Connection,
    principal: Principal,
    *,
    kind: str,
    fmt: str,
    out_path: str | os.PathLike,
    scope: str = "all",
    as_of: str | None = None,
    customer_ids: list[int] | None = None,
    customer_id: int | None = None,
    bom: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write the export to ``out_path`` atomically (mode 0600); see the module doc."""
    from adopt_tui.exporters import rows as rowsets
    from adopt_tui.exporters import writers
    from adopt_tui.metrics import read

    principal.require(Perm.EXPORT, conn, action="export")
    _validate(kind, fmt, scope, as_of)
    target = Path(os.path.abspath(os.path.expanduser(os.fspath(out_path))))
    problem = check_destination(target)
    if problem:
        raise ExportError(problem)
    if not force and target.exists():
        raise FileExists(target)

    snap_as_of = read._as_of(conn, as_of)
    customer = None
    if customer_id is not None:
        customer = read.get_customer(conn, principal, int(customer_id))  # NotFound when not visible
        ids: list[int] | None = [customer.id]
    elif kind == "users":
        raise ExportError("the users export is for one customer: choose one (on the command line: --customer)")
    else:
        ids = None if customer_ids is None else [int(i) for i in customer_ids]

    def check_cancel() -> None:
        if cancelled is not None and cancelled():
            raise ExportCancelled()

    check_cancel()
    # --- what to write: a row set (CSV/XLSX) or a document (JSON)
    document: dict | None = None
    parts = None  # the deployment and usage JSON: the metrics document as text
    rowset = None
    users_as_of = None
    if kind == "users":
        snapshot = rowsets.customer_snapshot(conn, customer.id, scope, snap_as_of)
        if snapshot is None:
            raise ExportError(f"{customer.name} has no figures on or before {snap_as_of} ({scope} scope)")
        users_as_of, source = snapshot
        if source != "computed":
            raise ExportError(
                f"{customer.name}'s figures as of {users_as_of} were imported as totals, without user-level "
                "data; choose a later as-of date for the users export"
            )
        frame, codes = rowsets.users_frame(conn, customer.id, scope, users_as_of)
        if fmt == "json":
            document = rowsets.users_document(frame, codes, customer, scope, users_as_of)
            count = len(document["users"])
        else:
            rowset = rowsets.users_rows(frame, codes, scope, users_as_of)
    elif kind == "portfolio":
        doc = rowsets.portfolio_document(conn, principal, scope, snap_as_of, ids)
        if fmt == "json":
            document = {k: v for k, v in doc.items() if not k.startswith("_")}
            count = len(rowsets.PORTFOLIO_METRICS) + len(rowsets.BAND_KEYS)
        else:
            rowset = rowsets.portfolio_rows(doc)
    elif fmt == "json":
        # the metrics document as text (from the figure cache where it can), written as it is
        from adopt_tui.metrics.document import metrics_json

        parts = metrics_json(conn, principal, scope, snap_as_of, ids)
        count = parts.products if kind == "deployment" else parts.workloads
    else:
        build = rowsets.deployment_rows if kind == "deployment" else rowsets.usage_rows
        rowset = build(conn, principal, scope, snap_as_of, ids)

    total = rowset.total if rowset is not None else count

    def on_batch(done: int) -> None:
        if progress is not None:
            progress(done, max(total, done))
        check_cancel()

    check_cancel()
    scratch = None
    try:
        with atomic_output(target, force=force) as fh:
            if parts is not None:
                writers.write_json_text(fh, parts.chunks(indent=2))
                written = count
                on_batch(written)
            elif document is not None:
                writers.write_json(fh, document)
                written = count
                on_batch(written)
            elif fmt == "csv":
                written = writers.write_csv(fh, rowset, on_batch, bom=bom)
            else:
                scratch = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target.parent)
                written = writers.write_xlsx(fh, rowset, on_batch, tmpdir=scratch)
            check_cancel()
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        close = getattr(rowset.batches, "close", None) if rowset is not None else None
        if close is not None:
            close()  # a streamed query stopped early (cancel, error): finish its statement now

    customers_desc = (
        f"customer={customer.tenant_id}" if customer is not None
        else "customers=all visible" if ids is None else f"customers={len(ids)} selected"
    )
    audit.record(
        conn, principal.username, EXPORT_ACTION, target=str(target),
        detail=(f"kind={kind}; format={fmt}; scope={scope}; as_of={users_as_of or snap_as_of}; "
                f"{customers_desc}; rows={written}"),
    )
    if progress is not None:
        progress(written, written)
    return ExportResult(target, written, kind, fmt)
