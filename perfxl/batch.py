"""Many workbooks at once: distribute pre-filled tables from a master table, read returns.

A bureau distributes one workbook per unit or project, pre-filled from its master table
(主表: one row each, budget figures in 万元), and later reads hundreds of returned files.
One bad row or file never stops the others: each outcome, good or bad, is recorded.

Master table columns (first non-blank row is the header; Chinese or English names; spaces,
punctuation and a leading "其中" are ignored, so "其中：当年财政拨款（年初预算数）" works):

  单位编码 unit_code · 名称 / 项目名称 / 单位名称 name · 主管部门 department ·
  实施单位 / 预算单位 unit · 年度 year (required) ·
  年初预算数 initial · 全年预算数 budget · 全年执行数 executed   (年度资金总额, 万元) ·
  当年财政拨款年初预算数 … 其他资金全年执行数                      (其中 lines, project tables)
  (English: fiscal_initial, carryover_budget, other_executed, or funds.fiscal.initial).

Amounts accept what accountants type (千分位, full-width digits, "万元"; "元" is converted
with a note). Rows named 合计 / 总计 / 小计 with no 单位编码 are skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import clip_bytes, describe_os_error, refuse_inputs
from .dataio import read_csv_text
from .errors import InputError, Problem
from .model import FUND_LINES, Filing, FundLine, Funds, Header
from .numtext import NumberTextError, in_cell_range, parse_amount_wanyuan
from .profile import Profile

if TYPE_CHECKING:
    from .workbook.stamp import Stamper

DEFAULT_PATTERN = "{年度}_{单位编码}_{名称}.xlsx"
PATTERN_FIELDS = ("序号", "年度", "单位编码", "名称", "主管部门", "实施单位")
MANIFEST_COLUMNS = (
    "序号", "单位编码", "名称", "文件", "状态", "说明", "框架", "年度", "身份摘要", "文件摘要",
)  # fmt: skip
# 框架 … 文件摘要 were added for `perfxl collect`; a manifest without them is still read.

_FUND_FIELDS = {"initial": "年初预算数", "budget": "全年预算数", "executed": "全年执行数"}
_LINE_ALIASES = {"fiscal": ("财政拨款",), "carryover": ("上年结转",), "other": ()}
_TOTAL_NAMES = {"合计", "总计", "小计"}


def _norm(header: str) -> str:
    """A header as compared: NFKC, no spaces/punctuation, no leading 其中, case-folded."""
    text = unicodedata.normalize("NFKC", header)
    text = re.sub(r"[\s:：()（）\[\]【】\-_·、/.,，]", "", text).casefold()
    return text.removeprefix("其中")


def _aliases() -> dict[str, str]:
    out: dict[str, tuple[str, ...]] = {
        "header.unit_code": ("单位编码", "unit_code"),
        "header.name": ("名称", "项目名称", "单位名称", "部门名称", "部门（单位）名称", "name"),
        "header.department": ("主管部门", "department"),
        "header.unit": ("实施单位", "预算单位", "unit"),
        "header.year": ("年度", "year"),
    }
    for f, zh in _FUND_FIELDS.items():
        out[f"funds.total.{f}"] = (zh, f"年度资金总额{zh}", f, f"funds.total.{f}")
        for line, label in FUND_LINES.items():
            if line == "total":
                continue
            names = [label, *_LINE_ALIASES[line]]
            out[f"funds.{line}.{f}"] = (
                *(n + zh for n in names),
                f"{line}_{f}",
                f"funds.{line}.{f}",
            )
    return {_norm(a): path for path, names in out.items() for a in names}


MASTER_ALIASES = _aliases()


@dataclass
class Master:
    """A master table: its rows, and notes about the table itself (ignored columns)."""

    rows: list[MasterRow]
    notes: list[str]


@dataclass
class MasterRow:
    """One row of the master table, made into a filing (or the reasons it could not be)."""

    index: int  # 序号: 1 for the first data row
    line: int  # row number as shown in Excel (or line of the CSV file)
    values: dict[str, str]  # field path → text as written
    filing: Filing | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def shown(self, path: str) -> str:
        return self.values.get(path, "")


# ------------------------------------------------------------------ master table


def _table(path: Path) -> list[list[str]]:
    """The first sheet of an .xlsx or the rows of a .csv (UTF-8, else GB18030 as Excel saves)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(Problem(str(path), "", "文件不存在"))
    if suffix == ".csv":
        text = read_csv_text(path)
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    if suffix in (".xlsx", ".xlsm", ".xls", ".et"):
        from python_calamine import CalamineWorkbook

        from .workbook.guard import open_package
        from .workbook.read import cell_text

        pkg = open_package(path)  # the same refusals as a returned workbook
        pkg.zip.close()
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(pkg.data))
            rows = book.get_sheet_by_index(0).to_python()
        except Exception as exc:  # calamine raises its own error types
            raise InputError(Problem(str(path), "", f"文件无法读取（{exc}）")) from exc
        return [[cell_text(v) or "" for v in row] for row in rows]
    raise InputError(Problem(str(path), "", "主表应为 .xlsx 或 .csv 文件"))


def read_master(path: Path, profile: Profile) -> Master:
    """Every data row of a master table as a filing of `profile`, with per-row problems."""
    path = Path(path)
    table = _table(path)
    start = next((i for i, r in enumerate(table) if any(r)), None)
    if start is None:
        raise InputError(Problem(str(path), "", "主表是空的"))
    columns: dict[int, str] = {}
    unknown = []
    for j, head in enumerate(table[start]):
        if head:
            target = MASTER_ALIASES.get(_norm(head))
            if target is None:
                unknown.append(head)
            elif target not in columns.values():
                columns[j] = target
    if "header.year" not in columns.values():
        raise InputError(
            Problem(str(path), f"第 {start + 1} 行", "主表缺少“年度”列（表头应在第一行）")
        )
    if profile.kind == "department":
        keep = {p for p in columns.values() if not p.startswith("funds.") or ".total." in p}
        columns = {j: p for j, p in columns.items() if p in keep}
    rows: list[MasterRow] = []
    for i, raw in enumerate(table[start + 1 :], start=start + 2):
        if not any(raw):
            continue
        values = {p: raw[j] for j, p in columns.items() if j < len(raw) and raw[j]}
        if values.get("header.name", "") in _TOTAL_NAMES and "header.unit_code" not in values:
            continue
        row = MasterRow(len(rows) + 1, i, values)
        _make_filing(row, profile)
        rows.append(row)
    notes = [f"未识别的列（已忽略）：{'、'.join(unknown)}"] if unknown else []
    return Master(rows, notes)


def _make_filing(row: MasterRow, profile: Profile) -> None:
    from .workbook.read import parse_year

    v = row.values
    year = parse_year(v.get("header.year"))
    if not v.get("header.year"):
        row.errors.append("年度未填写")
    elif year is None:
        row.errors.append(f"年度「{v['header.year']}」不是 2000–2100 之间的年份")
    if not v.get("header.name") and not v.get("header.unit_code"):
        row.errors.append("单位编码和名称都为空")
    lines: dict[str, dict[str, Decimal]] = {}
    for path, text in v.items():
        if not path.startswith("funds."):
            continue
        _, line, f = path.split(".")
        try:
            amount, note = parse_amount_wanyuan(text)
            amount = in_cell_range(amount, text)
        except NumberTextError as exc:
            row.errors.append(f"{_label(path)}：{exc.reason_zh}")
            continue
        if note:
            row.notes.append(f"{_label(path)}：{note}")
        if amount is not None:
            lines.setdefault(line, {})[f] = amount
    if row.errors or year is None:
        return
    header = Header(
        name=v.get("header.name", ""),
        department=v.get("header.department"),
        unit=v.get("header.unit"),
        unit_code=v.get("header.unit_code"),
        year=year,
    )
    funds = Funds(**{line: FundLine(**fs) for line, fs in lines.items()})
    row.filing = Filing(
        profile=profile.id, profile_version=profile.version, header=header, funds=funds
    )


def _label(path: str) -> str:
    _, line, f = path.split(".")
    return ("" if line == "total" else FUND_LINES[line]) + _FUND_FIELDS[f]


def select_row(
    rows: list[MasterRow], *, number: int | None = None, key: str | None = None
) -> MasterRow:
    """The row `number` (序号, 1 = first data row) or the one whose column matches `key`
    ("单位编码=901001"); with neither, the only row."""
    if key is not None:
        name, sep, wanted = key.partition("=")
        path = MASTER_ALIASES.get(_norm(name))
        if not sep or path is None:
            raise InputError(Problem("--key", "", f"「{key}」应写成 列名=值，如 单位编码=901001"))
        hits = [r for r in rows if r.shown(path) == wanted.strip()]
        if len(hits) != 1:
            raise InputError(
                Problem(
                    "--key", "", f"主表中{name}为「{wanted}」的行有 {len(hits)} 行，应恰好 1 行"
                )
            )
        return hits[0]
    if number is not None:
        if not 1 <= number <= len(rows):
            raise InputError(
                Problem("--row", "", f"主表只有 {len(rows)} 行数据，没有第 {number} 行")
            )
        return rows[number - 1]
    if len(rows) != 1:
        raise InputError(
            Problem("", "", f"主表有 {len(rows)} 行数据，请用 --row 序号 或 --key 列名=值 指定一行")
        )
    return rows[0]


# ------------------------------------------------------------------ file names

STEM_BYTES = 180  # leaves room for "_12.xlsx" and a temporary name's prefix and suffix
_BAD_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))} | {
    f"LPT{i}" for i in range(1, 10)
}


def sanitize(stem: str, limit: int = 120, byte_limit: int = STEM_BYTES) -> str:
    """A file name Windows accepts: no \\/:*?"<>|, no trailing dot or space, not CON etc.;
    at most `limit` characters and `byte_limit` bytes of UTF-8 (file systems count bytes:
    75 Chinese characters are 225 bytes, near the 255-byte limit of a name)."""
    stem = _BAD_CHARS.sub("_", unicodedata.normalize("NFC", stem))
    stem = re.sub(r"_{2,}", "_", stem).strip(" ._")[:limit]
    stem = clip_bytes(stem, byte_limit).rstrip(" .")
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem or "未命名"


def file_name(pattern: str, row: MasterRow, suffix: str = ".xlsx") -> str:
    values = {
        "序号": str(row.index),
        "年度": str(row.filing.header.year) if row.filing else row.shown("header.year"),
        "单位编码": row.shown("header.unit_code"),
        "名称": row.shown("header.name"),
        "主管部门": row.shown("header.department"),
        "实施单位": row.shown("header.unit"),
    }
    stem = pattern.removesuffix(".xlsx").removesuffix(".xlsm").format_map(values)
    return sanitize(stem) + suffix


def check_pattern(pattern: str) -> None:
    fields = re.findall(r"{([^{}]*)}", pattern)
    bad = [f for f in fields if f not in PATTERN_FIELDS]
    if bad:
        raise InputError(
            Problem(
                "--name",
                "",
                f"文件名样式中的 {{{bad[0]}}} 不认识，可用：{'、'.join(PATTERN_FIELDS)}",
            )
        )


# ------------------------------------------------------------------ distribute


@dataclass
class Outcome:
    """One manifest line."""

    index: int
    unit_code: str
    name: str
    file: str
    status: str  # 已生成 / 失败
    note: str
    profile: str = ""  # 框架
    year: str = ""  # 年度
    identity: str = ""  # 身份摘要: identity_digest of the filing written
    digest: str = ""  # 文件摘要: SHA-256 of the file's bytes

    def cells(self) -> list[str]:
        return [
            str(self.index), self.unit_code, self.name, self.file, self.status, self.note,
            self.profile, self.year, self.identity, self.digest,
        ]  # fmt: skip


def _amount_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    d = Decimal(value).normalize()
    return format(d, "f") if d != 0 else "0"


def identity_fields(filing: Filing) -> dict[str, str]:
    """What a unit may not change in a distributed workbook: 框架, 单位编码, 名称, 年度 and the
    locked budget figures (年初预算数, 全年预算数 of each 资金 line), as text."""
    h = filing.header
    out = {
        "框架": filing.profile,
        "单位编码": (h.unit_code or "").strip(),
        "名称": (h.name or "").strip(),
        "年度": str(h.year),
    }
    funds = filing.funds
    for line, label in FUND_LINES.items():
        fl = getattr(funds, line, None) if funds is not None else None
        for f in ("initial", "budget"):
            out[label + _FUND_FIELDS[f]] = _amount_text(getattr(fl, f, None) if fl else None)
    return out


def identity_digest(filing: Filing) -> str:
    """身份摘要: SHA-256 of identity_fields, as distribute records it in the manifest."""
    text = "\x1f".join(f"{k}={v}" for k, v in identity_fields(filing).items())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    """文件摘要: SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_one(stamper: Stamper, filing: Filing, out: Path) -> str | None:
    """Write one workbook; the error text on failure."""
    try:
        stamper.write(filing, out)
    except InputError as exc:
        return "；".join(p.message for p in exc.problems)
    except OSError as exc:
        return describe_os_error(exc).message
    except Exception as exc:  # one bad row never stops the batch
        return f"内部错误：{type(exc).__name__}: {exc}"
    return None


_WORKER: dict[str, Stamper] = {}  # a worker process's stamper, set by _start_worker


def _start_worker(made: Stamper | Profile, vba_project: Path | None = None) -> None:
    """A forked worker inherits the parent's stamper; another builds its own."""
    if isinstance(made, Profile):
        from .workbook.stamp import Stamper

        made = Stamper(made, vba_project=vba_project)
    _WORKER["stamper"] = made


def _worker_write(args: tuple[Filing, Path]) -> str | None:
    return _write_one(_WORKER["stamper"], *args)


def _write_all(
    work: list[tuple[MasterRow, Path]],
    profile: Profile,
    jobs: int,
    done: Callable[[MasterRow, str | None], None],
    vba_project: Path | None = None,
) -> None:
    from .workbook.stamp import Stamper

    stamper = Stamper(profile, vba_project=vba_project)  # the profile's workbook, built once
    tasks = [(row.filing, out) for row, out in work]
    if jobs <= 1 or len(work) < 2:
        for (row, _), (filing, out) in zip(work, tasks, strict=True):
            done(row, _write_one(stamper, filing, out))  # type: ignore[arg-type]
        return
    mp = multiprocessing.get_context()
    seed = stamper if mp.get_start_method() == "fork" else profile  # fork: no pickling
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=mp, initializer=_start_worker, initargs=(seed, vba_project)
    ) as pool:
        results = pool.map(_worker_write, tasks, chunksize=max(1, len(tasks) // (jobs * 8)))
        for (row, _), error in zip(work, results, strict=True):
            done(row, error)


def distribute(
    master: Path | Master,
    profile: Profile,
    out_dir: Path,
    *,
    jobs: int = 1,
    pattern: str = DEFAULT_PATTERN,
    progress: Callable[[Outcome, int, int], None] | None = None,
    force: bool = False,
    inputs: Iterable[Path | str | None] = (),
    vba_project: Path | None = None,
) -> list[Outcome]:
    """One pre-filled, budget-locked workbook per master row, and manifest.csv beside them.

    With `vba_project` the copies are .xlsm workbooks carrying those macros (the 校验 / 评分 /
    清除标记 buttons). The identity cells (单位编码, 名称) and the budget figures are locked in
    every copy; the manifest records each copy's 框架, 年度, 身份摘要 (identity_digest) and
    文件摘要 (SHA-256 of its bytes), which `perfxl collect` compares the returns against.

    Nothing already in `out_dir` is replaced unless `force`; even then a file any input
    (the master table, `inputs`) is, and a workbook a unit has filled in (a return), are
    never replaced: those rows fail with the reason.

    The profile's workbook is built once (per worker process) and each row's copy is stamped
    from it (perfxl.workbook.stamp): the same document `build_workbook` would write for the
    row, at a fraction of the cost.

    `progress(outcome, done, total)` is called as each row is finished, bad rows first.
    """
    check_pattern(pattern)
    protected = [Path(p) for p in inputs if p is not None]
    if not isinstance(master, Master):
        protected.append(Path(master))
    table = master if isinstance(master, Master) else read_master(Path(master), profile)
    rows = table.rows
    out_dir = Path(out_dir)
    manifest = out_dir / "manifest.csv"
    refuse_inputs(manifest, protected)
    taken: set[str] = set()
    outcomes: dict[int, Outcome] = {}
    finished = 0

    def report(o: Outcome) -> None:
        nonlocal finished
        finished += 1
        if progress:
            progress(o, finished, len(rows))

    work: list[tuple[MasterRow, Path]] = []
    for row in rows:
        suffix = ".xlsm" if vba_project is not None else ".xlsx"
        name = file_name(pattern, row, suffix)
        stem, n = name.removesuffix(suffix), 2
        while name.casefold() in taken:
            name, n = f"{stem}_{n}{suffix}", n + 1
        base = Outcome(
            row.index, row.shown("header.unit_code"), row.shown("header.name"), "", "", ""
        )
        if row.filing is None:
            base.status, base.note = "失败", "；".join(row.errors + row.notes)
            outcomes[row.index] = base
            report(base)
            continue
        taken.add(name.casefold())
        base.file = name
        outcomes[row.index] = base
        work.append((row, out_dir / name))

    _refuse_existing(work, manifest, force)
    kept: list[tuple[MasterRow, Path]] = []
    for row, out in work:
        why = _keep_reason(out, protected) if force and out.exists() else None
        if why is None:
            kept.append((row, out))
            continue
        o = outcomes[row.index]
        o.status, o.note, o.file = "失败", why, ""
        report(o)
    work = kept
    out_dir.mkdir(parents=True, exist_ok=True)

    def done(row: MasterRow, error: str | None) -> None:
        o = outcomes[row.index]
        if error is None:
            o.status, o.note = "已生成", "；".join(row.notes)
            filing = row.filing
            assert filing is not None
            o.profile, o.year = filing.profile, str(filing.header.year)
            o.identity = identity_digest(filing)
            try:
                o.digest = file_digest(out_dir / o.file)
            except OSError:
                o.digest = ""
        else:
            o.status, o.note, o.file = "失败", error, ""
        report(o)

    if work:
        _write_all(work, profile, jobs, done, vba_project)
    ordered = [outcomes[r.index] for r in rows]
    write_manifest(ordered, manifest, inputs=protected)
    return ordered


def _refuse_existing(work: list[tuple[MasterRow, Path]], manifest: Path, force: bool) -> None:
    """Without --force nothing in the output folder is replaced: refuse before writing."""
    if force:
        return
    existing = [out for _, out in work if out.exists()]
    if manifest.exists():
        existing.append(manifest)
    if not existing:
        return
    shown = "、".join(p.name for p in existing[:5]) + ("等" if len(existing) > 5 else "")
    raise InputError(
        Problem(
            str(manifest.parent),
            "",
            f"输出文件夹中已有 {len(existing)} 个同名文件（{shown}），未作任何修改："
            "请换一个空文件夹；确需重新下发、覆盖先前下发的空白表时加 --force"
            "（单位已填报的回收文件和主表在任何情况下都不会被覆盖）",
        )
    )


_UNIT_FIELDS = (
    "goal_expected",
    "goal_actual",
    "indicators",
    "group_scores",
    "group_remarks",
    "finance",
    "projects",
    "counts",
    "texts",
)


def _keep_reason(out: Path, protected: list[Path]) -> str | None:
    """Why an existing `out` must not be replaced even with --force (None: it may be)."""
    for src in protected:
        try:
            if src.exists() and os.path.samefile(src, out):
                return f"{out.name} 是输入文件（主表或评价框架），不覆盖"
        except OSError:
            continue
    from .workbook.read import read_workbook

    try:
        filing = read_workbook(out)
    except Exception:  # not a workbook perfxl distributed: not ours to replace
        return f"{out.name} 已存在且不是 perfxl 下发的空白自评表，不覆盖"
    filled = [f for f in _UNIT_FIELDS if getattr(filing, f, None)]
    if filled:
        return f"{out.name} 已有单位填报的内容（回收的自评表），不覆盖：请换一个输出文件夹"
    return None


def write_manifest(
    outcomes: Iterable[Outcome], path: Path, *, inputs: Iterable[Path | str | None] = ()
) -> None:
    """UTF-8 with BOM, so Excel opens the Chinese text right by double-click; text from the
    master table is neutralised (csv_cell) so a double-click never runs a formula."""
    from .atomic import atomic_path

    with atomic_path(path, inputs=inputs) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(MANIFEST_COLUMNS)
            for o in outcomes:
                w.writerow([csv_cell(c) for c in o.cells()])


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: str) -> str:
    """A CSV field a spreadsheet will not run: text that begins like a formula (=, +, -, @,
    tab, CR, or their full-width forms) gets a leading apostrophe, as the OWASP guidance on
    CSV injection recommends; numbers such as -12.5 stay numbers."""
    if text and text.startswith(_FORMULA_LEAD) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


# ------------------------------------------------------------------ read a manifest


@dataclass
class ManifestRow:
    """A unit the bureau distributed to (a manifest line, or a master-table row)."""

    index: int
    unit_code: str
    name: str
    file: str = ""
    profile: str = ""
    year: str = ""
    identity: str = ""  # 身份摘要 ("" in a manifest written before it was recorded)
    digest: str = ""  # 文件摘要
    fields: dict[str, str] = field(default_factory=dict)  # identity_fields, from a master table


def _uncell(text: str) -> str:
    """A manifest field as written before csv_cell neutralised it."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_LEAD):
        return text[1:]
    return text


def read_manifest(
    path: Path, profile: Profile | None = None
) -> tuple[list[ManifestRow], list[str]]:
    """The units distributed to, from the manifest.csv `distribute` wrote (older manifests
    without 框架 … 文件摘要 are accepted) or from a master table (needs `profile`); and notes
    (rows that failed at distribution and so are not expected back)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(str(path), "", "清单文件不存在"))
    if path.suffix.lower() == ".csv":
        table = [
            [_uncell(c.strip()) for c in r] for r in csv.reader(io.StringIO(read_csv_text(path)))
        ]
        head = next((r for r in table if any(r)), [])
        if {"单位编码", "文件", "状态"} <= set(head):
            col = {h: j for j, h in enumerate(head)}
            rows, notes = [], []
            for raw in table[table.index(head) + 1 :]:
                if not any(raw):
                    continue
                get = lambda h, raw=raw: raw[col[h]] if h in col and col[h] < len(raw) else ""  # noqa: E731
                if get("状态") and get("状态") != "已生成":
                    notes.append(
                        f"第 {get('序号')} 条（{get('名称') or get('单位编码')}）下发时失败，不在回收范围内"
                    )
                    continue
                rows.append(
                    ManifestRow(
                        index=int(get("序号")) if get("序号").isdigit() else len(rows) + 1,
                        unit_code=get("单位编码"), name=get("名称"), file=get("文件"),
                        profile=get("框架"), year=get("年度"), identity=get("身份摘要"),
                        digest=get("文件摘要"),
                    )
                )  # fmt: skip
            return rows, notes
    if profile is None:
        raise InputError(
            Problem(
                str(path),
                "",
                "这不是 perfxl distribute 写出的清单（manifest.csv）；用主表作清单时请加 --profile 指定评价框架",
            )
        )
    master = read_master(path, profile)
    rows, notes = [], list(master.notes)
    for r in master.rows:
        if r.filing is None:
            notes.append(f"主表第 {r.line} 行：{'；'.join(r.errors)}，不在回收范围内")
            continue
        rows.append(
            ManifestRow(
                index=r.index, unit_code=r.shown("header.unit_code"), name=r.shown("header.name"),
                profile=r.filing.profile, year=str(r.filing.header.year),
                identity=identity_digest(r.filing), fields=identity_fields(r.filing),
            )
        )  # fmt: skip
    return rows, notes


# ------------------------------------------------------------------ read many


@dataclass
class ReadResult:
    """One returned workbook: its filing and reading notes, or why it could not be read."""

    path: Path
    filing: Filing | None
    notes: list[Problem]
    errors: list[Problem]

    @property
    def ok(self) -> bool:
        return self.filing is not None


def _read_one(args: tuple[Path, Profile | None]) -> ReadResult:
    from .workbook.read import read_workbook_ex

    path, profile = args
    try:
        filing, notes = read_workbook_ex(path, profile)
        return ReadResult(path, filing, notes, [])
    except InputError as exc:
        return ReadResult(path, None, [], exc.problems)
    except Exception as exc:  # one bad file never stops the batch
        return ReadResult(
            path, None, [], [Problem(str(path), "", f"内部错误：{type(exc).__name__}: {exc}")]
        )


def read_many(
    paths: Iterable[Path],
    jobs: int = 1,
    profile: Profile | None = None,
    progress: Callable[[ReadResult], None] | None = None,
) -> list[ReadResult]:
    """Read every workbook, in parallel when jobs > 1; results in the order given."""
    tasks = [(Path(p), profile) for p in paths]
    if jobs <= 1 or len(tasks) < 2:
        results = (_read_one(t) for t in tasks)
        return [_report(r, progress) for r in results]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, len(tasks) // (jobs * 8))
        return [_report(r, progress) for r in pool.map(_read_one, tasks, chunksize=chunk)]


def _report(result: ReadResult, progress: Callable[[ReadResult], None] | None) -> ReadResult:
    if progress:
        progress(result)
    return result


def default_jobs() -> int:
    """Workers for a batch: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - not on Linux


__all__ = [
    "DEFAULT_PATTERN",
    "MASTER_ALIASES",
    "ManifestRow",
    "Master",
    "MasterRow",
    "Outcome",
    "ReadResult",
    "default_jobs",
    "distribute",
    "file_digest",
    "file_name",
    "identity_digest",
    "identity_fields",
    "read_manifest",
    "read_many",
    "read_master",
    "sanitize",
    "select_row",
    "write_manifest",
]
