"""`perfxl pdf` as a user runs it, rendered by LibreOffice: the form by default, every sheet
with --all; page counts and texts read back with pdftotext."""

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, run_cli
from .office_fixture import require_office

TEMPLATES = ROOT / "workbook_templates"


@pytest.fixture(autouse=True)
def _needs_office():
    require_office()
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        pytest.skip("pdftotext / pdfinfo (poppler-utils) not installed")


def pages(pdf: Path) -> list[str]:
    """The text of each page."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    n = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages")))
    return [
        subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), "-enc", "UTF-8", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, n + 1)
    ]


def test_the_project_form_prints_alone_on_one_page(tmp_path):
    pdf = tmp_path / "表.pdf"
    r = run_cli("pdf", TEMPLATES / "project-2020.xlsx", "-o", pdf)
    assert r.returncode == 0, r.stderr
    assert "已生成" in r.stdout and "项目支出绩效自评表" in r.stdout
    text = pages(pdf)
    assert len(text) == 1
    assert "项目支出绩效自评表" in text[0] and "年度总体目标" in text[0]
    assert "审核结果" not in text[0] and "填表说明" not in text[0]

    everything = tmp_path / "全部.pdf"
    r = run_cli("pdf", TEMPLATES / "project-2020.xlsx", "-o", everything, "--all")
    assert r.returncode == 0, r.stderr
    assert "全部工作表" in r.stdout
    all_text = pages(everything)
    assert len(all_text) > 1
    assert any("填表说明" in t for t in all_text) and any("审核结果" in t for t in all_text)


def test_a_department_workbook_prints_its_five_form_sheets(tmp_path):
    pdf = tmp_path / "部门.pdf"
    r = run_cli("pdf", TEMPLATES / "dept-guangdong.xlsx", "-o", pdf)
    assert r.returncode == 0, r.stderr
    text = pages(pdf)
    firsts = [t.strip().splitlines()[0] for t in text]
    assert firsts[0] == "部门整体支出绩效自评表"
    for title in ("收支情况（万元）", "项目支出明细（万元）", "评价结论、存在问题及改进措施"):
        assert title in firsts
    assert not any("填表说明" in t or "审核结果" in t for t in text)
    # the score table's header rows repeat on every page it takes
    score_pages = [t for t in text if "自评得分" in t or "一级指标" in t]
    assert len(score_pages) >= 2 and all("一级指标" in t for t in score_pages)
    r = run_cli("pdf", TEMPLATES / "dept-guangdong.xlsx", "-o", tmp_path / "a.pdf", "--all")
    assert r.returncode == 0, r.stderr
    assert len(pages(tmp_path / "a.pdf")) > len(text)


def test_an_annotated_copy_prints_its_findings_under_their_header(tmp_path):
    """Eighty findings: the 审核结果 sheet prints on A4 with every column on every page and
    the header row repeated; the list of every rule's outcome is not printed."""
    from perfxl.findings import Finding, Report, Severity
    from perfxl.office import to_pdf
    from perfxl.workbook.annotate import RESULT_SHEET, annotate

    form = "项目支出绩效自评表"
    findings = [
        Finding(
            code="CALC-SCORE",
            severity=Severity.BLOCKING if i % 2 else Severity.WARNING,
            message=f"第 {i} 项：得分与复算得分不一致，请按评分规则改正后重新提交，"
            "确属特殊情况的在偏差原因栏说明",
            path=f"indicators.{i}.score",
            sheet=form,
            cell=f"I{13 + i}",
            expected="9.99",
            actual=f"{i}.00",
        )
        for i in range(80)
    ]
    report = Report(file="x.xlsx", findings=findings)
    copy = annotate(TEMPLATES / "project-2020.xlsx", report, tmp_path / "副本.xlsx")
    pdf = to_pdf(copy, tmp_path / "副本.pdf", sheets=[RESULT_SHEET])
    text = pages(pdf)
    assert 2 <= len(text) <= 4, len(text)
    for page in text:
        for head in ("序号", "级别", "编码", "位置", "说明", "应为", "实为"):
            assert head in page
    body = "".join(text)
    assert "第 79 项" in body and "各项审核规则的结论" not in body


@pytest.mark.parametrize("profile_id", ["dept-hubei", "dept-guangdong"])
def test_the_score_summary_prints_with_its_rows(tmp_path, profile_id):
    """The 评分汇总 header (评价准则 …) is on the page of its rows, the total and the
    signature, never stranded at the foot of the page before."""
    from perfxl.profile import load_profile

    pdf = tmp_path / "表.pdf"
    r = run_cli("pdf", TEMPLATES / f"{profile_id}.xlsx", "-o", pdf)
    assert r.returncode == 0, r.stderr
    text = pages(pdf)
    (page,) = [t for t in text if "评价准则" in t]
    for top in load_profile(profile_id).indicators:
        assert top.name in page
    assert "综合绩效" in page and "填报单位（盖章）" in page


def test_the_validate_button_result_prints_its_header_on_every_page(tmp_path):
    """The 校验 button of a blank .xlsm (every required cell missing) fills 审核结果; printed,
    every page carries the five column headers and nothing of the hidden mark columns."""
    from perfxl.office import Office
    from perfxl.workbook.buttons import MESSAGES, RESULT_HEADERS

    from .test_macros_office import VALIDATE, listing

    with Office() as lo:
        done = lo.run_macro(TEMPLATES / "project-2020.xlsm", tmp_path / "校验.xlsm", VALIDATE)
        assert listing(done), "the 校验 macro listed nothing"
        pdf = lo.to_pdf(done, tmp_path / "校验.pdf", sheets=[MESSAGES["result_sheet"]])
    text = pages(pdf)
    assert 1 <= len(text) <= 3, len(text)
    for page in text:
        for key in RESULT_HEADERS:
            assert MESSAGES[key] in page


def test_the_live_audit_sheet_prints_one_page_not_its_rows(tmp_path):
    """Printed with the workbook, the live 审核 sheet is its title and its note (how to
    print what failed), one page; its rows of 通过 are not printed."""
    from perfxl.filing_io import load_filing
    from perfxl.office import to_pdf
    from perfxl.profile import load_profile
    from perfxl.workbook.layout import AUDIT_SHEET
    from perfxl.workbook.write import build_workbook

    from .conftest import PROJECT_EXAMPLE

    filled = build_workbook(
        load_profile("project-2020"), tmp_path / "x.xlsx", load_filing(PROJECT_EXAMPLE)
    )
    text = pages(to_pdf(filled, tmp_path / "审核.pdf", sheets=[AUDIT_SHEET]))
    assert len(text) == 1
    assert "审核结果" in text[0] and "校验" in text[0]
    assert "通过" not in text[0].replace("审核未通过", "").replace("未通过", "")
    assert "COMP-HEADER" not in text[0]


@pytest.mark.parametrize("which", ["project", "guangdong"])
def test_the_score_button_result_prints_on_a4_with_its_header(tmp_path, which):
    """评分 writes 评分结果: printed, A4 portrait, every column on the page (the 说明 column
    included), the header row repeated on every page it takes."""
    import openpyxl

    from perfxl.excel import SCORE_SHEET, FileBook, score_button
    from perfxl.filing_io import load_filing
    from perfxl.office import to_pdf
    from perfxl.profile import load_profile
    from perfxl.vba import build_vba_project
    from perfxl.workbook.buttons import MESSAGES, SCORE_HEADERS
    from perfxl.workbook.write import build_workbook

    from .conftest import PROJECT_EXAMPLE
    from .test_mutations import guangdong_full

    filing = load_filing(PROJECT_EXAMPLE) if which == "project" else guangdong_full()
    vba = build_vba_project(out=tmp_path / "vbaProject.bin")
    built = build_workbook(
        load_profile(filing.profile), tmp_path / "b.xlsm", filing, vba_project=vba
    )
    # the template's empty 评分结果 is already set up for A4
    ws = openpyxl.load_workbook(built)[SCORE_SHEET]
    assert ws.page_setup.paperSize == 9 and ws.print_title_rows == "$2:$2"
    out = tmp_path / "scored.xlsm"
    score_button(FileBook(built, out))
    ws = openpyxl.load_workbook(out)[SCORE_SHEET]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$2:$2"
    text = pages(to_pdf(out, tmp_path / "评分.pdf", sheets=[SCORE_SHEET]))
    assert 1 <= len(text) <= 3, len(text)
    for page in text:
        for key in SCORE_HEADERS:
            assert MESSAGES[key] in page, (key, page[:200])
    assert MESSAGES["execution_rate"] in text[-1] and MESSAGES["total"] in text[-1]


def test_the_filled_project_form_with_its_explanations_prints_on_one_page(tmp_path):
    """The example filled in, with every 说明 written: still one A4 page, 说明 and signature
    included."""
    from perfxl.filing_io import load_filing
    from perfxl.office import to_pdf
    from perfxl.profile import load_profile
    from perfxl.workbook.layout import project_remarks
    from perfxl.workbook.write import build_workbook

    from .conftest import PROJECT_EXAMPLE

    p = load_profile("project-2020")
    f = load_filing(PROJECT_EXAMPLE)
    remarks = {code: f"{label}：年中调整目标，相应调整。" for code, label, _ in project_remarks(p)}
    filled = build_workbook(p, tmp_path / "x.xlsx", f.model_copy(update={"group_remarks": remarks}))
    text = pages(to_pdf(filled, tmp_path / "x.pdf", sheets=[p.title]))
    assert len(text) == 1
    assert all(label in text[0] for _, label, _ in project_remarks(p))
    assert "填报单位（盖章）" in text[0] and "年中调整目标" in text[0]


def test_a_filled_xlsm_prints_its_result_sheets_without_blank_pages(tmp_path):
    """Filling (openpyxl) turns the result sheets' whole-column print areas into rows 1 to
    1,048,576: LibreOffice prints each sheet on one page, not a million empty rows."""
    from perfxl.filing_io import load_filing
    from perfxl.office import to_pdf
    from perfxl.workbook.fill import fill_template

    from .conftest import PROJECT_EXAMPLE

    filled = fill_template(
        TEMPLATES / "project-2020.xlsm", load_filing(PROJECT_EXAMPLE), tmp_path / "填好.xlsm"
    )
    text = pages(to_pdf(filled, tmp_path / "结果.pdf", sheets=["审核结果", "评分结果"]))
    assert len(text) == 2, len(text)
    assert "序号" in text[0]
