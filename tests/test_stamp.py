"""Stamped copies of one built workbook are the documents a fresh build would write."""

from __future__ import annotations

import csv
import functools
import re
import zipfile
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from perfxl.batch import distribute, read_master
from perfxl.errors import InputError
from perfxl.filing_io import load_filing
from perfxl.model import Filing, FundLine, Funds, Header
from perfxl.profile import load_profile
from perfxl.vba import SHIPPED_VBA
from perfxl.workbook.layout import layout_for
from perfxl.workbook.read import read_workbook, read_workbook_ex
from perfxl.workbook.stamp import Stamper, stampable
from perfxl.workbook.write import LOCKED_WHEN_PREFILLED, build_workbook
from tests.conftest import PROJECT_EXAMPLE
from tests.office_fixture import office  # noqa: F401  (fixture)
from tests.test_write import values

PROFILES = ("project-2020", "dept-hubei", "dept-guangdong")
LINES = ("total", "fiscal", "carryover", "other")
FIELDS = ("initial", "budget", "executed")


@functools.cache
def stamper(pid: str, macros: bool = False) -> Stamper:
    return Stamper(load_profile(pid), vba_project=SHIPPED_VBA if macros else None)


def filing_of(pid: str, header: Header, funds: Funds | None = None) -> Filing:
    p = load_profile(pid)
    return Filing(profile=p.id, profile_version=p.version, header=header, funds=funds or Funds())


def pair(tmp: Path, pid: str, filing: Filing, suffix: str = ".xlsx") -> tuple[Path, Path]:
    """(stamped, built) copies of `filing`."""
    macros = suffix == ".xlsm"
    stamped, built = tmp / f"stamped{suffix}", tmp / f"built{suffix}"
    assert stamper(pid, macros).stamp_bytes(filing) is not None
    stamper(pid, macros).write(filing, stamped)
    build_workbook(
        load_profile(pid),
        built,
        filing,
        lock_prefilled=True,
        vba_project=SHIPPED_VBA if macros else None,
    )
    return stamped, built


def read_back(path: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The filing read back (sources without the file name) and the reading notes."""
    filing, notes = read_workbook_ex(path)
    data = filing.model_dump(exclude={"sources"})
    data["sources"] = {k: {**asdict(v), "file": None} for k, v in filing.sources.items()}
    return data, [(n.place, n.message) for n in notes]


def assert_same_document(stamped: Path, built: Path) -> None:
    assert zipfile.ZipFile(stamped).testzip() is None
    assert read_back(stamped) == read_back(built)
    assert values(stamped) == values(built)  # every cell, cached results included


# ------------------------------------------------------------------ generated filings

TRICKY = "&<>\"'＆＜＞“”‘’ 　\t\n\x01_x0041_😀🇨🇳档案数字化·（一期）"
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from(TRICKY), st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
    ),
    max_size=40,
)
AMOUNTS = [
    Decimal(x) for x in ("0", "0.01", "1E+15", "123456789012.34", "0.000001", "-5", "99.995")
]
amounts = st.one_of(
    st.none(),
    st.sampled_from(AMOUNTS),
    st.decimals(
        min_value=-(10**6), max_value=10**12, allow_nan=False, allow_infinity=False, places=2
    ),
    st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False),
)


@st.composite
def budget_filings(draw: st.DrawFn, pid: str) -> Filing:
    name = draw(texts)
    others = [draw(st.one_of(st.none(), texts)) for _ in range(3)]
    for t in (name, *others):  # XlsxWriter writes such text as rich-text XML (see below)
        assume(t is None or not (t.startswith("<r>") and t.endswith("</r>")))
    header = Header(
        name=name,
        department=others[0],
        unit=others[1],
        unit_code=others[2],
        year=draw(st.integers(2000, 2100)),
    )
    lines = draw(st.lists(st.sampled_from(LINES), unique=True, max_size=4))
    funds = Funds(**{line: FundLine(**{f: draw(amounts) for f in FIELDS}) for line in lines})
    return filing_of(pid, header, funds)


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("pid", PROFILES)
def test_stamped_reads_back_as_built(pid, tmp_path):
    @SETTINGS
    @given(budget_filings(pid))
    def check(filing: Filing) -> None:
        assert_same_document(*pair(tmp_path, pid, filing))

    check()


@pytest.mark.parametrize("pid", PROFILES)
def test_extremes_and_blank(pid, tmp_path):
    big = FundLine(initial=Decimal("1E+15"), budget=Decimal("0.000001"), executed=Decimal("-5"))
    for funds in (Funds(), Funds(total=big), Funds(total=FundLine(budget=Decimal(0)))):
        for header in (Header(year=2000), Header(name=" " + TRICKY + " ", unit="😀", year=2100)):
            assert_same_document(*pair(tmp_path, pid, filing_of(pid, header, funds)))


def test_rich_text_lookalike_stays_text(tmp_path):
    """XlsxWriter writes a string "<r>…</r>" as raw rich-text XML (a built workbook loses
    it); the stamp writes it as the text it is."""
    f = filing_of("project-2020", Header(name="<r>x</r>", unit="<r><t>y</t></r>", year=2023))
    stamper("project-2020").write(f, tmp_path / "s.xlsx")
    h = read_workbook(tmp_path / "s.xlsx").header
    assert (h.name, h.unit) == ("<r>x</r>", "<r><t>y</t></r>")


# ------------------------------------------------------------------ locks and styles


def _style(c: Any) -> tuple[Any, ...]:
    return (
        c.number_format,
        c.protection.locked,
        c.fill.fgColor.rgb,
        c.font.b,
        c.font.sz,
        c.alignment.horizontal,
        c.alignment.wrap_text,
        c.border.left.style,
    )


@pytest.mark.parametrize("pid", PROFILES)
def test_locked_cells_are_locked_and_others_open(pid, tmp_path):
    funds = Funds(
        total=FundLine(initial=Decimal("490"), budget=Decimal("500"), executed=Decimal(1)),
        fiscal=FundLine(initial=Decimal("470")),  # its 全年预算数 stays blank, so open
    )
    f = filing_of(pid, Header(name="甲", year=2023), funds)
    stamped, built = pair(tmp_path, pid, f)
    layout = layout_for(load_profile(pid))
    given_paths = {
        c.path
        for c in layout.cells
        if c.role == "input" and c.path and f.value(c.path) not in (None, "")
    }
    locked_paths = {
        p
        for p in given_paths
        if any(
            re.fullmatch(pat.replace(".", r"\.").replace("*", "[^.]+"), p)
            for pat in LOCKED_WHEN_PREFILLED
        )
    }
    assert "funds.total.initial" in locked_paths and "funds.total.executed" not in locked_paths
    locked_paths |= {"header.unit_code", "header.name"}  # identity cells: locked even blank
    s_wb, b_wb = openpyxl.load_workbook(stamped), openpyxl.load_workbook(built)
    for c in layout.cells:
        if c.role == "input":
            assert s_wb[c.sheet][c.ref].protection.locked == (c.path in locked_paths), c.name
        elif c.role == "formula":
            assert s_wb[c.sheet][c.ref].protection.locked, c.name
    for block in layout.blocks:
        for col in block.columns:
            cell = s_wb[block.sheet][f"{col.letter}{block.first_row}"]
            assert cell.protection.locked == (col.role != "input")
    for name in layout.sheets:  # every cell: value, formula and style as built
        s_ws, b_ws = s_wb[name], b_wb[name]
        assert s_ws.protection.sheet and s_ws.max_row == b_ws.max_row
        for row_s, row_b in zip(s_ws.iter_rows(), b_ws.iter_rows(), strict=True):
            for cs, cb in zip(row_s, row_b, strict=True):
                assert (cs.value, _style(cs)) == (cb.value, _style(cb)), f"{name}!{cs.coordinate}"


# ------------------------------------------------------------------ the package


def _outside_cells(xml: bytes) -> bytes:
    return re.sub(rb"<sheetData>.*</sheetData>", b"", xml, flags=re.DOTALL)


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_everything_but_the_cells_is_the_base(suffix, tmp_path):
    pid = "project-2020"
    f = filing_of(pid, Header(name="乙", year=2024), Funds(total=FundLine(budget=Decimal(7))))
    stamped, built = pair(tmp_path, pid, f, suffix)
    assert_same_document(stamped, built)
    s, b = zipfile.ZipFile(stamped), zipfile.ZipFile(built)
    assert s.namelist() == b.namelist()
    base = stamper(pid, suffix == ".xlsm")
    sheets = {m.name.decode() for m in base.members} & {
        n for n in s.namelist() if "worksheets/sheet" in n
    }
    for i, m in enumerate(base.members):
        name = m.name.decode()
        if name not in sheets:  # copied compressed, as the base build has them
            assert s.getinfo(name).compress_size == m.csize and s.getinfo(name).CRC == m.crc
        if name in sheets:  # validation, merges, protection, conditional formats: as built
            assert _outside_cells(s.read(name)) == _outside_cells(b.read(name))
        elif name not in ("xl/sharedStrings.xml", "xl/styles.xml"):
            assert s.read(name) == b.read(name), name
        assert i == list(s.namelist()).index(name)
    if suffix == ".xlsm":
        assert s.read("xl/vbaProject.bin") == SHIPPED_VBA.read_bytes()
    # A filing the base already holds changes nothing.
    same = stamper(pid).stamp_bytes(
        filing_of(pid, Header(year=2000), stamper(pid)._base_filing().funds)
    )
    assert same is not None and stamper(pid).changes(stamper(pid)._base_filing()) == {}


def test_same_filing_same_bytes(tmp_path):
    pid = "dept-hubei"
    f = filing_of(pid, Header(name="丙", year=2022), Funds(total=FundLine(initial=Decimal(3))))
    first = stamper(pid).stamp_bytes(f)
    for x in range(1, 5):  # other filings in between do not change how this one is written
        stamper(pid).stamp_bytes(
            filing_of(pid, Header(name=str(x), year=2023), Funds(total=FundLine(budget=Decimal(x))))
        )
    assert stamper(pid).stamp_bytes(f) == first


# ------------------------------------------------------------------ what a stamp cannot do


def test_fuller_filings_are_built(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    assert not stampable(f) and stamper("project-2020").stamp_bytes(f) is None
    stamper("project-2020").write(f, tmp_path / "s.xlsx")
    build_workbook(load_profile("project-2020"), tmp_path / "b.xlsx", f, lock_prefilled=True)
    assert_same_document(tmp_path / "s.xlsx", tmp_path / "b.xlsx")


def test_wrong_profile_is_refused(tmp_path):
    with pytest.raises(InputError, match="dept-hubei"):
        stamper("project-2020").write(
            filing_of("dept-hubei", Header(year=2023)), tmp_path / "x.xlsx"
        )
    assert not (tmp_path / "x.xlsx").exists()


def test_distribute_stamps_what_a_build_writes(tmp_path):
    master = tmp_path / "主表.csv"
    with open(master, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "项目名称", "实施单位", "年度", "年初预算数", "全年预算数", "全年执行数",
                    "当年财政拨款年初预算数"])  # fmt: skip
        w.writerow(["1", "甲 & <乙>", "单位", "2023", "100", "120", "", "100"])
        w.writerow(["2", "丙", "", "2024", "", "0", "3", ""])
        w.writerow(["3", "丁😀", "", "2025", "1,000.5", "", "", ""])
    p = load_profile("project-2020")
    for jobs in (1, 2):
        outcomes = distribute(master, p, tmp_path / f"o{jobs}", jobs=jobs)
        assert [o.status for o in outcomes] == ["已生成"] * 3
        for o, row in zip(outcomes, read_master(master, p).rows, strict=True):
            assert row.filing is not None
            build_workbook(p, tmp_path / "b.xlsx", row.filing, lock_prefilled=True)
            assert_same_document(tmp_path / f"o{jobs}" / o.file, tmp_path / "b.xlsx")


# ------------------------------------------------------------------ recalculated by an office suite


@pytest.mark.office
@pytest.mark.parametrize("pid", PROFILES)
def test_libreoffice_recalculates_stamped_as_built(pid, tmp_path, office):  # noqa: F811
    layout = layout_for(load_profile(pid))
    names = (
        "pf_funds_total_rate",
        "pf_funds_total_rate_recomputed",
        "pf_exec_recomputed",
        "pf_total_score",
    )
    watched = [c for c in layout.cells if c.name in names]
    cases = [
        Funds(
            total=FundLine(initial=Decimal(100), budget=Decimal(120), executed=Decimal("110.55"))
        ),
        Funds(total=FundLine(budget=Decimal(0), executed=Decimal(5))),
        Funds(total=FundLine(initial=Decimal(1), budget=Decimal("0.03"), executed=Decimal("0.01"))),
    ]
    for i, funds in enumerate(cases):
        stamped, built = pair(
            tmp_path, pid, filing_of(pid, Header(name=f"项目{i}", year=2023), funds)
        )
        out_s, out_b = tmp_path / f"s{i}.lo.xlsx", tmp_path / f"b{i}.lo.xlsx"
        office.recalculate(stamped, out_s)
        office.recalculate(built, out_b)
        fresh_s, fresh_b = values(out_s), values(out_b)
        cached = values(stamped)
        for c in watched:  # 执行率 / 得分: as a built copy recalculates, and as cached
            key = (c.sheet, c.ref)
            assert fresh_s[key] == fresh_b[key] == cached[key], (c.name, fresh_s[key])
        assert fresh_s == fresh_b
