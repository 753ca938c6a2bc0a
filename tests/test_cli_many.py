"""`perfxl read` and `perfxl score` over many files, as a user runs them: each file's result
is the one-file command's, in input order, whatever --jobs; a file that cannot be used is
refused on standard error and the others are still done (exit code 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from perfxl.filing_io import load_filing
from perfxl.workbook.write import build_workbook

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE, run_cli


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """Two filled workbooks of different tables, a damaged one and a YAML filing."""
    from perfxl.profile import load_profile

    d = tmp_path_factory.mktemp("many")
    out = []
    for i, example in enumerate((PROJECT_EXAMPLE, WUHAN_EXAMPLE)):
        filing = load_filing(example)
        out.append(build_workbook(load_profile(filing.profile), d / f"{i}.xlsx", filing))
    broken = d / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    return {"good": out, "broken": broken, "dir": d}


def test_read_many_yaml_is_each_files_own_document(books):
    a, b = books["good"]
    got = run_cli("read", a, books["broken"], b, "--jobs", "2")
    assert got.returncode == 2, got.stderr
    docs = list(yaml.safe_load_all(got.stdout))
    assert docs == [yaml.safe_load(run_cli("read", p).stdout) for p in (a, b)]
    heads = [line for line in got.stdout.splitlines() if line.startswith("---")]
    assert heads == [f"--- # 文件：{a}", f"--- # 文件：{b}"]
    assert f"错误：{books['broken']}：文件已损坏" in got.stderr
    assert "合计：3 份文件，读取 2 份，无法读取 1 份" in got.stderr


def test_read_many_json_lines(books):
    a, b = books["good"]
    got = run_cli("read", a, b, books["broken"], "--json", "--jobs", "2")
    assert got.returncode == 2
    lines = [json.loads(x) for x in got.stdout.splitlines()]
    assert [x["file"] for x in lines] == [str(a), str(b), str(books["broken"])]
    for line, p in zip(lines[:2], (a, b), strict=True):
        assert line["filing"] == json.loads(run_cli("read", p, "--json").stdout)
    assert "filing" not in lines[2] and "已损坏" in lines[2]["problems"][0]["message"]


def test_score_many_json_lines_match_one_file_and_any_jobs(books):
    a, b = books["good"]
    files = [a, books["broken"], b, PROJECT_EXAMPLE]
    two = run_cli("score", *files, "--json", "--jobs", "2")
    one = run_cli("score", *files, "--json", "--jobs", "1")
    assert two.returncode == one.returncode == 2
    assert two.stdout == one.stdout  # the same bytes whichever way the work was shared
    lines = [json.loads(x) for x in two.stdout.splitlines()]
    assert [x["file"] for x in lines] == list(map(str, files))
    for line, p in zip([lines[0], lines[2], lines[3]], (a, b, PROJECT_EXAMPLE), strict=True):
        assert line == json.loads(run_cli("score", p, "--json").stdout)
    assert lines[1]["problems"] and "total" not in lines[1]
    # the totals are the score engine's, as exact decimal strings
    assert Decimal(lines[0]["total"]) == Decimal(lines[3]["total"])


def test_score_many_text_names_each_file_with_its_total(books):
    a, b = books["good"]
    got = run_cli("score", a, b)
    assert got.returncode == 0, got.stderr
    for p in (a, b):
        total = next(x for x in run_cli("score", p).stdout.splitlines() if x.startswith("总分："))
        block = got.stdout.split(f"{p}：", 1)[1].split("\n\n")[0]
        assert f"  {total}" in block
    assert "合计：2 份文件，复算 2 份，无法复算 0 份" in got.stderr


def test_one_file_output_is_unchanged(books):
    """One file keeps the one-file formats (a filing document, a score table)."""
    a = books["good"][0]
    read = run_cli("read", a)
    assert read.returncode == 0 and not read.stdout.startswith("---")
    assert yaml.safe_load(read.stdout)["header"]["name"]
    score = run_cli("score", a)
    assert score.returncode == 0 and "合计" not in score.stderr
