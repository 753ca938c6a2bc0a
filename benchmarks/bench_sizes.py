"""`perfxl check` per file against python-calamine reading all sheets (= 1.00), by size.

Sizes: project tables of 10, 200 and 400 三级 indicators; department tables of 10, 500
and 1,000 project rows; and 200 project returns whose blocks each grew by a different
number of inserted rows (every file its own layout, so nothing is shared between files).
Target: ≤ 2.5× for each. Times are the best of a few runs (single process), after the
checks are compiled (a batch's steady state; start-up is bench_scale.py's).

Run: python benchmarks/bench_sizes.py [--repeat R] [--varied N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_read import raw_calamine
from sizes import department_filing, project_filing, write

from perfxl.verdict import check_file

TARGET = 2.5


def best(fn, repeat: int) -> float:
    out = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - start)
    return out


def ratio_line(label: str, paths: list[Path], repeat: int) -> float:
    for p in (paths * 8)[:8]:  # warm caches (file system, profile, plans, compiled checks)
        check_file(p)
        raw_calamine(p)
    raw = best(lambda: [raw_calamine(p) for p in paths], repeat)
    ours = best(lambda: [check_file(p) for p in paths], repeat)
    n = len(paths)
    r = ours / raw
    print(
        f"{label}: calamine 每份 {raw / n * 1000:.1f} ms，perfxl check 每份 "
        f"{ours / n * 1000:.1f} ms，倍数 {r:.2f}×（目标 ≤ {TARGET}×）{'' if r <= TARGET else '  超出'}",
        flush=True,
    )
    return r


def _write_varied(args: tuple[int, str]) -> str:
    seed, folder = args
    # 10–60 indicators dealt at random: each file's blocks grew by different row counts
    n = 10 + seed * 7919 % 51
    return str(write(project_filing(n, seed=seed, spread=True), Path(folder) / f"v{seed}.xlsx"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--varied", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-sizes-") as d:
        folder = Path(d)
        worst = 0.0
        for n in (10, 200, 400):
            p = write(project_filing(n), folder / f"p{n}.xlsx")
            worst = max(worst, ratio_line(f"项目支出表 {n} 个三级指标", [p], args.repeat))
        for n in (10, 500, 1000):
            p = write(department_filing(n), folder / f"d{n}.xlsx")
            worst = max(worst, ratio_line(f"部门整体表 {n} 行项目", [p], args.repeat))
        start = time.perf_counter()
        with ProcessPoolExecutor(2) as pool:
            varied = [
                Path(p) for p in pool.map(_write_varied, [(s, d) for s in range(args.varied)])
            ]
        print(f"生成 {args.varied} 份各块行数不同的工作簿：{time.perf_counter() - start:.1f} s")
        label = f"{args.varied} 份项目支出表（每份各块插入行数不同）"
        worst = max(worst, ratio_line(label, varied, max(2, args.repeat)))
        print(f"最大倍数 {worst:.2f}×（目标每项 ≤ {TARGET}×）")


if __name__ == "__main__":
    main()
