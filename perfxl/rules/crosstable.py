"""表间: the department report's 收支情况 and 项目支出明细 agree with each other."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..expr import (
    And,
    Column,
    Const,
    CountNumbers,
    CountWhere,
    Expr,
    Field,
    Filled,
    If,
    IsNumber,
    Not,
    Or,
    Round,
    Scalar,
    Sum,
    SumIf,
    SumWhere,
    eq,
    gt,
)
from ..findings import Scope, Severity
from ..model import OWN_UNIT, TOTAL_UNIT, Filing
from ..profile import Profile, code_name
from ..scoring import ScoreResult
from .base import Context, Formula, Hit, Rule
from .common import ROW

B = Severity.BLOCKING
INCOME_TOTAL = Field("finance.income_total")
BASIC = Field("finance.basic")
PROJECT = Field("finance.project")
SPENDING = Field("finance.expenditure_total")
AMOUNTS = Column("finance.income.*.amount")
LEVELS = Column("projects.*.level")
PARENTS = Column("projects.*.parent")
UNITS = Column("projects.*.unit")
FLAG_KEYS = ("first_dept", "first_unit")  # rules.base.PROJECT_FLAGS
PROJECT_MONEY = {"initial": "年初预算", "adjusted": "调整预算", "spent": "实际支出"}


def _income(profile: Profile) -> list[Formula]:
    total = Round(Sum(AMOUNTS), 2)
    return [
        Formula(
            "finance.income_total",
            And(IsNumber(INCOME_TOTAL), gt(CountNumbers(AMOUNTS), 0)),
            eq(Round(INCOME_TOTAL, 2), total),
            "收入合计 {actual} 与各项收入之和 {expected} 不等",
            "收入合计应等于各项收入之和",
            expected=total,
            actual=INCOME_TOTAL,
        )
    ]


def _income_shares(profile: Profile) -> list[Formula]:
    """A source's stated share (99.94 %) is its amount over the stated 收入合计."""
    share, amount = ROW["share"], ROW["amount"]
    expected = Round(amount * 100 / INCOME_TOTAL, 2)
    return [
        Formula(
            "row.share",
            And(IsNumber(share), IsNumber(amount), IsNumber(INCOME_TOTAL)),
            If(eq(INCOME_TOTAL, 0), False, eq(Round(share, 2), expected)),
            "{row}的占比填报 {actual}%，按 金额 ÷ 收入合计 应为 {expected}%",
            "收入来源的占比应等于 金额 ÷ 收入合计（两位小数；收入合计为 0 时不填）",
            expected=If(eq(INCOME_TOTAL, 0), "—", expected),
            actual=share,
            per_row="income",
        )
    ]


def _expenditure(profile: Profile) -> list[Formula]:
    total = Round(Sum(BASIC, PROJECT), 2)
    return [
        Formula(
            "finance.expenditure_total",
            And(IsNumber(SPENDING), Or(IsNumber(BASIC), IsNumber(PROJECT))),
            eq(Round(SPENDING, 2), total),
            "支出合计 {actual} 与 基本支出 + 项目支出 = {expected} 不等",
            "支出合计应等于基本支出与项目支出之和",
            expected=total,
            actual=SPENDING,
        )
    ]


def _shares(profile: Profile) -> list[Formula]:
    out = []
    for key, part, label in (
        ("basic_share", BASIC, "基本支出"),
        ("project_share", PROJECT, "项目支出"),
    ):
        share = Field(f"finance.{key}")
        expected = Round(part * 100 / SPENDING, 2)
        out.append(
            Formula(
                f"finance.{key}",
                And(IsNumber(share), IsNumber(part), IsNumber(SPENDING)),
                If(eq(SPENDING, 0), False, eq(Round(share, 2), expected)),
                f"{label}占比填报 {{actual}}%，按 {label} ÷ 支出合计 应为 {{expected}}%",
                f"{label}占比应等于 {label} ÷ 支出合计（支出合计为 0 时不填）",
                expected=If(eq(SPENDING, 0), "—", expected),
                actual=share,
            )
        )
    return out


def _projects_sum(profile: Profile) -> list[Formula]:
    spent = Column("projects.*.spent")
    total = Round(SumIf(LEVELS, 1, spent), 2)
    return [
        Formula(
            "finance.project",
            And(IsNumber(PROJECT), gt(CountNumbers(spent), 0)),
            eq(Round(PROJECT, 2), total),
            "项目支出 {actual} 与项目支出明细中一级项目实际支出合计 {expected} 不等",
            "项目支出应等于项目支出明细中一级项目的实际支出之和",
            expected=total,
            actual=PROJECT,
        )
    ]


def _parent_sums(profile: Profile) -> list[Formula]:
    """A 一级项目's children are the rows naming it as parent within the same unit: two
    units' 运行经费 are two projects."""
    out = []
    name = ROW["name"]
    mine = ((PARENTS, name), (UNITS, ROW["unit"]))
    for col, label in PROJECT_MONEY.items():
        x = ROW[col]
        children = Round(SumWhere(mine, Column(f"projects.*.{col}")), 2)
        out.append(
            Formula(
                f"row.{col}",
                If(
                    And(eq(ROW["level"], 1), Filled(name), IsNumber(x)),
                    gt(SumWhere(mine), 0),
                    False,
                ),
                eq(Round(x, 2), children),
                f"{{row}}的{label} {{actual}} 与其二级项目{label}合计 {{expected}} 不等",
                f"一级项目的{label}应等于其二级项目之和",
                expected=children,
                actual=x,
                per_row="project",
            )
        )
    return out


def _project_rates(profile: Profile) -> list[Formula]:
    adjusted, spent, rate = ROW["adjusted"], ROW["spent"], ROW["rate"]
    expected = Round(spent * 100 / adjusted, 2)
    return [
        Formula(
            "row.rate",
            If(
                And(IsNumber(adjusted), IsNumber(spent), IsNumber(rate)),
                Not(eq(adjusted, 0)),
                False,
            ),
            eq(Round(rate, 2), expected),
            "{row}的执行率填报 {actual}%，按 实际支出 ÷ 调整预算 应为 {expected}%",
            "项目执行率应等于 实际支出 ÷ 调整预算（两位小数）",
            expected=expected,
            actual=rate,
            per_row="project",
        ),
        Formula(
            "row.rate",
            If(IsNumber(adjusted), eq(adjusted, 0), False),
            Not(IsNumber(rate)),
            "{row}的调整预算为 0，没有执行率，执行率栏应为空或“—”，填报为 {actual}",
            "调整预算为 0 的项目执行率栏应为空或“—”",
            actual=rate,
            per_row="project",
        ),
    ]


SUBTOTAL_FIELDS = {"initial": "年初预算", "adjusted": "调整预算", "spent": "实际支出"}


def unit_subtotal(unit: Expr, key: str) -> Expr:
    """The sum of a unit's 一级项目 in one money column of 项目支出明细: 本级 is the rows with
    no unit (or 本级), 合计 every 一级项目; the 二级项目 are inside their 一级."""
    units, levels = Column("projects.*.unit"), Column("projects.*.level")
    money = Column(f"projects.*.{key}")
    one = Const(Decimal(1))

    def of(u: Expr) -> Expr:
        return SumWhere(((units, u), (levels, one)), money)

    own = of(Const("")) + of(Const(OWN_UNIT))
    return If(
        eq(unit, TOTAL_UNIT),
        SumWhere(((levels, one),), money),
        If(eq(unit, OWN_UNIT), own, of(unit)),
    )


def _subtotals(profile: Profile) -> list[Formula]:
    out = []
    for key, label in SUBTOTAL_FIELDS.items():
        stated = ROW[key]
        expected = Round(unit_subtotal(ROW["unit"], key), 2)
        out.append(
            Formula(
                f"row.{key}",
                IsNumber(stated),
                eq(Round(stated, 2), expected),
                f"{{row}}的{label}小计填报 {{actual}}，项目支出明细中该单位一级项目合计为 {{expected}}",
                f"单位{label}小计应等于项目支出明细中该单位一级项目之和",
                expected=expected,
                actual=stated,
                per_row="subtotal",
            )
        )
    return out


def _parents(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    """A 二级项目 must name a 一级项目 of the same unit (names compared as Excel does: case
    ignored)."""
    firsts = {(_key(p.unit), _key(p.name)) for p in filing.projects if p.level == 1}
    for i, p in enumerate(filing.projects):
        if p.level == 2 and (_key(p.unit), _key(p.parent)) not in firsts:
            where = f"{p.unit}的" if p.unit else "本级"
            what = (
                f"所属一级项目「{p.parent}」不在{where}项目中" if p.parent else "未填所属一级项目"
            )
            yield Hit(f"projects.{i}.parent", f"二级项目「{p.name}」{what}", actual=p.parent)


def _units_rows(unit: Expr, keys: tuple = (), value: Column | None = None) -> Expr:
    """SumWhere over the 项目支出明细 rows of a unit (本级: blank or 本级; 合计: all)."""
    units = Column("projects.*.unit")

    def of(u: Expr) -> Expr:
        return SumWhere(((units, u), *keys), value)

    everyone = (
        SumWhere(keys, value) if keys else Sum(value if value is not None else Const(Decimal(0)))
    )
    own = of(Const("")) + of(Const(OWN_UNIT))
    return If(eq(unit, TOTAL_UNIT), everyone, If(eq(unit, OWN_UNIT), own, of(unit)))


def _project_counts(profile: Profile) -> list[Formula]:
    """Stated 一级/二级 project counts against the list: a unit's 一级 are its own rows, one
    per name (the hidden helper 1 on the first of each name in the unit); the department
    total (合计) counts the 一级项目 as categories (a name several units share counts once)
    and sums the 二级项目."""
    unit = ROW["unit"]
    levels = Column("projects.*.level")
    listed = gt(CountNumbers(levels), 0)
    # rows of the unit: their 级次 add up to more than 0 (blank rows of the list have none)
    found = If(eq(unit, TOTAL_UNIT), True, gt(_units_rows(unit, (), levels), 0))
    first = If(
        eq(unit, TOTAL_UNIT),
        Sum(Column("projects.*.first_dept")),
        _units_rows(unit, (), Column("projects.*.first_unit")),
    )
    second = _units_rows(unit, ((levels, Const(Decimal(2))),))
    # every 一级 row has its two helper numbers: a row inserted inside the list has none
    one = Const(Decimal(1))
    firsts = SumWhere(((levels, one),))
    helped = And(
        *(eq(CountWhere(levels, one, Column(f"projects.*.{k}")), firsts) for k in FLAG_KEYS)
    )
    missing = firsts - CountWhere(levels, one, Column("projects.*.first_dept"))
    out = [
        Formula(
            "projects",
            And(listed, gt(CountNumbers(Column("project_counts.*.first")), 0)),
            helped,
            "项目支出明细中有 {missing} 个一级项目行缺少隐藏的辅助公式（在明细中间插入的行），"
            "一级项目个数无法复算：请复制相邻的整行（含隐藏列）再改填内容",
            "项目支出明细中插入的行缺少隐藏的辅助公式，一级项目个数无法复算：请复制相邻的整行再改填",
            extras=(("missing", missing),),
        ),
        Formula(
            "row.unit",
            And(listed, Filled(unit)),
            found,
            "项目个数中的单位「{actual}」在项目支出明细中没有项目",
            "项目个数中的单位应在项目支出明细中有项目（合计、本级或下属单位名称）",
            actual=unit,
            per_row="count",
        ),
    ]
    for field, count, level in (("first", first, "一级"), ("second", second, "二级")):
        stated = ROW[field]
        how = "（合计行：各单位同名的一级项目计一次）" if field == "first" else ""
        out.append(
            Formula(
                f"row.{field}",
                And(listed, IsNumber(stated), found, helped if field == "first" else True),
                eq(stated, count),
                f"{{row}}填报{level}项目 {{actual}} 个，项目支出明细中有 {{expected}} 个{how}",
                f"填报的{level}项目个数应与项目支出明细一致{how}",
                expected=count,
                actual=stated,
                per_row="count",
            )
        )
    return out


def _key(text: str | None) -> str:
    return (text or "").casefold()


def _leaves(node) -> list:
    return [node] if not node.children else [x for c in node.children for x in _leaves(c)]


def indicator_counts(
    filing: Filing, profile: Profile, result: ScoreResult
) -> dict[str, tuple[int, int]]:
    """(末级指标个数, 满分个数) per 一级 code and for the whole table ("all"), as the 复算
    cells beside the stated counts show them: the 末级 indicator rows the table uses (a
    project 二级 with no 三级 rows is an empty row of the table, not an indicator; a
    department 二级 scored without detail has no rows), and of those the rows whose score
    (the stated one, else the recomputed one) reaches a weight above 0."""
    filed = {ind.code for ind in filing.indicators}

    def used(x) -> bool:
        if x.children or x.level < 2:
            return False
        return x.indicator is not None if profile.kind == "project" else x.code in filed

    out: dict[str, tuple[int, int]] = {}
    every, every_full = 0, 0
    for top in result.nodes:
        rows = [x for x in _leaves(top) if used(x)]
        full = sum(
            1
            for x in rows
            if x.weight > 0 and (x.stated if x.stated is not None else x.score) >= x.weight
        )
        out[top.code] = (len(rows), full)
        every, every_full = every + len(rows), every_full + full
    out["all"] = (every, every_full)
    return out


def count_cells(filing: Filing, profile: Profile, result: ScoreResult) -> dict[str, Scalar]:
    """The 复算 count cells by defined name: blank while the table has no 末级 rows."""
    out: dict[str, Scalar] = {}
    for key, (found, full) in indicator_counts(filing, profile, result).items():
        name = f"pf_count_{code_name(key)}"
        out[f"{name}_indicators_recomputed"] = Decimal(found) if found else None
        out[f"{name}_full_marks_recomputed"] = Decimal(full) if found else None
    return out


def _count_formulas(profile: Profile) -> list[Formula]:
    """A stated count against its 复算 cell; not checked while the table has no 末级 rows
    (a report of 一级 scores only)."""
    out = []
    for key, label in [(t.code, f"「{t.name}」") for t in profile.indicators] + [("all", "全表")]:
        name = f"pf_count_{code_name(key)}"
        found = Field(f"{name}_indicators_recomputed")
        for f, what in (("indicators", "末级指标"), ("full_marks", "得满分的指标")):
            stated, counted = Field(f"counts.{key}.{f}"), Field(f"{name}_{f}_recomputed")
            out.append(
                Formula(
                    f"counts.{key}.{f}",
                    And(IsNumber(stated), IsNumber(found)),
                    eq(stated, counted),
                    f"{label}填报{what} {{actual}} 个，表中实有 {{expected}} 个",
                    f"填报的{what}个数应与表中末级指标一致（见右侧复算）",
                    expected=counted,
                    actual=stated,
                )
            )
    return out


def _count_keys(
    filing: Filing, profile: Profile, result: ScoreResult, ctx: Context
) -> Iterator[Hit]:
    """A stated count under a key that is no 一级 code (only a data file can have one)."""
    tops = {n.code for n in profile.indicators}
    for key in filing.counts:
        if key != "all" and key not in tops:
            yield Hit(
                f"counts.{key}", f"指标个数的键「{key}」不是一级指标编码，也不是 all", actual=key
            )


DEPT = ("department",)
RULES = [
    Rule(
        "XT-INCOME-SUM",
        B,
        Scope.CROSS,
        "收入合计等于各来源收入之和",
        "部门整体（填了分来源收入时）",
        kinds=DEPT,
        formulas=_income,
    ),
    Rule(
        "XT-INCOME-SHARES",
        B,
        Scope.CROSS,
        "各收入来源填报的占比 = 该项收入 ÷ 收入合计（两位小数）",
        "部门整体（填报了收入占比时）",
        kinds=DEPT,
        formulas=_income_shares,
    ),
    Rule(
        "XT-EXPENDITURE-SUM",
        B,
        Scope.CROSS,
        "基本支出 + 项目支出 = 支出合计",
        "部门整体",
        kinds=DEPT,
        formulas=_expenditure,
    ),
    Rule(
        "XT-SHARES",
        B,
        Scope.CROSS,
        "基本支出、项目支出占比 = 该项支出 ÷ 支出合计（两位小数）",
        "部门整体",
        kinds=DEPT,
        formulas=_shares,
    ),
    Rule(
        "XT-PROJECTS-SUM",
        B,
        Scope.CROSS,
        "项目支出明细中一级项目的实际支出之和等于项目支出",
        "部门整体",
        kinds=DEPT,
        formulas=_projects_sum,
    ),
    Rule(
        "XT-PROJECT-PARENT-SUM",
        B,
        Scope.CROSS,
        "一级项目的年初预算、调整预算、实际支出等于其二级项目之和",
        "部门整体（有二级项目时）",
        kinds=DEPT,
        formulas=_parent_sums,
    ),
    Rule(
        "XT-PROJECT-RATE",
        B,
        Scope.CROSS,
        "项目执行率 = 实际支出 ÷ 调整预算；调整预算为 0 时没有执行率",
        "部门整体",
        kinds=DEPT,
        formulas=_project_rates,
    ),
    Rule(
        "XT-PROJECT-UNIT-SUM",
        B,
        Scope.CROSS,
        "填报的本级、各下属单位项目支出小计（年初预算、调整预算、实际支出）等于该单位一级项目之和",
        "部门整体（填报了单位小计时）",
        kinds=DEPT,
        formulas=_subtotals,
    ),
    Rule(
        "XT-PROJECT-PARENT",
        B,
        Scope.CROSS,
        "二级项目所属的一级项目在明细中",
        "部门整体",
        kinds=DEPT,
        check=_parents,
    ),
    Rule(
        "XT-PROJECT-COUNTS",
        B,
        Scope.CROSS,
        "填报的一级、二级项目个数与项目支出明细一致（合计按一级项目类别计，二级项目求和）",
        "部门整体（填报了项目个数时）",
        kinds=DEPT,
        formulas=_project_counts,
    ),
    Rule(
        "XT-COUNTS",
        B,
        Scope.TABLE,
        "填报的指标个数、满分个数与表中指标一致",
        "填报了指标个数时（如广东样式的报告）",
        formulas=_count_formulas,
    ),
    Rule(
        "XT-COUNTS-KEY",
        B,
        Scope.TABLE,
        "填报的指标个数按一级指标编码或 all（全表）给出",
        "填报了指标个数时（数据文件）",
        check=_count_keys,
    ),
]
