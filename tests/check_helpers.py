"""Real filings to mutate as a user would, and a one-call checker for the rule tests."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from perfxl.dataio import load_data
from perfxl.findings import Report, Severity
from perfxl.model import Filing
from perfxl.profile import Profile, load_profile, parse_profile, shipped_profiles
from perfxl.rules import Context, check

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE

D = Decimal


def project() -> dict[str, Any]:
    """The bundled project example as plain data (Decimals), safe to mutate."""
    return copy.deepcopy(load_data(PROJECT_EXAMPLE)[0])


def wuhan() -> dict[str, Any]:
    return copy.deepcopy(load_data(WUHAN_EXAMPLE)[0])


def wuhan_full() -> dict[str, Any]:
    """Wuhan 2020 with a complete 收支情况 and 二级项目 that add up (the published summary
    gives only totals; the split below is made up but consistent)."""
    data = wuhan()
    data["finance"] = {
        "income": [
            {"name": "财政拨款收入", "amount": D("3000.00"), "share": D("92.78")},
            {"name": "其他收入", "amount": D("233.46"), "share": D("7.22")},
        ],
        "income_total": D("3233.46"),
        "basic": D("1682.17"),
        "project": D("1551.29"),
        "expenditure_total": D("3233.46"),
        "basic_share": D("52.02"),
        "project_share": D("47.98"),
    }
    data["projects"][2:2] = [
        {
            "name": "运行维护-物业",
            "level": 2,
            "parent": "档案馆运行维护",
            "initial": D("400.00"),
            "adjusted": D("400.00"),
            "spent": D("400.00"),
            "rate": D("100.00"),
        },
        {
            "name": "运行维护-设备",
            "level": 2,
            "parent": "档案馆运行维护",
            "initial": D("329.00"),
            "adjusted": D("327.96"),
            "spent": D("327.96"),
            "rate": D("100.00"),
        },
    ]
    # rows: 0 事业发展建设, 1 运行维护, 2 运行维护-物业, 3 运行维护-设备, 4 数字化, 5 新馆建设
    return data


def guangdong() -> dict[str, Any]:
    """A complete dept-guangdong filing: every 三级 filled, two below full marks with 扣分原因,
    the expenditure rate computed from the funds (98.50 % → 9.85)."""
    p = load_profile("dept-guangdong")
    inds = []
    below = {"1.1.2": D(18), "2.4.3": D(6)}
    for _, n in p.walk():
        if n.children:
            continue
        if n.code == "1.2.1":
            inds.append(
                {"code": n.code, "score": D("9.85"), "explanation": "年末两笔采购未能支付。"}
            )
            continue
        s = below.get(n.code, n.weight)
        row: dict[str, Any] = {"code": n.code, "score": s}
        if s != n.weight:
            row["explanation"] = "部分工作未按期完成，已制定整改计划。"
        inds.append(row)
    return {
        "format": "perfxl-filing/1",
        "profile": "dept-guangdong",
        "profile_version": "1.0",
        "header": {"name": "示例市某局", "year": 2023},
        "funds": {
            "total": {
                "initial": D("1000.00"),
                "budget": D("1000.00"),
                "executed": D("985.00"),
                "rate": D("98.50"),
            }
        },
        "indicators": inds,
        "group_scores": {
            "1": D("47.85"),
            "1.1": D("38"),
            "1.2": D("9.85"),
            "2": D("49"),
            "2.4": D("14"),
        },
        "total_score": D("96.85"),
        "grade": "优",
    }


def variant(profile_id: str, **options: Any) -> Profile:
    """A shipped profile with some options changed (as a bureau's own profile would)."""
    data = copy.deepcopy(load_data(shipped_profiles()[profile_id])[0])
    data["id"] = f"{profile_id}-variant"
    data.setdefault("options", {}).update(options)
    return parse_profile(data, f"{profile_id}-variant.yaml")


def run(data: dict[str, Any], profile: Profile | None = None, **context: Any) -> Report:
    filing = Filing.model_validate(data)
    return check(filing, profile or load_profile(filing.profile), Context(**context), file="t")


def blocking(report: Report) -> list[list[Any]]:
    return report.flatten(["code", "path"], severity=Severity.BLOCKING)


def warnings(report: Report) -> list[list[Any]]:
    return report.flatten(["code", "path", "explained"], severity=Severity.WARNING)


def indicator(data: dict[str, Any], name: str) -> tuple[int, dict[str, Any]]:
    for i, row in enumerate(data["indicators"]):
        if row.get("name") == name:
            return i, row
    raise KeyError(name)
