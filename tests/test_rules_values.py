"""取值 rules on real filings: fire at the right field, silent when correct."""

from decimal import Decimal

from perfxl.expr import truth
from perfxl.findings import Status
from perfxl.profile import load_profile
from perfxl.rules import live_checks
from perfxl.rules.base import FilingEnv

from .check_helpers import blocking, guangdong, indicator, project, run, warnings, wuhan, wuhan_full

D = Decimal


def test_money_cannot_be_negative():
    data = project()
    data["funds"]["other"]["initial"] = D("-1")
    data["funds"]["carryover"]["initial"] = D("21.00")  # the 其中 rows still add up
    assert blocking(run(data)) == [["VAL-MONEY", "funds.other.initial"]]
    data = wuhan_full()
    data["projects"][5]["initial"] = D("-421.41")
    assert blocking(run(data)) == [["VAL-MONEY", "projects.5.initial"]]
    assert run(wuhan_full()).status("VAL-MONEY") is Status.PASSED


def test_shares_are_percentages():
    data = wuhan()
    data["finance"]["basic_share"] = D("120")  # no 基本支出 to recompute it from
    assert blocking(run(data)) == [["VAL-RATE", "finance.basic_share"]]
    assert run(wuhan_full()).status("VAL-RATE") is Status.PASSED


def test_weights_cannot_be_negative():
    data = project()
    i, row = indicator(data, "成果质检抽检批次")
    row["weight"] = D("-5")
    assert blocking(run(data)) == [
        ["VAL-WEIGHT", f"indicators.{i}.weight"],
        ["ARITH-IND-SCORE", f"indicators.{i}.score"],
        ["ARITH-SCORE-RANGE", f"indicators.{i}.score"],
        ["ARITH-SCORE-RANGE", "group_scores.2"],
        ["ARITH-WEIGHT-TOTAL", "indicators"],
        ["ARITH-TOTAL", "total_score"],
    ]


def test_direction_words():
    """The model already refuses other words in YAML; a workbook cell can hold anything,
    so the live check (the same expression) must reject it."""
    profile = load_profile("project-2020")
    (lc,) = [c for c in live_checks(profile) if c.code == "VAL-DIRECTION"]
    from perfxl.filing_io import load_filing

    from .conftest import PROJECT_EXAMPLE

    filing = load_filing(PROJECT_EXAMPLE)
    env = FilingEnv(filing, profile).at("indicator", 0)
    assert truth(lc.expression(), env)

    class Typo(FilingEnv):
        def value(self, path: str):
            return "正数" if path == "row.direction" else super().value(path)

    assert not truth(lc.expression(), Typo(filing, profile, ("indicator", 0)))
    assert run(project()).status("VAL-DIRECTION") is Status.PASSED


def test_qualitative_phrase_is_one_of_three():
    data = project()
    i, row = indicator(data, "数字档案长期可用性")
    row["actual_text"] = "基本达成"
    assert blocking(run(data)) == [["VAL-QUAL-PHRASE", f"indicators.{i}.actual_text"]]
    assert run(project()).status("VAL-QUAL-PHRASE") is Status.PASSED


def test_indicator_codes_must_be_fillable():
    data = wuhan()
    data["indicators"] = [{"code": "9.9", "score": D(3)}]  # not in the profile
    assert blocking(run(data)) == [["VAL-IND-CODE", "indicators.0.code"]]
    # a 一级 code on a detail row is flagged, and does not count as detail for 投入
    data["indicators"] = [{"code": "1", "score": D(19)}]
    assert blocking(run(data)) == [["VAL-IND-CODE", "indicators.0.code"]]
    data = guangdong()
    data["indicators"].append(dict(data["indicators"][0]))  # the same fixed indicator twice
    n = len(data["indicators"]) - 1
    # and the extra row makes its 二级 add up to more than stated
    assert blocking(run(data)) == [
        ["VAL-IND-CODE", f"indicators.{n}.code"],
        ["ARITH-GROUP-SUM", "group_scores.1.1"],
    ]
    assert run(guangdong()).status("VAL-IND-CODE") is Status.PASSED


def test_spending_over_the_budget_is_a_warning():
    data = wuhan()
    data["funds"]["total"].update(executed=D("3300.00"), rate=D("102.06"))
    report = run(data)
    assert blocking(report) == []
    assert warnings(report) == [["VAL-OVERSPENT", "funds.total.executed", False]]
    data["texts"]["预算执行情况说明"] = "年中追加的档案抢救经费在决算时列支。"
    assert warnings(run(data)) == [["VAL-OVERSPENT", "funds.total.executed", True]]
    assert run(wuhan()).status("VAL-OVERSPENT") is Status.PASSED


def test_profile_version_mismatch_is_a_warning():
    data = wuhan()
    data["profile_version"] = "0.9"
    report = run(data)
    assert blocking(report) == []
    assert warnings(report) == [["VAL-PROFILE-VERSION", "profile_version", False]]


# ------------------------------------------------ text in number cells, on real workbooks


def _typed_workbook(tmp_path, edits):
    """The project example as a workbook, with cells typed over as text (openpyxl)."""
    import openpyxl

    from perfxl.filing_io import load_filing
    from perfxl.workbook.read import read_workbook
    from perfxl.workbook.write import build_workbook
    from tests.conftest import PROJECT_EXAMPLE

    f = load_filing(PROJECT_EXAMPLE)
    built = build_workbook(load_profile(f.profile), tmp_path / "clean.xlsx", f)
    where = read_workbook(built)
    wb = openpyxl.load_workbook(built)
    cells = {}
    for path, text in edits.items():
        src = where.where(path)
        wb[src.sheet][src.cell] = text  # a str: stored as text, as a text-formatted cell
        cells[path] = f"{src.sheet}!{src.cell}"
    out = tmp_path / "typed.xlsx"
    wb.save(out)
    return out, cells


def test_text_in_a_number_cell_is_blocking_where_it_is(tmp_path):
    from perfxl.cli_check import check_file

    i = next(
        n
        for n, ind in enumerate(load_filing_example().indicators)
        if ind.direction == "正向" and ind.actual is not None
    )
    book, cells = _typed_workbook(
        tmp_path, {f"indicators.{i}.actual": "约93", "funds.fiscal.budget": "1,200"}
    )
    r = check_file(book)
    found = {(f.code, f.location()) for f in r.findings if f.code == "VAL-NUMBER-TEXT"}
    assert found == {
        ("VAL-NUMBER-TEXT", cells[f"indicators.{i}.actual"]),
        ("VAL-NUMBER-TEXT", cells["funds.fiscal.budget"]),
    }
    assert all(f.blocking for f in r.findings if f.code == "VAL-NUMBER-TEXT")
    # the cell is seen as the workbook computes with it, so the live formula agrees
    (msg,) = [f.message for f in r.findings if f.location() == cells[f"indicators.{i}.actual"]]
    assert "「约93」是文字" in msg


def test_a_typed_word_is_judged_as_the_cell_shows_it(tmp_path):
    """ "≥" reads as 正向 for `perfxl read`, but the workbook's formulas see "≥": both the
    live sheet and `perfxl check` say 指标性质 is not one of the four words."""
    from perfxl.cli_check import check_file

    book, cells = _typed_workbook(tmp_path, {"indicators.0.direction": "≥"})
    r = check_file(book)
    assert ("VAL-DIRECTION", cells["indicators.0.direction"]) in {
        (f.code, f.location()) for f in r.findings if f.blocking
    }


def load_filing_example():
    from perfxl.filing_io import load_filing
    from tests.conftest import PROJECT_EXAMPLE

    return load_filing(PROJECT_EXAMPLE)
