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

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .profile import Direction

Money = Annotated[Decimal, Field(allow_inf_nan=False, description="万元")]
Num = Annotated[Decimal, Field(allow_inf_nan=False)]
Pct = Annotated[Decimal, Field(allow_inf_nan=False, description="百分数，95 表示 95%")]

FILING_FORMAT = "perfxl-filing/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A plain dataclass, not a model: a large department list has ten thousand of them, and
# the filing's validation builds them four times faster so (the filing's config still
# forbids unknown keys). Its docstring is the published schema's description.
@dataclass(slots=True)
class Source:
    """Where a value was read: file, sheet, A1 cell and/or defined name."""

    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None
    # what a number cell held when it was text (Excel does not compute with it; the checks
    # see the cell as Excel does: perfxl.rules.base.FilingEnv)
    text: str | None = None

    def label(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else (self.cell or "")
        if self.name:
            where = f"{where}（{self.name}）" if where else self.name
        return where


class Header(_Model):
    name: str = Field("", title="项目名称 / 部门（单位）名称")
    department: str | None = Field(None, title="主管部门")
    unit: str | None = Field(None, title="实施单位 / 预算单位")
    unit_code: str | None = Field(None, title="单位编码")
    year: int = Field(..., ge=2000, le=2100, title="年度")


class FundLine(_Model):
    initial: Money | None = Field(None, title="年初预算数")
    budget: Money | None = Field(None, title="全年预算数（调整预算）")
    executed: Money | None = Field(None, title="全年执行数（实际支出）")
    rate: Pct | None = Field(None, title="执行率（填报）")
    score: Num | None = Field(None, title="得分（填报）")


class Funds(_Model):
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
    """A scored indicator. `code` is the profile node it belongs to: for a project table the
    二级 it sits under (the unit names the 三级 itself), for a department table the 三级."""

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
    name: str = Field(..., title="收入来源")
    amount: Money | None = Field(None, title="金额")
    share: Pct | None = Field(None, title="占收入合计比例（填报）")


class Finance(_Model):
    """收支情况 of a department filing."""

    income: list[IncomeLine] = Field(default_factory=list, title="收入（按来源）")
    income_total: Money | None = Field(None, title="收入合计")
    basic: Money | None = Field(None, title="基本支出")
    project: Money | None = Field(None, title="项目支出")
    expenditure_total: Money | None = Field(None, title="支出合计")
    basic_share: Pct | None = Field(None, title="基本支出占比（填报）")
    project_share: Pct | None = Field(None, title="项目支出占比（填报）")


class Project(_Model):
    """A line of 项目支出明细: a 一级项目, or a 二级项目 under `parent`.

    `unit` is the unit the project belongs to: blank for the department itself (本级), or
    a named 下属单位 (with its code). A 二级项目's parent is the 一级项目 of that name in the
    same unit: two units may each have a 一级项目 called 运行经费."""

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
    """Counts a published report states (e.g. Guangdong's 指标个数 and 满分个数)."""

    indicators: int | None = Field(None, ge=0, title="末级指标个数（填报）")
    full_marks: int | None = Field(None, ge=0, title="得满分的末级指标个数（填报）")


class ProjectCount(_Model):
    """项目个数 a report states for the department (unit 合计), the department itself (本级)
    or one 下属单位: "一级项目 6 个，二级项目 21 个"."""

    unit: str = Field(..., title="单位（合计 / 本级 / 下属单位名称）")
    first: int | None = Field(None, ge=0, title="一级项目个数（填报）")
    second: int | None = Field(None, ge=0, title="二级项目个数（填报）")


class UnitSubtotal(_Model):
    """项目支出小计 a report states for the department itself (本级) or one 下属单位: the sum
    of that unit's 一级项目 in each money column."""

    unit: str = Field(..., title="单位（本级 / 下属单位名称）")
    initial: Money | None = Field(None, title="年初预算小计（填报）")
    adjusted: Money | None = Field(None, title="调整预算小计（填报）")
    spent: Money | None = Field(None, title="实际支出小计（填报）")


TOTAL_UNIT = "合计"  # ProjectCount.unit of the department as a whole
OWN_UNIT = "本级"  # the department itself: project rows with no unit


class Filing(_Model):
    """One filled self-evaluation table (项目支出 or 部门整体支出)."""

    format: Literal["perfxl-filing/1"] = Field(FILING_FORMAT, title="文件格式")
    profile: str = Field(..., title="评价框架")
    profile_version: str | None = Field(None, title="评价框架版本")
    header: Header
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
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:perfxl:filing:1"
    return schema
