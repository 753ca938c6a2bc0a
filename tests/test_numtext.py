"""Tests for perfxl.numtext: exact parsing of hand-typed numbers in Chinese workbooks."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfxl.numtext import (
    NumberTextError,
    looks_like_yuan,
    parse_amount_wanyuan,
    parse_number,
)

D = Decimal

# ASCII → full width, as produced by a Chinese IME in full-width mode.
FULL_WIDTH = str.maketrans(
    {
        **{str(i): chr(0xFF10 + i) for i in range(10)},
        ",": "，",
        ".": "．",
        "-": "－",
        "+": "＋",
        "(": "（",
        ")": "）",
        "%": "％",
    }
)


def same(actual: Decimal | None, expected: Decimal | None) -> bool:
    """Equal in value *and* an exact Decimal (never a float sneaking through)."""
    if expected is None:
        return actual is None
    return isinstance(actual, Decimal) and actual == expected


# --------------------------------------------------------------------------- parse_number

PLAIN_CASES = [
    # plain, signs, thousands separators
    ("0", D("0")),
    ("42", D("42")),
    ("-12.5", D("-12.5")),
    ("+12", D("12")),
    ("−12", D("-12")),  # U+2212 MINUS SIGN
    ("－12", D("-12")),  # full-width hyphen-minus
    ("1,234,567.89", D("1234567.89")),
    ("1,234", D("1234")),
    ("-1,234.5", D("-1234.5")),
    ("5.", D("5")),
    (".5", D("0.5")),
    ("0012", D("12")),
    # full width digits and punctuation
    ("１２３．４５", D("123.45")),
    ("１，２３４．５０", D("1234.50")),
    ("１,２３４.５", D("1234.5")),
    ("＋１２", D("12")),
    # spaces (ASCII, full-width, NBSP) and invisible characters
    ("  12.5  ", D("12.5")),
    ("\u300012.5\u3000", D("12.5")),
    ("\xa012.5", D("12.5")),
    ("12 万元", D("12")),
    ("1, 234", D("1234")),
    ("\ufeff12\u200b", D("12")),
    # bracketed negatives
    ("(1,234.50)", D("-1234.50")),
    ("（1,234.50）", D("-1234.50")),
    ("（12.5）", D("-12.5")),
    ("( 12 )", D("-12")),
    ("(1,234.50)万元", D("-1234.50")),
    ("(1,234.50万元)", D("-1234.50")),
    # units stripped (not converted)
    ("1,234.50万元", D("1234.50")),
    ("12万", D("12")),
    ("3233460元", D("3233460")),
    ("12个", D("12")),
    ("3人", D("3")),
    ("150人次", D("150")),
    ("5次", D("5")),
    ("30天", D("30")),
    ("4项", D("4")),
    ("2.5个百分点", D("2.5")),
    ("90分", D("90")),
    ("1,200平方米", D("1200")),
    ("¥1,234.00", D("1234.00")),
    ("￥-5", D("-5")),
    # percent sign without percent=True gives a fraction
    ("95%", D("0.95")),
    ("95％", D("0.95")),
    ("９５％", D("0.95")),
    ("99.85%", D("0.9985")),
    ("(5%)", D("-0.05")),
    ("0.5%", D("0.005")),
    # scientific notation
    ("1.5E3", D("1500")),
    ("1.5e+3", D("1500")),
    ("2e-2", D("0.02")),
    ("-1.2E2", D("-120")),
    # zero is never negative
    ("-0", D("0")),
    ("(0.00)", D("0")),
]


@pytest.mark.parametrize(("text", "expected"), PLAIN_CASES)
def test_parse_number_text(text: str, expected: Decimal) -> None:
    assert same(parse_number(text), expected)


def test_negative_zero_is_normalised() -> None:
    for text in ("-0", "(0.00)", "-0.0%"):
        result = parse_number(text)
        assert result is not None and not result.is_signed()
    result = parse_number(D("-0.00"))
    assert result is not None and not result.is_signed()


def test_scientific_result_has_no_exponent() -> None:
    assert str(parse_number("1.5E3")) == "1500"
    assert str(parse_number(1e16)) == "10000000000000000"


NUMERIC_CASES = [
    (D("1.10"), D("1.10")),
    (12, D("12")),
    (-7, D("-7")),
    (10**20, D(10**20)),
    (99.85, D("99.85")),
    (0.1, D("0.1")),
    (0.1 + 0.2, D("0.30000000000000004")),  # the true stored double, not rounded
    (1e16, D("10000000000000000")),
    (-0.0, D("0")),
]


@pytest.mark.parametrize(("value", "expected"), NUMERIC_CASES)
def test_parse_number_numeric(value: object, expected: Decimal) -> None:
    assert same(parse_number(value), expected)


def test_float_does_not_go_through_binary_expansion() -> None:
    # Decimal(99.85) would be 99.849999999999994315658113919198513031005859375.
    assert str(parse_number(99.85)) == "99.85"


EMPTY_CASES = [
    None,
    "",
    "   ",
    "\u3000\u3000",
    "\t\n",
    "—",
    "——",
    "–",
    "－",
    "-",
    "--",
    " - ",
    "/",
    "／",
    "无",
    "暂无",
    "不适用",
    "N/A",
    "n/a",
    "Ｎ／Ａ",
    "NA",
]


@pytest.mark.parametrize("value", EMPTY_CASES)
def test_parse_number_empty(value: object) -> None:
    assert parse_number(value) is None
    assert parse_number(value, percent=True, cell_is_percent_format=True) is None


PERCENT_CASES = [
    # (value, cell_is_percent_format, expected percentage number)
    ("95%", False, D("95")),
    ("95", False, D("95")),
    ("99.85%", False, D("99.85")),
    ("９９．８５％", False, D("99.85")),
    (95, False, D("95")),
    (D("99.85"), False, D("99.85")),
    (0.95, True, D("95")),
    (0.9985, True, D("99.85")),
    (1, True, D("100")),
    (D("0.5"), True, D("50")),
    (0.9, True, D("90")),
    (1.2345, True, D("123.45")),
    ("95%", True, D("95")),
    # text is shown verbatim by Excel whatever the format, so it is never rescaled
    ("95", True, D("95")),
    ("(5%)", False, D("-5")),
]


@pytest.mark.parametrize(("value", "fmt", "expected"), PERCENT_CASES)
def test_parse_number_percent(value: object, fmt: bool, expected: Decimal) -> None:
    assert same(parse_number(value, percent=True, cell_is_percent_format=fmt), expected)


def test_percent_result_is_plain() -> None:
    assert str(parse_number(0.9, percent=True, cell_is_percent_format=True)) == "90"


def test_percent_format_without_percent_flag_keeps_the_stored_fraction() -> None:
    assert parse_number(0.95, cell_is_percent_format=True) == D("0.95")
    assert parse_number("95%", cell_is_percent_format=True) == D("0.95")


ERROR_CASES = [
    # (value, substring expected in the Chinese reason)
    ("12a", "「12a」不是有效的数字"),
    ("abc", "「abc」不是有效的数字"),
    ("十二", "中文数字"),
    ("十二万元", "中文数字"),
    ("1.2.3", "小数点只能有一个"),
    ("12。5", "中文句号"),
    ("1,23,4", "千分位逗号位置不正确"),
    ("12,34", "千分位逗号位置不正确"),
    ("1,2345.6", "千分位逗号位置不正确"),
    (",123", "千分位逗号位置不正确"),
    ("1 234", "数字中间有空格"),
    ("1\u3000234", "数字中间有空格"),
    ("(12", "括号不配对"),
    ("12)", "括号不配对"),
    ("-(12)", "括号不配对"),
    ("(-12)", "不应再写正负号"),
    ("万元", "没有数字"),
    ("%", "没有数字"),
    ("+", "没有数字"),
    ("()", "没有数字"),
    ("12-", "不是有效的数字"),
    ("--5", "不是有效的数字"),
    ("1.2.3%", "不是有效的数字"),
    ("3亿元", "不支持以「亿」为单位"),
    ("#DIV/0!", "Excel 错误值"),
    ("#N/A", "Excel 错误值"),
    ("1E400", "超出可处理的范围"),
    ("NaN", "不是有效的数字"),
    ("inf", "不是有效的数字"),
    (True, "逻辑值"),
    (False, "逻辑值"),
    (float("nan"), "不是有限的数值"),
    (float("inf"), "不是有限的数值"),
    (D("NaN"), "不是有限的数值"),
    (D("-Infinity"), "不是有限的数值"),
    ([1], "不是数字"),
]


@pytest.mark.parametrize(("value", "reason"), ERROR_CASES)
def test_parse_number_errors(value: object, reason: str) -> None:
    with pytest.raises(NumberTextError) as info:
        parse_number(value)
    err = info.value
    assert reason in err.reason_zh
    assert str(err) == err.reason_zh
    assert isinstance(err, ValueError)


def test_error_exact_message_and_raw_text() -> None:
    with pytest.raises(NumberTextError) as info:
        parse_number("１２a")
    assert info.value.reason_zh == "「１２a」不是有效的数字"
    assert info.value.text == "１２a"  # the raw input, not the normalised one


def test_error_survives_pickling() -> None:
    err = NumberTextError("12a", "「12a」不是有效的数字")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.text, copy.reason_zh, str(copy)) == (err.text, err.reason_zh, str(err))


def test_long_input_is_shortened_in_the_reason() -> None:
    text = "说明" * 100
    with pytest.raises(NumberTextError) as info:
        parse_number(text)
    assert info.value.text == text
    assert len(info.value.reason_zh) < 80


# --------------------------------------------------------------------------- amounts

AMOUNT_CASES = [
    # (value, amount in 万元, warning expected?)
    ("323.35", D("323.35"), False),
    (323.35, D("323.35"), False),
    (D("1234.50"), D("1234.50"), False),
    ("1,234.50万元", D("1234.50"), False),
    ("（1,234.50）", D("-1234.50"), False),
    ("12万", D("12"), False),
    ("１２３．４５万元", D("123.45"), False),
    ("3233460元", D("323.346"), True),
    ("3,233,460.00元", D("323.346"), True),
    ("１２３４５元", D("1.2345"), True),
    ("(1,000元)", D("-0.1"), True),
    ("1.5亿元", D("15000"), True),
    ("2亿", D("20000"), True),
]


@pytest.mark.parametrize(("value", "expected", "warns"), AMOUNT_CASES)
def test_parse_amount_wanyuan(value: object, expected: Decimal, warns: bool) -> None:
    amount, warning = parse_amount_wanyuan(value)
    assert same(amount, expected)
    assert (warning is not None) is warns


def test_yuan_warning_text() -> None:
    amount, warning = parse_amount_wanyuan("3233460元")
    assert amount == D("323.346")
    assert str(amount) == "323.346"
    assert warning is not None
    assert "按元填写，已折算为万元" in warning
    assert "3233460元" in warning and "323.346" in warning


def test_yuan_conversion_is_exact_beyond_context_precision() -> None:
    amount, _ = parse_amount_wanyuan("1234567890123456789012345678.9元")
    assert amount == D("123456789012345678901234.56789")


@pytest.mark.parametrize("value", [None, "", "—", "无", "不适用", " / "])
def test_parse_amount_empty(value: object) -> None:
    assert parse_amount_wanyuan(value) == (None, None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("95%", "金额只能以万元、元或亿元为单位"),
        ("12个", "金额只能以万元、元或亿元为单位"),
        ("abc", "「abc」不是有效的金额"),
        ("1,23元", "千分位逗号位置不正确"),
        (True, "逻辑值"),
        (float("nan"), "不是有限的数值"),
    ],
)
def test_parse_amount_errors(value: object, reason: str) -> None:
    with pytest.raises(NumberTextError) as info:
        parse_amount_wanyuan(value)
    assert reason in info.value.reason_zh


# --------------------------------------------------------------------------- looks_like_yuan

ROW = [D("323.35"), D("300.00"), D("350.10")]


@pytest.mark.parametrize(
    ("value", "neighbours", "expected"),
    [
        (D("3233460"), ROW, True),
        (D("3233460.00"), [*ROW, None, D("0"), D("-5")], True),
        (D("323.35"), ROW, False),
        (D("32334.60"), ROW, False),  # 100×: a different mistake, not 元 vs 万元
        (D("3233460"), [D("0.5")], False),  # /10000 still far above the neighbours
        (D("3233460"), [], False),
        (D("3233460"), [D("0"), D("-323.35"), None], False),
        (D("-3233460"), ROW, False),
        (D("0"), ROW, False),
        # boundaries: 1000·m ≤ value ≤ 100000·m with m = median = 323.35
        (D("323350"), ROW, True),
        (D("323349.99"), ROW, False),
        (D("32335000"), ROW, True),
        (D("32335000.01"), ROW, False),
        # even count: median is the mean of the middle two (300 and 323.35 → 311.675)
        (D("311675"), [D("300"), D("323.35"), D("10"), D("1000")], True),
    ],
)
def test_looks_like_yuan(value: Decimal, neighbours: list[Decimal], expected: bool) -> None:
    assert looks_like_yuan(value, neighbours) is expected


# --------------------------------------------------------------------------- properties

money = st.decimals(
    min_value=D("-1e12"), max_value=D("1e12"), places=2, allow_nan=False, allow_infinity=False
)


@given(money)
def test_thousands_separated_round_trips(d: Decimal) -> None:
    assert parse_number(f"{d:,.2f}") == d
    assert parse_number(f"{d:,}") == d
    assert parse_amount_wanyuan(f"{d:,.2f}万元") == (d, None)


@given(money)
def test_full_width_round_trips(d: Decimal) -> None:
    assert parse_number(f"{d:,.2f}".translate(FULL_WIDTH)) == d
    assert parse_number(f"{d:.2f}".translate(FULL_WIDTH)) == d


@given(money.filter(lambda d: d < 0))
def test_bracketed_negative_round_trips(d: Decimal) -> None:
    text = f"({-d:,.2f})"
    assert parse_number(text) == d
    assert parse_number(text.translate(FULL_WIDTH)) == d
    assert parse_number(f"（{-d:,.2f}）") == d


@given(money)
def test_signed_or_bracketed_round_trips(d: Decimal) -> None:
    text = f"({-d:,.2f})" if d < 0 else f"{d:,.2f}"
    assert parse_number(text) == d
    assert parse_number(text.translate(FULL_WIDTH)) == d


@given(money)
def test_money_typed_as_excel_number_round_trips(d: Decimal) -> None:
    # ≤ 15 significant digits survive the double stored by Excel, and repr recovers them.
    assert parse_number(float(d)) == d


@given(money)
def test_yuan_is_exactly_one_ten_thousandth(d: Decimal) -> None:
    amount, warning = parse_amount_wanyuan(f"{d:,.2f}元")
    assert amount is not None and warning is not None
    assert amount * 10000 == d


@given(
    st.decimals(
        min_value=D("0"), max_value=D("10"), places=4, allow_nan=False, allow_infinity=False
    )
)
def test_percent_format_cell_scales_exactly(fraction: Decimal) -> None:
    expected = fraction * 100
    assert parse_number(float(fraction), percent=True, cell_is_percent_format=True) == expected
    assert parse_number(f"{expected}%", percent=True) == expected
    assert parse_number(f"{expected}%") == fraction


@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        result = parse_number(text)
    except NumberTextError as err:
        assert err.text == text
        assert err.reason_zh
    else:
        assert result is None or isinstance(result, Decimal)
        if result is not None:
            assert result.is_finite()


@given(st.text(alphabet="0123456789,.()+-%eE 元万个（）．，－　", max_size=20))
def test_number_like_text_never_crashes(text: str) -> None:
    for parse in (parse_number, parse_amount_wanyuan):
        try:
            parse(text)
        except NumberTextError:
            pass
