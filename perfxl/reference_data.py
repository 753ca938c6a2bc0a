"""The finance bureau's own figures a filing must agree with: approved budgets (--budget)
and approved performance targets (--targets), read from CSV, XLSX or YAML/JSON tables.

Budget columns (Chinese or English header): 单位编码 unit_code · 名称 name (the filing's
项目名称 / 单位名称) · 项目 / 项目名称 project (a line of a department's project list; for
a project table it may hold the project's own name) · 年初预算 initial · 调整预算 budget ·
执行数 executed. Target columns: 单位编码 unit_code · 项目名称 name · 指标名称 indicator ·
年度指标值 target · 年初指标值 target_initial · 调整指标值 target_adjusted. Columns left out
are simply not compared; numbers are read exactly (full-width digits, 千分位 commas).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .dataio import load_data, read_csv_text
from .errors import InputError, Problem
from .numtext import NumberTextError, parse_number

BUDGET_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit_code": ("unit_code", "单位编码", "单位代码", "预算单位编码"),
    "name": ("name", "名称", "单位名称", "自评表名称"),
    "project": ("project", "项目", "项目名称"),
    "initial": ("initial", "年初预算", "年初预算数"),
    "budget": ("budget", "adjusted", "调整预算", "调整预算数", "全年预算数", "全年预算"),
    "executed": ("executed", "spent", "执行数", "全年执行数", "实际支出", "决算支出"),
}
TARGET_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit_code": ("unit_code", "单位编码", "单位代码"),
    "name": ("name", "项目名称", "名称"),
    "indicator": ("indicator", "指标名称", "三级指标", "三级指标名称", "指标"),
    "target": ("target", "年度指标值", "指标值"),
    "target_initial": ("target_initial", "年初指标值"),
    "target_adjusted": ("target_adjusted", "调整指标值", "调整后指标值"),
}
MONEY = ("initial", "budget", "executed")
Cell = Decimal | str | None


@dataclass(frozen=True)
class BudgetRow:
    line: int
    unit_code: str | None
    name: str | None
    project: str | None
    initial: Decimal | None
    budget: Decimal | None
    executed: Decimal | None


@dataclass(frozen=True)
class BudgetData:
    file: str
    columns: frozenset[str]
    rows: tuple[BudgetRow, ...]


@dataclass(frozen=True)
class TargetRow:
    line: int
    unit_code: str | None
    name: str | None
    indicator: str
    target: Cell
    target_initial: Cell
    target_adjusted: Cell

    def approved(self) -> tuple[Cell, str]:
        """The target in force: the adjusted one when there is one."""
        if self.target_adjusted is not None:
            return self.target_adjusted, "调整指标值"
        if self.target is not None:
            return self.target, "年度指标值"
        return self.target_initial, "年初指标值"


@dataclass(frozen=True)
class TargetData:
    file: str
    rows: tuple[TargetRow, ...]


def clean(text: object) -> str | None:
    """Names compared as a person reads them: NFKC, no surrounding or inner spaces."""
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"\s+", "", s)
    return s or None


_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")


def number_in(value: Cell) -> Decimal | None:
    """The number of a target such as "≥98%", "≤90 元/百幅面" or 100; None for a text
    target ("数字档案长期可读、可用")."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    m = _NUMBER.search(unicodedata.normalize("NFKC", value))
    return Decimal(m.group().replace(",", "")) if m else None


# ------------------------------------------------------------------------- reading


def _rows_of(path: Path) -> list[dict[str, object]]:
    """The table as one dict per data row, keyed by the header text."""
    name = str(path)
    if not path.exists():
        raise InputError(Problem(name, "", "文件不存在 (file not found)"))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        data, _ = load_data(path)
        if isinstance(data, dict) and isinstance(data.get("rows"), list):
            data = data["rows"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(
                Problem(name, "", "内容应为表格：每行一个键值表的列表（或 rows: 列表）")
            )
        return [{str(k): v for k, v in r.items()} for r in data]
    if suffix == ".csv":
        table = list(csv.reader(io.StringIO(read_csv_text(path))))
    elif suffix in (".xlsx", ".xlsm"):
        from python_calamine import CalamineError, CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            table = book.get_sheet_by_index(0).to_python(skip_empty_area=True)
        except (CalamineError, OSError, ValueError) as exc:
            raise InputError(Problem(name, "", f"工作簿无法读取：{exc}")) from exc
    else:
        raise InputError(
            Problem(name, "", "不认识的文件类型：应为 .csv、.xlsx 或 .yaml/.json 表格")
        )
    table = [r for r in table if any(c not in (None, "") for c in r)]
    if not table:
        raise InputError(Problem(name, "", "表格是空的"))
    header = [str(h).strip() if h is not None else "" for h in table[0]]
    return [dict(zip(header, r, strict=False)) for r in table[1:]]


def _columns(rows: list[dict[str, object]], known: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Our column key → the header used in the file."""
    headers: list[str] = []
    for r in rows:
        headers.extend(h for h in r if h not in headers)
    found = {}
    for key, aliases in known.items():
        for h in headers:
            if clean(h) in {clean(a) for a in aliases} or h.lower() == key:
                found[key] = h
                break
    return found


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a code typed as a number in Excel: 901001.0 → "901001"
    s = str(v).strip()
    return s or None


def _number(v: object, file: str, line: int, header: str) -> Decimal | None:
    if isinstance(v, str) and clean(v) in (None, "—", "-", "－"):
        return None
    try:
        return parse_number(v)
    except NumberTextError as exc:
        raise InputError(Problem(file, f"第 {line} 行「{header}」列", exc.reason_zh)) from exc


def _cell(v: object) -> Cell:
    """A target as written: a number stays exact, text stays text."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, str):
        return v.strip()
    try:
        return parse_number(v)
    except NumberTextError:
        return str(v)


def load_budget(path: Path) -> BudgetData:
    path = Path(path)
    file = str(path)
    rows = _rows_of(path)
    cols = _columns(rows, BUDGET_COLUMNS)
    if not ({"unit_code", "name", "project"} & cols.keys()):
        raise InputError(
            Problem(file, "表头", "缺少 单位编码 或 名称（项目名称）列，无法对应到自评表")
        )
    if not (set(MONEY) & cols.keys()):
        raise InputError(Problem(file, "表头", "缺少 年初预算、调整预算、执行数 中的任何一列"))
    out = []
    for i, r in enumerate(rows, start=2):
        money = {k: _number(r.get(cols[k]), file, i, cols[k]) if k in cols else None for k in MONEY}
        out.append(
            BudgetRow(
                i,
                _text(r.get(cols["unit_code"])) if "unit_code" in cols else None,
                clean(r.get(cols["name"])) if "name" in cols else None,
                clean(r.get(cols["project"])) if "project" in cols else None,
                money["initial"],
                money["budget"],
                money["executed"],
            )
        )
    return BudgetData(file, frozenset(k for k in MONEY if k in cols), tuple(out))


def load_targets(path: Path) -> TargetData:
    path = Path(path)
    file = str(path)
    rows = _rows_of(path)
    cols = _columns(rows, TARGET_COLUMNS)
    missing = [k for k in ("indicator",) if k not in cols]
    if missing or not ({"name", "unit_code"} & cols.keys()):
        raise InputError(
            Problem(
                file, "表头", "应有 项目名称（或 单位编码）和 指标名称 列，以及 年度指标值 等列"
            )
        )
    if not ({"target", "target_initial", "target_adjusted"} & cols.keys()):
        raise InputError(
            Problem(file, "表头", "缺少 年度指标值、年初指标值、调整指标值 中的任何一列")
        )
    out = []
    for i, r in enumerate(rows, start=2):
        indicator = clean(r.get(cols["indicator"]))
        if indicator is None:
            raise InputError(Problem(file, f"第 {i} 行", "指标名称为空"))

        def get(key: str, r: dict[str, object] = r) -> Cell:
            return _cell(r.get(cols[key])) if key in cols else None

        out.append(
            TargetRow(
                i,
                _text(r.get(cols["unit_code"])) if "unit_code" in cols else None,
                clean(r.get(cols["name"])) if "name" in cols else None,
                indicator,
                get("target"),
                get("target_initial"),
                get("target_adjusted"),
            )
        )
    return TargetData(file, tuple(out))
