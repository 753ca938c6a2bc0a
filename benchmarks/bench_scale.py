"""Bureau scale: `perfxl check` over many returns as a user runs it (a subprocess), and start-up.

Prints, for N standard project returns (default 10,000, the issue's figure; set N with the
argument or PERFXL_BENCH_N, e.g. 1000 for a quick run):
* wall time and peak memory of `perfxl check` in every output format (text piped, json,
  jsonl) with --jobs 2, and text with --jobs 1 (peak: the largest process, parent or
  worker); JSON against text, and --jobs 2 against --jobs 1;
* the same check on a dask LocalCluster (`--cluster local --jobs 2`) over min(N, 1,000)
  returns, its output's hash against the process pool's (identical results);
* start-up: `perfxl --help` against `python -c pass`, `perfxl check one.xlsx` against
  --help, with bytecode cached as a user has it (a warm-up run writes it, whatever
  PYTHONDONTWRITEBYTECODE says), and with no bytecode cache at all (every start compiles
  the sources it imports).

Takes about 8 minutes at 10,000 on an idle 2-core machine.
Run: python benchmarks/bench_scale.py [N] [--distinct D] [--cluster-n C]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import make_files

PERFXL = [sys.executable, "-m", "perfxl"]
CACHED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


_PROBE = (
    "import os, subprocess, sys, time\n"
    "out = open(sys.argv[1], 'wb') if sys.argv[1] else subprocess.DEVNULL\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(time.perf_counter() - t, usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def run(
    args: list[str], stdout: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(seconds, peak MiB of the largest process, exit code) of one command, started from a
    small launcher: a process forked from this big one would report this one's memory
    (Linux keeps the high-water mark across fork and exec)."""
    got = subprocess.run(
        [sys.executable, "-c", _PROBE, str(stdout or ""), *args],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    secs, kib, code = got.stdout.split()
    return float(secs), int(kib) / 1024, int(code)


def median_time(args: list[str], env: dict[str, str] | None, n: int = 7) -> float:
    run(args, env=env)  # warm-up: file system, and the bytecode cache where it is written
    return statistics.median(run(args, env=env)[0] for _ in range(n))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def batch(paths: list[Path], folder: Path) -> None:
    listed = [str(p) for p in paths]
    times: dict[tuple[str, int], float] = {}
    for fmt, jobs in (("text", 2), ("json", 2), ("jsonl", 2), ("text", 1)):
        target = folder / f"out.{fmt}"
        secs, peak, code = run(
            [*PERFXL, "check", *listed, "--format", fmt, "--jobs", str(jobs)], target, CACHED
        )
        times[(fmt, jobs)] = secs
        size = target.stat().st_size / 1024 / 1024
        print(
            f"perfxl check {len(paths)} 份 --format {fmt:5} --jobs {jobs}: {secs:.2f} s，"
            f"每份 {secs / len(paths) * 1000:.2f} ms，峰值内存 {peak:.0f} MiB"
            f"（目标 ≤ 150 MB），输出 {size:.1f} MiB，退出码 {code}",
            flush=True,
        )
    ratio = times[("json", 2)] / times[("text", 2)]
    print(f"JSON / 文本（--jobs 2）= {ratio:.2f}×（目标 1.2 倍以内）")
    speedup = times[("text", 1)] / times[("text", 2)]
    print(f"--jobs 2 比 --jobs 1 快 {speedup:.2f}×（文本，目标 ≥ 1.8×）", flush=True)


def cluster(paths: list[Path], folder: Path) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("dask 集群：未安装 dask（pip install 'perfxl[dask]'），跳过")
        return
    listed = [str(p) for p in paths]
    pool_out, dask_out = folder / "pool.jsonl", folder / "dask.jsonl"
    pool = run([*PERFXL, "check", *listed, "--format", "jsonl", "--jobs", "2"], pool_out, CACHED)
    dask = run(
        [*PERFXL, "check", *listed, "--format", "jsonl", "--jobs", "2", "--cluster", "local"],
        dask_out,
        CACHED,
    )
    same = digest(pool_out) == digest(dask_out)
    print(
        f"dask LocalCluster（2 个工作进程）审核 {len(paths)} 份: {dask[0]:.2f} s"
        f"（含启动集群），进程池 {pool[0]:.2f} s；输出哈希 {digest(dask_out)} / "
        f"{digest(pool_out)}：{'一致' if same else '不一致'}",
        flush=True,
    )


def startup(one: Path, folder: Path) -> None:
    # without a cache every start compiles every source it imports (what
    # PYTHONDONTWRITEBYTECODE=1 leads to where no .pyc was ever written): an empty cache
    # folder that is never written
    (folder / "pycache").mkdir()
    bare_env = {
        **CACHED,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(folder / "pycache"),
    }
    for label, env in (
        ("字节码已缓存，用户的情形", CACHED),
        ("无字节码缓存，每次启动编译源码", bare_env),
    ):
        bare = median_time([sys.executable, "-c", "pass"], env)
        helped = median_time([*PERFXL, "--help"], env)
        checked = median_time([*PERFXL, "check", str(one)], env)
        # the floor of any check path that builds the pydantic filing and profile models
        model = median_time([sys.executable, "-c", "from pydantic import BaseModel"], env)
        print(
            f"启动（{label}）：python -c pass {bare * 1000:.0f} ms；perfxl --help "
            f"{helped * 1000:.0f} ms（{helped / bare:.2f}×，目标 ≤ 3×）；perfxl check 一份工作簿 "
            f"{checked * 1000:.0f} ms（--help 的 {checked / helped:.2f}×，目标 ≤ 1.5×）；"
            f"仅导入 pydantic.BaseModel {model * 1000:.0f} ms（--help 的 {model / helped:.2f}×）",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=int(os.environ.get("PERFXL_BENCH_N", 10_000)))
    ap.add_argument("--distinct", type=int, default=50)
    ap.add_argument("--cluster-n", type=int, default=1000)
    args = ap.parse_args()
    print(f"CPU 核数：{len(os.sched_getaffinity(0))}；负载 {os.getloadavg()[0]:.2f}（1 分钟平均）")
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-scale-") as d:
        paths = make_files(Path(d), args.n, min(args.distinct, args.n))
        startup(paths[0], Path(d))
        cluster(paths[: args.cluster_n], Path(d))
        batch(paths, Path(d))
        print(f"负载 {os.getloadavg()[0]:.2f}（1 分钟平均，结束时）")


if __name__ == "__main__":
    main()
