"""Atomic output: a crash never leaves a half-written file, and inputs are never overwritten."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, Problem


@contextlib.contextmanager
def atomic_path(target: Path, *, inputs: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the block succeeds."""
    target = Path(target)
    for src in inputs:
        if src.exists() and target.exists() and os.path.samefile(src, target):
            raise InputError(Problem(str(target), "", "输出文件不能与输入文件相同（不修改原文件）"))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: Path, text: str, *, inputs: tuple[Path, ...] = ()) -> None:
    with atomic_path(target, inputs=inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
