"""Parse the numbers Chinese accountants type into cells, exactly, as ``Decimal``.

自评表里的金额、比率和数量经常以文本形式手工录入：全角数字、千分位逗号、括号负数、
带“万元”“%”“个”等单位，或用“—”“无”“不适用”表示留空。This module turns all of those
into :class:`decimal.Decimal` without ever going through a binary float, so 99.85 stays
99.85 and 万元 amounts keep their cents. Anything it cannot read unambiguously raises
:class:`NumberTextError` with a Chinese reason that can be shown to the person who
filled the workbook.
"""

from __future__ import annotations

import math
import numbers
import re
import statistics
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

__all__ = [
    "CELL_LIMIT",
    "NumberTextError",
    "in_cell_range",
    "looks_like_yuan",
    "parse_amount_wanyuan",
    "parse_number",
]


class NumberTextError(ValueError):
    """A cell value that is not a readable number.

    Carries the raw input (``text``) and a Chinese reason (``reason_zh``) because the
    message is meant for the person who filled the workbook, not for a developer.
    """

    def __init__(self, text: str, reason_zh: str) -> None:
        super().__init__(reason_zh)
        self.text = text
        self.reason_zh = reason_zh

    def __str__(self) -> str:
        return self.reason_zh

    def __reduce__(self) -> tuple[type[NumberTextError], tuple[str, str]]:
        # Keep the two-argument constructor working across pickling (multiprocessing).
        return (type(self), (self.text, self.reason_zh))


# --------------------------------------------------------------------------- tables

# Written in place of a value to mean "nothing to report"; compared after NFKC, with all
# whitespace removed and case-folded (so "Ｎ／Ａ", "n/a" and "－" all match).
_EMPTY_MARKERS = frozenset(
    {"", "-", "--", "---", "—", "——", "–", "/", "\\", "无", "暂无", "不适用", "n/a", "na"}
)

# Excel error values come through as text; they mean a broken formula, not "empty".
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)

# Characters NFKC leaves alone but that people use as a minus sign, plus invisible
# characters pasted from web pages and Word.
_EXTRA_TRANSLATION = str.maketrans(
    {
        "\u2212": "-",  # − MINUS SIGN
        "\u2010": "-",  # ‐ HYPHEN
        "\u2011": "-",  # ‑ NON-BREAKING HYPHEN
        "\u2012": "-",  # ‒ FIGURE DASH
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,  # word joiner
        "\ufeff": None,  # BOM / zero-width no-break space
    }
)

_MONEY_UNITS = ("万元", "元", "万")
_AMOUNT_EXTRA_UNITS = ("亿元", "亿")
_COUNT_UNITS = (
    "个百分点", "百分点", "人次", "户次", "次", "个", "人", "天", "项", "家", "户", "所",
    "台", "套", "件", "份", "篇", "场", "期", "批", "名", "位", "座", "处", "间", "辆",
    "条", "张", "部", "册", "本", "株", "棵", "头", "只", "笔", "宗", "例", "床", "校",
    "村", "岁", "年", "月", "日", "小时", "分钟", "分", "平方米", "m2", "公里", "km",
    "千米", "米", "亩", "公顷", "吨", "千克", "kg",
)  # fmt: skip
_PERCENT = "%"


def _longest_first(unit: str) -> tuple[int, str]:
    # Longest first, so "万元" wins over "元" and "人次" over "次".
    return (-len(unit), unit)


_NUMBER_UNITS = tuple(sorted({*_MONEY_UNITS, *_COUNT_UNITS, _PERCENT}, key=_longest_first))
_AMOUNT_UNITS = tuple(sorted({*_MONEY_UNITS, *_AMOUNT_EXTRA_UNITS}, key=_longest_first))
_NON_AMOUNT_UNITS = tuple(sorted({*_COUNT_UNITS, _PERCENT}, key=_longest_first))

_CORE = re.compile(
    r"(?P<int>[0-9,]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?", re.ASCII
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+", re.ASCII)
_DIGIT_SPACE_DIGIT = re.compile(r"[0-9]\s+[0-9]")
_CHINESE_NUMERALS = frozenset("零〇一二两三四五六七八九十百千亿壹贰叁肆伍陆柒捌玖拾佰仟")

# Cell values are at most ~10^15 in practice; refusing absurd exponents keeps
# "1e999999999" from expanding into a billion digits.
_MAX_MAGNITUDE = 100

# What one cell of a budget table can hold: Excel keeps 15 significant digits, and no
# amount, rate, count or score in a self-evaluation comes near 10^15. Larger magnitudes
# (1e50, a 27-digit number) would overflow the two-decimal rounding of every score.
CELL_LIMIT = Decimal("1e15")

_UNIT_NUMBER = "数字"
_UNIT_AMOUNT = "金额"


class _Parsed(NamedTuple):
    value: Decimal
    unit: str | None  # trailing unit as written (after NFKC), or None
    from_number: bool  # True when the cell held a real number rather than text


# --------------------------------------------------------------------------- helpers


def _shown(text: str) -> str:
    """Quote the raw input for a message, shortened so a pasted paragraph stays readable."""
    return text if len(text) <= 40 else text[:40] + "…"


def _fail(raw: str, what: str, hint: str | None = None) -> NumberTextError:
    reason = f"「{_shown(raw)}」不是有效的{what}"
    if hint:
        reason += f"：{hint}"
    return NumberTextError(raw, reason)


def _canonical(d: Decimal) -> Decimal:
    """Plain form: no positive exponent ("1.5E+3" → 1500) and no negative zero."""
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    if exp > 0:
        d = Decimal((sign, (*digits, *([0] * exp)), 0))
    if d.is_zero() and d.is_signed():
        d = d.copy_abs()
    return d


def _shift(d: Decimal, places: int) -> Decimal:
    """Multiply by 10**places exactly (no context rounding, unlike ``Decimal.scaleb``)."""
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    return _canonical(Decimal((sign, digits, exp + places)))


def _trim(d: Decimal) -> Decimal:
    """Drop trailing fractional zeros introduced by a unit conversion (0.1000 → 0.1)."""
    if d.is_zero():
        return Decimal(0)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    ds = list(digits)
    while exp < 0 and len(ds) > 1 and ds[-1] == 0:
        ds.pop()
        exp += 1
    return Decimal((sign, tuple(ds), exp))


def _checked(d: Decimal, raw: str, what: str) -> Decimal:
    if not d.is_finite():
        raise _fail(raw, what, "不是有限的数值")
    if not d.is_zero() and abs(d.adjusted()) > _MAX_MAGNITUDE:
        raise _fail(raw, what, "数值超出可处理的范围")
    return _canonical(d)


def _strip_unit(s: str, units: tuple[str, ...]) -> tuple[str, str | None]:
    for unit in units:
        if s.endswith(unit):
            return s[: -len(unit)], unit
    return s, None


def _hint_for(core: str, original: str, what: str) -> str | None:
    if re.search(r"[0-9]亿", original):
        return "不支持以「亿」为单位，请折算后填写"
    if any(ch in _CHINESE_NUMERALS for ch in original):
        return "含有中文数字，请用阿拉伯数字填写"
    if "。" in core:
        return "小数点误写成了中文句号「。」"
    if core.count(".") > 1:
        return "小数点只能有一个"
    if what == _UNIT_AMOUNT and _strip_unit(original, _NON_AMOUNT_UNITS)[1] is not None:
        return "金额只能以万元、元或亿元为单位"
    return None


# --------------------------------------------------------------------------- parsing


def _parse_text(raw: str, units: tuple[str, ...], what: str) -> _Parsed | None:
    s = unicodedata.normalize("NFKC", raw).translate(_EXTRA_TRANSLATION)
    compact = re.sub(r"\s+", "", s)
    if compact.casefold() in _EMPTY_MARKERS:
        return None
    if compact.upper() in _EXCEL_ERRORS:
        raise NumberTextError(raw, f"「{_shown(raw)}」是 Excel 错误值，请先修正公式或数据")
    if _DIGIT_SPACE_DIGIT.search(s):
        raise _fail(raw, what, "数字中间有空格")
    s = compact

    s, unit = _strip_unit(s, units)
    negative = False
    if len(s) >= 2 and s.startswith("(") and s.endswith(")"):
        negative = True
        s = s[1:-1]
        if unit is None:  # "(12.5万元)" as well as "(12.5)万元"
            s, unit = _strip_unit(s, units)
    if "(" in s or ")" in s:
        raise _fail(raw, what, "括号不配对或位置不正确")

    s = s.removeprefix("¥")
    if s[:1] in ("+", "-"):
        if negative:
            raise _fail(raw, what, "括号表示负数时不应再写正负号")
        negative = s[0] == "-"
        s = s[1:].removeprefix("¥")

    if not any(ch.isdigit() for ch in s):
        hint = _hint_for(s, compact, what)
        raise _fail(raw, what, hint or "没有数字")
    match = _CORE.fullmatch(s)
    if match is None:
        raise _fail(raw, what, _hint_for(s, compact, what))
    int_part = match["int"]
    if "," in int_part and not _GROUPED.fullmatch(int_part):
        raise _fail(raw, what, "千分位逗号位置不正确")
    if not (int_part or match["frac"]):
        raise _fail(raw, what, "没有数字")

    try:
        d = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees syntax
        raise _fail(raw, what) from exc
    d = _checked(d, raw, what)
    # copy_negate, unlike unary minus, is exact regardless of the context precision.
    return _Parsed(d.copy_negate() if negative and not d.is_zero() else d, unit, False)


def _parse_any(value: object, units: tuple[str, ...], what: str) -> _Parsed | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberTextError(str(value), f"「{value}」是逻辑值（是/否），不是{what}")
    if isinstance(value, str):
        return _parse_text(value, units, what)
    if isinstance(value, Decimal):
        return _Parsed(_checked(value, str(value), what), None, from_number=True)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(repr(value), what, "不是有限的数值")
        # repr gives the shortest string that round-trips, i.e. what Excel displays:
        # Decimal(99.85) would be 99.8499999999999943…, Decimal(repr(99.85)) is 99.85.
        return _Parsed(_checked(Decimal(repr(value)), repr(value), what), None, True)
    if isinstance(value, numbers.Integral):  # int, numpy.int64, …
        return _Parsed(_canonical(Decimal(int(value))), None, from_number=True)
    if isinstance(value, numbers.Real):  # numpy.float32 etc.: their str is the short form
        text = str(value)
        try:
            d = Decimal(text)
        except InvalidOperation as exc:
            raise _fail(text, what) from exc
        return _Parsed(_checked(d, text, what), None, from_number=True)
    raw = str(value)
    raise NumberTextError(raw, f"「{_shown(raw)}」的类型（{type(value).__name__}）不是{what}")


# --------------------------------------------------------------------------- public API


def parse_number(
    value: object, *, percent: bool = False, cell_is_percent_format: bool = False
) -> Decimal | None:
    """Read a typed or stored cell value as an exact ``Decimal``; ``None`` when left blank.

    Accepts full-width text, 千分位 commas, bracketed negatives and common trailing
    units (the unit is dropped, not converted; use :func:`parse_amount_wanyuan` for money).

    With ``percent=True`` the result is in percent points (95 means 95 %): "95%", "95" and a
    numeric 0.95 from a cell formatted as percentage (``cell_is_percent_format=True``; Excel
    stores 95 % as 0.95) all give 95. Text is never rescaled, because Excel shows text
    verbatim whatever the number format. With ``percent=False`` a written "%" divides by 100.

    Raises :class:`NumberTextError` for anything that is not unambiguously a number.
    """
    parsed = _parse_any(value, _NUMBER_UNITS, _UNIT_NUMBER)
    if parsed is None:
        return None
    if parsed.unit == _PERCENT:
        return parsed.value if percent else _shift(parsed.value, -2)
    if percent and cell_is_percent_format and parsed.from_number:
        return _shift(parsed.value, 2)
    return parsed.value


def parse_amount_wanyuan(value: object) -> tuple[Decimal | None, str | None]:
    """Read a money cell as 万元; returns ``(amount, warning_zh)``.

    A bare number, "万元" or "万" is taken as 万元. A trailing "元" means the person filled
    in yuan, so the amount is divided by 10000 exactly and a Chinese warning is returned
    for the review report ("亿元"/"亿" are likewise multiplied by 10000). Blank → (None, None).
    """
    parsed = _parse_any(value, _AMOUNT_UNITS, _UNIT_AMOUNT)
    if parsed is None:
        return None, None
    if parsed.unit == "元":
        amount = _trim(_shift(parsed.value, -4))
        return amount, f"「{_shown(str(value))}」按元填写，已折算为万元：{amount}"
    if parsed.unit in _AMOUNT_EXTRA_UNITS:
        amount = _shift(parsed.value, 4)
        return amount, f"「{_shown(str(value))}」按亿元填写，已折算为万元：{amount}"
    return parsed.value, None


def in_cell_range(value: Decimal | None, raw: object = None) -> Decimal | None:
    """`value` unchanged when a budget table can hold it; else :class:`NumberTextError`.

    Refuses NaN, infinities and magnitudes of :data:`CELL_LIMIT` or more, which a
    self-evaluation never holds but a hostile or broken file may.
    """
    if value is None:
        return None
    shown = _shown(str(value if raw is None else raw))
    if not value.is_finite():
        raise NumberTextError(shown, f"「{shown}」不是有限的数值")
    if abs(value) >= CELL_LIMIT:
        raise NumberTextError(
            shown, f"「{shown}」超出自评表可处理的数值范围（绝对值应小于 10 的 15 次方）"
        )
    return value


def looks_like_yuan(value: Decimal, neighbours: Iterable[Decimal | None]) -> bool:
    """Guess whether a 万元 cell actually holds a 元 figure (a factor-10000 slip).

    Heuristic: let ``m`` be the median of the positive, finite neighbours (e.g. the other
    amounts in the same row or column). The value is suspicious when it is at least
    1000 × ``m`` *and* value / 10000 lands within a factor 10 of ``m`` — i.e. when
    ``1000·m ≤ value ≤ 100000·m``. Example: 3233460 next to amounts around 323.35.
    Blank (``None``), zero, negative and non-finite neighbours are ignored; with no
    positive neighbour there is nothing to compare against and the answer is False.
    """
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        return False
    positives = [n for n in neighbours if isinstance(n, Decimal) and n.is_finite() and n > 0]
    if not positives:
        return False
    median = Decimal(statistics.median(positives))
    if value < _shift(median, 3):
        return False
    as_wanyuan = _shift(value, -4)
    return _shift(median, -1) <= as_wanyuan <= _shift(median, 1)
