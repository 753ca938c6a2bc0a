"""The official scoring rules, declared once as expressions.

Every rule kind (execution rate, quantitative by direction with 反向 A/B and 等于 0,
qualitative bands, ratio, penalty, bands, deduction, manual), the over-achievement
deduction, the execution-rate caps and the grade bands are written here, once, in the
expression language of perfxl.expr. The same declaration is executed three ways:

* perfxl.scoring evaluates it in Decimal with half-up rounding (compiled to closures);
* perfxl.workbook.formulas compiles it to the template's 复算 formulas;
* the check catalogue (perfxl.rules) compiles it to the live 审核 sheet and evaluates it on
  the filing for `perfxl check`.

A declaration takes its inputs as expressions, so the caller binds them: a model field
("row.target"), a cell of a template row, or a plain value in the engine. Quotients are
formed last (actual × weight / target), so the half-up rounding sees the exact value
whenever it terminates (0.71 × 3 / 6 = 0.355 → 0.36); compiled to Excel, every ROUND of a
computed value is brought to 9 places first (perfxl.expr), so binary floating point in an
office suite cannot move a result off the decimal one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from .expr import (
    And,
    Const,
    Expr,
    Field,
    If,
    IsBlank,
    IsNumber,
    Max,
    Min,
    Not,
    Or,
    Round,
    eq,
    ge,
    gt,
    le,
    lt,
    ne,
)
from .profile import (
    QUALITATIVE_PHRASES,
    BandsRule,
    DeductionRule,
    ExecutionRateRule,
    Node,
    PenaltyRule,
    Profile,
    QuantitativeRule,
    RatioRule,
)

DIRECTIONS = ("正向", "反向", "等于")

# Qualitative bands as shares of the weight: (low, high, high inclusive?)
QUALITATIVE_BANDS: dict[str, tuple[Decimal, Decimal, bool]] = {
    QUALITATIVE_PHRASES[0]: (Decimal("0.8"), Decimal(1), True),
    QUALITATIVE_PHRASES[1]: (Decimal("0.6"), Decimal("0.8"), False),
    QUALITATIVE_PHRASES[2]: (Decimal(0), Decimal("0.6"), False),
}

# ------------------------------------------------------------------ the model's fields

# the fields of a row, by the kind of list it is in ("row.score" in a per-row rule)
RowKind = Literal["indicator", "project", "income", "subtotal", "count"]
ROW_FIELDS: dict[RowKind, tuple[str, ...]] = {
    "indicator": (
        "code",
        "name",
        "direction",
        "unit",
        "target",
        "target_text",
        "target_initial",
        "actual",
        "actual_text",
        "weight",
        "score",
        "explanation",
        "applicable",
    ),
    "project": (
        "name",
        "level",
        "parent",
        "initial",
        "adjusted",
        "spent",
        "rate",
        "unit",
        "unit_code",
    ),
    "income": ("name", "amount", "share"),
    "subtotal": ("unit", "initial", "adjusted", "spent"),
    "count": ("unit", "first", "second"),
}
ROW = {name: Field(f"row.{name}") for names in ROW_FIELDS.values() for name in names}
BUDGET = Field("funds.total.budget")
EXECUTED = Field("funds.total.executed")


# 是否适用 of an indicator row: the cell holds 不适用 (the model: applicable = False) or is
# blank; a department row's helper holds TRUE. Any other text counts as applicable, in
# Python as in the workbook's formulas.
NOT_APPLICABLE = "不适用"


def is_applicable(cell: Expr) -> Expr:
    return Or(IsBlank(cell), And(ne(cell, False), ne(cell, NOT_APPLICABLE)))


APPLICABLE = is_applicable(ROW["applicable"])


def percent_of(part: Expr, whole: Expr) -> Expr:
    """A rate or share as printed: part × 100 / whole, rounded half-up to 2 decimals."""
    return Round(part * 100 / whole, 2)


# 执行率 = 全年执行数 / 全年预算数
RATE = percent_of(EXECUTED, BUDGET)
HAS_RATE = If(Or(Not(IsNumber(BUDGET)), Not(IsNumber(EXECUTED))), False, ne(BUDGET, 0))


# ------------------------------------------------------------------ leaf rules


def is_directional(direction: Expr) -> Expr:
    return Or(*(eq(direction, d) for d in DIRECTIONS))


def clamp_score(raw: Expr, weight: Expr) -> Expr:
    """Round half-up to 2 decimals, then keep within [0, weight]: max(0, min(weight, x)),
    so a (wrongly) negative weight gives 0."""
    return Max(Min(Round(raw, 2), weight), 0)


def quantitative(
    direction: Expr, target: Expr, actual: Expr, weight: Expr, variant: str = "A"
) -> Expr:
    """Directional scoring of the national table (财预〔2020〕10号); a negative actual
    counts as 0. 正向/等于: actual ≥ target gives the weight, else actual × weight / target;
    反向 A: target × weight / actual; 反向 B: (1 − (a − t)/t) × w = (2t − a) × w / t, 0 at
    a ≥ 2t; 等于 with target 0: full marks only for actual ≤ 0."""
    a = Max(actual, 0)
    t, w = target, weight
    forward = If(ge(a, t), w, If(le(t, 0), 0, a * w / t))
    if variant == "A":
        inverse = If(le(a, t), w, If(le(t, 0), 0, t * w / a))
    else:
        inverse = If(le(a, t), w, If(le(t, 0), 0, (2 * t - a) * w / t))
    equal_zero = If(le(a, 0), w, 0)
    raw = If(
        eq(direction, "反向"),
        inverse,
        If(And(eq(direction, "等于"), eq(t, 0)), equal_zero, forward),
    )
    return clamp_score(raw, w)


def over_achieved(direction: Expr, target: Expr, actual: Expr, threshold: Decimal) -> Expr:
    """Beyond the target by `threshold` % or more in the good direction (指标偏离):
    actual × 100 against target × (100 ± threshold), the difference brought to 9 places."""
    up = Round(actual * 100 - target * (100 + threshold), 9)
    down = Round(target * (100 - threshold) - actual * 100, 9)
    return If(
        gt(target, 0),
        If(
            eq(direction, "反向"),
            ge(down, 0),
            If(Or(eq(direction, "正向"), eq(direction, "等于")), ge(up, 0), False),
        ),
        False,
    )


def directional(
    direction: Expr, target: Expr, actual: Expr, weight: Expr, profile: Profile
) -> Expr:
    """A quantitative indicator's score under the profile: the rule, less the deviation
    deduction where the profile sets one (never below 0)."""
    score = quantitative(direction, target, actual, weight, profile.options.inverse_variant)
    oa = profile.options.over_achievement
    if oa.deduct <= 0:
        return score
    over = over_achieved(direction, target, actual, oa.threshold)
    return If(over, Round(score - Min(oa.deduct, score), 2), score)


def ratio(value: Expr, weight: Expr) -> Expr:
    """min(value %, 100 %) × weight; a negative value counts as 0."""
    return Round(Min(Max(value, 0), 100) * weight / 100, 2)


def execution_rate_for_score(profile: Profile) -> Expr:
    """The 执行率 the score is taken from: as printed (2 decimals) or exact."""
    if profile.options.score_from_rounded_rate:
        return RATE
    return EXECUTED * 100 / BUDGET


def execution_score(profile: Profile, weight: Expr, stated_rate: Expr | None) -> tuple[Expr, Expr]:
    """(inputs present, score) of the execution-rate indicator: min(执行率, 100 %) × weight,
    the rate from the funds; a department row may state the rate itself (its 实际值), used
    only when the funds give none."""
    if stated_rate is None:
        return HAS_RATE, ratio(execution_rate_for_score(profile), weight)
    rate = If(HAS_RATE, execution_rate_for_score(profile), Round(stated_rate, 2))
    return Or(HAS_RATE, IsNumber(stated_rate)), ratio(rate, weight)


def penalty(rule: PenaltyRule, value: Expr, weight: Expr) -> Expr:
    beyond = value - rule.bound if rule.side == "over" else rule.bound - value
    return clamp_score(weight - Max(beyond, 0) * rule.per_point, weight)


def bands(rule: BandsRule, value: Expr, weight: Expr) -> Expr:
    """The first band with min ≤ value ≤ max gives the score (at most the weight)."""
    chosen: Expr = Const(Decimal(0))
    for b in reversed(rule.bands):
        conds = []
        if b.min is not None:
            conds.append(ge(value, b.min))
        if b.max is not None:
            conds.append(le(value, b.max))
        cond: Expr = And(*conds) if conds else Const(True)
        chosen = If(cond, Round(Const(b.score), 2), chosen)
    return Min(chosen, weight)


def deduction(rule: DeductionRule, count: Expr, weight: Expr) -> Expr:
    return clamp_score(weight - Max(count, 0) * rule.per_item, weight)


def judged(stated: Expr, weight: Expr) -> Expr:
    """A judged score (manual, qualitative): the stated score, rounded, within [0, weight]."""
    return clamp_score(stated, weight)


def fixed_leaf_score(
    node: Node, profile: Profile, row: dict[str, Expr] | None = None
) -> tuple[Expr, Expr] | None:
    """(inputs present, score) of a profile leaf's row; None when the score is judged
    (manual, qualitative) rather than computed. `row` binds the row's fields (default: the
    model's "row.x" paths)."""
    r = ROW if row is None else row
    rule = node.rule
    w = Const(node.weight if node.weight is not None else Decimal(0))
    actual = r["actual"]
    if isinstance(rule, RatioRule):
        return IsNumber(actual), ratio(actual, w)
    if isinstance(rule, PenaltyRule):
        return IsNumber(actual), penalty(rule, actual, w)
    if isinstance(rule, BandsRule):
        return IsNumber(actual), bands(rule, actual, w)
    if isinstance(rule, DeductionRule):
        return IsNumber(actual), deduction(rule, actual, w)
    if isinstance(rule, ExecutionRateRule):
        return execution_score(profile, w, actual)
    if isinstance(rule, QuantitativeRule):
        d: Expr = Const(rule.direction) if rule.direction else r["direction"]
        inputs = If(And(IsNumber(r["target"]), IsNumber(actual)), is_directional(d), False)
        return inputs, directional(d, r["target"], actual, w, profile)
    return None  # manual, qualitative


def open_row_score(profile: Profile, row: dict[str, Expr] | None = None) -> Expr:
    """The 复算得分 of a unit-defined (三级) indicator row: 定性 rows keep their judged
    score, quantitative rows follow their 指标性质; missing inputs score 0."""
    r = ROW if row is None else row
    d, t, a, s = r["direction"], r["target"], r["actual"], r["score"]
    w = If(IsNumber(r["weight"]), r["weight"], 0)
    quantitative_score = If(
        And(IsNumber(t), IsNumber(a)),
        If(is_directional(d), directional(d, t, a, w, profile), 0),
        0,
    )
    row_score = If(eq(d, "定性"), If(IsNumber(s), judged(s, w), 0), quantitative_score)
    return If(
        is_applicable(r["applicable"]), row_score, 0
    )  # a row marked 不适用 scores 0 (scoring.indicator)


# ------------------------------------------------------------------ qualitative bands


def within_band(score: Expr, low: Expr, high: Expr, inclusive: bool) -> Expr:
    """low ≤ score ≤ high (“达成年度指标”), else low ≤ score < high."""
    return And(ge(score, low), le(score, high) if inclusive else lt(score, high))


def in_qualitative_band(phrase: Expr, score: Expr, weight: Expr) -> Expr:
    """The stated score (rounded, kept within [0, weight]) lies in the phrase's band."""
    s = clamp_score(score, weight)
    out: Expr = Const(False)
    for text, (low, high, inclusive) in reversed(list(QUALITATIVE_BANDS.items())):
        lo, hi = Round(weight * low, 2), Round(weight * high, 2)
        out = If(eq(phrase, text), within_band(s, lo, hi, inclusive), out)
    return out


def band_bound(phrase: Expr, weight: Expr, which: int) -> Expr:
    """Low (0) or high (1) end of the phrase's band."""
    out: Expr = Const(Decimal(0))
    for text, band in reversed(list(QUALITATIVE_BANDS.items())):
        out = If(eq(phrase, text), Round(weight * band[which], 2), out)
    return out


# ------------------------------------------------------------------ totals and grades


def capped_total(profile: Profile, subtotal: Expr, rate: Expr) -> Expr:
    """The total after the profile's execution-rate caps (a rate below `below` % limits the
    total to `max_total`), rounded; `rate` is blank/text when there is no rate."""
    caps = [If(IsNumber(rate), If(lt(rate, c.below), c.max_total, subtotal), subtotal)
            for c in profile.options.execution_caps]  # fmt: skip
    return Round(Min(subtotal, *caps) if caps else subtotal, 2)


def grade_of(profile: Profile, total: Expr) -> Expr:
    """profile.grade on the rounded total: the first band whose lower bound it reaches."""
    t = Round(total, 2)
    out: Expr = Const(profile.grades[-1].label)
    for g in reversed(profile.grades[:-1]):
        out = If(ge(t, g.min), g.label, out)
    return out


def group_grade(profile: Profile, score: Expr, weight: Decimal) -> Expr:
    """A 一级 indicator's grade by its score rate (武汉评分表样式): score / weight × total."""
    return grade_of(profile, Round(score * profile.total / weight, 2))
