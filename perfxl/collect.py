"""The bureau's collection round (回收): take the returned workbooks back, check and match them.

`perfxl distribute` writes one workbook per unit and manifest.csv; units fill them in and
return them, by e-mail, on a USB stick, renamed, twice, as .xls. A round:

1. discovers every workbook under the given files and folders (recursively; hidden files,
   Office lock files ``~$…`` and the round's own output folder are skipped, so outputs never
   become inputs); .xls/.et returns are converted to .xlsx by LibreOffice into a temporary
   folder (the original is never touched);
2. checks each return once (``perfxl.cli_check.check_file``: the same findings as
   ``perfxl check``) in a process pool, keeping only a compact result (identity, score, the
   findings), so memory does not grow with the size of the workbooks; anything that goes
   wrong with one return becomes that return's 无法读取 with a Chinese reason;
3. identifies each return by its content (评价框架, 单位编码, 年度, 名称), never by its file
   name, and matches it to the manifest: per unit a status 未交 / 无法读取 / 未通过 / 通过 and
   flags 重复, 身份不符, 不在清单, 未改动, 已验收后修改;
4. compares with the previous round kept in ROUND_DIR/history/ (resolved and new findings per
   unit) and records accepted units (通过) with the file's digest, so a later different file
   for an accepted unit is flagged (已验收后修改).

`collect()` is the analyst's entry point (pandas DataFrames); `run_round()` the command's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .batch import ManifestRow, default_jobs, file_digest, identity_digest, identity_fields
from .errors import InputError, Problem
from .findings import Finding, InputProblem, Report, RuleOutcome, Scope, Severity, Status

FORMAT = "perfxl-collect/1"
WORKBOOKS = (".xlsx", ".xlsm")
CONVERTED = (".xls", ".et")
PASSED, FAILED, UNUSABLE, MISSING = "通过", "未通过", "无法读取", "未交"
STATUSES = (PASSED, FAILED, UNUSABLE, MISSING)
DUPLICATE, IDENTITY, UNKNOWN, UNTOUCHED, EDITED = (
    "重复",
    "身份不符",
    "不在清单",
    "未改动",
    "已验收后修改",
)
FLAGS = (DUPLICATE, IDENTITY, UNKNOWN, UNTOUCHED, EDITED)
IDENTITY_CODE = "COLLECT-IDENTITY"  # the finding a 身份不符 return gets (blocking)
HISTORY = "history"
FIRST_PROBLEMS = 3

UNIT_COLUMNS = (
    "序号", "单位编码", "名称", "状态", "标记", "总分", "等级", "执行率", "错误数", "提示数",
    "已说明数", "主要问题", "本轮变化", "文件", "评价框架", "年度",
)  # fmt: skip
FINDING_COLUMNS = (
    "单位编码", "名称", "文件", "级别", "编码", "工作表", "单元格", "位置", "说明", "已说明",
)  # fmt: skip


# ------------------------------------------------------------------ discovery


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def discover(
    paths: Iterable[Path], skip: Iterable[Path] = ()
) -> tuple[list[Path], list[Path], list[str]]:
    """(workbooks, other files ignored, problems) under `paths`; `skip` folders are left out."""
    skip = [Path(s) for s in skip]
    found: list[Path] = []
    ignored: list[Path] = []
    problems: list[str] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        if any(_under(p, s) for s in skip):
            return
        name = p.name
        if name.startswith((".", "~$")):
            return
        key = os.path.normcase(os.path.abspath(p))
        if key in seen:
            return
        seen.add(key)
        if p.suffix.lower() in WORKBOOKS + CONVERTED:
            found.append(p)
        else:
            ignored.append(p)

    for root in paths:
        root = Path(root)
        if root.is_dir():
            if any(_under(root, s) for s in skip):
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and not any(
                        _under(here / d, s) for s in skip
                    )
                )  # fmt: skip
                for f in sorted(filenames):
                    add(here / f)
        elif root.is_file():
            add(root)
        else:
            problems.append(f"{root}：文件或文件夹不存在")
    return found, ignored, problems


# ------------------------------------------------------------------ one return


_CORE_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>")


def _content_time(path: Path) -> str:
    """The workbook's own 'last modified' (docProps/core.xml), "" when absent."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("docProps/core.xml")
            if info.file_size > 1 << 20:
                return ""
            m = _CORE_MODIFIED.search(zf.read(info))
            return m.group(1).decode("ascii", "replace").strip() if m else ""
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return ""


def _dec(v: Any) -> str | None:
    return None if v is None else format(v, "f")


def _finding_row(f: Finding) -> tuple[Any, ...]:
    return (
        f.code, f.severity.name, f.message, f.path, f.scope.name, f.sheet, f.cell, f.name,
        f.expected, f.actual, f.explained,
    )  # fmt: skip


def _finding(row: tuple[Any, ...], file: str) -> Finding:
    code, sev, message, path, scope, sheet, cell, name, expected, actual, explained = row
    return Finding(
        code, Severity[sev], message, path, Scope[scope], file, sheet, cell, name, expected,
        actual, explained,
    )  # fmt: skip


def examine(task: tuple[str, str, str | None, str | None]) -> dict[str, Any]:
    """Check one return → a compact, picklable result. Never raises (a return that cannot
    be used gets usable=False and the reason)."""
    shown, original, converted, refusal = task
    path = Path(converted or original)
    out: dict[str, Any] = {"file": shown, "usable": False, "problems": [], "digest": ""}
    try:
        out["digest"] = file_digest(Path(original))
        out["mtime"] = os.stat(original).st_mtime
    except OSError as exc:
        from .isolation import failure

        out["problems"] = [failure(original, exc).message]
        return out
    if refusal:
        out["problems"] = [refusal]
        return out
    out["stamp"] = _content_time(path)
    try:
        _examine(path, shown, out)
    except Exception as exc:  # anything at all: this return's refusal, the round goes on
        from .isolation import failure

        out["usable"] = False
        out["problems"] = [failure(shown, exc).message]
    return out


def _examine(path: Path, shown: str, out: dict[str, Any]) -> None:
    from .verdict import check_path

    checked = check_path(path, file=shown)  # read once: the verdict and what it was reached on
    report = checked.report
    if not report.usable or checked.filing is None:
        out["problems"] = [(f"{p.place}：" if p.place else "") + p.message for p in report.problems]
        return
    filing = checked.filing
    h = filing.header
    s = report.summary()
    out.update(
        usable=True,
        profile=filing.profile,
        profile_version=filing.profile_version,
        unit_code=(h.unit_code or "").strip(),
        name=(h.name or "").strip(),
        year=str(h.year),
        identity=identity_digest(filing),
        fields=identity_fields(filing),
        blocking=s["blocking"],
        warning=s["warning"],
        explained=s["explained"],
        findings=[_finding_row(f) for f in report.findings],
        outcomes=[
            (o.code, o.title, o.severity.name, o.scope.name, o.status.name) for o in report.outcomes
        ]
        if report.findings
        else [],
        total=None,
        grade=None,
        groups=[],
        execution_rate=None,
    )
    result = checked.result
    if result is None:
        return
    out.update(
        total=_dec(result.total),
        grade=result.grade,
        groups=[(n.code, n.name, _dec(n.score)) for n in result.nodes],
        execution_rate=_dec(result.execution_rate),
    )


def report_of(res: dict[str, Any], file: str | None = None) -> Report:
    """The Report rebuilt from a compact result (for the annotated copy)."""
    file = file or res["file"]
    return Report(
        file=file,
        profile=res.get("profile"),
        profile_version=res.get("profile_version"),
        title=res.get("name"),
        year=int(res["year"]) if res.get("year") else None,
        findings=[_finding(r, file) for r in res.get("findings", [])],
        outcomes=[
            RuleOutcome(c, t, Severity[sev], Scope[sc], Status[st])
            for c, t, sev, sc, st in res.get("outcomes", [])
        ],
        problems=[InputProblem("", m) for m in res.get("problems", [])],
    )


# ------------------------------------------------------------------ the pool


def _pool(jobs: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context())


def run_parallel(
    fn: Callable[[Any], dict[str, Any]],
    tasks: list[Any],
    jobs: int,
    done: Callable[[int, dict[str, Any]], None],
    crashed: Callable[[Any], dict[str, Any]],
) -> None:
    """fn over tasks in `jobs` processes, `done(i, result)` as each finishes (in order).

    A worker that dies (killed for memory, a crash in a native library) breaks the pool:
    the unfinished tasks are then run one at a time, each in a fresh process, so only the
    task that kills its process gets `crashed(task)`."""
    if jobs <= 1 or len(tasks) < 2:
        for i, t in enumerate(tasks):
            done(i, fn(t))
        return
    finished: set[int] = set()
    with _pool(jobs) as pool:
        chunk = max(1, min(8, len(tasks) // (jobs * 8)))
        try:
            for i, res in enumerate(pool.map(fn, tasks, chunksize=chunk)):
                done(i, res)
                finished.add(i)
            return
        except BrokenProcessPool:
            pass
    for i in range(len(tasks)):
        if i in finished:
            continue
        with _pool(1) as solo:
            try:
                res = solo.submit(fn, tasks[i]).result()
            except BrokenProcessPool:
                res = crashed(tasks[i])
        done(i, res)


# ------------------------------------------------------------------ a round


@dataclass
class Round:
    """One collection round: per-unit rows, every finding, and what the files say."""

    number: int
    when: str
    manifest: str
    units: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    unidentified: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # 一级 (code, name)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # file → compact result

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for u in self.units:
            out[u["状态"]] = out.get(u["状态"], 0) + 1
        return out

    def exit_code(self) -> int:
        """0 every expected unit 通过, 1 otherwise."""
        expected = [u for u in self.units if UNKNOWN not in u["标记"]]
        return 0 if expected and all(u["状态"] == PASSED for u in expected) else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "round": self.number,
            "time": self.when,
            "manifest": self.manifest,
            "summary": self.counts(),
            "groups": [{"code": c, "name": n} for c, n in self.groups],
            "units": self.units,
            "findings": self.findings,
            "unidentified": self.unidentified,
            "ignored": self.ignored,
            "notes": self.notes,
            "accepted": self.accepted,
        }


def load_history(round_dir: Path) -> dict[str, Any] | None:
    """The latest earlier round's JSON in ROUND_DIR/history, or None."""
    folder = Path(round_dir) / HISTORY
    if not folder.is_dir():
        return None
    best: tuple[int, Path] | None = None
    for p in folder.glob("第*轮.json"):
        m = re.fullmatch(r"第(\d+)轮\.json", p.name)
        if m and (best is None or int(m[1]) > best[0]):
            best = (int(m[1]), p)
    if best is None:
        return None
    try:
        data = json.loads(best[1].read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            Problem(str(best[1]), "", f"上一轮的记录无法读取（{exc}）：请检查或移走该文件")
        ) from exc
    if data.get("format") != FORMAT:
        raise InputError(Problem(str(best[1]), "", "上一轮的记录不是 perfxl collect 写出的"))
    return data


def _convert(files: list[Path], folder: Path) -> dict[Path, tuple[str | None, str | None]]:
    """.xls/.et → .xlsx by LibreOffice: path → (converted path, refusal)."""
    out: dict[Path, tuple[str | None, str | None]] = {}
    todo = [p for p in files if p.suffix.lower() in CONVERTED]
    if not todo:
        return out
    from .office import Office, OfficeError, find_soffice

    if find_soffice() is None:
        for p in todo:
            out[p] = (
                None,
                f"这是 {p.suffix.lower()} 格式的文件，需要 LibreOffice 转换后才能审核，但本机未安装"
                " LibreOffice：请安装 LibreOffice，或请单位用 Excel/WPS 另存为 .xlsx 后重新提交",
            )
        return out
    with Office() as office:
        for i, p in enumerate(todo):
            dst = folder / f"{i:05d}.xlsx"
            try:
                office.resave(p, dst)
                out[p] = (str(dst), None)
            except OfficeError as exc:
                out[p] = (None, f"{p.suffix.lower()} 文件无法由 LibreOffice 转换为 .xlsx（{exc}）")
            except Exception as exc:
                out[p] = (None, f"{p.suffix.lower()} 文件转换失败（{type(exc).__name__}: {exc}）")
    return out


def _crashed(task: tuple[str, str, str | None, str | None]) -> dict[str, Any]:
    return {
        "file": task[0],
        "usable": False,
        "digest": "",
        "problems": [
            "处理该文件时进程异常退出（文件可能异常或过大），已跳过：请单位重新保存后再提交"
        ],
    }


def run_round(
    returns: Iterable[Path],
    expected: list[ManifestRow],
    *,
    manifest: str = "",
    round_dir: Path | None = None,
    skip: Iterable[Path] = (),
    jobs: int | None = None,
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    notes: Iterable[str] = (),
    keep_results: bool = True,
    cluster: str | None = None,
) -> Round:
    """Discover, check, identify and match the returns; compare with the previous round
    in `round_dir`/history. Writes nothing (see perfxl.summary.write_round). `cluster`: a
    dask scheduler address (or "local") that examines the returns (perfxl.cluster)."""
    jobs = jobs or default_jobs()
    skip = [*skip, *([round_dir] if round_dir is not None else [])]
    files, ignored, problems = discover(returns, skip)
    previous = load_history(round_dir) if round_dir is not None else None
    number = (previous or {}).get("round", 0) + 1
    results: list[dict[str, Any] | None] = [None] * len(files)
    with tempfile.TemporaryDirectory(prefix="perfxl-collect-") as tmp:
        conv = _convert(files, Path(tmp))
        tasks = [(str(p), str(p), *conv.get(p, (None, None))) for p in files]

        def done(i: int, res: dict[str, Any]) -> None:
            converted = conv.get(files[i], (None, None))[0]
            if converted:
                res["source"] = converted  # the .xlsx LibreOffice made (for the annotated copy)
            results[i] = res
            if progress:
                progress(sum(r is not None for r in results), len(files), res)

        if cluster:
            from .cluster import cluster_map

            found = cluster_map(
                examine, tasks, cluster, jobs=jobs, on_crash=_crashed, total=len(tasks)
            )
            for i, res in enumerate(found):
                done(i, res)
        else:
            run_parallel(examine, tasks, jobs, done, _crashed)
        rnd = _decide([r for r in results if r is not None], expected, previous, number)
        rnd.manifest = manifest
        rnd.ignored = [str(p) for p in ignored]
        rnd.notes = [*notes, *problems]
        if keep_results:
            rnd.results = {r["file"]: r for r in results if r is not None}
        if round_dir is not None and keep_results:
            from .summary import write_round

            write_round(rnd, Path(round_dir), jobs=jobs)
    return rnd


# ------------------------------------------------------------------ deciding


def _newest(res: dict[str, Any]) -> tuple[Any, ...]:
    return (res.get("stamp") or "", res.get("mtime") or 0.0, res["file"])


def _by_file_name(res: dict[str, Any], expected: list[ManifestRow]) -> ManifestRow | None:
    """An unusable return cannot say whose it is: its file name is the only hint."""
    name = Path(res["file"]).name.casefold()
    stem = Path(res["file"]).stem
    for m in expected:
        if m.file and (
            m.file.casefold() == name or Path(m.file).stem.casefold() == stem.casefold()
        ):
            return m
    hits = [
        m
        for m in expected
        if m.unit_code and re.search(rf"(?<!\d){re.escape(m.unit_code)}(?!\d)", stem)
    ]
    return hits[0] if len(hits) == 1 else None


def _identity_problems(res: dict[str, Any], m: ManifestRow, by_name: bool) -> list[str]:
    out = []
    if m.profile and res["profile"] != m.profile:
        out.append(f"评价框架为「{res['profile']}」，下发的是「{m.profile}」（用错了表）")
    if m.year and res["year"] != m.year:
        out.append(f"年度为 {res['year']}，下发的是 {m.year}")
    if by_name or (m.unit_code and res["unit_code"] != m.unit_code):
        out.append(f"单位编码为「{res['unit_code']}」，下发的是「{m.unit_code}」")
    if m.name and res["name"] != m.name.strip():
        out.append(f"名称为「{res['name']}」，下发的是「{m.name}」")
    if m.fields:
        for k, v in m.fields.items():
            if k in ("框架", "年度", "单位编码", "名称"):
                continue
            got = res["fields"].get(k, "")
            if got != v:
                out.append(f"{k}为「{got or '空'}」，下发的是「{v or '空'}」")
    elif m.identity and res["identity"] != m.identity and not out:
        out.append("下发时锁定的预算数（年初预算数、全年预算数）被改动")
    return out


def _finding_key(f: dict[str, Any]) -> str:
    return f"{f['编码']}@{f['位置']}"


def _decide(
    results: list[dict[str, Any]],
    expected: list[ManifestRow],
    previous: dict[str, Any] | None,
    number: int,
) -> Round:
    by_code = {m.unit_code: m for m in expected if m.unit_code}
    by_name: dict[str, list[ManifestRow]] = {}
    for m in expected:
        by_name.setdefault(m.name.strip(), []).append(m)
    mine: dict[int, list[tuple[dict[str, Any], bool]]] = {m.index: [] for m in expected}
    extra: dict[str, list[dict[str, Any]]] = {}
    unidentified: list[dict[str, Any]] = []
    for res in results:
        if not res["usable"]:
            m = _by_file_name(res, expected)
            if m is None:
                unidentified.append({"文件": res["file"], "原因": "；".join(res["problems"])})
            else:
                mine[m.index].append((res, False))
            continue
        m = by_code.get(res["unit_code"]) if res["unit_code"] else None
        via_name = False
        if m is None:
            named = by_name.get(res["name"], [])
            if len(named) == 1:
                m, via_name = named[0], True
        if m is None:
            extra.setdefault(res["unit_code"] or res["name"] or res["file"], []).append(res)
        else:
            mine[m.index].append((res, via_name))

    prev_units = {u["单位编码"] or u["名称"]: u for u in (previous or {}).get("units", [])}
    prev_findings: dict[str, set[str]] = {}
    for f in (previous or {}).get("findings", []):
        if f["级别"] == "已说明":
            continue
        prev_findings.setdefault(f["单位编码"] or f["名称"], set()).add(_finding_key(f))
    accepted: dict[str, dict[str, Any]] = dict((previous or {}).get("accepted", {}))
    groups: dict[str, str] = {}
    units: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []

    def unit_row(
        index: int, code: str, name: str, cands: list[tuple[dict[str, Any], bool]],
        m: ManifestRow | None,
    ) -> None:  # fmt: skip
        flags: list[str] = []
        row: dict[str, Any] = {
            "序号": index, "单位编码": code, "名称": name, "状态": MISSING, "标记": "",
            "总分": None, "等级": "", "执行率": None, "错误数": 0, "提示数": 0, "已说明数": 0,
            "主要问题": "", "本轮变化": "", "文件": "", "评价框架": m.profile if m else "",
            "年度": m.year if m else "", "一级得分": {}, "其他文件": [], "摘要": "",
            "身份问题": [], "下发文件": m.file if m else "",
        }  # fmt: skip
        key = code or name
        mine_f: list[dict[str, Any]] = []
        if m is None:
            flags.append(UNKNOWN)
        if cands:
            cands.sort(key=lambda c: _newest(c[0]), reverse=True)
            res, via_name = cands[0]
            if len(cands) > 1:
                flags.append(DUPLICATE)
                row["其他文件"] = [c[0]["file"] for c in cands[1:]]
            row["文件"] = res["file"]
            row["摘要"] = res.get("digest", "")
            if not res["usable"]:
                row["状态"] = UNUSABLE
                row["主要问题"] = "；".join(res["problems"])[:500]
            else:
                row.update(
                    总分=res.get("total"), 等级=res.get("grade") or "",
                    执行率=res.get("execution_rate"), 错误数=res["blocking"],
                    提示数=res["warning"], 已说明数=res["explained"],
                    评价框架=res["profile"], 年度=res["year"],
                    一级得分={c: s for c, _, s in res.get("groups", [])},
                )  # fmt: skip
                for c, n, _ in res.get("groups", []):
                    groups.setdefault(c, n)
                problems = _identity_problems(res, m, via_name) if m is not None else []
                if problems:
                    flags.append(IDENTITY)
                    row["身份问题"] = problems
                    row["错误数"] += len(problems)
                    for msg in problems:
                        mine_f.append(
                            _frow(code, name, res["file"], "强制性", IDENTITY_CODE, "", "",
                                  "基本信息", "身份不符：" + msg, False)
                        )  # fmt: skip
                for fr in res.get("findings", []):
                    f = _finding(fr, res["file"])
                    level = "强制性" if f.blocking else ("已说明" if f.explained else "提示性")
                    mine_f.append(
                        _frow(code, name, res["file"], level, f.code, f.sheet or "", f.cell or "",
                              f.location(), f.message, f.explained)
                    )  # fmt: skip
                row["状态"] = FAILED if row["错误数"] else PASSED
                shown = [f["说明"] for f in mine_f if f["级别"] == "强制性"] or [
                    f["说明"] for f in mine_f if f["级别"] == "提示性"
                ]
                row["主要问题"] = "；".join(shown[:FIRST_PROBLEMS]) + (
                    f"……等 {len(shown)} 项" if len(shown) > FIRST_PROBLEMS else ""
                )
            if m is not None and m.digest and res.get("digest") == m.digest:
                flags.append(UNTOUCHED)
            acc = accepted.get(key)
            if acc is not None and res.get("digest") and res["digest"] != acc.get("digest"):
                flags.append(EDITED)
            if row["状态"] == PASSED and acc is None and m is not None:
                accepted[key] = {"digest": res.get("digest", ""), "round": number}
        # what changed since the previous round
        prev = prev_units.get(key)
        if previous is not None:
            now_keys = {_finding_key(f) for f in mine_f if f["级别"] != "已说明"}
            before = {k for k in prev_findings.get(key, set())}
            before_status = prev["状态"] if prev else MISSING
            parts = []
            if before_status != row["状态"]:
                parts.append(f"{before_status}→{row['状态']}")
            resolved, new = len(before - now_keys), len(now_keys - before)
            if resolved:
                parts.append(f"已解决 {resolved} 项")
            if new:
                parts.append(f"新增 {new} 项")
            row["本轮变化"] = "；".join(parts) or "无变化"
            row["已解决"] = sorted(before - now_keys)
            row["新增"] = sorted(now_keys - before)
        if key in accepted and EDITED not in flags and row["状态"] == PASSED:
            row["已验收"] = accepted[key]["round"]
        row["标记"] = "、".join(flags)
        units.append(row)
        findings.extend(mine_f)

    for m in expected:
        unit_row(m.index, m.unit_code, m.name, mine[m.index], m)
    n = len(expected)
    for rs in extra.values():
        n += 1
        first = rs[0]
        unit_row(
            n, first.get("unit_code", ""), first.get("name", ""), [(r, False) for r in rs], None
        )
    return Round(
        number=number,
        when=dt.datetime.now().isoformat(timespec="seconds"),
        manifest="",
        units=units,
        findings=findings,
        unidentified=unidentified,
        groups=sorted(
            groups.items(),
            key=lambda kv: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", kv[0])],
        ),
        accepted=accepted,
    )


def _frow(
    code: str, name: str, file: str, level: str, rule: str, sheet: str, cell: str,
    where: str, message: str, explained: bool,
) -> dict[str, Any]:  # fmt: skip
    return {
        "单位编码": code, "名称": name, "文件": file, "级别": level, "编码": rule,
        "工作表": sheet, "单元格": cell, "位置": where, "说明": message, "已说明": explained,
    }  # fmt: skip


# ------------------------------------------------------------------ the analyst's API


class Collected(NamedTuple):
    """`perfxl.collect(...)`: the same data as 汇总.xlsx, as pandas DataFrames."""

    units: Any  # pandas.DataFrame, one row per unit (the 汇总 sheet)
    findings: Any  # pandas.DataFrame, one row per finding (the 问题清单 sheet)


def unit_frame(rnd: Round) -> Any:
    import pandas as pd

    rows = []
    for u in rnd.units:
        row = {k: u.get(k) for k in UNIT_COLUMNS}
        for c, n in rnd.groups:
            row[f"{c} {n}"] = _num(u["一级得分"].get(c))
        row["总分"], row["执行率"] = _num(u["总分"]), _num(u["执行率"])
        rows.append(row)
    columns = [*UNIT_COLUMNS, *(f"{c} {n}" for c, n in rnd.groups)]
    return pd.DataFrame(rows, columns=columns)


def finding_frame(rnd: Round) -> Any:
    import pandas as pd

    return pd.DataFrame(rnd.findings, columns=list(FINDING_COLUMNS))


def _num(v: Any) -> float | None:
    return None if v in (None, "") else float(v)


def collect(
    returns: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    manifest: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    profile: str | None = None,
    jobs: int | None = None,
) -> Collected:
    """Collect a round of returned workbooks against `manifest` (the manifest.csv written
    by `perfxl distribute`, or a master table with `profile`).

    `returns`: a file or folder, or several. With `output` the round's files (汇总.xlsx,
    JSON/CSV, per-unit feedback, history) are written there as `perfxl collect -o` does.
    Returns (units, findings) as pandas DataFrames, the 汇总 and 问题清单 sheets:

        units, findings = perfxl.collect("returns/", "下发/manifest.csv")
        units[units["状态"] == "未通过"][["单位编码", "名称", "错误数"]]
    """
    from .batch import read_manifest
    from .profile import load_profile

    if isinstance(returns, str | os.PathLike):
        returns = [returns]
    paths = [Path(p) for p in returns]
    prof = load_profile(profile) if profile else None
    expected, notes = read_manifest(Path(manifest), prof)
    rnd = run_round(
        paths,
        expected,
        manifest=str(manifest),
        round_dir=Path(output) if output is not None else None,
        skip=[Path(manifest).parent / HISTORY] if output is None else [],
        jobs=jobs,
        notes=notes,
    )
    return Collected(unit_frame(rnd), finding_frame(rnd))


__all__ = [
    "FLAGS",
    "FORMAT",
    "STATUSES",
    "Collected",
    "Round",
    "collect",
    "discover",
    "examine",
    "finding_frame",
    "load_history",
    "report_of",
    "run_round",
    "unit_frame",
]
