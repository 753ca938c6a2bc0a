"""`perfxl report`: draft the 自评报告 (Word, Markdown or PDF) from a checked filing.

Exit codes: 0 written; 1 refused because the checks found blocking errors (`--force` drafts
anyway, marking the numbers concerned); 2 an input could not be used.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console

from .atomic import write_text
from .errors import InputError, Problem
from .filing_io import load_filing_ex
from .findings import Report
from .profile import Profile, load_profile
from .scoring import score
from .selfreport import SelfReport, build_report, to_markdown

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
FORMATS = {".docx": "docx", ".md": "md", ".pdf": "pdf"}


def checked_report(
    path: Path, profile_id: str | None = None, ctx=None
) -> tuple[SelfReport, Report, Profile, list]:
    """Check a filing (YAML/JSON or workbook) and build its report model. An unusable
    file raises InputError with the checker's problems."""
    from .cli_check import check_file

    checks = check_file(path, profile_id, ctx)
    if not checks.usable:
        raise InputError([Problem(str(path), p.place, p.message) for p in checks.problems])
    filing, notes = load_filing_ex(path)
    profile = load_profile(profile_id or filing.profile)
    rep = build_report(filing, profile, score(filing, profile), checks)
    return rep, checks, profile, notes


def write_report(
    rep: SelfReport,
    target: Path,
    fmt: str,
    *,
    inputs: tuple[Path, ...] = (),
    template: Path | None = None,
) -> Path:
    """Write the report as docx / md / pdf (pdf: the Word document through LibreOffice)."""
    from .selfreport_docx import docx_to_pdf, write_docx, write_from_template

    if fmt == "md":
        write_text(target, to_markdown(rep), inputs=inputs)
        return target
    if fmt == "docx":
        if template is not None:
            return write_from_template(rep, template, target, inputs=inputs)
        return write_docx(rep, target, inputs=inputs)
    with tempfile.TemporaryDirectory(prefix="perfxl-report-") as work:
        docx = Path(work) / "report.docx"
        if template is not None:
            write_from_template(rep, template, docx, inputs=inputs)
        else:
            write_docx(rep, docx, inputs=inputs)
        for src in inputs:
            if src.exists() and target.exists() and os.path.samefile(src, target):
                raise InputError(
                    Problem(str(target), "", "输出文件不能与输入文件相同（不修改原文件）")
                )
        docx_to_pdf(docx, target)
    return target


def default_output(path: Path, fmt: str) -> Path:
    return path.with_name(f"{path.stem}.自评报告.{fmt}")


@click.command("report")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="输出文件（默认为“文件名.自评报告.docx”）",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["docx", "md", "pdf"]),
    help="输出格式（默认按输出文件的扩展名，否则为 docx）；pdf 需要 LibreOffice",
)
@click.option("--profile", "profile_id", help="评价框架编号或文件（默认取填报数据中的 profile）")
@click.option(
    "--template",
    type=click.Path(path_type=Path),
    help="财政局的报告模板（.docx，Jinja 占位符），或按评价框架编号存放模板的文件夹（框架编号.docx）",
)
@click.option(
    "--budget", type=click.Path(path_type=Path), help="预算数据（CSV/XLSX/YAML），审核时使用"
)
@click.option("--targets", type=click.Path(path_type=Path), help="批复的绩效目标，审核时使用")
@click.option("--force", is_flag=True, help="有强制性错误时仍生成草稿，并在文中标注存疑的数字")
def report_cmd(
    file: Path,
    output: Path | None,
    fmt: str | None,
    profile_id: str | None,
    template: Path | None,
    budget: Path | None,
    targets: Path | None,
    force: bool,
) -> None:
    """根据审核后的自评表起草自评报告（Word / Markdown / PDF）。

    数字全部取自填报数据（金额以万元计，比率保留两位小数），每项扣分附扣分原因，文字部分取自
    填报数据，缺少的部分以【待填写：…】标出。审核有强制性错误时不生成报告（退出码 1），
    加 --force 生成草稿并标注存疑的数字。"""
    from .reference_data import load_budget, load_targets
    from .rules import Context

    err = Console(stderr=True, highlight=False)
    out = Console(highlight=False, soft_wrap=True)
    if not file.is_file():
        raise InputError(Problem(str(file), "", "文件不存在"))
    if fmt is None:
        fmt = FORMATS.get(output.suffix.lower(), "docx") if output else "docx"
    target = output or default_output(file, fmt)
    if target.suffix.lower() != f".{fmt}":
        raise InputError(Problem(str(target), "", f"输出文件应以 .{fmt} 结尾"))
    if template is not None and fmt == "md":
        raise InputError(Problem(str(template), "", "报告模板只用于 Word（docx）或 PDF 输出"))
    ctx = Context(
        budget=load_budget(budget) if budget else None,
        targets=load_targets(targets) if targets else None,
    )
    rep, checks, profile, notes = checked_report(file, profile_id, ctx)
    for note in notes:
        err.print(f"[yellow]提示[/yellow]：{note}", soft_wrap=True)
    if checks.errors and not force:
        err.print(
            f"[red]未生成自评报告[/red]：{file} 审核发现 {len(checks.errors)} 项强制性错误：",
            soft_wrap=True,
        )
        for f in checks.errors:
            err.print(f"  〔{f.code}〕{f.location()}：{f.message}", soft_wrap=True)
        err.print("请更正后重新审核；如需先看草稿，加 --force（文中将标注存疑的数字）。")
        sys.exit(EXIT_FINDINGS)
    chosen = None
    if template is not None and fmt != "md":
        from .selfreport_docx import template_for

        chosen = template_for(template, profile.id)
        if chosen is None:
            err.print(
                f"[yellow]提示[/yellow]：模板文件夹 {template} 中没有 {profile.id}.docx，按默认格式生成",
                soft_wrap=True,
            )
    from .office import OfficeError

    try:
        write_report(rep, target, fmt, inputs=(file,), template=chosen)
    except OfficeError as exc:
        raise InputError(Problem(str(file), "", str(exc))) from exc
    kind = "草稿（含存疑标注）" if rep.forced else "自评报告"
    out.print(f"已写入{kind}：{target}")
    sys.exit(EXIT_OK)


def write_demo_reports(files: list[Path], output: Path, console: Console) -> list[Path]:
    """`perfxl demo`: the report of each bundled example, as Word and Markdown."""
    written = []
    for path in files:
        rep, checks, _, _ = checked_report(path)
        for fmt in ("docx", "md"):
            target = output / "reports" / f"{path.stem}.自评报告.{fmt}"
            write_report(rep, target, fmt, inputs=(path,))
            written.append(target)
        mark = "（草稿）" if checks.errors else ""
        console.print(f"自评报告{mark}：{rep.title} → reports/{path.stem}.自评报告.docx")
    return written


def register(cli: click.Group) -> None:
    cli.add_command(report_cmd)
