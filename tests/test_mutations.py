"""Mistakes made as a user makes them, caught exactly where they are.

Clean filled workbooks of every shipped profile are recalculated once by LibreOffice (so
their cached results are an office suite's); each mistake is then typed with openpyxl
(values only; for formula cells, a number typed over the formula) and the workbook
recalculated by LibreOffice again, as Excel would on saving. `perfxl check` must report
exactly the expected codes at the expected cells, and no other blocking finding.

The same mutated workbooks then serve the agreement of the live 审核 sheet with Python:
each 审核 row's verdict, as LibreOffice computed it, equals the Python finding status of
that check instance.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from perfxl.cli_check import check_file
from perfxl.filing_io import load_filing
from perfxl.findings import Report, Severity
from perfxl.model import Filing
from perfxl.office import Office
from perfxl.profile import load_profile
from perfxl.rules import formula_hits
from perfxl.rules.base import ROW_TABLES, row_path
from perfxl.workbook.layout import AUDIT_SHEET, layout_for
from perfxl.workbook.read import read_workbook
from perfxl.workbook.write import AUDIT_FIRST_ROW, build_workbook, plan_for
from tests.check_helpers import guangdong, wuhan_full
from tests.conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE
from tests.office_fixture import require_office

pytestmark = pytest.mark.office


def guangdong_full() -> Filing:
    """A complete, clean dept-guangdong filing: every 三级 scored (two below full marks with
    扣分原因), 收支情况 and a 项目支出明细 with 二级项目 that add up."""
    data = guangdong()
    data["group_scores"] = {k: v for k, v in data["group_scores"].items() if "." not in k}
    data["finance"] = {
        "income": [
            {"name": "财政拨款收入", "amount": D("900.00")},
            {"name": "其他收入", "amount": D("100.00")},
        ],
        "income_total": D("1000.00"),
        "basic": D("600.00"),
        "project": D("385.00"),
        "expenditure_total": D("985.00"),
    }
    # 本级 and a 下属单位, each with its own 一级项目 信息化建设 (same name, two projects)
    center = {"unit": "示例市信息中心", "unit_code": "901002"}
    data["projects"] = [
        {"name": "信息化建设", "level": 1, "initial": D(200), "adjusted": D(200), "spent": D(195)},
        {
            "name": "系统运维",
            "level": 2,
            "parent": "信息化建设",
            "initial": D(120),
            "adjusted": D(120),
            "spent": D(118),
        },
        {
            "name": "设备购置",
            "level": 2,
            "parent": "信息化建设",
            "initial": D(80),
            "adjusted": D(80),
            "spent": D(77),
        },
        {"name": "业务培训", "level": 1, "initial": D(140), "adjusted": D(140), "spent": D(140)},
        {"name": "信息化建设", "level": 1, "initial": D(50), "adjusted": D(50), "spent": D(50)}
        | center,
        {
            "name": "系统运维",
            "level": 2,
            "parent": "信息化建设",
            "initial": D(50),
            "adjusted": D(50),
            "spent": D(50),
        }
        | center,
    ]
    data["project_subtotals"] = [
        {"unit": "本级", "initial": D(340), "adjusted": D(340), "spent": D(335)},
        {"unit": "示例市信息中心", "initial": D(50), "adjusted": D(50), "spent": D(50)},
    ]
    # 信息化建设 in both units is one category of the department
    data["project_counts"] = [
        {"unit": "合计", "first": 2, "second": 3},
        {"unit": "本级", "first": 2, "second": 2},
        {"unit": "示例市信息中心", "first": 1, "second": 1},
    ]
    return Filing.model_validate(data)


FILINGS = {
    "project": lambda: load_filing(PROJECT_EXAMPLE),
    "hubei": lambda: Filing.model_validate(wuhan_full()),
    "guangdong": guangdong_full,
}


@dataclass(frozen=True)
class Mistake:
    """Edits by field path (value None clears the cell), and the expected blocking findings
    and open warnings as (code, field path of the cell they must point at)."""

    id: str
    book: str
    edits: dict[str, Any]
    blocking: set[tuple[str, str]]
    warnings: set[tuple[str, str]] = field(default_factory=set)
    recalc: bool = True  # False: saved by openpyxl only, cached results gone


TOTAL = ("ARITH-TOTAL", "total_score")
# the project example states its 一级 scores (产出指标 47.24 …): a changed row breaks its 一级
OUTPUT = ("ARITH-GROUP-SUM", "group_scores.2")
MISTAKES = [
    # ---- project-2020
    Mistake("fund-lines", "project", {"funds.fiscal.budget": 1},
            {("ARITH-FUND-SUM", "funds.total.budget")}),
    Mistake("score-over-weight", "project", {"indicators.0.score": 12},
            {("ARITH-IND-SCORE", "indicators.0.score"), ("ARITH-SCORE-RANGE", "indicators.0.score"), OUTPUT}),
    # a row's stated score does not move the stated 总分 (an input): ARITH-IND-SCORE says it
    Mistake("score-off-rule", "project", {"indicators.2.score": 4},
            {("ARITH-IND-SCORE", "indicators.2.score"), ("COMP-EXPLAIN-SCORE", "indicators.2.explanation"), OUTPUT}),
    Mistake("explanation-missing", "project", {"indicators.1.explanation": None},
            {("COMP-EXPLAIN-SCORE", "indicators.1.explanation")}),
    # a 定性 score is the unit's judgement: the 复算总分 takes it, the stated 总分 does not
    Mistake("qualitative-band", "project", {"indicators.9.score": 9},
            {("ARITH-QUAL-BAND", "indicators.9.score"), TOTAL, ("ARITH-GROUP-SUM", "group_scores.3")}),
    Mistake("qualitative-phrase", "project", {"indicators.9.actual": "基本达成"},
            {("VAL-QUAL-PHRASE", "indicators.9.actual")}),
    # 总分 and 等级 are the unit's inputs, compared with the 复算 beside them
    Mistake("total-typed", "project", {"total_score": 90}, {TOTAL}),
    Mistake("grade-typed", "project", {"grade": "良"}, {("ARITH-GRADE", "grade")}),
    # the error cell reads as blank: the indicator scores 0 on recomputation
    Mistake("error-value", "project", {"indicators.0.actual": "=1/0"},
            {("INTEG-ERROR-VALUE", "indicators.0.actual"), TOTAL}),
    # the 执行率 and its 得分 are the unit's inputs, compared with the 复算 beside them (L6, K6);
    # the 复算得分 and 复算总分 follow the funds (score_rules.RATE), not the stated rate
    Mistake("rate-typed", "project", {"funds.total.rate": 95},
            {("ARITH-EXEC-RATE", "funds.total.rate")}),
    Mistake("exec-score-typed", "project", {"funds.total.score": 9.5},
            {("ARITH-EXEC-SCORE", "funds.total.score"), ("ARITH-GROUP-SUM", "group_scores.1")}),
    Mistake("text-in-number", "project", {"indicators.2.score": "五分"},
            {("VAL-NUMBER-TEXT", "indicators.2.score"), ("COMP-IND-SCORE", "indicators.2.score"), OUTPUT}),
    # saved without calculation: one warning; the figures are checked as recomputed
    Mistake("not-recalculated", "project", {"indicators.2.score": 4},
            {("ARITH-IND-SCORE", "indicators.2.score"), ("COMP-EXPLAIN-SCORE", "indicators.2.explanation"), OUTPUT},
            {("INTEG-STALE", "项目支出绩效自评表!L6")}, recalc=False),
    # ---- dept-hubei (Wuhan 2020 with a complete 收支情况 and 二级项目)
    Mistake("income-lines", "hubei", {"finance.income.0.amount": 2900},
            {("XT-INCOME-SUM", "finance.income_total"), ("XT-INCOME-SHARES", "finance.income.0.share")}),
    # the stated 基本支出占比 (52.02) no longer matches either: 1600 / 3233.46 = 49.48 %
    Mistake("basic-plus-project", "hubei", {"finance.basic": 1600},
            {("XT-EXPENDITURE-SUM", "finance.expenditure_total"), ("XT-SHARES", "finance.basic_share")}),
    Mistake("project-list", "hubei", {"projects.4.spent": 480},
            {("XT-PROJECTS-SUM", "finance.project")}),
    Mistake("parent-project", "hubei", {"projects.2.spent": 390},
            {("XT-PROJECT-PARENT-SUM", "projects.1.spent")}),
    Mistake("dept-rate-typed", "hubei", {"funds.total.rate": 99},
            {("INTEG-FORMULA", "funds.total.rate"), ("ARITH-EXEC-RATE", "funds.total.rate")}),
    Mistake("dept-error-value", "hubei", {"finance.income.1.amount": "=1/0"},
            {("INTEG-ERROR-VALUE", "finance.income.1.amount"), ("XT-INCOME-SUM", "finance.income_total")}),
    # ---- dept-guangdong
    Mistake("group-score", "guangdong", {"group_scores.1": 45},
            {("ARITH-GROUP-SUM", "group_scores.1")}),
    Mistake("dept-over-weight", "guangdong", {"indicators.0.score": 21},
            {("ARITH-SCORE-RANGE", "indicators.0.score"), ("ARITH-GROUP-SUM", "group_scores.1")}),
    Mistake("dept-explanation", "guangdong", {"indicators.1.explanation": None},
            {("COMP-EXPLAIN-SCORE", "indicators.1.explanation")}),
    Mistake("dept-grade-typed", "guangdong", {"grade": "良"}, {("ARITH-GRADE", "grade")}),
    # the share is the unit's input (its 复算 is beside it): a wrong one is a XT-SHARES error
    Mistake("dept-share-typed", "guangdong", {"finance.basic_share": 50},
            {("XT-SHARES", "finance.basic_share")}),
    Mistake("income-share", "hubei", {"finance.income.0.share": 92.5},
            {("XT-INCOME-SHARES", "finance.income.0.share")}),
    # a 下属单位's stated subtotal against its own 一级项目 only
    Mistake("unit-subtotal", "guangdong", {"project_subtotals.1.spent": 45},
            {("XT-PROJECT-UNIT-SUM", "project_subtotals.1.spent")}),
    # two units' 信息化建设: a 下属单位's 二级项目 counts for its own 一级项目 only
    Mistake("unit-parent-project", "guangdong", {"projects.5.spent": 45},
            {("XT-PROJECT-PARENT-SUM", "projects.4.spent")}),
    # its unit cleared, the 二级项目 joins the 本级 信息化建设 (the centre's has no children left)
    Mistake("unit-moved", "guangdong", {"projects.5.unit": None},
            {("XT-PROJECT-PARENT-SUM", "projects.0.initial"), ("XT-PROJECT-PARENT-SUM", "projects.0.adjusted"),
             ("XT-PROJECT-PARENT-SUM", "projects.0.spent"),
             # the 二级项目 now counts for 本级, not for the centre
             ("XT-PROJECT-COUNTS", "project_counts.1.second"), ("XT-PROJECT-COUNTS", "project_counts.2.second")}),
    Mistake("dept-not-recalculated", "guangdong", {"indicators.3.score": 2},
            {("COMP-EXPLAIN-SCORE", "indicators.3.explanation"), ("ARITH-GROUP-SUM", "group_scores.2"), TOTAL},
            {("INTEG-STALE", "funds.total.rate")}, recalc=False),
]  # fmt: skip


@pytest.fixture(scope="module")
def lo() -> Iterator[Office]:
    """ONE LibreOffice for the module."""
    require_office()
    with Office(timeout=120) as office:
        yield office


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutations")


@pytest.fixture(scope="module")
def clean(lo: Office, folder: Path) -> dict[str, Path]:
    """The clean workbooks, built and recalculated once by LibreOffice."""
    out = {}
    for key, make in FILINGS.items():
        f = make()
        built = build_workbook(load_profile(f.profile), folder / f"{key}.built.xlsx", f)
        out[key] = lo.recalculate(built, folder / f"{key}.xlsx")
    return out


def cell_of(book: Path, path: str) -> tuple[str, str]:
    src = read_workbook(book).where(path)
    assert src is not None and src.sheet and src.cell, path
    return src.sheet, src.cell


def located(book: Path, expected: set[tuple[str, str]]) -> set[tuple[str, str]]:
    out = set()
    for code, path in expected:
        if "!" in path:  # a cell no field is read from (a 复算 cell): "Sheet!A1"
            out.add((code, path))
            continue
        sheet, cell = cell_of(book, path)
        out.add((code, f"{sheet}!{cell}"))
    return out


def found(report: Report, severity: Severity) -> set[tuple[str, str]]:
    return {
        (f.code, f.location())
        for f in report.findings
        if f.severity is severity and not f.explained
    }


_MADE: dict[tuple[Path, str], Path] = {}


def make_mistake(lo: Office, folder: Path, clean: dict[str, Path], m: Mistake) -> Path:
    """The mutated workbook (made once per module run: both test families use it)."""
    key = (folder, m.id)
    if key not in _MADE:
        _MADE[key] = _make(lo, folder, clean, m)
    return _MADE[key]


def _make(lo: Office, folder: Path, clean: dict[str, Path], m: Mistake) -> Path:
    src = clean[m.book]
    wb = openpyxl.load_workbook(src)
    for path, value in m.edits.items():
        sheet, cell = cell_of(src, path)
        wb[sheet][cell] = value
    typed = folder / f"{m.id}.typed.xlsx"
    wb.save(typed)
    if not m.recalc:
        return typed
    return lo.recalculate(typed, folder / f"{m.id}.xlsx")


def test_clean_workbooks_have_no_finding(clean: dict[str, Path]) -> None:
    for key, path in clean.items():
        r = check_file(path)
        assert r.usable and found(r, Severity.BLOCKING) == set(), (key, found(r, Severity.BLOCKING))
        assert found(r, Severity.WARNING) == set(), (key, found(r, Severity.WARNING))


@pytest.mark.parametrize("m", MISTAKES, ids=lambda m: m.id)
def test_mistake_is_caught_exactly(
    lo: Office, folder: Path, clean: dict[str, Path], m: Mistake
) -> None:
    path = make_mistake(lo, folder, clean, m)
    r = check_file(path)
    assert r.usable, r.problems
    assert found(r, Severity.BLOCKING) == located(clean[m.book], m.blocking)
    assert found(r, Severity.WARNING) == located(clean[m.book], m.warnings)


def test_stale_value_left_by_a_tool(folder: Path, clean: dict[str, Path]) -> None:
    """An office-saved workbook whose one cached result was left wrong by another tool:
    a warning at that cell, and the checks use the recomputed value (no blocking)."""
    src = clean["project"]
    c = layout_for(load_profile("project-2020")).cell("pf_exec_recomputed")  # the 复算得分
    sheet, cell = c.sheet, c.ref
    dst = folder / "stale-by-tool.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'(<c r="%s"[^>]*>.*?<v>)[^<]*(</v>)' % cell.encode(),
                                  rb"\g<1>8\2", data, count=1)  # fmt: skip
                assert n == 1
            zout.writestr(item, data)
    r = check_file(dst)
    assert found(r, Severity.BLOCKING) == set()
    assert found(r, Severity.WARNING) == {("INTEG-STALE", f"{sheet}!{cell}")}


# ------------------------------------------------------------------ the live 审核 sheet

WORDS = {"blocking": "错误", "warning": "提示"}


def audit_verdicts(path: Path) -> dict[int, tuple[str, str]]:
    """审核 sheet rows (1-based) → (编码, 结果) as LibreOffice computed them."""
    wb = CalamineWorkbook.from_path(str(path))
    sheet = wb.get_sheet_by_name(AUDIT_SHEET)
    r0, _c0 = sheet.start or (0, 0)
    out = {}
    for i, row in enumerate(sheet.to_python()):
        n = r0 + i + 1
        if n >= AUDIT_FIRST_ROW and len(row) > 3 and row[1]:
            out[n] = (str(row[1]), str(row[3]))
    return out


def error_cells(path: Path) -> set[tuple[str, int, str]]:
    """Cells showing an error value, as (sheet, row, column letter)."""
    from perfxl.workbook.facts import scan_sheet
    from perfxl.workbook.guard import col_letter, open_package

    pkg = open_package(path)
    out = set()
    for sheet, part in pkg.sheets.items():
        for (r, c), fact in scan_sheet(pkg.part(part)).items():
            if fact.type == "e":
                out.add((sheet, r, col_letter(c)))
    return out


def assert_audit_agrees(path: Path) -> int:
    """Every 审核 row of a recalculated workbook against the Python report; returns rows compared."""
    filing = read_workbook(path)
    profile = load_profile(filing.profile)
    # per formula: the paths of its findings, open or explained (已说明)
    failing: dict[int, dict[str, bool]] = {}

    def outcome(lc: Any, target: str) -> str:
        key = id(lc.formula)
        if key not in failing:
            hits, _ = formula_hits(lc.formula, filing, profile)
            failing[key] = {h.path: h.explained for h in hits}
        if target not in failing[key]:
            return "通过"
        return "已说明" if failing[key][target] else WORDS[lc.severity.token]

    rows = {  # blocks side by side on one sheet (项目支出明细, 项目支出小计): keyed by table too
        (s.sheet, int(re.sub(r"[A-Z]", "", s.cell)), p.split(".")[0]): p
        for p, s in filing.sources.items()
        if s.sheet
        and s.cell
        and p.split(".")[0]
        in ("indicators", "projects", "finance", "project_subtotals", "project_counts")
    }
    sizes: Any
    if profile.kind == "project":
        from perfxl.workbook.write import rows_needed

        sizes = (rows_needed(profile, filing, 5), 30, 8)
    else:
        sizes = (
            5,
            max(30, len(filing.projects)),
            max(8, len(filing.finance.income) if filing.finance else 0),
        )
    plan = plan_for(profile, *sizes)
    verdicts = audit_verdicts(path)
    errors = error_cells(path)
    compared = 0
    bad = []
    for i, inst in enumerate(plan.instances):
        n = AUDIT_FIRST_ROW + i
        code, got = verdicts[n]
        assert code == inst.check.code, (n, code, inst.check.code)
        reads = {(sp.sheet, r, sp.col) for sp in inst.used if sp.const is None
                 for r in range(sp.row, (sp.last_row or sp.row) + 1)}  # fmt: skip
        if reads & errors:
            continue  # Excel fails a check reading an error value; Python: INTEG-ERROR-VALUE
        lc = inst.check
        if inst.row is None:
            target = lc.path
        else:
            block, r = inst.row
            owner = rows.get((block.sheet, r, ROW_TABLES[lc.per_row].split(".")[0]))
            if owner is None:  # a blank row: nothing to check
                target = None
            else:
                kind = lc.per_row
                index = int(owner.split(".")[-2]) if kind != "income" else int(owner.split(".")[2])
                target = row_path(kind, index, lc.path)
        want = "通过" if target is None else outcome(lc, target)
        if got != want:
            bad.append((n, lc.code, target, got, want))
        compared += 1
    assert not bad, f"{path.name}: 审核 sheet ≠ Python: {bad[:8]}"
    return compared


def test_audit_sheet_agrees_on_the_examples(lo: Office, folder: Path) -> None:
    for example in (PROJECT_EXAMPLE, WUHAN_EXAMPLE):
        f = load_filing(example)
        built = build_workbook(load_profile(f.profile), folder / f"{example.stem}.xlsx", f)
        assert assert_audit_agrees(lo.recalculate(built, folder / f"{example.stem}.lo.xlsx")) > 0


@pytest.mark.parametrize("m", [m for m in MISTAKES if m.recalc], ids=lambda m: m.id)
def test_audit_sheet_agrees_on_the_mistakes(
    lo: Office, folder: Path, clean: dict[str, Path], m: Mistake
) -> None:
    assert assert_audit_agrees(make_mistake(lo, folder, clean, m)) > 0
