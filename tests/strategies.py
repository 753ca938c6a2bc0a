"""Hypothesis strategies for filings of every shipped profile, reused across test modules."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import strategies as st

from perfxl.model import Filing, FundLine, Funds, Header, Indicator
from perfxl.profile import QUALITATIVE_PHRASES, Profile, load_profile

CENT = Decimal("0.01")


def money(max_value: int = 10**7) -> st.SearchStrategy[Decimal]:
    return st.integers(0, max_value * 100).map(lambda c: Decimal(c) * CENT)


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: Decimal(c) * CENT)


@st.composite
def partition(draw, total: Decimal, parts: int) -> list[Decimal]:
    """Split `total` into `parts` positive 2-decimal weights that add up exactly."""
    units = int(total * 100)
    cuts = sorted(draw(st.sets(st.integers(1, units - 1), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, units]
    return [Decimal(b - a) * CENT for a, b in itertools.pairwise(bounds)]


texts = st.text(
    alphabet=st.characters(codec="utf-8", categories=["Lu", "Ll", "Lo", "Nd"]),
    min_size=1,
    max_size=12,
)


@st.composite
def fund_lines(draw) -> Funds:
    budget = draw(money(10**5))
    executed = draw(st.one_of(cents(0, int(budget * 100)), money(10**5)))
    return Funds(total=FundLine(initial=draw(money(10**5)), budget=budget, executed=executed))


@st.composite
def indicator(draw, code: str, weight: Decimal) -> Indicator:
    direction = draw(st.sampled_from(["正向", "反向", "等于", "定性"]))
    if direction == "定性":
        phrase = draw(st.sampled_from(QUALITATIVE_PHRASES))
        return Indicator(
            code=code,
            name=draw(texts),
            direction=direction,
            target_text=draw(texts),
            actual_text=phrase,
            weight=weight,
            score=draw(cents(0, int(weight * 100))),
        )
    target = draw(st.one_of(st.just(Decimal(0)), cents(1, 10**8)))
    actual = draw(st.one_of(cents(-(10**4), 10**8), st.just(target)))
    return Indicator(
        code=code,
        name=draw(texts),
        direction=direction,
        unit=draw(st.sampled_from(["%", "个", "万元"])),
        target=target,
        actual=actual,
        weight=weight,
    )


@st.composite
def project_filings(draw, profile: Profile | None = None) -> Filing:
    p = profile or load_profile("project-2020")
    inds: list[Indicator] = []
    for top in p.indicators:
        if not top.children:
            continue
        n = draw(st.integers(1, 4))
        weights = draw(partition(top.weight, n))
        for w in weights:
            child = draw(st.sampled_from(top.children))
            inds.append(draw(indicator(child.code, w)))
    return Filing(
        profile=p.id,
        header=Header(name=draw(texts), year=draw(st.integers(2018, 2030))),
        funds=draw(fund_lines()),
        indicators=inds,
    )


@st.composite
def department_filings(draw, profile_id: str) -> Filing:
    p = load_profile(profile_id)
    inds = []
    for _, node in p.walk():
        if node.children or node.rule is None:
            continue
        w = node.weight or Decimal(0)
        kind = node.rule.kind
        if kind in ("manual",):
            inds.append(Indicator(code=node.code, score=draw(cents(0, int(w * 100)))))
        elif kind == "deduction":
            inds.append(Indicator(code=node.code, actual=Decimal(draw(st.integers(0, 6)))))
        else:
            inds.append(Indicator(code=node.code, actual=draw(cents(-5000, 20000))))
    return Filing(
        profile=p.id,
        header=Header(name=draw(texts), year=2020),
        funds=draw(fund_lines()),
        indicators=inds,
    )
