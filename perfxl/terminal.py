"""Text from files, shown on a terminal: never markup, never control sequences.

Cell text, file names and messages that quote them are the sender's, and a sender may write
`[/b]` (Rich markup, which would raise an error or restyle the output) or an escape
sequence (which would move the cursor, clear the screen or retitle the window). Both are
shown literally: markup is escaped, control characters become visible `\\xNN` codes.
"""

from __future__ import annotations

import re
import unicodedata

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


def aligned(rows: list[list[str]], indent: str = "  ", gap: int = 2) -> list[str]:
    """Rows of cells as lines with aligned columns (the last column is not padded).

    Plain text, for output that is not a terminal: a log, a pipe, a file."""
    if not rows:
        return []
    cols = max(len(r) for r in rows)
    widths = [max((width(r[i]) for r in rows if i < len(r)), default=0) for i in range(cols)]
    lines = []
    for r in rows:
        cells = [
            c + " " * (widths[i] - width(c) + gap) if i < len(r) - 1 else c for i, c in enumerate(r)
        ]
        lines.append(indent + "".join(cells))
    return lines


__all__ = ["aligned", "clean", "safe", "width"]
