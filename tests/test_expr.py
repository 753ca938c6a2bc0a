"""The expression language: Excel's semantics in Python, and the compiler's whitelist."""

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfxl import expr as X
from perfxl.expr import (
    Abs,
    And,
    Call,
    Column,
    CompileError,
    Const,
    CountIf,
    CountNumbers,
    CountWhere,
    EvalError,
    Field,
    Filled,
    If,
    IfError,
    Index,
    IsBlank,
    IsNumber,
    Len,
    Match,
    Max,
    Min,
    Not,
    Or,
    Round,
    Sum,
    SumIf,
    SumWhere,
    Trace,
    eq,
    evaluate,
    ge,
    gt,
    lt,
    ne,
    to_excel,
)

from .live_excel import compute

D = Decimal


class Env:
    def __init__(self, **values):
        self.values = values

    def value(self, path):
        return self.values.get(path)

    def column(self, path):
        return self.values[path]


def ev(e, **values):
    return evaluate(e, Env(**values))


A, B, T = Field("a"), Field("b"), Field("t")


def test_blank_is_zero_in_arithmetic_and_equal_to_zero_and_empty_text():
    assert ev(A + 1) == 1
    assert ev(eq(A, 0)) is True and ev(eq(A, "")) is True and ev(eq(A, False)) is True
    assert ev(IsBlank(A)) is True and ev(IsBlank(A), a=D(0)) is False
    assert ev(IsNumber(A)) is False and ev(Len(A)) == 0


def test_references_skip_blanks_and_text_in_min_max_sum():
    assert ev(Max(A, -1)) == -1  # a blank cell is not 0 for MAX
    assert ev(Min(A, 5), a="文字") == 5
    assert ev(Min(A)) == 0  # no number at all
    assert ev(Sum(A, B, 2), a=D(1), b="x") == 3
    assert ev(Sum(Column("r.*.x")), **{"r.*.x": [D(1), None, "y", D("2.5")]}) == D("3.5")
    with pytest.raises(EvalError):
        ev(Sum(A + 0), a="x")  # text in arithmetic is #VALUE!, unlike text in a reference


def test_text_in_arithmetic_unless_it_reads_as_a_number():
    assert ev(A * 2, a="3") == 6
    with pytest.raises(EvalError, match="VALUE"):
        ev(A * 2, a="三")


def test_if_is_lazy_and_and_or_are_not():
    assert ev(If(gt(B, 0), A / B, 0), a=D(1)) == 0
    with pytest.raises(EvalError, match="DIV"):
        ev(And(False, gt(A / B, 0)), a=D(1))
    assert ev(IfError(A / B, "—"), a=D(1)) == "—"
    assert ev(IsNumber(A / B), a=D(1)) is False  # IS-functions swallow errors


def test_and_or_skip_blank_references():
    assert ev(And(A, True)) is True
    with pytest.raises(EvalError):
        ev(And(A))  # nothing logical at all: #VALUE!
    assert ev(Or(eq(T, "x"), Not(IsBlank(A))), t="X") is True  # text = is case-insensitive


def test_round_is_half_up_on_the_decimal_value():
    assert ev(Round(A, 2), a=D("9.985")) == D("9.99")
    assert ev(Round(A, 2), a=D("-1.005")) == D("-1.01")
    assert ev(Round(A * 10 / 100, 2), a=D("99.85")) == D("9.99")
    t = Trace()
    evaluate(Round(A, 2), Env(a=D("1.005")), t)
    assert t.has_tie()
    t = Trace()
    evaluate(Round(A, 2), Env(a=D("1.004")), t)
    assert not t.has_tie()


def test_len_counts_like_excel():
    assert ev(Len(A), a="偏差原因") == 4
    assert ev(Len(A), a="𠀀") == 2  # outside the BMP: two UTF-16 units, as Excel counts
    assert ev(Len(A), a=D("10.50")) == 4  # the number as Excel shows it: 10.5
    assert ev(Filled(A), a=" ") is True  # a space is an entry (Excel has no TRIM here)


def test_criteria_of_sumif_and_countif():
    codes = Column("i.*.code")
    vals = Column("i.*.w")
    env = {
        "i.*.code": ["2.1", "2.2", "2.1", None, "项目*"],
        "i.*.w": [D(3), D(4), D(5), D(9), D(1)],
    }
    assert ev(SumIf(codes, "2.1", vals), **env) == 8
    assert ev(SumIf(codes, "=2.2", vals), **env) == 4
    assert ev(CountIf(codes, "<>2.1"), **env) == 3
    assert ev(CountIf(codes, "项目~*"), **env) == 1
    assert ev(CountIf(codes, "2.*"), **env) == 3  # a wildcard
    assert ev(CountWhere(codes, Const("2.1"), vals), **env) == 2
    assert ev(CountNumbers(vals), **env) == 5
    assert ev(Index(vals, 2), **env) == 4 and ev(Match("2.2", codes), **env) == 2


def test_sum_where_matches_every_key_exactly():
    """The 二级项目 of a 一级项目 within one unit: two keys, exact (no wildcards), text case
    ignored, a blank unit equal to a blank unit."""
    parents, units, spent = Column("p.*.parent"), Column("p.*.unit"), Column("p.*.spent")
    env = {
        "p.*.parent": ["运行经费", "运行经费", "运行*", "运行经费", "Abc"],
        "p.*.unit": [None, "中心", None, None, None],
        "p.*.spent": [D(3), D(4), D(5), "文字", D(7)],
    }
    mine = ((parents, Const("运行经费")), (units, Field("u")))
    assert ev(SumWhere(mine, spent), u=None, **env) == 3  # text in the summed column: 0
    assert ev(SumWhere(mine), u=None, **env) == 2
    assert ev(SumWhere(mine, spent), u="中心", **env) == 4
    assert ev(SumWhere(((parents, Const("abc")), (units, Field("u")))), u=None, **env) == 1
    assert to_excel(SumWhere(mine, spent), ref) == (
        'SUMPRODUCT(((p_parent="运行经费")*(p_unit=u)*1),p_spent)'
    )
    assert to_excel(SumWhere(mine), ref) == 'SUMPRODUCT(((p_parent="运行经费")*(p_unit=u)*1))'


def test_comparisons_across_types_follow_excel():
    assert ev(gt(A, 5), a="x") is True  # text sorts after every number
    assert ev(ne(A, 1), a="1") is True  # text "1" is not the number 1
    assert ev(lt(A, True), a=D(99)) is True


# -------------------------------------------------------------------------- compiler


def ref(path):
    return {"a": "A1", "b": "pf_b", "t": "'表'!$C$3"}.get(path) or path.replace(".*.", "_")


def test_compiled_text():
    e = IfError(If(gt(B, 0), eq(Round(A * 100 / B, 2), T), True), False)
    assert (
        to_excel(e, ref)
        == "IFERROR(IF((pf_b>0),(ROUND(ROUND(((A1*100)/pf_b),9),2)='表'!$C$3),TRUE),FALSE)"
    )
    assert to_excel(eq(T, 'say "hi"'), ref) == '(\'表\'!$C$3="say ""hi""")'
    assert to_excel(A - D(-5), ref) == "(A1-(-5))"
    assert to_excel(CountWhere(Column("r.*.c"), Const("2.1"), Column("r.*.s")), ref) == (
        'SUMPRODUCT(((r_c="2.1")*ISNUMBER(r_s)*1))'
    )
    assert to_excel(Abs(A), ref) == "ABS(A1)"
    assert X.paths(e) == ["b", "a", "t"]


@pytest.mark.parametrize("fn", ["VLOOKUP", "INDIRECT", "OFFSET", "IFS", "TEXT", "TRIM"])
def test_only_whitelisted_functions_compile(fn):
    with pytest.raises(CompileError, match=fn):
        to_excel(Call(fn, (A,)), ref)


def test_a_path_without_a_cell_does_not_compile():
    with pytest.raises(CompileError):
        to_excel(A + 1, lambda p: "")


# ------------------------------------------------ the same verdicts from `formulas`

AGREE = [
    (Round(A * B / T, 2), {"a": D("0.71"), "b": D(3), "t": D(6)}),  # 0.355: both 0.36
    (Round(A, 2), {"a": D("9.985")}),
    (Round(A * 100 / B, 2), {"a": D("489.27"), "b": D(490)}),
    (Max(A, -1), {}),
    (Min(A, 5), {"a": "文字"}),
    (eq(A, ""), {}),
    (IsBlank(A), {}),
    (SumIf(Column("c.*.k"), "2.1", Column("c.*.v")), {}),
    (If(gt(B, 0), A / B, "—"), {"a": D(1)}),
    (Len(T), {"t": "偏差原因分析"}),
    (eq(T, "达成年度指标"), {"t": "达成年度指标"}),
    (And(ge(A, 0), Or(False, IsNumber(A))), {"a": D(3)}),
]

# `formulas` computes ROUND on binary floats and LEN on code points; Excel and LibreOffice
# give 1.01, 0.29, 9.99 and 2 for these. Listed, not hidden: strict, so a fixed release shows.
KNOWN_GAPS = [
    (Round(A, 2), {"a": D("1.005")}, "ROUND(1.005,2): formulas gives 1.00"),
    (Round(A, 2), {"a": D("0.285")}, "ROUND(0.285,2): formulas gives 0.28"),
    (Round(A * 100 / B, 2), {"a": D("2.01"), "b": D(200)}, "执行率 2.01/200 = 1.005 %"),
    (Len(T), {"t": "𠀀"}, "LEN of a non-BMP character: formulas gives 1"),
]


COLUMNS = {"c.*.k": ["2.1", "2.2", "2.1"], "c.*.v": [D(3), D(4), D(5)]}


def _both(e, values, tmp_path):
    """(Python value, `formulas` value) of one expression over the same cells."""
    data = {**{p: values.get(p) for p in ("a", "b", "t")}, **COLUMNS}
    names = {p: "n_" + re.sub(r"\W", "_", p) for p in data}
    python = evaluate(e, Env(**data))
    (excel,) = compute(
        {names[p]: v for p, v in data.items()}, ["=" + to_excel(e, names.__getitem__)], tmp_path
    )
    return python, excel


@pytest.mark.parametrize(("e", "values"), AGREE)
def test_python_and_formulas_agree(e, values, tmp_path):
    python, excel = _both(e, values, tmp_path)
    assert python == excel


@pytest.mark.parametrize(
    ("e", "values"),
    [
        pytest.param(e, v, marks=pytest.mark.xfail(strict=True, reason=why))
        for e, v, why in KNOWN_GAPS
    ],
)
def test_known_gaps_of_the_formulas_package(e, values, tmp_path):
    python, excel = _both(e, values, tmp_path)
    assert python == excel


# ------------------------------------------------ compiled closures = the tree walk

COMPILED_CASES = [
    *AGREE,
    (A / B, {"a": D(1), "b": D(0)}),  # #DIV/0!
    (A + B, {"a": "文字"}),  # #VALUE!
    (If(A, 1, 2), {"a": "文字"}),  # a text condition: #VALUE!
    (IsNumber(A / B), {"a": D(1)}),  # an error is not a number
    (And(), {}),  # no argument: #VALUE!
    (Or(A, B), {"a": "x", "b": True}),  # text in a reference is skipped
    (Max(A, B), {}),  # blanks skipped, none left: 0
    (Round(A * B, 2), {"a": D("2.5"), "b": D("0.1")}),
    (If(ge(A, B), "是", "否"), {"a": D(2), "b": "1"}),
]


def _outcome(f, env):
    try:
        return ("value", f(env))
    except X.EvalError as exc:
        return ("error", exc.code)


@pytest.mark.parametrize(("e", "values"), COMPILED_CASES)
def test_compiled_python_equals_evaluate(e, values):
    env = Env(**{**{p: values.get(p) for p in ("a", "b", "t")}, **COLUMNS})
    compiled = X.compile_python(e)
    assert _outcome(compiled, env) == _outcome(lambda v: evaluate(e, v), env)


FAST_FORMS = [
    (IsBlank(A), {}),
    (IsBlank(A), {"a": ""}),  # an empty text is not blank
    (Len(T), {"t": "𠀀偏差"}),
    (Len(A), {"a": D("1.50")}),
    (X.Abs(A - B), {"a": D(1), "b": D(3)}),
    (X.IfError(A / B, "—"), {"a": D(1), "b": D(0)}),
    (X.IfError(A / B, "—"), {"a": D(1), "b": D(4)}),
]


@pytest.mark.parametrize(("e", "values"), FAST_FORMS)
def test_compiled_fast_forms_equal_evaluate(e, values):
    env = Env(**{**{p: values.get(p) for p in ("a", "b", "t")}, **COLUMNS})
    assert _outcome(X.compile_python(e), env) == _outcome(lambda v: evaluate(e, v), env)


class MemoEnv(Env):
    """An environment offering a memo, as a filing's does: aggregates come from indexes."""

    def __init__(self, **values):
        super().__init__(**values)
        self.memo = {}


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([D(0), D("-0"), D(1), D("1.0"), D("2.5"), D(-3)]),
    st.sampled_from(["", "a", "A", "ß", "SS", "ss", "1", " 1 ", "2.5", "a*", "x?y", "运行经费"]),
)
_CRITS = st.one_of(
    _CELLS,
    st.sampled_from(["=a", "<>a", ">1", "<=2.5", "=", "<>", "a*", "?", "~*", "*S*", ">=b"]),
)


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(st.tuples(_CELLS, _CELLS, _CELLS), max_size=12),
    crits=st.lists(st.tuples(_CRITS, _CRITS), min_size=1, max_size=4),
)
def test_aggregates_from_the_per_filing_indexes_equal_a_scan(keys, crits):
    cols = {
        "t.*.k": [k for k, _, _ in keys],
        "t.*.u": [u for _, u, _ in keys],
        "t.*.v": [v for _, _, v in keys],
    }
    k, u, v = Column("t.*.k"), Column("t.*.u"), Column("t.*.v")
    memo_env = MemoEnv(**cols)
    for c1, c2 in crits:
        f1, f2 = Field("c1"), Field("c2")
        for e in (
            SumWhere(((k, f1), (u, f2)), v),
            SumWhere(((k, f1),)),
            CountWhere(k, f1, v),
            CountIf(k, f1),
            SumIf(k, f1, v),
            Match(f1, k),
            CountNumbers(v),
            Sum(v),
            Max(v),
            Or(v),
        ):
            memo_env.values.update(c1=c1, c2=c2)  # same memo: criteria change per row
            try:
                want = ("ok", evaluate(e, Env(**cols, c1=c1, c2=c2)))
            except EvalError as exc:
                want = ("err", exc.code)
            try:
                got = ("ok", evaluate(e, memo_env))
            except EvalError as exc:
                got = ("err", exc.code)
            assert got == want and type(got[1]) is type(want[1]), (e, c1, c2)
            # and compiled (SumWhere has a compiled form reading the same indexes)
            compiled = _outcome(X.compile_python(e), memo_env)
            assert compiled[1] == want[1] and type(compiled[1]) is type(want[1]), (e, c1, c2)


def test_a_warm_condition_walks_then_compiles_with_the_same_verdicts():
    cases = [
        (gt(A, B), {"a": D(2), "b": D(1)}),
        (gt(A, B), {"a": "x", "b": D(1)}),  # text against a number: FALSE, no error
        (eq(A / B, 1), {"a": D(1), "b": D(0)}),  # #DIV/0!
        (A + 1, {"a": "文字"}),  # #VALUE! as a condition
        (Or(A, B), {}),  # no logical value: #VALUE!
    ]
    for e, values in cases:
        compiled = X.compile_condition(e)
        warm = X.compile_condition(e, warm=2)
        for _ in range(5):  # two walks, then the compiled code
            outcomes = []
            for f in (compiled, warm):
                try:
                    outcomes.append(f(Env(**values)))
                except EvalError as exc:
                    outcomes.append(exc.code)
            assert outcomes[0] == outcomes[1], (e, values)
