"""The files of a collection round (perfxl collect): 汇总.xlsx, JSON/CSV, per-unit feedback.

ROUND_DIR/
  汇总.xlsx        汇总 (a row per unit), 未交, 问题清单 (every finding, linked to the cell of
                   the annotated copy), 统计 (counts per status and grade, score bands as
                   COUNTIF formulas with their results cached, and charts)
  汇总.json        the round (format perfxl-collect/1), 汇总.csv and 问题清单.csv the same rows
  反馈_第N轮/<单位编码>_<名称>/   for each unit to act on: the annotated copy (<name>.审核.xlsx)
                   and 审核意见.xlsx, a one-page opinion the bureau can send as it is
  history/第N轮.json  every round, so the next one can show what changed

Every sheet prints on A4, fit to the page width, its header row repeated on each page. Text
from returns is written as text (never a formula); CSV cells are neutralised (csv_cell).
Every file appears atomically.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from .atomic import atomic_path, write_text
from .batch import csv_cell, sanitize
from .collect import (
    FAILED,
    FINDING_COLUMNS,
    HISTORY,
    MISSING,
    PASSED,
    UNUSABLE,
    Round,
    run_parallel,
)

SUMMARY = "汇总.xlsx"
OPINION = "审核意见.xlsx"
STATUS_COLORS = {PASSED: "#C6EFCE", FAILED: "#FFC7CE", UNUSABLE: "#FFEB9C", MISSING: "#D9D9D9"}
GRADE_ORDER = ("优", "良", "中", "差")
BANDS = (("90–100 分", ">=90", "<=100"), ("80–90 分", ">=80", "<90"),
         ("60–80 分", ">=60", "<80"), ("60 分以下", ">=0", "<60"))  # fmt: skip
OPTIONS = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}


def feedback_dir(rnd: Round) -> str:
    return f"反馈_第{rnd.number}轮"


def _needs_action(u: dict[str, Any]) -> bool:
    return bool(u["文件"]) and u["状态"] in (FAILED, UNUSABLE)


def write_round(rnd: Round, round_dir: Path, *, jobs: int = 1) -> None:
    """Every file of the round in `round_dir`; the round's record goes to history last."""
    round_dir = Path(round_dir)
    round_dir.mkdir(parents=True, exist_ok=True)
    tasks = []
    for u in rnd.units:
        if not _needs_action(u):
            continue
        folder = round_dir / feedback_dir(rnd) / sanitize(f"{u['单位编码']}_{u['名称']}", 60)
        mine = [f for f in rnd.findings if f["文件"] == u["文件"]]
        tasks.append((u, rnd.results.get(u["文件"]), str(folder), mine, rnd.number))
    copies: dict[str, str] = {}

    def done(i: int, res: dict[str, Any]) -> None:
        u = tasks[i][0]
        if res.get("annotated"):
            copies[u["文件"]] = os.path.relpath(res["annotated"], round_dir)
        u["反馈"] = os.path.relpath(tasks[i][2], round_dir)
        if res.get("error"):
            rnd.notes.append(f"{u['文件']}：未能写出标注副本（{res['error']}）")

    run_parallel(_feedback, tasks, jobs, done, lambda t: {"error": "处理时进程异常退出"})
    for f in rnd.findings:
        rel = copies.get(f["文件"])
        f["标注副本"] = rel or ""
    write_workbook(rnd, round_dir / SUMMARY, copies)
    data = rnd.to_json()
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n"
    write_text(round_dir / "汇总.json", text)
    _csv(round_dir / "汇总.csv", _unit_header(rnd), [_unit_cells(rnd, u) for u in rnd.units])
    _csv(
        round_dir / "问题清单.csv",
        list(FINDING_COLUMNS),
        [[f[c] for c in FINDING_COLUMNS] for f in rnd.findings],
    )
    write_text(round_dir / HISTORY / f"第{rnd.number}轮.json", text)


def _feedback(task: tuple[Any, ...]) -> dict[str, Any]:
    """One unit's folder: the annotated copy and 审核意见.xlsx. Never raises."""
    from .collect import report_of
    from .isolation import failure

    unit, res, folder, findings, number = task
    folder = Path(folder)
    out: dict[str, Any] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if res is not None and res.get("usable"):
            from .workbook.annotate import annotate

            src = Path(res.get("source") or res["file"])
            suffix = ".xlsm" if src.suffix.lower() == ".xlsm" else ".xlsx"
            target = folder / (sanitize(Path(res["file"]).stem, 80) + ".审核" + suffix)
            try:
                annotate(src, report_of(res), target, inputs=[Path(res["file"])])
                out["annotated"] = str(target)
            except Exception as exc:
                out["error"] = failure(res["file"], exc).message
        write_opinion(folder / OPINION, unit, findings, number, out.get("annotated"))
    except Exception as exc:
        out["error"] = failure(folder, exc).message
    return out


# ------------------------------------------------------------------ the opinion


def write_opinion(
    path: Path, unit: dict[str, Any], findings: list[dict[str, Any]], number: int,
    annotated: str | None,
) -> None:  # fmt: skip
    """审核意见: who, which file, the verdict and every problem to fix, on A4."""
    import datetime as dt

    import xlsxwriter

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), OPTIONS)
        ws = wb.add_worksheet("审核意见")
        title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
        label = wb.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2", "valign": "top"})
        text = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        head = wb.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7", "align": "center"})
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 10)
        ws.set_column(2, 2, 24)
        ws.set_column(3, 3, 60)
        ws.merge_range(0, 0, 0, 3, "预算绩效自评表审核意见", title)
        rows = [
            ("单位", f"{unit['单位编码']} {unit['名称']}".strip()),
            ("文件", Path(unit["文件"]).name),
            ("审核结论", f"{unit['状态']}（第 {number} 轮回收）"),
            ("审核日期", dt.date.today().isoformat()),
        ]
        if unit["状态"] == UNUSABLE:
            rows.append(("原因", unit["主要问题"]))
        if annotated:
            rows.append(("标注副本", f"{Path(annotated).name}（问题单元格已标色并附批注）"))
        r = 2
        for k, v in rows:
            ws.write_string(r, 0, k, label)
            ws.merge_range(r, 1, r, 3, "", text)
            ws.write_string(r, 1, v, text)
            r += 1
        r += 1
        todo = [f for f in findings if f["级别"] != "已说明"]
        if todo:
            for j, h in enumerate(("序号", "级别", "位置", "问题")):
                ws.write_string(r, j, h, head)
            ws.repeat_rows(r)
            r += 1
            for i, f in enumerate(todo, start=1):
                ws.write_number(r, 0, i, text)
                ws.write_string(r, 1, f["级别"], text)
                ws.write_string(r, 2, f["位置"], text)
                ws.write_string(r, 3, f["说明"], text)
                r += 1
        r += 1
        note = (
            "请按上述意见修改后重新提交。强制性问题必须改正；提示性问题可改正，"
            "或在表中说明原因。请勿修改下发时锁定的单位编码、名称和预算数。"
        )
        if unit["状态"] == UNUSABLE:
            note = "提交的文件无法审核，请按原因处理后用下发的工作簿重新填报、另存为 .xlsx 再提交。"
        ws.merge_range(r, 0, r + 1, 3, note, text)
        _print_setup(ws, landscape=False)
        wb.close()


# ------------------------------------------------------------------ 汇总.xlsx


def _unit_header(rnd: Round) -> list[str]:
    return [
        "序号", "单位编码", "名称", "状态", "标记", "总分", "等级",
        *(f"{c} {n}" for c, n in rnd.groups),
        "执行率(%)", "错误数", "提示数", "已说明数", "主要问题", "本轮变化", "文件",
    ]  # fmt: skip


def _unit_cells(rnd: Round, u: dict[str, Any]) -> list[Any]:
    return [
        u["序号"], u["单位编码"], u["名称"], u["状态"], u["标记"], _num(u["总分"]), u["等级"],
        *(_num(u["一级得分"].get(c)) for c, _ in rnd.groups),
        _num(u["执行率"]), u["错误数"], u["提示数"], u["已说明数"], u["主要问题"],
        u["本轮变化"], u["文件"],
    ]  # fmt: skip


def _num(v: Any) -> float | None:
    return None if v in (None, "") else float(v)


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for row in rows:
                w.writerow([csv_cell("" if v is None else str(v)) for v in row])


def _print_setup(ws: Any, *, landscape: bool = True, header_row: int | None = None) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)  # one page wide, as many long as needed
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    if header_row is not None:
        ws.repeat_rows(header_row)


def _col(n: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(n)


def write_workbook(rnd: Round, path: Path, copies: dict[str, str] | None = None) -> None:
    """汇总.xlsx: 汇总, 未交, 问题清单, 统计."""
    import xlsxwriter

    copies = copies or {}
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), OPTIONS)
        head = wb.add_format(
            {"bold": True, "border": 1, "bg_color": "#DDEBF7", "text_wrap": True,
             "align": "center", "valign": "vcenter"}
        )  # fmt: skip
        cell = wb.add_format({"border": 1, "valign": "top"})
        wrap = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
        num = wb.add_format({"border": 1, "valign": "top", "num_format": "0.00"})
        link = wb.add_format({"border": 1, "valign": "top", "font_color": "blue", "underline": 1})
        fills = {s: wb.add_format({"bg_color": c}) for s, c in STATUS_COLORS.items()}

        # -- 汇总
        ws = wb.add_worksheet("汇总")
        header = _unit_header(rnd)
        widths = {"序号": 5, "单位编码": 11, "名称": 24, "状态": 8, "标记": 12, "总分": 7,
                  "等级": 5, "执行率(%)": 8, "错误数": 6, "提示数": 6, "已说明数": 6,
                  "主要问题": 48, "本轮变化": 18, "文件": 30}  # fmt: skip
        for j, h in enumerate(header):
            ws.write_string(0, j, h, head)
            ws.set_column(j, j, widths.get(h, 9))
        ws.set_row(0, 30)
        for i, u in enumerate(rnd.units, start=1):
            for j, v in enumerate(_unit_cells(rnd, u)):
                if v is None or v == "":
                    ws.write_blank(i, j, None, cell)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v, num if isinstance(v, float) else cell)
                else:
                    ws.write_string(i, j, str(v), wrap if header[j] == "主要问题" else cell)
        last = len(rnd.units)
        status_col = header.index("状态")
        for s, fmt in fills.items():
            ws.conditional_format(1, status_col, max(last, 1), status_col,
                                  {"type": "cell", "criteria": "==", "value": f'"{s}"',
                                   "format": fmt})  # fmt: skip
        ws.autofilter(0, 0, max(last, 1), len(header) - 1)
        ws.freeze_panes(1, 3)
        _print_setup(ws, header_row=0)
        ws.set_header(f"&C第 {rnd.number} 轮回收汇总（{rnd.when[:10]}）")

        # -- 未交
        ws2 = wb.add_worksheet("未交")
        for j, (h, w) in enumerate((("序号", 6), ("单位编码", 12), ("名称", 30), ("下发文件", 40))):
            ws2.write_string(0, j, h, head)
            ws2.set_column(j, j, w)
        r = 1
        for u in rnd.units:
            if u["状态"] != MISSING:
                continue
            ws2.write_number(r, 0, u["序号"], cell)
            ws2.write_string(r, 1, u["单位编码"], cell)
            ws2.write_string(r, 2, u["名称"], cell)
            ws2.write_string(r, 3, u.get("下发文件", ""), cell)
            r += 1
        _print_setup(ws2, landscape=False, header_row=0)

        # -- 问题清单
        ws3 = wb.add_worksheet("问题清单")
        cols = (("单位编码", 11), ("名称", 22), ("级别", 8), ("编码", 20), ("位置", 26),
                ("说明", 60), ("文件", 30))  # fmt: skip
        for j, (h, w) in enumerate(cols):
            ws3.write_string(0, j, h, head)
            ws3.set_column(j, j, w)
        for i, f in enumerate(rnd.findings, start=1):
            ws3.write_string(i, 0, f["单位编码"], cell)
            ws3.write_string(i, 1, f["名称"], cell)
            ws3.write_string(i, 2, f["级别"], cell)
            ws3.write_string(i, 3, f["编码"], cell)
            rel = copies.get(f["文件"])
            if rel and f["工作表"] and f["单元格"]:
                sheet = f["工作表"].replace("'", "''")
                target = f"external:{rel}#'{sheet}'!{f['单元格']}"
                if len(target) < 2000:
                    ws3.write_url(i, 4, target, link, string=f["位置"],
                                  tip="打开标注副本中的这个单元格")  # fmt: skip
                else:
                    ws3.write_string(i, 4, f["位置"], cell)
            else:
                ws3.write_string(i, 4, f["位置"], cell)
            ws3.write_string(i, 5, f["说明"], wrap)
            ws3.write_string(i, 6, f["文件"], cell)
        ws3.autofilter(0, 0, max(len(rnd.findings), 1), len(cols) - 1)
        ws3.freeze_panes(1, 0)
        _print_setup(ws3, header_row=0)

        # -- 统计: COUNTIF formulas over 汇总, their results cached
        ws4 = wb.add_worksheet("统计")
        ws4.set_column(0, 0, 14)
        ws4.set_column(1, 1, 10)
        n = max(last + 1, 2)
        scol, gcol, tcol = _col(status_col), _col(header.index("等级")), _col(header.index("总分"))
        counts = rnd.counts()
        ws4.write_string(0, 0, "状态", head)
        ws4.write_string(0, 1, "单位数", head)
        statuses = list(counts)
        for i, s in enumerate(statuses, start=1):
            ws4.write_string(i, 0, s, cell)
            ws4.write_formula(
                i, 1, f"=COUNTIF(汇总!${scol}$2:${scol}${n},A{i + 1})", cell, counts[s]
            )
        k = len(statuses) + 1
        ws4.write_string(k, 0, "合计", head)
        ws4.write_formula(k, 1, f"=SUM(B2:B{k})", head, sum(counts.values()))
        grades = [g for g in GRADE_ORDER]
        grades += sorted({u["等级"] for u in rnd.units if u["等级"] and u["等级"] not in grades})
        g0 = k + 2
        ws4.write_string(g0, 0, "等级", head)
        ws4.write_string(g0, 1, "单位数", head)
        for i, g in enumerate(grades, start=g0 + 1):
            v = sum(1 for u in rnd.units if u["等级"] == g and u["状态"] != MISSING)
            ws4.write_string(i, 0, g, cell)
            ws4.write_formula(i, 1, f"=COUNTIF(汇总!${gcol}$2:${gcol}${n},A{i + 1})", cell, v)
        b0 = g0 + len(grades) + 2
        ws4.write_string(b0, 0, "分数段", head)
        ws4.write_string(b0, 1, "单位数", head)
        scores = [float(u["总分"]) for u in rnd.units if u["总分"] not in (None, "")]
        for i, (label, lo, hi) in enumerate(BANDS, start=b0 + 1):
            v = sum(1 for s in scores if _in(s, lo) and _in(s, hi))
            rng = f"汇总!${tcol}$2:${tcol}${n}"
            ws4.write_string(i, 0, label, cell)
            ws4.write_formula(i, 1, f'=COUNTIFS({rng},"{lo}",{rng},"{hi}")', cell, v)
        if rnd.units:
            chart = wb.add_chart({"type": "column"})
            chart.add_series({
                "name": "单位数", "categories": ["统计", b0 + 1, 0, b0 + len(BANDS), 0],
                "values": ["统计", b0 + 1, 1, b0 + len(BANDS), 1], "data_labels": {"value": True},
            })  # fmt: skip
            chart.set_title({"name": "总分分布"})
            chart.set_legend({"none": True})
            ws4.insert_chart(0, 3, chart, {"x_scale": 1.1, "y_scale": 1.0})
            pie = wb.add_chart({"type": "pie"})
            pie.add_series({
                "name": "回收状态", "categories": ["统计", 1, 0, len(statuses), 0],
                "values": ["统计", 1, 1, len(statuses), 1],
                "data_labels": {"value": True, "category": True},
                "points": [{"fill": {"color": STATUS_COLORS[s]}} for s in statuses],
            })  # fmt: skip
            pie.set_title({"name": "回收状态"})
            ws4.insert_chart(16, 3, pie, {"x_scale": 1.1, "y_scale": 1.0})
        _print_setup(ws4, landscape=False, header_row=0)
        wb.close()


def _in(value: float, cond: str) -> bool:
    op, n = (cond[:2], float(cond[2:])) if cond[1] == "=" else (cond[:1], float(cond[1:]))
    return {">=": value >= n, "<=": value <= n, "<": value < n, ">": value > n}[op]


__all__ = ["OPINION", "SUMMARY", "write_opinion", "write_round", "write_workbook"]
