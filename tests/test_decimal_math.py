from decimal import Decimal

import pytest

from perfxl.decimal_math import D, fmt2, r2, round_half_up
from perfxl.scoring import percent


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("9.985", 2, "9.99"),  # the official example; float round() gives 9.98
        ("1.005", 2, "1.01"),  # Excel and LibreOffice give 1.01
        ("2.675", 2, "2.68"),
        ("-2.5", 0, "-3"),  # Excel ROUND rounds halves away from zero
        ("-1.005", 2, "-1.01"),
        ("0.125", 2, "0.13"),
        ("83.8370", 2, "83.84"),
    ],
)
def test_round_half_up_matches_excel_round(value, places, expected):
    assert round_half_up(Decimal(value), places) == Decimal(expected)


def test_python_round_would_be_wrong_here():
    # guards the reason this module exists
    assert round(9.985, 2) == 9.98
    assert r2(Decimal("9.985")) == Decimal("9.99")


def test_percent_is_none_when_denominator_is_zero():
    assert percent(Decimal(0), Decimal(0)) is None
    assert percent(Decimal("3233.46"), Decimal("3856.83")) == Decimal("83.84")


def test_D_takes_floats_by_their_shortest_repr():
    assert D(99.85) == Decimal("99.85")
    with pytest.raises(TypeError):
        D(True)
    with pytest.raises(ValueError, match="不是有效的数字"):
        D("12a")


def test_fmt2():
    assert fmt2(None) == "—"
    assert fmt2(Decimal("9.985")) == "9.99"
