"""SIGTERM, SIGHUP and SIGINT become a clean interruption, so outputs' `finally` blocks run.

Nextflow, Galaxy and batch schedulers stop a job with SIGTERM; without a handler Python dies at
once and leaves its temporary files behind. `interruptible()` turns the first of these signals into
an `Interrupted` exception in the main thread (later ones are ignored while clean-up runs);
`deferred()` holds a signal back until a short critical section (moving outputs into place) ends.
A signal the process was started with ignored stays ignored: `nohup` ignores SIGHUP, and a shell
without job control starts background jobs with SIGINT ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

_state = {"defer": 0, "pending": None}


class Interrupted(KeyboardInterrupt):
    """The process received SIGTERM, SIGHUP or SIGINT."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _handler(signum: int, frame) -> None:
    if _state["defer"]:
        _state["pending"] = signum
        return
    for sig in SIGNALS:  # the first signal wins; clean-up must not be interrupted by a second one
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Install the handlers for the duration of a command; restore them after.

    Signals whose handler is SIG_IGN are left alone. Only the main thread can handle signals:
    called from another thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in SIGNALS if signal.getsignal(sig) != signal.SIG_IGN}
    _state.update(defer=0, pending=None)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold back an interruption until the block is done, then raise it."""
    _state["defer"] += 1
    try:
        yield
    finally:
        _state["defer"] -= 1
    pending = _state["pending"]
    if pending is not None and not _state["defer"]:
        _state["pending"] = None
        _handler(pending, None)


def ignore_in_worker() -> None:
    """In a worker process: ignore SIGTERM, SIGHUP and SIGINT; the parent stops its workers.

    A signal to the whole process group (Ctrl-C, `kill -- -PGID`) then reaches the parent only,
    which cancels the work and kills the workers itself, instead of racing their deaths.
    """
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
