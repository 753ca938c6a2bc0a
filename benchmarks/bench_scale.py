"""Bureau scale: `perfxl check` over many returns as a user runs it (a subprocess), and start-up.

Prints, for N standard project returns (default 1,000; the issue's figure is 10,000):
* wall time and peak memory of `perfxl check` in every output format (text piped, json,
  jsonl), with --jobs 1 and --jobs 2 (peak: the largest process, parent or worker);
* JSON against text, and --jobs 2 against --jobs 1;
* start-up: `perfxl --help` against `python -c pass`, `perfxl check one.xlsx` against --help.

Run: python benchmarks/bench_scale.py [N] [--distinct D]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import make_files

PERFXL = [sys.executable, "-m", "perfxl"]


def run(args: list[str], stdout: Path | None = None) -> tuple[float, float, int]:
    """(seconds, peak MiB of the largest process, exit code) of one command."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - start
    finally:
        if stdout:
            out.close()
    return secs, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def median_time(args: list[str], n: int = 7) -> float:
    return statistics.median(run(args)[0] for _ in range(n))


def batch(paths: list[Path], folder: Path) -> None:
    listed = [str(p) for p in paths]
    times: dict[tuple[str, int], float] = {}
    for fmt in ("text", "json", "jsonl"):
        for jobs in (1, 2):
            target = folder / f"out.{fmt}"
            secs, peak, code = run(
                [*PERFXL, "check", *listed, "--format", fmt, "--jobs", str(jobs)], target
            )
            times[(fmt, jobs)] = secs
            size = target.stat().st_size / 1024 / 1024
            print(
                f"perfxl check {len(paths)} 份 --format {fmt:5} --jobs {jobs}: {secs:.2f} s，"
                f"每份 {secs / len(paths) * 1000:.2f} ms，峰值内存 {peak:.0f} MiB"
                f"（目标 ≤ 150 MB），输出 {size:.1f} MiB，退出码 {code}",
                flush=True,
            )
    ratio = times[("json", 1)] / times[("text", 1)]
    print(f"JSON / 文本（--jobs 1）= {ratio:.2f}×（目标 1.2 倍以内）")
    for fmt in ("text", "json", "jsonl"):
        speedup = times[(fmt, 1)] / times[(fmt, 2)]
        print(f"--jobs 2 比 --jobs 1 快 {speedup:.2f}×（{fmt}，目标 ≥ 1.8×）")


def startup(one: Path) -> None:
    bare = median_time([sys.executable, "-c", "pass"])
    helped = median_time([*PERFXL, "--help"])
    checked = median_time([*PERFXL, "check", str(one)])
    print(
        f"启动：python -c pass {bare * 1000:.0f} ms；perfxl --help {helped * 1000:.0f} ms"
        f"（{helped / bare:.2f}×，目标 ≤ 3×）；perfxl check 一份工作簿 {checked * 1000:.0f} ms"
        f"（--help 的 {checked / helped:.2f}×，目标 ≤ 1.5×）"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=50)
    args = ap.parse_args()
    print(f"CPU 核数：{len(os.sched_getaffinity(0))}")
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-scale-") as d:
        paths = make_files(Path(d), args.n, min(args.distinct, args.n))
        startup(paths[0])
        batch(paths, Path(d))


if __name__ == "__main__":
    main()
