"""Worker processes for the parallel passes of extract and clean: forked where possible, deaf to
signals (the parent stops them), killed at once on an error or an interruption."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from typing import Any, TypeVar

from splamflow import signals

T = TypeVar("T")
R = TypeVar("R")
_STOPPED: list[ProcessPoolExecutor] = []  # pools stopped by an error or an interruption, kept until exit


def _start(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    signals.ignore_in_worker()
    if initializer is not None:
        initializer(*initargs)


def parallel_map(
    fn: Callable[[T], R], tasks: Iterable[T], workers: int,
    initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """`fn` of each task in `workers` processes; the results in task order.

    With fork, `initargs` reach the workers without being pickled (a large table costs nothing).
    """
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_start,
                               initargs=(initializer, initargs))
    try:
        # The workers are forked here; a signal that comes before they ignore it waits until they do.
        with signals.deferred():
            futures = [pool.submit(fn, task) for task in tasks]
        # Not pool.map: its results iterator cancels the queued tasks from this thread when it stops,
        # racing the pool's manager thread, which fails on a cancelled task when the workers die.
        futures.reverse()
        while futures:
            yield futures.pop().result()
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and kill the running workers now (an error or an interruption).

    The workers ignore SIGTERM, so none of them has died on its own when this runs: the pool's
    manager thread learns of the shutdown (and forgets the cancelled tasks) before any worker dies.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    # Python < 3.14 has no public call that stops running workers; they hold no output files.
    for process in processes:
        process.kill()
        process.join()
    # Keep the pool until exit, as a caller's frame held by the traceback would: its manager thread
    # cancels the queued tasks only while the pool exists.
    _STOPPED.append(pool)


def _mp_context():
    """fork where available: workers need no re-import of the caller's main module."""
    return get_context("fork" if "fork" in get_all_start_methods() else "spawn")
