"""Where every field of a profile's table lives: sheets, cells and defined names.

The template writer and the workbook reader both work from this one description, so a
field is placed and found in exactly one way. Everything the library reads or computes
has a workbook-scoped defined name (prefix `pf_`); a unit that inserts rows inside a block
or restyles a sheet is still read right, because names move with their cells in Excel.

Conventions of the tables perfxl writes:
* Inputs are what the unit states (including its own scores: 得分 / 自评得分 / 评价得分).
* Formula cells show what follows from the inputs: 执行率, its score, totals, grade, shares,
  and a 复算得分 column with the score the official rule gives, beside the stated one.
* A field whose cell is a formula is read back as the value the formula shows.
* Rates and shares (kind "pct": 执行率, 占比) are stored as percentage NUMBERS, as the model
  holds them (95 = 95 %), shown with the number format 0.00"%"; never as fractions with
  0.00%. A rate that does not exist (budget 0) is the text "—"; a rate whose inputs are
  blank is "" (an empty string). Both read back as None.
* Computed cells show "" while their inputs are blank, so a template prints clean.
* The 审核 sheet lists one live check per row; pf_audit_errors / pf_audit_warnings count its
  错误 / 提示 results (the banner at the top right of the form sheet, beside the print area).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from ..profile import Node, Profile, code_name, execution_remark_path

Role = Literal["input", "formula", "constant"]
Kind = Literal[
    "money",
    "pct",
    "score",
    "number",
    "text",
    "longtext",
    "int",
    "code",
    "direction",
    "level",
    "count",
    "applicable",
]

META_SHEET = "_perfxl"
AUDIT_SHEET = "审核"
GUIDE_SHEET = "填表说明"
TEMPLATE_FORMAT = "1"  # the contract below; bump when a name or a block's columns change

DEFAULT_ROWS_PER_GROUP = 5  # blank 三级 rows per 二级 in a project template
DEFAULT_PROJECT_ROWS = 30  # 项目支出明细 rows in a department template
DEFAULT_INCOME_ROWS = 8  # 收入 lines in a department template


@dataclass(frozen=True)
class Cell:
    """A single named cell (possibly the top-left of a merged range)."""

    name: str  # defined name
    sheet: str
    ref: str  # A1 of the value cell, e.g. "C6"
    path: str | None  # model field path it holds, None for computed-only cells
    role: Role
    kind: Kind
    label: str = ""
    span: str | None = None  # merged range containing `ref`, e.g. "B3:F3"


@dataclass(frozen=True)
class Column:
    key: (
        str  # attribute of the row's model object (Indicator, Project, IncomeLine), or "recomputed"
    )
    letter: str
    role: Role
    kind: Kind
    header: str


@dataclass(frozen=True)
class Block:
    """A run of rows of one kind: the 三级 of a 二级, one department indicator, projects, income."""

    name: str  # defined name over the data rows, first..last column
    sheet: str
    first_row: int
    rows: int
    columns: tuple[Column, ...]
    list_path: str  # "indicators" | "projects" | "finance.income"
    fixed: dict[str, str] = field(default_factory=dict)  # model attrs implied by the block (code)

    @property
    def last_row(self) -> int:
        return self.first_row + self.rows - 1

    @property
    def ref(self) -> str:
        return f"{self.columns[0].letter}{self.first_row}:{self.columns[-1].letter}{self.last_row}"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass
class Layout:
    profile: Profile
    sheets: list[str]
    cells: list[Cell]
    blocks: list[Block]
    group_rows: dict[str, int] = field(default_factory=dict)  # 一级 code → summary row (department)

    def cell(self, name: str) -> Cell:
        return next(c for c in self.cells if c.name == name)

    def by_path(self) -> dict[str, Cell]:
        return {c.path: c for c in self.cells if c.path}

    @property
    def form_sheet(self) -> str:
        """The sheet with the scores, where the 审核 banner sits."""
        return self.sheets[0] if self.profile.kind == "project" else "评分表"


def sheet_name(title: str) -> str:
    """A bureau's table title as a legal sheet name: no []:*?/\\, at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'").strip() or "自评表"
    return cleaned[:31]


FUND_FIELDS = ("initial", "budget", "executed")


def _meta_cells() -> list[Cell]:
    return [
        Cell("pf_meta_profile", META_SHEET, "B1", None, "constant", "code", "profile"),
        Cell("pf_meta_version", META_SHEET, "B2", None, "constant", "code", "profile_version"),
        Cell("pf_meta_format", META_SHEET, "B3", None, "constant", "code", "template_format"),
    ]


# ------------------------------------------------------------------ project-2020 style

PROJECT_COLUMNS = (
    Column("name", "C", "input", "text", "三级指标"),
    Column("direction", "D", "input", "direction", "指标性质"),
    Column("unit", "E", "input", "text", "度量单位"),
    Column("target", "F", "input", "number", "年度指标值"),
    Column("actual", "G", "input", "number", "实际完成值"),
    Column("weight", "H", "input", "score", "分值"),
    Column("score", "I", "input", "score", "得分"),
    Column("explanation", "J", "input", "longtext", "偏差原因分析及改进措施"),
    Column("recomputed", "K", "formula", "score", "复算得分"),
    # the target approved with the budget, when 年度指标值 is the mid-year adjusted one
    Column("target_initial", "L", "input", "number", "年初指标值（调整前）"),
    # blank = applicable; 不适用 (score_rules.NOT_APPLICABLE) = the unit marks the row not applicable
    Column("applicable", "M", "input", "applicable", "是否适用"),
)
PROJECT_INDICATOR_HEADER_ROW = 12


def _banner_cells(sheet: str, letter: str) -> list[Cell]:
    return [
        Cell("pf_audit_errors", sheet, f"{letter}1", None, "formula", "int", "错误"),
        Cell("pf_audit_warnings", sheet, f"{letter}2", None, "formula", "int", "提示"),
    ]


PROJECT_REMARKS_OFFSET = 1  # rows from the total row to the 说明 heading (K holds 复算等级)


def project_remarks(profile: Profile) -> list[tuple[str, str, str]]:
    """(一级 code, label, when to write) of the 说明 rows of a project table: the
    execution-rate indicator (its 说明 explains a low rate or overspending), then every
    一级 whose 三级 the unit sets (its 说明 explains adjusted 分值, or no 三级 at all)."""
    out = []
    for top in profile.indicators:
        if top.rule is not None and top.rule.kind == "execution_rate":
            out.append((top.code, "预算执行说明", "执行数超过预算数、执行率偏低时写明原因"))
        elif _has_open(top):
            out.append(
                (
                    top.code,
                    f"{top.name}说明",
                    f"三级指标分值合计与{top.name}分值 {top.weight} 不等（调整分值）"
                    "或没有三级指标时写明原因",
                )
            )
    return out


def _has_open(node: Node) -> bool:
    return node.open or any(_has_open(c) for c in node.children)


def group_rows_of(rows_per_group: int | dict[str, int], code: str) -> int:
    """Rows of a 二级 block: a mapping gives per-code counts (a filing with more 三级)."""
    if isinstance(rows_per_group, dict):
        return rows_per_group.get(code, DEFAULT_ROWS_PER_GROUP)
    return rows_per_group


def _project_layout(profile: Profile, rows_per_group: int | dict[str, int]) -> Layout:
    s = sheet_name(profile.title)
    cells = [
        Cell("pf_year", s, "A2", "header.year", "input", "int", "年度", "A2:J2"),
        Cell("pf_name", s, "B3", "header.name", "input", "text", "项目名称", "B3:F3"),
        Cell("pf_unit_code", s, "H3", "header.unit_code", "input", "code", "单位编码", "H3:J3"),
        Cell("pf_department", s, "B4", "header.department", "input", "text", "主管部门", "B4:F4"),
        Cell("pf_unit", s, "H4", "header.unit", "input", "text", "实施单位", "H4:J4"),
    ]
    for row, line in zip((6, 7, 8, 9), ("total", "fiscal", "carryover", "other"), strict=True):
        for letter, f in zip("CDE", FUND_FIELDS, strict=True):
            cells.append(
                Cell(
                    f"pf_funds_{line}_{f}",
                    s,
                    f"{letter}{row}",
                    f"funds.{line}.{f}",
                    "input",
                    "money",
                )
            )
    exec_node = next(
        n for _, n in profile.walk() if n.rule is not None and n.rule.kind == "execution_rate"
    )
    cells += [
        Cell("pf_exec_weight", s, "F6", None, "constant", "score", "分值"),
        # 执行率 and 得分 are what the unit states (inputs); 复算 beside them (K6, L6)
        Cell("pf_funds_total_rate", s, "G6", "funds.total.rate", "input", "pct", "执行率"),
        Cell(
            "pf_funds_total_score",
            s,
            "H6",
            "funds.total.score",
            "input",
            "score",
            "得分",
            "H6:J6",
        ),
        Cell("pf_exec_recomputed", s, "K6", None, "formula", "score", "复算得分"),
        Cell("pf_funds_total_rate_recomputed", s, "L6", None, "formula", "pct", "复算执行率"),
        Cell(
            "pf_goal_expected",
            s,
            "B11",
            "goal_expected",
            "input",
            "longtext",
            "预期目标",
            "B11:F11",
        ),
        Cell(
            "pf_goal_actual",
            s,
            "G11",
            "goal_actual",
            "input",
            "longtext",
            "实际完成情况",
            "G11:J11",
        ),
    ]
    blocks = []
    row = PROJECT_INDICATOR_HEADER_ROW + 1
    for top in profile.indicators:
        if top is exec_node:
            continue
        for child in top.children or [top]:
            n = group_rows_of(rows_per_group, child.code)
            blocks.append(
                Block(
                    f"pf_ind_{code_name(child.code)}",
                    s,
                    row,
                    n,
                    PROJECT_COLUMNS,
                    "indicators",
                    {"code": child.code},
                )
            )
            row += n
    cells += [
        Cell("pf_total_weight", s, f"H{row}", None, "constant", "score", "分值"),
        Cell("pf_total_score", s, f"I{row}", "total_score", "input", "score", "总分（填报）"),
        Cell("pf_grade", s, f"J{row}", "grade", "input", "text", "评价等级（填报）"),
        Cell("pf_total_recomputed", s, f"K{row}", None, "formula", "score", "复算总分"),
        Cell("pf_grade_recomputed", s, f"K{row + 1}", None, "formula", "text", "复算等级"),
    ]
    # 说明 below the total (a heading row, then one row per remark): where the unit explains
    # what a 提示 asks it to (执行率、超支; a 一级 whose 三级 分值 it adjusted)
    for i, (code, label, _hint) in enumerate(project_remarks(profile)):
        r = row + PROJECT_REMARKS_OFFSET + 1 + i
        cells.append(
            Cell(
                f"pf_group_{code_name(code)}_remark",
                s,
                f"C{r}",
                f"group_remarks.{code}",
                "input",
                "text",
                label,
                f"C{r}:J{r}",
            )
        )
    # 一级指标得分 a report states (产出指标 47.24 …) below the signature, with a 说明 for
    # each 一级 that has no 说明 row above (one cell per field)
    remarked = {code for code, _, _ in project_remarks(profile)}
    sign = row + PROJECT_REMARKS_OFFSET + len(remarked) + 1
    group_rows = {"_sign": sign, "_tops": sign + 2}
    r = sign + 2
    for top in profile.indicators:
        r += 1
        c = code_name(top.code)
        group_rows[top.code] = r
        cells += [
            Cell(f"pf_top_{c}_weight", s, f"H{r}", None, "constant", "score", "分值"),
            Cell(
                f"pf_top_{c}_score",
                s,
                f"I{r}",
                f"group_scores.{top.code}",
                "input",
                "score",
                "一级指标得分",
            ),
        ]
        if top.code not in remarked:
            cells.append(
                Cell(f"pf_top_{c}_remark", s, f"J{r}", f"group_remarks.{top.code}", "input",
                     "text", "说明")
            )  # fmt: skip
    # 评价结论 / 存在问题 / 改进措施 (Sichuan's table prints them; the self-report uses them)
    r += 1
    group_rows["_texts"] = r + 1
    for i, key in enumerate(DEPT_TEXTS):
        r += 2
        cells.append(
            Cell(
                f"pf_ptext_{i + 1}",
                s,
                f"A{r}",
                f"texts.{key}",
                "input",
                "longtext",
                key,
                f"A{r}:J{r}",
            )
        )
    # 指标个数 and 满分个数 a report states, per 一级 and for the whole table (全表)
    r += 2
    group_rows["_counts"] = r
    for key in [top.code for top in profile.indicators] + ["all"]:
        r += 1
        cells += _count_cells(key, s, r, "HI", "JK")
    cells += _banner_cells(s, "K")
    cells += _meta_cells()
    return Layout(profile, [s, AUDIT_SHEET, GUIDE_SHEET], cells, blocks, group_rows)


# ------------------------------------------------------------------ department style

DEPT_INDICATOR_COLUMNS = (
    Column("actual", "F", "input", "number", "实际值"),
    Column("score", "G", "input", "score", "自评得分"),
    Column("explanation", "H", "input", "longtext", "扣分原因"),
    Column("recomputed", "I", "formula", "score", "复算得分"),
)
DEPT_WEIGHT_COLUMN = "E"  # the printed 分值 of a department indicator row
PROJECT_LIST_COLUMNS = (
    Column("name", "A", "input", "text", "项目名称"),
    Column("level", "B", "input", "level", "项目级次"),
    Column("parent", "C", "input", "text", "所属一级项目"),
    Column("initial", "D", "input", "money", "年初预算"),
    Column("adjusted", "E", "input", "money", "调整预算"),
    Column("spent", "F", "input", "money", "实际支出"),
    Column("rate", "G", "formula", "pct", "执行率"),
    Column("unit", "H", "input", "text", "所属单位"),
    Column("unit_code", "I", "input", "code", "单位编码"),
)
# Columns a block had in earlier templates of the same format: such a workbook is still read
# (the missing columns are blank). 项目支出明细 gained 所属单位 and 单位编码 (H:I), 收入 the
# stated 占比 and its 复算 (C:D).
LEGACY_WIDTHS: dict[str, tuple[int, ...]] = {"pf_projects": (7,), "pf_income": (2,)}
# a project table's 三级 blocks gained 年初指标值 (L; C:K before), then 是否适用 (M; C:L before)
LEGACY_INDICATOR_WIDTHS: tuple[int, ...] = (9, 10)


def legacy_widths(layout: Layout, block: Block) -> tuple[int, ...]:
    """Widths a block had in earlier templates of the same format (still read)."""
    if block.list_path == "indicators" and layout.profile.kind == "project":
        return LEGACY_INDICATOR_WIDTHS
    return LEGACY_WIDTHS.get(block.name, ())


PROJECT_COUNT_COLUMNS = (
    Column("unit", "K", "input", "text", "单位（合计 / 本级 / 下属单位）"),
    Column("first", "L", "input", "count", "一级项目个数"),
    Column("second", "M", "input", "count", "二级项目个数"),
)
PROJECT_COUNT_ROWS = 8  # 合计, 本级 and up to six 下属单位
# Hidden helper formulas beside each 项目支出明细 row (1 on the first 一级项目 of its name:
# in the department, in its unit), which the live XT-PROJECT-COUNTS adds up
PROJECT_FLAG_COLUMNS = {"first_dept": "AA", "first_unit": "AB"}
# 项目支出小计 per unit, right of the counts (S:Y): the stated subtotals, their 复算 beside
SUBTOTAL_COLUMNS = (
    Column("unit", "S", "input", "text", "单位（本级 / 下属单位）"),
    Column("initial", "T", "input", "money", "年初预算（填报）"),
    Column("adjusted", "U", "input", "money", "调整预算（填报）"),
    Column("spent", "V", "input", "money", "实际支出（填报）"),
    Column("recomputed_initial", "W", "formula", "money", "年初预算（复算）"),
    Column("recomputed_adjusted", "X", "formula", "money", "调整预算（复算）"),
    Column("recomputed_spent", "Y", "formula", "money", "实际支出（复算）"),
)
SUBTOTAL_ROWS = 7  # 本级 and up to six 下属单位
SUBTOTALS_FIRST_ROW = 4  # as the counts: a title row, the header, then the rows
COUNT_FIELDS = {"indicators": "末级指标个数", "full_marks": "满分个数"}


def _count_cells(key: str, sheet: str, row: int, stated: str, recomputed: str) -> list[Cell]:
    """The stated 指标个数 / 满分个数 of a 一级 (or 全表: key "all") and their 复算 beside:
    the 末级 indicator rows used, and those whose score reaches their weight (XT-COUNTS)."""
    out = []
    for s, k, (f, label) in zip(stated, recomputed, COUNT_FIELDS.items(), strict=True):
        name = f"pf_count_{code_name(key)}_{f}"
        out.append(Cell(name, sheet, f"{s}{row}", f"counts.{key}.{f}", "input", "count", label))
        out.append(
            Cell(
                f"{name}_recomputed",
                sheet,
                f"{k}{row}",
                None,
                "formula",
                "count",
                f"{label}（复算）",
            )
        )
    return out


def optional_names(layout: Layout) -> frozenset[str]:
    """Names added to format-1 templates later (stated counts, 一级/二级 scores, a project
    table's 说明, the 预算执行情况说明): a workbook made before them is still read, without them."""
    remarks = layout.profile.kind == "project"
    return frozenset(
        [
            c.name
            for c in layout.cells
            if c.name.startswith(("pf_count_", "pf_sub_", "pf_top_", "pf_ptext_"))
        ]
        + [c.name for c in layout.cells if remarks and c.name.endswith("_remark")]
        + ["pf_exec_remark"]
        + [b.name for b in layout.blocks if b.name in ("pf_project_counts", "pf_project_subtotals")]
    )


INCOME_COLUMNS = (
    Column("name", "A", "input", "text", "收入来源"),
    Column("amount", "B", "input", "money", "金额（万元）"),
    Column("share", "C", "input", "pct", "占比（填报）"),
    Column("recomputed", "D", "formula", "pct", "复算占比"),
)
DEPT_TEXTS = ("评价结论", "存在问题", "改进措施")
SCORE_SHEET_FIRST_ROW = 4  # header rows 1-3: title, year, column headers


def _dept_layout(profile: Profile, project_rows: int, income_rows: int) -> Layout:
    info, money, plist, form, texts = "基本信息", "收支情况", "项目支出明细", "评分表", "问题与改进"
    cells = [
        Cell("pf_year", info, "A2", "header.year", "input", "int", "年度", "A2:D2"),
        Cell("pf_name", info, "B3", "header.name", "input", "text", "部门（单位）名称", "B3:D3"),
        Cell(
            "pf_department", info, "B4", "header.department", "input", "text", "主管部门", "B4:D4"
        ),
        Cell("pf_unit", info, "B5", "header.unit", "input", "text", "预算单位", "B5:D5"),
        Cell("pf_unit_code", info, "B6", "header.unit_code", "input", "code", "单位编码", "B6:D6"),
        Cell(
            "pf_funds_total_initial",
            info,
            "B8",
            "funds.total.initial",
            "input",
            "money",
            "年初预算数",
        ),
        Cell(
            "pf_funds_total_budget",
            info,
            "B9",
            "funds.total.budget",
            "input",
            "money",
            "全年预算数（调整预算）",
        ),
        Cell(
            "pf_funds_total_executed",
            info,
            "B10",
            "funds.total.executed",
            "input",
            "money",
            "全年执行数（决算支出）",
        ),
        Cell(
            "pf_funds_total_rate", info, "B11", "funds.total.rate", "formula", "pct", "预算执行率"
        ),
        Cell("pf_rate_initial", info, "B12", None, "formula", "pct", "执行数与年初预算比"),
        Cell(
            "pf_exec_remark",
            info,
            "B13",
            execution_remark_path(profile),
            "input",
            "longtext",
            "预算执行情况说明",
            "B13:D13",
        ),
    ]
    income_first = 3
    income = Block("pf_income", money, income_first, income_rows, INCOME_COLUMNS, "finance.income")
    r = income_first + income_rows
    cells += [
        Cell(
            "pf_fin_income_total",
            money,
            f"B{r}",
            "finance.income_total",
            "input",
            "money",
            "收入合计",
        ),
        Cell("pf_fin_basic", money, f"B{r + 3}", "finance.basic", "input", "money", "基本支出"),
        Cell(
            "pf_fin_basic_share",
            money,
            f"C{r + 3}",
            "finance.basic_share",
            "input",
            "pct",
            "占比（填报）",
        ),
        Cell("pf_fin_basic_share_recomputed", money, f"D{r + 3}", None, "formula", "pct", "复算"),
        Cell("pf_fin_project", money, f"B{r + 4}", "finance.project", "input", "money", "项目支出"),
        Cell(
            "pf_fin_project_share",
            money,
            f"C{r + 4}",
            "finance.project_share",
            "input",
            "pct",
            "占比（填报）",
        ),
        Cell("pf_fin_project_share_recomputed", money, f"D{r + 4}", None, "formula", "pct", "复算"),
        Cell(
            "pf_fin_expenditure_total",
            money,
            f"B{r + 5}",
            "finance.expenditure_total",
            "input",
            "money",
            "支出合计",
        ),
    ]
    projects = Block("pf_projects", plist, 3, project_rows, PROJECT_LIST_COLUMNS, "projects")
    pr = 3 + project_rows
    cells += [
        Cell("pf_projects_initial", plist, f"D{pr}", None, "formula", "money", "一级项目合计"),
        Cell("pf_projects_adjusted", plist, f"E{pr}", None, "formula", "money"),
        Cell("pf_projects_spent", plist, f"F{pr}", None, "formula", "money"),
    ]
    counts_first = 4  # beside the list (K:M): a title row, the header, then the rows
    blocks = [
        income,
        projects,
        Block(
            "pf_project_counts",
            plist,
            counts_first,
            PROJECT_COUNT_ROWS,
            PROJECT_COUNT_COLUMNS,
            "project_counts",
        ),
        Block(
            "pf_project_subtotals",
            plist,
            SUBTOTALS_FIRST_ROW,
            SUBTOTAL_ROWS,
            SUBTOTAL_COLUMNS,
            "project_subtotals",
        ),
    ]
    row = SCORE_SHEET_FIRST_ROW
    group_rows: dict[str, int] = {}
    for top in profile.indicators:
        for leaf in _leaves(top):
            blocks.append(
                Block(
                    f"pf_ind_{code_name(leaf.code)}",
                    form,
                    row,
                    1,
                    DEPT_INDICATOR_COLUMNS,
                    "indicators",
                    {"code": leaf.code},
                )
            )
            row += 1
    row += 1  # blank line, then the 一级 summary (评分汇总) header, then its rows
    summary_header = row
    row += 1
    for top in profile.indicators:
        c = code_name(top.code)
        group_rows[top.code] = row
        cells += [
            Cell(f"pf_group_{c}_weight", form, f"B{row}", None, "constant", "score", "准则分值"),
            Cell(
                f"pf_group_{c}_score",
                form,
                f"C{row}",
                f"group_scores.{top.code}",
                "input",
                "score",
                "评价得分",
            ),
            Cell(f"pf_group_{c}_recomputed", form, f"D{row}", None, "formula", "score", "复算得分"),
            Cell(f"pf_group_{c}_grade", form, f"E{row}", None, "formula", "text", "评价等级"),
            Cell(
                f"pf_group_{c}_remark",
                form,
                f"F{row}",
                f"group_remarks.{top.code}",
                "input",
                "text",
                "评价概述",
                f"F{row}:H{row}",
            ),
        ]
        row += 1
    cells += [
        Cell("pf_total_weight", form, f"B{row}", None, "constant", "score", "分值"),
        Cell("pf_total_score", form, f"C{row}", "total_score", "input", "score", "总分（填报）"),
        Cell("pf_total_recomputed", form, f"D{row}", None, "formula", "score", "复算总分"),
        Cell("pf_grade", form, f"E{row}", "grade", "input", "text", "评价等级（填报）"),
        Cell(
            "pf_grade_recomputed",
            form,
            f"F{row}",
            None,
            "formula",
            "text",
            "复算等级",
            f"F{row}:H{row}",
        ),
    ]
    group_rows["_header"] = summary_header
    # 指标个数 a report states (Guangdong style), below the signature line: per 一级 and 全表
    row += 4
    group_rows["_counts"] = row
    for key in [top.code for top in profile.indicators] + ["all"]:
        row += 1
        cells += _count_cells(key, form, row, "BC", "DE")
    # 二级指标得分 a report states (a subtotal per 二级): below the counts
    row += 2
    group_rows["_seconds"] = row
    for node in second_levels(profile):
        row += 1
        c = code_name(node.code)
        cells += [
            Cell(f"pf_sub_{c}_weight", form, f"B{row}", None, "constant", "score", "分值"),
            Cell(
                f"pf_sub_{c}_score",
                form,
                f"C{row}",
                f"group_scores.{node.code}",
                "input",
                "score",
                "二级指标得分",
            ),
        ]
    for i, key in enumerate(DEPT_TEXTS):
        cells.append(
            Cell(
                f"pf_text_{i + 1}",
                texts,
                f"A{3 + 2 * i}",
                f"texts.{key}",
                "input",
                "longtext",
                key,
                f"A{3 + 2 * i}:F{3 + 2 * i}",
            )
        )
    cells += _banner_cells(form, "I")
    cells += _meta_cells()
    sheets = [info, money, plist, form, texts, AUDIT_SHEET, GUIDE_SHEET]
    return Layout(profile, sheets, cells, blocks, group_rows)


def second_levels(profile: Profile) -> list[Node]:
    """The 二级 (and deeper) indicators that have indicators under them: a department table
    states a score for each beside its 三级 rows."""
    return [n for top in profile.indicators for _, n in _inner(top) if n is not top]


def _inner(node: Node) -> list[tuple[int, Node]]:
    if not node.children:
        return []
    return [(0, node)] + [x for c in node.children for x in _inner(c)]


def _leaves(node: Node) -> list[Node]:
    if not node.children:
        return [node]
    return [leaf for c in node.children for leaf in _leaves(c)]


def layout_for(
    profile: Profile,
    *,
    rows_per_group: int | dict[str, int] = DEFAULT_ROWS_PER_GROUP,
    project_rows: int = DEFAULT_PROJECT_ROWS,
    income_rows: int = DEFAULT_INCOME_ROWS,
) -> Layout:
    """The layout of a profile's template. Row counts are template options, not profile data:
    `rows_per_group` may map a 二级 code to its own row count (a filing with more 三级)."""
    if profile.kind == "project":
        return _project_layout(profile, rows_per_group)
    return _dept_layout(profile, project_rows, income_rows)


def weight_of(profile: Profile, code: str) -> Decimal | None:
    node = profile.node(code)
    return None if node is None else node.weight
