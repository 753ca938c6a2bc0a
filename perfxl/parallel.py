"""Batches on every core: one function over many files in worker processes, results in order.

`ordered_map(fn, items, jobs)` runs `fn(item)` in `jobs` processes and yields each result as
soon as it and every result before it are done, so a batch prints its first file while the
rest are still being worked on, and at most a few chunks of results are held in memory
whatever the number of files. `fn` should return something small (a report's JSON text,
counts) rather than big objects: results cross the process boundary by pickling.

A worker process that dies (killed for memory, a crash in a native library) does not stop the
batch: the files of the lost chunk are retried one by one in a fresh pool, and a file that
kills its worker again gets `on_crash(item)` as its result. Ctrl-C stops the workers at once
(they ignore SIGINT themselves; the command reports the interruption).
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """Workers for a batch: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - not on Linux


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if initializer is not None:
        initializer(*initargs)


def _run_chunk(fn: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _context() -> Any:
    import multiprocessing  # here: a batch of one file (and `perfxl check one.xlsx`) has no pool

    methods = multiprocessing.get_all_start_methods()
    # fork: workers start at once and share the parent's loaded profiles and caches
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class _Pool:
    """A ProcessPoolExecutor that can be killed outright (Ctrl-C) and replaced when broken."""

    def __init__(self, jobs: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=_context(),
            initializer=_start,
            initargs=(initializer, initargs),
        )

    def submit(self, fn: Callable[[T], R], chunk: Sequence[T]) -> Any:
        return self.executor.submit(_run_chunk, fn, chunk)

    def close(self, *, kill: bool = False) -> None:
        if kill:
            # None once the executor has shut down (a pool closed twice, after a crash)
            for proc in list((getattr(self.executor, "_processes", None) or {}).values()):
                try:
                    proc.kill()
                except (OSError, AttributeError):
                    continue
            self.executor.shutdown(wait=False, cancel_futures=True)
        else:
            self.executor.shutdown(wait=True)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    on_crash: Callable[[T], R] | None = None,
    chunk: int | None = None,
    total: int | None = None,
) -> Iterator[R]:
    """fn(item) for every item, in `jobs` processes (in this one when jobs is 1); results in
    input order, each yielded as soon as it and those before it are done."""
    if jobs <= 1 or (total is not None and total < 2):
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield fn(item)
        return
    from concurrent.futures.process import BrokenProcessPool

    if chunk is None:
        chunk = max(1, min(8, (total or 64) // (jobs * 4)))
    chunks = _chunked(items, chunk)
    pool = _Pool(jobs, initializer, initargs)
    pending: deque[tuple[list[T], Any]] = deque()
    ahead = jobs * 4  # chunks in flight: keeps every worker busy, memory bounded

    def fill() -> None:
        while len(pending) < ahead:
            c = next(chunks, None)
            if c is None:
                return
            pending.append((c, pool.submit(fn, c)))

    clean = False
    try:
        fill()
        while pending:
            c, fut = pending.popleft()
            try:
                results = fut.result()
            except BrokenProcessPool:
                pool.close(kill=True)
                results = []
                for item in c:  # find the file that kills its worker; the others go on
                    pool = _Pool(1, initializer, initargs)
                    try:
                        results.extend(pool.submit(fn, [item]).result())
                        pool.close()
                    except BrokenProcessPool:
                        pool.close(kill=True)
                        if on_crash is None:
                            raise
                        results.append(on_crash(item))
                pool = _Pool(jobs, initializer, initargs)
                pending = deque((pc, pool.submit(fn, pc)) for pc, _ in pending)
            fill()
            yield from results
        clean = True
    finally:
        pool.close(kill=not clean)


def _chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = ["default_jobs", "ordered_map"]
