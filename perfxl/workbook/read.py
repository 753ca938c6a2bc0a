"""Read a filled perfxl workbook back into a Filing, exactly, with the cell of every value.

Everything is located by the template's defined names (pf_*), never by fixed positions, so
a unit that inserts rows inside a block, restyles the sheets or renames them in Excel is
still read right. Values come from python-calamine (cached results, like every reader);
the zip's XML is consulted only for what calamine does not tell (guard.sheet_facts):
percentage number formats and Excel error values. What accountants type is understood through perfxl.numtext; what
cannot be understood is kept as text where the model has room for it, and always reported.

A bureau reads hundreds of these at a time, so the per-cell path stays lean: plain dicts
are built and validated by pydantic once per file.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from ..errors import InputError, Problem
from ..model import FILING_FORMAT, Filing
from ..numtext import (
    NumberTextError,
    _shift,
    in_cell_range,
    looks_like_yuan,
    parse_amount_wanyuan,
    parse_number,
)
from ..profile import QUALITATIVE_PHRASES, Profile, load_profile, shipped_profiles
from ..score_rules import NOT_APPLICABLE
from .guard import (
    DEFAULT_LIMITS,
    Area,
    Limits,
    Package,
    SheetFacts,
    check_cells,
    col_letter,
    col_number,
    open_package,
    parse_ref,
    resolve_names,
    sheet_facts,
)
from .layout import (
    META_SHEET,
    PROJECT_FLAG_COLUMNS,
    TEMPLATE_FORMAT,
    Block,
    Cell,
    Layout,
    layout_for,
    legacy_widths,
    optional_names,
)

__all__ = [
    "cell_text",
    "locate",
    "parse_year",
    "read_workbook",
    "read_workbook_ex",
]

META_NAMES = ("pf_meta_profile", "pf_meta_version", "pf_meta_format")
_DICT_FIELDS = ("group_scores", "group_remarks", "texts")
_NUMERIC_RULES = ("ratio", "penalty", "bands", "deduction", "quantitative", "execution_rate")

_DIRECTIONS = {
    "正向": "正向", "反向": "反向", "等于": "等于", "定性": "定性",
    "≥": "正向", ">=": "正向", ">": "正向", "≧": "正向",
    "≤": "反向", "<=": "反向", "<": "反向", "≦": "反向",
    "=": "等于", "==": "等于",
}  # fmt: skip
# Comparators written before a target ("≥95%", "不低于 90"), longest first, with the
# direction they imply; matched on NFKC text, so full-width ＞ ＝ arrive as > =.
_COMPARATORS = (
    (">=", "正向"), ("<=", "反向"), ("≥", "正向"), ("≤", "反向"), ("≧", "正向"), ("≦", "反向"),
    ("大于或等于", "正向"), ("大于等于", "正向"), ("小于或等于", "反向"), ("小于等于", "反向"),
    ("不低于", "正向"), ("不少于", "正向"), ("不小于", "正向"),
    ("不高于", "反向"), ("不超过", "反向"), ("不多于", "反向"), ("不大于", "反向"),
    (">", "正向"), ("<", "反向"), ("=", "等于"), ("大于", "正向"), ("小于", "反向"), ("等于", "等于"),
)  # fmt: skip
_WORDS = frozenset({"正向", "反向", "等于", "定性"})  # 指标性质 as the formulas compare it
NUMBER_KINDS = frozenset(
    {"money", "score", "number", "pct", "int", "count"}
)  # cells Excel computes with
_MEASURED = ("direction", "target", "actual")  # read together: each depends on the others
_LEVELS = {"1": 1, "一级": 1, "一": 1, "2": 2, "二级": 2, "二": 2}
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")


# ------------------------------------------------------------------ plain values


def _dec(value: float) -> Decimal:
    """A stored double as the decimal Excel shows: 15 significant digits.

    Writers store up to 17 digits (XlsxWriter 16), so 1234567.89 may come back as
    1234567.8900000001; Excel itself keeps 15 digits, and so does this reader.
    """
    text = format(value, ".15g")
    if "e" in text or value == 0:  # 1e+20 and -0.0 are not in plain form
        return parse_number(Decimal(text)) or Decimal(0)
    return Decimal(text)


CELL_VALUE, READ_NOTE = "INTEG-CELL-VALUE", "INTEG-READ-NOTE"  # perfxl.rules.integrity
TEMPLATE, NAMES = "INTEG-TEMPLATE", "INTEG-NAMES"


def _unread(value: Any) -> str | None:
    """The rule of a number cell that could not be read: text is VAL-NUMBER-TEXT's (the
    checks see the text, as the workbook does); a number no table can hold is the cell's."""
    return None if isinstance(value, str) else CELL_VALUE


def _unreadable(exc: Exception, value: Any) -> str:
    """The Chinese reason a number cell could not be read (NaN, 1e300, a 27-digit number)."""
    if isinstance(exc, NumberTextError):
        return exc.reason_zh
    shown = repr(value) if isinstance(value, float) else str(value)[:40]
    return f"「{shown}」不是自评表可处理的数值"


def cell_text(value: Any) -> str | None:
    """A cell value (as calamine gives it) as text; numbers as Excel shows them in General
    format; None for blank."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(_dec(value), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def parse_year(value: Any) -> int | None:
    """2023, "2023", "2023年", "（2023年度）" → 2023; None unless a year in 2000–2100."""
    if type(value) in (int, float) and float(value).is_integer():
        year: int | None = int(value)
    else:
        m = _YEAR.search(unicodedata.normalize("NFKC", cell_text(value) or ""))
        year = int(m[1]) if m else None
    return year if year is not None and 2000 <= year <= 2100 else None


def _blank(values: list[Any]) -> bool:
    """No value at all; whitespace-only text counts as blank."""
    if values.count("") == len(values):
        return True
    return all(v == "" or (isinstance(v, str) and not v.strip()) for v in values)


def _place(sheet: str, cell: str, name: str | None) -> str:
    return f"{sheet}!{cell}" + (f"（{name}）" if name else "")


class _Grid:
    """One sheet's values as calamine gives them, addressed by 1-based row and column.

    calamine's rows start at the first used cell (`start`), not at A1.
    """

    __slots__ = ("c0", "r0", "rows")

    def __init__(self, rows: list[list[Any]], start: tuple[int, int] | None) -> None:
        self.rows = rows
        self.r0, self.c0 = start or (0, 0)

    def segment(self, row: int, col: int, width: int) -> list[Any]:
        """Values of `width` cells from (row, col), "" where empty."""
        r, c = row - 1 - self.r0, col - 1 - self.c0
        if r < 0 or r >= len(self.rows):
            return [""] * width
        line = self.rows[r]
        if c < 0:
            seg = [""] * min(-c, width) + line[: max(0, c + width)]
        else:
            seg = line[c : c + width]
        return seg + [""] * (width - len(seg)) if len(seg) < width else seg

    def get(self, row: int, col: int) -> Any:
        return self.segment(row, col, 1)[0]


# ------------------------------------------------------------------ per-profile plan


@dataclass(frozen=True)
class _Col:
    key: str
    off: int  # columns right of the block's first column
    kind: str
    role: str
    header: str


@dataclass(frozen=True)
class _Plan:
    """A profile's layout prepared for reading: names to find, cells, block columns."""

    profile: Profile
    layout: Layout
    wanted: dict[str, str]  # defined name → sheet the template put it on
    cells: tuple[Cell, ...]
    blocks: tuple[tuple[Block, tuple[_Col, ...], int], ...]  # block, columns, width


_PLANS: dict[int, _Plan] = {}


def _plan(profile: Profile) -> _Plan:
    hit = _PLANS.get(id(profile))
    if hit is not None and hit.profile is profile:
        return hit
    layout = layout_for(profile)
    cells = tuple(c for c in layout.cells if c.path is not None)
    blocks = []
    for b in layout.blocks:
        first = col_number(b.columns[0].letter)
        cols = tuple(
            _Col(c.key, col_number(c.letter) - first, c.kind, c.role, c.header)
            for c in b.columns
            if not c.key.startswith("recomputed")
        )
        blocks.append((b, cols, col_number(b.columns[-1].letter) - first + 1))
    wanted = {c.name: c.sheet for c in cells} | {b.name: b.sheet for b in layout.blocks}
    plan = _PLANS[id(profile)] = _Plan(profile, layout, wanted, cells, tuple(blocks))
    return plan


@functools.cache
def _shipped() -> frozenset[str]:
    return frozenset(shipped_profiles())


# ------------------------------------------------------------------ the reader


class _Reader:
    def __init__(self, pkg: Package, book: CalamineWorkbook) -> None:
        self.pkg = pkg
        self.file = pkg.file
        self.book = book
        self.problems: list[Problem] = []
        self.sources: dict[str, dict[str, str]] = {}
        self.data: dict[str, Any] = {}
        self._grids: dict[str, _Grid] = {}
        self._facts: dict[str, SheetFacts] = {}
        self._money: list[tuple[str, int, int, Decimal, str]] = []

    # -- raw access ----------------------------------------------------------------------
    def grid(self, sheet: str) -> _Grid:
        g = self._grids.get(sheet)
        if g is None:
            try:
                g = _Grid(*self.pkg.grid(sheet))
            except Exception as exc:  # calamine raises its own error types
                raise self.pkg.refuse(
                    f"文件已损坏（工作表「{sheet}」无法读取：{exc}），请重新保存或重新发送", sheet
                ) from exc
            self._grids[sheet] = g
        return g

    def facts(self, sheet: str) -> SheetFacts:
        f = self._facts.get(sheet)
        if f is None:
            f = self._facts[sheet] = sheet_facts(self.pkg, sheet)
        return f

    def check_error(self, sheet: str, row: int, col: int, place: str) -> None:
        """A blank from calamine may be an Excel error value: say so rather than guess."""
        err = self.facts(sheet).errors.get((row, col))
        if err is not None:
            self.warn(place, f"显示错误值 {err}（公式出错），按未填处理：请修正公式或改填数值")

    def warn(self, place: str, message: str, code: str | None = None) -> None:
        """A reading note; `code` is the rule it is a finding of when the file is checked
        (None: another rule judges the cell, e.g. VAL-NUMBER-TEXT or INTEG-ERROR-VALUE)."""
        self.problems.append(Problem(self.file, place, message, code))

    def source(self, path: str, sheet: str, cell: str, name: str) -> str:
        self.sources[path] = {"file": self.file, "sheet": sheet, "cell": cell, "name": name}
        return _place(sheet, cell, name)

    def typed_text(self, path: str, kind: str, v: Any) -> None:
        """Text the reader interprets (a number typed as text, "≥" for 正向, "一级" for 1)
        is kept as the cell shows it: the checks see the cell as Excel computes with it,
        so `perfxl check` and the workbook's own formulas reach the same verdict."""
        if type(v) is not str or v == "":
            return
        if kind in NUMBER_KINDS or kind == "level" or (kind == "direction" and v not in _WORDS):
            self.sources[path]["text"] = v

    # -- interpretation by kind ----------------------------------------------------------
    def number(
        self, v: Any, place: str, label: str, *, percent: bool = False, pct_fmt: bool = False
    ) -> Decimal | None:
        try:
            if type(v) is float:
                v = in_cell_range(_dec(v), v)
                if not pct_fmt:
                    return v
            d = parse_number(v, percent=percent, cell_is_percent_format=pct_fmt)
            return in_cell_range(d, v)
        except (NumberTextError, ArithmeticError, ValueError) as exc:
            self.warn(place, f"{label}：{_unreadable(exc, v)}，未能读取为数字", _unread(v))
            return None

    def interpret(
        self, kind: str, v: Any, place: str, label: str, sheet: str, row: int, col: int
    ) -> Any:
        if kind in ("text", "longtext", "code"):
            return cell_text(v)
        if kind == "money":
            return self.money(v, place, label, sheet, row, col)
        if kind in ("score", "number"):
            return self.number(v, place, label)
        if kind == "pct":
            pct_fmt = type(v) is float and (row, col) in self.facts(sheet).percent
            return self.number(v, place, label, percent=True, pct_fmt=pct_fmt)
        if kind == "int":
            return self.year(v, place, label)
        if kind == "count":
            return self.count(v, place, label)
        if kind == "level":
            return self.level(v, place, label)
        if kind == "direction":
            return self.direction(v, place, label)
        if kind == "applicable":
            return self.applicable(v, place, label)
        return cell_text(v)

    def applicable(self, v: Any, place: str, label: str) -> bool:
        """是否适用: 不适用 → False; other text counts as applicable, as in the formulas
        (score_rules.is_applicable), and is noted."""
        if cell_text(v) == NOT_APPLICABLE:
            return False
        self.warn(
            place, f"{label}：「{cell_text(v)}」应留空或为“{NOT_APPLICABLE}”，按适用计分", None
        )
        return True

    def money(
        self, v: Any, place: str, label: str, sheet: str, row: int, col: int
    ) -> Decimal | None:
        try:
            if type(v) is float:
                amount: Decimal | None = in_cell_range(_dec(v), v)
                note = None
            else:
                amount, note = parse_amount_wanyuan(v)
                amount = in_cell_range(amount, v)
        except (NumberTextError, ArithmeticError, ValueError) as exc:
            self.warn(place, f"{label}：{_unreadable(exc, v)}，未能读取为金额", _unread(v))
            return None
        if note:
            self.warn(place, f"{label}：{note}", READ_NOTE)
        elif amount is not None:
            self._money.append((sheet, row, col, amount, place))
        return amount

    def year(self, v: Any, place: str, label: str) -> int | None:
        y = parse_year(v)
        if y is None:
            self.warn(place, f"{label}：「{cell_text(v)}」不是 2000–2100 之间的年份", _unread(v))
        return y

    def count(self, v: Any, place: str, label: str) -> int | None:
        """A stated number of items (项目个数, 指标个数): a whole number, not negative."""
        n = self.number(v, place, label)
        if n is None:
            return None
        if n < 0 or n != n.to_integral_value():
            self.warn(place, f"{label}：「{cell_text(v)}」不是个数（非负整数），未读取", CELL_VALUE)
            return None
        return int(n)

    def level(self, v: Any, place: str, label: str) -> int | None:
        t = unicodedata.normalize("NFKC", cell_text(v) or "").removesuffix("项目")
        lv = _LEVELS.get(t.removesuffix(".0"))
        if lv is None:
            self.warn(
                place,
                f"{label}：「{cell_text(v)}」应为 1（一级项目）或 2（二级项目），已按一级处理",
                CELL_VALUE,
            )
        return lv

    def direction(self, v: Any, place: str, label: str) -> str | None:
        t = unicodedata.normalize("NFKC", cell_text(v) or "").replace(" ", "").removesuffix("指标")
        d = _DIRECTIONS.get(t)
        if d is None:
            self.warn(
                place,
                f"{label}：「{cell_text(v)}」应为 正向、反向、等于 或 定性（也可写 ≥ ≤ =）",
                None,  # VAL-DIRECTION judges the cell as the workbook does
            )
        return d

    def measure(
        self, v: Any, place: str, label: str, pct_fmt: bool, *, qualitative: bool, need: bool
    ) -> tuple[Decimal | None, str | None, str | None]:
        """A 年度指标值 / 实际完成值: (number, raw text to keep, direction its comparator implies).

        "≥95%" gives (95, "≥95%", 正向); a 定性 row keeps its text; text that is no number
        is kept and, where a number is needed, reported.
        """
        if qualitative:
            return None, cell_text(v), None
        if not isinstance(v, str):
            return self.number(v, place, label, percent=True, pct_fmt=pct_fmt), None, None
        raw = v.strip()
        norm = unicodedata.normalize("NFKC", raw).strip()
        implied = None
        for op, direction in _COMPARATORS:
            if norm.startswith(op):
                norm, implied = norm[len(op) :], direction
                break
        try:
            num = in_cell_range(parse_number(norm, percent=True), raw)
        except NumberTextError as exc:
            if need:
                self.warn(place, f"{label}：{exc.reason_zh}，未能读取为数字（已保留原文）", None)
            return None, raw or None, None
        return num, (raw if implied else None), implied

    # -- cells and blocks ----------------------------------------------------------------
    def put(self, path: str, value: Any) -> None:
        head, _, rest = path.partition(".")
        if head in _DICT_FIELDS:
            self.data.setdefault(head, {})[rest] = value
            return
        parts = path.split(".")
        d = self.data
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = value

    def cells(self, cells: tuple[Cell, ...], areas: dict[str, Area]) -> None:
        for cell in cells:
            a = areas[cell.name]
            assert cell.path is not None
            place = self.source(cell.path, a.sheet, a.a1, cell.name)
            v = self.grid(a.sheet).get(a.row, a.col)
            if v == "":
                self.check_error(a.sheet, a.row, a.col, place)
                continue
            self.typed_text(cell.path, cell.kind, v)
            val = self.interpret(
                cell.kind, v, place, cell.label or cell.path, a.sheet, a.row, a.col
            )
            if val is not None:
                self.put(cell.path, val)

    def block(
        self, block: Block, cols: tuple[_Col, ...], width: int, a: Area, profile: Profile, base: int
    ) -> list[dict]:
        """The block's non-blank rows; `base` is the list index of its first row."""
        grid = self.grid(a.sheet)
        items: list[dict] = []
        inputs = [c.off for c in cols if c.role == "input"]
        node = profile.node(block.fixed.get("code", ""))
        rule = getattr(getattr(node, "rule", None), "kind", None)
        letters = [col_letter(a.col + c.off) for c in cols]
        indicators = block.list_path == "indicators"
        for row in range(a.row, a.last_row + 1):
            seg = grid.segment(row, a.col, width)
            if _blank([seg[i] for i in inputs]):
                continue
            idx = base + len(items)
            obj: dict[str, Any] = dict(block.fixed)
            raw: dict[str, tuple[Any, str, int]] = {}
            for c, letter in zip(cols, letters, strict=True):
                place = self.source(
                    f"{block.list_path}.{idx}.{c.key}", a.sheet, f"{letter}{row}", block.name
                )
                v = seg[c.off]
                self.typed_text(f"{block.list_path}.{idx}.{c.key}", c.kind, v)
                measured = indicators and c.key in _MEASURED
                if measured:
                    raw[c.key] = (v, place, a.col + c.off)
                if v == "":
                    self.check_error(a.sheet, row, a.col + c.off, place)
                    continue
                if not measured:
                    val = self.interpret(c.kind, v, place, c.header, a.sheet, row, a.col + c.off)
                    if val is not None:
                        obj[c.key] = val
            if block.list_path == "projects":
                shift = a.col - col_number(block.columns[0].letter)  # the list moved right
                self.helpers(idx, a.sheet, row, grid, shift)
            if indicators:
                self.measures(obj, raw, cols, rule, a.sheet, row)
            elif cols[0].key not in obj:  # the row's name (项目名称, 收入来源, 单位)
                place = _place(a.sheet, f"{letters[0]}{row}", block.name)
                self.warn(place, f"{cols[0].header}未填写，但该行填了其他内容", CELL_VALUE)
                obj[cols[0].key] = ""
            items.append(obj)
        return items

    def helpers(self, idx: int, sheet: str, row: int, grid: _Grid, shift: int) -> None:
        """A 项目支出明细 row without the hidden helper numbers beside it (a row inserted
        inside the list gets no formula there): noted in `sources` at the helper's path, so
        the checks see the blank cell the live 审核 sheet sees (rules.base.FilingEnv)."""
        for key, letter in PROJECT_FLAG_COLUMNS.items():
            col = col_number(letter) + shift
            v = grid.get(row, col)
            if isinstance(v, bool) or not isinstance(v, int | float):
                self.source(
                    f"projects.{idx}.{key}", sheet, f"{col_letter(col)}{row}", "pf_projects"
                )

    def measures(
        self,
        obj: dict[str, Any],
        raw: dict[str, tuple[Any, str, int]],
        cols: tuple[_Col, ...],
        rule: str | None,
        sheet: str,
        row: int,
    ) -> None:
        """指标性质, 年度指标值, 实际完成值 of an indicator row: each depends on the others."""
        heads = {c.key: c.header for c in cols}
        direction = None
        dplace = raw["direction"][1] if "direction" in raw else ""
        if "direction" in raw and raw["direction"][0] != "":
            direction = self.direction(raw["direction"][0], dplace, heads["direction"])
        elif dplace and cell_text(raw.get("actual", ("",))[0]) in QUALITATIVE_PHRASES:
            direction = "定性"
            self.warn(dplace, "指标性质未填，按实际完成值的定性评价用语视为定性", READ_NOTE)
        qualitative = direction == "定性" or rule == "qualitative"
        for key in ("target", "actual"):
            v, place, col = raw.get(key, ("", "", 0))
            if v == "":
                continue
            need = rule in _NUMERIC_RULES or (rule is None and direction is not None)
            pct_fmt = type(v) is float and (row, col) in self.facts(sheet).percent
            num, text, implied = self.measure(
                v, place, heads[key], pct_fmt, qualitative=qualitative, need=need
            )
            if num is not None:
                obj[key] = num
            if text is not None:
                obj[f"{key}_text"] = text
            if key == "target" and implied and dplace and direction is None:
                direction = implied
                self.warn(dplace, f"指标性质未填，按年度指标值「{text}」视为{implied}", READ_NOTE)
        if direction is not None:
            obj["direction"] = direction

    def orphans(self, plan: _Plan, areas: dict[str, Area]) -> None:
        """Rows typed just below a block (inserted under its last row) are reported, not lost."""
        tops: dict[str, list[int]] = {}
        for a in areas.values():
            tops.setdefault(a.sheet, []).append(a.row)
        fixed = [
            (block, cols, width)
            for block, cols, width in plan.blocks
            if block.list_path == "indicators" and plan.profile.kind == "department"
        ]
        self.between_fixed(fixed, areas)
        for block, cols, width in plan.blocks:
            if block.list_path == "indicators" and plan.profile.kind == "department":
                continue  # one fixed row per indicator, checked above
            a = areas[block.name]
            below = [r for r in tops[a.sheet] if r > a.last_row]
            if not below:
                continue
            grid = self.grid(a.sheet)
            inputs = [c.off for c in cols if c.role == "input"]
            for row in range(a.last_row + 1, min(below)):
                seg = grid.segment(row, a.col, width)
                if not _blank([seg[i] for i in inputs]):
                    self.warn(
                        _place(a.sheet, f"{col_letter(a.col)}{row}", None),
                        f"第 {row} 行在区域 {block.name} 之外（可能插在了区域最后一行之下），"
                        "未读取：请把内容移到区域之内（在区域中间插入行）",
                        CELL_VALUE,
                    )

    def between_fixed(
        self, fixed: list[tuple[Block, tuple[_Col, ...], int]], areas: dict[str, Area]
    ) -> None:
        """A row typed among the fixed indicator rows of a department table (inserted between
        two indicators) belongs to no indicator: reported where it is, never dropped."""
        if not fixed:
            return
        rows = {
            r for b, _, _ in fixed for r in range(areas[b.name].row, areas[b.name].last_row + 1)
        }
        block, cols, width = fixed[0]
        a = areas[block.name]
        grid = self.grid(a.sheet)
        inputs = [c.off for c in cols if c.role == "input"]
        for row in range(min(rows), max(rows) + 1):
            if row in rows:
                continue
            seg = grid.segment(row, a.col, width)
            if not _blank([seg[i] for i in inputs]):
                self.warn(
                    _place(a.sheet, f"{col_letter(a.col)}{row}", None),
                    f"第 {row} 行不属于任何指标（评分表中每个三级指标只有一行，这一行可能是插入的），"
                    "未计入评分：请把内容填到对应指标的行中，并删除这一行",
                    CELL_VALUE,
                )

    def group_places(self, plan: _Plan, areas: dict[str, Area]) -> None:
        """A 一级 without a cell of its own (the project table) is found where its 三级 are
        typed: a finding about it points at the first input cell of its first block."""
        for top in plan.profile.indicators:
            path = f"group_scores.{top.code}"
            if path in self.sources:
                continue
            for block, cols, _width in plan.blocks:
                code = block.fixed.get("code", "")
                if code == top.code or code.startswith(top.code + "."):
                    a = areas[block.name]
                    first = next(c for c in cols if c.role == "input")
                    self.source(
                        path, a.sheet, f"{col_letter(a.col + first.off)}{a.row}", block.name
                    )
                    break

    def yuan_slips(self) -> None:
        """A 万元 amount ~10,000× its row and column neighbours was probably typed in 元."""
        for i in yuan_suspects([(s, r, c, v) for s, r, c, v, _ in self._money]):
            v, place = self._money[i][3], self._money[i][4]
            self.warn(
                place,
                f"金额 {v} 比同行、同列的其他金额大约一万倍，可能按元填写了"
                "（本栏单位为万元）：请核对，若为元请除以 10000",
                READ_NOTE,
            )


def _positive(v: object) -> bool:
    return isinstance(v, Decimal) and v.is_finite() and v > 0


def yuan_suspects(cells: list[tuple[str, int, int, Decimal]]) -> list[int]:
    """Indices of the (sheet, row, col, amount) cells that look typed in 元: looks_like_yuan
    of each amount against the other amounts of its row and its column, with the median of
    those neighbours found in O(log² n) from the row's and column's positives sorted once
    (a department table of 1,000 project rows stays linear, not quadratic)."""
    rows: dict[tuple[str, int], list[Decimal]] = {}
    cols: dict[tuple[str, int], list[Decimal]] = {}
    for sheet, row, col, v in cells:
        if _positive(v):
            rows.setdefault((sheet, row), []).append(v)
            cols.setdefault((sheet, col), []).append(v)
    for values in (*rows.values(), *cols.values()):
        values.sort()
    out = []
    for i, (sheet, row, col, v) in enumerate(cells):
        if not _positive(v):
            continue  # looks_like_yuan: only a positive amount can be a slip
        r, c = rows[(sheet, row)], cols[(sheet, col)]
        n = len(r) + len(c) - 2  # the neighbours: both lists without this cell
        if n == 0:
            continue
        # the median is at least the smallest neighbour: a cell under 1000 × that is no
        # slip (looks_like_yuan), which settles nearly every cell without the median
        lows = [x[1] if x[0] == v else x[0] for x in (r, c) if len(x) > 1]
        if v < _shift(min(lows), 3):
            continue
        if n % 2:
            median = _kth(r, c, v, n // 2)
        else:
            median = (_kth(r, c, v, n // 2 - 1) + _kth(r, c, v, n // 2)) / 2
        if looks_like_yuan(v, [median]):
            out.append(i)
    return out


def _kth(r: list[Decimal], c: list[Decimal], v: Decimal, k: int) -> Decimal:
    """The k-th smallest (from 0) of the sorted lists r and c taken together, one copy of v
    left out of each (the cell itself, counted in its row and its column)."""
    from bisect import bisect_right

    def at_most(x: Decimal) -> int:
        return bisect_right(r, x) + bisect_right(c, x) - (2 if v <= x else 0)

    best: Decimal | None = None
    for values in (r, c):
        lo, hi = 0, len(values)
        while lo < hi:  # the first value with more than k neighbours at or below it
            mid = (lo + hi) // 2
            if at_most(values[mid]) > k:
                hi = mid
            else:
                lo = mid + 1
        if lo < len(values) and (best is None or values[lo] < best):
            best = values[lo]
    assert best is not None
    return best


# ------------------------------------------------------------------ entry points


def _meta(pkg: Package, reader: _Reader) -> tuple[str, str | None]:
    """(profile id, profile version) from the hidden _perfxl sheet, checked."""
    if not any(n.startswith("pf_") for n in pkg.names):
        raise pkg.refuse(
            "不是 perfxl 生成的自评表（没有模板信息和 pf_ 定义名称），无法确定各栏位置："
            "请用财政局下发的模板填写",
            code=TEMPLATE,
        )
    values: dict[str, str | None] = {}
    for name in META_NAMES:
        text = pkg.names.get(name)
        area = parse_ref(text) if text else None
        if area is None or area.sheet not in pkg.sheets:
            raise pkg.refuse(
                f"缺少模板信息（定义名称 {name} 或工作表 {META_SHEET} 被删除或损坏），"
                "无法确定评价框架和模板版本：请用财政局下发的模板重新填写",
                code=TEMPLATE,
            )
        values[name] = cell_text(reader.grid(area.sheet).get(area.row, area.col))
    fmt = values["pf_meta_format"]
    if fmt != TEMPLATE_FORMAT:
        raise pkg.refuse(
            f"模板格式版本为「{fmt or '空'}」，本程序只能读取版本 {TEMPLATE_FORMAT} 的模板："
            "请升级 perfxl，或用财政局最新下发的模板重新填写",
            META_SHEET,
            code=TEMPLATE,
        )
    pid = values["pf_meta_profile"]
    if not pid:
        raise pkg.refuse(
            "模板信息中没有评价框架编号（pf_meta_profile 为空）", META_SHEET, code=TEMPLATE
        )
    return pid, values["pf_meta_version"]


def _profile(pkg: Package, pid: str, version: str | None, given: Profile | None) -> Profile:
    if given is not None:
        if given.id != pid:
            raise pkg.refuse(
                f"工作簿按评价框架「{pid}」制作，与指定的评价框架「{given.id}」不一致",
                code=TEMPLATE,
            )
        return given
    if pid not in _shipped():
        raise pkg.refuse(
            f"工作簿按评价框架「{pid}」（版本 {version or '未知'}）制作，这不是内置框架："
            "请用 --profile 指定财政局的评价框架文件",
            code=TEMPLATE,
        )
    return load_profile(pid)


def read_workbook_ex(
    path: Path, profile: Profile | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[Filing, list[Problem]]:
    """The filing in a filled workbook, and the reading notes (warnings) in Chinese.

    Raises InputError only when the file cannot be used at all (see perfxl.workbook.guard).
    """
    pkg = open_package(Path(path), limits)
    try:
        return read_package(pkg, profile)
    finally:
        pkg.zip.close()


def read_package(pkg: Package, profile: Profile | None = None) -> tuple[Filing, list[Problem]]:
    """read_workbook_ex on a package already opened (perfxl.verdict opens a file once)."""
    return _read(pkg, profile, pkg.limits)


def read_workbook(
    path: Path, profile: Profile | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> Filing:
    """The filing in a filled workbook; read_workbook_ex also returns the reading notes."""
    return read_workbook_ex(path, profile, limits=limits)[0]


def _open(
    pkg: Package, given: Profile | None, limits: Limits
) -> tuple[_Reader, Profile, _Plan, dict[str, Area], str | None]:
    """Everything checked before a value is interpreted: meta, profile, names, widths, size."""
    try:
        book = pkg.book = pkg.book or CalamineWorkbook.from_filelike(io.BytesIO(pkg.data))
    except Exception as exc:  # calamine raises its own error types
        raise pkg.refuse(f"文件已损坏，无法读取（{exc}）：请重新保存或重新发送该文件") from exc
    reader = _Reader(pkg, book)
    pid, version = _meta(pkg, reader)
    profile = _profile(pkg, pid, version, given)
    plan = _plan(profile)
    areas = resolve_names(pkg, plan.wanted, optional_names(plan.layout))
    if len(areas) < len(plan.wanted):  # made before some optional names: without them
        plan = _Plan(
            plan.profile,
            plan.layout,
            {n: s for n, s in plan.wanted.items() if n in areas},
            tuple(c for c in plan.cells if c.name in areas),
            tuple(b for b in plan.blocks if b[0].name in areas),
        )
    _check_widths(pkg, plan, areas)
    check_cells(pkg, sorted({a.sheet for a in areas.values()}), limits)
    return reader, profile, plan, areas, version


def locate(
    path: Path, profile: Profile | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[Profile, Layout, dict[str, Area]]:
    """A template's profile, its layout, and where each defined name points now.

    The layout's own positions are those of a fresh template; `areas` are the truth.
    """
    pkg = open_package(Path(path), limits)
    try:
        _reader, prof, plan, areas, _version = _open(pkg, profile, limits)
    finally:
        pkg.zip.close()
    return prof, plan.layout, areas


def _read(pkg: Package, given: Profile | None, limits: Limits) -> tuple[Filing, list[Problem]]:
    reader, profile, plan, areas, version = _open(pkg, given, limits)
    if version and version != profile.version:
        reader.warn(
            META_SHEET,
            f"模板按评价框架 {profile.id} 版本 {version} 制作，当前框架版本为 {profile.version}",
        )

    reader.cells(plan.cells, areas)
    lists: dict[str, list[dict]] = {}
    for block, cols, width in plan.blocks:
        items = lists.setdefault(block.list_path, [])
        a = areas[block.name]
        have = a.last_col - a.col + 1
        if have != width:  # an earlier template's block: its columns only (checked above)
            cols, width = tuple(c for c in cols if c.off < have), have
        items += reader.block(block, cols, width, a, profile, len(items))
    reader.orphans(plan, areas)
    reader.yuan_slips()
    reader.group_places(plan, areas)

    data = reader.data
    for list_path, items in lists.items():
        if items:
            reader.put(list_path, items)
    header = data.setdefault("header", {})
    if "year" not in header:
        src = reader.sources["header.year"]
        raise InputError(
            Problem(
                pkg.file,
                _place(src["sheet"], src["cell"], src["name"]),
                "年度未填写或不是有效年份（2000–2100）",
                "COMP-HEADER",
            )
        )
    header.setdefault("name", "")
    data.update(format=FILING_FORMAT, profile=profile.id, profile_version=version)
    data["sources"] = reader.sources
    return Filing.model_validate(data), reader.problems


def _check_widths(pkg: Package, plan: _Plan, areas: dict[str, Area]) -> None:
    """A block whose columns changed cannot be matched to its fields: refuse, don't guess."""
    bad = []
    for block, _cols, width in plan.blocks:
        a = areas[block.name]
        if a.last_col - a.col + 1 not in (width, *legacy_widths(plan.layout, block)):
            bad.append(
                Problem(
                    pkg.file,
                    _place(a.sheet, a.a1, block.name),
                    f"区域 {block.name} 有 {a.last_col - a.col + 1} 列，模板为 {width} 列："
                    "表格中插入或删除了列，无法对应各栏，请用原模板重新填写",
                    NAMES,
                )
            )
    if bad:
        raise InputError(bad)
