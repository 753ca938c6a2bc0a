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
    """The bundled example filings, from the source tree (the demo runs from a checkout)."""
    here = Path(__file__).resolve().parent.parent / "examples"
    files = sorted(here.glob("*.yaml")) if here.is_dir() else []
    if not files:
        raise InputError(
            Problem(str(here), "", "找不到随附的示例（examples/），请在源代码目录中安装后运行")
        )
    return files


def _check_outputs(path: Path, output: Path, console: Console) -> None:
    """A filled workbook of the example; both checked; JSON and the annotated copy written."""
    from .cli_check import check_file
    from .findings import reports_json
    from .vba import SHIPPED_VBA
    from .workbook.annotate import annotate
    from .workbook.write import build_workbook

    filing = load_filing(path)
    profile = load_profile(filing.profile)
    book = build_workbook(profile, output / "workbooks" / f"{path.stem}.xlsx", filing)
    # the same, with the 校验 / 评分 / 清除标记 buttons, for Excel
    build_workbook(
        profile, output / "workbooks" / f"{path.stem}.xlsm", filing, vba_project=SHIPPED_VBA
    )
    reports = [check_file(path), check_file(book)]
    write_text(
        output / "checks" / f"{path.stem}.json",
        json.dumps(reports_json(reports), ensure_ascii=False, indent=2) + "\n",
    )
    annotate(book, reports[1], output / "checks" / f"{path.stem}.审核.xlsx")
    for r in reports:
        s = r.summary()
        verdict = "[green]审核通过[/green]" if r.valid else "[red]审核未通过[/red]"
        console.print(
            f"{verdict} {Path(r.file).name}：错误 {s['blocking']} 项 / 提示 {s['warning']} 项"
            f" / 已说明 {s['explained']} 项"
        )


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
    console.print("[bold]审核[/bold]（示例数据及由其生成的工作簿）")
    for path in files:
        _check_outputs(path, output, console)
    from .cli_report import write_demo_reports

    write_demo_reports(files, output, console)
    console.print(
        f"[green]完成[/green]：{len(files)} 份示例已评分、生成工作簿并审核，结果在 {output.resolve()}"
        "（scores/ 评分，workbooks/ 工作簿（.xlsm 带按钮），checks/ 审核结果与标注副本，reports/ 自评报告）"
    )
