"""The `perfxl` command. Every failure a user can cause ends in Chinese, exit code 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import InputError, Problem
from .filing_io import load_filing_ex
from .model import Filing, filing_json_schema
from .profile import RULE_KIND_NAMES, Profile, load_profile, load_profile_file, shipped_profiles
from .report import print_score, score_json
from .scoring import score

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


def _profile_for(filing: Filing, override: str | None) -> Profile:
    prof = load_profile(override or filing.profile)
    if filing.profile_version and filing.profile_version != prof.version and not override:
        err.print(
            f"[yellow]提示：填报数据按评价框架 {prof.id} 版本 {filing.profile_version} 编制，"
            f"当前框架版本为 {prof.version}[/yellow]"
        )
    return prof


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfxl")
def cli() -> None:
    """perfxl：预算绩效自评表的模板、填报、评分与审核工具。"""


@cli.command("profiles")
def profiles_cmd() -> None:
    """列出内置的评价框架（profile）。"""
    t = Table(title="内置评价框架", header_style="bold")
    for col in ("编号", "版本", "名称", "类型", "总分", "指标数", "依据"):
        t.add_column(col)
    for pid in shipped_profiles():
        p = load_profile(pid)
        t.add_row(
            p.id,
            p.version,
            p.title,
            "项目支出" if p.kind == "project" else "部门整体",
            f"{p.total}",
            str(len(p.walk())),
            p.basis or "",
        )
    out.print(t)


@cli.group("profile")
def profile_grp() -> None:
    """评价框架文件的校验。"""


@profile_grp.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def profile_check(file: Path) -> None:
    """校验财政局自定义的评价框架文件，列出全部问题。"""
    p = load_profile_file(file)
    leaves = [n for _, n in p.walk() if not n.children]
    kinds = sorted({n.rule.kind for n in leaves if n.rule is not None})
    out.print(
        f"[green]通过[/green]：{file} —— {p.title}（{p.id} 版本 {p.version}），"
        f"一级指标 {len(p.indicators)} 个，末级指标 {len(leaves)} 个，总分 {p.total}，"
        f"评分规则：{'、'.join(RULE_KIND_NAMES[k] for k in kinds)}"
    )


@cli.command("schema")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="写入文件（默认输出到屏幕）")
def schema_cmd(output: Path | None) -> None:
    """输出填报数据（filing）的 JSON Schema。"""
    text = json.dumps(filing_json_schema(), ensure_ascii=False, indent=2)
    if output:
        from .atomic import write_text

        write_text(output, text + "\n")
        out.print(f"已写入 {output}")
    else:
        click.echo(text)


@cli.command("score")
@click.argument("filing", type=click.Path(path_type=Path))
@click.option("--profile", "profile_id", help="评价框架编号或文件（默认取填报数据中的 profile）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）")
def score_cmd(filing: Path, profile_id: str | None, as_json: bool) -> None:
    """复算一份自评表的各项得分、总分和等级。"""
    f, notes = load_filing_ex(filing)
    for note in notes:
        err.print(f"[yellow]提示[/yellow]：{note}", soft_wrap=True)
    p = _profile_for(f, profile_id)
    result = score(f, p)
    if as_json:
        click.echo(json.dumps(score_json(result, f, p, str(filing)), ensure_ascii=False, indent=2))
    else:
        print_score(out, result, f, p)


@cli.command("demo")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("perfxl-demo"),
    show_default=True,
    help="输出文件夹",
)
def demo_cmd(output: Path) -> None:
    """在随附的示例上运行主要流程，结果写入输出文件夹。"""
    from .demo import run_demo

    run_demo(output, out)


def _register_plugins() -> None:
    """Command groups that live in their own modules (workbook, check) add themselves here."""
    import importlib

    for mod in ("perfxl.cli_workbook", "perfxl.cli_check", "perfxl.cli_io", "perfxl.cli_report"):
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        module.register(cli)


_register_plugins()


def main(argv: list[str] | None = None) -> None:
    debug = bool(os.environ.get("PERFXL_DEBUG"))
    try:
        cli.main(args=argv, prog_name="perfxl", standalone_mode=False)
    except InputError as exc:
        for p in exc.problems:
            err.print(f"[red]错误[/red]：{p}", soft_wrap=True)
        sys.exit(EXIT_INPUT)
    except click.exceptions.Abort:
        err.print("已取消")
        sys.exit(EXIT_INPUT)
    except click.ClickException as exc:
        err.print(f"[red]错误[/red]：{_click_zh(exc)}", soft_wrap=True)
        sys.exit(EXIT_INPUT)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        err.print(
            f"[red]内部错误[/red]：{type(exc).__name__}: {exc}\n"
            "这是 perfxl 的缺陷，请把命令和输入文件反馈给维护者"
            "（设置环境变量 PERFXL_DEBUG=1 可看到详细信息）。",
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)


def _click_zh(exc: click.ClickException) -> str:
    """Click's usage errors in Chinese, with the English original for reference."""
    if isinstance(exc, click.exceptions.NoSuchOption):
        return f"没有选项 {exc.option_name}（用 -h 查看用法）"
    if isinstance(exc, click.exceptions.MissingParameter):
        return f"缺少参数 {exc.param.human_readable_name if exc.param else ''}（用 -h 查看用法）"
    if isinstance(exc, click.exceptions.UsageError):
        return f"命令用法不正确：{exc.format_message()}（用 -h 查看用法）"
    return exc.format_message()


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = ["EXIT_FINDINGS", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "Problem", "main"]
