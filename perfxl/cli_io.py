"""Commands that move filings in and out of workbooks: read, fill, distribute."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .atomic import refuse_inputs
from .batch import DEFAULT_PATTERN, PATTERN_FIELDS, Outcome, distribute, read_master, select_row
from .cli import _Consoles
from .click_options import jobs_option
from .errors import InputError, Problem
from .filing_io import DATA_SUFFIXES, filing_to_json, filing_to_yaml, load_filing
from .isolation import per_file
from .model import Filing
from .profile import Profile, load_profile
from .terminal import clean, safe
from .vba import SHIPPED_VBA

out = _Consoles(highlight=False, soft_wrap=False)
err = _Consoles(stderr=True, highlight=False)


def _profile(ref: str | None) -> Profile | None:
    return load_profile(ref) if ref else None


def _notes(problems: list[Problem]) -> None:
    for p in problems:
        err.print(f"[yellow]提示[/yellow]：{safe(p)}", soft_wrap=True)


def _profile_inputs(ref: str | None) -> tuple[Path, ...]:
    """A profile given as a file is an input too (never to be overwritten)."""
    return (Path(ref),) if ref and Path(ref).suffix.lower() in (".yaml", ".yml", ".json") else ()


@click.command("read")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", "profile_ref", help="评价框架编号或文件（财政局自定义的框架需指定）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（默认 YAML）")
@click.option("--sources", is_flag=True, help="同时输出每个数值所在的工作表和单元格")
@jobs_option
def read_cmd(
    files: tuple[Path, ...], profile_ref: str | None, as_json: bool, sources: bool, jobs: int | None
) -> None:
    """读取填好的自评表工作簿（.xlsx/.xlsm），输出填报数据；读取提示打印在标准错误上。

    多份文件时每份读完即输出（顺序与输入相同）：YAML 为多个文档，各以“--- # 文件：路径”
    开头；--json 为 JSON Lines，每份一行 {"file", "filing"}，无法读取的为 {"file",
    "problems"}。无法读取的文件不影响其他文件，退出码为 2。"""
    if len(files) > 1:
        from .cli_many import run

        sys.exit(run("read", files, jobs, profile_ref, as_json, sources))
    from .workbook.read import read_workbook_ex

    file = files[0]
    with per_file(file):
        filing, notes = read_workbook_ex(file, _profile(profile_ref))
    _notes(notes)
    if not sources:
        filing = filing.model_copy(update={"sources": {}})
    text = filing_to_json(filing) + "\n" if as_json else filing_to_yaml(filing)
    click.echo(text, nl=False)


def _is_perfxl_workbook(path: Path) -> bool:
    from .workbook.guard import open_package

    pkg = open_package(path)
    pkg.zip.close()
    return "pf_meta_profile" in pkg.names


def _data(
    data: Path, target: str, profile_ref: str | None, row: int | None, key: str | None
) -> Filing:
    """The filing to fill: a YAML/JSON filing, a filled workbook, or one master-table row."""
    suffix = data.suffix.lower()
    if suffix in DATA_SUFFIXES:
        return load_filing(data)
    if suffix in (".xlsx", ".xlsm") and _is_perfxl_workbook(data):
        from .workbook.read import read_workbook_ex

        filing, notes = read_workbook_ex(data, _profile(profile_ref))
        _notes(notes)
        return filing
    if suffix not in (".csv", ".xlsx", ".xlsm", ".xls", ".et"):
        raise InputError(
            Problem(str(data), "", "数据应为 .yaml/.json 填报数据，或 .csv/.xlsx 主表")
        )
    profile = _profile(profile_ref)
    if profile is None:
        from .workbook.fill import is_template
        from .workbook.read import locate

        profile = locate(Path(target))[0] if is_template(target) else load_profile(target)
    master = read_master(data, profile)
    chosen = select_row(master.rows, number=row, key=key)
    where = f"第 {chosen.index} 条（表格第 {chosen.line} 行）"
    _notes([Problem(str(data), "", n) for n in master.notes])
    _notes([Problem(str(data), where, n) for n in chosen.notes])
    if chosen.filing is None:
        raise InputError([Problem(str(data), where, e) for e in chosen.errors])
    return chosen.filing


@click.command("fill")
@click.argument("target", metavar="框架或模板")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="输出工作簿")
@click.option("--row", type=int, help="主表的第几条数据（表头下第一行为 1）")
@click.option("--key", help="按列取主表的一行，如 单位编码=901001")
@click.option("--profile", "profile_ref", help="模板所用的评价框架文件（财政局自定义框架时）")
@click.option("--lock", is_flag=True, help="锁定填入的年初预算数、全年预算数（按框架生成时）")
@click.option(
    "--strict", is_flag=True, help="填报数据中有工作簿不能原样保留的项时不写出文件（默认逐项提示）"
)
def fill_cmd(
    target: str,
    data: Path,
    output: Path,
    row: int | None,
    key: str | None,
    profile_ref: str | None,
    lock: bool,
    strict: bool,
) -> None:
    """把填报数据填入工作簿。

    “框架或模板”为评价框架编号/文件（生成带公式、校验和审核表的新工作簿），
    或财政局自己的模板 .xlsx/.xlsm（只写入填报栏，保留原样式）。“数据文件”为 .yaml/.json
    填报数据、填好的工作簿，或主表 .csv/.xlsx 中的一行（--row / --key）。
    """
    from .workbook.fill import fill, not_kept

    inputs = (data, Path(target), *_profile_inputs(profile_ref))
    refuse_inputs(output, inputs)
    with per_file(data):
        filing = _data(data, target, profile_ref, row, key)
    prof = _profile(profile_ref)
    if strict:  # filled beside the output first: nothing is written unless all is kept
        import os
        import tempfile

        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=".perfxl-fill-") as d:
            trial = Path(d) / output.name
            fill(target, filing, trial, profile=prof, lock_prefilled=lock, inputs=inputs)
            lost = not_kept(filing, trial, prof)
            if lost:
                raise InputError(
                    [
                        Problem(str(output), p.place, f"{p.message}（--strict：未写出文件）")
                        for p in lost
                    ]
                )
            os.replace(trial, output)
        out.print(f"已写入 {safe(output)}")
        return
    fill(target, filing, output, profile=prof, lock_prefilled=lock, inputs=inputs)
    out.print(f"已写入 {safe(output)}")
    # a field the workbook does not give back as stated is named, never dropped silently
    _notes(not_kept(filing, output, prof))


@click.command("distribute")
@click.argument("master", type=click.Path(path_type=Path))
@click.option("--profile", "profile_ref", required=True, help="评价框架编号或文件")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="输出文件夹")
@jobs_option
@click.option(
    "--name",
    "pattern",
    default=DEFAULT_PATTERN,
    show_default=True,
    help=f"文件名样式，可用 {'、'.join('{' + f + '}' for f in PATTERN_FIELDS)}",
)
@click.option(
    "--force",
    is_flag=True,
    help="覆盖输出文件夹中先前下发的同名空白表（已填报的回收文件和主表永不覆盖）",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "xlsm"]),
    default="xlsx",
    show_default=True,
    help="xlsm：带 校验/评分/清除标记 按钮的启用宏工作簿",
)
def distribute_cmd(
    master: Path,
    profile_ref: str,
    output: Path,
    jobs: int | None,
    pattern: str,
    force: bool,
    fmt: str = "xlsx",
) -> None:
    """按主表每行生成一份预填并锁定预算数的工作簿，并写出清单 manifest.csv。

    主表为 .csv（UTF-8 或 GBK）或 .xlsx 的第一张表，表头所在行为第一个非空行。列名：
    单位编码、名称（或 项目名称、单位名称）、主管部门、实施单位（或 预算单位）、
    年度（必填）、年初预算数、全年预算数、全年执行数（万元）；项目表的“其中”各行写作
    当年财政拨款年初预算数、上年结转资金全年预算数、其他资金全年执行数 等。也接受英文
    字段名（unit_code、name、department、unit、year、initial、budget、executed、
    fiscal_initial、carryover_budget、other_executed 等）。合计、总计、小计行自动跳过。

    有行失败时退出码为 1（清单和标准错误中列出原因），其余行照常生成。输出文件夹中
    已有同名文件时不作任何修改并退出（退出码 2），除非加 --force；即使加了 --force，
    单位已填报的回收文件、主表和评价框架文件也不会被覆盖。

    每份工作簿的单位编码、名称和预算数均已锁定；清单记录评价框架、年度、身份摘要和
    文件摘要，供 perfxl collect 回收时核对。--format xlsm 生成带按钮的启用宏工作簿。
    """
    from .parallel import default_jobs

    profile = load_profile(profile_ref)
    with per_file(master):
        table = read_master(master, profile)
    _notes([Problem(str(master), "", n) for n in table.notes])
    failed: list[Outcome] = []
    opts = {
        "jobs": jobs or default_jobs(),
        "pattern": pattern,
        "force": force,
        "vba_project": SHIPPED_VBA if fmt == "xlsm" else None,
        "inputs": (master, *_profile_inputs(profile_ref)),
    }

    def line(o: Outcome) -> str:
        what = o.name or o.unit_code or f"第 {o.index} 条"
        return f"{o.status} {o.file or what}" + (f"：{o.note}" if o.note else "")

    if sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("分发"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err._real(), transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("", total=len(table.rows))

            def show(o: Outcome, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)
                if o.status != "已生成":
                    failed.append(o)
                    bar.console.print(f"[red]第 {o.index} 条[/red] {safe(line(o))}", soft_wrap=True)

            outcomes = distribute(table, profile, output, progress=show, **opts)
    else:

        def plain(o: Outcome, done: int, total: int) -> None:
            if o.status != "已生成":
                failed.append(o)
            print(f"[{done}/{total}] 第 {o.index} 条 {clean(line(o))}", file=sys.stderr, flush=True)

        outcomes = distribute(table, profile, output, progress=plain, **opts)
    made = len(outcomes) - len(failed)
    out.print(
        f"共 {len(outcomes)} 行：已生成 {made} 份，失败 {len(failed)} 行；"
        f"清单 {safe(output / 'manifest.csv')}"
    )
    if failed:
        sys.exit(1)


def register(cli: click.Group) -> None:
    for cmd in (read_cmd, fill_cmd, distribute_cmd):
        cli.add_command(cmd)
