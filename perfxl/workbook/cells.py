"""What each cell of a layout holds, without writing a workbook: where a field path is
(Locator), the inputs a filing places (place), the formula cells with their Python mirrors
(formula_cells) and the values they compute (Ctx). The reader's integrity inspection uses
this module; the writer (perfxl.workbook.write) builds on it. No XlsxWriter here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import InputError, Problem
from ..memo import by_identity
from ..model import Filing, Finance, FundLine, Funds, Header, IncomeLine, Indicator, Project
from ..profile import Node, Profile, code_name
from ..score_rules import NOT_APPLICABLE
from ..scoring import ScoreResult
from . import formulas as F
from .formulas import FCell, as_decimal, block_rows, digits, isnum, letters
from .layout import (
    AUDIT_SHEET,
    META_SHEET,
    PROJECT_FLAG_COLUMNS,
    Block,
    Layout,
    group_rows_of,
    layout_for,
)

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
_ROW_KINDS = {
    "indicator": "indicators",
    "project": "projects",
    "income": "finance.income",
    "subtotal": "project_subtotals",
    "count": "project_counts",
}


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
        if block.list_path == "projects":
            return PROJECT_FLAG_COLUMNS.get(key)
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
        elif b.list_path == "project_counts":
            rows = filing.project_counts[: b.rows]
        elif b.list_path == "project_subtotals":
            rows = filing.project_subtotals[: b.rows]
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
                    unit=x.unit,
                    unit_code=x.unit_code,
                )
                for x in rows
            ]
        elif b.list_path == "finance.income":
            income = [IncomeLine(name=x.name, amount=x.amount, share=x.share) for x in rows]
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
            "target_initial": ind.target_initial,
            "applicable": None if ind.applicable else NOT_APPLICABLE,
        }
    cells = {k: v for k, v in cells.items() if _cellvalue(v) is not None}
    data: dict[str, Any] = {"code": ind.code}
    for key, v in cells.items():
        if key in ("target", "actual"):
            data[key if isinstance(v, Decimal) else f"{key}_text"] = v
        elif key == "applicable":
            data[key] = False
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
        group_remarks={
            k: v for k, v in f.group_remarks.items() if f"group_remarks.{k}" in paths and v
        },
        finance=finance,
        projects=projects,
        texts={k: v for k, v in f.texts.items() if f"texts.{k}" in paths and v},
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
        self.filing = placed.filing
        self.row_index = placed.row_index
        self.nodes = result.by_code()
        self.by_indicator = {n.indicator: n for n in result.rows() if n.indicator is not None}
        total = placed.filing.funds.total
        self.placed_funds = (total.budget, total.executed)
        # what a whole column's mirror computes once for all its cells (e.g. first_flags)
        self.memo: dict[Any, Any] = {}

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


def layout_key(
    profile: Profile, rows_per_group: int | dict[str, int], project_rows: int, income_rows: int
) -> tuple[Any, ...]:
    """What tells one layout of a profile from another: the key of the memoised plans."""
    rkey = (
        tuple(sorted(rows_per_group.items()))
        if isinstance(rows_per_group, dict)
        else rows_per_group
    )
    return (id(profile), rkey, project_rows, income_rows)


def formula_cells(
    profile: Profile, rows_per_group: int | dict[str, int], project_rows: int, income_rows: int
) -> FormulaCells:
    """The formula cells of the profile's layout with these block sizes (memoised)."""
    return by_identity(
        _CELLS,
        256,
        layout_key(profile, rows_per_group, project_rows, income_rows),
        profile,
        lambda: _formula_cells(
            layout_for(
                profile,
                rows_per_group=rows_per_group,
                project_rows=project_rows,
                income_rows=income_rows,
            ),
            [],
        ),
    )


def _formula_cells(layout: Layout, instances: list[Any]) -> FormulaCells:
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
    results = [(AUDIT_SHEET, AUDIT_FIRST_ROW + i, "D") for i in range(len(instances))]
    for name, word in (("pf_audit_errors", "错误"), ("pf_audit_warnings", "提示")):
        c = layout.cell(name)
        banner.append(
            FCell(
                c.sheet,
                digits(c.ref),
                letters(c.ref),
                f'COUNTIF({res},"{word}")',
                ("int", word),
                lambda ctx, word=word: Decimal(list(map(ctx.values.get, results)).count(word)),
            )
        )
    for fc in [*fcells, *banner]:
        F.checked(fc.text)
    return FormulaCells(layout, loc, fcells, banner)


def _constants(plan: Any, ctx: Ctx) -> None:
    """`plan`: FormulaCells or the writer's Plan (both have .layout and .loc)."""
    # Constant cells the checks may refer to (weights, helper cells), as values.
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
