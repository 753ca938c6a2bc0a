"""`perfxl report`: the 自评报告 read back from real .docx files (python-docx), its outline,
every number against the filing, refusal on blocking findings, a bureau's template, and a
LibreOffice PDF render of the demo's reports."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import pytest
import yaml

from perfxl.decimal_math import round_half_up
from perfxl.filing_io import load_filing
from perfxl.profile import load_profile
from perfxl.scoring import score
from perfxl.selfreport import build_report, to_markdown

from .conftest import PROJECT_EXAMPLE, ROOT, WUHAN_EXAMPLE, run_cli
from .office_fixture import require_office

GUANGDONG = ROOT / "tests" / "fixtures" / "dept-guangdong-report.yaml"

PROJECT_OUTLINE = [
    "一、基本情况",
    "二、自评工作开展情况",
    "三、综合评价结论",
    "四、目标完成情况分析",
    "五、存在问题及原因",
    "六、改进措施",
]
DEPT_OUTLINE = [
    "一、部门（单位）基本情况",
    "二、部门整体收支情况",
    "三、部门整体绩效自评情况",
    "四、存在的主要问题",
    "五、下一步改进措施",
]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


# ---------------------------------------------------------------- reading .docx back


def body(path: Path) -> list[tuple[str, str]]:
    """(style, text) of every paragraph and table cell in reading order."""
    d = docx.Document(str(path))
    out = []
    for el in d.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = docx.text.paragraph.Paragraph(el, d)
            out.append((p.style.name, p.text))
        elif tag == "tbl":
            t = docx.table.Table(el, d)
            for row in t.rows:
                out.append(("cell-row", "\t".join(c.text for c in row.cells)))
    return out


def headings(path: Path, level: int) -> list[str]:
    return [t for s, t in body(path) if s == f"Heading {level}"]


def text_of(path: Path) -> str:
    return "\n".join(t for _, t in body(path))


def paragraph_with(path: Path, *needles: str) -> str:
    found = [t for _, t in body(path) if all(n in t for n in needles)]
    assert found, f"no paragraph with {needles}"
    return found[0]


def numbers(text: str) -> list[Decimal]:
    return [Decimal(x.replace(",", "")) for x in NUMBER.findall(text)]


def filing_numbers(path: Path) -> set[Decimal]:
    """Every number the filing states, as values or inside its texts."""
    out: set[Decimal] = set()

    def walk(v: object) -> None:
        if isinstance(v, bool):
            return
        if isinstance(v, int | float):
            out.add(Decimal(str(v)))
        elif isinstance(v, str):
            out.update(numbers(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def report(tmp_path: Path, src: Path, *extra: str, name: str = "报告.docx"):
    out = tmp_path / name
    proc = run_cli("report", src, "-o", out, *extra)
    return proc, out


# ---------------------------------------------------------------- the project report


def test_project_report_outline_and_numbers(tmp_path: Path) -> None:
    proc, out = report(tmp_path, PROJECT_EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert "已写入自评报告" in proc.stdout
    assert headings(out, 1) == PROJECT_OUTLINE
    h2 = headings(out, 2)
    assert h2[:2] == ["（一）项目概况", "（二）项目绩效目标"]
    assert h2[2:] == [
        "（一）预算执行情况",
        "（二）产出指标完成情况",
        "（三）效益指标完成情况",
        "（四）满意度指标完成情况",
    ]
    d = docx.Document(str(out))
    assert d.paragraphs[0].style.name == "Title"
    assert d.paragraphs[0].text == "档案数字化项目支出绩效自评报告"

    # every number in the text is the filing's own, or derived from it as stated here
    filing = filing_numbers(PROJECT_EXAMPLE)
    derived = {
        Decimal(2020),  # year
        *map(Decimal, (1, 2, 3, 4)),  # list numbers （一）1．
        Decimal(13), Decimal(8), Decimal(5), Decimal(7), Decimal(12),  # counts
        Decimal("5.77"),  # 100 − 94.23, deducted in all
        Decimal("0.01"), Decimal("1.6"), Decimal("0.25"), Decimal("0.91"), Decimal(3),  # per item
        Decimal("2.76"),  # 产出 deductions 1.6 + 0.25 + 0.91
        Decimal(100), Decimal(30),  # total weight; over-achievement threshold (profile)
    }  # fmt: skip
    stray = [n for n in numbers(text_of(out)) if n not in filing | derived]
    assert stray == []

    # amounts in 万元 and rates with two decimals, each as filed
    p = paragraph_with(out, "项目年初预算数")
    assert "年初预算数490.00万元" in p and "全年执行数489.27万元" in p
    assert "预算执行率99.85%" in p
    assert "当年财政拨款全年预算470.00万元、执行469.27万元" in p
    assert "得分94.23分" in paragraph_with(out, "经自评")
    assert "评价等级为“优”" in paragraph_with(out, "经自评")
    counts = paragraph_with(out, "全部评分指标")
    assert "共13个" in counts and "得满分8个、扣分5个" in counts and "合计扣5.77分" in counts
    # each deduction with its reason (the filing's 偏差原因)
    data = yaml.safe_load(PROJECT_EXAMPLE.read_text(encoding="utf-8"))
    for ind in data["indicators"]:
        if Decimal(str(ind["score"])) < Decimal(str(ind["weight"])):
            lost = Decimal(str(ind["weight"])) - Decimal(str(ind["score"]))
            p = paragraph_with(out, f"．{ind['name']}：")
            assert f"扣{lost.normalize():f}分" in p
            assert ind["explanation"].rstrip("。") in p
    # the execution rate lost 0.01 and the filing gives no reason: a placeholder says so
    assert "【待填写：预算执行率扣0.01分的原因】" in paragraph_with(
        out, "预算执行率99.85%，得分9.99分"
    )
    # the explained over-achievement is carried too
    assert "超出预期40%" in paragraph_with(out, "档案查阅利用人次", "偏离")
    # free texts: the filing's goals; placeholders where it has none
    assert data["goal_expected"] in paragraph_with(out, "年度总体目标：")
    assert data["goal_actual"] in paragraph_with(out, "年度总体目标完成情况：")
    text = text_of(out)
    assert "【待填写：存在的问题及原因】" in text and "【待填写：改进措施】" in text
    # the indicator tables carry every indicator with its target, actual, weight and score
    rows = [t for s, t in body(out) if s == "cell-row"]
    assert "数量指标\t档案著录条目\t≥50万条\t40万条\t8\t6.4" in rows
    assert "成本指标\t单位加工成本\t≤90元/百幅面\t99元/百幅面\t10\t9.09" in rows


def test_project_docx_typography(tmp_path: Path) -> None:
    proc, out = report(tmp_path, PROJECT_EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    d = docx.Document(str(out))
    sec = d.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)  # A4
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin)] == [37, 35]
    assert [round(x.mm) for x in (sec.left_margin, sec.right_margin)] == [28, 26]

    def east_asia(style) -> str:
        return style.element.rPr.rFonts.get(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
        )

    st = d.styles
    assert (east_asia(st["Normal"]), st["Normal"].font.size.pt) == ("仿宋_GB2312", 14)  # 四号
    assert (east_asia(st["Heading 1"]), st["Heading 1"].font.size.pt) == ("黑体", 16)  # 三号
    assert (east_asia(st["Heading 2"]), st["Heading 2"].font.size.pt) == ("楷体_GB2312", 16)
    assert (east_asia(st["Title"]), st["Title"].font.size.pt) == ("方正小标宋简体", 22)  # 二号
    with zipfile.ZipFile(out) as z:
        fonts = z.read("word/fontTable.xml").decode("utf-8")
        footer = z.read("word/footer1.xml").decode("utf-8")
    assert 'w:name="仿宋_GB2312"' in fonts and 'w:altName w:val="仿宋"' in fonts
    assert "PAGE" in footer  # page numbers


def test_markdown_has_the_same_report(tmp_path: Path) -> None:
    proc, out = report(tmp_path, PROJECT_EXAMPLE, name="报告.md")
    assert proc.returncode == 0, proc.stderr
    md = out.read_text(encoding="utf-8")
    assert [x[3:] for x in md.splitlines() if x.startswith("## ")] == PROJECT_OUTLINE
    assert "| 数量指标 | 档案著录条目 | ≥50万条 | 40万条 | 8 | 6.4 |" in md
    docx_proc, docx_out = report(tmp_path, PROJECT_EXAMPLE)
    assert docx_proc.returncode == 0
    assert set(numbers(md)) == set(numbers(text_of(docx_out)))


# ---------------------------------------------------------------- the department reports


def test_wuhan_department_report(tmp_path: Path) -> None:
    proc, out = report(tmp_path, WUHAN_EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert headings(out, 1) == DEPT_OUTLINE
    assert headings(out, 2)[:4] == [
        "（一）部门职能",
        "（二）机构人员情况",
        "（三）年度主要任务",
        "（四）整体绩效目标",
    ]
    assert headings(out, 3) == ["1．投入", "2．过程", "3．产出", "4．效果"]
    # the published summary's figures, in its own wording
    p = paragraph_with(out, "年初预算数")
    assert "年初预算数3,856.83万元，调整预算数3,233.46万元，实际支出3,233.46万元" in p
    assert "预算执行率100.00%；实际支出与年初预算比83.84%" in p
    rows = [t for s, t in body(out) if s == "cell-row"]
    assert "档案馆事业发展建设\t333.40\t333.33\t333.33\t100.00%" in rows
    assert "新馆建设\t421.41\t0.00\t0.00\t—" in rows  # no 执行率 for an adjusted budget of 0
    assert "合计\t1,973.81\t1,551.29\t1,551.29\t100.00%" in rows
    assert "投入\t20\t19\t优秀\t规范合理" in rows  # Wuhan's 评分结果 table
    assert "综合绩效\t100\t96\t优秀\t" in rows
    assert "得分96分，评价等级为“优秀”" in paragraph_with(out, "经自评")
    # each 一级 deduction; the summary gives no reason, so a placeholder asks for one
    for name, weight, got in (
        ("投入", 20, 19),
        ("过程", 30, 29),
        ("产出", 25, 24),
        ("效果", 25, 24),
    ):
        p = paragraph_with(out, f"{name}指标分值")
        assert f"分值{weight}分，自评得分{got}分，扣1分" in p
    assert text_of(out).count("扣1分的原因】") == 4
    data = yaml.safe_load(WUHAN_EXAMPLE.read_text(encoding="utf-8"))
    assert data["texts"]["存在问题"] in text_of(out)
    assert data["texts"]["改进措施"] in text_of(out)
    derived = {
        Decimal(2020), *map(Decimal, range(1, 5)), Decimal(0),
        Decimal("1973.81"), Decimal("1551.29"),  # 一级项目 sums
        Decimal(20), Decimal(30), Decimal(25),  # the profile's 一级 weights
        round_half_up(Decimal("3233.46") * 100 / Decimal("3856.83")),  # 与年初预算比
    }  # fmt: skip
    stray = [n for n in numbers(text_of(out)) if n not in filing_numbers(WUHAN_EXAMPLE) | derived]
    assert stray == []


def test_guangdong_department_report_counts_and_every_deduction(tmp_path: Path) -> None:
    proc, out = report(tmp_path, GUANGDONG)
    assert proc.returncode == 0, proc.stderr
    assert headings(out, 1) == [*DEPT_OUTLINE, "附表：部门整体支出绩效自评得分表"]
    text = text_of(out)
    # counts of indicators and full marks (stated in the filing and recomputed alike)
    assert "共设末级指标26个，其中得满分22个、扣分4个，合计扣2.2分" in text
    assert "管理效率指标分值50分，自评得分49分，扣1分。共设末级指标23个，得满分21个" in text
    data = yaml.safe_load(GUANGDONG.read_text(encoding="utf-8"))
    profile = load_profile("dept-guangdong")
    names = {n.code: n.name for _, n in profile.walk()}
    for ind in data["indicators"]:
        w, s = Decimal(str(ind["weight"])), Decimal(str(ind["score"]))
        if s < w:
            p = paragraph_with(out, f"{names[ind['code']]}：分值")
            assert f"得分{s.normalize():f}分，扣{(w - s).normalize():f}分" in p
            assert ind["explanation"] in p
    # 收支 with shares of two decimals, computed from the filing's amounts
    p = paragraph_with(out, "全年收入合计")
    assert "财政拨款收入11,000.00万元，占95.65%" in p and "其他收入100.00万元，占0.87%" in p
    p = paragraph_with(out, "全年支出合计")
    assert "基本支出6,200.00万元，占55.01%；项目支出5,070.00万元，占44.99%" in p
    rows = [t for s, t in body(out) if s == "cell-row"]
    assert "　　送戏下乡\t1,200.00\t1,200.00\t1,170.00\t97.50%" in rows
    assert "合计\t5,300.00\t5,150.00\t5,070.00\t98.45%" in rows
    assert any(r.startswith("　　采购政策效能\t1\t0.5\t政府采购预留份额") for r in rows)
    assert "负责全市文化、广播电视、旅游和文物工作。" in text


# ---------------------------------------------------------------- refusals and --force


def _broken(tmp_path: Path) -> Path:
    data = yaml.safe_load(PROJECT_EXAMPLE.read_text(encoding="utf-8"))
    data["total_score"] = 95  # the items add to 94.23
    data["funds"]["total"]["executed"] = 489.72  # the rate 99.85% no longer follows
    path = tmp_path / "错误的自评表.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_refuses_a_filing_with_blocking_findings(tmp_path: Path) -> None:
    src = _broken(tmp_path)
    proc, out = report(tmp_path, src)
    assert proc.returncode == 1
    assert "未生成自评报告" in proc.stderr and "--force" in proc.stderr
    assert "ARITH-TOTAL" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_force_marks_every_affected_number(tmp_path: Path) -> None:
    src = _broken(tmp_path)
    proc, out = report(tmp_path, src, "--force")
    assert proc.returncode == 0, proc.stderr
    assert "草稿" in proc.stdout
    text = text_of(out)
    assert "审核发现" in docx.Document(str(out)).paragraphs[2].text  # the draft banner
    assert re.search(r"得分95【存疑[①-⑳]】分", text)  # the stated total, marked
    assert re.search(r"全年执行数489\.72【存疑[①-⑳]", text)
    assert "附：审核未通过事项（本报告为草稿）" in headings(out, 1)
    notes = text.split("附：审核未通过事项")[1]
    assert "ARITH-TOTAL" in notes
    # every mark refers to a listed finding
    used = set(re.findall(r"【存疑([①-⑳])】", text.split("附：审核未通过事项")[0]))
    listed = set(re.findall(r"^([①-⑳])〔", notes, flags=re.M))
    assert used and used <= listed
    # an unaffected number stays unmarked
    assert "“档案著录条目”" not in text or "6.4【存疑" not in text


def test_bad_inputs_are_refused_in_chinese(tmp_path: Path) -> None:
    proc = run_cli("report", tmp_path / "没有这个文件.yaml", "-o", tmp_path / "x.docx")
    assert proc.returncode == 2
    assert "没有这个文件.yaml" in proc.stderr and "文件不存在" in proc.stderr
    bad = tmp_path / "坏.yaml"
    bad.write_text(
        "format: perfxl-filing/1\nprofile: project-2020\nheader: [1, 2\n", encoding="utf-8"
    )
    proc = run_cli("report", bad, "-o", tmp_path / "x.docx")
    assert proc.returncode == 2 and "坏.yaml" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("report", PROJECT_EXAMPLE, "-o", tmp_path / "x.txt")
    assert proc.returncode == 2 and "应以 .docx 结尾" in proc.stderr
    assert not (tmp_path / "x.docx").exists()


# ---------------------------------------------------------------- a bureau's template


def _template(path: Path, extra: str = "") -> Path:
    d = docx.Document()
    d.add_paragraph("{{ name }}（{{ year }}年度）{{ kind }}绩效自评报告")
    d.add_paragraph(
        "自评得分{{ total_score }}分，等级“{{ grade }}”，预算执行率{{ execution_rate }}。"
    )
    d.add_paragraph("{%p for d in deductions %}")
    d.add_paragraph("{{ d.name }}：扣{{ d.lost }}分，原因：{{ d.reason }}")
    d.add_paragraph("{%p endfor %}")
    d.add_paragraph("存在问题：{{ texts.存在问题 }}" + extra)
    d.save(str(path))
    return path


def test_bureau_template_per_profile(tmp_path: Path) -> None:
    folder = tmp_path / "财政局模板"
    folder.mkdir()
    _template(folder / "project-2020.docx")
    proc, out = report(tmp_path, PROJECT_EXAMPLE, "--template", folder)
    assert proc.returncode == 0, proc.stderr
    lines = [p.text for p in docx.Document(str(out)).paragraphs]
    assert lines[0] == "档案数字化（2020年度）项目支出绩效自评报告"
    assert lines[1] == "自评得分94.23分，等级“优”，预算执行率99.85%。"
    assert (
        "档案著录条目：扣1.6分，原因：疫情停工近5个月，著录人员返岗率低；次年一季度前补齐剩余10万条。"
        in lines
    )
    assert "预算执行率：扣0.01分，原因：【待填写：预算执行率扣0.01分的原因】" in lines
    assert lines[-1] == "存在问题：【待填写：存在问题】"
    # a profile without a template in the folder gets the default layout, with a note
    proc, out = report(tmp_path, WUHAN_EXAMPLE, "--template", folder, name="武汉.docx")
    assert proc.returncode == 0 and "dept-hubei.docx" in proc.stderr
    assert headings(out, 1) == DEPT_OUTLINE


def test_bureau_template_errors(tmp_path: Path) -> None:
    tpl = _template(tmp_path / "模板.docx", "{{ 不存在的名称 }}")
    proc, out = report(tmp_path, PROJECT_EXAMPLE, "--template", tpl)
    assert proc.returncode == 2 and "模板.docx" in proc.stderr and "占位符" in proc.stderr
    assert not out.exists()
    good = _template(tmp_path / "好模板.docx")
    before = good.read_bytes()
    proc = run_cli("report", PROJECT_EXAMPLE, "--template", good, "-o", good)
    assert proc.returncode == 2 and "输出文件不能与输入文件相同" in proc.stderr
    assert good.read_bytes() == before


def test_report_from_a_workbook_matches_the_data_file(tmp_path: Path) -> None:
    from perfxl.workbook.write import build_workbook

    filing = load_filing(PROJECT_EXAMPLE)
    book = build_workbook(load_profile(filing.profile), tmp_path / "自评表.xlsx", filing)
    proc, out = report(tmp_path, book, name="工作簿.md")
    assert proc.returncode == 0, proc.stderr
    proc, ref = report(tmp_path, PROJECT_EXAMPLE, name="数据.md")
    assert proc.returncode == 0, proc.stderr
    # the same numbers, the mid-year target change included: the workbook keeps 年初指标值
    # (the data file's target texts may differ in the sign: "=100%" where 指标性质 is 正向)
    adjusted = "年中调整的指标：“数字化加工量”年度指标值由200万幅面调整为100万幅面。\n\n"
    expected = ref.read_text(encoding="utf-8")
    got = out.read_text(encoding="utf-8")
    assert adjusted in expected and adjusted in got
    assert numbers(got) == numbers(expected)
    assert [x for x in got.splitlines() if x.startswith("#")] == [
        x for x in expected.splitlines() if x.startswith("#")
    ]


def test_no_floats_in_the_model() -> None:
    """Decimal in, Decimal-formatted text out: 10 × 99.85% is 9.99, never 9.98."""
    f = load_filing(PROJECT_EXAMPLE)
    p = load_profile(f.profile)
    md = to_markdown(build_report(f, p, score(f, p)))
    assert "得分9.99分（分值10分）" in md and "9.98" not in md


# ---------------------------------------------------------------- demo and LibreOffice


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    proc = run_cli("demo", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out / "reports"


def test_demo_writes_the_reports(demo_reports: Path) -> None:
    names = sorted(p.name for p in demo_reports.iterdir())
    assert names == [
        "dept-guangdong-units-2023.自评报告.docx",
        "dept-guangdong-units-2023.自评报告.md",
        "dept-wuhan-archives-2020.自评报告.docx",
        "dept-wuhan-archives-2020.自评报告.md",
        "project-archives-digitization.自评报告.docx",
        "project-archives-digitization.自评报告.md",
    ]
    assert headings(demo_reports / names[2], 1) == DEPT_OUTLINE
    assert headings(demo_reports / names[4], 1) == PROJECT_OUTLINE


@pytest.mark.office
@pytest.mark.parametrize(
    ("stem", "expected", "pages"),
    [
        (
            "project-archives-digitization",
            [
                *PROJECT_OUTLINE,
                "档案数字化项目支出绩效自评报告",
                "预算执行率99.85%",
                "94.23",
                "6.4",
            ],
            (3, 7),
        ),
        (
            "dept-wuhan-archives-2020",
            [*DEPT_OUTLINE, "3,856.83", "83.84%", "1,551.29", "规范合理", "优秀"],
            (3, 6),
        ),
    ],
)
def test_demo_report_renders_to_pdf(
    demo_reports: Path, tmp_path: Path, stem: str, expected: list[str], pages: tuple[int, int]
) -> None:
    require_office()
    from perfxl.selfreport_docx import docx_to_pdf

    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("pdftotext / pdfinfo (poppler-utils) not installed")
    pdf = docx_to_pdf(demo_reports / f"{stem}.自评报告.docx", tmp_path / f"{stem}.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    for needle in expected:
        assert needle in flat, needle
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    assert pages[0] <= n <= pages[1]
    assert re.search(r"—\s*1\s*—", text)  # the page number in the footer
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert fonts.count("\n") > 2  # Chinese text is set in an embedded font, not boxes
