"""Text from files, shown on a terminal: never markup, never control sequences.

Cell text, file names and messages that quote them are the sender's, and a sender may write
`[/b]` (Rich markup, which would raise an error or restyle the output) or an escape
sequence (which would move the cursor, clear the screen or retitle the window). Both are
shown literally: markup is escaped, control characters become visible `\\xNN` codes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that
# can make a line read differently from what it contains.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """`text` with control characters shown as codes (for output printed without markup)."""
    return _CONTROL.sub(_visible, str(text))


def safe(text: object) -> str:
    """`text` ready to embed in Rich markup: control characters shown, markup escaped."""
    from rich.markup import escape  # imported when a terminal is written to, not before

    return escape(clean(text))


def width(text: str) -> int:
    """Columns `text` takes on a terminal: a Chinese character takes two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def aligned(
    rows: list[list[str]], indent: str = "  ", gap: int = 2, right: frozenset[int] = frozenset()
) -> list[str]:
    """Rows of cells as lines with aligned columns (the last column is not padded; the
    columns in `right` are aligned to the right, as numbers are).

    Plain text, for output that is not a terminal: a log, a pipe, a file."""
    if not rows:
        return []
    cols = max(len(r) for r in rows)
    widths = [max((width(r[i]) for r in rows if i < len(r)), default=0) for i in range(cols)]
    lines = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - width(c))
            if i in right:
                c = pad + c
            elif i < len(r) - 1:
                c = c + pad
            cells.append(c + (" " * gap if i < len(r) - 1 else ""))
        lines.append(indent + "".join(cells))
    return lines


def _text(cell: object, markup: bool) -> str:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    if markup and isinstance(cell, str):
        return Text.from_markup(cell).plain
    return "" if cell is None else str(cell)


def table_text(table: Any, markup: bool = True) -> str:
    """A Rich table as plain aligned text: its title, a header line and every cell in full
    (never cut to a width: a pipe, a log or a script reads the whole value)."""
    headers = [_text(c.header, markup) for c in table.columns]
    columns = [[_text(x, markup) for x in c.cells] for c in table.columns]
    rows = [list(r) for r in zip(*columns, strict=True)]
    right = frozenset(i for i, c in enumerate(table.columns) if c.justify == "right")
    lines = [_text(table.title, markup)] if table.title else []
    lines += [line.rstrip() for line in aligned([headers, *rows], indent="", right=right)]
    return "\n".join(lines) + "\n"


def show_table(table: Any, console: Any = None, *, head: int = 1, markup: bool = True) -> None:
    """Print a Rich table so every value shows in full, whatever the terminal's width.

    Not a terminal: plain aligned text (table_text). A terminal wide enough: the table with
    its borders and colours. A narrower one: one block per row, the first `head` columns on
    a line and each other column below as 名称：值, wrapped at the terminal's full width
    rather than folded into a narrow column."""
    import sys

    if console is None:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        sys.stdout.write(table_text(table, markup))
        sys.stdout.flush()
        return
    from rich.measure import Measurement

    wide = console.options.update_width(1 << 20)  # the table's natural width, unclamped
    if Measurement.get(console, wide, table).maximum <= console.width:
        for column in table.columns:
            column.no_wrap = True
        console.print(table)
        return
    from rich.markup import escape

    headers = [_text(c.header, markup) for c in table.columns]
    columns = [list(c.cells) for c in table.columns]
    if table.title:
        console.print(f"[bold]{escape(_text(table.title, markup))}[/bold]")
    for row in zip(*columns, strict=True):
        first = "  ".join(escape(_text(x, markup)) for x in row[:head])
        console.print(f"[bold]{first}[/bold]", soft_wrap=True)
        for name, cell in zip(headers[head:], row[head:], strict=True):
            value = _text(cell, markup)
            if value:
                console.print(f"    {escape(name)}：{escape(value)}", soft_wrap=True)


__all__ = ["aligned", "clean", "safe", "show_table", "table_text", "width"]
