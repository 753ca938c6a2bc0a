"""Compile the VBA sources in macros/ into a vbaProject.bin for the .xlsm templates.

The project holds the document modules every Excel project has (ThisWorkbook, Sheet1) and
one standard module per macros/*.bas file, in name order. ms-ovba writes helper files into
the directory it runs in (and appends to them if they exist), so every build runs in a fresh
temporary directory. Its code page is 1252: the sources must stay ASCII (the Chinese texts
the macros show are read from the workbook, see perfxl.workbook.buttons).

Two fixes are applied to ms-ovba while it runs (and only then):
* its compressor allows copy tokens longer than the token's length field holds
  (``0xFFFF << bit_count + 3`` where MS-OVBA 2.4.1.3.19.3 says ``(0xFFFF >> bit_count) + 3``),
  which silently corrupts any module with a long repeated run: a module then fails to
  compile and no macro runs. The length limit is put right here;
* its only randomness is the seed that obfuscates the CMG/DPB/GC lines of the PROJECT
  stream (any seed is valid); it is drawn from a generator with a fixed seed, so the same
  sources give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MACROS_DIR", "build_vba_project", "module_sources"]

MACROS_DIR = Path(__file__).resolve().parent.parent / "macros"
# The compiled project shipped with the package, so .xlsm templates need no VBA compiler
# at run time; scripts/build-templates rebuilds it and tests/test_vba.py checks it is fresh.
SHIPPED_VBA = Path(__file__).resolve().parent / "data" / "vbaProject.bin"
PROJECT_ID = "{5B1B6C39-6E0C-4B4E-9A55-7065726678C1}"  # fixed: reproducible output
_SEED = 20200101
_WORKSHEET_GUID = uuid.UUID("00020820-0000-0000-C000-000000000046")
_WORKBOOK_GUID = uuid.UUID("00020819-0000-0000-C000-000000000046")
_DOC_MODULE = (
    "VERSION 1.0 CLASS\n"
    "BEGIN\n"
    "  MultiUse = -1  'True\n"
    "END\n"
    'Attribute VB_Name = "{name}"\n'
    "Attribute VB_GlobalNameSpace = False\n"
    "Attribute VB_Creatable = False\n"
    "Attribute VB_PredeclaredId = True\n"
    "Attribute VB_Exposed = True\n"
)
_LOCK = threading.Lock()  # the build changes the working directory of the process


def module_sources(src_dir: Path = MACROS_DIR) -> dict[str, str]:
    """The standard modules to compile: module name (from `Attribute VB_Name`) → source,
    with "\\n" line endings. Raises ValueError for a non-ASCII source or a missing name."""
    out: dict[str, str] = {}
    for path in sorted(Path(src_dir).glob("*.bas")):
        raw = path.read_bytes()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path.name}: VBA sources must be ASCII (code page 1252); read texts "
                "from the workbook's pf_messages instead"
            ) from exc
        text = text.replace("\r\n", "\n")
        first = text.split("\n", 1)[0]
        prefix = 'Attribute VB_Name = "'
        if not first.startswith(prefix) or not first.endswith('"'):
            raise ValueError(f'{path.name}: the first line must be Attribute VB_Name = "..."')
        name = first[len(prefix) : -1]
        if name in out:
            raise ValueError(f"{path.name}: module {name} is defined twice")
        out[name] = text
    if not out:
        raise ValueError(f"no .bas files in {src_dir}")
    return out


def build_vba_project(src_dir: Path = MACROS_DIR, out: Path | None = None) -> Path:
    """Compile `src_dir`/*.bas into `out` (default: vbaProject.bin in a new temporary
    directory) and return its path. Identical sources give identical bytes."""
    from ms_ovba.Models.Entities.doc_module import DocModule
    from ms_ovba.Models.Entities.reference import Reference
    from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
    from ms_ovba.Models.Entities.std_module import StdModule
    from ms_ovba.Models.Fields.libid_reference import LibidReference
    from ms_ovba.vbaProject import VbaProject
    from ms_ovba.Views.project_ole_file import ProjectOleFile
    from ms_ovba_compression.ms_ovba import MsOvba
    from ms_ovba_crypto import ms_ovba_crypto

    sources = module_sources(src_dir)
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="perfxl-vba-")) / "vbaProject.bin"
    out = Path(out)
    work = Path(tempfile.mkdtemp(prefix="perfxl-vba-build-"))
    try:
        project = VbaProject()
        project.project_id = PROJECT_ID
        for name, guid in (("ThisWorkbook", _WORKBOOK_GUID), ("Sheet1", _WORKSHEET_GUID)):
            path = work / f"{name}.cls"
            path.write_text(_DOC_MODULE.format(name=name), encoding="ascii", newline="\r\n")
            doc = DocModule(name)
            doc.add_file(str(path))
            doc.add_guid(guid)
            doc.normalize_file()
            project.add_module(doc)
        for name, text in sources.items():
            path = work / f"{name}.bas"
            path.write_text(text, encoding="ascii", newline="\n")
            mod = StdModule(name)
            mod.add_file(str(path))
            mod.normalize_file()
            project.add_module(mod)
        for guid, version, tlb, title, ref_name in (
            ("00020430-0000-0000-C000-000000000046", "2.0",
             "C:\\Windows\\System32\\stdole2.tlb", "OLE Automation", "stdole"),
        ):  # fmt: skip
            libid = LibidReference(uuid.UUID(guid), version, "0", tlb, title)
            project.add_reference(Reference(ReferenceRegistered(libid), ref_name))
        with (
            _LOCK,
            contextlib.chdir(work),
            _patched(ms_ovba_crypto, "random", random.Random(_SEED)),
            _patched(MsOvba, "copytoken_help", staticmethod(_copytoken_help)),
        ):
            ProjectOleFile.write_file(project)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
        shutil.copyfile(work / "vbaProject.bin", tmp)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


@contextlib.contextmanager
def _patched(owner: object, name: str, value: object) -> Iterator[None]:
    saved = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def _copytoken_help(difference: int) -> dict[str, int]:
    """CopyToken masks for a position `difference` bytes into a chunk (MS-OVBA 2.4.1.3.19.1)."""
    bit_count = max(4, (max(difference, 1) - 1).bit_length())
    length_mask = 0xFFFF >> bit_count
    return {
        "lengthMask": length_mask,
        "offsetMask": ~length_mask & 0xFFFF,
        "bitCount": bit_count,
        "maxLength": length_mask + 3,
    }
