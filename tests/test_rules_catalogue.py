"""The catalogue as a whole: stable codes, a test per rule, live checks that compile."""

import re
from pathlib import Path

import pytest

from perfxl.expr import EXCEL_FUNCTIONS, MAX_FORMULA_CHARS
from perfxl.findings import Scope, Severity
from perfxl.profile import load_profile, load_profile_file, shipped_profiles
from perfxl.rules import BY_CODE, CATALOGUE, live_checks

HERE = Path(__file__).parent
PROFILES = [load_profile(p) for p in shipped_profiles()] + [
    load_profile_file(HERE / "fixtures" / "dept-variant.yaml")
]


def test_codes_are_stable_and_unique():
    codes = [r.code for r in CATALOGUE]
    assert len(set(codes)) == len(codes)
    for r in CATALOGUE:
        assert re.fullmatch(r"(COMP|VAL|ARITH|XT|EXT|INTEG)(-[A-Z0-9]+)+", r.code), r.code
        assert isinstance(r.severity, Severity) and isinstance(r.scope, Scope)
        assert (r.formulas is None) != (r.check is None), "a rule is a formula or a check"
        assert r.title and r.applies


def test_every_rule_has_a_test_that_names_it():
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in [*HERE.glob("test_rules_*.py"), HERE / "test_integrity.py"]
        if p.name != "test_rules_catalogue.py"
    )
    untested = [r.code for r in CATALOGUE if f'"{r.code}"' not in text]
    assert untested == []


def _ref(path: str) -> str:
    return "pf_" + re.sub(r"\W", "_", path)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.id)
def test_live_checks_compile_to_whitelisted_formulas(profile):
    checks = live_checks(profile)
    assert checks
    for lc in checks:
        rule = BY_CODE[lc.code]
        assert rule.live and rule.applies_to(profile)
        text = lc.excel(_ref)
        assert text.startswith("=") and len(text) <= MAX_FORMULA_CHARS
        called = set(re.findall(r"([A-Z][A-Z.]*)\(", re.sub(r'"(?:[^"]|"")*"', '""', text)))
        assert called <= EXCEL_FUNCTIONS, (lc.code, called - EXCEL_FUNCTIONS)
        assert "{" not in lc.message and "}" not in lc.message, lc.message
        assert lc.per_row in (None, "indicator", "project", "income", "subtotal", "count")
        assert lc.paths and all(isinstance(p, str) for p in lc.paths)
        if lc.per_row is None:
            assert not any(p.startswith("row.") for p in lc.paths)
        assert lc.excel(_ref) == text  # deterministic: templates are compared byte by byte


def test_live_checks_follow_the_profile():
    project = {lc.code for lc in live_checks(load_profile("project-2020"))}
    hubei = {lc.code for lc in live_checks(load_profile("dept-hubei"))}
    assert "ARITH-EXEC-SCORE" in project and "ARITH-EXEC-SCORE" not in hubei
    assert "XT-SHARES" in hubei and "XT-SHARES" not in project
    assert "ARITH-EXEC-CAP" not in project  # the national profile sets no caps


def test_the_documentation_lists_every_rule():
    doc = (HERE.parent / "docs" / "checks.md").read_text(encoding="utf-8")
    assert [r.code for r in CATALOGUE if f"`{r.code}`" not in doc] == []
