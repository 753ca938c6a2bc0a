"""Presentation: the cell formats and the printed layout of every sheet.

Formats are created once per workbook (XlsxWriter formats are workbook objects; one per
cell is the usual cause of slow writers) and looked up by role and kind. The drawing
functions put the official tables' labels, merges, widths, validations and print setup
around the layout's cells; write.py fills in the values and formulas.
Inputs are unlocked and shaded light yellow; everything else stays locked.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..profile import QUALITATIVE_PHRASES, Node, Profile
from ..score_rules import NOT_APPLICABLE
from . import formulas as F
from .formulas import COLS, block_rows, digits, leaves, letters
from .layout import (
    AUDIT_SHEET,
    DEPT_TEXTS,
    DEPT_WEIGHT_COLUMN,
    GUIDE_SHEET,
    PROJECT_FLAG_COLUMNS,
    PROJECT_REMARKS_OFFSET,
    Block,
    Layout,
    project_remarks,
    second_levels,
)

if TYPE_CHECKING:
    from .formulas import FCell
    from .write import Ctx, Key, Placed, Plan

BODY_FONT = "宋体"  # SimSun in Excel/WPS; LibreOffice falls back to an installed CJK font
TITLE_FONT = "黑体"
INPUT_FILL = "#FFF9D6"  # light yellow: cells the unit fills
LOCKED_FILL = "#E8EEF4"  # pre-filled by the bureau, locked
HEADER_FILL = "#EDEDED"
CHECK_FILL = "#F2F2F2"  # 复算 check column, outside the print area

MONEY = "#,##0.00"
PCT = '0.00"%"'  # percentage numbers: 95 shows 95.00%
SCORE = "0.00"
YEAR = '"（"0"年度）"'
COUNT_ERRORS = '"错误 "0" 项"'
COUNT_WARNINGS = '"提示 "0" 项"'

NUM_FORMATS: dict[str, str] = {
    "money": MONEY,
    "pct": PCT,
    "score": SCORE,
    "number": "General",
    "int": "0",
    "text": "@",
    "longtext": "@",
    "code": "@",
    "direction": "@",
    "applicable": "@",
    "level": "0",
    "count": "0",
}

_BASE: dict[str, Any] = {"font_name": BODY_FONT, "font_size": 11, "valign": "vcenter"}
_BOX: dict[str, Any] = {**_BASE, "border": 1}


class Styles:
    """All formats of one workbook, by role and kind."""

    def __init__(self, wb: Workbook) -> None:
        def f(*bases: dict[str, Any], **props: Any) -> Format:
            merged: dict[str, Any] = {}
            for b in bases:
                merged.update(b)
            merged.update(props)
            return wb.add_format(merged)

        self.title = f(_BASE, font_name=TITLE_FONT, font_size=18, bold=True, align="center")
        self.subtitle = f(_BASE, font_size=12, align="center")
        self.year = f(_BASE, font_size=12, align="center", num_format=YEAR, locked=False,
                      bg_color=INPUT_FILL)  # fmt: skip
        self.year_shown = f(_BASE, font_size=12, align="center", num_format=YEAR)
        self.header = f(_BOX, bold=True, align="center", text_wrap=True, bg_color=HEADER_FILL)
        self.section = f(_BOX, bold=True, align="left", bg_color=HEADER_FILL)
        self.label = f(_BOX, align="center", text_wrap=True)
        self.label_left = f(_BOX, align="left", text_wrap=True)
        self.group = f(_BOX, align="center", text_wrap=True, bold=True)
        self.dash = f(_BOX, align="center")
        self.note = f(_BASE, font_size=10, text_wrap=True, valign="top")
        self.hint = f(_BASE, font_size=10, font_color="#595959", valign="vcenter")
        self.note_bold = f(_BASE, font_size=11, bold=True)
        self.guide = f(_BASE, text_wrap=True, valign="top")
        self.guide_head = f(_BASE, bold=True, font_size=12, bg_color=HEADER_FILL)
        self.link = f(_BASE, font_color="#0563C1", underline=1)
        self.check_head = f(_BOX, bold=True, align="center", text_wrap=True, bg_color=CHECK_FILL,
                            font_color="#7F7F7F")  # fmt: skip
        self.errors = f(_BASE, bold=True, align="center", num_format=COUNT_ERRORS, border=1)
        self.warnings = f(_BASE, bold=True, align="center", num_format=COUNT_WARNINGS, border=1)
        self.bad = f(bg_color="#F8CBAD", font_color="#9C0006")
        self.warn = f(bg_color="#FFE699", font_color="#7F6000")
        self.good = f(bg_color="#C6EFCE", font_color="#006100")
        self.signature = f(_BASE, align="left")
        self._inputs: dict[tuple[str, str], Format] = {}
        self._computed: dict[tuple[str, str], Format] = {}
        for kind, num in NUM_FORMATS.items():
            wrap = kind in ("text", "longtext", "number")  # 指标值 may be text (定性)
            align = "left" if kind in ("text", "longtext", "code") else "center"
            if kind in ("money", "pct", "score"):
                align = "right"
            common = {**_BOX, "num_format": num, "text_wrap": wrap, "align": align}
            if kind == "longtext":
                common["valign"] = "top"
            self._inputs[(kind, "open")] = f(common, locked=False, bg_color=INPUT_FILL)
            self._inputs[(kind, "locked")] = f(common, bg_color=LOCKED_FILL)
            self._computed[(kind, "form")] = f(common)
            self._computed[(kind, "check")] = f(common, bg_color=CHECK_FILL)
        self.grade = f(_BOX, align="center", num_format='"评价等级："@')
        self.grade_check = f(
            **_BOX, align="center", num_format='"复算等级："@', bg_color=CHECK_FILL
        )
        self.grade_plain = f(_BOX, align="center")
        self.constant = f(_BOX, align="center", num_format="General")

    def input(self, kind: str, *, locked: bool = False) -> Format:
        return self._inputs[(kind, "locked" if locked else "open")]

    def computed(self, kind: str, *, check: bool = False) -> Format:
        return self._computed[(kind, "check" if check else "form")]


# ------------------------------------------------------------------ drawing the sheets

_PREPARED: dict[tuple[str, bool, bool], str] = {}


class _Worksheet(Worksheet):
    """A worksheet that prepares each distinct formula text once per process.

    XlsxWriter runs dozens of regular expressions over every formula (hundreds for a
    conditional format) to prefix post-2007 functions; the result depends on the text only,
    and templates repeat the same texts in every workbook of a batch.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        hit = _PREPARED.get(key)
        if hit is None:
            if len(_PREPARED) > 200_000:
                _PREPARED.clear()
            hit = _PREPARED[key] = super()._prepare_formula(formula, expand_future_functions)
        return hit


SIGNATURE = "填报单位（盖章）：                    负责人：              填报人：              联系电话：                  填报日期：      年    月    日"


@functools.lru_cache(maxsize=8192)
def _rc(a1: str) -> tuple[int, int]:
    """Zero-based (row, column) of an A1 reference."""
    return digits(a1) - 1, COLS[letters(a1)]


class Sheets:
    """The open worksheets of one workbook, with helpers addressed in A1 terms."""

    def __init__(self, wb: Workbook, plan: Plan, placed: Placed, ctx: Ctx) -> None:
        self.wb, self.plan, self.placed, self.ctx = wb, plan, placed, ctx
        self.layout = plan.layout
        self.p = plan.layout.profile
        self.st = Styles(wb)
        self.ws: dict[str, Worksheet] = {
            n: wb.add_worksheet(n, worksheet_class=_Worksheet) for n in self.layout.sheets
        }
        self.widths: dict[str, dict[str, float]] = {}
        self.heights: dict[tuple[str, int], float] = {}

    def put(self, sheet: str, a1: str, value: Any, fmt: Any) -> None:
        ws, (r, c) = self.ws[sheet], _rc(a1)
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, str):
            ws.write_string(r, c, value, fmt)
        else:
            ws.write_number(r, c, float(value), fmt)

    def merge(self, sheet: str, rng: str, value: Any, fmt: Any) -> None:
        a, _, b = rng.partition(":")
        if not b or a == b:
            self.put(sheet, a, value, fmt)
            return
        v = "" if value is None else (value if isinstance(value, str) else float(value))
        self.ws[sheet].merge_range(
            digits(a) - 1, COLS[letters(a)], digits(b) - 1, COLS[letters(b)], v, fmt
        )

    def formula(self, fc: FCell, span: str | None = None) -> None:
        fmt = self._fstyle(fc.style)
        if span:
            self.merge(fc.sheet, span, "", fmt)
        v = self.ctx.values.get((fc.sheet, fc.row, fc.col), "")
        value: Any = float(v) if isinstance(v, Decimal | int | float) else (v or "")
        self.ws[fc.sheet].write_formula(fc.row - 1, COLS[fc.col], "=" + fc.text, fmt, value)

    def _fstyle(self, style: tuple[str, str]) -> Any:
        kind, variant = style
        st = self.st
        if kind == "grade":
            return {"check": st.grade_check, "plain": st.grade_plain}.get(variant, st.grade)
        if kind == "int":
            return st.errors if variant == "错误" else st.warnings
        return st.computed(kind, check=variant == "check")

    def width(self, sheet: str, cols: dict[str, float]) -> None:
        self.widths[sheet] = cols
        for letter, w in cols.items():
            self.ws[sheet].set_column(COLS[letter], COLS[letter], w)

    def fit_row(
        self, sheet: str, row: int, texts: Iterable[tuple[Any, float]], base: float = 18
    ) -> None:
        """Row height for wrapped text (no office suite autofits merged cells)."""
        lines = max([_lines(t, w) for t, w in texts] or [1])
        h = max(base, lines * 14.5 + 4)
        self.heights[(sheet, row)] = max(h, self.heights.get((sheet, row), 0))

    def input_fmt(self, key: Key, kind: str) -> Any:
        return self.st.input(kind, locked=key in self.placed.locked)


def _lines(text: Any, width: float) -> int:
    if text is None or text == "":
        return 1
    total = 0
    for part in str(text).split("\n"):
        units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in part)
        total += max(1, math.ceil(units * 1.1 / max(width - 1, 1)))
    return total


def weight_label(node: Node, sep: str = "") -> str:
    return f"{node.name}{sep}({F.lit(node.weight)}分)" if node.weight is not None else node.name


# ---- project table


def draw_project(sh: Sheets) -> None:
    lay, p, st = sh.layout, sh.p, sh.st
    s = lay.form_sheet
    ws = sh.ws[s]
    sh.width(s, {"A": 10, "B": 12, "C": 20, "D": 11, "E": 11, "F": 11, "G": 11, "H": 7, "I": 7,
                 "J": 26, "K": 12, "L": 12, "M": 9})  # fmt: skip
    sh.merge(s, "A1:J1", p.title, st.title)
    sh.heights[(s, 1)] = 32
    sh.heights[(s, 2)] = 20
    for a1, text in (
        ("A3", "项目名称"),
        ("G3", "单位编码"),
        ("A4", "主管部门"),
        ("G4", "实施单位"),
    ):
        sh.put(s, a1, text, st.label)
    sh.merge(s, "A5:B5", "项目资金（万元）", st.header)
    for a1, text in (("C5", "年初预算数"), ("D5", "全年预算数"), ("E5", "全年执行数"),
                     ("F5", "分值"), ("G5", "执行率")):  # fmt: skip
        sh.put(s, a1, text, st.header)
    sh.merge(s, "H5:J5", "得分", st.header)
    sh.heights[(s, 5)] = 30
    labels = ("年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金")
    for row, text in zip((6, 7, 8, 9), labels, strict=True):
        sh.merge(s, f"A{row}:B{row}", text, st.label_left if row > 6 else st.label)
        if row > 6:
            sh.put(s, f"F{row}", "—", st.dash)
            sh.put(s, f"G{row}", "—", st.dash)
            sh.merge(s, f"H{row}:J{row}", "—", st.dash)
    exec_node = next(
        n for _, n in p.walk() if n.rule is not None and n.rule.kind == "execution_rate"
    )
    sh.put(s, "F6", exec_node.weight, st.constant)
    sh.merge(s, "A10:A11", "年度总体目标", st.label)
    sh.merge(s, "B10:F10", "预期目标", st.header)
    sh.merge(s, "G10:J10", "实际完成情况", st.header)
    goals = [(sh.placed.inputs.get((s, 11, "B")), 60), (sh.placed.inputs.get((s, 11, "G")), 48)]
    sh.fit_row(s, 11, goals, base=60)
    heads = ["一级指标", "二级指标"] + [c.header for c in lay.blocks[0].columns]
    for i, text in enumerate(heads):
        letter = chr(65 + i)
        sh.put(s, f"{letter}12", text, st.check_head if letter == "K" else st.header)
    sh.put(s, "K5", "复算得分", st.check_head)
    sh.put(s, "L5", "复算执行率", st.check_head)
    _stated_execution_validation(ws, lay)
    sh.heights[(s, 12)] = 30
    blocks = [b for b in lay.blocks if b.list_path == "indicators"]
    for top in p.indicators:
        mine = [b for b in blocks if p.node(b.fixed["code"]) in (top, *top.children)]
        if not mine:
            continue
        sh.merge(s, f"A{mine[0].first_row}:A{mine[-1].last_row}", weight_label(top, "\n"), st.group)
        for b in mine:
            node = p.node(b.fixed["code"])
            sh.merge(s, f"B{b.first_row}:B{b.last_row}", node.name if node else "", st.label)
            for r in block_rows(b):
                vals = sh.placed.inputs
                sh.fit_row(s, r, [(vals.get((s, r, "C")), 22), (vals.get((s, r, "J")), 30),
                                  (vals.get((s, r, "F")), 11), (vals.get((s, r, "G")), 12)])  # fmt: skip
    t = digits(lay.cell("pf_total_score").ref)
    sh.merge(s, f"A{t}:G{t}", "总分", st.header)
    sh.put(s, f"H{t}", p.total, st.constant)
    _stated_total_validation(ws, lay)
    sh.heights[(s, t)] = 22
    remarks = project_remarks(p)
    h = t + PROJECT_REMARKS_OFFSET
    sh.merge(s, f"A{h}:J{h}", REMARKS_HEADING, st.header)
    sh.heights[(s, h)] = 18
    for i, (_code, label, hint) in enumerate(remarks):
        r = h + 1 + i
        sh.merge(s, f"A{r}:B{r}", label, st.label)
        sh.fit_row(s, r, [(sh.placed.inputs.get((s, r, "C")), 100)], base=20)
        validate(ws, f"C{r}", {"validate": "any", "input_title": label[:32],
                               "input_message": hint + "。填写后，相应提示显示为“已说明”。"})  # fmt: skip
    sign = h + len(remarks) + 1
    sh.merge(s, f"A{sign}:J{sign}", SIGNATURE, st.signature)
    sh.heights[(s, sign)] = 30
    assert sign == lay.group_rows["_sign"], "layout and drawing disagree on the signature row"
    remark_labels = {code: label for code, label, _ in remarks}
    g0 = lay.group_rows["_tops"]
    sh.merge(s, f"A{g0}:G{g0}", "一级指标得分（填报）", st.header)
    sh.put(s, f"H{g0}", "分值", st.header)
    sh.put(s, f"I{g0}", "得分", st.header)
    sh.put(s, f"J{g0}", "说明", st.header)
    for top in p.indicators:
        g = lay.group_rows[top.code]
        sh.merge(s, f"A{g}:G{g}", top.name, st.group)
        sh.put(s, f"H{g}", top.weight, st.constant)
        if (s, g, "J") in sh.placed.inputs:
            sh.fit_row(s, g, [(sh.placed.inputs.get((s, g, "J")), 30)])
        else:  # its 说明 has a row above the signature
            sh.put(s, f"J{g}", f"见“{remark_labels[top.code]}”", st.constant)
    validate(ws, f"I{g0 + 1}:I{g0 + len(p.indicators)}", {"validate": "decimal", "criteria": ">=",
        "value": 0, "input_title": "一级指标得分",
        "input_message": "报告中说明的一级指标得分（不说明的不填）；应等于其下指标得分之和，“审核”表核对。",
        "error_title": "一级指标得分", "error_message": "请填写不小于 0 的数字。"})  # fmt: skip
    for i in range(len(DEPT_TEXTS)):
        c = lay.cell(f"pf_ptext_{i + 1}")
        r = digits(c.ref)
        sh.merge(s, f"A{r - 1}:J{r - 1}", c.label, st.header)
        sh.fit_row(s, r, [(sh.placed.inputs.get((s, r, "A")), 120)], base=45)
    c0 = lay.group_rows["_counts"]
    sh.merge(s, f"A{c0}:G{c0}", "指标个数（填报）", st.header)
    sh.put(s, f"H{c0}", "末级指标个数", st.header)
    sh.put(s, f"I{c0}", "满分个数", st.header)
    sh.put(s, f"J{c0}", "末级指标个数（复算）", st.check_head)
    sh.put(s, f"K{c0}", "满分个数（复算）", st.check_head)
    for i, top in enumerate([*p.indicators, None], start=1):
        sh.merge(s, f"A{c0 + i}:G{c0 + i}", top.name if top else "全表", st.group)
    validate(ws, f"H{c0 + 1}:I{c0 + len(p.indicators) + 1}", {"validate": "integer", "criteria": ">=",
        "value": 0, "input_title": "指标个数",
        "input_message": "报告中说明的末级（三级）指标个数及得满分的个数（不说明的不填）；右侧为按表中指标行复算的个数，“审核”表核对。",
        "error_title": "指标个数", "error_message": "请填写非负整数。"})  # fmt: skip
    ws.write_url(2, 10, f"internal:'{AUDIT_SHEET}'!A1", st.link, "查看审核结果")
    # no frozen rows: the heading rows (funds, goals, indicator header) take some 400 px, and
    # a laptop screen is for the indicator rows; the header row repeats on printed pages
    ws.write(1, 11, YEAR_HINT, st.hint)  # beside the 审核 banner (K1:K2), under the buttons
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(11)
    ws.print_area(0, 0, sign - 1, 9)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.set_footer("&C第 &P 页，共 &N 页")
    _project_validation(sh, blocks)


REMARKS_HEADING = (
    "说 明（须说明的情形：执行数超过预算数、执行率偏低，一级指标下三级指标分值合计与其分值不等）"
)
YEAR_HINT = "← 年度：填 4 位数字（如 2023），表头显示为“（2023年度）”"


def _project_validation(sh: Sheets, blocks: list[Block]) -> None:
    s, p, ws = sh.layout.form_sheet, sh.p, sh.ws[sh.layout.form_sheet]
    limits = p.options.text_limits
    first, last = blocks[0].first_row, blocks[-1].last_row
    lay = sh.layout
    year_rule(ws, lay.cell("pf_year").ref)
    money_rule(
        ws, f"{lay.cell('pf_funds_total_initial').ref}:{lay.cell('pf_funds_other_executed').ref}"
    )
    rows = f"{first}:{last}"
    c = {col.key: col.letter for col in blocks[0].columns}  # layout.PROJECT_COLUMNS
    validate(ws, _rng(c["name"], rows), {"validate": "any", "input_title": "三级指标",
        "input_message": "填写三级指标名称（由单位自行设定）。每个二级指标下预留的行不够时，"
                         "请使用行数更多的模板。"})  # fmt: skip
    validate(ws, _rng(c["direction"], rows), {
        "validate": "list", "source": ["正向", "反向", "等于", "定性"], "input_title": "指标性质",
        "input_message": "正向：越大越好（≥目标得满分）；反向：越小越好（≤目标得满分）；"
                         "等于：应等于目标；定性：实际完成值填评价用语。",
        "error_title": "指标性质", "error_message": "请从下拉列表选择：正向、反向、等于、定性。"})  # fmt: skip
    validate(ws, _rng(c["applicable"], rows), {
        "validate": "list", "source": [NOT_APPLICABLE], "input_title": "是否适用",
        "input_message": "本项指标适用的留空；不适用的从下拉列表选择“不适用”（本项不计分，"
                         "复算得分为 0" + ("，总分按适用指标折算为百分制" if p.options.rescale_not_applicable
                                           else "") + "）。",
        "error_title": "是否适用", "error_message": "请留空，或从下拉列表选择“不适用”。"})  # fmt: skip
    validate(ws, _rng(c["unit"], rows), {"validate": "any", "input_title": "度量单位",
        "input_message": "如：万元、个、%、天。"})  # fmt: skip
    validate(ws, _rng(c["target"], rows), {"validate": "any", "input_title": "年度指标值",
        "input_message": "定量指标填数值（百分比填 95 表示 95%）；定性指标可填文字描述。"})  # fmt: skip
    # 实际完成值 holds numbers (定量) and one of three phrases (定性). One cell has one
    # validation, and an Excel / LibreOffice list rejects everything outside it when its
    # error alert is on; a per-row source (IF($D13="定性",phrases,…)) does not turn the
    # check off for numbers either. So: a list of the phrases, for the drop-down and its
    # prompt, with the error alert switched off, so any number (or text) is accepted as
    # typed. What the alert would have refused, the live 审核 sheet reports instead:
    # VAL-QUAL-PHRASE (a 定性 row whose value is not one of the phrases) and
    # VAL-NUMBER-TEXT (text in a 定量 row).
    validate(ws, _rng(c["actual"], rows), {
        "validate": "list", "source": list(QUALITATIVE_PHRASES), "show_error": False,
        "input_title": "实际完成值",
        "input_message": "定量指标直接填数值（百分比填 95 表示 95%）。定性指标从下拉列表选择评价用语："
                         + "；".join(QUALITATIVE_PHRASES) + "。",
        "error_title": "实际完成值",
        "error_message": "定量指标请填数字；定性指标请从下拉列表选择评价用语。"})  # fmt: skip
    for top in p.indicators:
        mine = [b for b in blocks if p.node(b.fixed["code"]) in (top, *top.children)]
        if mine and top.weight is not None:
            validate(ws, f"{c['weight']}{mine[0].first_row}:{c['weight']}{mine[-1].last_row}", {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": float(top.weight),
                "input_title": "分值", "input_message": f"{top.name}的各三级指标分值之和应为 {F.lit(top.weight)}。",
                "error_title": "分值", "error_message": f"分值应在 0 与 {F.lit(top.weight)} 之间。"})  # fmt: skip
    validate(ws, _rng(c["score"], rows), {
        "validate": "custom", "value": f"=AND(ISNUMBER({c['score']}{first}),{c['score']}{first}>=0,{c['score']}{first}<=${c['weight']}{first})",
        "input_title": "得分", "input_message": "单位自评得分，在 0 与分值之间，保留两位小数。"
        "定性指标按评价用语对应区间判定。",
        "error_title": "得分", "error_message": "得分应为数字，且在 0 与本行分值之间（请先填分值）。"})  # fmt: skip
    length_rule(ws, _rng(c["explanation"], rows), limits.get("explanation"), "偏差原因分析及改进措施",
                 "得分低于分值，或实际完成值偏离目标较多时必须填写。")  # fmt: skip
    length_rule(
        ws,
        lay.cell("pf_goal_expected").ref,
        limits.get("goal_expected"),
        "预期目标",
        "填写年初设定的年度总体目标。",
    )
    length_rule(
        ws,
        lay.cell("pf_goal_actual").ref,
        limits.get("goal_actual"),
        "实际完成情况",
        "填写年度总体目标的实际完成情况。",
    )
    del s


def _rng(col: str, rows: str) -> str:
    a, _, b = rows.partition(":")
    return f"{col}{a}:{col}{b}"


def _stated_execution_validation(ws: Worksheet, lay: Layout) -> None:
    """执行率 and its 得分 are what the unit states; 复算 beside them (K6, L6) shows what
    follows from the funds."""
    validate(ws, lay.cell("pf_funds_total_rate").ref, {"validate": "decimal", "criteria": ">=",
        "value": 0, "input_title": "执行率（填报）",
        "input_message": "填写报告中的执行率（%）；右侧“复算执行率”按 全年执行数 ÷ 全年预算数 计算，不一致时“审核”表报错。",
        "error_title": "执行率", "error_message": "执行率不能为负数。"})  # fmt: skip
    validate(ws, lay.cell("pf_funds_total_score").ref, {"validate": "decimal",
        "criteria": ">=", "value": 0, "input_title": "得分（填报）",
        "input_message": "填写报告中的预算执行率得分；右侧“复算得分”按 min(执行率, 100%) × 分值 计算，不一致时“审核”表报错。",
        "error_title": "得分", "error_message": "得分不能为负数。"})  # fmt: skip


def _stated_total_validation(ws: Worksheet, lay: Layout) -> None:
    """总分 and 评价等级 are what the unit states; 复算 beside them shows what follows."""
    p = lay.profile
    validate(ws, lay.cell("pf_total_score").ref, {"validate": "decimal", "criteria": "between",
        "minimum": 0, "maximum": float(p.total), "input_title": "总分（填报）",
        "input_message": "填写报告中的总分；旁边的“复算总分”按评分规则计算，不一致时“审核”表报错。",
        "error_title": "总分", "error_message": f"总分应在 0 与 {F.lit(p.total)} 之间。"})  # fmt: skip
    validate(ws, lay.cell("pf_grade").ref, {"validate": "list",
        "source": [g.label for g in p.grades], "input_title": "评价等级（填报）",
        "input_message": "填写报告中的评价等级；应与总分对应，“审核”表核对。",
        "error_type": "warning", "error_title": "评价等级",
        "error_message": "评价等级应为评价框架中的等级之一。"})  # fmt: skip


def validate(ws: Worksheet, rng: str, opts: dict[str, Any]) -> None:
    opts = dict(opts)
    if "input_message" in opts:
        opts["input_message"] = opts["input_message"][:255]
    if "error_message" in opts:
        opts["error_message"] = opts["error_message"][:255]
    if "input_title" in opts:
        opts["input_title"] = opts["input_title"][:32]
    ws.data_validation(rng, opts)


def year_rule(ws: Worksheet, a1: str) -> None:
    validate(ws, a1, {"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100,
                 "input_title": "年度", "input_message": "填写评价年度（4 位数字，如 2023），表头显示为“（2023年度）”。",
                 "error_title": "年度", "error_message": "年度应为 2000～2100 之间的整数。"})  # fmt: skip


def money_rule(ws: Worksheet, rng: str, title: str = "金额") -> None:
    validate(ws, rng, {"validate": "decimal", "criteria": ">=", "value": 0, "input_title": title,
                  "input_message": "单位：万元，保留两位小数，不能为负数。",
                  "error_title": title, "error_message": "请填写不小于 0 的数字（万元）。"})  # fmt: skip


def length_rule(ws: Worksheet, rng: str, limit: int | None, title: str, hint: str) -> None:
    if limit:
        validate(ws, rng, {"validate": "length", "criteria": "<=", "value": int(limit), "input_title": title,
                      "input_message": f"{hint}不超过 {limit} 字。", "error_title": title,
                      "error_message": f"不能超过 {limit} 字，请精简。"})  # fmt: skip
    else:
        validate(ws, rng, {"validate": "any", "input_title": title, "input_message": hint})


# ---- department tables


def draw_department(sh: Sheets) -> None:
    _draw_info(sh)
    _draw_finance(sh)
    _draw_projects(sh)
    _draw_scores(sh)
    _draw_texts(sh)


def print_setup(ws: Worksheet, last_row: int, last_col: int, *, landscape: bool = False) -> None:
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, last_row - 1, last_col)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.set_footer("&C&A　第 &P 页，共 &N 页")


def _draw_info(sh: Sheets) -> None:
    s, st, ws = "基本信息", sh.st, sh.ws["基本信息"]
    sh.width(s, {"A": 26, "B": 18, "C": 20, "D": 20})
    sh.merge(s, "A1:D1", sh.p.title, st.title)
    sh.heights[(s, 1)] = 32
    for c in sh.layout.cells:
        if c.sheet == s and c.label and digits(c.ref) >= 3 and c.ref.startswith("B"):
            sh.put(s, f"A{digits(c.ref)}", c.label, st.label)
    sh.merge(s, "A7:D7", "资金情况（万元）", st.section)
    notes = {8: "年初批复的预算数", 9: "含年中调整和上年结转", 10: "决算支出数",
             11: "＝全年执行数÷全年预算数", 12: "＝全年执行数÷年初预算数"}  # fmt: skip
    for row, text in notes.items():
        sh.merge(s, f"C{row}:D{row}", text, st.label_left)
    lay = sh.layout
    year_rule(ws, lay.cell("pf_year").ref)
    money_rule(
        ws, f"{lay.cell('pf_funds_total_initial').ref}:{lay.cell('pf_funds_total_executed').ref}"
    )
    remark = lay.cell("pf_exec_remark")
    sh.fit_row(s, digits(remark.ref), [(sh.placed.inputs.get((s, digits(remark.ref), "B")), 56)],
               base=44)  # fmt: skip
    length_rule(ws, remark.ref, None, "预算执行情况说明",
                "全年执行数超过全年预算数或执行率偏低时写明原因；写明后“审核”表中相应提示显示为“已说明”。")  # fmt: skip
    ws.write(1, 4, YEAR_HINT, st.hint)  # outside the print area (A:D)
    ws.freeze_panes(2, 0)
    print_setup(ws, digits(remark.ref), 3)


def _draw_finance(sh: Sheets) -> None:
    lay, st = sh.layout, sh.st
    income = next(b for b in lay.blocks if b.list_path == "finance.income")
    s, ws = income.sheet, sh.ws[income.sheet]
    sh.width(s, {"A": 30, "B": 18, "C": 14, "D": 14})
    sh.merge(s, "A1:D1", "收支情况（万元）", st.title)
    sh.heights[(s, 1)] = 32
    for col in income.columns:
        sh.put(s, f"{col.letter}2", col.header, st.header)
    r = income.last_row + 1
    sh.put(s, f"A{r}", "收入合计", st.label)
    sh.put(s, f"A{r + 2}", "支出项目", st.header)
    sh.put(s, f"B{r + 2}", "金额（万元）", st.header)
    sh.put(s, f"C{r + 2}", "占比（填报）", st.header)
    sh.put(s, f"D{r + 2}", "复算占比", st.header)
    sh.put(s, f"C{r}", None, st.dash)
    sh.put(s, f"D{r}", None, st.dash)
    for row, text in ((r + 3, "基本支出"), (r + 4, "项目支出"), (r + 5, "支出合计")):
        sh.put(s, f"A{row}", text, st.label)
    sh.put(s, f"C{r + 5}", None, st.dash)
    sh.put(s, f"D{r + 5}", None, st.dash)
    validate(ws, f"C{income.first_row}:C{income.last_row}", {"validate": "decimal", "criteria": "between",
        "minimum": 0, "maximum": 100, "input_title": "占比（填报）",
        "input_message": "报告中说明的该项收入占收入合计的百分比，填 99.94 表示 99.94%；不说明的不填。"})  # fmt: skip
    validate(ws, f"C{r + 3}:C{r + 4}", {"validate": "decimal", "criteria": "between", "minimum": 0,
        "maximum": 100, "input_title": "占比（填报）",
        "input_message": "报告中说明的占支出合计的百分比；右侧为按金额复算的占比。"})  # fmt: skip
    validate(ws, f"A{income.first_row}:A{income.last_row}", {"validate": "any", "input_title": "收入来源",
        "input_message": "如：财政拨款收入、事业收入、其他收入。"})  # fmt: skip
    money_rule(ws, f"B{income.first_row}:B{r}")
    money_rule(ws, f"B{r + 3}:B{r + 5}")
    ws.freeze_panes(2, 0)
    print_setup(ws, r + 5, 3)


def _draw_projects(sh: Sheets) -> None:
    st = sh.st
    b = next(b for b in sh.layout.blocks if b.list_path == "projects")
    s, ws = b.sheet, sh.ws[b.sheet]
    sh.width(s, {"A": 30, "B": 9, "C": 24, "D": 13, "E": 13, "F": 13, "G": 10, "H": 20, "I": 12,
                 "J": 3, "K": 22, "L": 12, "M": 12,
                 "R": 3, "S": 22, "T": 12, "U": 12, "V": 12, "W": 12, "X": 12, "Y": 12})  # fmt: skip
    sh.merge(s, "A1:I1", "项目支出明细（万元）", st.title)
    sh.heights[(s, 1)] = 32
    for col in b.columns:
        sh.put(s, f"{col.letter}2", col.header, st.header)
    pr = b.last_row + 1
    sh.merge(s, f"A{pr}:C{pr}", "一级项目合计", st.header)
    sh.put(s, f"G{pr}", None, st.dash)
    rows = f"{b.first_row}:{b.last_row}"
    validate(ws, _rng("B", rows), {"validate": "list", "source": ["1", "2"], "input_title": "项目级次",
        "input_message": "1 = 一级项目；2 = 二级项目（填在所属一级项目之后，并填写所属一级项目）。",
        "error_title": "项目级次", "error_message": "项目级次只能是 1（一级项目）或 2（二级项目）。"})  # fmt: skip
    validate(ws, _rng("C", rows), {"validate": "any", "input_title": "所属一级项目",
        "input_message": "二级项目填所属一级项目的名称；一级项目不填。"})  # fmt: skip
    validate(ws, _rng("H", rows), {"validate": "any", "input_title": "所属单位",
        "input_message": "本级项目不填；下属单位的项目填单位名称。二级项目与其一级项目填同一单位。"})  # fmt: skip
    money_rule(ws, f"D{b.first_row}:F{b.last_row}")
    for r in block_rows(b):
        sh.fit_row(
            s,
            r,
            [
                (sh.placed.inputs.get((s, r, "A")), 30),
                (sh.placed.inputs.get((s, r, "C")), 24),
                (sh.placed.inputs.get((s, r, "H")), 20),
            ],
        )
    counts = next(b for b in sh.layout.blocks if b.list_path == "project_counts")
    h = counts.first_row - 1
    for col in counts.columns:
        sh.put(s, f"{col.letter}{h}", col.header, st.header)
    sh.merge(s, f"K{h - 1}:M{h - 1}", "项目个数（填报）", st.header)
    sh.merge(s, f"K{counts.last_row + 1}:M{counts.last_row + 2}",
             "合计行为全部门（各单位同名的一级项目只计一次，二级项目合计）；本级及各下属单位各一行。",
             st.label_left)  # fmt: skip
    crow = f"{counts.first_row}:{counts.last_row}"
    validate(ws, _rng("K", crow), {"validate": "any", "input_title": "单位",
        "input_message": "填“合计”（全部门）、“本级”或下属单位名称（与项目支出明细的所属单位一致）。"})  # fmt: skip
    validate(ws, f"L{counts.first_row}:M{counts.last_row}", {"validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "项目个数", "input_message": "报告中说明的一级项目、二级项目个数。",
        "error_title": "项目个数", "error_message": "请填写非负整数。"})  # fmt: skip
    subs = next(b for b in sh.layout.blocks if b.list_path == "project_subtotals")
    h = subs.first_row - 1
    for col in subs.columns:
        sh.put(
            s, f"{col.letter}{h}", col.header, st.check_head if col.role == "formula" else st.header
        )
    sh.merge(s, f"S{h - 1}:Y{h - 1}", "项目支出小计（万元；填报及复算）", st.header)
    srow = f"{subs.first_row}:{subs.last_row}"
    validate(ws, _rng("S", srow), {"validate": "any", "input_title": "单位",
        "input_message": "填“本级”或下属单位名称（与项目支出明细的所属单位一致）；右侧按明细复算该单位一级项目之和。"})  # fmt: skip
    money_rule(ws, f"T{subs.first_row}:V{subs.last_row}")
    # the hidden helpers of the live project counts (1 on the first 一级项目 of each name)
    first_flag = COLS[min(PROJECT_FLAG_COLUMNS.values())]
    ws.set_column(first_flag, first_flag + len(PROJECT_FLAG_COLUMNS) - 1, 6, None, {"hidden": True})
    ws.freeze_panes(2, 1)
    print_setup(ws, max(pr, counts.last_row + 2), 24, landscape=True)


def _draw_scores(sh: Sheets) -> None:
    lay, p, st = sh.layout, sh.p, sh.st
    s = lay.form_sheet
    ws = sh.ws[s]
    widths = {"A": 10, "B": 13, "C": 24, "D": 30, "E": 7, "F": 10, "G": 10, "H": 28, "I": 12}
    sh.width(s, widths)
    sh.merge(s, "A1:H1", p.title, st.title)
    sh.heights[(s, 1)] = 32
    ws.merge_range(1, 0, 1, 7, "", st.year_shown)
    year = sh.placed.inputs.get(("基本信息", 2, "A"))
    ws.write_formula(1, 0, "=IF(ISNUMBER('基本信息'!$A$2),'基本信息'!$A$2,\"\")", st.year_shown,
                     float(year) if year is not None else "")  # fmt: skip
    heads = (
        "一级指标",
        "二级指标",
        "三级指标",
        "计算方法",
        "分值",
        *(c.header for c in lay.blocks[-1].columns),
    )
    for i, text in enumerate(heads):
        sh.put(s, f"{chr(65 + i)}3", text, st.check_head if i == 8 else st.header)
    sh.heights[(s, 3)] = 30
    block_of = {b.fixed["code"]: b for b in lay.blocks if b.list_path == "indicators"}
    for top in p.indicators:
        mine = [block_of[n.code] for n in leaves(top)]
        sh.merge(s, f"A{mine[0].first_row}:A{mine[-1].last_row}", weight_label(top, "\n"), st.group)
        for mid in top.children or [top]:
            rows = [block_of[n.code].first_row for n in leaves(mid)]
            if mid.children:
                sh.merge(s, f"B{min(rows)}:B{max(rows)}", mid.name, st.label)
            else:
                sh.merge(s, f"B{rows[0]}:C{rows[0]}", mid.name, st.label_left)
        for leaf in leaves(top):
            r = block_of[leaf.code].first_row
            if leaf is not top and leaf not in top.children:
                sh.put(s, f"C{r}", leaf.name, st.label_left)
            sh.put(s, f"D{r}", leaf.formula or "", st.label_left)
            sh.put(s, f"{DEPT_WEIGHT_COLUMN}{r}", leaf.weight, st.constant)
            sh.fit_row(s, r, [(leaf.name, 24), (leaf.formula, 30),
                              (sh.placed.inputs.get((s, r, "H")), 28)])  # fmt: skip
            _leaf_validation(ws, leaf, r, p.options.text_limits.get("explanation"))
    h = lay.group_rows["_header"]
    for i, text in enumerate(("评价准则", "准则分值", "评价得分", "复算得分", "评价等级")):
        sh.put(s, f"{chr(65 + i)}{h}", text, st.header)
    sh.merge(s, f"F{h}:H{h}", "评价概述", st.header)
    for top in p.indicators:
        g = lay.group_rows[top.code]
        sh.put(s, f"A{g}", top.name, st.group)
        sh.put(s, f"B{g}", top.weight, st.constant)
        if not (p.options.group_grades and top.weight):
            sh.put(s, f"E{g}", None, st.dash)
        validate(ws, f"C{g}", {"validate": "decimal", "criteria": "between", "minimum": 0,
            "maximum": float(top.weight or 0), "input_title": f"{top.name}评价得分"[:32],
            "input_message": "填写报告中的一级得分；只有一级得分（无三级明细）时按它计分，填了三级明细的应等于其合计。",
            "error_title": "评价得分", "error_message": f"评价得分应在 0 与 {F.lit(top.weight or 0)} 之间。"})  # fmt: skip
        sh.fit_row(s, g, [(sh.placed.inputs.get((s, g, "F")), 64)])
    t = digits(lay.cell("pf_total_score").ref)
    sh.put(s, f"A{t}", "综合绩效", st.header)
    sh.put(s, f"B{t}", p.total, st.constant)
    _stated_total_validation(ws, lay)
    sh.merge(s, f"A{t + 2}:H{t + 2}", SIGNATURE, st.signature)
    sh.heights[(s, t + 2)] = 30
    c0 = lay.group_rows["_counts"]
    sh.put(s, f"A{c0}", "指标个数（填报）", st.header)
    sh.put(s, f"B{c0}", "末级指标个数", st.header)
    sh.put(s, f"C{c0}", "满分个数", st.header)
    sh.put(s, f"D{c0}", "末级指标个数（复算）", st.check_head)
    sh.put(s, f"E{c0}", "满分个数（复算）", st.check_head)
    for i, top in enumerate([*p.indicators, None], start=1):
        sh.put(s, f"A{c0 + i}", top.name if top else "全表", st.group)
    last = c0 + len(p.indicators) + 1
    validate(ws, f"B{c0 + 1}:C{last}", {"validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "指标个数", "input_message": "报告中说明的末级指标个数及得满分的个数（不说明的不填）；右侧为按表中指标行复算的个数，“审核”表核对。",
        "error_title": "指标个数", "error_message": "请填写非负整数。"})  # fmt: skip
    s0 = lay.group_rows["_seconds"]
    seconds = second_levels(p)
    if seconds:
        sh.put(s, f"A{s0}", "二级指标得分（填报）", st.header)
        sh.put(s, f"B{s0}", "分值", st.header)
        sh.put(s, f"C{s0}", "得分", st.header)
        for i, node in enumerate(seconds, start=1):
            sh.put(s, f"A{s0 + i}", node.name, st.group)
            sh.put(s, f"B{s0 + i}", node.weight, st.constant)
        last = s0 + len(seconds)
        validate(ws, f"C{s0 + 1}:C{last}", {"validate": "decimal", "criteria": ">=", "value": 0,
            "input_title": "二级指标得分", "input_message": "报告中说明的二级指标得分（不说明的不填）；应等于其下三级指标得分之和，“审核”表核对。",
            "error_title": "二级指标得分", "error_message": "请填写不小于 0 的数字。"})  # fmt: skip
    ws.write_url(2, 9, f"internal:'{AUDIT_SHEET}'!A1", st.link, "查看审核结果")
    ws.freeze_panes(3, 0)
    ws.repeat_rows(2)
    # the 评分汇总 starts a page: however long the indicator rows run (their heights are the
    # office suite's to fit), its header never stays at the foot of a page with its rows on
    # the next; the total, the signature and the stated counts print with it
    ws.set_h_pagebreaks([h - 1])
    print_setup(ws, last, 7, landscape=True)


def _leaf_validation(ws: Worksheet, leaf: Node, r: int, limit: int | None) -> None:
    rule = leaf.rule.kind if leaf.rule else "manual"
    text = F.rule_text(leaf)
    if rule in ("manual", "qualitative"):
        validate(ws, f"F{r}", {"validate": "any", "input_title": "实际值",
                          "input_message": "本项由评价人员判定得分，实际值可不填。"})  # fmt: skip
    else:
        validate(ws, f"F{r}", {"validate": "decimal", "criteria": "between", "minimum": -1e9, "maximum": 1e12,
                          "input_title": leaf.name[:32], "input_message": f"评分标准：{text}",
                          "error_title": "实际值", "error_message": "请填写数字。"})  # fmt: skip
    validate(ws, f"G{r}", {"validate": "custom", "value": f"=AND(ISNUMBER(G{r}),G{r}>=0,G{r}<=$E{r})",
                      "input_title": "自评得分", "input_message": f"0～{F.lit(leaf.weight or 0)} 分。评分标准：{text}",
                      "error_title": "自评得分", "error_message": "自评得分应为数字，且在 0 与本行分值之间。"})  # fmt: skip
    length_rule(ws, f"H{r}", limit, "扣分原因", "自评得分低于分值时须写明扣分原因。")


def _draw_texts(sh: Sheets) -> None:
    s, st = "问题与改进", sh.st
    ws = sh.ws[s]
    sh.width(s, dict.fromkeys("ABCDEF", 15.0))
    sh.merge(s, "A1:F1", "评价结论、存在问题及改进措施", st.title)
    sh.heights[(s, 1)] = 32
    limits = sh.p.options.text_limits
    for c in sh.layout.cells:
        if c.sheet != s:
            continue
        r = digits(c.ref)
        sh.merge(s, f"A{r - 1}:F{r - 1}", c.label, st.section)
        sh.fit_row(s, r, [(sh.placed.inputs.get((s, r, "A")), 88)], base=90)
        length_rule(ws, f"A{r}", limits.get(c.label), c.label, f"填写{c.label}。")
    print_setup(ws, 7, 5)


# ---- 填表说明


def _grades_text(p: Profile) -> str:
    parts = [f"{g.label} ≥ {F.lit(g.min)}" for g in p.grades[:-1]]
    return (
        "，".join([*parts, f"{p.grades[-1].label} < {F.lit(p.grades[-2].min)}"])
        if len(p.grades) > 1
        else p.grades[0].label
    )


def listed_as(code: str) -> str:
    """How the 审核 sheet lists a failure of the rule `code`, from the catalogue."""
    from ..findings import Severity
    from ..rules import CATALOGUE

    rule = next(r for r in CATALOGUE if r.code == code)
    return "“错误”，须改正" if rule.severity is Severity.BLOCKING else "“提示”，请核实"


def _common_guide(p: Profile) -> list[str]:
    o = p.options
    lines = [
        "浅黄色单元格为填报项；其余单元格是表头、固定内容或自动计算的公式，已锁定，防止误改。"
        "工作表已保护，但未设密码：确需调整表样时，可在“审阅 → 撤销工作表保护”后操作，改完请重新保护。",
        "金额单位为万元，保留两位小数；比率以百分数表示（95 表示 95%），保留两位小数。"
        "每项得分四舍五入到两位小数后再相加；评价等级按四舍五入后的总分确定："
        f"{_grades_text(p)}。",
        "灰色的“复算得分”列和右上角的审核数量是核对用的，不在打印范围内："
        "复算得分是按评分规则自动算出的得分，与自评得分不一致时，“审核”表中列为"
        f"{listed_as('ARITH-IND-SCORE')}。",
        "“审核”工作表实时列出全部审核结果：“错误”为强制性审核未通过，须改正后才能上报；"
        "“提示”为提示性审核，请核实，确属正常的写明原因。打印工作簿时“审核”表只打印标题和说明；"
        "要打印未通过的审核项，请点“校验”按钮后打印“审核结果”表。",
    ]
    if o.execution_caps:
        caps = "；".join(
            f"执行率低于 {F.lit(c.below)}% 的，总分不超过 {F.lit(c.max_total)} 分"
            for c in o.execution_caps
        )
        lines.append(f"按预算执行率封顶总分：{caps}。")
    return lines


def _project_guide(p: Profile) -> list[str]:
    o = p.options
    inverse = (
        "超出时得分 = 目标值 ÷ 实际值 × 分值"
        if o.inverse_variant == "A"
        else "超出时得分 = (1 − (实际值 − 目标值) ÷ 目标值) × 分值，达到目标值 2 倍时得 0 分"
    )
    tops = "、".join(weight_label(n) for n in p.indicators)
    oa = o.over_achievement
    over = f"实际完成值超过目标 {F.lit(oa.threshold)}% 以上的，须说明偏离原因"
    if oa.deduct > 0:
        over += f"，并扣 {F.lit(oa.deduct)} 分"
    limit = o.text_limits.get("explanation")
    return [
        f"本表为《{p.title}》（{p.basis or p.id}），一级指标及分值：{tops}。",
        "年度：在标题下方的年度格填写四位年份（如 2023），表头显示为“（2023年度）”。",
        "项目资金：填写年初预算数、全年预算数（含年中调整和上年结转）、全年执行数；"
        "“其中”三行之和应等于“年度资金总额”。执行率、得分填写报告中的数值；右侧“复算执行率”"
        "（全年执行数 ÷ 全年预算数）、“复算得分”（min(执行率, 100%) × 分值）自动计算，"
        "不一致时“审核”表报错；全年预算数为 0 时没有执行率，执行率栏留空，复算执行率显示“—”。",
        "三级指标由单位自行设定：每个二级指标下预留若干行，不用的行留空；"
        "各三级指标分值由单位在所属一级指标分值内分配，合计应等于一级指标分值。",
        "指标性质：正向 —— 越大越好，实际值 ≥ 目标值得满分，否则得分 = 实际值 ÷ 目标值 × 分值；"
        f"反向 —— 越小越好，实际值 ≤ 目标值得满分，{inverse}；"
        "等于 —— 应等于目标值，目标值为 0 时实际值 ≤ 0 得满分、否则 0 分，目标值大于 0 时按正向计分；"
        "定性 —— 实际完成值从下拉列表选择评价用语，得分由评价人员在对应区间内判定。实际值为负数的按 0 计，任何得分不超过分值。",
        "定性评价用语及得分区间：达成年度指标 —— 分值的 80%～100%；"
        "部分达成年度指标并具有一定效果 —— 60%～80%（不含 80%）；"
        "未达成年度指标且效果较差 —— 0～60%（不含 60%）。",
        "得分：单位的自评得分（填报）。总分、评价等级：填写报告中的总分和等级；右侧“复算总分”“复算等级”"
        "按评分规则计算（预算执行率得分 + 各三级指标得分），不一致时“审核”表报错。",
        "签章行下方可填各一级指标得分及说明；三级指标年中调整过目标的，在行右侧填年初指标值；"
        "表末可填评价结论、存在问题和改进措施。",
        "偏差原因分析及改进措施：得分低于分值时必须填写；"
        + over
        + (f"；不超过 {limit} 字。" if limit else "。"),
        "说明：表末的“预算执行说明”一行，在全年执行数超过全年预算数或执行率偏低时写明原因；"
        "各一级指标的“说明”一行，在其下三级指标分值合计与一级指标分值不等（调整了分值）"
        "或没有填报三级指标时写明原因。写明后，“审核”表中相应的提示显示为“已说明”。",
        "某个二级指标下的三级指标超过预留行数时，请向下发本表的财政部门索取行数更多的模板，"
        "不要在区域之外另起一行。",
    ]


def _dept_guide(p: Profile) -> list[str]:
    tops = "、".join(weight_label(n) for n in p.indicators)
    return [
        f"本表为《{p.title}》（{p.basis or p.id}），一级指标（评价准则）及分值：{tops}。",
        "基本信息：填写单位信息、年度和资金情况（年初预算数、全年预算数、全年执行数）；预算执行率自动计算，"
        "全年预算数为 0 时显示“—”。",
        "收支情况：各项收入之和应等于收入合计；基本支出 + 项目支出应等于支出合计，占比自动计算。",
        "项目支出明细：项目级次填 1（一级项目）或 2（二级项目），二级项目填所属一级项目；"
        "所属单位：本级项目不填，下属单位的项目填单位名称和编码，二级项目与其一级项目填同一单位"
        "（不同单位可有同名项目）；执行率 = 实际支出 ÷ 调整预算，调整预算为 0 的显示“—”。"
        "末行为一级项目合计。右侧可填报告中的项目个数（合计、本级、各下属单位）和项目支出小计"
        "（本级、各下属单位），旁边按明细复算，不一致时“审核”表报错。",
        "评分表：逐项填写实际值（按“计算方法”计算，百分比填 95 表示 95%）和自评得分；"
        "自评得分低于分值的须填写扣分原因。各项评分标准见下表，也会在选中单元格时提示。",
        "只有一级得分、没有三级明细时，在评分汇总的“评价得分”栏填写一级得分，按一级得分计分；"
        "已填三级明细的，按三级得分合计。综合绩效行填写报告中的总分和评价等级，旁边为复算总分、复算等级；"
        "下方可填指标个数、满分个数和各二级指标得分。",
        "问题与改进：填写评价结论、存在问题和改进措施。",
    ]


def draw_guide(sh: Sheets) -> None:
    s, st, p = GUIDE_SHEET, sh.st, sh.p
    ws = sh.ws[s]
    sh.width(s, {"A": 6, "B": 30, "C": 8, "D": 60})
    sh.merge(s, "A1:D1", "填表说明", st.title)
    sh.heights[(s, 1)] = 32
    items = (_project_guide(p) if p.kind == "project" else _dept_guide(p)) + _common_guide(p)
    r = 2
    for i, text in enumerate(items, 1):
        sh.put(s, f"A{r}", f"{i}.", st.guide)
        sh.merge(s, f"B{r}:D{r}", text, st.guide)
        sh.fit_row(s, r, [(text, 96)])
        r += 1
    if p.kind == "department":
        r += 1
        for i, text in enumerate(("编码", "指标", "分值", "评分标准")):
            sh.put(s, f"{chr(65 + i)}{r}", text, st.header)
        r += 1
        for _, node in p.walk():
            if node.children:
                continue
            sh.put(s, f"A{r}", node.code, st.label)
            sh.put(s, f"B{r}", node.name, st.label_left)
            sh.put(s, f"C{r}", node.weight, st.constant)
            sh.put(s, f"D{r}", F.rule_text(node), st.label_left)
            sh.fit_row(s, r, [(node.name, 30), (F.rule_text(node), 60)])
            r += 1
    r = _guide_rules(sh, r + 1)
    print_setup(ws, r - 1, 3)


RULES_INTRO = (
    "审核规则：下表列出适用于本表的全部审核规则（与 perfxl 的规则目录一致）。级别为“错误”的是"
    "强制性审核，未通过的须改正后才能上报；“提示”为提示性审核，请核实，确属正常的写明原因。"
    "标“表内”的由“审核”表随填报实时审核，标“perfxl”的不能写成表内公式，由财政部门用 perfxl "
    "审核（.xlsm 模板也可点“评分”按钮）。"
)
GUIDE_LEVEL = {"强制性": "错误", "提示性": "提示"}  # Severity value → the word the 审核 sheet shows


def guide_rules(p: Profile) -> list[tuple[str, str, str, str]]:
    """(编码, 级别, 审核内容, where checked) of every catalogue rule that applies to the
    profile, in catalogue order: the table at the end of 填表说明."""
    from ..rules import CATALOGUE

    return [
        (r.code, GUIDE_LEVEL[r.severity.value], r.title, "表内" if r.live else "perfxl")
        for r in CATALOGUE
        if r.applies_to(p)
    ]


def _guide_rules(sh: Sheets, r: int) -> int:
    """The catalogue's rules for this profile, below the numbered items; the next free row."""
    s, st = GUIDE_SHEET, sh.st
    sh.merge(s, f"A{r}:D{r}", RULES_INTRO, st.guide)
    sh.fit_row(s, r, [(RULES_INTRO, 102)])
    r += 1
    for i, text in enumerate(("级别", "编码", "审核方式", "审核内容")):
        sh.put(s, f"{chr(65 + i)}{r}", text, st.header)
    r += 1
    for code, level, title, where in guide_rules(sh.p):
        sh.put(s, f"A{r}", level, st.label)
        sh.put(s, f"B{r}", code, st.label_left)
        sh.put(s, f"C{r}", where, st.label)
        sh.put(s, f"D{r}", title, st.label_left)
        sh.fit_row(s, r, [(title, 60)])
        r += 1
    return r
