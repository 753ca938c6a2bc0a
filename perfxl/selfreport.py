"""The 自评报告 (self-evaluation report) drafted from a checked filing.

`build_report` turns a filing, its recomputed scores and its check report into a small
document model (headings, paragraphs, tables) in the official outline for the filing's kind:

* 项目支出: 基本情况 → 自评工作开展情况 → 综合评价结论 → 目标完成情况分析（预算执行、产出、
  效益、满意度）→ 存在问题及原因 → 改进措施;
* 部门整体: 部门基本情况（职能、机构人员、年度任务、整体绩效目标）→ 收支情况（预算执行、收入、
  支出、项目支出明细）→ 绩效自评情况（结论，逐个一级指标的得分、每项扣分及原因）→ 存在的主要
  问题 → 下一步改进措施.

Every number is the filing's own (amounts in 万元 with two decimals, rates and shares as
percentages with two decimals, scores as filed), derived figures (sums, shares, deductions)
are computed in Decimal, and every free text of the filing is carried into the report; a part
the filing does not provide is a marked placeholder 【待填写：…】. When the report is drafted
despite blocking findings, each number a finding concerns carries a mark 【存疑①】 and the
findings are listed at the end. `perfxl.selfreport_docx` writes the model as Word; `to_markdown`
as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .decimal_math import ZERO, r2
from .findings import Finding, Report
from .model import FUND_LINES, OWN_UNIT, Filing, Indicator
from .profile import ExecutionRateRule, Profile
from .scoring import NodeScore, ScoreResult, percent

PLACEHOLDER = "【待填写：{}】"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_NUM = "一二三四五六七八九十"
DIRECTION_SIGNS = {"正向": "≥", "反向": "≤", "等于": "="}
# texts a bureau's template may name even when the filing has none (placeholders then)
TEMPLATE_TEXTS = (
    "项目概况",
    "部门职能",
    "机构人员情况",
    "年度主要任务",
    "整体绩效目标",
    "自评工作开展情况",
    "评价结论",
    "存在问题",
    "改进措施",
    "预期目标",
    "实际完成情况",
)

# ---------------------------------------------------------------- numbers as text


def money(d: Decimal) -> str:
    """万元 with two decimals and thousands separators: 3,856.83."""
    return f"{r2(d):,.2f}"


def pct(d: Decimal) -> str:
    """A rate or share (already in %) with two decimals: 99.85%."""
    return f"{r2(d):,.2f}%"


def pts(d: Decimal) -> str:
    """A score or weight as printed in reports: 96, 9.99, 6.4, 2.5."""
    text = f"{r2(d):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain(d: Decimal) -> str:
    """A target or actual value as the unit wrote it (no padding): 106.57, 7000."""
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def circled(n: int) -> str:
    return CIRCLED[n - 1] if 1 <= n <= len(CIRCLED) else f"({n})"


def cn_num(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    return str(n)


# ---------------------------------------------------------------- the document model


@dataclass
class Span:
    """A piece of text. `mark` numbers the blocking finding it is doubtful under."""

    text: str
    marks: tuple[int, ...] = ()
    placeholder: bool = False
    bold: bool = False

    def plain_text(self) -> str:
        return self.text + "".join(f"【存疑{circled(m)}】" for m in self.marks)


@dataclass
class Heading:
    level: int  # 1 一、 2 （一） 3 1．
    spans: list[Span]

    @property
    def text(self) -> str:
        return "".join(s.plain_text() for s in self.spans)


@dataclass
class Paragraph:
    spans: list[Span]
    align: str = "justify"  # justify / right / center
    indent: bool = True

    @property
    def text(self) -> str:
        return "".join(s.plain_text() for s in self.spans)


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[list[Span]]]
    numeric: tuple[int, ...] = ()  # right-aligned columns
    widths: tuple[float, ...] = ()  # relative widths
    total_rows: tuple[int, ...] = ()  # bold rows (合计)


Block = Heading | Paragraph | Table


@dataclass
class SelfReport:
    kind: str  # project / department
    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # blocking findings, numbered from 1
    forced: bool = False
    context: dict = field(default_factory=dict)  # for a bureau's template (docxtpl)
    signature: list[str] = field(default_factory=list)

    def headings(self) -> list[tuple[int, str]]:
        return [(b.level, b.text) for b in self.blocks if isinstance(b, Heading)]

    def text(self) -> str:
        """All text in reading order (tests and Markdown use it)."""
        lines = [self.title, self.subtitle]
        for b in self.blocks:
            if isinstance(b, Heading | Paragraph):
                lines.append(b.text)
            else:
                lines.append(b.caption)
                lines.append("\t".join(b.header))
                lines += ["\t".join(_cell_text(c) for c in row) for row in b.rows]
        return "\n".join(lines + self.signature)


def _cell_text(cell: list[Span]) -> str:
    return "".join(s.plain_text() for s in cell)


# ---------------------------------------------------------------- building


class _Builder:
    def __init__(
        self, filing: Filing, profile: Profile, result: ScoreResult, report: Report | None
    ) -> None:
        self.f = filing
        self.p = profile
        self.r = result
        blocking = [x for x in (report.findings if report else []) if x.blocking]
        self.findings = blocking
        self.used: list[Finding] = []
        self.blocks: list[Block] = []
        self.texts_used: set[str] = set()
        self.ctx: dict = {}

    # ---- spans ---------------------------------------------------------------------------
    def marks_for(self, paths: tuple[str, ...]) -> tuple[int, ...]:
        out: list[int] = []
        for f in self.findings:
            if any(_related(f.path, p) for p in paths if p):
                if f not in self.used:
                    self.used.append(f)
                n = self.used.index(f) + 1
                if n not in out:
                    out.append(n)
        return tuple(out)

    def num(self, text: str, *paths: str) -> Span:
        return Span(text, self.marks_for(paths))

    def m(self, d: Decimal | None, *paths: str, what: str = "金额") -> Span:
        if d is None:
            return Span(PLACEHOLDER.format(what), placeholder=True)
        return self.num(money(d), *paths)

    def rate(self, d: Decimal | None, *paths: str) -> Span:
        return self.num("—" if d is None else pct(d), *paths)

    def score(self, d: Decimal, *paths: str) -> Span:
        return self.num(pts(d), *paths)

    def text_or_placeholder(self, keys: tuple[str, ...], what: str) -> list[Paragraph]:
        """The filing's text under the first key present (texts.KEY, or a model field such
        as goal_expected), one paragraph per line; else a placeholder paragraph."""
        for key in keys:
            value = self._text(key)
            if value:
                self.texts_used.add(key)
                return [
                    Paragraph([Span(line.strip())]) for line in value.splitlines() if line.strip()
                ]
        return [Paragraph([Span(PLACEHOLDER.format(what), placeholder=True)])]

    def _text(self, key: str) -> str | None:
        if key in ("goal_expected", "goal_actual"):
            return getattr(self.f, key)
        return (self.f.texts.get(key) or "").strip() or None

    def h(self, level: int, *parts: str | Span) -> None:
        self.blocks.append(Heading(level, [p if isinstance(p, Span) else Span(p) for p in parts]))

    def para(self, *parts: str | Span | None, align: str = "justify", indent: bool = True) -> None:
        spans = [p if isinstance(p, Span) else Span(p) for p in parts if p is not None]
        self.blocks.append(Paragraph(spans, align=align, indent=indent))

    # ---- facts shared by both kinds ------------------------------------------------------
    def leaf_info(self, row: NodeScore) -> dict:
        """What a scored row says: its shown score (the filing's, else recomputed), the
        deduction, the reason, the field paths its numbers come from."""
        idx = row.indicator
        if idx is None and row.level > 0:
            idx = next((i for i, x in enumerate(self.f.indicators) if x.code == row.code), None)
        ind: Indicator | None = self.f.indicators[idx] if idx is not None else None
        node = self.p.node(row.code.split("#")[0])
        if row.indicator is not None or ind is not None:
            score_path = f"indicators.{idx}.score"
        elif (
            node is not None
            and isinstance(node.rule, ExecutionRateRule)
            and self.p.kind == "project"
        ):
            score_path = "funds.total.score"
        else:
            score_path = f"group_scores.{row.code}"
        if ind is not None and ind.score is None and row.code in self.f.group_scores:
            score_path = f"group_scores.{row.code}"
        shown = row.stated if row.stated is not None else row.score
        lost = row.weight - shown if shown < row.weight else ZERO
        deducted = row.applicable and (row.score < row.weight or shown < row.weight)
        reason_key = None
        reason = (ind.explanation or "").strip() if ind is not None else ""
        if reason:
            reason_key = f"indicators.{idx}.explanation"
        if not reason:
            for key in (f"扣分原因.{row.code}", f"{row.name}扣分原因"):
                if self.f.texts.get(key, "").strip():
                    reason, reason_key = self.f.texts[key].strip(), key
                    self.texts_used.add(key)
                    break
        if not reason and node is not None and isinstance(node.rule, ExecutionRateRule):
            remark = self.f.group_remarks.get(row.code, "").strip()
            text = self.f.texts.get("预算执行情况说明", "").strip()
            reason = remark or text
            if text and not remark:
                self.texts_used.add("预算执行情况说明")
        return {
            "row": row,
            "indicator": ind,
            "index": idx,
            "shown": shown,
            "lost": lost if deducted else ZERO,
            "deducted": deducted,
            "reason": reason,
            "reason_key": reason_key,
            "score_path": score_path,
        }

    def leaves(self, node: NodeScore) -> list[NodeScore]:
        """The scored rows under a 一级 (itself when it has no detail). An open 二级 without
        indicators of the unit's is a group, not a leaf."""
        if not node.children:
            return [] if self._open(node) else [node]
        return [x for x in node.walk() if not x.children and x is not node and not self._open(x)]

    def _open(self, row: NodeScore) -> bool:
        n = self.p.node(row.code) if row.indicator is None else None
        return bool(n is not None and n.open)

    def group_score(self, node: NodeScore) -> tuple[Decimal, str]:
        stated = self.f.group_scores.get(node.code)
        if stated is not None:
            return stated, f"group_scores.{node.code}"
        if not node.children:
            info = self.leaf_info(node)
            return info["shown"], info["score_path"]
        return node.score, f"group_scores.{node.code}"

    def total(self) -> tuple[Decimal, str]:
        if self.f.total_score is not None:
            return self.f.total_score, "total_score"
        return self.r.total, "total_score"

    def grade(self) -> Span:
        return self.num(self.f.grade or self.r.grade, "grade")

    def all_leaves(self) -> list[dict]:
        out = []
        for n in self.r.nodes:
            for leaf in [n] if not n.children else self.leaves(n):
                out.append(self.leaf_info(leaf))
        return out

    def counts_sentence(self, infos: list[dict], key: str = "all") -> list[Span]:
        """末级指标 N 个、满分 M 个（the stated counts when the filing states them)."""
        applicable = [i for i in infos if i["row"].applicable]
        n = len(applicable)
        full = sum(1 for i in applicable if not i["deducted"])
        stated = self.f.counts.get(key)
        n_span = self.num(
            str(stated.indicators if stated and stated.indicators is not None else n),
            f"counts.{key}.indicators",
        )
        f_span = self.num(
            str(stated.full_marks if stated and stated.full_marks is not None else full),
            f"counts.{key}.full_marks",
        )
        return [n_span, f_span]

    def deduction_paragraphs(self, infos: list[dict], what: str) -> None:
        deducted = [i for i in infos if i["deducted"]]
        if not deducted:
            self.para(f"{what}各项指标均得满分，无扣分。")
            return
        for k, info in enumerate(deducted, 1):
            row = info["row"]
            parts: list[str | Span] = [f"（{k}）{row.name}：分值", self.score(row.weight)]
            parts += ["分，得分", self.score(info["shown"], info["score_path"]), "分，扣"]
            parts += [self.score(info["lost"], info["score_path"]), "分。扣分原因："]
            parts += self._reason(info, row.name, info["lost"])
            self.para(*parts)

    def _reason(self, info: dict, name: str, lost: Decimal) -> list[str | Span]:
        if info["reason"]:
            return [info["reason"].rstrip("。") + "。"]
        return [Span(PLACEHOLDER.format(f"{name}扣{pts(lost)}分的原因"), placeholder=True)]

    def other_texts(self, number: int) -> None:
        rest = [
            (k, v) for k, v in self.f.texts.items() if k not in self.texts_used and v and v.strip()
        ]
        if not rest:
            return
        self.h(1, f"{cn_num(number)}、其他需要说明的问题")
        for k, v in rest:
            self.texts_used.add(k)
            lines = [x.strip() for x in v.splitlines() if x.strip()]
            self.para(f"{k}：", lines[0] if lines else "")
            for line in lines[1:]:
                self.para(line)

    def notes_section(self) -> None:
        # findings about no printed number (e.g. a missing text) are listed as well
        for f in self.findings:
            if f not in self.used:
                self.used.append(f)
        if not self.used:
            return
        self.h(1, "附：审核未通过事项（本报告为草稿）")
        self.para(
            f"本报告在审核发现{len(self.used)}项强制性错误的情况下生成，"
            "文中标注【存疑】的数字涉及下列事项，须更正并重新审核后方可定稿："
        )
        for k, f in enumerate(self.used, 1):
            self.para(f"{circled(k)}〔{f.code}〕{f.location()}：{f.message}")

    def fund_rows(self) -> list[list[list[Span]]]:
        rows = []
        for key, label in FUND_LINES.items():
            line = getattr(self.f.funds, key)
            base = f"funds.{key}"
            rate: list[Span] = [Span("—")]
            if key == "total":
                rate = [
                    self.rate(
                        self.exec_rate(), f"{base}.rate", f"{base}.executed", f"{base}.budget"
                    )
                ]
            rows.append(
                [
                    [
                        Span(
                            label
                            if key == "total"
                            else f"其中：{label}"
                            if key == "fiscal"
                            else f"　　　{label}"
                        )
                    ],
                    [self.m(line.initial, f"{base}.initial")]
                    if line.initial is not None
                    else [Span("—")],
                    [self.m(line.budget, f"{base}.budget")]
                    if line.budget is not None
                    else [Span("—")],
                    [self.m(line.executed, f"{base}.executed")]
                    if line.executed is not None
                    else [Span("—")],
                    rate,
                ]
            )
        return rows

    def exec_rate(self) -> Decimal | None:
        stated = self.f.funds.total.rate
        return stated if stated is not None else self.r.execution_rate

    def exec_initial_rate(self) -> Decimal | None:
        return self.r.execution_rate_initial

    # ---- the project report -------------------------------------------------------------
    def project(self) -> SelfReport:
        f, hd = self.f, self.f.header
        name = hd.name or "（项目名称未填）"
        suffix = "" if name.endswith("项目") else "项目"
        title = f"{name}{suffix}支出绩效自评报告"
        t = f.funds.total
        exec_row = next((n for n in self.r.nodes if not n.children), None)
        groups = [n for n in self.r.nodes if n.children or n is not exec_row]
        infos = self.all_leaves()
        indicator_infos = [i for i in infos if i["row"].indicator is not None]
        total, total_path = self.total()

        self.h(1, "一、基本情况")
        self.h(2, "（一）项目概况")
        who = []
        if hd.department:
            who.append(f"主管部门为{hd.department}")
        if hd.unit:
            who.append(f"实施单位为{hd.unit}")
        self.para(f"“{name}”{suffix}{'，'.join(who) + '。' if who else '。'}")
        for p in self.text_or_placeholder(("项目概况",), "项目立项依据、主要内容和实施情况"):
            self.blocks.append(p)
        self.para(
            f"{hd.year}年项目年初预算数",
            self.m(t.initial, "funds.total.initial"),
            "万元，全年预算数",
            self.m(t.budget, "funds.total.budget"),
            "万元，全年执行数",
            self.m(t.executed, "funds.total.executed"),
            "万元，预算执行率",
            self.rate(
                self.exec_rate(), "funds.total.rate", "funds.total.executed", "funds.total.budget"
            ),
            "。",
            *self._fund_parts(),
        )
        self.blocks.append(
            Table(
                "表1　项目资金情况（单位：万元）",
                ["项目", "年初预算数", "全年预算数", "全年执行数", "执行率"],
                self.fund_rows(),
                numeric=(1, 2, 3, 4),
                widths=(3.2, 1.5, 1.5, 1.5, 1.3),
            )
        )
        self.h(2, "（二）项目绩效目标")
        goal = self.text_or_placeholder(("goal_expected",), "年度总体目标（预期目标）")
        goal[0].spans.insert(0, Span("年度总体目标：", bold=True))
        self.blocks += goal
        per_group = []
        for g in groups:
            n = len([i for i in indicator_infos if _under(i["row"], g)])
            per_group.append(f"{g.name}{n}个")
        self.para(
            f"围绕上述目标，共设置三级绩效指标{len(indicator_infos)}个，其中"
            + "、".join(per_group)
            + "。"
        )
        for info in indicator_infos:
            ind = info["indicator"]
            if ind is not None and ind.target_initial is not None and ind.target is not None:
                unit = ind.unit or ""
                self.para(
                    f"年中调整的指标：“{ind.name}”年度指标值由",
                    self.num(
                        plain(ind.target_initial) + unit,
                        f"indicators.{info['index']}.target_initial",
                    ),
                    "调整为",
                    self.num(plain(ind.target) + unit, f"indicators.{info['index']}.target"),
                    "。",
                )

        self.h(1, "二、自评工作开展情况")
        basis = f"（{self.p.basis}）" if self.p.basis else ""
        self.para(
            f"本次自评按照《{self.p.title}》{basis}的指标体系和评分规则，对预算执行率和"
            f"{'、'.join(g.name for g in groups)}逐项评分，满分{pts(self.p.total)}分。"
        )
        self.blocks += self.text_or_placeholder(
            ("自评工作开展情况", "自评工作"),
            "自评工作的组织、方法和过程（如成立自评小组、收集核实资料、逐项打分）",
        )

        self.h(1, "三、综合评价结论")
        n_all, full_all = self.counts_sentence(infos)
        deducted = [i for i in infos if i["deducted"]]
        lost = sum((i["lost"] for i in deducted), ZERO)
        self.para(
            f"经自评，“{name}”{suffix}{hd.year}年度绩效自评得分",
            self.score(total, total_path),
            "分，评价等级为“",
            self.grade(),
            "”。",
            *self._cap_parts(),
        )
        self.para(
            "全部评分指标（含预算执行率）共",
            n_all,
            "个，其中得满分",
            full_all,
            f"个、扣分{len(deducted)}个，合计扣",
            self.score(lost, *(i["score_path"] for i in deducted)),
            "分。",
        )
        rows = []
        for n in self.r.nodes:
            s, path = self.group_score(n)
            rows.append([[Span(n.name)], [Span(pts(n.weight))], [self.score(s, path)]])
        rows.append([[Span("总分")], [Span(pts(self.p.total))], [self.score(total, total_path)]])
        rows.append([[Span("评价等级")], [Span("")], [self.grade()]])
        self.blocks.append(
            Table(
                "表2　自评得分情况",
                ["一级指标", "分值", "得分"],
                rows,
                numeric=(1, 2),
                widths=(3.0, 1.5, 1.5),
                total_rows=(len(rows) - 2, len(rows) - 1),
            )
        )
        if self._text("评价结论"):
            self.blocks += self.text_or_placeholder(("评价结论",), "评价结论")

        self.h(1, "四、目标完成情况分析")
        actual = self.text_or_placeholder(("goal_actual",), "年度总体目标实际完成情况")
        actual[0].spans.insert(0, Span("年度总体目标完成情况：", bold=True))
        self.blocks += actual
        sub = 1
        if exec_row is not None:
            info = self.leaf_info(exec_row)
            self.h(2, f"（{cn_num(sub)}）预算执行情况")
            sub += 1
            parts: list[str | Span] = [
                "全年预算数",
                self.m(t.budget, "funds.total.budget"),
                "万元，全年执行数",
                self.m(t.executed, "funds.total.executed"),
                "万元，预算执行率",
                self.rate(
                    self.exec_rate(),
                    "funds.total.rate",
                    "funds.total.executed",
                    "funds.total.budget",
                ),
                "，得分",
                self.score(info["shown"], info["score_path"]),
                "分（分值",
                self.score(exec_row.weight),
                "分）",
            ]
            if info["deducted"]:
                parts += [
                    "，扣",
                    self.score(info["lost"], info["score_path"]),
                    "分。未全部执行的原因：",
                ]
                parts += self._reason(info, "预算执行率", info["lost"])
            else:
                parts.append("。")
                if info["reason"]:
                    parts.append(info["reason"])
            self.para(*parts)
        for g in groups:
            self.h(2, f"（{cn_num(sub)}）{g.name}完成情况")
            sub += 1
            s, path = self.group_score(g)
            g_infos = [i for i in indicator_infos if _under(i["row"], g)]
            g_lost = sum((i["lost"] for i in g_infos), ZERO)
            self.para(
                f"{g.name}分值",
                self.score(g.weight),
                "分，自评得分",
                self.score(s, path),
                f"分；共设三级指标{len(g_infos)}个，得满分{sum(1 for i in g_infos if not i['deducted'])}个",
                *(
                    [
                        "，扣分",
                        self.score(g_lost, *(i["score_path"] for i in g_infos if i["deducted"])),
                        "分。",
                    ]
                    if g_lost
                    else ["。"]
                ),
            )
            if g_infos:
                self.blocks.append(self._indicator_table(g, g_infos))
            self._indicator_notes(g_infos, g.name)
        self.h(1, "五、存在问题及原因")
        self.blocks += self.text_or_placeholder(("存在问题", "存在问题及原因"), "存在的问题及原因")
        self.h(1, "六、改进措施")
        self.blocks += self.text_or_placeholder(
            ("改进措施", "下一步改进措施", "改进建议"), "改进措施"
        )
        self.other_texts(7)
        self.notes_section()
        self.ctx.update(self._context(infos, total, total_path))
        return self._finish("project", title, hd.unit or hd.department or "")

    def _fund_parts(self) -> list[str | Span]:
        f = self.f.funds
        parts: list[str | Span] = []
        items = []
        for key in ("fiscal", "carryover", "other"):
            line = getattr(f, key)
            if line.budget is None and line.executed is None:
                continue
            items.append((key, line))
        if not items:
            return parts
        parts.append("其中：")
        for k, (key, line) in enumerate(items):
            parts += [
                f"{FUND_LINES[key]}全年预算",
                self.m(line.budget, f"funds.{key}.budget"),
                "万元、执行",
                self.m(line.executed, f"funds.{key}.executed"),
                "万元",
                "。" if k == len(items) - 1 else "；",
            ]
        return parts

    def _cap_parts(self) -> list[str | Span]:
        out: list[str | Span] = []
        if self.r.rescaled:
            out.append("不适用的指标已剔除，总分按百分制折算。")
        if self.r.cap is not None:
            out.append(f"因预算执行率偏低，总分按规定不超过{pts(self.r.cap)}分。")
        return out

    def _indicator_table(self, g: NodeScore, infos: list[dict]) -> Table:
        rows = []
        for info in infos:
            ind, i = info["indicator"], info["index"]
            second = next((c.name for c in g.children if info["row"] in c.walk()), "")
            rows.append(
                [
                    [Span(second)],
                    [Span(ind.name or "")],
                    [
                        self.num(
                            _target_text(ind),
                            f"indicators.{i}.target",
                            f"indicators.{i}.target_text",
                        )
                    ],
                    [
                        self.num(
                            _actual_text(ind),
                            f"indicators.{i}.actual",
                            f"indicators.{i}.actual_text",
                        )
                    ],
                    [self.score(info["row"].weight, f"indicators.{i}.weight")],
                    [self.score(info["shown"], info["score_path"])],
                ]
            )
        n = len(self.tables()) + 1
        return Table(
            f"表{n}　{g.name}完成情况",
            ["二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
            rows,
            numeric=(4, 5),
            widths=(1.7, 2.6, 1.9, 1.9, 0.8, 0.8),
        )

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def _indicator_notes(self, infos: list[dict], what: str) -> None:
        """Every deduction with its reason; every other explanation the filing gives."""
        deducted = [i for i in infos if i["deducted"]]
        if not deducted:
            self.para(f"{what}各项指标均得满分。")
        for k, info in enumerate(deducted, 1):
            ind, i = info["indicator"], info["index"]
            self.para(
                f"{k}．{ind.name}：年度指标值",
                self.num(
                    _target_text(ind), f"indicators.{i}.target", f"indicators.{i}.target_text"
                ),
                "，实际完成值",
                self.num(
                    _actual_text(ind), f"indicators.{i}.actual", f"indicators.{i}.actual_text"
                ),
                "，得分",
                self.score(info["shown"], info["score_path"]),
                "分（分值",
                self.score(info["row"].weight, f"indicators.{i}.weight"),
                "分），扣",
                self.score(info["lost"], info["score_path"]),
                "分。偏差原因及改进措施：",
                *self._reason(info, ind.name or "", info["lost"]),
            )
        for info in infos:
            ind, i = info["indicator"], info["index"]
            if info["deducted"] or not (ind.explanation or "").strip():
                continue
            lead = "说明"
            if info["row"].over_achieved:
                threshold = self.p.options.over_achievement.threshold
                lead = f"实际完成值偏离年度指标值{pts(threshold)}%以上"
            self.para(
                f"“{ind.name}”年度指标值",
                self.num(
                    _target_text(ind), f"indicators.{i}.target", f"indicators.{i}.target_text"
                ),
                "，实际完成值",
                self.num(
                    _actual_text(ind), f"indicators.{i}.actual", f"indicators.{i}.actual_text"
                ),
                f"，{lead}。原因：",
                ind.explanation.strip().rstrip("。") + "。",
            )

    # ---- the department report ----------------------------------------------------------
    def department(self) -> SelfReport:
        f, hd = self.f, self.f.header
        name = hd.name or hd.unit or "（单位名称未填）"
        title = f"{name}部门整体支出绩效自评报告"
        t = f.funds.total
        total, total_path = self.total()
        infos = self.all_leaves()

        self.h(1, "一、部门（单位）基本情况")
        self.h(2, "（一）部门职能")
        self.blocks += self.text_or_placeholder(("部门职能", "主要职能"), "部门（单位）主要职能")
        self.h(2, "（二）机构人员情况")
        self.blocks += self.text_or_placeholder(
            ("机构人员情况", "机构人员", "机构设置及人员情况"), "内设机构、编制数和在职人数"
        )
        self.h(2, "（三）年度主要任务")
        self.blocks += self.text_or_placeholder(
            ("年度主要任务", "年度任务", "年度工作任务"), "本年度主要工作任务"
        )
        self.h(2, "（四）整体绩效目标")
        self.blocks += self.text_or_placeholder(
            ("整体绩效目标", "goal_expected"), "部门整体绩效目标"
        )

        self.h(1, "二、部门整体收支情况")
        self.h(2, "（一）预算执行情况")
        initial_rate = self.exec_initial_rate()
        self.para(
            f"{hd.year}年{name}年初预算数",
            self.m(t.initial, "funds.total.initial", what="年初预算数"),
            "万元，调整预算数",
            self.m(t.budget, "funds.total.budget", what="调整预算数"),
            "万元，实际支出",
            self.m(t.executed, "funds.total.executed", what="实际支出"),
            "万元，预算执行率",
            self.rate(
                self.exec_rate(), "funds.total.rate", "funds.total.executed", "funds.total.budget"
            ),
            *(
                [
                    "；实际支出与年初预算比",
                    self.rate(initial_rate, "funds.total.executed", "funds.total.initial"),
                ]
                if initial_rate is not None
                else []
            ),
            "。",
        )
        if self._text("预算执行情况说明"):
            self.blocks += self.text_or_placeholder(("预算执行情况说明",), "")
        fin = f.finance
        self.h(2, "（二）收入情况")
        if fin is None or (fin.income_total is None and not fin.income):
            self.para(Span(PLACEHOLDER.format("全年收入合计及按来源的构成"), placeholder=True))
        else:
            income_total = fin.income_total
            if income_total is None:
                income_total = sum((x.amount or ZERO for x in fin.income), ZERO)
            parts: list[str | Span] = [
                f"{hd.year}年全年收入合计",
                self.m(income_total, "finance.income_total"),
                "万元",
            ]
            if fin.income:
                parts.append("，其中：")
                for k, line in enumerate(fin.income):
                    share = percent(line.amount, income_total) if line.amount is not None else None
                    parts += [
                        line.name,
                        self.m(line.amount, f"finance.income.{k}.amount"),
                        "万元，占",
                        self.rate(share, f"finance.income.{k}.amount", "finance.income_total"),
                        "。" if k == len(fin.income) - 1 else "；",
                    ]
            else:
                parts += ["。", Span(PLACEHOLDER.format("收入按来源的构成"), placeholder=True)]
            self.para(*parts)
        self.h(2, "（三）支出情况")
        if fin is None or fin.expenditure_total is None:
            self.para(
                Span(PLACEHOLDER.format("全年支出合计、基本支出和项目支出"), placeholder=True)
            )
        else:
            spend = fin.expenditure_total
            parts = [
                f"{hd.year}年全年支出合计",
                self.m(spend, "finance.expenditure_total"),
                "万元",
            ]
            if fin.basic is None and fin.project is None:
                parts += [
                    "。",
                    Span(PLACEHOLDER.format("基本支出、项目支出金额及占比"), placeholder=True),
                ]
            else:
                for sep, label, value, share, path in (
                    ("，其中：", "基本支出", fin.basic, fin.basic_share, "finance.basic"),
                    ("；", "项目支出", fin.project, fin.project_share, "finance.project"),
                ):
                    if value is None:
                        parts += [
                            f"{sep}{label}",
                            Span(PLACEHOLDER.format(f"{label}金额"), placeholder=True),
                        ]
                        continue
                    if share is None:
                        share = percent(value, spend)
                    parts += [
                        f"{sep}{label}",
                        self.m(value, path),
                        "万元，占",
                        self.rate(share, f"{path}_share", path, "finance.expenditure_total"),
                    ]
                parts.append("。")
            self.para(*parts)
        self.h(2, "（四）项目支出情况")
        self._projects(hd.year)

        self.h(1, "三、部门整体绩效自评情况")
        self.h(2, "（一）自评结论")
        self.para(
            f"经自评，{name}{hd.year}年度部门整体支出绩效自评得分",
            self.score(total, total_path),
            "分，评价等级为“",
            self.grade(),
            "”。",
            *self._cap_parts(),
        )
        detail = any(n.children for n in self.r.nodes)
        deducted = [i for i in infos if i["deducted"]]
        lost = sum((i["lost"] for i in deducted), ZERO)
        n_all, full_all = self.counts_sentence(infos)
        level = "末级指标" if detail else "一级指标"
        lead = "" if detail else "本次自评按一级指标填报得分（未填报三级指标明细）。"
        self.para(
            f"{lead}共设{level}",
            n_all,
            "个，其中得满分",
            full_all,
            f"个、扣分{len(deducted)}个，合计扣",
            self.score(lost, *(i["score_path"] for i in deducted)),
            "分。",
        )
        self.blocks.append(self._summary_table(total, total_path))
        if self._text("评价结论"):
            self.blocks += self.text_or_placeholder(("评价结论",), "评价结论")
        self.h(2, "（二）各项指标自评情况")
        for k, n in enumerate(self.r.nodes, 1):
            s, path = self.group_score(n)
            g_infos = (
                [self.leaf_info(x) for x in self.leaves(n)] if n.children else [self.leaf_info(n)]
            )
            g_lost = sum((i["lost"] for i in g_infos), ZERO)
            self.h(3, f"{k}．{n.name}")
            parts = [
                f"{n.name}指标分值",
                self.score(n.weight),
                "分，自评得分",
                self.score(s, path),
                "分",
            ]
            if g_lost:
                parts += [
                    "，扣",
                    self.score(g_lost, *(i["score_path"] for i in g_infos if i["deducted"])),
                    "分",
                ]
            if n.grade:
                parts.append(f"，评价等级“{n.grade}”")
            remark = f.group_remarks.get(n.code, "").strip()
            if remark:
                parts.append(f"，评价概述：{remark}")
            parts.append("。")
            if n.children:
                c_n, c_full = self.counts_sentence(g_infos, n.code)
                parts += ["共设末级指标", c_n, "个，得满分", c_full, "个。"]
            self.para(*parts)
            if n.children:
                self.deduction_paragraphs(g_infos, n.name)
            elif g_infos[0]["deducted"]:
                self.para("扣分原因：", *self._reason(g_infos[0], n.name, g_infos[0]["lost"]))
        for c in self.r.nodes:
            for x in c.walk():
                if x is not c and x.children and f.group_remarks.get(x.code, "").strip():
                    self.para(f"{x.name}：{f.group_remarks[x.code].strip()}")
        self.h(2, "（三）整体绩效目标完成情况")
        self.blocks += self.text_or_placeholder(
            ("goal_actual", "绩效目标完成情况", "整体绩效目标完成情况"), "整体绩效目标的完成情况"
        )
        self.h(1, "四、存在的主要问题")
        self.blocks += self.text_or_placeholder(
            ("存在问题", "存在的主要问题"), "存在的主要问题及原因"
        )
        self.h(1, "五、下一步改进措施")
        self.blocks += self.text_or_placeholder(
            ("改进措施", "下一步改进措施", "下一步拟改进措施"), "下一步改进措施"
        )
        self.other_texts(6)
        if detail:
            self.h(1, "附表：部门整体支出绩效自评得分表")
            self.blocks.append(self._score_table(total, total_path))
        self.notes_section()
        self.ctx.update(self._context(infos, total, total_path))
        return self._finish("department", title, hd.unit or name)

    def _projects(self, year: int) -> None:
        projects = self.f.projects
        if not projects:
            self.para(
                Span(
                    PLACEHOLDER.format("项目支出明细（一级项目、二级项目的预算和支出）"),
                    placeholder=True,
                )
            )
            return
        tops = [(k, p) for k, p in enumerate(projects) if p.level == 1]
        sums = {}
        for col in ("initial", "adjusted", "spent"):
            values = [getattr(p, col) for _, p in tops]
            sums[col] = sum((v for v in values if v is not None), ZERO)
        paths = tuple(
            f"projects.{k}.{c}" for k, _ in tops for c in ("initial", "adjusted", "spent")
        )
        self.para(
            f"纳入自评的一级项目{len(tops)}个，年初预算合计",
            self.m(sums["initial"], *paths),
            "万元，调整预算合计",
            self.m(sums["adjusted"], *paths),
            "万元，实际支出合计",
            self.m(sums["spent"], *paths, "finance.project"),
            "万元，执行率",
            self.rate(
                percent(sums["spent"], sums["adjusted"]) if sums["adjusted"] else None, *paths
            ),
            "。",
        )
        units = list(dict.fromkeys(p.unit or OWN_UNIT for p in projects))
        by_unit = len(units) > 1  # 本级 and 下属单位: each 一级项目 named with its unit
        rows = []
        for k, p in enumerate(projects):
            base = f"projects.{k}"
            rate = (
                p.rate
                if p.rate is not None
                else (percent(p.spent, p.adjusted) if p.spent is not None and p.adjusted else None)
            )
            label = p.name if p.level == 1 else f"　　{p.name}"
            if p.level == 1 and by_unit:
                label = f"{p.name}（{p.unit or OWN_UNIT}）"
            rows.append(
                [
                    [Span(label)],
                    [self.m(p.initial, f"{base}.initial")]
                    if p.initial is not None
                    else [Span("—")],
                    [self.m(p.adjusted, f"{base}.adjusted")]
                    if p.adjusted is not None
                    else [Span("—")],
                    [self.m(p.spent, f"{base}.spent")] if p.spent is not None else [Span("—")],
                    [self.rate(rate, f"{base}.rate", f"{base}.spent", f"{base}.adjusted")],
                ]
            )
        subtotals = []
        for unit in units if by_unit else []:  # per-unit subtotals of the 一级项目
            mine = [(k, p) for k, p in tops if (p.unit or OWN_UNIT) == unit]
            unit_paths = tuple(
                f"projects.{k}.{c}" for k, _ in mine for c in ("initial", "adjusted", "spent")
            )
            part = {
                c: sum((getattr(p, c) for _, p in mine if getattr(p, c) is not None), ZERO)
                for c in ("initial", "adjusted", "spent")
            }
            subtotals.append(len(rows))
            rows.append(
                [
                    [Span(f"{unit}小计")],
                    [self.m(part["initial"], *unit_paths)],
                    [self.m(part["adjusted"], *unit_paths)],
                    [self.m(part["spent"], *unit_paths)],
                    [
                        self.rate(
                            percent(part["spent"], part["adjusted"]) if part["adjusted"] else None,
                            *unit_paths,
                        )
                    ],
                ]
            )
        rows.append(
            [
                [Span("合计")],
                [self.m(sums["initial"], *paths)],
                [self.m(sums["adjusted"], *paths)],
                [self.m(sums["spent"], *paths, "finance.project")],
                [
                    self.rate(
                        percent(sums["spent"], sums["adjusted"]) if sums["adjusted"] else None,
                        *paths,
                    )
                ],
            ]
        )
        n = len(self.tables()) + 1
        self.blocks.append(
            Table(
                f"表{n}　项目支出明细（单位：万元）",
                ["项目名称", "年初预算", "调整预算", "实际支出", "执行率"],
                rows,
                numeric=(1, 2, 3, 4),
                widths=(2.6, 1.5, 1.5, 1.5, 1.2),
                total_rows=(*subtotals, len(rows) - 1),
            )
        )
        for k, p in enumerate(projects):
            if p.level != 1:
                continue
            base = f"projects.{k}"
            owner = f"（{p.unit or OWN_UNIT}）" if by_unit else ""
            parts: list[str | Span] = [
                f"“{p.name}”{owner}年初预算",
                self.m(p.initial, f"{base}.initial", what="年初预算"),
                "万元，调整预算",
                self.m(p.adjusted, f"{base}.adjusted", what="调整预算"),
                "万元，实际支出",
                self.m(p.spent, f"{base}.spent", what="实际支出"),
                "万元",
            ]
            rate = rows[k][4][0]
            if p.adjusted is not None and p.adjusted == 0:
                parts.append("，调整预算为零，不计算执行率。")
            else:
                parts += ["，执行率", rate, "。"]
            self.para(*parts)

    def _summary_table(self, total: Decimal, total_path: str) -> Table:
        """Wuhan's published table: 评价准则 · 准则分值 · 评价得分 · 评价等级 · 评价概述."""
        grades = any(n.grade for n in self.r.nodes)
        header = (
            ["评价准则", "准则分值", "评价得分"] + (["评价等级"] if grades else []) + ["评价概述"]
        )
        rows = []
        for n in self.r.nodes:
            s, path = self.group_score(n)
            row = [[Span(n.name)], [Span(pts(n.weight))], [self.score(s, path)]]
            if grades:
                row.append([Span(n.grade or "")])
            row.append([Span(self.f.group_remarks.get(n.code, ""))])
            rows.append(row)
        row = [[Span("综合绩效")], [Span(pts(self.p.total))], [self.score(total, total_path)]]
        if grades:
            row.append([self.grade()])
        row.append([Span(self.f.texts.get("综合绩效概述", ""))])
        if self.f.texts.get("综合绩效概述"):
            self.texts_used.add("综合绩效概述")
        rows.append(row)
        n = len(self.tables()) + 1
        return Table(
            f"表{n}　部门整体支出绩效自评得分",
            header,
            rows,
            numeric=(1, 2),
            widths=(1.6, 1.2, 1.2) + ((1.2,) if grades else ()) + (2.4,),
            total_rows=(len(rows) - 1,),
        )

    def _score_table(self, total: Decimal, total_path: str) -> Table:
        rows = []
        for n in self.r.nodes:
            for x in n.walk():
                indent = "　" * (x.level - 1)
                if x.children or self._open(x):
                    s = self.f.group_scores.get(x.code, x.score)
                    path = f"group_scores.{x.code}"
                    rows.append(
                        [
                            [Span(indent + x.name)],
                            [Span(pts(x.weight))],
                            [self.score(s, path)],
                            [Span("")],
                        ]
                    )
                    continue
                info = self.leaf_info(x)
                reason = info["reason"] if info["deducted"] else ""
                cell = (
                    [Span(reason)]
                    if reason or not info["deducted"]
                    else [Span(PLACEHOLDER.format("扣分原因"), placeholder=True)]
                )
                rows.append(
                    [
                        [Span(indent + x.name)],
                        [Span(pts(x.weight))],
                        [self.score(info["shown"], info["score_path"])],
                        cell,
                    ]
                )
        rows.append(
            [[Span("总分")], [Span(pts(self.p.total))], [self.score(total, total_path)], [Span("")]]
        )
        return Table(
            "",
            ["指标", "分值", "得分", "扣分原因"],
            rows,
            numeric=(1, 2),
            widths=(3.0, 0.9, 0.9, 3.4),
            total_rows=(len(rows) - 1,),
        )

    # ---- finishing ----------------------------------------------------------------------
    def _finish(self, kind: str, title: str, signer: str) -> SelfReport:
        hd = self.f.header
        subtitle = f"（{hd.year}年度）"
        notes = list(self.used)
        rep = SelfReport(
            kind=kind,
            title=title,
            subtitle=subtitle,
            blocks=self.blocks,
            notes=notes,
            forced=bool(notes),
            context=self.ctx,
            signature=[signer, PLACEHOLDER.format("成文日期")]
            if signer
            else [PLACEHOLDER.format("成文日期")],
        )
        self.ctx.update(
            {
                "title": title,
                "subtitle": subtitle,
                "draft": bool(notes),
                "findings": [
                    {
                        "mark": circled(k),
                        "code": x.code,
                        "place": x.location(),
                        "message": x.message,
                    }
                    for k, x in enumerate(notes, 1)
                ],
                "blocks": [_block_context(b) for b in self.blocks],
            }
        )
        return rep

    def _context(self, infos: list[dict], total: Decimal, total_path: str) -> dict:
        """Pre-formatted strings for a bureau's own template (marks included)."""
        f, hd = self.f, self.f.header

        def s(span: Span) -> str:
            return span.plain_text()

        funds = {}
        for key in FUND_LINES:
            line = getattr(f.funds, key)
            base = f"funds.{key}"
            funds[key] = {
                col: s(self.m(getattr(line, col), f"{base}.{col}"))
                if getattr(line, col) is not None
                else "—"
                for col in ("initial", "budget", "executed")
            }
        funds["total"]["rate"] = s(
            self.rate(
                self.exec_rate(), "funds.total.rate", "funds.total.executed", "funds.total.budget"
            )
        )
        groups = []
        for n in self.r.nodes:
            sc, path = self.group_score(n)
            g_infos = (
                [self.leaf_info(x) for x in self.leaves(n)] if n.children else [self.leaf_info(n)]
            )
            groups.append(
                {
                    "code": n.code,
                    "name": n.name,
                    "weight": pts(n.weight),
                    "score": s(self.score(sc, path)),
                    "grade": n.grade or "",
                    "remark": f.group_remarks.get(n.code, ""),
                    "deductions": [_deduction_context(self, i) for i in g_infos if i["deducted"]],
                }
            )
        deducted = [i for i in infos if i["deducted"]]
        texts = {k: v for k, v in f.texts.items() if v and v.strip()}
        if f.goal_expected:
            texts.setdefault("预期目标", f.goal_expected)
        if f.goal_actual:
            texts.setdefault("实际完成情况", f.goal_actual)
        for key in TEMPLATE_TEXTS:  # a template may name these whether filed or not
            texts.setdefault(key, PLACEHOLDER.format(key))
        return {
            "kind": "项目支出" if self.p.kind == "project" else "部门整体支出",
            "profile": {"id": self.p.id, "title": self.p.title, "basis": self.p.basis or ""},
            "year": hd.year,
            "name": hd.name,
            "department": hd.department or "",
            "unit": hd.unit or "",
            "unit_code": hd.unit_code or "",
            "total_weight": pts(self.p.total),
            "total_score": s(self.score(total, total_path)),
            "grade": s(self.grade()),
            "execution_rate": funds["total"]["rate"],
            "funds": funds,
            "groups": groups,
            "deductions": [_deduction_context(self, i) for i in deducted],
            "counts": {
                "indicators": len([i for i in infos if i["row"].applicable]),
                "full_marks": len([i for i in infos if i["row"].applicable and not i["deducted"]]),
                "deducted": len(deducted),
                "lost": pts(sum((i["lost"] for i in deducted), ZERO)),
            },
            "projects": [
                {
                    "name": p.name,
                    "level": p.level,
                    "initial": money(p.initial) if p.initial is not None else "—",
                    "adjusted": money(p.adjusted) if p.adjusted is not None else "—",
                    "spent": money(p.spent) if p.spent is not None else "—",
                    "rate": pct(p.rate)
                    if p.rate is not None
                    else (
                        pct(percent(p.spent, p.adjusted))
                        if p.spent is not None and p.adjusted
                        else "—"
                    ),
                }
                for p in f.projects
            ],
            "goal_expected": f.goal_expected or PLACEHOLDER.format("年度总体目标"),
            "goal_actual": f.goal_actual or PLACEHOLDER.format("实际完成情况"),
            "texts": texts,
            "placeholder": PLACEHOLDER,
        }


def _deduction_context(b: _Builder, info: dict) -> dict:
    row = info["row"]
    reason = info["reason"] or PLACEHOLDER.format(f"{row.name}扣{pts(info['lost'])}分的原因")
    return {
        "name": row.name,
        "weight": pts(row.weight),
        "score": b.score(info["shown"], info["score_path"]).plain_text(),
        "lost": pts(info["lost"]),
        "reason": reason,
    }


def _block_context(b: Block) -> dict:
    if isinstance(b, Heading):
        return {"kind": "heading", "level": b.level, "text": b.text}
    if isinstance(b, Paragraph):
        return {"kind": "paragraph", "text": b.text}
    return {
        "kind": "table",
        "caption": b.caption,
        "header": b.header,
        "rows": [[_cell_text(c) for c in row] for row in b.rows],
    }


def _under(row: NodeScore, group: NodeScore) -> bool:
    return any(row is x for x in group.walk())


def _related(finding_path: str, path: str) -> bool:
    """A finding at "projects.1" concerns "projects.1.spent" and vice versa."""
    if finding_path == path:
        return True
    return path.startswith(finding_path + ".") or finding_path.startswith(path + ".")


def _target_text(ind: Indicator) -> str:
    unit = ind.unit or ""
    if ind.target_text:
        text = ind.target_text.strip()
        return text if not unit or text.endswith(unit) or ind.direction == "定性" else text + unit
    if ind.target is not None:  # as the table prints it: the 指标性质 sign, then the value
        return DIRECTION_SIGNS.get(ind.direction or "", "") + plain(ind.target) + unit
    return "—"


def _actual_text(ind: Indicator) -> str:
    if ind.actual_text:
        return ind.actual_text.strip()
    if ind.actual is not None:
        return plain(ind.actual) + (ind.unit or "")
    return "—"


def build_report(
    filing: Filing, profile: Profile, result: ScoreResult, report: Report | None = None
) -> SelfReport:
    """The report's document model; `report` (the checks) supplies the blocking findings
    whose numbers are marked."""
    b = _Builder(filing, profile, result, report)
    return b.project() if profile.kind == "project" else b.department()


# ---------------------------------------------------------------- Markdown


def _md_spans(spans: list[Span]) -> str:
    out = []
    for s in spans:
        text = s.text.replace("|", "｜")
        if s.bold:
            text = f"**{text}**"
        if s.marks:
            text = f"**{text}**" + "".join(f"【存疑{circled(m)}】" for m in s.marks)
        out.append(text)
    return "".join(out)


def to_markdown(rep: SelfReport) -> str:
    lines = [f"# {rep.title}", "", rep.subtitle, ""]
    if rep.forced:
        lines += [f"> 草稿：审核发现{len(rep.notes)}项强制性错误，标注【存疑】的数字待核实。", ""]
    for b in rep.blocks:
        if isinstance(b, Heading):
            lines += [f"{'#' * (b.level + 1)} {_md_spans(b.spans)}", ""]
        elif isinstance(b, Paragraph):
            lines += [_md_spans(b.spans), ""]
        else:
            if b.caption:
                lines += [f"**{b.caption}**", ""]
            lines.append("| " + " | ".join(b.header) + " |")
            lines.append(
                "|"
                + "|".join("---:" if i in b.numeric else "---" for i in range(len(b.header)))
                + "|"
            )
            for row in b.rows:
                lines.append("| " + " | ".join(_md_spans(c) for c in row) + " |")
            lines.append("")
    lines += [x for s in rep.signature for x in (s, "")]
    return "\n".join(lines).rstrip() + "\n"


__all__ = [
    "PLACEHOLDER",
    "Heading",
    "Paragraph",
    "SelfReport",
    "Span",
    "Table",
    "build_report",
    "money",
    "pct",
    "plain",
    "pts",
    "to_markdown",
]
