"""外部数据 rules: the filing against the bureau's budget (--budget) and targets (--targets)."""

from decimal import Decimal

import pytest
import xlsxwriter

from perfxl.errors import InputError
from perfxl.findings import Status
from perfxl.reference_data import load_budget, load_targets, number_in

from .check_helpers import blocking, indicator, project, run, warnings, wuhan

D = Decimal


def _csv(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


PROJECT_BUDGET = (
    "单位编码,项目名称,年初预算,调整预算,执行数\n901001,档案数字化,490.00,490.00,489.27\n"
)


def test_project_figures_equal_the_budget(tmp_path):
    budget = load_budget(_csv(tmp_path, PROJECT_BUDGET))
    report = run(project(), budget=budget)
    assert blocking(report) == [] and report.status("EXT-BUDGET") is Status.PASSED
    wrong = load_budget(_csv(tmp_path, PROJECT_BUDGET.replace("490.00,489.27", "500.00,489.27")))
    report = run(project(), budget=wrong)
    assert blocking(report) == [["EXT-BUDGET", "funds.total.budget"]]
    assert (report.errors[0].expected, report.errors[0].actual) == ("500.00", "490.00")
    assert run(project()).status("EXT-BUDGET") is Status.NOT_APPLICABLE


def test_budget_rows_of_other_units_do_not_match(tmp_path):
    budget = load_budget(_csv(tmp_path, PROJECT_BUDGET.replace("901001", "901002")))
    report = run(project(), budget=budget)
    assert blocking(report) == []
    assert warnings(report)[0] == ["EXT-BUDGET-MISSING", "funds.total", False]


def test_department_budget_with_project_lines(tmp_path):
    text = (
        "单位名称,项目,年初预算,调整预算,执行数\n"
        "武汉市档案馆,,3856.83,3233.46,3233.46\n"
        "武汉市档案馆,档案数字化,490,490,490\n"
        "武汉市档案馆,新馆建设,421.41,0,0\n"
    )
    budget = load_budget(_csv(tmp_path, text, encoding="gb18030"))  # Excel's Chinese CSV
    assert blocking(run(wuhan(), budget=budget)) == []
    wrong = load_budget(_csv(tmp_path, text.replace("421.41,0,0", "421.41,421.41,0"), "b.csv"))
    assert blocking(run(wuhan(), budget=wrong)) == [["EXT-BUDGET", "projects.3.adjusted"]]
    extra = load_budget(_csv(tmp_path, text + "武汉市档案馆,档案征集,50,50,50\n", "c.csv"))
    report = run(wuhan(), budget=extra)
    assert warnings(report) == [["EXT-BUDGET-MISSING", "projects", False]]


def test_budget_from_xlsx_and_yaml(tmp_path):
    p = tmp_path / "b.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    for c, h in enumerate(("单位编码", "项目名称", "年初预算", "调整预算", "执行数")):
        ws.write(0, c, h)
    ws.write_number(1, 0, 901001)  # a code typed as a number
    ws.write_string(1, 1, "档案数字化")
    for c, v in enumerate((490, 490, 489.27), start=2):
        ws.write_number(1, c, v)
    wb.close()
    assert blocking(run(project(), budget=load_budget(p))) == []
    y = tmp_path / "b.yaml"
    y.write_text(
        "rows:\n  - {项目名称: 档案数字化, 年初预算: 490, 执行数: 489.26}\n", encoding="utf-8"
    )
    assert blocking(run(project(), budget=load_budget(y))) == [
        ["EXT-BUDGET", "funds.total.executed"]
    ]


def test_unusable_budget_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="单位编码"):
        load_budget(_csv(tmp_path, "年初预算\n1\n"))
    with pytest.raises(InputError, match="第 2 行"):
        load_budget(_csv(tmp_path, "项目名称,年初预算\n档案数字化,四百九十\n", "x.csv"))
    with pytest.raises(InputError, match="不存在"):
        load_budget(tmp_path / "none.csv")


TARGETS = (
    "项目名称,指标名称,年度指标值,年初指标值,调整指标值\n"
    "档案数字化,数字化加工量,,≥200,≥100\n"
    "档案数字化,档案著录条目,≥50,,\n"
    "档案数字化,数字档案长期可用性,数字档案长期可读、可用,,\n"
)


def test_targets_equal_the_approved_ones(tmp_path):
    targets = load_targets(_csv(tmp_path, TARGETS))
    report = run(project(), targets=targets)
    assert blocking(report) == [] and report.status("EXT-TARGET") is Status.PASSED
    wrong = load_targets(_csv(tmp_path, TARGETS.replace("≥50", "≥60"), "t.csv"))
    i, _ = indicator(project(), "档案著录条目")
    report = run(project(), targets=wrong)
    assert blocking(report) == [["EXT-TARGET", f"indicators.{i}.target"]]
    assert report.errors[0].expected == "≥60"
    text = load_targets(_csv(tmp_path, TARGETS.replace("长期可读、可用", "长期可读"), "q.csv"))
    j, _ = indicator(project(), "数字档案长期可用性")
    assert blocking(run(project(), targets=text)) == [["EXT-TARGET", f"indicators.{j}.target"]]


def test_the_initial_target_is_checked_when_the_target_was_adjusted(tmp_path):
    targets = load_targets(_csv(tmp_path, TARGETS.replace("≥200", "≥180")))
    i, _ = indicator(project(), "数字化加工量")
    assert blocking(run(project(), targets=targets)) == [
        ["EXT-TARGET", f"indicators.{i}.target_initial"]
    ]


def test_missing_and_extra_indicators_are_warnings(tmp_path):
    targets = load_targets(_csv(tmp_path, TARGETS + "档案数字化,档案数字化成果移交率,≥95%,,\n"))
    report = run(project(), targets=targets)
    assert blocking(report) == []
    found = warnings(report)
    assert ["EXT-TARGET-MISSING", "indicators", False] in found
    assert report.status("EXT-TARGET-EXTRA") is Status.FAILED  # 9 own indicators not approved
    none = load_targets(_csv(tmp_path, TARGETS.replace("档案数字化,", "档案修复,"), "n.csv"))
    assert ["EXT-TARGET-MISSING", "indicators", False] in warnings(run(project(), targets=none))


def test_numbers_in_targets():
    assert number_in("≥98%") == D(98)
    assert number_in("≤90 元/百幅面") == D(90)
    assert number_in("＝１００％") == D(100)
    assert number_in("1,200.5") == D("1200.5")
    assert number_in("长期可读、可用") is None
