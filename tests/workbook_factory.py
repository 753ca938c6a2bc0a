"""A bare workbook maker for reader tests: values and defined names exactly per layout.py.

The real template writer (perfxl.workbook.write) adds styles, validation, formulas and
protection; this factory writes only what the reader relies on, with knobs for the odd
files units produce: values typed as text, rates in a percentage format, a renamed sheet,
a name left out. Formula fields carry the engine's values, as the writer's cached results do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from hypothesis import strategies as st

from perfxl.model import (
    Filing,
    Finance,
    FundLine,
    Funds,
    Header,
    IncomeLine,
    Indicator,
    Project,
    ProjectCount,
    StatedCounts,
    UnitSubtotal,
)
from perfxl.profile import Profile, load_profile
from perfxl.scoring import percent
from perfxl.workbook.layout import (
    DEFAULT_INCOME_ROWS,
    DEFAULT_PROJECT_ROWS,
    DEFAULT_ROWS_PER_GROUP,
    DEPT_TEXTS,
    META_SHEET,
    PROJECT_COUNT_ROWS,
    SUBTOTAL_ROWS,
    TEMPLATE_FORMAT,
    layout_for,
    second_levels,
)

from .strategies import cents, department_filings, indicator, money, partition

Override = Callable[[str, Any], Any]  # (field path, value) → value to write


@dataclass(frozen=True)
class Formula:
    """What an override may return: a formula cell with its cached result (e.g. an error)."""

    text: str
    cached: Any


def _rate(total: Decimal | None, part: Decimal | None) -> Decimal | None:
    """What a template's rate formula shows: part / total in %, None for "" and "—"."""
    if total is None or part is None or total == 0:
        return None
    return percent(part, total)


def _cell(item: Any, key: str) -> Any:
    """The value a block cell holds for `key`: the number, else the text kept beside it."""
    if key not in ("target", "actual"):
        return getattr(item, key)
    number, text = getattr(item, key), getattr(item, f"{key}_text")
    if key == "actual" and item.direction == "定性" and text:
        return text
    return number if number is not None else text


def _projected(profile: Profile, ind: Indicator, keys: tuple[str, ...]) -> Indicator | None:
    """An indicator as a reader gets it back from its row (None for a blank row)."""
    data: dict[str, Any] = {"code": ind.code}
    qualitative = ind.direction == "定性"
    for key in keys:
        v = _cell(ind, key)
        if v is None:
            continue
        if key in ("target", "actual"):
            text = qualitative or not isinstance(v, Decimal)
            data[f"{key}_text" if text else key] = (
                format(v, "f") if isinstance(v, Decimal) and text else v
            )
        else:
            data[key] = v
    return Indicator(**data) if len(data) > 1 else None


def expected(filing: Filing, profile: Profile | None = None) -> Filing:
    """What reading a workbook filled with `filing` gives back (sources aside).

    Input fields the layout has room for come back as they were; indicators in the order
    of the table's blocks; formula fields as the template's formulas show them (the Python
    engine's 执行率 and its score; 总分 and 评价等级 are stated, inputs like the rest).
    """
    p = profile or load_profile(filing.profile)
    layout = layout_for(p, rows_per_group=rows_needed(filing))
    paths = layout.by_path()
    project = p.kind == "project"

    def keep(path: str) -> Any:
        c = paths.get(path)
        return filing.value(path) if c is not None and c.role == "input" else None

    codes = [b.fixed["code"] for b in layout.blocks if b.list_path == "indicators"]
    first = next(b for b in layout.blocks if b.list_path == "indicators")
    keys = tuple(c.key for c in first.columns if c.role == "input")
    inds: list[Indicator] = []
    for code in codes:
        group = [i for i in filing.indicators if i.code == code]
        for ind in group if project else group[:1]:
            got = _projected(p, ind, keys)
            if got is not None:
                inds.append(got)
    lines = {}
    for line in ("total", "fiscal", "carryover", "other"):
        lines[line] = FundLine(
            **{k: keep(f"funds.{line}.{k}") for k in ("initial", "budget", "executed")}
        )
    t = lines["total"]
    if project:  # the project table's 执行率 and 得分 are stated (复算 beside them)
        t.rate, t.score = keep("funds.total.rate"), keep("funds.total.score")
    else:
        t.rate = _rate(t.budget, t.executed)
    finance = None
    projects: list[Project] = []
    if not project:
        fin = filing.finance
        if fin is not None:
            income = [IncomeLine(name=x.name, amount=x.amount, share=x.share) for x in fin.income]
            fields = {
                k: getattr(fin, k)
                for k in (
                    "income_total",
                    "basic",
                    "project",
                    "expenditure_total",
                    "basic_share",  # stated: inputs beside the 复算 shares
                    "project_share",
                )
            }
            if income or any(v is not None for v in fields.values()):
                finance = Finance(income=income, **fields)
        projects = [
            x.model_copy(update={"rate": _rate(x.adjusted, x.spent)}) for x in filing.projects
        ]
    return Filing(
        profile=p.id,
        profile_version=p.version,
        header=filing.header,
        funds=Funds(**lines),
        goal_expected=keep("goal_expected"),
        goal_actual=keep("goal_actual"),
        indicators=inds,
        group_scores={k: v for k, v in filing.group_scores.items() if f"group_scores.{k}" in paths},
        group_remarks={
            k: v for k, v in filing.group_remarks.items() if f"group_remarks.{k}" in paths
        },
        total_score=keep("total_score"),  # stated: an input beside the 复算总分
        grade=keep("grade"),
        finance=finance,
        projects=projects,
        texts={k: v for k, v in filing.texts.items() if f"texts.{k}" in paths},
        counts=_counts_kept(filing, paths),
        project_counts=[] if project else filing.project_counts,
        project_subtotals=[] if project else filing.project_subtotals,
    )


def _counts_kept(filing: Filing, paths: dict[str, Any]) -> dict[str, StatedCounts]:
    out = {}
    for key, c in filing.counts.items():
        kept = {
            f: getattr(c, f)
            for f in ("indicators", "full_marks")
            if f"counts.{key}.{f}" in paths and getattr(c, f) is not None
        }
        if kept:
            out[key] = StatedCounts(**kept)
    return out


def _walk(node: Any) -> list[tuple[int, Any]]:
    out = [(0, node)]
    for c in node.children:
        out += _walk(c)
    return out


def engine_values(filing: Filing, profile: Profile) -> dict[str, Any]:
    """What the template's formula cells show for `filing`, by field path."""
    exp = expected(filing, profile)
    layout = layout_for(profile, rows_per_group=rows_needed(filing))
    out = {c.path: exp.value(c.path) for c in layout.cells if c.role == "formula" and c.path}
    for i, p in enumerate(exp.projects):
        out[f"projects.{i}.rate"] = p.rate
    return out


def build(path: Path, filing: Filing, profile: Profile | None = None, **options: Any) -> Path:
    """A filled workbook written by the real template writer."""
    from perfxl.workbook.write import build_workbook

    return build_workbook(profile or load_profile(filing.profile), path, filing, **options)


def rows_needed(filing: Filing) -> int:
    counts: dict[str, int] = {}
    for ind in filing.indicators:
        counts[ind.code] = counts.get(ind.code, 0) + 1
    return max([DEFAULT_ROWS_PER_GROUP, *counts.values()])


def make_workbook(
    path: Path,
    filing: Filing,
    profile: Profile | None = None,
    *,
    percent_format: bool = True,
    override: Override | None = None,
    drop_names: tuple[str, ...] = (),
    sheet_names: dict[str, str] | None = None,
    meta: dict[str, str] | None = None,
) -> Path:
    """Write `filing` into a workbook laid out per layout.py.

    percent_format: rates stored as fractions in a 0.00% format (as Excel keeps "95%").
    override: change what is written for a field path (e.g. a number typed as text).
    sheet_names: rename sheets while the names follow (what Excel does on a rename).
    meta: replace the _perfxl values (profile / version / format).
    """
    p = profile or load_profile(filing.profile)
    rows = rows_needed(filing)
    layout = layout_for(
        p,
        rows_per_group=rows,
        project_rows=max(DEFAULT_PROJECT_ROWS, len(filing.projects)),
        income_rows=max(DEFAULT_INCOME_ROWS, len(filing.finance.income if filing.finance else [])),
    )
    rename = sheet_names or {}
    wb = xlsxwriter.Workbook(str(path))
    sheets = {s: wb.add_worksheet(rename.get(s, s)) for s in layout.sheets}
    sheets[META_SHEET] = wb.add_worksheet(META_SHEET)
    sheets[META_SHEET].hide()
    pct = wb.add_format({"num_format": "0.00%"})
    text = wb.add_format({"num_format": "@"})
    formulas = engine_values(filing, p)
    meta_values = {
        "pf_meta_profile": p.id,
        "pf_meta_version": p.version,
        "pf_meta_format": TEMPLATE_FORMAT,
        **(meta or {}),
    }

    def put(sheet: str, ref: str, value: Any, kind: str, path_: str | None) -> None:
        if override is not None and path_ is not None:
            value = override(path_, value)
        ws = sheets[sheet]
        if value is None:
            return
        if isinstance(value, Formula):
            ws.write_formula(ref, value.text, None, value.cached)
        elif isinstance(value, str):
            ws.write_string(ref, value, text)
        elif kind == "pct" and percent_format:
            ws.write_number(ref, float(Decimal(value) / 100), pct)
        else:
            ws.write_number(ref, float(value))

    def name(n: str, sheet: str, ref: str) -> None:
        if n in drop_names:
            return
        shown = rename.get(sheet, sheet).replace("'", "''")
        wb.define_name(n, f"='{shown}'!" + re.sub(r"([A-Z]+)([0-9]+)", r"$\1$\2", ref))

    for cell in layout.cells:
        if cell.path is not None:
            value = formulas.get(cell.path) if cell.role == "formula" else filing.value(cell.path)
        else:
            value = meta_values.get(cell.name)
        put(cell.sheet, cell.ref, value, cell.kind, cell.path)
        name(cell.name, cell.sheet, cell.ref)

    for block in layout.blocks:
        if block.list_path == "indicators":
            items = [
                (i, x) for i, x in enumerate(filing.indicators) if x.code == block.fixed["code"]
            ]
        else:
            items = list(enumerate(filing.value(block.list_path) or []))
        assert len(items) <= block.rows, f"{block.name}: {len(items)} > {block.rows} rows"
        for k, (i, item) in enumerate(items):
            row = block.first_row + k
            for col in block.columns:
                if col.key == "recomputed":
                    continue
                path_ = f"{block.list_path}.{i}.{col.key}"
                value = _item_value(item, col.key, formulas.get(path_), col.role)
                put(block.sheet, f"{col.letter}{row}", value, col.kind, path_)
        name(block.name, block.sheet, block.ref)
    wb.close()
    return path


def _item_value(item: Any, key: str, formula: Any, role: str) -> Any:
    if role == "formula":
        return formula
    if key in ("target", "actual"):
        number, text = getattr(item, key), getattr(item, f"{key}_text")
        if getattr(item, "direction", None) == "定性" or number is None:
            return text
        return number
    if key == "applicable":  # 是否适用: blank, or 不适用 as a unit picks it
        return None if item.applicable else "不适用"
    return getattr(item, key)


# ------------------------------------------------------------------ filings to write

# Text as units type it: CJK, full-width forms (Ａ１％), ideographic punctuation, ASCII,
# inner spaces of every width. Readers trim the ends, so strategies do too.
_CHARS = st.characters(
    codec="utf-8", categories=["Lo", "Lu", "Ll", "Nd", "Po", "Ps", "Pe", "Sm", "Sc", "Zs"]
)
TEXT = st.text(_CHARS, min_size=1, max_size=24).map(str.strip).filter(bool)
LONG = st.lists(TEXT, min_size=1, max_size=3).map("\n".join)
EXTREME = st.sampled_from([Decimal("99999999.99"), Decimal("0.01"), Decimal(0)])
MONEY = st.one_of(EXTREME, money(10**7))
CODES = st.text("0123456789", min_size=6, max_size=12)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def headers(draw: st.DrawFn) -> Header:
    return Header(
        name=draw(TEXT),
        department=draw(_maybe(TEXT)),
        unit=draw(_maybe(TEXT)),
        unit_code=draw(_maybe(CODES)),
        year=draw(st.integers(2000, 2100)),
    )


@st.composite
def full_funds(draw: st.DrawFn, lines: tuple[str, ...]) -> Funds:
    def line() -> FundLine:
        return FundLine(**{k: draw(_maybe(MONEY)) for k in ("initial", "budget", "executed")})

    return Funds(**{name: line() for name in lines})


@st.composite
def project_indicator(draw: st.DrawFn, code: str, weight: Decimal) -> Indicator:
    base = draw(indicator(code, weight))
    return base.model_copy(
        update={
            "name": draw(TEXT),
            "target": base.target
            if base.target is None
            else draw(st.one_of(EXTREME, st.just(base.target))),
            "explanation": draw(_maybe(LONG)),
            "score": base.score if base.direction == "定性" else draw(_maybe(cents(0, 1000))),
            "unit": base.unit if base.direction == "定性" else draw(_maybe(TEXT)),
            "target_initial": None if base.target is None else draw(_maybe(EXTREME)),
            "applicable": draw(st.booleans()),
        }
    )


def _counted() -> st.SearchStrategy[StatedCounts]:
    return st.builds(
        StatedCounts,
        indicators=_maybe(st.integers(0, 500)),
        full_marks=_maybe(st.integers(0, 500)),
    )


@st.composite
def full_project_filings(draw: st.DrawFn, profile_id: str = "project-2020") -> Filing:
    p = load_profile(profile_id)
    inds: list[Indicator] = []
    for top in p.indicators:
        if not top.children:
            continue
        n = draw(st.integers(0, 7))  # up to 7 in one 二级: more than a template's default rows
        for w in draw(partition(top.weight, n)) if n else []:
            child = draw(st.sampled_from(top.children))
            inds.append(draw(project_indicator(child.code, w)))
    tops = [n.code for n in p.indicators]  # each 一级 has a score and a 说明 cell
    funds = draw(full_funds(("total", "fiscal", "carryover", "other")))
    # the 执行率 and its 得分 are stated (inputs, their 复算 beside them)
    funds.total.rate = draw(_maybe(cents(0, 20000)))
    funds.total.score = draw(_maybe(cents(0, 1000)))
    return Filing(
        profile=p.id,
        profile_version=p.version,
        header=draw(headers()),
        funds=funds,
        goal_expected=draw(_maybe(LONG)),
        goal_actual=draw(_maybe(LONG)),
        indicators=inds,
        group_scores=draw(st.dictionaries(st.sampled_from(tops), cents(0, 6000))),
        group_remarks=draw(st.dictionaries(st.sampled_from(tops), TEXT)),
        texts=draw(st.dictionaries(st.sampled_from(DEPT_TEXTS), LONG)),
        counts=draw(st.dictionaries(st.sampled_from([*tops, "all"]), _counted())),
        total_score=draw(_maybe(cents(0, 10000))),
        grade=draw(_maybe(st.sampled_from([g.label for g in p.grades]))),
    )


@st.composite
def full_department_filings(draw: st.DrawFn, profile_id: str) -> Filing:
    p = load_profile(profile_id)
    base = draw(department_filings(profile_id))
    inds = [i.model_copy(update={"explanation": draw(_maybe(LONG))}) for i in base.indicators]
    income = draw(
        st.lists(
            st.builds(IncomeLine, name=TEXT, amount=_maybe(MONEY), share=_maybe(cents(0, 10000))),
            max_size=DEFAULT_INCOME_ROWS + 2,
        )
    )
    finance = draw(
        _maybe(
            st.builds(
                Finance,
                income=st.just(income),
                income_total=_maybe(MONEY),
                basic_share=_maybe(cents(0, 10000)),
                project_share=_maybe(cents(0, 10000)),
                basic=_maybe(MONEY),
                project=_maybe(MONEY),
                expenditure_total=_maybe(MONEY),
            )
        )
    )
    projects = draw(
        st.lists(
            st.builds(
                Project,
                name=TEXT,
                level=st.sampled_from([1, 2]),
                parent=_maybe(TEXT),
                initial=_maybe(MONEY),
                adjusted=_maybe(MONEY),
                spent=_maybe(MONEY),
                unit=_maybe(TEXT),
                unit_code=_maybe(CODES),
            ),
            max_size=DEFAULT_PROJECT_ROWS + 3,
        )
    )
    counted = st.builds(
        StatedCounts,
        indicators=_maybe(st.integers(0, 500)),
        full_marks=_maybe(st.integers(0, 500)),
    )
    project_counts = draw(
        st.lists(
            st.builds(
                ProjectCount,
                unit=TEXT,
                first=_maybe(st.integers(0, 999)),
                second=_maybe(st.integers(0, 999)),
            ),
            max_size=PROJECT_COUNT_ROWS,
        )
    )
    subtotals = draw(
        st.lists(
            st.builds(
                UnitSubtotal,
                unit=TEXT,
                initial=_maybe(MONEY),
                adjusted=_maybe(MONEY),
                spent=_maybe(MONEY),
            ),
            max_size=SUBTOTAL_ROWS,
        )
    )
    tops = [n.code for n in p.indicators]
    scored = [*tops, *(n.code for n in second_levels(p))]  # 一级 and 二级 have score cells
    return base.model_copy(
        update={
            "profile_version": p.version,
            "header": draw(headers()),
            "funds": draw(full_funds(("total",))),
            "indicators": inds,
            "group_scores": draw(st.dictionaries(st.sampled_from(scored), cents(0, 2000))),
            "group_remarks": draw(st.dictionaries(st.sampled_from(tops), TEXT)),
            "finance": finance,
            "projects": projects,
            "project_counts": project_counts,
            "project_subtotals": subtotals,
            "counts": draw(st.dictionaries(st.sampled_from([*tops, "all"]), counted)),
            "texts": draw(st.dictionaries(st.sampled_from(DEPT_TEXTS), LONG)),
            "total_score": draw(_maybe(cents(0, 10000))),
            "grade": draw(_maybe(st.sampled_from([g.label for g in p.grades]))),
        }
    )


def any_filings(profile_id: str) -> st.SearchStrategy[Filing]:
    if load_profile(profile_id).kind == "project":
        return full_project_filings(profile_id)
    return full_department_filings(profile_id)
