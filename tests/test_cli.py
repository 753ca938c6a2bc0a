"""The `perfxl` command run as a real subprocess, as a user runs it."""

import json
import re
import zipfile
from decimal import Decimal

import jsonschema
import yaml

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE, run_cli


def test_profiles_lists_the_shipped_ones():
    r = run_cli("profiles")
    assert r.returncode == 0
    for pid in ("project-2020", "dept-hubei", "dept-guangdong"):
        assert pid in r.stdout


def test_score_prints_a_chinese_table():
    r = run_cli("score", PROJECT_EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert (
        "项目支出绩效自评表" in r.stdout
        and "94.23" in r.stdout
        and "预算执行率：99.85%" in r.stdout
    )


def test_score_json_is_exact_and_machine_readable():
    r = run_cli("score", WUHAN_EXAMPLE, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["total"] == "96.00" and data["grade"] == "优秀"
    assert data["execution_rate"] == "100.00" and data["execution_rate_initial"] == "83.84"
    assert [x["score"] for x in data["rows"]] == ["19.00", "29.00", "24.00", "24.00"]


def test_score_of_a_json_filing_equals_the_yaml_one(tmp_path):
    src = yaml.safe_load(PROJECT_EXAMPLE.read_text(encoding="utf-8"))
    p = tmp_path / "f.json"
    p.write_text(json.dumps(src, ensure_ascii=False), encoding="utf-8")
    a = json.loads(run_cli("score", p, "--json").stdout)
    b = json.loads(run_cli("score", PROJECT_EXAMPLE, "--json").stdout)
    assert a["total"] == b["total"] == "94.23"


def _bad(tmp_path, text: str, name: str = "bad.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    r = run_cli("score", p)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    return r.stderr


def test_bad_filings_end_in_chinese_with_exit_2(tmp_path):
    text = PROJECT_EXAMPLE.read_text(encoding="utf-8")
    e = _bad(tmp_path, text.replace("actual: 40,", "actual: 四十,"))
    assert "bad.yaml" in e and "应为数字" in e and "indicators[1].actual" in e and "行" in e
    e = _bad(tmp_path, text.replace("  year: 2020\n", ""))
    assert "缺少必填项" in e and "header.year" in e
    e = _bad(tmp_path, text.replace("profile: project-2020", "profile: nope"))
    assert "没有这个评价框架" in e
    e = _bad(tmp_path, "header: [\n")
    assert "YAML 格式错误" in e
    e = _bad(tmp_path, "x", name="old.xls")
    assert "另存为 .xlsx" in e
    r = run_cli("score", tmp_path / "missing.yaml")
    assert r.returncode == 2 and "文件不存在" in r.stderr


def test_usage_errors_are_chinese(tmp_path):
    r = run_cli("score", "--nope")
    assert r.returncode == 2 and "没有选项" in r.stderr


def test_profile_check(tmp_path):
    from perfxl.profile import shipped_profiles

    r = run_cli("profile", "check", shipped_profiles()["dept-hubei"])
    assert r.returncode == 0 and "通过" in r.stdout
    bad = tmp_path / "p.yaml"
    bad.write_text(
        shipped_profiles()["dept-hubei"]
        .read_text(encoding="utf-8")
        .replace("weight: 20", "weight: 21"),
        encoding="utf-8",
    )
    r = run_cli("profile", "check", bad)
    assert r.returncode == 2 and "分值 21 与下级分值合计 20 不等" in r.stderr


def test_schema_validates_the_examples_and_rejects_junk():
    r = run_cli("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    for ex in (PROJECT_EXAMPLE, WUHAN_EXAMPLE):
        data = yaml.safe_load(ex.read_text(encoding="utf-8"))
        data = json.loads(json.dumps(data, default=str))
        jsonschema.validate(data, schema)
    try:
        jsonschema.validate({"profile": "x"}, schema)
    except jsonschema.ValidationError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a filing without header must be rejected")


def test_schema_speaks_chinese():
    """Every part and field of the published schema is described for the users, in
    Chinese, in whole sentences (no line breaks inside one)."""
    schema = json.loads(run_cli("schema").stdout)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    english = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # three English words in a row
    parts = {"Filing": schema, **schema["$defs"]}
    for name, part in parts.items():
        said = part.get("description", "")
        assert cjk.search(said) and not english.search(said) and "\n" not in said, name
        for field, spec in part.get("properties", {}).items():
            assert cjk.search(spec.get("title", "")), f"{name}.{field}"


def test_demo_writes_scores(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("demo", "-o", out)
    assert r.returncode == 0, r.stderr
    data = json.loads(
        (out / "scores" / "dept-wuhan-archives-2020.json").read_text(encoding="utf-8")
    )
    assert Decimal(data["total"]) == 96
    assert "94.23" in (out / "scores" / "project-archives-digitization.txt").read_text(
        encoding="utf-8"
    )


def test_demo_writes_workbooks_checks_and_xlsm(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("demo", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "审核通过" in r.stdout
    for stem in ("dept-wuhan-archives-2020", "project-archives-digitization"):
        for suffix in (".xlsx", ".xlsm"):
            assert (out / "workbooks" / f"{stem}{suffix}").is_file()
        checks = json.loads((out / "checks" / f"{stem}.json").read_text(encoding="utf-8"))
        assert checks
        assert (out / "checks" / f"{stem}.审核.xlsx").is_file()
    with zipfile.ZipFile(out / "workbooks" / "project-archives-digitization.xlsm") as z:
        assert "xl/vbaProject.bin" in z.namelist()
