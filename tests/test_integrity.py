"""Workbook integrity rules: formulas kept, cached results current, no error values,
readable cells, refusals reported per file with their codes. The workbooks are built by the
template writer and edited in their XML, exactly and without an office suite (the mutation
suite does the same through LibreOffice)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from perfxl.cli_check import check_file
from perfxl.filing_io import load_filing
from perfxl.findings import Report, Severity, Status
from perfxl.model import Filing
from perfxl.profile import load_profile
from perfxl.rules import BY_CODE
from perfxl.workbook.facts import normal_formula, scan_sheet
from perfxl.workbook.write import build_workbook
from tests.check_helpers import guangdong, wuhan_full
from tests.conftest import PROJECT_EXAMPLE, run_cli

FORM = "项目支出绩效自评表"
INTEG = (
    "INTEG-FILE",
    "INTEG-TEMPLATE",
    "INTEG-NAMES",
    "INTEG-FORMULA",
    "INTEG-FORMULA-EDITED",
    "INTEG-STALE",
    "INTEG-ERROR-VALUE",
    "INTEG-CELL-VALUE",
    "INTEG-READ-NOTE",
)


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("integrity")
    out = {}
    for key, filing in (
        ("project", load_filing(PROJECT_EXAMPLE)),
        ("hubei", Filing.model_validate(wuhan_full())),
        ("guangdong", Filing.model_validate(guangdong())),
    ):
        out[key] = build_workbook(load_profile(filing.profile), d / f"{key}.xlsx", filing)
    return out


def patched(src: Path, dst: Path, part: str, edit: Callable[[str], str]) -> Path:
    """A copy of `src` with one XML part edited (as a tool that writes the zip would)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                new = edit(text)
                assert new != text, "the edit changed nothing"
                data = new.encode("utf-8")
            zout.writestr(item, data)
    return dst


def set_cell(a1: str, inner: str, attrs: str = "") -> Callable[[str], str]:
    """Replace cell `a1`'s element (keeping its style) with `inner` content."""

    def edit(xml: str) -> str:
        m = re.search(rf'<c r="{a1}"([^>]*?)(/>|>.*?</c>)', xml)
        assert m is not None, a1
        style = re.search(r'\ss="[0-9]+"', m[1])
        head = f'<c r="{a1}"{style[0] if style else ""}{attrs}>'
        return xml[: m.start()] + head + inner + "</c>" + xml[m.end() :]

    return edit


def codes(report: Report, severity: Severity | None = None) -> list[tuple[str, str]]:
    return sorted((f.code, f.location()) for f in report.findings if not f.explained and (
        severity is None or f.severity is severity))  # fmt: skip


def integrity(report: Report) -> list[tuple[str, str]]:
    return [c for c in codes(report) if c[0].startswith("INTEG")]


# ------------------------------------------------------------------ clean workbooks


def test_clean_workbooks_pass_every_integrity_rule(books: dict[str, Path]) -> None:
    for path in books.values():
        r = check_file(path)
        assert r.usable and r.valid, codes(r)
        assert integrity(r) == []
        for code in INTEG:
            assert r.status(code) is Status.PASSED, (path.name, code)


def test_integrity_rules_do_not_apply_to_data_files() -> None:
    r = check_file(PROJECT_EXAMPLE)
    assert {r.status(c) for c in INTEG} == {Status.NOT_APPLICABLE}


def test_catalogue_lists_the_integrity_rules() -> None:
    for code in INTEG:
        assert code in BY_CODE
    assert BY_CODE["INTEG-FORMULA"].severity is Severity.BLOCKING
    assert BY_CODE["INTEG-STALE"].severity is Severity.WARNING
    r = run_cli("rules")
    assert r.returncode == 0
    for code in INTEG:
        assert code in r.stdout


# ------------------------------------------------------------------ formulas


def test_number_typed_over_a_formula(books: dict[str, Path], tmp_path: Path) -> None:
    bad = patched(books["project"], tmp_path / "typed.xlsx", "xl/worksheets/sheet1.xml",
                  set_cell("L6", "<v>95</v>"))  # fmt: skip
    r = check_file(bad)
    f = next(f for f in r.findings if f.code == "INTEG-FORMULA")
    assert (f.sheet, f.cell) == (FORM, "L6")  # the 复算执行率
    assert f.severity is Severity.BLOCKING and "95" in f.message
    # the 复算 is judged as the formula gives it: the stated 执行率 (G6) still agrees
    assert integrity(r) == [("INTEG-FORMULA", f"{FORM}!L6")]
    assert ("ARITH-EXEC-RATE", f"{FORM}!G6") not in codes(r)


def test_text_typed_over_a_formula(books: dict[str, Path], tmp_path: Path) -> None:
    bad = patched(
        books["project"],
        tmp_path / "text.xlsx",
        "xl/worksheets/sheet1.xml",
        set_cell("K59", "<is><t>优</t></is>", ' t="inlineStr"'),
    )  # fmt: skip  (复算等级)
    r = check_file(bad)
    assert integrity(r) == [("INTEG-FORMULA", f"{FORM}!K59")]
    assert "「优」" in next(f.message for f in r.findings if f.code == "INTEG-FORMULA")


def test_cleared_formula(books: dict[str, Path], tmp_path: Path) -> None:
    def clear(xml: str) -> str:
        return re.sub(r'<c r="K13"([^>]*?)>.*?</c>', r'<c r="K13"\1/>', xml, count=1)

    r = check_file(
        patched(books["project"], tmp_path / "clr.xlsx", "xl/worksheets/sheet1.xml", clear)
    )
    assert integrity(r) == [("INTEG-FORMULA", f"{FORM}!K13")]
    assert "被清空" in r.findings[0].message


def test_edited_formula_is_a_warning(books: dict[str, Path], tmp_path: Path) -> None:
    def edit(xml: str) -> str:  # the 复算得分 formula of K6 shows 0 instead of "" without a rate
        return re.sub(r'(<c r="K6"[^>]*><f>[^<]*),""\)</f>', r"\1,0)</f>", xml, count=1)

    r = check_file(
        patched(books["project"], tmp_path / "edit.xlsx", "xl/worksheets/sheet1.xml", edit)
    )
    assert integrity(r) == [("INTEG-FORMULA-EDITED", f"{FORM}!K6")]
    assert r.valid


def test_formula_text_normalisation() -> None:
    a = "=IF(ISNUMBER('基本信息'!$B$9),ROUND(SUM($H$6, $I$13:$I$57),2),\"\")"
    b = 'if(isnumber(基本信息!$B$9),_xlfn.ROUND(sum($H$6,$I$13:$I$57),2),"")'
    assert normal_formula(a) == normal_formula(b)
    assert normal_formula('IF(A1="优",1,0)') != normal_formula('IF(A1="良",1,0)')


# ------------------------------------------------------------------ cached results


def test_stale_cached_value_is_a_warning_and_checked_as_recomputed(
    books: dict[str, Path], tmp_path: Path
) -> None:
    def stale(xml: str) -> str:  # the 复算总分's cached result, as a careless tool left it
        return re.sub(r'(<c r="K58"[^>]*>.*?<v>)94\.23(</v>)', r"\g<1>90\2", xml, count=1)

    r = check_file(
        patched(books["project"], tmp_path / "stale.xlsx", "xl/worksheets/sheet1.xml", stale)
    )
    assert integrity(r) == [("INTEG-STALE", f"{FORM}!K58")]
    f = next(f for f in r.findings if f.code == "INTEG-STALE")
    assert (f.expected, f.actual, f.severity) == ("94.23", "90", Severity.WARNING)
    assert r.valid  # the total is checked as Excel will show it: 94.23, no ARITH-TOTAL


def test_missing_cached_values_give_one_warning(books: dict[str, Path], tmp_path: Path) -> None:
    def strip(xml: str) -> str:  # what a writer that does not calculate leaves: <v/>
        return re.sub(r"(</f>)<v>[^<]*</v>", r"\1<v></v>", xml)

    for key in ("project", "hubei"):
        part = "xl/worksheets/sheet1.xml" if key == "project" else "xl/worksheets/sheet4.xml"
        r = check_file(patched(books[key], tmp_path / f"nocache-{key}.xlsx", part, strip))
        stale = [f for f in r.findings if f.code == "INTEG-STALE"]
        assert len(stale) == 1 and "没有计算结果" in stale[0].message, codes(r)
        assert r.valid, codes(r)  # no COMP-TOTAL: the blanks are filled by recomputation


# ------------------------------------------------------------------ error values, cells


def test_error_value_in_an_input_cell(books: dict[str, Path], tmp_path: Path) -> None:
    bad = patched(books["project"], tmp_path / "err.xlsx", "xl/worksheets/sheet1.xml",
                  set_cell("I15", "<f>1/0</f><v>#DIV/0!</v>", ' t="e"'))  # fmt: skip
    r = check_file(bad)
    f = next(f for f in r.findings if f.code == "INTEG-ERROR-VALUE")
    assert (f.cell, f.actual, f.severity) == ("I15", "#DIV/0!", Severity.BLOCKING)
    assert [c for c in integrity(r)] == [("INTEG-ERROR-VALUE", f"{FORM}!I15")]


def test_error_value_in_a_template_formula(books: dict[str, Path], tmp_path: Path) -> None:
    def broken(xml: str) -> str:
        return re.sub(r'<c r="D38"([^>]*?)>(<f>.*?</f>)<v>[^<]*</v></c>',
                      r'<c r="D38"\1 t="e">\2<v>#REF!</v></c>', xml, count=1)  # fmt: skip

    r = check_file(
        patched(books["hubei"], tmp_path / "ref.xlsx", "xl/worksheets/sheet4.xml", broken)
    )
    assert ("INTEG-ERROR-VALUE", "评分表!D38") in integrity(r)
    assert "模板公式出错" in next(f.message for f in r.findings if f.code == "INTEG-ERROR-VALUE")


def test_unreadable_text_in_a_number_cell(books: dict[str, Path], tmp_path: Path) -> None:
    bad = patched(books["project"], tmp_path / "text5.xlsx", "xl/worksheets/sheet1.xml",
                  set_cell("I15", "<is><t>五分</t></is>", ' t="inlineStr"'))  # fmt: skip
    r = check_file(bad)
    # the cell is judged as the workbook computes with it: text, not a number
    assert ("VAL-NUMBER-TEXT", f"{FORM}!I15") in codes(r)
    assert ("INTEG-CELL-VALUE", f"{FORM}!I15") not in integrity(r)  # not said twice


def test_guess_by_the_reader_is_a_warning(books: dict[str, Path], tmp_path: Path) -> None:
    # an amount typed in 元 (4,900,000 for 490 万元) among 万元 neighbours
    bad = patched(books["project"], tmp_path / "yuan.xlsx", "xl/worksheets/sheet1.xml",
                  set_cell("C6", "<v>4900000</v>"))  # fmt: skip
    r = check_file(bad)
    assert ("INTEG-READ-NOTE", f"{FORM}!C6") in integrity(r)
    assert BY_CODE["INTEG-READ-NOTE"].severity is Severity.WARNING


# ------------------------------------------------------------------ refusals


def test_refusals_are_reported_per_file_with_their_code(
    books: dict[str, Path], tmp_path: Path
) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    nonames = patched(books["project"], tmp_path / "nonames.xlsx", "xl/workbook.xml",
                      lambda x: re.sub(r'<definedName name="pf_grade">[^<]*</definedName>', "", x))  # fmt: skip
    r = run_cli("check", old, nonames, books["hubei"], "--format", "json")
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    by_file = {Path(f["file"]).name: f for f in doc["files"]}
    assert by_file["old.xls"]["problems"][0]["code"] == "INTEG-FILE"
    assert by_file["nonames.xlsx"]["problems"][0]["code"] == "INTEG-NAMES"
    assert by_file["hubei.xlsx"]["usable"] and by_file["hubei.xlsx"]["valid"]


def test_a_refusal_carries_the_code_of_the_rule_it_fails(
    books: dict[str, Path], tmp_path: Path
) -> None:
    """Codes are declared where the refusal is raised, not guessed from its message."""
    from perfxl.verdict import check_file

    meta = patched(books["project"], tmp_path / "fmt.xlsx", "xl/workbook.xml",
                   lambda x: re.sub(r'<definedName name="pf_meta_format">[^<]*</definedName>', "", x))  # fmt: skip
    (p,) = check_file(meta).problems
    assert p.code == "INTEG-TEMPLATE"
    plain = tmp_path / "plain.xlsx"
    import openpyxl

    openpyxl.Workbook().save(plain)
    assert [x.code for x in check_file(plain).problems] == ["INTEG-TEMPLATE"]


# ------------------------------------------------------------------ the scanner


def test_scan_sheet_reads_formulas_caches_and_errors() -> None:
    xml = (
        b'<sheetData><row r="1"><c r="A1" s="1"><f>SUM(B1:B2)</f><v>3</v></c>'
        b'<c r="B1"><v>1</v></c><c r="C1" t="str"><f>IF(B1&gt;0,"&#20248;","")</f><v>&#20248;</v></c>'
        b'<c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        b'<c r="F1"><f t="shared" si="0"/><v>2</v></c><c r="G1"><f>A1</f><v/></c></row>'
        b"</sheetData><conditionalFormatting><cfRule><formula>A1&gt;0</formula></cfRule>"
        b"</conditionalFormatting>"
    )
    got = {k: (v.formula, v.cached, v.type) for k, v in scan_sheet(xml).items()}
    assert got == {
        (1, 1): ("SUM(B1:B2)", "3", "n"),
        (1, 3): ('IF(B1>0,"优","")', "优", "str"),
        (1, 4): (None, "#N/A", "e"),
        (1, 5): ("1/0", "#DIV/0!", "e"),
        (1, 6): ("", "2", "n"),
        (1, 7): ("A1", None, "n"),
    }
    prefixed = xml.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>").replace(b"<f", b"<x:f")
    prefixed = (
        prefixed.replace(b"</f>", b"</x:f>").replace(b"<v", b"<x:v").replace(b"</v>", b"</x:v>")
    )
    assert {k for k in scan_sheet(prefixed)} == set(got)


def test_formula_text_as_libreoffice_writes_it() -> None:
    """LibreOffice saves the constant FALSE as the function FALSE(): the same formula."""
    ours = 'IF(IF(ISNUMBER($D$6),($D$6<>0),FALSE),1,"")'
    assert normal_formula(ours) == normal_formula('IF(IF(ISNUMBER($D$6),($D$6<>0),FALSE()),1,"")')
    assert normal_formula('IF(A1="FALSE()",1,0)') != normal_formula('IF(A1="FALSE",1,0)')
