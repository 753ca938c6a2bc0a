"""The 评分 / 清除标记 buttons' Python side (perfxl.excel) agrees with the command line.

score_button runs through FileBook on workbooks built by the template writer from real
filings, clean and broken; what it writes on 评分结果 and 审核结果 must be what
`perfxl score --json` and `perfxl check --format json` say about the same file, the cells of
open problems coloured, and clear_button must give every cell its former fill back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from perfxl.errors import InputError
from perfxl.excel import FileBook, XlwingsBook, clear_button, score_button
from perfxl.model import Filing
from perfxl.profile import load_profile
from perfxl.workbook.buttons import FIRST_ROW, MARK_COLOR, MESSAGES, NO_FILL
from perfxl.workbook.write import build_workbook
from tests.check_helpers import guangdong, project, variant, wuhan, wuhan_full
from tests.conftest import run_cli
from tests.test_vba import build_xlsm, vba_bin  # noqa: F401  (fixture)

D = Decimal
RESULT, SCORES = MESSAGES["result_sheet"], MESSAGES["score_sheet"]


def _broken_project() -> dict[str, Any]:
    data = project()
    data["indicators"][1].update(score=D(7), explanation=None)  # score ≠ rule, no reason
    data["indicators"][6]["score"] = D(10)
    data["funds"]["fiscal"]["executed"] = D(460)  # 其中 no longer add up
    data["goal_actual"] = None
    return data


def _broken_wuhan() -> dict[str, Any]:
    data = wuhan_full()
    data["finance"]["income_total"] = D(3300)
    data["group_scores"]["2"] = D(31)  # above its weight
    data["projects"][2]["spent"] = D(500)  # 二级 no longer add up to their 一级
    return data


def _broken_guangdong() -> dict[str, Any]:
    data = guangdong()
    data["indicators"][3].update(score=D(1), explanation=None)
    data["header"]["name"] = ""
    return data


FILINGS = {
    "project": project,
    "project-broken": _broken_project,
    "wuhan-example": wuhan,
    "wuhan": wuhan_full,
    "wuhan-broken": _broken_wuhan,
    "guangdong": guangdong,
    "guangdong-broken": _broken_guangdong,
}


def filled(name: str, folder: Path, vba: Path | None, suffix: str = ".xlsm") -> Path:
    filing = Filing.model_validate(FILINGS[name]())
    profile = load_profile(filing.profile)
    path = folder / f"{name}{suffix}"
    if vba is None:
        return build_workbook(profile, path, filing)
    return build_xlsm(profile, path, filing, vba)


def cli_json(*args: str | Path, codes: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    proc = run_cli(*args)
    assert proc.returncode in codes, proc.stderr
    return json.loads(proc.stdout)


def num(v: Any) -> Decimal | None:
    return None if v in (None, "") else D(str(v))


def blank(v: Any) -> Any:
    return None if v == "" else v


def rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]


def fills(path: Path) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Every styled cell's fill (type, colour) in a workbook, by (sheet, A1)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                f = c.fill
                kind = None if f.fill_type in (None, "none") else f.fill_type
                out[(ws.title, c.coordinate)] = (kind, f.fgColor.rgb if kind else None)
    return out


def argb(color: int) -> str:
    return f"FF{color & 0xFF:02X}{color >> 8 & 0xFF:02X}{color >> 16 & 0xFF:02X}"


# ------------------------------------------------------------------ score_button


@pytest.mark.parametrize("name", list(FILINGS))
def test_score_button_writes_what_the_cli_says(name: str, tmp_path: Path, vba_bin: Path) -> None:  # noqa: F811
    src = filled(name, tmp_path, vba_bin)
    before = src.read_bytes()
    dst = tmp_path / "scored.xlsm"
    book = FileBook(src, dst)
    score_button(book)
    assert src.read_bytes() == before, "the input must never change"

    scored = cli_json("score", src, "--json")
    got = rows(dst, SCORES)
    assert got[0][0] == MESSAGES["score_title"].format(name=scored["name"], year=scored["year"])
    table = [
        (blank(r[0]), str(r[1]).strip("\u3000"), num(r[2]), num(r[3]), num(r[4]))
        for r in got[2 : 2 + len(scored["rows"])]
    ]
    expected = [
        (
            r["code"] if r["indicator_index"] is None else None,
            r["name"],
            num(r["weight"]),
            num(r["score"]),
            num(r["stated"]),
        )
        for r in scored["rows"]
    ]
    assert table == expected
    total, grade = got[2 + len(scored["rows"])], got[3 + len(scored["rows"])]
    assert (total[1], num(total[3]), num(total[4])) == (
        MESSAGES["total"],
        num(scored["total"]),
        num(scored["stated_total"]),
    )
    assert (grade[1], grade[3], blank(grade[4])) == (
        MESSAGES["grade"],
        scored["grade"],
        scored["stated_grade"],
    )

    checked = cli_json("check", src, "--format", "json")["files"][0]
    findings = checked["findings"]
    listing = rows(dst, RESULT)
    assert listing[FIRST_ROW - 2][:5] == ("序号", "编码", "级别", "说明", "位置")
    listed = [r[1:5] for r in listing[FIRST_ROW - 1 :] if r[0] is not None]
    level = {"blocking": "强制性", "warning": "提示性"}
    assert listed == [
        (
            f["code"],
            MESSAGES["level_explained"] if f["explained"] else level[f["severity"]],
            f["message"],
            f"{f['sheet']}!{f['cell']}" if f["sheet"] and f["cell"] else f["path"],
        )
        for f in findings
    ]
    links = openpyxl.load_workbook(dst)[RESULT]
    for i, f in enumerate(findings):  # every located finding links to its cell
        link = links[f"E{FIRST_ROW + i}"].hyperlink
        if f["sheet"] and f["cell"]:
            assert link is not None and link.location == f"'{f['sheet']}'!{f['cell']}"
        else:
            assert link is None
    s = checked["summary"]
    problems = s["blocking"] + s["warning"]
    assert listing[0][9] == problems  # J1: the count, written last
    assert book.told == [listing[0][0]]
    assert str(scored["total"]) in listing[0][0] and scored["grade"] in listing[0][0]
    if name.endswith("broken"):
        assert s["blocking"] >= 2

    # open problems are coloured, each cell's former fill recorded beside its row
    old, new = fills(src), fills(dst)
    marked = {
        (f["sheet"], f["cell"]) for f in findings if f["sheet"] and f["cell"] and not f["explained"]
    }
    for key in marked:
        assert new[key] == ("solid", argb(MARK_COLOR)), key
    for key, fill in old.items():
        if key not in marked and key[0] not in (RESULT, SCORES):
            assert new.get(key, (None, None)) == fill, key
    records = {(r[9], r[10]) for r in listing[FIRST_ROW - 1 :] if r[9]}
    assert {tuple(p.split("!")) for p, _ in records} == marked
    for place, color in records:
        kind, rgb = old[tuple(place.split("!"))]
        assert color == (NO_FILL if kind is None else int(rgb[6:] + rgb[4:6] + rgb[2:4], 16))

    # 清除标记 gives every cell its fill back and empties the listing
    again = tmp_path / "cleared.xlsm"
    clear_book = FileBook(dst, again)
    clear_button(clear_book)
    back = fills(again)
    for key, fill in old.items():
        if key[0] not in (RESULT, SCORES):
            assert back.get(key, (None, None)) == fill, key
    assert [[v for v in r if v is not None] for r in rows(again, RESULT)] == [[MESSAGES["cleared"]]]
    assert clear_book.told == [MESSAGES["cleared"]]


def test_a_second_score_does_not_stack_marks(tmp_path: Path) -> None:
    """Pressing 评分 twice: the first run's marks are undone before the second colours."""
    src = filled("project-broken", tmp_path, None, ".xlsx")
    once, twice, cleared = tmp_path / "1.xlsx", tmp_path / "2.xlsx", tmp_path / "3.xlsx"
    score_button(FileBook(src, once))
    book = FileBook(src, twice)
    score_button(book)
    score_button(book)
    assert rows(once, RESULT) == rows(twice, RESULT)
    assert fills(once) == fills(twice)
    clear_button(FileBook(twice, cleared))
    old, back = fills(src), fills(cleared)
    assert all(back.get(k, (None, None)) == v for k, v in old.items() if k[0] != RESULT)


def test_an_unusable_workbook_is_explained_not_scored(tmp_path: Path) -> None:
    """A workbook made for a bureau's own profile: the reader refuses it, as the CLI does."""
    prof = variant("project-2020", inverse_variant="B")
    src = build_workbook(prof, tmp_path / "own.xlsx", Filing.model_validate(project()))
    book = FileBook(src, tmp_path / "out.xlsx")
    score_button(book)
    problems = cli_json("check", src, "--format", "json", codes=(2,))["files"][0]["problems"]
    listing = rows(tmp_path / "out.xlsx", RESULT)
    assert listing[0][0] == MESSAGES["score_unusable"] and book.told == [listing[0][0]]
    listed = [(r[3], blank(r[4])) for r in listing[FIRST_ROW - 1 :] if r[0] is not None]
    assert listed == [(p["message"], blank(p["place"])) for p in problems] and listed
    assert listing[0][9] == len(problems)
    assert SCORES not in openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames


def test_filebook_never_writes_over_its_input(tmp_path: Path) -> None:
    src = filled("project", tmp_path, None, ".xlsx")
    with pytest.raises(InputError):
        score_button(FileBook(src, src))


def test_filebook_reads_names_and_cached_values(tmp_path: Path) -> None:
    src = filled("project", tmp_path, None, ".xlsx")
    book = FileBook(src, tmp_path / "o.xlsx")
    assert book.name_value("pf_meta_profile") == "project-2020"
    assert book.name_value("pf_total_score") == pytest.approx(94.23)  # a formula's result
    assert book.name_value("pf_no_such_name") is None
    assert book.value("_perfxl", "A1") == "profile"


def test_importing_the_adapter_does_not_import_xlwings() -> None:
    code = "import sys, perfxl.excel; print('xlwings' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ XlwingsBook plumbing


class _Range:
    def __init__(self, cells: dict[str, Any], a1: str) -> None:
        self.cells, self.a1 = cells, a1

    value = property(
        lambda self: self.cells.get(self.a1), lambda self, v: self.cells.__setitem__(self.a1, v)
    )
    formula = property(
        lambda self: self.cells.get(self.a1), lambda self, v: self.cells.__setitem__(self.a1, v)
    )
    color = property(
        lambda self: self.cells.get(("color", self.a1)),
        lambda self, v: self.cells.__setitem__(("color", self.a1), v),
    )
    column_width = property(lambda self: None, lambda self, v: None)


class _Sheet:
    def __init__(self, name: str) -> None:
        self.name, self.cells = name, {}

    def range(self, a1: str) -> _Range:
        return _Range(self.cells, a1)

    def clear(self) -> None:
        self.cells.clear()


class _Sheets(list):
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)

    def add(self, name: str, after: Any = None) -> _Sheet:
        sheet = _Sheet(name)
        self.insert(self.index(after) + 1 if after is not None else len(self), sheet)
        return sheet


class _Saved:
    def get(self) -> bool:
        return True


class _FakeXlBook:
    """What XlwingsBook uses of an xlwings Book, kept in memory; on this platform its
    snapshot is the saved file itself."""

    def __init__(self, path: Path, sheets: list[str]) -> None:
        self.fullname = str(path)
        self.sheets = _Sheets(_Sheet(s) for s in sheets)
        self.alerts: list[str] = []
        self.api = type("Api", (), {"saved": _Saved()})()
        self.app = type("App", (), {"alert": lambda _, text, title: self.alerts.append(text)})()


@pytest.mark.skipif(sys.platform == "win32", reason="the fake stands for the macOS path")
def test_xlwings_book_adapter(tmp_path: Path) -> None:
    src = filled("project-broken", tmp_path, None, ".xlsx")
    fake = _FakeXlBook(src, openpyxl.load_workbook(src).sheetnames)
    score_button(XlwingsBook(fake))
    res = fake.sheets[RESULT].cells
    assert fake.alerts and fake.alerts[0] == res["A1"]
    findings = cli_json("check", src, "--format", "json")["files"][0]["findings"]
    first = findings[0]
    assert res[f"B{FIRST_ROW}"] == first["code"]
    assert res[f"E{FIRST_ROW}"] == (
        f'=HYPERLINK("#\'{first["sheet"]}\'!{first["cell"]}","{first["sheet"]}!{first["cell"]}")'
    )
    form = fake.sheets[first["sheet"]].cells
    assert form[("color", first["cell"])] == (255, 204, 153)
    clear_button(XlwingsBook(fake))
    assert form[("color", first["cell"])] is None  # no fill known in the fake: none restored
    assert fake.alerts[-1] == MESSAGES["cleared"]


def test_score_button_sees_a_number_typed_over_a_formula(tmp_path: Path, vba_bin: Path) -> None:  # noqa: F811
    """评分 runs the pipeline of `perfxl check`: 99.5 typed over the 复算执行率 formula is the
    same blocking INTEG-FORMULA at the same cell in both."""
    src = filled("project", tmp_path, vba_bin)
    wb = openpyxl.load_workbook(src, keep_vba=True)
    form = wb.worksheets[0]
    form["L6"] = 99.5  # over =IF(...ROUND(E6*100/D6,2)...)
    typed = tmp_path / "typed.xlsm"
    wb.save(typed)
    dst = tmp_path / "scored.xlsm"
    score_button(FileBook(typed, dst))
    checked = cli_json("check", typed, "--format", "json")["files"][0]["findings"]
    cli = [(f["code"], f"{f['sheet']}!{f['cell']}") for f in checked if f["severity"] == "blocking"]
    assert ("INTEG-FORMULA", f"{form.title}!L6") in cli
    listing = rows(dst, RESULT)
    button = [
        (r[1], r[4]) for r in listing[FIRST_ROW - 1 :] if r[0] is not None and r[2] == "强制性"
    ]
    assert button == cli
