"""Bridge to LibreOffice headless: recalculate, re-save, PDF-export and macro-run workbooks.

Excel files written by Python libraries carry no (or stale) cached formula results, and units
open our workbooks in WPS/LibreOffice/Excel. LibreOffice is the only engine we can run on a
server to reproduce what they will see, so this module drives one headless ``soffice``.

``uno`` is importable only from the distro's Python, not from the project venv, so an
:class:`Office` runs two processes: soffice itself (private profile, named pipe) and
``_uno_worker.py`` under that system Python, holding one UNO connection and answering JSON
lines on stdin/stdout. Start-up costs one to two seconds; each later small file ~0.1 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

StrPath = str | os.PathLike[str]

__all__ = ["Office", "OfficeError", "find_soffice", "recalculate", "to_pdf"]

UNO_PYTHON = os.environ.get("PERFXL_UNO_PYTHON", "/usr/bin/python3")
_WORKER = Path(__file__).with_name("_uno_worker.py")
_MISSING = "未找到 LibreOffice（soffice），请先运行 scripts/setup-system.sh 安装"
_CANDIDATES = (
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
)


class OfficeError(Exception):
    """LibreOffice is missing, failed, or timed out; the message is Chinese with English."""


def find_soffice() -> str | None:
    """Path of the soffice executable (``$PERFXL_SOFFICE`` first), or None."""
    env = os.environ.get("PERFXL_SOFFICE")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    return found or next((c for c in _CANDIDATES if os.access(c, os.X_OK)), None)


class Office:
    """One headless LibreOffice plus one UNO worker, reused for many files.

    Use as a context manager (methods also start it lazily). A request that exceeds ``timeout`` seconds kills both
    processes and raises :class:`OfficeError`; the next request starts them again, so one
    bad file does not end a batch. ``dst`` is always written atomically and ``src`` is
    opened read-only, never modified.
    """

    def __init__(self, *, timeout: float = 120.0, start_timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._soffice: subprocess.Popen[bytes] | None = None
        self._worker: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._buf = b""
        self._seq = 0

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Office:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start soffice and the worker unless running; waits until UNO answers."""
        if self._worker is not None and self._soffice is not None:
            if self._worker.poll() is None and self._soffice.poll() is None:
                return
            self.close(kill=True)  # one of them died since the last request: start afresh
        soffice = find_soffice()
        if soffice is None:
            raise OfficeError(f"{_MISSING} (LibreOffice not found)")
        if not os.access(UNO_PYTHON, os.X_OK):
            raise OfficeError(
                f"未找到带 uno 模块的 Python：{UNO_PYTHON}，请先运行 scripts/setup-system.sh"
                " (system Python with the uno module not found)"
            )
        self._tmp = Path(tempfile.mkdtemp(prefix="perfxl-office-"))
        pipe = f"perfxl_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        cmd = [
            soffice,
            f"-env:UserInstallation={(self._tmp / 'profile').as_uri()}",
            *("--headless", "--invisible", "--nologo", "--norestore", "--nodefault"),
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        try:
            with open(self._tmp / "soffice.log", "wb") as log:
                # own session so close() can signal soffice.bin behind the oosplash wrapper
                self._soffice = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
                )
            with open(self._tmp / "worker.log", "wb") as log:
                self._worker = subprocess.Popen(
                    [UNO_PYTHON, str(_WORKER), f"pipe,name={pipe}", str(self.start_timeout)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=env,
                )
            self._buf = b""
            self._readline(time.monotonic() + self.start_timeout + 5, "LibreOffice 启动超时")
        except BaseException:
            self.close(kill=True)
            raise

    def close(self, *, kill: bool = False) -> None:
        """Stop both processes (gracefully unless ``kill``) and delete the temp profile."""
        worker, soffice, tmp = self._worker, self._soffice, self._tmp
        self._worker = self._soffice = self._tmp = None
        if worker is not None:
            with contextlib.suppress(OSError):
                worker.stdin.close()  # type: ignore[union-attr]  # worker then terminates soffice
            _reap(worker, 5, group=False, hard=kill)
        if soffice is not None:
            _reap(soffice, 10, group=True, hard=kill)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- operations ------------------------------------------------------------------------
    def recalculate(self, src: StrPath, dst: StrPath) -> Path:
        """Load with macros disabled, ``calculateAll()``, store ``dst`` as .xlsx."""
        return self._run("recalculate", src, dst)

    def resave(self, src: StrPath, dst: StrPath) -> Path:
        """Open and save as .xlsx the way a unit's office suite round-trips our file.

        No extra recalculation is forced beyond what a user opening and saving gets, which in
        LibreOffice includes ``calculateAll()`` so cached values are fresh; numerically this
        equals :meth:`recalculate`. Use it to test survival of a foreign writer's round trip.
        """
        return self._run("resave", src, dst)

    def to_pdf(self, src: StrPath, dst: StrPath, sheets: list[str] | None = None) -> Path:
        """Recalculate, then export with ``calc_pdf_Export`` (macros disabled).

        Without the recalculation the PDF would print the file's stale cached values.
        ``sheets``: print only these (the others are removed from a private copy, never
        from src); None prints every visible sheet.
        """
        return self._run("to_pdf", src, dst, sheets=sheets)

    def run_macro(self, src: StrPath, dst: StrPath, macro_url: str) -> Path:
        """Open WITH macros enabled, run ``macro_url``, recalculate, store ``dst``.

        Only for our own templates in tests: it executes code from the file (including its
        on-load handlers). ``macro_url`` is a script URL, e.g. ``vnd.sun.star.script:Standard.
        Module1.Main?language=Basic&location=document``; VBA modules of an .xlsm live in the
        library ``VBAProject``. dst's extension picks the format (.xlsm -> "Calc MS Excel 2007
        VBA XML", keeping vbaProject.bin; .xlsx; .ods), else the source's own format.
        Headless LibreOffice dismisses MsgBox and silently aborts a macro on a Basic runtime
        error (no exception), so check the macro's effect in the output.
        """
        return self._run("run_macro", src, dst, macro_url)

    def edit(self, src: StrPath, dst: StrPath, edits: list[dict[str, Any]]) -> Path:
        """Open (macros disabled), make a user's edits as Calc makes them (inserted rows move
        names and references), recalculate, store ``dst``. For tests: a corpus edited the
        way units edit their workbooks."""
        return self._run("edit", src, dst, edits=edits)

    # -- plumbing --------------------------------------------------------------------------
    def _run(
        self,
        op: str,
        src: StrPath,
        dst: StrPath,
        macro: str = "",
        edits: list[dict[str, Any]] | None = None,
        sheets: list[str] | None = None,
    ) -> Path:
        s, d = Path(src).resolve(), Path(dst).absolute()
        if not s.is_file():
            raise OfficeError(f"源文件不存在：{s} (source file not found)")
        if s == d.resolve():
            raise OfficeError(f"输出文件不能覆盖源文件：{s} (dst must differ from src)")
        if not d.parent.is_dir():
            raise OfficeError(f"输出目录不存在：{d.parent} (output folder missing)")
        tmp = d.with_name(f".{d.stem}.{uuid.uuid4().hex[:8]}.tmp{d.suffix}")  # suffix: format
        private = None
        if op == "run_macro" or sheets:  # a writable private copy, never src
            private = Path(tempfile.mkdtemp(prefix="perfxl-macro-"))
            shutil.copyfile(s, private / s.name)
            req_src = private / s.name
        else:
            req_src = s
        req = {
            "op": op,
            "src": str(req_src),
            "dst": str(tmp),
            "macro": macro,
            "edits": edits,
            "sheets": sheets,
        }
        try:
            with self._lock:
                self.start()
                self._request(req, s)
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise OfficeError(f"LibreOffice 未能写出 {d.name} (no output written)")
            os.replace(tmp, d)
        finally:
            tmp.unlink(missing_ok=True)
            if private is not None:
                shutil.rmtree(private, ignore_errors=True)
        return d

    def _request(self, req: dict[str, Any], src: Path) -> None:
        assert self._worker is not None and self._worker.stdin is not None
        self._seq += 1
        req["id"] = self._seq
        try:
            self._worker.stdin.write(json.dumps(req, ensure_ascii=False).encode() + b"\n")
            self._worker.stdin.flush()
            line = self._readline(
                time.monotonic() + self.timeout,
                f"LibreOffice 处理文件 {src.name} 超时（{self.timeout:g} 秒）",
            )
            resp = json.loads(line)
        except OfficeError:
            self.close(kill=True)  # soffice may be wedged; restart on the next request
            raise
        except OSError as e:
            self.close(kill=True)
            raise OfficeError(f"LibreOffice 进程异常退出 (worker pipe broken: {e})") from e
        if not resp.get("ok"):
            if resp.get("fatal"):
                self.close(kill=True)
            raise OfficeError(f"LibreOffice 处理文件 {src.name} 失败 ({resp.get('error')})")

    def _readline(self, deadline: float, timeout_msg: str) -> bytes:
        """One line from the worker, or OfficeError on timeout / process death."""
        assert self._worker is not None and self._worker.stdout is not None
        fd = self._worker.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OfficeError(f"{timeout_msg} (LibreOffice timed out)")
                if not sel.select(min(left, 0.5)):
                    if self._soffice is not None and self._soffice.poll() is not None:
                        raise OfficeError(f"LibreOffice 意外退出 (soffice died){self._log()}")
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise OfficeError(f"LibreOffice 辅助进程退出 (UNO worker exited){self._log()}")
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def _log(self) -> str:
        if self._tmp is None:
            return ""
        tail = (self._tmp / "worker.log").read_bytes()[-600:].decode("utf-8", "replace").strip()
        return f": {tail}" if tail else ""


def _reap(proc: subprocess.Popen[bytes], grace: float, *, group: bool, hard: bool) -> None:
    """Wait ``grace`` s, then SIGTERM, then SIGKILL; ``hard`` kills at once (wedged soffice)."""

    def kill(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig) if group else proc.send_signal(sig)

    steps = [(0, grace), (signal.SIGTERM, 5.0)] if not hard else []
    for sig, wait in [*steps, (signal.SIGKILL, 5.0)]:
        if sig:
            kill(sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if group:
        kill(signal.SIGKILL)  # soffice.bin can outlive its oosplash wrapper
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def recalculate(src: StrPath, dst: StrPath, *, timeout: float = 120.0) -> Path:
    """One-off :meth:`Office.recalculate`; pays LibreOffice start-up each call."""
    with Office(timeout=timeout) as office:
        return office.recalculate(src, dst)


def to_pdf(
    src: StrPath, dst: StrPath, *, timeout: float = 120.0, sheets: list[str] | None = None
) -> Path:
    """One-off :meth:`Office.to_pdf`; pays LibreOffice start-up each call."""
    with Office(timeout=timeout) as office:
        return office.to_pdf(src, dst, sheets)
