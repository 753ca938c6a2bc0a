"""The 校验 / 评分 / 清除标记 buttons of an .xlsm template, and the texts their macros show.

The VBA sources (macros/*.bas) are ASCII because the VBA project uses code page 1252, so
every Chinese text a macro shows lives in the workbook instead: a key/text table on the very
hidden sheet ``_perfxl`` under the defined name ``pf_messages`` (column 1 key, column 2
text). One macro set thus serves every profile, and a bureau can reword a message by editing
MESSAGES. perfxl.excel (the Python side of 评分) writes the same sheets with the same texts.

The sheets the buttons write (contract shared by macros/*.bas and perfxl.excel):

* 审核结果 (MESSAGES["result_sheet"]): A1 a one-line summary; row 2 the headers
  序号 · 编码 · 级别 · 说明 · 位置; from row 3 one row per problem, 位置 linking to the cell.
  Hidden columns J:K from row 3 record each cell a button coloured and the fill it had
  before (a VBA colour number, BGR; -4142 = no fill), so 清除标记 restores them exactly
  (in reverse order, so a cell marked twice gets its first fill back). J1 receives the
  number of problems listed, written LAST: a run that stopped half way leaves it blank.
* 评分结果 (MESSAGES["score_sheet"], 评分 only): the recomputed score table.

The live 审核 sheet is found by its name and its header texts (序号 … 位置 in one row of its
first 30), so it needs no extra defined name; its 结果 column holds 通过 / 已说明 / 错误 / 提示 or ""
(not applicable), and 位置 shows ``sheet!A1`` of the cell a check points at.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .layout import AUDIT_SHEET, Layout

__all__ = [
    "BUTTONS",
    "FIRST_ROW",
    "MARKER_CELL",
    "MARK_COLOR",
    "MARK_COLUMNS",
    "MESSAGES",
    "MESSAGES_NAME",
    "NO_FILL",
    "RESULT_HEADERS",
    "SCORE_HEADERS",
    "SCORE_WIDTHS",
    "add_buttons",
    "button_anchor",
    "write_messages",
]

MESSAGES_NAME = "pf_messages"
MESSAGES_COLUMN = 3  # D:E of the very hidden sheet (A:B hold the meta cells, V:Z helpers)

# The results sheet (see the module docstring); the VBA modules use the same numbers.
FIRST_ROW = 3
MARK_COLUMNS = ("J", "K")
MARKER_CELL = "J1"
NO_FILL = -4142  # xlNone
MARK_COLOR = 0x99CCFF  # VBA colour number (BGR) of RGB(255, 204, 153), a light orange

MESSAGES: dict[str, str] = {
    "button_validate": "校验",
    "button_score": "评分",
    "button_clear": "清除标记",
    "audit_sheet": AUDIT_SHEET,
    "result_sheet": "审核结果",
    "score_sheet": "评分结果",
    "head_no": "序号",
    "head_code": "编码",
    "head_level": "级别",
    "head_result": "结果",
    "head_message": "说明",
    "head_place": "位置",
    "word_pass": "通过",
    "word_explained": "已说明",
    "word_error": "错误",
    "word_warning": "提示",
    "level_explained": "提示性（已说明）",
    "result_hint": "点表单右上角的“校验”或“评分”按钮后，这里列出未通过的审核项。",
    "score_hint": "点表单右上角的“评分”按钮后，这里列出按评分规则复算的得分。",
    "validate_pass": "校验通过：审核表各项均已通过。",
    "validate_problems": "发现 {n} 个问题（错误 {errors} 个，提示 {warnings} 个），已列在“审核结果”表，"
    "所在单元格已标色。“错误”须改正；“提示”请核实，确属正常的在说明栏写明原因。改好后请再点“校验”。",
    "cleared": "已清除标记和审核结果清单。",
    "no_audit": "找不到“审核”表或它的表头，无法校验。请使用财政局下发的原模板填报。",
    "macro_error": "按钮运行出错：{err}。请把本工作簿和这条提示发给财政局绩效科。",
    "score_missing": "“评分”没有完成。评分要在本机安装 Python、perfxl 和 xlwings 加载项：\n"
    "1. 安装 Python 3.11 或更高版本；\n"
    "2. 在“命令提示符”（Mac：“终端”）中运行 pip install perfxl xlwings；\n"
    "3. 运行 xlwings addin install，然后重新打开 Excel。\n"
    "如果刚才弹出过 Python 的错误窗口，请把其中的内容发给财政局绩效科。\n"
    "“校验”按钮不需要 Python，可以照常使用；WPS 不能使用“评分”。",
    "score_done": "评分完成：复算总分 {total}，等级 {grade}。发现 {n} 个问题（错误 {errors} 个，"
    "提示 {warnings} 个），详见“审核结果”表；各项得分见“评分结果”表。",
    "score_unusable": "无法评分：工作簿不能读取，原因见“审核结果”表。",
    "save_first": "请先保存工作簿（⌘S），再点“评分”。",
    "score_title": "评分结果：{name}（{year}年度）",
    "head_indicator": "指标",
    "head_weight": "分值",
    "head_recomputed": "复算得分",
    "head_stated": "填报得分",
    "head_note": "说明",
    "total": "总分",
    "grade": "评价等级",
    "execution_rate": "预算执行率",
}

SCORE_WIDTHS = (8, 34, 8, 10, 10, 44)  # 评分结果 columns A:F, as SCORE_HEADERS
RESULT_HEADERS = ("head_no", "head_code", "head_level", "head_message", "head_place")
SCORE_HEADERS = (
    "head_code",
    "head_indicator",
    "head_weight",
    "head_recomputed",
    "head_stated",
    "head_note",
)
# (caption key, macro): the Sub names in macros/*.bas
BUTTONS = (
    ("button_validate", "Validate"),
    ("button_score", "Score"),
    ("button_clear", "ClearMarks"),
)
BUTTON_WIDTH, BUTTON_HEIGHT, BUTTON_GAP = 84, 28, 6  # pixels


def write_messages(workbook: Workbook, meta_worksheet: Worksheet) -> None:
    """Write MESSAGES as key/text rows on the meta sheet and name them ``pf_messages``."""
    for i, (key, text) in enumerate(MESSAGES.items()):
        meta_worksheet.write_string(i, MESSAGES_COLUMN, key)
        meta_worksheet.write_string(i, MESSAGES_COLUMN + 1, text)
    first = xl_rowcol_to_cell(0, MESSAGES_COLUMN, row_abs=True, col_abs=True)
    last = xl_rowcol_to_cell(len(MESSAGES) - 1, MESSAGES_COLUMN + 1, row_abs=True, col_abs=True)
    sheet = "'" + meta_worksheet.name.replace("'", "''") + "'"
    workbook.define_name(MESSAGES_NAME, f"={sheet}!{first}:{last}")


def button_anchor(layout: Layout) -> str:
    """Top-left cell of the buttons: beside the 审核 banner (pf_audit_errors), outside the
    print area of the form sheet."""
    row, col = xl_cell_to_rowcol(layout.cell("pf_audit_errors").ref)
    return xl_rowcol_to_cell(row, col + 1)


def add_buttons(
    workbook: Workbook, worksheet: Worksheet, layout: Layout, *, anchor_cell: str | None = None
) -> None:
    """Insert the 校验 / 评分 / 清除标记 form buttons, side by side from `anchor_cell`
    (default: button_anchor(layout)), bound to the macros of macros/*.bas, and an empty
    审核结果 sheet for them to fill (the macros create it when a unit deleted it, but not
    every host's VBA can add sheets reliably).

    The workbook must carry the VBA project (Workbook.add_vba_project) and be saved as .xlsm.
    """
    if getattr(workbook, "vba_project", None) is None:
        raise ValueError("add_buttons needs a workbook with a VBA project (add_vba_project)")
    if workbook.get_worksheet_by_name(MESSAGES["result_sheet"]) is None:
        _result_sheet(workbook)
    if workbook.get_worksheet_by_name(MESSAGES["score_sheet"]) is None:
        _score_sheet(workbook)
    row, col = xl_cell_to_rowcol(anchor_cell or button_anchor(layout))
    for i, (key, macro) in enumerate(BUTTONS):
        options: dict[str, Any] = {
            "macro": macro,
            "caption": MESSAGES[key],
            "width": BUTTON_WIDTH,
            "height": BUTTON_HEIGHT,
            "x_offset": 2 + i * (BUTTON_WIDTH + BUTTON_GAP),
            "y_offset": 4,
        }
        worksheet.insert_button(row, col, options)


def _result_sheet(workbook: Workbook) -> None:
    ws = workbook.add_worksheet(MESSAGES["result_sheet"])
    for col, width in zip("ABCDE", (6, 22, 16, 72, 28), strict=True):
        ws.set_column(f"{col}:{col}", width)
    ws.set_column(f"{MARK_COLUMNS[0]}:{MARK_COLUMNS[-1]}", None, None, {"hidden": True})
    bold = workbook.add_format({"bold": True, "border": 1, "align": "center"})
    ws.write_string(0, 0, MESSAGES["result_hint"])
    for i, key in enumerate(RESULT_HEADERS):
        ws.write_string(FIRST_ROW - 2, i, MESSAGES[key], bold)
    # printed as the findings are listed: A4 landscape, the five columns on the page's width
    # (not the hidden marks), the header row on every page
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, 1_048_575, len(RESULT_HEADERS) - 1)  # whole columns A:E
    ws.repeat_rows(FIRST_ROW - 2)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.set_footer("&C&A　第 &P 页，共 &N 页")


def _score_sheet(workbook: Workbook) -> None:
    """An empty 评分结果 sheet, set up for printing: the 评分 button fills it (clearing the
    contents keeps the page setup, in Excel as in a file; perfxl.excel sets it up again on a
    sheet it has to create)."""
    ws = workbook.add_worksheet(MESSAGES["score_sheet"])
    for i, width in enumerate(SCORE_WIDTHS):
        ws.set_column(i, i, width)
    ws.write_string(0, 0, MESSAGES["score_hint"])
    # A4 portrait, the six columns on the page's width, the header row on every page
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, 1_048_575, len(SCORE_HEADERS) - 1)  # whole columns A:F
    ws.repeat_rows(1)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
