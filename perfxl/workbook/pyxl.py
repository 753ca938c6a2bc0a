"""openpyxl, with what it would drop put back.

openpyxl reads a print area only as cell ranges: a whole-column area ($A:$F, as the
templates set on 审核结果 and 评分结果 so that the area grows with the results) is dropped
on load, with an English warning on the user's terminal, and the saved file then prints
with no area and no page fitting. `load_workbook` restores it as rows 1–1,048,576 of the
same columns, which is the same area to Excel and LibreOffice.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from .guard import workbook_tags

MAX_ROW = 1_048_576

_COLUMNS = re.compile(r"^\$?([A-Z]{1,3}):\$?([A-Z]{1,3})$")


def column_print_areas(path: Path) -> dict[str, tuple[str, str]]:
    """Sheet title → (first, last column) of each whole-column print area in a workbook."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return {}
    sheets, names = workbook_tags(xml)
    titles = [a.get("name", "") for a in sheets]
    out: dict[str, tuple[str, str]] = {}
    for a, value in names:
        local = a.get("localSheetId", "")
        if a.get("name") != "_xlnm.Print_Area" or not local.isdigit():
            continue
        if int(local) >= len(titles):
            continue
        cols = _COLUMNS.match(value.rpartition("!")[2].strip())
        if cols:
            out[titles[int(local)]] = (cols.group(1), cols.group(2))
    return out


def load_workbook(path: Path, **kw: Any) -> Any:
    """openpyxl.load_workbook, keeping whole-column print areas."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Print area cannot be set", UserWarning)
        wb = openpyxl.load_workbook(path, **kw)
    for title, (first, last) in column_print_areas(Path(path)).items():
        if title in wb.sheetnames and not wb[title].print_area:
            wb[title].print_area = f"{first}1:{last}{MAX_ROW}"
    return wb
