"""`perfxl check` over many files: streamed, in parallel, the same results whatever --jobs.

Real subprocesses throughout: piped (plain text), through a pseudo-terminal (Rich), and
with a named pipe as the last input so a file's output is seen before the batch ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from perfxl.cli_check import _check_one
from perfxl.findings import reports_json
from perfxl.rules import Context

from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli


def _bad(tmp_path: Path) -> Path:
    text = PROJECT_EXAMPLE.read_text(encoding="utf-8").replace("grade: 优", "grade: 良")
    p = tmp_path / "不通过.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from perfxl.filing_io import load_filing
    from perfxl.profile import load_profile
    from perfxl.workbook.write import build_workbook

    folder = tmp_path_factory.mktemp("streaming")
    filing = load_filing(PROJECT_EXAMPLE)
    src = build_workbook(load_profile(filing.profile), folder / "源.xlsx", filing)
    paths = []
    for i in range(6):
        p = folder / f"{i:02d}.xlsx"
        shutil.copyfile(src, p)
        paths.append(p)
    return paths


def _batch(tmp_path: Path, workbooks: list[Path]) -> list[Path]:
    missing = tmp_path / "不存在.xlsx"
    return [PROJECT_EXAMPLE, *workbooks[:3], _bad(tmp_path), missing, WUHAN_EXAMPLE, *workbooks[3:]]


def test_json_is_the_same_document_for_any_jobs(tmp_path: Path, workbooks: list[Path]) -> None:
    files = _batch(tmp_path, workbooks)
    expected = json.dumps(
        reports_json([_check_one(p, None, Context()) for p in files]), ensure_ascii=False, indent=2
    )
    for jobs in ("1", "2", "3"):
        r = run_cli("check", *files, "--format", "json", "--jobs", jobs)
        assert r.returncode == 2, r.stderr  # one file is missing
        assert r.stdout == expected + "\n", jobs
        assert "不存在.xlsx" in r.stderr and "Traceback" not in r.stderr
        out = tmp_path / f"报告{jobs}.json"
        r = run_cli("check", *files, "--format", "json", "-j", jobs, "-o", out)
        assert r.returncode == 2 and "已写入" in r.stdout
        assert out.read_text(encoding="utf-8") == expected + "\n"


def test_jsonl_gives_a_line_per_file_then_the_summary(
    tmp_path: Path, workbooks: list[Path]
) -> None:
    files = _batch(tmp_path, workbooks)
    doc = json.loads(run_cli("check", *files, "--format", "json", "-j", "1").stdout)
    outs = []
    for jobs in ("1", "2"):
        r = run_cli("check", *files, "--format", "jsonl", "-j", jobs)
        assert r.returncode == 2
        outs.append(r.stdout)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        assert lines[:-1] == doc["files"]
        assert lines[-1] == {"format": doc["format"], "valid": False, "summary": doc["summary"]}
    assert outs[0] == outs[1]
    target = tmp_path / "报告.jsonl"
    r = run_cli("check", *files, "--format", "jsonl", "-o", target)
    assert target.read_text(encoding="utf-8") == outs[0]


def test_exit_codes_do_not_depend_on_jobs(tmp_path: Path, workbooks: list[Path]) -> None:
    for jobs in ("1", "2"):
        assert run_cli("check", PROJECT_EXAMPLE, WUHAN_EXAMPLE, "-j", jobs).returncode == 0
        assert run_cli("check", PROJECT_EXAMPLE, _bad(tmp_path), "-j", jobs).returncode == 1
        r = run_cli("check", _bad(tmp_path), tmp_path / "无.yaml", "-j", jobs)
        assert r.returncode == 2 and "无.yaml" in r.stderr


def test_piped_text_is_plain_and_aligned(tmp_path: Path, workbooks: list[Path]) -> None:
    files = _batch(tmp_path, workbooks)
    one = run_cli("check", *files, "-j", "1")
    two = run_cli("check", *files, "-j", "2")
    assert one.stdout == two.stdout and one.returncode == two.returncode == 2
    out = one.stdout
    assert "\x1b" not in out and "│" not in out and "┃" not in out  # no Rich on a pipe
    assert out.count("审核通过") + out.count("审核未通过") == len(files) - 1
    assert "无法审核" in out
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("  编码"))
    row = lines[head + 1]
    assert row.startswith("  COMP-EXPLAIN-OVER") or row.startswith("  ARITH")
    # the 级别 column starts at the same place in the header and the rows
    from perfxl.terminal import width

    col = width(lines[head][: lines[head].index("级别")])
    for line in lines[head + 1 : head + 3]:
        if not line.startswith("  ") or line.startswith("  无法"):
            break
        first = line.split()[0]
        assert width(line[: line.index(first) + len(first)]) < col


def test_text_on_a_terminal_uses_rich(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    # a terminal 160 columns wide (a pty starts at 0 × 0, which reads as a narrow terminal)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**os.environ, "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"}
    env.pop("PERFXL_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfxl", "check", str(PROJECT_EXAMPLE), "-j", "2"],
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            data = os.read(master, 65536)
        except OSError:  # the terminal closes when the command ends
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(60) == 0
    out = b"".join(chunks).decode("utf-8", errors="replace")
    assert "审核通过" in out and "COMP-EXPLAIN-OVER" in out
    # Rich on a terminal: styled (a table when it fits the width, else one block per finding,
    # each message whole)
    assert "\x1b[" in out
    assert "须说明偏离原因" in out


def test_each_file_is_printed_when_done(tmp_path: Path) -> None:
    """The last input is a named pipe that stays empty until the first file's line has been
    seen: the batch streams (and the -o file only appears, complete, at the end)."""
    fifo = tmp_path / "管道.yaml"
    os.mkfifo(fifo)
    target = tmp_path / "结果.jsonl"
    for jobs, output in (("1", None), ("2", None), ("2", target)):
        args = [sys.executable, "-m", "perfxl", "check", str(PROJECT_EXAMPLE), str(fifo)]
        args += ["--format", "jsonl", "-j", jobs] + (["-o", str(target)] if output else [])
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        feeder = threading.Thread(
            target=lambda: fifo.write_bytes(PROJECT_EXAMPLE.read_bytes()), daemon=True
        )
        if output is None:
            first = proc.stdout.readline()  # arrives while the pipe is still unwritten
            assert json.loads(first)["file"] == str(PROJECT_EXAMPLE)
            assert proc.poll() is None
        else:
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(".结果.jsonl.*.part")):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert not target.exists()  # written beside, moved into place at the end
        feeder.start()
        rest = proc.stdout.read()
        assert proc.wait(60) == 0
        feeder.join(10)
        if output is not None:
            lines = target.read_text(encoding="utf-8").splitlines()
            assert len(lines) == 3 and json.loads(lines[-1])["summary"]["files"] == 2
        else:
            assert json.loads(rest.splitlines()[-1])["valid"] is True


def test_annotated_copies_in_parallel(tmp_path: Path, workbooks: list[Path]) -> None:
    folder = tmp_path / "副本"
    r = run_cli(
        "check", *workbooks[:3], PROJECT_EXAMPLE, "--format", "xlsx", "-o", folder, "-j", "2"
    )
    assert r.returncode in (0, 1), r.stderr
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:02d}.审核.xlsx" for i in range(3)]
    assert r.stdout.count("标注副本已写入") == 3 and "不是工作簿" in r.stderr


def test_memory_is_flat_in_the_number_of_files(tmp_path: Path, workbooks: list[Path]) -> None:
    """The parent holds no report: 20 and 160 files peak within a few MiB of each other."""
    peaks = []
    for n in (20, 160):
        files = [str(workbooks[i % len(workbooks)]) for i in range(n)]
        out = tmp_path / f"{n}.json"
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfxl", "check", *files, "--format", "json", "-j", "1"],
            stdout=out.open("wb"),
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        assert os.waitstatus_to_exitcode(status) in (0, 1)
        assert len(json.loads(out.read_text(encoding="utf-8"))["files"]) == n
        peaks.append(usage.ru_maxrss / 1024)
    assert peaks[1] - peaks[0] < 12, peaks
