"""Department filings as published: projects of several units, stated project and
indicator counts in cells of their own, checked at those cells."""

from __future__ import annotations

from decimal import Decimal

import openpyxl

from perfxl.filing_io import load_filing
from perfxl.findings import Status
from perfxl.model import Filing
from perfxl.profile import load_profile
from perfxl.verdict import check_path
from perfxl.workbook.fill import build_filled, fill, not_kept
from perfxl.workbook.read import read_workbook_ex
from perfxl.workbook.write import build_workbook

from .check_helpers import guangdong
from .conftest import PROJECT_EXAMPLE, UNITS_EXAMPLE
from .test_rules_crosstable import two_units

D = Decimal


def stated() -> Filing:
    data = guangdong()
    data["group_scores"] = {k: v for k, v in data["group_scores"].items() if "." not in k}
    data["projects"] = two_units()["projects"]
    data["counts"] = {"all": {"indicators": 26, "full_marks": 23}, "1": {"indicators": 3}}
    data["project_counts"] = [
        {"unit": "合计", "first": 4, "second": 3},
        {"unit": "本级", "first": 4, "second": 2},
        {"unit": "某档案服务中心", "first": 1, "second": 1},
    ]
    return Filing.model_validate(data)


def findings(path, prefix="XT-"):
    report = check_path(path).report
    return sorted((f.code, f.location()) for f in report.findings if f.code.startswith(prefix))


def test_counts_have_cells_and_come_back(tmp_path):
    src = stated()
    out = build_filled(load_profile(src.profile), src, tmp_path / "g.xlsx")
    back, notes = read_workbook_ex(out)
    assert notes == []
    assert back.counts == src.counts and back.project_counts == src.project_counts
    assert [(p.unit, p.unit_code) for p in back.projects] == [
        (p.unit, p.unit_code) for p in src.projects
    ]
    assert not_kept(src, out) == []
    assert findings(out) == []


def test_counts_that_disagree_are_reported_at_their_cells(tmp_path):
    src = stated()
    wrong = src.model_copy(
        update={
            "counts": {"all": {"indicators": 26, "full_marks": 22}},
            "project_counts": [
                src.project_counts[0].model_copy(update={"first": 5}),  # rows, not categories
                *src.project_counts[1:],
            ],
        }
    )
    out = build_filled(load_profile(src.profile), Filing.model_validate(wrong), tmp_path / "w.xlsx")
    back, _ = read_workbook_ex(out)
    assert findings(out) == sorted(
        [
            ("XT-COUNTS", f"评分表!{back.where('counts.all.full_marks').cell}"),
            ("XT-PROJECT-COUNTS", "项目支出明细!L4"),
        ]
    )


def test_a_template_made_before_the_count_cells_still_reads_and_fill_says_what_it_lost(
    tmp_path,
):
    blank = build_workbook(load_profile("dept-guangdong"), tmp_path / "blank.xlsx")
    wb = openpyxl.load_workbook(blank)
    for name in [n for n in wb.defined_names if n.startswith("pf_count_")]:
        del wb.defined_names[name]
    del wb.defined_names["pf_project_counts"]
    wb.save(tmp_path / "old.xlsx")
    src = stated()
    out = fill(tmp_path / "old.xlsx", src, tmp_path / "filled.xlsx")
    back, _notes = read_workbook_ex(out)
    assert back.counts == {} and back.project_counts == []
    lost = {p.place for p in not_kept(src, out)}
    assert {"counts.all.indicators", "project_counts.0.first", "project_counts.2.unit"} <= lost


def test_the_bundled_units_example_passes_and_fills_without_loss(tmp_path):
    src = load_filing(UNITS_EXAMPLE)
    assert check_path(UNITS_EXAMPLE).report.valid
    units = {p.unit for p in src.projects}
    assert units == {None, "示例市图书馆"}
    shared = {p.name for p in src.projects if p.level == 1 and p.unit} & {
        p.name for p in src.projects if p.level == 1 and not p.unit
    }
    assert shared == {"运行经费", "信息化运行维护经费"}
    out = fill("dept-guangdong", src, tmp_path / "units.xlsx")
    assert not_kept(src, out) == []
    back, notes = read_workbook_ex(out)
    assert notes == []
    assert back.model_dump(exclude={"sources"}) == src.model_dump(exclude={"sources"})
    report = check_path(out).report
    assert report.valid and report.status("XT-PROJECT-COUNTS") is Status.PASSED


def test_the_self_report_names_each_projects_unit_and_subtotals_per_unit():
    from perfxl.scoring import score
    from perfxl.selfreport import build_report, to_markdown

    src = load_filing(UNITS_EXAMPLE)
    profile = load_profile(src.profile)
    text = to_markdown(build_report(src, profile, score(src, profile)))
    assert "| 运行经费（本级） | 420.00 | 436.00 | 431.20 | 98.90% |" in text
    assert "| 运行经费（示例市图书馆） | 310.00 | 318.00 | 315.40 | 99.18% |" in text
    assert "| 本级小计 | 1,500.00 | 1,566.00 | 1,550.30 | 99.00% |" in text
    assert "| 示例市图书馆小计 | 725.00 | 723.00 | 716.10 | 99.05% |" in text
    assert "“运行经费”（示例市图书馆）年初预算310.00万元" in text


def test_unit_subtotals_are_computed_beside_the_stated_ones_and_checked_at_their_cell(tmp_path):
    """Two units each with a 一级项目 运行经费: each unit's stated subtotal is its own rows'."""
    src = load_filing(UNITS_EXAMPLE)
    out = fill("dept-guangdong", src, tmp_path / "ok.xlsx")
    assert findings(out, "XT-PROJECT-UNIT-SUM") == []
    ws = openpyxl.load_workbook(out)["项目支出明细"]
    assert ws["S4"].value == "本级" and ws["W4"].value.startswith("=IF($S4=")
    wrong = src.model_copy(deep=True)
    wrong.project_subtotals[1].spent = D("700.00")  # the rows of 示例市图书馆 give 716.10
    out = fill("dept-guangdong", wrong, tmp_path / "wrong.xlsx")
    assert findings(out, "XT-PROJECT-UNIT-SUM") == [("XT-PROJECT-UNIT-SUM", "项目支出明细!V5")]
    (f,) = [x for x in check_path(out).report.findings if x.code == "XT-PROJECT-UNIT-SUM"]
    assert "「示例市图书馆」的实际支出小计填报 700，" in f.message and "716.10" in f.message


def test_project_counts_are_recomputed_beside_and_reported_at_the_stated_cell(tmp_path):
    # 效益指标: 4 rows under two of its four 二级 (the other two are empty rows, no
    # indicators); 3 of them at full marks. The 复算 cells beside show what is counted.
    src = load_filing(PROJECT_EXAMPLE)
    right = {"3": {"indicators": 4, "full_marks": 3}, "all": {"indicators": 12, "full_marks": 8}}
    profile = load_profile(src.profile)
    ok = build_filled(profile, src.model_copy(update={"counts": right}), tmp_path / "ok.xlsx")
    assert findings(ok) == []
    cached = openpyxl.load_workbook(ok, data_only=True)
    for name, count in (
        ("pf_count_3_indicators_recomputed", 4),
        ("pf_count_3_full_marks_recomputed", 3),
        ("pf_count_all_full_marks_recomputed", 8),
    ):
        sheet, ref = next(iter(cached.defined_names[name].destinations))
        assert cached[sheet][ref.replace("$", "")].value == count, name
    wrong = {"3": {"indicators": 6, "full_marks": 5}}  # the two empty 二级 counted
    out = build_filled(profile, src.model_copy(update={"counts": wrong}), tmp_path / "w.xlsx")
    back, _ = read_workbook_ex(out)
    sheet = back.where("counts.3.indicators").sheet
    assert findings(out) == sorted(
        [
            ("XT-COUNTS", f"{sheet}!{back.where('counts.3.indicators').cell}"),
            ("XT-COUNTS", f"{sheet}!{back.where('counts.3.full_marks').cell}"),
        ]
    )
