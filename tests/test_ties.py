"""Exact .xx5 ties of every rule kind: the workbook's own formulas, recalculated by
LibreOffice in binary floating point, give the Python engine's decimal result.

2 − 3.51 × 0.5 is 0.24499999999999744 in a spreadsheet, so a plain ROUND(…, 2) shows 0.24
where the rule gives 0.25. The cases here are drawn (hypothesis) from grids of inputs whose
exact score is a tie, for every kind: quantitative 正向 / 反向 A / 反向 B / 等于 (and the
deviation deduction), the execution rate and its score, ratio, penalty, deduction, bands,
judged scores and the grade boundary. Each workbook is recalculated by LibreOffice; every
复算 cell must equal the engine's score and the live 审核 sheet must show no error.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from perfxl.model import Filing, FundLine, Funds, Header, Indicator
from perfxl.office import Office
from perfxl.profile import Profile, load_profile, load_profile_file
from perfxl.rules import live_checks
from perfxl.rules.common import execution_node
from perfxl.scoring import quantitative_score, score
from perfxl.verdict import check_path
from perfxl.workbook.layout import AUDIT_SHEET, layout_for
from perfxl.workbook.read import read_workbook
from perfxl.workbook.write import AUDIT_FIRST_ROW, build_workbook, rows_needed
from tests.check_helpers import variant
from tests.office_fixture import office  # noqa: F401  (fixture)
from tests.test_write import values

pytestmark = pytest.mark.office
D = Decimal
CENT = D("0.01")
DEPT_VARIANT = Path(__file__).parent / "fixtures" / "dept-variant.yaml"
SETTINGS = settings(
    max_examples=4, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


def is_tie(x: Decimal) -> bool:
    """Exactly half-way between two cents (…5 in the third decimal, nothing after)."""
    thousandths = x * 1000
    return thousandths == thousandths.to_integral_value() and int(thousandths) % 10 == 5


@pytest.fixture(scope="module")
def lo(office: Office) -> Office:  # noqa: F811
    return office


# ------------------------------------------------------------------ tie grids


@cache
def quantitative_grid(direction: str, variant_: str) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(target, actual, weight) whose directional score is an exact tie, not clamped."""
    out = []
    for w in (D(3), D(5), D(7), D(10), D("2.5")):
        for t in (D(6), D(8), D(20), D(40), D(90), D(125)):
            for cents in range(1, 400, 3):
                a = t * (D(cents) / 200 if direction != "反向" else 1 + D(cents) / 400)
                a = a.quantize(CENT)
                if direction == "正向" or direction == "等于":
                    raw = a * w / t
                elif variant_ == "A":
                    raw = t * w / a
                else:
                    raw = (2 * t - a) * w / t
                if 0 < raw < w and is_tie(raw):
                    out.append((t, a, w))
    return out


@cache
def penalty_grid(per_point: Decimal, weight: Decimal) -> list[Decimal]:
    """Actual values (%, 2 decimals, over a bound of 100) giving a tie."""
    out = []
    for cents in range(1, 2000):
        a = 100 + D(cents) / 100
        raw = weight - (a - 100) * per_point
        if 0 < raw < weight and is_tie(raw):
            out.append(a)
    return out


@cache
def ratio_grid(weight: Decimal) -> list[Decimal]:
    return [D(c) / 100 for c in range(1, 10000) if is_tie(D(c) / 100 * weight / 100)]


@cache
def rate_grid() -> list[tuple[Decimal, Decimal]]:
    """(budget, executed): a 执行率 that is itself a tie (2.01 / 200 = 1.005 %)."""
    out = []
    for budget in (D(200), D(400), D(800), D(1000)):
        for cents in range(1, 80000, 37):
            executed = D(cents) / 100
            rate = executed * 100 / budget
            if executed <= budget and is_tie(rate):
                out.append((budget, executed))
    return out


# ------------------------------------------------------------------ helpers


def recalculated(lo: Office, folder: Path, name: str, profile: Profile, f: Filing) -> Path:
    sizes = rows_needed(profile, f, 5) if profile.kind == "project" else 5
    built = build_workbook(profile, folder / f"{name}.built.xlsx", f, rows_per_group=sizes)
    return lo.recalculate(built, folder / f"{name}.xlsx")


def cells(path: Path) -> dict[tuple[str, str], object]:
    return values(path)  # every cell as LibreOffice saved it, by (sheet, A1)


def as_cents(v: object) -> Decimal:
    assert isinstance(v, int | float) and not isinstance(v, bool), v
    return D(repr(float(v))).quantize(CENT)


def live_failures(values: dict[tuple[str, str], object]) -> set[str]:
    """Codes of the live 审核 sheet's rows that LibreOffice computed as 错误 or 提示."""
    out, row = set(), AUDIT_FIRST_ROW
    while values.get((AUDIT_SHEET, f"A{row}")) not in (None, ""):
        if values.get((AUDIT_SHEET, f"D{row}")) in ("错误", "提示"):
            out.add(str(values[(AUDIT_SHEET, f"B{row}")]))
        row += 1
    return out


def assert_one_verdict(path: Path, values: dict[tuple[str, str], object], profile: Profile) -> None:
    """The live 审核 sheet and `perfxl check` fail the same live rules (none on these
    filings' scores: every stated score is the rule's)."""
    live = {lc.code for lc in live_checks(profile)}
    report = check_path(path, profile).report
    assert report.usable, report.problems
    python = {f.code for f in report.findings if not f.explained and f.code in live}
    assert live_failures(values) == python
    assert not python & {"ARITH-IND-SCORE", "ARITH-EXEC-SCORE", "ARITH-TOTAL", "ARITH-GRADE"}


# ------------------------------------------------------------------ project rows


def project_filing(rows: list[Indicator], budget: Decimal, executed: Decimal) -> Filing:
    return Filing(
        profile="project-2020",
        header=Header(name="精度测试项目", year=2024),
        funds=Funds(total=FundLine(initial=budget, budget=budget, executed=executed)),
        indicators=rows,
        goal_expected="目标",
        goal_actual="完成",
    )


PROJECT_PROFILES = {
    "project-2020": lambda: load_profile("project-2020"),
    "project-B-deduct": lambda: variant(
        "project-2020",
        inverse_variant="B",
        over_achievement={"threshold": 20, "explain": True, "deduct": "0.005"},
    ),
}


@pytest.mark.parametrize("pid", list(PROJECT_PROFILES))
@SETTINGS
@given(data=st.data())
def test_directional_and_rate_ties(
    lo: Office, tmp_path: Path, pid: str, data: st.DataObject
) -> None:
    profile = PROJECT_PROFILES[pid]()
    var = profile.options.inverse_variant
    rows = []
    codes = ["2.1", "2.2", "2.3", "3.1", "3.2", "4.1"]
    for n, direction in enumerate(["正向", "反向", "等于", "正向", "反向", "等于"]):
        for t, a, w in data.draw(st.lists(st.sampled_from(quantitative_grid(direction, var)),
                                          min_size=3, max_size=3)):  # fmt: skip
            rows.append(Indicator(code=codes[n], name=f"指标{len(rows) + 1}", direction=direction,
                                  target=t, actual=a, weight=w))  # fmt: skip
    budget, executed = data.draw(st.sampled_from(rate_grid()))
    f = project_filing(rows, budget, executed)
    result = score(f, profile)
    for row in result.rows():  # the unit states exactly what the rule gives
        if row.indicator is not None:
            f.indicators[row.indicator].score = row.score
    f.funds.total.score = result.by_code()[execution_node(profile).code].score
    path = recalculated(lo, tmp_path, "ties", profile, f)
    values = cells(path)
    back = read_workbook(path, profile)
    for i, ind in enumerate(f.indicators):
        src = back.where(f"indicators.{i}.score")
        assert src is not None and src.cell
        got = as_cents(values[(src.sheet, "K" + src.cell[1:])])
        want = next(r.score for r in result.rows() if r.indicator == i)
        assert got == want, (ind.direction, ind.target, ind.actual, ind.weight, got, want)
    sheet = layout_for(profile).form_sheet
    assert as_cents(values[(sheet, "L6")]) == result.execution_rate
    assert is_tie(executed * 100 / budget)
    assert_one_verdict(path, values, profile)


def test_the_grid_really_holds_float_traps() -> None:
    """The grids are not vacuous: plain binary floating point gets some of them wrong."""
    wrong = 0
    for t, a, w in quantitative_grid("正向", "A"):
        exact = quantitative_score("正向", t, a, w)
        float_round = D(repr(round(float(a) * float(w) / float(t) + 0, 2))).quantize(CENT)
        wrong += float_round != exact
    assert wrong > 0


# ------------------------------------------------------------------ department leaves


def dept_filing(profile: Profile, actuals: dict[str, Decimal], funds: tuple) -> Filing:
    rows = []
    for _, node in profile.walk():
        if node.children or node.open:
            continue
        rows.append(Indicator(code=node.code, actual=actuals.get(node.code)))
    budget, executed = funds
    return Filing(
        profile=profile.id,
        header=Header(name="精度测试单位", year=2024),
        funds=Funds(total=FundLine(initial=budget, budget=budget, executed=executed)),
        indicators=rows,
    )


@SETTINGS
@given(data=st.data())
def test_department_rule_ties(lo: Office, tmp_path: Path, data: st.DataObject) -> None:
    """Penalty (0.3 per point), deduction (2.5 per count), ratio and the execution rate of
    the variant profile, and the penalty and ratio leaves of dept-hubei."""
    for profile in (load_profile_file(DEPT_VARIANT), load_profile("dept-hubei")):
        actuals: dict[str, Decimal] = {}
        for _, node in profile.walk():
            rule, w = node.rule, node.weight
            if node.children or rule is None or w is None:
                continue
            if rule.kind == "penalty" and rule.bound == 100 and rule.side == "over":
                grid = penalty_grid(rule.per_point, w)
                if grid:
                    actuals[node.code] = data.draw(st.sampled_from(grid))
            elif rule.kind == "ratio":
                grid = ratio_grid(w)
                if grid:
                    actuals[node.code] = data.draw(st.sampled_from(grid))
            elif rule.kind == "deduction":
                actuals[node.code] = data.draw(st.sampled_from([D("0.01"), D("0.03"), D("1.01")]))
            elif rule.kind == "bands":
                actuals[node.code] = data.draw(st.sampled_from([D("89.995"), D("75"), D("90")]))
        f = dept_filing(profile, actuals, data.draw(st.sampled_from(rate_grid())))
        result = score(f, profile)
        for row in result.rows():
            if row.indicator is None and not row.children and row.code in actuals:
                i = next(n for n, ind in enumerate(f.indicators) if ind.code == row.code)
                f.indicators[i].score = row.score
        path = recalculated(lo, tmp_path, f"dept-{profile.id}", profile, f)
        values = cells(path)
        back = read_workbook(path, profile)
        by_code = {r.code: r.score for r in result.rows()}
        for ind in f.indicators:
            if ind.code not in actuals:
                continue
            i = next(n for n, x in enumerate(back.indicators) if x.code == ind.code)
            src = back.where(f"indicators.{i}.actual")
            assert src is not None and src.cell
            got = as_cents(values[(src.sheet, "I" + src.cell[1:])])
            assert got == by_code[ind.code], (profile.id, ind.code, ind.actual, got)
        assert_one_verdict(path, values, profile)


def test_the_published_case_of_a_penalty_tie(lo: Office, tmp_path: Path) -> None:
    """公用经费控制率 103.51 %: 2 − 3.51 × 0.5 = 0.245 → 0.25 (a spreadsheet's binary
    arithmetic gives 0.24499999999999744, and a plain ROUND 0.24)."""
    profile = load_profile("dept-hubei")
    f = dept_filing(profile, {"2.1.6": D("103.51")}, (D(100), D(100)))
    result = score(f, profile)
    i = next(n for n, ind in enumerate(f.indicators) if ind.code == "2.1.6")
    f.indicators[i].score = D("0.25")
    assert {r.code: r.score for r in result.rows()}["2.1.6"] == D("0.25")
    path = recalculated(lo, tmp_path, "hubei-0.245", profile, f)
    values = cells(path)
    back = read_workbook(path, profile)
    j = next(n for n, x in enumerate(back.indicators) if x.code == "2.1.6")
    src = back.where(f"indicators.{j}.actual")
    assert as_cents(values[(src.sheet, "I" + src.cell[1:])]) == D("0.25")
    assert_one_verdict(path, values, profile)
