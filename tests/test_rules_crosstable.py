"""表间 rules on the department report: fire at the right field, silent when consistent."""

from decimal import Decimal

from perfxl.findings import Status

from .check_helpers import blocking, guangdong, project, run, wuhan, wuhan_full

D = Decimal
CROSS = (
    "XT-INCOME-SUM",
    "XT-EXPENDITURE-SUM",
    "XT-SHARES",
    "XT-PROJECTS-SUM",
    "XT-PROJECT-PARENT-SUM",
    "XT-PROJECT-RATE",
    "XT-PROJECT-PARENT",
)


def test_a_consistent_report_passes_every_cross_table_rule():
    report = run(wuhan_full())
    assert blocking(report) == []
    assert {code: report.status(code) for code in CROSS} == dict.fromkeys(CROSS, Status.PASSED)


def test_the_published_wuhan_summary_passes_what_it_can():
    report = run(wuhan())
    assert report.status("XT-PROJECT-RATE") is Status.PASSED  # 新馆建设: 调整预算 0, no rate
    for code in ("XT-INCOME-SUM", "XT-EXPENDITURE-SUM", "XT-SHARES", "XT-PROJECTS-SUM"):
        assert report.status(code) is Status.NOT_APPLICABLE  # the summary gives no split


def test_income_sources_add_up():
    data = wuhan_full()
    data["finance"]["income"][0]["amount"] = D("3100.00")
    assert blocking(run(data)) == [
        ["XT-INCOME-SUM", "finance.income_total"],
        ["XT-INCOME-SHARES", "finance.income.0.share"],  # 3100 / 3233.46 = 95.87 %
    ]


def test_stated_income_shares_are_amount_over_the_total():
    data = wuhan_full()
    data["finance"]["income"][1]["share"] = D("7.20")
    report = run(data)
    assert blocking(report) == [["XT-INCOME-SHARES", "finance.income.1.share"]]
    assert (report.errors[0].expected, report.errors[0].actual) == ("7.22", "7.20")
    data["finance"]["income_total"] = D("0")  # no total: a stated share cannot be right
    assert ["XT-INCOME-SHARES", "finance.income.0.share"] in blocking(run(data))


def test_basic_plus_project_is_the_expenditure():
    data = wuhan_full()
    data["finance"]["basic"] = D("1682.71")  # digits swapped
    assert blocking(run(data)) == [
        ["XT-EXPENDITURE-SUM", "finance.expenditure_total"],
        ["XT-SHARES", "finance.basic_share"],  # 1682.71 / 3233.46 = 52.04 %
    ]


def test_shares_are_part_over_total():
    data = wuhan_full()
    data["finance"]["project_share"] = D("47.89")
    report = run(data)
    assert blocking(report) == [["XT-SHARES", "finance.project_share"]]
    assert report.errors[0].expected == "47.98"


def test_first_level_projects_add_up_to_project_spending():
    data = wuhan_full()
    data["projects"][4].update(spent=D("480.00"), rate=D("97.96"))  # 档案数字化
    assert blocking(run(data)) == [["XT-PROJECTS-SUM", "finance.project"]]


def test_a_first_level_project_equals_its_second_level_ones():
    data = wuhan_full()
    data["projects"][2].update(spent=D("390.00"), rate=D("97.50"))  # 运行维护-物业
    report = run(data)
    assert blocking(report) == [["XT-PROJECT-PARENT-SUM", "projects.1.spent"]]
    assert (report.errors[0].expected, report.errors[0].actual) == ("717.96", "727.96")


def test_project_rate_is_spent_over_adjusted():
    data = wuhan_full()
    data["projects"][4]["rate"] = D("99.99")
    data["projects"][5]["rate"] = D("0")  # 调整预算 0: no rate at all
    assert blocking(run(data)) == [
        ["XT-PROJECT-RATE", "projects.4.rate"],
        ["XT-PROJECT-RATE", "projects.5.rate"],
    ]


def test_second_level_projects_name_an_existing_parent():
    data = wuhan_full()
    data["projects"][3]["parent"] = "档案馆运维"
    assert blocking(run(data)) == [
        ["XT-PROJECT-PARENT-SUM", "projects.1.initial"],
        ["XT-PROJECT-PARENT-SUM", "projects.1.adjusted"],
        ["XT-PROJECT-PARENT-SUM", "projects.1.spent"],
        ["XT-PROJECT-PARENT", "projects.3.parent"],
    ]


def test_stated_counts_match_the_table():
    # the Guangdong tree has 26 末级 indicators (official-tables.md §3.2); the fixture leaves
    # three below full marks: 1.1.2 (18 of 20), 1.2.1 (9.85 of 10) and 2.4.3 (6 of 7)
    data = guangdong()
    data["counts"] = {
        "all": {"indicators": 26, "full_marks": 23},
        "1": {"indicators": 3, "full_marks": 1},
    }
    report = run(data)
    assert blocking(report) == [] and report.status("XT-COUNTS") is Status.PASSED
    data["counts"]["all"]["full_marks"] = 24
    data["counts"]["1"]["indicators"] = 4
    assert blocking(run(data)) == [
        ["XT-COUNTS", "counts.1.indicators"],
        ["XT-COUNTS", "counts.all.full_marks"],
    ]
    data["counts"] = {"9": {"indicators": 1}}
    assert blocking(run(data)) == [["XT-COUNTS-KEY", "counts.9"]]


def test_a_project_second_level_without_rows_is_no_indicator():
    # 效益指标 has rows under 社会效益 (2) and 可持续影响 (2); 经济效益 and 生态效益 are
    # empty rows of the table (official-tables.md §2), neither indicators nor full marks
    data = project()
    data["counts"] = {
        "2": {"indicators": 7, "full_marks": 4},
        "3": {"indicators": 4, "full_marks": 3},
        "4": {"indicators": 1, "full_marks": 1},
        "all": {"indicators": 12, "full_marks": 8},
    }
    report = run(data)
    assert blocking(report) == [] and report.status("XT-COUNTS") is Status.PASSED
    data["counts"]["3"] = {"indicators": 6, "full_marks": 5}  # the two empty 二级 counted
    assert blocking(run(data)) == [
        ["XT-COUNTS", "counts.3.indicators"],
        ["XT-COUNTS", "counts.3.full_marks"],
    ]


def test_a_count_is_checked_at_its_cell_and_full_marks_follow_the_stated_score():
    data = project()
    data["counts"] = {"4": {"indicators": 1, "full_marks": 1}}
    data["indicators"][11]["score"] = D("9.5")  # 满意度 no longer full marks
    data["indicators"][11]["explanation"] = "个别意见未及时回复"
    report = run(data)
    hits = [f for f in report.findings if f.code == "XT-COUNTS"]
    assert [(f.path, f.expected, f.actual) for f in hits] == [("counts.4.full_marks", "0", "1")]
    assert "「满意度指标」填报得满分的指标 1 个，表中实有 0 个" in hits[0].message


def test_counts_without_detail_rows_are_not_checked():
    data = wuhan()  # only 一级 scores: there are no 末级 rows to count
    data["counts"] = {"all": {"indicators": 39, "full_marks": 30}}
    assert blocking(run(data)) == []


def two_units() -> dict:
    """Wuhan 2020 complete, plus a 下属单位 with its own 档案馆运行维护 and a same-named 二级项目
    (the 本级 rows are unchanged; 收支情况 follows the extra 50.00)."""
    data = wuhan_full()
    centre = {"unit": "某档案服务中心", "unit_code": "123001"}
    money = {"initial": D("50.00"), "adjusted": D("50.00"), "spent": D("50.00")}
    data["projects"] += [
        {"name": "档案馆运行维护", "level": 1, **money, "rate": D("100.00"), **centre},
        {
            "name": "运行维护-物业",
            "level": 2,
            "parent": "档案馆运行维护",
            **money,
            "rate": D("100.00"),
            **centre,
        },
    ]
    data["finance"].update(
        basic=D("1632.17"), project=D("1601.29"), basic_share=D("50.48"), project_share=D("49.52")
    )
    # rows 6 and 7: the centre's 一级 and 二级
    return data


def test_two_units_with_same_named_projects_pass():
    report = run(two_units())
    assert blocking(report) == []
    for code in ("XT-PROJECT-PARENT-SUM", "XT-PROJECT-PARENT", "XT-PROJECTS-SUM"):
        assert report.status(code) is Status.PASSED


def test_a_units_children_add_up_to_its_own_parent_only():
    data = two_units()
    data["projects"][7].update(spent=D("45.00"), rate=D("90.00"))
    report = run(data)
    assert blocking(report) == [["XT-PROJECT-PARENT-SUM", "projects.6.spent"]]
    assert (report.errors[0].expected, report.errors[0].actual) == ("45.00", "50.00")
    assert "某档案服务中心项目「档案馆运行维护」" in report.errors[0].message


def test_a_child_without_its_unit_counts_for_the_department_itself():
    data = two_units()
    data["projects"][7].pop("unit")  # now under the 本级 档案馆运行维护 (729 + 50)
    assert blocking(run(data)) == [
        ["XT-PROJECT-PARENT-SUM", "projects.1.initial"],
        ["XT-PROJECT-PARENT-SUM", "projects.1.adjusted"],
        ["XT-PROJECT-PARENT-SUM", "projects.1.spent"],
    ]


def test_a_parent_is_looked_for_in_the_childs_own_unit():
    data = two_units()
    data["projects"][7]["parent"] = "档案数字化"  # a 本级 project, not one of the centre's
    report = run(data)
    assert ["XT-PROJECT-PARENT", "projects.7.parent"] in blocking(report)
    hit = next(f for f in report.errors if f.code == "XT-PROJECT-PARENT")
    assert "不在某档案服务中心的项目中" in hit.message


def test_stated_project_counts_mean_categories_for_the_department():
    data = two_units()  # 本级: 4 一级, 2 二级; the centre: 1 一级 (same name as a 本级 one), 1 二级
    data["project_counts"] = [
        {"unit": "合计", "first": 4, "second": 3},  # 档案馆运行维护 counts once: 4, not 5 rows
        {"unit": "本级", "first": 4, "second": 2},
        {"unit": "某档案服务中心", "first": 1, "second": 1},
    ]
    report = run(data)
    assert blocking(report) == [] and report.status("XT-PROJECT-COUNTS") is Status.PASSED
    data["project_counts"][0]["first"] = 5  # the rows, not the categories
    data["project_counts"][2]["second"] = 2
    data["project_counts"].append({"unit": "另一中心", "first": 1})
    report = run(data)
    assert sorted(blocking(report)) == [
        ["XT-PROJECT-COUNTS", "project_counts.0.first"],
        ["XT-PROJECT-COUNTS", "project_counts.2.second"],
        ["XT-PROJECT-COUNTS", "project_counts.3.unit"],
    ]
    (first,) = [f for f in report.errors if f.path == "project_counts.0.first"]
    assert (first.expected, first.actual) == ("4", "5") or (first.expected, first.actual) == (4, 5)
    assert "同名的一级项目计一次" in first.message


def test_stated_unit_subtotals_are_each_units_own_first_level_projects():
    """本级 is the rows without a unit, a 下属单位 its own rows (its same-named 档案馆运行维护
    included, the 二级项目 not added twice), 合计 every 一级项目."""
    data = two_units()
    data["project_subtotals"] = [
        {"unit": "本级", "initial": D("1973.81"), "adjusted": D("1551.29"), "spent": D("1551.29")},
        {"unit": "某档案服务中心", "initial": D(50), "adjusted": D(50), "spent": D(50)},
        {"unit": "合计", "initial": D("2023.81"), "spent": D("1601.29")},
    ]
    report = run(data)
    assert report.status("XT-PROJECT-UNIT-SUM") is Status.PASSED
    data["project_subtotals"][1]["spent"] = D("100.00")  # the 二级 added in: wrong
    data["project_subtotals"][0]["initial"] = D("1550.00")
    assert [f for f in blocking(run(data)) if f[0] == "XT-PROJECT-UNIT-SUM"] == [
        ["XT-PROJECT-UNIT-SUM", "project_subtotals.0.initial"],
        ["XT-PROJECT-UNIT-SUM", "project_subtotals.1.spent"],
    ]


def _first_flags_pairwise(names, levels, units, *, by_unit):
    """The definition, as the template's SUMPRODUCT helpers state it: row i is flagged when
    exactly one row j ≤ i is a 一级项目 with the same name (and, by unit, the same unit)."""
    from perfxl.expr import _compare as cmp

    def same_unit(a, b):
        own = (cmp("=", b, "") and cmp("=", a, "本级")) or (cmp("=", b, "本级") and cmp("=", a, ""))
        return cmp("=", a, b) or own

    out = []
    for i, (name, level) in enumerate(zip(names, levels, strict=True)):
        if not (cmp("=", level, Decimal(1)) and cmp("<>", name, "")):
            out.append(Decimal(0))
            continue
        n = sum(
            1
            for j in range(i + 1)
            if cmp("=", levels[j], Decimal(1))
            and cmp("=", names[j], name)
            and (not by_unit or same_unit(units[j], units[i]))
        )
        out.append(Decimal(1) if n == 1 else Decimal(0))
    return out


def test_first_flags_one_pass_is_the_pairwise_definition() -> None:
    """The one-pass flags (linear in rows) equal the pairwise definition on text lists,
    case, blanks and 本级 included; numbers typed as names take the pairwise path."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from perfxl.rules.common import first_flags

    texts = st.sampled_from([None, "", "运行经费", "运行经费 ", "Ab", "aB", "本级"])
    row = st.tuples(
        texts,
        st.sampled_from([Decimal(1), Decimal(2), None, "1"]),
        st.sampled_from([None, "", "本级", "甲单位", "A", "a"]),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(row, max_size=12), st.booleans(), st.booleans())
    def agree(rows, by_unit, numeric):
        names, levels, units = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [])
        if numeric and names:
            names[0] = Decimal(0)  # a number typed as a name: the pairwise path
        got = first_flags(names, levels, units, by_unit=by_unit)
        assert got == _first_flags_pairwise(names, levels, units, by_unit=by_unit)

    agree()
