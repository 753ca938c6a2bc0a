"""Reading 1,000 filled project workbooks: perfxl vs python-calamine's raw read of the same files.

Target: perfxl ≤ 3 × calamine's raw read (every sheet to Python values), 1,000 in under 3 s.
The files are 20 distinct filled workbooks written by the template writer, copied to N
paths (the reader's work per file does not depend on the file being unique).

Run: python benchmarks/bench_read.py [N] [--jobs J]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import make_filings
from common import run_timed
from python_calamine import CalamineWorkbook

from perfxl.batch import default_jobs, read_many
from perfxl.profile import load_profile
from perfxl.workbook.read import read_workbook_ex
from perfxl.workbook.write import build_workbook


def make_files(folder: Path, n: int, distinct: int = 20) -> list[Path]:
    profile = load_profile("project-2020")
    sources = []
    for i, f in enumerate(make_filings(distinct)):
        sources.append(build_workbook(profile, folder / f"src{i}.xlsx", f))
    paths = []
    for i in range(n):
        p = folder / f"{i:05d}.xlsx"
        shutil.copyfile(sources[i % distinct], p)
        paths.append(p)
    return paths


def raw_calamine(path: Path, sheets: list[str] | None = None) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for name in sheets or book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def timed(label: str, n: int, fn) -> float:
    return run_timed(label, n, fn, per_second=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=default_jobs())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-read-") as d:
        paths = make_files(Path(d), args.n)
        for p in paths[:20]:  # warm caches (file system, profile, layout)
            read_workbook_ex(p)
            raw_calamine(p)
        needed = ["项目支出绩效自评表", "_perfxl"]
        raw = timed(
            "python-calamine 原始读取（全部工作表）",
            args.n,
            lambda: [raw_calamine(p) for p in paths],
        )
        same = timed(
            "python-calamine 原始读取（仅 perfxl 所需的 2 张表）",
            args.n,
            lambda: [raw_calamine(p, needed) for p in paths],
        )
        ours = timed("perfxl 读取（单进程）", args.n, lambda: [read_workbook_ex(p) for p in paths])
        par = timed(
            f"perfxl read_many（{args.jobs} 个进程）",
            args.n,
            lambda: read_many(paths, jobs=args.jobs),
        )
        print(
            f"倍数：perfxl / calamine 全部工作表 = {ours / raw:.2f}×，"
            f"perfxl / calamine 所需工作表 = {ours / same:.2f}×（目标 ≤ 3×）；"
            f"{args.n} 份单进程 {ours:.2f} s，{args.jobs} 进程 {par:.2f} s（目标 < 3 s）"
        )


if __name__ == "__main__":
    main()
