"""A collection round over 1,000 returns (`perfxl collect`, end to end as a bureau runs it)
against `perfxl check` on the same files, both as commands with the same --jobs.

Target: collect ≤ 1.3 × check (collect checks each return once, then matches, compares with
the previous round and writes 汇总.xlsx, JSON/CSV and the feedback folders).
The returns are `--distinct` different filled workbooks (one unit each, in the manifest;
nine in ten pass, the others have mistakes) copied to N paths, so most units are 重复;
every tenth file is damaged (无法读取).

Run: python benchmarks/bench_collect.py [N] [--distinct D] [--jobs J]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import make_filings

from perfxl.batch import default_jobs
from perfxl.filing_io import load_filing
from perfxl.profile import load_profile
from perfxl.workbook.write import build_workbook

EXAMPLE = Path(__file__).resolve().parent.parent / "examples/project-archives-digitization.yaml"


def make_returns(folder: Path, n: int, distinct: int) -> tuple[list[Path], Path]:
    profile = load_profile("project-2020")
    src = folder / "src"
    src.mkdir()
    sources = []
    manifest = folder / "manifest.csv"
    with open(manifest, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["序号", "单位编码", "名称", "文件", "状态", "说明"])  # an older manifest
        mixed = make_filings(distinct, seed=20245)
        for i in range(distinct):
            # as in a real round most units pass: every tenth unit sends a generated filing
            # (mostly with mistakes, so it gets an annotated copy and an opinion)
            f = mixed[i] if i % 10 == 3 else load_filing(EXAMPLE).model_copy(deep=True)
            f.header.unit_code, f.header.name = f"B{i:05d}", f"单位{i:05d}"
            sources.append(build_workbook(profile, src / f"{i}.xlsx", f, lock_prefilled=True))
            w.writerow([i + 1, f.header.unit_code, f.header.name, f"{i}.xlsx", "已生成", ""])
    back = folder / "回收"
    paths = []
    for i in range(n):
        sub = back / f"批{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"{i:05d}.xlsx"
        if i % 10 == 9:
            p.write_bytes(b"PK\x03\x04" + os.urandom(2000))  # damaged
        else:
            shutil.copyfile(sources[i % distinct], p)
        paths.append(p)
    return paths, manifest


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB of the command and its workers) of one perfxl command."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "perfxl", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    secs, kib = out.stdout.split()
    return float(secs), int(kib) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=default_jobs())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-collect-") as d:
        start = time.perf_counter()
        paths, manifest = make_returns(Path(d), args.n, min(args.distinct, args.n))
        print(f"生成 {args.n} 份回收文件：{time.perf_counter() - start:.1f} s", flush=True)
        j = str(args.jobs)
        check_s, check_mib = run(["check", "--format", "json", "-j", j, *map(str, paths)])
        print(f"perfxl check：{args.n} 份 {check_s:.1f} s，每秒 {args.n / check_s:,.1f} 份，"
              f"峰值内存 {check_mib:.0f} MiB（单个进程）", flush=True)  # fmt: skip
        out = Path(d) / "第一轮"
        coll_s, coll_mib = run(
            ["collect", str(Path(d) / "回收"), "--manifest", str(manifest), "-o", str(out),
             "-j", j, "--json"]
        )  # fmt: skip
        assert (out / "汇总.xlsx").exists()
        print(f"perfxl collect：{args.n} 份 {coll_s:.1f} s，每秒 {args.n / coll_s:,.1f} 份，"
              f"峰值内存 {coll_mib:.0f} MiB（单个进程），--jobs {j}", flush=True)  # fmt: skip
        ratio = coll_s / check_s
        print(f"collect / check = {ratio:.2f}（目标 ≤ 1.3）")
    _ = resource
    sys.exit(0 if ratio <= 1.3 else 1)


if __name__ == "__main__":
    main()
