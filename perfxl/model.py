"""The filing: one filled table as plain typed values, independent of any workbook library.

Checks and scoring work on this model only, so the same code serves a file on disk, a live
Excel book and a bureau's batch. Where each value came from is kept in `sources`, keyed by
its field path (e.g. "funds.total.budget", "indicators.3.actual"), so a finding can point
at a cell without the values themselves carrying workbook baggage.

Field paths are dotted, with list positions as numbers: "header.name", "funds.total.budget",
"indicators.3.actual", "group_scores.2", "finance.income.0.amount", "projects.1.spent",
"texts.存在问题". The same paths key `sources`, name the target of a finding, and are what
template layouts map to cells and defined names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .profile import Direction

Money = Annotated[Decimal, Field(allow_inf_nan=False, description="万元")]
Num = Annotated[Decimal, Field(allow_inf_nan=False)]
Pct = Annotated[Decimal, Field(allow_inf_nan=False, description="百分数，95 表示 95%")]

FILING_FORMAT = "perfxl-filing/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _titled(title: str) -> Any:
    """A dataclass field (default None) with the title the published schema shows."""
    return field(default=None, metadata={"title": title})


# Where a value was read. A plain dataclass, not a model: a large department list has ten
# thousand of them, and the filing's validation builds them four times faster so (the
# filing's config still forbids unknown keys). Docstrings of the filing's classes are the
# published schema's descriptions, in the users' language.
@dataclass(slots=True)
class Source:
    """数值的来源位置：文件、工作表、单元格和/或定义名称。"""

    file: str | None = _titled("文件")
    sheet: str | None = _titled("工作表")
    cell: str | None = _titled("单元格（A1）")
    name: str | None = _titled("定义名称")
    # what a number cell held when it was text (Excel does not compute with it; the checks
    # see the cell as Excel does: perfxl.rules.base.FilingEnv)
    text: str | None = _titled("数字单元格中填写的文字（原样）")

    def label(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else (self.cell or "")
        if self.name:
            where = f"{where}（{self.name}）" if where else self.name
        return where


class Header(_Model):
    """表头：项目或部门（单位）名称、主管部门、实施单位、年度。"""

    name: str = Field("", title="项目名称 / 部门（单位）名称")
    department: str | None = Field(None, title="主管部门")
    unit: str | None = Field(None, title="实施单位 / 预算单位")
    unit_code: str | None = Field(None, title="单位编码")
    year: int = Field(..., ge=2000, le=2100, title="年度")


class FundLine(_Model):
    """一行资金（万元）：年初预算数、全年预算数、全年执行数，及填报的执行率和得分。"""

    initial: Money | None = Field(None, title="年初预算数")
    budget: Money | None = Field(None, title="全年预算数（调整预算）")
    executed: Money | None = Field(None, title="全年执行数（实际支出）")
    rate: Pct | None = Field(None, title="执行率（填报）")
    score: Num | None = Field(None, title="得分（填报）")


class Funds(_Model):
    """资金情况（万元）：年度资金总额及其中当年财政拨款、上年结转资金、其他资金。"""

    total: FundLine = Field(default_factory=FundLine, title="年度资金总额")
    fiscal: FundLine = Field(default_factory=FundLine, title="其中：当年财政拨款")
    carryover: FundLine = Field(default_factory=FundLine, title="上年结转资金")
    other: FundLine = Field(default_factory=FundLine, title="其他资金")


FUND_LINES: dict[str, str] = {
    "total": "年度资金总额",
    "fiscal": "当年财政拨款",
    "carryover": "上年结转资金",
    "other": "其他资金",
}


class Indicator(_Model):
    """一项评分的三级指标。code 为它在评价框架中的指标编码：项目支出表为其所在的二级指标
    （三级指标由单位自定），部门整体表为三级指标本身。"""

    code: str = Field(..., title="所属指标编码")
    name: str | None = Field(None, title="三级指标名称")
    direction: Direction | None = Field(None, title="指标性质")
    unit: str | None = Field(None, title="度量单位")
    target: Num | None = Field(None, title="年度指标值（数值）")
    target_text: str | None = Field(None, title="年度指标值（原文或定性描述）")
    target_initial: Num | None = Field(None, title="年初指标值（年中调整过目标时）")
    actual: Num | None = Field(None, title="实际完成值（数值）")
    actual_text: str | None = Field(None, title="实际完成值（定性评价用语或原文）")
    weight: Num | None = Field(None, title="分值")
    score: Num | None = Field(None, title="得分（填报）")
    explanation: str | None = Field(None, title="偏差原因分析及改进措施 / 扣分原因")
    applicable: bool = Field(True, title="是否适用（不适用时按百分制折算）")


class IncomeLine(_Model):
    """收入（按来源）的一行：来源、金额、占收入合计比例。"""

    name: str = Field(..., title="收入来源")
    amount: Money | None = Field(None, title="金额")
    share: Pct | None = Field(None, title="占收入合计比例（填报）")


class Finance(_Model):
    """收支情况（部门整体支出）。"""

    income: list[IncomeLine] = Field(default_factory=list, title="收入（按来源）")
    income_total: Money | None = Field(None, title="收入合计")
    basic: Money | None = Field(None, title="基本支出")
    project: Money | None = Field(None, title="项目支出")
    expenditure_total: Money | None = Field(None, title="支出合计")
    basic_share: Pct | None = Field(None, title="基本支出占比（填报）")
    project_share: Pct | None = Field(None, title="项目支出占比（填报）")


class Project(_Model):
    """项目支出明细的一行：一级项目，或 parent 之下的二级项目。unit 为项目所属单位：空为部门
    本级，否则为下属单位（及其编码）。二级项目的上级是同一单位中同名的一级项目：两个单位可以
    各有一个名为“运行经费”的一级项目。"""

    name: str = Field(..., title="项目名称")
    level: Literal[1, 2] = Field(1, title="项目级次")
    parent: str | None = Field(None, title="所属一级项目")
    initial: Money | None = Field(None, title="年初预算")
    adjusted: Money | None = Field(None, title="调整预算")
    spent: Money | None = Field(None, title="实际支出")
    rate: Pct | None = Field(None, title="执行率（填报）")
    unit: str | None = Field(None, title="所属单位（空为本级）")
    unit_code: str | None = Field(None, title="所属单位编码")


class StatedCounts(_Model):
    """报告中填报的指标个数（如广东省表中的指标个数和满分个数）。"""

    indicators: int | None = Field(None, ge=0, title="末级指标个数（填报）")
    full_marks: int | None = Field(None, ge=0, title="得满分的末级指标个数（填报）")


class ProjectCount(_Model):
    """报告中填报的项目个数：部门合计、部门本级或一个下属单位，如“一级项目 6 个，二级项目 21 个”。"""

    unit: str = Field(..., title="单位（合计 / 本级 / 下属单位名称）")
    first: int | None = Field(None, ge=0, title="一级项目个数（填报）")
    second: int | None = Field(None, ge=0, title="二级项目个数（填报）")


class UnitSubtotal(_Model):
    """报告中填报的项目支出小计：部门本级或一个下属单位的一级项目在各金额列的合计。"""

    unit: str = Field(..., title="单位（本级 / 下属单位名称）")
    initial: Money | None = Field(None, title="年初预算小计（填报）")
    adjusted: Money | None = Field(None, title="调整预算小计（填报）")
    spent: Money | None = Field(None, title="实际支出小计（填报）")


TOTAL_UNIT = "合计"  # ProjectCount.unit of the department as a whole
OWN_UNIT = "本级"  # the department itself: project rows with no unit


class Filing(_Model):
    """一份填好的自评表（项目支出或部门整体支出）。"""

    format: Literal["perfxl-filing/1"] = Field(FILING_FORMAT, title="文件格式")
    profile: str = Field(..., title="评价框架")
    profile_version: str | None = Field(None, title="评价框架版本")
    header: Header = Field(..., title="表头")
    funds: Funds = Field(default_factory=Funds, title="资金情况（万元）")
    goal_expected: str | None = Field(None, title="年度总体目标：预期目标")
    goal_actual: str | None = Field(None, title="年度总体目标：实际完成情况")
    indicators: list[Indicator] = Field(default_factory=list, title="指标")
    group_scores: dict[str, Num] = Field(default_factory=dict, title="一级、二级指标得分（填报）")
    group_remarks: dict[str, str] = Field(
        default_factory=dict, title="评价概述 / 说明（按指标编码）"
    )
    total_score: Num | None = Field(None, title="总分（填报）")
    grade: str | None = Field(None, title="评价等级（填报）")
    finance: Finance | None = Field(None, title="收支情况（部门整体）")
    projects: list[Project] = Field(default_factory=list, title="项目支出明细（部门整体）")
    project_counts: list[ProjectCount] = Field(
        default_factory=list, title="项目个数（填报；合计、本级、各下属单位）"
    )
    project_subtotals: list[UnitSubtotal] = Field(
        default_factory=list, title="项目支出小计（填报；本级、各下属单位）"
    )
    counts: dict[str, StatedCounts] = Field(
        default_factory=dict, title="指标个数（填报；键为一级指标编码，all 为全表）"
    )
    texts: dict[str, str] = Field(
        default_factory=dict, title="文字部分（评价结论、存在问题、改进措施等）"
    )
    sources: dict[str, Source] = Field(default_factory=dict, title="各项数值的来源位置")

    def where(self, path: str) -> Source | None:
        return self.sources.get(path)

    def value(self, path: str) -> object:
        """The value at a field path ("funds.total.budget", "indicators.3.actual",
        "group_scores.1.1", "texts.存在问题"); None when any step is absent. Dict keys may
        themselves contain dots (indicator codes such as "1.1"): the longest key wins."""
        parts = path.split(".")
        cur: object = self
        i = 0
        while i < len(parts):
            if cur is None:
                return None
            if isinstance(cur, dict):
                for j in range(len(parts), i, -1):
                    key = ".".join(parts[i:j])
                    if key in cur:
                        cur, i = cur[key], j
                        break
                else:
                    return None
                continue
            part = parts[i]
            if isinstance(cur, list):
                k = int(part) if part.isdigit() else -1
                cur = cur[k] if 0 <= k < len(cur) else None
            else:
                cur = getattr(cur, part, None)
            i += 1
        return cur


def filing_json_schema() -> dict:
    """JSON Schema of the filing format, published by `perfxl schema`."""
    schema = Filing.model_json_schema()
    # descriptions are the classes' docstrings, wrapped at the source's line length: a
    # line break inside a Chinese sentence is not a space, so the lines are joined
    for part in (schema, *schema.get("$defs", {}).values()):
        if "description" in part:
            part["description"] = re.sub(r"\s*\n\s*", "", part["description"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:perfxl:filing:1"
    return schema
