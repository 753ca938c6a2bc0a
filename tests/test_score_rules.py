"""The scoring rules written as formulas agree with the scoring engine.

The live 审核 sheet recomputes scores from the formulas in perfxl.score_rules;
`perfxl score` uses perfxl.scoring. Both must give the same 2-decimal score; both divide
last (actual × weight / target), so an exact .xx5 stays exact and rounds half-up."""

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings

from perfxl.expr import Const, Trace, evaluate, truth
from perfxl.model import Filing, Indicator
from perfxl.profile import load_profile, load_profile_file
from perfxl.rules import BY_CODE
from perfxl.rules.base import FilingEnv, fixed_leaf, instances
from perfxl.rules.common import RATE, execution_node
from perfxl.score_rules import grade_of
from perfxl.scoring import quantitative_score, score

from .check_helpers import variant
from .check_strategies import any_filing

D = Decimal
DEPT_VARIANT = Path(__file__).parent / "fixtures" / "dept-variant.yaml"
PROFILES = {
    "project-2020": (lambda: load_profile("project-2020"), "project-2020"),
    "project-B": (
        lambda: variant(
            "project-2020",
            inverse_variant="B",
            over_achievement={"threshold": 20, "explain": True, "deduct": 2},
            score_from_rounded_rate=False,
        ),
        "project-2020",
    ),
    "dept-hubei": (lambda: load_profile("dept-hubei"), "dept-hubei"),
    "dept-guangdong": (lambda: load_profile("dept-guangdong"), "dept-guangdong"),
    "dept-variant": (lambda: load_profile_file(DEPT_VARIANT), str(DEPT_VARIANT)),
}


def _compare(filing: Filing, profile) -> list[tuple]:
    """(what, formula value, engine value, tie?) for every score both compute."""
    result = score(filing, profile)
    engine_rows = {r.indicator: r for r in result.rows() if r.indicator is not None}
    by_code = result.by_code()
    first_row = {}
    for i, ind in enumerate(filing.indicators):
        first_row.setdefault(ind.code, i)
    out = []
    env = FilingEnv(filing, profile)
    for f in BY_CODE["ARITH-IND-SCORE"].formulas(profile):
        for at in instances(filing, f):
            i = at[1]
            ind = filing.indicators[i]
            if fixed_leaf(profile, ind.code):  # the engine scores a fixed code's first row
                if first_row[ind.code] != i:
                    continue
                node = by_code[ind.code]
            else:
                node = engine_rows.get(i)
            if node is None or node.basis != "计算" or not node.applicable:
                continue
            e = env.at(*at)
            if not truth(f.when, e):  # inputs (or the stated score) missing
                continue
            trace = Trace()
            value = evaluate(f.expected, e, trace)
            out.append((f"row {i} {ind.code}", value, node.score, trace.has_tie()))
    t = filing.funds.total
    if t.budget and t.executed is not None:
        e, trace = FilingEnv(filing, profile), Trace()
        out.append(("执行率", evaluate(RATE, e), result.execution_rate, False))
        node = execution_node(profile)
        if profile.kind == "project" and node is not None:
            by_score = BY_CODE["ARITH-EXEC-SCORE"].formulas(profile)[0]  # budget ≠ 0
            value = evaluate(by_score.expected, e, trace)
            out.append(("执行率得分", value, by_code[node.code].score, trace.has_tie()))
    grade = evaluate(grade_of(profile, Const(result.total)), env)
    out.append(("等级", grade, result.grade, False))
    return out


@pytest.mark.parametrize("name", list(PROFILES))
def test_formulas_and_engine_agree(name):
    make, ref = PROFILES[name]
    profile = make()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(any_filing(profile, ref))
    def run(filing):
        compared = _compare(filing, profile)
        event(f"scores compared: {min(len(compared) - 1, 5)}+")
        for what, formula, engine, _tie in compared:
            assert formula == engine, what

    run()


def test_over_achievement_flag_agrees():
    profile = load_profile("project-2020")
    from perfxl.rules.common import ROW
    from perfxl.score_rules import over_achieved

    from .check_helpers import project

    f = Filing.model_validate(project())
    rows = {r.indicator: r for r in score(f, profile).rows() if r.indicator is not None}
    for i in range(len(f.indicators)):
        e = FilingEnv(f, profile).at("indicator", i)
        flag = evaluate(over_achieved(ROW["direction"], ROW["target"], ROW["actual"], D(30)), e)
        assert flag == rows[i].over_achieved


def test_engine_rounds_an_exact_half_up():
    """0.71 of a target 6 at weight 3 is exactly 0.355, which rounds half-up to 0.36."""
    assert quantitative_score("正向", D(6), D("0.71"), D(3)) == D("0.36")


def test_the_formula_rounds_that_half_up():
    profile = load_profile("project-2020")
    f = Filing.model_validate(
        {
            "profile": "project-2020",
            "header": {"name": "x", "year": 2020},
            "indicators": [
                Indicator(
                    code="2.1",
                    direction="正向",
                    target=D(6),
                    actual=D("0.71"),
                    weight=D(3),
                    score=D("0.36"),
                ).model_dump()
            ],
        }
    )
    (formula,) = [
        x
        for x in BY_CODE["ARITH-IND-SCORE"].formulas(profile)
        if x.codes == ("2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "4.1")
    ]
    assert evaluate(formula.expected, FilingEnv(f, profile).at("indicator", 0)) == D("0.36")
