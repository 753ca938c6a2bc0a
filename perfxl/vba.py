"""Put the VBA sources in macros/ into a VBA project Excel wrote, for the .xlsm templates.

The project is not synthesised: it starts from the vbaProject.bin of a blank workbook
Microsoft Excel saved (perfxl/data/excel-blank.xlsm, origin and licence beside it). Its
document modules (ThisWorkbook, Sheet1), the project information and references of the
``dir`` stream, the PROJECT stream's ID, protection (CMG/DPB/GC) and Host Extender lines
stay exactly as Excel wrote them; the empty standard module Module1 is replaced by one
standard module per macros/*.bas file, in name order.

pyOpenVBA (a build-time tool, in the ``test`` extra) does the editing through its public
API: it writes each new module as compressed source at MODULEOFFSET 0, rewrites the
modules section of ``dir``, the Module= and [Workspace] lines of PROJECT and the PROJECTwm
name map, zeroes the ``_VBA_PROJECT`` performance cache (so Excel compiles the stored
source) and drops any ``__SRP_*`` cache streams. That is the write path pyOpenVBA runs
through Excel in its own CI. tests/test_vba.py re-reads the result with olefile and
oletools and checks every field Excel depends on.

The project's code page is 1252 (Excel's): the sources must stay ASCII. The Chinese texts
the macros show are read from the workbook (see perfxl.workbook.buttons).

Nothing here runs at run time: the package ships the built project (data/vbaProject.bin)
and scripts/build-templates rebuilds it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

__all__ = [
    "CONTAINER",
    "DOCUMENT_MODULES",
    "MACROS_DIR",
    "SHIPPED_VBA",
    "build_vba_project",
    "container_project",
    "module_sources",
]

MACROS_DIR = Path(__file__).resolve().parent.parent / "macros"
_DATA = Path(__file__).resolve().parent / "data"
# The built project shipped with the package, so .xlsm templates need no VBA tooling at run
# time; scripts/build-templates rebuilds it and tests/test_vba.py checks it is fresh.
SHIPPED_VBA = _DATA / "vbaProject.bin"
# The Excel-written workbook whose VBA project is the starting point.
CONTAINER = _DATA / "excel-blank.xlsm"
_PROJECT_PART = "xl/vbaProject.bin"
_PLACEHOLDER = "Module1"  # the container's empty standard module, replaced by macros/
# The container's document modules and the workbook part each belongs to: the workbook's
# codeName (workbookPr) and the first worksheet's (sheetPr). XlsxWriter writes the same
# code names when a workbook has a VBA project (ThisWorkbook, Sheet1, Sheet2, ...).
DOCUMENT_MODULES = ("ThisWorkbook", "Sheet1")
CODE_PAGE = 1252


def module_sources(src_dir: Path = MACROS_DIR) -> dict[str, str]:
    """The standard modules to build: module name (from `Attribute VB_Name`) → source,
    with "\\n" line endings. Raises ValueError for a non-ASCII source, a missing name or a
    name the container already uses."""
    out: dict[str, str] = {}
    for path in sorted(Path(src_dir).glob("*.bas")):
        raw = path.read_bytes()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path.name}: VBA sources must be ASCII (code page {CODE_PAGE}); read texts "
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
        if name.casefold() in {n.casefold() for n in (*DOCUMENT_MODULES, _PLACEHOLDER)}:
            raise ValueError(f"{path.name}: the module name {name} is taken by the container")
        out[name] = text
    if not out:
        raise ValueError(f"no .bas files in {src_dir}")
    return out


def container_project() -> bytes:
    """The vbaProject.bin of the Excel-written container, unchanged."""
    with zipfile.ZipFile(CONTAINER) as z:
        return z.read(_PROJECT_PART)


def build_vba_project(src_dir: Path = MACROS_DIR, out: Path | None = None) -> Path:
    """Build `src_dir`/*.bas into the container's project and write it to `out` (default:
    vbaProject.bin in a new temporary directory); return its path. Identical sources give
    identical bytes. Needs pyOpenVBA (the ``test`` extra)."""
    from pyopenvba import ExcelFile

    sources = module_sources(src_dir)
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="perfxl-vba-")) / "vbaProject.bin"
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="perfxl-vba-build-") as work:
        book, built = Path(work) / "container.xlsm", Path(work) / "built.xlsm"
        shutil.copyfile(CONTAINER, book)
        with ExcelFile(book) as wb:
            project = wb.vba_project()
            if project.module_names() != [*DOCUMENT_MODULES, _PLACEHOLDER]:
                raise ValueError(f"unexpected container modules: {project.module_names()}")
            project.delete_module(_PLACEHOLDER)
            for name, text in sources.items():
                project.add_module(name, text.replace("\n", "\r\n"))
            wb.save(built)
        with zipfile.ZipFile(built) as z:
            data = z.read(_PROJECT_PART)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
