"""Run the compiled live checks in a real workbook, computed by the `formulas` package.

A tiny workbook is written with XlsxWriter: every absolute field the checks read gets a
cell and a defined name, each table (indicators, projects, income) a sheet with one row
per filing row and a defined name per column, and the 审核 sheet one formula per check
instance. `formulas` computes it; the verdicts are compared with the Python side."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from perfxl.expr import Trace, truth
from perfxl.model import Filing
from perfxl.profile import Profile
from perfxl.rules.arithmetic import recomputed_cells
from perfxl.rules.base import (
    PROJECT_FLAGS,
    ROW_TABLES,
    FilingEnv,
    LiveCheck,
    instances,
    row_count,
    row_value,
)
from perfxl.score_rules import ROW_FIELDS, RowKind
from perfxl.scoring import score

SHEETS: dict[RowKind, str] = {
    "indicator": "指标",
    "project": "项目",
    "income": "收入",
    "subtotal": "小计",
    "count": "个数",
}


@dataclass
class Verdict:
    check: LiveCheck
    at: tuple[RowKind, int] | None
    python: bool
    excel: object  # True/False, or whatever `formulas` returned
    trace: Trace
    formula: str

    @property
    def agree(self) -> bool:
        return isinstance(self.excel, bool) and self.excel == self.python

    @property
    def known_emulator_gap(self) -> bool:
        """A disagreement `formulas` is known to cause: ROUND of an exact .xx5 computed
        on binary floats, or LEN of a character outside the BMP (Excel counts 2)."""
        return self.trace.has_tie() or self.trace.has_astral_text()


def _write(ws, row: int, col: int, v: object) -> None:
    if v is None:
        return
    if isinstance(v, bool):
        ws.write_boolean(row, col, v)
    elif isinstance(v, Decimal):
        ws.write_number(row, col, float(v))
    else:
        ws.write_string(row, col, str(v))


def live_verdicts(
    filing: Filing, profile: Profile, checks: list[LiveCheck], folder: Path
) -> list[Verdict]:
    import formulas  # slow import; only the tests that need it pay for it

    path = folder / "live.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    # the 复算 cells a check refers to by name (复算总分), as the template shows them
    computed = recomputed_cells(filing, profile, score(filing, profile))
    env = FilingEnv(filing, profile, computed=computed)
    names: dict[str, str] = {}

    values = wb.add_worksheet("值")
    fields = sorted(
        {p for lc in checks for p in lc.paths if not p.startswith("row.") and ".*." not in p}
    )
    for i, p in enumerate(fields):
        values.write_string(i, 0, p)
        _write(values, i, 1, env.value(p))
        names[p] = f"fld_{i}"
        wb.define_name(names[p], f"='值'!{xl_rowcol_to_cell(i, 1, True, True)}")

    cells: dict[tuple[RowKind, int, str], str] = {}
    for kind, table in ROW_TABLES.items():
        ws = wb.add_worksheet(SHEETS[kind])
        n = row_count(filing, kind)
        for j, name in enumerate(ROW_FIELDS[kind]):
            ws.write_string(0, j, name)
            for i in range(n):
                _write(ws, i + 1, j, row_value(filing, profile, kind, i, name))
                cells[(kind, i, name)] = (
                    f"'{SHEETS[kind]}'!{xl_rowcol_to_cell(i + 1, j, True, True)}"
                )
            last = max(n, 1)
            first_cell = xl_rowcol_to_cell(1, j, True, True)
            last_cell = xl_rowcol_to_cell(last, j, True, True)
            col_name = f"col_{table.replace('.', '_')}_{name}"
            names[f"{table}.*.{name}"] = col_name
            wb.define_name(col_name, f"='{SHEETS[kind]}'!{first_cell}:{last_cell}")
        if kind == "project":  # the template's hidden helper columns, as values
            for j, flag in enumerate(PROJECT_FLAGS, start=len(ROW_FIELDS[kind])):
                for i, v in enumerate(env.column(flag)):
                    _write(ws, i + 1, j, v)
                first_cell = xl_rowcol_to_cell(1, j, True, True)
                last_cell = xl_rowcol_to_cell(max(n, 1), j, True, True)
                names[flag] = f"col_projects_{flag.rsplit('.', 1)[1]}"
                wb.define_name(names[flag], f"='{SHEETS[kind]}'!{first_cell}:{last_cell}")

    audit = wb.add_worksheet("审核")
    pending: list[tuple[int, LiveCheck, tuple[RowKind, int] | None, str]] = []
    r = 0
    for lc in checks:
        for at in instances(filing, lc.formula):

            def ref(p: str, at: tuple[RowKind, int] | None = at) -> str:
                if p.startswith("row."):
                    assert at is not None
                    return cells[(at[0], at[1], p[4:])]
                return names[p]

            text = lc.excel(ref)
            audit.write_formula(r, 0, text)
            pending.append((r, lc, at, text))
            r += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.close()
        model = formulas.ExcelModel().loads(str(path)).finish()
        solution = model.calculate()
    results: dict[int, object] = {}
    for key, cell in solution.items():
        m = re.search(r"审核'!A(\d+)$", key)
        if m:
            v = cell.value[0][0] if hasattr(cell, "value") else cell
            results[int(m.group(1)) - 1] = bool(v) if type(v).__name__ in ("bool", "bool_") else v
    out = []
    for r, lc, at, text in pending:
        trace = Trace()
        e = env if at is None else env.at(*at)
        py = truth(lc.expression(), e, trace)
        out.append(Verdict(lc, at, py, results.get(r), trace, text))
    return out


def compute(values: dict[str, object], texts: list[str], folder: Path) -> list[object]:
    """Evaluate formula texts with `formulas` over named cells holding `values` (a list
    becomes a named range in its own column)."""
    import formulas

    path = folder / "exprs.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("值")
    for i, (name, v) in enumerate(values.items()):
        ws.write_string(0, i, name)
        items = v if isinstance(v, list) else [v]
        for r, item in enumerate(items, start=1):
            _write(ws, r, i, item)
        first = xl_rowcol_to_cell(1, i, True, True)
        last = xl_rowcol_to_cell(max(len(items), 1), i, True, True)
        target = first if not isinstance(v, list) else f"{first}:{last}"
        wb.define_name(name, f"='值'!{target}")
    out = wb.add_worksheet("结果")
    for i, text in enumerate(texts):
        out.write_formula(i, 0, text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.close()
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    results: list[object] = [None] * len(texts)
    for key, cell in solution.items():
        m = re.search(r"结果'!A(\d+)$", key)
        if m:
            v = cell.value[0][0]
            name = type(v).__name__
            if name in ("bool", "bool_"):
                v = bool(v)
            elif name in ("float", "float64", "int", "int64"):
                v = Decimal(repr(float(v)))
            results[int(m.group(1)) - 1] = v
    return results
