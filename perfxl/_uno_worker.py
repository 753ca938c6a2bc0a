"""UNO helper process for :mod:`perfxl.office`; runs under the system Python that has ``uno``.

The project's own interpreter usually cannot import ``uno`` (it lives only in the distro's
Python), so ``perfxl.office`` starts this file with that interpreter. It keeps ONE bridge to
the soffice process and answers requests read from stdin, one JSON object per line:

    {"id": 1, "op": "recalculate" | "resave" | "to_pdf" | "run_macro" | "edit",
     "src": "/abs/in.xlsx", "dst": "/abs/tmp-out", "macro": "vnd.sun.star.script:...",
     "edits": [...]}   (edit: what a user does in the sheet, see _edit)
    -> {"id": 1, "ok": true} | {"id": 1, "ok": false, "error": "...", "fatal": bool}

``fatal`` means the bridge to soffice is gone; the worker exits right after answering.
It imports ``uno`` only inside functions so the module stays importable anywhere.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

XLSX = "Calc MS Excel 2007 XML"
XLSM = "Calc MS Excel 2007 VBA XML"
PDF = "calc_pdf_Export"
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecutionMode
ALWAYS_EXECUTE_NO_WARN = 4
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode: never refresh external links on load
# Import filters that accept files which are not workbooks (CSV text, HTML saved as .xls);
# refuse them rather than write their content out as if it were a workbook.
NOT_A_WORKBOOK = ("Text - txt - csv (StarCalc)", "calc_HTML_WebQuery", "HTML (StarCalc)")
KEEP_FORMAT = {".xlsm": XLSM, ".xlsx": XLSX, ".ods": "calc8", ".xls": "MS Excel 97"}


def _props(**kw: Any) -> tuple[Any, ...]:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    out = []
    for name, value in kw.items():
        p = PropertyValue()
        p.Name, p.Value = name, value
        out.append(p)
    return tuple(out)


def _connect(conn: str, timeout: float) -> Any:
    """Return the remote desktop, retrying until soffice has opened its pipe."""
    import uno  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(f"uno:{conn};urp;StarOffice.ComponentContext")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def _handle(desktop: Any, req: dict[str, Any]) -> None:
    import uno  # type: ignore[import-not-found]

    op = req["op"]
    macros = op == "run_macro"
    src_url = uno.systemPathToFileUrl(req["src"])
    dst_url = uno.systemPathToFileUrl(req["dst"])
    load = _props(
        Hidden=True,
        # never write back to src, no lock file next to it; run_macro gets a private copy,
        # opened writable because LibreOffice ignores a macro's format changes (fills,
        # Range.Clear) in a read-only document while still applying its value changes
        # (to_pdf of some sheets removes the others: in a writable private copy too)
        ReadOnly=not (macros or req.get("edits") or req.get("sheets")),
        MacroExecutionMode=ALWAYS_EXECUTE_NO_WARN if macros else NEVER_EXECUTE,
        UpdateDocMode=NO_UPDATE,
    )
    doc = desktop.loadComponentFromURL(src_url, "_blank", 0, load)
    if doc is None:
        raise RuntimeError("无法识别的文件格式 (unrecognised format)")
    try:
        loaded_filter = next((p.Value for p in doc.getArgs() if p.Name == "FilterName"), "")
        if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument") or (
            loaded_filter in NOT_A_WORKBOOK
        ):
            raise RuntimeError(f"不是电子表格文件 (not a workbook; detected {loaded_filter!r})")
        if macros:
            doc.getScriptProvider().getScript(req["macro"]).invoke((), (), ())
        for edit in req.get("edits") or ():
            _edit(doc, edit)
        # xlsx import keeps the file's cached results (stale or absent when written by
        # Python), and the PDF export prints them as they are, so always recalculate.
        doc.calculateAll()
        if op == "to_pdf":
            fmt = PDF
            if req.get("sheets"):
                _print_only(doc, req["sheets"])
        else:  # dst's extension picks the format, so an .xlsm never gets macro-less content
            fmt = KEEP_FORMAT.get(Path(req["dst"]).suffix.lower()) or (
                loaded_filter if macros else XLSX
            )
        doc.storeToURL(dst_url, _props(FilterName=fmt))
    finally:
        doc.close(True)


def _print_only(doc: Any, names: list[str]) -> None:
    """Leave only the sheets `names` in the loaded copy (never src): the PDF export prints
    every sheet, hidden or not, so the others are removed. Formulas of the kept sheets that
    read a removed sheet (the form's count of 审核 findings) keep their values."""
    sheets = doc.getSheets()
    keep = [n for n in names if sheets.hasByName(n)]
    gone = [n for n in sheets.getElementNames() if n not in keep]
    if not keep or not gone:
        return
    formula = 16  # com.sun.star.sheet.CellFlags.FORMULA
    for name in keep:
        found = sheets.getByName(name).queryContentCells(formula)
        cells = found.getCells().createEnumeration()
        while cells.hasMoreElements():
            cell = cells.nextElement()
            text = cell.getFormula()
            if not any(g in text for g in gone):
                continue
            if cell.getType().value == "TEXT" or cell.getError():
                cell.setString(cell.getString())
            else:
                cell.setValue(cell.getValue())
    for name in gone:
        sheets.removeByName(name)


def _edit(doc: Any, edit: dict[str, Any]) -> None:
    """One user edit, done the way Calc does it (references and names adjusted):
    {"op": "insert_rows" | "delete_rows", "sheet", "row" (1-based), "count"},
    {"op": "copy_row", "sheet", "from", "to", "cols": "C:K"} (formulas follow, as pasted),
    {"op": "set", "sheet", "cell": "G53", "number" | "text" | "formula": ...},
    {"op": "clear", "sheet", "cell"}."""
    sheet = doc.getSheets().getByName(edit["sheet"])
    op = edit["op"]
    if sheet.isProtected():  # the templates' protection has no password (审阅 → 撤销保护)
        sheet.unprotect("")
    if op == "insert_rows":
        sheet.getRows().insertByIndex(edit["row"] - 1, edit.get("count", 1))
    elif op == "delete_rows":
        sheet.getRows().removeByIndex(edit["row"] - 1, edit.get("count", 1))
    elif op == "copy_row":  # columns "C:K" (default: the whole row), as a user selects them
        first, _, last = edit.get("cols", "A:AMJ").partition(":")
        source = sheet.getCellRangeByName(f"{first}{edit['from']}:{last}{edit['from']}")
        target = sheet.getCellRangeByName(f"{first}{edit['to']}").getCellAddress()
        sheet.copyRange(target, source.getRangeAddress())
    elif op in ("set", "clear"):
        cell = sheet.getCellRangeByName(edit["cell"])
        if op == "clear":
            cell.setString("")
        elif "number" in edit:
            cell.setValue(float(edit["number"]))
        elif "formula" in edit:
            cell.setFormula(edit["formula"])
        else:
            cell.setString(str(edit["text"]))
    else:
        raise RuntimeError(f"unknown edit {op!r}")


def main() -> int:
    conn, start_timeout = sys.argv[1], float(sys.argv[2])
    desktop = _connect(conn, start_timeout)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        resp: dict[str, Any] = {"id": req.get("id"), "ok": True}
        try:
            _handle(desktop, req)
        except Exception as e:
            msg = getattr(e, "Message", "") or str(e)
            # UNO exception class names are dotted, e.g. com.sun.star.lang.DisposedException
            fatal = type(e).__name__.endswith("DisposedException") or "disposed" in msg.lower()
            resp.update(ok=False, error=f"{type(e).__name__}: {msg}", fatal=fatal)
        print(json.dumps(resp, ensure_ascii=False), flush=True)
        if not resp["ok"] and resp["fatal"]:
            return 1
    with contextlib.suppress(Exception):  # stdin closed: shut soffice down cleanly
        desktop.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
