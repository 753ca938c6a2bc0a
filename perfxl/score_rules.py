"""The official scoring rules as expressions, so a stated score can be recomputed by a
live formula in the workbook and by the same declaration in Python.

They mirror perfxl.scoring rule for rule (tests compare the two on generated filings),
with one deliberate difference: a quotient is formed last (actual × weight / target,
not actual / target × weight), so the half-up rounding sees the exact value whenever it
terminates, as Excel's ROUND does (0.71 / 6 × 3 = 0.355 → 0.36).
"""

from __future__ import annotations

from decimal import Decimal

from ..decimal_math import r2
from ..profile import (
    BandsRule,
    DeductionRule,
    ExecutionRateRule,
    Node,
    PenaltyRule,
    Profile,
    QualitativeRule,
    QuantitativeRule,
    RatioRule,
)
from ..scoring import QUALITATIVE_BANDS
from .common import BUDGET, EXECUTED, HAS_RATE, RATE, ROW
from .expr import (
    And,
    Const,
    Expr,
    If,
    IsNumber,
    Max,
    Min,
    Or,
    Round,
    eq,
    ge,
    gt,
    le,
    lt,
)

DIRECTIONS = ("正向", "反向", "等于")


def is_directional(direction: Expr) -> Expr:
    return Or(*(eq(direction, d) for d in DIRECTIONS))


def clamp_score(raw: Expr, weight: Expr) -> Expr:
    """Round half-up to 2 decimals, then keep within [0, weight] as scoring.clamp(r2(...))
    does: max(0, min(weight, x)), so a (wrongly) negative weight gives 0."""
    return Max(Min(Round(raw, 2), weight), 0)


def over_achieved(direction: Expr, target: Expr, actual: Expr, threshold: Decimal) -> Expr:
    """Beyond the target by `threshold` % or more in the good direction (指标偏离).

    Compares actual × 100 with target × (100 ± threshold), both rounded to 4 places so a
    binary float cannot tip the comparison (exact for inputs with up to 2 decimals)."""
    a100 = Round(actual * 100, 4)
    return If(
        gt(target, 0),
        If(
            eq(direction, "反向"),
            le(a100, Round(target * (100 - threshold), 4)),
            If(
                Or(eq(direction, "正向"), eq(direction, "等于")),
                ge(a100, Round(target * (100 + threshold), 4)),
                False,
            ),
        ),
        False,
    )


def quantitative(
    direction: Expr,
    target: Expr,
    actual: Expr,
    weight: Expr,
    profile: Profile,
) -> Expr:
    """scoring.quantitative_score (+ the over-achievement deduction when the profile sets one)."""
    a = Max(actual, 0)  # a negative actual counts as 0
    t, w = target, weight
    forward = If(ge(a, t), w, If(le(t, 0), 0, a * w / t))
    if profile.options.inverse_variant == "A":
        inverse = If(le(a, t), w, If(le(t, 0), 0, t * w / a))
    else:  # B: (1 − (a − t) / t) × w = (2t − a) × w / t, 0 at a ≥ 2t
        inverse = If(le(a, t), w, If(le(t, 0), 0, (2 * t - a) * w / t))
    equal_zero = If(le(a, 0), w, 0)
    raw = If(
        eq(direction, "反向"),
        inverse,
        If(And(eq(direction, "等于"), eq(t, 0)), equal_zero, forward),
    )
    score = clamp_score(raw, w)
    oa = profile.options.over_achievement
    if oa.deduct > 0:
        over = over_achieved(direction, target, actual, oa.threshold)
        score = If(over, Round(score - Min(oa.deduct, score), 2), score)
    return score


def ratio(value: Expr, weight: Expr) -> Expr:
    """min(value %, 100 %) × weight (scoring.rate_score)."""
    return Round(Min(Max(value, 0), 100) * weight / 100, 2)


def execution_rate_for_score(profile: Profile) -> Expr:
    """The 执行率 the score is taken from: as printed (2 decimals) or exact."""
    if profile.options.score_from_rounded_rate:
        return RATE
    return EXECUTED * 100 / BUDGET


def penalty(rule: PenaltyRule, value: Expr, weight: Expr) -> Expr:
    beyond = value - rule.bound if rule.side == "over" else rule.bound - value
    return clamp_score(weight - Max(beyond, 0) * rule.per_point, weight)


def bands(rule: BandsRule, value: Expr, weight: Expr) -> Expr:
    chosen: Expr = Const(Decimal(0))
    for b in reversed(rule.bands):
        conds = []
        if b.min is not None:
            conds.append(ge(value, b.min))
        if b.max is not None:
            conds.append(le(value, b.max))
        cond: Expr = And(*conds) if conds else Const(True)
        chosen = If(cond, r2(b.score), chosen)
    return Min(chosen, weight)


def deduction(rule: DeductionRule, count: Expr, weight: Expr) -> Expr:
    return clamp_score(weight - Max(count, 0) * rule.per_item, weight)


def fixed_leaf_score(node: Node, profile: Profile) -> tuple[Expr, Expr] | None:
    """(inputs present, recomputed score) for a profile leaf's row; None when the score is
    judged (manual, qualitative) rather than computed."""
    rule = node.rule
    w = Const(node.weight if node.weight is not None else Decimal(0))
    actual = ROW["actual"]
    if isinstance(rule, RatioRule):
        return IsNumber(actual), ratio(actual, w)
    if isinstance(rule, PenaltyRule):
        return IsNumber(actual), penalty(rule, actual, w)
    if isinstance(rule, BandsRule):
        return IsNumber(actual), bands(rule, actual, w)
    if isinstance(rule, DeductionRule):
        return IsNumber(actual), deduction(rule, actual, w)
    if isinstance(rule, ExecutionRateRule):
        rate = If(HAS_RATE, execution_rate_for_score(profile), Round(actual, 2))
        return Or(HAS_RATE, IsNumber(actual)), ratio(rate, w)
    if isinstance(rule, QuantitativeRule):
        d: Expr = Const(rule.direction) if rule.direction else ROW["direction"]
        inputs = If(And(IsNumber(ROW["target"]), IsNumber(actual)), is_directional(d), False)
        return inputs, quantitative(d, ROW["target"], actual, w, profile)
    if isinstance(rule, QualitativeRule):
        return None
    return None  # manual


def in_qualitative_band(phrase: Expr, score: Expr, weight: Expr) -> Expr:
    """The stated score (rounded, kept within [0, weight]) lies in the phrase's band."""
    s = clamp_score(score, weight)
    out: Expr = Const(False)
    for text, (low, high, inclusive) in reversed(list(QUALITATIVE_BANDS.items())):
        lo, hi = Round(weight * low, 2), Round(weight * high, 2)
        inside = And(ge(s, lo), le(s, hi) if inclusive else lt(s, hi))
        out = If(eq(phrase, text), inside, out)
    return out


def band_bound(phrase: Expr, weight: Expr, which: int) -> Expr:
    """Low (0) or high (1) end of the phrase's band, for messages."""
    out: Expr = Const(Decimal(0))
    for text, band in reversed(list(QUALITATIVE_BANDS.items())):
        out = If(eq(phrase, text), Round(weight * band[which], 2), out)
    return out


def grade_of(profile: Profile, total: Expr) -> Expr:
    """profile.grade on the rounded total: the first band whose lower bound it reaches."""
    t = Round(total, 2)
    out: Expr = Const(profile.grades[-1].label)
    for g in reversed(profile.grades[:-1]):
        out = If(ge(t, g.min), g.label, out)
    return out
