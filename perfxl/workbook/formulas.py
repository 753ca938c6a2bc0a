"""Excel formula text for the live cells of a template, compiled from the declarations.

The profile and perfxl.score_rules are the one source of truth: every 复算 formula (rates,
indicator scores, totals after caps, grades) is compiled from the same declaration that
perfxl.scoring evaluates in Python, with the weights, thresholds and grade bands of the
profile as constants; the cells come from perfxl.workbook.layout. What is written here is
only presentation: a cell shows "" while its inputs are blank, "—" where a rate does not
exist.

Only functions that Excel 2010, WPS, LibreOffice 7.4 and the `formulas` package all know
are used (WHITELIST); `functions_in` lets tests and the builder enforce that.
Division never reaches a zero divisor: every quotient sits behind an IF that tests it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..decimal_math import r2
from ..expr import Const, Expr, Field, If, IsNumber, to_excel
from ..memo import by_identity
from ..model import OWN_UNIT
from ..profile import (
    BandsRule,
    DeductionRule,
    ExecutionRateRule,
    Node,
    PenaltyRule,
    Profile,
    QualitativeRule,
    QuantitativeRule,
    RatioRule,
    code_name,
)
from ..score_rules import (
    NOT_APPLICABLE,
    ROW,
    fixed_leaf_score,
    grade_of,
    group_grade,
    judged,
    open_row_score,
    percent_of,
)
from ..score_rules import capped_total as capped_total_rule
from ..score_rules import execution_score as execution_score_rule
from ..scoring import grade as grade_in_python
from ..scoring import percent, rate_score
from .layout import (
    DEPT_INDICATOR_COLUMNS,
    DEPT_WEIGHT_COLUMN,
    PROJECT_COLUMNS,
    PROJECT_FLAG_COLUMNS,
    Block,
    Layout,
)

if TYPE_CHECKING:
    from .cells import Ctx

WHITELIST = frozenset(
    "SUM ROUND MIN MAX IF IFERROR AND OR NOT ABS ISNUMBER ISBLANK ISERROR LEN COUNT COUNTA COUNTIF "
    "SUMIF SUMPRODUCT INDEX MATCH VLOOKUP TEXT".split()
)
ALSO_ALLOWED = frozenset({"HYPERLINK"})  # allowed for 审核 links (written as cell links today)

_STRING = re.compile(r'"(?:[^"]|"")*"')
_QUOTED_SHEET = re.compile(r"'(?:[^']|'')*'")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")


def functions_in(formula: str) -> set[str]:
    """Names of the functions a formula calls (string literals and sheet names ignored)."""
    text = _QUOTED_SHEET.sub("S", _STRING.sub('""', formula))
    return {m.group(1).upper() for m in _CALL.finditer(text)}


class FormulaError(ValueError):
    """A generated formula calls a function outside the whitelist."""


def checked(formula: str) -> str:
    bad = functions_in(formula) - WHITELIST - ALSO_ALLOWED
    if bad:
        raise FormulaError(f"formula uses {sorted(bad)} outside the whitelist: {formula}")
    return formula


def lit(value: Decimal | int) -> str:
    """A number literal without exponent: Decimal('2.50') → 2.5, Decimal('1E+1') → 10."""
    text = format(Decimal(value).normalize(), "f")
    return text if text != "-0" else "0"


def text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def compiled(e: Expr, cells: dict[str, str]) -> str:
    """A declaration of perfxl.score_rules as formula text, its fields bound to `cells`."""
    return to_excel(e, lambda path: cells[path])


def _v(ref: str) -> Field:
    """A cell reference standing for itself in a declaration."""
    return Field(ref)


def _self(e: Expr) -> str:
    """Formula text of a declaration whose fields are cell references already (`_v`)."""
    return to_excel(e, lambda ref: ref)


# ------------------------------------------------------------------ rates


def rate(budget: str, executed: str) -> str:
    """执行率 % to 2 decimals (score_rules.percent_of); "—" when the budget is 0, "" while an
    input is blank."""
    value = _self(percent_of(_v(executed), _v(budget)))
    return (
        f'IF(OR(NOT(ISNUMBER({budget})),NOT(ISNUMBER({executed}))),"",IF({budget}=0,"—",{value}))'
    )


def execution_score(profile: Profile, node: Node, cells: dict[str, str]) -> str:
    """Score of the execution-rate indicator (score_rules.execution_score); `cells` binds
    funds.total.budget / executed, and row.actual where the row states a rate."""
    weight = Const(node.weight if node.weight is not None else Decimal(0))
    stated = ROW["actual"] if "row.actual" in cells else None
    inputs, score = execution_score_rule(profile, weight, stated)
    return f'IF({compiled(inputs, cells)},{compiled(score, cells)},"")'


# ------------------------------------------------------------------ indicator rows


_ROW_MARK = "\x00"  # stands for the row number in a row formula compiled once
_ROW_TEXT: dict[int, tuple[object, str]] = {}


def project_row(profile: Profile, r: int) -> str:
    """复算得分 of a 三级 row of the project table (score_rules.open_row_score over the
    columns of layout.PROJECT_COLUMNS); "" on a row with nothing typed. Compiled once per
    profile with a mark for the row number: every row and every layout has this text."""

    def build() -> str:
        cols = {c.key: c.letter for c in PROJECT_COLUMNS}
        keys = ("direction", "target", "actual", "score", "weight", "applicable")
        cells = {f"row.{k}": f"${cols[k]}{_ROW_MARK}" for k in keys}
        first, last = PROJECT_COLUMNS[0].letter, cols["explanation"]  # the row as printed
        body = compiled(open_row_score(profile), cells)
        na = cells["row.applicable"]  # a row marked 不适用 and nothing else is a row: 0
        return f'IF(COUNTA(${first}{_ROW_MARK}:${last}{_ROW_MARK})+COUNTA({na})=0,"",{body})'

    return by_identity(_ROW_TEXT, 64, id(profile), profile, build).replace(_ROW_MARK, str(r))


def dept_leaf(profile: Profile, node: Node, r: int, funds: dict[str, str], inputs: str) -> str:
    """复算得分 of a department leaf in row r (score_rules.fixed_leaf_score); `funds` binds
    the fund fields, `inputs` is the row's input range (blank row → "")."""
    cols = {c.key: c.letter for c in DEPT_INDICATOR_COLUMNS}
    cells = {**funds, "row.actual": f"${cols['actual']}{r}", "row.score": f"${cols['score']}{r}"}
    if isinstance(node.rule, ExecutionRateRule):
        return execution_score(profile, node, cells)
    spec = fixed_leaf_score(node, profile)
    if isinstance(node.rule, QuantitativeRule):
        body = "0"  # the department sheet has no 年度指标值: no target, the engine gives 0
    elif spec is None:  # judged (manual, qualitative): the stated score within [0, weight]
        w = Const(node.weight if node.weight is not None else Decimal(0))
        body = compiled(If(IsNumber(ROW["score"]), judged(ROW["score"], w), 0), cells)
    else:
        given, score = spec
        body = compiled(If(given, score, 0), cells)
    return f'IF(COUNTA({inputs})=0,"",{body})'


def group_score(weight: Decimal, stated: str, inputs: str, scores: str) -> str:
    """一级 复算: the stated 一级 score (judged within its weight) when none of its rows is
    filled, else the sum of its leaves (scoring._Scorer.node)."""
    own = _self(judged(_v(stated), Const(weight)))
    return f"IF(AND(COUNTA({inputs})=0,ISNUMBER({stated})),{own},ROUND(SUM({scores}),2))"


# ------------------------------------------------------------------ totals and grades


def grade(profile: Profile, x: str) -> str:
    """score_rules.grade_of: the profile's grade bands (inclusive lower bounds)."""
    return _self(grade_of(profile, _v(x)))


def capped_total(profile: Profile, subtotal: str, rate_ref: str) -> str:
    """score_rules.capped_total: the total after the execution-rate caps, rounded.

    Re-scaling of not-applicable indicators comes in with `subtotal` (rescaled_subtotal
    for a project table; a department table has no 不适用 input)."""
    return to_excel(capped_total_rule(profile, _v("S"), _v(rate_ref)),
                    lambda ref: subtotal if ref == "S" else ref)  # fmt: skip


def unless_empty(count_args: Sequence[str], formula: str) -> str:
    """ "" while every input the formula depends on is blank (a clean template)."""
    return f'IF(COUNT({",".join(count_args)})=0,"",{formula})'


def live_checks(profile: Profile) -> list[Any]:
    """The checks rendered on the 审核 sheet: the catalogue's formula-expressible rules."""
    from ..rules import live_checks as catalogue

    return list(catalogue(profile))


def isnum(x: object) -> bool:
    t = type(x)  # the plain types first: called for every cell of a large list
    if t is Decimal or t is int or t is float:
        return True
    if t is str or t is bool or x is None:
        return False
    return isinstance(x, Decimal | int | float) and not isinstance(x, bool)


# ------------------------------------------------------------------ rules in words


def rule_text(node: Node) -> str:
    """The scoring standard of a leaf in the words of the printed tables (评分标准)."""
    rule, w = node.rule, lit(node.weight or 0)
    if isinstance(rule, ExecutionRateRule):
        return f"得分 = min(预算执行率, 100%) × {w}；执行率取“基本信息”表的预算执行率"
    if isinstance(rule, RatioRule):
        return f"得分 = min(实际值%, 100%) × {w}（实际值填百分数，95 表示 95%）"
    if isinstance(rule, PenaltyRule):
        sign, word = ("≤", "超出") if rule.side == "over" else ("≥", "低于")
        return (
            f"实际值{sign}{lit(rule.bound)}% 得 {w} 分，每{word} 1 个百分点扣 "
            f"{lit(rule.per_point)} 分，扣完为止（实际值填百分数）"
        )
    if isinstance(rule, BandsRule):
        parts = []
        for b in rule.bands:
            if b.min is not None and b.max is not None:
                cond = f"{lit(b.min)}%～{lit(b.max)}%"
            elif b.min is not None:
                cond = f"≥{lit(b.min)}%"
            elif b.max is not None:
                cond = f"≤{lit(b.max)}%"
            else:
                cond = "其他"
            parts.append(f"{cond} 得 {lit(b.score)} 分")
        return "；".join(parts) + "（按顺序取第一个符合的档次）"
    if isinstance(rule, DeductionRule):
        return f"每发生 1 次扣 {lit(rule.per_item)} 分，扣完为止（实际值填次数）"
    if isinstance(rule, QualitativeRule):
        return "定性评价：按评价用语对应区间判定得分"
    if isinstance(rule, QuantitativeRule):
        return "定量指标，按指标性质与年度指标值比较计分"
    return f"评价人员据实判定，得分在 0～{w} 之间"


# ------------------------------------------------------------------ A1 helpers


COLS = {chr(65 + i): i for i in range(26)} | {"A" + chr(65 + i): 26 + i for i in range(26)}


def block_rows(b: Block) -> range:
    return range(b.first_row, b.last_row + 1)


def letters(a1: str) -> str:
    return a1.rstrip("0123456789")


def digits(a1: str) -> int:
    return int(a1[len(letters(a1)) :])


def leaves(node: Node) -> list[Node]:
    if not node.children:
        return [node]
    return [leaf for c in node.children for leaf in leaves(c)]


# ------------------------------------------------------------------ the live cells of a layout
#
# Each formula cell of a sheet, with the Python mirror that gives its cached value from the
# filing as written and the engine's result (what the formula yields, so files read
# without recalculation show the right numbers).


def as_decimal(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def _rate(budget: Decimal | None, executed: Decimal | None) -> Any:
    if budget is None or executed is None:
        return ""
    if budget == 0:
        return "—"
    return percent(executed, budget)


def _numbers(values: Iterable[Any]) -> list[Decimal]:
    return [as_decimal(v) for v in values if isnum(v)]


@dataclass(frozen=True)
class FCell:
    """A formula cell: its text, style and the Python mirror giving its cached value."""

    sheet: str
    row: int
    col: str
    text: str
    style: tuple[str, str]  # (kind, "form" | "check" | special)
    value: Callable[[Ctx], Any]


def _at(layout: Layout, name: str) -> tuple[str, int, str]:
    """(sheet, row, column letter) of a named cell: layout.py says where everything is."""
    c = layout.cell(name)
    return c.sheet, digits(c.ref), letters(c.ref)


def project_cells(layout: Layout) -> list[FCell]:
    p = layout.profile
    s = layout.form_sheet
    exec_node = next(
        n for _, n in p.walk() if n.rule is not None and n.rule.kind == "execution_rate"
    )
    _, fr, B = _at(layout, "pf_funds_total_budget")
    # 执行率 and 得分 in G6/H6 are what the unit states (inputs); 复算 in L6/K6
    E = _at(layout, "pf_funds_total_executed")[2]
    G = _at(layout, "pf_funds_total_rate_recomputed")[2]
    X = _at(layout, "pf_exec_recomputed")[2]
    col = {c.key: c.letter for c in PROJECT_COLUMNS}
    T, S, K = col["target"], col["score"], col["recomputed"]
    _, t, TK = _at(layout, "pf_total_recomputed")
    _, g, GK = _at(layout, "pf_grade_recomputed")
    out = [
        FCell(s, fr, G, rate(f"${B}${fr}", f"${E}${fr}"), ("pct", "check"),
              lambda ctx: _rate(ctx.num(s, fr, B), ctx.num(s, fr, E))),
    ]  # fmt: skip
    funds = {"funds.total.budget": f"${B}${fr}", "funds.total.executed": f"${E}${fr}"}
    exec_text = execution_score(p, exec_node, funds)

    def exec_value(ctx: Ctx) -> Any:
        return ctx.nodes[exec_node.code].score if isnum(ctx.get(s, fr, G)) else ""

    out.append(FCell(s, fr, X, exec_text, ("score", "check"), exec_value))
    blocks = [b for b in layout.blocks if b.list_path == "indicators"]
    first, last = blocks[0].first_row, blocks[-1].last_row
    for b in blocks:
        for r in block_rows(b):
            out.append(
                FCell(s, r, K, project_row(p, r), ("score", "check"),
                      lambda ctx, r=r: ctx.indicator_score(s, r))
            )  # fmt: skip
    inputs = (f"{B}{fr}:{E}{fr}", f"{T}{first}:{S}{last}")
    input_cols = "".join(c.letter for c in PROJECT_COLUMNS if T <= c.letter <= S)

    def nodata(ctx: Ctx) -> bool:
        vals = [
            ctx.get(s, fr, B),
            ctx.get(s, fr, E),
            *ctx.span(s, range(first, last + 1), input_cols),
        ]
        return not _numbers(vals)

    subtotal = f"SUM(${X}${fr},${K}${first}:${K}${last})"
    if p.options.rescale_not_applicable:
        subtotal = rescaled_subtotal(p, exec_node, f"${X}${fr}", (first, last), col, subtotal)
    total_text = unless_empty([_abs(a) for a in inputs], capped_total(p, subtotal, f"${G}${fr}"))
    # 总分 and 评价等级 are what the unit states (inputs); 复算 beside them
    out += [
        FCell(s, t, TK, total_text, ("score", "check"),
              lambda ctx: "" if nodata(ctx) else ctx.result.total),
        FCell(s, g, GK, f'IF(ISNUMBER(${TK}${t}),{grade(p, f"${TK}${t}")},"")', ("grade", "check"),
              lambda ctx: _grade(p, ctx.get(s, t, TK))),
    ]  # fmt: skip
    return out + _count_cells(layout)


def rescaled_subtotal(
    p: Profile, exec_node: Node, x: str, rows: tuple[int, int], col: dict[str, str], plain: str
) -> str:
    """scoring._Scorer.run with rescale_not_applicable: when a leaf is not applicable (a 三级
    row marked 不适用, or the execution rate missing), the applicable leaves' scores over
    their weights × the full mark, rounded; else the plain sum."""
    a, z = rows

    def rng(key: str) -> str:
        return f"${col[key]}${a}:${col[key]}${z}"

    na, k, w = rng("applicable"), rng("recomputed"), rng("weight")
    ew = lit(exec_node.weight or 0)
    score = f'(IF(ISNUMBER({x}),{x},0)+SUMIF({na},"<>{NOT_APPLICABLE}",{k}))'
    weight = f'(IF(ISNUMBER({x}),{ew},0)+SUMIF({na},"<>{NOT_APPLICABLE}",{w}))'
    some = f'OR(COUNTIF({na},"{NOT_APPLICABLE}")>0,NOT(ISNUMBER({x})))'
    return f"IF({some},IF({weight}>0,ROUND({score}/{weight}*{lit(p.total)},2),0),{plain})"


def _count_cells(layout: Layout) -> list[FCell]:
    """复算 of the stated 指标个数 / 满分个数 (XT-COUNTS): per 一级 the 末级 rows of its
    blocks that hold an input, and those whose score (the stated one, else the 复算得分)
    reaches a weight above 0; 全表 sums the 一级. Ranges, not per-row helpers: a row the unit
    inserts inside a block is counted. rules.crosstable.indicator_counts in Python."""
    from ..rules.crosstable import count_cells

    p = layout.profile
    if not any(c.name.endswith("_recomputed") and c.name.startswith("pf_count_")
               for c in layout.cells):  # fmt: skip
        return []
    blocks = [b for b in layout.blocks if b.list_path == "indicators"]
    if p.kind == "project":
        col = {c.key: c.letter for c in PROJECT_COLUMNS}
        inputs = [col[k] for k in ("name", "direction", "unit", "target", "actual", "weight",
                                   "score", "explanation", "target_initial",
                                   "applicable")]  # fmt: skip
    else:
        col = {c.key: c.letter for c in DEPT_INDICATOR_COLUMNS}
        col["weight"] = DEPT_WEIGHT_COLUMN
        inputs = [col[k] for k in ("actual", "score", "explanation")]
    W, S, K = col["weight"], col["score"], col["recomputed"]

    def value(ctx: Ctx, name: str) -> Any:
        """A 复算 count cell: every one comes from the same counts, made once per workbook."""
        if "count_cells" not in ctx.memo:
            ctx.memo["count_cells"] = count_cells(ctx.filing, p, ctx.result)
        v = ctx.memo["count_cells"].get(name)
        return "" if v is None else v

    def codes(node: Node) -> set[str]:
        return {x for c in node.children for x in (c.code, *codes(c))}

    out: list[FCell] = []
    found_cells: list[tuple[str, int, str]] = []
    full_cells: list[tuple[str, int, str]] = []
    for top in p.indicators:
        mine = [b for b in blocks if b.fixed.get("code") in codes(top)]
        c = code_name(top.code)
        sheet, r, J = _at(layout, f"pf_count_{c}_indicators_recomputed")
        FM = _at(layout, f"pf_count_{c}_full_marks_recomputed")[2]
        found_cells.append((sheet, r, J))
        full_cells.append((sheet, r, FM))
        if not mine:
            found_text, full_text = '""', '""'
        else:
            a, z = mine[0].first_row, mine[-1].last_row

            def rng(x: str, a: int = a, z: int = z) -> str:
                return f"${x}${a}:${x}${z}"

            used = "((" + "+".join(f"LEN({rng(x)})" for x in inputs) + ")>0)"
            n = f"SUMPRODUCT({used}*1)"
            w, sc, k = rng(W), rng(S), rng(K)
            full = (f"SUMPRODUCT({used}*ISNUMBER({w})*({w}>0)*(ISNUMBER({sc})*({sc}>={w})"
                    f"+(1-ISNUMBER({sc}))*ISNUMBER({k})*({k}>={w})))")  # fmt: skip
            found_text = f'IF({n}=0,"",{n})'
            full_text = f'IF(ISNUMBER(${J}{r}),{full},"")'

        out += [
            FCell(sheet, r, J, found_text, ("count", "check"),
                  lambda ctx, n=f"pf_count_{c}_indicators_recomputed": value(ctx, n)),
            FCell(sheet, r, FM, full_text, ("count", "check"),
                  lambda ctx, n=f"pf_count_{c}_full_marks_recomputed": value(ctx, n)),
        ]  # fmt: skip
    sheet, r, J = _at(layout, "pf_count_all_indicators_recomputed")
    FM = _at(layout, "pf_count_all_full_marks_recomputed")[2]
    first, last = found_cells[0][1], found_cells[-1][1]
    out += [
        FCell(sheet, r, J, f'IF(SUM(${J}${first}:${J}${last})=0,"",SUM(${J}${first}:${J}${last}))',
              ("count", "check"), lambda ctx: value(ctx, "pf_count_all_indicators_recomputed")),
        FCell(sheet, r, FM, f'IF(ISNUMBER(${J}{r}),SUM(${FM}${first}:${FM}${last}),"")',
              ("count", "check"), lambda ctx: value(ctx, "pf_count_all_full_marks_recomputed")),
    ]  # fmt: skip
    return out


def _abs(a1range: str) -> str:
    a, _, b = a1range.partition(":")
    return f"${letters(a)}${digits(a)}:${letters(b)}${digits(b)}"


def _grade(p: Profile, total: Any) -> str:
    return grade_in_python(p, as_decimal(total)) if isnum(total) else ""


def department_cells(layout: Layout) -> list[FCell]:
    p = layout.profile
    form = layout.form_sheet
    info, fr_i, FB = _at(layout, "pf_funds_total_initial")
    fr_b, fr_e = _at(layout, "pf_funds_total_budget")[1], _at(layout, "pf_funds_total_executed")[1]
    _, fr_r, FR = _at(layout, "pf_funds_total_rate")
    _, fr_ri, FRI = _at(layout, "pf_rate_initial")

    def fund(row: int) -> str:
        return f"${FB}${row}"

    out = [
        FCell(info, fr_r, FR, rate(fund(fr_b), fund(fr_e)), ("pct", "form"),
              lambda ctx: _rate(ctx.num(info, fr_b, FB), ctx.num(info, fr_e, FB))),
        FCell(info, fr_ri, FRI, rate(fund(fr_i), fund(fr_e)), ("pct", "form"),
              lambda ctx: _rate(ctx.num(info, fr_i, FB), ctx.num(info, fr_e, FB))),
    ]  # fmt: skip
    money, tr, TC = _at(layout, "pf_fin_expenditure_total")
    for name, part in (
        ("pf_fin_basic_share_recomputed", "pf_fin_basic"),
        ("pf_fin_project_share_recomputed", "pf_fin_project"),
    ):
        _, r, SC = _at(layout, name)
        _, pr_, PC = _at(layout, part)
        out.append(
            FCell(money, r, SC, rate(f"${TC}${tr}", f"${PC}${pr_}"), ("pct", "form"),
                  lambda ctx, pr_=pr_, PC=PC: _rate(ctx.num(money, tr, TC), ctx.num(money, pr_, PC)))
        )  # fmt: skip
    # 收入: each source's share of 收入合计, beside the share the unit states
    inc = next(b for b in layout.blocks if b.list_path == "finance.income")
    ic_ = {c.key: c.letter for c in inc.columns}
    _, itr, ITC = _at(layout, "pf_fin_income_total")
    for r in block_rows(inc):
        out.append(
            FCell(inc.sheet, r, ic_["recomputed"], rate(f"${ITC}${itr}", f"${ic_['amount']}{r}"), ("pct", "form"),
                  lambda ctx, r=r: _rate(ctx.num(inc.sheet, itr, ITC), ctx.num(inc.sheet, r, ic_["amount"])))
        )  # fmt: skip
    plist = next(b for b in layout.blocks if b.list_path == "projects")
    ps = plist.sheet
    pc = {c.key: c.letter for c in plist.columns}
    for r in block_rows(plist):
        out.append(
            FCell(ps, r, pc["rate"], rate(f"${pc['adjusted']}{r}", f"${pc['spent']}{r}"), ("pct", "form"),
                  lambda ctx, r=r: _rate(ctx.num(ps, r, pc["adjusted"]), ctx.num(ps, r, pc["spent"])))
        )  # fmt: skip
    pr = plist.last_row + 1
    LV = pc["level"]
    levels = f"${LV}${plist.first_row}:${LV}${plist.last_row}"
    for key in ("initial", "adjusted", "spent"):
        col = pc[key]
        rng = f"{col}${plist.first_row}:{col}${plist.last_row}"

        def total_of(ctx: Ctx, col: str = col) -> Any:
            vals = [
                ctx.get(ps, r, col)
                for r in block_rows(plist)
                if not (isnum(ctx.get(ps, r, LV)) and as_decimal(ctx.get(ps, r, LV)) == 2)
            ]
            nums = _numbers(vals)
            if not _numbers(ctx.span(ps, block_rows(plist), col)):
                return ""
            return r2(sum(nums, Decimal(0)))

        out.append(
            FCell(ps, pr, col, unless_empty([f"${rng}"], f'ROUND(SUMIF({levels},"<>2",${rng}),2)'),
                  ("money", "form"), total_of)
        )  # fmt: skip
    out += _subtotal_cells(layout, plist)
    out += _first_flag_cells(plist)
    # 评分表
    ic = {c.key: c.letter for c in DEPT_INDICATOR_COLUMNS}
    A, S, EX, K = ic["actual"], ic["score"], ic["explanation"], ic["recomputed"]
    leaf_blocks = [b for b in layout.blocks if b.list_path == "indicators"]
    first, last = leaf_blocks[0].first_row, leaf_blocks[-1].last_row
    on_info = f"'{info}'!"
    rate_ref = f"{on_info}${FR}${fr_r}"
    funds = {
        "funds.total.budget": f"{on_info}{fund(fr_b)}",
        "funds.total.executed": f"{on_info}{fund(fr_e)}",
    }
    row_of = {b.fixed["code"]: b.first_row for b in leaf_blocks}
    for b in leaf_blocks:
        node = p.node(b.fixed["code"])
        assert node is not None
        r = b.first_row
        text = dept_leaf(p, node, r, funds, f"${A}{r}:${EX}{r}")
        is_exec = node.rule is not None and node.rule.kind == "execution_rate"

        def leaf_value(ctx: Ctx, r: int = r, node: Node = node, is_exec: bool = is_exec) -> Any:
            if is_exec:
                if not (isnum(ctx.get(info, fr_r, FR)) or isnum(ctx.get(form, r, A))):
                    return ""
                if node.code not in ctx.nodes:  # its 一级 is scored from the stated score
                    return _exec_points(p, ctx, node, ctx.get(form, r, A))
            elif not any(v is not None for v in ctx.span(form, [r], A + S + EX)):
                return ""
            return ctx.nodes[node.code].score

        out.append(FCell(form, r, K, text, ("score", "check"), leaf_value))
    groups = [(top, layout.group_rows[top.code]) for top in p.indicators]
    g0, g1 = groups[0][1], groups[-1][1]
    top0 = code_name(p.indicators[0].code)
    GS = _at(layout, f"pf_group_{top0}_score")[2]
    GD, GE = _at(layout, f"pf_group_{top0}_recomputed")[2], _at(layout, f"pf_group_{top0}_grade")[2]
    nodata_args = [f"{on_info}{fund(fr_b)}:{fund(fr_e)}", f"${A}${first}:${S}${last}",
                   f"${GS}${g0}:${GS}${g1}"]  # fmt: skip

    def nodata(ctx: Ctx) -> bool:
        vals = [
            ctx.get(info, fr_b, FB),
            ctx.get(info, fr_e, FB),
            *ctx.span(form, range(first, last + 1), A + S),
            *ctx.span(form, range(g0, g1 + 1), GS),
        ]
        return not _numbers(vals)

    for top, g in groups:
        rows = [row_of[leaf.code] for leaf in leaves(top)]
        a, z = min(rows), max(rows)
        text = group_score(top.weight or Decimal(0), f"${GS}{g}", f"${A}${a}:${EX}${z}",
                           f"${K}${a}:${K}${z}")  # fmt: skip
        out.append(
            FCell(form, g, GD, unless_empty(nodata_args, text), ("score", "form"),
                  lambda ctx, code=top.code: "" if nodata(ctx) else ctx.nodes[code].score)
        )  # fmt: skip
        if p.options.group_grades and top.weight:
            by_rate = _self(group_grade(p, _v(f"${GD}{g}"), top.weight))
            out.append(
                FCell(form, g, GE, f'IF(ISNUMBER(${GD}{g}),{by_rate},"")', ("grade", "plain"),
                      lambda ctx, code=top.code, g=g: ctx.nodes[code].grade if isnum(ctx.get(form, g, GD)) else "")
            )  # fmt: skip
    _, t, TD = _at(layout, "pf_total_recomputed")
    TF = _at(layout, "pf_grade_recomputed")[2]

    out += [
        FCell(form, t, TD,
              unless_empty(nodata_args, capped_total(p, f"SUM(${GD}${g0}:${GD}${g1})", rate_ref)),
              ("score", "form"), lambda ctx: "" if nodata(ctx) else ctx.result.total),
        FCell(form, t, TF, f'IF(ISNUMBER(${TD}${t}),{grade(p, f"${TD}${t}")},"")', ("grade", "check"),
              lambda ctx: _grade(p, ctx.get(form, t, TD))),
    ]  # fmt: skip
    return out + _count_cells(layout)


class _RowEnv:
    """One row of a block and whole columns of 项目支出明细, as the written cells hold them."""

    def __init__(self, ctx: Ctx, plist: Block, sheet: str, row: int, cols: dict[str, str]):
        self.ctx, self.plist, self.sheet, self.row, self.cols = ctx, plist, sheet, row, cols
        # the indexes over its columns are the workbook's, whichever row asks: built once
        self.memo: dict[Any, Any] = ctx.memo.setdefault(("row-env", plist.sheet), {})

    def value(self, path: str) -> Any:
        v = self.ctx.get(self.sheet, self.row, self.cols[path])
        return None if v == "" else v

    def column(self, path: str) -> list[Any]:
        key = path.split(".*.")[1]
        return _list_column(
            self.ctx, self.plist, next(c.letter for c in self.plist.columns if c.key == key)
        )


def _list_column(ctx: Ctx, plist: Block, letter: str) -> list[Any]:
    """A column of 项目支出明细 as its written cells hold it (numbers as Decimal, blank as
    None), once per workbook: the mirrors read input columns only, which do not change
    while they run."""
    key = ("list-column", plist.sheet, letter)
    got = ctx.memo.get(key)
    if got is None:
        got = ctx.memo[key] = [
            None if v == "" else as_decimal(v) if isnum(v) else v
            for v in (ctx.get(plist.sheet, r, letter) for r in block_rows(plist))
        ]
    return got


def _first_flag_cells(plist: Block) -> list[FCell]:
    """Hidden helpers beside each 项目支出明细 row: 1 on the first 一级项目 of its name in the
    department (first_dept) and in its unit (first_unit); rules.common.first_flags in Python."""
    from ..rules.common import first_flags

    pc = {c.key: c.letter for c in plist.columns}
    A, B, H, f = pc["name"], pc["level"], pc["unit"], plist.first_row
    rows = list(block_rows(plist))

    def flags(ctx: Ctx, by_unit: bool) -> list[Any]:
        """The whole column, computed once per workbook (every helper cell reads it)."""
        key = ("first_flags", plist.sheet, by_unit)
        if key not in ctx.memo:
            name, level, unit = (_list_column(ctx, plist, x) for x in (A, B, H))
            ctx.memo[key] = first_flags(name, level, unit, by_unit=by_unit)
        return ctx.memo[key]

    out = []
    for k, r in enumerate(rows):
        head = f'AND(${B}{r}=1,${A}{r}<>"")'
        same = f"(${B}${f}:${B}{r}=1)*(${A}${f}:${A}{r}=${A}{r})"
        unit = (f'(((${H}${f}:${H}{r}=${H}{r})+(${H}{r}="")*(${H}${f}:${H}{r}="{OWN_UNIT}")'
                f'+(${H}{r}="{OWN_UNIT}")*(${H}${f}:${H}{r}=""))>0)')  # fmt: skip
        for key, test in (("first_dept", same), ("first_unit", f"{same}*{unit}")):
            text = f"IF({head},IF(SUMPRODUCT({test})=1,1,0),0)"
            by_unit = key == "first_unit"
            out.append(
                FCell(plist.sheet, r, PROJECT_FLAG_COLUMNS[key], text, ("score", "form"),
                      lambda ctx, k=k, by_unit=by_unit: flags(ctx, by_unit)[k])
            )  # fmt: skip
    return out


def _subtotal_cells(layout: Layout, plist: Block) -> list[FCell]:
    """复算 of the stated 单位小计: the same expression XT-PROJECT-UNIT-SUM checks with."""
    from ..expr import EvalError, Round, evaluate, to_excel
    from ..rules.crosstable import unit_subtotal
    from ..score_rules import ROW

    sub = next((b for b in layout.blocks if b.list_path == "project_subtotals"), None)
    if sub is None:
        return []
    sc = {c.key: c.letter for c in sub.columns}
    pc = {c.key: c.letter for c in plist.columns}
    out = []
    for r in block_rows(sub):
        unit = f"${sc['unit']}{r}"

        def ref(path: str, unit: str = unit) -> str:
            if path == "row.unit":
                return unit
            key = path.split(".*.")[1]
            return f"${pc[key]}${plist.first_row}:${pc[key]}${plist.last_row}"

        for key in ("initial", "adjusted", "spent"):
            expr = Round(unit_subtotal(ROW["unit"], key), 2)
            text = f'IF({unit}="","",{to_excel(expr, ref)})'

            def value(ctx: Ctx, r: int = r, expr: Any = expr) -> Any:
                env = _RowEnv(ctx, plist, sub.sheet, r, {"row.unit": sc["unit"]})
                if env.value("row.unit") is None:
                    return ""
                try:
                    return evaluate(expr, env)
                except EvalError:
                    return ""

            out.append(
                FCell(sub.sheet, r, sc[f"recomputed_{key}"], text, ("money", "check"), value)
            )
    return out


def _exec_points(p: Profile, ctx: Ctx, node: Node, fallback: Any) -> Decimal:
    """The execution-rate leaf's formula where the engine has no node for it."""
    r = ctx.result
    rate = r.execution_rate if r.execution_rate is not None else r2(as_decimal(fallback))
    if not p.options.score_from_rounded_rate and r.execution_rate is not None:
        t = ctx.placed_funds
        rate = as_decimal(t[1]) * 100 / as_decimal(t[0])
    return rate_score(rate, node.weight or Decimal(0)) or Decimal(0)
