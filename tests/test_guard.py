"""The used-range guard: what a sheet part really holds, measured as it streams by in
chunks, equals the definition read whole (every `<c>` tag counted, every r="A1"
reference's column and row, every row that has cells), wherever the chunks end."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfxl.errors import InputError
from perfxl.workbook import guard
from perfxl.workbook.guard import Extent, col_number, scan_extent

# the definition, over the whole part at once
CELL_OPEN = (b"<c ", b"<c>", b"<c/", b":c ", b":c>", b"<c\t", b"<c\n", b"<c\r")
R_COL = re.compile(rb"r=\"\$?([A-Za-z]{1,3})\$?[0-9]")
R_ROW = re.compile(rb"r=\"\$?[A-Za-z]{1,3}\$?([0-9]{1,9})\"")
ROW_WITH_CELLS = re.compile(rb"<row\b[^<>]*?\sr=\"([0-9]{1,9})\"[^<>]*(?<!/)>\s*<(?:\w+:)?c[\s>/]")
ROW_R = re.compile(rb"<row\b[^<>]*?\sr=\"")


def span(values: set[bytes]) -> tuple[bytes, bytes]:
    order = sorted(values, key=lambda v: (len(v), v.upper()))
    return order[0], order[-1]


def defined(xml: bytes) -> Extent:
    cells = sum(xml.count(t) for t in CELL_OPEN)
    cols = R_COL.findall(xml)
    rows = set(R_ROW.findall(xml)) | set(ROW_WITH_CELLS.findall(xml))
    unplaced_rows = max(0, xml.count(b"<row ") + xml.count(b"<row>") - len(ROW_R.findall(xml)))
    if not cells:
        return Extent(0, 1, 1, 0, 0)
    c0, c1 = span(set(cols)) if cols else (b"A", b"A")
    # rows by number: "08" is row 8, below row 9
    r0, r1 = (min(int(r) for r in rows), max(int(r) for r in rows)) if rows else (1, 1)
    return Extent(
        cells,
        max(1, int(r0)),
        col_number(c0.decode()),
        max(1, int(r1)) + unplaced_rows,
        min(col_number(c1.decode()) + max(0, cells - len(cols)), 16_384),
    )


REF = st.builds(
    lambda d1, col, d2, row, q: f'r="{d1}{col}{d2}{row}{q}'.encode(),
    st.sampled_from(["", "$"]),
    st.text("ABCXYZabz", min_size=0, max_size=4),
    st.sampled_from(["", "$"]),
    st.text("0123456789", min_size=0, max_size=11),
    st.sampled_from(['"', "", "x"]),
)
PIECE = st.one_of(
    REF,
    st.sampled_from(
        [
            b"<c ", b"<c>", b"<c/>", b"<x:c ", b"<x:c>", b"<c\t", b"<c\n", b"<c\r", b":c/",
            b'<row r="7">', b"<row>", b'<row r="12" spans="1:3"/>', b"</row>", b"</c>",
            b"<rowBreaks>", b"<row\n", b"<row",
            b"<col ", b"<cols>", b'<cfRule type="x">', b"<v>1</v>", b" s=\"3\" ", b">", b"<",
            b'ref="A1:B2"', b"abc:c d", b"\n",
        ]
    ),
)  # fmt: skip


def measured(xml: bytes, chunk: int | None = None) -> Extent:
    """scan_extent of `xml` as a sheet part: read whole (as a part up to guard._KEEP is),
    or, given `chunk`, streamed in chunks of that many bytes (as a larger part is)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    pkg = guard.Package(Path("t.xlsx"), zipfile.ZipFile(buf), buf.getvalue(), {}, {})
    saved = guard._CHUNK, guard._KEEP
    if chunk:
        guard._CHUNK, guard._KEEP = chunk, -1
    try:
        got = scan_extent(pkg, "xl/worksheets/sheet1.xml")
    finally:
        guard._CHUNK, guard._KEEP = saved
    # read whole, the part is kept for the cell facts; streamed, nothing is kept
    assert pkg.parts == ({} if chunk else {"xl/worksheets/sheet1.xml": xml})
    return got


END = b"</sheetData></worksheet>"  # a part ends with its closing tags


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECE, max_size=40), st.integers(1, 64))
def test_any_content_measures_as_the_definition(pieces, chunk):
    """Read whole, or streamed in chunks of any size (down to one byte: no tag, reference
    or row-and-first-cell is ever split between the views measured)."""
    xml = b"".join(pieces) + END
    assert measured(xml) == defined(xml), xml
    assert measured(xml, chunk) == defined(xml), (chunk, xml)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 1_048_576), st.integers(0, 3), st.booleans()), max_size=12
    ),
    chunk=st.integers(40, 200),  # longer than any one tag, as a real chunk (1 MB) is
)
def test_chunk_boundaries_do_not_shrink_the_extent(rows, chunk):
    """Streamed in chunks, wherever the boundaries fall (between a row tag and its first
    cell too), the part measures as read whole: a far row is never missed."""
    xml = b"<sheetData>"
    for r, cells, placed in rows:
        refs = [f' r="B{r}"' if placed else "" for _ in range(cells)]
        xml += f'<row r="{r}">'.encode() + b"".join(f"<c{x}/>".encode() for x in refs)
        xml += b"</row>"
    xml += END
    assert measured(xml, chunk) == defined(xml), (chunk, xml)


def test_a_stray_far_cell_is_the_extent():
    xml = b'<sheetData><row r="1"><c r="A1"/></row><row r="1048576"><c r="XFD1048576"/></row>'
    assert measured(xml) == Extent(2, 1, 1, 1_048_576, 16_384)
    # cells written without r widen the rectangle by their number
    assert measured(b'<row><c r="B2"/><c/><c/></row>') == Extent(3, 2, 2, 3, 4)


FAR = b'<row r="1048576"><c r="XFD1048576" t="str"'


@pytest.mark.parametrize(
    ("tag", "close"),
    [
        (FAR, b'"/></row>'),
        (b'<row r="1048576" spans="1:1"', b'"><c/></row>'),
        (b'<row r="3"><c t="str"', b'" r="XFD1048576"/></row>'),  # the reference after it
    ],
)
@pytest.mark.parametrize("chunk", [100_000, 1 << 20])
def test_an_overlong_cell_or_row_tag_across_chunks_is_refused(tag, close, chunk):
    """A run longer than the carry between chunks is measured in pieces; a cell or row tag
    so long (no spreadsheet writes one) could lose its far reference, so it is refused."""
    xml = b'<sheetData><row r="1"><c r="A1"/></row>' + tag + b' x="' + b"j" * 1_500_000
    xml += close + END
    with pytest.raises(InputError) as err:
        measured(xml, chunk)
    assert "单元格或行标记" in err.value.problems[0].message
    assert defined(xml).last_row == 1_048_576  # what would otherwise have been missed


def test_a_long_text_across_chunks_measures_as_the_definition():
    """A formula or string longer than the carry is cut short: it holds nothing measured."""
    xml = b'<sheetData><row r="1"><c r="A1"><f>' + b"A" * 200_000 + b"</f></c></row>"
    xml += b'<row r="9"><c r="C9"/></row>' + END
    assert measured(xml, chunk=100_000) == defined(xml) == Extent(2, 1, 1, 9, 3)


def test_a_reference_split_by_a_chunk_boundary_inside_a_long_cell_tag_is_refused():
    """Crafted so that the far reference of a long cell tag straddles a chunk boundary: no
    view holds it whole. The tag is refused for its length, wherever its reference falls."""
    chunk = 100_000
    head = b'<sheetData><row r="1"><c r="A1"/></row>'
    head += b"<row/>" * ((chunk - 30 - len(head)) // 6)
    tag = b'<row r="3"><c t="str" x="'
    tail = b'" r="XFD1048576"/></row>'
    junk = b"j" * (2 * chunk - 5 - len(head) - len(tag))  # r=" ends at the boundary
    xml = head + tag + junk + tail + END
    assert xml.index(b'r="XFD') == 2 * chunk - 3
    with pytest.raises(InputError):
        measured(xml, chunk)
    assert defined(xml).last_row == 1_048_576
