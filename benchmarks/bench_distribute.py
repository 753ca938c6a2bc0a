"""Distributing 1,000 pre-filled project workbooks vs XlsxWriter alone writing the same cells.

`perfxl distribute` reads a master table and writes one locked, pre-filled template per row
(styles, validation, protection, live formulas with cached values, the 审核 sheet). The
baseline writes every cell of such a workbook (values, formulas with their cached results,
defined names) with bare XlsxWriter: no formats, validation or protection; once as is, and
once with each distinct formula text prepared only once per process (XlsxWriter runs dozens
of regular expressions per formula; the perfxl writer memoises that, so the fair baseline
does too). Target: ≤ 1.5 × the fair baseline, about 1,000 in under 20 s.

Run: python benchmarks/bench_distribute.py [N] [--jobs J]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openpyxl
import xlsxwriter
from common import peak_rss_mib
from xlsxwriter.worksheet import Worksheet

from perfxl.batch import distribute
from perfxl.profile import load_profile


def make_master(path: Path, n: int, seed: int = 2023) -> Path:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "项目名称", "主管部门", "实施单位", "年度", "年初预算数", "全年预算数",
                    "当年财政拨款年初预算数", "当年财政拨款全年预算数"])  # fmt: skip
        for i in range(n):
            budget = rng.randint(1000, 10**8) / 100
            w.writerow([f"9{i:05d}", f"项目{i}", "示例市财政局", f"示例单位{i % 97}", 2023,
                        f"{budget:.2f}", f"{budget:.2f}", f"{budget:.2f}", f"{budget:.2f}"])  # fmt: skip
    return path


Cells = dict[str, list[tuple[int, int, Any, Any]]]  # sheet → (row, col, value or formula, cached)


def cells_of(path: Path) -> tuple[Cells, dict[str, str]]:
    """Every cell of a workbook (formulas with their cached results) and its defined names."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    out: Cells = {}
    for ws in formulas.worksheets:
        vs = values[ws.title]
        out[ws.title] = [
            (c.row - 1, c.column - 1, c.value, vs.cell(c.row, c.column).value)
            for row in ws.iter_rows()
            for c in row
            if c.value is not None
        ]
    names = {n: d.attr_text for n, d in formulas.defined_names.items()}
    return out, names


class _Memo(Worksheet):
    """XlsxWriter's formula preparation, done once per distinct formula text."""

    prepared: ClassVar[dict[tuple[str, bool], str]] = {}

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions)
        if key not in self.prepared:
            self.prepared[key] = super()._prepare_formula(formula, expand_future_functions)
        return self.prepared[key]


def bare_xlsxwriter(path: Path, cells: Cells, names: dict[str, str], memo: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False})
    for sheet, items in cells.items():
        ws = wb.add_worksheet(sheet, worksheet_class=_Memo if memo else None)
        for r, c, v, cached in items:
            if isinstance(v, str) and v.startswith("="):
                ws.write_formula(r, c, v, None, cached if cached is not None else "")
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
    for name, ref in names.items():
        wb.define_name(name, "=" + ref)
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    profile = load_profile("project-2020")
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-dist-") as d:
        folder = Path(d)
        master = make_master(folder / "主表.csv", args.n)
        distribute(make_master(folder / "warm.csv", 2), profile, folder / "warm")  # compile once
        start = time.perf_counter()
        outcomes = distribute(master, profile, folder / "out", jobs=args.jobs)
        ours = time.perf_counter() - start
        assert all(o.status == "已生成" for o in outcomes)
        print(
            f"perfxl distribute（{args.jobs} 个进程）: {args.n} 份 {ours:.2f} s，"
            f"每份 {ours / args.n * 1000:.1f} ms，峰值内存 {peak_rss_mib():.0f} MiB",
            flush=True,
        )
        cells, names = cells_of(folder / "out" / outcomes[0].file)
        count = sum(len(v) for v in cells.values())
        bare = {}
        for memo, label in ((False, "原样"), (True, "公式预处理只做一次")):
            start = time.perf_counter()
            for i in range(args.n):
                bare_xlsxwriter(folder / f"bare{i}.xlsx", cells, names, memo)
            bare[memo] = secs = time.perf_counter() - start
            print(
                f"XlsxWriter 单独写同样的 {count} 个单元格（{label}，单进程）: {args.n} 份 "
                f"{secs:.2f} s，每份 {secs / args.n * 1000:.1f} ms，峰值内存 {peak_rss_mib():.0f} MiB",
                flush=True,
            )
        per_proc = ours * args.jobs
        print(
            f"倍数（按单进程折算）：perfxl / XlsxWriter（公式预处理只做一次）= "
            f"{per_proc / bare[True]:.2f}×（目标 ≤ 1.5×），perfxl / XlsxWriter（原样）= "
            f"{per_proc / bare[False]:.2f}×；{args.n} 份用时 {ours:.1f} s（目标约 20 s）"
        )


if __name__ == "__main__":
    main()
