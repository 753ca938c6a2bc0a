"""Batches on a dask.distributed cluster: the per-file function of `perfxl.parallel`, on many
machines.

`cluster_map(fn, items, address, ...)` has the contract of `parallel.ordered_map`: results in
input order, each yielded as soon as it and those before it are done, a bounded number of
tasks in flight (memory does not grow with the number of files), and a file whose worker
dies again after the retries gets `on_crash(item)`. `address` is a scheduler
("tcp://HOST:PORT") or "local" for a LocalCluster on this machine. The workers run the same
function on the same paths, so the files must be where the workers can read them (a shared
folder) and perfxl must be installed there.

dask is an optional extra (`pip install 'perfxl[dask]'`), imported only here.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from .errors import InputError, Problem

T = TypeVar("T")
R = TypeVar("R")

RETRIES = 2  # a task whose worker died is run again this many times before on_crash
MISSING = "未安装 dask：请运行 pip install 'perfxl[dask]' (dask.distributed is not installed)"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise InputError(Problem("--cluster", "", MISSING)) from exc
    return distributed


def _run_chunk(
    fn: Callable[[T], R],
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    chunk: Sequence[T],
) -> list[R]:
    """One task: the batch's settings (set again: a worker may be new), then its files."""
    if initializer is not None:
        initializer(*initargs)
    return [fn(item) for item in chunk]


def connect(address: str, workers: int) -> tuple[Any, Any]:
    """(client, cluster started here or None) for a scheduler address or "local"."""
    distributed = _distributed()
    import logging

    if address == "local":
        cluster = distributed.LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            Problem(
                "--cluster",
                "",
                f"无法连接集群调度器 {address}（{exc}）：请检查地址（形如 tcp://主机:端口）"
                "和网络，或改用 --cluster local",
            )
        ) from exc


def _progress(done: int, total: int | None) -> None:
    if sys.stderr.isatty():
        of = f"/{total}" if total else ""
        end = "\n" if total and done >= total else ""
        print(f"\r集群审核：已完成 {done}{of} 份", end=end, file=sys.stderr, flush=True)


def cluster_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    address: str,
    *,
    jobs: int = 2,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    on_crash: Callable[[T], R] | None = None,
    total: int | None = None,
    chunk: int | None = None,
    client: Any = None,
) -> Iterator[R]:
    """fn(item) for every item on the cluster at `address` (or on `client`); results in input
    order. `jobs` is the number of workers of a local cluster. A progress count goes to
    standard error when it is a terminal."""
    distributed = _distributed()
    cluster = None
    if client is None:
        client, cluster = connect(address, jobs)
    try:
        slots = max(1, sum(client.nthreads().values()))  # worker threads (all workers)
        if chunk is None:
            chunk = max(1, min(16, (total or 64) // (slots * 4)))
        ahead = slots * 4  # tasks in flight: every worker busy, memory bounded
        source = iter(items)
        pending: deque[tuple[list[T], Any]] = deque()

        def fill() -> None:
            while len(pending) < ahead:
                batch = [x for _, x in zip(range(chunk), source, strict=False)]
                if not batch:
                    return
                future = client.submit(
                    _run_chunk, fn, initializer, initargs, batch, retries=RETRIES, pure=False
                )
                pending.append((batch, future))

        done = 0
        fill()
        while pending:
            batch, future = pending.popleft()
            try:
                results = future.result()
            except distributed.KilledWorker:
                if on_crash is None:
                    raise
                results = []
                for item in batch:  # find the file that kills its worker; the others go on
                    single = client.submit(
                        _run_chunk, fn, initializer, initargs, [item], retries=RETRIES, pure=False
                    )
                    try:
                        results.extend(single.result())
                    except distributed.KilledWorker:
                        results.append(on_crash(item))
            future.release()
            fill()
            done += len(batch)
            _progress(done, total)
            yield from results
    finally:
        if cluster is not None:
            client.close()
            cluster.close()


__all__ = ["cluster_map", "connect"]
