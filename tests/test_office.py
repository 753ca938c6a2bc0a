"""perfxl.office against a real headless LibreOffice (no mocks)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from perfxl import office as office_mod
from perfxl.office import Office, OfficeError

from . import office_fixture
from .office_fixture import require_office

office = office_fixture.office  # the fixture, requested by name below
pytestmark = pytest.mark.office

TITLE = "预算绩效自评"
STALE = 123.45
MACRO = "vnd.sun.star.script:Standard.Module1.Fill?language=Basic&location=document"


def make_xlsx(path: Path, a1: float = 0.9985) -> Path:
    """A workbook whose formula cells carry wrong cached values, as Python writers leave them."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("自评表")
    ws.write_number("A1", a1)
    ws.write_formula("B1", "=ROUND(A1*10,2)", None, STALE)
    ws.write_string("C1", TITLE)
    ws.write_formula("D1", '=C1&"（已审核）"', None, "旧值")
    ws.write_formula("E1", "=B1+1")  # XlsxWriter caches 0
    wb.close()
    return path


def make_macro_ods(path: Path, basic: str) -> Path:
    """A minimal .ods with Basic module ``Standard.Module1``; B1 calls its ``Secret()``."""
    lib = 'xmlns:library="http://openoffice.org/2000/library"'
    parts = {
        "META-INF/manifest.xml": (
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest'
            ':1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            + "".join(
                f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="text/xml"/>'
                for p in ("content.xml", "Basic/script-lc.xml", "Basic/Standard/script-lb.xml")
            )
            + '<manifest:file-entry manifest:full-path="Basic/Standard/Module1.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>'
        ),
        "content.xml": (
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office'
            ':1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:of='
            '"urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"><office:body>'
            '<office:spreadsheet><table:table table:name="自评表"><table:table-row>'
            '<table:table-cell/><table:table-cell table:formula="of:=SECRET()" '
            'office:value-type="float" office:value="0"/></table:table-row></table:table>'
            "</office:spreadsheet></office:body></office:document-content>"
        ),
        "Basic/script-lc.xml": (
            f'<library:libraries {lib} xmlns:xlink="http://www.w3.org/1999/xlink">'
            '<library:library library:name="Standard" library:link="false"/></library:libraries>'
        ),
        "Basic/Standard/script-lb.xml": (
            f'<library:library {lib} library:name="Standard" library:readonly="false" '
            'library:passwordprotected="false"><library:element library:name="Module1"/>'
            "</library:library>"
        ),
        "Basic/Standard/Module1.xml": (
            '<script:module xmlns:script="http://openoffice.org/2000/script" script:name='
            f'"Module1" script:language="StarBasic">{basic}</script:module>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        z.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, xml in parts.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + xml)
    return path


def row0(path: Path) -> list[object]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return rows[0] if rows else []


def test_recalculate_fixes_stale_cache_keeps_chinese_and_src(office: Office, tmp_path: Path):
    src = make_xlsx(tmp_path / "绩效自评表.xlsx")
    before = src.read_bytes()
    assert row0(src)[1] == STALE  # the stale cache is really there

    out = office.recalculate(src, tmp_path / "输出.xlsx")

    assert out == tmp_path / "输出.xlsx"
    assert row0(out) == [0.9985, 9.99, TITLE, f"{TITLE}（已审核）", 10.99]
    assert CalamineWorkbook.from_path(str(out)).sheet_names == ["自评表"]
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["绩效自评表.xlsx", "输出.xlsx"]


def test_foreign_lock_file_does_not_block(office: Office, tmp_path: Path):
    """A unit's LibreOffice (or a crash) leaves .~lock files; read-only loading ignores them."""
    src = make_xlsx(tmp_path / "a.xlsx")
    lock = tmp_path / ".~lock.a.xlsx#"
    lock.write_text(",someone,pc,01.01.2024 09:00,file:///nowhere;", encoding="utf-8")
    assert row0(office.recalculate(src, tmp_path / "b.xlsx"))[1] == 9.99
    assert lock.read_text(encoding="utf-8").startswith(",someone,")


def test_resave_round_trip(office: Office, tmp_path: Path):
    out = office.resave(make_xlsx(tmp_path / "a.xlsx"), tmp_path / "b.xlsx")
    assert row0(out)[:3] == [0.9985, 9.99, TITLE]


def test_to_pdf_prints_chinese_and_fresh_values(office: Office, tmp_path: Path):
    pdf = office.to_pdf(make_xlsx(tmp_path / "a.xlsx"), tmp_path / "a.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
        ).stdout.decode()
        assert TITLE in text
        assert "9.99" in text and str(STALE) not in text


@pytest.mark.parametrize(
    "content",
    [None, b"\x00garbage" * 300, b"PK\x03\x04truncated zip", b"a,b\n1,2\n"],
    ids=["missing", "random-bytes", "truncated-zip", "csv-named-xlsx"],
)
def test_bad_source_raises_and_leaves_no_dst(office: Office, tmp_path: Path, content):
    src = tmp_path / "坏文件.xlsx"
    if content is not None:
        src.write_bytes(content)
    dst = tmp_path / "out.xlsx"
    with pytest.raises(OfficeError, match=r"LibreOffice|源文件不存在"):
        office.recalculate(src, dst)
    assert not dst.exists()
    assert [p.name for p in tmp_path.iterdir()] == ([src.name] if content else [])
    # the same instance keeps working afterwards
    assert row0(office.recalculate(make_xlsx(tmp_path / "ok.xlsx"), dst))[1] == 9.99


def test_many_files_over_one_instance(office: Office, tmp_path: Path):
    for i, a1 in enumerate([1.005, 2.345, 0.125, 99.9949, 3]):
        out = office.recalculate(make_xlsx(tmp_path / f"{i}.xlsx", a1), tmp_path / f"{i}-r.xlsx")
        assert row0(out)[1] == round(a1 * 10 + 1e-9, 2)


BASIC = """Function Secret()
  Secret = 42
End Function
Sub Fill
  ThisComponent.Sheets(0).getCellByPosition(0, 0).setString("宏已运行")
End Sub
"""


def test_macros_disabled_except_in_run_macro(office: Office, tmp_path: Path):
    src = make_macro_ods(tmp_path / "m.ods", BASIC)

    # macros off: the Basic function behind B1's =SECRET() may not run, B1 becomes #VALUE!
    assert 42.0 not in row0(office.recalculate(src, tmp_path / "r.xlsx"))

    out = office.run_macro(src, tmp_path / "m-out.ods", MACRO)
    assert row0(out) == ["宏已运行", 42.0]
    assert (
        zipfile.ZipFile(out).read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    )


def test_timeout_raises_chinese_error_and_recovers(office: Office, tmp_path: Path):
    src = make_macro_ods(tmp_path / "spin.ods", "Sub Fill\n  Do\n  Loop\nEnd Sub\n")
    dst = tmp_path / "never.ods"
    office.timeout = 3
    try:
        with pytest.raises(OfficeError, match=r"LibreOffice 处理文件 spin\.ods 超时"):
            office.run_macro(src, dst, MACRO)
    finally:
        office.timeout = 60
    assert not dst.exists() and [p.name for p in tmp_path.iterdir()] == ["spin.ods"]
    assert row0(office.recalculate(make_xlsx(tmp_path / "a.xlsx"), tmp_path / "b.xlsx"))[1] == 9.99


def test_module_level_recalculate(tmp_path: Path):
    require_office()
    out = office_mod.recalculate(make_xlsx(tmp_path / "a.xlsx"), tmp_path / "b.xlsx")
    assert row0(out)[1] == 9.99


def test_missing_libreoffice_is_a_clear_chinese_error(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PERFXL_SOFFICE", str(tmp_path / "no-soffice"))
    with pytest.raises(OfficeError, match=r"未找到 LibreOffice（soffice），请先运行 scripts/setup"):
        Office().start()
