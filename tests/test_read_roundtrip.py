"""Fill → read gives the filing back, for every shipped profile, also after LibreOffice saves it.

Input fields must come back exactly as written; formula fields as the Python engine gives
them (the writer caches those values; LibreOffice recomputes them from the live formulas).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfxl.filing_io import load_filing
from perfxl.model import Filing
from perfxl.profile import shipped_profiles
from perfxl.workbook.fill import not_kept
from perfxl.workbook.read import read_workbook_ex

from .conftest import PROJECT_EXAMPLE, WUHAN_EXAMPLE
from .office_fixture import office  # noqa: F401  (pytest fixture)
from .workbook_factory import any_filings, build, expected

PROFILES = sorted(shipped_profiles())


def plain(f: Filing) -> dict:
    return f.model_dump(exclude={"sources"})


def check_round_trip(path: Path, src: Filing) -> None:
    got, _notes = read_workbook_ex(path)
    assert plain(got) == plain(expected(src))
    for key, where in got.sources.items():
        assert where.file == str(path) and where.sheet and where.cell and where.name, key


@pytest.mark.parametrize("pid", PROFILES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fill_then_read(pid: str, data: st.DataObject) -> None:
    src = data.draw(any_filings(pid))
    with tempfile.TemporaryDirectory() as d:
        check_round_trip(build(Path(d) / "filled.xlsx", src), src)


@pytest.mark.parametrize("pid", PROFILES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fill_loses_nothing(pid: str, data: st.DataObject) -> None:
    """Every field a generated filing states, stated total and grade, 一级/二级 scores,
    年初指标值 and 是否适用 included, comes back from the filled workbook: `fill` has nothing
    to report."""
    src = data.draw(any_filings(pid))
    with tempfile.TemporaryDirectory() as d:
        out = build(Path(d) / "filled.xlsx", src)
        assert not_kept(src, out) == []
        got, _notes = read_workbook_ex(out)
        assert (got.total_score, got.grade) == (src.total_score, src.grade)
        assert got.group_scores == src.group_scores
        assert got.group_remarks == src.group_remarks
        initial = [(i.code, i.target_initial) for i in src.indicators if i.target_initial]
        assert sorted(initial) == sorted(
            (i.code, i.target_initial) for i in got.indicators if i.target_initial
        )
        marked = [(i.code, i.name) for i in src.indicators if not i.applicable]
        assert sorted(marked) == sorted(
            (i.code, i.name) for i in got.indicators if not i.applicable
        )


@pytest.mark.parametrize("pid", PROFILES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_is_exact(pid: str, data: st.DataObject) -> None:
    """YAML → workbook → YAML gives the very filing back, every field of it, for a filing
    whose computed fields (执行率, its score, project rates) are what the formulas show."""
    src = expected(data.draw(any_filings(pid)))
    with tempfile.TemporaryDirectory() as d:
        out = build(Path(d) / "filled.xlsx", src)
        assert not_kept(src, out) == []
        got, _notes = read_workbook_ex(out)
        assert plain(got) == plain(src)


def test_round_trip_keeps_every_sort_of_text(tmp_path):
    """Widths and scripts a unit may paste: full-width, ideographic spaces, line breaks."""
    src = load_filing(PROJECT_EXAMPLE)
    odd = "　全角ＡＢＣ１２３％　（括号）“引号”\n第二行\t制表 =SUM(A1) 'x' <b>&amp;"
    src = src.model_copy(update={"goal_expected": odd.strip(), "goal_actual": "=1+1"})
    check_round_trip(build(tmp_path / "text.xlsx", src), src)


@pytest.mark.office
@pytest.mark.parametrize("example", [PROJECT_EXAMPLE, WUHAN_EXAMPLE], ids=["project", "dept"])
def test_saved_by_libreoffice_reads_back_equal(office, tmp_path, example):  # noqa: F811
    src = load_filing(example)
    filled = build(tmp_path / "filled.xlsx", src)
    resaved = office.resave(filled, tmp_path / "resaved.xlsx")
    assert resaved.read_bytes() != filled.read_bytes()
    check_round_trip(resaved, src)


@pytest.mark.office
@pytest.mark.parametrize("pid", PROFILES)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_filings_survive_libreoffice(office, pid, data):  # noqa: F811
    """Generated filings, recalculated by LibreOffice's own engine."""
    src = data.draw(any_filings(pid))
    with tempfile.TemporaryDirectory() as d:
        filled = build(Path(d) / "filled.xlsx", src)
        check_round_trip(office.resave(filled, Path(d) / "resaved.xlsx"), src)
