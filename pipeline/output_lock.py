"""One run at a time in an `--output` folder, and the folder's own failures as one line.

`held(output)` wraps everything `pipeline.run` writes there:
- the folder must be a folder we can write: an existing file, or a place we cannot create or
  write (read-only filesystem, no permission), is one line naming `--output` (exit 2);
- it takes an exclusive `flock` on `OUTPUT/.llamadata.lock` (naming the holder: pid, host,
  command). A second run into the same folder, while the first holds it, stops at once with one
  line: it would clear and replace the first's outputs under it. The kernel drops the lock when
  its process ends, however it ends, so a crashed or killed run never leaves the folder locked;
  the file itself is removed by the run that held it (or the next one), so outputs stay the same
  byte for byte from run to run;
- the disk filling up (or a quota) while the run writes, anywhere under it, is one line saying so
  (outputs are written to temporary names and renamed, so nothing half-written is left, and the
  same command reruns to the same bytes once there is room).
Remote outputs (`gs://`) cannot be flocked: they are not locked (said in the log).
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import sys
from typing import Iterator, Optional

from common.cli import UsageError

LOCK_NAME = ".llamadata.lock"
_FULL = (errno.ENOSPC, errno.EDQUOT)
log = logging.getLogger("pipeline")


def _disk_full(error: BaseException) -> Optional[str]:
    """The strerror when `error` (or what it wraps; runners re-raise workers' errors in their own)
    is a full disk or quota; None otherwise."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _FULL:
            return error.strerror or os.strerror(error.errno)
        for code in _FULL:
            if os.strerror(code) in str(error):
                return os.strerror(code)
        error = error.__cause__ or error.__context__
    return None


class _QuietDiskFull(logging.Filter):
    """Beam logs a worker's error with its traceback before re-raising it; for a full disk the
    one line `held` prints says all of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not ((exc is not None and _disk_full(exc)) or any(os.strerror(c) in record.getMessage() for c in _FULL))


_BEAM_LOGGERS = ("apache_beam.runners.common", "apache_beam.runners.worker.sdk_worker")


def _check_folder(output: str) -> None:
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"--output={output} is an existing file, not a folder; give a folder path (it is created "
                         f"when missing)")


def _open_lock(output: str) -> int:
    try:
        os.makedirs(output, exist_ok=True)
        return os.open(os.path.join(output, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise UsageError(f"--output={output}: cannot write there ({e.strerror or e}); choose a folder you can "
                         f"write to") from None


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
    except OSError:
        return "another process"


def acquire(output: str) -> int:
    """The lock's file descriptor, held; a UsageError when another run holds it."""
    import fcntl

    _check_folder(output)
    path = os.path.join(output, LOCK_NAME)
    while True:
        fd = _open_lock(output)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise UsageError(f"--output={output} is in use by another run ({holder}); wait for it to end or give "
                             f"another --output") from None
        try:  # the holder before us may have removed the file between our open and our lock
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}: {' '.join(sys.argv)[:300]}\n".encode("utf-8", "replace"))
    return fd


def release(output: str, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(output, LOCK_NAME))  # while still held: nobody can be waiting on it
    os.close(fd)


@contextlib.contextmanager
def held(output: str) -> Iterator[None]:
    """The folder locked for this run (see the module doc); a full disk inside is one UsageError."""
    if "://" in output:
        from pipeline.preflight import check_scheme

        check_scheme("--output", output)
        log.info("--output=%s is remote: not locked against a second run into it", output)
        fd = None
    else:
        fd = acquire(output)
    quiet = _QuietDiskFull()
    for name in _BEAM_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    try:
        yield
    except Exception as e:
        full = _disk_full(e)
        if full is None:
            raise
        raise UsageError(f"--output={output}: {full} while writing the run's outputs; nothing half-written was "
                         f"kept: free space (or give another --output) and rerun the same command") from None
    finally:
        for name in _BEAM_LOGGERS:
            logging.getLogger(name).removeFilter(quiet)
        if fd is not None:
            release(output, fd)
