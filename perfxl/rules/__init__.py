"""The check (审核) catalogue: every rule with a stable code, and running them on a filing.

    report = check(filing, profile, file="x.yaml")      # Python: findings per rule
    for lc in live_checks(profile): lc.excel(ref)       # Excel: the live 审核 sheet

Formula-expressible rules are declared once (see base.Formula and expr); their Python
findings are derived by evaluating the same expressions the workbook formulas compile from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from ..expr import (
    EvalError,
    Expr,
    Or,
    Scalar,
    compile_condition,
    compiled_truth,
    evaluate,
    paths,
)
from ..findings import Finding, Report, RuleOutcome, Status
from ..memo import by_identity
from ..model import Filing
from ..profile import Profile
from ..scoring import ScoreResult, score
from . import arithmetic, completeness, crosstable, integrity, outside, values
from .base import (
    Context,
    FilingEnv,
    Formula,
    Hit,
    LiveCheck,
    Rule,
    instances,
    row_label,
    row_path,
)

CATALOGUE: tuple[Rule, ...] = (
    *completeness.RULES,
    *values.RULES,
    *arithmetic.RULES,
    *crosstable.RULES,
    *outside.RULES,
    *integrity.RULES,
)
BY_CODE = {r.code: r for r in CATALOGUE}
assert len(BY_CODE) == len(CATALOGUE), "rule codes must be unique"


def live_checks(profile: Profile) -> list[LiveCheck]:
    """Every formula-expressible check that applies to the profile, in catalogue order."""
    return [lc for rule in CATALOGUE for lc in rule.live_checks(profile)]


# ------------------------------------------------------------------------ formatting


def fmt(v: object) -> str | None:
    """Exact text of a value for a message or a JSON field."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def _value(e: Expr | None, env: FilingEnv) -> Scalar:
    if e is None:
        return None
    try:
        v = evaluate(e, env)
    except EvalError:
        return None
    return None if isinstance(v, list) else v


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "（空）"


def _message(f: Formula, env: FilingEnv, row: str, expected: Scalar, actual: Scalar) -> str:
    values = _Blank(row=row)
    for key, v in (("expected", expected), ("actual", actual)):
        if v is not None:
            values[key] = fmt(v)
    for key, e in f.extras:
        v = _value(e, env)
        if v is not None:
            values[key] = fmt(v)
    return f.message.format_map(values)


Condition = Callable[[FilingEnv], bool]
WARM_CALLS = 4  # a check's first calls walk its expression (a walk costs about a quarter of
# generating and compiling its code); it is compiled when used more
_VERDICTS: dict[int, tuple[object, tuple[Condition, Condition, Condition]]] = {}
_FORMULAS: dict[tuple[str, int], tuple[object, list[Formula]]] = {}


def _compiled(f: Formula) -> tuple[Condition, Condition, Condition]:
    """(when, body, holds) of a formula as compiled conditions, built once per formula. The
    verdict IFERROR(IF(when, body, TRUE), FALSE) reduces to `body` where `when` holds, an
    error counting as FALSE."""

    def build() -> tuple[Condition, Condition, Condition]:
        body = f.holds if f.explained is None else Or(f.holds, f.explained)
        when, verdict, holds = (
            compile_condition(e, warm=WARM_CALLS) for e in (f.when, body, f.holds)
        )
        return when, verdict, holds

    return by_identity(_VERDICTS, 20_000, id(f), f, build)


def formulas_of(rule: Rule, profile: Profile) -> list[Formula]:
    """A rule's formulas for a profile, built once per profile (not once per filing)."""
    assert rule.formulas is not None
    formulas = rule.formulas
    return by_identity(
        _FORMULAS, 2_000, (rule.code, id(profile)), profile, lambda: formulas(profile)
    )


def formula_hits(
    f: Formula, filing: Filing, profile: Profile, env: FilingEnv | None = None
) -> tuple[list[Hit], bool]:
    """(hits, applied anywhere) of one formula, from the same expressions as its Excel text."""
    hits: list[Hit] = []
    applied = False
    base = env or FilingEnv(filing, profile, computed=_computed(f, filing, profile))
    when, body, holds = _compiled(f)
    for at in instances(filing, f):
        env = base if at is None else base.at(*at)
        try:
            applies: bool | None = when(env)
        except EvalError:  # the guard itself fails: IFERROR makes the verdict FALSE
            applies = None
        if applies is False:
            continue
        applied = True
        ok = applies is not None and compiled_truth(body, env)
        passed_by_explanation = f.explained is not None and not compiled_truth(holds, env)
        if ok and not passed_by_explanation:
            continue
        path = f.path if at is None else row_path(at[0], at[1], f.path)
        label = "" if at is None else row_label(filing, profile, *at)
        expected, actual = _value(f.expected, env), _value(f.actual, env)
        hits.append(
            Hit(
                path,
                _message(f, env, label, expected, actual),
                expected=expected,
                actual=actual,
                explained=ok,
            )
        )
    return hits, applied


def _computed(f: Formula, filing: Filing, profile: Profile) -> dict[str, Scalar] | None:
    """The 复算 cells a formula refers to (by defined name), from the score engine."""
    if not any(p.startswith("pf_") for p in paths(f.verdict())):
        return None
    return arithmetic.recomputed_cells(filing, profile, score(filing, profile))


def _finding(rule: Rule, hit: Hit, filing: Filing, file: str | None) -> Finding:
    src = filing.where(hit.path)
    if src is None and hit.path.endswith("_text"):  # one cell holds the number or the text
        src = filing.where(hit.path.removesuffix("_text"))
    if hit.cell is not None:
        sheet, cell, name = hit.sheet, hit.cell, hit.name
    else:
        sheet, cell, name = (src.sheet, src.cell, src.name) if src else (None, None, None)
    return Finding(
        code=rule.code,
        severity=rule.severity,
        scope=rule.scope,
        message=hit.message,
        path=hit.path,
        file=file,
        sheet=sheet,
        cell=cell,
        name=name,
        expected=fmt(hit.expected),
        actual=fmt(hit.actual),
        explained=hit.explained,
    )


def _status(hits: Iterable[Hit]) -> Status:
    hits = list(hits)
    if any(not h.explained for h in hits):
        return Status.FAILED
    return Status.EXPLAINED if hits else Status.PASSED


def check(
    filing: Filing,
    profile: Profile,
    context: Context | None = None,
    *,
    file: str | None = None,
    result: ScoreResult | None = None,
) -> Report:
    """Run every rule of the catalogue on one filing; collect all findings."""
    ctx = context or Context()
    result = result or score(filing, profile)
    report = Report(
        file=file or "",
        profile=profile.id,
        profile_version=profile.version,
        title=filing.header.name,
        year=filing.header.year,
    )
    # one value cache for every rule of this filing
    env = FilingEnv(filing, profile, computed=arithmetic.recomputed_cells(filing, profile, result))
    for rule in CATALOGUE:
        hits: list[Hit] = []
        status = Status.NOT_APPLICABLE
        if rule.applies_to(profile) and (
            rule.relevant is None or rule.relevant(filing, profile, ctx)
        ):
            if rule.formulas is not None:
                applied = False
                for f in formulas_of(rule, profile):
                    found, used = formula_hits(f, filing, profile, env)
                    hits += found
                    applied = applied or used
                status = _status(hits) if applied else Status.NOT_APPLICABLE
            else:
                assert rule.check is not None
                hits = list(rule.check(filing, profile, result, ctx))
                status = _status(hits)
        report.findings += [_finding(rule, h, filing, file) for h in hits]
        report.outcomes.append(
            RuleOutcome(rule.code, rule.title, rule.severity, rule.scope, status)
        )
    # errors first, then open warnings, then explained ones; catalogue order within each
    report.findings.sort(key=lambda f: 0 if f.blocking else 2 if f.explained else 1)
    return report


__all__ = [
    "BY_CODE",
    "CATALOGUE",
    "Context",
    "Formula",
    "LiveCheck",
    "Rule",
    "check",
    "formula_hits",
    "live_checks",
]
