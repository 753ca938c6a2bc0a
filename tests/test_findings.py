"""Findings and reports: locations from the filing's sources, flatten(), the JSON schema."""

import jsonschema

from perfxl.findings import (
    Finding,
    Report,
    Scope,
    Severity,
    Status,
    check_json_schema,
    reports_json,
)

from .check_helpers import project, run


def test_flatten_lists_the_chosen_fields():
    data = project()
    data["funds"]["fiscal"]["budget"] = "480.00"
    report = run(data)
    assert report.flatten(["code", "path"]) == [
        ["ARITH-FUND-SUM", "funds.total.budget"],
        ["COMP-EXPLAIN-OVER", "indicators.7.explanation"],
    ]
    assert report.flatten(["code", "severity"], severity=Severity.BLOCKING) == [
        ["ARITH-FUND-SUM", "强制性"]
    ]
    assert not report.valid and report.usable
    assert report.summary() == {"blocking": 1, "warning": 0, "explained": 1}
    assert report.status("ARITH-FUND-SUM") is Status.FAILED
    assert report.status("COMP-EXPLAIN-OVER") is Status.EXPLAINED
    assert report.status("XT-SHARES") is Status.NOT_APPLICABLE


def test_a_finding_points_at_the_cell_the_value_was_read_from():
    data = project()
    data["funds"]["fiscal"]["budget"] = "480.00"
    data["sources"] = {
        "funds.total.budget": {
            "file": "x.xlsx",
            "sheet": "自评表",
            "cell": "D6",
            "name": "pf_total_budget",
        }
    }
    (f,) = run(data).errors
    assert (f.sheet, f.cell, f.name) == ("自评表", "D6", "pf_total_budget")
    assert f.location() == "自评表!D6"
    assert Finding("X", Severity.WARNING, "m", "a.b").location() == "a.b"


def test_numbers_in_findings_are_exact_strings():
    data = project()
    data["funds"]["total"]["rate"] = "99.8"
    (f,) = run(data).errors
    assert (f.expected, f.actual) == ("99.85", "99.8")
    assert "99.8%" in f.message and "99.85%" in f.message


def test_json_follows_the_published_schema():
    data = project()
    data["grade"] = "良"
    good, bad = run(project()), run(data)
    unusable = Report(file="broken.yaml")
    from perfxl.findings import InputProblem

    unusable.problems.append(InputProblem("第 3 行", "YAML 格式错误"))
    doc = reports_json([good, bad, unusable])
    jsonschema.validate(doc, check_json_schema())
    assert doc["valid"] is False
    assert doc["summary"] == {
        "files": 3,
        "unusable": 1,
        "blocking": 1,
        "warning": 0,
        "explained": 2,
    }
    (grade,) = [f for f in doc["files"][1]["findings"] if f["severity"] == "blocking"]
    assert grade == {
        "file": "t",
        "code": "ARITH-GRADE",
        "severity": "blocking",
        "scope": "table",
        "sheet": None,
        "cell": None,
        "name": None,
        "path": "grade",
        "expected": "优",
        "actual": "良",
        "explained": False,
        "message": grade["message"],
    }
    rules = {r["code"]: r["status"] for r in doc["files"][0]["rules"]}
    assert rules["ARITH-TOTAL"] == "passed" and rules["COMP-EXPLAIN-OVER"] == "explained"
    assert doc["files"][2]["usable"] is False and doc["files"][2]["valid"] is False


def test_enums_have_stable_tokens():
    assert [s.token for s in Severity] == ["blocking", "warning"]
    assert [s.value for s in Severity] == ["强制性", "提示性"]
    assert [s.token for s in Scope] == ["table", "cross_table", "external"]
    assert [s.token for s in Status] == ["passed", "failed", "not_applicable", "explained"]
