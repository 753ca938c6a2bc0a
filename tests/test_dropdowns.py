"""Drop-downs for every closed vocabulary of every template, read back from the written
files (and from a copy LibreOffice saved): 指标性质, 项目级次 and the 定性 phrases of 实际完成值,
each with a Chinese prompt; the mixed 实际完成值 column (numbers and phrases) offers the
phrases without refusing numbers, and the live 审核 sheet reports a mistyped phrase."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

from perfxl.filing_io import load_filing
from perfxl.office import Office
from perfxl.profile import QUALITATIVE_PHRASES, load_profile
from perfxl.workbook.layout import AUDIT_SHEET, layout_for
from perfxl.workbook.write import build_workbook
from tests.conftest import PROJECT_EXAMPLE
from tests.office_fixture import office  # noqa: F401  (fixture)
from tests.test_explanations import cached_audit
from tests.test_macros_office import sheet

PROFILES = ("project-2020", "dept-hubei", "dept-guangdong")
VOCABULARY = {  # layout kind → the words of its drop-down
    "direction": ("正向", "反向", "等于", "定性"),
    "level": ("1", "2"),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def validations(path: Path) -> dict[tuple[str, str], object]:
    """The data validation covering each cell, by (sheet, A1)."""
    out = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in str(dv.sqref).split():
                c1, r1, c2, r2 = range_boundaries(rng)
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        out[(ws.title, f"{get_column_letter(c)}{r}")] = dv
    return out


def listed(dv) -> tuple[str, ...]:
    return tuple(dv.formula1.strip('"').split(","))


def closed_cells(pid: str) -> list[tuple[str, str, str]]:
    """(sheet, A1, kind) of every input cell of a closed vocabulary in a template."""
    lay = layout_for(load_profile(pid))
    out = [(c.sheet, c.ref, c.kind) for c in lay.cells if c.kind in VOCABULARY]
    for b in lay.blocks:
        for col in b.columns:
            if col.kind in VOCABULARY and col.role == "input":
                out += [
                    (b.sheet, f"{col.letter}{r}", col.kind)
                    for r in range(b.first_row, b.last_row + 1)
                ]
    return out


def check_dropdowns(pid: str, path: Path) -> None:
    dvs = validations(path)
    cells = closed_cells(pid)
    assert cells or pid != "project-2020"
    for sheet_, a1, kind in cells:
        dv = dvs[(sheet_, a1)]
        assert dv.type == "list" and listed(dv) == VOCABULARY[kind], (sheet_, a1)
        assert dv.showDropDown in (None, False)  # OOXML: True would HIDE the arrow
        assert CJK.search(dv.promptTitle or "") and CJK.search(dv.prompt or ""), a1
        assert dv.showErrorMessage and (dv.errorStyle in (None, "stop")), a1
        assert CJK.search(dv.error or "") and CJK.search(dv.errorTitle or ""), a1
    if load_profile(pid).kind != "project":
        return
    lay = layout_for(load_profile(pid))
    for b in (b for b in lay.blocks if b.list_path == "indicators"):
        letter = b.column("actual").letter
        for r in range(b.first_row, b.last_row + 1):
            dv = dvs[(b.sheet, f"{letter}{r}")]
            # the phrases as a drop-down, and no alert: numbers (定量) go in as typed
            assert dv.type == "list" and listed(dv) == QUALITATIVE_PHRASES
            assert not dv.showErrorMessage
            assert dv.showInputMessage and all(p in dv.prompt for p in QUALITATIVE_PHRASES)


@pytest.mark.parametrize("pid", PROFILES)
def test_every_closed_vocabulary_has_a_dropdown(tmp_path: Path, pid: str) -> None:
    path = build_workbook(load_profile(pid), tmp_path / f"{pid}.xlsx")
    check_dropdowns(pid, path)


@pytest.mark.office
def test_dropdowns_survive_libreoffice_and_phrase_checked_live(
    office: Office,  # noqa: F811
    tmp_path: Path,
) -> None:
    p = load_profile("project-2020")
    template = build_workbook(p, tmp_path / "t.xlsx")
    check_dropdowns("project-2020", office.resave(template, tmp_path / "t.lo.xlsx"))

    # a 定性 row with a phrase typed from memory: the drop-down did not refuse it, the live
    # 审核 sheet does (computed by Python when written, and by LibreOffice after an edit)
    f = load_filing(PROJECT_EXAMPLE)
    i = next(i for i, x in enumerate(f.indicators) if x.direction == "定性")
    bad = f.model_copy(deep=True)
    bad.indicators[i].actual_text = "基本达成年度指标"
    built = build_workbook(p, tmp_path / "bad.xlsx", bad)
    assert "错误" in phrase_rows(cached_audit(built))
    good = build_workbook(p, tmp_path / "good.xlsx", f)
    assert set(phrase_rows(cached_audit(good))) <= {"通过", ""}
    lay = layout_for(p)
    row = _row_of(lay, f, i)
    letter = next(b for b in lay.blocks if b.list_path == "indicators").column("actual").letter
    typed = office.edit(good, tmp_path / "typed.xlsx", [
        {"sheet": lay.form_sheet, "op": "set", "cell": f"{letter}{row}", "text": "基本达成年度指标"},
        {"sheet": lay.form_sheet, "op": "set", "cell": f"{letter}{row + 1}", "number": 3},
    ])  # fmt: skip
    assert "错误" in phrase_rows(sheet(typed, AUDIT_SHEET))


def _row_of(lay, f, i: int) -> int:
    """The sheet row of indicator i as the writer places it (its 二级 block, in order)."""
    code = f.indicators[i].code
    before = sum(1 for x in f.indicators[:i] if x.code == code)
    block = next(b for b in lay.blocks if b.fixed.get("code") == code)
    return block.first_row + before


def phrase_rows(rows: list[list]) -> list[str]:
    head = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    col = {h: i for i, h in enumerate(rows[head])}
    out = []
    for r in rows[head + 1 :]:
        if not r or r[0] in ("", None):
            break
        if r[col["编码"]] == "VAL-QUAL-PHRASE":
            out.append(r[col["结果"]])
    return out
