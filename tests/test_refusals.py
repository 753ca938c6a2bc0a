"""Files a reader must refuse, each made for real on disk, each refused in Chinese, exit 2."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile

from perfxl.errors import InputError
from perfxl.filing_io import load_filing
from perfxl.workbook.guard import MB, OLE_MAGIC, Limits
from perfxl.workbook.read import read_workbook

from .conftest import PROJECT_EXAMPLE, run_cli
from .workbook_factory import build, make_workbook

FORM = "项目支出绩效自评表"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A filled workbook from the real writer."""
    return build(tmp_path_factory.mktemp("good") / "good.xlsx", load_filing(PROJECT_EXAMPLE))


def refused(path: Path, *, limits: Limits | None = None) -> str:
    """The Chinese message of the refusal, checked to name the file."""
    with pytest.raises(InputError) as info:
        read_workbook(path, limits=limits) if limits else read_workbook(path)
    text = str(info.value)
    assert str(path) in text
    return text


def cli_refuses(path: Path) -> str:
    r = run_cli("read", path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout and str(path.name) in r.stderr
    return r.stderr


def _ole(path: Path, streams: tuple[str, ...] = ("Workbook",)) -> Path:
    """A compound-file header followed by directory entries with these stream names."""
    body = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + b"\0" * 64 for name in streams)
    path.write_bytes(OLE_MAGIC + b"\0" * 504 + body)
    return path


# ------------------------------------------------------------------ not an xlsx at all


def test_xls_and_et_say_how_to_convert(tmp_path):
    for suffix in (".xls", ".et"):
        msg = cli_refuses(_ole(tmp_path / f"自评表{suffix}"))
        assert "另存为" in msg and ".xlsx" in msg


def test_an_xls_renamed_to_xlsx(tmp_path):
    msg = refused(_ole(tmp_path / "改了扩展名.xlsx"))
    assert "旧版 .xls" in msg and "另存为" in msg


def test_password_protected_workbook(tmp_path, good):
    enc = tmp_path / "加密.xlsx"
    with open(good, "rb") as src, open(enc, "wb") as dst:
        OOXMLFile(src).encrypt("123456", dst)
    assert enc.read_bytes()[:8] == OLE_MAGIC
    msg = cli_refuses(enc)
    assert "密码" in msg and "加密" in msg


def test_other_suffix_and_missing_file(tmp_path):
    p = tmp_path / "报表.pdf"
    p.write_bytes(b"%PDF-1.4")
    assert ".xlsx" in refused(p)
    assert "不存在" in cli_refuses(tmp_path / "没有这个文件.xlsx")


def test_text_file_named_xlsx(tmp_path):
    p = tmp_path / "假的.xlsx"
    p.write_text("单位,金额\n", encoding="utf-8")
    assert "损坏" in refused(p)


# ------------------------------------------------------------------ broken or hostile zips


def test_truncated_download(tmp_path, good):
    p = tmp_path / "下载中断.xlsx"
    data = good.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    msg = cli_refuses(p)
    assert "损坏" in msg and "重新" in msg


def test_corrupted_member(tmp_path, good):
    """A flipped byte inside workbook.xml's compressed data: CRC or inflate error."""
    p = tmp_path / "坏块.xlsx"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/workbook.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    p.write_bytes(bytes(data))
    assert "损坏" in refused(p)


def _bomb(path: Path, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"0" * MB
            for _ in range(size // MB):
                fh.write(chunk)
    return path


def test_zip_bomb_by_compression_ratio(tmp_path):
    p = _bomb(tmp_path / "炸弹.xlsx", 64 * MB)
    assert p.stat().st_size < MB
    msg = cli_refuses(p)
    assert "压缩比" in msg and "sheet1.xml" in msg


def test_zip_bomb_by_total_size(tmp_path):
    p = _bomb(tmp_path / "太大.xlsx", 8 * MB)
    msg = refused(p, limits=Limits(max_uncompressed=4 * MB, max_ratio=10**6))
    assert "解压后" in msg and "上限 4 MB" in msg


def test_file_over_the_size_limit(tmp_path, good):
    p = tmp_path / "巨大.xlsx"
    with open(p, "wb") as fh:
        fh.truncate(51 * MB)  # sparse: costs no disk
    assert "50 MB" in refused(p)
    assert "超过上限" in refused(good, limits=Limits(max_bytes=10_000))


def test_too_many_cells(tmp_path, good):
    """A stray value in the last cell of the sheet makes its used range ~17 billion cells."""
    wb = openpyxl.load_workbook(good)
    wb[FORM]["XFD1048576"] = "误填"
    p = tmp_path / "远处有字.xlsx"
    wb.save(p)
    msg = cli_refuses(p)
    assert "使用区域过大" in msg and FORM in msg


# ------------------------------------------------------------------ not our template


def test_plain_workbook_is_not_a_template(tmp_path):
    p = tmp_path / "普通表格.xlsx"
    wb = xlsxwriter.Workbook(p)
    wb.add_worksheet("Sheet1").write("A1", "项目名称")
    wb.close()
    msg = cli_refuses(p)
    assert "不是 perfxl" in msg and "模板" in msg


def test_unknown_template_format(tmp_path):
    p = make_workbook(
        tmp_path / "新版模板.xlsx", load_filing(PROJECT_EXAMPLE), meta={"pf_meta_format": "99"}
    )
    msg = refused(p)
    assert "版本为「99」" in msg and "升级" in msg


def test_unknown_profile(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(tmp_path / "外省.xlsx", f, meta={"pf_meta_profile": "city-9999"})
    msg = refused(p)
    assert "city-9999" in msg and "--profile" in msg


def test_missing_defined_names_are_listed(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(tmp_path / "少名称.xlsx", f, drop_names=("pf_year", "pf_ind_2_1"))
    msg = refused(p)
    assert "缺少 2 个定义名称" in msg and "pf_year" in msg and "pf_ind_2_1" in msg


def test_a_name_deleted_in_the_file(tmp_path, good):
    wb = openpyxl.load_workbook(good)
    del wb.defined_names["pf_funds_total_budget"]
    p = tmp_path / "删了名称.xlsx"
    wb.save(p)
    assert "pf_funds_total_budget" in cli_refuses(p)


def test_sheet_renamed_without_the_names_following(tmp_path, good):
    """openpyxl renames a sheet without touching names (Excel would update them)."""
    wb = openpyxl.load_workbook(good)
    wb[FORM].title = "自评表"
    p = tmp_path / "改了表名.xlsx"
    wb.save(p)
    msg = cli_refuses(p)
    assert f"工作表「{FORM}」不存在" in msg and "自评表" in msg and "改回" in msg


def test_deleted_sheet_leaves_ref_errors(tmp_path):
    """Excel turns names on a deleted sheet into #REF!."""
    f = load_filing(PROJECT_EXAMPLE)
    src = make_workbook(tmp_path / "a.xlsx", f)
    p = tmp_path / "删了表.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(f"'{FORM}'!$A$2".encode(), b"#REF!$A$2")
            zout.writestr(item, data)
    msg = refused(p)
    assert "pf_year" in msg and "#REF!" in msg and FORM in msg


def test_column_inserted_inside_a_block(tmp_path, good):
    wb = openpyxl.load_workbook(good)
    dn = wb.defined_names["pf_ind_2_1"]
    dn.attr_text = dn.attr_text.replace("$M$", "$N$")
    p = tmp_path / "插了列.xlsx"
    wb.save(p)
    msg = refused(p)
    assert "pf_ind_2_1" in msg and "插入或删除了列" in msg


def test_missing_year_is_unusable(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    p = make_workbook(
        tmp_path / "无年度.xlsx", f, override=lambda path, v: None if path == "header.year" else v
    )
    msg = refused(p)
    assert "年度" in msg and f"{FORM}!A2" in msg


def test_an_empty_last_row_is_not_a_used_range(tmp_path):
    """LibreOffice writes an empty <row r="1048576"> after a row is deleted: nothing is
    there, so the workbook is read, not refused as too large."""
    import zipfile

    from perfxl.filing_io import load_filing
    from perfxl.profile import load_profile
    from perfxl.workbook.read import read_workbook
    from perfxl.workbook.write import build_workbook
    from tests.conftest import PROJECT_EXAMPLE

    f = load_filing(PROJECT_EXAMPLE)
    src = build_workbook(load_profile(f.profile), tmp_path / "a.xlsx", f)
    dst = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</sheetData>", b'<row r="1048576" ht="12.8"></row></sheetData>'
                )
            zout.writestr(item, data)
    assert len(read_workbook(dst).indicators) == len(f.indicators)
