"""`perfxl read` and `perfxl score` over many files: each file's result as soon as it is done
(in input order), every core busy, and a file that cannot be used is that file's refusal
on standard error, never the end of the batch.

Output of several files, for a program as for a person:
* read: YAML documents, each opened by `--- # 文件：路径`; with --json, JSON Lines
  {"file": …, "filing": {…}} (a refused file: {"file": …, "problems": […]}).
* score: per file a line naming it and the score lines of the one-file command; with
  --json, JSON Lines of the one-file JSON (a refused file: {"file": …, "problems": […]}).
Exit code 2 when any file was refused, else 0.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .isolation import failure
from .parallel import default_jobs, ordered_map
from .terminal import clean

_TASK: dict[str, Any] = {}


@dataclass
class _Done:
    """One file's result, small enough to cross from a worker process."""

    file: str
    body: str = ""  # what goes to standard output
    notes: list[str] = field(default_factory=list)  # reading notes (提示), standard error
    problems: list[tuple[str, str]] = field(default_factory=list)  # (place, message): refused


def _setup(command: str, profile_ref: str | None, as_json: bool, sources: bool) -> None:
    _TASK.update(command=command, profile=profile_ref, json=as_json, sources=sources)


def _line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _refused(file: str, problems: list[tuple[str, str]]) -> _Done:
    body = ""
    if _TASK.get("json"):
        body = _line({"file": file, "problems": [{"place": p, "message": m} for p, m in problems]})
    return _Done(file, body, problems=problems)


def _task(path: Path) -> _Done:
    file = str(path)
    try:
        if _TASK["command"] == "read":
            return _read(path)
        return _score(path)
    except InputError as exc:
        return _refused(file, [(p.place, p.message) for p in exc.problems])
    except Exception as exc:  # one file never stops the batch: it becomes that file's refusal
        p = failure(file, exc)
        return _refused(file, [(p.place, p.message)])


def _said(notes: list[Problem]) -> list[str]:
    """Reading notes as printed after the file's name: place, then message."""
    return [p.message if not p.place else f"{p.place}：{p.message}" for p in notes]


def _crashed(path: Path) -> _Done:
    return _refused(
        str(path), [("", "处理该文件时工作进程意外退出（可能内存不足或文件异常），已跳过")]
    )


def _read(path: Path) -> _Done:
    from .filing_io import _plain, filing_to_yaml
    from .profile import load_profile
    from .workbook.read import read_workbook_ex

    ref = _TASK["profile"]
    filing, notes = read_workbook_ex(path, load_profile(ref) if ref else None)
    if not _TASK["sources"]:
        filing = filing.model_copy(update={"sources": {}})
    if _TASK["json"]:
        body = _line({"file": str(path), "filing": _plain(filing.model_dump(mode="json"))})
    else:
        body = f"--- # 文件：{clean(str(path))}\n" + filing_to_yaml(filing)
    return _Done(
        str(path),
        body,
        notes=_said(notes),
    )


def _score(path: Path) -> _Done:
    from .filing_io import load_filing_ex
    from .profile import load_profile
    from .report import score_json, summary_lines
    from .scoring import score

    filing, notes = load_filing_ex(path)
    ref = _TASK["profile"]
    profile = load_profile(ref or filing.profile)
    told = _said(notes)
    if filing.profile_version and filing.profile_version != profile.version and not ref:
        told.append(
            f"填报数据按评价框架 {profile.id} 版本 {filing.profile_version} 编制，"
            f"当前框架版本为 {profile.version}"
        )
    result = score(filing, profile)
    if _TASK["json"]:
        return _Done(str(path), _line(score_json(result, filing, profile, str(path))), told)
    head = f"{clean(str(path))}：{clean(filing.header.name)}（{filing.header.year}年度）\n"
    return _Done(str(path), head + "".join(f"  {clean(s)}\n" for s in summary_lines(result)), told)


def run(
    command: str,
    files: tuple[Path, ...],
    jobs: int | None,
    profile_ref: str | None,
    as_json: bool,
    sources: bool = False,
) -> int:
    """Read or score every file, printing each as it is done; the exit code."""
    refused = 0
    done = ordered_map(
        _task,
        files,
        jobs or default_jobs(),
        initializer=_setup,
        initargs=(command, profile_ref, as_json, sources),
        on_crash=_crashed,
        total=len(files),
    )
    for d in done:
        for note in d.notes:
            print(f"提示：{clean(d.file)}：{clean(note)}", file=sys.stderr, flush=True)
        for place, message in d.problems:
            where = f"：{clean(place)}" if place else ""
            print(f"错误：{clean(d.file)}{where}：{clean(message)}", file=sys.stderr, flush=True)
        refused += bool(d.problems)
        sys.stdout.write(d.body)
        sys.stdout.flush()
    if not as_json:
        what = "读取" if command == "read" else "复算"
        print(
            f"合计：{len(files)} 份文件，{what} {len(files) - refused} 份，无法{what} {refused} 份",
            file=sys.stderr,
            flush=True,
        )
    return 2 if refused else 0
