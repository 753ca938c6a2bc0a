"""The annotated copy (--format xlsx): marks, comments, the 审核结果 sheet; input untouched."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perfxl.cli_check import check_file
from perfxl.filing_io import load_filing
from perfxl.findings import Finding, Report, Severity
from perfxl.profile import load_profile
from perfxl.workbook.annotate import FILLS, RESULT_SHEET, annotate, annotated_path
from perfxl.workbook.write import build_workbook
from tests.conftest import PROJECT_EXAMPLE, ROOT, UNITS_EXAMPLE, WUHAN_EXAMPLE, run_cli

FORM = "项目支出绩效自评表"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project example with a score over its weight and a number typed over the 复算执行率
    formula (L6)."""
    d = tmp_path_factory.mktemp("annotate")
    f = load_filing(PROJECT_EXAMPLE)
    f.indicators[0].score = f.indicators[0].weight + 2
    path = build_workbook(load_profile(f.profile), d / "项目.xlsx", f)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<c r="L6"([^>]*?)>.*?</c>', r'<c r="L6"\1><v>95</v></c>', sheet, count=1)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_annotated_copy(bad: Path, tmp_path: Path) -> None:
    before = digest(bad)
    report = check_file(bad)
    out = annotate(bad, report, tmp_path / "copy.xlsx", now=dt.datetime(2024, 5, 6, 7, 8))
    assert digest(bad) == before  # the input is never modified
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == RESULT_SHEET and wb.active.title == RESULT_SHEET
    form = wb[FORM]
    l6, i13 = form["L6"], form["I13"]
    assert l6.fill.start_color.rgb.endswith(FILLS["blocking"])
    assert "INTEG-FORMULA" in l6.comment.text
    assert "ARITH-SCORE-RANGE" in i13.comment.text
    j38 = form["J38"]  # the example's explained over-achievement
    assert j38.fill.start_color.rgb.endswith(FILLS["explained"])
    assert form["C6"].comment is None

    ws = wb[RESULT_SHEET]
    assert "2024-05-06 07:08" in ws["A2"].value and "项目.xlsx" in ws["A2"].value
    assert "perfxl" in ws["A2"].value and "审核未通过" in ws["A1"].value
    assert [c.value for c in ws[4]][:7] == ["序号", "级别", "编码", "位置", "说明", "应为", "实为"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=4 + len(report.findings))]
    assert [r[2] for r in rows] == [f.code for f in report.findings]
    link = next(r for r in ws.iter_rows(min_row=5) if r[2].value == "INTEG-FORMULA")[3]
    assert link.hyperlink.location == f"'{FORM}'!L6" and link.value == f"{FORM}!L6"
    statuses = {r[2].value: r[5].value for r in ws.iter_rows(min_row=6 + len(report.findings))}
    assert statuses["INTEG-FORMULA"] == "未通过"
    assert statuses["COMP-HEADER"] == "通过"
    assert statuses["EXT-BUDGET"] == "不适用"
    assert statuses["COMP-EXPLAIN-OVER"] == "已说明"
    # still a perfxl workbook: the copy reads back (names, meta sheet kept)
    assert check_file(out).usable


def test_path_only_finding_has_no_link(bad: Path, tmp_path: Path) -> None:
    report = Report(file=str(bad), profile="project-2020", title="x", year=2020)
    report.findings.append(
        Finding("EXT-BUDGET-MISSING", Severity.WARNING, "预算数据中没有本表", "funds.total")
    )
    out = annotate(bad, report, tmp_path / "c.xlsx")
    ws = openpyxl.load_workbook(out)[RESULT_SHEET]
    assert ws["D5"].value == "funds.total" and ws["D5"].hyperlink is None
    assert ws["B5"].fill.start_color.rgb.endswith(FILLS["warning"])


def test_macro_workbook_keeps_its_macros(tmp_path: Path) -> None:
    src = ROOT / "workbook_templates" / "project-2020.xlsm"
    report = check_file(src)
    out = annotate(src, report, annotated_path(src, tmp_path))
    assert out.name == "project-2020.审核.xlsm"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
        assert "macroEnabled" in b.read("[Content_Types].xml").decode()


def test_cli_xlsx_format(bad: Path, tmp_path: Path) -> None:
    f = load_filing(WUHAN_EXAMPLE)
    good = build_workbook(load_profile(f.profile), tmp_path / "武汉.xlsx", f)
    r = run_cli("check", bad, "--format", "xlsx")
    assert r.returncode == 1, r.stderr
    default = annotated_path(bad)
    assert default.exists() and str(default) in r.stdout
    folder = tmp_path / "copies"
    r = run_cli("check", bad, good, PROJECT_EXAMPLE, "--format", "xlsx", "-o", folder)
    assert r.returncode == 1, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["武汉.审核.xlsx", "项目.审核.xlsx"]
    assert "不是工作簿" in r.stderr
    one = tmp_path / "一份.xlsx"
    r = run_cli("check", good, "--format", "xlsx", "-o", one)
    assert r.returncode == 0 and one.exists()
    r = run_cli("check", good, "--format", "xlsx", "-o", good)  # never over the input
    assert r.returncode == 2


def test_demo_checks_the_examples_and_their_workbooks(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = run_cli("demo", "-o", out)
    assert r.returncode == 0, r.stderr
    for stem in (PROJECT_EXAMPLE.stem, WUHAN_EXAMPLE.stem, UNITS_EXAMPLE.stem):
        assert (out / "workbooks" / f"{stem}.xlsx").exists()
        doc = json.loads((out / "checks" / f"{stem}.json").read_text(encoding="utf-8"))
        assert [Path(f["file"]).suffix for f in doc["files"]] == [".yaml", ".xlsx"]
        assert doc["valid"] and doc["summary"]["blocking"] == 0
        assert (
            RESULT_SHEET in openpyxl.load_workbook(out / "checks" / f"{stem}.审核.xlsx").sheetnames
        )
        assert f"审核通过 {stem}.xlsx" in r.stdout
