"""Typical typing mistakes diagnosed by name: a table typed in 元 (VAL-MONEY-SCALE) and a
rate typed as a fraction (VAL-RATE-FRACTION). The live 审核 sheet runs the same
expressions (tests/test_one_verdict.py: p-yuan, p-fraction)."""

from decimal import Decimal

from perfxl.findings import Status

from .check_helpers import indicator, project, run, warnings

D = Decimal


def test_a_rate_typed_as_a_fraction_is_named():
    data = project()
    i, row = indicator(data, "数字化成果合格率")
    assert row["unit"] == "%" and row["direction"] == "正向"
    row["actual"] = D("0.992")
    report = run(data)
    assert ["VAL-RATE-FRACTION", f"indicators.{i}.actual", False] in warnings(report)
    (f,) = [f for f in report.findings if f.code == "VAL-RATE-FRACTION"]
    assert "0.992" in f.message and "应填 99.20" in f.message
    assert run(project()).status("VAL-RATE-FRACTION") is Status.PASSED


def test_a_small_rate_of_a_reverse_or_low_target_is_not_a_fraction():
    data = project()
    _, row = indicator(data, "数字化成果合格率")
    row["target"] = D("5")  # a rate targeted at 5%: 0.8% is a plausible result
    row["actual"] = D("0.8")
    assert "VAL-RATE-FRACTION" not in {w[0] for w in warnings(run(data))}
    data = project()
    _, row = indicator(data, "数字化成果合格率")
    row["direction"] = "反向"
    row["actual"] = D("0.5")
    assert "VAL-RATE-FRACTION" not in {w[0] for w in warnings(run(data))}


def test_a_table_typed_in_yuan_is_named():
    data = project()
    for line in ("total", "fiscal", "carryover", "other"):
        for col in ("initial", "budget", "executed"):
            data["funds"][line][col] = D(str(data["funds"][line][col])) * 10000
    report = run(data)
    assert ["VAL-MONEY-SCALE", "funds.total.budget", False] in warnings(report)
    (f,) = [f for f in report.findings if f.code == "VAL-MONEY-SCALE"]
    assert "按元填写" in f.message and "490.00 万元" in f.message
    assert run(project()).status("VAL-MONEY-SCALE") is Status.PASSED


def _funds(data, **lines):
    for line in ("total", "fiscal", "carryover", "other"):
        data["funds"][line] = dict(
            zip(("initial", "budget", "executed"), lines.get(line, (0, 0, 0)), strict=True)
        )
    return data


def test_a_small_project_typed_in_yuan_is_named():
    """30 万元 typed as 300000 (元): under the 100 亿 bound of VAL-MONEY-SCALE, but every
    amount is a whole 100 and at least 1 万: the hint names the likely cause."""
    data = _funds(project(), total=(300000, 300000, 298600), fiscal=(280000, 280000, 278600),
                  carryover=(20000, 20000, 20000))  # fmt: skip
    report = run(data)
    assert ["VAL-MONEY-YUAN", "funds.total.budget", False] in warnings(report)
    assert "VAL-MONEY-SCALE" not in {w[0] for w in warnings(report)}
    (f,) = [f for f in report.findings if f.code == "VAL-MONEY-YUAN"]
    assert "按元填写" in f.message and "30.00 万元" in f.message and "预算执行说明" in f.message
    # explained in the 预算执行说明: 已说明
    data["group_remarks"] = {"1": "本项目为 30 亿元的重大工程，金额无误。"}
    assert ["VAL-MONEY-YUAN", "funds.total.budget", True] in warnings(run(data))


def test_genuinely_large_projects_in_wan_are_not_flagged():
    # 15 亿元, spent to the 元 level: not round
    data = _funds(project(), total=(150000, 150000, D("148532.17")),
                  fiscal=(150000, 150000, D("148532.17")))  # fmt: skip
    assert "VAL-MONEY-YUAN" not in {w[0] for w in warnings(run(data))}
    # an amount under 1 万 (a 5000 万元 carry-over) is not 元 of a small project either
    data = _funds(project(), total=(155000, 155000, 155000), fiscal=(150000, 150000, 150000),
                  carryover=(5000, 5000, 5000))  # fmt: skip
    assert "VAL-MONEY-YUAN" not in {w[0] for w in warnings(run(data))}
    # the usual example (490 万元) and a budget under 10 亿
    assert run(project()).status("VAL-MONEY-YUAN") is Status.NOT_APPLICABLE
    data = _funds(project(), total=(90000, 90000, 90000), fiscal=(90000, 90000, 90000))
    assert "VAL-MONEY-YUAN" not in {w[0] for w in warnings(run(data))}
    # 100 亿 and more: VAL-MONEY-SCALE says it, this one stays quiet
    data = _funds(project(), total=(4900000, 4900000, 4892700), fiscal=(4900000, 4900000, 4892700))
    names = {w[0] for w in warnings(run(data))}
    assert "VAL-MONEY-SCALE" in names and "VAL-MONEY-YUAN" not in names
