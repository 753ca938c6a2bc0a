"""Click's own words in Chinese: help headings, usage errors, the names of arguments.

Click marks its messages for gettext (`_("Usage:")`, `ngettext("Got unexpected extra
argument …")`); `install()` points those names in click's modules at the table below, so
help, usage lines and errors come out in Chinese whatever the locale. Installed before any
command is declared: some texts (the --version help, a Path's name) are taken when a
command is built. `localize()` names every argument and option value in Chinese (用法：
perfxl check [选项] 文件...; 缺少参数 文件), unless the command names it already.
"""

from __future__ import annotations

import sys

import click

MESSAGES: dict[str, str] = {
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "(dynamic)": "（动态）",
    "Aborted!": "已取消。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    "Choice({choices})": "可选（{choices}）",
    "Choose from:\n\t{choices}": "可选值：\n\t{choices}",
    "Commands": "命令",
    "Confirm the action without prompting.": "不询问，直接执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename}：{message}",
    "Do you want to continue?": "是否继续？",
    "Error: The two entered values do not match.": "错误：两次输入的值不一致。",
    "Error: invalid input": "错误：输入无效",
    "Error: {message}": "错误：{message}",
    "Invalid start character for option ({option})": "选项的首字符无效（{option}）",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing command.": "缺少命令。",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "No such command {name!r}.": "没有命令 {name}。",
    "No such option {name!r}.": "没有选项 {name}。",
    "Option {name!r} does not take a value.": "选项 {name} 不带值。",
    "Options": "选项",
    "Positional arguments": "参数",
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Show the version and exit.": "显示版本号并退出。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Try '{command} {option}' for help.": "用 “{command} {option}” 查看帮助。",
    "Usage:": "用法：",
    "Value must be an iterable.": "值应为列表。",
    "default: {default}": "默认：{default}",
    "deprecated": "已弃用",
    "directory": "文件夹",
    "env var: {var}": "环境变量：{var}",
    "file": "文件",
    "path": "路径",
    "required": "必填",
    "unknown error": "未知错误",
    "{name} {filename!r} does not exist.": "{name} {filename} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename} 是文件。",
    "{name} {filename!r} is not executable.": "{name} {filename} 不可执行。",
    "{name} {filename!r} is not readable.": "{name} {filename} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename} 不可写。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "integer": "整数",
    "float": "数",
    "boolean": "是/否",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} 不是有效的是/否值，可用：{states}"
    ),
}

PLURALS: dict[str, str] = {
    "Got unexpected extra argument ({args})": "多余的参数：{args}",
    "Did you mean {possibility}?": "是否想输入 {possibility}？",
    "Option {name!r} requires an argument.": "选项 {name} 需要一个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 {len} 个。",
    "{value!r} is not {choice}.": "{value!r} 不是可选值 {choice}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {formats}。",
    "{len_type} values are required, but {len_value} was given.": (
        "需要 {len_type} 个值，给了 {len_value} 个。"
    ),
}


class ZhFormatter(click.HelpFormatter):
    """Help headings with a Chinese colon: 用法：, 选项：, 命令：."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if singular == "Did you mean {possibility}?" and n != 1:
        return "（是否想输入以下之一：{possibilities}？）"
    if singular == "{value!r} is not {choice}." and n != 1:
        return "{value!r} 不是可选值之一：{choices}。"
    if singular in PLURALS:
        return PLURALS[singular]
    return singular if n == 1 else plural


_MODULES = (
    "click.core", "click.exceptions", "click.parser", "click.types", "click.decorators",
    "click.formatting", "click.termui", "click._termui_impl",
)  # fmt: skip


def install() -> None:
    """Point click's gettext names at the Chinese table (idempotent)."""
    import importlib

    for name in _MODULES:
        module = sys.modules.get(name) or importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    click.Context.formatter_class = ZhFormatter
    # types whose name click took before this module could translate it
    click.STRING.name = "文本"
    click.INT.name = "整数"
    click.FLOAT.name = "数"
    click.BOOL.name = "是/否"


# Option values by the name of the parameter, then by the type.
OPTION_NAMES = {
    "profile_id": "框架",
    "profile_ref": "框架",
    "output": "路径",
    "budget": "文件",
    "targets": "文件",
    "manifest": "清单",
    "vba": "文件",
    "template": "模板",
    "key": "列=值",
    "row": "行号",
    "jobs": "进程数",
    "pattern": "样式",
}
ARGUMENT_NAMES = {
    "file": "文件",
    "files": "文件...",
    "filing": "填报文件",
    "filings": "填报文件...",
    "returns": "回收文件或文件夹...",
    "data": "数据文件",
    "master": "主表",
    "profile": "框架",
    "target": "框架或模板",
}


def _type_name(param: click.Parameter) -> str:
    t = param.type
    if isinstance(t, click.Path):
        return "文件夹" if t.dir_okay and not t.file_okay else "路径"
    if isinstance(t, click.IntRange | click.types.IntParamType):
        return "整数"
    if isinstance(t, click.FloatRange | click.types.FloatParamType):
        return "数"
    return "文本"


def localize(command: click.Command) -> click.Command:
    """Chinese metavars for `command` (and a group's subcommands already declared)."""
    if getattr(command, "_perfxl_zh", False):
        return command
    command._perfxl_zh = True  # type: ignore[attr-defined]
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = "[选项]"
    if isinstance(command, click.Group):
        command.subcommand_metavar = "命令 [参数]..."
        for sub in command.commands.values():
            localize(sub)
    for param in command.params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.Argument):
            name = ARGUMENT_NAMES.get(param.name or "")
            if name is None:
                name = _type_name(param)
                if param.nargs != 1:
                    name += "..."
            param.metavar = name if param.required else f"[{name}]"
        elif isinstance(param, click.Option) and not param.is_flag:
            if isinstance(param.type, click.Choice):
                continue  # the choices themselves: [text|json|xlsx]
            param.metavar = OPTION_NAMES.get(param.name or "") or _type_name(param)
    return command


def missing_name(param: click.Parameter | None) -> str:
    """How a missing argument or option is named in the error: 文件, --output."""
    if param is None:
        return ""
    if isinstance(param, click.Option):
        return param.opts[-1] if param.opts else (param.name or "")
    return (param.metavar or param.name or "").strip("[]").removesuffix("...")


__all__ = ["install", "localize", "missing_name"]
