"""What a unit sees on a laptop (1366×768: some 560 px of grid under Excel's ribbon): frozen
rows leave most of it to the data, and the year input is labelled."""

import openpyxl
import pytest

from perfxl.profile import shipped_profiles
from perfxl.workbook.layout import AUDIT_SHEET, GUIDE_SHEET, META_SHEET

from .conftest import ROOT

TEMPLATES = ROOT / "workbook_templates"
LAPTOP_GRID_PX = 560


def frozen_px(ws) -> float:
    """Height in pixels of the rows frozen at the top of `ws` (0 when none)."""
    if not ws.freeze_panes:
        return 0
    top = ws[ws.freeze_panes].row - 1
    default = ws.sheet_format.defaultRowHeight or 15
    points = sum(ws.row_dimensions[r].height or default for r in range(1, top + 1))
    return points * 96 / 72


@pytest.mark.parametrize("profile_id", shipped_profiles())
def test_frozen_rows_leave_most_of_a_laptop_screen(profile_id):
    wb = openpyxl.load_workbook(TEMPLATES / f"{profile_id}.xlsx")
    for ws in wb.worksheets:
        if ws.title in (META_SHEET,):
            continue
        px = frozen_px(ws)
        assert px <= LAPTOP_GRID_PX / 4, (ws.title, px)


@pytest.mark.parametrize("profile_id", shipped_profiles())
def test_the_year_input_is_labelled(profile_id):
    from perfxl.profile import load_profile
    from perfxl.workbook.layout import layout_for

    lay = layout_for(load_profile(profile_id))
    year = lay.cell("pf_year")
    wb = openpyxl.load_workbook(TEMPLATES / f"{profile_id}.xlsx")
    ws = wb[year.sheet]
    row = ws[year.ref].row
    labels = [str(c.value) for c in ws[row] if isinstance(c.value, str)]
    assert any("年度" in t and "2023" in t for t in labels), labels
    assert AUDIT_SHEET in wb.sheetnames and GUIDE_SHEET in wb.sheetnames


@pytest.mark.parametrize("profile_id", shipped_profiles())
def test_the_guide_speaks_to_accountants_and_agrees_with_the_catalogue(profile_id):
    from perfxl.findings import Severity
    from perfxl.rules import CATALOGUE

    wb = openpyxl.load_workbook(TEMPLATES / f"{profile_id}.xlsx")
    text = "".join(str(c.value) for row in wb[GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "perfxl template" not in text and "--rows" not in text
    (score,) = [r for r in CATALOGUE if r.code == "ARITH-IND-SCORE"]
    word = "“错误”" if score.severity is Severity.BLOCKING else "“提示”"
    assert f"与自评得分不一致时，“审核”表中列为{word}" in text
