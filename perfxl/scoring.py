"""The scoring engine: every official rule in Decimal with half-up rounding.

Leaf scores are rounded to 2 decimals first and then summed (as the printed table adds
up); caps and re-scaling act on the total; the grade is taken on the rounded total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .decimal_math import HUNDRED, ZERO, clamp, percent, r2
from .model import Filing, FundLine, Indicator
from .profile import (
    QUALITATIVE_PHRASES,
    BandsRule,
    DeductionRule,
    ExecutionRateRule,
    ManualRule,
    Node,
    PenaltyRule,
    Profile,
    QualitativeRule,
    QuantitativeRule,
    RatioRule,
)

# Qualitative bands as shares of the weight: (low, high, high inclusive?)
QUALITATIVE_BANDS: dict[str, tuple[Decimal, Decimal, bool]] = {
    QUALITATIVE_PHRASES[0]: (Decimal("0.8"), Decimal(1), True),
    QUALITATIVE_PHRASES[1]: (Decimal("0.6"), Decimal("0.8"), False),
    QUALITATIVE_PHRASES[2]: (Decimal(0), Decimal("0.6"), False),
}


@dataclass
class NodeScore:
    """A scored row of the table: a 一级/二级 subtotal or a 三级 indicator."""

    code: str
    name: str
    level: int
    weight: Decimal
    score: Decimal
    stated: Decimal | None = None
    basis: str = "计算"  # 计算 / 填报 / 填报（无明细）/ 判定 / 不适用 / 缺数
    note: str | None = None
    applicable: bool = True
    band: tuple[Decimal, Decimal, bool] | None = None  # qualitative band (low, high, high incl.)
    over_achieved: bool = False
    indicator: int | None = None  # index into filing.indicators
    grade: str | None = None
    children: list[NodeScore] = field(default_factory=list)

    def walk(self) -> list[NodeScore]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


@dataclass
class ScoreResult:
    profile: str
    execution_rate: Decimal | None  # 执行数 / 全年预算数, %, 2 decimals
    execution_rate_initial: Decimal | None  # 执行数 / 年初预算数
    subtotal: Decimal  # Σ rounded 一级 scores
    total: Decimal  # after re-scaling and caps
    grade: str
    rescaled: bool
    cap: Decimal | None  # the cap that lowered the total, if any
    deductions: Decimal
    nodes: list[NodeScore]
    stated_total: Decimal | None
    stated_grade: str | None

    def rows(self) -> list[NodeScore]:
        out: list[NodeScore] = []
        for n in self.nodes:
            out.extend(n.walk())
        return out

    def by_code(self) -> dict[str, NodeScore]:
        return {n.code: n for n in self.rows() if n.indicator is None}


# ------------------------------------------------------------------ leaf rules


def execution_rate(line: FundLine) -> Decimal | None:
    """执行率 (%) = 执行数 / 全年预算数; None when the budget is 0 or missing (shown "—")."""
    if line.budget is None or line.executed is None:
        return None
    return percent(line.executed, line.budget)


def rate_score(rate: Decimal | None, weight: Decimal) -> Decimal | None:
    """min(rate, 100 %) × weight, rounded half-up: 99.85 % × 10 → 9.99."""
    if rate is None:
        return None
    return r2(clamp(rate, ZERO, HUNDRED) * weight / HUNDRED)


def quantitative_score(
    direction: str, target: Decimal, actual: Decimal, weight: Decimal, variant: str = "A"
) -> Decimal:
    """Directional scoring of the national table (财预〔2020〕10号)."""
    a = max(actual, ZERO)
    t = target
    if direction == "等于" and t == 0:
        raw = weight if a <= 0 else ZERO
    elif direction in ("正向", "等于"):
        if a >= t:
            raw = weight
        elif t <= 0:
            raw = ZERO
        else:
            raw = a * weight / t  # multiply first: exact halves stay exact (0.71×3/6 = 0.355)
    elif direction == "反向":
        if a <= t:
            raw = weight
        elif t <= 0:
            raw = ZERO
        elif variant == "A":
            raw = t * weight / a
        else:
            raw = (2 * t - a) * weight / t  # = (1 − (a − t)/t) × w
    else:
        raise ValueError(f"未知的指标性质「{direction}」")
    return clamp(r2(raw), ZERO, weight)


def is_over_achieved(direction: str, target: Decimal, actual: Decimal, threshold: Decimal) -> bool:
    """Beyond the target by more than `threshold` % in the good direction (指标偏离)."""
    if target <= 0:
        return False
    share = threshold / HUNDRED
    if direction in ("正向", "等于"):
        return actual >= target * (1 + share)
    if direction == "反向":
        return actual <= target * (1 - share)
    return False


def qualitative_band(phrase: str | None, weight: Decimal) -> tuple[Decimal, Decimal, bool] | None:
    band = QUALITATIVE_BANDS.get((phrase or "").strip())
    if band is None:
        return None
    low, high, inclusive = band
    return r2(low * weight), r2(high * weight), inclusive


def in_band(score: Decimal, band: tuple[Decimal, Decimal, bool]) -> bool:
    low, high, inclusive = band
    return low <= score <= high if inclusive else low <= score < high


def penalty_score(rule: PenaltyRule, value: Decimal, weight: Decimal) -> Decimal:
    beyond = value - rule.bound if rule.side == "over" else rule.bound - value
    return clamp(r2(weight - max(beyond, ZERO) * rule.per_point), ZERO, weight)


def bands_score(rule: BandsRule, value: Decimal) -> Decimal:
    for b in rule.bands:
        if (b.min is None or value >= b.min) and (b.max is None or value <= b.max):
            return r2(b.score)
    return ZERO


def deduction_score(rule: DeductionRule, count: Decimal, weight: Decimal) -> Decimal:
    return clamp(r2(weight - max(count, ZERO) * rule.per_item), ZERO, weight)


# ------------------------------------------------------------------ the tree


class _Scorer:
    def __init__(self, profile: Profile, filing: Filing) -> None:
        self.p = profile
        self.f = filing
        self.opts = profile.options
        self.rate = execution_rate(filing.funds.total)
        self.by_code: dict[str, list[int]] = {}
        for i, ind in enumerate(filing.indicators):
            self.by_code.setdefault(ind.code, []).append(i)
        self.deductions = ZERO

    def run(self) -> ScoreResult:
        nodes = [self.node(n, 1) for n in self.p.indicators]
        for row in (x for n in nodes for x in n.walk()):
            row.score = r2(row.score)
        subtotal = sum((n.score for n in nodes), ZERO)
        total = subtotal
        leaves = [x for n in nodes for x in n.walk() if not x.children]
        rescaled = False
        if self.opts.rescale_not_applicable and any(not x.applicable for x in leaves):
            w = sum((x.weight for x in leaves if x.applicable), ZERO)
            s = sum((x.score for x in leaves if x.applicable), ZERO)
            total = r2(s / w * self.p.total) if w else ZERO
            rescaled = True
        cap = None
        if self.rate is not None:
            caps = [c.max_total for c in self.opts.execution_caps if self.rate < c.below]
            if caps and min(caps) < total:
                cap = min(caps)
                total = cap
        total = r2(total)
        if self.opts.group_grades:
            for n in nodes:
                if n.weight > 0:
                    n.grade = self.p.grade(r2(n.score / n.weight * self.p.total))
        t = self.f.funds.total
        initial_rate = (
            percent(t.executed, t.initial) if t.executed is not None and t.initial else None
        )
        return ScoreResult(
            profile=self.p.id,
            execution_rate=self.rate,
            execution_rate_initial=initial_rate,
            subtotal=subtotal,
            total=total,
            grade=self.p.grade(total),
            rescaled=rescaled,
            cap=cap,
            deductions=self.deductions,
            nodes=nodes,
            stated_total=self.f.total_score,
            stated_grade=self.f.grade,
        )

    def _has_detail(self, node: Node) -> bool:
        if (node.open or not node.children) and node.code in self.by_code:
            return True
        return any(self._has_detail(c) for c in node.children)

    def node(self, node: Node, level: int) -> NodeScore:
        stated = self.f.group_scores.get(node.code)
        if node.open:
            kids = [self.indicator(i, level + 1) for i in self.by_code.get(node.code, [])]
            return self._group(node, level, kids, stated)
        if node.children:
            if self.p.kind == "department" and not self._has_detail(node) and stated is not None:
                weight = node.weight if node.weight is not None else stated
                return NodeScore(
                    node.code,
                    node.name,
                    level,
                    weight,
                    clamp(r2(stated), ZERO, weight),
                    stated=stated,
                    basis="填报（无明细）",
                    note="未填报下级指标明细，按填报的本级得分计分",
                )
            kids = [self.node(c, level + 1) for c in node.children]
            return self._group(node, level, kids, stated)
        return self.fixed_leaf(node, level)

    def _group(
        self, node: Node, level: int, kids: list[NodeScore], stated: Decimal | None
    ) -> NodeScore:
        weight = node.weight if node.weight is not None else sum((k.weight for k in kids), ZERO)
        score = sum((k.score for k in kids), ZERO)
        return NodeScore(node.code, node.name, level, weight, score, stated=stated, children=kids)

    def fixed_leaf(self, node: Node, level: int) -> NodeScore:
        idx = self.by_code.get(node.code, [None])[0]
        ind = self.f.indicators[idx] if idx is not None else None
        weight = node.weight if node.weight is not None else ZERO
        out = NodeScore(node.code, node.name, level, weight, ZERO, indicator=None)
        out.stated = ind.score if ind is not None else None
        if out.stated is None and node.code in self.f.group_scores:
            out.stated = self.f.group_scores[node.code]
        if ind is not None and not ind.applicable:
            out.applicable, out.basis, out.note = False, "不适用", "单位填报本项不适用"
            return out
        self._apply(node.rule, out, ind, weight)
        return out

    def _apply(self, rule: object, out: NodeScore, ind: Indicator | None, weight: Decimal) -> None:
        value = ind.actual if ind is not None else None
        if isinstance(rule, ExecutionRateRule):
            if out.stated is None and self.p.kind == "project":
                out.stated = self.f.funds.total.score
            rate = self.rate
            if rate is None and value is not None:
                rate = r2(value)
            if not self.opts.score_from_rounded_rate and self.rate is not None:
                t = self.f.funds.total
                assert t.budget and t.executed is not None
                rate = t.executed * HUNDRED / t.budget
            score = rate_score(rate, weight)
            if score is None:
                out.basis, out.note = "缺数", "全年预算数为 0 或未填，无执行率，本项不得分"
                out.applicable = not self.opts.rescale_not_applicable
            else:
                out.score = score
        elif isinstance(rule, RatioRule | PenaltyRule | BandsRule | DeductionRule):
            if value is None:
                out.basis, out.note = "缺数", "未填报实际值，本项不得分"
                return
            if isinstance(rule, RatioRule):
                out.score = rate_score(value, weight) or ZERO
            elif isinstance(rule, PenaltyRule):
                out.score = penalty_score(rule, value, weight)
            elif isinstance(rule, BandsRule):
                out.score = min(bands_score(rule, value), weight)
            else:
                out.score = deduction_score(rule, value, weight)
        elif isinstance(rule, ManualRule):
            out.basis = "判定"
            if out.stated is None:
                out.basis, out.note = "缺数", "未填报得分"
            else:
                out.score = clamp(r2(out.stated), ZERO, weight)
        elif isinstance(rule, QuantitativeRule | QualitativeRule):
            # a fixed node scored like a unit-defined indicator
            if ind is None:
                out.basis, out.note = "缺数", "未填报"
                return
            direction = (
                rule.direction
                if isinstance(rule, QuantitativeRule) and rule.direction
                else ind.direction
            )
            if isinstance(rule, QualitativeRule):
                direction = "定性"
            self._directional(out, ind, direction, weight)

    def indicator(self, idx: int, level: int) -> NodeScore:
        ind = self.f.indicators[idx]
        weight = ind.weight if ind.weight is not None else ZERO
        out = NodeScore(
            f"{ind.code}#{idx}",
            ind.name or "",
            level,
            weight,
            ZERO,
            stated=ind.score,
            indicator=idx,
        )
        if not ind.applicable:
            out.applicable, out.basis, out.note = False, "不适用", "单位填报本项不适用"
            return out
        self._directional(out, ind, ind.direction, weight)
        return out

    def _directional(
        self, out: NodeScore, ind: Indicator, direction: str | None, weight: Decimal
    ) -> None:
        if direction == "定性":
            out.basis = "判定"
            out.band = qualitative_band(ind.actual_text, weight)
            if out.stated is None:
                out.basis, out.note = "缺数", "定性指标未填报得分"
            elif out.band is None:
                out.score = clamp(r2(out.stated), ZERO, weight)
                out.note = "实际完成值不是三种定性评价用语之一"
            else:
                out.score = clamp(r2(out.stated), ZERO, weight)
                if not in_band(out.score, out.band):
                    out.note = "判定得分不在评价用语对应的区间内"
            return
        if direction is None:
            out.basis, out.note = "缺数", "未填指标性质"
            return
        if ind.target is None or ind.actual is None:
            out.basis, out.note = "缺数", "年度指标值或实际完成值未填（或不是数字）"
            return
        score = quantitative_score(
            direction, ind.target, ind.actual, weight, self.opts.inverse_variant
        )
        oa = self.opts.over_achievement
        if is_over_achieved(direction, ind.target, ind.actual, oa.threshold):
            out.over_achieved = True
            if oa.deduct > 0:
                cut = min(oa.deduct, score)
                score -= cut
                self.deductions += cut
                out.note = f"超过目标 {oa.threshold}% 以上，按偏离扣 {oa.deduct} 分"
        out.score = score


def score(filing: Filing, profile: Profile) -> ScoreResult:
    """Recompute every score of a filing under a profile."""
    return _Scorer(profile, filing).run()
