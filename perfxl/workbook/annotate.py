"""The annotated copy (审核标注副本): the checked workbook with every finding marked on it.

The input is never modified: the copy is written beside it (or where asked), atomically.
Offending cells are filled (red 强制性, orange 提示性, light green 已说明) and carry a comment
with the findings' messages; a 审核结果 sheet, placed FIRST and opened on, lists every
finding (位置 links to the cell) and every rule's status for the file.

openpyxl writes the copy (keep_vba for .xlsm), so the copy carries no cached formula
results: Excel and WPS recalculate it on opening; readers that do not calculate see those
cells blank. The copy is for people to read, not a filing to submit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import atomic_path, refuse_inputs
from ..errors import InputError, Problem
from ..findings import Finding, Report, Severity, Status

__all__ = ["RESULT_SHEET", "annotate", "annotated_path"]

RESULT_SHEET = "审核结果"
MAX_ANNOTATED_CELLS = 200_000  # openpyxl keeps ~1 KB per cell: bounded to ~200 MB
FILLS = {"blocking": "FF7C80", "warning": "FFC000", "explained": "C6EFCE"}
_RANK = {"blocking": 3, "warning": 2, "explained": 1}
_STATUS_FILLS = {
    Status.FAILED: "FF7C80",
    Status.EXPLAINED: "C6EFCE",
    Status.PASSED: "E2EFDA",
    Status.NOT_APPLICABLE: "F2F2F2",
}


def annotated_path(source: Path, folder: Path | None = None) -> Path:
    """`<stem>.审核<suffix>` beside the source, or in `folder`."""
    source = Path(source)
    return (folder or source.parent) / f"{source.stem}.审核{source.suffix}"


def _kind(f: Finding) -> str:
    if f.severity is Severity.BLOCKING:
        return "blocking"
    return "explained" if f.explained else "warning"


def _level(f: Finding) -> str:
    return f.severity.value + ("（已说明）" if f.explained else "")


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _check_size(source: Path) -> None:
    """openpyxl builds an object per cell of every sheet: bound them before loading."""
    from .guard import book_cells, open_package

    pkg = open_package(source)
    try:
        cells = book_cells(pkg)
    finally:
        pkg.zip.close()
    if cells > MAX_ANNOTATED_CELLS:
        raise InputError(
            Problem(
                str(source),
                "",
                f"工作簿共有 {cells:,} 个单元格（上限 {MAX_ANNOTATED_CELLS:,}），无法生成标注副本："
                "请删除多余的行列或工作表后另存（审核结果见屏幕或 JSON 输出）",
            )
        )


def _page_setup(ws: Any, last_row: int) -> None:
    """A4 landscape, all columns on the page's width, the header row on every page. The
    print area is the summary and the findings: the list of every rule's outcome (mostly
    通过) stays on screen, out of the printout."""
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "4:4"
    ws.print_area = f"A1:G{last_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def annotate(
    source: Path,
    report: Report,
    target: Path | None = None,
    *,
    now: dt.datetime | None = None,
    inputs: Iterable[Path] = (),
) -> Path:
    """Write the annotated copy of `source` for `report`; returns its path.

    `target` may be none of `inputs` (nor `source`): the copy never replaces a file read."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    from .pyxl import load_workbook

    source = Path(source)
    target = Path(target) if target is not None else annotated_path(source)
    protected = (source, *inputs)
    refuse_inputs(target, protected)
    _check_size(source)
    keep_vba = source.suffix.lower() == ".xlsm"
    wb = load_workbook(source, keep_vba=keep_vba)

    marks: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            marks.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, a1), found in marks.items():
        ws = wb[sheet]
        cell = ws[a1]
        for rng in ws.merged_cells.ranges:  # a merged range is marked on its first cell
            if a1 in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
        worst = max((_kind(f) for f in found), key=_RANK.__getitem__)
        cell.fill = PatternFill("solid", start_color=FILLS[worst], end_color=FILLS[worst])
        text = "\n".join(f"[{f.code} {_level(f)}] {f.message}" for f in found)
        if cell.comment is not None:
            text = cell.comment.text + "\n" + text
        note = Comment(text, "perfxl")
        note.width, note.height = 360, min(60 + 40 * len(found), 400)
        cell.comment = note

    if RESULT_SHEET in wb.sheetnames:  # an annotated copy checked again: replace its sheet
        del wb[RESULT_SHEET]
    ws = wb.create_sheet(RESULT_SHEET, 0)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    link_font = Font(color="0563C1", underline="single")
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    s = report.summary()
    verdict = "审核通过" if report.valid else "审核未通过"
    ws["A1"] = (
        f"审核结果：{verdict}（错误 {s['blocking']} 项 / 提示 {s['warning']} 项 / 已说明 {s['explained']} 项）"
    )
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (
        f"本副本由 perfxl 于 {stamp} 根据文件「{source.name}」审核生成，原文件未作修改。"
        f"评价框架 {report.profile or ''} {report.profile_version or ''}。"
        "标红为强制性错误（须改正），橙色为提示（须核实或说明），浅绿为已说明的提示；"
        "单元格批注为说明。点击“位置”跳到对应单元格。本副本不含公式计算结果，"
        "请在 Excel 或 WPS 中打开查看，改正请在原文件中进行。"
    )
    ws["A2"].alignment = wrap
    ws.merge_cells("A2:G2")
    ws.row_dimensions[2].height = 75
    heads = ("序号", "级别", "编码", "位置", "说明", "应为", "实为")
    for i, h in enumerate(heads, 1):
        ws.cell(4, i, h).font = bold
    row = 5
    for n, f in enumerate(report.findings, 1):
        kind = _kind(f)
        ws.cell(row, 1, n)
        level = ws.cell(row, 2, _level(f))
        level.fill = PatternFill("solid", start_color=FILLS[kind], end_color=FILLS[kind])
        ws.cell(row, 3, f.code)
        where = ws.cell(row, 4, f.location())
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            where.hyperlink = Hyperlink(
                ref=where.coordinate, location=f"{_quoted(f.sheet)}!{f.cell}", display=f.location()
            )
            where.font = link_font
        ws.cell(row, 5, f.message).alignment = wrap
        ws.cell(row, 6, f.expected)
        ws.cell(row, 7, f.actual)
        row += 1
    if not report.findings:
        ws.cell(row, 1, "没有发现问题")
        row += 1
    last_finding = row - 1
    row += 1
    ws.cell(row, 1, "各项审核规则的结论").font = bold
    row += 1
    for i, h in enumerate(("序号", "级别", "编码", "范围", "规则", "结论"), 1):
        ws.cell(row, i, h).font = bold
    row += 1
    for n, o in enumerate(report.outcomes, 1):
        ws.cell(row, 1, n)
        ws.cell(row, 2, o.severity.value)
        ws.cell(row, 3, o.code)
        ws.cell(row, 4, o.scope.value)
        ws.cell(row, 5, o.title).alignment = wrap
        status = ws.cell(row, 6, o.status.value)
        color = _STATUS_FILLS[o.status]
        status.fill = PatternFill("solid", start_color=color, end_color=color)
        row += 1
    for letter, width in zip("ABCDEFG", (6, 14, 22, 26, 70, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    _page_setup(ws, last_finding)

    with atomic_path(target, inputs=protected) as tmp:
        wb.save(tmp)
    return target
