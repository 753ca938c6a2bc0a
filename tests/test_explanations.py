"""The 说明 cells of a project table: a warning that asks for an explanation (adjusted 一级
分值 "调整时须说明", overspending "超过时须说明") becomes 已说明 once the unit writes one —
in `perfxl check` and on the live 审核 sheet, as LibreOffice recalculates it after the
explanation is typed. Without it, both say 提示."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from perfxl.filing_io import load_filing
from perfxl.model import Filing
from perfxl.office import Office
from perfxl.profile import load_profile
from perfxl.verdict import check_path
from perfxl.workbook.layout import AUDIT_SHEET, layout_for
from perfxl.workbook.read import read_workbook
from perfxl.workbook.write import build_workbook
from tests.conftest import PROJECT_EXAMPLE
from tests.office_fixture import office  # noqa: F401  (fixture)
from tests.test_macros_office import sheet

PROFILE = load_profile("project-2020")
EXPLAINABLE = ("ARITH-WEIGHT-GROUP", "VAL-OVERSPENT")
OPEN = {"ARITH-WEIGHT-GROUP": ["提示", "提示", "通过"], "VAL-OVERSPENT": ["提示"]}
DONE = {"ARITH-WEIGHT-GROUP": ["已说明", "已说明", "通过"], "VAL-OVERSPENT": ["已说明"]}


def mistaken() -> Filing:
    """The example with one 分值 moved from 效益 to 产出 (产出 51, 效益 29; the rows keep full
    marks, so only the 一级 sums differ) and 5 万元 spent over the budget."""
    f = load_filing(PROJECT_EXAMPLE)
    data = f.model_dump(mode="json")
    ind = data["indicators"]
    assert ind[0]["score"] == ind[0]["weight"] and ind[7]["score"] == ind[7]["weight"]
    ind[0]["weight"] = ind[0]["score"] = 11
    ind[7]["weight"] = ind[7]["score"] = 9
    data["funds"]["total"]["executed"] = 495
    data["funds"]["fiscal"]["executed"] = 475
    return Filing.model_validate(data)


REMARKS = {
    "1": "年底追加的设备款已于当年支付，调整预算尚在办理。",
    "2": "年中调减加工量目标后，产出、效益指标分值相应调整。",
    "3": "同上，效益指标分值调减 1 分。",
}


def explained(path: Path) -> tuple[set[str], set[str]]:
    """(open warnings, explained warnings) of `perfxl check` on a workbook."""
    report = check_path(path).report
    assert report.usable, report.problems
    codes = [f for f in report.findings if f.code in EXPLAINABLE]
    return {f.code for f in codes if not f.explained}, {f.code for f in codes if f.explained}


def audit_results(rows: list[list]) -> dict[str, list[str]]:
    """结果 of the live 审核 rows of each explainable rule, in sheet order (the 一级 weight
    check has a row for each of 产出, 效益, 满意度)."""
    head = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    col = {h: i for i, h in enumerate(rows[head])}
    out: dict[str, list[str]] = {}
    for r in rows[head + 1 :]:
        if not r or r[0] in ("", None):
            break
        if r[col["编码"]] in EXPLAINABLE:
            out.setdefault(r[col["编码"]], []).append(r[col["结果"]])
    return out


def cached_audit(path: Path) -> list[list]:
    ws = load_workbook(path, data_only=True)[AUDIT_SHEET]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_every_explaining_rule_of_project_2020_has_a_cell() -> None:
    layout = layout_for(PROFILE)
    cells = {c.path: c for c in layout.cells if c.path and c.path.startswith("group_remarks.")}
    assert set(cells) == {f"group_remarks.{c}" for c in ("1", "2", "3", "4")}
    for c in cells.values():
        assert c.role == "input" and c.label.endswith("说明") and c.span
    # the rules that accept an explanation read exactly these cells
    from perfxl.rules import live_checks

    read = {
        p
        for lc in live_checks(PROFILE)
        if lc.explainable
        for p in lc.paths
        if p.startswith("group_remarks.")
    }
    assert read and read <= set(cells)


def test_written_workbook_explains_in_python_and_in_cached_sheet(tmp_path: Path) -> None:
    bare = build_workbook(PROFILE, tmp_path / "bare.xlsx", mistaken())
    assert explained(bare) == (set(EXPLAINABLE), set())
    assert audit_results(cached_audit(bare)) == OPEN

    f = mistaken().model_copy(update={"group_remarks": REMARKS})
    path = build_workbook(PROFILE, tmp_path / "explained.xlsx", f)
    assert read_workbook(path).group_remarks == REMARKS  # read back as written
    assert explained(path) == (set(), set(EXPLAINABLE))
    assert audit_results(cached_audit(path)) == DONE
    # the unlocked, pale-yellow input style of the other inputs
    ws = load_workbook(path)[layout_for(PROFILE).form_sheet]
    c = layout_for(PROFILE).cell("pf_group_2_remark")
    assert ws[c.ref].protection.locked is False
    assert ws[c.ref].fill.fgColor.rgb.endswith("FFF9D6")


@pytest.mark.office
def test_explanation_typed_in_libreoffice(office: Office, tmp_path: Path) -> None:  # noqa: F811
    bare = build_workbook(PROFILE, tmp_path / "bare.xlsx", mistaken())
    recalculated = office.recalculate(bare, tmp_path / "bare.recalc.xlsx")
    assert audit_results(sheet(recalculated, AUDIT_SHEET)) == OPEN
    assert explained(recalculated) == (set(EXPLAINABLE), set())

    layout = layout_for(PROFILE)
    edits = [
        {"sheet": layout.form_sheet, "op": "set", "cell": layout.cell(f"pf_group_{k}_remark").ref,
         "text": v}
        for k, v in REMARKS.items()
    ]  # fmt: skip
    typed = office.edit(bare, tmp_path / "typed.xlsx", edits)
    assert audit_results(sheet(typed, AUDIT_SHEET)) == DONE
    assert explained(typed) == (set(), set(EXPLAINABLE))
    assert read_workbook(typed).group_remarks == REMARKS

    # only 产出 explained: 效益's adjusted 分值 is still a 提示 (one row each)
    partial = office.edit(bare, tmp_path / "partial.xlsx", edits[1:2])
    assert audit_results(sheet(partial, AUDIT_SHEET))["ARITH-WEIGHT-GROUP"] == [
        "已说明",
        "提示",
        "通过",
    ]


def test_fill_writes_the_explanations_into_the_shipped_template(tmp_path: Path) -> None:
    from perfxl.workbook.fill import fill_template
    from tests.conftest import ROOT

    f = mistaken().model_copy(update={"group_remarks": REMARKS})
    out = fill_template(ROOT / "workbook_templates" / "project-2020.xlsx", f, tmp_path / "f.xlsx")
    assert read_workbook(out).group_remarks == REMARKS
    assert explained(out) == (set(), set(EXPLAINABLE))


def overspent_department(which: str) -> Filing:
    from tests.check_helpers import wuhan_full
    from tests.test_mutations import guangdong_full

    f = Filing.model_validate(wuhan_full()) if which == "dept-hubei" else guangdong_full()
    data = f.model_dump(mode="json")
    data["funds"]["total"]["executed"] = float(data["funds"]["total"]["budget"]) + 10
    return Filing.model_validate(data)


def with_remark(f: Filing, text: str) -> Filing:
    from perfxl.profile import execution_remark_path

    head, _, key = execution_remark_path(load_profile(f.profile)).partition(".")
    return f.model_copy(update={head: {**getattr(f, head), key: text}})


def overspent_rows(rows: list[list]) -> list[str]:
    return audit_results(rows).get("VAL-OVERSPENT", [])


@pytest.mark.parametrize("pid", ["dept-hubei", "dept-guangdong"])
def test_department_overspending_explained(tmp_path: Path, pid: str) -> None:
    """A department table explains its 执行 in 基本信息's 预算执行情况说明 (the text, or the
    说明 of the execution-rate indicator, as the profile says)."""
    p = load_profile(pid)
    bare = build_workbook(p, tmp_path / "bare.xlsx", overspent_department(pid))
    status = check_path(bare).report
    assert {f.code for f in status.findings if not f.explained} >= {"VAL-OVERSPENT"}
    assert overspent_rows(cached_audit(bare)) == ["提示"]
    text = "年底追加的设备款已支付，调整预算尚在办理。"
    path = build_workbook(p, tmp_path / "x.xlsx", with_remark(overspent_department(pid), text))
    report = check_path(path).report
    (f,) = [f for f in report.findings if f.code == "VAL-OVERSPENT"]
    assert f.explained
    assert overspent_rows(cached_audit(path)) == ["已说明"]
    cell = layout_for(p).cell("pf_exec_remark")
    assert cell.sheet == "基本信息" and load_workbook(path)[cell.sheet][cell.ref].value == text


@pytest.mark.office
def test_department_explanation_typed_in_libreoffice(office: Office, tmp_path: Path) -> None:  # noqa: F811
    p = load_profile("dept-guangdong")
    bare = build_workbook(p, tmp_path / "bare.xlsx", overspent_department("dept-guangdong"))
    cell = layout_for(p).cell("pf_exec_remark")
    edit = [{"sheet": cell.sheet, "op": "set", "cell": cell.ref, "text": "追加预算已批复"}]
    typed = office.edit(bare, tmp_path / "typed.xlsx", edit)
    assert overspent_rows(sheet(typed, AUDIT_SHEET)) == ["已说明"]
    (f,) = [f for f in check_path(typed).report.findings if f.code == "VAL-OVERSPENT"]
    assert f.explained
