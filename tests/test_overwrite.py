"""Nothing a user gave is ever overwritten; outputs are safe to open and follow the umask;
a full or read-only disk and Ctrl-C end in Chinese with the documented exit code."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfxl.batch import csv_cell
from perfxl.filing_io import load_filing

from .conftest import PROJECT_EXAMPLE, ROOT, run_cli
from .workbook_factory import build

MASTER = "单位编码,名称,年度,年初预算数,全年预算数,全年执行数\n"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("good") / "good.xlsx", load_filing(PROJECT_EXAMPLE))


def _master(path: Path, rows: int = 2, name: str = "档案馆") -> Path:
    lines = "".join(f"90{i:04d},{name}{i},2023,100,120,110\n" for i in range(rows))
    path.write_text(MASTER + lines, encoding="utf-8")
    return path


def _no_traceback(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stdout + r.stderr and "内部错误" not in r.stderr, r.stderr


# ------------------------------------------------------------------ inputs are never outputs


@pytest.mark.parametrize("option", ["--budget", "--targets"])
def test_check_output_is_never_the_budget_or_targets(option: str, tmp_path: Path) -> None:
    ref = tmp_path / "参考.csv"
    ref.write_text("单位编码,全年预算数\n1,2\n", encoding="utf-8")
    before = ref.read_bytes()
    r = run_cli("check", PROJECT_EXAMPLE, option, ref, "-o", ref)
    assert r.returncode == 2 and "输入文件相同" in r.stderr, r.stderr
    _no_traceback(r)
    assert ref.read_bytes() == before


def test_annotated_copy_never_replaces_an_input(good: Path, tmp_path: Path) -> None:
    a = tmp_path / "a.xlsx"
    a.write_bytes(good.read_bytes())
    copy_input = tmp_path / "a.审核.xlsx"  # an input whose name is a's default copy name
    copy_input.write_bytes(good.read_bytes())
    before = copy_input.read_bytes()
    r = run_cli("check", a, copy_input, "--format", "xlsx")
    _no_traceback(r)
    assert copy_input.read_bytes() == before
    assert (tmp_path / "a.审核(2).xlsx").exists(), r.stdout


def test_same_names_in_different_folders_get_two_copies(good: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "一" / "x.xlsx", tmp_path / "二" / "x.xlsx"
    for p in (one, two):
        p.parent.mkdir()
        p.write_bytes(good.read_bytes())
    out = tmp_path / "副本"
    r = run_cli("check", one, two, "--format", "xlsx", "-o", out)
    _no_traceback(r)
    assert sorted(p.name for p in out.iterdir()) == ["x.审核(2).xlsx", "x.审核.xlsx"]
    assert r.stdout.count("标注副本已写入") == 2


def test_distribute_never_replaces_existing_files(tmp_path: Path) -> None:
    out = tmp_path / "下发"
    out.mkdir()
    master = _master(out / "主表.csv")  # the master inside the output folder
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out)
    assert r.returncode == 0, r.stderr
    made = sorted(out.glob("*.xlsx"))
    assert len(made) == 2
    # a unit's return, filled in, sits where its blank was
    ret = made[0]
    build(ret, load_filing(PROJECT_EXAMPLE))
    returned, master_bytes = ret.read_bytes(), master.read_bytes()
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out)
    assert r.returncode == 2 and "--force" in r.stderr, r.stderr
    _no_traceback(r)
    assert ret.read_bytes() == returned and master.read_bytes() == master_bytes
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out, "--force")
    assert r.returncode == 1, r.stderr  # the return's row fails, the blank is replaced
    _no_traceback(r)
    assert ret.read_bytes() == returned and master.read_bytes() == master_bytes
    assert "回收" in (out / "manifest.csv").read_text(encoding="utf-8-sig")


def test_distribute_never_writes_over_the_master(tmp_path: Path) -> None:
    out = tmp_path / "下发"
    out.mkdir()
    master = _master(out / "manifest.csv")
    before = master.read_bytes()
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out, "--force")
    assert r.returncode == 2 and "输入" in r.stderr, r.stderr
    assert master.read_bytes() == before


# ------------------------------------------------------------------ CSV injection


def test_csv_cells_are_neutralised_but_numbers_stay_numbers() -> None:
    for text in (
        '=HYPERLINK("http://x")',
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "-1+1",
        "\t=1",
        "\r=1",
    ):
        assert csv_cell(text).startswith("'"), text
    for text in ("-12.5", "+3", "100", "档案馆", "", "1e5"):
        assert csv_cell(text) == text


def test_manifest_carries_no_formula(tmp_path: Path) -> None:
    master = tmp_path / "主表.csv"
    master.write_text(
        MASTER
        + '1,"=HYPERLINK(""http://x"",""点击"")",2023,1,2,1\n'
        + "2,+cmd|' /C calc'!A0,2023,1,2,1\n"
        + "3,@SUM(1+1),2023,1,2,1\n",
        encoding="utf-8",
    )
    out = tmp_path / "下发"
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out)
    _no_traceback(r)
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "-")) or cell.lstrip("+-").isdigit(), row


# ------------------------------------------------------------------ names, umask


def test_long_chinese_names_fit_the_file_system(tmp_path: Path) -> None:
    master = _master(tmp_path / "主表.csv", rows=1, name="很长的项目名称" * 20)
    out = tmp_path / "下发"
    r = run_cli("distribute", master, "--profile", "project-2020", "-o", out)
    assert r.returncode == 0, r.stderr
    (made,) = out.glob("*.xlsx")
    assert len(os.fsencode(made.name)) <= 255


def _run_with_umask(mask: int, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "perfxl", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: os.umask(mask),
        timeout=600,
    )


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_follow_the_umask(mask: int, mode: int, good: Path, tmp_path: Path) -> None:
    out = tmp_path / "下发"
    r = _run_with_umask(
        mask, "distribute", _master(tmp_path / "m.csv"), "--profile", "project-2020", "-o", out
    )
    assert r.returncode == 0, r.stderr
    report = tmp_path / "报告.json"
    r = _run_with_umask(mask, "check", good, "--format", "json", "-o", report)
    copy = tmp_path / "副本.xlsx"
    r = _run_with_umask(mask, "check", good, "--format", "xlsx", "-o", copy)
    for path in [*out.iterdir(), report, copy]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


# ------------------------------------------------------------------ full and read-only disks


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk(good: Path, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "满", "size=64k") as full:
        r = run_cli(
            "distribute",
            _master(tmp_path / "m.csv", rows=5),
            "--profile",
            "project-2020",
            "-o",
            full,
        )
        _no_traceback(r)
        assert r.returncode in (1, 2) and "磁盘空间已满" in r.stderr + r.stdout, r.stderr
        r = run_cli("check", good, good, "--format", "xlsx", "-o", full / "副本")
        _no_traceback(r)
        assert r.returncode == 2 and "磁盘空间已满" in r.stderr, r.stderr
        assert not [p for p in full.rglob("*.part")]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a read-only tmpfs needs root")
def test_read_only_folder(good: Path, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "只读", "ro,size=64k") as ro:
        r = run_cli(
            "distribute", _master(tmp_path / "m.csv"), "--profile", "project-2020", "-o", ro
        )
        _no_traceback(r)
        assert r.returncode == 2 and "只读" in r.stderr, r.stderr
        r = run_cli("check", good, "--format", "json", "-o", ro / "报告.json")
        _no_traceback(r)
        assert r.returncode == 2 and "只读" in r.stderr, r.stderr


def test_file_size_limit_as_a_full_disk(good: Path, tmp_path: Path) -> None:
    """RLIMIT_FSIZE: every write past 8 KB fails (EFBIG), as a full disk would."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    r = subprocess.run(
        [sys.executable, "-m", "perfxl", "check", str(good), "--format", "xlsx", "-o", str(tmp_path / "c.xlsx")],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, preexec_fn=limit, timeout=600,
    )  # fmt: skip
    _no_traceback(r)
    assert r.returncode == 2 and "文件超过了系统允许的大小" in r.stderr, r.stderr
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "c.xlsx").exists()


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_exits_130_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    master = _master(tmp_path / "m.csv", rows=3000)
    out = tmp_path / "下发"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfxl", "distribute", str(master), "--profile", "project-2020", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and len(list(out.glob("*.xlsx"))) > 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "中断" in err
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
