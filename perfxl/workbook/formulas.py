"""Excel formula text for the live cells of a template, generated from the profile.

The profile is the one source of truth: weights, rules, caps and grade bands become
constants in these formulas, and each formula mirrors perfxl.scoring step by step (the same
order of operations, rounding half-up to 2 decimals where the engine calls r2), so a
recalculating office suite shows what `perfxl score` computes.

Only functions that Excel 2010, WPS, LibreOffice 7.4 and the `formulas` package all know
are used (WHITELIST); `functions_in` lets tests and the builder enforce that.
Division never reaches a zero divisor: every quotient sits behind an IF that tests it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..decimal_math import r2
from ..profile import (
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
from ..scoring import QUALITATIVE_BANDS, in_band, qualitative_band, rate_score
from .layout import Block, Layout, code_name

if TYPE_CHECKING:
    from .write import Ctx

WHITELIST = frozenset(
    "SUM ROUND MIN MAX IF IFERROR AND OR NOT ABS ISNUMBER ISBLANK LEN COUNT COUNTA COUNTIF "
    "SUMIF SUMPRODUCT INDEX MATCH VLOOKUP TEXT".split()
)
ALSO_ALLOWED = frozenset({"HYPERLINK"})  # allowed for 审核 links (written as cell links today)

_STRING = re.compile(r'"(?:[^"]|"")*"')
_QUOTED_SHEET = re.compile(r"'(?:[^']|'')*'")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")


def functions_in(formula: str) -> set[str]:
    """Names of the functions a formula calls (string literals and sheet names ignored)."""
    text = _QUOTED_SHEET.sub("S", _STRING.sub('""', formula))
    return {m.group(1).upper() for m in _CALL.finditer(text)}


class FormulaError(ValueError):
    """A generated formula calls a function outside the whitelist."""


def checked(formula: str) -> str:
    bad = functions_in(formula) - WHITELIST - ALSO_ALLOWED
    if bad:
        raise FormulaError(f"formula uses {sorted(bad)} outside the whitelist: {formula}")
    return formula


def lit(value: Decimal | int) -> str:
    """A number literal without exponent: Decimal('2.50') → 2.5, Decimal('1E+1') → 10."""
    text = format(Decimal(value).normalize(), "f")
    return text if text != "-0" else "0"


def text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def num_or_zero(ref: str) -> str:
    return f"IF(ISNUMBER({ref}),{ref},0)"


def clamp2(raw: str, weight: str) -> str:
    """clamp(r2(raw), 0, weight), as scoring does for every leaf."""
    return f"MIN(MAX(ROUND({raw},2),0),{weight})"


# ------------------------------------------------------------------ rates


def rate(budget: str, executed: str) -> str:
    """执行率 % to 2 decimals; "—" when the budget is 0, "" while an input is blank."""
    return (
        f'IF(OR(NOT(ISNUMBER({budget})),NOT(ISNUMBER({executed}))),"",'
        f'IF({budget}=0,"—",ROUND({executed}*100/{budget},2)))'
    )


def rate_points(rate_expr: str, weight: str) -> str:
    """min(rate, 100 %) × weight, rounded (scoring.rate_score)."""
    return f"ROUND(MIN(MAX({rate_expr},0),100)*{weight}/100,2)"


def execution_score(
    profile: Profile, rate_ref: str, budget: str, executed: str, weight: str, fallback: str = ""
) -> str:
    """Score of the execution-rate indicator; `fallback` is a cell holding a stated rate
    (the department row's 实际值), used by the engine only when funds give no rate."""
    exact = f"{executed}*100/{budget}"
    shown = rate_ref if profile.options.score_from_rounded_rate else exact
    other = '""'
    if fallback:
        other = f'IF(ISNUMBER({fallback}),{rate_points(f"ROUND({fallback},2)", weight)},"")'
    return f"IF(ISNUMBER({rate_ref}),{rate_points(shown, weight)},{other})"


# ------------------------------------------------------------------ project rows


def _over(direction: str, target: str, actual: str, threshold: Decimal) -> str:
    """scoring.is_over_achieved, with float noise rounded away before comparing."""
    if direction == "反向":
        diff = f"{target}*{lit(100 - threshold)}-{actual}*100"
    else:
        diff = f"{actual}*100-{target}*{lit(100 + threshold)}"
    return f"AND({target}>0,ROUND({diff},6)>=0)"


def directional(profile: Profile, d: str, t: str, a: str, s: str, w: str) -> str:
    """Score of a unit-defined indicator by 指标性质 (scoring._directional + quantitative_score).

    d, t, a, s: references to direction, target, actual and stated score; w: weight expression.
    """
    pos_a = f"MAX({a},0)"
    # multiply before dividing, as scoring does: exact halves stay exact (0.71×3/6 = 0.355)
    pos = f"IF({pos_a}>={t},{w},IF({t}<=0,0,{pos_a}*{w}/{t}))"
    if profile.options.inverse_variant == "A":
        inv = f"{t}*{w}/{pos_a}"
    else:
        inv = f"(2*{t}-{pos_a})*{w}/{t}"  # = (1 − (a − t)/t) × w
    neg = f"IF({pos_a}<={t},{w},IF({t}<=0,0,{inv}))"
    equal = f"IF({t}=0,IF({pos_a}<=0,{w},0),{pos})"
    branches = {"正向": clamp2(pos, w), "等于": clamp2(equal, w), "反向": clamp2(neg, w)}
    oa = profile.options.over_achievement
    if oa.deduct > 0:
        for key, score in branches.items():
            over = _over(key, t, a, oa.threshold)
            branches[key] = f"IF({over},MAX({score}-{lit(oa.deduct)},0),{score})"
    quantitative = (
        f'IF({d}="正向",{branches["正向"]},IF({d}="等于",{branches["等于"]},'
        f'IF({d}="反向",{branches["反向"]},0)))'
    )
    return (
        f'IF({d}="定性",IF(ISNUMBER({s}),{clamp2(s, w)},0),'
        f"IF(OR(NOT(ISNUMBER({t})),NOT(ISNUMBER({a}))),0,{quantitative}))"
    )


def project_row(profile: Profile, r: int) -> str:
    """复算得分 of a 三级 row of the project table (columns of layout.PROJECT_COLUMNS)."""
    body = directional(profile, f"$D{r}", f"$F{r}", f"$G{r}", f"$I{r}", num_or_zero(f"$H{r}"))
    return f'IF(COUNTA($C{r}:$J{r})=0,"",{body})'


# ------------------------------------------------------------------ department leaves


def _bands(rule: BandsRule, value: str, weight: Decimal) -> str:
    out = "0"
    for band in reversed(rule.bands):
        conds = []
        if band.min is not None:
            conds.append(f"{value}>={lit(band.min)}")
        if band.max is not None:
            conds.append(f"{value}<={lit(band.max)}")
        points = lit(min(r2(band.score), weight))
        if not conds:
            out = points
        else:
            cond = conds[0] if len(conds) == 1 else f"AND({','.join(conds)})"
            out = f"IF({cond},{points},{out})"
    return out


def dept_leaf(
    profile: Profile, node: Node, r: int, funds: tuple[str, str, str], inputs: str
) -> str:
    """复算得分 of a department leaf in row r (F 实际值, G 自评得分); funds = refs of
    (rate, budget, executed); inputs = the row's input range (blank row → "")."""
    rule = node.rule
    w = lit(node.weight or 0)
    value, stated = f"$F{r}", f"$G{r}"
    if isinstance(rule, ExecutionRateRule):
        return execution_score(profile, *funds, w, fallback=value)
    if isinstance(rule, RatioRule):
        body = rate_points(value, w)
    elif isinstance(rule, PenaltyRule):
        beyond = (
            f"{value}-{lit(rule.bound)}" if rule.side == "over" else f"{lit(rule.bound)}-{value}"
        )
        body = clamp2(f"{w}-MAX({beyond},0)*{lit(rule.per_point)}", w)
    elif isinstance(rule, BandsRule):
        body = _bands(rule, value, node.weight or Decimal(0))
    elif isinstance(rule, DeductionRule):
        body = clamp2(f"{w}-MAX({value},0)*{lit(rule.per_item)}", w)
    elif isinstance(rule, ManualRule | QualitativeRule):
        return f'IF(COUNTA({inputs})=0,"",IF(ISNUMBER({stated}),{clamp2(stated, w)},0))'
    elif isinstance(rule, QuantitativeRule):
        # the department sheet has no 年度指标值 column: the engine sees no target → 0
        return f'IF(COUNTA({inputs})=0,"",0)'
    else:  # pragma: no cover - profile validation knows every kind
        raise ValueError(f"unknown rule {rule!r}")
    return f'IF(COUNTA({inputs})=0,"",IF(ISNUMBER({value}),{body},0))'


def group_score(weight: Decimal, stated: str, inputs: str, scores: str) -> str:
    """一级 复算: the stated 一级 score (clamped) when none of its rows is filled, else the
    sum of its leaves (scoring._Scorer.node)."""
    w = lit(weight)
    return (
        f"IF(AND(COUNTA({inputs})=0,ISNUMBER({stated})),{clamp2(stated, w)},ROUND(SUM({scores}),2))"
    )


# ------------------------------------------------------------------ totals and grades


def grade(profile: Profile, x: str) -> str:
    """Nested IF over the profile's grade bands (inclusive lower bounds, highest first)."""
    out = text(profile.grades[-1].label)
    for g in reversed(profile.grades[:-1]):
        out = f"IF({x}>={lit(g.min)},{text(g.label)},{out})"
    return out


def capped_total(profile: Profile, subtotal: str, rate_ref: str) -> str:
    """The total after the profile's execution-rate caps, rounded (scoring._Scorer.run).

    Re-scaling of not-applicable indicators is not expressed: the sheets have no
    "not applicable" input, so a workbook never triggers it.
    """
    caps = [
        f"IF(ISNUMBER({rate_ref}),IF({rate_ref}<{lit(c.below)},{lit(c.max_total)},{subtotal}),"
        f"{subtotal})"
        for c in profile.options.execution_caps
    ]
    inner = f"MIN({subtotal},{','.join(caps)})" if caps else subtotal
    return f"ROUND({inner},2)"


def unless_empty(count_args: Sequence[str], formula: str) -> str:
    """ "" while every input the formula depends on is blank (a clean template)."""
    return f'IF(COUNT({",".join(count_args)})=0,"",{formula})'


def band_test(d: str, a: str, s: str, w: str) -> str:
    """TRUE unless a 定性 row's stated score lies outside the band of its phrase."""
    tests = "FALSE"
    for phrase, (low, high, inclusive) in reversed(QUALITATIVE_BANDS.items()):
        top = f"{s}<=ROUND({lit(high)}*{w},2)" if inclusive else f"{s}<ROUND({lit(high)}*{w},2)"
        tests = f"IF({a}={text(phrase)},AND({s}>=ROUND({lit(low)}*{w},2),{top}),{tests})"
    return f'OR({d}<>"定性",NOT(ISNUMBER({s})),{tests})'


# ------------------------------------------------------------------ live checks (审核)
#
# A live check is anything with `code`, `severity` ("error"/强制性 or "warning"/提示性),
# `message`, `per_row` (False, True = every indicator row, or a list path such as
# "projects") and `excel(ref) -> str`, a boolean formula TRUE when the check passes;
# `ref(path)` maps a model field path ("funds.total.budget"), a row-relative path
# ("row.score") in per-row checks, a defined name ("pf_total_recomputed") or a whole list
# column ("finance.income.*.amount") to a reference. Optional: `target` (the path the 位置
# link and the form highlight point at; default: the first path the formula refers to) and
# `verdict(val) -> bool | None`, the same test in Python over `val(path)` (cell values:
# Decimal, str or None), used for the cached result so files read without recalculation
# show the right 审核 result.

Ref = Callable[[str], str]
Val = Callable[[str], object]


@dataclass(frozen=True)
class BuiltinCheck:
    """A check the template needs before the rules catalogue exists, in the catalogue's shape."""

    code: str
    severity: str
    message: str
    target: str
    formula: Callable[[Ref], str]
    test: Callable[[Val], bool]
    per_row: bool = False

    def excel(self, ref: Ref) -> str:
        return self.formula(ref)

    def verdict(self, val: Val) -> bool:
        return self.test(val)


def isnum(x: object) -> bool:
    return isinstance(x, Decimal | int | float) and not isinstance(x, bool)


def _d(x: object) -> Decimal:
    return Decimal(str(x)) if isnum(x) else Decimal(0)


def _sum_check(code: str, message: str, parts: list[str], totals: list[str]) -> BuiltinCheck:
    """Parts add up to the total (to the cent) unless no part is filled."""

    def formula(ref: Ref) -> str:
        ps, ts = ",".join(map(ref, parts)), ",".join(map(ref, totals))
        return f"OR(COUNT({ps})=0,ROUND(SUM({ps}),2)=ROUND(SUM({ts}),2))"

    def test(val: Val) -> bool:
        values = [v for p in parts for v in _many(val(p))]
        nums = [_d(v) for v in values if isnum(v)]
        if not nums:
            return True
        total = sum((_d(v) for t in totals for v in _many(val(t)) if isnum(v)), Decimal(0))
        return r2(sum(nums, Decimal(0))) == r2(total)

    return BuiltinCheck(code, "error", message, totals[0], formula, test)


def _many(x: object) -> list[object]:
    return list(x) if isinstance(x, list) else [x]


def _within(code: str, message: str, score: str, weight: str) -> BuiltinCheck:
    def formula(ref: Ref) -> str:
        s, w = ref(score), ref(weight)
        return f"OR(NOT(ISNUMBER({s})),AND(ISNUMBER({w}),{s}>=0,{s}<={w}))"

    def test(val: Val) -> bool:
        s, w = val(score), val(weight)
        return not isnum(s) or (isnum(w) and 0 <= _d(s) <= _d(w))

    return BuiltinCheck(
        code, "error", message, score, formula, test, per_row=score.startswith("row.")
    )


def _explained(message: str, score: str, weight: str, explanation: str) -> BuiltinCheck:
    def formula(ref: Ref) -> str:
        s, w, e = ref(score), ref(weight), ref(explanation)
        return f"OR(NOT(ISNUMBER({s})),NOT(ISNUMBER({w})),{s}>={w},LEN({e})>0)"

    def test(val: Val) -> bool:
        s, w, e = val(score), val(weight), val(explanation)
        if not isnum(s) or not isnum(w) or _d(s) >= _d(w):
            return True
        return e is not None and str(e) != ""

    return BuiltinCheck(
        "explanation-required", "error", message, explanation, formula, test, per_row=True
    )


def _same(code: str, message: str, stated: str, computed: str, per_row: bool) -> BuiltinCheck:
    def formula(ref: Ref) -> str:
        s, c = ref(stated), ref(computed)
        # compare rounded values, never a float difference (8.005 − 8.01 is −0.00499…);
        # OR evaluates every argument, so ROUND must not meet a text "": IF guards it
        return f"IF(AND(ISNUMBER({s}),ISNUMBER({c})),ROUND({s},2)=ROUND({c},2),TRUE)"

    def test(val: Val) -> bool:
        s, c = val(stated), val(computed)
        return not isnum(s) or not isnum(c) or r2(_d(s)) == r2(_d(c))

    return BuiltinCheck(code, "warning", message, stated, formula, test, per_row=per_row)


def _grade_check(profile: Profile, total: str, grade_path: str) -> BuiltinCheck:
    def formula(ref: Ref) -> str:
        t, g = ref(total), ref(grade_path)
        return f"OR(NOT(ISNUMBER({t})),{g}={grade(profile, t)})"

    def test(val: Val) -> bool:
        t, g = val(total), val(grade_path)
        return not isnum(t) or g == profile.grade(_d(t))

    return BuiltinCheck(
        "grade-matches-total",
        "error",
        "评价等级应与总分对应的等级一致",
        grade_path,
        formula,
        test,
    )


def _band_check() -> BuiltinCheck:
    def formula(ref: Ref) -> str:
        w = num_or_zero(ref("row.weight"))
        return band_test(ref("row.direction"), ref("row.actual"), ref("row.score"), w)

    def test(val: Val) -> bool:
        d, a, s, w = val("row.direction"), val("row.actual"), val("row.score"), val("row.weight")
        if d != "定性" or not isnum(s):
            return True
        band = qualitative_band(a if isinstance(a, str) else None, _d(w))
        return band is not None and in_band(_d(s), band)

    return BuiltinCheck(
        "qualitative-band",
        "error",
        "定性指标的得分应在实际完成值（评价用语）对应的区间内："
        "达成年度指标 80%～100%，部分达成 60%～80%，未达成 60% 以下",
        "row.score",
        formula,
        test,
        per_row=True,
    )


def builtin_checks(profile: Profile) -> list[BuiltinCheck]:
    """The template's own checks (rows add up, score ≤ weight, explanations, stated =
    recomputed, grade = total). The rules catalogue replaces this list: see live_checks."""
    out: list[BuiltinCheck] = []
    explain = profile.options.explain_below_weight
    if profile.kind == "project":
        for f, label in (
            ("initial", "年初预算数"),
            ("budget", "全年预算数"),
            ("executed", "全年执行数"),
        ):
            out.append(
                _sum_check(
                    "funds-parts-sum",
                    f"{label}：其中当年财政拨款、上年结转资金、其他资金之和应等于年度资金总额",
                    [f"funds.{line}.{f}" for line in ("fiscal", "carryover", "other")],
                    [f"funds.total.{f}"],
                )
            )
        out.append(
            _within("score-within-weight", "得分应在 0 与分值之间", "row.score", "row.weight")
        )
        if explain:
            out.append(
                _explained(
                    "得分低于分值，须填写偏差原因分析及改进措施",
                    "row.score",
                    "row.weight",
                    "row.explanation",
                )
            )
        out.append(_band_check())
        out.append(
            _same(
                "score-matches-rule",
                "得分与按评分规则复算的得分不一致",
                "row.score",
                "row.recomputed",
                True,
            )
        )
    else:
        out.append(
            _sum_check(
                "income-parts-sum",
                "各项收入之和应等于收入合计",
                ["finance.income.*.amount"],
                ["finance.income_total"],
            )
        )
        out.append(
            _sum_check(
                "expenditure-parts-sum",
                "基本支出与项目支出之和应等于支出合计",
                ["finance.basic", "finance.project"],
                ["finance.expenditure_total"],
            )
        )
        out.append(
            _within("score-within-weight", "自评得分应在 0 与分值之间", "row.score", "row.weight")
        )
        if explain:
            out.append(
                _explained(
                    "自评得分低于分值，须填写扣分原因", "row.score", "row.weight", "row.explanation"
                )
            )
        out.append(
            _same(
                "score-matches-rule",
                "自评得分与按评分规则复算的得分不一致",
                "row.score",
                "row.recomputed",
                True,
            )
        )
        for top in profile.indicators:
            stated = f"group_scores.{top.code}"
            out.append(
                _within(
                    "group-score-within-weight",
                    f"{top.name}：评价得分应在 0 与准则分值之间",
                    stated,
                    f"pf_group_{code_name(top.code)}_weight",
                )
            )
            out.append(
                _same(
                    "group-matches-rule",
                    f"{top.name}：评价得分与复算得分不一致",
                    stated,
                    f"pf_group_{code_name(top.code)}_recomputed",
                    False,
                )
            )
    out.append(
        _same(
            "total-matches-rule", "总分与按评分规则复算的总分不一致", "total_score",
            "pf_total_recomputed", False,
        )
    )  # fmt: skip
    out.append(_grade_check(profile, "total_score", "grade"))
    return out


def live_checks(profile: Profile) -> list[object]:
    """The checks rendered on the 审核 sheet.

    CATALOGUE TAKEOVER: once perfxl.rules provides live_checks(profile), its checks are
    rendered instead of the built-in list; until then the built-in list stands in.
    """
    try:
        from ..rules import live_checks as catalogue  # type: ignore[attr-defined]
    except ImportError as exc:  # no catalogue yet (module or function missing)
        if exc.name not in ("perfxl.rules", None) and not str(exc.name).startswith("perfxl.rules"):
            raise
        return list(builtin_checks(profile))
    return list(catalogue(profile))


# ------------------------------------------------------------------ rules in words


def rule_text(node: Node) -> str:
    """The scoring standard of a leaf in the words of the printed tables (评分标准)."""
    rule, w = node.rule, lit(node.weight or 0)
    if isinstance(rule, ExecutionRateRule):
        return f"得分 = min(预算执行率, 100%) × {w}；执行率取“基本信息”表的预算执行率"
    if isinstance(rule, RatioRule):
        return f"得分 = min(实际值%, 100%) × {w}（实际值填百分数，95 表示 95%）"
    if isinstance(rule, PenaltyRule):
        sign, word = ("≤", "超出") if rule.side == "over" else ("≥", "低于")
        return (
            f"实际值{sign}{lit(rule.bound)}% 得 {w} 分，每{word} 1 个百分点扣 "
            f"{lit(rule.per_point)} 分，扣完为止（实际值填百分数）"
        )
    if isinstance(rule, BandsRule):
        parts = []
        for b in rule.bands:
            if b.min is not None and b.max is not None:
                cond = f"{lit(b.min)}%～{lit(b.max)}%"
            elif b.min is not None:
                cond = f"≥{lit(b.min)}%"
            elif b.max is not None:
                cond = f"≤{lit(b.max)}%"
            else:
                cond = "其他"
            parts.append(f"{cond} 得 {lit(b.score)} 分")
        return "；".join(parts) + "（按顺序取第一个符合的档次）"
    if isinstance(rule, DeductionRule):
        return f"每发生 1 次扣 {lit(rule.per_item)} 分，扣完为止（实际值填次数）"
    if isinstance(rule, QualitativeRule):
        return "定性评价：按评价用语对应区间判定得分"
    if isinstance(rule, QuantitativeRule):
        return "定量指标，按指标性质与年度指标值比较计分"
    return f"评价人员据实判定，得分在 0～{w} 之间"


# ------------------------------------------------------------------ A1 helpers


COLS = {chr(65 + i): i for i in range(26)}


def block_rows(b: Block) -> range:
    return range(b.first_row, b.last_row + 1)


def letters(a1: str) -> str:
    return a1.rstrip("0123456789")


def digits(a1: str) -> int:
    return int(a1[len(letters(a1)) :])


def leaves(node: Node) -> list[Node]:
    if not node.children:
        return [node]
    return [leaf for c in node.children for leaf in leaves(c)]


# ------------------------------------------------------------------ the live cells of a layout
#
# Each formula cell of a sheet, with the Python mirror that gives its cached value from the
# filing as written and the engine's result (what the formula yields, so files read
# without recalculation show the right numbers).


def as_decimal(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def _rate(budget: Decimal | None, executed: Decimal | None) -> Any:
    if budget is None or executed is None:
        return ""
    if budget == 0:
        return "—"
    return r2(executed * 100 / budget)


def _numbers(values: Iterable[Any]) -> list[Decimal]:
    return [as_decimal(v) for v in values if isnum(v)]


@dataclass(frozen=True)
class FCell:
    """A formula cell: its text, style and the Python mirror giving its cached value."""

    sheet: str
    row: int
    col: str
    text: str
    style: tuple[str, str]  # (kind, "form" | "check" | special)
    value: Callable[[Ctx], Any]


def project_cells(layout: Layout) -> list[FCell]:
    p = layout.profile
    s = layout.form_sheet
    exec_node = next(
        n for _, n in p.walk() if n.rule is not None and n.rule.kind == "execution_rate"
    )
    w = lit(exec_node.weight or 0)
    out = [
        FCell(s, 6, "G", rate("$D$6", "$E$6"), ("pct", "form"),
              lambda ctx: _rate(ctx.num(s, 6, "D"), ctx.num(s, 6, "E"))),
    ]  # fmt: skip
    exec_text = execution_score(p, "$G$6", "$D$6", "$E$6", w)

    def exec_value(ctx: Ctx) -> Any:
        return ctx.nodes[exec_node.code].score if isnum(ctx.get(s, 6, "G")) else ""

    out.append(FCell(s, 6, "H", exec_text, ("score", "form"), exec_value))
    out.append(FCell(s, 6, "K", exec_text, ("score", "check"), exec_value))
    blocks = [b for b in layout.blocks if b.list_path == "indicators"]
    first, last = blocks[0].first_row, blocks[-1].last_row
    for b in blocks:
        for r in block_rows(b):
            out.append(
                FCell(s, r, "K", project_row(p, r), ("score", "check"),
                      lambda ctx, r=r: ctx.indicator_score(s, r))
            )  # fmt: skip
    t = digits(layout.cell("pf_total_score").ref)
    stated = f"$I${first}:$I${last}"

    def stated_total(ctx: Ctx) -> Any:
        nums = _numbers([ctx.get(s, 6, "H"), *ctx.span(s, range(first, last + 1), "I")])
        return r2(sum(nums, Decimal(0))) if nums else ""

    inputs = ("D6:E6", f"F{first}:I{last}")

    def nodata(ctx: Ctx) -> bool:
        vals = [
            ctx.get(s, 6, "D"),
            ctx.get(s, 6, "E"),
            *ctx.span(s, range(first, last + 1), "FGHI"),
        ]
        return not _numbers(vals)

    out += [
        FCell(s, t, "I", unless_empty(["$H$6", stated], f"ROUND(SUM($H$6,{stated}),2)"),
              ("score", "form"), stated_total),
        FCell(s, t, "J", f'IF(ISNUMBER($I${t}),{grade(p, f"$I${t}")},"")', ("grade", "form"),
              lambda ctx: _grade(p, ctx.get(s, t, "I"))),
        FCell(s, t, "K",
              unless_empty([_abs(a) for a in inputs],
                             capped_total(p, f"SUM($K$6,$K${first}:$K${last})", "$G$6")),
              ("score", "check"), lambda ctx: "" if nodata(ctx) else ctx.result.total),
        FCell(s, t + 1, "K", f'IF(ISNUMBER($K${t}),{grade(p, f"$K${t}")},"")', ("grade", "check"),
              lambda ctx: _grade(p, ctx.get(s, t, "K"))),
    ]  # fmt: skip
    return out


def _abs(a1range: str) -> str:
    a, _, b = a1range.partition(":")
    return f"${letters(a)}${digits(a)}:${letters(b)}${digits(b)}"


def _grade(p: Profile, total: Any) -> str:
    return p.grade(as_decimal(total)) if isnum(total) else ""


def department_cells(layout: Layout) -> list[FCell]:
    p = layout.profile
    info, form = "基本信息", layout.form_sheet
    out = [
        FCell(info, 11, "B", rate("$B$9", "$B$10"), ("pct", "form"),
              lambda ctx: _rate(ctx.num(info, 9, "B"), ctx.num(info, 10, "B"))),
        FCell(info, 12, "B", rate("$B$8", "$B$10"), ("pct", "form"),
              lambda ctx: _rate(ctx.num(info, 8, "B"), ctx.num(info, 10, "B"))),
    ]  # fmt: skip
    money = layout.cell("pf_fin_basic").sheet
    total = layout.cell("pf_fin_expenditure_total")
    for name in ("pf_fin_basic_share", "pf_fin_project_share"):
        c = layout.cell(name)
        r, part = digits(c.ref), f"$B${digits(c.ref)}"
        out.append(
            FCell(money, r, "C", rate(_abs_cell(total.ref), part), ("pct", "form"),
                  lambda ctx, r=r: _rate(ctx.num(money, digits(total.ref), "B"), ctx.num(money, r, "B")))
        )  # fmt: skip
    plist = next(b for b in layout.blocks if b.list_path == "projects")
    ps = plist.sheet
    for r in block_rows(plist):
        out.append(
            FCell(ps, r, "G", rate(f"$E{r}", f"$F{r}"), ("pct", "form"),
                  lambda ctx, r=r: _rate(ctx.num(ps, r, "E"), ctx.num(ps, r, "F")))
        )  # fmt: skip
    pr = plist.last_row + 1
    levels = f"$B${plist.first_row}:$B${plist.last_row}"
    for col in "DEF":
        rng = f"{col}${plist.first_row}:{col}${plist.last_row}"

        def total_of(ctx: Ctx, col: str = col) -> Any:
            vals = [
                ctx.get(ps, r, col)
                for r in block_rows(plist)
                if not (isnum(ctx.get(ps, r, "B")) and as_decimal(ctx.get(ps, r, "B")) == 2)
            ]
            nums = _numbers(vals)
            if not _numbers(ctx.span(ps, block_rows(plist), col)):
                return ""
            return r2(sum(nums, Decimal(0)))

        out.append(
            FCell(ps, pr, col, unless_empty([f"${rng}"], f'ROUND(SUMIF({levels},"<>2",${rng}),2)'),
                  ("money", "form"), total_of)
        )  # fmt: skip
    # 评分表
    leaf_blocks = [b for b in layout.blocks if b.list_path == "indicators"]
    first, last = leaf_blocks[0].first_row, leaf_blocks[-1].last_row
    funds = ("'基本信息'!$B$11", "'基本信息'!$B$9", "'基本信息'!$B$10")
    row_of = {b.fixed["code"]: b.first_row for b in leaf_blocks}
    for b in leaf_blocks:
        node = p.node(b.fixed["code"])
        assert node is not None
        r = b.first_row
        text = dept_leaf(p, node, r, funds, f"$F{r}:$H{r}")
        is_exec = node.rule is not None and node.rule.kind == "execution_rate"

        def leaf_value(ctx: Ctx, r: int = r, node: Node = node, is_exec: bool = is_exec) -> Any:
            if is_exec:
                if not (isnum(ctx.get(info, 11, "B")) or isnum(ctx.get(form, r, "F"))):
                    return ""
                if node.code not in ctx.nodes:  # its 一级 is scored from the stated score
                    return _exec_points(p, ctx, node, ctx.get(form, r, "F"))
            elif not any(v is not None for v in ctx.span(form, [r], "FGH")):
                return ""
            return ctx.nodes[node.code].score

        out.append(FCell(form, r, "I", text, ("score", "check"), leaf_value))
    groups = [(top, layout.group_rows[top.code]) for top in p.indicators]
    g0, g1 = groups[0][1], groups[-1][1]
    nodata_args = ["'基本信息'!$B$9:$B$10", f"$F${first}:$G${last}", f"$C${g0}:$C${g1}"]

    def nodata(ctx: Ctx) -> bool:
        vals = [
            ctx.get(info, 9, "B"),
            ctx.get(info, 10, "B"),
            *ctx.span(form, range(first, last + 1), "FG"),
            *ctx.span(form, range(g0, g1 + 1), "C"),
        ]
        return not _numbers(vals)

    stated_terms = []
    for top, g in groups:
        rows = [row_of[leaf.code] for leaf in leaves(top)]
        a, z = min(rows), max(rows)
        stated_terms.append(f"IF(ISNUMBER($C${g}),$C${g},SUM($G${a}:$G${z}))")
        text = group_score(top.weight or Decimal(0), f"$C{g}", f"$F${a}:$H${z}", f"$I${a}:$I${z}")
        out.append(
            FCell(form, g, "D", unless_empty(nodata_args, text), ("score", "form"),
                  lambda ctx, code=top.code: "" if nodata(ctx) else ctx.nodes[code].score)
        )  # fmt: skip
        if p.options.group_grades and top.weight:
            share = f"ROUND($D{g}/{lit(top.weight)}*{lit(p.total)},2)"
            out.append(
                FCell(form, g, "E", f'IF(ISNUMBER($D{g}),{grade(p, share)},"")', ("grade", "plain"),
                      lambda ctx, code=top.code, g=g: ctx.nodes[code].grade if isnum(ctx.get(form, g, "D")) else "")
            )  # fmt: skip
    t = digits(layout.cell("pf_total_score").ref)

    def stated_total(ctx: Ctx) -> Any:
        if not _numbers(
            [*ctx.span(form, range(first, last + 1), "G"), *ctx.span(form, range(g0, g1 + 1), "C")]
        ):
            return ""
        total = Decimal(0)
        for top, g in groups:
            v = ctx.get(form, g, "C")
            if isnum(v):
                total += as_decimal(v)
            else:
                rows = [row_of[leaf.code] for leaf in leaves(top)]
                total += sum(_numbers(ctx.span(form, rows, "G")), Decimal(0))
        return r2(total)

    out += [
        FCell(form, t, "C",
              unless_empty([f"$G${first}:$G${last}", f"$C${g0}:$C${g1}"], f"ROUND({'+'.join(stated_terms)},2)"),
              ("score", "form"), stated_total),
        FCell(form, t, "D",
              unless_empty(nodata_args, capped_total(p, f"SUM($D${g0}:$D${g1})", funds[0])),
              ("score", "form"), lambda ctx: "" if nodata(ctx) else ctx.result.total),
        FCell(form, t, "E", f'IF(ISNUMBER($C${t}),{grade(p, f"$C${t}")},"")', ("grade", "plain"),
              lambda ctx: _grade(p, ctx.get(form, t, "C"))),
        FCell(form, t, "F", f'IF(ISNUMBER($D${t}),{grade(p, f"$D${t}")},"")', ("grade", "check"),
              lambda ctx: _grade(p, ctx.get(form, t, "D"))),
    ]  # fmt: skip
    return out


def _exec_points(p: Profile, ctx: Ctx, node: Node, fallback: Any) -> Decimal:
    """The execution-rate leaf's formula where the engine has no node for it."""
    r = ctx.result
    rate = r.execution_rate if r.execution_rate is not None else r2(as_decimal(fallback))
    if not p.options.score_from_rounded_rate and r.execution_rate is not None:
        t = ctx.placed_funds
        rate = as_decimal(t[1]) * 100 / as_decimal(t[0])
    return rate_score(rate, node.weight or Decimal(0)) or Decimal(0)


def _abs_cell(a1: str) -> str:
    return f"${letters(a1)}${digits(a1)}"
