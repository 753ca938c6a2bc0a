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
  Checks compare rounded values only, never raw quotients. A ROUND of a computed value
  compiles to ROUND(ROUND(x, 9), n): Excel, WPS and LibreOffice compute in binary floating
  point (2 − 3.51 × 0.5 is 0.24499999999999744 there), and bringing the value to 9 places
  first restores the decimal result, so the office suite agrees with Python wherever the
  exact value ends within 9 decimals or lies further than 5e-10 from a tie.
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
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Protocol

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
        "ISERROR",
        "LEN",
        "COUNTIF",
        "SUMIF",
        "SUMPRODUCT",
        "INDEX",
        "MATCH",
    }
)
MAX_FORMULA_CHARS = 8192  # Excel's limit on the length of a formula
MAX_DIGITS = 400  # digits a rounded value may have before it is #NUM!

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
class SumWhere(Expr):
    """The sum of `value` over the rows where every key column equals its criterion ("="
    as a comparison has it: text ignores case, a blank equals a blank), or the number of
    such rows when `value` is None.

    Compiles to SUMPRODUCT((k1=c1)*(k2=c2)*1,value), which takes text and blanks of
    `value` as 0: "the 二级项目 of this 一级项目 in this unit", which SUMIF cannot say because
    it tests one column only (and reads its criterion with wildcards)."""

    keys: tuple[tuple[Column, Expr], ...]
    value: Column | None = None


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


def IsError(x: object) -> Expr:
    """TRUE for an Excel error (#REF! where a deleted row's cell was, #DIV/0!, …)."""
    return Call("ISERROR", (lit(x),))


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
    if isinstance(e, SumWhere):
        pairs = tuple(x for pair in e.keys for x in pair)
        return pairs if e.value is None else (*pairs, e.value)
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
    return _rt_round(v, Decimal(1).scaleb(-places))


_BLANK_EQUALS: dict[object, tuple[object, ...]] = {
    None: (("n", Decimal(0)), ("s", ""), ("b", False)),
    ("n", Decimal(0)): (None,),
    ("s", ""): (None,),
    ("b", False): (None,),
}


def _equality_key(v: Scalar) -> object:
    """A key equal for exactly the values "=" finds equal (blank aside: see _BLANK_EQUALS);
    False when there is none (a non-finite number)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, Decimal):
        return ("n", v) if v.is_finite() else False
    return ("s", v.casefold())


def _equality_index(column: list[Scalar]) -> dict[object, list[int]] | bool:
    """Rows of a column by equality key, or False when a value has no key."""
    index: dict[object, list[int]] = {}
    for i, v in enumerate(column):
        k = _equality_key(v)
        if k is False:
            return False
        index.setdefault(k, []).append(i)
    return index


class _Evaluator:
    def __init__(self, env: Env, trace: Trace | None) -> None:
        self.env = env
        self.trace = trace
        # an environment whose values do not change may offer a dict for aggregates
        memo = getattr(env, "memo", None)
        self.memo: dict[Any, Any] | None = memo if isinstance(memo, dict) else None

    def scalar(self, e: Expr) -> Scalar:
        v = self.eval(e)
        if isinstance(v, list):
            raise EvalError("#VALUE!")  # a whole column where one value is needed
        return v

    def numbers(self, args: Sequence[Expr], *, logical: bool) -> list[Decimal]:
        """Arguments of MIN/MAX/SUM (logical=False) or AND/OR (logical=True)."""
        out: list[Decimal] = []
        for a in args:
            if isinstance(a, Column):
                out.extend(self.column_numbers(a.path, logical))
            elif isinstance(a, Field):
                for v in (self.scalar(a),):
                    if isinstance(v, Decimal):
                        out.append(v)
                    elif logical and isinstance(v, bool):
                        out.append(Decimal(int(v)))
            else:
                v = self.scalar(a)
                out.append(Decimal(int(_bool(v))) if logical else _num(v))
        return out

    def column_numbers(self, path: str, logical: bool) -> list[Decimal]:
        """The numbers (and, for AND/OR, logical values) of a column, once per filing."""

        def numbers() -> list[Decimal]:
            out: list[Decimal] = []
            for v in self.env.column(path):
                if isinstance(v, Decimal):
                    out.append(v)
                elif logical and isinstance(v, bool):
                    out.append(Decimal(int(v)))
            return out

        return self.memoised(("numbers", path, logical), numbers)

    def equal_rows(self, path: str, crit: Scalar) -> list[int] | None:
        """Rows of a column whose value "=" `crit` (as `_compare` has it), ascending, from an
        index built once per filing; None when there is no memo or the index cannot be
        exact (a non-finite number), and the caller scans."""
        memo = self.memo
        if memo is None:
            return None
        key = ("equal-index", path)
        index = memo.get(key)
        if index is None:
            index = memo[key] = _equality_index(self.env.column(path))
        if index is False:
            return None
        ck = _equality_key(crit)
        if ck is False:
            return None
        rows = index.get(ck, [])
        if ck in _BLANK_EQUALS:
            # a blank equals 0, "" and FALSE; those equal a blank
            extra = [r for k in _BLANK_EQUALS[ck] for r in index.get(k, [])]
            if extra:
                rows = sorted([*rows, *extra])
        return rows

    def equal_set(self, path: str, crit: Scalar) -> frozenset[int] | None:
        def rows() -> frozenset[int] | None:
            got = self.equal_rows(path, crit)
            return None if got is None else frozenset(got)

        return self.memoised(("equal-set", path, type(crit), crit), rows)

    def where_rows(self, tests: list[tuple[str, list[Scalar], Scalar]]) -> list[int]:
        """Rows where every (column path, column, criterion) holds under "=", ascending;
        once per filing for the same criteria (a 一级项目's children are asked for by the
        check of each money column)."""
        key = ("where", *(x for path, _, c in tests for x in (path, type(c), c)))
        return self.memoised(key, lambda: self._where_rows(tests))

    def _where_rows(self, tests: list[tuple[str, list[Scalar], Scalar]]) -> list[int]:
        lists = [self.equal_rows(path, c) for path, _, c in tests]
        if any(rows is None for rows in lists):
            n = len(tests[0][1])
            return [i for i in range(n) if all(_compare("=", col[i], c) for _, col, c in tests)]
        order = sorted(range(len(tests)), key=lambda j: len(lists[j]))  # type: ignore[arg-type]
        first = lists[order[0]]
        assert first is not None
        others = [self.equal_set(tests[j][0], tests[j][2]) for j in order[1:]]
        return [i for i in first if all(i in s for s in others)]  # type: ignore[operator]

    def sum_where(
        self, paths: tuple[str, ...], crits: list[Scalar], value: Column | None
    ) -> Decimal:
        """SumWhere with its criteria evaluated."""
        hits = self.where_rows(
            [(p, self.env.column(p), c) for p, c in zip(paths, crits, strict=True)]
        )
        if value is None:
            return Decimal(len(hits))
        values = self.env.column(value.path)
        return sum((v for i in hits if isinstance(v := values[i], Decimal)), Decimal(0))

    def groups(self, path: str) -> list[tuple[Scalar, list[int]]]:
        """A column's distinct values (exactly: type and value) with their rows, so that a
        criterion is tested once per distinct value, not once per row."""

        def group() -> list[tuple[Scalar, list[int]]]:
            col = self.env.column(path)
            found: dict[tuple[type, Scalar], list[int]] = {}
            for i, v in enumerate(col):
                if isinstance(v, Decimal) and not v.is_finite():
                    k: tuple[type, Scalar] = (Decimal, str(v))  # NaN is not equal to itself
                    found.setdefault(k, []).append(i)
                    continue
                found.setdefault((type(v), v), []).append(i)
            return [(col[rows[0]], rows) for rows in found.values()]

        return self.memoised(("groups", path), group)

    def memoised(self, key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
        """A row-independent aggregate, computed once per filing (when the env has a memo);
        never memoised under a non-finite number (NaN is not equal to itself)."""
        memo = self.memo
        if memo is None or any(isinstance(k, Decimal) and not k.is_finite() for k in key):
            return compute()
        if key in memo:
            return memo[key]
        got = memo[key] = compute()
        return got

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
            if len(keys) != len(values):
                raise ValueError("CountWhere: columns of different lengths")
            hits = self.where_rows([(e.key.path, keys, crit)])
            return Decimal(sum(1 for i in hits if isinstance(values[i], Decimal)))
        if isinstance(e, SumWhere):
            crits = [self.scalar(c) for _, c in e.keys]
            return self.sum_where(tuple(k.path for k, _ in e.keys), crits, e.value)
        if isinstance(e, CountNumbers):
            path = e.column.path
            return self.memoised(
                ("count-numbers", path),
                lambda: Decimal(sum(1 for v in self.env.column(path) if isinstance(v, Decimal))),
            )
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
        if fn == "ISERROR":
            try:
                self.scalar(args[0])
            except EvalError:
                return True
            return False
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
            crit = self.scalar(args[1])
            test = criterion(crit)
            if fn == "COUNTIF":
                if self.memo is None or not isinstance(args[0], Column):
                    return Decimal(sum(1 for c in rng if test(c)))
                groups = self.groups(args[0].path)
                return self.memoised(
                    ("COUNTIF", args[0].path, type(crit), crit),
                    lambda: Decimal(sum(len(rows) for v, rows in groups if test(v))),
                )
            sums = self.eval(args[2])
            sums = sums if isinstance(sums, list) else [sums]
            if (
                self.memo is None
                or not isinstance(args[0], Column)
                or not isinstance(args[2], Column)
                or len(sums) != len(rng)
            ):
                return sum(
                    (
                        s
                        for c, s in zip(rng, sums, strict=True)
                        if test(c) and isinstance(s, Decimal)
                    ),
                    Decimal(0),
                )
            groups, values = self.groups(args[0].path), sums

            def sumif() -> Decimal:
                hits = sorted(i for v, rows in groups if test(v) for i in rows)
                return sum((s for i in hits if isinstance(s := values[i], Decimal)), Decimal(0))

            return self.memoised(("SUMIF", args[0].path, args[2].path, type(crit), crit), sumif)
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
            if self.memo is not None and isinstance(args[1], Column):
                groups = self.groups(args[1].path)
                first = self.memoised(
                    ("MATCH", args[1].path, type(x), x),
                    lambda: min(
                        (rows[0] + 1 for v, rows in groups if v is not None and test(v)),
                        default=None,
                    ),
                )
                if first is None:
                    raise EvalError("#N/A")
                return Decimal(first)
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


def compiled_truth(fn: Callable[[Env], bool], env: Env) -> bool:
    """`truth` of a condition compiled by compile_condition."""
    try:
        return fn(env)
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
        if isinstance(e, SumWhere):
            mask = "*".join(f"({go(k)}={go(c)})" for k, c in e.keys)
            tail = "" if e.value is None else f",{go(e.value)}"
            return _fn("SUMPRODUCT", f"({mask}*1){tail}")
        if isinstance(e, CountNumbers):
            return _fn("SUMPRODUCT", f"({_fn('ISNUMBER', go(e.column))}*1)")
        if isinstance(e, Call):
            if e.fn == "ROUND" and _needs_exact(e):
                # binary floating point: 2-3.51*0.5 is 0.24499999999999744 in Excel, so
                # ROUND(…,2) alone gives 0.24; brought to 9 places first it is 0.245 → 0.25
                inner = _fn("ROUND", f"{go(e.args[0])},{EXACT_PLACES}")
                return _fn("ROUND", f"{inner},{go(e.args[1])}")
            return _fn(e.fn, ",".join(go(a) for a in e.args))
        raise CompileError(f"cannot compile {type(e).__name__}")

    return go(expr)


EXACT_PLACES = 9  # a computed value is rounded here first, then to the places asked for


def _needs_exact(e: Call) -> bool:
    """ROUND of a computed value (not a typed cell or a constant) to fewer than 9 places."""
    arg, places = e.args[0], e.args[1]
    if isinstance(arg, Field | Const) or not isinstance(places, Const):
        return False
    return isinstance(places.value, Decimal) and places.value < EXACT_PLACES


def _fn(name: str, args: str) -> str:
    if name not in EXCEL_FUNCTIONS:
        raise CompileError(f"function {name} is not allowed in templates")
    return f"{name}({args})"


# ------------------------------------------------------------------ compiled evaluation
#
# The scoring engine evaluates the same declarations thousands of times per second; a tree
# walk per call is too slow for that, so an expression is turned once into the source of
# one Python function with exactly the semantics of `evaluate` (tests compare the two):
# IF evaluates only the branch it takes, AND/OR/MIN/MAX evaluate every argument, references
# skip text in MIN/MAX/AND/OR, errors are EvalError. Nodes without a fast form (SUMIF,
# LEN, INDEX, ...) are handed to the tree walker.

Compiled = Callable[[Env], Value]


def compile_python(expr: Expr) -> Compiled:
    """A function computing `evaluate(expr, env)`, built once per expression."""
    gen = _Gen()
    body = gen.code(expr)
    source = f"def compiled(env):\n    g = env.value\n    return {body}\n"
    code = _CODE.get(source)
    if code is None:  # expressions of the same shape on the same fields share their code
        if len(_CODE) > 20_000:
            _CODE.clear()
        code = _CODE[source] = compile(source, "<perfxl.expr>", "exec")
    scope: dict[str, object] = {**_RUNTIME, "K": gen.consts, "E": gen.slow}
    exec(code, scope)  # our own generated text only
    return scope["compiled"]  # type: ignore[return-value]


_CODE: dict[str, Any] = {}


def compile_condition(expr: Expr, *, warm: int = 0) -> Callable[[Env], bool]:
    """`condition(expr, env)` as a compiled function: raises EvalError for an Excel error.

    With `warm`, the first `warm` calls walk the tree (`condition`) and the expression is
    compiled on the next: generating and compiling costs as much as a few walks, and
    `perfxl check one.xlsx` runs most checks once or twice (a batch compiles them all)."""
    if warm <= 0:
        f = compile_python(expr)

        def cond(env: Env) -> bool:
            return _rt_t(_one(f(env)))

        return cond
    box: list[Compiled] = []
    calls = 0

    def tiered(env: Env) -> bool:
        nonlocal calls
        if box:
            return _rt_t(_one(box[0](env)))
        calls += 1
        if calls <= warm:
            return condition(expr, env)
        box.append(compile_python(expr))
        return _rt_t(_one(box[0](env)))

    return tiered


class _Gen:
    def __init__(self) -> None:
        self.consts: list[object] = []
        self.slow: list[Expr] = []

    def const(self, v: object) -> str:
        self.consts.append(v)
        return f"K[{len(self.consts) - 1}]"

    def code(self, e: Expr) -> str:
        folded = _constant(e)
        if folded is not None:
            return self.const(folded[0])
        if isinstance(e, Field):
            return f"g({e.path!r})"
        if isinstance(e, Const):
            return self.const(e.value)
        if isinstance(e, BinOp):
            a, b = self.number(e.left), self.number(e.right)
            if e.op == "/":
                return f"_div({a}, {b})"
            return f"({a} {e.op} {b})"
        if isinstance(e, Compare):
            return f"_cmp({e.op!r}, {self.scalar(e.left)}, {self.scalar(e.right)})"
        if isinstance(e, Call):
            made = self.call(e)
            if made is not None:
                return made
        if isinstance(e, SumWhere):  # criteria compiled, the rows from the filing's indexes
            crits = ", ".join(self.scalar(c) for _, c in e.keys)
            paths = self.const(tuple(k.path for k, _ in e.keys))
            return f"_sumwhere(env, {paths}, [{crits}], {self.const(e.value)})"
        self.slow.append(e)
        return f"_slow(E[{len(self.slow) - 1}], env)"

    def scalar(self, e: Expr) -> str:
        return "_column()" if isinstance(e, Column) else self.code(e)

    def number(self, e: Expr) -> str:
        if isinstance(e, Const) and isinstance(e.value, Decimal):
            return self.const(e.value)
        return f"_n({self.scalar(e)})"

    def ref_number(self, e: Expr) -> str:
        """A MIN/MAX argument: a reference holding no number is skipped (None)."""
        if isinstance(e, Field):
            return f"_refnum({self.code(e)})"
        return self.number(e)

    def call(self, e: Call) -> str | None:
        fn, args = e.fn, e.args
        if fn == "IF":
            other = self.scalar(args[2]) if len(args) > 2 else "False"
            known = _constant(args[0])
            if known is not None and isinstance(known[0], bool):
                return self.scalar(args[1]) if known[0] else other  # only that branch runs
            return f"({self.scalar(args[1])} if _t({self.scalar(args[0])}) else {other})"
        if fn == "ROUND" and isinstance(args[1], Const):
            places = int(_num(args[1].value))
            return f"_round({self.number(args[0])}, {self.const(Decimal(1).scaleb(-places))})"
        if fn == "ISNUMBER":
            if isinstance(args[0], Field):
                return f"(type({self.code(args[0])}) is _D)"
            return f"_isnumber(lambda: {self.scalar(args[0])})"
        if fn == "NOT":
            return f"(not _t({self.scalar(args[0])}))"
        if fn == "ISBLANK":
            return f"({self.code(args[0])} is None)" if isinstance(args[0], Field) else "False"
        if fn == "LEN":
            return f"_len({self.scalar(args[0])})"
        if fn == "ABS":
            return f"abs({self.number(args[0])})"
        if fn == "IFERROR":
            return f"_iferror(lambda: {self.scalar(args[0])}, lambda: {self.scalar(args[1])})"
        if fn in ("MIN", "MAX") and len(args) == 2 and not any(isinstance(a, Column) for a in args):
            a, b = (self.ref_number(x) for x in args)
            return f"_{fn.lower()}2({a}, {b})"
        if fn in ("MIN", "MAX", "AND", "OR") and not any(isinstance(a, Column) for a in args):
            parts = "".join(f"({isinstance(a, Field)}, {self.scalar(a)}), " for a in args)
            return f"_{fn.lower()}(({parts}))"
        return None


def _constant(e: Expr) -> tuple[Value] | None:
    """(value,) of an expression that reads no field (folded once), else None."""
    if isinstance(e, Const) or any(isinstance(n, Field | Column) for n in walk(e)):
        return None
    try:
        return (_Evaluator(_NO_ENV, None).eval(e),)
    except EvalError:
        return None  # raised again at run time, as Excel shows it


def _rt_n(v: Scalar) -> Decimal:
    return v if type(v) is Decimal else _num(v)  # type: ignore[return-value]


def _rt_div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise EvalError("#DIV/0!")
    return a / b


def _rt_cmp(op: str, a: Scalar, b: Scalar) -> bool:
    if type(a) is type(b) is Decimal or (type(a) is type(b) is bool):
        return _DECIMAL_OPS[op](a, b)  # type: ignore[arg-type]
    if type(a) is type(b) is str and op in ("=", "<>"):
        return (a.casefold() == b.casefold()) == (op == "=")  # type: ignore[union-attr]
    return _compare(op, a, b)


def _rt_t(v: Scalar) -> bool:
    return v if type(v) is bool else _bool(v)  # type: ignore[return-value]


_WIDE = Context(prec=MAX_DIGITS)


def _rt_round(v: Decimal, q: Decimal) -> Decimal:
    """Half-up to the places of `q`, exactly, however many digits that takes (up to
    MAX_DIGITS; a spreadsheet shows such a number as 1E+26, Decimal must not give up)."""
    try:
        return v.quantize(q, rounding=ROUND_HALF_UP, context=_WIDE)
    except InvalidOperation as exc:
        raise EvalError("#NUM!") from exc


def _rt_isnumber(thunk: Callable[[], Scalar]) -> bool:
    try:
        return type(thunk()) is Decimal
    except EvalError:
        return False


def _rt_numbers(parts: tuple[tuple[bool, Scalar], ...], logical: bool) -> list[Decimal]:
    out: list[Decimal] = []
    for is_ref, v in parts:
        if type(v) is Decimal:
            out.append(v)  # type: ignore[arg-type]
        elif is_ref:
            if logical and isinstance(v, bool):
                out.append(Decimal(int(v)))
        else:
            out.append(Decimal(int(_bool(v))) if logical else _num(v))
    return out


def _rt_min(parts: tuple[tuple[bool, Scalar], ...]) -> Decimal:
    return min(_rt_numbers(parts, False), default=Decimal(0))


def _rt_max(parts: tuple[tuple[bool, Scalar], ...]) -> Decimal:
    return max(_rt_numbers(parts, False), default=Decimal(0))


def _rt_refnum(v: Scalar) -> Decimal | None:
    return v if type(v) is Decimal else None  # type: ignore[return-value]


def _rt_min2(a: Decimal | None, b: Decimal | None) -> Decimal:
    if a is None or b is None:
        return a if b is None and a is not None else b if b is not None else Decimal(0)
    return a if a <= b else b


def _rt_max2(a: Decimal | None, b: Decimal | None) -> Decimal:
    if a is None or b is None:
        return a if b is None and a is not None else b if b is not None else Decimal(0)
    return a if a >= b else b


def _rt_logic(parts: tuple[tuple[bool, Scalar], ...], every: bool) -> bool:
    nums = _rt_numbers(parts, True)
    if not nums:
        raise EvalError("#VALUE!")
    return all(n != 0 for n in nums) if every else any(n != 0 for n in nums)


def _rt_len(v: Scalar) -> Decimal:
    return Decimal(_utf16_len(_text_of(v)))


def _rt_iferror(value: Callable[[], Scalar], alt: Callable[[], Scalar]) -> Scalar:
    try:
        return value()
    except EvalError:
        return alt()


def _rt_column() -> Scalar:
    raise EvalError("#VALUE!")  # a whole column where one value is needed


def _rt_slow(e: Expr, env: Env) -> Scalar:
    return _one(_Evaluator(env, None).eval(e))


def _rt_sumwhere(
    env: Env, paths: tuple[str, ...], crits: list[Scalar], value: Column | None
) -> Decimal:
    return _Evaluator(env, None).sum_where(paths, crits, value)


def _one(v: Value) -> Scalar:
    if isinstance(v, list):
        raise EvalError("#VALUE!")
    return v


_DECIMAL_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_RUNTIME: dict[str, object] = {
    "_D": Decimal,
    "_n": _rt_n,
    "_div": _rt_div,
    "_cmp": _rt_cmp,
    "_t": _rt_t,
    "_round": _rt_round,
    "_isnumber": _rt_isnumber,
    "_min": _rt_min,
    "_min2": _rt_min2,
    "_max2": _rt_max2,
    "_refnum": _rt_refnum,
    "_max": _rt_max,
    "_and": lambda parts: _rt_logic(parts, True),
    "_or": lambda parts: _rt_logic(parts, False),
    "_column": _rt_column,
    "_len": _rt_len,
    "_iferror": _rt_iferror,
    "_slow": _rt_slow,
    "_sumwhere": _rt_sumwhere,
}


class _NoEnv:
    def value(self, path: str) -> Scalar:
        raise CompileError(f"a constant expression read {path}")

    def column(self, path: str) -> list[Scalar]:
        raise CompileError(f"a constant expression read {path}")


_NO_ENV = _NoEnv()


class Values:
    """An environment over a plain mapping of field path → value (blank: None)."""

    __slots__ = ("value", "values")

    def __init__(self, values: dict[str, Scalar]) -> None:
        self.values = values
        self.value = values.get  # the field's value; a missing field is blank

    def column(self, path: str) -> list[Scalar]:
        raise EvalError("#VALUE!")
