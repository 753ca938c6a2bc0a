"""Text from files, shown on a terminal: never markup, never control sequences.

Cell text, file names and messages that quote them are the sender's, and a sender may write
`[/b]` (Rich markup, which would raise an error or restyle the output) or an escape
sequence (which would move the cursor, clear the screen or retitle the window). Both are
shown literally: markup is escaped, control characters become visible `\\xNN` codes.
"""

from __future__ import annotations

import re

from rich.markup import escape

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
    return escape(clean(text))


__all__ = ["clean", "safe"]
