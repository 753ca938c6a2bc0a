"""What the command line prints, run as a real subprocess: piped (plain aligned text, every
value in full), on a terminal of a given width (a pseudo-terminal), as JSON, in Chinese."""

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_tty(*args: str, columns: int) -> str:
    """`perfxl` with its standard output on a terminal `columns` wide."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "PYTHONIOENCODING": "utf-8"}
    env.pop("PERFXL_DEBUG", None)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfxl", *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


def test_profiles_piped_prints_every_value_in_full():
    r = run_cli("profiles")
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout and "┃" not in r.stdout
    lines = r.stdout.splitlines()
    assert lines[0] == "内置评价框架"
    assert lines[1].split() == ["编号", "版本", "名称", "类型", "总分", "指标数", "依据"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"dept-guangdong", "dept-hubei", "project-2020"}
    assert "广东省部门整体支出绩效自评指标体系（广州市公开样式）" in rows["dept-guangdong"]
    # aligned columns: the 名称 column starts at the same place on every line
    starts = {line.index("部门整体支出绩效自评表") for line in lines if "部门整体支出" in line}
    assert len(starts) == 1


def test_profiles_and_rules_json():
    r = run_cli("profiles", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [p["id"] for p in data] == ["dept-guangdong", "dept-hubei", "project-2020"]
    assert data[2]["kind"] == "project" and data[2]["total"] == "100"
    r = run_cli("rules", "--json", "--profile", "project-2020")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["profile"] == "project-2020"
    codes = [x["code"] for x in doc["rules"]]
    assert "COMP-HEADER" in codes and len(codes) == len(set(codes))
    header = next(x for x in doc["rules"] if x["code"] == "COMP-HEADER")
    assert header["severity"] == "强制性" and header["live"] and header["live_checks"] >= 1


def test_rules_piped_is_plain_full_text_with_a_count():
    r = run_cli("rules")
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout and "│" not in r.stdout
    n = len(json.loads(run_cli("rules", "--json").stdout)["rules"])
    assert r.stdout.rstrip().endswith(f"共 {n} 条规则")
    assert (
        "读取时按推断处理的内容须核实（如按元填写的金额、按年度指标值推断的指标性质）" in r.stdout
    )


def test_score_piped_keeps_headers_and_names_whole():
    r = run_cli("score", PROJECT_EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout and "┃" not in r.stdout
    assert "得分（复算）" in r.stdout and "得分（填报）" in r.stdout
    total = next(line for line in r.stdout.splitlines() if line.split()[:1] == ["总分"])
    assert total.split()[1:4] == ["100.00", "94.23", "94.23"]


def test_a_narrow_terminal_shows_values_in_full():
    text = run_tty("profiles", columns=60)
    assert "…" not in text
    assert "dept-guangdong" in text
    assert "依据：广东省部门整体支出绩效自评指标体系（广州市公开样式）" in text
    wide = run_tty("profiles", columns=200)
    assert "┃" in wide and "dept-guangdong" in wide and "…" not in wide


def test_a_batch_ends_with_a_totals_line(tmp_path):
    missing = tmp_path / "没有这个文件.yaml"
    r = run_cli("check", PROJECT_EXAMPLE, WUHAN_EXAMPLE, missing)
    assert r.returncode == 2
    last = r.stdout.rstrip().splitlines()[-1]
    assert last == (
        "合计：3 份文件，通过 2 份，未通过 0 份，无法审核 1 份；错误 0 项 / 提示 0 项 / 已说明 1 项"
    )
    out = tmp_path / "审核.txt"
    r = run_cli("check", PROJECT_EXAMPLE, WUHAN_EXAMPLE, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8").rstrip().splitlines()[-1].startswith("合计：2 份文件")
    text = run_tty("check", str(PROJECT_EXAMPLE), str(WUHAN_EXAMPLE), columns=100)
    assert "合计：2 份文件，通过 2 份" in text
    single = run_cli("check", PROJECT_EXAMPLE)
    assert "合计" not in single.stdout


ENGLISH = re.compile(
    r"Usage|Options|Commands|Error|Missing|Got unexpected|Did you mean|No such|Invalid value|"
    r"is not|Show this|\b(FILE|FILES|TEXT|PATH|INTEGER|PROFILE\w*|FILING|MASTER|DATA)\b"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "a.yaml", "b.yaml"], "多余的参数：b.yaml"),
        (["chek"], "没有命令 chek"),
        (["check", "--formt", "x", "a.yaml"], "没有选项 --formt。是否想输入 '--format'"),
        (["check"], "缺少参数 文件"),
        (["fill", "project-2020"], "缺少参数 数据文件"),
        (["template", "project-2020"], "缺少选项 --output"),
        (["check", "--format", "pdf", "a.yaml"], "'pdf' 不是可选值之一"),
        (["check", "-j", "0", "a.yaml"], "0 不在范围"),
        (["score", "--profile"], "选项 --profile 需要一个值"),
    ],
)
def test_usage_errors_are_chinese(args, expected):
    r = run_cli(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("错误："), r.stderr
    assert expected in r.stderr, r.stderr
    assert not ENGLISH.search(r.stderr), r.stderr
    assert "Traceback" not in r.stderr


def test_every_help_is_chinese():
    from click.testing import CliRunner

    from perfxl.cli import cli

    cli.load_all()
    names = [*cli.list_commands(None), "profile check"]  # type: ignore[arg-type]
    for name in ["", *names]:
        r = run_cli(*name.split(), "-h")
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout.startswith("用法：perfxl"), (name, r.stdout)
        assert "选项：" in r.stdout and "显示本帮助并退出。" in r.stdout
        assert not ENGLISH.search(r.stdout), (name, ENGLISH.search(r.stdout), r.stdout)
    assert CliRunner  # the real process above, not the runner, is what users see


def test_check_on_a_narrow_terminal_prints_messages_whole():
    text = run_tty("check", str(PROJECT_EXAMPLE), columns=60)
    assert "COMP-EXPLAIN-OVER  提示性（已说明）  indicators.7.explanation" in text
    flat = text.replace("\n", "")
    assert (
        "说明：指标「档案查阅利用人次」（第 8 个指标）实际完成值 7000 偏离年度指标值 5000" in flat
    )
    assert "…" not in text and "┃" not in text


def test_profile_check_json():
    r = run_cli("profile", "check", ROOT / "perfxl" / "profiles" / "dept-hubei.yaml", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["valid"] and doc["id"] == "dept-hubei" and doc["total"] == "100"
    assert doc["leaf_indicators"] > doc["top_indicators"] == 4
