"""The workbook writer: layout contract, cached values, protection, validation, CLI."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from perfxl.errors import InputError
from perfxl.filing_io import load_filing
from perfxl.model import Filing, FundLine, Funds, Header, Indicator
from perfxl.profile import load_profile
from perfxl.scoring import score
from perfxl.workbook import formulas as F
from perfxl.workbook.layout import META_SHEET, TEMPLATE_FORMAT, layout_for
from perfxl.workbook.write import (
    LOCKED_WHEN_PREFILLED,
    build_workbook,
    excel_ref,
    rows_needed,
)
from tests.conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli

PROFILES = ("project-2020", "dept-hubei", "dept-guangdong")
PROJECT_HEADERS = (
    "项目名称", "主管部门", "实施单位", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率",
    "得分", "年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金", "年度总体目标",
    "预期目标", "实际完成情况", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值",
    "偏差原因分析及改进措施", "总分",
)  # fmt: skip


def values(path: Path) -> dict[tuple[str, str], object]:
    """Every cell as a reader that does not recalculate sees it, by (sheet, A1)."""
    wb = CalamineWorkbook.from_path(str(path))
    out: dict[tuple[str, str], object] = {}
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        r0, c0 = sheet.start or (0, 0)
        for i, row in enumerate(sheet.to_python()):
            for j, v in enumerate(row):
                out[(name, f"{_col(c0 + j)}{r0 + i + 1}")] = v
    return out


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def cents(v: object) -> Decimal:
    assert isinstance(v, int | float), v
    return Decimal(repr(float(v))).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    return {pid: build_workbook(load_profile(pid), folder / f"{pid}.xlsx") for pid in PROFILES}


@pytest.mark.parametrize("pid", PROFILES)
def test_template_contract(templates: dict[str, Path], pid: str) -> None:
    """Every layout cell and block has its workbook-scoped name at its A1 position; the very
    hidden sheet records profile, version and template format; inputs are unlocked."""
    p = load_profile(pid)
    lay = layout_for(p)
    wb = openpyxl.load_workbook(templates[pid])
    names = wb.defined_names
    for c in lay.cells:
        dest = list(names[c.name].destinations)
        assert dest == [(c.sheet, f"${c.ref[0]}${c.ref[1:]}")], c.name
        cell = wb[c.sheet][c.ref]
        assert cell.protection.locked == (c.role != "input"), c.name
    for b in lay.blocks:
        (sheet, ref), = names[b.name].destinations  # fmt: skip
        assert sheet == b.sheet
        assert ref.replace("$", "") == b.ref
        for col in b.columns:
            cell = wb[b.sheet][f"{col.letter}{b.first_row}"]
            assert cell.protection.locked == (col.role != "input"), (b.name, col.key)
    meta = wb[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    assert [meta["B1"].value, meta["B2"].value, meta["B3"].value] == [
        p.id,
        p.version,
        TEMPLATE_FORMAT,
    ]
    assert wb.sheetnames[: len(lay.sheets)] == lay.sheets


@pytest.mark.parametrize("pid", PROFILES)
def test_protection_without_password(templates: dict[str, Path], pid: str) -> None:
    wb = openpyxl.load_workbook(templates[pid])
    for ws in wb.worksheets:
        prot = ws.protection
        assert prot.sheet, ws.title
        assert not prot.password, ws.title
        # in OOXML a False flag means the action is allowed on the protected sheet
        assert prot.formatColumns is False and prot.formatRows is False
        assert prot.selectLockedCells is False and prot.selectUnlockedCells is False
        assert prot.insertRows is not False and prot.deleteRows is not False


def test_project_form_texts_and_formats(templates: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(templates["project-2020"])
    lay = layout_for(load_profile("project-2020"))
    ws = wb[lay.form_sheet]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for header in PROJECT_HEADERS:
        assert header in texts, header
    assert "产出指标\n(50分)" in texts and "效益指标\n(30分)" in texts
    assert ws["A2"].number_format == '"（"0"年度）"'
    assert ws["C6"].number_format == "#,##0.00"
    assert ws["G6"].number_format == '0.00"%"'
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {
        "A1:J1",
        "A2:J2",
        "B3:F3",
        "A13:A32",
        "B13:B17",
        "B11:F11",
        "G11:J11",
        "A61:B61",
        "C61:J61",
    } <= merged
    assert ws.print_area == f"'{lay.form_sheet}'!$A$1:$J$64"  # 说明 rows 59-63, signature
    assert ws.print_title_rows == "$12:$12"
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # 1 page wide
    assert ws.freeze_panes is None  # the heading rows would fill a laptop screen
    guide = wb["填表说明"]
    text = "".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    for needle in (
        "撤销工作表保护",
        "达成年度指标",
        "未达成年度指标且效果较差",
        "复算得分",
        "万元",
        "正向",
    ):
        assert needle in text, needle


def test_department_score_sheet(templates: dict[str, Path]) -> None:
    p = load_profile("dept-hubei")
    lay = layout_for(p)
    wb = openpyxl.load_workbook(templates["dept-hubei"])
    ws = wb["评分表"]
    assert [ws.cell(3, c).value for c in range(1, 10)] == [
        "一级指标", "二级指标", "三级指标", "计算方法", "分值", "实际值", "自评得分", "扣分原因",
        "复算得分",
    ]  # fmt: skip
    row = next(b for b in lay.blocks if b.fixed.get("code") == "1.2.1").first_row
    assert ws[f"C{row}"].value == "在职人员控制率"
    assert ws[f"D{row}"].value == p.node("1.2.1").formula
    assert ws[f"E{row}"].value == 5
    h = lay.group_rows["_header"]
    assert [ws.cell(h, c).value for c in range(1, 7)] == [
        "评价准则", "准则分值", "评价得分", "复算得分", "评价等级", "评价概述",
    ]  # fmt: skip
    assert ws.page_setup.orientation == "landscape"
    assert "A4:A8" in {str(r) for r in ws.merged_cells.ranges}  # 投入 over its 5 leaves


@pytest.mark.parametrize("pid", PROFILES)
def test_data_validation(templates: dict[str, Path], pid: str) -> None:
    p = load_profile(pid)
    lay = layout_for(p)
    wb = openpyxl.load_workbook(templates[pid])
    dvs = [(ws.title, dv) for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
    by_cell = {}
    for sheet, dv in dvs:
        for rng in str(dv.sqref).split():
            by_cell[(sheet, rng.split(":")[0])] = dv
        assert dv.promptTitle or dv.type is None or dv.prompt, dv.sqref
    year = lay.cell("pf_year")
    dv = by_cell[(year.sheet, year.ref)]
    assert (dv.type, dv.formula1, dv.formula2) == ("whole", "2000", "2100")
    limit = p.options.text_limits["explanation"]
    if p.kind == "project":
        s = lay.form_sheet
        assert by_cell[(s, "D13")].type == "list"
        assert by_cell[(s, "D13")].formula1 == '"正向,反向,等于,定性"'
        assert by_cell[(s, "I13")].formula1 == "AND(ISNUMBER(I13),I13>=0,I13<=$H13)"
        assert "达成年度指标" in by_cell[(s, "G13")].formula1
        assert by_cell[(s, "C6")].type == "decimal" and by_cell[(s, "C6")].operator == (
            "greaterThanOrEqual"
        )
        assert (by_cell[(s, "J13")].type, by_cell[(s, "J13")].formula1) == (
            "textLength",
            str(limit),
        )
        assert by_cell[(s, "B11")].formula1 == str(p.options.text_limits["goal_expected"])
    else:
        assert by_cell[("项目支出明细", "B3")].formula1 == '"1,2"'
        assert by_cell[("评分表", "G4")].formula1 == "AND(ISNUMBER(G4),G4>=0,G4<=$E4)"
        assert by_cell[("评分表", "H4")].formula1 == str(limit)


def test_excel_ref() -> None:
    lay = layout_for(load_profile("project-2020"))
    s = lay.form_sheet
    assert excel_ref(lay, "funds.total.budget") == f"'{s}'!$D$6"
    assert excel_ref(lay, "funds.total.budget", sheet=s) == "$D$6"
    assert excel_ref(lay, "pf_total_recomputed", sheet=s) == "$K$58"
    assert excel_ref(lay, "row.score", 14, sheet=s) == "$I14"
    assert excel_ref(lay, "row.target_text", 14, sheet=s) == "$F14"
    assert excel_ref(lay, "indicators.*.weight", sheet=s) == "$H$13:$H$57"
    assert excel_ref(lay, "indicators.*.code") == "'_perfxl'!$X$13:$X$57"
    assert (
        excel_ref(lay, "group_scores.2") == f"'{s}'!$I$68"
    )  # the stated 一级 score, below the 说明 rows and signature
    assert excel_ref(lay, "group_scores.2.1") == "'_perfxl'!$Z$1"  # no cell: always blank
    dept = layout_for(load_profile("dept-hubei"))
    assert excel_ref(dept, "finance.income.*.amount") == "'收支情况'!$B$3:$B$10"
    assert excel_ref(dept, "row.weight", 4, sheet="评分表") == "$E4"
    with pytest.raises(KeyError):
        excel_ref(lay, "nonsense.path")


def test_filled_project_cached_values(tmp_path: Path) -> None:
    """Formula cells carry the engine's values, so readers that never recalculate see them."""
    f = load_filing(PROJECT_EXAMPLE)
    p = load_profile(f.profile)
    path = build_workbook(p, tmp_path / "p.xlsx", f)
    v = values(path)
    s = layout_for(p).form_sheet
    r = score(f, p)
    assert v[(s, "G6")] == 99.85 and v[(s, "H6")] == 9.99 and v[(s, "K6")] == 9.99
    assert v[(s, "A2")] == 2020 and v[(s, "B3")] == "档案数字化"
    rows = {cents(v[(s, f"I{n}")]): n for n in range(13, 58) if v[(s, f"I{n}")] != ""}
    assert len(rows) > 0
    expected = sorted(n.score for n in r.rows() if n.indicator is not None)
    got = sorted(cents(v[(s, f"K{n}")]) for n in range(13, 58) if v[(s, f"K{n}")] != "")
    assert got == expected
    assert cents(v[(s, "K58")]) == r.total == Decimal("94.23")
    assert v[(s, "K59")] == r.grade == "优"
    assert cents(v[(s, "I58")]) == Decimal("94.23") and v[(s, "J58")] == "优"
    assert v[(s, "K1")] == 0  # no blocking 审核 error in the example


def test_filled_department_cached_values(tmp_path: Path) -> None:
    f = load_filing(WUHAN_EXAMPLE)
    p = load_profile(f.profile)
    lay = layout_for(p)
    path = build_workbook(p, tmp_path / "d.xlsx", f)
    v = values(path)
    assert v[("基本信息", "B11")] == 100.0 and v[("基本信息", "B12")] == 83.84
    r = score(f, p)
    for top in p.indicators:
        g = lay.group_rows[top.code]
        node = r.by_code()[top.code]
        assert cents(v[("评分表", f"D{g}")]) == node.score
        assert v[("评分表", f"E{g}")] == node.grade
    t = lay.cell("pf_total_recomputed").ref
    assert cents(v[("评分表", t)]) == r.total == 96 and v[("评分表", "F" + t[1:])] == "优秀"
    plist = next(b for b in lay.blocks if b.list_path == "projects")
    rates = [v[("项目支出明细", f"G{n}")] for n in range(plist.first_row, plist.first_row + 4)]
    assert rates == [100.0, 100.0, 100.0, "—"]  # 新馆建设: adjusted budget 0, no rate
    assert v[("项目支出明细", f"E{plist.last_row + 1}")] == 1551.29


def test_bigger_blocks_for_more_indicators(tmp_path: Path) -> None:
    p = load_profile("project-2020")
    inds = [Indicator(code="2.1", name=f"指标{i}", weight=Decimal(1)) for i in range(8)]
    f = Filing(profile=p.id, header=Header(year=2023), indicators=inds)
    need = rows_needed(p, f, 5)
    assert need["2.1"] == 8 and need["2.2"] == 5
    path = build_workbook(p, tmp_path / "big.xlsx", f)
    wb = openpyxl.load_workbook(path)
    (sheet, ref), = wb.defined_names["pf_ind_2_1"].destinations  # fmt: skip
    assert ref == "$C$13:$M$20"
    assert wb[sheet]["C20"].value == "指标7"


def test_lock_prefilled(tmp_path: Path) -> None:
    p = load_profile("project-2020")
    f = Filing(
        profile=p.id,
        header=Header(year=2023, name="下发项目"),
        funds=Funds(total=FundLine(initial=Decimal(100), budget=Decimal(120))),
    )
    assert "funds.*.executed" not in LOCKED_WHEN_PREFILLED
    wb = openpyxl.load_workbook(build_workbook(p, tmp_path / "l.xlsx", f, lock_prefilled=True))
    ws = wb[layout_for(p).form_sheet]
    assert ws["C6"].protection.locked and ws["D6"].protection.locked  # given: locked
    assert not ws["E6"].protection.locked  # 全年执行数 stays open
    assert not ws["C7"].protection.locked  # not given: open
    assert ws["B3"].protection.locked and ws["H3"].protection.locked  # identity: the bureau's
    assert not ws["B4"].protection.locked  # 主管部门 stays open


def test_atomic_on_bad_input(tmp_path: Path) -> None:
    p = load_profile("project-2020")
    target = tmp_path / "keep.xlsx"
    target.write_bytes(b"previous")
    bad = Filing(profile=p.id, header=Header(year=2023), indicators=[Indicator(code="9.9")])
    with pytest.raises(InputError, match=r"9\.9"):
        build_workbook(p, target, bad)
    assert target.read_bytes() == b"previous"
    assert [x.name for x in tmp_path.iterdir()] == ["keep.xlsx"]


def test_byte_identical_rebuilds(tmp_path: Path) -> None:
    p = load_profile("dept-guangdong")
    a = build_workbook(p, tmp_path / "a.xlsx")
    b = build_workbook(p, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


def test_audit_sheet_lists_the_catalogue_checks(tmp_path: Path) -> None:
    """The 审核 sheet renders the catalogue's live checks: one row per instance, and the
    cached verdicts of a written workbook fail exactly where `perfxl check` does."""
    from perfxl.cli_check import check_file
    from perfxl.rules import live_checks

    f = load_filing(PROJECT_EXAMPLE)
    p = load_profile(f.profile)
    bad = f.model_copy(deep=True)
    bad.indicators[1].explanation = None  # score 6.40 < weight 8 and no explanation
    bad.indicators[0].score = Decimal(11)  # above its weight of 10
    path = build_workbook(p, tmp_path / "b.xlsx", bad)
    v = values(path)
    rows = []
    for n in range(4, 4 + 5000):  # the live checks, down to the first blank row
        if v.get(("审核", f"A{n}")) in (None, ""):
            break
        rows.append((v.get(("审核", f"B{n}")), v.get(("审核", f"D{n}"))))
    assert {code for code, _ in rows} == {lc.code for lc in live_checks(p)}
    failed = {code for code, result in rows if result not in ("通过", "已说明")}
    assert {"ARITH-SCORE-RANGE", "COMP-EXPLAIN-SCORE", "ARITH-IND-SCORE"} <= failed
    live = {lc.code for lc in live_checks(p)}
    report = check_file(path)  # what the bureau's `perfxl check` says of the same file
    python = {x.code for x in report.findings if not x.explained and x.code in live}
    assert failed == python


def test_every_formula_whitelisted(templates: dict[str, Path], tmp_path: Path) -> None:
    extra = build_workbook(
        load_profile("project-2020"), tmp_path / "x.xlsx", load_filing(PROJECT_EXAMPLE)
    )
    for path in [*templates.values(), extra]:
        for formula in all_formulas(path):
            assert F.functions_in(formula) <= F.WHITELIST | F.ALSO_ALLOWED, formula


def all_formulas(path: Path) -> list[str]:
    """Cell, data-validation and conditional-format formulas of a workbook."""
    wb = openpyxl.load_workbook(path)
    out: list[str] = []
    for ws in wb.worksheets:
        out += [
            c.value
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("=")
        ]
        out += [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "custom"]
        for rng in ws.conditional_formatting:
            for rule in rng.rules:
                out += list(rule.formula or [])
    assert out
    return out


def test_functions_in() -> None:
    assert F.functions_in("=IF(A1=\"SUM(\",ROUND(B2,2),'Sheet (1)'!C3)") == {"IF", "ROUND"}
    with pytest.raises(F.FormulaError):
        F.checked("XLOOKUP(A1,B:B,C:C)")


def test_cli_template(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    r = run_cli("template", "project-2020", "-o", out, "--rows", "3")
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    (_, ref), = wb.defined_names["pf_ind_2_2"].destinations  # fmt: skip
    assert ref == "$C$16:$M$18"
    r = run_cli("template", "--all", "-o", tmp_path / "all")
    assert r.returncode == 0, r.stderr
    assert sorted(x.name for x in (tmp_path / "all").iterdir()) == sorted(
        f"{p}{s}" for p in PROFILES for s in (".xlsm", ".xlsx")
    )
    assert r.stdout.rstrip().splitlines()[-1] == (
        f"共生成 {2 * len(PROFILES)} 份模板（{len(PROFILES)} 个评价框架）"
    )
    r = run_cli("template", "project-2020", "-o", tmp_path / "t.xlsm")  # the shipped macros
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "t.xlsm") as z:
        assert "xl/vbaProject.bin" in z.namelist()
    r = run_cli("template", "project-2020", "-o", tmp_path / "t.txt")
    assert r.returncode == 2 and ".xlsx" in r.stderr
    r = run_cli("template", "no-such-profile", "-o", tmp_path / "n.xlsx")
    assert r.returncode == 2 and "评价框架" in r.stderr


def test_xlsm_with_vba_project(tmp_path: Path) -> None:
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)  # OLE header
    out = tmp_path / "t.xlsm"
    r = run_cli("template", "project-2020", "-o", out, "--vba", vba)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        assert z.read("xl/vbaProject.bin") == vba.read_bytes()
        assert b"macroEnabled" in z.read("[Content_Types].xml")
    r = run_cli("template", "project-2020", "-o", tmp_path / "t.xlsx", "--vba", vba)
    assert r.returncode == 2 and ".xlsm" in r.stderr


def test_a_title_with_characters_excel_forbids_still_builds(tmp_path: Path) -> None:
    from perfxl.workbook.read import read_workbook

    base = load_profile("project-2020")
    odd = base.model_copy(
        update={"title": "[2024] 项目支出/绩效:自评*表?（某市专用，标题很长很长很长）"}
    )
    filing = load_filing(ROOT / "examples" / "project-archives-digitization.yaml")
    out = build_workbook(odd, tmp_path / "odd.xlsx", filing)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "_2024_ 项目支出_绩效_自评_表_（某市专用，标题很长很"
    back = read_workbook(out, odd)
    assert back.header == filing.header and back.funds.total.executed == Decimal("489.27")
