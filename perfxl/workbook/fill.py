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
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..errors import InputError, Problem
from ..model import Filing
from ..profile import Profile, load_profile
from ..score_rules import NOT_APPLICABLE
from .guard import Area, col_letter, col_number, is_percent_format
from .layout import Block, Layout, layout_for
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
    if key == "applicable":  # 是否适用: blank, or 不适用
        return None if item.applicable else NOT_APPLICABLE
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
    from .pyxl import load_workbook

    template = Path(template)
    prof, layout, areas = locate(template, profile)
    _check_profile(filing, prof, str(template))
    macro = template.suffix.lower() == ".xlsm"
    if macro != (Path(out).suffix.lower() == ".xlsm"):
        want = ".xlsm（模板含宏）" if macro else ".xlsx"
        raise InputError(Problem(str(out), "", f"输出文件的扩展名应为 {want}，与模板一致"))
    _check_room(template, filing, layout, areas)
    wb = load_workbook(template, keep_vba=macro, keep_links=True)
    for cell in layout.cells:
        if cell.role == "input" and cell.path is not None and cell.name in areas:
            a = areas[cell.name]
            _write(wb[a.sheet], a.row, a.col, filing.value(cell.path), template)
    for block in layout.blocks:
        if block.name not in areas:
            continue  # a template made before this block: not_kept names what is lost
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
        if block.name not in areas:
            continue
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


# ------------------------------------------------------------------ what was not kept

_META = frozenset({"format", "profile", "profile_version", "sources"})


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _leaves(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _leaves(v, f"{path}.{i}", out)
    elif value is not None:
        out[path] = value


def _flat(filing: Filing) -> dict[str, Any]:
    """Field path → value of every stated field; indicators keyed by code and rank within
    their code (a workbook lists them in the order of its blocks, not of the data)."""
    data = filing.model_dump(exclude=set(_META))
    inds = data.pop("indicators", [])
    out: dict[str, Any] = {}
    _leaves(data, "", out)
    seen: dict[str, int] = {}
    for i, ind in enumerate(inds):
        k = seen[ind["code"]] = seen.get(ind["code"], -1) + 1
        row: dict[str, Any] = {}
        _leaves(ind, "", row)
        for key, v in row.items():
            out[f"indicators[{ind['code']}#{k}].{key}"] = (f"indicators.{i}.{key}", v)
    return out


def field_title(path: str) -> str:
    """The Chinese title of a field path ("finance.basic_share" → 基本支出占比（填报）)."""
    from pydantic import BaseModel

    model: Any = Filing
    title = path
    for part in path.split("."):
        if part.isdigit() or model is None:
            continue
        info = model.model_fields.get(part) if isinstance(model, type) else None
        if info is None:
            continue
        title = info.title or part
        ann = info.annotation
        args = getattr(ann, "__args__", ()) or ()
        model = next(
            (
                a
                for a in (ann, *args, *(x for a in args for x in getattr(a, "__args__", ())))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
    return title


def not_kept(filing: Filing, out: Path, profile: Profile | None = None) -> list[Problem]:
    """Every field `filing` states that the filled workbook does not give back as stated:
    no cell holds it, or its cell is a formula showing another value. `fill` never drops a
    field silently: these are the notes it reports, each naming the field."""
    from .read import read_workbook_ex

    back, _notes = read_workbook_ex(Path(out), profile)
    given, got = _flat(filing), _flat(back)
    roles = _roles(layout_for(profile or load_profile(filing.profile)))
    problems = []
    for key, value in given.items():
        path, value = value if isinstance(value, tuple) else (key, value)
        have = got.get(key)
        have = have[1] if isinstance(have, tuple) else have
        if _same(value, have) or _restated(path, value, got, key):
            continue
        role = roles.get(path) or roles.get(_column_of(path))
        if role == "formula" and have is None:
            continue  # a bureau's template filled by openpyxl: computed when it is opened
        if role == "formula":
            why = f"该栏为公式，工作簿按公式显示为 {_shown(have)}，填报值未保留"
        elif have is None:
            why = "模板中没有填写该项的单元格，未写入"
        else:
            why = f"写入后读回为 {_shown(have)}"
        problems.append(
            Problem(str(out), path, f"填报数据中的「{field_title(path)}」为 {_shown(value)}：{why}")
        )
    return problems


def _roles(layout: Layout) -> dict[str, str]:
    """Field path (or column path "projects.*.rate") → role of the cell holding it."""
    roles = {c.path: c.role for c in layout.cells if c.path}
    for b in layout.blocks:
        for c in b.columns:
            roles.setdefault(f"{b.list_path}.*.{c.key}", c.role)
    return roles


def _column_of(path: str) -> str:
    parts = path.split(".")
    return ".".join("*" if p.isdigit() else p for p in parts)


_RESTATED = re.compile(r"\s*[≥≤<>=＞＜＝]*\s*([-+]?\d+(?:\.\d+)?)\s*[%％]?\s*")


def _restated(path: str, value: Any, got: dict[str, Any], key: str) -> bool:
    """An indicator's 年度指标值 / 实际完成值 text that only restates its number with a
    comparator or a per cent sign (≥98%): the cell holds the number, its 性质 the ≥."""
    if not (isinstance(value, str) and key.endswith(("target_text", "actual_text"))):
        return False
    m = _RESTATED.fullmatch(value)
    number = got.get(key.removesuffix("_text"))
    number = number[1] if isinstance(number, tuple) else number
    return m is not None and isinstance(number, Decimal) and Decimal(m[1]) == number


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def _shown(v: Any) -> str:
    if v is None or v == "":
        return "空"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)
