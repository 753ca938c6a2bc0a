"""One file never stops a batch: whatever goes wrong with it becomes that file's refusal.

A batch (`perfxl check` over hundreds of returns, `distribute` over a master table) turns
every exception raised while handling one file into a Chinese problem naming that file and
carries on with the next. Only an interruption (Ctrl-C) stops the batch.
"""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Iterator
from pathlib import Path

from .atomic import describe_os_error
from .errors import InputError, Problem

_DETAIL_MAX = 200
_IO_CODE = re.compile(r"\bIO_(E[A-Z]+)\b")


def failure(file: Path | str, exc: BaseException) -> Problem:
    """The Chinese problem for an exception raised while handling `file`."""
    file = str(file)
    io_code = _IO_CODE.search(str(exc)) if not isinstance(exc, OSError) else None
    if io_code is not None and isinstance(getattr(errno, io_code[1], None), int):
        # lxml (under openpyxl) reports a failed write as "IO_ENOSPC", not as an OSError
        exc = OSError(getattr(errno, io_code[1]), io_code[1], file)
    if isinstance(exc, OSError):
        p = describe_os_error(exc)
        where = p.file if p.file and p.file != file else ""
        return Problem(file, where, p.message)
    if isinstance(exc, MemoryError):
        return Problem(
            file, "", "处理该文件时内存不足：文件可能异常（如含有过多或过远的单元格），已跳过"
        )
    if isinstance(exc, RecursionError):
        return Problem(
            file, "", "文件的结构嵌套过深，不像一份自评表（可能是异常或恶意文件），已跳过"
        )
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > _DETAIL_MAX:
        detail = detail[:_DETAIL_MAX] + "…"
    return Problem(
        file,
        "",
        f"无法处理该文件（{detail}），已跳过：文件可能异常或已损坏，请重新保存后再提交；"
        "若文件本身无误，这是 perfxl 的缺陷，请把文件反馈给维护者",
    )


@contextlib.contextmanager
def per_file(file: Path | str) -> Iterator[None]:
    """Turn any exception but InputError and an interruption into an InputError for `file`."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        raise InputError(failure(file, exc)) from exc


__all__ = ["failure", "per_file"]
