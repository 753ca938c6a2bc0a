"""Checking 1,000 filled project workbooks (`perfxl check`'s work per file: read, integrity
facts, every rule) against python-calamine's raw read of the same files.

Target: perfxl check ≤ 3 × calamine's raw read (every sheet to Python values).
The files are `--distinct` different filled workbooks written by the template writer from
generated filings (mixed directions, scores, budgets), copied to N paths.

Run: python benchmarks/bench_check.py [N] [--distinct D]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_read import raw_calamine
from bench_score import make_filings
from common import peak_rss_mib, run_timed

from perfxl.findings import Severity
from perfxl.profile import load_profile
from perfxl.verdict import check_file as check_workbook
from perfxl.workbook.write import build_workbook


def make_files(folder: Path, n: int, distinct: int) -> list[Path]:
    profile = load_profile("project-2020")
    sources = [
        build_workbook(profile, folder / f"src{i}.xlsx", f)
        for i, f in enumerate(make_filings(distinct, seed=20245))
    ]
    paths = []
    for i in range(n):
        p = folder / f"{i:05d}.xlsx"
        shutil.copyfile(sources[i % distinct], p)
        paths.append(p)
    return paths


def timed(label: str, n: int, fn) -> float:
    return run_timed(label, n, fn, per_second=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-check-") as d:
        start = time.perf_counter()
        paths = make_files(Path(d), args.n, min(args.distinct, args.n))
        print(
            f"生成 {min(args.distinct, args.n)} 份不同的工作簿：{time.perf_counter() - start:.1f} s"
        )
        for p in paths[:20]:  # warm caches (file system, profile, plans)
            check_workbook(p)
            raw_calamine(p)
        raw = timed("python-calamine 原始读取（全部工作表）", args.n,
                    lambda: [raw_calamine(p) for p in paths])  # fmt: skip
        needed = ["项目支出绩效自评表", "_perfxl"]
        same = timed("python-calamine 原始读取（仅 perfxl 所需的 2 张表）", args.n,
                     lambda: [raw_calamine(p, needed) for p in paths])  # fmt: skip
        reports = []
        ours = timed("perfxl check（读取 + 完整性 + 全部规则，单进程）", args.n,
                     lambda: reports.extend(check_workbook(p) for p in paths))  # fmt: skip
        blocking = sum(
            1 for r in reports if any(f.severity is Severity.BLOCKING for f in r.findings)
        )
        print(
            f"倍数：perfxl check / calamine 全部工作表 = {ours / raw:.2f}×（目标 ≤ 3×），"
            f"/ calamine 所需工作表 = {ours / same:.2f}×；每秒 {args.n / ours:,.0f} 份，"
            f"峰值内存 {peak_rss_mib():.0f} MiB；有强制性错误的 {blocking} 份"
        )


if __name__ == "__main__":
    main()
