"""Hypothesis filings for the checks: filled tables whose stated values are mostly right,
sometimes off by a cent, blank or wrong in kind, so every check both passes and fails.

Budgets such as 200 or 800 make exact .xx5 execution rates common: they reveal where a
float-based spreadsheet emulator rounds differently from Excel (see the live test)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from perfxl.decimal_math import r2
from perfxl.model import Filing, Finance, FundLine, Funds, IncomeLine, Project
from perfxl.profile import QUALITATIVE_PHRASES, Profile, QualitativeRule, QuantitativeRule
from perfxl.rules.base import indicator_value
from perfxl.rules.common import execution_node
from perfxl.scoring import score

from .strategies import cents, department_filings, money, project_filings

CENT = Decimal("0.01")
texts = st.text(
    alphabet=st.characters(codec="utf-8", categories=["Lo", "Nd"]), min_size=0, max_size=8
)


@st.composite
def stated(draw, correct: Decimal | None, *, wrong_kind: bool = True) -> Decimal | None:
    """Mostly the right value; else a cent off, blank, or 0."""
    if correct is None:
        return draw(st.one_of(st.none(), cents(0, 2000)))
    options = [st.just(correct)] * 4 + [
        st.just(correct + CENT),
        st.just(correct - CENT),
        st.none(),
    ]
    if wrong_kind:
        options.append(st.just(Decimal(0)))
    return draw(st.one_of(*options))


@st.composite
def funds(draw) -> Funds:
    budget = draw(
        st.one_of(
            st.sampled_from([Decimal(200), Decimal(400), Decimal(800), Decimal(0)]),
            money(10**5),
        )
    )
    executed = draw(st.one_of(cents(0, int(budget * 100) + 100), money(10**4)))
    initial = draw(st.one_of(st.just(budget), money(10**5)))
    fiscal = draw(st.one_of(st.just(budget), cents(0, int(budget * 100))))
    split = draw(st.booleans())
    lines = {}
    if split:
        for col, total in (("initial", initial), ("budget", budget), ("executed", executed)):
            part = min(total, draw(st.one_of(st.just(fiscal), cents(0, int(total * 100)))))
            rest = total - part
            carry = draw(st.one_of(st.just(rest), st.just(rest + CENT), st.none()))
            lines[col] = (part, carry, draw(st.sampled_from([Decimal(0), None])))
    total = FundLine(initial=initial, budget=budget, executed=executed)
    fiscal_l = FundLine(**{c: v[0] for c, v in lines.items()})
    carry_l = FundLine(**{c: v[1] for c, v in lines.items()})
    other_l = FundLine(**{c: v[2] for c, v in lines.items()})
    if draw(st.booleans()):
        total = total.model_copy(update={"executed": draw(st.one_of(st.none(), money(10)))})
    return Funds(total=total, fiscal=fiscal_l, carryover=carry_l, other=other_l)


def _fixed_inputs(draw, filing: Filing, profile: Profile) -> Filing:
    """Targets, directions and phrases for a department's quantitative and qualitative rows."""
    inds = []
    for ind in filing.indicators:
        rule = getattr(profile.node(ind.code), "rule", None)
        upd: dict[str, object] = {}
        if isinstance(rule, QuantitativeRule):
            upd["target"] = draw(st.one_of(st.just(Decimal(0)), cents(1, 10**6)))
            if rule.direction is None:
                upd["direction"] = draw(st.sampled_from(["正向", "反向", "等于"]))
        elif isinstance(rule, QualitativeRule):
            w = profile.node(ind.code).weight or Decimal(0)
            upd["actual_text"] = draw(st.sampled_from(QUALITATIVE_PHRASES))
            upd["score"] = draw(cents(0, int(w * 100)))
        inds.append(ind.model_copy(update=upd))
    return filing.model_copy(update={"indicators": inds})


def _fill(draw, filing: Filing, profile: Profile) -> Filing:
    """Stated values from the engine, then disturbed at random."""
    result = score(filing, profile)
    rows = {r.indicator: r for r in result.rows() if r.indicator is not None}
    by_code = result.by_code()
    inds = []
    for i, ind in enumerate(filing.indicators):
        row = rows.get(i)
        node = by_code.get(ind.code)
        correct = row.score if row else (node.score if node else None)
        upd: dict[str, object] = {"score": draw(stated(correct))}
        if indicator_value(ind, "direction", profile) == "定性" or draw(st.integers(0, 9)) == 0:
            upd["actual_text"] = draw(
                st.one_of(st.sampled_from(QUALITATIVE_PHRASES), texts, st.none())
            )
        upd["explanation"] = draw(
            st.one_of(st.none(), texts, st.text(alphabet="说明原因", min_size=195, max_size=205))
        )
        if draw(st.integers(0, 9)) == 0:
            upd["name"] = None
        if draw(st.integers(0, 9)) == 0:
            upd["weight"] = draw(st.one_of(st.none(), cents(-100, 2000)))
        if draw(st.integers(0, 12)) == 0:
            upd["direction"] = None
        if draw(st.integers(0, 12)) == 0:
            upd["applicable"] = False
        inds.append(ind.model_copy(update=upd))
    groups = {}
    for _, n in profile.walk():
        if n.children or n.open or draw(st.integers(0, 3)) == 0:
            v = draw(stated(by_code[n.code].score)) if n.code in by_code else None
            if v is not None:
                groups[n.code] = v
    t = filing.funds.total
    rate = result.execution_rate
    node = execution_node(profile)
    exec_node = by_code.get(node.code) if node and profile.kind == "project" else None
    total_line = t.model_copy(
        update={
            "rate": draw(stated(rate))
            if rate is not None
            else draw(st.sampled_from([None, Decimal(0)])),
            "score": draw(stated(exec_node.score)) if exec_node else None,
        }
    )
    remarks = {}
    for top in profile.indicators:
        if draw(st.integers(0, 3)) == 0:
            remarks[top.code] = draw(texts)
    return filing.model_copy(
        update={
            "indicators": inds,
            "group_scores": groups,
            "group_remarks": {k: v for k, v in remarks.items() if v},
            "funds": filing.funds.model_copy(update={"total": total_line}),
            "total_score": draw(stated(result.total)),
            "grade": draw(
                st.one_of(
                    st.just(result.grade), st.sampled_from(["优", "良", "中", "差"]), st.none()
                )
            ),
            "goal_expected": draw(
                st.one_of(st.none(), texts, st.text(alphabet="目标", min_size=498, max_size=502))
            ),
            "goal_actual": draw(st.one_of(st.none(), texts)),
            "texts": {"评价结论": draw(st.text(alphabet="结论", max_size=110))},
        }
    )


@st.composite
def checked_project_filings(draw, profile: Profile) -> Filing:
    base = draw(project_filings(profile))
    base = base.model_copy(update={"funds": draw(funds())})
    return _fill(draw, base, profile)


@st.composite
def _projects(draw) -> list[Project]:
    out: list[Project] = []
    for k in range(draw(st.integers(0, 3))):
        adjusted = draw(st.one_of(st.sampled_from([Decimal(0), Decimal(200)]), money(10**3)))
        spent = draw(cents(0, int(adjusted * 100) + 100))
        name = f"项目{k}"
        kids = draw(st.integers(0, 2))
        rows = []
        for j in range(kids):
            a = draw(money(10**3))
            s = draw(cents(0, int(a * 100)))
            rows.append(
                Project(
                    name=f"{name}-{j}",
                    level=2,
                    parent=name,
                    initial=a,
                    adjusted=a,
                    spent=s,
                    rate=r2(s * 100 / a) if a else None,
                )
            )
        if rows and draw(st.booleans()):
            adjusted = sum((r.adjusted or Decimal(0) for r in rows), Decimal(0))
            spent = sum((r.spent or Decimal(0) for r in rows), Decimal(0))
        rate = r2(spent * 100 / adjusted) if adjusted else None
        out.append(
            Project(
                name=name,
                level=1,
                initial=adjusted,
                adjusted=adjusted,
                spent=spent,
                rate=draw(stated(rate))
                if rate is not None
                else draw(st.sampled_from([None, Decimal(0)])),
            )
        )
        out.extend(rows)
    return out


@st.composite
def checked_department_filings(draw, profile: Profile, profile_ref: str) -> Filing:
    base = draw(department_filings(profile_ref))
    base = base.model_copy(update={"funds": draw(funds())})
    filing = _fill(draw, _fixed_inputs(draw, base, profile), profile)
    amounts = draw(st.lists(st.one_of(money(10**3), st.none()), max_size=3))
    income = [IncomeLine(name=f"来源{i}", amount=a) for i, a in enumerate(amounts)]
    basic = draw(st.one_of(st.none(), money(10**3)))
    project = draw(st.one_of(st.none(), money(10**3)))
    spending = (basic or Decimal(0)) + (project or Decimal(0))
    spending = draw(st.one_of(st.just(spending), st.just(spending + CENT), st.none()))
    share = r2(basic * 100 / spending) if basic is not None and spending else None
    income_sum = sum((a for a in amounts if a is not None), Decimal(0))
    finance = Finance(
        income=income,
        income_total=draw(stated(income_sum)),
        basic=basic,
        project=project,
        expenditure_total=spending,
        basic_share=draw(stated(share)) if share is not None else None,
        project_share=draw(st.one_of(st.none(), cents(0, 10000))),
    )
    projects = draw(_projects())
    if projects and draw(st.booleans()):
        finance = finance.model_copy(
            update={
                "project": sum(
                    (p.spent or Decimal(0) for p in projects if p.level == 1), Decimal(0)
                )
            }
        )
    return filing.model_copy(update={"finance": finance, "projects": projects})


def any_filing(profile: Profile, profile_ref: str) -> st.SearchStrategy[Filing]:
    """Filled filings of a profile (`profile_ref`: its id or file, for department ones)."""
    if profile.kind == "project":
        return checked_project_filings(profile)
    return checked_department_filings(profile, profile_ref)
