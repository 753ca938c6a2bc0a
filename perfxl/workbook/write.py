"""Template and filled workbooks, written with XlsxWriter from the layout contract.

Everything a sheet needs that does not depend on the filing (formula text, check rows,
validations) is compiled once per layout and reused, so distributing many filled
workbooks costs little more than XlsxWriter writing the cells. Formula cells carry the
values the formula yields as cached results (computed by the Python engine on exactly what
the workbook holds), because viewers and most readers never recalculate.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.url import Url
from xlsxwriter.workbook import Workbook

from ..atomic import atomic_path
from ..errors import InputError, Problem
from ..model import Filing, Finance, FundLine, Funds, Header, IncomeLine, Indicator, Project
from ..profile import Node, Profile
from ..scoring import ScoreResult, score
from . import formulas as F
from .formulas import COLS, FCell, as_decimal, block_rows, digits, isnum, letters
from .layout import (
    AUDIT_SHEET,
    DEFAULT_INCOME_ROWS,
    DEFAULT_PROJECT_ROWS,
    DEFAULT_ROWS_PER_GROUP,
    DEPT_TEXTS,
    META_SHEET,
    TEMPLATE_FORMAT,
    Block,
    Layout,
    code_name,
    group_rows_of,
    layout_for,
)
from .styles import (
    Sheets,
    draw_department,
    draw_guide,
    draw_project,
    print_setup,
)

__all__ = ["LOCKED_WHEN_PREFILLED", "build_workbook", "excel_ref"]

CREATED = dt.datetime(2020, 1, 1)  # fixed: identical inputs give byte-identical files
AUDIT_FIRST_ROW = 4
AUDIT_BANNER_LAST_ROW = 20_000  # the 错误 / 提示 counts cover the 审核 sheet down to here
# Field paths locked by lock_prefilled=True when the filing gives them: the budget figures
# a bureau distributes. 全年执行数 / 实际支出 stay open for the unit. The identity cells
# (header.*) are locked even when blank: a distributed copy's identity is the bureau's.
LOCKED_WHEN_PREFILLED = (
    "header.unit_code",  # the unit's identity (perfxl collect compares it with the manifest)
    "header.name",
    "funds.*.initial",
    "funds.*.budget",
    "projects.*.initial",
    "projects.*.adjusted",
)
Key = tuple[str, int, str]  # sheet, 1-based row, column letter


# ------------------------------------------------------------------ references


@dataclass(frozen=True)
class Spot:
    """A located cell, a column range, or a constant standing for a field the sheet lacks."""

    sheet: str
    col: str
    row: int
    last_row: int | None = None
    relative: bool = False  # row-relative reference ($H13), for per-row formulas
    const: str | None = None  # Excel literal (e.g. TRUE, "2.1") instead of a cell
    value: Any = None  # the constant's Python value

    def ref(self, from_sheet: str | None = None) -> str:
        if self.const is not None:
            return self.const
        if self.last_row is not None:
            a1 = f"${self.col}${self.row}:${self.col}${self.last_row}"
        elif self.relative:
            a1 = f"${self.col}{self.row}"
        else:
            a1 = f"${self.col}${self.row}"
        if from_sheet == self.sheet:
            return a1
        return "'" + self.sheet.replace("'", "''") + "'!" + a1

    @property
    def a1(self) -> str:
        return f"{self.col}{self.row}"

    @property
    def visible(self) -> bool:
        return self.const is None and self.sheet != META_SHEET


# A field the layout has no cell for is read back as blank, so formulas refer to cells that
# are always blank (on the very hidden sheet): ISBLANK, "" and 0 behave as in the reader.
BLANK_COL = "Z"
# What a reader implies for every indicator row without a cell for it (the block's code,
# applicable, a fixed indicator's 指标性质) sits in helper columns of the very hidden sheet,
# on the same row numbers as the indicator rows, so ranges line up for SUMIF and friends.
HELPER_COLS = {"code": "X", "applicable": "V", "direction": "W"}
_FILING_ROOTS = frozenset(Filing.model_fields)
# The department 评分表 shows a fixed indicator's weight (the profile's) beside its block.
_DEPT_ROW_EXTRAS = {"weight": "E"}
_ALIASES = {"target_text": "target", "actual_text": "actual"}  # one cell holds number or text
_ROW_KINDS = {"indicator": "indicators", "project": "projects", "income": "finance.income"}


class Locator:
    """Field paths, row paths, column paths and defined names → cells of one layout."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.names = {c.name: c for c in layout.cells}
        self.paths = layout.by_path()
        self.lists: dict[str, list[Block]] = {}
        for b in layout.blocks:
            self.lists.setdefault(b.list_path, []).append(b)
        self.indicator_rows: list[tuple[Block, int]] = [
            (b, r) for b in self.lists.get("indicators", []) for r in block_rows(b)
        ]
        self._row_block = {(b.sheet, r): b for b in layout.blocks for r in block_rows(b)}
        self._inputs = {(c.sheet, c.ref) for c in layout.cells if c.role == "input"}
        for b in layout.blocks:
            for c in b.columns:
                if c.role == "input":
                    self._inputs.update((b.sheet, f"{c.letter}{r}") for r in block_rows(b))

    def is_input(self, spot: Spot) -> bool:
        return (spot.sheet, spot.a1) in self._inputs

    def rows_of(
        self, per_row: object, codes: Iterable[str] | None = None
    ) -> list[tuple[Block, int]]:
        """The rows a per-row check runs on: True / "indicator(s)" / "project(s)" / "income"."""
        key = _ROW_KINDS.get(str(per_row), str(per_row))
        if per_row is True or key == "indicators":
            rows = self.indicator_rows
            if codes is not None:
                wanted = set(codes)
                rows = [(b, r) for b, r in rows if b.fixed.get("code") in wanted]
            return rows
        return [(b, r) for b in self.lists.get(key, []) for r in block_rows(b)]

    def spot(self, path: str, row: int | None = None, block: Block | None = None) -> Spot:
        cell = self.names.get(path) or self.paths.get(path)
        if cell is not None:
            return Spot(cell.sheet, letters(cell.ref), digits(cell.ref))
        head, _, key = path.partition(".")
        if head == "row":
            if row is None:
                raise KeyError(f"{path}: a row path needs a row")
            if block is None:
                block = self._row_block.get((self.layout.form_sheet, row))
            if block is None:
                raise KeyError(f"{path}: row {row} is in no block of the form sheet")
            return self._row_spot(block, key, row)
        list_path, star, key = path.rpartition(".*.")
        if star and list_path in self.lists:
            blocks = self.lists[list_path]
            first, last = blocks[0].first_row, blocks[-1].last_row
            col = self._column(blocks[0], key)
            if col is not None:
                return Spot(blocks[0].sheet, col, first, last)
            helper = self._helper(blocks[0], key)
            return Spot(META_SHEET, helper or BLANK_COL, first, last)
        if head in _FILING_ROOTS:
            return Spot(META_SHEET, BLANK_COL, 1)
        raise KeyError(f"{path}: not a cell of this layout")

    def _row_spot(self, block: Block, key: str, row: int) -> Spot:
        col = self._column(block, key)
        if col is not None:
            return Spot(block.sheet, col, row, relative=True)
        return Spot(META_SHEET, self._helper(block, key) or BLANK_COL, row, relative=True)

    def _helper(self, block: Block, key: str) -> str | None:
        if block.list_path != "indicators" or key not in HELPER_COLS:
            return None
        if key == "direction" and self.layout.profile.kind == "project":
            return None
        return HELPER_COLS[key]

    def helper_values(self) -> dict[Key, Any]:
        """The helper cells of the very hidden sheet, by (sheet, row, column)."""
        out: dict[Key, Any] = {}
        p = self.layout.profile
        for b, r in self.indicator_rows:
            code = b.fixed.get("code", "")
            out[(META_SHEET, r, HELPER_COLS["code"])] = code
            out[(META_SHEET, r, HELPER_COLS["applicable"])] = True
            d = _fixed_direction(p.node(code)) if p.kind == "department" else None
            if d is not None:
                out[(META_SHEET, r, HELPER_COLS["direction"])] = d
        return out

    def _column(self, block: Block, key: str) -> str | None:
        key = _ALIASES.get(key, key)
        for c in block.columns:
            if c.key == key:
                return c.letter
        if block.list_path == "indicators" and self.layout.profile.kind == "department":
            return _DEPT_ROW_EXTRAS.get(key)
        return None


def _fixed_direction(node: Node | None) -> str | None:
    rule = getattr(node, "rule", None)
    kind = getattr(rule, "kind", None)
    if kind == "qualitative":
        return "定性"
    if kind == "quantitative":
        return getattr(rule, "direction", None)
    return None


def excel_ref(
    layout: Layout,
    path: str,
    row: int | None = None,
    *,
    block: Block | None = None,
    sheet: str | None = None,
) -> str:
    """An Excel reference to a field path ("funds.total.budget"), a defined name
    ("pf_total_recomputed"), a whole list column ("finance.income.*.amount") or, with the
    worksheet `row`, a row path ("row.score" → $I13, row-relative). Sheet-qualified unless
    the target is on `sheet`. A field the layout has no cell for refers to an always-blank
    cell (it reads back blank); row.applicable is TRUE, row.code the block's code."""
    return Locator(layout).spot(path, row, block).ref(sheet)


# ------------------------------------------------------------------ the filing, as written


@dataclass
class Placed:
    """What a workbook holds: input cell values, and the filing a reader gets back."""

    inputs: dict[Key, Any]
    filing: Filing
    row_index: dict[tuple[str, int], int]  # (sheet, row) → index in filing.indicators
    locked: set[Key] = field(default_factory=set)


def _blank_filing(profile: Profile) -> Filing:
    return Filing(profile=profile.id, profile_version=profile.version, header=Header(year=2000))


def _cellvalue(v: object) -> Any:
    if v is None or v == "":
        return None
    return v


def place(layout: Layout, filing: Filing | None, lock_prefilled: bool = False) -> Placed:
    """The input cells of `filing` in `layout`, and the filing exactly as written (fields
    the sheets have no room for dropped), which the engine scores for cached values."""
    p = layout.profile
    if filing is None:
        return Placed({}, _blank_filing(p), {})
    inputs: dict[Key, Any] = {}
    locked: set[Key] = set()
    for c in layout.cells:
        if c.role != "input" or c.path is None:
            continue
        v = _cellvalue(filing.value(c.path))
        if v is not None:
            key = (c.sheet, digits(c.ref), letters(c.ref))
            inputs[key] = v
            if lock_prefilled and _lockable(c.path):
                locked.add(key)
        elif lock_prefilled and c.path.startswith("header.") and _lockable(c.path):
            locked.add((c.sheet, digits(c.ref), letters(c.ref)))  # identity: locked even blank
    row_index: dict[tuple[str, int], int] = {}
    indicators: list[Indicator] = []
    by_code: dict[str, list[Indicator]] = {}
    for ind in filing.indicators:
        by_code.setdefault(ind.code, []).append(ind)
    known = {b.fixed.get("code") for b in layout.blocks if b.list_path == "indicators"}
    stray = sorted(set(by_code) - known)
    if stray:
        raise InputError(
            Problem("", "", f"指标编码 {'、'.join(stray)} 不在评价框架「{p.id}」的表格中，无法写入")
        )
    for b in layout.blocks:
        if b.list_path != "indicators":
            continue
        items = by_code.get(b.fixed["code"], [])
        if p.kind == "department":
            items = items[:1]  # the engine scores the first indicator of a leaf
        items = [i for i in items if _row_cells(p.kind, i)]
        if len(items) > b.rows:
            raise ValueError(f"{b.name}: {len(items)} rows for a block of {b.rows}")
        for k, ind in enumerate(items):
            row = b.first_row + k
            cells, projected = _indicator(p.kind, ind)
            for key, v in cells.items():
                inputs[(b.sheet, row, b.column(key).letter)] = v
            row_index[(b.sheet, row)] = len(indicators)
            indicators.append(projected)
    projects: list[Project] = []
    income: list[IncomeLine] = []
    for b in layout.blocks:
        rows: list[Any]
        if b.list_path == "projects":
            rows = filing.projects
        elif b.list_path == "finance.income":
            rows = filing.finance.income if filing.finance else []
        else:
            continue
        for k, item in enumerate(rows):
            for col in b.columns:
                if col.role != "input":
                    continue
                v = _cellvalue(getattr(item, col.key))
                if v is not None:
                    key = (b.sheet, b.first_row + k, col.letter)
                    inputs[key] = v
                    if lock_prefilled and _lockable(f"{b.list_path}.{k}.{col.key}"):
                        locked.add(key)
        if b.list_path == "projects":
            projects = [
                Project(
                    name=x.name,
                    level=x.level,
                    parent=x.parent,
                    initial=x.initial,
                    adjusted=x.adjusted,
                    spent=x.spent,
                )
                for x in rows
            ]
        else:
            income = [IncomeLine(name=x.name, amount=x.amount) for x in rows]
    return Placed(
        inputs, _written_filing(layout, filing, indicators, projects, income), row_index, locked
    )


def _lockable(path: str) -> bool:
    parts = path.split(".")
    for pattern in LOCKED_WHEN_PREFILLED:
        pat = pattern.split(".")
        if len(pat) == len(parts) and all(a in ("*", b) for a, b in zip(pat, parts, strict=True)):
            return True
    return False


def _row_cells(kind: str, ind: Indicator) -> dict[str, Any]:
    return _indicator(kind, ind)[0]


def _indicator(kind: str, ind: Indicator) -> tuple[dict[str, Any], Indicator]:
    """The cells of an indicator row and the indicator a reader gets back from them."""
    if ind.direction == "定性" and ind.actual_text:
        actual: Any = ind.actual_text
    else:
        actual = ind.actual if ind.actual is not None else ind.actual_text
    if kind == "department":
        cells = {"actual": actual, "score": ind.score, "explanation": ind.explanation}
    else:
        target = ind.target if ind.target is not None else ind.target_text
        cells = {
            "name": ind.name,
            "direction": ind.direction,
            "unit": ind.unit,
            "target": target,
            "actual": actual,
            "weight": ind.weight,
            "score": ind.score,
            "explanation": ind.explanation,
        }
    cells = {k: v for k, v in cells.items() if _cellvalue(v) is not None}
    data: dict[str, Any] = {"code": ind.code}
    for key, v in cells.items():
        if key in ("target", "actual"):
            data[key if isinstance(v, Decimal) else f"{key}_text"] = v
        else:
            data[key] = v
    return cells, Indicator(**data)


def _written_filing(
    layout: Layout,
    f: Filing,
    indicators: list[Indicator],
    projects: list[Project],
    income: list[IncomeLine],
) -> Filing:
    p = layout.profile
    paths = layout.by_path()

    def keep(path: str) -> Any:
        c = paths.get(path)
        return f.value(path) if c is not None and c.role == "input" else None

    funds = Funds(
        **{
            line: FundLine(
                **{k: keep(f"funds.{line}.{k}") for k in ("initial", "budget", "executed")}
            )
            for line in ("total", "fiscal", "carryover", "other")
        }
    )
    tops = {n.code for n in p.indicators}
    finance = None
    if p.kind == "department":
        finance = Finance(
            income=income,
            **{
                k: keep(f"finance.{k}")
                for k in ("income_total", "basic", "project", "expenditure_total")
            },
        )
    return Filing(
        profile=p.id,
        profile_version=p.version,
        header=f.header,
        funds=funds,
        goal_expected=keep("goal_expected"),
        goal_actual=keep("goal_actual"),
        indicators=indicators,
        group_scores={k: v for k, v in f.group_scores.items() if f"group_scores.{k}" in paths},
        group_remarks={k: v for k, v in f.group_remarks.items() if k in tops and v},
        finance=finance,
        projects=projects,
        texts={k: v for k, v in f.texts.items() if k in DEPT_TEXTS and v},
    )


def rows_needed(
    profile: Profile, filing: Filing, rows_per_group: int | dict[str, int]
) -> dict[str, int]:
    """Rows per 二级 block: the requested count, or more when the filing has more 三级."""
    counts: dict[str, int] = {}
    for ind in filing.indicators:
        counts[ind.code] = counts.get(ind.code, 0) + 1
    out = {}
    for top in profile.indicators:
        for child in top.children or [top]:
            out[child.code] = max(
                group_rows_of(rows_per_group, child.code), counts.get(child.code, 0)
            )
    return out


# ------------------------------------------------------------------ computed values


class Ctx:
    """Cell values of one workbook while computing cached results."""

    def __init__(self, placed: Placed, result: ScoreResult) -> None:
        self.values: dict[Key, Any] = dict(placed.inputs)
        self.result = result
        self.row_index = placed.row_index
        self.nodes = result.by_code()
        self.by_indicator = {n.indicator: n for n in result.rows() if n.indicator is not None}
        total = placed.filing.funds.total
        self.placed_funds = (total.budget, total.executed)

    def get(self, sheet: str, row: int, col: str) -> Any:
        return self.values.get((sheet, row, col))

    def num(self, sheet: str, row: int, col: str) -> Decimal | None:
        v = self.values.get((sheet, row, col))
        return as_decimal(v) if isnum(v) else None

    def span(self, sheet: str, rows: Iterable[int], cols: str) -> list[Any]:
        return [self.values.get((sheet, r, c)) for r in rows for c in cols]

    def indicator_score(self, sheet: str, row: int) -> Any:
        idx = self.row_index.get((sheet, row))
        return "" if idx is None else self.by_indicator[idx].score


# ------------------------------------------------------------------ the compiled plan


@dataclass
class Instance:
    """One 审核 row: a check, applied to one row (per-row checks) or once."""

    check: Any
    formula: str
    target: Spot
    label: str
    row: tuple[Block, int] | None
    used: tuple[Spot, ...]  # the cells the formula reads: its verdict depends on these only
    reads: tuple[tuple[str, Any], ...] = ()  # the same, as value-map keys (memo of verdicts)
    texts: tuple[str, str, str] = ("", "", "")  # 编码, 级别, 说明 as shown
    link: Url | None = None  # 位置, built once: XlsxWriter parses every URL string it gets

    def __post_init__(self) -> None:
        self.reads = tuple(_read(sp) for sp in self.used)
        msg = str(getattr(self.check, "message", ""))
        self.texts = (
            str(getattr(self.check, "code", "")),
            severity_of(self.check),
            f"{msg}（{self.label}）" if self.label else msg,
        )
        t = self.target
        self.link = Url(f"internal:'{t.sheet}'!{t.a1}")
        self.link.text = f"{t.sheet}!{t.a1}"


def _read(sp: Spot) -> tuple[str, Any]:
    if sp.const is not None:
        return ("const", sp.value)
    if sp.last_row is not None:
        return ("range", tuple((sp.sheet, r, sp.col) for r in range(sp.row, sp.last_row + 1)))
    return ("cell", (sp.sheet, sp.row, sp.col))


Highlight = tuple[str, str, str, str]  # sheet, range, formula, 错误 | 提示


@dataclass
class Plan:
    layout: Layout
    loc: Locator
    fcells: list[FCell]
    instances: list[Instance]
    highlights: list[Highlight]
    banner: list[FCell]
    verdicts: dict[tuple[Any, ...], str] = field(default_factory=dict)  # memo across builds


_PLANS: dict[tuple[Any, ...], tuple[Profile, Plan]] = {}


def plan_for(
    profile: Profile,
    rows_per_group: int | dict[str, int],
    project_rows: int,
    income_rows: int,
    checks: list[Any] | None = None,
) -> Plan:
    rkey = (
        tuple(sorted(rows_per_group.items()))
        if isinstance(rows_per_group, dict)
        else rows_per_group
    )
    key = (id(profile), rkey, project_rows, income_rows, None if checks is None else id(checks))
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    layout = layout_for(
        profile, rows_per_group=rows_per_group, project_rows=project_rows, income_rows=income_rows
    )
    plan = _compile(layout, F.live_checks(profile) if checks is None else checks)
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[key] = (profile, plan)
    return plan


@dataclass
class FormulaCells:
    """A layout's formula cells without the 审核 sheet: what reading a returned workbook
    needs (which cells must hold which formula, and their Python mirrors). Cheap: no live
    check is compiled."""

    layout: Layout
    loc: Locator
    fcells: list[FCell]
    banner: list[FCell]


_CELLS: dict[tuple[Any, ...], tuple[Profile, FormulaCells]] = {}


def formula_cells(
    profile: Profile, rows_per_group: int | dict[str, int], project_rows: int, income_rows: int
) -> FormulaCells:
    """The formula cells of the profile's layout with these block sizes (memoised)."""
    rkey = (
        tuple(sorted(rows_per_group.items()))
        if isinstance(rows_per_group, dict)
        else rows_per_group
    )
    key = (id(profile), rkey, project_rows, income_rows)
    hit = _CELLS.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    layout = layout_for(
        profile, rows_per_group=rows_per_group, project_rows=project_rows, income_rows=income_rows
    )
    cells = _formula_cells(layout, [])
    if len(_CELLS) > 256:
        _CELLS.clear()
    _CELLS[key] = (profile, cells)
    return cells


def _formula_cells(layout: Layout, instances: list[Instance]) -> FormulaCells:
    loc = Locator(layout)
    if layout.profile.kind == "project":
        fcells = F.project_cells(layout)
    else:
        fcells = F.department_cells(layout)
    # a fixed range, not the rows this layout needs: the banner's formula is the same
    # whatever the block sizes, so a workbook whose unit inserted rows still matches it
    last = max(AUDIT_FIRST_ROW + len(instances) - 1, AUDIT_BANNER_LAST_ROW)
    res = f"'{AUDIT_SHEET}'!$D${AUDIT_FIRST_ROW}:$D${last}"
    banner = []
    for name, word in (("pf_audit_errors", "错误"), ("pf_audit_warnings", "提示")):
        c = layout.cell(name)
        banner.append(
            FCell(
                c.sheet,
                digits(c.ref),
                letters(c.ref),
                f'COUNTIF({res},"{word}")',
                ("int", word),
                lambda ctx, word=word: Decimal(
                    sum(
                        1
                        for i in range(len(instances))
                        if ctx.values.get((AUDIT_SHEET, AUDIT_FIRST_ROW + i, "D")) == word
                    )
                ),
            )
        )
    for fc in [*fcells, *banner]:
        F.checked(fc.text)
    return FormulaCells(layout, loc, fcells, banner)


def _compile(layout: Layout, checks: list[Any]) -> Plan:
    loc = Locator(layout)
    instances, highlights = _instances(loc, checks)
    cells = _formula_cells(layout, instances)
    return Plan(layout, loc, cells.fcells, instances, highlights, cells.banner)


_SEVERITY = {"error": "强制性", "强制性": "强制性", "blocking": "强制性", "warning": "提示性",
             "提示性": "提示性", "hint": "提示性"}  # fmt: skip


def severity_of(check: Any) -> str:
    sev = getattr(check, "severity", "error")
    return _SEVERITY.get(str(getattr(sev, "value", sev)).lower(), "强制性")


def _fail_word(check: Any) -> str:
    return "错误" if severity_of(check) == "强制性" else "提示"


RowCtx = tuple[Block, int] | None


def _excel(check: Any, loc: Locator, ctx: RowCtx, sheet: str, used: list[str] | None = None) -> str:
    """The check's boolean formula for one row context, references relative to `sheet`."""
    row, block = (ctx[1], ctx[0]) if ctx else (None, None)

    def ref(path: str) -> str:
        if used is not None:
            used.append(path)
        return loc.spot(path, row, block).ref(sheet)

    text = check.excel(ref)
    return text[1:] if text.startswith("=") else text


def _target(
    check: Any, loc: Locator, ctx: RowCtx, used: list[str], *, input_only: bool = False
) -> Spot | None:
    """Where the 位置 link (or, `input_only`, the form highlight) points: the check's field,
    else the first cell it reads that the unit can see (can type into)."""
    row, block = (ctx[1], ctx[0]) if ctx else (None, None)
    for path in [getattr(check, "target", None) or getattr(check, "path", None), *used]:
        if path:
            try:
                spot = loc.spot(path, row, block)
            except KeyError:
                continue
            if spot.visible and (not input_only or loc.is_input(spot)):
                return Spot(spot.sheet, spot.col, spot.row)
    return None


def _instances(loc: Locator, checks: list[Any]) -> tuple[list[Instance], list[Highlight]]:
    out: list[Instance] = []
    highlights: list[Highlight] = []
    for check in checks:
        per_row = getattr(check, "per_row", None)
        contexts: list[RowCtx] = (
            list(loc.rows_of(per_row, getattr(check, "codes", None))) if per_row else [None]
        )
        fail = _fail_word(check)
        first = len(out)
        for ctx in contexts:
            used: list[str] = []
            test = _excel(check, loc, ctx, AUDIT_SHEET, used)
            formula = F.checked(f'IFERROR(IF({test},"通过","{fail}"),"{fail}")')
            target = _target(check, loc, ctx, used) or Spot(loc.layout.form_sheet, "A", 1)
            row, block = (ctx[1], ctx[0]) if ctx else (None, None)
            spots = tuple(loc.spot(u, row, block) for u in dict.fromkeys(used))
            out.append(Instance(check, formula, target, _label(loc, ctx), ctx, spots))
        highlights += _highlights_of(check, loc, contexts, first, fail)
    return out, highlights


def _highlights_of(
    check: Any, loc: Locator, contexts: list[RowCtx], first: int, fail: str
) -> list[Highlight]:
    """Conditional formats marking the check's input cells while its 审核 result is 错误 /
    提示. They read the 审核 row itself (one formula, never a second copy that could
    disagree); a run of consecutive rows shares one format with a row-relative reference,
    as the check's instances sit on consecutive 审核 rows."""
    out: list[Highlight] = []
    runs: list[tuple[int, list[RowCtx]]] = []  # (index of the first instance, contexts)
    for n, ctx in enumerate(contexts):
        if runs and ctx is not None:
            start, run = runs[-1]
            prev = run[-1]
            if prev is not None and ctx[1] == prev[1] + 1:
                run.append(ctx)
                continue
        runs.append((first + n, [ctx]))
    for start, run in runs:
        ctx0 = run[0]
        used: list[str] = []
        _excel(check, loc, ctx0, "", used)
        tgt = _target(check, loc, ctx0, used, input_only=True)
        if tgt is None:  # only computed cells involved: the 审核 row says it all
            continue
        audit_row = AUDIT_FIRST_ROW + start
        dollar = "" if ctx0 is not None else "$"
        text = f"'{AUDIT_SHEET}'!$D{dollar}{audit_row}=\"{fail}\""
        rng = tgt.a1
        if ctx0 is not None and len(run) > 1:
            rng = f"{tgt.a1}:{tgt.col}{run[-1][1]}"  # type: ignore[index]
        out.append((tgt.sheet, rng, text, fail))
    return out


def _label(loc: Locator, ctx: RowCtx) -> str:
    if ctx is None:
        return ""
    block, row = ctx
    if block.list_path == "projects":
        return f"项目支出明细第 {row - block.first_row + 1} 行"
    if block.list_path == "finance.income":
        return f"收入第 {row - block.first_row + 1} 行"
    node = loc.layout.profile.node(block.fixed.get("code", ""))
    if node is None:
        return f"第 {row} 行"
    if block.rows == 1:
        return node.name
    return f"{node.name}第 {row - block.first_row + 1} 行"


class _Env:
    """Cell values of one row context, for a check's Python verdict (expr.Env shape)."""

    def __init__(self, loc: Locator, ctx: Ctx, row: RowCtx) -> None:
        self.loc, self.ctx, self.row = loc, ctx, row

    def _spot(self, path: str) -> Spot:
        row, block = (self.row[1], self.row[0]) if self.row else (None, None)
        return self.loc.spot(path, row, block)

    def value(self, path: str) -> Any:
        sp = self._spot(path)
        if sp.const is not None:
            return sp.value
        if sp.last_row is not None:
            return self.column(path)
        return _scalar(self.ctx.get(sp.sheet, sp.row, sp.col))

    def column(self, path: str) -> list[Any]:
        sp = self._spot(path)
        last = sp.last_row if sp.last_row is not None else sp.row
        return [_scalar(self.ctx.get(sp.sheet, r, sp.col)) for r in range(sp.row, last + 1)]

    __call__ = value


def _scalar(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        return Decimal(str(v))
    return v


def _verdict(check: Any, env: _Env) -> bool | None:
    verdict = getattr(check, "verdict", None)
    if callable(verdict):
        return verdict(env)
    expression = getattr(check, "expression", None)
    if callable(expression):
        from ..expr import truth

        return truth(expression(), env)
    return None


def _key_part(values: dict[Key, Any], read: tuple[str, Any]) -> Any:
    kind, x = read
    if kind == "cell":
        return values.get(x)
    if kind == "range":
        return tuple(values.get(k) for k in x)
    return x


def _verdicts(plan: Plan, ctx: Ctx) -> None:
    """Cached 审核 results, each computed once per distinct set of values it reads (a verdict
    is a function of those; blank rows and repeated figures share one evaluation)."""
    memo = plan.verdicts
    if len(memo) > 100_000:
        memo.clear()
    for i, inst in enumerate(plan.instances):
        values = ctx.values
        key = (id(inst.check), *(_key_part(values, r) for r in inst.reads))  # plan keeps checks
        if key not in memo:
            env = _Env(plan.loc, ctx, inst.row)
            try:
                ok = _verdict(inst.check, env)
            except (ArithmeticError, TypeError, ValueError, KeyError):
                ok = False
            memo[key] = "" if ok is None else ("通过" if ok else _fail_word(inst.check))
        ctx.values[(AUDIT_SHEET, AUDIT_FIRST_ROW + i, "D")] = memo[key]


# ------------------------------------------------------------------ building


def build_workbook(
    profile: Profile,
    path: Path,
    filing: Filing | None = None,
    *,
    rows_per_group: int | dict[str, int] = DEFAULT_ROWS_PER_GROUP,
    project_rows: int = DEFAULT_PROJECT_ROWS,
    income_rows: int = DEFAULT_INCOME_ROWS,
    lock_prefilled: bool = False,
    vba_project: Path | None = None,
    checks: list[Any] | None = None,
) -> Path:
    """Write a template (no filing) or a filled workbook, atomically; .xlsm with a VBA project.

    A filled 二级 with more 三级 than `rows_per_group` gets a bigger block, and the lists
    (项目支出明细, 收入) grow to fit. `lock_prefilled` locks the budget figures the filing
    gives (LOCKED_WHEN_PREFILLED); 全年执行数 stays open. `checks` overrides the live checks
    rendered on the 审核 sheet (default: the rules catalogue, or the built-in list).
    """
    path = Path(path)
    if filing is not None:
        if profile.kind == "project":
            rows_per_group = rows_needed(profile, filing, rows_per_group)
        else:
            project_rows = max(project_rows, len(filing.projects))
            income_rows = max(income_rows, len(filing.finance.income) if filing.finance else 0)
    plan = plan_for(profile, rows_per_group, project_rows, income_rows, checks)
    placed = place(plan.layout, filing, lock_prefilled)
    ctx = Ctx(placed, score(placed.filing, profile))
    _constants(plan, ctx)
    for fc in plan.fcells:
        ctx.values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
    _verdicts(plan, ctx)
    for fc in plan.banner:
        ctx.values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
    with atomic_path(path) as tmp:
        wb = Workbook(
            str(tmp),
            {
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "in_memory": True,
            },
        )
        write_all(wb, plan, placed, ctx, vba_project)
        os.chmod(tmp, 0o644)  # a document to share, not a private temporary file
    return path


def _constants(plan: Plan | FormulaCells, ctx: Ctx) -> None:
    """Constant cells the checks may refer to (weights, helper cells), as values."""
    layout = plan.layout
    p = layout.profile
    ctx.values.update(plan.loc.helper_values())
    for c in layout.cells:
        if c.role == "constant" and c.name.startswith("pf_group_"):
            code = next(
                t.code for t in p.indicators if c.name == f"pf_group_{code_name(t.code)}_weight"
            )
            ctx.values[(c.sheet, digits(c.ref), letters(c.ref))] = p.node(code).weight  # type: ignore[union-attr]
    if p.kind == "project":
        exec_node = next(
            n for _, n in p.walk() if n.rule is not None and n.rule.kind == "execution_rate"
        )
        for name, value in (("pf_exec_weight", exec_node.weight), ("pf_total_weight", p.total)):
            c = layout.cell(name)
            ctx.values[(c.sheet, digits(c.ref), letters(c.ref))] = value
    else:
        for b in layout.blocks:
            if b.list_path == "indicators":
                node = p.node(b.fixed["code"])
                weight_col = _DEPT_ROW_EXTRAS["weight"]  # the printed 分值 beside the block
                ctx.values[(b.sheet, b.first_row, weight_col)] = node.weight if node else None  # type: ignore[union-attr]
        c = layout.cell("pf_total_weight")
        ctx.values[(c.sheet, digits(c.ref), letters(c.ref))] = p.total


PROTECT = {
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


def _write_inputs(sh: Sheets) -> None:
    """Every named input cell of the layout (outside blocks), with its value."""
    for c in sh.layout.cells:
        if c.role != "input":
            continue
        key = (c.sheet, digits(c.ref), letters(c.ref))
        v = sh.placed.inputs.get(key)
        fmt = sh.st.year if c.path == "header.year" else sh.input_fmt(key, c.kind)
        if c.span:
            sh.merge(c.sheet, c.span, v, fmt)
        else:
            sh.put(c.sheet, c.ref, v, fmt)


def _write_blocks(sh: Sheets) -> None:
    for b in sh.layout.blocks:
        for r in block_rows(b):
            for col in b.columns:
                if col.role != "input":
                    continue
                key = (b.sheet, r, col.letter)
                sh.put(
                    b.sheet,
                    f"{col.letter}{r}",
                    sh.placed.inputs.get(key),
                    sh.input_fmt(key, col.kind),
                )


def _write_formulas(sh: Sheets) -> None:
    spans = {(c.sheet, c.ref): c.span for c in sh.layout.cells if c.role == "formula" and c.span}
    for fc in [*sh.plan.fcells, *sh.plan.banner]:
        sh.formula(fc, spans.get((fc.sheet, f"{fc.col}{fc.row}")))


# ---- 审核, 填表说明, metadata


def _draw_audit(sh: Sheets) -> None:
    s, st, ws = AUDIT_SHEET, sh.st, sh.ws[AUDIT_SHEET]
    sh.width(s, {"A": 6, "B": 24, "C": 8, "D": 8, "E": 56, "F": 30})
    sh.merge(s, "A1:F1", "审核结果", st.title)
    sh.heights[(s, 1)] = 32
    sh.merge(s, "A2:F2", "本表随填报内容自动更新：“错误”为强制性审核未通过，须改正；“提示”为提示性审核，"
             "请核实，确属正常的在说明栏写明原因。点击“位置”可跳到对应单元格。", st.note)  # fmt: skip
    sh.heights[(s, 2)] = 34
    for i, text in enumerate(("序号", "编码", "级别", "结果", "说明", "位置")):
        sh.put(s, f"{chr(65 + i)}3", text, st.header)
    values = sh.ctx.values
    for i, inst in enumerate(sh.plan.instances):
        r = AUDIT_FIRST_ROW - 1 + i  # zero-based
        code, level, message = inst.texts
        ws.write_number(r, 0, i + 1, st.constant)
        ws.write_string(r, 1, code, st.label_left)
        ws.write_string(r, 2, level, st.label)
        ws.write_formula(r, 3, inst.formula, st.label, values.get((s, r + 1, "D"), ""))
        ws.write_string(r, 4, message, st.label_left)
        ws.write_url(r, 5, inst.link, st.link)
    last = AUDIT_FIRST_ROW + max(len(sh.plan.instances), 1) - 1
    rng = f"D{AUDIT_FIRST_ROW}:D{last}"
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"错误"', "format": st.bad}
    )
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"提示"', "format": st.warn}
    )
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"通过"', "format": st.good}
    )
    _python_only(sh, last + 1)
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, last - 1, 5)
    ws.repeat_rows(2)
    print_setup(ws, last, 5)


def _python_only(sh: Sheets, blank_row: int) -> None:
    """Below the live checks (after a blank row, where the 校验 macro stops reading): the
    rules no formula can express, so a unit knows what 校验通过 and 通过 do not cover."""
    from ..rules import CATALOGUE

    p = sh.plan.layout.profile
    rules = [r for r in CATALOGUE if r.applies_to(p) and not r.live]
    if not rules:
        return
    s, st, ws = AUDIT_SHEET, sh.st, sh.ws[AUDIT_SHEET]
    first = blank_row + 1  # 1-based row of the note
    sh.merge(s, f"B{first}:F{first}", PYTHON_ONLY_NOTE, st.note)
    sh.heights[(s, first)] = 34
    for i, rule in enumerate(rules):
        r = first + i  # zero-based row = 1-based row below the note
        ws.write_string(r, 1, rule.code, st.label_left)
        ws.write_string(r, 2, rule.severity.value, st.label)
        ws.write_string(r, 3, PYTHON_ONLY_RESULT, st.label)
        ws.write_string(r, 4, rule.title, st.label_left)


PYTHON_ONLY_NOTE = (
    "以下审核规则不能写成表内公式，由财政局的 perfxl 审核（或点“评分”按钮）进行："
    "本表和“校验”按钮的“通过”不包括它们。在区域中插入的行，本表的合计会计入，"
    "但不逐行审核（由 perfxl 逐行审核）。"
)
PYTHON_ONLY_RESULT = "perfxl 审核"


def _highlights(sh: Sheets) -> None:
    for sheet, rng, formula, fail in sh.plan.highlights:
        fmt = sh.st.bad if fail == "错误" else sh.st.warn
        sh.ws[sheet].conditional_format(
            rng, {"type": "formula", "criteria": "=" + formula, "format": fmt}
        )
    for fc in sh.plan.banner:
        ws, a1 = sh.ws[fc.sheet], f"{fc.col}{fc.row}"
        bad = sh.st.bad if fc.style[1] == "错误" else sh.st.warn
        ws.conditional_format(a1, {"type": "cell", "criteria": ">", "value": 0, "format": bad})
        if fc.style[1] == "错误":
            ws.conditional_format(
                a1, {"type": "cell", "criteria": "==", "value": 0, "format": sh.st.good}
            )


def _draw_meta(wb: Workbook, p: Profile, helpers: dict[Key, Any]) -> None:
    ws = wb.add_worksheet(META_SHEET)
    for (_, r, col), v in sorted(helpers.items()):
        if isinstance(v, bool):
            ws.write_boolean(r - 1, COLS[col], v)
        else:
            ws.write_string(r - 1, COLS[col], str(v))
    for i, (k, v) in enumerate((("profile", p.id), ("profile_version", p.version),
                                ("template_format", TEMPLATE_FORMAT))):  # fmt: skip
        ws.write_string(i, 0, k)
        ws.write_string(i, 1, v)
    ws.protect("", PROTECT)
    ws.very_hidden()


def _names(wb: Workbook, layout: Layout) -> None:
    for c in layout.cells:
        wb.define_name(c.name, "=" + Spot(c.sheet, letters(c.ref), digits(c.ref)).ref())
    for b in layout.blocks:
        first, last = b.columns[0].letter, b.columns[-1].letter
        q = "'" + b.sheet.replace("'", "''") + "'"
        wb.define_name(b.name, f"={q}!${first}${b.first_row}:${last}${b.last_row}")


def _add_buttons(wb: Workbook, sh: Sheets) -> None:
    """With a VBA project: the 校验 / 评分 / 清除标记 buttons beside the 审核 banner, and the
    texts their (ASCII) macros show, on the very hidden sheet (see perfxl.workbook.buttons)."""
    from .buttons import add_buttons, write_messages

    write_messages(wb, wb.get_worksheet_by_name(META_SHEET))
    add_buttons(wb, sh.ws[sh.layout.form_sheet], sh.layout)


def write_all(wb: Workbook, plan: Plan, placed: Placed, ctx: Ctx, vba_project: Path | None) -> None:
    """Draw every sheet of the workbook and close it."""
    p = plan.layout.profile
    wb.set_properties({"title": p.title, "subject": f"{p.id} {p.version}", "author": "perfxl",
                       "created": CREATED})  # fmt: skip
    wb.set_calc_mode("auto")
    if vba_project is not None:
        wb.add_vba_project(str(vba_project))
    sh = Sheets(wb, plan, placed, ctx)
    if p.kind == "project":
        draw_project(sh)
    else:
        draw_department(sh)
    _write_inputs(sh)
    _write_blocks(sh)
    _write_formulas(sh)
    _draw_audit(sh)
    _highlights(sh)
    draw_guide(sh)
    for (sheet, row), h in sh.heights.items():
        sh.ws[sheet].set_row(row - 1, h)
    for ws in sh.ws.values():
        ws.protect("", PROTECT)
    _draw_meta(wb, p, plan.loc.helper_values())
    _names(wb, plan.layout)
    if vba_project is not None:
        _add_buttons(wb, sh)
    wb.close()
