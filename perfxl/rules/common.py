"""Expressions and profile facts shared by several rule families."""

from __future__ import annotations

from decimal import Decimal

from ..decimal_math import fmt2
from ..expr import And, Expr, Field, IsBlank, IsError, Not, Or, Scalar
from ..expr import _compare as compare
from ..model import FUND_LINES, OWN_UNIT
from ..profile import (  # noqa: F401 (shared here)
    ExecutionRateRule,
    Node,
    Profile,
    execution_node,
    execution_remark_path,
)
from ..score_rules import (  # noqa: F401 (shared here)
    APPLICABLE,  # a row is applicable unless marked 不适用 (a blank cell means applicable)
    BUDGET,
    EXECUTED,
    HAS_RATE,
    RATE,
    ROW,
)

# ROW, BUDGET, EXECUTED, RATE and HAS_RATE are declared with the scoring rules (score_rules)
STATED_RATE = Field("funds.total.rate")
STATED_EXEC_SCORE = Field("funds.total.score")
TOTAL = Field("total_score")
GRADE = Field("grade")

FUND_COLUMNS = {"initial": "年初预算数", "budget": "全年预算数", "executed": "全年执行数"}


# What a unit types into a fixed (profile) indicator row: its name, weight and 性质 are printed.
FIXED_INPUTS = ("score", "target", "target_text", "actual", "actual_text", "explanation")


def first_flags(
    names: list[Scalar], levels: list[Scalar], units: list[Scalar], *, by_unit: bool
) -> list[Scalar]:
    """1 on each row that is the first 一级项目 of its name (in the department, or within
    its unit when `by_unit`: 本级 is a blank unit or 本级), else 0. Cells compared as Excel's
    "=" compares them; the template's hidden helper formulas compute the same."""
    one = Decimal(1)
    if all(v is None or isinstance(v, str) for v in (*names, *units)):
        # text and blanks (every real list): Excel's "=" is casefolded equality, and a
        # blank unit is 本级, so one pass with a set of (name, unit) keys seen so far
        own = OWN_UNIT.casefold()
        seen: set[tuple[str, str | None]] = set()
        flags: list[Scalar] = []
        for name, level, unit in zip(names, levels, units, strict=True):
            if not (compare("=", level, one) and isinstance(name, str) and name != ""):
                flags.append(Decimal(0))
                continue
            where = ((unit or "").casefold() or own) if by_unit else None
            key = (name.casefold(), where)
            flags.append(Decimal(0) if key in seen else Decimal(1))
            seen.add(key)
        return flags
    out: list[Scalar] = []  # numbers or truth values typed as names or units: compare pairwise
    for i, (name, level) in enumerate(zip(names, levels, strict=True)):
        if not (compare("=", level, one) and compare("<>", name, "")):
            out.append(Decimal(0))
            continue
        n = 0
        for j in range(i + 1):
            if not (compare("=", levels[j], one) and compare("=", names[j], name)):
                continue
            if by_unit and not _same_unit(units[j], units[i]):
                continue
            n += 1
        out.append(Decimal(1) if n == 1 else Decimal(0))
    return out


def _same_unit(a: Scalar, b: Scalar) -> bool:
    own = (compare("=", b, "") and compare("=", a, OWN_UNIT)) or (
        compare("=", b, OWN_UNIT) and compare("=", a, "")
    )
    return compare("=", a, b) or own


def entered(*names: str) -> Expr:
    """Some of these cells of the row were filled in."""
    return Or(*(Not(IsBlank(ROW[n])) for n in names))


def present(*names: str) -> Expr:
    """Some of these cells of the row hold something: not blank, and not #REF! (a row the
    unit deleted leaves #REF! where the 审核 sheet referred to it)."""
    return Or(*(And(Not(IsError(ROW[n])), Not(IsBlank(ROW[n]))) for n in names))


# What a unit types into a row it uses; a fixed row's name, weight and direction are printed.
def row_used(profile: Profile, kind: str) -> Expr:
    """A row of that table the reader takes (one of its input cells is not blank): per-row
    checks run on these rows only, in Python (a blank row is no row of the filing) and on
    the live 审核 sheet alike; a deleted row is no row either."""
    if kind == "project":
        return present(
            "name", "level", "parent", "initial", "adjusted", "spent", "unit", "unit_code"
        )
    if kind == "income":
        return present("name", "amount", "share")
    if kind == "subtotal":
        return present("unit", "initial", "adjusted", "spent")
    if kind == "count":
        return present("unit", "first", "second")
    if profile.kind == "project":  # a unit-defined row: every column is the unit's
        return present("name", "direction", "unit", "weight", "score", "target", "actual",
                       "explanation", "target_initial")  # fmt: skip
    # a fixed row: its name, weight and 性质 are printed
    return present(*FIXED_INPUTS)


USED_OPEN = entered(
    "name", "direction", "weight", "score", "target", "target_text", "actual", "actual_text"
)
USED_FIXED = entered(*FIXED_INPUTS)


def open_codes(profile: Profile) -> tuple[str, ...]:
    return tuple(n.code for _, n in profile.walk() if n.open)


def fixed_leaves(profile: Profile) -> list[Node]:
    return [n for _, n in profile.walk() if not n.children and not n.open]


def open_descendants(node: Node) -> list[str]:
    if node.open:
        return [node.code]
    return [c for child in node.children for c in open_descendants(child)]


def fund_label(line: str, column: str) -> str:
    return f"{FUND_LINES[line]}的{FUND_COLUMNS.get(column, column)}"


def money(d: Decimal | None) -> str:
    return fmt2(d)
