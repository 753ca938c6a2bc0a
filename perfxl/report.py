"""Score results for people (a Chinese table in the terminal) and for programs (JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from .decimal_math import fmt2
from .model import Filing
from .profile import Profile
from .scoring import NodeScore, ScoreResult

LEVEL_INDENT = {1: "", 2: "  ", 3: "    "}


def _s(d: Decimal | None) -> str | None:
    return None if d is None else format(d, "f")


def row_note(row: NodeScore) -> str:
    """The 说明 of a score row: how it was scored and anything a reader should notice."""
    parts = (
        row.basis if row.basis != "计算" else "",
        row.note or "",
        "超目标偏离" if row.over_achieved else "",
        f"等级 {row.grade}" if row.grade else "",
    )
    return "；".join(x for x in parts if x)


def score_table(
    result: ScoreResult, filing: Filing, profile: Profile, title: str | None = None
) -> Table:
    t = Table(
        title=title or f"{filing.header.name}（{filing.header.year}年度）{profile.title}",
        show_lines=False,
        header_style="bold",
    )
    t.add_column("编码")
    t.add_column("指标", no_wrap=True)
    t.add_column("分值", justify="right")
    t.add_column("得分（复算）", justify="right")
    t.add_column("得分（填报）", justify="right")
    t.add_column("说明", overflow="fold")
    for row in result.rows():
        code = row.code.split("#")[0] if row.indicator is None else ""
        mark = "" if row.stated is None or row.stated == row.score else " ≠"
        note = row_note(row)
        style = "bold" if row.level == 1 else None
        t.add_row(
            code,
            LEVEL_INDENT.get(row.level, "      ") + row.name,
            fmt2(row.weight),
            fmt2(row.score),
            fmt2(row.stated, "") + mark,
            note,
            style=style,
        )
    t.add_section()
    t.add_row(
        "",
        "总分",
        fmt2(profile.total),
        fmt2(result.total),
        fmt2(result.stated_total, ""),
        "；".join(
            x
            for x in (
                "已按不适用指标折算" if result.rescaled else "",
                f"执行率封顶 {result.cap}" if result.cap is not None else "",
            )
            if x
        ),
        style="bold",
    )
    t.add_row("", "评价等级", "", result.grade, result.stated_grade or "", "", style="bold")
    return t


def summary_lines(result: ScoreResult) -> list[str]:
    rate = "—" if result.execution_rate is None else f"{result.execution_rate:.2f}%"
    lines = [f"预算执行率：{rate}"]
    if result.execution_rate_initial is not None:
        lines.append(f"执行数与年初预算比：{result.execution_rate_initial:.2f}%")
    lines.append(f"总分：{fmt2(result.total)}　等级：{result.grade}")
    if result.stated_total is not None and result.stated_total != result.total:
        lines.append(
            f"注意：填报总分 {fmt2(result.stated_total)} 与复算总分 {fmt2(result.total)} 不一致"
        )
    if result.stated_grade and result.stated_grade != result.grade:
        lines.append(f"注意：填报等级「{result.stated_grade}」与复算等级「{result.grade}」不一致")
    return lines


def print_score(console: Console, result: ScoreResult, filing: Filing, profile: Profile) -> None:
    console.print(score_table(result, filing, profile))
    for line in summary_lines(result):
        console.print(line)


def _row_json(row: NodeScore) -> dict[str, Any]:
    return {
        "code": row.code.split("#")[0],
        "indicator_index": row.indicator,
        "level": row.level,
        "name": row.name,
        "weight": _s(row.weight),
        "score": _s(row.score),
        "stated": _s(row.stated),
        "basis": row.basis,
        "note": row.note,
        "applicable": row.applicable,
        "band": None
        if row.band is None
        else {"low": _s(row.band[0]), "high": _s(row.band[1]), "high_inclusive": row.band[2]},
        "over_achieved": row.over_achieved,
        "grade": row.grade,
    }


def score_json(
    result: ScoreResult, filing: Filing, profile: Profile, file: str | None = None
) -> dict[str, Any]:
    """Decimals are strings so no program reads 9.99 back as a binary float."""
    return {
        "file": file,
        "profile": profile.id,
        "profile_version": profile.version,
        "name": filing.header.name,
        "year": filing.header.year,
        "execution_rate": _s(result.execution_rate),
        "execution_rate_initial": _s(result.execution_rate_initial),
        "total": _s(result.total),
        "grade": result.grade,
        "stated_total": _s(result.stated_total),
        "stated_grade": result.stated_grade,
        "rescaled": result.rescaled,
        "cap": _s(result.cap),
        "deductions": _s(result.deductions),
        "rows": [_row_json(r) for r in result.rows()],
    }
