"""Shared test helpers: paths, running the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROJECT_EXAMPLE = EXAMPLES / "project-archives-digitization.yaml"
WUHAN_EXAMPLE = EXAMPLES / "dept-wuhan-archives-2020.yaml"
# fictional, Guangdong style: 本级 and a 下属单位 with same-named projects, stated counts
UNITS_EXAMPLE = EXAMPLES / "dept-guangdong-units-2023.yaml"


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `perfxl` as a user would: a separate process, its real exit code and output."""
    env = {**os.environ, "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"}
    env.pop("PERFXL_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "perfxl", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        env=env,
        timeout=600,
    )


@pytest.fixture
def cli():
    return run_cli
