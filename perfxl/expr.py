"""A tiny expression language: one declaration of a check, run in Python and in Excel.

A check that can be written as a formula is declared once as an `Expr` and executed two
ways: `evaluate` computes it on a filing in Decimal with half-up rounding, and `to_excel`
compiles it to formula text for the live 审核 sheet of a template. Both follow Excel's
rules, so a filled workbook and `perfxl check` agree on every verdict:

* blank: a blank input is `None`. In arithmetic and comparisons with numbers it counts as
  0, compared with text as "" (so blank = 0 and blank = "" are both TRUE); ISBLANK is TRUE.
  MIN, MAX, SUM and AND/OR skip blanks, text and (for MIN/MAX/SUM) logical values found
  in a referenced field or column, as Excel does for references.
* errors: division by zero and text in arithmetic raise `EvalError` ("#DIV/0!",
  "#VALUE!"); IF evaluates only the branch it takes, AND/OR evaluate every argument (no
  short-circuit, as in Excel); IFERROR catches; IS-functions return FALSE on an error.
* rounding: ROUND is half-up on the exact decimal value (Excel's result, 9.985 → 9.99).
  Checks compare rounded values only, never raw quotients, so floating point in Excel
  cannot flip a verdict except on exact .xx5 ties, where Excel's own ROUND is right and
  some emulators are not.
* text: "=" between texts ignores case; LEN counts UTF-16 code units, like Excel (a
  character outside the Basic Multilingual Plane counts 2).
* criteria (SUMIF, COUNTIF): "=x" / "<>x" / ">x" ... prefixes, wildcards * ? and ~, a
  criterion that reads as a number also matches text cells holding that number.

Paths are model field paths ("funds.total.budget", "group_scores.2"), row-relative paths
for per-row checks ("row.score"), or column paths with a star ("indicators.*.score") that
stand for the whole column of a table: a list in Python, a range in Excel.

Only the functions in `EXCEL_FUNCTIONS` can be emitted; compiling anything else raises
`CompileError`, so a template never carries a function some office suite lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

Scalar = Decimal | str | bool | None
Value = Scalar | list[Scalar]

EXCEL_FUNCTIONS = frozenset(
    {
        "SUM",
        "ROUND",
        "MIN",
        "MAX",
        "IF",
        "IFERROR",
        "AND",
        "OR",
        "NOT",
        "ABS",
        "ISNUMBER",
        "ISBLANK",
        "LEN",
        "COUNTIF",
        "SUMIF",
        "SUMPRODUCT",
        "INDEX",
        "MATCH",
    }
)
MAX_FORMULA_CHARS = 8192  # Excel's limit on the length of a formula

_ARITH = ("+", "-", "*", "/")
_COMPARE = ("=", "<>", "<", "<=", ">", ">=")


class EvalError(Exception):
    """An Excel error value (#DIV/0!, #VALUE!, #N/A, #REF!) raised during evaluation."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CompileError(ValueError):
    """The expression cannot become a formula every supported office suite computes."""


# ------------------------------------------------------------------------------ nodes


class Expr:
    """Base of every node. Arithmetic operators build nodes; use eq/lt/... to compare."""

    def __add__(self, other: object) -> Expr:
        return BinOp("+", self, lit(other))

    def __radd__(self, other: object) -> Expr:
        return BinOp("+", lit(other), self)

    def __sub__(self, other: object) -> Expr:
        return BinOp("-", self, lit(other))

    def __rsub__(self, other: object) -> Expr:
        return BinOp("-", lit(other), self)

    def __mul__(self, other: object) -> Expr:
        return BinOp("*", self, lit(other))

    def __rmul__(self, other: object) -> Expr:
        return BinOp("*", lit(other), self)

    def __truediv__(self, other: object) -> Expr:
        return BinOp("/", self, lit(other))

    def __rtruediv__(self, other: object) -> Expr:
        return BinOp("/", lit(other), self)


@dataclass(frozen=True, eq=False)
class Field(Expr):
    """One cell: a field path of the filing, or "row.x" in a per-row check."""

    path: str


@dataclass(frozen=True, eq=False)
class Column(Expr):
    """A whole column of a table, e.g. "projects.*.spent": a list / an Excel range."""

    path: str

    def __post_init__(self) -> None:
        if ".*." not in self.path:
            raise ValueError(f"column path needs a '.*.' part: {self.path!r}")


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: Decimal | str | bool


@dataclass(frozen=True, eq=False)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A worksheet function call; `fn` must be in EXCEL_FUNCTIONS to compile."""

    fn: str
    args: tuple[Expr, ...] = field(default_factory=tuple)


@dataclass(frozen=True, eq=False)
class CountWhere(Expr):
    """Rows whose `key` equals `crit` and whose `value` is a number.

    Compiles to SUMPRODUCT((key=crit)*ISNUMBER(value)*1): "some row under this code has a
    score", which COUNTIF cannot say because it looks at one column only."""

    key: Column
    crit: Expr
    value: Column


@dataclass(frozen=True, eq=False)
class CountNumbers(Expr):
    """How many cells of a column hold a number: SUMPRODUCT(ISNUMBER(col)*1)."""

    column: Column


def lit(value: object) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool | str | Decimal):
        return Const(value)
    if isinstance(value, int):
        return Const(Decimal(value))
    raise TypeError(f"not an expression or constant: {value!r}")


# ---------------------------------------------------------- constructors (Excel names)


def Round(x: object, places: int = 2) -> Expr:
    return Call("ROUND", (lit(x), Const(Decimal(places))))


def Min(*xs: object) -> Expr:
    return Call("MIN", tuple(lit(x) for x in xs))


def Max(*xs: object) -> Expr:
    return Call("MAX", tuple(lit(x) for x in xs))


def Abs(x: object) -> Expr:
    return Call("ABS", (lit(x),))


def Sum(*xs: object) -> Expr:
    return Call("SUM", tuple(lit(x) for x in xs))


def If(cond: object, then: object, otherwise: object = False) -> Expr:
    return Call("IF", (lit(cond), lit(then), lit(otherwise)))


def IfError(x: object, alt: object) -> Expr:
    return Call("IFERROR", (lit(x), lit(alt)))


def And(*xs: object) -> Expr:
    return Call("AND", tuple(lit(x) for x in xs))


def Or(*xs: object) -> Expr:
    return Call("OR", tuple(lit(x) for x in xs))


def Not(x: object) -> Expr:
    return Call("NOT", (lit(x),))


def IsBlank(x: Field) -> Expr:
    return Call("ISBLANK", (x,))


def IsNumber(x: object) -> Expr:
    return Call("ISNUMBER", (lit(x),))


def Len(x: object) -> Expr:
    return Call("LEN", (lit(x),))


def SumIf(rng: Column, crit: object, sum_range: Column) -> Expr:
    return Call("SUMIF", (rng, lit(crit), sum_range))


def CountIf(rng: Column, crit: object) -> Expr:
    return Call("COUNTIF", (rng, lit(crit)))


def Index(col: Column, n: object) -> Expr:
    return Call("INDEX", (col, lit(n)))


def Match(x: object, col: Column) -> Expr:
    """Exact MATCH (match type 0): position of x in col, #N/A when absent."""
    return Call("MATCH", (lit(x), col, Const(Decimal(0))))


def eq(a: object, b: object) -> Expr:
    return Compare("=", lit(a), lit(b))


def ne(a: object, b: object) -> Expr:
    return Compare("<>", lit(a), lit(b))


def lt(a: object, b: object) -> Expr:
    return Compare("<", lit(a), lit(b))


def le(a: object, b: object) -> Expr:
    return Compare("<=", lit(a), lit(b))


def gt(a: object, b: object) -> Expr:
    return Compare(">", lit(a), lit(b))


def ge(a: object, b: object) -> Expr:
    return Compare(">=", lit(a), lit(b))


def Filled(x: Field) -> Expr:
    """A text or number was entered (blank and "" are not; a space is, as in Excel)."""
    return gt(Len(x), 0)


# -------------------------------------------------------------------------- walking


def children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, BinOp | Compare):
        return (e.left, e.right)
    if isinstance(e, Call):
        return e.args
    if isinstance(e, CountWhere):
        return (e.key, e.crit, e.value)
    if isinstance(e, CountNumbers):
        return (e.column,)
    return ()


def walk(e: Expr) -> Iterator[Expr]:
    yield e
    for c in children(e):
        yield from walk(c)


def paths(e: Expr) -> list[str]:
    """Every field and column path the expression reads, in first-use order."""
    out: dict[str, None] = {}
    for node in walk(e):
        if isinstance(node, Field | Column):
            out.setdefault(node.path, None)
    return list(out)


# ------------------------------------------------------------------------ evaluation


class Env(Protocol):
    def value(self, path: str) -> Scalar: ...

    def column(self, path: str) -> list[Scalar]: ...


@dataclass
class Trace:
    """What an evaluation rounded and measured, to explain a disagreement with an emulator."""

    rounds: list[tuple[Decimal, int]] = field(default_factory=list)
    lengths: list[str] = field(default_factory=list)

    def has_tie(self) -> bool:
        """Some ROUND argument was exactly half-way (…5 in the first dropped place)."""
        for v, n in self.rounds:
            shifted = v.scaleb(n)
            if shifted != shifted.to_integral_value() and (abs(shifted) % 1) == Decimal("0.5"):
                return True
        return False

    def has_astral_text(self) -> bool:
        return any(any(ord(ch) > 0xFFFF for ch in s) for s in self.lengths)


_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def _text_number(s: str) -> Decimal | None:
    return Decimal(s.strip()) if _NUMBER_TEXT.match(s) else None


def _num(v: Scalar) -> Decimal:
    """A value used in arithmetic (Excel: blank 0, TRUE 1, numeric text its number)."""
    if v is None:
        return Decimal(0)
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, Decimal):
        return v
    n = _text_number(v)
    if n is None:
        raise EvalError("#VALUE!")
    return n


def _bool(v: Scalar) -> bool:
    """A value used as a condition (Excel: numbers ≠ 0 are TRUE, text is #VALUE!)."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        return v != 0
    upper = v.strip().upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    raise EvalError("#VALUE!")


def _rank(v: Scalar) -> int:
    return 0 if isinstance(v, Decimal) else 1 if isinstance(v, str) else 2


def _compare(op: str, a: Scalar, b: Scalar) -> bool:
    if a is None and b is None:
        a = b = Decimal(0)
    elif a is None or b is None:
        other = b if a is None else a
        blank: Scalar = (
            Decimal(0) if isinstance(other, Decimal) else "" if isinstance(other, str) else False
        )
        a, b = (blank, b) if a is None else (a, blank)
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        key_a, key_b = ra, rb
        if op in ("=", "<>"):
            return op == "<>"
    elif isinstance(a, str) and isinstance(b, str):
        key_a, key_b = a.casefold(), b.casefold()
    else:
        key_a, key_b = a, b  # both Decimal, or both bool
    return {
        "=": key_a == key_b,
        "<>": key_a != key_b,
        "<": key_a < key_b,
        "<=": key_a <= key_b,
        ">": key_a > key_b,
        ">=": key_a >= key_b,
    }[op]


def _wildcard(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def criterion(crit: Scalar) -> Callable[[Scalar], bool]:
    """Excel's criteria of SUMIF / COUNTIF as a predicate on a cell value."""
    if crit is None:
        crit = Decimal(0)  # a blank criterion cell means 0
    if isinstance(crit, bool):
        return lambda c: isinstance(c, bool) and c == crit
    if isinstance(crit, Decimal):
        return lambda c: (
            (isinstance(c, Decimal) and c == crit)
            or (isinstance(c, str) and _text_number(c) == crit)
        )
    op, rest = "=", crit
    for prefix in (">=", "<=", "<>", "=", ">", "<"):
        if crit.startswith(prefix):
            op, rest = prefix, crit[len(prefix) :]
            break
    number = _text_number(rest) if rest.strip() else None
    if number is not None:

        def by_number(c: Scalar) -> bool:
            if isinstance(c, Decimal):
                return _compare(op, c, number)
            if isinstance(c, str) and op in ("=", "<>"):
                same = _text_number(c) == number
                return same if op == "=" else not same
            return op == "<>"

        return by_number
    if op in ("=", "<>"):
        if rest == "":
            # "=" matches blank cells only; "<>" matches every non-blank cell
            return (
                (lambda c: c is None or c == "") if op == "=" else (lambda c: c not in (None, ""))
            )
        rx = _wildcard(rest)

        def by_text(c: Scalar) -> bool:
            hit = isinstance(c, str) and rx.fullmatch(c) is not None
            return hit if op == "=" else not hit

        return by_text
    return lambda c: isinstance(c, str) and _compare(op, c, rest)


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _text_of(v: Scalar) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Decimal):
        text = format(v.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return v


def _round(v: Decimal, places: int) -> Decimal:
    q = Decimal(1).scaleb(-places)
    try:
        return v.quantize(q, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - absurdly large values only
        raise EvalError("#NUM!") from exc


class _Evaluator:
    def __init__(self, env: Env, trace: Trace | None) -> None:
        self.env = env
        self.trace = trace

    def scalar(self, e: Expr) -> Scalar:
        v = self.eval(e)
        if isinstance(v, list):
            raise EvalError("#VALUE!")  # a whole column where one value is needed
        return v

    def numbers(self, args: Sequence[Expr], *, logical: bool) -> list[Decimal]:
        """Arguments of MIN/MAX/SUM (logical=False) or AND/OR (logical=True)."""
        out: list[Decimal] = []
        for a in args:
            if isinstance(a, Field | Column):
                raw = self.env.column(a.path) if isinstance(a, Column) else [self.scalar(a)]
                for v in raw:
                    if isinstance(v, Decimal):
                        out.append(v)
                    elif logical and isinstance(v, bool):
                        out.append(Decimal(int(v)))
            else:
                v = self.scalar(a)
                out.append(Decimal(int(_bool(v))) if logical else _num(v))
        return out

    def eval(self, e: Expr) -> Value:
        if isinstance(e, Field):
            return self.env.value(e.path)
        if isinstance(e, Column):
            return self.env.column(e.path)
        if isinstance(e, Const):
            return e.value
        if isinstance(e, BinOp):
            a, b = _num(self.scalar(e.left)), _num(self.scalar(e.right))
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if b == 0:
                raise EvalError("#DIV/0!")
            return a / b
        if isinstance(e, Compare):
            return _compare(e.op, self.scalar(e.left), self.scalar(e.right))
        if isinstance(e, CountWhere):
            crit = self.scalar(e.crit)
            keys, values = self.env.column(e.key.path), self.env.column(e.value.path)
            return Decimal(
                sum(
                    1
                    for k, v in zip(keys, values, strict=True)
                    if _compare("=", k, crit) and isinstance(v, Decimal)
                )
            )
        if isinstance(e, CountNumbers):
            return Decimal(sum(1 for v in self.env.column(e.column.path) if isinstance(v, Decimal)))
        if isinstance(e, Call):
            return self.call(e)
        raise CompileError(f"unknown expression node {type(e).__name__}")

    def call(self, e: Call) -> Value:
        fn, args = e.fn, e.args
        if fn == "IF":
            cond = _bool(self.scalar(args[0]))
            if cond:
                return self.scalar(args[1])
            return self.scalar(args[2]) if len(args) > 2 else False
        if fn == "IFERROR":
            try:
                return self.scalar(args[0])
            except EvalError:
                return self.scalar(args[1])
        if fn in ("ISNUMBER", "ISBLANK"):
            try:
                v = self.scalar(args[0])
            except EvalError:
                return False
            if fn == "ISBLANK":
                return isinstance(args[0], Field) and v is None
            return isinstance(v, Decimal)
        if fn == "ROUND":
            v, n = _num(self.scalar(args[0])), int(_num(self.scalar(args[1])))
            if self.trace is not None:
                self.trace.rounds.append((v, n))
            return _round(v, n)
        if fn in ("MIN", "MAX", "SUM"):
            nums = self.numbers(args, logical=False)
            if fn == "SUM":
                return sum(nums, Decimal(0))
            if not nums:
                return Decimal(0)
            return min(nums) if fn == "MIN" else max(nums)
        if fn == "ABS":
            return abs(_num(self.scalar(args[0])))
        if fn in ("AND", "OR"):
            nums = self.numbers(args, logical=True)  # every argument, errors propagate
            if not nums:
                raise EvalError("#VALUE!")
            flags = [n != 0 for n in nums]
            return all(flags) if fn == "AND" else any(flags)
        if fn == "NOT":
            return not _bool(self.scalar(args[0]))
        if fn == "LEN":
            text = _text_of(self.scalar(args[0]))
            if self.trace is not None:
                self.trace.lengths.append(text)
            return Decimal(_utf16_len(text))
        if fn in ("SUMIF", "COUNTIF"):
            rng = self.eval(args[0])
            if not isinstance(rng, list):
                rng = [rng]
            test = criterion(self.scalar(args[1]))
            if fn == "COUNTIF":
                return Decimal(sum(1 for c in rng if test(c)))
            sums = self.eval(args[2])
            sums = sums if isinstance(sums, list) else [sums]
            return sum(
                (s for c, s in zip(rng, sums, strict=True) if test(c) and isinstance(s, Decimal)),
                Decimal(0),
            )
        if fn == "INDEX":
            col = self.eval(args[0])
            col = col if isinstance(col, list) else [col]
            i = int(_num(self.scalar(args[1])))
            if not 1 <= i <= len(col):
                raise EvalError("#REF!")
            return col[i - 1]
        if fn == "MATCH":
            x = self.scalar(args[0])
            col = self.eval(args[1])
            col = col if isinstance(col, list) else [col]
            test = criterion(x) if isinstance(x, str) else (lambda c: _compare("=", c, x))
            for i, c in enumerate(col, start=1):
                if c is not None and test(c):
                    return Decimal(i)
            raise EvalError("#N/A")
        raise CompileError(f"function {fn} has no Python implementation")


def evaluate(expr: Expr, env: Env, trace: Trace | None = None) -> Value:
    """The value of `expr` with Excel's semantics (see the module docstring)."""
    return _Evaluator(env, trace).eval(expr)


def condition(expr: Expr, env: Env, trace: Trace | None = None) -> bool:
    """A condition as IF sees it; raises EvalError for an Excel error or a text value."""
    return _bool(_Evaluator(env, trace).scalar(expr))


def truth(expr: Expr, env: Env, trace: Trace | None = None) -> bool:
    """A condition's verdict; an Excel error counts as FALSE (as IFERROR(...,FALSE))."""
    try:
        return condition(expr, env, trace)
    except EvalError:
        return False


# ------------------------------------------------------------------------ compilation


def _const_text(v: Decimal | str | bool) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise CompileError(f"not a finite number: {v}")
        text = format(v, "f")
        return f"({text})" if v < 0 else text
    if len(v) > 255:
        raise CompileError("Excel text constants are limited to 255 characters")
    return '"' + v.replace('"', '""') + '"'


def to_excel(expr: Expr, ref: Callable[[str], str]) -> str:
    """Formula text (without the leading "=") for `expr`.

    `ref(path)` returns the Excel reference of a path: a defined name or an A1 reference
    (sheet-qualified if needed) for a field or "row.x" path, a range for a column path
    ("indicators.*.score"). Raises CompileError for a function outside EXCEL_FUNCTIONS."""

    def go(e: Expr) -> str:
        if isinstance(e, Field | Column):
            text = ref(e.path)
            if not text:
                raise CompileError(f"no cell for {e.path}")
            return text
        if isinstance(e, Const):
            return _const_text(e.value)
        if isinstance(e, BinOp):
            if e.op not in _ARITH:
                raise CompileError(f"unknown operator {e.op}")
            return f"({go(e.left)}{e.op}{go(e.right)})"
        if isinstance(e, Compare):
            if e.op not in _COMPARE:
                raise CompileError(f"unknown comparison {e.op}")
            return f"({go(e.left)}{e.op}{go(e.right)})"
        if isinstance(e, CountWhere):
            numeric = _fn("ISNUMBER", go(e.value))
            return _fn("SUMPRODUCT", f"(({go(e.key)}={go(e.crit)})*{numeric}*1)")
        if isinstance(e, CountNumbers):
            return _fn("SUMPRODUCT", f"({_fn('ISNUMBER', go(e.column))}*1)")
        if isinstance(e, Call):
            return _fn(e.fn, ",".join(go(a) for a in e.args))
        raise CompileError(f"cannot compile {type(e).__name__}")

    return go(expr)


def _fn(name: str, args: str) -> str:
    if name not in EXCEL_FUNCTIONS:
        raise CompileError(f"function {name} is not allowed in templates")
    return f"{name}({args})"
