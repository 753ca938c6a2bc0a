"""计算 rules on real filings: each fires at the right field, and is silent when correct."""

from decimal import Decimal

from perfxl.findings import Status

from .check_helpers import blocking, guangdong, indicator, project, run, variant, warnings, wuhan

D = Decimal


def test_fund_lines_add_up_in_every_column():
    data = project()
    data["funds"]["fiscal"]["budget"] = D("480.00")
    report = run(data)
    assert blocking(report) == [["ARITH-FUND-SUM", "funds.total.budget"]]
    (f,) = report.errors
    assert (f.expected, f.actual) == ("500.00", "490.00")
    data = project()
    data["funds"]["carryover"]["executed"] = D("19.99")
    assert blocking(run(data)) == [["ARITH-FUND-SUM", "funds.total.executed"]]
    assert run(project()).status("ARITH-FUND-SUM") is Status.PASSED
    assert run(wuhan()).status("ARITH-FUND-SUM") is Status.NOT_APPLICABLE  # no 其中 rows


def test_stated_execution_rate_equals_executed_over_budget():
    data = project()
    data["funds"]["total"]["rate"] = D("99.58")
    report = run(data)
    assert blocking(report) == [["ARITH-EXEC-RATE", "funds.total.rate"]]
    assert report.errors[0].expected == "99.85"
    assert run(project()).status("ARITH-EXEC-RATE") is Status.PASSED


def test_zero_budget_has_no_rate():
    data = wuhan()
    data["funds"]["total"] = {
        "initial": D("10"),
        "budget": D("0"),
        "executed": D("0"),
        "rate": D("0"),
    }
    report = run(data)
    assert blocking(report) == [["ARITH-EXEC-RATE", "funds.total.rate"]]
    del data["funds"]["total"]["rate"]
    assert blocking(run(data)) == []


def test_execution_score_is_rate_times_weight_half_up():
    data = project()
    data["funds"]["total"]["score"] = D("9.98")  # float rounding of 9.985: the classic slip
    assert blocking(run(data)) == [
        ["ARITH-EXEC-SCORE", "funds.total.score"],
        ["ARITH-GROUP-SUM", "group_scores.1"],  # the 一级 row still says 9.99
    ]
    assert run(project()).status("ARITH-EXEC-SCORE") is Status.PASSED


def test_indicator_score_is_recomputed_from_the_rule():
    data = project()
    i, row = indicator(data, "档案著录条目")
    row["score"] = D("6.50")
    data["group_scores"]["2"] = D("47.34")  # the unit kept its sums consistent
    data["total_score"] = D("94.33")
    report = run(data)
    assert blocking(report) == [
        ["ARITH-IND-SCORE", f"indicators.{i}.score"],
        ["ARITH-TOTAL", "total_score"],
    ]
    assert (report.errors[0].expected, report.errors[0].actual) == ("6.40", "6.50")
    assert run(project()).status("ARITH-IND-SCORE") is Status.PASSED


def test_inverse_indicator_score():
    data = project()
    i, row = indicator(data, "单位加工成本")  # 反向: 90 / 99 × 10 = 9.0909 → 9.09
    row["score"] = D("9.1")
    data["group_scores"]["2"] = D("47.25")
    data["total_score"] = D("94.24")
    assert blocking(run(data)) == [
        ["ARITH-IND-SCORE", f"indicators.{i}.score"],
        ["ARITH-TOTAL", "total_score"],
    ]


def test_fixed_indicator_score_is_recomputed_from_its_profile_rule():
    data = guangdong()
    data["indicators"][2]["score"] = D("9.90")  # 1.2.1: 98.50 % × 10 = 9.85
    data["group_scores"].update({"1": D("47.90"), "1.2": D("9.90")})
    data["total_score"] = D("96.90")
    assert blocking(run(data)) == [
        ["ARITH-IND-SCORE", "indicators.2.score"],
        ["ARITH-TOTAL", "total_score"],
    ]
    assert run(guangdong()).status("ARITH-IND-SCORE") is Status.PASSED


def test_qualitative_score_lies_in_its_band():
    data = project()
    i, row = indicator(data, "数字档案长期可用性")  # 部分达成: [6, 8)
    row["score"] = D("8")
    data["group_scores"]["3"] = D("28")
    data["total_score"] = D("95.23")
    assert blocking(run(data)) == [["ARITH-QUAL-BAND", f"indicators.{i}.score"]]
    row["score"] = D("6")
    data["group_scores"]["3"] = D("26")
    data["total_score"] = D("93.23")
    assert blocking(run(data)) == []
    assert run(project()).status("ARITH-QUAL-BAND") is Status.PASSED


def test_scores_stay_within_zero_and_the_weight():
    data = guangdong()
    data["indicators"][0]["score"] = D("25")  # 1.1.1 is worth 20
    data["group_scores"].update({"1": D("52.85"), "1.1": D("43")})
    data["total_score"] = D("101.85")
    assert blocking(run(data)) == [
        ["ARITH-SCORE-RANGE", "indicators.0.score"],
        ["ARITH-SCORE-RANGE", "total_score"],
        ["ARITH-SCORE-RANGE", "group_scores.1"],
        ["ARITH-SCORE-RANGE", "group_scores.1.1"],
        ["ARITH-TOTAL", "total_score"],  # the engine keeps the judged 25 within 20
    ]
    assert run(guangdong()).status("ARITH-SCORE-RANGE") is Status.PASSED


def test_group_weights_add_up_or_are_explained():
    data = project()
    _, a = indicator(data, "数字化加工量")
    _, b = indicator(data, "档案查阅利用人次")
    a.update(weight=D(9), score=D(9))  # one point moved from 产出 to 效益
    b.update(weight=D(11), score=D(11))
    data["group_scores"].update({"2": D("46.24"), "3": D("28")})
    report = run(data)
    assert blocking(report) == []
    assert warnings(report) == [
        ["ARITH-WEIGHT-GROUP", "group_scores.2", False],
        ["ARITH-WEIGHT-GROUP", "group_scores.3", False],
        ["COMP-EXPLAIN-OVER", "indicators.7.explanation", True],
    ]
    data["group_remarks"] = {"2": "按批复调整权重。", "3": "按批复调整权重。"}
    assert run(data).status("ARITH-WEIGHT-GROUP") is Status.EXPLAINED
    assert run(project()).status("ARITH-WEIGHT-GROUP") is Status.PASSED


def test_all_weights_add_up_to_the_total():
    data = project()
    _, row = indicator(data, "数据库挂接正确率")
    row["weight"] = D(5)
    row["score"] = D(5)
    data["group_scores"]["2"] = D("48.24")
    data["total_score"] = D("95.23")
    report = run(data)
    assert blocking(report) == [["ARITH-WEIGHT-TOTAL", "indicators"]]
    assert report.errors[0].actual == "101.00"
    assert run(project()).status("ARITH-WEIGHT-TOTAL") is Status.PASSED


def test_fixed_weights_equal_the_profile():
    data = guangdong()
    row = next(r for r in data["indicators"] if r["code"] == "2.4.3")  # 7 points, scored 6
    row["weight"] = D(8)
    n = data["indicators"].index(row)
    assert blocking(run(data)) == [["ARITH-WEIGHT-FIXED", f"indicators.{n}.weight"]]
    assert run(guangdong()).status("ARITH-WEIGHT-FIXED") is Status.PASSED


def test_subtotals_equal_the_sum_of_their_rows():
    data = project()
    data["group_scores"]["2"] = D("47.42")
    assert blocking(run(data)) == [["ARITH-GROUP-SUM", "group_scores.2"]]
    data = guangdong()
    data["group_scores"]["2.4"] = D("15")  # its rows give 14; 管理效率 (49) agreed with them
    assert blocking(run(data)) == [
        ["ARITH-GROUP-SUM", "group_scores.2"],
        ["ARITH-GROUP-SUM", "group_scores.2.4"],
    ]
    assert run(project()).status("ARITH-GROUP-SUM") is Status.PASSED
    # Wuhan's summary has no detail under its 一级 scores: nothing to add up
    assert run(wuhan()).status("ARITH-GROUP-SUM") is Status.NOT_APPLICABLE


def test_total_equals_the_recomputed_total():
    data = project()
    data["total_score"] = D("94.32")
    report = run(data)
    assert blocking(report) == [["ARITH-TOTAL", "total_score"]]
    assert report.errors[0].expected == "94.23"
    data = wuhan()
    data["total_score"] = D("95")
    assert blocking(run(data)) == [["ARITH-TOTAL", "total_score"]]


def test_grade_follows_the_total():
    data = project()
    data["grade"] = "良"
    report = run(data)
    assert blocking(report) == [["ARITH-GRADE", "grade"]]
    assert report.errors[0].expected == "优"
    data = wuhan()
    data["grade"] = "优"  # dept-hubei's bands are named 优秀 / 良好 / 合格 / 不合格
    assert blocking(run(data)) == [["ARITH-GRADE", "grade"]]


def test_execution_rate_caps_the_total():
    capped = variant("project-2020", execution_caps=[{"below": 99.9, "max_total": 89}])
    data = project()  # 执行率 99.85 %, total 94.23
    assert blocking(run(data, capped)) == [["ARITH-EXEC-CAP", "total_score"]]
    data.update(total_score=D(89), grade="良")
    assert blocking(run(data, capped)) == []
    assert run(data, capped).status("ARITH-EXEC-CAP") is Status.PASSED
    assert run(project()).status("ARITH-EXEC-CAP") is Status.NOT_APPLICABLE
