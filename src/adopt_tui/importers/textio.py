"""Reading partner files: encodings, hashing, CSV rows with line numbers.

Files are streamed (never read whole, except JSON, which is small): the
CSV module reads a text stream decoded on the fly. UTF-8 with or without a
byte-order mark is the norm; UTF-16 with a byte-order mark (what spreadsheet
programs write as "Unicode text") is accepted too. Line ends may be LF or CRLF.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import queue
import tempfile
import threading
import weakref
from datetime import date
from pathlib import Path
from typing import Iterator

from adopt_tui.errors import AdoptError, InputError

HASH_CHUNK = 1 << 20


class FileErrors:
    """Errors of one file, forwarded to the run's capped collector.

    ``count`` keeps counting past the cap so that every file knows whether it
    is clean. ``strict`` (the write pass) raises at the first error instead.
    """

    def __init__(self, sink, name: str, *, strict: bool = False):
        self.sink, self.name, self.strict, self.count = sink, name, strict, 0

    def add(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.count += 1
        if self.strict:
            raise InputError(message, file=self.name, line=line, field=field)
        if self.sink is not None:
            self.sink.add(message, file=self.name, line=line, field=field)

    @property
    def full(self) -> bool:
        """The run keeps no more errors: scanning for details is pointless."""
        return self.sink is not None and self.sink.full and not self.strict

    def __bool__(self) -> bool:
        return self.count > 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8-sig"


def open_text(path: Path) -> io.TextIOWrapper:
    raw = path.open("rb")
    head = raw.read(4)
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding=sniff_encoding(head), newline="", errors="strict")


def first_text(path: Path, limit: int = 65536) -> str:
    """The start of the file as text (for detection); raises UnicodeDecodeError."""
    with path.open("rb") as fh:
        head = fh.read(limit)
    encoding = sniff_encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    return decoder.decode(head, final=False)


def locate_decode_error(path: Path) -> tuple[int, int]:
    """(line number, byte offset) of the first bytes that are not valid text."""
    with path.open("rb") as fh:
        data_head = fh.read(4)
        fh.seek(0)
        encoding = sniff_encoding(data_head)
        if encoding == "utf-16":
            return 1, 0
        line, offset = 1, 0
        first = True
        for raw_line in fh:
            chunk = raw_line[3:] if first and raw_line.startswith(codecs.BOM_UTF8) else raw_line
            first = False
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                return line, offset + exc.start
            offset += len(raw_line)
            line += 1
    return line, offset


def delimiter_of(header_line: str, known: set[str]) -> str:
    """',' or tab, whichever splits the header into more known column names."""
    def score(sep: str) -> int:
        return sum(1 for c in header_line.split(sep) if _norm(c) in known)

    return "\t" if score("\t") > score(",") else ","


def _norm(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def norm_header(names: list[str]) -> list[str]:
    return [_norm(n) for n in names]


class CsvFile:
    """A CSV file read as (line number, row) with its header mapped by name.

    Iterating yields rows whose field count equals the header's; other rows
    and unreadable content are reported to ``errors`` (with file and line)
    and skipped. Blank lines are skipped. ``rows`` counts data rows seen.
    """

    def __init__(self, path: Path, errors: FileErrors, delimiter: str = ","):
        self.path, self.errors, self.delimiter = path, errors, delimiter
        self.header: list[str] = []      # as written
        self.columns: list[str] = []     # normalised (lower case)
        self.rows = 0
        self.broken = False              # reading stopped early on an unreadable part

    def index(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, c in enumerate(self.columns):
            out.setdefault(c, i)
        return out

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for lines, rows in self.batches(1000):
            yield from zip(lines, rows)

    def read_header(self) -> bool:
        """Read just the header row; False (with the error reported) when there is none."""
        quiet = FileErrors(None, "")
        for _ in self._batches(1, quiet, header_only=True):
            pass
        if quiet.count and not self.columns:
            # report through the real collector
            for _ in self.batches(1):
                break
            return False
        return bool(self.columns)

    def batches(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        return self._batches(size, self.errors)

    def _batches(self, size: int, errors: FileErrors, header_only: bool = False):
        """(line numbers, rows) in lists of up to ``size`` rows."""
        try:
            fh = open_text(self.path)
        except OSError as exc:
            errors.add(f"cannot read the file: {exc.strerror}")
            self.broken = True
            return
        with fh:
            reader = csv.reader(fh, delimiter=self.delimiter, strict=True)
            lines: list[int] = []
            rows: list[list[str]] = []
            try:
                try:
                    header = next(reader)
                except StopIteration:
                    errors.add("the file is empty (a header row is required)", line=1)
                    self.broken = True
                    return
                self.header = [h.strip().lstrip("\ufeff") for h in header]
                self.columns = norm_header(self.header)
                width = len(header)
                if header_only:
                    return
                for row in reader:
                    if len(row) != width:
                        if not row or (len(row) == 1 and not row[0].strip()):
                            continue
                        self.rows += 1
                        errors.add(
                            f"{len(row)} fields, the header has {width} (a row must have as many fields as the header)",
                            line=reader.line_num,
                        )
                        continue
                    lines.append(reader.line_num)
                    rows.append(row)
                    if len(rows) >= size:
                        self.rows += len(rows)
                        yield lines, rows
                        lines, rows = [], []
                if rows:
                    self.rows += len(rows)
                    yield lines, rows
            except UnicodeDecodeError:
                line, offset = locate_decode_error(self.path)
                errors.add(f"not UTF-8 text (invalid bytes at byte {offset}); is this the right file?", line=line)
                self.broken = True
            except csv.Error as exc:
                message = str(exc)
                line = reader.line_num or 1
                if "field larger than field limit" in message:
                    message = (f"a field is longer than {csv.field_size_limit():,} characters "
                               "(not a report file, or a broken one)")
                elif "NUL" in message:
                    message = "the file contains NUL bytes (binary data, not a CSV text file)"
                else:
                    message = f"malformed CSV: {message}"
                errors.add(message, line=line)
                self.broken = True


class NotClean(AdoptError):
    """The fast reader met something only the exact reader can report (line numbers)."""


MAX_TEXT = 131072   # the csv module's default field size limit, kept for the fast reader too
ARROW_BLOCK = 1 << 22   # bytes parsed per batch by the fast reader (about 20,000 report rows)


ARROW_TRUE = ["True", "true", "TRUE", "1", "Yes", "yes", "YES", "Y", "y"]
ARROW_FALSE = ["False", "false", "FALSE", "0", "No", "no", "NO", "N", "n"]


def arrow_batches(path: Path, header: list[str], delimiter: str = ",", block_size: int | None = None, *,
                  types: dict | None = None, verify: bool = True):
    """The data rows as Arrow record batches (columns ``c0`` ..), parsed by
    Arrow's streaming CSV reader (C++, several times cheaper than the csv
    module). ``header`` is the header as :class:`CsvFile` read it; the fast
    reader reads the header row too and must agree with it.

    Columns are strings unless ``types`` (column index -> Arrow type) says
    otherwise: ``date32`` (ISO dates; empty is null), ``bool_`` (True/False,
    1/0, yes/no; empty is null) or a dictionary of strings. A value the type
    does not take is irregular too.

    Raises NotClean at anything irregular (a row with the wrong number of
    fields, bytes that are not UTF-8, a NUL byte, a header read differently,
    UTF-16 text); the caller then reads the file with :class:`CsvFile`, which
    reports it by line. A caller may rely on the batches only once the
    iteration has ended without NotClean. ``verify=False`` skips the checks
    for NUL bytes and huge fields (the run, on a file the check read).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    with path.open("rb") as fh:
        first_line = fh.readline(1 << 20)
    if sniff_encoding(first_line[:4]) != "utf-8-sig":
        raise NotClean("UTF-16 text")
    if b'"' in first_line:   # a quoted header (maybe over several lines): rows to skip are not lines
        raise NotClean("quoted header")
    if verify and _has_nul(path):
        raise NotClean("NUL byte")
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    types = types or {}
    try:
        # the header row is read as a data row (all strings), checked and dropped
        head_reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 16, column_names=names),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                include_columns=names),
        )
        first = next(iter(head_reader), None)
        if first is None or not first.num_rows:
            return
        seen = [first.column(i)[0].as_py().strip().lstrip("\ufeff") for i in range(width)]
        if seen != header:
            raise NotClean("the header reads differently")
        del first, head_reader
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=True, block_size=block_size or ARROW_BLOCK, column_names=names,
                                          skip_rows=1),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(
                column_types={n: types.get(i, pa.string()) for i, n in enumerate(names)},
                strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[""],
                true_values=ARROW_TRUE, false_values=ARROW_FALSE),
        )
        for batch in reader:
            if not batch.num_rows:
                continue
            if verify and any(pc.max(pc.binary_length(c)).as_py() > MAX_TEXT
                              for i, c in enumerate(batch.columns) if i not in types):
                raise NotClean("huge field")
            yield batch
    except (pa.ArrowException, UnicodeDecodeError, OSError, ValueError) as exc:
        raise NotClean(str(exc)) from None


_DONE = object()


def prefetch(items: Iterator, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead.

    For work that releases the GIL (Arrow's parser, numpy), so that it runs on
    the second core while the caller works on the previous item. Exceptions
    are raised in the caller, in order; closing the returned generator stops
    the thread (at most ``depth`` items are ever held).
    """
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the caller
            put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name="adopt-tui-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Staged:
    """The fast reader's batches of a checked file, kept in a private temporary
    file (an Arrow IPC stream, mode 0600) so that the run reads them back
    instead of parsing the CSV again. The file goes with this
    object (or at :meth:`discard`). Staging is an optimisation: when it fails
    (a full disk), the run parses the file again.
    """

    def __init__(self):
        fd, self.path = tempfile.mkstemp(prefix="adopt-tui-import-", suffix=".arrows")
        os.close(fd)
        self._discard = weakref.finalize(self, _unlink, self.path)
        self._sink = self._writer = None
        self.complete = False

    def write(self, batch) -> None:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        if self._writer is None:
            self._sink = pa.OSFile(self.path, "wb")
            self._writer = ipc.new_stream(self._sink, batch.schema)
        self._writer.write_batch(batch)

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = self._sink = None
        self.complete = True

    def batches(self) -> Iterator:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        if not self.complete:
            raise NotClean("the staged batches are not complete")
        if os.path.getsize(self.path) == 0:
            return
        try:
            # read, not memory-mapped: a batch's pages then go with the batch instead of
            # adding up in the process's resident memory until the end of the file
            with pa.OSFile(self.path, "rb") as source:
                yield from ipc.open_stream(source)
        except (pa.ArrowException, OSError) as exc:
            raise AdoptError(f"the data the check kept for the run cannot be read ({exc}); "
                             "nothing was imported: check the files again") from None

    @property
    def usable(self) -> bool:
        """Complete, and still there (a temporary directory may be cleaned behind our back)."""
        return self.complete and os.path.isfile(self.path)

    def discard(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
                self._sink.close()
            except Exception:  # noqa: BLE001 - the file goes anyway
                pass
            self._writer = self._sink = None
        self.complete = False
        self._discard()


def _has_nul(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            if b"\0" in chunk:
                return True
    return False


# --------------------------------------------------------------------------- fast field parsers

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class Parsers:
    """Memoised field parsers for hot loops (dates and booleans repeat a lot).

    Each returns (value, None) or (None, reason).
    """

    def __init__(self):
        self._dates: dict[str, str | None] = {"": None}
        self._bools: dict[str, bool] = {}

    def date(self, text: str) -> str | None:
        """ISO date or None for ''; raises ValueError."""
        try:
            return self._dates[text]
        except KeyError:
            pass
        value = text.strip()
        if not value:
            result = None
        else:
            result = _parse_any_date(value)
            if result is None:
                raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)")
        if len(self._dates) < 100_000:
            self._dates[text] = result
        return result

    def bool(self, text: str, empty: bool | None = None) -> bool | None:
        try:
            return self._bools[text]
        except KeyError:
            pass
        value = text.strip().lower()
        if value in _BOOLS:
            self._bools[text] = _BOOLS[value]
            return _BOOLS[value]
        if value == "":
            return empty
        raise ValueError(f"{text!r} is not a boolean (expected True or False)")


def _parse_any_date(value: str) -> str | None:
    """YYYY-MM-DD (optionally with a time), or M/D/YYYY (optionally with a time)."""
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        pass
    head = value.split(" ", 1)[0].split("T", 1)[0]
    parts = head.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[0]), int(parts[1])).isoformat()
        except ValueError:
            return None
    return None
