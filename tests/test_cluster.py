"""`perfxl check --cluster`: the same per-file function on a dask.distributed cluster gives
the very bytes the process pool gives, in input order, streamed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from perfxl.filing_io import load_filing
    from perfxl.profile import load_profile
    from perfxl.workbook.write import build_workbook

    folder = tmp_path_factory.mktemp("cluster")
    filing = load_filing(PROJECT_EXAMPLE)
    src = build_workbook(load_profile(filing.profile), folder / "源.xlsx", filing)
    bad = folder / "不通过.yaml"
    bad.write_text(
        PROJECT_EXAMPLE.read_text(encoding="utf-8").replace("grade: 优", "grade: 良"), "utf-8"
    )
    paths = [PROJECT_EXAMPLE, bad, folder / "不存在.xlsx", WUHAN_EXAMPLE]
    for i in range(5):
        p = folder / f"{i:02d}.xlsx"
        shutil.copyfile(src, p)
        paths.append(p)
    return paths


def test_a_local_cluster_gives_the_process_pools_bytes(files: list[Path]) -> None:
    for fmt in ("jsonl", "json"):
        pool = run_cli("check", *files, "--format", fmt, "--jobs", "2")
        dask = run_cli("check", *files, "--format", fmt, "--jobs", "2", "--cluster", "local")
        assert pool.returncode == dask.returncode == 2, dask.stderr  # one file is missing
        assert dask.stdout == pool.stdout, fmt
        assert "不存在.xlsx" in dask.stderr and "Traceback" not in dask.stderr


def test_cluster_map_keeps_order_on_a_threaded_cluster(files: list[Path]) -> None:
    from distributed import Client, LocalCluster

    from perfxl.cli_check import _setup, _task
    from perfxl.cluster import cluster_map
    from perfxl.parallel import ordered_map
    from perfxl.rules import Context

    args = (None, Context(), "jsonl")
    want = [c.body for c in ordered_map(_task, files, 1, initializer=_setup, initargs=args)]
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            got = cluster_map(
                _task, files, "", client=client, initializer=_setup, initargs=args, chunk=1
            )
            assert [c.body for c in got] == want


def test_without_dask_the_message_says_how_to_install(files: list[Path]) -> None:
    # a Python where `import distributed` fails, as it does without the extra
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from perfxl.cli import main\n"
        f"main(['check', {str(files[0])!r}, '--cluster', 'local'])\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 2
    assert "pip install 'perfxl[dask]'" in r.stderr and "Traceback" not in r.stderr


def test_collect_on_a_local_cluster_decides_as_the_pool(tmp_path: Path) -> None:
    import csv

    from perfxl.batch import read_manifest
    from perfxl.filing_io import load_filing
    from perfxl.profile import load_profile
    from perfxl.workbook.write import build_workbook

    master = tmp_path / "主表.csv"
    with open(master, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["单位编码", "项目名称", "主管部门", "实施单位", "年度", "年初预算数", "全年预算数"]
        )
        for i in range(1, 5):
            w.writerow(
                [f"91000{i}", f"项目{i}", "示例市档案局", "示例市档案馆", "2020", "490", "490"]
            )
    sent = tmp_path / "下发"
    assert run_cli("distribute", master, "--profile", "project-2020", "-o", sent).returncode == 0
    rows = read_manifest(sent / "manifest.csv")[0]
    back = tmp_path / "回收"
    back.mkdir()
    profile = load_profile("project-2020")
    for m in rows[:3]:
        f = load_filing(PROJECT_EXAMPLE).model_copy(deep=True)
        f.header.unit_code, f.header.name = m.unit_code, f"项目{m.unit_code[-1]}"
        build_workbook(profile, back / Path(m.file).name, f, lock_prefilled=True)
    (back / "坏.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    runs = []
    for extra in ((), ("--cluster", "local")):
        r = run_cli(
            "collect", back, "--manifest", sent / "manifest.csv", "-o", tmp_path / f"轮{len(runs)}",
            "--json", "-j", "2", *extra,
        )  # fmt: skip
        assert r.returncode == 1, r.stderr  # one unit has not returned
        runs.append(json.loads(r.stdout))
    assert runs[0]["units"] == runs[1]["units"] and len(runs[0]["units"]) == 4


def _dies_on_two(item: int) -> int:
    """A per-file function whose worker process dies on one item (a crash in a native
    library, the kernel killing it for memory)."""
    import os

    if item == 2:
        os._exit(1)
    return item * 10


def test_a_file_that_kills_its_worker_becomes_its_refusal() -> None:
    import dask
    from distributed import Client, LocalCluster

    from perfxl.cluster import cluster_map

    # one death is enough for the scheduler to give the task up (the default retries it 3×)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            with Client(cluster) as client:
                got = cluster_map(
                    _dies_on_two, [1, 2, 3, 4], "", client=client, on_crash=lambda i: -i, chunk=2
                )
                assert list(got) == [10, -2, 30, 40]
