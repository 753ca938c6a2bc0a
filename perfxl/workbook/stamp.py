"""Pre-filled copies of one built workbook: the cells that change are rewritten, nothing else.

A bureau distributes hundreds of workbooks that differ only in a few input cells (the
header and the budget figures of each unit). Building each from scratch redraws every
style, validation and the whole live 审核 sheet; a Stamper builds the profile's workbook
once (`build_workbook` with a budget filing, `lock_prefilled=True`, so the locked input
style exists and the budget cells already carry it) and then, per filing, copies that
package and rewrites only the cell elements whose content differs:

* input cells (header texts, 年度, 资金 figures): numbers as ``<v>``, text as inline strings
  (``t="inlineStr"``, escaped as XlsxWriter escapes shared strings), a budget figure the
  filing leaves blank gets the open input style (present in the base: 全年执行数 uses it);
* formula cells whose cached result changes (执行率, 得分, totals, grade, 审核 results, the
  错误 / 提示 counts).

Cached results. They are computed with the same Python engine and the same steps as
`build_workbook`, for the stamped filing, and written exactly as it writes them. This is
what keeps a stamped file the same document as a built one: perfxl's own reader and every
viewer that does not recalculate (previews, mobile apps, calamine-based tools) read cached
values, so dropping them would make 执行率 / 得分 / 总分 read back blank and the 审核 sheet
show nothing until an office suite recalculates. The base already carries
``<calcPr fullCalcOnLoad="1"/>`` (XlsxWriter writes it), so Excel, WPS and LibreOffice still
recalculate on open; workbook.xml is left untouched. Computing costs little: the engine runs
on a handful of inputs and a 审核 result is only re-evaluated when a value it reads changed.

Which cells can change is fixed when the stamper is made: the inputs, the computed cells
of the plan, the 审核 rows that read either, the 错误 / 提示 counts, and cells drawn as a copy
of an input (评分表 shows 基本信息's 年度). A second build with every input different checks
that nothing else changes; if something does, the stamper declines and every file is built.

Every other part of the package (styles, validation, protection, defined names, the 审核
formulas, buttons and vbaProject.bin of an .xlsm) is the base's, byte for byte: unchanged
zip members are copied compressed as they are, and a changed sheet is deflated piecewise
from pieces deflated once (see _Sheet), so the same filing always gives the same bytes.

What a stamp cannot express (a filing with indicators, projects, income lines or texts, which
may need larger blocks) is written by `build_workbook`, so `write` always gives the same
document a fresh build would. Outputs appear atomically.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import struct
import tempfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.xmlwriter import XMLwriter

from ..atomic import atomic_path
from ..errors import InputError, Problem
from ..model import Filing, FundLine, Funds, Header
from ..profile import Profile
from ..scoring import score
from .cells import _lockable
from .formulas import digits, letters
from .layout import (
    AUDIT_SHEET,
    DEFAULT_INCOME_ROWS,
    DEFAULT_PROJECT_ROWS,
    DEFAULT_ROWS_PER_GROUP,
)
from .write import (
    AUDIT_FIRST_ROW,
    Ctx,
    Key,
    Placed,
    Plan,
    _constants,
    _Env,
    _key_part,
    audit_result,
    build_workbook,
    place,
    plan_for,
    rows_needed,
)

__all__ = ["Stamper", "stampable"]

LEVEL = 6  # zlib's default, as XlsxWriter's zip uses
XLS_STRMAX = 32767  # XlsxWriter truncates longer strings (UTF-16 units)
_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
_HEAD = re.compile(rb'^<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?')
_STYLE = re.compile(rb' s="([0-9]+)"')
_FORMULA = re.compile(rb"<f>.*?</f>", re.DOTALL)
_SPACE_AT_ENDS = re.compile(r"^\s|\s$")
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


# ------------------------------------------------------------------ cell XML, as XlsxWriter


def _text(value: str) -> bytes:
    """An inline string, escaped and truncated as XlsxWriter writes a shared string.

    (Unlike XlsxWriter, text that looks like rich-text XML, "<r>…</r>", stays text.)"""
    if len(value) > XLS_STRMAX // 2:
        n = 0
        for i, ch in enumerate(value):
            n += 2 if ord(ch) > 0xFFFF else 1
            if n > XLS_STRMAX:
                value = value[:i]
                break
    value = XMLwriter._escape_control_characters(value)  # "\x01" → _x0001_, and so on
    space = ' xml:space="preserve"' if _SPACE_AT_ENDS.search(value) else ""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'.encode()


def _input_xml(head: bytes, value: Any) -> bytes:
    """An input cell as Sheets.put / merge write it: blank, text or number."""
    if value is None or value == "":
        return head + b"/>"
    if isinstance(value, str):
        return head + _text(value)
    return head + f"><v>{float(value):.16G}</v></c>".encode()


def _formula_xml(head: bytes, formula: bytes, value: Any) -> bytes:
    """A formula cell with its cached result, as Sheets.formula / write_formula write it."""
    if isinstance(value, Decimal | int | float):
        value = float(value)
    else:
        value = value or ""
    t = b""
    if isinstance(value, str):
        if value in _ERRORS:
            t = b' t="e"'
        elif value:
            t = b' t="str"'
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return head + t + b">" + formula + f"<v>{value}</v></c>".encode()


def _same(a: Any, b: Any) -> bool:
    """Values a cell shows identically (1 and 1.00 are one number; "" and None both blank)."""
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    return a == b and isinstance(a, str) == isinstance(b, str)


# ------------------------------------------------------------------ the package


@dataclass
class _Member:
    """A zip member of the base: its compressed data, copied as is when unchanged."""

    name: bytes
    flags: int
    method: int
    dostime: int
    dosdate: int
    crc: int
    csize: int
    usize: int
    made_by: int
    external: int
    data: bytes


def _members(blob: bytes) -> list[_Member]:
    out = []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        for info in zf.infolist():
            off = info.header_offset
            n, m = struct.unpack_from("<HH", blob, off + 26)
            start = off + 30 + n + m
            name = info.filename.encode("utf-8")
            dt = info.date_time
            out.append(
                _Member(
                    name=name,
                    flags=0x800 if not name.isascii() else 0,
                    method=info.compress_type,
                    dostime=(dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2),
                    dosdate=((dt[0] - 1980) << 9) | (dt[1] << 5) | dt[2],
                    crc=info.CRC,
                    csize=info.compress_size,
                    usize=info.file_size,
                    made_by=(info.create_system << 8) | info.create_version,
                    external=info.external_attr,
                    data=blob[start : start + info.compress_size],
                )
            )
    return out


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def _zip(members: list[_Member]) -> bytes:
    """A zip of the members, in order (no zip64: workbooks are far below 4 GiB)."""
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        common = (m.flags, m.method, m.dostime, m.dosdate, m.crc, m.csize, m.usize, len(m.name))
        head = _LOCAL.pack(0x04034B50, 20, *common, 0) + m.name
        tail = (0, 0, 0, 0, m.external, offset)
        central.append(_CENTRAL.pack(0x02014B50, m.made_by, 20, *common, *tail) + m.name)
        local += (head, m.data)
        offset += len(head) + len(m.data)
    cd = b"".join(central)
    n = len(members)
    return b"".join(local) + cd + _END.pack(0x06054B50, 0, 0, n, n, len(cd), offset, 0)


class _Sheet:
    """One worksheet part of the base: where each cell element sits, and a piecewise deflater.

    The cells a stamp may rewrite (`dynamic`, fixed when the stamper is made) split the XML
    into runs that never change. Runs and the dynamic cells as the base has them are deflated
    once, each piece on its own (referring to nothing before it, ending on a byte boundary);
    per file only the cells that differ are deflated. Concatenated, the pieces are one valid
    deflate stream of the stamped sheet, and its bytes depend only on the file's content.
    """

    def __init__(self, index: int, xml: bytes) -> None:
        self.index = index
        self.xml = xml
        self.cells = {m.group(1).decode(): (m.start(), m.end()) for m in _CELL.finditer(xml)}
        self.dynamic: list[tuple[int, int]] = []
        self.pieces: list[bytes] = []  # set by make_dynamic

    def element(self, a1: str) -> bytes:
        start, end = self.cells[a1]
        return self.xml[start:end]

    def make_dynamic(self, a1s: set[str]) -> None:
        self.dynamic = sorted(self.cells[a1] for a1 in a1s)
        bounds = [0]
        for start, end in self.dynamic:
            bounds += (start, end)
        bounds.append(len(self.xml))
        self.pieces = [
            _deflate(self.xml[a:b], last=b == len(self.xml)) for a, b in itertools.pairwise(bounds)
        ]  # run, cell as in the base, run, …, run (the last one ends the stream)

    def deflate(self, patches: dict[str, bytes]) -> tuple[bytes, int, int]:
        """(raw deflate data, crc32, size) of the sheet with `patches` (A1 → element)."""
        by_start = {self.cells[a1][0]: xml for a1, xml in patches.items()}
        if not by_start.keys() <= {start for start, _ in self.dynamic}:
            raise AssertionError("a stamp changed a cell outside the dynamic ones")
        out = list(self.pieces)
        view = memoryview(self.xml)
        crc = size = pos = 0
        for i, (start, end) in enumerate(self.dynamic):
            piece = by_start.get(start)
            crc = zlib.crc32(view[pos:start], crc)
            if piece is None:
                crc = zlib.crc32(view[start:end], crc)
                size += end - pos
            else:
                out[2 * i + 1] = _deflate(piece, last=False)
                crc = zlib.crc32(piece, crc)
                size += start - pos + len(piece)
            pos = end
        crc = zlib.crc32(view[pos:], crc)
        return b"".join(out), crc, size + len(self.xml) - pos


def _deflate(data: bytes, *, last: bool) -> bytes:
    """A self-contained piece of a deflate stream: refers to nothing before it and ends on a
    byte boundary (or, `last`, ends the stream)."""
    co = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _sheet_parts(workbook: bytes, rels: bytes) -> dict[str, str]:
    """Sheet name → zip member of its worksheet XML."""
    target = {
        r.get("Id"): r.get("Target", "") for r in ET.fromstring(rels).findall("p:Relationship", _NS)
    }
    out = {}
    for s in ET.fromstring(workbook).findall("m:sheets/m:sheet", _NS):
        t = target[s.get(f"{{{_NS['r']}}}id")]
        out[s.get("name", "")] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    return out


_MIRROR = re.compile(
    rb'<c r="[A-Z]+[0-9]+"[^>]*><f>IF\(ISNUMBER\(([^,()]+)\),\1,""\)</f>.*</c>', re.DOTALL
)
_REF = re.compile(r"(?:'((?:[^']|'')+)'!|([^'!]+)!)?\$?([A-Z]+)\$?([0-9]+)")


def _ref_key(ref: str, sheet: str) -> Key | None:
    """'Sheet'!$A$2 (or $A$2 on `sheet`) as a cell key."""
    m = _REF.fullmatch(ref)
    if m is None:
        return None
    name = m.group(1).replace("''", "'") if m.group(1) else (m.group(2) or sheet)
    return (name, int(m.group(4)), m.group(3))


def _cached(blob: bytes, sheets: dict[str, _Sheet]) -> dict[Key, Any]:
    """Every cell's value as a reader that does not recalculate sees it."""
    from python_calamine import CalamineWorkbook

    from .guard import col_letter

    book = CalamineWorkbook.from_filelike(io.BytesIO(blob))
    out: dict[Key, Any] = {}
    for name in sheets:
        sheet = book.get_sheet_by_name(name)
        r0, c0 = sheet.start or (0, 0)
        for i, row in enumerate(sheet.to_python()):
            for j, v in enumerate(row):
                if v != "":
                    out[(name, r0 + i + 1, col_letter(c0 + j + 1))] = v
    return out


# ------------------------------------------------------------------ the stamper


def stampable(filing: Filing) -> bool:
    """A budget-only filing (header and 资金 figures): what a stamp can write."""
    fin = filing.finance
    return not (
        filing.indicators
        or filing.projects
        or (
            fin is not None
            and (fin.income or fin.model_dump(exclude_none=True, exclude={"income"}))
        )
        or filing.group_scores
        or filing.group_remarks
        or filing.texts
        or filing.goal_expected
        or filing.goal_actual
    )


class Stamper:
    """A profile's workbook built once, and copies of it holding budget-only filings.

    `write(filing, out)` stamps when it can and builds otherwise; `stamp_bytes` gives the
    stamped package, or None for a filing a stamp cannot express.
    """

    def __init__(self, profile: Profile, *, vba_project: Path | None = None) -> None:
        self.profile = profile
        self.vba_project = vba_project
        self.plan: Plan = plan_for(profile, *self._layout_args(), None)
        plan, layout = self.plan, self.plan.layout
        # The input cells a stamp writes (header, 资金): key → (field path, kind).
        self.inputs: dict[Key, tuple[str, str]] = {
            (c.sheet, digits(c.ref), letters(c.ref)): (c.path, c.kind)
            for c in layout.cells
            if c.role == "input" and c.path and c.path.split(".")[0] in ("header", "funds")
        }
        self.computed: list[Key] = [(fc.sheet, fc.row, fc.col) for fc in plan.fcells]
        self.audit: list[Key] = [
            (AUDIT_SHEET, AUDIT_FIRST_ROW + i, "D") for i in range(len(plan.instances))
        ]
        self.readers: dict[Key, list[int]] = {}  # cell → the 审核 rows whose result reads it
        for i, inst in enumerate(plan.instances):
            for kind, x in inst.reads:
                for k in (x,) if kind == "cell" else x if kind == "range" else ():
                    self.readers.setdefault(k, []).append(i)

        base_filing = self._base_filing()
        blob = self._build(base_filing)
        self.members = _members(blob)
        index = {m.name.decode(): i for i, m in enumerate(self.members)}
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            parts = _sheet_parts(zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels"))
            self.sheets = {
                name: _Sheet(index[part], zf.read(part))
                for name, part in parts.items()
                if name in layout.sheets
            }
        self.mirrors: dict[Key, Key] = {}
        self.unsupported = self._probe(blob)
        self.base_values = self._values(base_filing, None)[1]
        placed = place(layout, base_filing, lock_prefilled=True)
        lockable = {k for k, (p, _) in self.inputs.items() if _lockable(p)}
        if placed.locked != lockable:
            raise AssertionError("the base build must lock every budget figure")
        # The cells a stamp may rewrite: inputs, computed cells, the 审核 rows reading them
        # (no other result can change: see _values) and the 错误 / 提示 counts.
        rows = sorted({i for k in [*self.inputs, *self.computed] for i in self.readers.get(k, ())})
        banner = [(fc.sheet, fc.row, fc.col) for fc in plan.banner]
        dynamic = [*self.inputs, *self.computed, *banner, *(self.audit[i] for i in rows)]
        dynamic += self.mirrors
        self.heads: dict[Key, bytes] = {}  # the start of a cell element: <c r=".." s=".."
        self.formulas: dict[Key, bytes] = {}  # a formula cell's <f> element, as the base has it
        for key in dynamic:
            el = self.sheets[key[0]].element(f"{key[2]}{key[1]}")
            self.heads[key] = _HEAD.match(el).group(0)  # type: ignore[union-attr]
            if key not in self.inputs:
                f = _FORMULA.search(el)
                if f is None:
                    raise AssertionError(f"{key}: no formula in the base build")
                self.formulas[key] = f.group(0)
        # A budget figure the filing leaves blank stays open: the open input style of its
        # kind, as another input cell of the base (全年执行数) carries it.
        open_style: dict[str, bytes] = {}
        for key, (p, kind) in self.inputs.items():
            m = _STYLE.search(self.heads[key])
            if key not in lockable and p != "header.year" and m is not None:
                open_style.setdefault(kind, m.group(0))
        self.open_heads = {
            key: _STYLE.sub(open_style[self.inputs[key][1]], self.heads[key], count=1)
            for key in lockable
            if self.inputs[key][1] in open_style
        }
        self.lockable = lockable
        by_sheet: dict[str, set[str]] = {}
        for key in dynamic:
            by_sheet.setdefault(key[0], set()).add(f"{key[2]}{key[1]}")
        for name, a1s in by_sheet.items():
            self.sheets[name].make_dynamic(a1s)

    # -- the layout and values, as build_workbook has them -------------------------------
    def _layout_args(self) -> tuple[Any, int, int]:
        p = self.profile
        if p.kind == "project":
            blank = Filing(profile=p.id, profile_version=p.version, header=Header(year=2000))
            return (
                rows_needed(p, blank, DEFAULT_ROWS_PER_GROUP),
                DEFAULT_PROJECT_ROWS,
                DEFAULT_INCOME_ROWS,
            )
        return DEFAULT_ROWS_PER_GROUP, DEFAULT_PROJECT_ROWS, DEFAULT_INCOME_ROWS

    def _build(self, filing: Filing) -> bytes:
        with tempfile.TemporaryDirectory(prefix="perfxl-stamp-") as d:
            path = Path(d) / ("base.xlsm" if self.vba_project else "base.xlsx")
            build_workbook(
                self.profile, path, filing, lock_prefilled=True, vba_project=self.vba_project
            )
            return path.read_bytes()

    def _probe(self, blob: bytes) -> str | None:
        """Check that the stamp knows every cell the stamped inputs change: build once more
        with every input different and compare all cached values. A cell drawn as a copy of
        an input (IF(ISNUMBER(x),x,"")) is kept as such; any other is a reason not to stamp."""
        p = self.profile
        lines = {line: FundLine(initial=Decimal(2), budget=Decimal(3), executed=Decimal(5))
                 for line in ("total", "fiscal", "carryover", "other")}  # fmt: skip
        header = Header(name="名", department="部", unit="单", unit_code="1", year=2001)
        probe = Filing(profile=p.id, profile_version=p.version, header=header, funds=Funds(**lines))
        a, b = _cached(blob, self.sheets), _cached(self._build(probe), self.sheets)
        known = {*self.inputs, *self.computed, *self.audit}
        known.update((fc.sheet, fc.row, fc.col) for fc in self.plan.banner)
        for key in sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)):
            if key in known:
                continue
            m = _MIRROR.fullmatch(self.sheets[key[0]].element(f"{key[2]}{key[1]}"))
            src = _ref_key(m.group(1).decode(), key[0]) if m else None
            if src not in self.inputs:
                return f"{key[0]}!{key[2]}{key[1]} 随填报内容变化，无法套用"
            self.mirrors[key] = src  # type: ignore[assignment]
        return None

    def _base_filing(self) -> Filing:
        """Every budget figure and identity cell given (so each carries the locked style),
        the rest blank."""
        p = self.profile
        lines: dict[str, dict[str, Decimal]] = {}
        for path, _kind in self.inputs.values():
            if path.startswith("funds.") and _lockable(path):
                _, line, f = path.split(".")
                lines.setdefault(line, {})[f] = Decimal(1)
        funds = Funds(**{line: FundLine(**fs) for line, fs in lines.items()})
        header = Header(year=2000)
        for path, _kind in self.inputs.values():  # identity cells locked as well
            if path.startswith("header.") and _lockable(path):
                setattr(header, path.split(".")[1], "0")
        return Filing(profile=p.id, profile_version=p.version, header=header, funds=funds)

    def _values(self, filing: Filing, base: dict[Key, Any] | None) -> tuple[Placed, dict[Key, Any]]:
        """Input cells and cached results, computed as build_workbook computes them.

        A 审核 result is a function of the cells it reads (build_workbook memoises it on
        them), so against the base only the rows reading a changed cell are evaluated.
        """
        plan = self.plan
        placed = place(plan.layout, filing, lock_prefilled=True)
        ctx = Ctx(placed, score(placed.filing, self.profile))
        _constants(plan, ctx)
        values = ctx.values
        for fc in plan.fcells:
            values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
        if base is None:
            todo: Any = range(len(plan.instances))
        else:
            for key in self.audit:
                values[key] = base[key]
            todo = sorted(
                {
                    i
                    for k in [*self.inputs, *placed.inputs, *self.computed]
                    if values.get(k) != base.get(k)
                    for i in self.readers.get(k, ())
                }
            )
        self._verdicts(ctx, todo)
        for fc in plan.banner:
            values[(fc.sheet, fc.row, fc.col)] = fc.value(ctx)
        for key, src in self.mirrors.items():  # IF(ISNUMBER(x),x,"")
            v = values.get(src)
            values[key] = v if isinstance(v, int | Decimal) and not isinstance(v, bool) else ""
        return placed, values

    def _verdicts(self, ctx: Ctx, which: Any) -> None:
        """The 审核 results of the instances `which`, as build_workbook gives them."""
        plan = self.plan
        memo = plan.verdicts
        if len(memo) > 100_000:
            memo.clear()
        values = ctx.values
        for i in which:
            inst = plan.instances[i]
            key = (id(inst.check), *(_key_part(values, r) for r in inst.reads))
            if key not in memo:
                memo[key] = audit_result(inst.check, _Env(plan.loc, ctx, inst.row))
            values[self.audit[i]] = memo[key]

    # -- stamping -----------------------------------------------------------------------
    def changes(self, filing: Filing) -> dict[str, dict[str, bytes]] | None:
        """The cell elements that differ from the base, by sheet and A1, for `filing`;
        None when a stamp cannot express it (it needs what only a fresh build gives)."""
        if filing.profile != self.profile.id:
            raise InputError(
                Problem(
                    "",
                    "",
                    f"填报数据按评价框架「{filing.profile}」编制，与「{self.profile.id}」不一致，不能填入",
                )
            )
        if self.unsupported or not stampable(filing):
            return None
        placed, values = self._values(filing, self.base_values)
        if not placed.inputs.keys() <= self.inputs.keys():
            return None
        base = self.base_values
        out: dict[str, dict[str, bytes]] = {}
        for key in self.inputs:
            v = values.get(key)
            if key in self.lockable and key not in placed.locked:
                head = self.open_heads.get(key)
                if head is None:
                    return None  # the base has no open style of this kind to give it
            elif _same(v, base.get(key)):
                continue
            else:
                head = self.heads[key]
            out.setdefault(key[0], {})[f"{key[2]}{key[1]}"] = _input_xml(head, v)
        for key, formula in self.formulas.items():
            v = values.get(key, "")
            if not _same(v, base.get(key, "")):
                xml = _formula_xml(self.heads[key], formula, v)
                out.setdefault(key[0], {})[f"{key[2]}{key[1]}"] = xml
        return out

    def stamp_bytes(self, filing: Filing) -> bytes | None:
        """The stamped package of `filing`, or None when a stamp cannot express it."""
        changes = self.changes(filing)
        if changes is None:
            return None
        members = list(self.members)
        for sheet, cells in changes.items():
            part = self.sheets[sheet]
            data, crc, size = part.deflate(cells)
            members[part.index] = replace(
                members[part.index],
                method=zipfile.ZIP_DEFLATED,
                crc=crc,
                csize=len(data),
                usize=size,
                data=data,
            )
        return _zip(members)

    def write(self, filing: Filing, out: Path) -> Path:
        """`filing` in a copy of the base at `out` (atomically); built afresh when a stamp
        cannot express it."""
        data = self.stamp_bytes(filing)
        out = Path(out)
        if data is None:
            return build_workbook(
                self.profile, out, filing, lock_prefilled=True, vba_project=self.vba_project
            )
        with atomic_path(out) as tmp:
            tmp.write_bytes(data)
            os.chmod(tmp, 0o644)  # a document to share, as build_workbook leaves it
        return out
