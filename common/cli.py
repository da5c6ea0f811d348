"""Command-line guard rails shared by `pipeline.run` and the trainer.

A user's mistake is a `UsageError` whose message names the option and the fix; `guarded` prints it
as one line on stderr and exits 2, without a traceback (`--debug` shows it). Ctrl-C prints one line
and exits 130 within seconds: outputs are written to temporary names and renamed, so nothing
half-written is left under a final name, and the process does not wait for worker threads that
would keep it alive (a second Ctrl-C, or GRACE_S seconds, ends it at once).
"""
from __future__ import annotations

import argparse
import difflib
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Callable, Iterable, List, Optional

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
INTERRUPTED = "interrupted; rerun the same command to finish"
GRACE_S = 5.0


class UsageError(Exception):
    """A mistake on the command line or in what it points at: one line naming the option and the fix."""


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes are a UsageError: one line and exit 2 (`guarded`), not the usage text."""

    def error(self, message):
        raise UsageError(message)


def closest(word: str, choices: Iterable[str]) -> Optional[str]:
    """The choice `word` most likely meant: same name up to case and -/_, else difflib's best."""
    choices = list(choices)
    norm = {c.lower().replace("-", "_"): c for c in choices}
    key = word.lower().replace("-", "_")
    if key in norm:
        return norm[key]
    match = difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)
    return norm[match[0]] if match else None


def _exit_now(code: int, line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
        sys.stdout.flush()
        logging.shutdown()
    finally:
        os._exit(code)  # not sys.exit: non-daemon worker threads must not keep the process alive


_interrupted = threading.Event()
_line = INTERRUPTED


def interrupted() -> bool:
    """Ctrl-C was pressed (the exception on its way up may be a library's wrapper of it)."""
    return _interrupted.is_set()


def _on_sigint(signum, frame):
    # First Ctrl-C: unwind the main thread (temporary files are cleaned by their writers), with a
    # watchdog in case something swallows the interrupt or blocks; second Ctrl-C: leave at once.
    _interrupted.set()
    signal.signal(signal.SIGINT, lambda *_: _exit_now(EXIT_INTERRUPTED, _line))
    timer = threading.Timer(GRACE_S, _exit_now, (EXIT_INTERRUPTED, _line))
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def guarded(main: Callable[[List[str]], int], argv: List[str], prog: str, interrupted_line: str = INTERRUPTED) -> None:
    """Run `main(argv)` and exit with its code; a UsageError → one line and 2, Ctrl-C → one line and 130.
    `--debug` in argv re-raises the error with its traceback."""
    global _line
    _line = interrupted_line
    debug = "--debug" in argv
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        code = main(argv)
    except UsageError as e:
        if debug:
            traceback.print_exc()
        _exit_now(EXIT_USAGE, f"{prog}: error: {e}")
    except BaseException:
        # Whatever the interrupt became on its way up (a library may wrap it in its own error).
        if not _interrupted.is_set() and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise
        if debug:
            traceback.print_exc()
        _exit_now(EXIT_INTERRUPTED, _line)
    sys.stdout.flush()
    sys.exit(code or 0)
