"""Start-up: `perfxl --help` and a piped `perfxl check` import only what they use."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from perfxl import cli as cli_module

from .conftest import PROJECT_EXAMPLE, ROOT


def _imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `perfxl args` (stdout a pipe) and the modules it imported."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "160"}
    env.pop("PERFXL_DEBUG", None)
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "perfxl", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in r.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return r, modules


def _tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_no_command_module() -> None:
    r, modules = _imported("--help")
    assert r.returncode == 0
    heavy = {"rich", "pydantic", "yaml", "openpyxl", "xlsxwriter", "python_calamine", "pandas"}
    assert not heavy & _tops(modules), sorted(heavy & _tops(modules))
    assert not {m for m in modules if m.startswith("perfxl.") and m.startswith("perfxl.cli_")}
    for name in cli_module.LAZY_COMMANDS:
        assert f"  {name} " in r.stdout, name


def test_piped_check_of_a_data_file_does_not_load_rich_or_writers() -> None:
    r, modules = _imported("check", str(PROJECT_EXAMPLE))
    assert r.returncode == 0 and "审核通过" in r.stdout
    assert not {"rich", "xlsxwriter", "pandas", "numpy"} & _tops(modules)


def test_listed_help_is_the_commands_own() -> None:
    """Every command of every command module is listed, with the first line of its help."""
    group = cli_module.cli
    group.load_all()
    ctx = click.Context(group)
    plugin_commands = {
        name: cmd for name, cmd in group.commands.items() if cmd.callback.__module__ != "perfxl.cli"
    }
    assert set(plugin_commands) == set(cli_module.LAZY_COMMANDS), (
        "add the new command to perfxl.cli.LAZY_COMMANDS"
    )
    for name, cmd in plugin_commands.items():
        module, line = cli_module.LAZY_COMMANDS[name]
        assert cmd.callback.__module__ == module, name
        assert cmd.get_short_help_str(200) == click.Command(name, help=line).get_short_help_str(200)
    assert group.get_command(ctx, "check") is plugin_commands["check"]


def test_a_command_runs_from_its_module() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run(
        [sys.executable, "-m", "perfxl", "rules", "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0 and "--profile" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "perfxl", "nosuch"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert r.returncode == 2 and "错误" in r.stderr and "Traceback" not in r.stderr
