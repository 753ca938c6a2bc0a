"""取值: each value on its own is possible (money not negative, rates in range, one of the
allowed words, an indicator code the profile knows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..expr import (
    And,
    Expr,
    Field,
    Filled,
    If,
    IsBlank,
    IsNumber,
    Not,
    Or,
    Round,
    eq,
    ge,
    gt,
    le,
    lt,
)
from ..findings import Scope, Severity
from ..model import FUND_LINES, Filing
from ..profile import QUALITATIVE_PHRASES, Profile
from ..score_rules import fixed_leaf_score, is_directional
from ..scoring import ScoreResult
from .base import Context, Formula, Hit, Rule
from .common import (
    BUDGET,
    EXECUTED,
    FUND_COLUMNS,
    ROW,
    STATED_RATE,
    execution_remark_path,
    fixed_leaves,
    fund_label,
    open_codes,
)

B, W = Severity.BLOCKING, Severity.WARNING
DIRECTION_WORDS = ("正向", "反向", "等于", "定性")
FINANCE_MONEY = {
    "income_total": "收入合计",
    "basic": "基本支出",
    "project": "项目支出",
    "expenditure_total": "支出合计",
}
PROJECT_MONEY = {"initial": "年初预算", "adjusted": "调整预算", "spent": "实际支出"}


def _nonneg(path: str, label: str) -> Formula:
    x = Field(path)
    return Formula(
        path,
        IsNumber(x),
        ge(x, 0),
        f"{label}为 {{actual}}，金额不能为负数",
        f"{label}不能为负数",
        actual=x,
    )


def _money(profile: Profile) -> list[Formula]:
    out = [
        _nonneg(f"funds.{line}.{col}", fund_label(line, col))
        for line in FUND_LINES
        for col in ("initial", "budget", "executed")
    ]
    if profile.kind == "department":
        out += [_nonneg(f"finance.{k}", v) for k, v in FINANCE_MONEY.items()]
        amount = ROW["amount"]
        out.append(
            Formula(
                "row.amount",
                IsNumber(amount),
                ge(amount, 0),
                "{row}的金额为 {actual}，不能为负数",
                "收入金额不能为负数",
                actual=amount,
                per_row="income",
            )
        )
        for col, label in PROJECT_MONEY.items():
            x = ROW[col]
            out.append(
                Formula(
                    f"row.{col}",
                    IsNumber(x),
                    ge(x, 0),
                    f"{{row}}的{label}为 {{actual}}，不能为负数",
                    f"项目的{label}不能为负数",
                    actual=x,
                    per_row="project",
                )
            )
    return out


# Cells that hold numbers; a unit that typed text there ("约93", a number pasted as text)
# sees Excel leave it out of every sum and score, so it is blocking wherever it is.
HEADER_NUMBERS = {"header.year": "年度"}
TEXT_MESSAGE = "「{actual}」是文字，不是数字：表中的公式不按数字计算它，请改填数字"


def _number_cell(path: str, label: str, when: Expr | None = None, **kw: Any) -> Formula:
    x = Field(path)
    filled = Not(IsBlank(x))
    return Formula(
        path,
        filled if when is None else If(filled, when, False),
        IsNumber(x),
        f"{label}{TEXT_MESSAGE}",
        f"{kw.pop('live_label', label)}应填写数字（文字不参与计算）",
        actual=x,
        **kw,
    )


def _number_cells(profile: Profile) -> list[Formula]:
    out = [_number_cell(p, label) for p, label in HEADER_NUMBERS.items()]
    out += [
        _number_cell(f"funds.{line}.{col}", fund_label(line, col))
        for line in FUND_LINES
        for col in ("initial", "budget", "executed")
    ]
    row = "{row}的"
    for key, label in (("weight", "分值"), ("score", "得分")):
        out.append(_number_cell(f"row.{key}", row + label, per_row="indicator",
                                live_label=f"指标的{label}"))  # fmt: skip
    d = ROW["direction"]
    for key, label in (("target", "年度指标值"), ("actual", "实际完成值")):
        if open_codes(profile):  # a unit-defined row: a number wherever its 性质 is 定量
            out.append(_number_cell(f"row.{key}", row + label, is_directional(d),
                                    per_row="indicator", codes=open_codes(profile),
                                    live_label=f"定量指标的{label}"))  # fmt: skip
    measured = tuple(n.code for n in fixed_leaves(profile) if fixed_leaf_score(n, profile))
    if measured:
        out.append(_number_cell("row.actual", row + "实际值", per_row="indicator", codes=measured,
                                live_label="按公式计分的指标的实际值"))  # fmt: skip
    out.append(_number_cell("total_score", "总分"))
    # stated subtotals: every 一级 of a project table, the 二级 of a department table
    tops = profile.indicators
    stated = tops if profile.kind == "project" else [
        n for _, n in profile.walk() if n.children and n not in tops
    ]  # fmt: skip
    out += [_number_cell(f"group_scores.{n.code}", f"「{n.name}」的得分") for n in stated]
    if open_codes(profile):
        out.append(_number_cell("row.target_initial", row + "年初指标值", per_row="indicator",
                                codes=open_codes(profile), live_label="年初指标值"))  # fmt: skip
    if profile.kind == "department":
        out += [_number_cell(f"finance.{k}", v) for k, v in FINANCE_MONEY.items()]
        out += [_number_cell(f"group_scores.{top.code}", f"「{top.name}」的评价得分")
                for top in profile.indicators]  # fmt: skip
        for col, label in PROJECT_MONEY.items():
            out.append(_number_cell(f"row.{col}", row + label + "小计", per_row="subtotal",
                                    live_label=f"单位{label}小计"))  # fmt: skip
        out.append(_number_cell("row.amount", row + "金额", per_row="income",
                                live_label="收入金额"))  # fmt: skip
        for col, label in PROJECT_MONEY.items():
            out.append(_number_cell(f"row.{col}", row + label, per_row="project",
                                    live_label=f"项目的{label}"))  # fmt: skip
    return out


def _rates(profile: Profile) -> list[Formula]:
    out = [
        Formula(
            "funds.total.rate",
            IsNumber(STATED_RATE),
            ge(STATED_RATE, 0),
            "执行率为 {actual}%，不能为负数",
            "执行率不能为负数",
            actual=STATED_RATE,
        )
    ]
    if profile.kind == "department":
        for key, label in (("basic_share", "基本支出占比"), ("project_share", "项目支出占比")):
            x = Field(f"finance.{key}")
            out.append(
                Formula(
                    f"finance.{key}",
                    IsNumber(x),
                    And(ge(x, 0), le(x, 100)),
                    f"{label}为 {{actual}}%，应在 0～100% 之间",
                    f"{label}应在 0～100% 之间",
                    actual=x,
                )
            )
        rate = ROW["rate"]
        out.append(
            Formula(
                "row.rate",
                IsNumber(rate),
                ge(rate, 0),
                "{row}的执行率为 {actual}%，不能为负数",
                "项目执行率不能为负数",
                actual=rate,
                per_row="project",
            )
        )
    return out


def _weights(profile: Profile) -> list[Formula]:
    w = ROW["weight"]
    return [
        Formula(
            "row.weight",
            IsNumber(w),
            ge(w, 0),
            "{row}的分值为 {actual}，不能为负数",
            "指标分值不能为负数",
            actual=w,
            per_row="indicator",
        )
    ]


def _phrases(profile: Profile) -> list[Formula]:
    text = ROW["actual_text"]
    allowed = "、".join(f"“{p}”" for p in QUALITATIVE_PHRASES)
    return [
        Formula(
            "row.actual_text",
            eq(ROW["direction"], "定性"),
            Or(*(eq(text, p) for p in QUALITATIVE_PHRASES)),
            f"{{row}}是定性指标，实际完成值「{{actual}}」应为以下评价用语之一：{allowed}",
            f"定性指标的实际完成值应为：{allowed}",
            actual=text,
            per_row="indicator",
        )
    ]


def _directions(profile: Profile) -> list[Formula]:
    d = ROW["direction"]
    return [
        Formula(
            "row.direction",
            Not(IsBlank(d)),
            Or(*(eq(d, w) for w in DIRECTION_WORDS)),
            "{row}的指标性质「{actual}」应为正向、反向、等于或定性",
            "指标性质应为正向、反向、等于或定性",
            actual=d,
            per_row="indicator",
        )
    ]


def _overspent(profile: Profile) -> list[Formula]:
    remark = Field(execution_remark_path(profile))
    return [
        Formula(
            "funds.total.executed",
            And(IsNumber(BUDGET), IsNumber(EXECUTED)),
            le(Round(EXECUTED, 2), Round(BUDGET, 2)),
            "全年执行数 {actual} 超过全年预算数 {expected}",
            "全年执行数不应超过全年预算数",
            expected=BUDGET,
            actual=EXECUTED,
            explained=Filled(remark),
        )
    ]


# A 正向 rate whose target is at least this many percent and whose actual is at most 1 was
# almost surely typed as a fraction (0.95 for 95%).
FRACTION_TARGET = 50
# A project's 全年预算数 this large (万元: 100 亿元) is a table typed in 元.
PROJECT_SCALE = 1000000


def _fraction_rates(profile: Profile) -> list[Formula]:
    unit, target, actual = ROW["unit"], ROW["target"], ROW["actual"]
    return [
        Formula(
            "row.actual",
            And(
                Or(eq(unit, "%"), eq(unit, "％")),
                eq(ROW["direction"], "正向"),
                IsNumber(target),
                IsNumber(actual),
            ),
            Not(And(ge(target, FRACTION_TARGET), gt(actual, 0), le(actual, 1))),
            "{row}的度量单位为 %，年度指标值 {expected}，实际完成值 {actual} 像是按小数填写的"
            "百分比：表示 {percent}% 时应填 {percent}",
            "度量单位为 % 的实际完成值像是按小数填写（95% 应填 95，不是 0.95）",
            expected=target,
            actual=actual,
            extras=(("percent", Round(actual * 100, 2)),),
            per_row="indicator",
        )
    ]


def _money_scale(profile: Profile) -> list[Formula]:
    return [
        Formula(
            "funds.total.budget",
            IsNumber(BUDGET),
            lt(BUDGET, PROJECT_SCALE),
            "年度资金总额全年预算数为 {actual} 万元（{yi} 亿元），远超一个项目的规模，"
            "可能是按元填写：金额栏以万元为单位，{actual} 元应填 {wan} 万元，请核实全表金额",
            "全年预算数达 100 亿元以上，可能按元填写（金额栏以万元为单位，元 ÷ 10000）",
            actual=BUDGET,
            extras=(("yi", Round(BUDGET / 10000, 2)), ("wan", Round(BUDGET / 10000, 2))),
        )
    ]


# A small project typed in 元 (30 万元 as 300000) stays under PROJECT_SCALE, so its size alone
# says nothing: a project of 10-100 亿元 exists. What gives it away is the whole funds block
# being in 元 consistently: every amount filled is a whole multiple of 100 and at least
# 10000, with the 全年预算数 at least 100000. Amounts in 万元 of a large project rarely all
# look like that (an execution figure to the 万元 is almost never a whole 百万元); one that
# does can say so in its 预算执行说明, which turns the hint into 已说明.
YUAN_BUDGET = 100000  # 万元 (10 亿元); as 元: 10 万元
YUAN_AMOUNT = 10000  # every amount at least this (1 万元 as 元)
YUAN_STEP = 100  # and a whole multiple of it


def _round_yuan(x: Expr) -> Expr:
    """A filled, non-zero amount that looks like 元: ≥ 10000 and a whole multiple of 100."""
    return Or(
        Not(IsNumber(x)),
        eq(x, 0),
        And(ge(x, YUAN_AMOUNT), eq(Round(x / YUAN_STEP, 0), x / YUAN_STEP)),
    )


def _money_yuan(profile: Profile) -> list[Formula]:
    amounts = [Field(f"funds.{line}.{f}") for line in FUND_LINES for f in FUND_COLUMNS]
    remark = Field(execution_remark_path(profile))
    return [
        Formula(
            "funds.total.budget",
            And(IsNumber(BUDGET), ge(BUDGET, YUAN_BUDGET), lt(BUDGET, PROJECT_SCALE)),
            Not(And(*(_round_yuan(a) for a in amounts))),
            "年度资金各项金额都是 100 的整倍数且不小于 1 万，全年预算数 {actual} 万元（{yi} 亿元）："
            "像是整表按元填写的小项目（如 30 万元填成 300000）。金额栏以万元为单位，{actual} 元应填 "
            "{wan} 万元，请核实全表金额；确为 {yi} 亿元的项目，请在预算执行说明中注明",
            "年度资金各项金额都是 100 的整倍数、不小于 1 万，全年预算数在 10 亿～100 亿元之间："
            "像是按元填写（元 ÷ 10000 为万元）；确属实的在预算执行说明中注明",
            actual=BUDGET,
            extras=(("yi", Round(BUDGET / 10000, 2)), ("wan", Round(BUDGET / 10000, 2))),
            explained=Filled(remark),
        )
    ]


def _codes(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    """Rows the scoring engine would silently skip: unknown codes, group codes, duplicates."""
    open_ = set(open_codes(profile))
    fixed = {n.code for n in fixed_leaves(profile)}
    seen: dict[str, int] = {}
    for i, ind in enumerate(filing.indicators):
        path = f"indicators.{i}.code"
        if ind.code in open_:
            continue
        if ind.code in fixed:
            if ind.code in seen:
                yield Hit(
                    path,
                    f"指标编码「{ind.code}」重复（第 {seen[ind.code] + 1} 个指标已是该指标），"
                    "重复的一行不计分",
                    actual=ind.code,
                )
            else:
                seen[ind.code] = i
            continue
        node = profile.node(ind.code)
        why = (
            f"是「{node.name}」这一汇总指标的编码，应填在其下级指标上"
            if node is not None
            else f"不是评价框架 {profile.id} 中的指标"
        )
        yield Hit(path, f"第 {i + 1} 个指标的编码「{ind.code}」{why}，该行不计分", actual=ind.code)


def _version(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    if filing.profile_version and filing.profile_version != profile.version:
        yield Hit(
            "profile_version",
            f"填报数据按评价框架 {profile.id} 版本 {filing.profile_version} 编制，"
            f"当前框架版本为 {profile.version}",
            expected=profile.version,
            actual=filing.profile_version,
        )


RULES = [
    Rule(
        "VAL-NUMBER-TEXT",
        B,
        Scope.TABLE,
        "数字栏填写的是数字（填成文字的不参与表中的计算）",
        "全部",
        formulas=_number_cells,
    ),
    Rule(
        "VAL-MONEY",
        B,
        Scope.TABLE,
        "金额不能为负数",
        "全部",
        formulas=_money,
    ),
    Rule(
        "VAL-RATE",
        B,
        Scope.TABLE,
        "执行率不为负数，占比在 0～100% 之间",
        "全部",
        formulas=_rates,
    ),
    Rule(
        "VAL-WEIGHT",
        B,
        Scope.TABLE,
        "指标分值不能为负数",
        "全部",
        formulas=_weights,
    ),
    Rule(
        "VAL-DIRECTION",
        B,
        Scope.TABLE,
        "指标性质只能是正向、反向、等于、定性",
        "全部",
        formulas=_directions,
    ),
    Rule(
        "VAL-QUAL-PHRASE",
        B,
        Scope.TABLE,
        "定性指标的实际完成值是三种评价用语之一",
        "全部",
        formulas=_phrases,
    ),
    Rule(
        "VAL-RATE-FRACTION",
        W,
        Scope.TABLE,
        "度量单位为 % 的正向指标，实际完成值不像按小数填写的百分比（0.95 应填 95）",
        "项目支出",
        kinds=("project",),
        formulas=_fraction_rates,
    ),
    Rule(
        "VAL-MONEY-SCALE",
        W,
        Scope.TABLE,
        "项目的全年预算数不像按元填写（100 亿元以上时提示，金额栏以万元为单位）",
        "项目支出",
        kinds=("project",),
        formulas=_money_scale,
    ),
    Rule(
        "VAL-MONEY-YUAN",
        W,
        Scope.TABLE,
        "项目资金不像整表按元填写（各项金额都是 100 的整倍数、不小于 1 万，全年预算数 10 亿～100 亿元时"
        "提示；确属实的在预算执行说明中说明）",
        "项目支出",
        kinds=("project",),
        formulas=_money_yuan,
    ),
    Rule(
        "VAL-IND-CODE",
        B,
        Scope.TABLE,
        "指标编码是评价框架中可填报的指标，固定指标不重复",
        "全部",
        check=_codes,
    ),
    Rule(
        "VAL-OVERSPENT",
        W,
        Scope.TABLE,
        "全年执行数不超过全年预算数（超过时须说明）",
        "全部",
        formulas=_overspent,
    ),
    Rule(
        "VAL-PROFILE-VERSION",
        W,
        Scope.TABLE,
        "填报所依据的评价框架版本与当前版本一致",
        "全部",
        check=_version,
    ),
]
