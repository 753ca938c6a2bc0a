"""Small helpers shared by the benchmarks: timing and peak memory, printed plainly."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


@contextmanager
def timed(label: str, count: int, unit: str = "份"):
    start = time.perf_counter()
    yield
    secs = time.perf_counter() - start
    rate = count / secs if secs else float("inf")
    print(
        f"{label}: {count} {unit}, {secs:.3f} s, {rate:,.0f} {unit}/s, "
        f"{secs / count * 1000:.3f} ms/{unit}, 峰值内存 {peak_rss_mib():.0f} MiB"
    )


def run_timed(label: str, n: int, fn: Callable[[], object], *, per_second: bool = True) -> float:
    """Run fn once, print its time for n items (per item, per second) and peak memory."""
    start = time.perf_counter()
    fn()
    secs = time.perf_counter() - start
    rate = f"每秒 {n / secs:,.0f} 份，" if per_second else ""
    print(
        f"{label}: {n} 份 {secs:.3f} s，{rate}每份 {secs / n * 1000:.3f} ms，"
        f"峰值内存 {peak_rss_mib():.0f} MiB",
        flush=True,
    )
    return secs


def best_of(n: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(n))
