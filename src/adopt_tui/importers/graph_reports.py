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
from adopt_tui.importers.textio import MAX_TEXT, CsvFile, FileErrors, NotClean, _parse_any_date, fast_column_batches

BATCH = 20_000


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
    """Up to BATCH rows of one report, column-wise, ready to write."""

    n: int
    keys: list[str]                              # upn, lower-cased
    upns: list[str]
    names: list[str] | None
    deleted: list[bool] | None                   # None: the report does not tell
    deleted_dates: list[str | None] | None
    report_dates: list[str] | str                # one date for the batch, or one per row
    activity: dict[str, list[str | None]]        # workload -> last activity per row
    assignments: list[tuple] | None              # per row: ((sku, assigned date), ...); None: not told


class ReportReader:
    """Reads one report file in batches of rows, column by column.

    :meth:`check` validates (the plan); :meth:`batches` yields the values to
    write (the run) and raises at the first bad value. Dates, booleans and
    whole license combinations (products, flags, assign dates) repeat a lot
    and are parsed once each through memo tables, so a row costs little Python.
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
        self.has_assignments = bool(self.combo_cols)
        self.has_deleted = self.i_del is not None or self.i_state is not None
        self.date_cols = [self.i_rrd] + [i for i in (self.i_deld, self.i_stated) if i is not None]
        self.date_cols += [i for _, ia, _, ias in wl for i in (ia, ias) if i is not None]
        self.bool_cols = [i for i in (self.i_del,) if i is not None] + [il for _, _, il, _ in wl if il is not None]
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
            for cols in fast_column_batches(self.csv.path, BATCH, len(self.csv.header)):
                self._check_cols(None, cols)
                self.csv.rows += len(cols[0])
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

    def _check_cols(self, lines: list[int] | None, cols) -> None:
        errors, header = self.errors, self.csv.header
        if lines is None:  # the fast reader: refuse what needs line numbers to report
            for i in (self.i_upn, self.i_name, self.i_prod):
                if i is not None and cols[i] and max(map(len, cols[i])) > MAX_TEXT:
                    raise NotClean("huge field")
        uniq = set(cols[self.i_upn])
        blank = {u for u in uniq if not u.strip()} if "" in uniq or any(u[:1] == " " for u in uniq) else set()
        if blank:
            if lines is None:
                raise NotClean("blank user name")
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
        if lines is None:
            raise NotClean("bad values")
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

    def _map(self, col, table, parse, index) -> list:
        try:
            return list(map(table.__getitem__, col))
        except KeyError:
            pass
        for v in set(col).difference(table):
            value = parse(v)
            if value is BAD:
                raise InputError(f"{v!r} is not valid (the file changed since it was checked)",
                                 file=str(self.csv.path), field=self.csv.header[index])
            table[v] = value
        return list(map(table.__getitem__, col))

    def batches(self):
        """Batches to write; ``self.fast`` (from the check) picks the reader."""
        if self.fast:
            if not self.csv.read_header() or not self._setup():
                return
            for cols in fast_column_batches(self.csv.path, BATCH, len(self.csv.header)):
                yield self._build(cols)
            return
        for lines, rows in self._raw():
            yield self._build(list(zip(*rows)))

    def _build(self, cols) -> Batch:
        n = len(cols[0])
        upns = list(map(str.strip, cols[self.i_upn]))
        keys = list(map(str.lower, upns))
        if self.as_of:
            report_dates: list | str = self.as_of
        else:
            rd = self._map(cols[self.i_rrd], self.dates, _date_value, self.i_rrd)
            distinct = set(rd)
            report_dates = next(iter(distinct)) if len(distinct) == 1 else rd
        names = list(map(str.strip, cols[self.i_name])) if self.i_name is not None else None
        deleted = deleted_dates = None
        if self.i_del is not None:
            deleted = self._map(cols[self.i_del], self.bools, _bool_value, self.i_del)
            if self.i_deld is not None:
                dd = self._map(cols[self.i_deld], self.dates, _date_value, self.i_deld)
                deleted_dates = [d if x else None for x, d in zip(deleted, dd)]
            else:
                deleted_dates = [None] * n
        elif self.i_state is not None:
            deleted = [v.strip().lower() == "deleted" for v in cols[self.i_state]]
            if self.i_stated is not None:
                sd = self._map(cols[self.i_stated], self.dates, _date_value, self.i_stated)
                deleted_dates = [d if x else None for x, d in zip(deleted, sd)]
            else:
                deleted_dates = [None] * n
        activity: dict[str, list] = {}
        for workload, ia, _, _ in self.wl:
            if ia is None:
                continue
            last = self._map(cols[ia], self.dates, _date_value, ia)
            activity[workload] = list(map(_later, activity[workload], last)) if workload in activity else last
        assignments = None
        if self.combo_cols:
            combos = list(zip(*(cols[i] for i in self.combo_cols)))
            for combo in set(combos).difference(self.combos):
                self._combo(combo)
            assignments = list(map(self.combos.__getitem__, combos))
        return Batch(n, keys, upns, names, deleted, deleted_dates, report_dates, activity, assignments)


def _later(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def _title(column: str) -> str:
    return " ".join(w if w in ("or", "for") else w.capitalize() for w in column.split(" "))


# --------------------------------------------------------------------------- writing


class TenantUsers:
    """The users of one customer, loaded once per run: upn key -> [id, display, deleted, deleted_date]."""

    def __init__(self, conn: sqlite3.Connection, customer_id: int):
        self.customer_id = customer_id
        self.by_key: dict[str, list] = {}
        for uid, upn, name, deleted, deleted_date in conn.execute(
            "SELECT id, upn, display_name, is_deleted, deleted_date FROM users WHERE customer_id = ?", (customer_id,)
        ):
            self.by_key.setdefault(upn.lower(), [uid, name, deleted, deleted_date])


@dataclass
class WriteStats:
    added: int = 0
    updated: int = 0
    activity: int = 0
    assignments: int = 0


ACTIVITY_UPSERT = (
    "INSERT INTO activity(user_id, workload, report_date, last_activity) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(user_id, workload, report_date) DO UPDATE SET last_activity = "
    "CASE WHEN activity.last_activity IS NULL OR excluded.last_activity > activity.last_activity "
    "THEN excluded.last_activity ELSE activity.last_activity END"
)


def write_report(conn: sqlite3.Connection, reader: ReportReader, users: TenantUsers, next_id, *, latest: bool,
                 keep_empty_dates: set[str] = frozenset(), tick=None) -> WriteStats:
    """Write the rows of ``reader`` for ``users.customer_id``.

    ``next_id(n)`` reserves ``n`` users.id values and returns the first. Activity rows without a date
    are stored only for the report dates in ``keep_empty_dates`` (dates with no
    activity at all, so that the date still exists); elsewhere "no row" and
    "no activity" mean the same. ``tick(n)`` is called after each batch (it
    may raise to cancel).
    """
    stats = WriteStats()
    cid = users.customer_id
    by_key = users.by_key
    for batch in reader.batches():
        new_users, updates, del_asg, ins_asg, act = [], [], [], [], []
        names = batch.names
        deleted = batch.deleted
        dd = batch.deleted_dates
        keys = batch.keys
        n = batch.n
        found = list(map(by_key.get, keys))
        if found.count(None) == n and len(set(keys)) == n:
            # all new (a first import): no per-row decisions
            first = next_id(n)
            uids = list(range(first, first + n))
            fresh = [True] * n
            names_ = names if names is not None else [""] * n
            dels = [1 if x else 0 for x in deleted] if deleted is not None else [0] * n
            dds = dd if dd is not None else [None] * n
            new_users = list(zip(uids, [cid] * n, batch.upns, names_, dels, dds))
            by_key.update(zip(keys, map(list, zip(uids, names_, dels, dds))))
        else:
            uids, fresh = [], []
            for i, key in enumerate(keys):
                entry = by_key.get(key)
                if entry is None:
                    uid = next_id(1)
                    d = bool(deleted[i]) if deleted is not None else False
                    entry = [uid, names[i] if names is not None else "", int(d), dd[i] if deleted is not None else None]
                    by_key[key] = entry
                    new_users.append((uid, cid, batch.upns[i], entry[1], entry[2], entry[3]))
                    fresh.append(True)
                else:
                    uid = entry[0]
                    fresh.append(False)
                    if latest:
                        changed = False
                        if names is not None and names[i] and names[i] != entry[1]:
                            entry[1] = names[i]
                            changed = True
                        if deleted is not None and (int(deleted[i]) != entry[2] or dd[i] != entry[3]):
                            entry[2], entry[3] = int(deleted[i]), dd[i]
                            changed = True
                        if changed:
                            updates.append((entry[1], entry[2], entry[3], uid))
                            stats.updated += 1
                uids.append(uid)
        stats.added += len(new_users)
        if batch.assignments is not None:
            if latest:
                del_asg = [(u,) for u, f in zip(uids, fresh) if not f]
                ins_asg = [(u, sku, d) for u, combo in zip(uids, batch.assignments) for sku, d in combo]
            else:
                ins_asg = [(u, sku, d) for u, f, combo in zip(uids, fresh, batch.assignments) if f for sku, d in combo]
        rd = batch.report_dates
        for workload, values in batch.activity.items():
            if isinstance(rd, str):
                if rd in keep_empty_dates:
                    act += [(u, workload, rd, v) for u, v in zip(uids, values)]
                else:
                    act += [(u, workload, rd, v) for u, v in zip(uids, values) if v is not None]
            else:
                act += [(u, workload, r, v) for u, v, r in zip(uids, values, rd) if v is not None or r in keep_empty_dates]
        if new_users:
            conn.executemany(
                "INSERT INTO users(id, customer_id, upn, display_name, is_deleted, deleted_date) VALUES (?, ?, ?, ?, ?, ?)",
                new_users,
            )
        if updates:
            conn.executemany("UPDATE users SET display_name = ?, is_deleted = ?, deleted_date = ? WHERE id = ?", updates)
        if del_asg:
            conn.executemany("DELETE FROM assignments WHERE user_id = ?", del_asg)
        if ins_asg:
            conn.executemany(
                "INSERT OR REPLACE INTO assignments(user_id, sku, subscription_id, assigned_date, state) "
                "VALUES (?, ?, NULL, ?, 'entitled')", ins_asg,
            )
            stats.assignments += len(ins_asg)
        if act:
            conn.executemany(ACTIVITY_UPSERT, act)
            stats.activity += len(act)
        if tick is not None:
            tick(batch.n)
    return stats
