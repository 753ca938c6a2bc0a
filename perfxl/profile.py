"""Profiles: a framework of indicators, weights, scoring rules and grade bands, as data.

Each province's variant of the tables is a profile file a finance bureau can edit; nothing
here is specific to one province. `load_profile` validates everything the scoring engine,
the template builder and the checks rely on, and reports every problem at once.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .dataio import Path_, load_data, parse_model, place_of
from .errors import InputError, Problem

Direction = Literal["正向", "反向", "等于", "定性"]
QUALITATIVE_PHRASES: tuple[str, ...] = (
    "达成年度指标",
    "部分达成年度指标并具有一定效果",
    "未达成年度指标且效果较差",
)

Num = Annotated[Decimal, Field(allow_inf_nan=False)]
NonNeg = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExecutionRateRule(_Strict):
    """得分 = min(执行率, 100%) × 分值; 执行率 = 全年执行数 / 全年预算数."""

    kind: Literal["execution_rate"]


class QuantitativeRule(_Strict):
    """Directional target/actual scoring; direction from the filing unless fixed here."""

    kind: Literal["quantitative"]
    direction: Literal["正向", "反向", "等于"] | None = None


class QualitativeRule(_Strict):
    """A judged score that must lie in the band of the phrase in 实际完成值."""

    kind: Literal["qualitative"]


class RatioRule(_Strict):
    """得分 = min(实际值%, 100%) × 分值 (e.g. 预算完成率)."""

    kind: Literal["ratio"]


class PenaltyRule(_Strict):
    """Full marks on the right side of a bound; per_point deducted per percentage point beyond."""

    kind: Literal["penalty"]
    bound: Num
    side: Literal["over", "under"]
    per_point: NonNeg


class Band(_Strict):
    min: Num | None = None  # inclusive lower bound of the value
    max: Num | None = None  # inclusive upper bound of the value
    score: NonNeg


class BandsRule(_Strict):
    """The first band whose [min, max] holds the value gives the score."""

    kind: Literal["bands"]
    bands: list[Band] = Field(min_length=1)


class DeductionRule(_Strict):
    """分值 − 次数 × per_item, not below 0 (e.g. −1 per violation)."""

    kind: Literal["deduction"]
    per_item: NonNeg


class ManualRule(_Strict):
    """A judged score within [0, 分值]."""

    kind: Literal["manual"]


Rule = Annotated[
    ExecutionRateRule
    | QuantitativeRule
    | QualitativeRule
    | RatioRule
    | PenaltyRule
    | BandsRule
    | DeductionRule
    | ManualRule,
    Field(discriminator="kind"),
]
RULE_KINDS = (
    "execution_rate",
    "quantitative",
    "qualitative",
    "ratio",
    "penalty",
    "bands",
    "deduction",
    "manual",
)
RULE_KIND_NAMES = {
    "execution_rate": "预算执行率",
    "quantitative": "定量（按指标性质）",
    "qualitative": "定性",
    "ratio": "比率",
    "penalty": "超限扣分",
    "bands": "分档",
    "deduction": "按次扣分",
    "manual": "评价人员判定",
}


class Node(_Strict):
    """One indicator (一级 / 二级 / 三级). Leaves carry a rule; `open` leaves hold the unit's own 三级."""

    code: str = Field(min_length=1, pattern=r"^[0-9A-Za-z_.\-]+$")
    name: str = Field(min_length=1)
    weight: NonNeg | None = None
    rule: Rule | None = None
    open: bool = False
    unit: str | None = None
    formula: str | None = (
        None  # how the value is measured, shown in the template (e.g. 在职人员数/编制数)
    )
    children: list[Node] = []


class Grade(_Strict):
    label: str = Field(min_length=1)
    min: NonNeg


class OverAchievement(_Strict):
    threshold: NonNeg = Decimal(30)  # percent beyond target that counts as 偏离
    explain: bool = True
    deduct: NonNeg = Decimal(0)


class Cap(_Strict):
    below: NonNeg  # execution rate (%) strictly below which...
    max_total: NonNeg  # ...the total may not exceed this


class Options(_Strict):
    inverse_variant: Literal["A", "B"] = "A"
    over_achievement: OverAchievement = OverAchievement()
    execution_caps: list[Cap] = []
    rescale_not_applicable: bool = False
    explain_below_weight: bool = True
    explain_execution_below: NonNeg | None = None  # 执行率 (%) below which an explanation is due
    score_from_rounded_rate: bool = True  # score 执行率 as printed (2 decimals of %)
    group_grades: bool = False  # grade each 一级 by its share of its weight (Wuhan's table)
    text_limits: dict[str, int] = {}
    # texts that must be filled (field paths, or keys of `texts`); None: the kind's default
    required_texts: list[str] | None = None


class Profile(_Strict):
    id: str = Field(min_length=1, pattern=r"^[0-9A-Za-z_.\-]+$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    kind: Literal["project", "department"]
    basis: str | None = None
    total: NonNeg = Decimal(100)
    grades: list[Grade] = Field(min_length=1)
    options: Options = Options()
    indicators: list[Node] = Field(min_length=1)
    _index: dict[str, Node] = PrivateAttr(default_factory=dict)

    # ---- navigation helpers used by scoring, templates and checks ----
    def walk(self) -> list[tuple[int, Node]]:
        """Every node with its level (1 = 一级), depth first, in table order."""
        out: list[tuple[int, Node]] = []

        def go(nodes: list[Node], level: int) -> None:
            for n in nodes:
                out.append((level, n))
                go(n.children, level + 1)

        go(self.indicators, 1)
        return out

    def node(self, code: str) -> Node | None:
        return self._index.get(code)

    def model_post_init(self, __context: object) -> None:
        self._index = {n.code: n for _, n in self.walk()}

    def grade(self, total: Decimal) -> str:
        for g in self.grades:
            if total >= g.min:
                return g.label
        return self.grades[-1].label


# ---------------------------------------------------------------- validation


def execution_node(profile: Profile) -> Node | None:
    for _, n in profile.walk():
        if isinstance(n.rule, ExecutionRateRule):
            return n
    return None


def code_name(code: str) -> str:
    """Indicator code → the part of a defined name that carries it: "2.1" → "2_1" (the
    template's names and the checks that refer to them spell it the same)."""
    return code.replace(".", "_").replace("-", "_")


def execution_remark_path(profile: Profile) -> str:
    """Where the filing explains its 执行率: the 说明 of the execution-rate indicator,
    or the text 预算执行情况说明 when the profile has no such indicator."""
    node = execution_node(profile)
    return f"group_remarks.{node.code}" if node else "texts.预算执行情况说明"


def _semantic_problems(p: Profile, file: str, lines: dict[Path_, int]) -> list[Problem]:
    """What a schema cannot say: sums, uniqueness, band order, rules where they belong."""
    problems: list[Problem] = []

    def at(path: Path_, msg: str) -> None:
        problems.append(Problem(file, place_of(path, lines), msg))

    seen: dict[str, Path_] = {}

    def go(nodes: list[Node], path: Path_, parent: Node | None) -> None:
        for i, n in enumerate(nodes):
            here = (*path, i)
            if n.code in seen:
                at(
                    (*here, "code"),
                    f"编码「{n.code}」重复（与 {place_of(seen[n.code], lines)} 相同）",
                )
            else:
                seen[n.code] = (*here, "code")
            if n.children and n.rule is not None:
                at(
                    (*here, "rule"),
                    f"「{n.name}」有下级指标，不能再设评分规则（规则写在末级指标上）",
                )
            if n.open and n.children:
                at((*here, "open"), f"「{n.name}」由单位自定三级指标（open），不能再列下级指标")
            if not n.children and not n.open and n.rule is None:
                at(here, f"末级指标「{n.name}」缺少评分规则 rule")
            if not n.children and not n.open and n.weight is None:
                at(here, f"末级指标「{n.name}」缺少分值 weight")
            if isinstance(n.rule, BandsRule) and n.weight is not None:
                for j, b in enumerate(n.rule.bands):
                    if b.score > n.weight:
                        at(
                            (*here, "rule", "bands", j, "score"),
                            f"分档得分 {b.score} 超过「{n.name}」的分值 {n.weight}",
                        )
                    if b.min is not None and b.max is not None and b.min > b.max:
                        at((*here, "rule", "bands", j), f"分档下限 {b.min} 大于上限 {b.max}")
                last = n.rule.bands[-1]
                if last.min is not None and last.max is not None:
                    at(
                        (*here, "rule", "bands"),
                        "最后一档应不设上下限（兜底档），否则有的值无法评分",
                    )
            weighted = [c for c in n.children if c.weight is not None]
            if n.weight is not None and n.children and len(weighted) == len(n.children):
                total = sum((c.weight for c in weighted), Decimal(0))
                if total != n.weight:
                    at(
                        (*here, "weight"),
                        f"「{n.name}」分值 {n.weight} 与下级分值合计 {total} 不等",
                    )
            elif n.weight is None and n.children and weighted:
                at((*here, "weight"), f"「{n.name}」的下级有分值，本级也应填写分值")
            go(n.children, (*here, "children"), n)

    go(p.indicators, ("indicators",), None)

    tops = p.indicators
    if all(n.weight is not None for n in tops):
        total = sum((n.weight for n in tops if n.weight is not None), Decimal(0))
        if total != p.total:
            at(("indicators",), f"一级指标分值合计 {total} 与总分 {p.total} 不等")
    else:
        for i, n in enumerate(tops):
            if n.weight is None:
                at(("indicators", i), f"一级指标「{n.name}」缺少分值 weight")

    mins = [g.min for g in p.grades]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        at(("grades",), "等级应按下限从高到低排列，且下限互不相同")
    if mins and mins[-1] != 0:
        at(("grades",), "最低一档等级的下限应为 0，否则低分没有等级")
    if len({g.label for g in p.grades}) != len(p.grades):
        at(("grades",), "等级名称重复")
    caps = p.options.execution_caps
    for j, c in enumerate(caps):
        if c.max_total > p.total:
            at(("options", "execution_caps", j, "max_total"), f"封顶分 {c.max_total} 超过总分")
    if p.kind == "project" and not any(isinstance(n.rule, ExecutionRateRule) for _, n in p.walk()):
        at(("indicators",), "项目支出自评表应有一项预算执行率指标（rule: execution_rate）")
    return problems


def parse_profile(data: object, file: str, lines: dict[Path_, int] | None = None) -> Profile:
    lines = lines or {}
    if not isinstance(data, dict):
        raise InputError(Problem(file, "", "评价框架文件内容应为键值表"))
    profile = parse_model(Profile, data, file, lines)
    problems = _semantic_problems(profile, file, lines)
    if problems:
        raise InputError(problems)
    return profile


def load_profile_file(path: Path) -> Profile:
    data, lines = load_data(path)
    return parse_profile(data, str(path), lines)


def shipped_profiles() -> dict[str, Path]:
    folder = resources.files("perfxl") / "profiles"
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = Path(str(entry))
    return out


_CACHE: dict[str, Profile] = {}


def load_profile(id_or_path: str | Path) -> Profile:
    """A shipped profile by id, or a bureau's own profile file by path."""
    key = str(id_or_path)
    if key in _CACHE:
        return _CACHE[key]
    shipped = shipped_profiles()
    if key in shipped:
        prof = load_profile_file(shipped[key])
    else:
        path = Path(key)
        if not path.suffix:
            names = "、".join(shipped)
            raise InputError(Problem(key, "", f"没有这个评价框架（profile）。可用的有：{names}"))
        prof = load_profile_file(path)
    _CACHE[key] = prof
    return prof
