"""The VBA project (macros/*.bas compiled by perfxl.vba) and the buttons bound to it.

oletools reads the compiled project back the way Excel's and LibreOffice's importers do;
each module must come back as its source. The helpers at the bottom build the .xlsm
templates the other button tests use.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from oletools.olevba import VBA_Parser
from xlsxwriter.workbook import Workbook

from perfxl.model import Filing
from perfxl.profile import Profile, load_profile
from perfxl.vba import MACROS_DIR, build_vba_project, module_sources
from perfxl.workbook import buttons, write
from perfxl.workbook.buttons import BUTTONS, MESSAGES, add_buttons, write_messages
from perfxl.workbook.layout import META_SHEET, layout_for

PROFILES = ("project-2020", "dept-hubei", "dept-guangdong")


def compiled_modules(path: Path) -> dict[str, str]:
    """Module name → source as stored in a vbaProject.bin or an .xlsm ("\\n" endings)."""
    parser = VBA_Parser(str(path))
    try:
        return {
            name.rsplit(".", 1)[0]: code.replace("\r\n", "\n")
            for _, _, name, code in parser.extract_macros()
        }
    finally:
        parser.close()


@pytest.fixture(scope="session")
def vba_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_vba_project(out=tmp_path_factory.mktemp("vba") / "vbaProject.bin")


# ------------------------------------------------------------------ compiling


def test_every_module_compiles_to_its_source(vba_bin: Path) -> None:
    sources = module_sources()
    assert set(sources) == {"PerfxlCommon", "PerfxlValidate", "PerfxlScore", "PerfxlClear"}
    modules = compiled_modules(vba_bin)
    assert {k: modules[k] for k in sources} == sources
    # the document modules every Excel project has, with ms-ovba's normalised attributes
    for doc, guid in (("ThisWorkbook", "00020819"), ("Sheet1", "00020820")):
        assert f'Attribute VB_Name = "{doc}"' in modules[doc]
        assert f'Attribute VB_Base = "0{{{guid}-0000-0000-C000-000000000046}}"' in modules[doc]


def test_build_is_reproducible_and_leaves_the_sources_alone(tmp_path: Path) -> None:
    before = sorted(p.name for p in MACROS_DIR.iterdir())
    a = build_vba_project(out=tmp_path / "a.bin")
    b = build_vba_project(out=tmp_path / "b.bin")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in MACROS_DIR.iterdir()) == before


def test_long_repeats_survive_compression(tmp_path: Path) -> None:
    """ms-ovba's compressor let copy tokens overflow their length field: a module with a long
    repeated run came back garbled (and LibreOffice then runs no macro at all)."""
    filler = "".join(f"    v{i} = {i * 7919 % 10007}\n" for i in range(150))
    line = '    s = "' + "".join(chr(65 + i % 26) for i in range(200)) + '"\n'
    body = filler + line + line  # the second copy is one long match, past 2 KB into a chunk
    src = tmp_path / "src"
    src.mkdir()
    text = f'Attribute VB_Name = "Long"\nPublic Sub Fill()\n{body}End Sub\n'
    (src / "Long.bas").write_text(text, encoding="ascii")
    assert compiled_modules(build_vba_project(src, tmp_path / "v.bin"))["Long"] == text


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("Zh.bas", 'Attribute VB_Name = "Zh"\n\' 校验\n', "ASCII"),
        ("NoName.bas", "Option Explicit\n", "VB_Name"),
    ],
)
def test_bad_sources_are_refused(tmp_path: Path, name: str, text: str, error: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        build_vba_project(tmp_path, tmp_path / "out.bin")


# ------------------------------------------------------------------ the macros' contract


def _all_source() -> str:
    return "\n".join(module_sources().values())


def test_macros_show_only_texts_from_pf_messages() -> None:
    src = _all_source()
    keys = set(re.findall(r'Msg\("(\w+)"\)', src))
    keys |= {k for arr in re.findall(r"Array\(([^)]*)\)", src) for k in re.findall(r'"(\w+)"', arr)}
    assert keys and keys <= set(MESSAGES), keys - set(MESSAGES)
    assert set(buttons.RESULT_HEADERS) <= keys


def test_macro_constants_match_the_python_side() -> None:
    consts = dict(re.findall(r"Public Const (\w+) As \w+ = (\S+)", _all_source()))
    assert int(consts["NO_FILL"]) == buttons.NO_FILL
    assert int(consts["MARK_COLOR"]) == buttons.MARK_COLOR
    assert int(consts["FIRST_ROW"]) == buttons.FIRST_ROW
    assert int(consts["MARK_COL"]) == ord(buttons.MARK_COLUMNS[0]) - ord("A") + 1
    assert consts["MARKER"] == f'"{buttons.MARKER_CELL}"'


def test_buttons_call_public_subs() -> None:
    subs = set(re.findall(r"^Public Sub (\w+)\(\)", _all_source(), re.M))
    assert {macro for _, macro in BUTTONS} <= subs


# ------------------------------------------------------------------ the template side


def test_messages_and_buttons_in_a_workbook(tmp_path: Path, vba_bin: Path) -> None:
    layout = layout_for(load_profile("project-2020"))
    path = tmp_path / "b.xlsm"
    wb = Workbook(str(path))
    wb.add_vba_project(str(vba_bin))
    form = wb.add_worksheet(layout.form_sheet)
    write_messages(wb, wb.add_worksheet(META_SHEET))
    add_buttons(wb, form, layout)
    wb.close()

    book = openpyxl.load_workbook(path, keep_vba=True)
    dest = list(book.defined_names["pf_messages"].destinations)
    assert len(dest) == 1 and dest[0][0] == META_SHEET
    table = [(r[0].value, r[1].value) for r in book[META_SHEET][dest[0][1].replace("$", "")]]
    assert table == list(MESSAGES.items())
    assert buttons.MESSAGES["result_sheet"] in book.sheetnames
    assert bound_buttons(path) == {MESSAGES[k]: m for k, m in BUTTONS}


def test_buttons_need_a_vba_project(tmp_path: Path) -> None:
    layout = layout_for(load_profile("dept-hubei"))
    wb = Workbook(str(tmp_path / "x.xlsx"))
    with pytest.raises(ValueError, match="VBA project"):
        add_buttons(wb, wb.add_worksheet("评分表"), layout)
    wb.close()


def test_default_anchor_is_beside_the_banner() -> None:
    for pid, anchor in (("project-2020", "L1"), ("dept-hubei", "J1"), ("dept-guangdong", "J1")):
        assert buttons.button_anchor(layout_for(load_profile(pid))) == anchor


@pytest.mark.parametrize("pid", PROFILES)
def test_template_xlsm(pid: str, tmp_path: Path, vba_bin: Path) -> None:
    path = build_xlsm(load_profile(pid), tmp_path / f"{pid}.xlsm", None, vba_bin)
    assert bound_buttons(path) == {MESSAGES[k]: m for k, m in BUTTONS}
    assert compiled_modules(path).keys() >= module_sources().keys()
    book = openpyxl.load_workbook(path, keep_vba=True)
    assert MESSAGES["result_sheet"] in book.sheetnames and "pf_messages" in book.defined_names
    with zipfile.ZipFile(path) as z:
        types = z.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types


# ------------------------------------------------------------------ helpers for other tests


def bound_buttons(path: Path) -> dict[str, str]:
    """Caption → macro of the form buttons in a workbook's VML drawings: "[0]!Macro" as
    XlsxWriter writes it (shown here as "Macro"), "Module.Macro" as LibreOffice saves it once
    it has resolved the button to a procedure of the VBA project."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".vml"):
                xml = z.read(name).decode("utf-8", "replace")
                for shape in re.findall(r"<v:shape\s.*?</v:shape>", xml, re.S):
                    box = re.search(r"<v:textbox[^>]*>(.*?)</v:textbox>", shape, re.S)
                    caption = re.sub(r"<[^>]+>|\s", "", box.group(1)) if box else ""
                    macro = re.search(r"<x:FmlaMacro>(.*?)</x:FmlaMacro>", shape)
                    if macro:
                        out[caption] = macro.group(1).removeprefix("[0]!")
    return out


def build_xlsm(profile: Profile, path: Path, filing: Filing | None, vba: Path) -> Path:
    """A template or filled .xlsm with the VBA project, the messages and the buttons."""
    return write.build_workbook(profile, path, filing, vba_project=vba)


def test_macros_protect_sheets_again_as_the_writer_does() -> None:
    """Colouring a cell lifts the sheet protection and puts it back with fixed arguments
    (VBA and perfxl.excel alike): they must stay what write.PROTECT gives."""
    allowed = {k for k, v in write.PROTECT.items() if v}
    assert allowed == {
        "format_columns",
        "format_rows",
        "select_locked_cells",
        "select_unlocked_cells",
    }
    args = '"", True, True, True, False, False, True, True'  # ..., cells, columns, rows
    assert f"ws.Protect {args}" in _all_source()
    excel = (Path(write.__file__).parent.parent / "excel.py").read_text(encoding="utf-8")
    assert f"Protect({args})" in excel


def test_shipped_vba_project_is_fresh(tmp_path: Path) -> None:
    """The package ships macros/ compiled, so users need no VBA compiler; it must match."""
    from perfxl.vba import SHIPPED_VBA

    fresh = build_vba_project(out=tmp_path / "vbaProject.bin")
    assert SHIPPED_VBA.read_bytes() == fresh.read_bytes(), "重新生成：bash scripts/build-templates"
