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
picture (deleted state, display names, assignments).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from adopt_tui.errors import InputError
from adopt_tui.importers.products import ProductMatcher, synthetic_sku
from adopt_tui.importers.textio import CsvFile, FileErrors, NotClean, _parse_any_date, arrow_batches
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
    combo: object                        # np.ndarray: per row an index into ``combos``; None: not told
    combos: list[tuple]                  # per combination: ((sku, assigned date), ...)

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
            None if self.combo is None else self.combo[rows], self.combos,
        )


_MISSING = object()


def _objects(values) -> object:
    """A 1-d numpy object array of ``values`` (never a 2-d one, whatever the values)."""
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _distinct(columns: list) -> tuple[object, list[tuple]]:
    """Distinct combinations of values across Arrow string ``columns``:
    (per row the index of its combination, the combinations as tuples)."""
    import numpy as np

    key = None
    card = 1
    values, codes = [], []
    for col in columns:
        d = col.dictionary_encode()
        v = d.dictionary.to_pylist()
        idx = d.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        k = max(1, len(v))
        if key is None:
            key, card = idx, k
        else:
            if card * k >= 1 << 62:  # keep the mixed-radix key in 64 bits: renumber what we have
                uniq, key = np.unique(key, return_inverse=True)
                key, card = key.astype(np.int64), len(uniq)
            key = key * k + idx
            card *= k
        values.append(v)
        codes.append(idx)
    if key is None or len(key) == 0:
        return np.zeros(0, np.int64), []
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rows = [tuple(values[c][codes[c][r]] for c in range(len(columns))) for r in first.tolist()]
    return inverse.reshape(-1), rows


class ReportReader:
    """Reads one report file in batches of rows, column by column.

    :meth:`check` validates (the plan); :meth:`batches` yields the values to
    write (the run) and raises at the first bad value. Clean files are read by
    Arrow's CSV reader and checked column-wise on each column's distinct
    values (dates, booleans and whole license combinations repeat a lot); a
    file with anything wrong is read again by the exact reader (the csv
    module), which names file, line and column of each error.
    """

    def __init__(self, spec: ReportSpec, csvfile: CsvFile, errors: FileErrors, matcher: ProductMatcher,
                 as_of: str | None):
        self.spec, self.csv, self.errors, self.matcher, self.as_of = spec, csvfile, errors, matcher, as_of
        self.dates: dict[str, object] = {"": None}
        self.bools: dict[str, object] = {"True": True, "False": False, "": False}
        self.combos: dict[tuple, tuple] = {}
        self.report_dates: set[str] = set()
        self.dates_with_activity: set[str] = set()
        self.synthetic: set[str] = set()
        self.unknown: set[str] = set()
        self.concealed = 0
        self.has_assignments = False
        self.has_deleted = False
        self.ready = False
        self.fast = False

    def _setup(self) -> bool:
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
                self.combo_wl.append((workload, ias is not None))
        # what decides the products and the GRAPH:<workload> licenses (not the assign dates)
        self.shape_cols = ([self.i_prod] if self.i_prod is not None else []) + [il for _, _, il, _ in wl if il is not None]
        self.has_assignments = bool(self.combo_cols)
        self.has_deleted = self.i_del is not None or self.i_state is not None
        self.date_cols = [self.i_rrd] + [i for i in (self.i_deld, self.i_stated) if i is not None]
        self.date_cols += [i for _, ia, _, ias in wl for i in (ia, ias) if i is not None]
        self.bool_cols = [i for i in (self.i_del,) if i is not None] + [il for _, _, il, _ in wl if il is not None]
        self.act_workloads = sorted({w for w, ia, _, _ in wl if ia is not None})
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
        try:
            for batch in arrow_batches(self.csv.path, self.csv.header):
                self._check_arrow(batch.columns)
                self.csv.rows += batch.num_rows
            self.fast = True
            return
        except NotClean:
            self._reset()
        for lines, rows in self._raw():
            self._check_cols(lines, list(zip(*rows)))

    def _reset(self) -> None:
        self.csv.rows = 0
        self.report_dates, self.dates_with_activity = set(), set()
        self.synthetic, self.unknown, self.combos = set(), set(), {}
        self.concealed = 0

    def _check_arrow(self, cols) -> None:
        """Validate one batch of the fast reader on each column's distinct values;
        NotClean at anything wrong (the exact reader then names the lines)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        upn = cols[self.i_upn]
        # blank names: only values starting or ending with something else than visible ASCII can be
        odd = pc.match_substring_regex(upn, r"^$|^[^\x21-\x7e]|[^\x21-\x7e]$")
        if pc.any(odd).as_py() and any(not u.strip() for u in pc.filter(upn, odd).to_pylist()):
            raise NotClean("blank user name")
        hidden = pc.and_(pc.equal(pc.utf8_length(upn), 32), pc.invert(pc.match_substring(upn, "@")))
        if pc.any(hidden).as_py():
            self.concealed += pc.count_distinct(pc.filter(upn, hidden)).as_py()
        distinct: dict[int, list[str]] = {}
        for i in self.date_cols:
            distinct[i] = self._check_values(cols[i], self.dates, _date_value,
                                             required=(i == self.i_rrd and not self.as_of))
        for i in self.bool_cols:
            self._check_values(cols[i], self.bools, _bool_value)
        rd = {self.as_of} if self.as_of else {self.dates[v] for v in distinct[self.i_rrd]}
        self.report_dates |= rd
        if not rd <= self.dates_with_activity:
            for _, ia, _, _ in self.wl:
                if ia is None:
                    continue
                active = [v for v in distinct[ia] if self.dates[v] is not None]
                if not active:
                    continue
                if len(rd) == 1:
                    self.dates_with_activity |= rd
                    break
                rows = pc.is_in(cols[ia], value_set=pa.array(active, pa.string()))
                self.dates_with_activity |= {self.dates[v] for v in pc.unique(pc.filter(cols[self.i_rrd], rows)).to_pylist()}
        if self.shape_cols:
            _, shapes = _distinct([cols[i] for i in self.shape_cols])
            for shape in shapes:
                self._note_shape(shape)

    def _check_values(self, col, table, parse, *, required=False) -> list[str]:
        """The distinct values of ``col``, each parsed once into ``table``; NotClean if one is bad."""
        import pyarrow.compute as pc

        values = pc.unique(col).to_pylist()
        for v in values:
            value = table.get(v, _MISSING)
            if value is _MISSING:
                value = table[v] = parse(v)
            if value is BAD or (required and value is None):
                raise NotClean("bad values")
        return values

    def _note_shape(self, shape: tuple) -> None:
        """What the check reports of one (products, license flags ...) combination:
        products not in the catalogue, workloads licensed without a named product."""
        k = 0
        skus: tuple = ()
        if self.i_prod is not None:
            k = 1
            if shape[0].strip():
                skus, unknown = self.matcher.split(shape[0])
                self.unknown.update(unknown)
        covered: set[str] = set()
        for sku in skus:
            covered.update(self.matcher.workloads_of(sku))
        for (workload, _), flag in zip(self.combo_wl, shape[k:]):
            if self.bools.get(flag, _bool_value(flag)) is True and workload not in covered:
                self.synthetic.add(workload)

    def _check_cols(self, lines: list[int], cols) -> None:
        """Validate one batch of the exact reader, naming the line of each error."""
        errors, header = self.errors, self.csv.header
        uniq = set(cols[self.i_upn])
        blank = {u for u in uniq if not u.strip()}
        if blank:
            for line, u in zip(lines, cols[self.i_upn]):
                if u in blank:
                    errors.add("a user principal name is required", line=line, field=header[self.i_upn])
        self.concealed += sum(1 for u in uniq if len(u) == 32 and "@" not in u)
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
            for combo in set(zip(*(cols[i] for i in self.combo_cols))):
                if combo not in self.combos:
                    self._combo(combo)

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

    def _combo(self, combo: tuple) -> tuple:
        """((sku, assigned date), ...) for one combination of products, flags and assign dates."""
        k = 0
        skus: tuple = ()
        if self.i_prod is not None:
            text = combo[0]
            k = 1
            if text.strip():
                skus, unknown = self.matcher.split(text)
                self.unknown.update(unknown)
        licensed: dict[str, str | None] = {}
        for workload, has_date in self.combo_wl:
            flag, assigned = combo[k], combo[k + 1]
            k += 2
            if self.bools.get(flag, _bool_value(flag)) is True:
                d = self.dates.get(assigned, _date_value(assigned)) if has_date else None
                d = None if d is BAD else d
                if workload not in licensed or (d is not None and (licensed[workload] is None or d < licensed[workload])):
                    licensed[workload] = d
        out: list[tuple[str, str | None]] = []
        covered: set[str] = set()
        for sku in skus:
            wls = self.matcher.workloads_of(sku)
            covered.update(wls)
            dates = [licensed[w] for w in wls if licensed.get(w)]
            out.append((sku, min(dates) if dates else None))
        for workload, d in licensed.items():
            if workload not in covered:
                self.synthetic.add(workload)
                out.append((synthetic_sku(workload), d))
        result = tuple(out)
        self.combos[combo] = result
        return result

    # -- the run: values to write

    def batches(self):
        """Batches to write; ``self.fast`` (from the check) picks the reader."""
        if self.fast:
            if not self.csv.read_header() or not self._setup():
                return
            for batch in arrow_batches(self.csv.path, self.csv.header, verify=False):
                yield self._build(batch.columns, batch.num_rows)
            return
        import pyarrow as pa

        for _, rows in self._raw():
            yield self._build([pa.array(col, pa.string()) for col in zip(*rows)], len(rows))

    def _codes(self, col, table, parse, index) -> tuple[object, list]:
        """(per row an index into the values, the distinct values parsed); raises at a bad value."""
        d = col.dictionary_encode()
        values = []
        for v in d.dictionary.to_pylist():
            value = table.get(v, _MISSING)
            if value is _MISSING:
                value = table[v] = parse(v)
            if value is BAD:
                raise InputError(f"{v!r} is not valid (the file changed since it was checked)",
                                 file=str(self.csv.path), field=self.csv.header[index])
            values.append(value)
        return d.indices.to_numpy(zero_copy_only=False), values

    def _build(self, cols, n: int) -> Batch:
        import numpy as np

        upns = list(map(str.strip, cols[self.i_upn].to_pylist()))
        keys = list(map(str.lower, upns))
        names = list(map(str.strip, cols[self.i_name].to_pylist())) if self.i_name is not None else None
        if self.as_of:
            report_dates: object = self.as_of
        else:
            idx, values = self._codes(cols[self.i_rrd], self.dates, _date_value, self.i_rrd)
            if None in values:
                raise InputError("a date is required (the file changed since it was checked)",
                                 file=str(self.csv.path), field=self.csv.header[self.i_rrd])
            report_dates = values[0] if len(set(values)) == 1 else _objects(values)[idx]
        deleted = deleted_dates = None
        flag_col, date_col = (self.i_del, self.i_deld) if self.i_del is not None else (self.i_state, self.i_stated)
        if flag_col is not None:
            if self.i_del is not None:
                idx, values = self._codes(cols[flag_col], self.bools, _bool_value, flag_col)
                deleted = np.asarray([v is True for v in values], dtype=bool)[idx]
            else:
                d = cols[flag_col].dictionary_encode()
                states = [v.strip().lower() == "deleted" for v in d.dictionary.to_pylist()]
                deleted = np.asarray(states, dtype=bool)[d.indices.to_numpy(zero_copy_only=False)]
            if date_col is not None:
                idx, values = self._codes(cols[date_col], self.dates, _date_value, date_col)
                deleted_dates = _objects(values)[idx]
                deleted_dates[~deleted] = None
            else:
                deleted_dates = np.full(n, None, dtype=object)
        # activity: per workload column the rank of its date among the batch's dates (0: none);
        # OneDrive and SharePoint are one workload: the later date wins
        workloads = self.act_workloads
        per = []
        seen: set[str] = set()
        for workload, ia, _, _ in self.wl:
            if ia is not None:
                idx, values = self._codes(cols[ia], self.dates, _date_value, ia)
                per.append((workloads.index(workload), idx, values))
                seen.update(v for v in values if v is not None)
        ordered = sorted(seen)
        rank = {d: k for k, d in enumerate(ordered, 1)}
        activity = np.zeros((n, len(workloads)), dtype=np.int32)
        for j, idx, values in per:
            codes = np.asarray([rank[v] if v is not None else 0 for v in values], dtype=np.int32)[idx]
            np.maximum(activity[:, j], codes, out=activity[:, j])
        combo, combos = None, []
        if self.combo_cols:
            combo, found = _distinct([cols[i] for i in self.combo_cols])
            for key in found:
                result = self.combos.get(key)
                combos.append(result if result is not None else self._combo(key))
        return Batch(n, keys, upns, names, deleted, deleted_dates, report_dates, workloads, activity,
                     _objects([None] + ordered), combo, combos)


def _title(column: str) -> str:
    return " ".join(w if w in ("or", "for") else w.capitalize() for w in column.split(" "))


# --------------------------------------------------------------------------- writing


class TenantUsers:
    """The users of one customer as a run sees them, to match rows to users by
    user principal name (case-insensitive) without holding the names: per user
    the hash of the lower-cased name and the id, in sorted numpy arrays (16
    bytes a user). A hash match is confirmed against the stored name before it
    counts, so two names with the same hash are never taken for one user. When
    several users share a name (in another case), the oldest one is matched.
    """

    MERGE_PARTS = 8

    def __init__(self, conn: sqlite3.Connection, customer_id: int):
        import numpy as np

        self.customer_id = customer_id
        self._parts: list[tuple] = []
        ids, hashes = [], []
        for uid, upn in conn.execute("SELECT id, upn FROM users WHERE customer_id = ? ORDER BY id", (customer_id,)):
            ids.append(uid)
            hashes.append(hash(upn.lower()))
        if ids:
            self.add(np.asarray(hashes, dtype=np.int64), np.asarray(ids, dtype=np.int64))

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._parts)

    def add(self, hashes, ids) -> None:
        """Register new users (``ids`` newer than every user registered before)."""
        import numpy as np

        order = np.argsort(hashes, kind="stable")
        self._parts.append((hashes[order], ids[order]))
        if len(self._parts) > self.MERGE_PARTS:
            # oldest part first and a stable sort: among equal hashes the oldest user stays first
            h = np.concatenate([p[0] for p in self._parts])
            i = np.concatenate([p[1] for p in self._parts])
            order = np.argsort(h, kind="stable")
            self._parts = [(h[order], i[order])]

    def lookup(self, hashes):
        """Per hash the oldest user id with that hash (0: none); to be confirmed by name."""
        import numpy as np

        out = np.zeros(len(hashes), dtype=np.int64)
        for h, ids in self._parts:
            pos = np.minimum(np.searchsorted(h, hashes), len(h) - 1)
            hit = (h[pos] == hashes) & (out == 0)
            out[hit] = ids[pos[hit]]
        return out

    def candidates(self, value: int) -> list[int]:
        """Every user id whose hash is ``value``, oldest first."""
        import numpy as np

        out: list[int] = []
        for h, ids in self._parts:
            lo, hi = np.searchsorted(h, value, side="left"), np.searchsorted(h, value, side="right")
            out.extend(ids[lo:hi].tolist())
        return sorted(out)


@dataclass
class WriteStats:
    added: int = 0
    updated: int = 0
    activity: int = 0
    assignments: int = 0


ACTIVITY_INSERT = "INSERT INTO activity(user_id, workload, report_date, last_activity)"
ACTIVITY_UPSERT = (
    " ON CONFLICT(user_id, workload, report_date) DO UPDATE SET last_activity = "
    "CASE WHEN activity.last_activity IS NULL OR excluded.last_activity > activity.last_activity "
    "THEN excluded.last_activity ELSE activity.last_activity END"
)
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
    for batch in reader.batches():
        hashes = np.fromiter(map(hash, batch.keys), dtype=np.int64, count=batch.n)
        rest = np.arange(batch.n)
        part = batch
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
        users.add(hashes[new], uids[new])
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
            rows[:, 4] = part.deleted_dates[new]
            writes.insert_many(conn, USERS_INSERT, "({}, ?1, {}, {}, {}, {})", rows.ravel().tolist(), 5, (cid,))
        else:
            writes.insert_many(conn, USERS_INSERT, "({}, ?1, {}, {}, 0, NULL)", rows.ravel().tolist(), 3, (cid,))
        stats.added += len(new)
    if updates:
        conn.executemany("UPDATE users SET display_name = ?, is_deleted = ?, deleted_date = ? WHERE id = ?", updates)
        stats.updated += len(updates)
    if part.combo is not None:
        if latest:
            old = uids[~fresh]
            if len(old):
                writes.delete_where_in(conn, "assignments", "user_id", old.tolist())
            sel = np.arange(n)
        else:
            sel = new
        stats.assignments += _write_assignments(conn, part, uids, sel)
    if part.workloads:
        stats.activity += _write_activity(conn, part, uids, keep_empty_dates)


def _write_assignments(conn, part: Batch, uids, sel) -> int:
    """Each selected row's assignments (its combination's (sku, date) pairs), user by user."""
    import numpy as np

    if not len(sel) or not part.combos:
        return 0
    sizes = np.asarray([len(c) for c in part.combos], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    skus = _objects([sku for c in part.combos for sku, _ in c])
    dates = _objects([d for c in part.combos for _, d in c])
    combo = part.combo[sel]
    count = sizes[combo]
    total = int(count.sum())
    if not total:
        return 0
    before = np.cumsum(count) - count
    pos = np.arange(total) - np.repeat(before, count) + np.repeat(starts[combo], count)
    rows = np.empty((total, 3), dtype=object)
    rows[:, 0] = np.repeat(uids[sel], count)
    rows[:, 1] = skus[pos]
    rows[:, 2] = dates[pos]
    return writes.insert_many(conn, ASSIGNMENTS_INSERT, "({}, {}, NULL, {}, 'entitled')", rows.ravel().tolist(), 3)


def _write_activity(conn, part: Batch, uids, keep_empty_dates) -> int:
    """Activity rows in primary-key order: per user, per workload (sorted)."""
    import numpy as np

    act = part.activity
    rd = part.report_dates
    workloads = _objects(part.workloads)
    if isinstance(rd, str):
        mask = np.ones(act.shape, dtype=bool) if rd in keep_empty_dates else act > 0
        r, c = np.nonzero(mask)
        rows = np.empty((len(r), 3), dtype=object)
        rows[:, 0] = uids[r]
        rows[:, 1] = workloads[c]
        rows[:, 2] = part.dates[act[r, c]]
        return writes.insert_many(conn, ACTIVITY_INSERT, "({}, {}, ?1, {})", rows.ravel().tolist(), 3, (rd,),
                                  ACTIVITY_UPSERT)
    keep = np.asarray([d in keep_empty_dates for d in rd.tolist()], dtype=bool)
    r, c = np.nonzero((act > 0) | keep[:, None])
    rows = np.empty((len(r), 4), dtype=object)
    rows[:, 0] = uids[r]
    rows[:, 1] = workloads[c]
    rows[:, 2] = rd[r]
    rows[:, 3] = part.dates[act[r, c]]
    return writes.insert_many(conn, ACTIVITY_INSERT, "({}, {}, {}, {})", rows.ravel().tolist(), 4, (),
                              ACTIVITY_UPSERT)
