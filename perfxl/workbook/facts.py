"""Cell facts a value reader hides: which cells hold a formula, its text and cached result.

A value reader (python-calamine, openpyxl with data_only) gives a formula cell's cached
result and nothing else, so a number typed over a formula looks exactly like the formula's
result. The integrity checks need the difference; it is in the sheet XML, one `<f>` element
per formula cell. The scan is a byte search for `<f` and `t="e"`, not an XML parse: the
form sheets hold a few hundred cells and only the cells that carry a formula or an error
value are looked at. The 审核 sheet (a display of the live checks, thousands of cells) and
the 填表说明 sheet are not scanned.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ..memo import by_identity
from .guard import Package, col_letter, col_number, open_package, parse_ref
from .layout import PROJECT_FLAG_COLUMNS

__all__ = [
    "CellFact",
    "cell_fact",
    "inspect_workbook",
    "normal_formula",
    "scan_sheet",
]

_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]+)\"")
_TYPE = re.compile(rb"\bt=\"([a-zA-Z]+)\"")


@dataclass(frozen=True)
class CellFact:
    """One cell as stored: `formula` is its text ("" for a shared-formula child, None for no
    formula); `cached` the raw text of its value (None when it has none); `type` the t
    attribute ("n" when absent: a number, "str" a formula's text, "s" a shared string,
    "e" an error value, "b" a boolean, "inlineStr")."""

    formula: str | None
    cached: str | None
    type: str


def _cell_start(xml: bytes, pos: int) -> int:
    """Start of the <c ...> tag just before (or around) position `pos`, or -1."""
    start = xml.rfind(b"<", 0, pos + 1)
    name = xml[start + 1 : start + 12].split(b" ", 1)[0].split(b">", 1)[0]
    return start if name == b"c" or name.endswith(b":c") else -1


def _fact_at(xml: bytes, start: int) -> tuple[tuple[int, int] | None, CellFact, int]:
    """The cell whose <c> tag starts at `start`: (row, col), its fact, end of the element."""
    tag_end = xml.find(b">", start)
    tag = xml[start:tag_end]
    m = _REF.search(tag)
    rc = (int(m[2]), col_number(m[1].decode())) if m else None
    t = _TYPE.search(tag)
    kind = t[1].decode() if t else "n"
    if tag.endswith(b"/"):
        return rc, CellFact(None, None, kind), tag_end + 1
    end = xml.find(b"</c>", tag_end)
    if end < 0:
        end = xml.find(b":c>", tag_end)
    body = xml[tag_end + 1 : end]
    formula: str | None = None
    f0 = body.find(b"<f")
    if f0 >= 0:
        f1 = body.find(b">", f0)
        if body[f1 - 1 : f1] == b"/":
            formula = ""
        else:
            f2 = body.find(b"</", f1)
            formula = html.unescape(body[f1 + 1 : f2].decode("utf-8", "replace"))
    cached: str | None = None
    v0 = body.find(b"<v")
    if v0 >= 0:
        v1 = body.find(b">", v0)
        if body[v1 - 1 : v1] != b"/":
            v2 = body.find(b"</", v1)
            cached = html.unescape(body[v1 + 1 : v2].decode("utf-8", "replace"))
    elif kind == "inlineStr":
        t0 = body.find(b"<t")
        if t0 >= 0:
            t1 = body.find(b">", t0)
            t2 = body.find(b"</", t1)
            cached = html.unescape(body[t1 + 1 : t2].decode("utf-8", "replace"))
    return rc, CellFact(formula, cached, kind), end + 4


def _positions(xml: bytes) -> list[int]:
    """Positions inside the <c> tags of formula cells and error cells."""
    out: list[int] = []
    needles = [b"<f>", b"<f ", b't="e"']
    if b":f>" in xml or b":f " in xml:  # a namespace prefix (rare writers): slower scan
        return [m.start() - 2 for m in _FORMULA_ANY.finditer(xml)] + _finds(xml, b't="e"', 0)
    for needle in needles:
        out += _finds(xml, needle, -1 if needle.startswith(b"<") else 0)
    return out


def _finds(xml: bytes, needle: bytes, shift: int) -> list[int]:
    out = []
    pos = xml.find(needle)
    while pos >= 0:
        out.append(pos + shift)
        pos = xml.find(needle, pos + 1)
    return out


_FORMULA_ANY = re.compile(rb"(?<=<)\w+:f[ >/]")


_FORMULA_CELL = re.compile(rb"<c ([^>]*)>(?:<f([^>]*)/>|<f([^>]*)>([^<]*)</f>)(?:<v>([^<]*)</v>)?")
_ERROR_CELL = re.compile(
    rb"<c ([^>]*\bt=\"e\"[^>]*)>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>"
)


@functools.lru_cache(maxsize=4096)
def _formula_text(raw: bytes) -> str:
    """Formula texts repeat across the returns of one template: unescape each once."""
    return _text(raw)


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def scan_sheet(xml: bytes) -> dict[tuple[int, int], CellFact]:
    """Every cell of a sheet that holds a formula or an error value, by (row, col)."""
    if b":f>" in xml or b":f " in xml or b":c " in xml:  # a namespace prefix: generic scan
        return _scan_generic(xml)
    out: dict[tuple[int, int], CellFact] = {}
    starts = {xml.rfind(b"<c ", 0, pos) for pos in _finds(xml, b"<f>", 0) + _finds(xml, b"<f ", 0)}
    for start in sorted(starts):
        m = _FORMULA_CELL.match(xml, start)
        if m is None:
            continue
        ref = _REF.search(m[1])
        if ref is None:
            continue
        t = _TYPE.search(m[1])
        formula = "" if m[4] is None else _formula_text(m[4])
        cached = None if m[5] is None else _text(m[5])
        out[(int(ref[2]), col_number(ref[1].decode()))] = CellFact(
            formula, cached, t[1].decode() if t else "n"
        )
    if b't="e"' in xml:
        for m in _ERROR_CELL.finditer(xml):
            ref = _REF.search(m[1])
            if ref is not None:
                rc = (int(ref[2]), col_number(ref[1].decode()))
                if rc not in out:
                    out[rc] = CellFact(None, _text(m[2]), "e")
    return out


def _scan_generic(xml: bytes) -> dict[tuple[int, int], CellFact]:
    out: dict[tuple[int, int], CellFact] = {}
    seen: set[int] = set()
    for pos in _positions(xml):
        start = _cell_start(xml, pos)
        if start < 0 or start in seen:
            continue
        seen.add(start)
        rc, fact, _end = _fact_at(xml, start)
        if rc is not None:
            out[rc] = fact
    return out


def cell_fact(xml: bytes, a1: str) -> CellFact | None:
    """The cell at `a1` (e.g. "G6"), or None when the sheet has no element for it."""
    pos = xml.find(b'r="%s"' % a1.encode())
    while pos >= 0:
        start = _cell_start(xml, pos)
        if start >= 0 and xml.find(b">", start) > pos:
            return _fact_at(xml, start)[1]
        pos = xml.find(b'r="%s"' % a1.encode(), pos + 1)
    return None


def sheet_xml(pkg: Package, sheet: str) -> bytes | None:
    part = pkg.sheets.get(sheet)
    return None if part is None else pkg.part(part)


_SI = re.compile(rb"<(?:\w+:)?si>(.*?)</(?:\w+:)?si>", re.S)
_T = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</")


def shared_string(pkg: Package, index: int) -> str | None:
    """The index-th shared string (for a text typed over a formula: the message shows it)."""
    if "xl/sharedStrings.xml" not in pkg.zip.NameToInfo:
        return None
    for i, m in enumerate(_SI.finditer(pkg.part("xl/sharedStrings.xml"))):
        if i == index:
            return html.unescape(b"".join(_T.findall(m[1])).decode("utf-8", "replace"))
    return None


# ------------------------------------------------------------------ the integrity facts
#
# A fresh build of the template with the workbook's block sizes says which cells must hold
# which formula, and what each formula yields on the inputs the workbook holds (the same
# Python mirrors that give a written workbook its cached results). Where the workbook's
# defined names sit exactly where that fresh build puts them (the usual case: rows inserted
# inside blocks only change block sizes), every formula cell is compared: presence, text and
# cached result. Otherwise only the named formula cells and the blocks' formula columns are
# located (through the names), and only the presence of their formulas is checked.

_STRING = re.compile(r'"(?:[^"]|"")*"')
_SHEET_QUOTE = re.compile(r"'((?:[^']|'')+)'!")
_A1 = re.compile(
    r"(?:(?:'((?:[^']|'')+)'|([^\W\d][\w.]*))!)?\$?([A-Z]{1,3})\$?([0-9]+)"
    r"(?::\$?([A-Z]{1,3})\$?([0-9]+))?(?![\w(])"
)
_CENT = Decimal("0.01")
LKey = tuple[str, int, str]  # layout sheet, row, column letter (the writer's keys)


@functools.lru_cache(maxsize=8192)
def normal_formula(text: str) -> str:
    """A formula as compared with the template's: no '=', no _xlfn. prefixes, no spaces or
    sheet-name quotes outside strings, upper case outside strings."""
    text = text.strip().removeprefix("=")
    parts = []
    last = 0
    for m in _STRING.finditer(text):
        parts.append(_normal_code(text[last : m.start()]))
        parts.append(m[0])
        last = m.end()
    parts.append(_normal_code(text[last:]))
    return "".join(parts)


def _normal_code(code: str) -> str:
    code = re.sub(r"_xl(?:fn|ws)\.", "", code, flags=re.I)
    code = _SHEET_QUOTE.sub(lambda m: m[1].replace("''", "'") + "!", code)
    code = re.sub(r"\s+", "", code).upper()
    return re.sub(r"\b(TRUE|FALSE)\(\)", r"\1", code)  # LibreOffice writes FALSE as FALSE()


@dataclass(frozen=True)
class _Rect:
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    def holds(self, sheet: str, row: int, col: int) -> bool:
        return sheet == self.sheet and self.r1 <= row <= self.r2 and self.c1 <= col <= self.c2


@functools.lru_cache(maxsize=8192)  # the same row formulas recur in every file of a batch
def _refs(text: str, own_sheet: str) -> tuple[_Rect, ...]:
    """The rectangles a formula reads (string literals ignored)."""
    code = _STRING.sub('""', text)
    out = []
    for m in _A1.finditer(code):
        sheet = (m[1] or "").replace("''", "'") or m[2] or own_sheet
        r1, c1 = int(m[4]), col_number(m[3])
        r2, c2 = (int(m[6]), col_number(m[5])) if m[5] else (r1, c1)
        out.append(_Rect(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return tuple(out)


@dataclass(frozen=True)
class _Spot:
    """A template formula cell: where the fresh build puts it, what it is."""

    key: LKey
    text: str
    label: str
    name: str | None  # its defined name, or the block's
    block: str | None  # the block it belongs to (located by offset when names moved)
    offset: int  # rows below the block's first row
    refs: tuple[_Rect, ...]
    mirror: Any  # FCell, or None for the 审核 banner (no Python mirror here)


@dataclass(frozen=True)
class _Prepared:
    """A plan's formula cells and input cells, prepared once per template shape."""

    spots: tuple[_Spot, ...]
    inputs: tuple[tuple[LKey, str], ...]  # input cells and their kind
    names: dict[str, tuple[str, int, int]]  # defined name → layout (sheet, row, col)


_PREPARED: dict[int, tuple[object, _Prepared]] = {}


def _prepare(plan: Any) -> _Prepared:
    return by_identity(_PREPARED, 256, id(plan), plan, lambda: _prepared(plan))


def _prepared(plan: Any) -> _Prepared:
    from .formulas import block_rows, digits, letters

    layout = plan.layout
    named: dict[LKey, tuple[str, str]] = {}
    names: dict[str, tuple[str, int, int]] = {}
    inputs: list[tuple[LKey, str]] = []
    for c in layout.cells:
        key = (c.sheet, digits(c.ref), letters(c.ref))
        names[c.name] = (c.sheet, key[1], col_number(key[2]))
        if c.role == "formula":
            named[key] = (c.name, c.label or c.name)
        elif c.role == "input":
            inputs.append((key, c.kind))
    in_block: dict[LKey, tuple[str, str, int]] = {}
    for b in layout.blocks:
        names[b.name] = (b.sheet, b.first_row, col_number(b.columns[0].letter))
        for r in block_rows(b):
            for col in b.columns:
                key = (b.sheet, r, col.letter)
                if col.role == "formula":
                    in_block[key] = (b.name, col.header, r - b.first_row)
                elif col.role == "input":
                    inputs.append((key, col.kind))
    spots = []
    mirrored = {id(fc) for fc in plan.fcells}
    for fc in [*plan.fcells, *plan.banner]:
        key = (fc.sheet, fc.row, fc.col)
        name, block, label, off = None, None, "公式", 0
        if key in named:
            name, label = named[key]
        elif key in in_block:
            block, label, off = in_block[key]
            name = block
        mirror = fc if id(fc) in mirrored else None
        spots.append(_Spot(key, fc.text, label, name, block, off, _refs(fc.text, fc.sheet), mirror))
    return _Prepared(tuple(spots), tuple(inputs), names)


def _sizes(pkg: Package, profile: Any) -> tuple[Any, int, int]:
    """The block sizes of the workbook (rows per 二级, project and income rows)."""
    from .layout import (
        DEFAULT_INCOME_ROWS,
        DEFAULT_PROJECT_ROWS,
        DEFAULT_ROWS_PER_GROUP,
        layout_for,
    )

    def rows(name: str) -> int | None:
        text = pkg.names.get(name, pkg.local_names.get(name))
        area = parse_ref(text) if text else None
        return None if area is None else area.last_row - area.row + 1

    if profile.kind == "project":
        per: dict[str, int] = {}
        for b in layout_for(profile).blocks:
            n = rows(b.name)
            per[b.fixed["code"]] = n if n is not None else DEFAULT_ROWS_PER_GROUP
        return per, DEFAULT_PROJECT_ROWS, DEFAULT_INCOME_ROWS
    return (
        DEFAULT_ROWS_PER_GROUP,
        rows("pf_projects") or DEFAULT_PROJECT_ROWS,
        rows("pf_income") or DEFAULT_INCOME_ROWS,
    )


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return (
            Decimal(format(v, ".15g"))
            if v == v and v not in (float("inf"), -float("inf"))
            else None
        )
    return None


def _plain(v: Any) -> Any:
    """A value as compared: numbers as Decimal, blank as None, text stripped."""
    t = type(v)  # the common types first: a large list compares tens of thousands of cells
    if t is str:
        return v.strip() or None
    if t is Decimal or v is None:
        return v
    if v == "":
        return None
    n = _number(v)
    if n is not None:
        return n
    if isinstance(v, str):
        return v.strip() or None
    return v if isinstance(v, bool) else str(v)


def _cached(fact: CellFact) -> Any:
    """A formula cell's stored result (None for blank/no result); errors are handled apart."""
    if fact.cached is None or fact.cached == "":
        return None
    if fact.type in ("n", ""):
        try:
            return Decimal(format(float(fact.cached), ".15g"))
        except ValueError:
            return fact.cached
    if fact.type == "b":
        return fact.cached.strip() in ("1", "true", "TRUE")
    return fact.cached.strip() or None


def _same(a: Any, b: Any) -> bool:
    return _same_plain(_plain(a), _plain(b))


def _same_plain(a: Any, b: Any) -> bool:
    """_same of two values already made plain."""
    if a is None and b is None:
        return True
    if a in (None, "—") and b in (None, "—"):
        return a == b or (a is None and b is None)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a.quantize(_CENT, ROUND_HALF_UP) == b.quantize(_CENT, ROUND_HALF_UP)
    return a == b


def _shown(v: Any) -> str:
    v = _plain(v)
    if v is None:
        return "（空）"
    if isinstance(v, Decimal):
        return format(v, "f")
    return f"「{v}」" if isinstance(v, str) else str(v)


def _field_value(v: Any) -> Any:
    """A mirror's value as the model holds the field: "" and "—" are no value."""
    v = _plain(v)
    return None if v in (None, "—") else v


class _Inspector:
    def __init__(self, pkg: Package, filing: Any, profile: Any, notes: list[Any]) -> None:
        from ..rules.integrity import WorkbookFacts
        from .cells import formula_cells

        self.pkg, self.filing, self.profile, self.notes = pkg, filing, profile, notes
        self.facts = WorkbookFacts(pkg.file)
        self.plan = formula_cells(profile, *_sizes(pkg, profile))
        self.prep = _prepare(self.plan)
        self.where_path = {(s.sheet, s.cell): p for p, s in filing.sources.items()}
        # rows of the lists that hold something (the reader skips blank rows)
        self.filled = {
            (s.sheet, int(s.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
            for p, s in filing.sources.items()
            if s.sheet and s.cell and p.split(".", 1)[0] in ("indicators", "projects", "finance")
        }
        self.sheet_map: dict[str, str] = {}
        self.aligned = self._align()
        self.xml: dict[str, bytes] = {}
        self.scans: dict[str, dict[tuple[int, int], CellFact]] = {}

    # -- where things are -----------------------------------------------------------------
    def _area(self, name: str) -> Any:
        text = self.pkg.names.get(name, self.pkg.local_names.get(name))
        return parse_ref(text) if text else None

    def _align(self) -> bool:
        aligned = True
        for name, (sheet, row, col) in self.prep.names.items():
            a = self._area(name)
            if a is None:
                aligned = False
                continue
            self.sheet_map.setdefault(sheet, a.sheet)
            if (a.row, a.col) != (row, col) or self.sheet_map[sheet] != a.sheet:
                aligned = False
        return aligned and all(s in self.pkg.sheets for s in self.sheet_map.values())

    def locate(self, spot: _Spot) -> tuple[str, int, int] | None:
        """Where a template formula cell is in this workbook, or None if it can't be told."""
        sheet, row, letter = spot.key
        if self.aligned:
            return self.sheet_map[sheet], row, col_number(letter)
        if spot.name is None:
            return None
        a = self._area(spot.name)
        if a is None or a.sheet not in self.pkg.sheets:
            return None
        if spot.block is None:
            return a.sheet, a.row, a.col
        first_col = self.prep.names[spot.block][2]
        row = a.row + spot.offset
        return (a.sheet, row, a.col + col_number(letter) - first_col) if row <= a.last_row else None

    def scan(self, sheet: str) -> dict[tuple[int, int], CellFact]:
        got = self.scans.get(sheet)
        if got is None:
            xml = sheet_xml(self.pkg, sheet) or b""
            self.xml[sheet] = xml
            got = self.scans[sheet] = scan_sheet(xml)
        return got

    def issue(self, code: str, sheet: str, row: int, col: int, message: str, **kw: Any) -> None:
        from ..rules.integrity import CellIssue

        a1 = f"{col_letter(col)}{row}"
        path = self.where_path.get((sheet, a1)) or kw.pop("name", None) or f"{sheet}!{a1}"
        self.facts.add(code, CellIssue(sheet, a1, path, message, **kw))

    def typed(self, sheet: str, row: int, col: int) -> Any:
        """What a cell without its formula holds now (for the message)."""
        fact = cell_fact(self.xml[sheet], f"{col_letter(col)}{row}")
        if fact is None or fact.cached is None:
            return None
        if fact.type == "s":
            try:
                return shared_string(self.pkg, int(fact.cached))
            except ValueError:
                return None
        return _cached(fact)

    # -- the checks -----------------------------------------------------------------------
    def run(self) -> tuple[Any, Any]:
        from ..rules import integrity as I

        located = [(spot, self.locate(spot)) for spot in self.prep.spots]
        template_cells = {loc for _, loc in located if loc is not None}
        for sheet in {s for s in self.sheet_map.values() if s in self.pkg.sheets}:
            self.scan(sheet)
        missing: dict[LKey, Any] = {}
        present: list[tuple[_Spot, tuple[str, int, int], CellFact]] = []
        for spot, loc in located:
            if loc is None:
                continue
            sheet, row, col = loc
            fact = self.scan(sheet).get((row, col))
            if fact is None or fact.formula is None:
                typed = self.typed(sheet, row, col) if fact is None else _cached(fact)
                if typed is None and spot.block is not None and (sheet, row) not in self.filled:
                    continue  # a blank row inserted into a block: nothing to compute there
                missing[spot.key] = typed
                what = "被清空" if typed is None else f"改填了 {_shown(typed)}"
                self.issue(
                    I.FORMULA, sheet, row, col,
                    f"{spot.label}应为公式，现{what}：公式被覆盖后不再随填报内容更新，"
                    "请撤销修改或从模板复制该单元格恢复公式",
                    name=spot.name, expected="公式", actual=typed,
                )  # fmt: skip
                continue
            present.append((spot, loc, fact))
            if (
                self.aligned
                and fact.formula
                and (normal_formula(fact.formula) != normal_formula(spot.text))
            ):
                self.issue(
                    I.FORMULA_EDITED, sheet, row, col,
                    f"{spot.label}的公式与模板不同（被改写过）：请从模板复制该单元格恢复公式",
                    name=spot.name, expected="=" + spot.text, actual="=" + fact.formula,
                )  # fmt: skip
        errors = self.errors(template_cells)
        self.helpers_present(present)
        filing = self.filing
        if self.aligned:
            filing = self.stale(present, missing, errors)
        self.read_notes()
        return filing, self.facts

    def helpers_present(self, present: list) -> None:
        """The reader notes a 项目支出明细 row whose hidden helpers show no number (a row
        inserted inside the list has no formula there); where the template's formula is in
        fact there (a file saved without calculating), the note goes: the formula counts."""
        helpers = {
            path
            for _spot, (sheet, row, col), _fact in present
            if (path := self.where_path.get((sheet, f"{col_letter(col)}{row}")))
            and path.rsplit(".", 1)[-1] in PROJECT_FLAG_COLUMNS
        }
        if helpers:
            sources = {k: v for k, v in self.filing.sources.items() if k not in helpers}
            self.filing = self.filing.model_copy(update={"sources": sources})
            self.where_path = {(s.sheet, s.cell): p for p, s in sources.items()}

    def errors(self, template_cells: set[tuple[str, int, int]]) -> set[LKey]:
        """Excel error values: those typed or computed outside the template's formulas are
        the cause; template formulas showing an error because of them are not repeated."""
        from ..rules import integrity as I

        found = [
            (sheet, rc, fact.cached or "#错误")
            for sheet, scan in self.scans.items()
            for rc, fact in scan.items()
            if fact.type == "e"
        ]
        origins = [e for e in found if (e[0], *e[1]) not in template_cells]
        shown = origins or found
        knock_on = len(found) - len(shown)
        back = {v: k for k, v in self.sheet_map.items()}
        for sheet, (row, col), err in sorted(shown):
            cause = (
                "（所填公式出错）：请改填数值"
                if origins
                else "（模板公式出错，可能引用的单元格被删除或填入了不能计算的内容）：请恢复公式并检查所引用的单元格"
            )
            more = f"；由此另有 {knock_on} 个公式单元格显示错误值" if knock_on else ""
            self.issue(
                I.ERROR_VALUE, sheet, row, col,
                f"单元格显示错误值 {err}{cause}{more}", expected="数值或文字", actual=err,
            )  # fmt: skip
        return {(back[s], r, col_letter(c)) for s, (r, c), _ in found if s in back}

    def raw_inputs(self) -> dict[LKey, Any]:
        grids: dict[str, tuple[list[list[Any]], int, int]] = {}
        out: dict[LKey, Any] = {}
        for key, _kind in self.prep.inputs:
            sheet = self.sheet_map[key[0]]
            if sheet not in grids:
                got = self.pkg.grid(sheet)
                r0, c0 = got[1] or (0, 0)
                grids[sheet] = (got[0], r0, c0)
            rows, r0, c0 = grids[sheet]
            r, c = key[1] - 1 - r0, col_number(key[2]) - 1 - c0
            v = rows[r][c] if 0 <= r < len(rows) and 0 <= c < len(rows[r]) else None
            out[key] = _plain(v)
        return out

    def stale(self, present: list, missing: dict[LKey, Any], errors: set[LKey]) -> Any:
        """Cached results against the Python mirrors of the template's formulas."""
        from ..errors import InputError
        from ..rules import integrity as I
        from ..scoring import score
        from .cells import Ctx, _constants, place

        try:
            placed = place(self.plan.layout, self.filing)
        except (InputError, ValueError):  # a filing the fresh template cannot hold: no judging
            return self.filing
        dirty: set[LKey] = set(missing) | errors
        raw = self.raw_inputs()
        for key, _kind in self.prep.inputs:
            got, put = raw.get(key), _plain(placed.inputs.get(key))  # raw ones are plain
            if not _same_plain(got, put) or (got is None) != (put is None):
                dirty.add(key)
        spots = [s for s in self.prep.spots if s.mirror is not None]
        changed = True
        while (
            changed
        ):  # a formula reading a dirty cell is dirty (template order is not topological)
            changed = False
            for s in spots:
                if s.key in dirty:
                    continue
                if any(r.holds(k[0], k[1], col_number(k[2])) for k in dirty for r in s.refs):
                    dirty.add(s.key)
                    changed = True
        ctx = Ctx(placed, score(placed.filing, self.profile))
        _constants(self.plan, ctx)
        want: dict[LKey, Any] = {}
        for s in spots:
            if s.key in missing:
                ctx.values[s.key] = missing[s.key]
                continue
            try:
                v = s.mirror.value(ctx)
            except Exception:  # a mirror that cannot compute here: do not judge its cell
                dirty.add(s.key)
                continue
            ctx.values[s.key] = want[s.key] = v
        updates: dict[str, Any] = {}
        stale: list[tuple[_Spot, str, int, int, Any, Any]] = []
        for spot, (sheet, row, col), fact in present:
            if spot.mirror is None or spot.key in dirty or spot.key not in want:
                continue
            if fact.type == "e" or fact.type == "s":
                continue
            got, expected = _cached(fact), want[spot.key]
            if _same(got, expected):
                continue
            stale.append((spot, sheet, row, col, got, expected))
            path = self.where_path.get((sheet, f"{col_letter(col)}{row}"))
            if path is not None:
                updates[path] = _field_value(expected)
        never = len(stale) > 1 and all(got is None for *_, got, _e in stale)
        if never:  # saved by a program that does not calculate: one finding, not one per cell
            spot, sheet, row, col, got, expected = stale[0]
            self.issue(
                I.STALE, sheet, row, col,
                f"文件中的公式没有计算结果（{len(stale)} 个公式单元格为空，如{spot.label}应为 "
                f"{_shown(expected)}），文件由不计算公式的程序保存：请在 Excel 或 WPS 中打开、"
                "重新计算后保存；审核按复算结果进行",
                name=spot.name, expected=_plain(expected), actual=None,
            )  # fmt: skip
        for spot, sheet, row, col, got, expected in [] if never else stale:
            self.issue(
                I.STALE, sheet, row, col,
                f"{spot.label}保存的计算结果为 {_shown(got)}，按表中填报内容应为 {_shown(expected)}"
                "（文件保存时没有重新计算）：请在 Excel 或 WPS 中打开、重新计算后保存；"
                f"审核按 {_shown(expected)} 进行",
                name=spot.name, expected=_plain(expected), actual=got,
            )  # fmt: skip
        if not updates:
            return self.filing
        self.facts.recalculated = sorted(updates)
        return _with_values(self.filing, updates)

    def read_notes(self) -> None:
        """The reader's notes that carry a rule code become that rule's findings (what could
        not be read is INTEG-CELL-VALUE, what was guessed INTEG-READ-NOTE); the others are
        judged by the catalogue's own rules on the cells as the workbook holds them."""
        for note in self.notes:
            if note.code is None:
                continue
            m = _PLACE.match(note.place or "")
            if m is None:
                continue
            sheet, a1, name = m[1], m[2], m[3]
            row, col = int(re.sub(r"[A-Z]", "", a1)), col_number(re.sub(r"[0-9]", "", a1))
            self.issue(note.code, sheet, row, col, note.message, name=name)


_PLACE = re.compile(r"^(.+)!([A-Z]{1,3}[0-9]+)(?:（(.+)）)?$")


def _with_values(filing: Any, updates: dict[str, Any]) -> Any:
    """A copy of the filing with some (computed) fields replaced."""
    data = filing.model_dump(mode="python")
    for path, value in updates.items():
        parts = path.split(".")
        d: Any = data
        for p in parts[:-1]:
            d = d[int(p)] if isinstance(d, list) else d[p]
        d[parts[-1]] = value
    return type(filing).model_validate(data)


def inspect_workbook(path: Path, filing: Any, profile: Any, notes: list[Any]) -> tuple[Any, Any]:
    """(the filing to check, WorkbookFacts) of a workbook already read into `filing`.

    The filing is the one read, except that formula cells whose stored result is stale (or
    missing) are given the value the formula yields on the workbook's inputs, as Excel will
    show it once recalculated; the stale cells are reported (INTEG-STALE)."""
    pkg = open_package(Path(path))
    try:
        return inspect_package(pkg, filing, profile, notes)
    finally:
        pkg.zip.close()


def inspect_package(pkg: Package, filing: Any, profile: Any, notes: list[Any]) -> tuple[Any, Any]:
    """inspect_workbook on a package already opened (and read: its value reader is shared)."""
    return _Inspector(pkg, filing, profile, notes).run()
