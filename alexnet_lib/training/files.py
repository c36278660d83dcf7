"""Writing a run's files safely: atomically, under unique temporary names, one run at a time.

Every file (checkpoint, weights, history) is written to a temporary file of its own next to
its final name, flushed to disk and renamed over it in one step: readers see the old file or
the new one, never half of one, and two writers cannot mix their bytes. A symlink at the
final name is replaced, not followed. A lock next to the checkpoint keeps a second run from
writing into the same place at the same time.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import UsageError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class OutputError(UsageError):
    """An output path that cannot be used: a file where a folder should be, not writable,
    too long, or in use by another run."""


def shown(path: str | os.PathLike) -> str:
    """A path fit for a one-line message: a very long one keeps its start and its end."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-50:]}"


def _os_error(err: BaseException) -> OSError | None:
    """The OSError behind `err` (torch.save wraps a failed write in a RuntimeError)."""
    while err is not None:
        if isinstance(err, OSError):
            return err
        err = err.__cause__ or err.__context__
    return None


def _read_umask() -> int:
    umask = os.umask(0)  # the only way to read it is to set it: done once, at import
    os.umask(umask)
    return umask


FILE_MODE = 0o666 & ~_read_umask()
"""The permissions a plain open() gives a new file (temporary files get 0o600)."""


def write_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write(f)` on a fresh temporary file next to `path`, then rename it to `path`.

    If anything fails (a full disk, Ctrl-C, an error in `write`), the temporary file is
    deleted and `path` is left as it was; a full disk raises an OSError that says so.
    """
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as f:
        temporary = Path(f.name)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), FILE_MODE)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        except BaseException as err:
            f.close()
            temporary.unlink(missing_ok=True)
            _raise_if_disk_full(err, path)
            raise
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _raise_if_disk_full(err: BaseException, path: Path) -> None:
    cause = _os_error(err)
    if cause is not None and cause.errno in DISK_FULL:
        raise OSError(cause.errno, f"No space left on the disk to write {shown(path)}; the "
                      "previous file there is kept. Free some space and run again (with resume, "
                      "training continues from the last checkpoint).") from err


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    write_atomically(path, lambda f: f.write(text.encode("utf-8")))


def check_output_file(path: str | os.PathLike, what: str) -> Path:
    """Make sure `path` can be written: its folder exists (created if need be) and accepts
    files, and `path` is not a folder. Raises OutputError saying what to do instead."""
    path = Path(path)
    if os.path.isdir(path):  # False, not an error, for a name too long
        raise OutputError(f"{what} {shown(path)} is a folder, not a file: pass a file path such "
                          f"as {shown(path / 'checkpoint.pt')}.")
    check_output_folder(path.parent)
    try:
        path.exists()
    except OSError as err:  # a name too long
        raise OutputError(f"Cannot write {what} {shown(path)} ({err.strerror or err}): choose "
                          "another name.") from None
    return path


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Check that files can be written into `folder`, or into the folder that will hold it
    where it does not exist yet: nothing is created, so a refused command leaves nothing."""
    if str(folder) == "":
        raise OutputError("The output folder is an empty string: name a folder (\".\" for "
                          "this one).")
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{shown(folder)} is a file, not a folder: choose another output "
                              "folder.")
        existing = folder
        while not existing.exists():  # the nearest folder there is
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{existing.name} is a file")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise OutputError(f"Cannot write into {shown(folder)} ({err.strerror or err}): choose "
                          "a writable output folder.") from None
    return folder


TEMPORARY_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")
"""What `write_atomically` names its temporary files: .NAME.XXXXXXXX.tmp."""


def remove_stale_temporaries(path: str | os.PathLike) -> None:
    """Delete what writes of `path` left behind when killed mid-write (SIGKILL, a power cut):
    call it only while holding the run's lock, when no write of `path` can be under way."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    for entry in path.parent.iterdir():
        match = TEMPORARY_NAME.fullmatch(entry.name)
        if match and match["name"] == path.name and entry.is_file():
            entry.unlink(missing_ok=True)


_held: dict[str, list] = {}  # lock file -> [file descriptor, how many holders in this process]


@contextmanager
def run_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold `<path>.lock` while a run writes `path`: a second process that asks for it gets
    an OutputError at once. Within one process the lock can be taken again (the command line
    takes it before `train` does); the lock file is deleted when released."""
    lock = Path(os.path.abspath(f"{path}.lock"))
    key = str(lock)
    if key in _held:
        _held[key][1] += 1
    elif fcntl is None:
        warnings.warn("This system has no fcntl, so the output folder is not locked: do not "
                      "run two trainings into the same folder at once.", stacklevel=3)
        _held[key] = [None, 1]
    else:
        _held[key] = [_acquire(lock), 1]
        remove_stale_temporaries(path)  # no other run writes it now
    try:
        yield
    finally:
        _held[key][1] -= 1
        if _held[key][1] == 0:
            fd = _held.pop(key)[0]
            if fd is not None:
                lock.unlink(missing_ok=True)  # while still holding it: see _acquire
                os.close(fd)


def _acquire(lock: Path) -> int:
    while True:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise OutputError(f"Cannot write {shown(lock.with_suffix(''))} ({err.strerror}): "
                              "choose a writable output folder.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(
                f"Another training run is writing into {shown(lock.parent)} (it holds "
                f"{lock.name}). Wait for it to finish, or write somewhere else."
            ) from None
        # The holder before us may have deleted the file as we opened it: then the lock we
        # got is on a file nobody else will see, and we try again on the new one.
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
