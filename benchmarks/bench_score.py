"""Scoring 10,000 project filings in one process (target: ≥ 5,000 filings/s on 2 cores).

Run: python benchmarks/bench_score.py [N]
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import timed

from perfxl.model import Filing, FundLine, Funds, Header, Indicator
from perfxl.profile import QUALITATIVE_PHRASES, load_profile
from perfxl.scoring import score


def make_filings(n: int, seed: int = 20201) -> list[Filing]:
    """Realistic filings: 12 三级 indicators of mixed direction, like the bundled example."""
    rng = random.Random(seed)
    p = load_profile("project-2020")
    out = []
    for i in range(n):
        inds = []
        for top in p.indicators[1:]:
            k = 4 if top.weight >= 30 else 2
            w = top.weight / k
            for j in range(k):
                code = top.children[j % len(top.children)].code
                direction = rng.choice(["正向", "正向", "反向", "等于", "定性"])
                if direction == "定性":
                    inds.append(
                        Indicator(
                            code=code,
                            name=f"定性{j}",
                            direction="定性",
                            weight=w,
                            actual_text=rng.choice(QUALITATIVE_PHRASES),
                            score=Decimal(rng.randint(0, int(w * 100))) / 100,
                        )
                    )
                else:
                    t = Decimal(rng.randint(1, 100000)) / 100
                    a = t * Decimal(rng.randint(50, 150)) / 100
                    inds.append(
                        Indicator(
                            code=code,
                            name=f"指标{j}",
                            direction=direction,
                            target=t,
                            actual=a,
                            weight=w,
                        )
                    )
        budget = Decimal(rng.randint(1000, 10**8)) / 100
        executed = budget * Decimal(rng.randint(5000, 10000)) / 10000
        out.append(
            Filing(
                profile=p.id,
                header=Header(name=f"项目{i}", year=2023),
                funds=Funds(total=FundLine(budget=budget, executed=executed)),
                indicators=inds,
            )
        )
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    profile = load_profile("project-2020")
    filings = make_filings(n)
    score(filings[0], profile)  # warm-up
    with timed("评分（scoring）", n):
        for f in filings:
            score(f, profile)


if __name__ == "__main__":
    main()
