"""`perfxl check` and `perfxl rules` run as a user runs them: a real subprocess."""

import json

import jsonschema
import yaml

from perfxl.findings import check_json_schema
from perfxl.rules import CATALOGUE

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE, run_cli


def _bad_project(tmp_path, name="bad.yaml"):
    text = PROJECT_EXAMPLE.read_text(encoding="utf-8").replace("grade: 优", "grade: 良")
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_the_examples_pass(tmp_path):
    r = run_cli("check", PROJECT_EXAMPLE, WUHAN_EXAMPLE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("审核通过") == 2
    assert "错误 0 项 / 提示 0 项 / 已说明 1 项" in r.stdout
    assert "COMP-EXPLAIN-OVER" in r.stdout and "提示性（已说明）" in r.stdout


def test_a_blocking_finding_exits_1(tmp_path):
    r = run_cli("check", _bad_project(tmp_path))
    assert r.returncode == 1
    assert "ARITH-GRADE" in r.stdout and "审核未通过" in r.stdout
    assert "错误 1 项" in r.stdout and "grade" in r.stdout


def test_json_output_follows_the_schema(tmp_path):
    r = run_cli("check", PROJECT_EXAMPLE, _bad_project(tmp_path), "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, check_json_schema())
    assert [f["valid"] for f in doc["files"]] == [True, False]
    (grade,) = [f for f in doc["files"][1]["findings"] if f["severity"] == "blocking"]
    assert (grade["code"], grade["path"], grade["expected"], grade["actual"]) == (
        "ARITH-GRADE",
        "grade",
        "优",
        "良",
    )
    assert len(doc["files"][0]["rules"]) == len(CATALOGUE)


def test_an_unusable_file_does_not_stop_the_others(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("header: [unclosed\n", encoding="utf-8")
    r = run_cli(
        "check",
        PROJECT_EXAMPLE,
        broken,
        tmp_path / "missing.yaml",
        _bad_project(tmp_path),
        "--format",
        "json",
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "broken.yaml" in r.stderr and "YAML 格式错误" in r.stderr and "文件不存在" in r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, check_json_schema())
    assert [f["usable"] for f in doc["files"]] == [True, False, False, True]
    assert doc["files"][3]["summary"]["blocking"] == 1  # still checked
    assert doc["summary"]["unusable"] == 2
    text = run_cli("check", broken, PROJECT_EXAMPLE)
    assert text.returncode == 2 and "无法审核" in text.stdout and "审核通过" in text.stdout


def test_output_file_is_written_atomically(tmp_path):
    out = tmp_path / "out" / "report.json"
    r = run_cli("check", WUHAN_EXAMPLE, "--format", "json", "-o", out)
    assert r.returncode == 0 and "已写入" in r.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["valid"] is True
    assert not list(out.parent.glob("*.part"))
    txt = tmp_path / "report.txt"
    r = run_cli("check", _bad_project(tmp_path), "-o", txt)
    assert r.returncode == 1 and "ARITH-GRADE" in txt.read_text(encoding="utf-8")
    same = _bad_project(tmp_path, "same.yaml")
    r = run_cli("check", same, "-o", same)
    assert r.returncode == 2 and "输入文件相同" in r.stderr
    assert yaml.safe_load(same.read_text(encoding="utf-8"))["grade"] == "良"  # untouched


def test_budget_and_targets_files(tmp_path):
    budget = tmp_path / "budget.csv"
    budget.write_text(
        "项目名称,年初预算,调整预算,执行数\n档案数字化,490,500,489.27\n", encoding="utf-8"
    )
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "项目名称,指标名称,年度指标值\n档案数字化,档案著录条目,≥50\n", encoding="utf-8"
    )
    r = run_cli(
        "check", PROJECT_EXAMPLE, "--budget", budget, "--targets", targets, "--format", "json"
    )
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    blocking = [
        (f["code"], f["path"]) for f in doc["files"][0]["findings"] if f["severity"] == "blocking"
    ]
    assert blocking == [("EXT-BUDGET", "funds.total.budget")]
    bad = tmp_path / "bad.csv"
    bad.write_text("年初预算\n1\n", encoding="utf-8")
    r = run_cli("check", PROJECT_EXAMPLE, "--budget", bad)
    assert r.returncode == 2 and "bad.csv" in r.stderr and "Traceback" not in r.stderr


def test_rules_lists_the_catalogue():
    r = run_cli("rules")
    assert r.returncode == 0
    for rule in CATALOGUE:
        assert rule.code in r.stdout
    for head in ("编码", "级别", "范围", "说明", "适用"):
        assert head in r.stdout
    r = run_cli("rules", "--profile", "dept-hubei")
    assert r.returncode == 0 and "XT-SHARES" in r.stdout and "ARITH-EXEC-SCORE" not in r.stdout
