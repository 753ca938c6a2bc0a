"""`perfxl template` (blank workbooks with live formulas) and `perfxl pdf` (print preview)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from .errors import InputError, Problem
from .profile import load_profile, shipped_profiles
from .vba import SHIPPED_VBA

out = Console(highlight=False, soft_wrap=False)

SUFFIXES = (".xlsx", ".xlsm")


def _defaults() -> tuple[int, int, int]:
    from .workbook.layout import DEFAULT_INCOME_ROWS, DEFAULT_PROJECT_ROWS, DEFAULT_ROWS_PER_GROUP

    return DEFAULT_ROWS_PER_GROUP, DEFAULT_PROJECT_ROWS, DEFAULT_INCOME_ROWS


@click.command("template")
@click.argument("profile", required=False)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True,
    help="输出文件（.xlsx；.xlsm 带 校验/评分/清除标记 按钮）；与 --all 一起时为输出文件夹",
)  # fmt: skip
@click.option("--all", "all_", is_flag=True, help="为全部内置评价框架生成模板（<编号>.xlsx）")
@click.option(
    "--rows", type=click.IntRange(1, 500), default=None,
    help=f"项目支出表每个二级指标下的三级指标行数（默认 {_defaults()[0]}）",
)  # fmt: skip
@click.option(
    "--project-rows", type=click.IntRange(1, 2000), default=None,
    help=f"部门整体表“项目支出明细”的行数（默认 {_defaults()[1]}）",
)  # fmt: skip
@click.option(
    "--income-rows", type=click.IntRange(1, 500), default=None,
    help=f"部门整体表“收支情况”的收入行数（默认 {_defaults()[2]}）",
)  # fmt: skip
@click.option(
    "--vba", type=click.Path(path_type=Path), default=None,
    help="VBA 工程文件（vbaProject.bin）；生成 .xlsm 时默认使用随附的按钮宏",
)  # fmt: skip
def template_cmd(
    profile: str | None,
    output: Path,
    all_: bool,
    rows: int | None,
    project_rows: int | None,
    income_rows: int | None,
    vba: Path | None,
) -> None:
    """生成评价框架（内置编号或财政局的框架文件）的空白自评表模板，含公式、审核和填表说明。"""
    from .workbook.write import build_workbook

    d_rows, d_projects, d_income = _defaults()
    sizes = {
        "rows_per_group": rows or d_rows,
        "project_rows": project_rows or d_projects,
        "income_rows": income_rows or d_income,
    }
    if all_:
        if profile:
            raise click.UsageError("--all 与评价框架参数不能同时使用")
        if output.suffix.lower() in SUFFIXES:
            raise click.UsageError("使用 --all 时 -o 应为文件夹")
        made = 0
        for pid in shipped_profiles():
            for suffix, project in ((".xlsx", None), (".xlsm", vba or SHIPPED_VBA)):
                path = build_workbook(
                    load_profile(pid), output / f"{pid}{suffix}", vba_project=project, **sizes
                )
                out.print(f"已生成 {path}", markup=False)
                made += 1
        out.print(f"共生成 {made} 份模板（{len(shipped_profiles())} 个评价框架）", markup=False)
        return
    if not profile:
        raise click.UsageError(
            "请指定评价框架（内置编号，如 project-2020，或框架文件），或使用 --all"
        )
    suffix = output.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(Problem(str(output), "", "输出文件应以 .xlsx 或 .xlsm 结尾"))
    if suffix == ".xlsm" and vba is None:
        vba = SHIPPED_VBA  # the 校验/评分/清除标记 macros compiled from macros/
    if suffix == ".xlsx" and vba is not None:
        raise InputError(Problem(str(output), "", "带 VBA 工程的工作簿应以 .xlsm 结尾"))
    if vba is not None and not vba.is_file():
        raise InputError(Problem(str(vba), "", "VBA 工程文件不存在"))
    p = load_profile(profile)
    path = build_workbook(p, output, vba_project=vba, **sizes)
    out.print(f"已生成 {path}（{p.title}，评价框架 {p.id} 版本 {p.version}）")


# Sheets that are not the form: the live check, the guide, the results the buttons and
# `perfxl check --format xlsx` add. `perfxl pdf` leaves them out unless --all.
NOT_FORM_SHEETS = ("审核", "填表说明", "审核结果", "评分结果", "_perfxl")


def form_sheets(file: Path) -> list[str] | None:
    """The visible sheets of `file` that are the form, in order; None when that would be
    no sheet at all (a workbook that is not a perfxl form prints whole)."""
    import re
    import zipfile

    try:
        with zipfile.ZipFile(file) as z:
            xml = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    from html import unescape

    names = []
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", xml):
        name = re.search(r'\bname="([^"]*)"', tag)
        if name is None or re.search(r'\bstate="(hidden|veryHidden)"', tag):
            continue
        if unescape(name[1]) not in NOT_FORM_SHEETS:
            names.append(unescape(name[1]))
    return names or None


@click.command("pdf")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None,
    help="输出的 PDF 文件（默认与工作簿同名）",
)  # fmt: skip
@click.option(
    "--all", "all_", is_flag=True,
    help="打印全部工作表（默认只打印表样，不打印审核、填表说明、审核结果和评分结果）",
)  # fmt: skip
def pdf_cmd(file: Path, output: Path | None, all_: bool) -> None:
    """用 LibreOffice 把工作簿转成 PDF（先重新计算公式），查看打印效果。"""
    from .office import OfficeError, to_pdf

    if not file.is_file():
        raise InputError(Problem(str(file), "", "文件不存在"))
    target = output or file.with_suffix(".pdf")
    if target.suffix.lower() != ".pdf":
        raise InputError(Problem(str(target), "", "输出文件应以 .pdf 结尾"))
    sheets = None if all_ else form_sheets(file)
    try:
        to_pdf(file, target, sheets=sheets)
    except OfficeError as exc:
        raise InputError(Problem(str(file), "", str(exc))) from exc
    which = "全部工作表" if sheets is None else "、".join(sheets)
    out.print(f"已生成 {target}（{which}）", markup=False)


def register(cli: click.Group) -> None:
    cli.add_command(template_cmd)
    cli.add_command(pdf_cmd)
