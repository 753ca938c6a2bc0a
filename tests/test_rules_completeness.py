"""完整性 rules: each fires at the right field on a real filing, and is silent when correct.

Each test starts from a bundled example (or a complete variant of it), changes what a
user would get wrong, and asserts the exact list of blocking findings: a rule that fires
elsewhere too, or a knock-on finding nobody expects, fails the test."""

from decimal import Decimal

from perfxl.findings import Status

from .check_helpers import blocking, indicator, project, run, variant, warnings, wuhan

D = Decimal


def test_the_examples_have_no_blocking_finding():
    for data in (project(), wuhan()):
        report = run(data)
        assert report.valid and blocking(report) == []
    # the project example explains its one over-achievement: a warning marked 已说明
    assert warnings(run(project())) == [["COMP-EXPLAIN-OVER", "indicators.7.explanation", True]]


def test_header_name_is_required():
    data = project()
    data["header"]["name"] = ""
    assert blocking(run(data)) == [["COMP-HEADER", "header.name"]]
    assert run(project()).status("COMP-HEADER") is Status.PASSED


def test_funds_must_be_filled():
    data = project()
    del data["funds"]["total"]["executed"]
    # no 执行数: no 执行率 either, so the recomputed total loses the 执行率 score
    assert blocking(run(data)) == [
        ["COMP-FUNDS", "funds.total.executed"],
        ["ARITH-TOTAL", "total_score"],
    ]
    data = project()
    del data["funds"]["total"]["score"]
    # the 一级 预算执行率 (group_scores.1) now has no detail to be compared with
    assert blocking(run(data)) == [["COMP-FUNDS", "funds.total.score"]]
    assert run(project()).status("COMP-FUNDS") is Status.PASSED


def test_total_and_grade_are_required():
    data = project()
    del data["grade"]
    assert blocking(run(data)) == [["COMP-TOTAL", "grade"]]
    data = wuhan()
    del data["total_score"]
    assert blocking(run(data)) == [["COMP-TOTAL", "total_score"]]


def test_goal_texts_are_required_in_project_tables():
    data = project()
    data["goal_actual"] = ""
    assert blocking(run(data)) == [["COMP-TEXTS", "goal_actual"]]
    assert run(project()).status("COMP-TEXTS") is Status.PASSED
    assert run(wuhan()).status("COMP-TEXTS") is Status.NOT_APPLICABLE


def test_own_indicators_need_a_name():
    data = project()
    i, row = indicator(data, "成果质检抽检批次")
    del row["name"]
    assert blocking(run(data)) == [["COMP-IND-NAME", f"indicators.{i}.name"]]


def test_own_indicators_need_a_direction():
    data = project()
    i, row = indicator(data, "数据库挂接正确率")
    del row["direction"]
    # without 指标性质 the engine cannot score the row, so its total differs as well
    assert blocking(run(data)) == [
        ["COMP-IND-DIRECTION", f"indicators.{i}.direction"],
        ["ARITH-TOTAL", "total_score"],
    ]


def test_own_indicators_need_a_weight():
    data = project()
    i, row = indicator(data, "成果质检抽检批次")
    del row["weight"]
    assert blocking(run(data)) == [
        ["COMP-IND-WEIGHT", f"indicators.{i}.weight"],
        # 产出 now has 45 points of 三级 weights but states 47.24
        ["ARITH-SCORE-RANGE", "group_scores.2"],
        ["ARITH-WEIGHT-TOTAL", "indicators"],
        ["ARITH-TOTAL", "total_score"],
    ]


def test_filled_indicators_need_a_score():
    data = project()
    i, row = indicator(data, "成果质检抽检批次")
    del row["score"]
    assert blocking(run(data)) == [
        ["COMP-IND-SCORE", f"indicators.{i}.score"],
        ["ARITH-GROUP-SUM", "group_scores.2"],
    ]
    assert run(project()).status("COMP-IND-SCORE") is Status.PASSED


def test_a_top_level_without_any_indicator_is_a_warning():
    data = project()
    i, _ = indicator(data, "档案利用者满意度")
    del data["indicators"][i]
    report = run(data)
    assert warnings(report) == [
        ["COMP-GROUP-EMPTY", "group_scores.4", False],
        ["COMP-EXPLAIN-OVER", "indicators.7.explanation", True],
    ]
    # the weights no longer reach 100; in a project table a 一级 score comes from its 三级
    # only, so the stated total (with 10 for 满意度) no longer matches the recomputed one
    assert blocking(report) == [
        ["ARITH-WEIGHT-TOTAL", "indicators"],
        ["ARITH-TOTAL", "total_score"],
    ]
    data["group_remarks"] = {"4": "本项目无直接服务对象，满意度指标不适用。"}
    assert ["COMP-GROUP-EMPTY", "group_scores.4", True] in warnings(run(data))


def test_a_score_below_its_weight_needs_an_explanation():
    data = project()
    i, row = indicator(data, "档案著录条目")
    del row["explanation"]
    report = run(data)
    assert blocking(report) == [["COMP-EXPLAIN-SCORE", f"indicators.{i}.explanation"]]
    (f,) = report.errors
    assert f.expected == "8" and f.actual == "6.40" and "6.40" in f.message
    assert run(project()).status("COMP-EXPLAIN-SCORE") is Status.PASSED


def test_over_achievement_is_a_warning_until_explained():
    data = project()
    i, row = indicator(data, "档案查阅利用人次")
    del row["explanation"]
    report = run(data)
    assert blocking(report) == []
    assert warnings(report) == [["COMP-EXPLAIN-OVER", f"indicators.{i}.explanation", False]]
    assert report.status("COMP-EXPLAIN-OVER") is Status.FAILED
    assert run(project()).status("COMP-EXPLAIN-OVER") is Status.EXPLAINED


def test_over_achievement_is_measured_against_the_threshold():
    data = project()
    i, row = indicator(data, "档案查阅利用人次")
    del row["explanation"]
    row["actual"] = D("6499.99")  # 129.9998 % of 5000: not yet 30 % beyond
    assert warnings(run(data)) == []
    row["actual"] = D("6500")  # exactly 130 %: counts, as in scoring.is_over_achieved
    assert warnings(run(data)) == [["COMP-EXPLAIN-OVER", f"indicators.{i}.explanation", False]]


def test_low_execution_needs_an_explanation_when_the_profile_says_so():
    strict = variant("project-2020", explain_execution_below=D("99.9"))
    data = project()  # 执行率 99.85 %
    assert blocking(run(data, strict)) == [["COMP-EXPLAIN-EXEC", "group_remarks.1"]]
    data["group_remarks"] = {"1": "年末两笔设备款未能支付。"}
    assert blocking(run(data, strict)) == []
    assert run(data, strict).status("COMP-EXPLAIN-EXEC") is Status.PASSED
    assert run(project()).status("COMP-EXPLAIN-EXEC") is Status.NOT_APPLICABLE


def test_text_limits():
    data = project()
    i, row = indicator(data, "档案著录条目")
    row["explanation"] = "疫" * 201
    report = run(data)
    assert blocking(report) == [["COMP-TEXT-LIMIT", f"indicators.{i}.explanation"]]
    assert report.errors[0].actual == "201" and report.errors[0].expected == "200"
    row["explanation"] = "疫" * 200
    assert blocking(run(data)) == []
    data["goal_expected"] = "目" * 501
    assert blocking(run(data)) == [["COMP-TEXT-LIMIT", "goal_expected"]]
