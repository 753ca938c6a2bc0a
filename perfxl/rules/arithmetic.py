"""计算: sums, rates and scores stated in the table equal what they are computed from."""

from __future__ import annotations

from decimal import Decimal

from ..decimal_math import fmt2
from ..expr import (
    And,
    Column,
    Const,
    CountWhere,
    Expr,
    Field,
    Filled,
    If,
    IsNumber,
    Min,
    Not,
    Or,
    Round,
    Scalar,
    Sum,
    SumIf,
    eq,
    ge,
    gt,
    le,
    lt,
)
from ..findings import Scope, Severity
from ..model import Filing
from ..profile import QUALITATIVE_PHRASES, ExecutionRateRule, Node, Profile
from ..score_rules import (
    band_bound,
    directional,
    execution_rate_for_score,
    fixed_leaf_score,
    grade_of,
    in_qualitative_band,
    is_directional,
    ratio,
)
from ..scoring import ScoreResult
from .base import Formula, Rule
from .common import (
    APPLICABLE,
    BUDGET,
    FUND_COLUMNS,
    GRADE,
    HAS_RATE,
    RATE,
    ROW,
    STATED_EXEC_SCORE,
    STATED_RATE,
    TOTAL,
    execution_node,
    fixed_leaves,
    open_codes,
    open_descendants,
)

B, W = Severity.BLOCKING, Severity.WARNING
CODES = Column("indicators.*.code")
SCORES = Column("indicators.*.score")
WEIGHTS = Column("indicators.*.weight")


def _gs(code: str) -> Field:
    return Field(f"group_scores.{code}")


def _node_label(node: Node) -> str:
    return f"「{node.name}」"


# ------------------------------------------------------------------------ funds


def _fund_sum(profile: Profile) -> list[Formula]:
    out = []
    for col, label in FUND_COLUMNS.items():
        total = Field(f"funds.total.{col}")
        parts = [Field(f"funds.{line}.{col}") for line in ("fiscal", "carryover", "other")]
        parts_sum = Round(Sum(*parts), 2)
        out.append(
            Formula(
                f"funds.total.{col}",
                And(IsNumber(total), Or(*(IsNumber(p) for p in parts))),
                eq(Round(total, 2), parts_sum),
                f"年度资金总额的{label} {{actual}} 与其中各项（当年财政拨款、上年结转资金、"
                f"其他资金）合计 {{expected}} 不等",
                f"年度资金总额的{label}应等于其中各项之和",
                expected=parts_sum,
                actual=total,
            )
        )
    return out


def _exec_rate(profile: Profile) -> list[Formula]:
    return [
        Formula(
            "funds.total.rate",
            If(HAS_RATE, IsNumber(STATED_RATE), False),
            eq(Round(STATED_RATE, 2), RATE),
            "执行率填报 {actual}%，按 全年执行数 ÷ 全年预算数 应为 {expected}%",
            "执行率应等于 全年执行数 ÷ 全年预算数（保留两位小数）",
            expected=RATE,
            actual=STATED_RATE,
        ),
        Formula(
            "funds.total.rate",
            If(IsNumber(BUDGET), eq(BUDGET, 0), False),
            Not(IsNumber(STATED_RATE)),
            "全年预算数为 0，没有执行率，执行率栏应为空或“—”，填报为 {actual}",
            "全年预算数为 0 时执行率栏应为空或“—”",
            actual=STATED_RATE,
        ),
    ]


def _exec_score(profile: Profile) -> list[Formula]:
    node = execution_node(profile)
    assert node is not None and node.weight is not None
    w = Const(node.weight)
    s = STATED_EXEC_SCORE
    expected = ratio(execution_rate_for_score(profile), w)
    return [
        Formula(
            "funds.total.score",
            If(IsNumber(s), HAS_RATE, False),
            eq(Round(s, 2), expected),
            f"预算执行率得分填报 {{actual}}，按 min(执行率, 100%) × {node.weight} 应为 {{expected}}",
            f"预算执行率得分应为 min(执行率, 100%) × {node.weight}",
            expected=expected,
            actual=s,
        ),
        Formula(
            "funds.total.score",
            If(And(IsNumber(s), IsNumber(BUDGET)), eq(BUDGET, 0), False),
            eq(Round(s, 2), 0),
            "全年预算数为 0，没有执行率，预算执行率得分应为 0，填报为 {actual}",
            "全年预算数为 0 时预算执行率得分为 0",
            expected=Const(Decimal(0)),
            actual=s,
        ),
    ]


def _has_project_execution(p: Profile) -> bool:
    return p.kind == "project" and execution_node(p) is not None


# ------------------------------------------------------------------ indicator scores


def _ind_score(profile: Profile) -> list[Formula]:
    s = ROW["score"]
    out = []
    codes = open_codes(profile)
    if codes:
        d, t, a, w = ROW["direction"], ROW["target"], ROW["actual"], ROW["weight"]
        expected = directional(d, t, a, w, profile)
        out.append(
            Formula(
                "row.score",
                If(
                    And(IsNumber(s), IsNumber(w), IsNumber(t), IsNumber(a), APPLICABLE),
                    is_directional(d),
                    False,
                ),
                eq(Round(s, 2), expected),
                "{row}得分填报 {actual}，按评分规则（{direction}）复算为 {expected}",
                "定量指标得分应等于按指标性质复算的得分",
                expected=expected,
                actual=s,
                extras=(("direction", d),),
                per_row="indicator",
                codes=codes,
            )
        )
    for node in fixed_leaves(profile):
        if profile.kind == "project" and isinstance(node.rule, ExecutionRateRule):
            continue  # the funds row, see ARITH-EXEC-SCORE
        spec = fixed_leaf_score(node, profile)
        if spec is None:
            continue
        inputs, expected = spec
        out.append(
            Formula(
                "row.score",
                If(And(IsNumber(s), APPLICABLE), inputs, False),
                eq(Round(s, 2), expected),
                f"{{row}}得分填报 {{actual}}，按「{node.name}」的评分规则复算为 {{expected}}",
                f"「{node.name}」的得分应等于按评分规则复算的得分",
                expected=expected,
                actual=s,
                per_row="indicator",
                codes=(node.code,),
            )
        )
    return out


def _qual_band(profile: Profile) -> list[Formula]:
    s, w, d, text = ROW["score"], ROW["weight"], ROW["direction"], ROW["actual_text"]
    known = Or(*(eq(text, p) for p in QUALITATIVE_PHRASES))
    return [
        Formula(
            "row.score",
            If(And(IsNumber(s), IsNumber(w), APPLICABLE), And(eq(d, "定性"), known), False),
            in_qualitative_band(text, s, w),
            "{row}评价为「{phrase}」，得分应在 {low}～{high} 之间"
            "（“达成年度指标”含上限，其余不含上限），填报 {actual}",
            "定性指标的得分应在评价用语对应的区间内",
            actual=s,
            extras=(
                ("phrase", text),
                ("low", band_bound(text, w, 0)),
                ("high", band_bound(text, w, 1)),
            ),
            per_row="indicator",
        )
    ]


def _group_max(node: Node) -> tuple[Expr, Expr] | None:
    """(applies, maximum) of a subtotal: the 三级 weights the unit gave it, when it has
    its own 三级 and filled their weights; else the profile weight."""
    codes = open_descendants(node)
    if codes:
        entered = Or(*(gt(CountWhere(CODES, Const(c), WEIGHTS), 0) for c in codes))
        unit_sum = Round(Sum(*(SumIf(CODES, c, WEIGHTS) for c in codes)), 2)
        if node.weight is None:
            return entered, unit_sum
        return Const(True), If(entered, unit_sum, Round(Const(node.weight), 2))
    if node.weight is None:
        return None
    return Const(True), Round(Const(node.weight), 2)


def _score_range(profile: Profile) -> list[Formula]:
    s, w = ROW["score"], ROW["weight"]
    out = [
        Formula(
            "row.score",
            And(IsNumber(s), IsNumber(w)),
            And(ge(Round(s, 2), 0), le(Round(s, 2), Round(w, 2))),
            "{row}得分 {actual} 超出 0～{expected} 的范围（不能为负，也不能超过分值）",
            "指标得分应在 0 与分值之间",
            expected=w,
            actual=s,
            per_row="indicator",
        ),
        Formula(
            "total_score",
            IsNumber(TOTAL),
            And(ge(Round(TOTAL, 2), 0), le(Round(TOTAL, 2), profile.total)),
            f"总分 {{actual}} 超出 0～{profile.total} 的范围",
            f"总分应在 0～{profile.total} 之间",
            expected=Const(profile.total),
            actual=TOTAL,
        ),
    ]
    node = execution_node(profile)
    if _has_project_execution(profile) and node is not None and node.weight is not None:
        out.append(
            Formula(
                "funds.total.score",
                IsNumber(STATED_EXEC_SCORE),
                And(
                    ge(Round(STATED_EXEC_SCORE, 2), 0),
                    le(Round(STATED_EXEC_SCORE, 2), node.weight),
                ),
                f"预算执行率得分 {{actual}} 超出 0～{node.weight} 的范围",
                f"预算执行率得分应在 0～{node.weight} 之间",
                expected=Const(node.weight),
                actual=STATED_EXEC_SCORE,
            )
        )
    for _, n in profile.walk():
        if not n.children and not n.open:
            continue
        spec = _group_max(n)
        if spec is None:
            continue
        applies, maximum = spec
        gs = _gs(n.code)
        out.append(
            Formula(
                f"group_scores.{n.code}",
                If(IsNumber(gs), applies, False),
                And(ge(Round(gs, 2), 0), le(Round(gs, 2), maximum)),
                f"{_node_label(n)}得分 {{actual}} 超出 0～{{expected}} 的范围",
                f"{_node_label(n)}得分应在 0 与其分值之间",
                expected=maximum,
                actual=gs,
            )
        )
    return out


# ---------------------------------------------------------------------------- weights


def _weight_groups(profile: Profile) -> list[Formula]:
    out = []
    for top in profile.indicators:
        codes = open_descendants(top)
        if not codes or top.weight is None:
            continue
        entered = Or(*(gt(CountWhere(CODES, Const(c), WEIGHTS), 0) for c in codes))
        total = Round(Sum(*(SumIf(CODES, c, WEIGHTS) for c in codes)), 2)
        out.append(
            Formula(
                f"group_scores.{top.code}",
                entered,
                eq(total, Round(Const(top.weight), 2)),
                f"{_node_label(top)}下三级指标分值合计 {{actual}}，与一级指标分值 {top.weight} 不等",
                f"{_node_label(top)}下三级指标分值合计应为 {top.weight}（调整时须说明）",
                expected=Const(top.weight),
                actual=total,
                explained=Filled(Field(f"group_remarks.{top.code}")),
            )
        )
    return out


def _weight_total(profile: Profile) -> list[Formula]:
    codes = open_codes(profile)
    fixed = sum((n.weight or Decimal(0) for n in fixed_leaves(profile)), Decimal(0))
    entered = Or(*(gt(CountWhere(CODES, Const(c), WEIGHTS), 0) for c in codes))
    total = Round(Sum(*(SumIf(CODES, c, WEIGHTS) for c in codes), fixed), 2)
    return [
        Formula(
            "indicators",
            entered,
            eq(total, Round(Const(profile.total), 2)),
            f"全部指标分值合计 {{actual}}（含固定指标 {fmt2(fixed)} 分），应为总分 {profile.total}",
            f"全部指标分值合计应为 {profile.total}",
            expected=Const(profile.total),
            actual=total,
        )
    ]


def _weight_fixed(profile: Profile) -> list[Formula]:
    w = ROW["weight"]
    out = []
    for node in fixed_leaves(profile):
        if node.weight is None:
            continue
        if profile.kind == "project" and isinstance(node.rule, ExecutionRateRule):
            continue
        out.append(
            Formula(
                "row.weight",
                IsNumber(w),
                eq(Round(w, 2), Round(Const(node.weight), 2)),
                f"{{row}}分值填报 {{actual}}，评价框架规定为 {node.weight}",
                f"「{node.name}」的分值应为 {node.weight}",
                expected=Const(node.weight),
                actual=w,
                per_row="indicator",
                codes=(node.code,),
            )
        )
    return out


# ------------------------------------------------------------------------ subtotals


def _term(node: Node, profile: Profile) -> tuple[Expr, Expr]:
    """(value, present) of a row of the table as its parent adds it up: the stated
    subtotal when there is one, else the sum of its own children."""
    gs = _gs(node.code)
    if node.open:
        rows = SumIf(CODES, node.code, SCORES)
        present = gt(CountWhere(CODES, Const(node.code), SCORES), 0)
        return If(IsNumber(gs), gs, rows), Or(IsNumber(gs), present)
    if not node.children:
        if profile.kind == "project" and isinstance(node.rule, ExecutionRateRule):
            return STATED_EXEC_SCORE, IsNumber(STATED_EXEC_SCORE)
        rows = SumIf(CODES, node.code, SCORES)
        return rows, gt(CountWhere(CODES, Const(node.code), SCORES), 0)
    kids = [_term(c, profile) for c in node.children]
    total = Sum(*(v for v, _ in kids))
    return If(IsNumber(gs), gs, total), Or(IsNumber(gs), *(p for _, p in kids))


def _children_sum(node: Node, profile: Profile) -> tuple[Expr, Expr]:
    """(Σ children, any child present) of a node that has children or its own 三级."""
    if node.open:
        return (
            SumIf(CODES, node.code, SCORES),
            gt(CountWhere(CODES, Const(node.code), SCORES), 0),
        )
    if not node.children:  # a leaf stated twice: as a subtotal and in its own row
        v, p = _term(node, profile)
        return v, p
    kids = [_term(c, profile) for c in node.children]
    return Sum(*(v for v, _ in kids)), Or(*(p for _, p in kids))


def _group_sum(profile: Profile) -> list[Formula]:
    out = []
    for _, node in profile.walk():
        gs = _gs(node.code)
        total, present = _children_sum(node, profile)
        what = "其下级指标得分合计" if (node.children or node.open) else "本指标明细行的得分"
        out.append(
            Formula(
                f"group_scores.{node.code}",
                If(IsNumber(gs), present, False),
                eq(Round(gs, 2), Round(total, 2)),
                f"{_node_label(node)}得分填报 {{actual}}，{what}为 {{expected}}",
                f"{_node_label(node)}得分应等于{what}",
                expected=Round(total, 2),
                actual=gs,
            )
        )
    return out


# ---------------------------------------------------------------------- total, grade


RECOMPUTED_TOTAL = Field("pf_total_recomputed")  # the 复算总分 cell beside the stated 总分


def recomputed_cells(filing: Filing, profile: Profile, result: ScoreResult) -> dict[str, Scalar]:
    """What the template's 复算总分 shows for `filing`: the engine's total, blank while the
    inputs it is computed from hold no number (perfxl.workbook.formulas: unless_empty)."""

    def num(v: object) -> bool:
        return isinstance(v, Decimal | int) and not isinstance(v, bool)

    typed = {p for p, s in filing.sources.items() if s.text is not None}
    t = filing.funds.total
    values = [
        v for p, v in (("funds.total.budget", t.budget), ("funds.total.executed", t.executed))
        if p not in typed
    ]  # fmt: skip
    keys = (
        ("target", "actual", "weight", "score")
        if profile.kind == "project"
        else ("actual", "score")
    )
    for i, ind in enumerate(filing.indicators):
        values += [getattr(ind, k) for k in keys if f"indicators.{i}.{k}" not in typed]
    if profile.kind != "project":
        values += [
            filing.group_scores.get(top.code)
            for top in profile.indicators
            if f"group_scores.{top.code}" not in typed
        ]
    from .crosstable import count_cells

    return {
        "pf_total_recomputed": result.total if any(num(v) for v in values) else None,
        **count_cells(filing, profile, result),
    }


def _total(profile: Profile) -> list[Formula]:
    t = Round(TOTAL, 2)
    held: Expr = eq(t, RECOMPUTED_TOTAL)
    if profile.options.execution_caps:  # a total over its cap is ARITH-EXEC-CAP's finding
        caps = profile.options.execution_caps
        over = If(
            HAS_RATE,
            Not(And(*(If(lt(RATE, c.below), le(t, c.max_total), True) for c in caps))),
            False,
        )
        held = Or(held, over)
    return [
        Formula(
            "total_score",
            And(IsNumber(TOTAL), IsNumber(RECOMPUTED_TOTAL)),
            held,
            "总分填报 {actual}，按各项复算为 {expected}",
            "总分应等于复算总分（各项四舍五入后相加，含折算、封顶）",
            expected=RECOMPUTED_TOTAL,
            actual=TOTAL,
        )
    ]


def _grade(profile: Profile) -> list[Formula]:
    expected = grade_of(profile, TOTAL)
    bands = "、".join(f"{g.label} ≥ {g.min}" for g in profile.grades[:-1])
    return [
        Formula(
            "grade",
            And(IsNumber(TOTAL), Filled(GRADE)),
            eq(GRADE, expected),
            f"评价等级填报「{{actual}}」，总分 {{total}} 对应的等级为「{{expected}}」（{bands}）",
            f"评价等级应与总分对应（{bands}）",
            expected=expected,
            actual=GRADE,
            extras=(("total", TOTAL),),
        )
    ]


def _cap(profile: Profile) -> list[Formula]:
    caps = profile.options.execution_caps
    t = Round(TOTAL, 2)
    allowed = Min(*(If(lt(RATE, c.below), c.max_total, profile.total) for c in caps))
    text = "；".join(f"执行率低于 {c.below}% 时不超过 {c.max_total}" for c in caps)
    return [
        Formula(
            "total_score",
            If(IsNumber(TOTAL), HAS_RATE, False),
            And(*(If(lt(RATE, c.below), le(t, c.max_total), True) for c in caps)),
            f"预算执行率 {{rate}}%，总分最高 {{expected}}，填报总分 {{actual}}（{text}）",
            f"总分受执行率封顶：{text}",
            expected=allowed,
            actual=TOTAL,
            extras=(("rate", RATE),),
        )
    ]


RULES = [
    Rule(
        "ARITH-FUND-SUM",
        B,
        Scope.TABLE,
        "年度资金总额 = 当年财政拨款 + 上年结转资金 + 其他资金（年初预算数、全年预算数、全年执行数各列）",
        "全部（填了“其中”各项时）",
        formulas=_fund_sum,
    ),
    Rule(
        "ARITH-EXEC-RATE",
        B,
        Scope.TABLE,
        "执行率 = 全年执行数 ÷ 全年预算数（两位小数）；预算为 0 时执行率栏为空或“—”；项目支出表填报的执行率与右侧复算执行率一致",
        "全部",
        formulas=_exec_rate,
    ),
    Rule(
        "ARITH-EXEC-SCORE",
        B,
        Scope.TABLE,
        "预算执行率得分 = min(执行率, 100%) × 分值（四舍五入两位小数）；填报的得分与右侧复算得分一致",
        "项目支出",
        kinds=("project",),
        enabled=_has_project_execution,
        formulas=_exec_score,
    ),
    Rule(
        "ARITH-IND-SCORE",
        B,
        Scope.TABLE,
        "计算得出的得分（定量、比率、超限扣分、分档、按次扣分、执行率）等于复算值",
        "全部",
        formulas=_ind_score,
    ),
    Rule(
        "ARITH-QUAL-BAND",
        B,
        Scope.TABLE,
        "定性指标得分在评价用语对应的区间内",
        "全部",
        formulas=_qual_band,
    ),
    Rule(
        "ARITH-SCORE-RANGE",
        B,
        Scope.TABLE,
        "各项得分不为负、不超过分值；总分不超过满分",
        "全部",
        formulas=_score_range,
    ),
    Rule(
        "ARITH-WEIGHT-GROUP",
        W,
        Scope.TABLE,
        "一级指标下单位自设的三级指标分值合计等于一级指标分值（调整时须说明）",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        formulas=_weight_groups,
    ),
    Rule(
        "ARITH-WEIGHT-TOTAL",
        B,
        Scope.TABLE,
        "全部指标分值合计等于总分",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        formulas=_weight_total,
    ),
    Rule(
        "ARITH-WEIGHT-FIXED",
        B,
        Scope.TABLE,
        "评价框架规定的指标，填报的分值等于规定分值",
        "有固定三级指标的框架（部门整体）",
        enabled=lambda p: bool(_weight_fixed(p)),
        formulas=_weight_fixed,
    ),
    Rule(
        "ARITH-GROUP-SUM",
        B,
        Scope.TABLE,
        "一级、二级指标得分等于其下级指标得分之和",
        "全部（填了下级指标时）",
        formulas=_group_sum,
    ),
    Rule(
        "ARITH-TOTAL",
        B,
        Scope.TABLE,
        "总分等于复算总分（各项四舍五入后相加，含折算、封顶）",
        "全部",
        formulas=_total,
    ),
    Rule(
        "ARITH-GRADE",
        B,
        Scope.TABLE,
        "评价等级与总分对应",
        "全部",
        formulas=_grade,
    ),
    Rule(
        "ARITH-EXEC-CAP",
        B,
        Scope.TABLE,
        "总分不超过执行率对应的封顶分",
        "设置了选项 execution_caps",
        enabled=lambda p: bool(p.options.execution_caps),
        formulas=_cap,
    ),
]
