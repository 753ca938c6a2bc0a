"""Template and filled workbooks, written with XlsxWriter from the layout contract.

Everything a sheet needs that does not depend on the filing (formula text, check rows,
validations) is compiled once per layout and reused, so distributing many filled
workbooks costs little more than XlsxWriter writing the cells. Formula cells carry the
values the formula yields as cached results (computed by the Python engine on exactly what
the workbook holds), because viewers and most readers never recalculate.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.url import Url
from xlsxwriter.workbook import Workbook

from ..atomic import atomic_path
from ..expr import compiled_truth
from ..memo import by_identity
from ..model import Filing
from ..profile import Profile
from ..scoring import score
from . import formulas as F
from .cells import (  # noqa: F401  (re-exported: the writer's users import them from here)
    _ALIASES,
    _DEPT_ROW_EXTRAS,
    _FILING_ROOTS,
    _ROW_KINDS,
    AUDIT_BANNER_LAST_ROW,
    AUDIT_FIRST_ROW,
    BLANK_COL,
    HELPER_COLS,
    LOCKED_WHEN_PREFILLED,
    Ctx,
    FormulaCells,
    Key,
    Locator,
    Placed,
    Spot,
    _blank_filing,
    _cellvalue,
    _constants,
    _fixed_direction,
    _formula_cells,
    _indicator,
    _lockable,
    _row_cells,
    _written_filing,
    excel_ref,
    formula_cells,
    layout_key,
    place,
    rows_needed,
)
from .formulas import COLS, FCell, block_rows, digits, letters
from .layout import (
    AUDIT_SHEET,
    DEFAULT_INCOME_ROWS,
    DEFAULT_PROJECT_ROWS,
    DEFAULT_ROWS_PER_GROUP,
    META_SHEET,
    TEMPLATE_FORMAT,
    Block,
    Layout,
    layout_for,
)
from .styles import (
    Sheets,
    draw_department,
    draw_guide,
    draw_project,
    print_setup,
)

__all__ = ["LOCKED_WHEN_PREFILLED", "build_workbook", "excel_ref"]

CREATED = dt.datetime(2020, 1, 1)  # fixed: identical inputs give byte-identical files
# ------------------------------------------------------------------ the compiled plan


@dataclass
class Instance:
    """One 审核 row: a check, applied to one row (per-row checks) or once."""

    check: Any
    formula: str
    target: Spot
    label: str
    row: tuple[Block, int] | None
    used: tuple[Spot, ...]  # the cells the formula reads: its verdict depends on these only
    reads: tuple[tuple[str, Any], ...] = ()  # the same, as value-map keys (memo of verdicts)
    texts: tuple[str, str, str] = ("", "", "")  # 编码, 级别, 说明 as shown
    link: Url | None = None  # 位置, built once: XlsxWriter parses every URL string it gets

    def __post_init__(self) -> None:
        self.reads = tuple(_read(sp) for sp in self.used)
        msg = str(getattr(self.check, "message", ""))
        self.texts = (
            str(getattr(self.check, "code", "")),
            severity_of(self.check),
            f"{msg}（{self.label}）" if self.label else msg,
        )
        t = self.target
        self.link = Url(f"internal:'{t.sheet}'!{t.a1}")
        self.link.text = f"{t.sheet}!{t.a1}"


def _read(sp: Spot) -> tuple[str, Any]:
    if sp.const is not None:
        return ("const", sp.value)
    if sp.last_row is not None:
        return ("range", tuple((sp.sheet, r, sp.col) for r in range(sp.row, sp.last_row + 1)))
    return ("cell", (sp.sheet, sp.row, sp.col))


Highlight = tuple[str, str, str, str]  # sheet, range, formula, 错误 | 提示


@dataclass
class Plan:
    layout: Layout
    loc: Locator
    fcells: list[FCell]
    instances: list[Instance]
    highlights: list[Highlight]
    banner: list[FCell]
    verdicts: dict[tuple[Any, ...], str] = field(default_factory=dict)  # memo across builds


_PLANS: dict[tuple[Any, ...], tuple[Profile, Plan]] = {}


def plan_for(
    profile: Profile,
    rows_per_group: int | dict[str, int],
    project_rows: int,
    income_rows: int,
    checks: list[Any] | None = None,
) -> Plan:
    key = layout_key(profile, rows_per_group, project_rows, income_rows)
    return by_identity(
        _PLANS,
        64,
        (*key, None if checks is None else id(checks)),
        profile,
        lambda: _compile(
            layout_for(
                profile,
                rows_per_group=rows_per_group,
                project_rows=project_rows,
                income_rows=income_rows,
            ),
            F.live_checks(profile) if checks is None else checks,
        ),
    )


def _compile(layout: Layout, checks: list[Any]) -> Plan:
    loc = Locator(layout)
    instances, highlights = _instances(loc, checks)
    cells = _formula_cells(layout, instances)
    return Plan(layout, loc, cells.fcells, instances, highlights, cells.banner)


_SEVERITY = {"error": "强制性", "强制性": "强制性", "blocking": "强制性", "warning": "提示性",
             "提示性": "提示性", "hint": "提示性"}  # fmt: skip


def severity_of(check: Any) -> str:
    sev = getattr(check, "severity", "error")
    return _SEVERITY.get(str(getattr(sev, "value", sev)).lower(), "强制性")


def _fail_word(check: Any) -> str:
    return "错误" if severity_of(check) == "强制性" else "提示"


RowCtx = tuple[Block, int] | None
EXPLAINED = "已说明"  # a 审核 row whose warning the filing explains (not a problem)


def _excel(check: Any, loc: Locator, ctx: RowCtx, sheet: str, used: list[str] | None = None) -> str:
    """The check's boolean formula for one row context, references relative to `sheet`."""
    row, block = (ctx[1], ctx[0]) if ctx else (None, None)

    def ref(path: str) -> str:
        if used is not None:
            used.append(path)
        return loc.spot(path, row, block).ref(sheet)

    text = check.excel(ref)
    return text[1:] if text.startswith("=") else text


def _target(
    check: Any, loc: Locator, ctx: RowCtx, used: list[str], *, input_only: bool = False
) -> Spot | None:
    """Where the 位置 link (or, `input_only`, the form highlight) points: the check's field,
    else the first cell it reads that the unit can see (can type into)."""
    row, block = (ctx[1], ctx[0]) if ctx else (None, None)
    for path in [getattr(check, "target", None) or getattr(check, "path", None), *used]:
        if path:
            try:
                spot = loc.spot(path, row, block)
            except KeyError:
                continue
            if spot.visible and (not input_only or loc.is_input(spot)):
                return Spot(spot.sheet, spot.col, spot.row)
    return None


def _instances(loc: Locator, checks: list[Any]) -> tuple[list[Instance], list[Highlight]]:
    out: list[Instance] = []
    highlights: list[Highlight] = []
    for check in checks:
        per_row = getattr(check, "per_row", None)
        contexts: list[RowCtx] = (
            list(loc.rows_of(per_row, getattr(check, "codes", None))) if per_row else [None]
        )
        fail = _fail_word(check)
        first = len(out)
        for ctx in contexts:
            used: list[str] = []
            test = _excel(check, loc, ctx, AUDIT_SHEET, used)
            if getattr(check, "explainable", False):
                # a warning with its explanation passes, and the sheet says 已说明
                strict = _excel(check.strict(), loc, ctx, AUDIT_SHEET)
                formula = F.checked(
                    f'IFERROR(IF({test},IF({strict},"通过","{EXPLAINED}"),"{fail}"),"{fail}")'
                )
            else:
                formula = F.checked(f'IFERROR(IF({test},"通过","{fail}"),"{fail}")')
            target = _target(check, loc, ctx, used) or Spot(loc.layout.form_sheet, "A", 1)
            row, block = (ctx[1], ctx[0]) if ctx else (None, None)
            spots = tuple(loc.spot(u, row, block) for u in dict.fromkeys(used))
            out.append(Instance(check, formula, target, _label(loc, ctx), ctx, spots))
        highlights += _highlights_of(check, loc, contexts, first, fail)
    return out, highlights


def _highlights_of(
    check: Any, loc: Locator, contexts: list[RowCtx], first: int, fail: str
) -> list[Highlight]:
    """Conditional formats marking the check's input cells while its 审核 result is 错误 /
    提示. They read the 审核 row itself (one formula, never a second copy that could
    disagree); a run of consecutive rows shares one format with a row-relative reference,
    as the check's instances sit on consecutive 审核 rows."""
    out: list[Highlight] = []
    runs: list[tuple[int, list[RowCtx]]] = []  # (index of the first instance, contexts)
    for n, ctx in enumerate(contexts):
        if runs and ctx is not None:
            start, run = runs[-1]
            prev = run[-1]
            if prev is not None and ctx[1] == prev[1] + 1:
                run.append(ctx)
                continue
        runs.append((first + n, [ctx]))
    for start, run in runs:
        ctx0 = run[0]
        used: list[str] = []
        _excel(check, loc, ctx0, "", used)
        tgt = _target(check, loc, ctx0, used, input_only=True)
        if tgt is None:  # only computed cells involved: the 审核 row says it all
            continue
        audit_row = AUDIT_FIRST_ROW + start
        dollar = "" if ctx0 is not None else "$"
        text = f"'{AUDIT_SHEET}'!$D{dollar}{audit_row}=\"{fail}\""
        rng = tgt.a1
        if ctx0 is not None and len(run) > 1:
            rng = f"{tgt.a1}:{tgt.col}{run[-1][1]}"  # type: ignore[index]
        out.append((tgt.sheet, rng, text, fail))
    return out


def _label(loc: Locator, ctx: RowCtx) -> str:
    if ctx is None:
        return ""
    block, row = ctx
    if block.list_path == "projects":
        return f"项目支出明细第 {row - block.first_row + 1} 行"
    if block.list_path == "finance.income":
        return f"收入第 {row - block.first_row + 1} 行"
    node = loc.layout.profile.node(block.fixed.get("code", ""))
    if node is None:
        return f"第 {row} 行"
    if block.rows == 1:
        return node.name
    return f"{node.name}第 {row - block.first_row + 1} 行"


class _Env:
    """Cell values of one row context, for a check's Python verdict (expr.Env shape)."""

    def __init__(self, loc: Locator, ctx: Ctx, row: RowCtx) -> None:
        self.loc, self.ctx, self.row = loc, ctx, row

    def _spot(self, path: str) -> Spot:
        row, block = (self.row[1], self.row[0]) if self.row else (None, None)
        return self.loc.spot(path, row, block)

    def value(self, path: str) -> Any:
        sp = self._spot(path)
        if sp.const is not None:
            return sp.value
        if sp.last_row is not None:
            return self.column(path)
        return _scalar(self.ctx.get(sp.sheet, sp.row, sp.col))

    def column(self, path: str) -> list[Any]:
        sp = self._spot(path)
        last = sp.last_row if sp.last_row is not None else sp.row
        return [_scalar(self.ctx.get(sp.sheet, r, sp.col)) for r in range(sp.row, last + 1)]

    __call__ = value


def _scalar(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        return Decimal(str(v))
    return v


_VERDICT_FNS: dict[int, tuple[object, tuple[Any, Any]]] = {}


def _verdict_fns(check: Any) -> tuple[Any, Any]:
    """(verdict, strict verdict or None) of a check as compiled functions of an env, built
    once per check: every workbook written or stamped asks for the same checks' verdicts."""

    def build() -> tuple[Any, Any]:
        from ..expr import compile_condition

        expression = getattr(check, "expression", None)
        fn = compile_condition(expression()) if callable(expression) else None
        strict = None
        if fn is not None and getattr(check, "explainable", False):
            strict = compile_condition(check.strict().expression())
        return fn, strict

    return by_identity(_VERDICT_FNS, 20_000, id(check), check, build)


def audit_result(check: Any, env: _Env) -> str:
    """What the 审核 row of a check shows (its formula's cached value): 通过, 已说明 (a
    warning passed by its explanation), 错误 / 提示, or "" when there is no verdict."""
    fn, strict = _verdict_fns(check)
    if fn is None:
        return ""
    try:
        ok = compiled_truth(fn, env)
        if ok and strict is not None and not compiled_truth(strict, env):
            return EXPLAINED
    except (ArithmeticError, TypeError, ValueError, KeyError):
        ok = False
    return "通过" if ok else _fail_word(check)


def _key_part(values: dict[Key, Any], read: tuple[str, Any]) -> Any:
    kind, x = read
    if kind == "cell":
        return values.get(x)
    if kind == "range":
        return tuple(values.get(k) for k in x)
    return x


def _verdicts(plan: Plan, ctx: Ctx) -> None:
    """Cached 审核 results, each computed once per distinct set of values it reads (a verdict
    is a function of those; blank rows and repeated figures share one evaluation)."""
    memo = plan.verdicts
    if len(memo) > 100_000:
        memo.clear()
    for i, inst in enumerate(plan.instances):
        values = ctx.values
        key = (id(inst.check), *(_key_part(values, r) for r in inst.reads))  # plan keeps checks
        if key not in memo:
            env = _Env(plan.loc, ctx, inst.row)
            memo[key] = audit_result(inst.check, env)
        ctx.values[(AUDIT_SHEET, AUDIT_FIRST_ROW + i, "D")] = memo[key]


# ------------------------------------------------------------------ building


def build_workbook(
    profile: Profile,
    path: Path,
    filing: Filing | None = None,
    *,
    rows_per_group: int | dict[str, int] = DEFAULT_ROWS_PER_GROUP,
    project_rows: int = DEFAULT_PROJECT_ROWS,
    income_rows: int = DEFAULT_INCOME_ROWS,
    lock_prefilled: bool = False,
    vba_project: Path | None = None,
    checks: list[Any] | None = None,
) -> Path:
    """Write a template (no filing) or a filled workbook, atomically; .xlsm with a VBA project.

    A filled 二级 with more 三级 than `rows_per_group` gets a bigger block, and the lists
    (项目支出明细, 收入) grow to fit. `lock_prefilled` locks the budget figures the filing
    gives (LOCKED_WHEN_PREFILLED); 全年执行数 stays open. `checks` overrides the live checks
    rendered on the 审核 sheet (default: the rules catalogue, or the built-in list).
    """
    path = Path(path)
    if filing is not None:
        if profile.kind == "project":
            rows_per_group = rows_needed(profile, filing, rows_per_group)
        else:
            project_rows = max(project_rows, len(filing.projects))
            income_rows = max(income_rows, len(filing.finance.income) if filing.finance else 0)
    plan = plan_for(profile, rows_per_group, project_rows, income_rows, checks)
    placed = place(plan.layout, filing, lock_prefilled)
    ctx = Ctx(placed, score(placed.filing, profile))
    _constants(plan, ctx)
    for fc in plan.fcells:
        ctx.values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
    _verdicts(plan, ctx)
    for fc in plan.banner:
        ctx.values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
    with atomic_path(path) as tmp:
        wb = Workbook(
            str(tmp),
            {
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "in_memory": True,
            },
        )
        write_all(wb, plan, placed, ctx, vba_project)
        os.chmod(tmp, 0o644)  # a document to share, not a private temporary file
    return path


PROTECT = {
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


def _write_inputs(sh: Sheets) -> None:
    """Every named input cell of the layout (outside blocks), with its value."""
    for c in sh.layout.cells:
        if c.role != "input":
            continue
        key = (c.sheet, digits(c.ref), letters(c.ref))
        v = sh.placed.inputs.get(key)
        fmt = sh.st.year if c.path == "header.year" else sh.input_fmt(key, c.kind)
        if c.span:
            sh.merge(c.sheet, c.span, v, fmt)
        else:
            sh.put(c.sheet, c.ref, v, fmt)


def _write_blocks(sh: Sheets) -> None:
    for b in sh.layout.blocks:
        for r in block_rows(b):
            for col in b.columns:
                if col.role != "input":
                    continue
                key = (b.sheet, r, col.letter)
                sh.put(
                    b.sheet,
                    f"{col.letter}{r}",
                    sh.placed.inputs.get(key),
                    sh.input_fmt(key, col.kind),
                )


def _write_formulas(sh: Sheets) -> None:
    spans = {(c.sheet, c.ref): c.span for c in sh.layout.cells if c.role == "formula" and c.span}
    for fc in [*sh.plan.fcells, *sh.plan.banner]:
        sh.formula(fc, spans.get((fc.sheet, f"{fc.col}{fc.row}")))


# ---- 审核, 填表说明, metadata


def _draw_audit(sh: Sheets) -> None:
    s, st, ws = AUDIT_SHEET, sh.st, sh.ws[AUDIT_SHEET]
    sh.width(s, {"A": 6, "B": 24, "C": 8, "D": 8, "E": 56, "F": 30})
    sh.merge(s, "A1:F1", "审核结果", st.title)
    sh.heights[(s, 1)] = 32
    sh.merge(s, "A2:F2", AUDIT_NOTE, st.note)
    sh.heights[(s, 2)] = 52  # three lines; the frozen rows stay under a quarter of a laptop screen
    for i, text in enumerate(("序号", "编码", "级别", "结果", "说明", "位置")):
        sh.put(s, f"{chr(65 + i)}3", text, st.header)
    values = sh.ctx.values
    for i, inst in enumerate(sh.plan.instances):
        r = AUDIT_FIRST_ROW - 1 + i  # zero-based
        code, level, message = inst.texts
        ws.write_number(r, 0, i + 1, st.constant)
        ws.write_string(r, 1, code, st.label_left)
        ws.write_string(r, 2, level, st.label)
        ws.write_formula(r, 3, inst.formula, st.label, values.get((s, r + 1, "D"), ""))
        ws.write_string(r, 4, message, st.label_left)
        ws.write_url(r, 5, inst.link, st.link)
    last = AUDIT_FIRST_ROW + max(len(sh.plan.instances), 1) - 1
    rng = f"D{AUDIT_FIRST_ROW}:D{last}"
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"错误"', "format": st.bad}
    )
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"提示"', "format": st.warn}
    )
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": '"通过"', "format": st.good}
    )
    ws.conditional_format(
        rng, {"type": "cell", "criteria": "==", "value": f'"{EXPLAINED}"', "format": st.good}
    )
    _python_only(sh, last + 1)
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, last - 1, 5)
    ws.repeat_rows(2)
    # Printing the workbook must not print a page of 通过 per dozen checks: the print area
    # is the title and the note (which says how to print what failed: the 校验 button's
    # 审核结果 sheet lists only those). An autofilter hiding the 通过 rows would go stale
    # as soon as a figure changes (a filter is not re-applied on recalculation) and could
    # hide a new 错误 from the printout.
    print_setup(ws, 2, 5)


def _python_only(sh: Sheets, blank_row: int) -> None:
    """Below the live checks (after a blank row, where the 校验 macro stops reading): the
    rules no formula can express, so a unit knows what 校验通过 and 通过 do not cover."""
    from ..rules import CATALOGUE

    p = sh.plan.layout.profile
    rules = [r for r in CATALOGUE if r.applies_to(p) and not r.live]
    if not rules:
        return
    s, st, ws = AUDIT_SHEET, sh.st, sh.ws[AUDIT_SHEET]
    first = blank_row + 1  # 1-based row of the note
    sh.merge(s, f"B{first}:F{first}", PYTHON_ONLY_NOTE, st.note)
    sh.heights[(s, first)] = 34
    for i, rule in enumerate(rules):
        r = first + i  # zero-based row = 1-based row below the note
        ws.write_string(r, 1, rule.code, st.label_left)
        ws.write_string(r, 2, rule.severity.value, st.label)
        ws.write_string(r, 3, PYTHON_ONLY_RESULT, st.label)
        ws.write_string(r, 4, rule.title, st.label_left)


AUDIT_NOTE = (
    "本表随填报内容自动更新：“错误”为强制性审核未通过，须改正；“提示”为提示性审核，请核实，"
    "确属正常的在表中相应的说明栏写明原因（此后显示“已说明”）。点击“位置”可跳到对应单元格。"
    "打印时本表只打印标题和本说明，逐项结果不打印：要打印未通过的审核项，请点表单右上角的"
    "“校验”按钮（.xlsm 模板），再打印它生成的“审核结果”表。"
)
PYTHON_ONLY_NOTE = (
    "以下审核规则不能写成表内公式，由财政局的 perfxl 审核（或点“评分”按钮）进行："
    "本表和“校验”按钮的“通过”不包括它们。在区域中插入的行，本表的合计会计入，"
    "但不逐行审核（由 perfxl 逐行审核）。"
)
PYTHON_ONLY_RESULT = "perfxl 审核"


def _highlights(sh: Sheets) -> None:
    for sheet, rng, formula, fail in sh.plan.highlights:
        fmt = sh.st.bad if fail == "错误" else sh.st.warn
        sh.ws[sheet].conditional_format(
            rng, {"type": "formula", "criteria": "=" + formula, "format": fmt}
        )
    for fc in sh.plan.banner:
        ws, a1 = sh.ws[fc.sheet], f"{fc.col}{fc.row}"
        bad = sh.st.bad if fc.style[1] == "错误" else sh.st.warn
        ws.conditional_format(a1, {"type": "cell", "criteria": ">", "value": 0, "format": bad})
        if fc.style[1] == "错误":
            ws.conditional_format(
                a1, {"type": "cell", "criteria": "==", "value": 0, "format": sh.st.good}
            )


def _draw_meta(wb: Workbook, p: Profile, helpers: dict[Key, Any]) -> None:
    ws = wb.add_worksheet(META_SHEET)
    for (_, r, col), v in sorted(helpers.items()):
        if isinstance(v, bool):
            ws.write_boolean(r - 1, COLS[col], v)
        else:
            ws.write_string(r - 1, COLS[col], str(v))
    for i, (k, v) in enumerate((("profile", p.id), ("profile_version", p.version),
                                ("template_format", TEMPLATE_FORMAT))):  # fmt: skip
        ws.write_string(i, 0, k)
        ws.write_string(i, 1, v)
    ws.protect("", PROTECT)
    ws.very_hidden()


def _names(wb: Workbook, layout: Layout) -> None:
    for c in layout.cells:
        wb.define_name(c.name, "=" + Spot(c.sheet, letters(c.ref), digits(c.ref)).ref())
    for b in layout.blocks:
        first, last = b.columns[0].letter, b.columns[-1].letter
        q = "'" + b.sheet.replace("'", "''") + "'"
        wb.define_name(b.name, f"={q}!${first}${b.first_row}:${last}${b.last_row}")


def _add_buttons(wb: Workbook, sh: Sheets) -> None:
    """With a VBA project: the 校验 / 评分 / 清除标记 buttons beside the 审核 banner, and the
    texts their (ASCII) macros show, on the very hidden sheet (see perfxl.workbook.buttons)."""
    from .buttons import add_buttons, write_messages

    write_messages(wb, wb.get_worksheet_by_name(META_SHEET))
    add_buttons(wb, sh.ws[sh.layout.form_sheet], sh.layout)


def write_all(wb: Workbook, plan: Plan, placed: Placed, ctx: Ctx, vba_project: Path | None) -> None:
    """Draw every sheet of the workbook and close it."""
    p = plan.layout.profile
    wb.set_properties({"title": p.title, "subject": f"{p.id} {p.version}", "author": "perfxl",
                       "created": CREATED})  # fmt: skip
    wb.set_calc_mode("auto")
    if vba_project is not None:
        wb.add_vba_project(str(vba_project))
    sh = Sheets(wb, plan, placed, ctx)
    if p.kind == "project":
        draw_project(sh)
    else:
        draw_department(sh)
    _write_inputs(sh)
    _write_blocks(sh)
    _write_formulas(sh)
    _draw_audit(sh)
    _highlights(sh)
    draw_guide(sh)
    for (sheet, row), h in sh.heights.items():
        sh.ws[sheet].set_row(row - 1, h)
    for ws in sh.ws.values():
        ws.protect("", PROTECT)
    _draw_meta(wb, p, plan.loc.helper_values())
    _names(wb, plan.layout)
    if vba_project is not None:
        _add_buttons(wb, sh)
    wb.close()
