"""The macros run for real: LibreOffice (headless, VBA compatibility mode) opens the .xlsm
templates (their VBA project the Excel-written one perfxl.vba builds), binds the form
buttons to the modules and runs 校验 / 清除标记 / 评分, on workbooks with mistakes and on
correct ones.

What 校验 lists on 审核结果 must be exactly the checks the recalculated 审核 sheet fails
and, for the formula-expressible rules, exactly the findings of `perfxl check` on the same
file (code and cell). LibreOffice drops a Basic runtime error silently, so every assertion
first reads the macro's completion marker (J1, written last).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from perfxl.model import Filing
from perfxl.office import Office
from perfxl.profile import load_profile
from perfxl.rules import live_checks
from perfxl.workbook.buttons import BUTTONS, FIRST_ROW, MARK_COLOR, MESSAGES, NO_FILL
from perfxl.workbook.layout import AUDIT_SHEET
from tests.conftest import run_cli
from tests.office_fixture import office  # noqa: F401  (fixture)
from tests.test_excel import FILINGS, argb, fills
from tests.test_vba import bound_buttons, build_xlsm, vba_bin  # noqa: F401  (fixture)

pytestmark = pytest.mark.office
RESULT = MESSAGES["result_sheet"]


def macro(module: str, sub: str) -> str:
    return f"vnd.sun.star.script:VBAProject.{module}.{sub}?language=Basic&location=document"


VALIDATE = macro("PerfxlValidate", "Validate")
CLEAR = macro("PerfxlClear", "ClearMarks")
SCORE = macro("PerfxlScore", "Score")


def sheet(path: Path, name: str) -> list[list[Any]]:
    """Values as LibreOffice computed and saved them, padded to a rectangle from A1."""
    wb = CalamineWorkbook.from_path(str(path))
    ws = wb.get_sheet_by_name(name)
    r0, c0 = ws.start or (0, 0)
    data = ws.to_python()
    width = c0 + max((len(r) for r in data), default=0)
    out = [[""] * width for _ in range(r0)]
    out += [[""] * c0 + list(r) + [""] * (width - c0 - len(r)) for r in data]
    return out


def listing(path: Path) -> list[list[Any]]:
    return [r for r in sheet(path, RESULT)[FIRST_ROW - 1 :] if r and r[0] != ""]


def marker(path: Path) -> Any:
    rows = sheet(path, RESULT)
    return rows[0][9] if rows and len(rows[0]) > 9 else ""


def build(name: str, folder: Path, vba: Path) -> tuple[Path, str]:
    filing = Filing.model_validate(FILINGS[name]())
    return build_xlsm(
        load_profile(filing.profile), folder / f"{name}.xlsm", filing, vba
    ), filing.profile


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("macros")


@pytest.mark.parametrize("name", list(FILINGS))
def test_validate_lists_what_the_checks_find(
    name: str,
    folder: Path,
    vba_bin: Path,  # noqa: F811
    office: Office,  # noqa: F811
) -> None:
    src, pid = build(name, folder, vba_bin)
    out = office.run_macro(src, folder / f"{name}.validated.xlsm", VALIDATE)
    listed = listing(out)
    assert marker(out) == len(listed), "the macro did not run to its end"

    # LibreOffice bound the buttons to the modules when it loaded the file (it saves the
    # binding module-qualified)
    assert bound_buttons(out) == {
        MESSAGES[k]: f"{m_mod}.{m}"
        for (k, m), m_mod in zip(
            BUTTONS, ("PerfxlValidate", "PerfxlScore", "PerfxlClear"), strict=True
        )
    }

    # exactly the rows of the recalculated 审核 sheet that did not pass
    audit = sheet(out, AUDIT_SHEET)
    head = next(i for i, r in enumerate(audit) if r and r[0] == "序号")
    col = {h: i for i, h in enumerate(audit[head])}
    failed = [
        (r[col["编码"]], r[col["级别"]], r[col["说明"]], r[col["位置"]])
        for r in audit[head + 1 :]
        if r and r[0] != "" and r[col["结果"]] not in ("", "通过", "已说明")
    ]
    assert [tuple(r[1:5]) for r in listed] == failed
    assert [r[0] for r in listed] == list(range(1, len(listed) + 1))

    # and exactly the findings of `perfxl check` for the formula-expressible rules
    proc = run_cli("check", src, "--format", "json")
    findings = json.loads(proc.stdout)["files"][0]["findings"]
    live = {lc.code for lc in live_checks(load_profile(pid))}
    expected = sorted(
        (f["code"], f"{f['sheet']}!{f['cell']}")
        for f in findings
        if f["code"] in live and not f["explained"]
    )
    assert sorted((r[1], r[4]) for r in listed) == expected
    assert bool(expected) == name.endswith("broken")

    summary = sheet(out, RESULT)[0][0]
    if listed:
        errors = sum(1 for r in failed if r[1] == "强制性")
        assert summary == MESSAGES["validate_problems"].format(
            n=len(listed), errors=errors, warnings=len(listed) - errors
        )
    else:
        assert summary == MESSAGES["validate_pass"]

    # each listed cell's former fill is recorded beside its row, for 清除标记
    old = fills(src)
    for r in listed:
        assert r[9] == r[4]
        kind, rgb = old[tuple(r[4].split("!"))]
        assert r[10] == (NO_FILL if kind is None else int(rgb[6:] + rgb[4:6] + rgb[2:4], 16))


def test_validate_colours_the_cells(folder: Path, vba_bin: Path, office: Office) -> None:  # noqa: F811
    src, _ = build("project-broken", folder, vba_bin)
    out = office.run_macro(src, folder / "coloured.xlsm", VALIDATE)
    marked = {tuple(r[4].split("!")) for r in listing(out)}
    assert marked
    new = fills(out)
    assert all(new[k] == ("solid", argb(MARK_COLOR)) for k in marked)


def test_clear_marks_runs_after_validate(folder: Path, vba_bin: Path, office: Office) -> None:  # noqa: F811
    src, _ = build("project-broken", folder, vba_bin)
    validated = office.run_macro(src, folder / "v.xlsm", VALIDATE)
    assert listing(validated) and marker(validated) == len(listing(validated))
    cleared = office.run_macro(validated, folder / "c.xlsm", CLEAR)
    assert sheet(cleared, RESULT)[0][0] == MESSAGES["cleared"]  # its last step


@pytest.mark.parametrize("name", ["project-broken", "project"])
def test_clear_marks_restores_fills_and_empties_the_listing(
    name: str,
    folder: Path,
    vba_bin: Path,  # noqa: F811
    office: Office,  # noqa: F811
) -> None:
    src, _ = build(name, folder, vba_bin)
    validated = office.run_macro(src, folder / f"v2-{name}.xlsm", VALIDATE)
    assert marker(validated) == len(listing(validated))
    assert bool(listing(validated)) == name.endswith("broken")
    cleared = office.run_macro(validated, folder / f"c2-{name}.xlsm", CLEAR)
    assert [[v for v in r if v != ""] for r in sheet(cleared, RESULT)] == [[MESSAGES["cleared"]]]
    old, back = fills(src), fills(cleared)
    form = load_profile("project-2020").title
    assert {k: v for k, v in back.items() if k[0] == form} == {
        k: v for k, v in old.items() if k[0] == form
    }


@pytest.mark.parametrize("name", ["project", "project-broken"])
def test_score_without_xlwings_says_what_to_install(
    name: str,
    folder: Path,
    vba_bin: Path,  # noqa: F811
    office: Office,  # noqa: F811
) -> None:
    """No xlwings add-in here: Application.Run fails, and the macro must catch it."""
    src, _ = build(name, folder, vba_bin)
    out = office.run_macro(src, folder / f"s-{name}.xlsm", SCORE)
    rows = sheet(out, RESULT)
    assert rows[0][0] == MESSAGES["score_missing"]
    assert marker(out) == ""


def test_macros_survive_a_libreoffice_round_trip(
    folder: Path,
    vba_bin: Path,  # noqa: F811
    office: Office,  # noqa: F811
) -> None:
    """A unit whose office suite re-saves the .xlsm keeps working buttons."""
    src, _ = build("project-broken", folder, vba_bin)
    once = office.run_macro(src, folder / "r1.xlsm", CLEAR)
    twice = office.run_macro(once, folder / "r2.xlsm", VALIDATE)
    assert listing(twice) and marker(twice) == len(listing(twice))
    assert openpyxl.load_workbook(twice, keep_vba=True).vba_archive is not None
