"""`perfxl demo`: the main job on the bundled examples, outputs in one folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from .atomic import write_text
from .errors import InputError, Problem
from .filing_io import load_filing
from .profile import load_profile
from .report import print_score, score_json
from .scoring import score


def example_files() -> list[Path]:
    """The bundled example filings: from the source tree, or shipped inside the package."""
    here = Path(__file__).resolve().parent.parent / "examples"
    files = sorted(here.glob("*.yaml")) if here.is_dir() else []
    if not files:
        raise InputError(
            Problem(str(here), "", "找不到随附的示例（examples/），请在源代码目录中安装后运行")
        )
    return files


def run_demo(output: Path, console: Console) -> None:
    output.mkdir(parents=True, exist_ok=True)
    files = example_files()
    for path in files:
        filing = load_filing(path)
        profile = load_profile(filing.profile)
        result = score(filing, profile)
        print_score(console, result, filing, profile)
        console.print()
        stem = path.stem
        write_text(
            output / "scores" / f"{stem}.json",
            json.dumps(score_json(result, filing, profile, path.name), ensure_ascii=False, indent=2)
            + "\n",
        )
        rec = Console(record=True, width=140, file=io.StringIO())
        print_score(rec, result, filing, profile)
        write_text(output / "scores" / f"{stem}.txt", rec.export_text())
    console.print(f"[green]完成[/green]：{len(files)} 份示例已评分，结果在 {output.resolve()}")
