"""The scoring engine: every official rule in Decimal with half-up rounding.

Leaf scores are rounded to 2 decimals first and then summed (as the printed table adds
up); caps and re-scaling act on the total; the grade is taken on the rounded total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import score_rules as S
from .decimal_math import HUNDRED, ZERO, r2
from .expr import Compiled, Const, Expr, Field, Values, compile_python
from .memo import by_identity
from .model import Filing, FundLine, Indicator
from .profile import (
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
from .score_rules import QUALITATIVE_BANDS

# ------------------------------------------------------------------ the declarations, compiled
#
# Every rule is evaluated from its declaration in perfxl.score_rules (the template's formulas
# are compiled from the same declarations). The inputs are bound to plain names here.

_D, _T, _A, _W, _S, _V = (Field(n) for n in ("d", "t", "a", "w", "s", "v"))
_COMPILED: dict[tuple[int, str], tuple[object, Compiled]] = {}


def _compiled(owner: object, key: str, build: Callable[[], Expr]) -> Compiled:
    """The compiled declaration `key` for `owner` (a profile, a rule or an option value)."""
    return by_identity(_COMPILED, 4096, (id(owner), key), owner, lambda: compile_python(build()))


def _run(f: Compiled, **values: object) -> Any:
    return f(Values(values))  # type: ignore[arg-type]


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


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage to 2 decimals (score_rules.percent_of); None for 0."""
    if whole == 0:
        return None
    return _run(_compiled(S, "percent", lambda: S.percent_of(_A, _T)), a=part, t=whole)


def execution_rate(line: FundLine) -> Decimal | None:
    """执行率 (%) = 执行数 / 全年预算数; None when the budget is 0 or missing (shown "—")."""
    if line.budget is None or line.executed is None:
        return None
    return percent(line.executed, line.budget)


def rate_score(rate: Decimal | None, weight: Decimal) -> Decimal | None:
    """min(rate, 100 %) × weight, rounded half-up: 99.85 % × 10 → 9.99."""
    if rate is None:
        return None
    return _run(_compiled(S, "ratio", lambda: S.ratio(_V, _W)), v=rate, w=weight)


def quantitative_score(
    direction: str, target: Decimal, actual: Decimal, weight: Decimal, variant: str = "A"
) -> Decimal:
    """Directional scoring of the national table (财预〔2020〕10号)."""
    if direction not in S.DIRECTIONS:
        raise ValueError(f"未知的指标性质「{direction}」")
    f = _compiled(
        variant,
        f"quantitative:{direction}",
        lambda: S.quantitative(Const(direction), _T, _A, _W, variant),
    )
    return _run(f, t=target, a=actual, w=weight)


def directional_score(
    profile: Profile, direction: str, target: Decimal, actual: Decimal, weight: Decimal
) -> Decimal:
    """A quantitative indicator's score under the profile, deviation deduction included."""
    f = _compiled(
        profile,
        f"directional:{direction}",
        lambda: S.directional(Const(direction), _T, _A, _W, profile),
    )
    return _run(f, t=target, a=actual, w=weight)


def is_over_achieved(direction: str, target: Decimal, actual: Decimal, threshold: Decimal) -> bool:
    """Beyond the target by more than `threshold` % in the good direction (指标偏离)."""
    f = _compiled(
        S,
        f"over:{direction}:{threshold}",
        lambda: S.over_achieved(Const(direction), _T, _A, threshold),
    )
    return bool(_run(f, t=target, a=actual))


def qualitative_band(phrase: str | None, weight: Decimal) -> tuple[Decimal, Decimal, bool] | None:
    band = QUALITATIVE_BANDS.get((phrase or "").strip())
    if band is None:
        return None
    low = _compiled(S, "band:0", lambda: S.band_bound(_S, _W, 0))
    high = _compiled(S, "band:1", lambda: S.band_bound(_S, _W, 1))
    text = (phrase or "").strip()
    return _run(low, s=text, w=weight), _run(high, s=text, w=weight), band[2]


def in_band(score: Decimal, band: tuple[Decimal, Decimal, bool]) -> bool:
    low, high, inclusive = band
    f = _compiled(S, f"within:{inclusive}", lambda: S.within_band(_S, _T, _A, inclusive))
    return bool(_run(f, s=score, t=low, a=high))


def penalty_score(rule: PenaltyRule, value: Decimal, weight: Decimal) -> Decimal:
    return _run(_compiled(rule, "penalty", lambda: S.penalty(rule, _V, _W)), v=value, w=weight)


def bands_score(rule: BandsRule, value: Decimal, weight: Decimal) -> Decimal:
    return _run(_compiled(rule, "bands", lambda: S.bands(rule, _V, _W)), v=value, w=weight)


def deduction_score(rule: DeductionRule, count: Decimal, weight: Decimal) -> Decimal:
    f = _compiled(rule, "deduction", lambda: S.deduction(rule, _V, _W))
    return _run(f, v=count, w=weight)


def judged_score(stated: Decimal, weight: Decimal) -> Decimal:
    return _run(_compiled(S, "judged", lambda: S.judged(_S, _W)), s=stated, w=weight)


def capped(profile: Profile, subtotal: Decimal, rate: Decimal | None) -> Decimal:
    f = _compiled(profile, "capped", lambda: S.capped_total(profile, _S, _V))
    return _run(f, s=subtotal, v=rate)


def grade(profile: Profile, total: Decimal) -> str:
    """The grade band of the rounded total."""
    return _run(_compiled(profile, "grade", lambda: S.grade_of(profile, _S)), s=total)


def group_grade(profile: Profile, score: Decimal, weight: Decimal) -> str:
    f = _compiled(profile, f"group_grade:{weight}", lambda: S.group_grade(profile, _S, weight))
    return _run(f, s=score)


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
        limited = capped(self.p, total, self.rate)
        if limited < r2(total):
            cap = limited
        total = limited
        if self.opts.group_grades:
            for n in nodes:
                if n.weight > 0:
                    n.grade = group_grade(self.p, n.score, n.weight)
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
            grade=grade(self.p, total),
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
                    judged_score(stated, weight),
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
                out.score = bands_score(rule, value, weight)
            else:
                out.score = deduction_score(rule, value, weight)
        elif isinstance(rule, ManualRule):
            out.basis = "判定"
            if out.stated is None:
                out.basis, out.note = "缺数", "未填报得分"
            else:
                out.score = judged_score(out.stated, weight)
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
                out.score = judged_score(out.stated, weight)
                out.note = "实际完成值不是三种定性评价用语之一"
            else:
                out.score = judged_score(out.stated, weight)
                if not in_band(out.score, out.band):
                    out.note = "判定得分不在评价用语对应的区间内"
            return
        if direction is None:
            out.basis, out.note = "缺数", "未填指标性质"
            return
        if ind.target is None or ind.actual is None:
            out.basis, out.note = "缺数", "年度指标值或实际完成值未填（或不是数字）"
            return
        if direction not in S.DIRECTIONS:
            raise ValueError(f"未知的指标性质「{direction}」")
        score = directional_score(self.p, direction, ind.target, ind.actual, weight)
        oa = self.opts.over_achievement
        if is_over_achieved(direction, ind.target, ind.actual, oa.threshold):
            out.over_achieved = True
            if oa.deduct > 0:
                self.deductions += (
                    quantitative_score(
                        direction, ind.target, ind.actual, weight, self.opts.inverse_variant
                    )
                    - score
                )
                out.note = f"超过目标 {oa.threshold}% 以上，按偏离扣 {oa.deduct} 分"
        out.score = score


def score(filing: Filing, profile: Profile) -> ScoreResult:
    """Recompute every score of a filing under a profile."""
    return _Scorer(profile, filing).run()
