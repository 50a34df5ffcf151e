"""Microsoft Graph usage reports, user level (CSV, one customer tenant per file).

Supported (columns mapped by name; extra columns ignored; the header names
below are Microsoft's):

* Office 365 active user detail (``getOffice365ActiveUserDetail``): users,
  deleted state, per-workload license flags and assign dates, per-workload
  last activity, ``Assigned Products``.
* Activity user detail reports, one workload each: email (Exchange), OneDrive
  (counted as SharePoint), SharePoint, Teams (the older 12-column form and the
  current one), Yammer, Microsoft 365 Apps (Office apps).

What is stored, per row:

* the user (matched across files of the tenant by user principal name,
  case-insensitive; concealed 32-hex names and ``#EXT#`` guests are names
  like any other). Deleted state is updated only by reports that carry it
  (``Is Deleted``/``Deleted Date``; Yammer's ``User State`` = ``deleted``);
* the user's assignments, when the report names products (``Assigned
  Products``, see :mod:`adopt_tui.importers.products`) or has license flags:
  they replace the user's assignments (the latest picture wins). A product's
  assign date is the earliest license assign date of its workloads. A flagged
  workload that no named product covers gets a ``GRAPH:<workload>`` assignment;
* activity rows (user, workload, report date, last activity date; an empty
  date means no activity), keyed by report date so history is kept. The
  report date is the row's ``Report Refresh Date`` unless ``--as-of`` is given.
  OneDrive activity is SharePoint activity; the later of the two dates wins.
  The active user detail report writes a workload's row when the user holds
  its license or has activity for it; the activity reports write one row per
  user.

A report older than the latest one already imported for the tenant adds its
activity history (and users not seen before) without changing the latest
picture (deleted state, display names, assignments). A user named on several
rows of one file is written as if row by row: the last row's products win,
activity keeps the latest dates.

Speed (issue #5): clean files are read by Arrow (dates, booleans and the
product list converted in C++), checked column-wise, kept by the check as
typed batches for the run, and written many rows per statement in
primary-key order; see :class:`ReportReader` and :func:`write_report`.
"""

from __future__ import annotations

import gc
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from adopt_tui.errors import InputError
from adopt_tui.importers.products import ProductMatcher, synthetic_sku
from adopt_tui.importers.textio import (
    CsvFile, FileErrors, NotClean, Staged, _parse_any_date, arrow_batches, prefetch,
)
from adopt_tui.store import writes

BATCH = 20_000      # rows per batch of the exact reader (the fast one reads ARROW_BLOCK bytes at a time)


@dataclass(frozen=True)
class WorkloadColumns:
    workload: str
    activity: str                   # last activity date column
    license: str | None = None      # "Has X License"
    assigned: str | None = None     # "X License Assign Date"


@dataclass(frozen=True)
class ReportSpec:
    code: str
    label: str
    signature: tuple[str, ...]          # all present -> this report
    absent: tuple[str, ...]             # ... and none of these
    required: tuple[str, ...]
    workloads: tuple[WorkloadColumns, ...]
    variant_columns: tuple[str, ...] = ()   # present -> ``variant_label``
    variant_label: str = ""

    def matches(self, columns: set[str]) -> bool:
        return all(c in columns for c in self.signature) and not any(c in columns for c in self.absent)


RRD, UPN = "report refresh date", "user principal name"


def _aud(name: str, workload: str) -> WorkloadColumns:
    n = name.lower()
    return WorkloadColumns(workload, f"{n} last activity date", f"has {n} license", f"{n} license assign date")


REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(
        "graph_active_users", "Office 365 active user detail (Graph)",
        ("has exchange license",), (), (RRD, UPN, "has exchange license", "exchange last activity date"),
        (_aud("Exchange", "exchange"), _aud("OneDrive", "sharepoint"), _aud("SharePoint", "sharepoint"),
         _aud("Skype For Business", "skype"), _aud("Yammer", "yammer"), _aud("Teams", "teams")),
    ),
    ReportSpec(
        "graph_email_activity", "Email (Exchange) activity user detail (Graph)",
        ("send count", "receive count"), (), (RRD, UPN, "last activity date"),
        (WorkloadColumns("exchange", "last activity date"),),
    ),
    ReportSpec(
        "graph_sharepoint_activity", "SharePoint activity user detail (Graph)",
        ("viewed or edited file count", "visited page count"), (), (RRD, UPN, "last activity date"),
        (WorkloadColumns("sharepoint", "last activity date"),),
    ),
    ReportSpec(
        "graph_onedrive_activity", "OneDrive activity user detail (Graph; counted as SharePoint)",
        ("viewed or edited file count", "synced file count"), ("visited page count",), (RRD, UPN, "last activity date"),
        (WorkloadColumns("sharepoint", "last activity date"),),
    ),
    ReportSpec(
        "graph_teams_activity", "Teams user activity detail (Graph, older 12-column form)",
        ("private chat message count",), (), (RRD, UPN, "last activity date"),
        (WorkloadColumns("teams", "last activity date"),),
        variant_columns=("tenant display name", "is licensed", "user id"),
        variant_label="Teams user activity detail (Graph, current form)",
    ),
    ReportSpec(
        "graph_yammer_activity", "Yammer activity user detail (Graph)",
        ("posted count", "liked count"), (), (RRD, UPN, "last activity date"),
        (WorkloadColumns("yammer", "last activity date"),),
    ),
    ReportSpec(
        "graph_m365_apps", "Microsoft 365 Apps user detail (Graph; Office apps)",
        ("last activation date",), (), (RRD, UPN, "last activity date"),
        (WorkloadColumns("office", "last activity date"),),
    ),
)

BY_CODE = {r.code: r for r in REPORTS}


def detect(columns: set[str]) -> ReportSpec | None:
    for spec in REPORTS:
        if spec.matches(columns):
            return spec
    return None


def label_for(spec: ReportSpec, columns: set[str]) -> str:
    if spec.variant_columns and any(c in columns for c in spec.variant_columns):
        return spec.variant_label
    return spec.label


BAD = object()        # an invalid value in a memo table
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


def _date_value(text: str):
    value = text.strip()
    if not value:
        return None
    return _parse_any_date(value) or BAD


def _bool_value(text: str):
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return BAD


@dataclass
class Batch:
    """Rows of one report, column-wise, ready to write (numpy arrays where the writer computes)."""

    n: int
    keys: list[str]                      # user principal name, stripped and lower-cased
    upns: list[str]                      # stripped
    names: list[str] | None              # stripped; None: the report has no display names
    deleted: object                      # np.ndarray of bool; None: the report does not tell
    deleted_dates: object                # np.ndarray of ISO date or None (None where not deleted)
    report_dates: object                 # one ISO date for the batch (str), or np.ndarray of one per row
    workloads: list[str]                 # activity columns, sorted (the order of the activity primary key)
    activity: object                     # np.ndarray int32 (n, len(workloads)): 0 no date, k: dates[k]
    dates: object                        # np.ndarray of object: None, then the batch's activity dates ascending
    assignments: object                  # (row, sku, assigned date or '') arrays, by row; None: not told
    hashes: object = None                # np.ndarray int64: hash of each key (see TenantUsers)

    def take(self, rows) -> Batch:
        """The batch restricted to ``rows`` (np.ndarray of row numbers, in order)."""
        pick = rows.tolist()
        return Batch(
            len(pick), [self.keys[i] for i in pick], [self.upns[i] for i in pick],
            None if self.names is None else [self.names[i] for i in pick],
            None if self.deleted is None else self.deleted[rows],
            None if self.deleted_dates is None else self.deleted_dates[rows],
            self.report_dates if isinstance(self.report_dates, str) else self.report_dates[rows],
            self.workloads, self.activity[rows], self.dates,
            None if self.assignments is None else _take_assignments(self.assignments, rows, self.n),
            None if self.hashes is None else self.hashes[rows],
        )


_MISSING = object()
# The key of a user name for TenantUsers: 64 bits, confirmed against the stored name on a match
# (so collisions cost a lookup, never a mix-up). Python's own str hash; tests may swap it.
_key_hash = hash


def _take_assignments(assignments, rows, n: int):
    """The assignments of ``rows`` (ascending), renumbered to their new row numbers."""
    import numpy as np

    row, sku, day = assignments
    new = np.full(n, -1, dtype=np.int64)
    new[rows] = np.arange(len(rows))
    keep = new[row] >= 0
    return new[row[keep]], sku[keep], day[keep]


def _objects(values) -> object:
    """A 1-d numpy object array of ``values`` (never a 2-d one, whatever the values)."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


_EPOCH = date(1970, 1, 1)
_NO_DAY = -(1 << 30)               # an empty date, below every real one (days since 1970-01-01)
_FIRST_DAY = (date(1, 1, 1) - _EPOCH).days   # Arrow reads year 0 too; Python's dates start at year 1


def _days(col):
    """An Arrow date32 column as int64 days since 1970-01-01, _NO_DAY where empty."""
    import numpy as np
    import pyarrow.compute as pc

    days = col.cast("int32")
    if col.null_count:
        days = pc.fill_null(days, _NO_DAY)
    return days.to_numpy(zero_copy_only=False).astype(np.int64)


def _flags(col):
    """An Arrow bool column as a numpy bool array (empty is False)."""
    import pyarrow.compute as pc

    if col.null_count:
        col = pc.fill_null(col, False)
    return col.to_numpy(zero_copy_only=False)


def _dictionary(col):
    """(int64 codes, values) of a dictionary (or plain string) Arrow column."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    return col.indices.to_numpy(zero_copy_only=False).astype(np.int64), col.dictionary.to_pylist()


def _group(codes: list, cards: list[int]) -> tuple[object, object]:
    """Distinct rows of several int64 code arrays (each code below its card):
    (per row the index of its distinct row, the first row of each)."""
    import numpy as np

    key, card = codes[0], max(1, cards[0])
    for idx, k in zip(codes[1:], cards[1:]):
        k = max(1, k)
        if card * k >= 1 << 62:  # keep the mixed-radix key in 64 bits: renumber what we have
            uniq, key = np.unique(key, return_inverse=True)
            key, card = key.reshape(-1).astype(np.int64), len(uniq)
        key = key * k + idx
        card *= k
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


def _dense(days):
    """(codes 0.., the distinct values ascending) of an int64 array of day numbers
    (_NO_DAY included): through a table over the range of days when it is narrow
    (reports span a few years), else by sorting."""
    import numpy as np

    real = days[days != _NO_DAY]
    empty = len(real) < len(days)
    if len(real):
        lo, hi = int(real.min()), int(real.max())
    if not len(real) or hi - lo > 1 << 20:
        uniq, inverse = np.unique(days, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), uniq
    offset = days - (lo - 1)
    offset[offset < 0] = 0                       # _NO_DAY -> 0, the dates -> 1 ..
    present = np.zeros(hi - lo + 2, dtype=bool)
    present[offset] = True
    present[0] = empty
    rank = np.cumsum(present) - 1
    values = np.flatnonzero(present) + (lo - 1)
    if empty:
        values[0] = _NO_DAY
    return rank[offset], values


class ReportReader:
    """Reads one report file in batches of rows, column by column.

    :meth:`check` validates (the plan); :meth:`batches` yields the values to
    write (the run) and raises at the first bad value. Clean files are read by
    Arrow's CSV reader, which converts dates and booleans itself (in C++,
    refusing what it cannot read) and reads `Assigned Products` as a
    dictionary; the rest is checked column-wise, on distinct values. A file
    with anything irregular is read again by the exact reader (the csv
    module), which names file, line and column of each error.
    """

    def __init__(self, spec: ReportSpec, csvfile: CsvFile, errors: FileErrors, matcher: ProductMatcher,
                 as_of: str | None):
        self.spec, self.csv, self.errors, self.matcher, self.as_of = spec, csvfile, errors, matcher, as_of
        self.dates: dict[str, object] = {"": None}
        self.bools: dict[str, object] = {"True": True, "False": False, "": False}
        self.shapes: dict[tuple, list] = {}
        self.report_dates: set[str] = set()
        self.dates_with_activity: set[str] = set()
        self.synthetic: set[str] = set()
        self.unknown: set[str] = set()
        self.concealed = 0
        self.has_assignments = False
        self.has_deleted = False
        self.ready = False
        self.fast = False
        self.staged: Staged | None = None    # the fast reader's batches, kept by the check for the run
        self._iso: dict[int, str] = {}

    def _setup(self) -> bool:
        import pyarrow as pa

        idx = self.csv.index()
        missing = [c for c in self.spec.required if c not in idx]
        for c in missing:
            self.errors.add("required column is missing", line=1, field=_title(c))
        if missing:
            return False
        self.i_upn, self.i_rrd = idx[UPN], idx[RRD]
        self.i_name = idx.get("display name")
        self.i_del = idx.get("is deleted")
        self.i_deld = idx.get("deleted date")
        self.i_state = idx.get("user state")
        self.i_stated = idx.get("state change date")
        self.i_prod = idx.get("assigned products")
        wl = []
        for w in self.spec.workloads:
            ia = idx.get(w.activity)
            il = idx.get(w.license) if w.license else None
            ias = idx.get(w.assigned) if w.assigned else None
            if ia is None and il is None:
                continue
            wl.append((w.workload, ia, il, ias))
        self.wl = wl
        # columns that make up an assignment combination: products, then (flag, assign date) pairs
        self.combo_cols = ([self.i_prod] if self.i_prod is not None else [])
        self.combo_wl = []
        for workload, _, il, ias in wl:
            if il is not None:
                self.combo_cols.append(il)
                self.combo_cols.append(ias if ias is not None else il)
                self.combo_wl.append((workload, ias))
        self.has_assignments = bool(self.combo_cols)
        self.has_deleted = self.i_del is not None or self.i_state is not None
        self.date_cols = [self.i_rrd] + [i for i in (self.i_deld, self.i_stated) if i is not None]
        self.date_cols += [i for _, ia, _, ias in wl for i in (ia, ias) if i is not None]
        self.bool_cols = [i for i in (self.i_del,) if i is not None] + [il for _, _, il, _ in wl if il is not None]
        self.act_workloads = sorted({w for w, ia, _, _ in wl if ia is not None})
        # what the fast reader converts itself
        self.types = {i: pa.date32() for i in self.date_cols}
        self.types.update({i: pa.bool_() for i in self.bool_cols})
        if self.i_prod is not None:
            self.types[self.i_prod] = pa.dictionary(pa.int32(), pa.string())
        self.ready = True
        return True

    def _raw(self):
        it = self.csv.batches(BATCH)
        first = next(it, None)   # reads the header too
        if not self.csv.columns:
            return
        if not self._setup():
            for _ in it:         # count rows, report field-count errors
                pass
            return
        if first is not None:
            yield first
        yield from it

    def _fast_batches(self, verify: bool):
        return arrow_batches(self.csv.path, self.csv.header, types=self.types, verify=verify)

    def iso(self, day: int) -> str:
        text = self._iso.get(day)
        if text is None:
            text = self._iso[day] = (_EPOCH + timedelta(days=int(day))).isoformat()
        return text

    # -- the plan: validate

    def check(self) -> None:
        """Validate the file. Clean files are read by the fast reader (``self.fast``);
        anything irregular is read again by the exact one, which names lines."""
        if not self.csv.read_header():
            return
        if not self._setup():
            for _ in self.csv.batches(BATCH):   # count rows, report field-count errors
                pass
            return
        staged = _staging()
        try:
            with _gc_paused(), closing(prefetch(self._fast_batches(verify=True))) as batches:
                for batch in batches:
                    self._check_arrow(batch.columns)
                    self.csv.rows += batch.num_rows
                    staged = _stage(staged, batch)
            if staged is not None:
                staged.finish()
            self.fast, self.staged = True, staged
            return
        except NotClean:
            if staged is not None:
                staged.discard()
            self._reset()
        for lines, rows in self._raw():
            self._check_cols(lines, list(zip(*rows)))

    def _reset(self) -> None:
        self.csv.rows = 0
        self.report_dates, self.dates_with_activity = set(), set()
        self.synthetic, self.unknown, self.shapes = set(), set(), {}
        self.concealed = 0

    def _check_arrow(self, cols) -> None:
        """Validate one batch of the fast reader (dates and booleans were read by
        Arrow); NotClean at anything wrong, so that the exact reader names the lines."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        upn = cols[self.i_upn]
        # blank names: only values starting or ending with something else than visible ASCII can be
        odd = pc.match_substring_regex(upn, r"^$|^[^\x21-\x7e]|[^\x21-\x7e]$")
        if pc.any(odd).as_py() and any(not u.strip() for u in pc.filter(upn, odd).to_pylist()):
            raise NotClean("blank user name")
        hidden = pc.and_(pc.equal(pc.utf8_length(upn), 32), pc.invert(pc.match_substring(upn, "@")))
        self.concealed += pc.sum(hidden).as_py() or 0
        if not self.as_of and cols[self.i_rrd].null_count:
            raise NotClean("a report date is required")
        for i in self.date_cols:
            first = pc.min(cols[i].cast(pa.int32())).as_py()
            if first is not None and first < _FIRST_DAY:
                raise NotClean("year 0")
        if self.as_of:
            rd = {self.as_of}
        else:
            rd = {self.iso(d) for d in np.unique(_days(cols[self.i_rrd])).tolist()}
        self.report_dates |= rd
        if not rd <= self.dates_with_activity:
            for _, ia, _, _ in self.wl:
                if ia is None or cols[ia].null_count == len(cols[ia]):
                    continue
                if len(rd) == 1:
                    self.dates_with_activity |= rd
                    break
                days = _days(pc.filter(cols[self.i_rrd], pc.is_valid(cols[ia])))
                self.dates_with_activity |= {self.iso(d) for d in np.unique(days).tolist()}
        if self.combo_wl or self.i_prod is not None:
            codes, cards, texts = [], [], [""]
            if self.i_prod is not None:
                idx, texts = _dictionary(cols[self.i_prod])
                codes.append(idx)
                cards.append(len(texts))
            bits = np.zeros(len(upn), dtype=np.int64)
            for k, (_, _, il, _) in enumerate(w for w in self.wl if w[2] is not None):
                bits |= _flags(cols[il]).astype(np.int64) << k
            codes.append(bits)
            cards.append(1 << len(self.combo_wl))
            _, first = _group(codes, cards)
            for r in first.tolist():
                text = texts[codes[0][r]] if self.i_prod is not None else ""
                self._slots(text, tuple(bool(bits[r] >> k & 1) for k in range(len(self.combo_wl))))

    def _check_cols(self, lines: list[int], cols) -> None:
        """Validate one batch of the exact reader, naming the line of each error."""
        errors, header = self.errors, self.csv.header
        uniq = set(cols[self.i_upn])
        blank = {u for u in uniq if not u.strip()}
        if blank:
            for line, u in zip(lines, cols[self.i_upn]):
                if u in blank:
                    errors.add("a user principal name is required", line=line, field=header[self.i_upn])
        self.concealed += sum(1 for u in cols[self.i_upn] if len(u) == 32 and "@" not in u)
        for i in self.date_cols:
            self._check(cols[i], self.dates, _date_value, lines, i, required=(i == self.i_rrd and not self.as_of))
        for i in self.bool_cols:
            self._check(cols[i], self.bools, _bool_value, lines, i)
        if self.as_of:
            rd = {self.as_of}
        else:
            rd = {self.dates.get(v) for v in set(cols[self.i_rrd])} - {None, BAD}
        self.report_dates |= rd
        if not rd <= self.dates_with_activity:
            for _, ia, _, _ in self.wl:
                if ia is None:
                    continue
                if len(rd) == 1:
                    if any(self.dates.get(v) not in (None, BAD) for v in set(cols[ia])):
                        self.dates_with_activity |= rd
                else:
                    for r, v in zip(cols[self.i_rrd], cols[ia]):
                        if self.dates.get(v) not in (None, BAD):
                            self.dates_with_activity.add(self.dates.get(r))
        if self.combo_cols:
            k = 1 if self.i_prod is not None else 0
            flag_cols = [cols[i] for i in self.combo_cols[k::2]]
            texts = cols[self.i_prod] if self.i_prod is not None else [""] * len(lines)
            for text, *flags in set(zip(texts, *flag_cols)):
                self._slots(text, tuple(self.bools.get(f, _bool_value(f)) is True for f in flags))

    def _check(self, col, table, parse, lines, index, *, required=False) -> None:
        uniq = set(col)
        for v in uniq.difference(table):
            table[v] = parse(v)
        bad = {v for v in uniq if table[v] is BAD or (required and table[v] is None)}
        if not bad:
            return
        header = self.csv.header[index]
        for i, v in enumerate(col):
            if v in bad:
                if table[v] is None:
                    reason = "a date is required"
                elif table is self.dates:
                    reason = f"{v!r} is not a date (expected YYYY-MM-DD)"
                else:
                    reason = f"{v!r} is not a boolean (expected True or False)"
                self.errors.add(reason, line=lines[i], field=header)

    def _slots(self, text: str, flags: tuple) -> list[tuple[str, tuple[int, ...]]]:
        """The assignments of one (products, license flags) shape: per SKU the
        combination columns (``combo_wl`` positions) whose assign dates decide its
        date (the earliest; none: no date). ``text`` is `Assigned Products`,
        ``flags`` a license flag per ``combo_wl`` entry. A flagged workload that no
        named product covers gets GRAPH:<workload>. Notes products not in the
        catalogue and such workloads (for the check's warnings)."""
        key = (text, flags)
        slots = self.shapes.get(key)
        if slots is not None:
            return slots
        skus: tuple = ()
        if text.strip():
            skus, unknown = self.matcher.split(text)
            self.unknown.update(unknown)
        licensed: dict[str, list[int]] = {}
        for k, ((workload, _), on) in enumerate(zip(self.combo_wl, flags)):
            if on:
                licensed.setdefault(workload, []).append(k)
        slots = []
        covered: set[str] = set()
        for sku in skus:
            workloads = self.matcher.workloads_of(sku)
            covered.update(workloads)
            slots.append((sku, tuple(k for w in dict.fromkeys(workloads) for k in licensed.get(w, ()))))
        for workload, ks in licensed.items():
            if workload not in covered:
                self.synthetic.add(workload)
                slots.append((synthetic_sku(workload), tuple(ks)))
        self.shapes[key] = slots
        return slots

    # -- the run: values to write

    def batches(self):
        """Batches to write; ``self.fast`` (from the check) picks the reader. The
        fast one reads (the check's kept batches, else the file) a batch ahead in a
        background thread, where Arrow works without the GIL; the batches are built
        in the caller's thread (built ahead, the Python work fought the writes' for
        the GIL and cost more than it saved)."""
        if self.fast:
            if not self.csv.read_header() or not self._setup():
                return
            staged = self.staged is not None and self.staged.usable
            with closing(prefetch(self.staged.batches() if staged else self._fast_batches(verify=False))) as read:
                for batch in read:
                    yield self._build(batch.columns, batch.num_rows)
            return
        for _, rows in self._raw():
            yield self._build(self._typed(rows), len(rows))

    def _typed(self, rows: list[list[str]]) -> list:
        """Rows of the exact reader as the fast reader's typed columns (raises at a bad value)."""
        import pyarrow as pa

        out = []
        for i, col in enumerate(zip(*rows)):
            kind = self.types.get(i)
            if kind is None:
                out.append(pa.array(col, pa.string()))
            elif pa.types.is_date32(kind):
                values = [self._value(v, self.dates, _date_value, i) for v in col]
                out.append(pa.array(values, pa.string()).cast(pa.date32()))
            elif pa.types.is_boolean(kind):
                out.append(pa.array([self._value(v, self.bools, _bool_value, i) is True for v in col], pa.bool_()))
            else:
                out.append(pa.array(col, pa.string()).dictionary_encode())
        return out

    def _value(self, text: str, table, parse, index):
        value = table.get(text, _MISSING)
        if value is _MISSING:
            value = table[text] = parse(text)
        if value is BAD:
            raise InputError(f"{text!r} is not valid (the file changed since it was checked)",
                             file=str(self.csv.path), field=self.csv.header[index])
        return value

    def _build(self, cols, n: int) -> Batch:
        import numpy as np

        upns = list(map(str.strip, cols[self.i_upn].to_pylist()))
        keys = list(map(str.lower, upns))
        names = list(map(str.strip, cols[self.i_name].to_pylist())) if self.i_name is not None else None
        if self.as_of:
            report_dates: object = self.as_of
        else:
            if cols[self.i_rrd].null_count:
                raise InputError("a date is required (the file changed since it was checked)",
                                 file=str(self.csv.path), field=self.csv.header[self.i_rrd])
            codes, days = _dense(_days(cols[self.i_rrd]))
            texts = [self.iso(d) for d in days.tolist()]
            report_dates = texts[0] if len(texts) == 1 else _objects(texts)[codes]
        deleted = deleted_dates = None
        if self.i_del is not None or self.i_state is not None:
            if self.i_del is not None:
                deleted = _flags(cols[self.i_del])
                date_col = self.i_deld
            else:
                idx, states = _dictionary(cols[self.i_state])
                deleted = np.asarray([v.strip().lower() == "deleted" for v in states], dtype=bool)[idx]
                date_col = self.i_stated
            if date_col is not None:
                codes, days = _dense(_days(cols[date_col]))
                deleted_dates = _objects([None if d == _NO_DAY else self.iso(d) for d in days.tolist()])[codes]
                deleted_dates[~deleted] = None
            else:
                deleted_dates = np.full(n, None, dtype=object)
        # activity: per workload the latest date (OneDrive and SharePoint are one workload), as the
        # rank of the date among the batch's dates (0: none)
        workloads = self.act_workloads
        days = np.full((n, len(workloads)), _NO_DAY, dtype=np.int64)
        for workload, ia, _, _ in self.wl:
            if ia is not None:
                j = workloads.index(workload)
                np.maximum(days[:, j], _days(cols[ia]), out=days[:, j])
        codes, uniq = _dense(days.ravel())
        listed = [self.iso(d) for d in uniq.tolist() if d != _NO_DAY]
        if len(listed) == len(uniq):      # no empty date at all: ranks start at 1
            codes += 1
        activity = codes.astype(np.int32).reshape(n, len(workloads))
        assignments = self._assignments(cols, n) if self.combo_cols else None
        hashes = np.fromiter(map(_key_hash, keys), dtype=np.int64, count=n)
        return Batch(n, keys, upns, names, deleted, deleted_dates, report_dates, workloads, activity,
                     _objects([None] + listed), assignments, hashes)

    def _assignments(self, cols, n: int):
        """(row, sku, assigned date or '') of every assignment of the batch, by row and in
        the order of its shape's slots. Each (products, flags) shape is resolved once;
        dates are the minimum, per row, over each slot's assign-date columns."""
        import numpy as np

        codes, cards, texts = [], [], [""]
        if self.i_prod is not None:
            idx, texts = _dictionary(cols[self.i_prod])
            codes.append(idx)
            cards.append(len(texts))
        bits = np.zeros(n, dtype=np.int64)
        never = np.iinfo(np.int64).max            # no assign date: loses every minimum
        days = np.full((n, max(1, len(self.combo_wl))), never, dtype=np.int64)
        flag_cols = self.combo_cols[1 if self.i_prod is not None else 0::2]
        for k, ((_, ias), il) in enumerate(zip(self.combo_wl, flag_cols)):
            bits |= _flags(cols[il]).astype(np.int64) << k
            if ias is not None:
                d = _days(cols[ias])
                days[:, k] = np.where(d == _NO_DAY, never, d)
        codes.append(bits)
        cards.append(1 << len(self.combo_wl))
        shape, first = _group(codes, cards)
        slots = []
        for r in first.tolist():
            text = texts[codes[0][r]] if self.i_prod is not None else ""
            slots.append(self._slots(text, tuple(bool(bits[r] >> k & 1) for k in range(len(self.combo_wl)))))
        count = np.asarray([len(x) for x in slots], dtype=np.int64)[shape]
        start = np.cumsum(count) - count
        total = int(count.sum())
        row = np.repeat(np.arange(n), count)
        sku = np.empty(total, dtype=object)
        day = np.empty(total, dtype=np.int64)
        order = np.argsort(shape, kind="stable")
        bounds = np.searchsorted(shape[order], np.arange(len(slots) + 1))
        for s_, these in enumerate(slots):
            rows = order[bounds[s_]:bounds[s_ + 1]]
            for j, (name, ks) in enumerate(these):
                at = start[rows] + j
                sku[at] = name
                day[at] = days[rows][:, list(ks)].min(axis=1) if ks else never
        day[day == never] = _NO_DAY
        day_codes, uniq = _dense(day)
        listed = _objects(["" if d == _NO_DAY else self.iso(d) for d in uniq.tolist()])
        return row, sku, listed[day_codes]


@contextmanager
def _gc_paused():
    """No cyclic garbage collection while batches stream through: the collector would
    walk every element of the large lists and object arrays each time it runs (3.5% of
    an import's CPU), and the import makes no reference cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _staging() -> Staged | None:
    try:
        return Staged()
    except OSError:
        return None


def _stage(staged: Staged | None, batch) -> Staged | None:
    """Keep ``batch`` for the run; on failure (a full disk) keep nothing."""
    if staged is None:
        return None
    try:
        staged.write(batch)
        return staged
    except Exception:  # noqa: BLE001 - Arrow's I/O errors; the run reads the CSV again
        staged.discard()
        return None


def _title(column: str) -> str:
    return " ".join(w if w in ("or", "for") else w.capitalize() for w in column.split(" "))


# --------------------------------------------------------------------------- writing


class TenantUsers:
    """The users of one customer as a run sees them, to match rows to users by
    user principal name (case-insensitive) without holding the names: the hash
    of each lower-cased name -> user id, in an open-addressing hash table of two
    numpy arrays (16 bytes a slot, at most half full). A hash match is confirmed
    against the stored name before it counts, so two names with the same hash
    are never taken for one user. When several users share a name (in another
    case), the oldest one is matched.
    """

    def __init__(self, conn: sqlite3.Connection, customer_id: int):
        import numpy as np

        self.customer_id = customer_id
        self.size = 0
        self._same = False       # some users share a hash (then placing must keep them oldest first)
        self._alloc(1 << 12)
        ids, hashes = [], []
        for uid, upn in conn.execute("SELECT id, upn FROM users WHERE customer_id = ? ORDER BY id", (customer_id,)):
            ids.append(uid)
            hashes.append(_key_hash(upn.lower()))
        if ids:
            self.add(np.asarray(hashes, dtype=np.int64), np.asarray(ids, dtype=np.int64))

    def __len__(self) -> int:
        return self.size

    def _alloc(self, capacity: int) -> None:
        import numpy as np

        self._keys = np.zeros(capacity, dtype=np.int64)
        self._ids = np.zeros(capacity, dtype=np.int64)   # 0: empty slot
        self._mask = capacity - 1

    def reserve(self, count: int) -> None:
        """Make room for ``count`` more users at once (a run knows its rows), instead of
        growing the table step by step."""
        self._grow(self.size + count)

    def _grow(self, size: int) -> None:
        import numpy as np

        capacity = len(self._ids)
        while size * 2 > capacity:
            capacity *= 2
        if capacity == len(self._ids):
            return
        used = np.flatnonzero(self._ids)
        keys, ids = self._keys[used], self._ids[used]
        if self._same:
            order = np.argsort(ids, kind="stable")
            keys, ids = keys[order], ids[order]
        self._alloc(capacity)
        self._place(keys, ids, ordered=self._same)

    def add(self, hashes, ids, *, matched: bool = False) -> None:
        """Register new users (``ids`` ascending, and newer than every user registered
        before); ``matched``: some of ``hashes`` are registered already (another name
        with the same hash)."""
        import numpy as np

        self._grow(self.size + len(ids))
        ordered = np.sort(hashes)
        same = bool((ordered[1:] == ordered[:-1]).any())
        self._same = self._same or same or matched
        self._place(hashes, ids, ordered=same)   # after a registered equal hash anyway: the probe passes it
        self.size += len(ids)

    def _place(self, hashes, ids, ordered: bool) -> None:
        """Linear probing, all rows at once: in each round every row still unplaced tries
        its next slot. ``ordered``: of rows wanting the same free slot the first
        (oldest) wins, so along a probe sequence older users with the same hash come
        first; else (all hashes different, where the order of the probe sequence does
        not matter) any one wins, which needs no sort."""
        import numpy as np

        keys, table, mask = self._keys, self._ids, self._mask
        slot = hashes & mask
        todo = np.arange(len(ids))
        while len(todo):
            want = slot[todo]
            free = table[want] == 0
            rows, slots = todo[free], want[free]
            if ordered:
                slots, first = np.unique(slots, return_index=True)
                rows = rows[first]
            else:
                table[slots] = -1 - rows          # claim: one of the rows writing a slot wins
                won = table[slots] == -1 - rows
                rows, slots = rows[won], slots[won]
            keys[slots] = hashes[rows]
            table[slots] = ids[rows]
            placed = np.zeros(len(ids), dtype=bool)
            placed[rows] = True
            todo = todo[~placed[todo]]
            slot[todo] = (slot[todo] + 1) & mask

    def lookup(self, hashes):
        """Per hash the oldest user id with that hash (0: none); to be confirmed by name."""
        import numpy as np

        out = np.zeros(len(hashes), dtype=np.int64)
        if not self.size:
            return out
        keys, table, mask = self._keys, self._ids, self._mask
        slot = hashes & mask
        todo = np.arange(len(hashes))
        while len(todo):
            want = slot[todo]
            found = table[want]
            hit = (found != 0) & (keys[want] == hashes[todo])
            out[todo[hit]] = found[hit]
            todo = todo[(found != 0) & ~hit]
            slot[todo] = (slot[todo] + 1) & mask
        return out

    def candidates(self, value: int) -> list[int]:
        """Every user id whose hash is ``value``, oldest first."""
        out = []
        s = value & self._mask
        while self._ids[s]:
            if self._keys[s] == value:
                out.append(int(self._ids[s]))
            s = (s + 1) & self._mask
        return out


@dataclass
class WriteStats:
    added: int = 0
    updated: int = 0
    activity: int = 0
    assignments: int = 0


USERS_INSERT = "INSERT INTO users(id, customer_id, upn, display_name, is_deleted, deleted_date)"
ASSIGNMENTS_INSERT = "INSERT INTO assignments(user_id, sku, subscription_id, assigned_date, state)"


def write_report(conn: sqlite3.Connection, reader: ReportReader, users: TenantUsers, next_id, *, latest: bool,
                 keep_empty_dates: set[str] = frozenset(), tick=None) -> WriteStats:
    """Write the rows of ``reader`` for ``users.customer_id``.

    ``next_id(n)`` reserves ``n`` users.id values and returns the first. Activity rows without a date
    are stored only for the report dates in ``keep_empty_dates`` (dates with no
    activity at all, so that the date still exists); elsewhere "no row" and
    "no activity" mean the same. ``tick(n)`` is called after each batch (it
    may raise to cancel).

    Rows are written many to a statement, in primary-key order (users by id,
    then their activity by workload). A user named twice in a batch is
    written in turns (first occurrences, then the next ...), so that each
    occurrence sees the one before, as if the rows were written one by one.
    """
    import numpy as np

    stats = WriteStats()
    with _gc_paused(), closing(reader.batches()) as batches:
        for batch in batches:
            hashes = batch.hashes
            rest = np.arange(batch.n)
            part = batch
            ordered = np.sort(hashes)
            if not (ordered[1:] == ordered[:-1]).any():   # every user once (the usual case)
                _write_part(conn, batch, hashes, users, next_id, latest, keep_empty_dates, stats)
                rest = rest[:0]
            while len(rest):
                _, first = np.unique(hashes[rest], return_index=True)
                if len(first) == len(rest):
                    rows = rest
                    rest = rest[:0]
                else:
                    first.sort()
                    rows = rest[first]
                    keep = np.ones(len(rest), dtype=bool)
                    keep[first] = False
                    rest = rest[keep]
                if len(rows) != batch.n:
                    part = batch.take(rows)
                _write_part(conn, part, hashes[rows], users, next_id, latest, keep_empty_dates, stats)
            if tick is not None:
                tick(batch.n)
    return stats


def _current_users(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple]:
    """id -> (upn, display name, is_deleted, deleted_date) of stored users."""
    out: dict[int, tuple] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for uid, upn, name, deleted, deleted_date in conn.execute(
            f"SELECT id, upn, display_name, is_deleted, deleted_date FROM users WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[uid] = (upn, name, deleted, deleted_date)
    return out


def _write_part(conn, part: Batch, hashes, users: TenantUsers, next_id, latest: bool, keep_empty_dates,
                stats: WriteStats) -> None:
    """Write rows whose users are all different."""
    import numpy as np

    n = part.n
    cid = users.customer_id
    uids = np.zeros(n, dtype=np.int64)
    fresh = np.ones(n, dtype=bool)
    found = None
    updates = []
    if len(users):
        found = users.lookup(hashes)
        hits = np.flatnonzero(found)
        if len(hits):
            current = _current_users(conn, sorted(set(found[hits].tolist())))
            for i in hits.tolist():
                key = part.keys[i]
                uid = int(found[i])
                entry = current.get(uid)
                if entry is None or entry[0].lower() != key:   # another name with the same hash
                    uid, entry = 0, None
                    for other in users.candidates(int(hashes[i])):
                        row = _current_users(conn, [other]).get(other)
                        if row is not None and row[0].lower() == key:
                            uid, entry = other, row
                            break
                    if not uid:
                        continue
                uids[i] = uid
                fresh[i] = False
                if latest:
                    _, name, is_deleted, deleted_date = entry
                    changed = False
                    if part.names is not None and part.names[i] and part.names[i] != name:
                        name, changed = part.names[i], True
                    if part.deleted is not None:
                        d, dd = int(part.deleted[i]), part.deleted_dates[i]
                        if d != is_deleted or dd != deleted_date:
                            is_deleted, deleted_date, changed = d, dd, True
                    if changed:
                        updates.append((name, is_deleted, deleted_date, uid))
    new = np.flatnonzero(fresh)
    if len(new):
        first = next_id(len(new))
        uids[new] = np.arange(first, first + len(new))
        users.add(hashes[new], uids[new], matched=found is not None and bool(found[new].any()))
        all_new = len(new) == n
        upns = _objects(part.upns)
        names = _objects(part.names) if part.names is not None else np.full(n, "", dtype=object)
        deleted = part.deleted is not None and bool(part.deleted[new].any())
        rows = np.empty((len(new), 5 if deleted else 3), dtype=object)
        rows[:, 0] = uids[new]
        rows[:, 1] = upns if all_new else upns[new]
        rows[:, 2] = names if all_new else names[new]
        if deleted:
            rows[:, 3] = part.deleted[new].astype(np.int64)
            rows[:, 4] = _no_none(part.deleted_dates[new])
            writes.insert_many(conn, USERS_INSERT, f"({{0}}, ?1, {{1}}, {{2}}, {{3}}, {_unless(4, '')})",
                               rows.ravel().tolist(), 5,
                               (cid,))
        else:
            writes.insert_many(conn, USERS_INSERT, "({}, ?1, {}, {}, 0, NULL)", rows.ravel().tolist(), 3, (cid,))
        stats.added += len(new)
    if updates:
        conn.executemany("UPDATE users SET display_name = ?, is_deleted = ?, deleted_date = ? WHERE id = ?", updates)
        stats.updated += len(updates)
    if part.assignments is not None:
        if latest:   # the latest picture: every row's assignments replace the user's
            old = uids[~fresh]
            if len(old):
                writes.delete_where_in(conn, "assignments", "user_id", old.tolist())
            selected = np.ones(n, dtype=bool)
        else:        # an older report only adds users not seen before
            selected = fresh
        stats.assignments += _write_assignments(conn, part, uids, selected)
    if part.workloads:
        stats.activity += _write_activity(conn, part, uids, keep_empty_dates)


def _write_assignments(conn, part: Batch, uids, selected) -> int:
    """The assignments of the rows ``selected`` (a bool per row), user by user."""
    row, sku, date = part.assignments
    keep = selected[row]
    if not keep.any():
        return 0
    dates = date[keep]
    # NULL for '' only where a date is missing: a test per row otherwise spent for nothing
    day = _unless(2, "") if (dates == "").any() else "{2}"
    rows = _rows(uids[row[keep]], sku[keep], dates)
    return writes.insert_many(conn, ASSIGNMENTS_INSERT, f"({{0}}, {{1}}, NULL, {day}, 'entitled')", rows, 3)


def _rows(*columns) -> list:
    """One flat list, row after row, of equally long numpy columns."""
    import numpy as np

    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out.ravel().tolist()


def _unless(index: int, blank: str) -> str:
    """A row template's value ``{index}``, NULL where it is ``blank``: the parameter twice in a CASE
    (a comparison in the statement) is cheaper than NULLIF (a function call) and than binding None
    (Python 3.11's sqlite3 adapts None through its adapter protocol)."""
    return f"CASE {{{index}}} WHEN '{blank}' THEN NULL ELSE {{{index}}} END"


def _no_none(values):
    """``values`` (an object array of dates) with '' for None, written back as NULL (see :func:`_unless`).

    Python 3.11's sqlite3 binds None through its adapter protocol, which raises
    and clears an AttributeError each time (about 2,000 instructions a value)."""
    out = values.copy()
    out[out == None] = ""  # noqa: E711 - element-wise
    return out


def _write_activity(conn, part: Batch, uids, keep_empty_dates) -> int:
    """Activity rows (one per user and report date, a column per workload of the report) in
    primary-key order. Returns the (user, workload) activity values written."""
    import numpy as np

    act = part.activity
    rd = part.report_dates
    dates = _no_none(part.dates)
    head = f"INSERT INTO activity(user_id, report_date, {', '.join(part.workloads)})"
    upsert = writes.activity_upsert(part.workloads)
    # a workload without a date has no value (NULL) unless the report date has no activity at all
    # ('': listed without activity, so that the date still exists)
    if isinstance(rd, str):
        empty = rd in keep_empty_dates
        r = np.arange(len(act)) if empty else np.flatnonzero((act > 0).any(axis=1))
        row = "({0}, ?1, " + ", ".join(f"{{{j}}}" if empty else _unless(j, "")
                                       for j in range(1, 1 + len(part.workloads))) + ")"
        columns = [uids[r]] + [dates[act[r, j]] for j in range(act.shape[1])]
        writes.insert_many(conn, head, row, _rows(*columns), 1 + len(part.workloads), (rd,), upsert)
        return int(len(r) * act.shape[1]) if empty else int((act[r] > 0).sum())
    keep = np.asarray([d in keep_empty_dates for d in rd.tolist()], dtype=bool)
    r = np.flatnonzero((act > 0).any(axis=1) | keep)
    # rows of a kept date take '' for no activity; the others NULL ('~' is below no date)
    blank = np.where(keep[r], "", "~").astype(object)
    columns = [uids[r], rd[r]]
    for j in range(act.shape[1]):
        values = dates[act[r, j]]
        columns.append(np.where(act[r, j] > 0, values, blank))
    row = "({0}, {1}, " + ", ".join(_unless(j, "~") for j in range(2, 2 + len(part.workloads))) + ")"
    writes.insert_many(conn, head, row, _rows(*columns), 2 + len(part.workloads), (), upsert)
    return int((act[r] > 0).sum() + (keep[r][:, None] & (act[r] == 0)).sum())
