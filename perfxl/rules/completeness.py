"""完整性: what must be filled in, and the explanations the official rules require."""

from __future__ import annotations

from collections.abc import Iterator

from ..expr import (
    And,
    Column,
    Const,
    CountNumbers,
    Expr,
    Field,
    Filled,
    If,
    IsNumber,
    Len,
    Not,
    Or,
    Round,
    ge,
    gt,
    le,
    lt,
)
from ..findings import Scope, Severity
from ..model import Filing
from ..profile import Profile
from ..score_rules import is_directional, over_achieved
from ..scoring import ScoreResult
from .base import Context, Formula, Hit, Rule
from .common import (
    APPLICABLE,
    GRADE,
    HAS_RATE,
    RATE,
    ROW,
    STATED_EXEC_SCORE,
    STATED_RATE,
    TOTAL,
    USED_FIXED,
    USED_OPEN,
    execution_remark_path,
    fixed_leaves,
    open_codes,
    open_descendants,
)

B, W = Severity.BLOCKING, Severity.WARNING
TEXT_FIELDS = {"goal_expected": "年度总体目标·预期目标", "goal_actual": "年度总体目标·实际完成情况"}


def _header(profile: Profile) -> list[Formula]:
    name = Field("header.name")
    year = Field("header.year")
    what = "项目名称" if profile.kind == "project" else "部门（单位）名称"
    return [
        Formula(
            "header.name",
            Const(True),
            Filled(name),
            f"{what}未填写",
            f"{what}必须填写",
        ),
        Formula(
            "header.year",
            Const(True),
            And(IsNumber(year), ge(year, 2000), le(year, 2100)),
            "年度应为 2000～2100 之间的年份，填报为 {actual}",
            "年度必须填写为 2000～2100 之间的年份",
            actual=year,
        ),
    ]


def _funds(profile: Profile) -> list[Formula]:
    out = [
        Formula(
            f"funds.total.{col}",
            Const(True),
            IsNumber(Field(f"funds.total.{col}")),
            f"年度资金总额的{label}未填写（或不是数字）",
            f"年度资金总额的{label}必须填写",
        )
        for col, label in (
            ("initial", "年初预算数"),
            ("budget", "全年预算数"),
            ("executed", "全年执行数"),
        )
    ]
    out.append(
        Formula(
            "funds.total.rate",
            HAS_RATE,
            IsNumber(STATED_RATE),
            "年度资金总额的执行率未填写（应为 {expected}%）",
            "全年预算数不为 0 时，执行率必须填写",
            expected=RATE,
        )
    )
    # What follows from other cells is asked for only once they are there (a unit is told
    # which input is missing instead); the project table's 执行率 and 得分 are stated, with
    # the 复算 beside them.
    out.append(
        Formula(
            "funds.total.score",
            HAS_RATE,
            IsNumber(STATED_EXEC_SCORE),
            "预算执行率得分未填写",
            "有执行率时，预算执行率得分必须填写",
        )
    )
    return out


def _any_score(profile: Profile) -> Expr:
    """Some score of the table is stated: an indicator's, a 一级's or the execution rate's."""
    groups = [IsNumber(Field(f"group_scores.{top.code}")) for top in profile.indicators]
    return Or(gt(CountNumbers(Column("indicators.*.score")), 0), IsNumber(STATED_EXEC_SCORE),
              *groups)  # fmt: skip


def _totals(profile: Profile) -> list[Formula]:
    return [
        Formula("total_score", _any_score(profile), IsNumber(TOTAL), "总分未填写",
                "填报了得分时，总分必须填写"),
        Formula("grade", IsNumber(TOTAL), Filled(GRADE), "评价等级未填写",
                "有总分时，评价等级必须填写"),
    ]  # fmt: skip


def required_texts(profile: Profile) -> list[str]:
    """Field paths of the texts a profile requires. A profile may list them in
    options.required_texts; by default the project table's two 年度总体目标 texts."""
    listed = getattr(profile.options, "required_texts", None)
    if listed is not None:
        return [p if p in TEXT_FIELDS or p.startswith("texts.") else f"texts.{p}" for p in listed]
    return list(TEXT_FIELDS) if profile.kind == "project" else []


def _text_label(path: str) -> str:
    return TEXT_FIELDS.get(path, path.removeprefix("texts."))


def _texts(profile: Profile) -> list[Formula]:
    return [
        Formula(
            p,
            Const(True),
            Filled(Field(p)),
            f"「{_text_label(p)}」未填写",
            f"「{_text_label(p)}」必须填写",
        )
        for p in required_texts(profile)
    ]


def _name_rule(profile: Profile) -> list[Formula]:
    codes = open_codes(profile)
    if not codes:
        return []
    return [
        Formula(
            "row.name",
            USED_OPEN,
            Filled(ROW["name"]),
            "{row}未填写三级指标名称",
            "单位自设的三级指标必须填写名称",
            per_row="indicator",
            codes=codes,
        )
    ]


def _direction_rule(profile: Profile) -> list[Formula]:
    codes = open_codes(profile)
    if not codes:
        return []
    return [
        Formula(
            "row.direction",
            USED_OPEN,
            Filled(ROW["direction"]),
            "{row}未填写指标性质（正向、反向、等于或定性）",
            "三级指标必须填写指标性质",
            per_row="indicator",
            codes=codes,
        )
    ]


def _weight_rule(profile: Profile) -> list[Formula]:
    codes = open_codes(profile)
    if not codes:
        return []
    return [
        Formula(
            "row.weight",
            USED_OPEN,
            IsNumber(ROW["weight"]),
            "{row}未填写分值（或不是数字）",
            "三级指标必须填写分值",
            per_row="indicator",
            codes=codes,
        )
    ]


def _score_rule(profile: Profile) -> list[Formula]:
    out = []
    for codes, used in (
        (open_codes(profile), USED_OPEN),
        (tuple(n.code for n in fixed_leaves(profile)), USED_FIXED),
    ):
        if codes:
            out.append(
                Formula(
                    "row.score",
                    And(used, APPLICABLE),
                    IsNumber(ROW["score"]),
                    "{row}未填写得分（或不是数字）",
                    "已填报的指标必须填写得分",
                    per_row="indicator",
                    codes=codes,
                )
            )
    return out


def _explain_below_weight(profile: Profile) -> list[Formula]:
    s, w = ROW["score"], ROW["weight"]
    return [
        Formula(
            "row.explanation",
            If(And(IsNumber(s), IsNumber(w), APPLICABLE), lt(Round(s, 2), Round(w, 2)), False),
            Filled(ROW["explanation"]),
            "{row}得分 {actual} 低于分值 {expected}，须填写偏差原因分析及改进措施",
            "得分低于分值的指标须填写偏差原因分析及改进措施",
            expected=w,
            actual=s,
            per_row="indicator",
        )
    ]


def _explain_over(profile: Profile) -> list[Formula]:
    th = profile.options.over_achievement.threshold
    d, t, a = ROW["direction"], ROW["target"], ROW["actual"]
    when = If(And(IsNumber(t), IsNumber(a), APPLICABLE), is_directional(d), False)
    return [
        Formula(
            "row.explanation",
            when,
            Not(over_achieved(d, t, a, th)),
            f"{{row}}实际完成值 {{actual}} 偏离年度指标值 {{expected}} 达 {th}% 以上，须说明偏离原因",
            f"实际完成值偏离年度指标值 {th}% 以上的指标须说明原因",
            expected=t,
            actual=a,
            explained=Filled(ROW["explanation"]),
            per_row="indicator",
        )
    ]


def _explain_execution(profile: Profile) -> list[Formula]:
    limit = profile.options.explain_execution_below
    assert limit is not None
    remark = execution_remark_path(profile)
    return [
        Formula(
            remark,
            HAS_RATE,
            Or(ge(RATE, limit), Filled(Field(remark))),
            f"预算执行率 {{actual}}% 低于 {limit}%，须说明原因",
            f"预算执行率低于 {limit}% 时须说明原因",
            actual=RATE,
            expected=Const(limit),
        )
    ]


def _text_limits(profile: Profile) -> list[Formula]:
    out = []
    for key, limit in profile.options.text_limits.items():
        if key == "explanation":
            x = ROW["explanation"]
            out.append(
                Formula(
                    "row.explanation",
                    Filled(x),
                    le(Len(x), limit),
                    f"{{row}}的偏差原因分析共 {{actual}} 字，超过 {limit} 字的上限",
                    f"偏差原因分析及改进措施不超过 {limit} 字",
                    actual=Len(x),
                    expected=Const(limit),
                    per_row="indicator",
                )
            )
            continue
        path = key if key in TEXT_FIELDS else f"texts.{key}"
        x = Field(path)
        label = _text_label(path)
        out.append(
            Formula(
                path,
                Filled(x),
                le(Len(x), limit),
                f"「{label}」共 {{actual}} 字，超过 {limit} 字的上限",
                f"「{label}」不超过 {limit} 字",
                actual=Len(x),
                expected=Const(limit),
            )
        )
    return out


def _groups_without_rows(
    filing: Filing, profile: Profile, result: ScoreResult, ctx: Context
) -> Iterator[Hit]:
    """A 一级 whose 三级 are the unit's own but none was filled (e.g. no 产出指标)."""
    present = {i.code for i in filing.indicators}
    for top in profile.indicators:
        codes = open_descendants(top)
        if codes and not present.intersection(codes):
            remark = filing.group_remarks.get(top.code, "")
            yield Hit(
                f"group_scores.{top.code}",
                f"一级指标「{top.name}」下没有填报任何三级指标",
                explained=bool(remark.strip()),
            )


RULES = [
    Rule(
        "COMP-HEADER",
        B,
        Scope.TABLE,
        "表头必填：项目（单位）名称、年度",
        "全部",
        formulas=_header,
    ),
    Rule(
        "COMP-FUNDS",
        B,
        Scope.TABLE,
        "年度资金总额的预算数、执行数、执行率、得分必填",
        "项目支出",
        kinds=("project",),
        formulas=_funds,
    ),
    Rule(
        "COMP-TOTAL",
        B,
        Scope.TABLE,
        "总分、评价等级必填",
        "全部",
        formulas=_totals,
    ),
    Rule(
        "COMP-TEXTS",
        B,
        Scope.TABLE,
        "评价框架要求的文字部分必填（项目支出：年度总体目标的预期目标、实际完成情况）",
        "项目支出；或评价框架 options.required_texts 所列",
        enabled=lambda p: bool(required_texts(p)),
        formulas=_texts,
    ),
    Rule(
        "COMP-IND-NAME",
        B,
        Scope.TABLE,
        "单位自设的三级指标须有名称",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        formulas=_name_rule,
    ),
    Rule(
        "COMP-IND-DIRECTION",
        B,
        Scope.TABLE,
        "单位自设的三级指标须填指标性质",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        formulas=_direction_rule,
    ),
    Rule(
        "COMP-IND-WEIGHT",
        B,
        Scope.TABLE,
        "单位自设的三级指标须填分值",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        formulas=_weight_rule,
    ),
    Rule(
        "COMP-IND-SCORE",
        B,
        Scope.TABLE,
        "已填报的指标须填得分（不适用的指标除外）",
        "全部",
        formulas=_score_rule,
    ),
    Rule(
        "COMP-GROUP-EMPTY",
        W,
        Scope.TABLE,
        "单位自设三级指标的一级指标下至少有一个三级指标（不适用时在该一级指标的说明中写明）",
        "有单位自设三级指标的框架（项目支出）",
        enabled=lambda p: bool(open_codes(p)),
        check=_groups_without_rows,
    ),
    Rule(
        "COMP-EXPLAIN-SCORE",
        B,
        Scope.TABLE,
        "得分低于分值的指标须填写偏差原因分析及改进措施",
        "选项 explain_below_weight 为 true",
        enabled=lambda p: p.options.explain_below_weight,
        formulas=_explain_below_weight,
    ),
    Rule(
        "COMP-EXPLAIN-OVER",
        W,
        Scope.TABLE,
        "实际完成值超过目标达阈值（默认 30%）的指标须说明偏离原因",
        "选项 over_achievement.explain 为 true",
        enabled=lambda p: p.options.over_achievement.explain,
        formulas=_explain_over,
    ),
    Rule(
        "COMP-EXPLAIN-EXEC",
        B,
        Scope.TABLE,
        "预算执行率低于规定值时须说明原因",
        "设置了选项 explain_execution_below",
        enabled=lambda p: p.options.explain_execution_below is not None,
        formulas=_explain_execution,
    ),
    Rule(
        "COMP-TEXT-LIMIT",
        B,
        Scope.TABLE,
        "文字部分不超过规定字数",
        "设置了选项 text_limits",
        enabled=lambda p: bool(p.options.text_limits),
        formulas=_text_limits,
    ),
]

__all__ = ["RULES", "required_texts"]
