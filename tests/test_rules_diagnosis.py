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
