"""Writing a file safely: checked destination, temporary file, atomic rename.

The export is written to a temporary file (mode 0600) in the target
directory, flushed and fsync'ed, and only then moved into place. Whatever goes
wrong before that (an exception, a cancel, a full disk) removes the temporary
file and leaves an existing target untouched. Without ``force`` an existing
target is never replaced: the final step is ``os.link`` (which fails if the
target exists) rather than a check followed by a rename.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from adopt_tui.errors import AdoptError


class ExportError(AdoptError):
    """The export cannot be written (bad destination, disk full ...)."""


class FileExists(ExportError):
    """The target file exists and ``force`` was not given (the TUI asks to confirm)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        super().__init__(f"{path} already exists; confirm to replace it (on the command line: --force)")


TEMP_PREFIX = ".adopt-tui-export-"
TEMP_SUFFIX = ".part"


def check_destination(path: str | Path) -> str | None:
    """None when a file can be written at ``path``; else the problem in plain words.

    An existing *file* at ``path`` is not a problem here (run_export raises
    :class:`FileExists` for it unless ``force``).
    """
    text = str(path).strip() if path is not None else ""
    if not text:
        return "no file name given"
    p = Path(os.path.expanduser(text))
    if p.is_dir():
        return f"{p} is a directory; give a file name"
    if text.endswith(os.sep) or p.name in ("", ".", ".."):
        return f"{p} is not a file name"
    parent = p.parent
    if not parent.exists():
        return f"the directory {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the directory {parent} is not writable"
    if p.exists() and not p.is_file():
        return f"{p} exists and is not a regular file"
    return None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(tmp: str, target: Path, force: bool) -> None:
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic, and fails if target exists
    except FileExistsError:
        raise FileExists(target) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # a filesystem without hard links: check, then rename
        if target.exists():
            raise FileExists(target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


@contextmanager
def atomic_output(path: str | Path, *, force: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file object; on a clean exit it becomes ``path`` (mode 0600).

    On any exception (including a cancel) the temporary file is removed and
    ``path`` is left as it was.
    """
    target = Path(os.path.expanduser(str(path)))
    problem = check_destination(target)
    if problem:
        raise ExportError(problem)
    if not force and target.exists():
        raise FileExists(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise ExportError(f"cannot create a file in {target.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, target, force)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, AdoptError):
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise
    _fsync_dir(target.parent)
