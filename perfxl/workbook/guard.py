"""Safety checks before a workbook is parsed, and the package facts the reader builds on.

Units return whatever their office suite produced: old .xls files, password-protected
books, truncated downloads, sheets renamed or deleted, and now and then something hostile.
Every such file is refused here with a Chinese message naming the file (and the sheet, cell
or defined name at fault) before any parser spends memory on it. Limits are checked on what
is really there, never on what the sender declares: the zip's central directory is sized
from its end record before Python builds an entry for each member; every sheet the reader
will hand to python-calamine is streamed once (a megabyte at a time) counting its `<c>`
elements and the rows and columns they really occupy (the `<dimension>` record is the
sender's claim and is ignored), because calamine allocates the whole used range at once and
aborts the process when it cannot; defined names are bounded before any row is walked.

What one workbook may cost in memory is therefore bounded by the limits below: the file
itself (50 MB), one decompressed part at a time (≤ 256 MB, in practice the form sheets'
few hundred KB) and a used range of at most 2,000,000 cells.
"""

from __future__ import annotations

import functools
import html
import io
import operator
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem

MB = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS = "请在 Excel 或 WPS 中打开，用“另存为”保存为 Excel 工作簿（*.xlsx）后再提交"


@dataclass(frozen=True)
class Limits:
    """What one workbook may cost. A perfxl table is a few hundred cells and tens of KB."""

    max_bytes: int = 50 * MB  # size of the file on disk
    max_uncompressed: int = 256 * MB  # sum of the zip members' declared sizes
    max_ratio: int = 200  # uncompressed / compressed size of one member over 1 MB
    max_cells: int = 2_000_000  # cells in the used ranges of the sheets read
    max_members: int = 10_000  # zip members (a workbook has a few dozen)
    max_directory: int = 4 * MB  # size of the zip's central directory
    max_name_rows: int = 20_000  # rows one defined name may span
    max_name_cells: int = 200_000  # cells one defined name may span


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Area:
    """A rectangle a defined name points at (1-based rows and columns)."""

    sheet: str
    row: int
    col: int
    last_row: int
    last_col: int

    @property
    def a1(self) -> str:
        return f"{col_letter(self.col)}{self.row}"


@dataclass(frozen=True)
class Extent:
    """What a sheet part really holds: its `<c>` elements and the rectangle they span."""

    cells: int
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    @property
    def area(self) -> int:
        if self.last_row < self.first_row or self.last_col < self.first_col:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_col - self.first_col + 1)


# the integrity rule a refusal belongs to (perfxl.rules.integrity)
FILE, TEMPLATE, NAMES = "INTEG-FILE", "INTEG-TEMPLATE", "INTEG-NAMES"


@dataclass
class Package:
    """An opened, checked workbook: its zip, its sheets (name → part) and defined names."""

    path: Path
    zip: zipfile.ZipFile
    data: bytes  # the whole file, for the value reader
    sheets: dict[str, str]
    names: dict[str, str]  # workbook-scoped name → reference text
    local_names: dict[str, str] = field(default_factory=dict)  # sheet-scoped, as a fallback
    limits: Limits = DEFAULT_LIMITS
    extents: dict[str, Extent] = field(default_factory=dict)  # part → what it really holds
    book: Any = None  # the value reader's workbook (python-calamine), opened once, shared
    # sheet name → (rows, start) as calamine gave them: converted once, read by the value
    # reader and the integrity facts alike
    grids: dict[str, tuple[list[list[Any]], Any]] = field(default_factory=dict)
    parts: dict[str, bytes] = field(default_factory=dict)  # small parts, read once (_KEEP)

    @property
    def file(self) -> str:
        return str(self.path)

    def grid(self, sheet: str) -> tuple[list[list[Any]], Any]:
        """(rows, start) of a sheet as calamine gives them, converted once per file for
        the value reader and the integrity facts alike. calamine raises its own errors."""
        got = self.grids.get(sheet)
        if got is None:
            if self.book is None:
                from python_calamine import CalamineWorkbook

                self.book = CalamineWorkbook.from_filelike(io.BytesIO(self.data))
            s = self.book.get_sheet_by_name(sheet)
            got = self.grids[sheet] = (s.to_python(), s.start)
        return got

    def refuse(self, message: str, place: str = "", code: str = FILE) -> InputError:
        """The file cannot be used; `code` is the integrity rule it fails."""
        return InputError(Problem(self.file, place, message, code))

    def damaged(self, name: str, sheet: str = "") -> InputError:
        """A part that cannot be decompressed, named by the sheet it holds when known."""
        where = f"工作表「{sheet}」" if sheet else f"{name} "
        return self.refuse(f"文件已损坏（{where}无法解压），{_RESEND}", sheet)

    def part(self, name: str, sheet: str = "") -> bytes:
        """A part's bytes, kept when small (_KEEP); when it cannot be decompressed, the file
        is refused, naming the sheet the part holds when one is given."""
        got = self.parts.get(name)
        if got is not None:
            return got
        try:
            got = self.zip.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
            raise self.damaged(name, sheet) from exc
        if len(got) <= _KEEP:
            self.parts[name] = got
        return got


_RESEND = "可能是下载或拷贝不完整：请重新保存或重新发送该文件"


def _refuse(path: Path, message: str) -> InputError:
    return InputError(Problem(str(path), "", message, FILE))


# ------------------------------------------------------------------ the file itself


def open_package(path: Path, limits: Limits = DEFAULT_LIMITS) -> Package:
    """Open `path` as a workbook package, or refuse it with the reason a unit can act on.

    The file is read once into memory (it is at most `limits.max_bytes`); the zip and the
    value reader both work from those bytes.
    """
    path = Path(path)
    if not path.is_file():
        raise _refuse(path, "文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et"):
        kind = "旧版 Excel 97-2003（.xls）" if suffix == ".xls" else "WPS 表格（.et）"
        raise _refuse(path, f"这是{kind}格式，perfxl 只能读取 .xlsx/.xlsm：{_SAVE_AS}")
    if suffix not in (".xlsx", ".xlsm"):
        raise _refuse(path, f"不是 Excel 工作簿（扩展名为“{suffix or '无'}”），应为 .xlsx 或 .xlsm")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _refuse(
            path,
            f"文件大小 {size / MB:.1f} MB，超过上限 {limits.max_bytes / MB:g} MB："
            "自评表通常不足 1 MB，请删除表中插入的图片或多余内容后另存",
        )
    data = path.read_bytes()
    if len(data) > limits.max_bytes:  # grew since stat()
        raise _refuse(path, f"文件大小超过上限 {limits.max_bytes / MB:g} MB")
    if data[:8] == OLE_MAGIC:
        if "EncryptionInfo".encode("utf-16-le") in data:
            # Office keeps a password-protected .xlsx as an OLE compound file whose directory
            # (UTF-16LE names) lists EncryptionInfo and EncryptedPackage streams.
            raise _refuse(
                path,
                "文件设置了打开密码（已加密），无法读取：请在 Excel 或 WPS 中打开，"
                "取消“用密码进行加密”（文件→信息→保护工作簿）后另存为 .xlsx 再提交",
            )
        raise _refuse(path, f"文件实际是旧版 .xls 格式（只是扩展名为 {suffix}）：{_SAVE_AS}")
    if not data.startswith(b"PK"):
        raise _refuse(path, f"文件已损坏或不是 Excel 工作簿（内容不是 .xlsx 格式），{_RESEND}")
    _check_end_record(path, data, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _refuse(path, f"文件已损坏（压缩包不完整），{_RESEND}") from exc
    try:
        _check_zip_directory(path, zf, limits)
        kept = _check_prologs(path, zf)
        pkg = _structure(path, zf, data, kept)
        pkg.limits = limits
        _check_read_sheets(pkg)
    except BaseException:
        zf.close()
        raise
    return pkg


_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"


def _check_end_record(path: Path, data: bytes, limits: Limits) -> None:
    """Bound the central directory from the zip's end record, before Python builds an
    object per member (500,000 empty members would cost hundreds of MB and many seconds)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        raise _refuse(path, f"文件已损坏（压缩包不完整），{_RESEND}")
    entries = int.from_bytes(data[at + 10 : at + 12], "little")
    size = int.from_bytes(data[at + 12 : at + 16], "little")
    z64 = data.rfind(_EOCD64, max(0, at - 4096), at)
    if z64 >= 0 and len(data) >= z64 + 56:  # ZIP64: the real counts are in this record
        entries = max(entries, int.from_bytes(data[z64 + 32 : z64 + 40], "little"))
        size = max(size, int.from_bytes(data[z64 + 40 : z64 + 48], "little"))
    if entries > limits.max_members or size > limits.max_directory:
        raise _refuse(
            path,
            f"压缩包含有 {entries:,} 个成员（目录 {size / MB:.1f} MB），超过上限 "
            f"{limits.max_members:,} 个：不像一份自评表（可能是异常或恶意文件），已拒绝读取",
        )


# Parts up to this size are read whole once and kept (workbook.xml, its relationships,
# styles, the form sheets): the prolog check, the structure, the extent scan and the cell
# facts all need them, and reading each again costs as much as the check itself.
_KEEP = 4 * MB
# read whole while checking prologs: the structure and the cell facts read them next
_READ_LATER = frozenset(("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"))
_HEAD = 4096


def _check_prologs(path: Path, zf: zipfile.ZipFile) -> dict[str, bytes]:
    """No XML part may declare a DTD (entity tricks; OOXML never has one). Returns the
    small parts it read whole, for the package to keep."""
    kept: dict[str, bytes] = {}
    for info in zf.infolist():
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        whole = info.filename in _READ_LATER and info.file_size <= _KEEP
        try:
            with zf.open(info) as fh:
                head = fh.read() if whole else fh.read(_HEAD)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise _refuse(path, f"文件已损坏（{info.filename} 无法解压），{_RESEND}") from exc
        if b"<!DOCTYPE" in head[:_HEAD] or b"<!ENTITY" in head[:_HEAD]:
            raise _refuse(path, f"文件已损坏（{info.filename} 含有不允许的 DTD），已拒绝读取")
        if whole:
            kept[info.filename] = head
    return kept


def _check_zip_directory(path: Path, zf: zipfile.ZipFile, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _refuse(
            path,
            f"压缩包含有 {len(infos):,} 个成员，超过上限 {limits.max_members:,} 个："
            "不像一份自评表（可能是异常或恶意文件），已拒绝读取",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise _refuse(
            path,
            f"解压后共 {total / MB:.0f} MB，超过上限 {limits.max_uncompressed / MB:g} MB，"
            "不像一份自评表（可能是异常或恶意文件），已拒绝读取",
        )
    for i in infos:
        if i.file_size > MB and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise _refuse(
                path,
                f"压缩包成员 {i.filename} 的压缩比 {i.file_size // max(i.compress_size, 1)}:1 "
                f"超过上限 {limits.max_ratio}:1（疑似“压缩炸弹”），已拒绝读取",
            )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse(path, "不是 Excel 工作簿（缺少 xl/workbook.xml），可能是其他软件的文件")


# ------------------------------------------------------------------ workbook.xml


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_NAME_TAG = re.compile(r"<(?:\w+:)?definedName\b([^>]*)>([^<]*)</")
_REL_TAG = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(r"([\w:]+)=\"([^\"]*)\"")


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _attrs(text: str) -> dict[str, str]:
    """Attributes of a tag, unescaped, keyed by local name (r:id → id)."""
    return {k.rpartition(":")[2]: _unescape(v) for k, v in _ATTR.findall(text)}


def _part(path: Path, zf: zipfile.ZipFile, part: str, kept: dict[str, bytes]) -> bytes:
    data = kept.get(part)
    if data is None:
        try:
            data = zf.read(part)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
            raise _refuse(path, f"文件已损坏（{part} 无法读取），{_RESEND}") from exc
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # never in OOXML: entity tricks
        raise _refuse(path, f"文件已损坏（{part} 含有不允许的 DTD）")
    return data


def _structure(path: Path, zf: zipfile.ZipFile, data: bytes, kept: dict[str, bytes]) -> Package:
    """Sheets and defined names from xl/workbook.xml and its relationships."""
    book = _part(path, zf, "xl/workbook.xml", kept)
    rels = b""
    if "xl/_rels/workbook.xml.rels" in zf.NameToInfo:
        rels = _part(path, zf, "xl/_rels/workbook.xml.rels", kept)
    sheets, names, local = _parse_workbook(book, rels)
    return Package(path, zf, data, dict(sheets), dict(names), dict(local), parts=kept)


@functools.lru_cache(maxsize=64)
def _parse_workbook(
    book_xml: bytes, rels_xml: bytes
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(sheet name, part), (name, reference) and sheet-scoped names, in document order.

    Scanned with regular expressions rather than an XML parser: these parts are flat and
    machine-written. Cached by content: a batch of returns from one template shares them.
    """
    targets: dict[str, str] = {}
    for m in _REL_TAG.finditer(rels_xml.decode("utf-8", "replace")):
        a = _attrs(m[1])
        target = a.get("Target", "")
        targets[a.get("Id", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    sheet_tags, name_tags = workbook_tags(book_xml)
    sheets = [(a.get("name", ""), targets.get(a.get("id", ""), "")) for a in sheet_tags]
    names: dict[str, str] = {}
    local: dict[str, str] = {}
    for a, value in name_tags:
        name = a.get("name", "")
        if "localSheetId" in a:
            local.setdefault(name, value)
        else:
            names[name] = value
    return tuple(sheets), tuple(names.items()), tuple(local.items())


def workbook_tags(
    book_xml: bytes,
) -> tuple[list[dict[str, str]], list[tuple[dict[str, str], str]]]:
    """The attributes of xl/workbook.xml's <sheet> tags, and the attributes and text of its
    <definedName> tags, unescaped, in document order."""
    book = book_xml.decode("utf-8", "replace")
    sheets = [_attrs(m[1]) for m in _SHEET_TAG.finditer(book)]
    names = [(_attrs(m[1]), _unescape(m[2]).strip()) for m in _NAME_TAG.finditer(book)]
    return sheets, names


# ------------------------------------------------------------------ defined names

_REF = re.compile(
    r"^=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?([0-9]+)"
    r"(?::\$?([A-Za-z]{1,3})\$?([0-9]+))?$"
)


@functools.lru_cache(maxsize=4096)
def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@functools.lru_cache(maxsize=1024)
def col_letter(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


@functools.lru_cache(maxsize=4096)
def parse_ref(text: str) -> Area | None:
    """`'表'!$C$13:$K$17` → Area; None for #REF!, unions and anything else."""
    m = None if "#REF" in text.upper() else _REF.match(text.strip())
    if m is None:
        return None
    sheet = m[1].replace("''", "'") if m[1] is not None else m[2]
    r1, c1 = int(m[4]), col_number(m[3])
    r2, c2 = (int(m[6]), col_number(m[5])) if m[5] else (r1, c1)
    return Area(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))


def resolve_names(
    pkg: Package, wanted: dict[str, str], optional: frozenset[str] = frozenset()
) -> dict[str, Area]:
    """Locate every wanted name (name → the sheet the template put it on).

    Refuses, listing every fault at once, when names are missing, point at #REF! (a deleted
    sheet or deleted rows) or at a sheet that no longer exists (renamed without the names
    following, as some tools do). A sheet renamed in Excel or WPS is fine: the names follow.
    """
    found: dict[str, Area] = {}
    missing: list[str] = []
    broken: list[Problem] = []
    lost_sheets: dict[str, list[str]] = {}
    for name, sheet in wanted.items():
        text = pkg.names.get(name, pkg.local_names.get(name))
        if text is None:
            if name not in optional:  # an optional name: a template made before it
                missing.append(name)
            continue
        area = parse_ref(text)
        if area is None:
            why = "已删除的工作表或单元格（#REF!）" if "#REF" in text.upper() else f"「{text}」"
            broken.append(
                Problem(
                    pkg.file,
                    name,
                    f"定义名称 {name} 指向{why}，原在工作表「{sheet}」："
                    "该工作表或所在行列可能被删除，请用原模板重新填写",
                    NAMES,
                )
            )
        elif area.sheet not in pkg.sheets:
            lost_sheets.setdefault(area.sheet, []).append(name)
        elif _too_big(area, pkg.limits):
            rows = area.last_row - area.row + 1
            cols = area.last_col - area.col + 1
            broken.append(
                Problem(
                    pkg.file,
                    name,
                    f"定义名称 {name} 指向的区域过大（{rows:,} 行 × {cols:,} 列，"
                    f"起于工作表「{area.sheet}」{area.a1}）：自评表的一个栏目不会有这么多行，"
                    "可能是名称被拉伸到了整列，请用原模板重新填写或在“名称管理器”中改正",
                    NAMES,
                )
            )
        else:
            found[name] = area
    problems: list[Problem] = []
    if missing:
        shown = "、".join(missing[:8]) + ("等" if len(missing) > 8 else "")
        problems.append(
            Problem(
                pkg.file,
                "",
                f"缺少 {len(missing)} 个定义名称：{shown}。这些名称标记了各栏位置，可能被删除了："
                "请用原模板重新填写，或在“公式→名称管理器”中恢复",
                NAMES,
            )
        )
    for sheet, names in lost_sheets.items():
        problems.append(
            Problem(
                pkg.file,
                sheet,
                f"工作表「{sheet}」不存在（可能被改名或删除），定义名称 {names[0]} 等 "
                f"{len(names)} 个名称指向它。现有工作表：{'、'.join(pkg.sheets)}。"
                f"请把工作表名称改回「{sheet}」",
                NAMES,
            )
        )
    problems += broken
    if problems:
        raise InputError(problems)
    return found


def _too_big(area: Area, limits: Limits) -> bool:
    rows = area.last_row - area.row + 1
    return rows > limits.max_name_rows or rows * (area.last_col - area.col + 1) > (
        limits.max_name_cells
    )


# ------------------------------------------------------------------ cell count

# Literal-led patterns (fast); a stray match elsewhere can only widen the estimate.
# a cell reference's column, and its row when the reference is whole (up to nine digits
# and the closing quote; b"" otherwise): one pass for both
_R_CELL = re.compile(rb"r=\"\$?([A-Za-z]{1,3})\$?(?:([0-9]{1,9})\"|[0-9])")
# a row element's number, when cells follow (an empty row, as LibreOffice writes one at
# row 1,048,576 after a row is deleted, holds nothing a reader builds)
_ROW_WITH_CELLS = re.compile(rb"<row\b[^<>]*?\sr=\"([0-9]{1,9})\"[^<>]*(?<!/)>\s*<(?:\w+:)?c[\s>/]")
_ROW_R = re.compile(rb"<row\b[^<>]*?\sr=\"")
_OPEN_ROW_AT_END = re.compile(rb"<row\b[^<>]*(?<!/)>\s*\Z")
# a cell's opening tag is <c followed by one of " >/\t\n\r" (not <col>, <cfRule>, …), or
# a prefixed :c followed by " " or ">"; a row's is "<row " or "<row>" (not <rowBreaks>)
_CELL_OPEN = re.compile(rb"<c[ >/\t\n\r]")
_PREFIXED_CELL_OPEN = re.compile(rb":c(?=[ >])")
_ROW_OPEN = re.compile(rb"<row[ >]")
_CHUNK = MB
_MAX_CARRY = 64 * 1024
_RUN_TAIL = 64  # of a long run, kept to go on with the next chunk
_CELL_OR_ROW_OPEN = re.compile(rb"<(?:[\w.-]+:)?(?:c[ >/\t\n\r]|row[ >\t\n\r])")
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def _span(values: set[bytes]) -> tuple[bytes, bytes]:
    """Smallest and largest of column letters (by length, then text)."""
    order = sorted(values, key=lambda v: (len(v), v.upper()))
    return order[0], order[-1]


def _measure(view: bytes, counts: list[int], cols: set[bytes], rows: set[bytes]) -> None:
    """Add what one view of a sheet part holds to the running counts (see scan_extent)."""
    counts[0] += len(_CELL_OPEN.findall(view)) + len(_PREFIXED_CELL_OPEN.findall(view))
    refs = _R_CELL.findall(view)
    counts[1] += len(refs)
    cols.update(map(_FIRST, refs))
    rows.update(map(_SECOND, refs))
    rows.discard(b"")  # a reference without a whole row
    rows.update(_ROW_WITH_CELLS.findall(view))
    counts[2] += len(_ROW_OPEN.findall(view))
    counts[3] += len(_ROW_R.findall(view))


def _stream_measure(
    pkg: Package, part: str, sheet: str, counts: list[int], cols: set[bytes], rows: set[bytes]
) -> None:
    """_measure over a large part in chunks, so memory stays at one chunk.

    Each view ends before the last "<" of what was read, so no tag is split between views;
    what follows goes on with the next chunk. A run longer than _MAX_CARRY (one tag or
    text with no "<" in it) is measured in pieces: a formula's or a string's text holds no
    cell reference to lose, but a cell or row tag would lose its own (a far cell could slip
    past the limit), and Excel never writes one so long, so the file is refused."""
    carry = b""
    with pkg.zip.open(part) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            buf = carry + chunk
            if not chunk:
                _measure(buf, counts, cols, rows)
                return
            cut = buf.rfind(b"<")
            row_at = buf.rfind(b"<row", 0, cut) if cut > 0 else -1
            if row_at >= 0 and _OPEN_ROW_AT_END.match(buf, row_at, cut):
                cut = row_at  # a row tag ending the view goes on with its first cell
            if cut > 0:
                _measure(buf[:cut], counts, cols, rows)
                carry = buf[cut:]
            else:  # no tag starts after the run that began the buffer: it goes on
                carry = buf
            if len(carry) > _MAX_CARRY:
                if _CELL_OR_ROW_OPEN.match(carry):
                    where = f"工作表「{sheet}」" if sheet else part
                    raise pkg.refuse(
                        f"{where}中有一个长度超过 {_MAX_CARRY // 1024} KB 的单元格或行标记，"
                        "不像 Excel 或 WPS 保存的文件（可能是异常或恶意文件），已拒绝读取",
                        sheet,
                    )
                _measure(carry[:-_RUN_TAIL], counts, cols, rows)
                carry = carry[-_RUN_TAIL:]


def scan_extent(pkg: Package, part: str, sheet: str = "") -> Extent:
    """Stream a sheet part once and measure what is really in it (cached per part).

    Counts `<c>` elements and the rectangle their `r` attributes span; cells or rows
    written without `r` (a reader places them next in order) widen the rectangle by their
    number, so the estimate never falls short. A part up to _KEEP is read whole and kept
    (the cell facts read it next); a larger one streams, in one chunk of memory.
    """
    hit = pkg.extents.get(part)
    if hit is not None:
        return hit
    counts = [0, 0, 0, 0]  # cells, placed cells, row tags, row tags with r
    cols: set[bytes] = set()
    rows: set[bytes] = set()
    info = pkg.zip.NameToInfo.get(part)
    if info is not None and info.file_size <= _KEEP:  # whole, kept for the cell facts
        _measure(pkg.part(part, sheet), counts, cols, rows)
    else:
        try:
            _stream_measure(pkg, part, sheet, counts, cols, rows)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
            raise pkg.damaged(part, sheet) from exc
    cells, placed, row_tags, row_refs = counts
    unplaced_cells = max(0, cells - placed)
    unplaced_rows = max(0, row_tags - row_refs)
    if not cells:
        extent = Extent(0, 1, 1, 0, 0)
    else:
        c0, c1 = _span(cols) if cols else (b"A", b"A")
        r0, r1 = (min(map(int, rows)), max(map(int, rows))) if rows else (1, 1)
        extent = Extent(
            cells,
            max(1, r0),
            col_number(c0.decode()),
            max(1, r1) + unplaced_rows,
            min(col_number(c1.decode()) + unplaced_cells, 16_384),
        )
    pkg.extents[part] = extent
    return extent


def sheet_cells(pkg: Package, sheet: str) -> int:
    """Cells in the used range of `sheet`, as it really is (never its <dimension> claim).

    A reader builds the whole used range, so one stray value in row 1,048,576 would cost
    gigabytes; this is what the limit is checked against.
    """
    part = pkg.sheets.get(sheet, "")
    if part not in pkg.zip.NameToInfo:
        return 0
    return scan_extent(pkg, part, sheet).area


def check_cells(pkg: Package, sheets: list[str], limits: Limits) -> None:
    total = 0
    for sheet in sheets:
        total += sheet_cells(pkg, sheet)
        if total > limits.max_cells:
            raise pkg.refuse(
                f"工作表「{sheet}」的使用区域过大（合计约 {total:,} 个单元格，上限 "
                f"{limits.max_cells:,}）：可能在远处的行列误填了内容，请删除多余的行列后另存",
                sheet,
            )


def _check_read_sheets(pkg: Package) -> None:
    """Before any sheet reaches calamine: the sheets the template's names point at (the
    form sheets and the hidden _perfxl) and the first sheet (a master table) must have a
    real used range within the limit."""
    read: list[str] = []
    for name, text in {**pkg.local_names, **pkg.names}.items():
        if name.startswith("pf_"):
            area = parse_ref(text)
            if area is not None and area.sheet in pkg.sheets and area.sheet not in read:
                read.append(area.sheet)
    first = next(iter(pkg.sheets), None)
    if first is not None and first not in read:
        read.append(first)
    for sheet in read:
        check_cells(pkg, [sheet], pkg.limits)


def book_cells(pkg: Package) -> int:
    """Cells (`<c>` elements) in every sheet of the book, streamed: what a library that
    loads the whole book (openpyxl, for the annotated copy) will build."""
    return sum(
        scan_extent(pkg, part, sheet).cells
        for sheet, part in pkg.sheets.items()
        if part in pkg.zip.NameToInfo
    )


# ------------------------------------------------------------------ cell facts

_CELL_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]+)\"")
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_NUMFMT = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*?numFmtId=\"([0-9]+)\"[^>]*?formatCode=\"([^\"]*)\"")
_NUMFMT_ID = re.compile(rb"numFmtId=\"([0-9]+)\"")


def _cell_tags(xml: bytes, needle: bytes) -> list[tuple[tuple[int, int], int]]:
    """(row, col) and tag end of each <c ...> start tag containing `needle`."""
    out = []
    pos = xml.find(needle)
    while pos >= 0:
        start = xml.rfind(b"<", 0, pos)
        end = xml.find(b">", pos)
        tag = xml[start:end]
        if tag.startswith(b"<c ") or tag.split(b" ", 1)[0].endswith(b":c"):
            m = _CELL_REF.search(tag)
            if m is not None:
                out.append(((int(m[2]), col_number(m[1].decode())), end))
        pos = xml.find(needle, end)
    return out


@functools.lru_cache(maxsize=64)
def _percent_styles(styles: bytes) -> frozenset[int]:
    """Indices of cell formats (cellXfs) that display numbers as percentages."""
    codes = {9: "0%", 10: "0.00%"}
    for m in _NUMFMT.finditer(styles):
        codes[int(m[1])] = m[2].decode("utf-8", "replace")
    start = styles.find(b"cellXfs")
    out: set[int] = set()
    if start < 0:
        return frozenset()
    end = styles.find(b"cellXfs", start + 7)
    for i, m in enumerate(_XF.finditer(styles, start, end if end > 0 else len(styles))):
        fid = _NUMFMT_ID.search(m[1])
        if fid and is_percent_format(codes.get(int(fid[1]), "")):
            out.add(i)
    return frozenset(out)


def is_percent_format(code: str) -> bool:
    """A '%' outside quotes, escapes and [brackets] makes Excel multiply by 100."""
    return "%" in re.sub(r'"[^"]*"|&quot;.*?&quot;|\\.|\[[^\]]*\]', "", code)


@dataclass
class SheetFacts:
    """What value readers hide: cells in a percentage format, and Excel error values."""

    percent: set[tuple[int, int]]
    errors: dict[tuple[int, int], str]


def sheet_facts(pkg: Package, sheet: str) -> SheetFacts:
    """Percentage-formatted cells and error values of `sheet`, from its XML.

    calamine gives a 0.95 shown as "95%" as 0.95 and an #DIV/0! as an empty cell; both
    matter to a reader that must not guess.
    """
    xml = pkg.part(pkg.sheets[sheet])
    errors = {}
    if b't="e"' in xml:
        for rc, end in _cell_tags(xml, b't="e"'):
            v0 = xml.find(b"<v>", end, end + 4096)
            v1 = xml.find(b"</v>", v0)
            errors[rc] = xml[v0 + 3 : v1].decode() if v0 >= 0 else "#错误"
    has = "xl/styles.xml" in pkg.zip.NameToInfo
    percent: set[tuple[int, int]] = set()
    for style in _percent_styles(pkg.part("xl/styles.xml") if has else b""):
        percent.update(rc for rc, _ in _cell_tags(xml, b's="%d"' % style))
    return SheetFacts(percent, errors)
