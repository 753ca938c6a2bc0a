"""The committed templates (workbook_templates/) are exactly what the writer builds now."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perfxl.profile import load_profile, shipped_profiles
from perfxl.workbook.layout import layout_for
from perfxl.workbook.write import build_workbook
from tests.conftest import ROOT

TEMPLATES = ROOT / "workbook_templates"
HINT = "重新生成模板：bash scripts/build-templates（rebuild with scripts/build-templates）"
_STAMPS = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def parts(path: Path) -> dict[str, bytes]:
    """Zip parts by name; docProps/core.xml without its timestamps (XlsxWriter's noise)."""
    with zipfile.ZipFile(path) as z:
        out = {name: z.read(name) for name in z.namelist()}
    out["docProps/core.xml"] = _STAMPS.sub(b"", out["docProps/core.xml"])
    return out


def test_one_template_per_shipped_profile() -> None:
    for suffix in ("*.xlsx", "*.xlsm"):
        assert sorted(p.stem for p in TEMPLATES.glob(suffix)) == sorted(shipped_profiles()), HINT


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
@pytest.mark.parametrize("pid", sorted(shipped_profiles()))
def test_committed_template_is_fresh(pid: str, suffix: str, tmp_path: Path) -> None:
    from perfxl.vba import SHIPPED_VBA

    committed = TEMPLATES / f"{pid}{suffix}"
    assert committed.is_file(), HINT
    vba = SHIPPED_VBA if suffix == ".xlsm" else None
    fresh = build_workbook(load_profile(pid), tmp_path / f"{pid}{suffix}", vba_project=vba)
    old, new = parts(committed), parts(fresh)
    assert sorted(old) == sorted(new), f"parts differ: {sorted(set(old) ^ set(new))}; {HINT}"
    changed = [name for name in old if old[name] != new[name]]
    assert not changed, f"{pid}: parts differ from a fresh build: {changed}; {HINT}"


@pytest.mark.parametrize("pid", sorted(shipped_profiles()))
def test_committed_template_reads_back(pid: str) -> None:
    """openpyxl (what a bureau's own tooling may use) sees every name, validation and
    protection setting."""
    lay = layout_for(load_profile(pid))
    wb = openpyxl.load_workbook(TEMPLATES / f"{pid}.xlsx")
    for name in [c.name for c in lay.cells] + [b.name for b in lay.blocks]:
        assert name in wb.defined_names, name
    visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert [ws.title for ws in visible] == lay.sheets
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
    form = wb[lay.form_sheet]
    assert len(form.data_validations.dataValidation) >= 5
    assert form.conditional_formatting, "审核 highlights on the form"
