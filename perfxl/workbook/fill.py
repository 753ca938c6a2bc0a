"""Put a filing into a workbook: a fresh one built from a profile, or a bureau's own template.

A profile gives a full template from the writer (validation, protection, live formulas, the
审核 sheet) with the filing's values in it. A bureau's customised template (restyled, same
defined names) is filled in place of its input cells only, through openpyxl, so its styles,
macros and formulas stay as the bureau made them; openpyxl drops cached formula results, so
the copy is marked to be recalculated when Excel, WPS or LibreOffice opens it.
Inputs are never modified; the output appears atomically.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..errors import InputError, Problem
from ..model import Filing
from ..profile import Profile, load_profile
from .guard import Area, col_letter, col_number, is_percent_format
from .layout import Block, Layout
from .read import locate

__all__ = ["build_filled", "fill", "fill_template", "is_template"]

TEMPLATE_SUFFIXES = (".xlsx", ".xlsm")


def is_template(target: str | Path) -> bool:
    """An existing workbook file (a template to fill), rather than a profile id or file."""
    p = Path(target)
    return p.suffix.lower() in TEMPLATE_SUFFIXES and p.is_file()


def _not_an_input(out: Path, inputs: tuple[Path, ...]) -> None:
    for src in inputs:
        if out.exists() and src.exists() and os.path.samefile(src, out):
            raise InputError(Problem(str(out), "", "输出文件不能与输入文件相同（不修改原文件）"))


def _check_profile(filing: Filing, profile: Profile, where: str) -> None:
    if filing.profile != profile.id:
        raise InputError(
            Problem(
                where,
                "",
                f"填报数据按评价框架「{filing.profile}」编制，与「{profile.id}」不一致，不能填入",
            )
        )


# ------------------------------------------------------------------ from a profile


def build_filled(
    profile: Profile,
    filing: Filing,
    out: Path,
    *,
    lock_prefilled: bool = False,
    inputs: tuple[Path, ...] = (),
) -> Path:
    """A new workbook of `profile` holding `filing` (the writer sizes blocks to fit)."""
    _check_profile(filing, profile, str(out))
    _not_an_input(Path(out), inputs)
    from .write import build_workbook

    return build_workbook(profile, Path(out), filing, lock_prefilled=lock_prefilled)


# ------------------------------------------------------------------ into a template


def _items(filing: Filing, block: Block) -> list[Any]:
    if block.list_path == "indicators":
        return [i for i in filing.indicators if i.code == block.fixed.get("code")]
    return list(filing.value(block.list_path) or [])


def _cell_value(item: Any, key: str) -> Any:
    """What goes into a block cell: the number, else the text the model keeps beside it."""
    if key in ("target", "actual"):
        number, text = getattr(item, key), getattr(item, f"{key}_text")
        if getattr(item, "direction", None) == "定性" or number is None:
            return text
        return number
    return getattr(item, key)


def _write(ws: Any, row: int, col: int, value: Any, template: Path) -> None:
    """One input cell; text stays text even when it starts with "=", numbers keep their
    meaning when a bureau gave the cell a percentage format (95 → 0.95 shown as 95%)."""
    from openpyxl.cell.cell import MergedCell

    cell = ws.cell(row=row, column=col)
    if isinstance(cell, MergedCell):  # a bureau merged an input cell into its neighbour
        if value is None:
            return
        raise InputError(
            Problem(
                str(template),
                f"{ws.title}!{cell.coordinate}",
                "填报栏被合并到了相邻单元格中，无法写入：请在模板中取消该合并",
            )
        )
    if isinstance(value, Decimal) and is_percent_format(cell.number_format or ""):
        value = value / 100
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def fill_template(
    template: Path,
    filing: Filing,
    out: Path,
    *,
    profile: Profile | None = None,
    inputs: tuple[Path, ...] = (),
) -> Path:
    """Write `filing` into the input cells of an existing template, found by defined names.

    Input cells the filing leaves empty are cleared, so the copy reads back as the filing.
    A block with fewer rows than the filing needs is an error, never a silent truncation.
    """
    import openpyxl

    template = Path(template)
    prof, layout, areas = locate(template, profile)
    _check_profile(filing, prof, str(template))
    macro = template.suffix.lower() == ".xlsm"
    if macro != (Path(out).suffix.lower() == ".xlsm"):
        want = ".xlsm（模板含宏）" if macro else ".xlsx"
        raise InputError(Problem(str(out), "", f"输出文件的扩展名应为 {want}，与模板一致"))
    _check_room(template, filing, layout, areas)
    wb = openpyxl.load_workbook(template, keep_vba=macro, keep_links=True)
    for cell in layout.cells:
        if cell.role == "input" and cell.path is not None:
            a = areas[cell.name]
            _write(wb[a.sheet], a.row, a.col, filing.value(cell.path), template)
    for block in layout.blocks:
        a = areas[block.name]
        ws = wb[a.sheet]
        first = col_number(block.columns[0].letter)
        items = _items(filing, block)
        for r in range(a.row, a.last_row + 1):
            item = items[r - a.row] if r - a.row < len(items) else None
            for c in block.columns:
                if c.role == "input":
                    value = None if item is None else _cell_value(item, c.key)
                    _write(ws, r, a.col + col_number(c.letter) - first, value, template)
    wb.calculation.fullCalcOnLoad = True
    with atomic_path(Path(out), inputs=(template, *inputs)) as tmp:
        wb.save(tmp)
    return Path(out)


def _check_room(template: Path, filing: Filing, layout: Layout, areas: dict[str, Area]) -> None:
    problems = []
    profile = layout.profile
    for block in layout.blocks:
        a = areas[block.name]
        need, have = len(_items(filing, block)), a.last_row - a.row + 1
        if need > have:
            node = profile.node(block.fixed.get("code", ""))
            what = f"「{node.name}」" if node else block.name
            problems.append(
                Problem(
                    str(template),
                    f"{a.sheet}!{col_letter(a.col)}{a.row}（{block.name}）",
                    f"{what}区域只有 {have} 行，填报数据有 {need} 行：请在模板该区域中间插入 "
                    f"{need - have} 行后再填，或改用评价框架编号生成新表",
                )
            )
    if problems:
        raise InputError(problems)


# ------------------------------------------------------------------ either


def fill(
    target: str | Path,
    filing: Filing,
    out: Path,
    *,
    profile: Profile | None = None,
    lock_prefilled: bool = False,
    inputs: tuple[Path, ...] = (),
) -> Path:
    """Fill `filing` into a template file, or into a new workbook of a profile id / file."""
    if is_template(target):
        return fill_template(Path(target), filing, out, profile=profile, inputs=inputs)
    prof = profile or load_profile(target)
    return build_filled(prof, filing, out, lock_prefilled=lock_prefilled, inputs=inputs)
