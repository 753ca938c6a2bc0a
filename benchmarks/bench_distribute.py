"""Distributing 1,000 pre-filled project workbooks, against XlsxWriter alone.

`perfxl distribute` reads a master table and writes one locked, pre-filled workbook per row
(styles, validation, protection, live formulas with cached values, the 审核 sheet). It builds
the profile's workbook once and stamps each row's copy from it (perfxl.workbook.stamp): only
the cells whose content differs are rewritten.

Two baselines, both bare XlsxWriter (no formats, validation or protection), single process:

(a) "stamped cells": a workbook holding just the cells the stamp rewrote for that row (the
    header and 资金 inputs, and the formula cells whose cached result changed, with their
    formulas and results), in their sheets. This is the floor for writing a valid .xlsx
    that carries the row's values at all: the issue's target is ≤ 1.5 × this.
(b) "full content": every cell of a distributed workbook (values, formulas with cached
    results, defined names), with each distinct formula text prepared once per process, as
    perfxl's writer does. This is what writing the document from scratch costs at best;
    it is timed on a sample of rows (it is slow) and given per file.

Ratios compare per-file cost per process (wall time × processes ÷ files). Also printed: the
one-off cost of building the base workbook, and the former way (build_workbook per row) on
a sample, for scale. The time for 1,000 files should be about 20 s or less.

Run: python benchmarks/bench_distribute.py [N] [--jobs J] [--sample S]
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openpyxl
import xlsxwriter
from common import peak_rss_mib
from xlsxwriter.utility import xl_cell_to_rowcol
from xlsxwriter.worksheet import Worksheet

from perfxl.batch import distribute, read_master
from perfxl.profile import load_profile
from perfxl.workbook.stamp import Stamper
from perfxl.workbook.write import build_workbook


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


_PATCH = re.compile(
    r'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>(?:<f>(.*?)</f>)?(?:<v>(.*?)</v>)?'
    r"(?:<is><t[^>]*>(.*?)</t></is>)?</c>)",
    re.DOTALL,
)


def stamped_cells(stamper: Stamper, filing: Any) -> Cells:
    """The cells the stamp rewrites for `filing`, as (row, col, value or formula, cached)."""
    out: Cells = {}
    for sheet, cells in (stamper.changes(filing) or {}).items():
        for xml in cells.values():
            m = _PATCH.fullmatch(xml.decode())
            assert m is not None, xml
            a1, formula, v, text = m.groups()
            r, c = xl_cell_to_rowcol(a1)
            if formula is not None:
                item: tuple[int, int, Any, Any] = (r, c, "=" + html.unescape(formula), v or "")
            elif text is not None:
                item = (r, c, html.unescape(text), None)
            else:
                item = (r, c, float(v) if v else None, None)
            out.setdefault(sheet, []).append(item)
    return out


class _Memo(Worksheet):
    """XlsxWriter's formula preparation, done once per distinct formula text."""

    prepared: ClassVar[dict[tuple[str, bool], str]] = {}

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions)
        if key not in self.prepared:
            self.prepared[key] = super()._prepare_formula(formula, expand_future_functions)
        return self.prepared[key]


def bare_xlsxwriter(path: Path, cells: Cells, names: dict[str, str]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False})
    for sheet, items in cells.items():
        ws = wb.add_worksheet(sheet, worksheet_class=_Memo)
        for r, c, v, cached in items:
            if isinstance(v, str) and v.startswith("="):
                ws.write_formula(r, c, v, None, cached if cached is not None else "")
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            else:
                ws.write_blank(r, c, None)
    for name, ref in names.items():
        wb.define_name(name, "=" + ref)
    wb.close()


def peak_children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--sample", type=int, default=50, help="rows timed for baseline (b)")
    args = ap.parse_args()
    n = args.n
    profile = load_profile("project-2020")
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-dist-") as d:
        folder = Path(d)
        master = make_master(folder / "主表.csv", n)
        distribute(make_master(folder / "warm.csv", 2), profile, folder / "warm")  # imports

        start = time.perf_counter()
        outcomes = distribute(master, profile, folder / "out", jobs=args.jobs)
        ours = time.perf_counter() - start
        assert all(o.status == "已生成" for o in outcomes)
        per_file = ours * args.jobs / n
        print(
            f"perfxl distribute（{args.jobs} 个进程）: {n} 份 {ours:.2f} s，"
            f"每份 {ours / n * 1000:.2f} ms（按单进程折算 {per_file * 1000:.2f} ms），"
            f"峰值内存 {peak_rss_mib():.0f} MiB（子进程峰值 {peak_children_mib():.0f} MiB）",
            flush=True,
        )
        start = time.perf_counter()
        stamper = Stamper(profile)
        print(f"  底本（构建并核对一次，已预热）: {(time.perf_counter() - start) * 1000:.0f} ms")

        rows = read_master(master, profile).rows
        small = [stamped_cells(stamper, r.filing) for r in rows]
        count = sum(len(v) for v in small[0].values())
        start = time.perf_counter()
        for i, cells in enumerate(small):
            bare_xlsxwriter(folder / f"a{i % 10}.xlsx", cells, {})
        base_a = (time.perf_counter() - start) / n
        print(
            f"(a) XlsxWriter 单独写改写的单元格（每份约 {count} 个）: 每份 {base_a * 1000:.2f} ms，"
            f"{n} 份 {base_a * n:.2f} s",
            flush=True,
        )

        cells, names = cells_of(folder / "out" / outcomes[0].file)
        full = sum(len(v) for v in cells.values())
        k = min(args.sample, n)
        start = time.perf_counter()
        for i in range(k):
            bare_xlsxwriter(folder / f"b{i % 10}.xlsx", cells, names)
        base_b = (time.perf_counter() - start) / k
        print(
            f"(b) XlsxWriter 单独写整本内容（{full} 个单元格及定义名称，公式预处理只做一次，"
            f"抽样 {k} 份）: 每份 {base_b * 1000:.1f} ms，折合 {n} 份 {base_b * n:.1f} s",
            flush=True,
        )

        start = time.perf_counter()
        for r in rows[:k]:
            build_workbook(profile, folder / "old.xlsx", r.filing, lock_prefilled=True)
        old = (time.perf_counter() - start) / k
        print(f"原做法（每份 build_workbook，抽样 {k} 份）: 每份 {old * 1000:.1f} ms，"
              f"折合 {n} 份 {old * n:.1f} s")  # fmt: skip

        print(
            f"倍数（按单进程折算）：perfxl / (a) = {per_file / base_a:.2f}×（目标 ≤ 1.5×），"
            f"perfxl / (b) = {per_file / base_b:.3f}×，原做法 / perfxl = {old / per_file:.0f}×；"
            f"{n} 份用时 {ours:.1f} s（目标约 20 s 以内），峰值内存 {peak_rss_mib():.0f} MiB"
        )


if __name__ == "__main__":
    main()
