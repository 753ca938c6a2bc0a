"""Reading filled workbooks as units return them: typed text, inserted rows, restyled sheets."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook

import perfxl
from perfxl.errors import InputError
from perfxl.filing_io import load_filing
from perfxl.model import Source
from perfxl.profile import load_profile_file
from perfxl.workbook.guard import col_letter, parse_ref
from perfxl.workbook.read import _Grid, read_workbook, read_workbook_ex

from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli
from .workbook_factory import Formula, build, expected, make_workbook

FORM = "项目支出绩效自评表"


def inputs_of(filing: perfxl.model.Filing) -> dict:
    """The fields a unit types (formula fields and sources left out)."""
    data = filing.model_dump(exclude={"sources", "total_score", "grade", "profile_version"})
    data["funds"]["total"].update(rate=None, score=None)
    if data.get("finance"):
        data["finance"].update(basic_share=None, project_share=None)
    for p in data["projects"]:
        p["rate"] = None
    return data


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("ex") / "example.xlsx", load_filing(PROJECT_EXAMPLE))


def with_overrides(tmp_path: Path, changes: dict[str, object]) -> Path:
    """The project example written with some cells typed differently."""
    f = load_filing(PROJECT_EXAMPLE)
    return make_workbook(tmp_path / "typed.xlsx", f, override=lambda path, v: changes.get(path, v))


def notes_at(notes: list, cell: str) -> list[str]:
    return [n.message for n in notes if f"!{cell}" in n.place]


# ------------------------------------------------------------------ the real writer's files


def test_example_reads_back_with_sources(example):
    f, notes = read_workbook_ex(example)
    assert notes == []
    assert f == expected(load_filing(PROJECT_EXAMPLE)).model_copy(update={"sources": f.sources})
    assert f.funds.total.rate == Decimal("99.85") and f.funds.total.score == Decimal("9.99")
    assert f.where("funds.total.budget") == Source(
        file=str(example), sheet=FORM, cell="D6", name="pf_funds_total_budget"
    )
    assert f.where("indicators.0.actual") == Source(
        file=str(example), sheet=FORM, cell="G13", name="pf_ind_2_1"
    )
    assert f.where("indicators.3.name").cell == "C18"  # first row of the 质量指标 block
    assert f.where("header.year").cell == "A2"


def test_department_example(tmp_path):
    src = load_filing(WUHAN_EXAMPLE)
    f, notes = read_workbook_ex(build(tmp_path / "dept.xlsx", src))
    assert notes == []
    assert f.model_copy(update={"sources": {}}) == expected(src)
    assert f.funds.total.rate == Decimal("100.00") and f.total_score == Decimal(96)
    assert [p.rate for p in f.projects] == [Decimal(100)] * 3 + [None]  # 新馆建设: budget 0
    assert f.where("group_scores.1").sheet == "评分表"


def test_perfxl_read_and_score_accept_workbooks(example):
    assert perfxl.read(example).header.name == "档案数字化"
    r = run_cli("score", example)
    assert r.returncode == 0, r.stderr
    assert "94.23" in r.stdout and "预算执行率：99.85%" in r.stdout


def test_read_cli_prints_yaml_or_json(example, tmp_path):
    r = run_cli("read", example, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["funds"]["total"]["rate"] == "99.85" and "sources" not in data
    assert json.loads(run_cli("read", example, "--json", "--sources").stdout)["sources"]
    y = run_cli("read", example)
    assert y.returncode == 0 and "name: 档案数字化" in y.stdout
    out = tmp_path / "back.yaml"
    out.write_text(y.stdout, encoding="utf-8")
    assert load_filing(out).header.unit_code == "901001"


# ------------------------------------------------------------------ what accountants type


def test_numbers_typed_as_text(tmp_path):
    p = with_overrides(
        tmp_path,
        {
            "funds.total.budget": "1,234.50",
            "funds.total.executed": "１，２００．００万元",
            "indicators.3.actual": "９５％",
            "indicators.1.weight": "8分",
            "funds.carryover.budget": "(20.00)",
            "funds.other.initial": "—",
            "funds.other.budget": "-",
            "funds.other.executed": "/",
            "header.year": "（2023年度）",
        },
    )
    f, notes = read_workbook_ex(p)
    assert f.funds.total.budget == Decimal("1234.50") and f.funds.total.executed == Decimal(1200)
    assert f.indicators[3].actual == Decimal(95)
    assert f.indicators[1].weight == Decimal(8)
    assert f.funds.carryover.budget == Decimal(-20)
    assert f.funds.other.model_dump(exclude_none=True) == {}
    assert f.header.year == 2023
    assert notes == []


def test_targets_with_comparators(tmp_path):
    p = with_overrides(
        tmp_path,
        {
            "indicators.0.target": "≥１００",
            "indicators.3.target": ">=98%",
            "indicators.6.target": "不超过 90",
            "indicators.10.target": "=0",
        },
    )
    f = read_workbook(p)
    got = [(i.target, i.target_text) for i in (f.indicators[k] for k in (0, 3, 6, 10))]
    assert got == [
        (Decimal(100), "≥１００"),
        (Decimal(98), ">=98%"),
        (Decimal(90), "不超过 90"),
        (Decimal(0), "=0"),
    ]


def test_direction_as_symbols_or_left_blank(tmp_path):
    p = with_overrides(
        tmp_path,
        {
            "indicators.6.direction": "≤",
            "indicators.0.direction": None,
            "indicators.0.target": "≥100",
            "indicators.9.direction": None,  # 定性 row: its 实际完成值 is a fixed phrase
        },
    )
    f, notes = read_workbook_ex(p)
    assert f.indicators[6].direction == "反向"
    assert f.indicators[0].direction == "正向" and "视为正向" in notes_at(notes, "D13")[0]
    assert f.indicators[9].direction == "定性" and f.indicators[9].actual_text
    assert f.indicators[9].target_text == "数字档案长期可读、可用"


def test_yuan_converted_and_suspected(tmp_path):
    p = with_overrides(
        tmp_path,
        {"funds.fiscal.initial": "4700000元", "funds.total.initial": Decimal(4900000)},
    )
    f, notes = read_workbook_ex(p)
    assert f.funds.fiscal.initial == Decimal(470)
    assert "按元填写，已折算为万元" in notes_at(notes, "C7")[0]
    assert f.funds.total.initial == Decimal(4900000)  # kept as written, but flagged
    assert "可能按元填写" in notes_at(notes, "C6")[0]


def test_text_that_is_no_number_is_kept_and_reported(tmp_path):
    p = with_overrides(
        tmp_path,
        {
            "indicators.1.actual": "四十",
            "funds.total.executed": "约五百",
            "indicators.1.score": "良",
        },
    )
    f, notes = read_workbook_ex(p)
    assert f.indicators[1].actual is None and f.indicators[1].actual_text == "四十"
    assert "中文数字" in notes_at(notes, "G14")[0]
    assert f.funds.total.executed is None and "金额" in notes_at(notes, "E6")[0]
    assert f.indicators[1].score is None and notes_at(notes, "I14")
    for n in notes:
        assert n.file == str(p) and n.place.startswith(f"{FORM}!")


def test_excel_error_values_are_reported(tmp_path):
    p = with_overrides(tmp_path, {"indicators.2.actual": Formula("=1/0", "#DIV/0!")})
    f, notes = read_workbook_ex(p)
    assert f.indicators[2].actual is None
    assert "#DIV/0!" in notes_at(notes, "G15")[0]


def test_rates_in_a_percentage_format(tmp_path):
    """Excel keeps "99.85%" typed in a 0.00% cell as 0.9985; read as 99.85 either way."""
    src = load_filing(PROJECT_EXAMPLE)
    fraction = read_workbook(make_workbook(tmp_path / "a.xlsx", src, percent_format=True))
    points = read_workbook(make_workbook(tmp_path / "b.xlsx", src, percent_format=False))
    assert fraction.funds.total.rate == points.funds.total.rate == Decimal("99.85")


def test_percentage_format_on_an_input_cell(tmp_path, example):
    wb = openpyxl.load_workbook(example)
    ws = wb[FORM]
    ws["G16"].value, ws["G16"].number_format = 0.992, "0.0%"  # 数字化成果合格率 99.2 %
    ws["G17"].value, ws["G17"].number_format = 1, '0"%"'  # a literal "%" is no percentage
    wb.save(tmp_path / "pct.xlsx")
    f = read_workbook(tmp_path / "pct.xlsx")
    assert f.indicators[3].actual == Decimal("99.2") and f.indicators[4].actual == Decimal(1)


def test_version_mismatch_is_a_note(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(tmp_path / "old.xlsx", f, meta={"pf_meta_version": "0.9"})
    _, notes = read_workbook_ex(p)
    assert any("版本 0.9" in n.message for n in notes)


# ------------------------------------------------------------------ what units do to sheets


def insert_rows_like_excel(
    src: Path, dst: Path, sheet: str, at: int, n: int = 1
) -> openpyxl.Workbook:
    """openpyxl's insert_rows, plus what Excel does and openpyxl doesn't: defined names and
    merged ranges below move down, and a range spanning the insertion point grows."""
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    ws.insert_rows(at, n)
    for dn in wb.defined_names.values():
        a = parse_ref(dn.attr_text)
        if a is None or a.sheet != sheet:
            continue
        r1 = a.row + n if a.row >= at else a.row
        r2 = a.last_row + n if a.last_row >= at else a.last_row
        sheet_part = dn.attr_text.rsplit("!", 1)[0]
        first, last = f"${col_letter(a.col)}${r1}", f"${col_letter(a.last_col)}${r2}"
        dn.attr_text = f"{sheet_part}!{first}" + (
            f":{last}" if (r1, a.col) != (r2, a.last_col) else ""
        )
    for mr in list(ws.merged_cells.ranges):
        if mr.min_row >= at:
            mr.shift(0, n)
        elif mr.max_row >= at:
            mr.expand(down=n)
    wb.save(dst)
    return wb


def test_rows_inserted_inside_a_block_are_read(tmp_path, example):
    out = tmp_path / "inserted.xlsx"
    insert_rows_like_excel(example, out, FORM, at=14, n=2)
    wb = openpyxl.load_workbook(out)
    ws = wb[FORM]
    for r, name in ((14, "新增指标甲"), (15, "新增指标乙")):
        ws[f"C{r}"], ws[f"D{r}"], ws[f"F{r}"], ws[f"G{r}"], ws[f"H{r}"] = name, "正向", 10, 12, 1
    wb.save(out)
    f, notes = read_workbook_ex(out)
    before = load_filing(PROJECT_EXAMPLE)
    names = [i.name for i in f.indicators]
    assert names[:5] == [
        "数字化加工量",
        "新增指标甲",
        "新增指标乙",
        "档案著录条目",
        "成果质检抽检批次",
    ]
    assert names[5:] == [i.name for i in before.indicators[3:]]
    assert f.indicators[1].target == Decimal(10) and f.where("indicators.1.name").cell == "C14"
    assert f.where("indicators.5.actual").cell == "G20"  # 质量指标 moved down by two
    assert inputs_of(f)["funds"] == inputs_of(expected(before))["funds"]
    assert notes == []


def test_row_inserted_under_a_block_is_reported_not_lost(tmp_path, example):
    out = tmp_path / "below.xlsx"
    insert_rows_like_excel(example, out, FORM, at=18)  # the first row of the next block
    wb = openpyxl.load_workbook(out)
    wb[FORM]["C18"], wb[FORM]["G18"] = "插错位置的指标", 5
    wb.save(out)
    f, notes = read_workbook_ex(out)
    assert "插错位置的指标" not in [i.name for i in f.indicators]
    assert any("第 18 行在区域 pf_ind_2_1 之外" in n.message for n in notes)


def test_restyled_sheets_read_the_same(tmp_path, example):
    wb = openpyxl.load_workbook(example)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                cell.font = Font(name="楷体", size=14, color="FF0000")
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
        for letter in "ABCDEFGHIJK":
            ws.column_dimensions[letter].width = 30
        ws.row_dimensions[13].height = 60
    wb.save(tmp_path / "restyled.xlsx")
    f = read_workbook(tmp_path / "restyled.xlsx")
    assert inputs_of(f) == inputs_of(expected(load_filing(PROJECT_EXAMPLE)))


def test_sheet_renamed_in_excel_reads_fine(tmp_path):
    """Excel and WPS update defined names on a rename; locating by name survives it."""
    src = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(tmp_path / "renamed.xlsx", src, sheet_names={FORM: "2020年自评'表"})
    f = read_workbook(p)
    assert f.where("funds.total.budget").sheet == "2020年自评'表"
    assert inputs_of(f) == inputs_of(expected(src))


def test_used_ranges_not_starting_at_a1(tmp_path):
    """calamine's rows start at a sheet's first used cell; positions must account for it."""
    src = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(tmp_path / "offset.xlsx", src)
    book = CalamineWorkbook.from_path(str(p))
    assert book.get_sheet_by_name(FORM).start == (1, 0)  # row 1 is empty
    assert book.get_sheet_by_name("_perfxl").start == (0, 1)  # column A is empty
    f = read_workbook(p)
    assert f.header.year == 2020 and f.profile == "project-2020"
    g = _Grid([[1, 2], [3, 4]], (4, 2))  # C5:D6
    assert [g.get(5, 3), g.get(6, 4), g.get(4, 3), g.get(5, 2), g.get(7, 3), g.get(5, 5)] == [
        1, 4, "", "", "", "",
    ]  # fmt: skip
    assert g.segment(6, 2, 4) == ["", 3, 4, ""]


def test_a_bureaus_own_profile(tmp_path):
    text = (ROOT / "perfxl/profiles/project-2020.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "city-2024.yaml"
    custom.write_text(text.replace("id: project-2020", "id: city-2024"), encoding="utf-8")
    prof = load_profile_file(custom)
    src = load_filing(PROJECT_EXAMPLE).model_copy(update={"profile": "city-2024"})
    p = make_workbook(tmp_path / "city.xlsx", src, prof)
    with pytest.raises(InputError, match="不是内置框架"):
        read_workbook(p)
    assert read_workbook(p, prof).profile == "city-2024"
    r = run_cli("read", p, "--profile", custom)
    assert r.returncode == 0 and "city-2024" in r.stdout
    with pytest.raises(InputError, match="不一致"):
        read_workbook(build(tmp_path / "x.xlsx", load_filing(PROJECT_EXAMPLE)), prof)


def test_reading_notes_go_to_stderr_in_chinese(tmp_path):
    p = with_overrides(tmp_path, {"indicators.1.actual": "四十[red]"})
    r = run_cli("read", p)
    assert r.returncode == 0
    assert "提示" in r.stderr and "G14" in r.stderr and "四十[red]" in r.stderr


def test_input_file_is_left_alone(tmp_path, example):
    copy = tmp_path / "copy.xlsx"
    shutil.copy(example, copy)
    before = copy.read_bytes()
    read_workbook(copy)
    assert copy.read_bytes() == before


def test_project_units_read_back_and_an_earlier_project_list_still_reads(tmp_path):
    from perfxl.model import Filing

    from .check_helpers import wuhan_full

    data = wuhan_full()
    data["projects"] += [
        {"name": "档案馆运行维护", "level": 1, "unit": "某档案服务中心", "unit_code": "123001"},
        {"name": "运行维护-物业", "level": 2, "parent": "档案馆运行维护", "unit": "某档案服务中心"},
    ]
    src = Filing.model_validate(data)
    book = build(tmp_path / "units.xlsx", src)
    f = read_workbook(book)
    assert [(p.name, p.unit, p.unit_code) for p in f.projects][-3:] == [
        ("新馆建设", None, None),
        ("档案馆运行维护", "某档案服务中心", "123001"),
        ("运行维护-物业", "某档案服务中心", None),
    ]
    assert f.where("projects.6.unit").cell == "H9" and f.where("projects.6.unit_code").cell == "I9"
    # a workbook made before the unit columns: pf_projects spans A:G only, units are blank
    wb = openpyxl.load_workbook(book)
    name = wb.defined_names["pf_projects"]
    name.attr_text = name.attr_text.replace("$I$", "$G$")
    for row in wb["项目支出明细"].iter_rows(min_row=3, max_row=32, min_col=8, max_col=9):
        for cell in row:
            cell.value = None
    wb.save(tmp_path / "old.xlsx")
    old, notes = read_workbook_ex(tmp_path / "old.xlsx")
    assert notes == []
    assert [p.name for p in old.projects] == [p.name for p in f.projects]
    assert {p.unit for p in old.projects} == {None}
