"""Workbook integrity (表样完整性): rules about the file itself, not the figures in it.

They apply only when the filing was read from a workbook. The facts they judge are gathered
once while the workbook is open (perfxl.workbook.facts.inspect_workbook) and passed in the
check context; the rules here only turn them into findings, so `perfxl rules` lists them
with the others and every report says whether each passed.

INTEG-FILE, INTEG-TEMPLATE and INTEG-NAMES are refusals: a file failing them cannot be read
at all (exit code 2, listed under the file's problems with the code); a file that was read
has passed them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..findings import Scope, Severity
from ..model import Filing
from ..profile import Profile
from ..scoring import ScoreResult
from .base import Context, Hit, Rule

FORMULA = "INTEG-FORMULA"
FORMULA_EDITED = "INTEG-FORMULA-EDITED"
STALE = "INTEG-STALE"
ERROR_VALUE = "INTEG-ERROR-VALUE"
CELL_VALUE = "INTEG-CELL-VALUE"
READ_NOTE = "INTEG-READ-NOTE"
REFUSALS = ("INTEG-FILE", "INTEG-TEMPLATE", "INTEG-NAMES")
ERROR_VALUES = ("#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!")


@dataclass(frozen=True)
class CellIssue:
    """One fact about one cell, ready to become a finding."""

    sheet: str
    cell: str
    path: str  # the field path when the cell holds one, else "Sheet!A1"
    message: str
    name: str | None = None
    expected: object = None
    actual: object = None


@dataclass
class WorkbookFacts:
    """What the integrity rules judge, gathered from one workbook by rule code."""

    file: str
    issues: dict[str, list[CellIssue]] = field(default_factory=dict)
    recalculated: list[str] = field(default_factory=list)  # field paths given the engine's value

    def add(self, code: str, issue: CellIssue) -> None:
        self.issues.setdefault(code, []).append(issue)


def _facts(ctx: Context) -> WorkbookFacts | None:
    wb = ctx.workbook
    return wb if isinstance(wb, WorkbookFacts) else None


def _from_workbook(filing: Filing, profile: Profile, ctx: Context) -> bool:
    return _facts(ctx) is not None


def _hits(code: str):
    def check(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
        facts = _facts(ctx)
        for i in facts.issues.get(code, []) if facts else []:
            yield Hit(
                i.path,
                i.message,
                expected=i.expected,
                actual=i.actual,
                sheet=i.sheet,
                cell=i.cell,
                name=i.name,
            )

    return check


def _passed(filing: Filing, profile: Profile, result: ScoreResult, ctx: Context) -> Iterator[Hit]:
    """A refusal: a workbook that reached the checks has passed it."""
    return iter(())


WORKBOOK = "读自工作簿时"
REFUSED = "读自工作簿时（不通过则文件无法审核，退出码 2）"


def _rule(code: str, severity: Severity, title: str, applies: str = WORKBOOK) -> Rule:
    check = _passed if code in REFUSALS else _hits(code)
    return Rule(code, severity, Scope.TABLE, title, applies, check=check, relevant=_from_workbook)


RULES: tuple[Rule, ...] = (
    _rule(
        "INTEG-FILE",
        Severity.BLOCKING,
        "文件是可读取的 .xlsx/.xlsm 工作簿（不是旧版 .xls，未加密、未损坏，大小正常）",
        REFUSED,
    ),
    _rule(
        "INTEG-TEMPLATE",
        Severity.BLOCKING,
        "工作簿用 perfxl 模板填写：模板信息完整，模板格式版本可以读取，评价框架已知",
        REFUSED,
    ),
    _rule(
        "INTEG-NAMES",
        Severity.BLOCKING,
        "定义名称齐全并指向现有的工作表，各区域没有插入或删除列",
        REFUSED,
    ),
    _rule(
        FORMULA,
        Severity.BLOCKING,
        "模板中的公式单元格（执行率、得分、总分、等级、占比、复算列等）仍是公式，没有改填数值或文字、没有清空",
    ),
    _rule(FORMULA_EDITED, Severity.WARNING, "公式单元格的公式与模板相同（没有被改写）"),
    _rule(
        STALE,
        Severity.WARNING,
        "公式单元格保存的计算结果与按填报内容复算的结果一致（到分）；不一致时按复算结果审核",
    ),
    _rule(
        ERROR_VALUE,
        Severity.BLOCKING,
        "表中没有 Excel 错误值（#DIV/0!、#REF!、#VALUE!、#NAME?、#N/A、#NUM!、#NULL!）",
    ),
    _rule(
        CELL_VALUE,
        Severity.BLOCKING,
        "单元格内容可以识别：数字在自评表可处理的范围内，项目级次为规定写法，行在区域之内并属于某个指标",
    ),
    _rule(
        READ_NOTE,
        Severity.WARNING,
        "读取时按推断处理的内容须核实（如按元填写的金额、按年度指标值推断的指标性质）",
    ),
)
