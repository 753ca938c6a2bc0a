"""`perfxl check` (审核) and `perfxl rules` (the rule catalogue).

Exit codes of `check`: 0 no blocking finding, 1 some blocking finding, 2 an input could
not be used (the other files are still checked and reported).
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .atomic import refuse_inputs
from .errors import InputError
from .filing_io import WORKBOOK_SUFFIXES, load_filing
from .findings import InputProblem, Report, Severity, reports_json
from .isolation import failure, per_file
from .profile import Profile, load_profile
from .rules import CATALOGUE, Context, check
from .rules.integrity import refusal_code
from .terminal import safe

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def check_file(path: Path, profile_id: str | None = None, ctx: Context | None = None) -> Report:
    """Check one filing (YAML/JSON data or a filled workbook); an unusable file gives a
    report with its problems (a workbook's carry the integrity rule they fail)."""
    ctx = ctx or Context()
    workbook = path.suffix.lower() in WORKBOOK_SUFFIXES
    coded = workbook or path.suffix.lower() in (".xls", ".et")  # refused as workbooks
    try:
        if workbook:
            from .workbook.facts import check_workbook

            profile = load_profile(profile_id) if profile_id else None
            return check_workbook(path, profile, ctx, file=str(path))
        filing = load_filing(path)
        profile = load_profile(profile_id or filing.profile)
    except InputError as exc:
        return Report(
            file=str(path),
            problems=[
                InputProblem(p.place, p.message, refusal_code(p.message) if coded else None)
                for p in exc.problems
            ],
        )
    return check(filing, profile, ctx, file=str(path))


def _check_one(path: Path, profile_id: str | None = None, ctx: Context | None = None) -> Report:
    """check_file, with anything that goes wrong made this file's refusal (the batch goes on)."""
    try:
        return check_file(path, profile_id, ctx)
    except Exception as exc:
        p = failure(path, exc)
        return Report(file=str(path), problems=[InputProblem(p.place, p.message)])


def _level(f) -> str:
    if f.severity is Severity.BLOCKING:
        return "[red]强制性[/red]"
    return "提示性（已说明）" if f.explained else "[yellow]提示性[/yellow]"


def print_report(console: Console, report: Report) -> None:
    head = f"{report.file}"
    if report.title:
        head += f"：{report.title}（{report.year}年度，评价框架 {report.profile}）"
    console.print(f"[bold]{safe(head)}[/bold]")
    if not report.usable:
        for p in report.problems:
            where = f"{p.place}：" if p.place else ""
            code = f"[{p.code}] " if p.code else ""
            console.print(
                f"  [red]无法审核[/red]：{safe(code + where + p.message)}", soft_wrap=True
            )
        return
    if report.findings:
        t = Table(show_header=True, header_style="bold", show_lines=False)
        t.add_column("编码", no_wrap=True)
        t.add_column("级别", no_wrap=True)
        t.add_column("位置", overflow="fold", min_width=12)
        t.add_column("说明", overflow="fold")
        for f in report.findings:
            t.add_row(safe(f.code), _level(f), safe(f.location()), safe(f.message))
        console.print(t)
    s = report.summary()
    verdict = "[green]审核通过[/green]" if report.valid else "[red]审核未通过[/red]"
    console.print(
        f"{verdict}：错误 {s['blocking']} 项 / 提示 {s['warning']} 项 / 已说明 {s['explained']} 项"
    )


def _exit_code(reports: list[Report]) -> int:
    if any(not r.usable for r in reports):
        return EXIT_INPUT
    return EXIT_OK if all(r.valid for r in reports) else EXIT_FINDINGS


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--budget", type=click.Path(path_type=Path), help="预算数据（CSV/XLSX/YAML）")
@click.option("--targets", type=click.Path(path_type=Path), help="批复的绩效目标（CSV/XLSX/YAML）")
@click.option("--profile", "profile_id", help="评价框架编号或文件（默认取填报数据中的 profile）")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "xlsx"]),
    default="text",
    show_default=True,
    help="输出格式",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="写入文件（默认输出到屏幕）；xlsx 格式为标注副本的文件名（多份文件时为文件夹）",
)
def check_cmd(
    files: tuple[Path, ...],
    budget: Path | None,
    targets: Path | None,
    profile_id: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """审核自评表：逐条运行审核规则，列出错误（强制性）和提示（提示性）。

    --format xlsx 为每份工作簿写一份标注副本（默认为原文件旁的“文件名.审核.xlsx”，
    原文件不作修改）。退出码：0 没有强制性错误；1 有强制性错误；2 有输入文件无法使用。"""
    from .reference_data import load_budget, load_targets

    inputs = _inputs(files, budget, targets, profile_id)
    if output is not None and fmt != "xlsx":
        refuse_inputs(output, inputs)
    with per_file(budget or ""):
        loaded_budget = load_budget(budget) if budget else None
    with per_file(targets or ""):
        loaded_targets = load_targets(targets) if targets else None
    ctx = Context(budget=loaded_budget, targets=loaded_targets)
    reports = [_check_one(p, profile_id, ctx) for p in files]
    err = Console(stderr=True, highlight=False)
    for r in reports:
        for p in r.problems:
            where = f"：{p.place}" if p.place else ""
            err.print(f"[red]错误[/red]：{safe(r.file + where)}：{safe(p.message)}", soft_wrap=True)
    if fmt == "xlsx":
        _annotated_copies(files, reports, output, err, inputs)
        sys.exit(_exit_code(reports))
    if fmt == "json":
        text = json.dumps(reports_json(reports), ensure_ascii=False, indent=2) + "\n"
    elif output:
        buf = Console(record=True, width=160, file=io.StringIO(), highlight=False)
        for r in reports:
            print_report(buf, r)
            buf.print()
        text = buf.export_text()
    if output:
        from .atomic import write_text

        write_text(output, text, inputs=inputs)
        Console(highlight=False).print(f"已写入 {safe(output)}")
    elif fmt == "json":
        click.echo(text, nl=False)
    else:
        console = Console(highlight=False, soft_wrap=False)
        for r in reports:
            print_report(console, r)
            console.print()
    # sys.exit, not click's Exit: the entry point runs click with standalone_mode=False
    sys.exit(_exit_code(reports))


def _inputs(
    files: tuple[Path, ...], budget: Path | None, targets: Path | None, profile_id: str | None
) -> tuple[Path, ...]:
    """Every path the command reads: none of them may become an output."""
    extra = [p for p in (budget, targets) if p is not None]
    if profile_id and Path(profile_id).suffix.lower() in (".yaml", ".yml", ".json"):
        extra.append(Path(profile_id))
    return (*files, *extra)


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _free(target: Path, inputs: tuple[Path, ...], taken: set[str]) -> Path:
    """`target`, or `name(2).xlsx`, `name(3).xlsx` …: never an input, never a copy already
    written by this run (two returns both called 自评表.xlsx get two copies)."""
    keys = {_key(p) for p in inputs}
    candidate, n = target, 2
    while _key(candidate) in taken or _key(candidate) in keys or _is_input(candidate, inputs):
        candidate = target.with_name(f"{target.stem}({n}){target.suffix}")
        n += 1
    return candidate


def _is_input(target: Path, inputs: tuple[Path, ...]) -> bool:
    if not target.exists():
        return False
    for src in inputs:
        try:
            if src.exists() and os.path.samefile(src, target):
                return True
        except OSError:
            continue
    return False


def _annotated_copies(
    files: tuple[Path, ...],
    reports: list[Report],
    output: Path | None,
    err: Console,
    inputs: tuple[Path, ...] = (),
) -> None:
    """One annotated copy per usable workbook; a line per file on the screen.

    A copy that cannot be written (a file the annotating library cannot parse, a full or
    read-only disk) becomes that file's problem; the other copies are still written."""
    from .workbook.annotate import annotate, annotated_path

    inputs = inputs or files
    out = Console(highlight=False, soft_wrap=True)
    folder = output if output is not None and (len(files) > 1 or output.is_dir()) else None
    taken: set[str] = set()
    for path, report in zip(files, reports, strict=True):
        if not report.usable:
            continue
        s = report.summary()
        counts = f"错误 {s['blocking']} 项 / 提示 {s['warning']} 项 / 已说明 {s['explained']} 项"
        if path.suffix.lower() not in WORKBOOK_SUFFIXES:
            err.print(
                f"提示：{safe(path)} 不是工作簿，没有可标注的副本（{counts}）", soft_wrap=True
            )
            continue
        named = output is not None and folder is None  # -o names the copy: refuse, not rename
        target = output if named else annotated_path(path, folder)
        if target.suffix.lower() != path.suffix.lower():
            target = target.with_suffix(path.suffix)  # a macro workbook stays .xlsm
        if not named:
            target = _free(target, inputs, taken)
        try:
            with per_file(path):
                annotate(path, report, target, inputs=inputs)
        except InputError as exc:
            report.problems += [InputProblem(p.place, p.message) for p in exc.problems]
            for p in exc.problems:
                err.print(f"[red]错误[/red]：{safe(p)}（未能写出标注副本）", soft_wrap=True)
            continue
        taken.add(_key(target))
        verdict = "审核通过" if report.valid else "审核未通过"
        out.print(f"{safe(path)}：{verdict}（{counts}），标注副本已写入 {safe(target)}")


def _applies(profile: Profile | None, rule) -> bool:
    return profile is None or rule.applies_to(profile)


@click.command("rules")
@click.option("--profile", "profile_id", help="只列出适用于该评价框架的规则")
def rules_cmd(profile_id: str | None) -> None:
    """列出全部审核规则（编码、级别、范围、说明、适用）。"""
    profile = load_profile(profile_id) if profile_id else None
    title = "审核规则" + (f"（评价框架 {profile.id}）" if profile else "")
    t = Table(title=title, header_style="bold")
    for col in ("编码", "级别", "范围"):
        t.add_column(col, no_wrap=True)
    for col in ("说明", "适用", "工作簿公式"):
        t.add_column(col, overflow="fold")
    for rule in CATALOGUE:
        if not _applies(profile, rule):
            continue
        formula = "是" if rule.live else "否"
        if profile is not None and rule.live:
            formula = f"是（{len(rule.live_checks(profile))} 条）"
        t.add_row(
            rule.code,
            rule.severity.value,
            rule.scope.value,
            rule.title,
            rule.applies_text(),
            formula,
        )
    Console(highlight=False).print(t)


def register(cli: click.Group) -> None:
    cli.add_command(check_cmd)
    cli.add_command(rules_cmd)
