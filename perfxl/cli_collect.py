"""`perfxl collect` (回收): take a round of returned workbooks back against the manifest.

Exit codes: 0 every unit distributed to has returned a workbook that passes (通过); 1 some
unit is 未通过, 未交 or 无法读取; 2 the command could not run (bad manifest, options, output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from .click_options import cluster_option, jobs_option
from .errors import InputError, Problem
from .terminal import clean, safe


@click.command("collect")
@click.argument("returns", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--manifest", "manifest", type=click.Path(path_type=Path), required=True,
    help="下发时写出的清单 manifest.csv（或主表，此时须加 --profile）",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True,
    help="本轮回收的输出文件夹（再次运行时保留先前各轮的记录并对比变化）",
)  # fmt: skip
@click.option("--profile", "profile_ref", help="用主表作清单时的评价框架编号或文件")
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="在标准输出打印本轮的 JSON（供程序使用）")
@cluster_option("审核交回的文件")
def collect_cmd(
    returns: tuple[Path, ...],
    manifest: Path,
    output: Path,
    profile_ref: str | None,
    jobs: int | None,
    as_json: bool,
    cluster: str | None,
) -> None:
    """回收：审核各单位交回的自评表，按内容（单位编码、年度、评价框架）与下发清单核对。

    “回收文件或文件夹”为各单位交回的文件或文件夹（含子文件夹）。.xls/.et 文件由 LibreOffice 转为 .xlsx
    后审核（原文件不动）。每个单位一个状态：未交、无法读取、未通过、通过，并标记 重复、
    身份不符、不在清单、未改动、已验收后修改。输出文件夹中写出 汇总.xlsx（汇总、未交、
    问题清单、统计）、汇总.json、汇总.csv、问题清单.csv，需要退回的单位各一个文件夹
    （标注副本和审核意见），以及 history/ 中各轮的记录。

    退出码：0 所有下发的单位均已交回且通过；1 有单位未通过、未交或无法读取；2 命令无法执行。
    """
    from .batch import read_manifest
    from .collect import _under, run_round
    from .isolation import per_file
    from .profile import load_profile

    for r in returns:
        if r.is_dir() and (_under(r, output) and r.resolve() != output.resolve()):
            continue
        if r.is_dir() and _under(output, r):
            pass  # the output folder inside a returns folder is skipped while scanning
    if output.exists() and not output.is_dir():
        raise InputError(Problem(str(output), "", "输出应为文件夹"))
    for r in returns:
        if output.resolve() == r.resolve() or (r.is_dir() and _under(r, output)):
            raise InputError(
                Problem(str(output), "", f"输出文件夹不能是交回文件所在的文件夹 {r}，请另选一个")
            )
    profile = load_profile(profile_ref) if profile_ref else None
    with per_file(manifest):
        expected, notes = read_manifest(manifest, profile)
    if not expected:
        raise InputError(Problem(str(manifest), "", "清单中没有已下发的单位"))
    err = Console(stderr=True, highlight=False)

    def progress(done: int, total: int, res: dict) -> None:
        what = "可以审核" if res.get("usable") else "无法读取"
        err.print(f"[{done}/{total}] {clean(res['file'])}：{what}", markup=False, soft_wrap=True)

    rnd = run_round(
        returns, expected, manifest=str(manifest), round_dir=output, jobs=jobs,
        progress=progress, notes=notes, skip=[output], cluster=cluster,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps(rnd.to_json(), ensure_ascii=False, indent=1, default=str))
    else:
        out = Console(highlight=False, soft_wrap=True)
        for note in rnd.notes:
            out.print(f"[yellow]提示[/yellow]：{safe(note)}")
        for u in rnd.unidentified:
            out.print(f"[red]无法识别[/red]：{safe(u['文件'])}：{safe(u['原因'])}")
        for u in rnd.units:
            if u["状态"] == "通过" and not u["标记"]:
                continue
            flags = f"［{u['标记']}］" if u["标记"] else ""
            why = f"：{u['主要问题']}" if u["主要问题"] and u["状态"] != "通过" else ""
            out.print(
                f"{safe(u['单位编码'])} {safe(u['名称'])}：{u['状态']}{safe(flags)}{safe(why)}"
            )
        c = rnd.counts()
        out.print(
            f"第 {rnd.number} 轮：共 {len(rnd.units)} 个单位，通过 {c['通过']}，未通过 {c['未通过']}，"
            f"无法读取 {c['无法读取']}，未交 {c['未交']}；汇总 {safe(output / '汇总.xlsx')}"
        )
    sys.exit(rnd.exit_code())


def register(cli: click.Group) -> None:
    cli.add_command(collect_cmd)
