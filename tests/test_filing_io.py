"""Filings survive being written as YAML or JSON and read back, exactly."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings

from perfxl.filing_io import load_filing, save_filing
from perfxl.model import Filing

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE
from .strategies import project_filings


def _roundtrip(f: Filing, tmp_path, suffix: str) -> Filing:
    path = tmp_path / f"f{suffix}"
    save_filing(f, path)
    return load_filing(path)


def test_examples_roundtrip_through_yaml_and_json(tmp_path):
    for ex in (PROJECT_EXAMPLE, WUHAN_EXAMPLE):
        f = load_filing(ex)
        for suffix in (".yaml", ".json"):
            assert _roundtrip(f, tmp_path, suffix) == f


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(project_filings())
def test_generated_filings_roundtrip_exactly(tmp_path, f):
    f.texts["说明"] = "全角　空格、ｗｉｄｅ 与 emoji 🙂"
    for suffix in (".yaml", ".json"):
        back = _roundtrip(f, tmp_path, suffix)
        assert back == f
        for a, b in zip(back.indicators, f.indicators, strict=True):
            assert str(a.target) == str(b.target)  # same digits, not merely equal values


def test_json_numbers_are_exact_strings(tmp_path):
    f = load_filing(PROJECT_EXAMPLE)
    path = tmp_path / "f.json"
    save_filing(f, path)
    text = path.read_text(encoding="utf-8")
    assert '"executed": "489.27"' in text
    assert load_filing(path).funds.total.executed == Decimal("489.27")
