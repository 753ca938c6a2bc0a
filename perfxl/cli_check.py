"""`perfxl check` (审核) and `perfxl rules` (the rule catalogue).

Exit codes of `check`: 0 no blocking finding, 1 some blocking finding, 2 an input could
not be used (the other files are still checked and reported).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from .atomic import refuse_inputs
from .click_options import cluster_option, jobs_option
from .errors import InputError
from .filing_io import WORKBOOK_SUFFIXES
from .findings import JSON_FORMAT, InputProblem, Report, Severity
from .isolation import failure, per_file
from .profile import Profile, load_profile
from .rules import CATALOGUE, Context
from .terminal import aligned, clean, safe, show_table

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def check_file(path: Path, profile_id: str | None = None, ctx: Context | None = None) -> Report:
    """Check one filing (YAML/JSON data or a filled workbook): perfxl.verdict.check_path,
    the pipeline the 评分 button and the demo run too."""
    from .verdict import check_path

    return check_path(path, profile_id, ctx).report


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


def _head(report: Report) -> str:
    head = f"{report.file}"
    if report.title:
        head += f"：{report.title}（{report.year}年度，评价框架 {report.profile}）"
    return head


def _counts(report: Report) -> str:
    s = report.summary()
    return f"错误 {s['blocking']} 项 / 提示 {s['warning']} 项 / 已说明 {s['explained']} 项"


def print_report(console, report: Report) -> None:
    """One file's report on a terminal (Rich: colours, a table fitted to the width)."""
    from rich.table import Table

    console.print(f"[bold]{safe(_head(report))}[/bold]")
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
        show_table(t, console, head=3)
    verdict = "[green]审核通过[/green]" if report.valid else "[red]审核未通过[/red]"
    console.print(f"{verdict}：{_counts(report)}")


def plain_report(report: Report) -> str:
    """One file's report as plain aligned text (a pipe, a log, a file), ending in a blank line."""
    lines = [clean(_head(report))]
    if not report.usable:
        for p in report.problems:
            where = f"{p.place}：" if p.place else ""
            code = f"[{p.code}] " if p.code else ""
            lines.append(f"  无法审核：{clean(code + where + p.message)}")
        return "\n".join(lines) + "\n\n"
    if report.findings:
        rows = [["编码", "级别", "位置", "说明"]]
        for f in report.findings:
            level = "强制性" if f.blocking else ("提示性（已说明）" if f.explained else "提示性")
            rows.append([clean(f.code), level, clean(f.location()), clean(f.message)])
        lines += aligned(rows)
    verdict = "审核通过" if report.valid else "审核未通过"
    lines.append(f"{verdict}：{_counts(report)}")
    return "\n".join(lines) + "\n\n"


@dataclass
class _Checked:
    """What a worker sends back for one file: small, quick to pickle. `body` is the file's
    output already rendered (plain text, a JSON block, a JSON line), or the Report itself
    when the parent needs it (a terminal, annotated copies)."""

    file: str
    usable: bool
    valid: bool
    summary: dict[str, int]
    problems: list[tuple[str, str]]
    body: Any


_TASK: dict[str, Any] = {}  # this process's check settings (set before the pool starts)


def _setup(profile_id: str | None, ctx: Context, mode: str) -> None:
    _TASK.update(profile_id=profile_id, ctx=ctx, mode=mode)


def _json_block(report: Report) -> str:
    """A report as it stands in the files array of the JSON document (indented 4)."""
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=2)
    return "\n".join("    " + line for line in text.split("\n"))


def _render(report: Report, mode: str) -> Any:
    if mode == "text":
        return plain_report(report)
    if mode == "json":
        return _json_block(report)
    if mode == "jsonl":
        return json.dumps(report.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
    return report


def _task(path: Path) -> _Checked:
    report = _check_one(path, _TASK["profile_id"], _TASK["ctx"])
    return _Checked(
        report.file,
        report.usable,
        report.valid,
        report.summary(),
        [(p.place, p.message) for p in report.problems],
        _render(report, _TASK["mode"]),
    )


def _crashed(path: Path) -> _Checked:
    """A file whose worker process died (killed for memory, a crash in a native library)."""
    message = "处理该文件时工作进程意外退出（可能内存不足或文件异常），已跳过"
    report = Report(file=str(path), problems=[InputProblem("", message)])
    return _Checked(
        report.file, False, False, report.summary(), [("", message)], _render(report, _TASK["mode"])
    )


class _Totals:
    """The batch's summary, kept as files go by (no report is held)."""

    def __init__(self) -> None:
        self.files = self.unusable = self.passed = 0
        self.valid = True
        self.counts = {"blocking": 0, "warning": 0, "explained": 0}

    def add(self, c: _Checked) -> None:
        self.files += 1
        self.unusable += not c.usable
        self.passed += c.usable and c.valid
        self.valid = self.valid and c.valid
        for k, v in c.summary.items():
            self.counts[k] += v

    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_INPUT
        return EXIT_OK if self.valid else EXIT_FINDINGS

    def line(self) -> str:
        """The closing line of a batch: how many files, how they fared, what was found."""
        c = self.counts
        return (
            f"合计：{self.files} 份文件，通过 {self.passed} 份，未通过 "
            f"{self.files - self.passed - self.unusable} 份，无法审核 {self.unusable} 份；"
            f"错误 {c['blocking']} 项 / 提示 {c['warning']} 项 / 已说明 {c['explained']} 项\n"
        )

    def doc(self) -> dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "valid": self.valid,
            "summary": {"files": self.files, "unusable": self.unusable, **self.counts},
        }


def _json_document(totals: _Totals, blocks: Iterable[str], write: Callable[[str], Any]) -> None:
    """The document reports_json gives, byte for byte, from the files' blocks."""
    head = json.dumps({**totals.doc(), "files": "\0"}, ensure_ascii=False, indent=2)
    before, after = head.split('"\\u0000"')
    write(before + "[\n")
    first = True
    for block in blocks:
        write(block if first else ",\n" + block)
        first = False
    write("\n  ]" + after + "\n")


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--budget", type=click.Path(path_type=Path), help="预算数据（CSV/XLSX/YAML）")
@click.option("--targets", type=click.Path(path_type=Path), help="批复的绩效目标（CSV/XLSX/YAML）")
@click.option("--profile", "profile_id", help="评价框架编号或文件（默认取填报数据中的 profile）")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "jsonl", "xlsx"]),
    default="text",
    show_default=True,
    help="输出格式（jsonl：每份文件一行 JSON，审核完即输出，最后一行为汇总）",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="写入文件（默认输出到屏幕）；xlsx 格式为标注副本的文件名（多份文件时为文件夹）",
)
@jobs_option
@cluster_option("审核")
def check_cmd(
    files: tuple[Path, ...],
    budget: Path | None,
    targets: Path | None,
    profile_id: str | None,
    fmt: str,
    output: Path | None,
    jobs: int | None,
    cluster: str | None,
) -> None:
    """审核自评表：逐条运行审核规则，列出错误（强制性）和提示（提示性）。

    每份文件审核完即输出，多份文件时按 --jobs 并行（结果顺序与输入相同）。
    --format xlsx 为每份工作簿写一份标注副本（默认为原文件旁的“文件名.审核.xlsx”，
    原文件不作修改）。退出码：0 没有强制性错误；1 有强制性错误；2 有输入文件无法使用。"""
    from .parallel import default_jobs, ordered_map
    from .reference_data import load_budget, load_targets

    inputs = _inputs(files, budget, targets, profile_id)
    if output is not None and fmt != "xlsx":
        refuse_inputs(output, inputs)
    with per_file(budget or ""):
        loaded_budget = load_budget(budget) if budget else None
    with per_file(targets or ""):
        loaded_targets = load_targets(targets) if targets else None
    ctx = Context(budget=loaded_budget, targets=loaded_targets)
    tty = output is None and fmt == "text" and sys.stdout.isatty()
    mode = "report" if tty or fmt == "xlsx" else fmt
    if cluster:
        from .cluster import cluster_map

        checked = cluster_map(
            _task,
            files,
            cluster,
            jobs=jobs or default_jobs(),
            initializer=_setup,
            initargs=(profile_id, ctx, mode),
            on_crash=_crashed,
            total=len(files),
        )
    else:
        checked = ordered_map(
            _task,
            files,
            jobs or default_jobs(),
            initializer=_setup,
            initargs=(profile_id, ctx, mode),
            on_crash=_crashed,
            total=len(files),
        )
    totals = _Totals()
    err = _Err()

    def each() -> Iterator[_Checked]:
        for c in checked:
            totals.add(c)
            for place, message in c.problems:
                where = f"：{place}" if place else ""
                err.error(f"{c.file}{where}：{message}")
            yield c

    if fmt == "xlsx":
        _annotated_copies(files, (c.body for c in each()), output, err, inputs, totals)
        if len(files) > 1:
            print(totals.line(), end="", flush=True)
    elif output:
        _write_output(output, fmt, each(), totals, inputs)
        print(f"已写入 {clean(output)}", flush=True)
    elif tty:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=False)
        for c in each():
            print_report(console, c.body)
            console.print()
        if len(files) > 1:
            console.print(totals.line(), end="", markup=False)
    elif fmt == "json":
        import tempfile  # here: only a JSON document spools its files

        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            for c in each():  # the summary heads the document: the files wait on disk
                spool.write(c.body + "\0")
            spool.seek(0)
            _json_document(totals, _spooled(spool), sys.stdout.write)
        sys.stdout.flush()
    else:
        for c in each():
            sys.stdout.write(c.body)
            sys.stdout.flush()
        if fmt == "text" and len(files) > 1:
            sys.stdout.write(totals.line())
            sys.stdout.flush()
        if fmt == "jsonl":
            sys.stdout.write(_jsonl_summary(totals))
            sys.stdout.flush()
    # sys.exit, not click's Exit: the entry point runs click with standalone_mode=False
    sys.exit(totals.exit_code())


def _jsonl_summary(totals: _Totals) -> str:
    return json.dumps(totals.doc(), ensure_ascii=False, separators=(",", ":")) + "\n"


def _spooled(spool: IO[str]) -> Iterator[str]:
    """The blocks written to `spool`, each ended by NUL (never inside JSON text), in order."""
    rest = ""
    while True:
        data = spool.read(1 << 16)
        if not data:
            break
        parts = (rest + data).split("\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _write_output(
    output: Path, fmt: str, checked: Iterator[_Checked], totals: _Totals, inputs: tuple[Path, ...]
) -> None:
    """The report file, written as files are checked to a temporary file beside it and moved
    into place when complete (an interrupted run leaves no half file)."""
    from .atomic import atomic_path

    with atomic_path(output, inputs=inputs) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            if fmt == "json":
                import tempfile

                with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
                    for c in checked:
                        spool.write(c.body + "\0")
                    spool.seek(0)
                    _json_document(totals, _spooled(spool), fh.write)
            else:
                for c in checked:
                    fh.write(c.body)
                if fmt == "text" and totals.files > 1:
                    fh.write(totals.line())
                if fmt == "jsonl":
                    fh.write(_jsonl_summary(totals))


class _Err:
    """Messages on standard error: red on a terminal, plain text otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._console = None

    def _rich(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)
        return self._console

    def error(self, text: str) -> None:
        if self.tty:
            self._rich().print(f"[red]错误[/red]：{safe(text)}", soft_wrap=True)
        else:
            print(f"错误：{clean(text)}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.tty:
            self._rich().print(f"{safe(text)}", soft_wrap=True)
        else:
            print(clean(text), file=sys.stderr, flush=True)


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
    reports: Iterable[Report],
    output: Path | None,
    err: _Err,
    inputs: tuple[Path, ...] = (),
    totals: _Totals | None = None,
) -> None:
    """One annotated copy per usable workbook, written as each file is checked; a line per
    file on the screen.

    A copy that cannot be written (a file the annotating library cannot parse, a full or
    read-only disk) becomes that file's problem; the other copies are still written."""
    from .workbook.annotate import annotate, annotated_path

    inputs = inputs or files
    folder = output if output is not None and (len(files) > 1 or output.is_dir()) else None
    taken: set[str] = set()
    for path, report in zip(files, reports, strict=True):
        if not report.usable:
            continue
        counts = _counts(report)
        if path.suffix.lower() not in WORKBOOK_SUFFIXES:
            err.note(f"提示：{path} 不是工作簿，没有可标注的副本（{counts}）")
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
            if totals is not None:
                totals.unusable += 1
                totals.valid = False
            for p in exc.problems:
                err.error(f"{p}（未能写出标注副本）")
            continue
        taken.add(_key(target))
        verdict = "审核通过" if report.valid else "审核未通过"
        print(f"{clean(path)}：{verdict}（{counts}），标注副本已写入 {clean(target)}", flush=True)


def _applies(profile: Profile | None, rule) -> bool:
    return profile is None or rule.applies_to(profile)


@click.command("rules")
@click.option("--profile", "profile_id", metavar="框架", help="只列出适用于该评价框架的规则")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）")
def rules_cmd(profile_id: str | None, as_json: bool) -> None:
    """列出全部审核规则（编码、级别、范围、说明、适用）。"""
    profile = load_profile(profile_id) if profile_id else None
    rows = []
    for rule in CATALOGUE:
        if not _applies(profile, rule):
            continue
        checks = len(rule.live_checks(profile)) if profile is not None and rule.live else None
        rows.append((rule, checks))
    if as_json:
        doc = {
            "profile": profile.id if profile else None,
            "rules": [
                {
                    "code": rule.code,
                    "severity": rule.severity.value,
                    "scope": rule.scope.value,
                    "title": rule.title,
                    "applies": rule.applies_text(),
                    "live": bool(rule.live),
                    **({"live_checks": checks} if checks is not None else {}),
                }
                for rule, checks in rows
            ],
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    title = "审核规则" + (f"（评价框架 {profile.id}）" if profile else "")
    t = Table(title=title, header_style="bold")
    for col in ("编码", "级别", "范围", "说明", "适用", "工作簿公式"):
        t.add_column(col)
    for rule, checks in rows:
        formula = "是" if rule.live else "否"
        if checks is not None:
            formula = f"是（{checks} 条）"
        t.add_row(
            rule.code,
            rule.severity.value,
            rule.scope.value,
            rule.title,
            rule.applies_text(),
            formula,
        )
    show_table(t, head=3, markup=False)
    print(f"共 {len(rows)} 条规则", flush=True)


def register(cli: click.Group) -> None:
    cli.add_command(check_cmd)
    cli.add_command(rules_cmd)
