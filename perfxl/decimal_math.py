"""Decimal arithmetic with Excel's ROUND semantics.

Scores and money are signed off by accountants, so they are computed in Decimal and
rounded half-up (四舍五入) exactly as Excel's ROUND does: 9.985 → 9.99, where Python's
float round() gives 9.98.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_WIDE = Context(prec=400)  # exact rounding of any amount a table can hold, however large
_QUANTS = {n: Decimal(1).scaleb(-n) for n in range(0, 7)}


def D(value: object) -> Decimal:
    """Turn an int, str or Decimal into a Decimal; floats go through their shortest repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("布尔值不是数字 (a bool is not a number)")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"「{value}」不是有效的数字") from exc


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """Excel ROUND(value, places): halves go away from zero."""
    return value.quantize(_QUANTS[places], rounding=ROUND_HALF_UP, context=_WIDE)


def r2(value: Decimal) -> Decimal:
    """Round to 2 decimals, the precision of every score, rate and 万元 amount."""
    return value.quantize(_QUANTS[2], rounding=ROUND_HALF_UP, context=_WIDE)


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


def fmt2(value: Decimal | None, empty: str = "—") -> str:
    """Two-decimal text for tables; '—' for a value that does not exist."""
    return empty if value is None else f"{r2(value):.2f}"
