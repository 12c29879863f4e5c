"""Every file coreg writes goes through this module: outputs that never destroy data.

Rules (see ``docs/reliability.md``):

* **Never over a recording.** A path whose content is a coreg recording (its first line is a
  ``coreg-recording`` header, whatever its name) is never written over, with or without
  ``--force``; neither is any input of the command (compared by device and inode, so hard and
  symbolic links count).
* **Other existing files only with ``--force``**, and only regular files: a folder, FIFO or
  device is refused. A missing output folder is an error; it is never created.
* **Temporary files** are made by :func:`tempfile.mkstemp` in the target folder (random name,
  ``O_CREAT | O_EXCL``, so a planted file or symlink is never followed or reused), mode 0600,
  written completely, fsynced, and renamed over the target with :func:`os.replace` (atomic on
  one file system; a symlink at the target is replaced, its target is not touched).
* **Cleanup on every exit path that can run**: ``finally`` blocks for exceptions and
  ``KeyboardInterrupt``; while a temporary file exists, SIGINT, SIGTERM and SIGHUP handlers
  remove it before the process stops. SIGKILL cannot be caught: the temporary name holds the
  writer's process id, and the next coreg write into that folder removes temporaries whose
  process is gone.
* **Owner-only**: files 0600 regardless of the umask (set on the open descriptor).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import FrameType

from coreg.errors import InputError
from coreg.recording.names import FORMAT_NAME

FILE_MODE = 0o600
DIR_MODE = 0o700
#: Bytes of a file's start inspected to recognise a coreg recording.
SNIFF_BYTES = 1 << 16
_RECORDING_MARK = re.compile(rb'"format"\s*:\s*"' + re.escape(FORMAT_NAME.encode()) + rb'"')
_TEMP_SUFFIX = ".partial"
_TEMP_RE = re.compile(r"^\..*\.(\d+)\.[A-Za-z0-9_]{6,}\.partial$")
_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                             getattr(signal, "SIGHUP", None)) if s is not None)

PathLike = str | os.PathLike[str]

# -- recognising recordings ------------------------------------------------------------------


def _open_regular(path: PathLike) -> int | None:
    """An fd of ``path`` opened for reading if it is a regular file, else None (never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
    except OSError:
        os.close(fd)
        return None
    return fd


def is_recording(path: PathLike) -> bool:
    """True when ``path`` is a regular file whose content starts like a coreg recording.

    Detection is by content, not by name: the first line is a JSON object with
    ``"format": "coreg-recording"``, or (for a damaged header) the first 64 KiB contain that
    key-value pair. A file that cannot be read is not recognised (and is refused elsewhere).
    """
    fd = _open_regular(path)
    if fd is None:
        return False
    try:
        head = os.read(fd, SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)
    first = head.split(b"\n", 1)[0]
    try:
        obj = json.loads(first.decode("utf-8"))
        if isinstance(obj, dict) and obj.get("format") == FORMAT_NAME:
            return True
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    return _RECORDING_MARK.search(head) is not None


# -- checking a target -----------------------------------------------------------------------


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_output(path: PathLike, *, force: bool = False,
                 inputs: Iterable[PathLike] = ()) -> Path:
    """Refuse an output path that would destroy data; return it as a :class:`Path`.

    Parameters
    ----------
    path
        The file about to be written.
    force
        Allow replacing an existing regular file that is neither a recording nor an input.
    inputs
        Files the command reads: never written over, even with ``force``.

    Raises
    ------
    InputError
        One sentence: missing folder, a folder or special file at ``path``, an input, a
        recording, or an existing file without ``force``.
    """
    p = Path(path)
    if p.name in ("", ".", ".."):
        raise InputError(f"{p} is not a file name")
    parent = p.parent
    if not parent.exists():
        raise InputError(f"{parent}: no such folder (coreg does not create output folders)")
    if not parent.is_dir():
        raise InputError(f"{parent} is not a folder")
    try:
        st: os.stat_result | None = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"{p}: {exc.strerror or exc}") from exc
    if st is not None:
        for inp in inputs:
            try:
                if _same_file(st, os.stat(inp)):
                    raise InputError(f"{p} is an input of this command; choose another output")
            except OSError:
                continue
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{p} is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{p} exists and is not a regular file")
        if is_recording(p):
            raise InputError(f"{p} is a coreg recording; coreg never writes over a recording "
                             "(choose another output name)")
        if not force:
            raise InputError(f"{p} already exists (use --force to replace it)")
    elif os.path.lexists(p) and not force:
        raise InputError(f"{p} already exists as a broken link (use --force to replace it)")
    return p


# -- temporary files and their cleanup -------------------------------------------------------

_temps: set[Path] = set()
_lock = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
#: Signal → the handler before ours (what ``signal.signal`` returned).
_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None
_previous: dict[int, _Handler] = {}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Remove every temporary file, restore the previous handlers, then stop as they would."""
    remove_all_temps()
    prev = _previous.get(signum, signal.SIG_DFL)
    _restore_handlers()
    if callable(prev):
        prev(signum, frame)
        return
    if prev == signal.SIG_IGN:
        return
    if signum == getattr(signal, "SIGINT", None):
        raise KeyboardInterrupt
    name = signal.Signals(signum).name
    print(f"coreg: stopped by {name}; unfinished output removed", file=sys.stderr)
    raise SystemExit(128 + signum)


def _install_handlers() -> None:
    if _previous or threading.current_thread() is not threading.main_thread():
        return
    for s in _SIGNALS:
        try:
            _previous[s] = signal.signal(s, _on_signal)
        except (ValueError, OSError):  # pragma: no cover - not the main interpreter
            continue


def _restore_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for s, prev in list(_previous.items()):
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(s, prev if prev is not None else signal.SIG_DFL)
    _previous.clear()


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while a temporary file is created and registered."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # pragma: no cover - Windows
        yield
        return
    old = mask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


def remove_all_temps() -> int:
    """Delete every temporary file this process still holds; return how many."""
    with _lock:
        temps = list(_temps)
        _temps.clear()
    n = 0
    for tmp in temps:
        with contextlib.suppress(OSError):
            tmp.unlink()
            n += 1
    return n


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: exists, someone else's
        return True
    return True


def sweep_stale_temps(folder: PathLike) -> int:
    """Remove coreg temporaries in ``folder`` left by a process that is gone (e.g. SIGKILL).

    Only hidden regular files owned by this user whose name has coreg's temporary pattern
    (``.NAME.PID.RANDOM.partial``) and whose PID no longer runs are removed.
    """
    n = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    uid = os.getuid() if hasattr(os, "getuid") else None
    for name in names:
        m = _TEMP_RE.match(name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        p = Path(folder) / name
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
                continue
            p.unlink()
            n += 1
        except OSError:
            continue
    return n


def create_temp(target: PathLike) -> tuple[int, Path]:
    """Create a fresh temporary file for ``target`` in its folder; return ``(fd, path)``.

    The name is unpredictable (``.NAME.PID.RANDOM.partial``), created with ``O_EXCL`` (no
    symlink or existing file is ever followed), mode 0600, and registered for removal on
    SIGINT/SIGTERM/SIGHUP until :func:`commit` or :func:`discard`.
    """
    t = Path(target)
    folder = t.parent
    sweep_stale_temps(folder)
    stem = t.name[:80]
    # The handlers go in first: a signal may be handled by the main thread even while it
    # blocks the signal (another thread receives it), so blocking alone is not enough.
    name: str | None = None
    with _signals_blocked():
        with _lock:
            _install_handlers()
        try:
            fd, name = tempfile.mkstemp(prefix=f".{stem}.{os.getpid()}.", suffix=_TEMP_SUFFIX,
                                        dir=folder)
            tmp = Path(name)
            with _lock:
                _temps.add(tmp)
        except BaseException:
            if name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(name)
            with _lock:
                if not _temps:
                    _restore_handlers()
            raise
    with contextlib.suppress(AttributeError, OSError):  # no fchmod on Windows
        os.fchmod(fd, FILE_MODE)
    return fd, tmp


def _forget(tmp: Path) -> None:
    with _lock:
        _temps.discard(tmp)
        if not _temps:
            _restore_handlers()


def discard(tmp: PathLike) -> None:
    """Delete a temporary file made by :func:`create_temp` (missing is fine)."""
    p = Path(tmp)
    with contextlib.suppress(FileNotFoundError):
        p.unlink()
    _forget(p)


def commit(tmp: PathLike, target: PathLike, *, force: bool = True,
           inputs: Iterable[PathLike] = ()) -> Path:
    """Move a finished temporary file over ``target`` (checked again just before the move)."""
    t = Path(target)
    p = Path(tmp)
    try:
        check_output(t, force=force, inputs=inputs)
        with _signals_blocked():
            os.replace(p, t)
            _forget(p)
    except BaseException:
        discard(p)
        raise
    return t


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
    os.fsync(fd)


def write_outputs(files: Mapping[Path, str | bytes], *, force: bool = False,
                  inputs: Iterable[PathLike] = ()) -> list[Path]:
    """Write several files all-or-nothing: every one is checked, then written to a temporary
    file, and only when all are complete are they renamed into place.

    Text is written as UTF-8. Returns the paths written, in the given order.

    Raises
    ------
    InputError
        A target refused by :func:`check_output` (nothing is written then).
    """
    inputs = list(inputs)
    targets = [check_output(p, force=force, inputs=inputs) for p in files]
    if len({os.path.abspath(t) for t in targets}) != len(targets):
        raise InputError("two outputs of this command would have the same name")
    temps: list[Path] = []
    try:
        for target, data in zip(targets, files.values(), strict=True):
            fd, tmp = create_temp(target)
            temps.append(tmp)
            try:
                _write_fd(fd, data.encode("utf-8") if isinstance(data, str) else data)
            finally:
                os.close(fd)
        for target, tmp in zip(targets, temps, strict=True):
            commit(tmp, target, force=force, inputs=inputs)
    finally:
        for tmp in temps:
            discard(tmp)  # no-op for those already moved into place
    return targets


def write_output(path: PathLike, data: str | bytes, *, force: bool = False,
                 inputs: Iterable[PathLike] = ()) -> Path:
    """Write one file atomically and owner-only (see :func:`write_outputs`)."""
    return write_outputs({Path(path): data}, force=force, inputs=inputs)[0]


def write_private(path: PathLike, data: str | bytes) -> Path:
    """Replace coreg's own state file (an index, a settings file) atomically, owner-only.

    No overwrite check (the file is coreg's own), but never over a recording.
    """
    return write_output(path, data, force=True)


def ensure_private(path: PathLike) -> None:
    """chmod 0600 an already written file (for writers that cannot use a descriptor)."""
    try:
        os.chmod(path, FILE_MODE)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
