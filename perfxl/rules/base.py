"""What a rule is, and how a formula-expressible rule becomes both findings and live checks.

A rule is either a Python check (a generator of `Hit`s over filing, profile, score result
and context) or a list of `Formula`s built from the profile. A formula is declared once
as expressions (see `expr`): the Python findings are derived by evaluating it on the
filing, and `LiveCheck.excel` compiles the very same expression for the 审核 sheet.

Blank inputs: every formula has an applies-when guard (`when`) that is FALSE while the
inputs it needs are blank, so an unfilled table does not fail; the verdict is
IFERROR(IF(when, holds, TRUE), FALSE), an Excel error (text in a number cell) fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .. import expr as X
from ..expr import Expr, Scalar
from ..findings import Scope, Severity
from ..memo import by_identity
from ..model import Filing, Indicator, Project
from ..profile import Node, Profile, QualitativeRule, QuantitativeRule
from ..score_rules import RowKind
from ..scoring import ScoreResult
from .common import first_flags, row_used

PROJECT_FLAGS = ("projects.*.first_dept", "projects.*.first_unit")

ROW_TABLES: dict[RowKind, str] = {
    "indicator": "indicators",
    "project": "projects",
    "income": "finance.income",
    "subtotal": "project_subtotals",
    "count": "project_counts",
}
KEYED_FIELDS = ("group_scores", "group_remarks", "texts")
KINDS = ("project", "department")
KIND_NAMES = {"project": "项目支出", "department": "部门整体"}


@dataclass(frozen=True)
class Context:
    """Data from outside the filing (the finance bureau's budget and approved targets)."""

    budget: object | None = None  # reference_data.BudgetData
    targets: object | None = None  # reference_data.TargetData
    workbook: object | None = None  # integrity.WorkbookFacts, when the filing is a workbook


@dataclass(frozen=True)
class Hit:
    """A Python check's finding before the rule's code, severity and cell are attached."""

    path: str
    message: str
    expected: object = None
    actual: object = None
    explained: bool = False
    # a cell no field path leads to (a 复算 column, a cell typed outside the fields)
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Formula:
    """One formula-expressible check. `per_row` ones run once per row of that table
    (restricted to indicator rows whose code is in `codes`, when given).

    `message` is the Python finding's text; it may use {expected}, {actual}, {row} (the
    row's label) and the names in `extras`. `live_message` is the static text of the
    審核 sheet. `explained` (warnings only) turns a failure into 已说明."""

    path: str
    when: Expr
    holds: Expr
    message: str
    live_message: str
    expected: Expr | None = None
    actual: Expr | None = None
    explained: Expr | None = None
    extras: tuple[tuple[str, Expr], ...] = ()
    per_row: RowKind | None = None
    codes: tuple[str, ...] | None = None

    def verdict(self, used: Expr | None = None) -> Expr:
        """TRUE when the check passes, does not apply, or (warnings) is explained; `used`
        (per-row checks) is FALSE on a blank row, which the check then passes."""
        body = self.holds if self.explained is None else X.Or(self.holds, self.explained)
        verdict = X.If(self.when, body, True)
        if used is not None:  # IF, not AND: a deleted row's #REF! must not reach `when`
            verdict = X.If(used, verdict, True)
        return X.IfError(verdict, False)


@dataclass(frozen=True)
class LiveCheck:
    """A formula-expressible check for the live 审核 sheet of a template."""

    code: str
    severity: Severity
    scope: Scope
    title: str
    message: str  # static Chinese text (no per-instance numbers)
    per_row: RowKind | None  # None: one formula; else one per row of that table
    codes: tuple[str, ...] | None  # indicator rows only: the profile codes it applies to
    path: str  # the field the check is about ("funds.total.rate", "row.score")
    formula: Formula
    used: Expr | None = None  # per-row checks: the row holds something (common.row_used)

    @property
    def paths(self) -> list[str]:
        """Every path `ref` must resolve for this check."""
        return X.paths(self.formula.verdict(self.used))

    def expression(self) -> Expr:
        return self.formula.verdict(self.used)

    @property
    def explainable(self) -> bool:
        """A warning an explanation turns into 已说明 (the 审核 sheet then says so)."""
        return self.formula.explained is not None

    def strict(self) -> LiveCheck:
        """The same check without its explanation: FALSE where the warning is 已说明."""
        return replace(self, formula=replace(self.formula, explained=None))

    def excel(self, ref: Callable[[str], str]) -> str:
        """'=…' formula, TRUE when the check passes (or does not apply / is explained).

        `ref(path)` returns an Excel reference: a defined name or A1 reference for a field
        path or, in a per-row check, for "row.x" in the row being written; a range for a
        column path "indicators.*.x" / "projects.*.x" / "finance.income.*.x" covering the
        table's rows (blank rows are fine). For a field the layout does not have, `ref`
        may return a constant (e.g. "TRUE" for row.applicable)."""
        text = "=" + X.to_excel(self.formula.verdict(self.used), ref)
        if len(text) > X.MAX_FORMULA_CHARS:
            raise X.CompileError(f"{self.code}: formula longer than {X.MAX_FORMULA_CHARS}")
        return text


# ------------------------------------------------------------------------------- rules

PyCheck = Callable[[Filing, Profile, ScoreResult, Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    scope: Scope
    title: str
    applies: str  # the 适用 column of `perfxl rules`
    kinds: tuple[str, ...] = KINDS
    enabled: Callable[[Profile], bool] = field(default=lambda p: True)
    formulas: Callable[[Profile], list[Formula]] | None = None
    check: PyCheck | None = None
    relevant: Callable[[Filing, Profile, Context], bool] | None = None

    @property
    def live(self) -> bool:
        return self.formulas is not None

    def applies_text(self) -> str:
        """The 适用 column: the kinds of table, or the condition stated by the rule."""
        if self.applies == "全部":
            return "、".join(KIND_NAMES[k] for k in self.kinds)
        return self.applies

    def applies_to(self, profile: Profile) -> bool:
        return profile.kind in self.kinds and self.enabled(profile)

    def live_checks(self, profile: Profile) -> list[LiveCheck]:
        if self.formulas is None or not self.applies_to(profile):
            return []
        return [
            LiveCheck(
                self.code,
                self.severity,
                self.scope,
                self.title,
                f.live_message,
                f.per_row,
                f.codes,
                f.path,
                f,
                None if f.per_row is None else row_used(profile, f.per_row),
            )
            for f in self.formulas(profile)
        ]


# ----------------------------------------------------------------------- environment


def _norm(v: object) -> Scalar:
    """A model value as a cell holds it: "" is blank, integers are numbers."""
    if v is None or v == "":
        return None
    if isinstance(v, bool | Decimal | str):
        return v
    if isinstance(v, int):
        return Decimal(v)
    return None


_FIXED: dict[int, tuple[object, dict[str, Node | None]]] = {}


def fixed_leaf(profile: Profile, code: str) -> Node | None:
    """The profile's fixed (not unit-defined) leaf with this code; memoised per profile,
    as every row of every filing asks."""
    memo: dict[str, Node | None] = by_identity(_FIXED, 64, id(profile), profile, dict)
    if code not in memo:
        node = profile.node(code)
        memo[code] = None if node is None or node.open or node.children else node
    return memo[code]


def indicator_value(ind: Indicator, name: str, profile: Profile) -> Scalar:
    """The cell of an indicator row. A fixed indicator's 分值 and 指标性质 are the
    profile's (the template prints them) unless the filing states its own."""
    node = fixed_leaf(profile, ind.code)
    if node is not None:
        if name == "weight" and ind.weight is None:
            return _norm(node.weight)
        if name == "direction":
            if isinstance(node.rule, QualitativeRule):
                return "定性"
            if isinstance(node.rule, QuantitativeRule) and node.rule.direction:
                return node.rule.direction
    return _norm(getattr(ind, name))


def _rows(filing: Filing, kind: RowKind) -> list:
    if kind == "indicator":
        return list(filing.indicators)
    if kind == "project":
        return list(filing.projects)
    if kind == "subtotal":
        return list(filing.project_subtotals)
    if kind == "count":
        return list(filing.project_counts)
    return list(filing.finance.income) if filing.finance else []


def row_value(filing: Filing, profile: Profile, kind: RowKind, i: int, name: str) -> Scalar:
    row = _rows(filing, kind)[i]
    if kind == "indicator":
        return indicator_value(row, name, profile)
    return _norm(getattr(row, name))


def row_count(filing: Filing, kind: RowKind) -> int:
    return len(_rows(filing, kind))


_TABLE_KINDS: dict[str, RowKind] = {t: k for k, t in ROW_TABLES.items()}


class FilingEnv:
    """Field values of a filing for `expr.evaluate`; "row.x" reads the current row.

    The filing does not change while it is checked, so values are memoised in a cache
    shared by the environment and those `at` derives from it (the same column is read by
    every row of a per-row check)."""

    def __init__(
        self,
        filing: Filing,
        profile: Profile,
        row: tuple[RowKind, int] | None = None,
        cache: dict[Any, Any] | None = None,
        typed: dict[str, str] | None = None,
        computed: dict[str, Scalar] | None = None,
    ) -> None:
        self.filing, self.profile, self.row = filing, profile, row
        # what the template's 复算 cells show, by defined name ("pf_total_recomputed"):
        # the score engine's results where the workbook has live formulas for them
        self.computed: dict[str, Scalar] = computed or {}
        self.cache: dict[Any, Any] = {} if cache is None else cache
        # number cells that hold text, as Excel sees them: the text, not a number
        self.typed = (
            {p: s.text for p, s in filing.sources.items() if s.text is not None}
            if typed is None
            else typed
        )
        # row-independent aggregates (column indexes, SUMIF/COUNTIF results) for `expr`,
        # built once per filing and shared with every row's environment
        self.memo: dict[Any, Any] = self.cache.setdefault(("aggregates",), {})

    def at(self, kind: RowKind, i: int) -> FilingEnv:
        return FilingEnv(
            self.filing, self.profile, (kind, i), self.cache, self.typed, self.computed
        )

    def rows(self, kind: RowKind) -> list:
        key = "rows:" + kind
        got = self.cache.get(key)
        if got is None:
            got = self.cache[key] = _rows(self.filing, kind)
        return got

    def _row_value(self, kind: RowKind, i: int, name: str) -> Scalar:
        key = (kind, i, name)
        cache = self.cache
        if key in cache:
            return cache[key]
        typed = self.typed.get(f"{ROW_TABLES[kind]}.{i}.{name}") if self.typed else None
        if typed is not None:
            v: Scalar = typed
        else:
            row = self.rows(kind)[i]
            if kind == "indicator":
                v = indicator_value(row, name, self.profile)
            else:
                v = _norm(getattr(row, name))
        cache[key] = v
        return v

    def value(self, path: str) -> Scalar:
        if path.startswith("row."):
            if self.row is None:
                raise ValueError(f"{path} outside a per-row check")
            kind, i = self.row
            return self._row_value(kind, i, path[4:])
        if path.startswith("pf_"):
            return self.computed.get(path)
        cache = self.cache
        if path in cache:
            return cache[path]
        head, _, key = path.partition(".")
        if path in self.typed:
            v = self.typed[path]
        elif head in KEYED_FIELDS:
            # the key is an indicator code or a text name and may itself contain dots
            # ("group_scores.1.1"), which Filing.value would split
            v = _norm(getattr(self.filing, head).get(key))
        else:
            v = _norm(self.filing.value(path))
        cache[path] = v
        return v

    def column(self, path: str) -> list[Scalar]:
        got = self.cache.get(path)
        if got is None and path in PROJECT_FLAGS:  # the template's hidden helper columns
            got = self.cache[path] = first_flags(
                self.column("projects.*.name"),
                self.column("projects.*.level"),
                self.column("projects.*.unit"),
                by_unit=path == PROJECT_FLAGS[1],
            )
            # a row inserted inside the list of a workbook has no helper formula there: the
            # reader noted where (workbook.read: helpers), and the cell is blank, as Excel has it
            key = path.split(".*.")[1]
            sources = self.filing.sources
            if sources:
                got = [None if f"projects.{i}.{key}" in sources else v for i, v in enumerate(got)]
                self.cache[path] = got
        if got is None:
            table, name = path.split(".*.")
            kind = _TABLE_KINDS[table]
            n = len(self.rows(kind))
            got = self.cache[path] = [self._row_value(kind, i, name) for i in range(n)]
        return got


def row_path(kind: RowKind, i: int, path: str) -> str:
    """ "row.score" in row 3 of the indicators → "indicators.3.score"."""
    return f"{ROW_TABLES[kind]}.{i}.{path[4:]}" if path.startswith("row.") else path


def row_label(filing: Filing, profile: Profile, kind: RowKind, i: int) -> str:
    row = _rows(filing, kind)[i]
    if kind == "indicator":
        node = profile.node(row.code)
        name = row.name or (node.name if node is not None else row.code)
        return f"指标「{name}」（第 {i + 1} 个指标）"
    if kind == "project":
        assert isinstance(row, Project)
        return f"{row.unit}项目「{row.name}」" if row.unit else f"项目「{row.name}」"
    if kind == "subtotal":
        return f"「{row.unit}」"
    if kind == "count":
        return "全部门" if row.unit == "合计" else f"「{row.unit}」"
    return f"收入来源「{row.name}」"


def instances(filing: Filing, f: Formula) -> Iterator[tuple[RowKind, int] | None]:
    """Where a formula runs on this filing: once, or once per (matching) row."""
    if f.per_row is None:
        yield None
        return
    for i in range(row_count(filing, f.per_row)):
        if f.per_row == "indicator" and f.codes is not None:
            if filing.indicators[i].code not in f.codes:
                continue
        yield (f.per_row, i)
