"""The Python side of the workbook buttons: 评分 (score_button) and 清除标记 (clear_button).

The 评分 macro calls ``perfxl.excel.score_button()`` through the xlwings add-in's RunPython;
the functions also take any :class:`Book`, so the same code runs on a file on disk
(:class:`FileBook`, used by the tests and by batch jobs) and on the live Excel workbook
(:class:`XlwingsBook`). They run the SAME pipeline as the command line
(perfxl.verdict.check_path: read, integrity facts, score, every rule), so 评分 shows exactly
what ``perfxl check`` says, a number typed over a formula included.

A live workbook is read from a copy of itself (Workbook.SaveCopyAs on Windows; on a Mac the
saved file, once the book has no unsaved changes): the reader needs the file's defined
names and number formats, not only values, and a second reader written against the Book
interface would be a second truth. Nothing is written into the form: its computed cells are
formulas. The results go to two sheets (layout in perfxl.workbook.buttons): 评分结果 with
the recomputed score table, total and grade, and 审核结果 with every finding, linked to its
cell; the cells of open problems are coloured, recorded so 清除标记 (VBA or Python) restores
their fills exactly.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from .atomic import atomic_path
from .decimal_math import fmt2
from .findings import Report, Severity
from .model import Filing
from .profile import Profile
from .report import row_note
from .scoring import ScoreResult
from .verdict import check_path
from .workbook.buttons import (
    FIRST_ROW,
    MARK_COLOR,
    MARK_COLUMNS,
    MARKER_CELL,
    MESSAGES,
    NO_FILL,
    RESULT_HEADERS,
    SCORE_HEADERS,
    SCORE_WIDTHS,
)
from .workbook.layout import AUDIT_SHEET

__all__ = ["Book", "ButtonError", "FileBook", "XlwingsBook", "clear_button", "score_button"]

RESULT_SHEET = MESSAGES["result_sheet"]
SCORE_SHEET = MESSAGES["score_sheet"]
_MARK, _OLD = MARK_COLUMNS


class ButtonError(Exception):
    """A condition the user must fix first; the message is Chinese and shown as is."""


class Book(Protocol):
    """What the buttons need of a workbook. Cells are addressed by sheet name and A1; a
    fill is a VBA colour number (BGR) or NO_FILL, the convention the macros record."""

    def snapshot(self) -> AbstractContextManager[Path]:
        """A workbook file on disk holding the book's current values (read-only use)."""
        ...

    def sheets(self) -> list[str]: ...

    def name_value(self, name: str) -> Any:
        """The value of the top-left cell of a defined name, None when undefined."""
        ...

    def value(self, sheet: str, a1: str) -> Any: ...

    def write(self, sheet: str, a1: str, value: Any, *, link: str | None = None) -> None:
        """Write a value; `link` ("sheet!A1") makes the cell a link to that cell."""
        ...

    def fill(self, sheet: str, a1: str) -> int: ...

    def set_fill(self, sheet: str, a1: str, color: int) -> None: ...

    def reset_sheet(self, name: str, *, after: str | None = None) -> None:
        """Empty the sheet `name` (contents, formats, links), creating it after `after`."""
        ...

    def hide_columns(self, sheet: str, first: str, last: str) -> None: ...

    def print_setup(self, sheet: str, widths: Sequence[float], title_row: int) -> None:
        """A4 portrait, the columns of `widths` (A…) fitted to the page's width, row
        `title_row` repeated on every printed page."""
        ...

    def tell(self, text: str) -> None:
        """Show a message to the user (a dialog in Excel; recorded for a file)."""
        ...

    def save(self) -> None: ...


# ------------------------------------------------------------------ the buttons


def score_button(book: Book | None = None) -> None:
    """评分: recompute the scores and run every check, write 评分结果 and 审核结果, colour
    the cells of open problems. Without `book`, the Excel workbook that called the macro."""
    live = book is None
    b = XlwingsBook.caller() if book is None else book
    try:
        _score(b)
    except ButtonError as exc:
        b.tell(str(exc))
    except Exception as exc:
        if not live:
            raise
        b.tell(MESSAGES["macro_error"].format(err=f"{type(exc).__name__}: {exc}"))


def clear_button(book: Book | None = None) -> None:
    """清除标记: give coloured cells their former fills back and empty 审核结果 (its A1
    then says so), as the ClearMarks macro does."""
    b = XlwingsBook.caller() if book is None else book
    if RESULT_SHEET in b.sheets():
        undo_marks(b)
        b.reset_sheet(RESULT_SHEET)
        b.write(RESULT_SHEET, "A1", MESSAGES["cleared"])
    b.save()
    b.tell(MESSAGES["cleared"])


def _score(book: Book) -> None:
    if RESULT_SHEET in book.sheets():
        undo_marks(book)
    with book.snapshot() as path:
        checked = check_path(path)  # the very pipeline of `perfxl check`
    report = checked.report
    if not report.usable:
        # the workbook cannot be read: say why, in the results sheet
        problems = [
            (p.code or "INPUT", Severity.BLOCKING.value, p.message, p.place, None, False)
            for p in report.problems
        ]
        _write_results(book, problems, MESSAGES["score_unusable"], len(problems))
        book.save()
        book.tell(MESSAGES["score_unusable"])
        return
    filing, profile, result = checked.filing, checked.profile, checked.result
    assert filing is not None and profile is not None and result is not None
    _write_scores(book, filing, profile, result)
    n = len(report.errors) + len(report.warnings)
    summary = MESSAGES["score_done"].format(
        total=fmt2(result.total),
        grade=result.grade,
        n=n,
        errors=len(report.errors),
        warnings=len(report.warnings),
    )
    _write_results(book, finding_rows(report), summary, n)
    book.save()
    book.tell(summary)


# code, level, message, place shown, the cell it links to ("sheet!A1"), colour that cell?
Row = tuple[str, str, str, str, str | None, bool]


def finding_rows(report: Report) -> list[Row]:
    """The 审核结果 rows of a report, in its order (as ``perfxl check`` lists them); the
    cells of open problems (not explained warnings) are to be coloured."""
    rows: list[Row] = []
    for f in report.findings:
        level = MESSAGES["level_explained"] if f.explained else f.severity.value
        cell = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else None
        rows.append((f.code, level, f.message, f.location(), cell, not f.explained))
    return rows


def _write_results(book: Book, rows: Sequence[Row], summary: str, n: int) -> None:
    book.reset_sheet(RESULT_SHEET, after=AUDIT_SHEET)
    book.write(RESULT_SHEET, "A1", summary)
    for i, key in enumerate(RESULT_HEADERS):
        book.write(RESULT_SHEET, f"{_col(i)}{FIRST_ROW - 1}", MESSAGES[key])
    book.hide_columns(RESULT_SHEET, _MARK, _OLD)
    sheets = book.sheets()
    for i, (code, level, message, place, cell, mark) in enumerate(rows):
        r = FIRST_ROW + i
        for col, v in zip("ABCD", (i + 1, code, level, message), strict=True):
            book.write(RESULT_SHEET, f"{col}{r}", v)
        target = _split(cell) if cell else None
        if target is not None and target[0] not in sheets:
            target = None
        book.write(RESULT_SHEET, f"E{r}", place, link=cell if target else None)
        if target is not None and mark:
            book.write(RESULT_SHEET, f"{_MARK}{r}", cell)
            book.write(RESULT_SHEET, f"{_OLD}{r}", book.fill(*target))
            book.set_fill(*target, MARK_COLOR)
    book.write(RESULT_SHEET, MARKER_CELL, n)  # last: the macro's proof that Python finished


def undo_marks(book: Book) -> None:
    """Restore the fills recorded on 审核结果, last first (a cell marked twice gets its
    first fill back), as the VBA UndoMarks does."""
    marks: list[tuple[str, int]] = []
    r = FIRST_ROW
    while book.value(RESULT_SHEET, f"A{r}") not in (None, ""):
        place, old = book.value(RESULT_SHEET, f"{_MARK}{r}"), book.value(RESULT_SHEET, f"{_OLD}{r}")
        if place and old not in (None, ""):
            marks.append((str(place), int(old)))
        r += 1
    sheets = book.sheets()
    for place, old in reversed(marks):
        target = _split(place)
        if target is not None and target[0] in sheets:
            book.set_fill(*target, old)


def _split(place: str) -> tuple[str, str] | None:
    sheet, bang, a1 = place.rpartition("!")
    return (sheet, a1) if bang and sheet and a1 else None


def _col(i: int) -> str:
    return chr(ord("A") + i)


def _write_scores(book: Book, filing: Filing, profile: Profile, result: ScoreResult) -> None:
    s = SCORE_SHEET
    book.reset_sheet(s, after=RESULT_SHEET)
    book.write(
        s, "A1", MESSAGES["score_title"].format(name=filing.header.name, year=filing.header.year)
    )
    for i, key in enumerate(SCORE_HEADERS):
        book.write(s, f"{_col(i)}2", MESSAGES[key])
    rows = score_rows(result, profile)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            book.write(s, f"{_col(j)}{3 + i}", v)
    book.print_setup(s, SCORE_WIDTHS, 2)


def score_rows(result: ScoreResult, profile: Profile) -> list[list[Any]]:
    """The 评分结果 table: one row per node of the score tree (as ``perfxl score`` prints
    it), then 总分, 评价等级 and 预算执行率."""
    rows: list[list[Any]] = []
    for row in result.rows():
        note = row_note(row)
        code = row.code.split("#")[0] if row.indicator is None else ""
        indent = "　" * (row.level - 1)
        rows.append([code, indent + row.name, row.weight, row.score, row.stated, note])
    rows.append(["", MESSAGES["total"], profile.total, result.total, result.stated_total, ""])
    rows.append(["", MESSAGES["grade"], None, result.grade, result.stated_grade, ""])
    rate = None if result.execution_rate is None else f"{fmt2(result.execution_rate)}%"
    rows.append(["", MESSAGES["execution_rate"], None, rate, None, ""])
    return rows


# ------------------------------------------------------------------ a file on disk


def _bgr(rgb: str) -> int:
    """ "RRGGBB" → VBA colour number."""
    r, g, b = int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16)
    return r | g << 8 | b << 16


def _rgb(color: int) -> str:
    """VBA colour number → "RRGGBB"."""
    return f"{color & 0xFF:02X}{color >> 8 & 0xFF:02X}{color >> 16 & 0xFF:02X}"


def _plain(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


class FileBook:
    """A workbook file, edited with openpyxl and saved to a NEW path (atomically).

    The input is never modified. Values are read as the file last computed them (its cached
    results); openpyxl keeps the VBA project, buttons, names, validation and protection of
    a perfxl .xlsm, but drops cached formula results, so open the output in an office suite
    (or recalculate it) before reading computed cells from it. A fill given by a theme
    colour is recorded as "no fill" (perfxl's templates use explicit colours only).
    """

    def __init__(self, path: Path, output: Path) -> None:
        from .workbook.pyxl import load_workbook

        self.path, self.output = Path(path), Path(output)
        keep_vba = self.path.suffix.lower() == ".xlsm"
        self.wb = load_workbook(self.path, keep_vba=keep_vba)
        self._cached = load_workbook(self.path, data_only=True)
        self.told: list[str] = []

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Path]:
        yield self.path  # only results sheets and fills change, which the reader ignores

    def sheets(self) -> list[str]:
        return list(self.wb.sheetnames)

    def name_value(self, name: str) -> Any:
        dn = self.wb.defined_names.get(name)
        if dn is None:
            return None
        for sheet, ref in dn.destinations:
            return self.value(sheet, ref.replace("$", "").split(":")[0])
        return None

    def value(self, sheet: str, a1: str) -> Any:
        v = self.wb[sheet][a1].value
        if (isinstance(v, str) and v.startswith("=")) or not isinstance(
            v, str | int | float | None
        ):
            if sheet in self._cached.sheetnames:
                return self._cached[sheet][a1].value
        return v

    def write(self, sheet: str, a1: str, value: Any, *, link: str | None = None) -> None:
        from openpyxl.worksheet.hyperlink import Hyperlink

        cell = self.wb[sheet][a1]
        cell.value = _plain(value)
        if link:
            target = _split(link)
            if target is not None:
                location = "'" + target[0].replace("'", "''") + "'!" + target[1]
                cell.hyperlink = Hyperlink(ref=a1, location=location, display=str(value))

    def fill(self, sheet: str, a1: str) -> int:
        from openpyxl.styles.colors import COLOR_INDEX

        f = self.wb[sheet][a1].fill
        if f is None or f.fill_type in (None, "none"):
            return NO_FILL
        color = f.fgColor
        if color.type == "rgb" and isinstance(color.rgb, str):
            return _bgr(color.rgb[-6:])
        if color.type == "indexed" and 0 <= color.indexed < len(COLOR_INDEX):
            return _bgr(COLOR_INDEX[color.indexed][-6:])
        return NO_FILL

    def set_fill(self, sheet: str, a1: str, color: int) -> None:
        from openpyxl.styles import PatternFill

        cell = self.wb[sheet][a1]
        if color == NO_FILL:
            cell.fill = PatternFill(fill_type=None)
        else:
            argb = "FF" + _rgb(color)
            cell.fill = PatternFill(fill_type="solid", fgColor=argb, bgColor=argb)

    def reset_sheet(self, name: str, *, after: str | None = None) -> None:
        if name in self.wb.sheetnames:
            ws = self.wb[name]
            ws.delete_rows(1, max(ws.max_row, 1))  # keeps the sheet (and its VBA identity)
            return
        names = self.wb.sheetnames
        index = names.index(after) + 1 if after in names else len(names)
        self.wb.create_sheet(name, index)

    def hide_columns(self, sheet: str, first: str, last: str) -> None:
        for i in range(ord(first), ord(last) + 1):
            self.wb[sheet].column_dimensions[chr(i)].hidden = True

    def print_setup(self, sheet: str, widths: Sequence[float], title_row: int) -> None:
        ws = self.wb[sheet]
        for i, width in enumerate(widths):
            ws.column_dimensions[_col(i)].width = width
        ws.page_setup.paperSize = 9
        ws.page_setup.orientation = "portrait"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_title_rows = f"{title_row}:{title_row}"
        ws.print_area = f"A1:{_col(len(widths) - 1)}{max(ws.max_row, title_row)}"

    def tell(self, text: str) -> None:
        self.told.append(text)

    def save(self) -> None:
        with atomic_path(self.output, inputs=(self.path,)) as tmp:
            self.wb.save(tmp)


# ------------------------------------------------------------------ the live workbook


class XlwingsBook:
    """The workbook open in Excel, through xlwings' classic (BSD-licensed) interface.

    Only Windows and macOS Excel with the xlwings add-in; WPS is not supported by xlwings.
    Changes are made in the open workbook; saving it stays the user's decision.
    """

    def __init__(self, book: Any) -> None:
        self.book = book

    @classmethod
    def caller(cls) -> XlwingsBook:
        import xlwings  # lazily: only the live workbook needs it (never xlwings.pro)

        return cls(xlwings.Book.caller())

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Path]:
        if sys.platform == "win32":
            with tempfile.TemporaryDirectory(prefix="perfxl-") as tmp:
                path = Path(tmp) / f"snapshot{Path(self.book.fullname).suffix or '.xlsm'}"
                self.book.api.SaveCopyAs(str(path))
                yield path
            return
        # macOS Excel has no SaveCopyAs over AppleScript: read the saved file, if current
        if not self._saved():
            raise ButtonError(MESSAGES["save_first"])
        yield Path(self.book.fullname)

    def _saved(self) -> bool:
        try:
            return bool(self.book.api.saved.get())
        except Exception:
            return False

    def sheets(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def name_value(self, name: str) -> Any:
        try:
            return self.book.names[name].refers_to_range[0, 0].value
        except Exception:
            return None

    def value(self, sheet: str, a1: str) -> Any:
        return self.book.sheets[sheet].range(a1).value

    def write(self, sheet: str, a1: str, value: Any, *, link: str | None = None) -> None:
        rng = self.book.sheets[sheet].range(a1)
        target = _split(link) if link else None
        if target is None:
            rng.value = _plain(value)
            return
        where = "#'" + target[0].replace("'", "''") + "'!" + target[1]
        text = str(value).replace('"', '""')
        rng.formula = f'=HYPERLINK("{where.replace(chr(34), chr(34) * 2)}","{text}")'

    def fill(self, sheet: str, a1: str) -> int:
        color = self.book.sheets[sheet].range(a1).color
        if color is None:
            return NO_FILL
        r, g, b = color
        return r | g << 8 | b << 16

    def set_fill(self, sheet: str, a1: str, color: int) -> None:
        ws = self.book.sheets[sheet]
        with self._unprotected(ws):
            rgb = None if color == NO_FILL else (color & 0xFF, color >> 8 & 0xFF, color >> 16)
            ws.range(a1).color = rgb

    @contextlib.contextmanager
    def _unprotected(self, ws: Any) -> Iterator[None]:
        """The templates protect their sheets without a password, formatting of rows and
        columns allowed; a fill needs the protection lifted and put back the same way
        (Windows; on a Mac a protected cell is listed but not coloured)."""
        locked = sys.platform == "win32" and bool(ws.api.ProtectContents)
        if locked:
            ws.api.Unprotect()
        try:
            yield
        except Exception:
            if sys.platform == "win32":
                raise
        finally:
            if locked:
                ws.api.Protect("", True, True, True, False, False, True, True)

    def reset_sheet(self, name: str, *, after: str | None = None) -> None:
        if name in self.sheets():
            self.book.sheets[name].clear()
            return
        anchor = self.book.sheets[after] if after in self.sheets() else None
        self.book.sheets.add(name, after=anchor)

    def hide_columns(self, sheet: str, first: str, last: str) -> None:
        self.book.sheets[sheet].range(f"{first}:{last}").column_width = 0

    def print_setup(self, sheet: str, widths: Sequence[float], title_row: int) -> None:
        """Through Excel's PageSetup (Windows); elsewhere the template's setup of the sheet,
        which clearing it keeps, stands."""
        ws = self.book.sheets[sheet]
        for i, width in enumerate(widths):
            ws.range(f"{_col(i)}:{_col(i)}").column_width = width
        if sys.platform != "win32":
            return
        ps = ws.api.PageSetup
        ps.PaperSize, ps.Orientation = 9, 1  # xlPaperA4, xlPortrait
        ps.Zoom, ps.FitToPagesWide, ps.FitToPagesTall = False, 1, False
        ps.PrintTitleRows = f"${title_row}:${title_row}"
        ps.PrintArea = f"$A:${_col(len(widths) - 1)}"

    def tell(self, text: str) -> None:
        self.book.app.alert(text, title="perfxl")

    def save(self) -> None:
        """The live book is left for the user to save."""
