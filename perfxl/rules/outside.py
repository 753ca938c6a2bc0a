"""外部数据: the filing agrees with the finance bureau's approved budget and targets."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..decimal_math import fmt2, r2
from ..findings import Scope, Severity
from ..model import Filing
from ..profile import Profile
from ..reference_data import BudgetData, TargetData, TargetRow, clean, number_in
from ..scoring import ScoreResult
from .base import Context, Hit, Rule
from .common import open_codes

B, W = Severity.BLOCKING, Severity.WARNING
FUND_FIELDS = {"initial": "年初预算数", "budget": "全年预算数", "executed": "全年执行数"}
PROJECT_FIELDS = {"initial": "initial", "budget": "adjusted", "executed": "spent"}
PROJECT_LABELS = {"initial": "年初预算", "budget": "调整预算", "executed": "实际支出"}


def _names(filing: Filing) -> set[str]:
    return {n for n in (clean(filing.header.name), clean(filing.header.unit)) if n}


def _ours(filing: Filing, unit_code: str | None, name: str | None) -> bool | None:
    """Whether a reference row is about this filing (None: nothing ties it either way)."""
    code = (filing.header.unit_code or "").strip() or None
    tied = False
    if unit_code and code:
        if unit_code != code:
            return False
        tied = True
    if name:
        if name not in _names(filing):
            return False
        tied = True
    return True if tied else None


def _budget_rows(filing: Filing, profile: Profile, data: BudgetData) -> tuple[list, list]:
    """(rows for the filing's totals, rows for its project lines)."""
    totals, lines = [], []
    own = clean(filing.header.name)
    for r in data.rows:
        tied = _ours(filing, r.unit_code, r.name)
        if profile.kind == "project":
            if r.project and r.project != own:
                continue
            if tied is False or (tied is None and not r.project):
                continue
            totals.append(r)
        else:
            if not tied:
                continue
            (lines if r.project else totals).append(r)
    return totals, lines


def _compare(path: str, what: str, stated: Decimal | None, ref: Decimal, where: str) -> Hit | None:
    if stated is not None and r2(stated) == r2(ref):
        return None
    shown = "未填" if stated is None else fmt2(stated)
    return Hit(
        path,
        f"{what}填报 {shown}，与预算数据（{where}）的 {fmt2(ref)} 不一致",
        expected=fmt2(ref),
        actual=stated,
    )


def _budget_hits(filing: Filing, profile: Profile, data: BudgetData) -> tuple[list[Hit], list[Hit]]:
    """(mismatches, missing) for the budget data."""
    bad: list[Hit] = []
    missing: list[Hit] = []
    totals, lines = _budget_rows(filing, profile, data)
    if len(totals) > 1:
        where = "、".join(f"第 {r.line} 行" for r in totals)
        missing.append(Hit("funds.total", f"预算数据中有多行（{where}）对应本表，无法确定用哪一行"))
    elif not totals and not lines:
        missing.append(
            Hit("funds.total", f"预算数据 {data.file} 中没有本表（{filing.header.name}）的数据")
        )
    for r in totals[:1] if len(totals) == 1 else []:
        for col, label in FUND_FIELDS.items():
            ref = getattr(r, col)
            if col in data.columns and ref is not None:
                hit = _compare(
                    f"funds.total.{col}",
                    f"年度资金总额的{label}",
                    getattr(filing.funds.total, col),
                    ref,
                    f"第 {r.line} 行",
                )
                if hit:
                    bad.append(hit)
    by_name = {clean(p.name): i for i, p in enumerate(filing.projects)}
    for r in lines:
        i = by_name.get(r.project)
        if i is None:
            missing.append(
                Hit("projects", f"预算数据第 {r.line} 行的项目「{r.project}」不在项目支出明细中")
            )
            continue
        p = filing.projects[i]
        for col, field in PROJECT_FIELDS.items():
            ref = getattr(r, col)
            if col in data.columns and ref is not None:
                hit = _compare(
                    f"projects.{i}.{field}",
                    f"项目「{p.name}」的{PROJECT_LABELS[col]}",
                    getattr(p, field),
                    ref,
                    f"第 {r.line} 行",
                )
                if hit:
                    bad.append(hit)
    return bad, missing


def _budget(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    assert isinstance(ctx.budget, BudgetData)
    yield from _budget_hits(filing, profile, ctx.budget)[0]


def _budget_missing(
    filing: Filing, profile: Profile, result: ScoreResult, ctx: Context
) -> Iterator[Hit]:
    assert isinstance(ctx.budget, BudgetData)
    yield from _budget_hits(filing, profile, ctx.budget)[1]


# ------------------------------------------------------------------------------ targets


def _target_rows(filing: Filing, data: TargetData) -> list[TargetRow]:
    return [r for r in data.rows if _ours(filing, r.unit_code, r.name)]


def _same(stated_num: Decimal | None, stated_text: str | None, approved: Decimal | str) -> bool:
    want = number_in(approved)
    if want is not None:
        have = stated_num if stated_num is not None else number_in(stated_text)
        return have is not None and have == want
    return clean(stated_text) == clean(approved)


def _shown(v: object) -> str:
    if v is None:
        return "未填"
    return format(v, "f") if isinstance(v, Decimal) else f"「{v}」"


def _targets(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    assert isinstance(ctx.targets, TargetData)
    by_name = {clean(ind.name): i for i, ind in enumerate(filing.indicators) if ind.name}
    for r in _target_rows(filing, ctx.targets):
        i = by_name.get(r.indicator)
        if i is None:
            continue  # EXT-TARGET-MISSING
        ind = filing.indicators[i]
        approved, which = r.approved()
        if approved is not None and not _same(ind.target, ind.target_text, approved):
            stated = ind.target if ind.target is not None else ind.target_text
            yield Hit(
                f"indicators.{i}.target",
                f"指标「{ind.name}」的年度指标值 {_shown(stated)} 与批复的绩效目标"
                f"（{which} {_shown(approved)}，第 {r.line} 行）不一致",
                expected=approved,
                actual=stated,
            )
        if (
            r.target_initial is not None
            and r.target_adjusted is not None
            and ind.target_initial is not None
            and not _same(ind.target_initial, None, r.target_initial)
        ):
            yield Hit(
                f"indicators.{i}.target_initial",
                f"指标「{ind.name}」的年初指标值 {_shown(ind.target_initial)} 与批复的"
                f"年初指标值 {_shown(r.target_initial)}（第 {r.line} 行）不一致",
                expected=r.target_initial,
                actual=ind.target_initial,
            )


def _targets_missing(
    filing: Filing, profile: Profile, result: ScoreResult, ctx: Context
) -> Iterator[Hit]:
    assert isinstance(ctx.targets, TargetData)
    rows = _target_rows(filing, ctx.targets)
    if not rows:
        yield Hit(
            "indicators",
            f"绩效目标数据 {ctx.targets.file} 中没有本表（{filing.header.name}）的指标",
        )
        return
    names = {clean(ind.name) for ind in filing.indicators if ind.name}
    for r in rows:
        if r.indicator not in names:
            yield Hit(
                "indicators",
                f"批复的绩效指标「{r.indicator}」（第 {r.line} 行）在自评表中没有填报",
                expected=r.indicator,
            )


def _targets_extra(
    filing: Filing, profile: Profile, result: ScoreResult, ctx: Context
) -> Iterator[Hit]:
    assert isinstance(ctx.targets, TargetData)
    rows = _target_rows(filing, ctx.targets)
    if not rows:
        return
    approved = {r.indicator for r in rows}
    own = set(open_codes(profile))
    for i, ind in enumerate(filing.indicators):
        if ind.code in own and ind.name and clean(ind.name) not in approved:
            yield Hit(
                f"indicators.{i}.name",
                f"指标「{ind.name}」不在批复的绩效目标中（名称与绩效目标表不一致？）",
                actual=ind.name,
            )


def _has_budget(filing: Filing, profile: Profile, ctx: Context) -> bool:
    return ctx.budget is not None


def _has_targets(filing: Filing, profile: Profile, ctx: Context) -> bool:
    return ctx.targets is not None


RULES = [
    Rule(
        "EXT-BUDGET",
        B,
        Scope.EXTERNAL,
        "年初预算数、全年预算数、全年执行数（部门整体含各项目）与预算数据一致",
        "提供 --budget 时",
        check=_budget,
        relevant=_has_budget,
    ),
    Rule(
        "EXT-BUDGET-MISSING",
        W,
        Scope.EXTERNAL,
        "预算数据中有本表的数据，且其中的项目都在项目支出明细中",
        "提供 --budget 时",
        check=_budget_missing,
        relevant=_has_budget,
    ),
    Rule(
        "EXT-TARGET",
        B,
        Scope.EXTERNAL,
        "年度指标值（及年初指标值）与批复的绩效目标一致",
        "提供 --targets 时",
        check=_targets,
        relevant=_has_targets,
    ),
    Rule(
        "EXT-TARGET-MISSING",
        W,
        Scope.EXTERNAL,
        "批复的绩效指标都已在自评表中填报",
        "提供 --targets 时",
        check=_targets_missing,
        relevant=_has_targets,
    ),
    Rule(
        "EXT-TARGET-EXTRA",
        W,
        Scope.EXTERNAL,
        "自评表中单位自设的指标都在批复的绩效目标中",
        "提供 --targets 时",
        check=_targets_extra,
        relevant=_has_targets,
    ),
]

__all__ = ["RULES"]
