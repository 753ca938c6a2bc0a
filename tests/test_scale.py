"""Linear in rows: the indexed yuan heuristic and column aggregates give today's results."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from perfxl.numtext import looks_like_yuan
from perfxl.workbook.read import yuan_suspects


def _old_yuan(cells: list[tuple[str, int, int, Decimal]]) -> list[int]:
    """The heuristic as first written: every cell against its whole row and column."""
    by_row: dict[tuple[str, int], list[Decimal]] = {}
    by_col: dict[tuple[str, int], list[Decimal]] = {}
    for sheet, row, col, v in cells:
        by_row.setdefault((sheet, row), []).append(v)
        by_col.setdefault((sheet, col), []).append(v)
    out = []
    for i, (sheet, row, col, v) in enumerate(cells):
        near = [*by_row[(sheet, row)], *by_col[(sheet, col)]]
        near.remove(v)
        near.remove(v)
        if looks_like_yuan(v, near):
            out.append(i)
    return out


def _amount(rng: random.Random) -> Decimal:
    kind = rng.random()
    if kind < 0.08:
        return Decimal(0)
    if kind < 0.12:
        return Decimal(-rng.randint(1, 500))
    if kind < 0.2:  # a 元 slip
        return Decimal(rng.randint(1_000_000, 9_000_000))
    if kind < 0.3:  # repeated figures, written differently
        return rng.choice([Decimal("100"), Decimal("100.0"), Decimal("323.35"), Decimal("1")])
    return Decimal(rng.randint(1, 99_999)) / Decimal(rng.choice([1, 10, 100]))


@pytest.mark.parametrize("seed", range(60))
def test_indexed_yuan_heuristic_matches_the_original(seed: int) -> None:
    rng = random.Random(seed)
    cells = []
    for sheet in ("表一", "表二")[: rng.randint(1, 2)]:
        rows, cols = rng.randint(1, 14), rng.randint(1, 9)
        for r in range(rows):
            for c in range(cols):
                if rng.random() < 0.75:
                    cells.append((sheet, r + 1, c + 1, _amount(rng)))
    rng.shuffle(cells)
    assert yuan_suspects(cells) == _old_yuan(cells)


def test_a_slip_among_many_rows_is_found() -> None:
    cells = [("表", r, c, Decimal(100 + r)) for r in range(1, 50) for c in range(1, 6)]
    cells[37] = ("表", cells[37][1], cells[37][2], Decimal(1_070_000))
    assert yuan_suspects(cells) == _old_yuan(cells) == [37]


def test_a_long_table_gives_the_originals_result() -> None:
    """400 rows × 8 money columns (a department list): the same cells as the original.
    Its speed is measured in benchmarks/bench_sizes.py, not asserted here."""
    rng = random.Random(7)
    cells = [("表", r, c, _amount(rng)) for r in range(400) for c in range(8)]
    found = yuan_suspects(cells)
    assert found == _old_yuan(cells)
    assert found  # random data has its slips
