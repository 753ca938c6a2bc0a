"""The `perfxl` command. Every failure a user can cause ends in Chinese, exit code 2."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .click_options import jobs_option
from .click_zh import install, localize, missing_name
from .errors import InputError, Problem
from .terminal import clean, safe, show_table

install()  # click's own words in Chinese, before any command is declared

if TYPE_CHECKING:
    from .model import Filing
    from .profile import Profile

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class _Consoles:
    """Rich consoles, made (and Rich imported) when a command first prints through them:
    `perfxl --help` and a piped `perfxl check` never load Rich."""

    def __init__(self, **options: object) -> None:
        self._options = options
        self._console = None

    def _real(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> object:
        return getattr(self._real(), name)


out = _Consoles(highlight=False, soft_wrap=False)
err = _Consoles(stderr=True, highlight=False)


def _error(text: str) -> None:
    """An error on standard error: red on a terminal, plain text otherwise (text is plain)."""
    if sys.stderr.isatty():
        err.print(f"[red]错误[/red]：{safe(text)}", soft_wrap=True)
    else:
        print(f"错误：{clean(text)}", file=sys.stderr, flush=True)


def _profile_for(filing: Filing, override: str | None) -> Profile:
    from .profile import load_profile

    prof = load_profile(override or filing.profile)
    if filing.profile_version and filing.profile_version != prof.version and not override:
        err.print(
            f"[yellow]提示：填报数据按评价框架 {safe(prof.id)} 版本 {safe(filing.profile_version)}"
            f" 编制，当前框架版本为 {safe(prof.version)}[/yellow]"
        )
    return prof


# Commands that live in their own modules: (module, first line of the help). Listed here so
# `perfxl --help` shows them without importing the modules (and all they import); a module
# is imported when one of its commands runs. tests/test_startup.py keeps these lines equal
# to the commands' own help.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "perfxl.cli_check",
        "审核自评表：逐条运行审核规则，列出错误（强制性）和提示（提示性）。",
    ),
    "collect": (
        "perfxl.cli_collect",
        "回收：审核各单位交回的自评表，按内容（单位编码、年度、评价框架）与下发清单核对。",
    ),
    "distribute": (
        "perfxl.cli_io",
        "按主表每行生成一份预填并锁定预算数的工作簿，并写出清单 manifest.csv。",
    ),
    "fill": ("perfxl.cli_io", "把填报数据填入工作簿。"),
    "pdf": (
        "perfxl.cli_workbook",
        "用 LibreOffice 把工作簿转成 PDF（先重新计算公式），查看打印效果。",
    ),
    "read": (
        "perfxl.cli_io",
        "读取填好的自评表工作簿（.xlsx/.xlsm），输出填报数据；读取提示打印在标准错误上。",
    ),
    "report": ("perfxl.cli_report", "根据审核后的自评表起草自评报告（Word / Markdown / PDF）。"),
    "rules": ("perfxl.cli_check", "列出全部审核规则（编码、级别、范围、说明、适用）。"),
    "template": (
        "perfxl.cli_workbook",
        "生成评价框架（内置编号或财政局的框架文件）的空白自评表模板，含公式、审核和填表说明。",
    ),
}
PLUGIN_MODULES = (
    "perfxl.cli_workbook", "perfxl.cli_check", "perfxl.cli_io", "perfxl.cli_report",
    "perfxl.cli_collect",
)  # fmt: skip


class _LazyGroup(click.Group):
    """A group whose plugin commands are imported when used, not when listed."""

    _loaded: set[str]

    def _load(self, module_name: str) -> None:
        import importlib

        loaded = self.__dict__.setdefault("_loaded", set())
        if module_name in loaded:
            return
        loaded.add(module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return
        module.register(self)

    def load_all(self) -> None:
        for module_name in PLUGIN_MODULES:
            self._load(module_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            lazy = LAZY_COMMANDS.get(cmd_name)
            if lazy is not None:
                self._load(lazy[0])
            if cmd_name not in self.commands:
                self.load_all()  # a command of a plugin not listed above
        cmd = self.commands.get(cmd_name)
        return localize(cmd) if cmd is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            cmd = self.commands.get(name)
            if cmd is not None:
                if not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit)))
                continue
            stand_in = click.Command(name, help=LAZY_COMMANDS[name][1])
            rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("命令"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfxl")
def cli() -> None:
    """perfxl：预算绩效自评表的模板、填报、评分与审核工具。"""


@cli.command("profiles")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）")
def profiles_cmd(as_json: bool) -> None:
    """列出内置的评价框架（profile）。"""
    from .profile import load_profile, shipped_profiles

    profiles = [load_profile(pid) for pid in shipped_profiles()]
    if as_json:
        import json

        doc = [
            {
                "id": p.id,
                "version": p.version,
                "title": p.title,
                "kind": p.kind,
                "total": str(p.total),
                "indicators": len(p.walk()),
                "basis": p.basis or "",
            }
            for p in profiles
        ]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    t = Table(title="内置评价框架", header_style="bold")
    for col in ("编号", "版本", "名称", "类型", "总分", "指标数", "依据"):
        t.add_column(col, justify="right" if col in ("总分", "指标数") else "left")
    for p in profiles:
        t.add_row(
            p.id,
            p.version,
            p.title,
            "项目支出" if p.kind == "project" else "部门整体",
            f"{p.total}",
            str(len(p.walk())),
            p.basis or "",
        )
    show_table(t, head=2, markup=False)


@cli.group("profile")
def profile_grp() -> None:
    """评价框架文件的校验。"""


@profile_grp.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）")
def profile_check(file: Path, as_json: bool) -> None:
    """校验财政局自定义的评价框架文件，列出全部问题。"""
    from .profile import RULE_KIND_NAMES, load_profile_file

    p = load_profile_file(file)
    leaves = [n for _, n in p.walk() if not n.children]
    kinds = sorted({n.rule.kind for n in leaves if n.rule is not None})
    if as_json:
        import json

        doc = {
            "file": str(file),
            "valid": True,
            "id": p.id,
            "version": p.version,
            "title": p.title,
            "top_indicators": len(p.indicators),
            "leaf_indicators": len(leaves),
            "total": str(p.total),
            "rule_kinds": kinds,
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    out.print(
        f"[green]通过[/green]：{safe(file)} —— {safe(p.title)}（{safe(p.id)} 版本 {safe(p.version)}），"
        f"一级指标 {len(p.indicators)} 个，末级指标 {len(leaves)} 个，总分 {p.total}，"
        f"评分规则：{'、'.join(RULE_KIND_NAMES[k] for k in kinds)}"
    )


@cli.command("schema")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="写入文件（默认输出到屏幕）")
def schema_cmd(output: Path | None) -> None:
    """输出填报数据（filing）的 JSON Schema。"""
    import json

    from .model import filing_json_schema

    text = json.dumps(filing_json_schema(), ensure_ascii=False, indent=2)
    if output:
        from .atomic import write_text

        write_text(output, text + "\n")
        out.print(f"已写入 {safe(output)}")
    else:
        click.echo(text)


@cli.command("score")
@click.argument("filings", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", "profile_id", help="评价框架编号或文件（默认取填报数据中的 profile）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序使用）")
@jobs_option
def score_cmd(
    filings: tuple[Path, ...], profile_id: str | None, as_json: bool, jobs: int | None
) -> None:
    """复算自评表的各项得分、总分和等级。

    多份文件时每份复算完即输出（顺序与输入相同）：每份一行文件名和名称，下列执行率、总分和
    等级；--json 为 JSON Lines，每份一行，无法复算的为 {"file", "problems"}。无法复算的
    文件不影响其他文件，退出码为 2。"""
    if len(filings) > 1:
        from .cli_many import run

        sys.exit(run("score", filings, jobs, profile_id, as_json))
    filing = filings[0]
    from rich.console import Console

    from .filing_io import load_filing_ex
    from .isolation import per_file
    from .report import score_json
    from .scoring import score

    with per_file(filing):
        f, notes = load_filing_ex(filing)
    for note in notes:
        err.print(f"[yellow]提示[/yellow]：{safe(note)}", soft_wrap=True)
    p = _profile_for(f, profile_id)
    with per_file(filing):
        result = score(f, p)
    if as_json:
        import json

        click.echo(json.dumps(score_json(result, f, p, str(filing)), ensure_ascii=False, indent=2))
    else:
        from .report import score_table, summary_lines

        console = Console(highlight=False, soft_wrap=False, markup=False)
        show_table(score_table(result, _shown(f), p), console, head=2, markup=False)
        for line in summary_lines(result):
            console.print(line, soft_wrap=True)


def _shown(filing: Filing) -> Filing:
    """The filing with its text made safe to print (no control sequences)."""
    from .model import Filing

    def walk(v: object) -> object:
        if isinstance(v, str):
            return clean(v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    try:
        return Filing.model_validate(walk(filing.model_dump(mode="python")))
    except ValueError:
        return filing


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
    from rich.console import Console

    from .demo import run_demo

    run_demo(output, Console(highlight=False, soft_wrap=False))


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def main(argv: list[str] | None = None) -> None:
    """Run the command line. Exit codes: 0 ok, 1 findings (check) or failed rows
    (distribute), 2 an input or the operating system stopped the command (Chinese message,
    no traceback), 3 a defect in perfxl, 130 interrupted (Ctrl-C)."""
    debug = bool(os.environ.get("PERFXL_DEBUG"))
    if not debug:
        # a library's cleanup failing after its error was reported (lxml closing a stream on
        # a full disk) must not print a traceback under the Chinese message
        sys.unraisablehook = lambda _unraisable: None
    localize(cli)
    try:
        cli.main(args=argv, prog_name="perfxl", standalone_mode=False)
    except InputError as exc:
        for p in exc.problems:
            _error(str(p))
        sys.exit(EXIT_INPUT)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (and end of input at a prompt) into Abort
        _interrupted(exc.__context__ if exc.__context__ is not None else exc)
    except click.ClickException as exc:
        _error(_click_zh(exc))
        sys.exit(EXIT_INPUT)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except BrokenPipeError:
        # the reader of our output went away (`perfxl read … | head`): not an error of ours
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        sys.exit(EXIT_OK)
    except OSError as exc:
        if debug:
            raise
        from .atomic import describe_os_error

        _error(str(describe_os_error(exc)))
        sys.exit(EXIT_INPUT)
    except MemoryError:
        err.print(
            "[red]错误[/red]：内存不足，命令已停止（输入文件可能异常或过大）。"
            "已写出的文件完整可用，未写完的没有留下。",
            soft_wrap=True,
        )
        sys.exit(EXIT_INPUT)
    except Exception as exc:
        if debug:
            raise
        err.print(
            f"[red]内部错误[/red]：{safe(type(exc).__name__)}: {safe(exc)}\n"
            "这是 perfxl 的缺陷，请把命令和输入文件反馈给维护者"
            "（设置环境变量 PERFXL_DEBUG=1 可看到详细信息）。",
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)


def _interrupted(exc: BaseException) -> None:
    if isinstance(exc, EOFError):
        err.print("已取消（输入结束）")
        sys.exit(EXIT_INPUT)
    err.print("已中断（Ctrl-C）：未写完的文件没有留下 / interrupted")
    sys.exit(EXIT_INTERRUPTED)


def _click_zh(exc: click.ClickException) -> str:
    """Click's usage errors, in Chinese (click_zh translates click's own messages)."""
    hint = "（用 -h 查看用法）"
    if isinstance(exc, click.exceptions.MissingParameter):
        what = "选项" if isinstance(exc.param, click.Option) else "参数"
        return f"缺少{what} {missing_name(exc.param)}{hint}"
    if isinstance(exc, click.exceptions.UsageError):
        text = exc.format_message().replace("。 ", "。")
        return f"命令用法不正确：{text}{hint}"
    return exc.format_message()


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Problem",
    "main",
]
