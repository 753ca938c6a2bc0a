"""The VBA project (macros/*.bas put into an Excel-written project by perfxl.vba) and the
buttons bound to it.

The built project is read back with readers independent of the writer: olefile for the
streams, oletools (olevba) for the modules' sources and for decompression, and the few
[MS-OVBA] records Excel depends on parsed here. The helpers at the bottom build the .xlsm
templates the other button tests use.
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from oletools.olevba import VBA_Parser, decompress_stream
from pyopenvba.exceptions import VBAProjectError
from pyopenvba.vba import compress
from xlsxwriter.workbook import Workbook

from perfxl.model import Filing
from perfxl.profile import Profile, load_profile
from perfxl.vba import (
    CODE_PAGE,
    CONTAINER,
    DOCUMENT_MODULES,
    MACROS_DIR,
    build_vba_project,
    container_project,
    module_sources,
)
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


# ------------------------------------------------------------------ reading [MS-OVBA]


def streams(data: bytes) -> dict[str, bytes]:
    """Every stream of a compound file, by its path ("VBA/dir")."""
    ole = olefile.OleFileIO(data)
    try:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}
    finally:
        ole.close()


def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """The records (id, data) of a decompressed dir stream ([MS-OVBA] 2.3.4.2)."""
    out, pos = [], 0
    while pos < len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == 0x0009:  # PROJECTVERSION: Size says 4, but Major (4) + Minor (2) follow
            size = 6
        out.append((rid, data[pos : pos + size]))
        pos += size
        if rid == 0x0010:  # the terminator, followed by Reserved (4 bytes)
            assert data[pos:] == b"\0\0\0\0"
            break
    return out


def dir_modules(records: list[tuple[int, bytes]]) -> list[dict[str, object]]:
    """name, stream, offset and kind ("standard"/"document") of each module record."""
    mods: list[dict[str, object]] = []
    for rid, data in records:
        if rid == 0x0019:
            mods.append({"name": data.decode("ascii")})
        elif rid == 0x0047:
            mods[-1]["name_unicode"] = data.decode("utf-16-le")
        elif rid == 0x001A:
            mods[-1]["stream"] = data.decode("ascii")
        elif rid == 0x0031:
            mods[-1]["offset"] = struct.unpack("<I", data)[0]
        elif rid in (0x0021, 0x0022):
            mods[-1]["kind"] = "standard" if rid == 0x0021 else "document"
    return mods


def decrypt(hex_text: str) -> bytes:
    """The data of a CMG/DPB/GC value ([MS-OVBA] 2.4.3.3 Data Decryption)."""
    enc = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = enc[0], enc[1], enc[2]
    assert seed ^ version_enc == 2, "encryption version must be 2"
    unenc1, enc1, enc2, pos = seed ^ key_enc, key_enc, version_enc, 3

    def step() -> int:
        nonlocal unenc1, enc1, enc2, pos
        byte_enc = enc[pos]
        byte = byte_enc ^ ((enc2 + unenc1) & 0xFF)
        enc2, enc1, unenc1, pos = enc1, byte_enc, byte, pos + 1
        return byte

    for _ in range((seed & 6) // 2):  # ignored bytes
        step()
    length = int.from_bytes(bytes(step() for _ in range(4)), "little")
    data = bytes(step() for _ in range(length))
    assert pos == len(enc), "trailing bytes after the data"
    return data


# ------------------------------------------------------------------ the built project


def test_container_is_the_excel_written_one() -> None:
    digest = hashlib.sha256(CONTAINER.read_bytes()).hexdigest()
    assert digest in (CONTAINER.with_name("excel-blank.NOTICE.md")).read_text(encoding="utf-8")
    with zipfile.ZipFile(CONTAINER) as z:
        assert "<Application>Microsoft Excel</Application>" in z.read("docProps/app.xml").decode()
    assert compiled_modules_of(container_project()).keys() == {*DOCUMENT_MODULES, "Module1"}


def compiled_modules_of(data: bytes) -> dict[str, str]:
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {n.rsplit(".", 1)[0]: c for _, _, n, c in parser.extract_macros()}
    finally:
        parser.close()


def test_every_module_comes_back_as_its_source(vba_bin: Path) -> None:
    sources = module_sources()
    assert set(sources) == {"PerfxlCommon", "PerfxlValidate", "PerfxlScore", "PerfxlClear"}
    modules = compiled_modules(vba_bin)
    assert modules.keys() == {*sources, *DOCUMENT_MODULES}
    assert {k: modules[k] for k in sources} == sources
    # and the raw stream, decompressed independently, is exactly the CRLF source in cp1252
    st = streams(vba_bin.read_bytes())
    for name, text in sources.items():
        stored = decompress_stream(bytearray(st[f"VBA/{name}"]))
        assert stored == text.replace("\n", "\r\n").encode(f"cp{CODE_PAGE}")


def test_project_fields_excel_depends_on(vba_bin: Path) -> None:
    built, original = streams(vba_bin.read_bytes()), streams(container_project())
    sources = module_sources()
    names = [*DOCUMENT_MODULES, *sources]
    assert set(built) == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} | {
        f"VBA/{n}" for n in names
    }
    assert not any("__SRP_" in s for s in built)

    # _VBA_PROJECT: Reserved1 0x61CC, Excel's Version, Reserved2 0, and no compiled cache
    # left (all zero), so Excel compiles the stored source
    vp, vp0 = built["VBA/_VBA_PROJECT"], original["VBA/_VBA_PROJECT"]
    assert vp[:2] == b"\xcc\x61" and vp[2:4] == vp0[2:4] and vp[4] == 0
    assert not any(vp[5:])

    # dir: LCID 0x409 (as Excel writes whatever the user's locale), the code page of the
    # bytes written, the modules with offsets
    records = dir_records(decompress_stream(bytearray(built["VBA/dir"])))
    rec = {rid: data for rid, data in records}
    assert struct.unpack("<I", rec[0x0002])[0] == 0x409  # PROJECTLCID
    assert struct.unpack("<I", rec[0x0014])[0] == 0x409  # PROJECTLCIDINVOKE
    assert struct.unpack("<H", rec[0x0003])[0] == CODE_PAGE  # PROJECTCODEPAGE
    assert struct.unpack("<H", rec[0x000F])[0] == len(names)  # PROJECTMODULES count
    mods = dir_modules(records)
    assert [m["name"] for m in mods] == names
    assert all(m["name"] == m["name_unicode"] == m["stream"] for m in mods)
    original_records = dir_records(decompress_stream(bytearray(original["VBA/dir"])))
    original_mods = {m["name"]: m for m in dir_modules(original_records)}
    for m in mods:
        if m["name"] in DOCUMENT_MODULES:  # exactly as Excel wrote them, p-code and all
            assert m == original_mods[m["name"]] and m["kind"] == "document"
            assert built[f"VBA/{m['name']}"] == original[f"VBA/{m['name']}"]
        else:
            assert m["kind"] == "standard" and m["offset"] == 0  # source only
    # the project information and references before the modules section are Excel's

    def info(recs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        return recs[: [r for r, _ in recs].index(0x000F)]

    assert info(records) == info(original_records)

    # PROJECTwm: each module's MBCS name then its UTF-16 name, then a 0x0000 terminator
    wm = (
        b"".join(n.encode("ascii") + b"\0" + n.encode("utf-16-le") + b"\0\0" for n in names)
        + b"\0\0"
    )
    assert built["PROJECTwm"] == wm

    # PROJECT: CRLF lines in the order [MS-OVBA] 2.3.1 gives
    text = built["PROJECT"].decode(f"cp{CODE_PAGE}")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    head = lines[: lines.index("")]
    assert re.fullmatch(r'ID="\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}"', head[0])
    assert head[1 : 1 + len(names)] == [f"Document={n}/&H00000000" for n in DOCUMENT_MODULES] + [
        f"Module={n}" for n in sources
    ]
    rest = dict(line.split("=", 1) for line in head[1 + len(names) :])
    assert rest["Name"] == '"VBAProject"' and rest["HelpContextID"] == '"0"'
    assert decrypt(rest["CMG"].strip('"')) == b"\0\0\0\0"  # no protection
    assert decrypt(rest["DPB"].strip('"')) == b"\0"  # no password
    assert decrypt(rest["GC"].strip('"')) == b"\xff"  # visible
    assert lines[lines.index("[Host Extender Info]") + 1] == (
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
    )
    workspace = lines[lines.index("[Workspace]") + 1 :]
    assert [w.split("=", 1)[0] for w in workspace if w] == names


def test_build_is_reproducible_and_leaves_the_sources_alone(tmp_path: Path) -> None:
    before = sorted(p.name for p in MACROS_DIR.iterdir())
    a = build_vba_project(out=tmp_path / "a.bin")
    b = build_vba_project(out=tmp_path / "b.bin")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in MACROS_DIR.iterdir()) == before


def test_long_repeats_survive_compression(tmp_path: Path) -> None:
    """A module with a long repeated run (copy tokens at their longest) comes back whole."""
    filler = "".join(f"    v{i} = {i * 7919 % 10007}\n" for i in range(150))
    line = '    s = "' + "".join(chr(65 + i % 26) for i in range(200)) + '"\n'
    body = filler + line + line  # the second copy is one long match, past 2 KB into a chunk
    src = tmp_path / "src"
    src.mkdir()
    text = f'Attribute VB_Name = "Long"\nPublic Sub Fill()\n{body}End Sub\n'
    (src / "Long.bas").write_text(text, encoding="ascii")
    assert compiled_modules(build_vba_project(src, tmp_path / "v.bin"))["Long"] == text


# [MS-OVBA] 3.2.1-3.2.3: no compression, normal compression, maximum compression
SPEC_VECTORS = [
    (b"abcdefghijklmnopqrstuv.",
     "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"),
    (b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
     "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 30 "
     "6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C"),
    (b"a" * 73, "01 03 B0 02 61 45 00"),
]  # fmt: skip


@pytest.mark.parametrize(("plain", "packed"), SPEC_VECTORS)
def test_compression_matches_the_spec_examples(plain: bytes, packed: str) -> None:
    assert compress(plain) == bytes.fromhex(packed)
    assert decompress_stream(bytearray(bytes.fromhex(packed))) == plain


def _vba_like(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    words = ["Dim", "As", "Long", "If", "Then", "End", "Sub", "res", "Cells", "Msg", "=", "(", ")"]
    out = bytearray()
    while len(out) < n:
        out += (" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 9))) + "\r\n").encode()
        out += bytes(rnd.randrange(32, 127) for _ in range(rnd.randint(0, 12)))
    return bytes(out[:n])


@pytest.mark.parametrize("tail", [1, 8, 9, 4093, 4094, 4095, 4096])
@pytest.mark.parametrize("chunks", [0, 1, 2])
def test_compression_round_trips_at_chunk_boundaries(tail: int, chunks: int) -> None:
    n = 4096 * chunks + tail
    rnd = random.Random(n)
    cases = [
        _vba_like(n, n),  # what a module is
        b"a" * n,  # copy tokens at their longest
        # incompressible chunks (stored raw) followed by a final chunk of source text
        bytes(rnd.randrange(256) for _ in range(4096 * chunks)) + _vba_like(tail, tail),
    ]
    if tail <= 9 or tail == 4096:  # an incompressible final chunk that still fits
        cases.append(bytes(rnd.randrange(256) for _ in range(n)))
    for data in cases:
        packed = compress(data)
        assert decompress_stream(bytearray(packed)) == data
        assert packed[0] == 1 and len(packed) <= 1 + (n // 4096 + 1) * 4098


def test_an_unrepresentable_final_chunk_is_refused() -> None:
    """4,093 random bytes need more than a chunk's 4,096 bytes once compressed and are not
    4,096 long, so no CompressedChunk can hold them: the writer refuses rather than pad or
    garble (VBA source, being text, never comes near this)."""
    with pytest.raises(VBAProjectError):
        compress(random.Random(1).randbytes(4093))


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("Zh.bas", 'Attribute VB_Name = "Zh"\n\' 校验\n', "ASCII"),
        ("NoName.bas", "Option Explicit\n", "VB_Name"),
        ("Sheet.bas", 'Attribute VB_Name = "Sheet1"\n', "taken"),
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
    assert code_names(path)[:2] == list(DOCUMENT_MODULES)


def code_names(path: Path) -> list[str]:
    """The workbook's code name, then each sheet's, in sheet order."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        targets = dict(re.findall(r'Id="(\w+)"[^>]*?Target="([^"]+)"', rels))
        targets |= {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*?Id="(\w+)"', rels)}
        out = re.findall(r'<workbookPr[^>]*codeName="(\w+)"', book)
        for rid in re.findall(r'<sheet [^>]*r:id="(\w+)"', book):
            sheet = z.read("xl/" + targets[rid].removeprefix("/xl/")).decode()
            out += re.findall(r'<sheetPr[^>]*codeName="(\w+)"', sheet)[:1] or [""]
    return out


def test_code_names_match_the_document_modules(tmp_path: Path, vba_bin: Path) -> None:
    """Every document module of the project belongs to a workbook part of that code name
    (ThisWorkbook → the workbook, Sheet1 → the first sheet); Excel adds the modules of the
    other sheets (Sheet2, ...) when it opens the file, as for any sheet added outside Excel."""
    path = build_xlsm(load_profile("dept-hubei"), tmp_path / "c.xlsm", None, vba_bin)
    names = code_names(path)
    assert names[:2] == list(DOCUMENT_MODULES)
    assert names[2:] == [f"Sheet{i}" for i in range(2, len(names))]
    documents = [n for n in compiled_modules(path) if n in DOCUMENT_MODULES]
    assert documents == list(DOCUMENT_MODULES)


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
    """The package ships the built project, so users need no VBA tooling; it must match."""
    from perfxl.vba import SHIPPED_VBA

    fresh = build_vba_project(out=tmp_path / "vbaProject.bin")
    assert SHIPPED_VBA.read_bytes() == fresh.read_bytes(), "重新生成：bash scripts/build-templates"
    assert compiled_modules(SHIPPED_VBA) == compiled_modules(fresh)
