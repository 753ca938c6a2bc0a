"""The bureau's collection round end to end: distribute to 32 units, simulate the returns as
units really send them, collect twice, and assert every unit's row, the JSON and the folders."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from perfxl.batch import read_manifest
from perfxl.cli_check import check_file
from perfxl.filing_io import load_filing
from perfxl.office import find_soffice, recalculate
from perfxl.profile import load_profile
from perfxl.workbook.write import build_workbook

from .conftest import PROJECT_EXAMPLE, run_cli

N = 32
PID = "project-2020"
HEADER = ["单位编码", "项目名称", "主管部门", "实施单位", "年度", "年初预算数", "全年预算数",
          "当年财政拨款年初预算数", "当年财政拨款全年预算数", "上年结转资金年初预算数",
          "上年结转资金全年预算数", "其他资金年初预算数", "其他资金全年预算数"]  # fmt: skip


def code(i: int) -> str:
    return f"9100{i:02d}"


def name(i: int) -> str:
    return f"项目{i:02d}"


def filled(i: int, **change):
    """Unit i's filing as a unit fills it in (the example's indicators, its own header)."""
    f = load_filing(PROJECT_EXAMPLE).model_copy(deep=True)
    f.header.unit_code, f.header.name = code(i), name(i)
    for k, v in change.items():
        obj, attr = (f.header, k[7:]) if k.startswith("header_") else (f, k)
        setattr(obj, attr, v)
    return f


def save(filing, path: Path, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(load_profile(PID), path, filing, lock_prefilled=True)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def to_xls(src: Path, folder: Path) -> Path:
    subprocess.run(
        [find_soffice(), "--headless", f"-env:UserInstallation=file://{folder}/.lo",
         "--convert-to", "xls", "--outdir", str(folder), str(src)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / (src.stem + ".xls")


@pytest.fixture(scope="module")
def bureau(tmp_path_factory):
    root = tmp_path_factory.mktemp("bureau")
    master = root / "主表.csv"
    with open(master, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(1, N + 1):
            w.writerow([code(i), name(i), "示例市档案局", "示例市档案馆", "2020",
                        "490", "490", "470", "470", "20", "20", "0", "0"])  # fmt: skip
    sent = root / "下发"
    r = run_cli("distribute", master, "--profile", PID, "-o", sent, "-j", "2")
    assert r.returncode == 0, r.stderr
    manifest = sent / "manifest.csv"
    files = {m.unit_code: sent / m.file for m in read_manifest(manifest)[0]}
    back = root / "回收"
    back.mkdir()
    for i in range(1, N + 1):
        if i in (21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31):
            continue
        save(filled(i), back / files[code(i)].name)
    save(filled(21, goal_actual=None), back / files[code(21)].name)  # a mistake
    f22 = filled(22)
    f22.indicators[0].score = Decimal("12")  # above its weight of 10
    save(f22, back / files[code(22)].name)  # another
    # 23: not submitted
    save(filled(24, goal_actual=None), back / "24_旧.xlsx", mtime=1_600_000_000)  # duplicate
    save(filled(24), back / "24_新.xlsx", mtime=1_700_000_000)
    save(filled(25), back / "自评表（最终版）.xlsx")  # renamed
    save(filled(26, header_unit_code="999999"), back / files[code(26)].name)  # code changed
    xlsx = save(filled(27), root / "xls" / "27.xlsx")
    shutil.copyfile(to_xls(xlsx, root / "xls"), back / "27.xls")  # .xls return
    shutil.copyfile(files[code(28)], back / files[code(28)].name)  # untouched copy
    (back / files[code(29)].name).write_bytes(b"PK\x03\x04 not really a workbook")  # corrupt
    save(filled(30), back / "第二批" / "30.xlsx")  # in a sub-folder
    f31 = filled(31)
    f31.funds.total.budget = Decimal("500")  # a locked budget figure changed
    save(f31, back / files[code(31)].name)
    save(filled(99, header_name="清单外项目"), back / "外单位.xlsx")  # not in the manifest
    (back / "说明.txt").write_text("附件说明", encoding="utf-8")
    out = root / "第一轮"
    first = run_cli("collect", back, "--manifest", manifest, "-o", out, "--json")
    return {"root": root, "sent": sent, "manifest": manifest, "back": back, "out": out,
            "run": first, "files": files}  # fmt: skip


def units_of(data):
    return {u["单位编码"] or u["名称"]: u for u in data["units"]}


def test_manifest_records_identity(bureau):
    rows, notes = read_manifest(bureau["manifest"])
    assert len(rows) == N and not notes
    assert all(r.profile == PID and r.year == "2020" and len(r.identity) == 64 for r in rows)
    wb = openpyxl.load_workbook(bureau["files"][code(1)])
    ws = wb["项目支出绩效自评表"]
    assert ws["H3"].value == code(1) and ws["H3"].protection.locked  # 单位编码 locked
    assert ws["B3"].protection.locked and ws["C6"].protection.locked  # 名称, 年初预算数
    assert not ws["E6"].protection.locked  # 全年执行数 stays open


def test_round_one_unit_by_unit(bureau):
    r = bureau["run"]
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["format"] == "perfxl-collect/1" and data["round"] == 1
    u = units_of(data)
    for i in (*range(1, 21), 32):
        assert u[code(i)]["状态"] == "通过", (i, u[code(i)])
        assert u[code(i)]["标记"] == ""
        assert u[code(i)]["总分"] == "94.23" and u[code(i)]["等级"] == "优"
        assert u[code(i)]["执行率"] == "99.85"
        assert u[code(i)]["一级得分"] == {"1": "9.99", "2": "47.24", "3": "27.00", "4": "10.00"}
    assert u[code(21)]["状态"] == "未通过" and "实际完成情况" in u[code(21)]["主要问题"]
    assert u[code(22)]["状态"] == "未通过" and u[code(22)]["错误数"] >= 1
    assert u[code(23)]["状态"] == "未交"
    assert u[code(24)]["状态"] == "通过" and u[code(24)]["标记"] == "重复"
    assert u[code(24)]["文件"].endswith("24_新.xlsx")
    assert u[code(24)]["其他文件"][0].endswith("24_旧.xlsx")
    assert u[code(25)]["状态"] == "通过" and u[code(25)]["文件"].endswith("自评表（最终版）.xlsx")
    assert u[code(26)]["状态"] == "未通过" and u[code(26)]["标记"] == "身份不符"
    assert "单位编码为「999999」" in u[code(26)]["主要问题"]
    assert u[code(27)]["状态"] == "通过" and u[code(27)]["文件"].endswith("27.xls")
    assert u[code(28)]["状态"] == "未通过" and u[code(28)]["标记"] == "未改动"
    assert u[code(29)]["状态"] == "无法读取" and u[code(29)]["主要问题"]
    assert u[code(30)]["状态"] == "通过" and "第二批" in u[code(30)]["文件"]
    assert u[code(31)]["状态"] == "未通过" and u[code(31)]["标记"] == "身份不符"
    assert "预算数" in u[code(31)]["主要问题"]
    assert u[code(99)]["标记"] == "不在清单" and u[code(99)]["名称"] == "清单外项目"
    assert data["summary"] == {"通过": 26, "未通过": 5, "无法读取": 1, "未交": 1}
    assert any(p.endswith("说明.txt") for p in data["ignored"])
    # the same findings as perfxl check, one row each
    mine = [f for f in data["findings"] if f["单位编码"] == code(22)]
    report = check_file(Path(u[code(22)]["文件"]))
    assert sorted(f["编码"] for f in mine) == sorted(f.code for f in report.findings)
    # originals untouched
    assert (bureau["back"] / "27.xls").exists()
    assert not list(bureau["back"].rglob("*.审核.*"))


def test_summary_workbook(bureau):
    out = bureau["out"]
    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    assert wb.sheetnames == ["汇总", "未交", "问题清单", "统计"]
    ws = wb["汇总"]
    head = [c.value for c in ws[1]]
    assert head[:7] == ["序号", "单位编码", "名称", "状态", "标记", "总分", "等级"]
    rows = {
        r[1]: dict(zip(head, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert rows[code(1)]["状态"] == "通过" and rows[code(1)]["总分"] == 94.23
    assert rows[code(1)]["2 产出指标"] == 47.24
    assert rows[code(23)]["状态"] == "未交" and rows[code(29)]["状态"] == "无法读取"
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert [c.value for c in wb["未交"]["B"]][1:] == [code(23)]
    problems = wb["问题清单"]
    linked = [c for c in problems["E"][1:] if c.hyperlink is not None]
    assert linked and all("审核" in c.hyperlink.target for c in linked)
    # 统计: formulas whose cached results equal what LibreOffice recalculates
    cached = openpyxl.load_workbook(out / "汇总.xlsx", data_only=True)["统计"]
    stats = {r[0]: r[1] for r in cached.iter_rows(values_only=True) if r[0]}
    data = json.loads((out / "汇总.json").read_text(encoding="utf-8"))
    high = sum(1 for u in data["units"] if u["总分"] and float(u["总分"]) >= 90)
    assert stats["通过"] == 26 and stats["未交"] == 1 and stats["90–100 分"] == high >= 26
    assert wb["统计"]._charts
    recalc = out.parent / "recalc.xlsx"
    recalculate(out / "汇总.xlsx", recalc)
    again = openpyxl.load_workbook(recalc, data_only=True)
    assert {r[0]: r[1] for r in again["统计"].iter_rows(values_only=True) if r[0]} == stats


def test_feedback_folders(bureau):
    out = bureau["out"]
    folder = out / "反馈_第1轮"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{code(i)}_{name(i)}" for i in (21, 22, 26, 28, 29, 31)), names
    one = folder / f"{code(21)}_{name(21)}"
    assert (one / "审核意见.xlsx").exists()
    copy = next(one.glob("*.审核.xlsx"))
    assert openpyxl.load_workbook(copy).sheetnames[0] == "审核结果"
    opinion = openpyxl.load_workbook(one / "审核意见.xlsx")["审核意见"]
    text = " ".join(str(c.value) for row in opinion.iter_rows() for c in row if c.value)
    assert "未通过" in text and "实际完成情况" in text
    assert not list(
        (folder / f"{code(29)}_{name(29)}").glob("*.审核.*")
    )  # unreadable: opinion only
    assert (out / "history" / "第1轮.json").exists()
    rows = list(csv.DictReader(open(out / "汇总.csv", encoding="utf-8-sig")))
    assert len(rows) == N + 1


def test_second_round_shows_changes(bureau):
    back, out = bureau["back"], bureau["out"]
    save(filled(21), back / "21_改.xlsx", mtime=1_800_000_000)  # fixed
    save(filled(23), back / "23.xlsx")  # late
    f1 = filled(1, goal_expected="改过的目标")
    save(f1, back / "1_再改.xlsx", mtime=1_800_000_000)  # edited after acceptance
    (out / "放错了.xlsx").write_bytes(b"not an input")  # outputs are never inputs
    r = run_cli("collect", back, out, "--manifest", bureau["manifest"], "-o", out, "--json")
    assert r.returncode == 2  # the output folder as a returns folder is refused
    r = run_cli("collect", back, "--manifest", bureau["manifest"], "-o", out, "--json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["round"] == 2
    u = units_of(data)
    assert u[code(21)]["状态"] == "通过" and u[code(21)]["本轮变化"].startswith("未通过→通过")
    assert u[code(21)]["标记"] == "重复"
    assert u[code(23)]["状态"] == "通过" and u[code(23)]["本轮变化"] == "未交→通过"
    assert "已验收后修改" in u[code(1)]["标记"]
    assert u[code(2)]["本轮变化"] == "无变化"
    assert u[code(22)]["本轮变化"] == "无变化" and u[code(22)]["状态"] == "未通过"
    assert (out / "history" / "第1轮.json").exists() and (out / "history" / "第2轮.json").exists()
    assert (out / "反馈_第2轮").is_dir()


def test_api_dataframes(bureau):
    import perfxl

    units, findings = perfxl.collect(bureau["back"], bureau["manifest"], jobs=1)
    assert len(units) == N + 1
    assert set(units["状态"]) == {"通过", "未通过", "无法读取"}
    row = units.set_index("单位编码").loc[code(2)]
    assert row["总分"] == pytest.approx(94.23) and row["等级"] == "优"
    assert (findings["单位编码"] == code(22)).any()


def test_bad_manifest_and_missing_office_message(tmp_path, bureau):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run_cli("collect", bureau["back"], "--manifest", bad, "-o", tmp_path / "o")
    assert r.returncode == 2 and "清单" in r.stderr
    env_run = subprocess.run(
        [*map(str, (Path(os.sys.executable), "-m", "perfxl", "collect", bureau["back"] / "27.xls",
                    "--manifest", bureau["manifest"], "-o", tmp_path / "o2", "--json"))],
        capture_output=True, text=True, encoding="utf-8",
        env={**os.environ, "PERFXL_SOFFICE": "/nonexistent/soffice"}, timeout=300,
    )  # fmt: skip
    data = json.loads(env_run.stdout)
    assert "LibreOffice" in json.dumps(data, ensure_ascii=False)


def test_xlsm_distribution_collected(tmp_path):
    master = tmp_path / "主表.csv"
    master.write_text("单位编码,名称,年度,年初预算数,全年预算数\n901001,甲,2023,10,10\n", "utf-8")
    r = run_cli("distribute", master, "--profile", PID, "-o", tmp_path / "下发", "--format", "xlsm")
    assert r.returncode == 0, r.stderr
    (copy,) = (tmp_path / "下发").glob("*.xlsm")
    ws = openpyxl.load_workbook(copy, keep_vba=True)["项目支出绩效自评表"]
    assert ws["H3"].protection.locked and ws["B3"].protection.locked
    back = tmp_path / "回收"
    back.mkdir()
    shutil.copyfile(copy, back / "甲.xlsm")
    manifest = tmp_path / "下发" / "manifest.csv"
    r = run_cli("collect", back, "--manifest", manifest, "-o", tmp_path / "轮", "--json")
    assert r.returncode == 1
    (unit,) = json.loads(r.stdout)["units"]
    assert unit["状态"] == "未通过" and unit["标记"] == "未改动"
    assert next((tmp_path / "轮" / "反馈_第1轮").rglob("*.审核.xlsm"))
