"""Filled workbooks of a given size, written by the template writer: project tables with
many indicators, department tables with many project rows, and returns whose blocks each
grew by a different number of inserted rows (every file a different layout)."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from perfxl.filing_io import load_filing
from perfxl.model import Filing, FundLine, Funds, Header, Indicator, Project
from perfxl.profile import load_profile
from perfxl.workbook.write import build_workbook

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _leaves(profile_id: str) -> list[tuple[str, Decimal]]:
    """(二级 code, its weight) of every block a project table's 三级 rows go into."""
    p = load_profile(profile_id)
    return [(sub.code, top.weight) for top in p.indicators[1:] for sub in top.children]


def project_filing(n: int, seed: int = 1, spread: bool = False) -> Filing:
    """A project filing with `n` 三级 indicators; `spread` puts a random number in each
    block (so files differ in layout), otherwise they are dealt round the blocks evenly."""
    rng = random.Random(seed)
    blocks = _leaves("project-2020")
    counts = [0] * len(blocks)
    for i in range(n):
        counts[rng.randrange(len(blocks)) if spread else i % len(blocks)] += 1
    inds = []
    for (code, top_weight), k in zip(blocks, counts, strict=True):
        share = sum(1 for c, _ in blocks if c.split(".")[0] == code.split(".")[0])
        for j in range(k):
            w = (top_weight / share / k).quantize(Decimal("0.01"))
            t = Decimal(rng.randint(1, 100000)) / 100
            inds.append(
                Indicator(
                    code=code,
                    name=f"指标{code}-{j}",
                    direction=rng.choice(["正向", "反向", "等于"]),
                    unit="个",
                    target=t,
                    actual=t * Decimal(rng.randint(50, 150)) / 100,
                    weight=w,
                )
            )
    budget = Decimal(rng.randint(1000, 10**8)) / 100
    return Filing(
        profile="project-2020",
        header=Header(name=f"项目{seed}", year=2023),
        funds=Funds(total=FundLine(budget=budget, executed=budget * Decimal("0.9"))),
        indicators=inds,
    )


def department_filing(n: int, seed: int = 1) -> Filing:
    """The bundled Guangdong department example with `n` project rows: 一级项目 of three
    二级 each, in the department itself and two 下属单位, sums consistent."""
    rng = random.Random(seed)
    base = load_filing(EXAMPLES / "dept-guangdong-units-2023.yaml")
    rows: list[Project] = []
    units = [(None, None), ("下属一中心", "901002"), ("下属二中心", "901003")]
    g = 0
    while len(rows) < n:
        unit, code = units[g % len(units)]
        kids = [Decimal(rng.randint(100, 10**6)) / 100 for _ in range(min(3, n - len(rows) - 1))]
        name = f"一级项目{g}"
        total = sum(kids, Decimal(0))
        rows.append(Project(name=name, level=1, initial=total, adjusted=total, spent=total,
                            rate=Decimal(100), unit=unit, unit_code=code))  # fmt: skip
        for j, a in enumerate(kids):
            rows.append(Project(name=f"{name}-{j}", level=2, parent=name, initial=a, adjusted=a,
                                spent=a, rate=Decimal(100), unit=unit, unit_code=code))  # fmt: skip
        g += 1
    return base.model_copy(update={"projects": rows[:n]})


def write(filing: Filing, path: Path) -> Path:
    return build_workbook(load_profile(filing.profile), path, filing)
