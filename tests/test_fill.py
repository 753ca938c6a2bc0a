"""Filling filings into new workbooks and into a bureau's own (restyled) templates."""

from __future__ import annotations

import hashlib
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill

from perfxl.errors import InputError
from perfxl.filing_io import filing_to_yaml, load_filing
from perfxl.model import Filing, Indicator
from perfxl.profile import load_profile
from perfxl.scoring import score
from perfxl.verdict import check_path
from perfxl.workbook.fill import fill, fill_template, not_kept
from perfxl.workbook.layout import layout_for
from perfxl.workbook.pyxl import load_workbook
from perfxl.workbook.read import read_workbook, read_workbook_ex
from perfxl.workbook.write import build_workbook

from .check_helpers import guangdong
from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli
from .office_fixture import office  # noqa: F401  (pytest fixture)
from .test_read import inputs_of
from .workbook_factory import expected

FORM = "项目支出绩效自评表"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bureau_template(tmp_path: Path, pid: str, suffix: str = ".xlsx", **kw: object) -> Path:
    """A blank template a bureau restyled (fonts, fills, widths) and keeps as its own."""
    blank = build_workbook(load_profile(pid), tmp_path / f"blank-{pid}{suffix}", **kw)  # type: ignore[arg-type]
    wb = load_workbook(blank, keep_vba=suffix == ".xlsm")  # as Excel keeps its print areas
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=40):
            for cell in row:
                cell.font = Font(name="仿宋", size=12)
        ws.column_dimensions["C"].width = 40
        ws["A1"].fill = PatternFill("solid", fgColor="C6E0B4")
    out = tmp_path / f"本局模板-{pid}{suffix}"
    wb.save(out)
    return out


@pytest.mark.parametrize("example", [PROJECT_EXAMPLE, WUHAN_EXAMPLE], ids=["project", "dept"])
def test_fill_a_bureaus_template(tmp_path, example):
    src = load_filing(example)
    template = bureau_template(tmp_path, src.profile)
    before = digest(template)
    out = fill_template(template, src, tmp_path / "filled.xlsx")
    assert digest(template) == before
    got, notes = read_workbook_ex(out)
    assert notes == []
    assert inputs_of(got) == inputs_of(expected(src))
    # the bureau's styling is still there, on the input cells fill wrote too
    written = "C13" if src.profile == "project-2020" else "B3"  # 三级指标 / 部门（单位）名称
    assert openpyxl.load_workbook(out).worksheets[0][written].font.name == "仿宋"


@pytest.mark.office
def test_filled_template_recalculates_when_opened(office, tmp_path):  # noqa: F811
    """openpyxl drops cached results; an office suite opening the copy computes them."""
    src = load_filing(PROJECT_EXAMPLE)
    out = fill_template(bureau_template(tmp_path, src.profile), src, tmp_path / "filled.xlsx")
    filled = read_workbook(out)
    # the stated 执行率 and 得分 are inputs: kept; the 复算 beside them has no cached result
    assert (filled.funds.total.rate, filled.funds.total.score) == (
        Decimal("99.85"),
        Decimal("9.99"),
    )
    lay = layout_for(load_profile(src.profile))
    recomputed = lay.cell("pf_funds_total_rate_recomputed").ref
    assert openpyxl.load_workbook(out, data_only=True)[FORM][recomputed].value is None
    opened = office.resave(out, tmp_path / "opened.xlsx")
    got = read_workbook(opened)
    assert got.model_dump(exclude={"sources"}) == expected(src).model_dump(exclude={"sources"})


def test_a_block_too_small_is_an_error_not_a_truncation(tmp_path):
    src = load_filing(PROJECT_EXAMPLE)
    extra = [
        Indicator(code="2.1", name=f"补充指标{i}", direction="正向", target=Decimal(1))
        for i in range(4)
    ]
    big = src.model_copy(update={"indicators": [*src.indicators, *extra]})  # 7 in 数量指标
    template = bureau_template(tmp_path, src.profile)
    with pytest.raises(InputError) as info:
        fill_template(template, big, tmp_path / "out.xlsx")
    msg = str(info.value)
    assert "「数量指标」区域只有 5 行，填报数据有 7 行" in msg and "插入 2 行" in msg
    assert not (tmp_path / "out.xlsx").exists()
    # a workbook built from the profile grows the block instead
    out = fill("project-2020", big, tmp_path / "grown.xlsx")
    assert [i.name for i in read_workbook(out).indicators].count("补充指标3") == 1


def test_text_stays_text_and_percentage_cells_keep_meaning(tmp_path):
    src = load_filing(PROJECT_EXAMPLE)
    src.indicators[0].name = "=SUM(A1:A9)"
    template = bureau_template(tmp_path, src.profile)
    wb = openpyxl.load_workbook(template)
    wb[FORM]["G13"].number_format = "0.00%"  # the bureau shows 实际完成值 as a percentage
    wb.save(template)
    out = fill_template(template, src, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(out)[FORM]
    assert ws["C13"].data_type == "s" and ws["G13"].value == pytest.approx(1.0657)
    got = read_workbook(out)
    assert got.indicators[0].name == "=SUM(A1:A9)" and got.indicators[0].actual == Decimal("106.57")


def test_xlsm_template_keeps_its_macros(tmp_path):
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    src = load_filing(PROJECT_EXAMPLE)
    template = bureau_template(tmp_path, src.profile, ".xlsm", vba_project=vba)
    with pytest.raises(InputError, match=r"\.xlsm"):
        fill_template(template, src, tmp_path / "out.xlsx")
    out = fill_template(template, src, tmp_path / "out.xlsm")
    with zipfile.ZipFile(out) as zf:
        assert zf.read("xl/vbaProject.bin") == vba.read_bytes()
    assert inputs_of(read_workbook(out)) == inputs_of(expected(src))


def test_other_profiles_filing_is_refused(tmp_path):
    template = bureau_template(tmp_path, "project-2020")
    with pytest.raises(InputError, match="不一致"):
        fill_template(template, load_filing(WUHAN_EXAMPLE), tmp_path / "x.xlsx")


# ------------------------------------------------------------------ the command


def test_fill_command_from_a_profile(tmp_path):
    out = tmp_path / "填好.xlsx"
    r = run_cli("fill", "project-2020", PROJECT_EXAMPLE, "-o", out)
    assert r.returncode == 0, r.stderr
    src = load_filing(PROJECT_EXAMPLE)
    assert read_workbook(out).model_dump(exclude={"sources"}) == expected(src).model_dump(
        exclude={"sources"}
    )


def test_fill_command_into_a_template_from_a_filled_workbook(tmp_path):
    filled = tmp_path / "去年.xlsx"
    assert run_cli("fill", "project-2020", PROJECT_EXAMPLE, "-o", filled).returncode == 0
    template = bureau_template(tmp_path, "project-2020")
    out = tmp_path / "迁移.xlsx"
    r = run_cli("fill", template, filled, "-o", out)
    assert r.returncode == 0, r.stderr
    assert inputs_of(read_workbook(out)) == inputs_of(read_workbook(filled))


MASTER = (
    "单位编码,项目名称,主管部门,实施单位,年度,年初预算数,全年预算数,全年执行数,"
    "其中：当年财政拨款（年初预算数）,上年结转资金全年预算数\n"
    "901001,档案数字化,示例市档案局,示例市档案馆,2023,490.00,490,,470,20\n"
    '901002,档案修复,示例市档案局,示例市档案馆,2023年,"1,200.50",1200.5,,1200.5,0\n'
)


def test_fill_command_from_a_master_row(tmp_path):
    master = tmp_path / "主表.csv"
    master.write_text(MASTER, encoding="utf-8-sig")
    out = tmp_path / "修复.xlsx"
    r = run_cli("fill", "project-2020", master, "--key", "单位编码=901002", "-o", out)
    assert r.returncode == 0, r.stderr
    got = read_workbook(out)
    assert got.header.name == "档案修复" and got.header.year == 2023
    assert got.funds.total.initial == Decimal("1200.50") and got.funds.total.executed is None
    assert got.funds.fiscal.initial == Decimal("1200.5") and got.funds.carryover.budget == 0
    r = run_cli("fill", "project-2020", master, "--row", "1", "-o", tmp_path / "1.xlsx")
    assert r.returncode == 0 and read_workbook(tmp_path / "1.xlsx").header.unit_code == "901001"
    r = run_cli("fill", "project-2020", master, "-o", tmp_path / "x.xlsx")
    assert r.returncode == 2 and "--row" in r.stderr


def test_fill_never_overwrites_its_inputs(tmp_path):
    template = bureau_template(tmp_path, "project-2020")
    before = digest(template)
    r = run_cli("fill", template, PROJECT_EXAMPLE, "-o", template)
    assert r.returncode == 2 and "不修改原文件" in r.stderr and "Traceback" not in r.stderr
    assert digest(template) == before


def test_fill_result_is_a_filing_equal_to_build(tmp_path):
    """Both ways of filling give the same inputs back."""
    src: Filing = load_filing(WUHAN_EXAMPLE)
    a = read_workbook(fill("dept-hubei", src, tmp_path / "a.xlsx"))
    b = read_workbook(fill(bureau_template(tmp_path, "dept-hubei"), src, tmp_path / "b.xlsx"))
    assert inputs_of(a) == inputs_of(b)


def test_merged_input_cell_is_reported(tmp_path):
    template = bureau_template(tmp_path, "project-2020")
    wb = openpyxl.load_workbook(template)
    wb[FORM].merge_cells("I14:J14")  # 偏差原因 of the second 数量指标 row merged away
    wb.save(template)
    with pytest.raises(InputError) as info:
        fill_template(template, load_filing(PROJECT_EXAMPLE), tmp_path / "out.xlsx")
    assert f"{FORM}!J14" in str(info.value) and "合并" in str(info.value)


def test_fill_names_every_field_it_could_not_keep(tmp_path):
    data = guangdong()
    data["counts"] = {"all": {"indicators": 26}}  # has a cell: kept
    data["total_score"], data["grade"] = Decimal("97.00"), "良"  # the rows give 96.85 / 优
    src = tmp_path / "stated.yaml"
    src.write_text(filing_to_yaml(Filing.model_validate(data)), encoding="utf-8")
    r = run_cli("fill", "dept-guangdong", src, "-o", tmp_path / "out.xlsx")
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if "填报数据中的" in x]
    said = "\n".join(lines)
    # the stated 总分 and 等级 have input cells: kept, and the checks compare them
    assert "total_score" not in said and "grade" not in said
    back = read_workbook(tmp_path / "out.xlsx")
    assert (back.total_score, back.grade) == (Decimal("97.00"), "良")
    found = {(f.code, f.cell) for f in check_path(tmp_path / "out.xlsx").report.findings}
    total_cell = layout_for(load_profile("dept-guangdong")).cell("pf_total_score").ref
    assert ("ARITH-TOTAL", total_cell) in found
    assert "counts.all" not in said
    # 二级 scores (group_scores.1.1) have their cells below the 指标个数
    assert "group_scores.1.1" not in said
    assert back.group_scores["1.1"] == Decimal(38)
    # a filing the workbook gives back whole: nothing to say
    clean = load_filing(WUHAN_EXAMPLE)
    out = fill("dept-hubei", clean, tmp_path / "w.xlsx")
    assert not_kept(clean, out) == []


def test_fill_strict_refuses_rather_than_lose_a_field(tmp_path):
    data = guangdong()
    data["indicators"][0]["target_initial"] = Decimal(90)  # 年初指标值: no cell
    src = tmp_path / "g.yaml"
    src.write_text(filing_to_yaml(Filing.model_validate(data)), encoding="utf-8")
    out = tmp_path / "g.xlsx"
    r = run_cli("fill", "dept-guangdong", src, "-o", out, "--strict")
    assert r.returncode == 2 and "target_initial" in r.stderr and "--strict" in r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["g.yaml"]
    r = run_cli("fill", "dept-hubei", WUHAN_EXAMPLE, "-o", out, "--strict")
    assert r.returncode == 0, r.stderr
    assert out.is_file()


def test_a_project_template_made_before_the_new_cells_is_still_filled_and_read(tmp_path):
    """Before: 三级 blocks C:K (no 年初指标值), no 一级 score or text cells. Such a template is
    filled and read; what it has no cell for is named, not lost silently."""
    src = load_filing(PROJECT_EXAMPLE)
    src.indicators[1].applicable = False
    blank = build_workbook(load_profile(src.profile), tmp_path / "new.xlsx")
    wb = openpyxl.load_workbook(blank)
    for name in list(wb.defined_names):
        dn = wb.defined_names[name]
        if name.startswith(("pf_top_", "pf_ptext_")):
            del wb.defined_names[name]
        elif name.startswith("pf_ind_"):
            dn.attr_text = dn.attr_text.replace("$M$", "$K$")
    wb.save(tmp_path / "old.xlsx")
    out = fill_template(tmp_path / "old.xlsx", src, tmp_path / "filled.xlsx")
    back, notes = read_workbook_ex(out)
    assert notes == [] and back.group_scores == {}
    assert [i.target_initial for i in back.indicators if i.target_initial] == []
    assert all(i.applicable for i in back.indicators)
    lost = {p.place for p in not_kept(src, out)}
    assert {"group_scores.2", "indicators.0.target_initial", "indicators.1.applicable"} <= lost


def test_a_project_template_made_before_the_applicable_column_is_still_filled_and_read(tmp_path):
    """Before: 三级 blocks C:L (no 是否适用). Such a template is filled and read: 年初指标值
    comes back, a row marked 不适用 is named as not kept rather than read as applicable."""
    src = load_filing(PROJECT_EXAMPLE)
    src.indicators[1].applicable = False
    blank = build_workbook(load_profile(src.profile), tmp_path / "new.xlsx")
    wb = openpyxl.load_workbook(blank)
    for name in list(wb.defined_names):
        if name.startswith("pf_ind_"):
            dn = wb.defined_names[name]
            dn.attr_text = dn.attr_text.replace("$M$", "$L$")
    wb.save(tmp_path / "old.xlsx")
    out = fill_template(tmp_path / "old.xlsx", src, tmp_path / "filled.xlsx")
    back, notes = read_workbook_ex(out)
    assert notes == []
    assert [i.target_initial for i in back.indicators] == [i.target_initial for i in src.indicators]
    assert all(i.applicable for i in back.indicators)
    assert {p.place for p in not_kept(src, out)} == {"indicators.1.applicable"}


def test_a_row_marked_not_applicable_reads_back_and_scores_0(tmp_path):
    src = load_filing(PROJECT_EXAMPLE)
    src.indicators[1].applicable = False
    out = fill_template(
        build_workbook(load_profile(src.profile), tmp_path / "new.xlsx"), src, tmp_path / "f.xlsx"
    )
    wb = openpyxl.load_workbook(out)
    ws = wb[layout_for(load_profile(src.profile)).form_sheet]
    back, notes = read_workbook_ex(out)
    assert notes == [] and [i.applicable for i in back.indicators][:3] == [True, False, True]
    cell = back.where("indicators.1.applicable")
    assert cell is not None and ws[cell.cell].value == "不适用"
    assert not_kept(src, out) == []
    # the live 复算得分 of the row (cached as Python scores it) is 0, not its 定量 score
    row = int(cell.cell[1:])
    assert "不适用" in ws[f"K{row}"].value
    built = build_workbook(load_profile(src.profile), tmp_path / "b.xlsx", src)
    cached = openpyxl.load_workbook(built, data_only=True)[ws.title]
    assert cached[f"K{row}"].value == 0 and src.indicators[1].score == Decimal("6.40")


@pytest.mark.office
@pytest.mark.parametrize("marked", [(), (1,), (1, 7), (0, 1, 2)])
def test_a_rescaling_profile_rescales_live_as_in_python(office, tmp_path, marked):  # noqa: F811
    """With rescale_not_applicable, rows marked 不适用 leave the live 复算总分 as scoring
    does: the applicable leaves' scores over their weights × 100, after LibreOffice
    recalculates, and in the cached value."""
    p = load_profile("project-2020")
    p = p.model_copy(
        update={"options": p.options.model_copy(update={"rescale_not_applicable": True})}
    )
    src = load_filing(PROJECT_EXAMPLE)
    for i in marked:
        src.indicators[i].applicable = False
    want = score(src, p)
    assert want.rescaled == bool(marked)
    built = build_workbook(p, tmp_path / "b.xlsx", src)
    lay = layout_for(p)
    ref = lay.cell("pf_total_recomputed").ref
    live = office.recalculate(built, tmp_path / "r.xlsx")
    for path in (built, live):
        ws = openpyxl.load_workbook(path, data_only=True)[lay.form_sheet]
        assert Decimal(str(ws[ref].value)) == want.total, path


def test_an_xlsm_template_keeps_the_result_sheets_print_areas(tmp_path):
    """The 审核结果 / 评分结果 sheets print whole columns ($A:$E, $A:$F, so the area grows
    with the results), which openpyxl cannot read: filling must keep them (as rows 1 to
    1,048,576, the same area) and print no English warning."""
    import warnings

    from perfxl.workbook.pyxl import column_print_areas

    template = ROOT / "workbook_templates" / "project-2020.xlsm"
    assert column_print_areas(template) == {"审核结果": ("A", "E"), "评分结果": ("A", "F")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fill_template(template, load_filing(PROJECT_EXAMPLE), tmp_path / "out.xlsm")
    wb = openpyxl.load_workbook(out, keep_vba=True)
    assert wb["审核结果"].print_area == "'审核结果'!$A$1:$E$1048576"
    assert wb["评分结果"].print_area == "'评分结果'!$A$1:$F$1048576"
    assert wb["项目支出绩效自评表"].print_area == "'项目支出绩效自评表'!$A$1:$J$64"
    # and through the command, as a user fills it: nothing on stderr but the result
    got = run_cli("fill", str(template), str(PROJECT_EXAMPLE), "-o", str(tmp_path / "cli.xlsm"))
    assert got.returncode == 0 and "Print area" not in got.stderr, got.stderr
    assert column_print_areas(tmp_path / "cli.xlsm") == {}  # bounded now, not whole columns
    assert openpyxl.load_workbook(tmp_path / "cli.xlsm", keep_vba=True)[
        "评分结果"
    ].print_area.endswith("$A$1:$F$1048576")
