"""A hostile corpus, built here, each file checked in a batch between two good returns.

Every file is run as a user would run it (`perfxl check good hostile good`, a separate
process) under an address-space limit, and its peak memory is measured: the good files are
checked and reported, the hostile one is refused or reported on its own, no traceback, the
exit code is the documented one, and the peak stays under PEAK_BOUND.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from perfxl.filing_io import load_filing
from perfxl.workbook.guard import open_package, parse_ref

from .conftest import PROJECT_EXAMPLE, ROOT
from .workbook_factory import build

MIB = 1024 * 1024
PEAK_BOUND = 512 * MIB  # peak resident memory of one `perfxl check` batch, any input
ADDRESS_LIMIT = 3 * 1024 * MIB  # virtual address space allowed to the process
FORM = "项目支出绩效自评表"


# A small launcher process forks the command and measures it: a child forked straight from
# the test process would start with the test process's resident pages (hundreds of MiB late
# in a suite) already counted in its peak.
LAUNCHER = """
import os, resource, sys
limit, report, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss * 1024}")
"""


def run_limited(*args: str | Path, cwd: Path = ROOT) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in bytes) of `perfxl args` under ADDRESS_LIMIT."""
    import tempfile

    env = {**os.environ, "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"}
    env.pop("PERFXL_DEBUG", None)
    folder = Path(tempfile.mkdtemp(prefix="perfxl-hostile-"))  # never the work tree
    out_path, err_path, report = folder / "out", folder / "err", folder / "report"
    command = [sys.executable, "-m", "perfxl", *map(str, args)]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(ADDRESS_LIMIT), str(report), *command],
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            check=False,
        )
    code, peak = (int(x) for x in report.read_text().split())
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    for f in (out_path, err_path, report):
        f.unlink()
    folder.rmdir()
    return code, stdout, stderr, peak


# ------------------------------------------------------------------ building the corpus


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("good") / "good.xlsx", load_filing(PROJECT_EXAMPLE))


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy a package member by member; `change(name, data)` returns new data or None to drop."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item))
            if data is not None:
                zout.writestr(item.filename, data)
    return dst


def _cell_of(good: Path, name: str) -> tuple[str, str]:
    pkg = open_package(good)
    area = parse_ref(pkg.names[name])
    pkg.zip.close()
    assert area is not None
    return pkg.sheets[area.sheet], area.a1


def _set_cell(good: Path, dst: Path, name: str, inner: str, t: str | None = None) -> Path:
    """The cell of defined name `name` replaced by `<c r=.. t=..>inner</c>`."""
    part, ref = _cell_of(good, name)
    kind = f' t="{t}"' if t else ""
    new = f'<c r="{ref}"{kind}>{inner}</c>'.encode()
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)

    def change(fn: str, data: bytes) -> bytes:
        if fn != part:
            return data
        data, n = pattern.subn(new, data, count=1)
        assert n == 1
        return data

    return _rewrite(good, dst, change)


def _far_cell(good: Path, dst: Path, sheet_part: str) -> Path:
    def change(fn: str, data: bytes) -> bytes:
        if fn != sheet_part:
            return data
        far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    return _rewrite(good, dst, change)


def _far_long_tag(good: Path, dst: Path) -> Path:
    """A far cell whose tag carries 5 MB of attribute: the form sheet is then too large to
    measure whole, and the tag spans the chunks it is streamed in."""
    junk = base64.b64encode(random.Random(7).randbytes(15 * MIB // 4))  # no < > " in it

    def change(fn: str, data: bytes) -> bytes:
        if fn != "xl/worksheets/sheet1.xml":
            return data
        far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr" x="' + junk
        far += b'"><is><t>x</t></is></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    return _rewrite(good, dst, change)


def _stretched_name(good: Path, dst: Path) -> Path:
    def change(fn: str, data: bytes) -> bytes:
        if fn != "xl/workbook.xml":
            return data
        return data.replace(b"$C$13:$K$17", b"$C$13:$K$1048576")

    return _rewrite(good, dst, change)


def _many_members(good: Path, dst: Path) -> Path:
    _rewrite(good, dst, lambda fn, data: data)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_STORED) as zf:
        for i in range(20_000):
            zf.writestr(f"x/{i}", b"")
    return dst


def _drop(member: str) -> Callable[[Path, Path], Path]:
    return lambda good, dst: _rewrite(good, dst, lambda fn, d: None if fn == member else d)


def _dtd(good: Path, dst: Path) -> Path:
    def change(fn: str, data: bytes) -> bytes:
        if fn != "docProps/core.xml":
            return data
        head, _, rest = data.partition(b"?>")
        return head + b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + rest

    return _rewrite(good, dst, change)


def _zip_bomb(good: Path, dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            for _ in range(64):
                fh.write(b"0" * MIB)
    return dst


def _bytes(data: bytes) -> Callable[[Path, Path], Path]:
    def make(good: Path, dst: Path) -> Path:
        dst.write_bytes(data)
        return dst

    return make


def _truncated(good: Path, dst: Path) -> Path:
    data = good.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


_FUNDS = "pf_funds_total_budget"
_SCORE = "pf_total_score"
WORKBOOKS: dict[str, Callable[[Path, Path], Path]] = {
    "nan": lambda g, d: _set_cell(g, d, _FUNDS, "<v>NaN</v>"),
    "inf": lambda g, d: _set_cell(g, d, _FUNDS, "<v>INF</v>"),
    "huge": lambda g, d: _set_cell(g, d, _FUNDS, "<v>1e300</v>"),
    "tiny": lambda g, d: _set_cell(g, d, _SCORE, "<v>1e-300</v>"),
    "digits27": lambda g, d: _set_cell(g, d, _SCORE, "<v>123456789012345678901234567</v>"),
    "text1e50": lambda g, d: _set_cell(g, d, _SCORE, "<is><t>1e50</t></is>", "inlineStr"),
    "markup": lambda g, d: _set_cell(
        g, d, "pf_name", "<is><t>[/b][red]x\x1b[2J</t></is>", "inlineStr"
    ),
    "far_form": lambda g, d: _far_cell(g, d, "xl/worksheets/sheet1.xml"),
    "far_meta": lambda g, d: _far_cell(g, d, "xl/worksheets/sheet4.xml"),
    "far_long_tag": _far_long_tag,
    "stretched_name": _stretched_name,
    "many_members": _many_members,
    "no_content_types": _drop("[Content_Types].xml"),
    "dtd_core": _dtd,
    "zip_bomb": _zip_bomb,
    "truncated": _truncated,
    "random": _bytes(os.urandom(4096)),
    "zero": _bytes(b""),
    "csv_renamed": _bytes("单位,金额\n=1+1,2\n".encode()),
    "xls_renamed": _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048),
}

DATA_FILES = {
    "alias_bomb.yaml": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    + "".join(
        f"c{i}: &c{i} [" + ",".join([f"*{'b' if i == 0 else f'c{i - 1}'}"] * 9) + "]\n"
        for i in range(8)
    ),
    "deep.json": "[" * 50_000 + "]" * 50_000,
    "deep.yaml": "[" * 50_000 + "]" * 50_000,
    "huge_score.yaml": PROJECT_EXAMPLE.read_text(encoding="utf-8") + "\ntotal_score: 1e50\n",
}


def _check_batch(tmp_path: Path, good: Path, hostile: Path, *extra: str) -> dict:
    a, b = tmp_path / "甲.xlsx", tmp_path / "乙.xlsx"
    a.write_bytes(good.read_bytes())
    b.write_bytes(good.read_bytes())
    code, out, err, peak = run_limited("check", a, hostile, b, "--format", "json", *extra)
    assert "Traceback" not in out + err, err
    assert peak < PEAK_BOUND, f"{hostile.name}: peak {peak / MIB:.0f} MiB"
    doc = json.loads(out)
    files = doc["files"]
    assert [f["file"] for f in files] == [str(a), str(hostile), str(b)]
    assert files[0]["usable"] and files[2]["usable"], files
    expected = 2 if not files[1]["usable"] else (0 if doc["valid"] else 1)
    assert code == expected, (code, err)
    return files[1]


@pytest.mark.parametrize("kind", sorted(WORKBOOKS))
def test_hostile_workbook_in_a_batch(kind: str, good: Path, tmp_path: Path) -> None:
    hostile = WORKBOOKS[kind](good, tmp_path / f"{kind}.xlsx")
    result = _check_batch(tmp_path, good, hostile)
    if result["usable"]:  # read: the bad cell is a located note, not a crash
        if kind in ("nan", "inf", "huge", "digits27", "text1e50"):
            notes = [  # a number out of range, or text where a number belongs
                f
                for f in result["findings"]
                if "未能读取为" in f["message"]
                or f["code"] in ("VAL-NUMBER-TEXT", "INTEG-FORMULA")  # text over the formula
            ]
            assert notes and all(f["sheet"] == FORM and f["cell"] for f in notes), result
    else:
        assert result["problems"], result
        assert all(
            "Error:" not in p["message"] or "无法处理" in p["message"] for p in result["problems"]
        )


def test_a_far_cell_hidden_in_a_long_tag_is_refused(good: Path, tmp_path: Path) -> None:
    hostile = _far_long_tag(good, tmp_path / "long_tag.xlsx")
    result = _check_batch(tmp_path, good, hostile)
    assert not result["usable"]
    [problem] = result["problems"]
    assert "单元格或行标记" in problem["message"] and FORM in problem["message"], problem


@pytest.mark.parametrize("name", sorted(DATA_FILES))
def test_hostile_data_file_in_a_batch(name: str, good: Path, tmp_path: Path) -> None:
    hostile = tmp_path / name
    hostile.write_text(DATA_FILES[name], encoding="utf-8")
    result = _check_batch(tmp_path, good, hostile)
    assert not result["usable"] or name == "huge_score.yaml"


def test_annotated_copies_survive_a_hostile_file(good: Path, tmp_path: Path) -> None:
    """--format xlsx: the file the annotating library cannot open is that file's problem;
    both good files still get their copies."""
    hostile = WORKBOOKS["no_content_types"](good, tmp_path / "无类型.xlsx")
    markup = WORKBOOKS["markup"](good, tmp_path / "标记.xlsx")
    a, b = tmp_path / "甲.xlsx", tmp_path / "乙.xlsx"
    a.write_bytes(good.read_bytes())
    b.write_bytes(good.read_bytes())
    folder = tmp_path / "副本"
    code, out, err, peak = run_limited(
        "check", a, hostile, markup, b, "--format", "xlsx", "-o", folder
    )
    assert "Traceback" not in out + err and peak < PEAK_BOUND
    names = sorted(p.name for p in folder.iterdir())
    assert "甲.审核.xlsx" in names and "乙.审核.xlsx" in names, (names, err)
    assert code in (1, 2), err
    assert "\x1b" not in out + err  # the escape sequence is shown, not sent


def test_text_output_shows_markup_literally(good: Path, tmp_path: Path) -> None:
    markup = WORKBOOKS["markup"](good, tmp_path / "标记.xlsx")
    code, out, err, _ = run_limited("check", markup, "--format", "text")
    assert "Traceback" not in out + err and "内部错误" not in err
    assert "[/b][red]x" in out and "\\x1b[2J" in out and "\x1b[2J" not in out
    code, out, err, _ = run_limited("read", markup)
    assert code == 0 and "\x1b[2J" not in err


def test_master_amount_out_of_range_fails_the_row(tmp_path: Path) -> None:
    master = tmp_path / "主表.csv"
    master.write_text(
        "单位编码,名称,年度,全年预算数\n1,甲,2023,100\n2,乙,2023,1e50\n", encoding="utf-8"
    )
    out = tmp_path / "下发"
    code, _out, err, _ = run_limited("distribute", master, "--profile", "project-2020", "-o", out)
    assert code == 1 and "Traceback" not in err
    assert "超出" in (out / "manifest.csv").read_text(encoding="utf-8-sig")
    assert len(list(out.glob("*.xlsx"))) == 1
