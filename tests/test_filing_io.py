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


def test_sources_are_located_and_checked_in_data_files(tmp_path):
    """A filing's sources keep where each value was read through a data file, and a
    misspelt or malformed source is a Chinese problem at its line, not a traceback."""
    import pytest

    from perfxl.errors import InputError
    from perfxl.model import Source

    good = tmp_path / "good.yaml"
    good.write_text(
        "format: perfxl-filing/1\nprofile: project-2020\nheader: {year: 2023, name: 甲}\n"
        "sources:\n  header.name: {file: a.xlsx, sheet: 项目支出绩效自评表, cell: B3}\n",
        encoding="utf-8",
    )
    src = load_filing(good).where("header.name")
    assert src == Source(file="a.xlsx", sheet="项目支出绩效自评表", cell="B3")
    assert src.label() == "项目支出绩效自评表!B3"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: perfxl-filing/1\nprofile: project-2020\nheader: {year: 2023, name: 甲}\n"
        "sources:\n  header.name: {sheet: a, cel: B3}\n  header.year: 5\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_filing(bad)
    text = str(err.value)
    assert "第 5 行 sources.header.name.cel：不认识的字段" in text
    assert "第 6 行 sources.header.year：应为键值表" in text
