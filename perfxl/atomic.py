"""Atomic output: a crash never leaves a half-written file, and inputs are never overwritten.

Files are written to a temporary name beside the target and moved into place when complete.
The temporary name stays within the file system's byte limit (255 bytes on most Linux file
systems, whatever the characters), the finished file gets the permissions the user's umask
gives any new file (not the 0600 of a private temporary file), and an interruption (Ctrl-C)
removes the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import InputError, Problem

NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs; NTFS counts 255 UTF-16 units)
_TMP_STEM_MAX = 120  # bytes of the target's name kept in a temporary name


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new document gets under the user's umask (0644 with the usual 022)."""
    return 0o666 & ~_umask()


def name_fits(name: str, limit: int = NAME_MAX) -> bool:
    return len(os.fsencode(name)) <= limit


def clip_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(target: Path, inputs: Iterable[Path | str | None]) -> None:
    """Refuse to write `target` when it is (the same file as) any path the command reads."""
    target = Path(target)
    for src in inputs:
        if src is None:
            continue
        src = Path(src)
        if _same(src, target) or (
            not target.exists() and os.path.abspath(src) == os.path.abspath(target)
        ):
            raise InputError(
                Problem(
                    str(target), "", f"输出文件不能与输入文件相同（不修改原文件）：{src} 是输入"
                )
            )


@contextlib.contextmanager
def atomic_path(target: Path, *, inputs: Iterable[Path | str | None] = ()) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the block succeeds."""
    target = Path(target)
    refuse_inputs(target, inputs)
    if not name_fits(target.name):
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = "." + clip_bytes(target.name, _TMP_STEM_MAX) + "."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, file_mode())
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_text(
    target: Path, text: str, *, inputs: Iterable[Path | str | None] = (), encoding: str = "utf-8"
) -> None:
    with atomic_path(target, inputs=inputs) as tmp:
        tmp.write_text(text, encoding=encoding)


_OS_REASONS = {
    errno.EROFS: "所在的磁盘或文件夹是只读的",
    errno.ENOSPC: "磁盘空间已满",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EFBIG: "文件超过了系统允许的大小",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限（操作不被允许）",
    errno.ENAMETOOLONG: "文件名过长（文件系统限制为 255 字节，一个汉字占 3 字节）",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中的某一级不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.EEXIST: "文件已存在",
    errno.EBUSY: "文件正被其他程序使用",
    errno.ETXTBSY: "文件正被其他程序使用",
    errno.EMFILE: "同时打开的文件过多",
    errno.EIO: "磁盘读写错误",
    errno.ELOOP: "路径中的符号链接过多（可能成环）",
}


def describe_os_error(exc: OSError) -> Problem:
    """A Chinese explanation of an operating-system error, naming the file it concerns."""
    where = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        where = f"{where} → {exc.filename2}"
    reason = _OS_REASONS.get(exc.errno or -1)
    if reason is None:
        detail = exc.strerror or type(exc).__name__
        reason = f"操作系统报告错误（{detail}）"
    hint = {
        errno.EROFS: "：请换一个可写的输出位置（-o）",
        errno.ENOSPC: "：请清理磁盘空间或换一个输出位置",
        errno.EDQUOT: "：请清理空间或换一个输出位置",
        errno.EACCES: "：请检查文件和文件夹的权限，或换一个输出位置",
        errno.EPERM: "：请检查文件和文件夹的权限，或换一个输出位置",
        errno.ENAMETOOLONG: "：请缩短文件名或文件名样式（--name）",
    }.get(exc.errno or -1, "")
    return Problem(str(where), "", reason + hint)


__all__ = [
    "NAME_MAX",
    "atomic_path",
    "clip_bytes",
    "describe_os_error",
    "file_mode",
    "name_fits",
    "refuse_inputs",
    "write_text",
]
