"""填表说明 is generated from the rules catalogue: its table of checks is the list
`perfxl rules --profile` prints for the same profile, code for code, with the word the 审核
sheet shows for each severity (错误 for 强制性, 提示 for 提示性)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from perfxl.profile import load_profile
from perfxl.workbook.layout import GUIDE_SHEET
from perfxl.workbook.write import build_workbook

from .conftest import run_cli

PROFILES = ("project-2020", "dept-hubei", "dept-guangdong")
WORD = {"强制性": "错误", "提示性": "提示"}


def rule_table(path: Path) -> list[tuple[str, str, str, str]]:
    """(级别, 编码, 审核方式, 审核内容) rows under the header 级别 | 编码 | 审核方式 | 审核内容."""
    ws = openpyxl.load_workbook(path)[GUIDE_SHEET]
    rows = [tuple(c.value for c in r[:4]) for r in ws.iter_rows()]
    head = rows.index(("级别", "编码", "审核方式", "审核内容"))
    out = []
    for r in rows[head + 1 :]:
        if not r[1]:
            break
        out.append(r)
    return out


@pytest.mark.parametrize("pid", PROFILES)
def test_guide_lists_the_catalogue(tmp_path: Path, pid: str) -> None:
    path = build_workbook(load_profile(pid), tmp_path / f"{pid}.xlsx")
    table = rule_table(path)
    proc = run_cli("rules", "--profile", pid, "--json")
    assert proc.returncode == 0, proc.stderr
    catalogue = json.loads(proc.stdout)["rules"]
    assert [r[1] for r in table] == [r["code"] for r in catalogue]
    for (level, code, where, title), rule in zip(table, catalogue, strict=True):
        assert title == rule["title"], code
        assert level == WORD[rule["severity"]], code
        assert where == ("表内" if rule["live"] else "perfxl"), code
    # the numbered items speak of the words the table uses, and of no command line
    ws = openpyxl.load_workbook(path)[GUIDE_SHEET]
    text = "".join(str(c.value) for r in ws.iter_rows() for c in r if c.value)
    assert "“错误”" in text and "“提示”" in text
    assert "perfxl template" not in text and "--rows" not in text
