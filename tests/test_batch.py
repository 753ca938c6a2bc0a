"""Distributing pre-filled workbooks from a master table, and reading many returns."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from perfxl.batch import (
    MasterRow,
    distribute,
    file_name,
    read_many,
    read_master,
    sanitize,
    select_row,
)
from perfxl.errors import InputError
from perfxl.filing_io import load_filing
from perfxl.profile import load_profile
from perfxl.workbook.read import read_workbook

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE, run_cli
from .workbook_factory import build

FORM = "项目支出绩效自评表"
HEADER = [
    "单位编码", "项目名称", "主管部门", "实施单位", "年度",
    "年初预算数", "全年预算数", "其中：当年财政拨款（年初预算数）", "上年结转资金年初预算数", "备注",
]  # fmt: skip
ROWS = [
    ["901001", "档案数字化", "示例市档案局", "示例市档案馆", "2023", "490.00", "490", "470", "20", ""],
    ["901002", "档案修复/保护:一期", "示例市档案局", "示例市档案馆", "2023年", "1,200.50", "", "1200.5", "", ""],
    ["901003", "缺年度", "示例市档案局", "示例市档案馆", "", "12", "", "", "", ""],
    ["901004", "金额写错", "示例市档案局", "示例市档案馆", "2023", "四十", "", "", "", ""],
    ["", "合计", "", "", "", "1702.50", "", "", "", ""],
    ["901001", "档案数字化", "示例市档案局", "示例市档案馆", "2023", "4900000元", "", "", "", ""],
    ["901005", "CON", "", "", "2023", "1", "", "", "", ""],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """As a bureau keeps it: a title row above the header, amounts as numbers, codes as text."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("主表")
    ws.write_row(2, 1, HEADER)
    for i, row in enumerate(rows, start=3):
        for j, v in enumerate(row):
            if j in (5, 6, 7, 8) and v.replace(".", "").isdigit():
                ws.write_number(i, j + 1, float(v))
            elif v:
                ws.write_string(i, j + 1, v)
    wb.close()
    return path


def manifest(folder: Path) -> list[dict[str, str]]:
    raw = (folder / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese right
    with open(folder / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("kind", ["csv", "xlsx", "gb18030"])
def test_distribute_one_workbook_per_row(tmp_path, kind):
    if kind == "xlsx":
        master = write_xlsx(tmp_path / "主表.xlsx", ROWS)
    else:
        enc = "gb18030" if kind == "gb18030" else "utf-8-sig"
        master = write_csv(tmp_path / "主表.csv", ROWS, enc)
    out = tmp_path / "下发"
    outcomes = distribute(master, load_profile("project-2020"), out)
    rows = manifest(out)
    assert [r["序号"] for r in rows] == ["1", "2", "3", "4", "5", "6"]  # 合计 skipped
    assert list(rows[0]) == [
        "序号", "单位编码", "名称", "文件", "状态", "说明", "框架", "年度", "身份摘要", "文件摘要",
    ]  # fmt: skip
    assert [r["状态"] for r in rows] == ["已生成", "已生成", "失败", "失败", "已生成", "已生成"]
    assert [r["文件"] for r in rows] == [
        "2023_901001_档案数字化.xlsx",
        "2023_901002_档案修复_保护_一期.xlsx",
        "",
        "",
        "2023_901001_档案数字化_2.xlsx",
        "2023_901005_CON.xlsx",
    ]
    assert rows[2]["说明"] == "年度未填写" and "四十" in rows[3]["说明"]
    assert "按元填写，已折算为万元：490" in rows[4]["说明"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [r["文件"] for r in rows if r["文件"]] + ["manifest.csv"]
    )
    assert [o.status for o in outcomes] == [r["状态"] for r in rows]
    f = read_workbook(out / rows[1]["文件"])
    assert f.header.name == "档案修复/保护:一期" and f.header.year == 2023
    assert f.funds.total.initial == Decimal("1200.50") and f.funds.fiscal.initial == Decimal(
        "1200.5"
    )
    assert f.header.unit_code == "901002" and f.funds.total.executed is None


def test_budget_figures_are_locked_and_actuals_open(tmp_path):
    master = write_csv(tmp_path / "m.csv", ROWS[:1])
    distribute(master, load_profile("project-2020"), tmp_path / "o")
    wb = openpyxl.load_workbook(tmp_path / "o" / "2023_901001_档案数字化.xlsx")
    ws = wb[FORM]
    assert ws.protection.sheet
    assert ws["C6"].protection.locked and ws["D6"].protection.locked  # 年初 / 全年预算数
    assert not ws["E6"].protection.locked  # 全年执行数: the unit fills it
    assert not ws["C13"].protection.locked


def test_parallel_distribution_gives_the_same_files(tmp_path):
    master = write_csv(tmp_path / "m.csv", ROWS)
    p = load_profile("project-2020")
    distribute(master, p, tmp_path / "one", jobs=1)
    distribute(master, p, tmp_path / "two", jobs=2)
    assert manifest(tmp_path / "one") == manifest(tmp_path / "two")
    for row in manifest(tmp_path / "one"):
        if row["文件"]:
            a, b = (read_workbook(tmp_path / d / row["文件"]) for d in ("one", "two"))
            assert a.model_dump(exclude={"sources"}) == b.model_dump(exclude={"sources"})


def test_department_master(tmp_path):
    master = write_csv(tmp_path / "m.csv", ROWS[:2])
    distribute(master, load_profile("dept-hubei"), tmp_path / "o", pattern="{序号}-{名称}")
    f = read_workbook(tmp_path / "o" / "1-档案数字化.xlsx")
    assert f.profile == "dept-hubei" and f.funds.total.budget == Decimal(490)


def test_distribute_command(tmp_path):
    master = write_csv(tmp_path / "主表.csv", ROWS)
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", tmp_path / "o", "-j", "2")
    assert r.returncode == 1, r.stderr  # some rows failed; the others were written
    lines = [x for x in r.stderr.splitlines() if x.startswith("[")]
    assert len(lines) == 6 and all("/6]" in x for x in lines)  # a plain line per row
    assert "未识别的列（已忽略）：备注" in r.stderr
    assert "已生成 4 份，失败 2 行" in r.stdout
    good = write_csv(tmp_path / "好.csv", ROWS[:2])
    r = run_cli("distribute", good, "--profile", "project-2020", "-o", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "distribute", good, "--profile", "project-2020", "-o", tmp_path / "q", "--name", "{地区}"
    )
    assert r.returncode == 2 and "{地区}" in r.stderr


def test_master_problems(tmp_path):
    p = load_profile("project-2020")
    no_year = tmp_path / "无年度.csv"
    no_year.write_text("单位编码,名称\n1,甲\n", encoding="utf-8")
    with pytest.raises(InputError, match="年度"):
        read_master(no_year, p)
    rows = read_master(write_csv(tmp_path / "m.csv", ROWS), p).rows
    assert select_row(rows, key="unit_code=901002").index == 2
    assert select_row(rows, number=3).errors == ["年度未填写"]
    with pytest.raises(InputError, match="2 行"):
        select_row(rows, key="单位编码=901001")
    with pytest.raises(InputError, match="没有第 9 行"):
        select_row(rows, number=9)


def test_file_names_are_safe_on_windows():
    assert sanitize('a\\b/c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"
    assert sanitize(" 名称. ") == "名称" and sanitize("aux") == "_aux" and sanitize("") == "未命名"
    assert len(sanitize("长" * 300).encode()) <= 180  # file systems count bytes, not characters
    assert len(sanitize("a" * 300)) == 120
    row = MasterRow(1, 2, {"header.year": "2023", "header.name": "x"})
    assert file_name("{年度}_{单位编码}_{名称}.xlsx", row) == "2023_x.xlsx"


# ------------------------------------------------------------------ reading many


def test_read_many_keeps_going_past_bad_files(tmp_path):
    good = build(tmp_path / "好.xlsx", load_filing(PROJECT_EXAMPLE))
    dept = build(tmp_path / "部门.xlsx", load_filing(WUHAN_EXAMPLE))
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(good.read_bytes()[:1000])
    old = tmp_path / "旧.xls"
    shutil.copy(good, old)
    paths = [good, bad, dept, old, tmp_path / "没有.xlsx"]
    for jobs in (1, 2):
        results = read_many(paths, jobs=jobs)
        assert [r.path for r in results] == paths
        assert [r.ok for r in results] == [True, False, True, False, False]
        assert results[2].filing is not None and results[2].filing.profile == "dept-hubei"
        assert "损坏" in results[1].errors[0].message and "另存为" in results[3].errors[0].message
        assert results[0].notes == [] and results[1].filing is None
