"""The 自评报告 as a Word document: the default layout (python-docx), a bureau's own template
(docxtpl: Jinja placeholders in a .docx), and a PDF through LibreOffice.

Typography follows the usual practice for official documents (GB/T 9704): A4 with margins
37 / 35 / 28 / 26 mm, title in 方正小标宋简体 二号, 一级标题 黑体 三号, 二级标题 楷体_GB2312
三号, 三级标题 仿宋_GB2312 四号 bold, body 仿宋_GB2312 四号 at a fixed 28 pt line pitch with a
two-character first-line indent, tables 宋体 五号, page numbers “— 1 —” at the foot. Each
Chinese font is declared with the common fallback (仿宋_GB2312 → 仿宋 → FangSong …) in the
document's font table, so Word and WPS on machines without the GB2312 fonts still pick a
font of the same style.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from .atomic import atomic_path
from .errors import InputError, Problem
from .selfreport import Heading, Paragraph, SelfReport, Span, Table, circled

FANGSONG = "仿宋_GB2312"
KAITI = "楷体_GB2312"
HEITI = "黑体"
SONGTI = "宋体"
TITLE_FONT = "方正小标宋简体"
LATIN = "Times New Roman"
# font → (altName used by Word/WPS when the font is missing, panose, family, pitch)
FALLBACKS = {
    FANGSONG: ("仿宋", "02010609030101010101", "modern", "fixed"),
    KAITI: ("楷体", "02010609030101010101", "modern", "fixed"),
    TITLE_FONT: ("宋体", "02000000000000000000", "script", "variable"),
    HEITI: ("SimHei", "02010609060101010101", "modern", "fixed"),
    SONGTI: ("SimSun", "02010600030101010101", "auto", "variable"),
    "仿宋": ("FangSong", "02010609060101010101", "modern", "fixed"),
    "楷体": ("KaiTi", "02010609060101010101", "modern", "fixed"),
}

SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL_4, SIZE_5 = Pt(22), Pt(16), Pt(14), Pt(12), Pt(10.5)
LINE_PITCH = Pt(28)
RED = RGBColor(0xC0, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)


# ---------------------------------------------------------------- fonts and styles


def _fonts(rpr_owner, east_asia: str, latin: str = LATIN) -> None:
    """Set the Latin and East Asian fonts of a style or run (no theme fonts)."""
    rpr = rpr_owner.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _style(doc, name: str, font: str, size, *, bold=False, center=False, indent=True) -> None:
    st = doc.styles[name]
    _fonts(st.element, font)
    st.font.size = size
    st.font.bold = bold
    st.font.italic = False
    st.font.color.rgb = BLACK
    pf = st.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = LINE_PITCH
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.keep_with_next = name.startswith("Heading") or name == "Title"
    ppr = st.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    for attr in list(ind.attrib):
        del ind.attrib[attr]
    if indent:  # 首行缩进两字
        ind.set(qn("w:firstLineChars"), "200")
        ind.set(qn("w:firstLine"), str(int(size.pt * 2 * 20)))


def _setup(doc, title: str) -> None:
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(20)
    # document defaults: Chinese language, 仿宋 四号
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    for attr in list(rpr_default.find(qn("w:rFonts")).attrib):
        del rpr_default.find(qn("w:rFonts")).attrib[attr]
    rfonts = rpr_default.find(qn("w:rFonts"))
    rfonts.set(qn("w:ascii"), LATIN)
    rfonts.set(qn("w:hAnsi"), LATIN)
    rfonts.set(qn("w:eastAsia"), FANGSONG)
    rfonts.set(qn("w:cs"), LATIN)
    _style(doc, "Normal", FANGSONG, SIZE_4)
    _style(doc, "Title", TITLE_FONT, SIZE_2, center=True, indent=False)
    title_ppr = doc.styles["Title"].element.get_or_add_pPr()
    for child in title_ppr.findall(qn("w:pBdr")):  # the default template underlines titles
        title_ppr.remove(child)
    doc.styles["Title"].paragraph_format.line_spacing = Pt(36)
    _style(doc, "Subtitle", KAITI, SIZE_3, center=True, indent=False)
    _style(doc, "Heading 1", HEITI, SIZE_3)
    _style(doc, "Heading 2", KAITI, SIZE_3)
    _style(doc, "Heading 3", FANGSONG, SIZE_4, bold=True)
    _style(doc, "Caption", HEITI, SIZE_SMALL_4, center=True, indent=False)
    doc.styles["Caption"].paragraph_format.space_before = Pt(6)
    doc.styles["Caption"].paragraph_format.keep_with_next = True  # 表名 stays with its table
    _fallback_fonts(doc)
    props = doc.core_properties
    props.title = title
    props.language = "zh-CN"
    props.author = ""
    props.comments = ""
    _footer_page_numbers(sec)


def _fallback_fonts(doc) -> None:
    """Declare the Chinese fonts with their alternates in word/fontTable.xml."""
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    w = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    have = {f.get(f"{{{w}}}name") for f in root}
    for name, (alt, panose, family, pitch) in FALLBACKS.items():
        if name in have:
            continue
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alt})
        etree.SubElement(font, f"{{{w}}}panose1", {f"{{{w}}}val": panose})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": family})
        etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": pitch})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _footer_page_numbers(sec) -> None:
    p = sec.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE

    def run(text: str = ""):
        r = p.add_run(text)
        _fonts(r._r, SONGTI)
        r.font.size = SIZE_4
        return r

    run("— ")
    for kind, text in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        r = run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            r._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            r._r.append(instr)
        else:
            r.text = text
    run(" —")


# ---------------------------------------------------------------- content


def _add_spans(p, spans: list[Span], *, size=None) -> None:
    for s in spans:
        r = p.add_run(s.text)
        if size is not None:
            r.font.size = size
        if s.bold:
            r.bold = True
        if s.placeholder:
            r.font.highlight_color = WD_COLOR_INDEX.YELLOW
        if s.marks:
            r.font.color.rgb = RED
            r.bold = True
            m = p.add_run("".join(f"【存疑{circled(k)}】" for k in s.marks))
            m.font.color.rgb = RED
            m.font.highlight_color = WD_COLOR_INDEX.YELLOW
            if size is not None:
                m.font.size = size


def _cell_paragraph(cell, spans: list[Span], *, align, bold=False, header=False) -> None:
    p = cell.paragraphs[0]
    pf = p.paragraph_format
    pf.first_line_indent = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.space_before = Pt(2)
    pf.space_after = Pt(2)
    p.alignment = align
    before = len(p.runs)
    _add_spans(p, spans, size=SIZE_5)
    for r in p.runs[before:]:
        _fonts(r._r, HEITI if header else SONGTI)
        if bold:
            r.bold = True


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)
    cant = OxmlElement("w:cantSplit")
    trpr.append(cant)


def _table(doc, t: Table, text_width_mm: float) -> None:
    if t.caption:
        doc.add_paragraph(t.caption, style="Caption")
    tbl = doc.add_table(rows=1 + len(t.rows), cols=len(t.header))
    tbl.style = doc.styles["Table Grid"]
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl.autofit = False
    widths = t.widths or tuple(1.0 for _ in t.header)
    scale = text_width_mm / sum(widths)
    for j, head in enumerate(t.header):
        cell = tbl.rows[0].cells[j]
        _cell_paragraph(cell, [Span(head)], align=WD_ALIGN_PARAGRAPH.CENTER, header=True)
    _repeat_header(tbl.rows[0])
    for i, row in enumerate(t.rows, 1):
        for j, spans in enumerate(row):
            align = WD_ALIGN_PARAGRAPH.RIGHT if j in t.numeric else WD_ALIGN_PARAGRAPH.LEFT
            _cell_paragraph(tbl.rows[i].cells[j], spans, align=align, bold=(i - 1) in t.total_rows)
        cant = OxmlElement("w:cantSplit")
        tbl.rows[i]._tr.get_or_add_trPr().append(cant)
    for j, col in enumerate(tbl.columns):  # the grid is what LibreOffice and WPS lay out
        col.width = Mm(widths[j] * scale)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl._tbl.tblPr.append(layout)
    for row in tbl.rows:
        for j, cell in enumerate(row.cells):
            cell.width = Mm(widths[j] * scale)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    # a little air after the table
    after = doc.add_paragraph()
    after.paragraph_format.line_spacing = Pt(10)


def build_docx(rep: SelfReport):
    """The python-docx Document of a report in the default (official) layout."""
    doc = Document()
    _setup(doc, rep.title)
    sec = doc.sections[0]
    text_width_mm = (sec.page_width - sec.left_margin - sec.right_margin) / Mm(1)
    doc.add_paragraph(rep.title, style="Title")
    doc.add_paragraph(rep.subtitle, style="Subtitle")
    if rep.forced:
        p = doc.add_paragraph(style="Subtitle")
        r = p.add_run(
            f"（草稿：审核发现{len(rep.notes)}项强制性错误，文中标注【存疑】的数字须核实）"
        )
        r.font.color.rgb = RED
        r.font.size = SIZE_SMALL_4
    doc.add_paragraph()
    for b in rep.blocks:
        if isinstance(b, Heading):
            p = doc.add_paragraph(style=f"Heading {b.level}")
            _add_spans(p, b.spans)
        elif isinstance(b, Paragraph):
            p = doc.add_paragraph()
            if b.align == "right":
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _add_spans(p, b.spans)
        else:
            _table(doc, b, text_width_mm)
    doc.add_paragraph()
    for line in rep.signature:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.right_indent = Pt(28)
        _add_spans(p, [Span(line, placeholder=line.startswith("【待填写"))])
    return doc


def write_docx(rep: SelfReport, target: Path, *, inputs: tuple[Path, ...] = ()) -> Path:
    doc = build_docx(rep)
    with atomic_path(target, inputs=inputs) as tmp:
        doc.save(str(tmp))
    return target


# ---------------------------------------------------------------- a bureau's template


def template_for(template: Path, profile_id: str) -> Path | None:
    """A template file as given, or `<profile id>.docx` in a folder of templates (None when
    the folder has none for this profile)."""
    if template.is_dir():
        found = template / f"{profile_id}.docx"
        return found if found.is_file() else None
    if not template.is_file():
        raise InputError(Problem(str(template), "", "报告模板不存在"))
    return template


def write_from_template(
    rep: SelfReport, template: Path, target: Path, *, inputs: tuple[Path, ...] = ()
) -> Path:
    """Fill a bureau's .docx whose placeholders are Jinja ({{ total_score }},
    {%p for d in deductions %} …); see README for the names. An unknown name is an error,
    not a silent blank."""
    import jinja2
    from docxtpl import DocxTemplate

    if template.suffix.lower() != ".docx" or not zipfile.is_zipfile(template):
        raise InputError(Problem(str(template), "", "报告模板应为 Word 文档（.docx）"))
    try:
        tpl = DocxTemplate(str(template))
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        tpl.render(rep.context, jinja_env=env, autoescape=True)
    except jinja2.UndefinedError as exc:
        raise InputError(
            Problem(str(template), "", f"模板中的占位符无法填写：{_zh_undefined(exc)}")
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            Problem(str(template), "", f"模板占位符的写法有误（{exc.message}）")
        ) from exc
    except (KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise InputError(Problem(str(template), "", f"无法读取报告模板（{exc}）")) from exc
    with atomic_path(target, inputs=(*inputs, template)) as tmp:
        tpl.save(str(tmp))
    return target


def _zh_undefined(exc: Exception) -> str:
    msg = str(exc)
    if "is undefined" in msg:
        return f"没有名为 {msg.split(' is undefined')[0]} 的数据（{msg}）"
    return msg


# ---------------------------------------------------------------- PDF


def docx_to_pdf(src: Path, target: Path, *, timeout: float = 180.0) -> Path:
    """Render a Word document to PDF with LibreOffice headless (a private profile, so it
    runs beside a user's LibreOffice and the workbook bridge). Written atomically."""
    from .office import OfficeError, find_soffice

    soffice = find_soffice()
    if soffice is None:
        raise OfficeError("未找到 LibreOffice（soffice），请先运行 scripts/setup-system.sh 安装")
    work = Path(tempfile.mkdtemp(prefix="perfxl-report-pdf-"))
    try:
        staged = work / "in" / "report.docx"
        staged.parent.mkdir()
        shutil.copyfile(src, staged)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        cmd = [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            *("--headless", "--invisible", "--nologo", "--norestore", "--nodefault"),
            *("--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work / "out"), str(staged)),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise OfficeError(f"LibreOffice 转换 {src.name} 超时（{timeout:g} 秒）") from exc
        out = work / "out" / "report.pdf"
        if not out.is_file() or out.stat().st_size == 0:
            tail = (proc.stderr or b"")[-400:].decode("utf-8", "replace")
            raise OfficeError(f"LibreOffice 未能把 {src.name} 转为 PDF（{tail.strip()}）")
        with atomic_path(target, inputs=(src,)) as tmp:
            shutil.copyfile(out, tmp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


__all__ = ["build_docx", "docx_to_pdf", "template_for", "write_docx", "write_from_template"]
