"""The one pipeline from a file to its verdict: `perfxl check`, the 评分 button, `perfxl
report`, the demo and a collection round all call `check_path`, so they cannot disagree.

    file ──► read (workbook: cells as the workbook holds them; or YAML/JSON data)
         ──► integrity facts (formulas present, cached results, error values)
         ──► score (perfxl.scoring, from perfxl.score_rules)
         ──► every rule of the catalogue (perfxl.rules) ──► Report

A file that cannot be used at all gives a Report with its problems (each with the integrity
rule it fails, when it is a workbook), never an exception for an input error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .findings import InputProblem, Report
from .model import Filing
from .profile import Profile, load_profile
from .scoring import ScoreResult

REFUSED_WORKBOOK_SUFFIXES = (".xls", ".et")  # refused, with the integrity rule's code
FILE = "INTEG-FILE"  # a refusal that names no other rule: the file itself


@dataclass
class Checked:
    """A file's verdict, and what it was reached on (None when the file was refused)."""

    report: Report
    filing: Filing | None = None  # as checked: stale cached results replaced by recomputation
    profile: Profile | None = None
    result: ScoreResult | None = None


def check_path(
    path: Path,
    profile_id: str | Profile | None = None,
    context: object | None = None,
    *,
    file: str | None = None,
) -> Checked:
    """Read, inspect, score and check one file (a filled workbook or YAML/JSON data).

    `profile_id` names the profile (or is one) when the file's own is not to be used;
    `context` is a perfxl.rules.Context (budget data, approved targets); `file` is the name
    the report shows (default: the path)."""
    from .filing_io import WORKBOOK_SUFFIXES, load_filing
    from .rules import Context, check
    from .scoring import score

    shown = file or str(path)
    ctx = context if isinstance(context, Context) else Context()
    suffix = path.suffix.lower()
    workbook = suffix in WORKBOOK_SUFFIXES
    try:
        profile = (
            profile_id
            if isinstance(profile_id, Profile)
            else load_profile(profile_id)
            if profile_id
            else None
        )
        if workbook:
            from .workbook.facts import inspect_package
            from .workbook.guard import open_package
            from .workbook.read import read_package

            pkg = open_package(path)  # opened once: read and inspected
            try:
                filing, notes = read_package(pkg, profile)
                profile = profile or load_profile(filing.profile)
                filing, facts = inspect_package(pkg, filing, profile, notes)
            finally:
                pkg.zip.close()
            ctx = replace(ctx, workbook=facts)
        else:
            filing = load_filing(path)
            profile = profile or load_profile(filing.profile)
    except InputError as exc:
        coded = workbook or suffix in REFUSED_WORKBOOK_SUFFIXES
        problems = [
            InputProblem(p.place, p.message, (p.code or FILE) if coded else None)
            for p in exc.problems
        ]
        return Checked(Report(file=shown, problems=problems))
    result = score(filing, profile)
    report = check(filing, profile, ctx, file=shown, result=result)
    return Checked(report, filing, profile, result)


def check_file(path: Path, profile_id: str | None = None, context: object | None = None) -> Report:
    """The verdict on one file (check_path's report)."""
    return check_path(Path(path), profile_id, context).report
