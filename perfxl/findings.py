"""Findings of the checks (审核) and the per-file report that collects them.

A finding names a stable rule code, a severity (强制性 must be fixed, 提示性 may stand
with a written explanation), the model field path it concerns and, when the filing was
read from a workbook, the sheet, cell and defined name, so the same finding can be shown
in a terminal, written to JSON or marked in an annotated copy. Every failure is collected,
not only the first, and the report says for each rule whether it passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

JSON_FORMAT = "perfxl-check/1"


class Severity(Enum):
    BLOCKING = "强制性"
    WARNING = "提示性"

    @property
    def token(self) -> str:
        return self.name.lower()


class Scope(Enum):
    TABLE = "表内"
    CROSS = "表间"
    EXTERNAL = "外部数据"

    @property
    def token(self) -> str:
        return {"TABLE": "table", "CROSS": "cross_table", "EXTERNAL": "external"}[self.name]


class Status(Enum):
    PASSED = "通过"
    FAILED = "未通过"
    NOT_APPLICABLE = "不适用"
    EXPLAINED = "已说明"

    @property
    def token(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One failed check at one place. Numbers are exact decimal strings."""

    code: str
    severity: Severity
    message: str
    path: str
    scope: Scope = Scope.TABLE
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None
    expected: str | None = None
    actual: str | None = None
    explained: bool = False  # a warning the filing explains (已说明)

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCKING

    def location(self) -> str:
        """sheet!cell when read from a workbook, else the field path."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.cell or self.name or self.path

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "code": self.code,
            "severity": self.severity.token,
            "scope": self.scope.token,
            "sheet": self.sheet,
            "cell": self.cell,
            "name": self.name,
            "path": self.path,
            "expected": self.expected,
            "actual": self.actual,
            "explained": self.explained,
            "message": self.message,
        }


@dataclass(frozen=True)
class RuleOutcome:
    code: str
    title: str
    severity: Severity
    scope: Scope
    status: Status

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "severity": self.severity.token,
            "scope": self.scope.token,
            "status": self.status.token,
        }


@dataclass(frozen=True)
class InputProblem:
    place: str
    message: str
    code: str | None = None  # the integrity rule a workbook refusal belongs to (INTEG-FILE…)


@dataclass
class Report:
    """The checks of one file. An unusable file has `problems` and no outcomes."""

    file: str
    profile: str | None = None
    profile_version: str | None = None
    title: str | None = None  # 项目名称 / 单位名称
    year: int | None = None
    findings: list[Finding] = field(default_factory=list)
    outcomes: list[RuleOutcome] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems

    @property
    def valid(self) -> bool:
        """No blocking finding (and the file could be read)."""
        return self.usable and not any(f.blocking for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking and not f.explained]

    @property
    def explained(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocking and f.explained]

    def status(self, code: str) -> Status | None:
        for o in self.outcomes:
            if o.code == code:
                return o.status
        return None

    def flatten(
        self, fields: Sequence[str], *, severity: Severity | None = None
    ) -> list[list[Any]]:
        """Chosen attributes of each finding, for tests: [["ARITH-FUND-SUM", "funds..."]].

        Enum values are given as their Chinese value ("强制性")."""
        rows = []
        for f in self.findings:
            if severity is not None and f.severity is not severity:
                continue
            row = []
            for name in fields:
                v = getattr(f, name)
                row.append(v.value if isinstance(v, Enum) else v)
            rows.append(row)
        return rows

    def summary(self) -> dict[str, int]:
        return {
            "blocking": len(self.errors),
            "warning": len(self.warnings),
            "explained": len(self.explained),
        }

    def to_json(self) -> dict[str, Any]:
        """One object per file; the schema is documented in docs/checks.md."""
        return {
            "file": self.file,
            "usable": self.usable,
            "valid": self.valid,
            "profile": self.profile,
            "profile_version": self.profile_version,
            "title": self.title,
            "year": self.year,
            "summary": self.summary(),
            "problems": [
                {"place": p.place, "message": p.message, "code": p.code} for p in self.problems
            ],
            "findings": [f.to_json() for f in self.findings],
            "rules": [o.to_json() for o in self.outcomes],
        }


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def check_json_schema() -> dict[str, Any]:
    """JSON Schema of `perfxl check --format json` (documented in docs/checks.md)."""
    severity = {"enum": [s.token for s in Severity]}
    scope = {"enum": [s.token for s in Scope]}
    counts = {
        "type": "object",
        "required": ["blocking", "warning", "explained"],
        "properties": {k: {"type": "integer"} for k in ("blocking", "warning", "explained")},
    }
    finding = {
        "type": "object",
        "additionalProperties": False,
        "required": list(Finding("", Severity.WARNING, "", "").to_json()),
        "properties": {
            "file": _nullable("string"),
            "code": {"type": "string"},
            "severity": severity,
            "scope": scope,
            "sheet": _nullable("string"),
            "cell": _nullable("string"),
            "name": _nullable("string"),
            "path": {"type": "string"},
            "expected": _nullable("string"),
            "actual": _nullable("string"),
            "explained": {"type": "boolean"},
            "message": {"type": "string"},
        },
    }
    rule = {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "title", "severity", "scope", "status"],
        "properties": {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "severity": severity,
            "scope": scope,
            "status": {"enum": [s.token for s in Status]},
        },
    }
    file = {
        "type": "object",
        "additionalProperties": False,
        "required": list(Report(file="").to_json()),
        "properties": {
            "file": {"type": "string"},
            "usable": {"type": "boolean"},
            "valid": {"type": "boolean"},
            "profile": _nullable("string"),
            "profile_version": _nullable("string"),
            "title": _nullable("string"),
            "year": _nullable("integer"),
            "summary": counts,
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["place", "message"],
                    "properties": {
                        "place": {"type": "string"},
                        "message": {"type": "string"},
                        "code": _nullable("string"),
                    },
                },
            },
            "findings": {"type": "array", "items": finding},
            "rules": {"type": "array", "items": rule},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:perfxl:check:1",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "valid", "summary", "files"],
        "properties": {
            "format": {"const": JSON_FORMAT},
            "valid": {"type": "boolean"},
            "summary": {
                **counts,
                "required": ["files", "unusable", "blocking", "warning", "explained"],
                "properties": {
                    **counts["properties"],
                    "files": {"type": "integer"},
                    "unusable": {"type": "integer"},
                },
            },
            "files": {"type": "array", "items": file},
        },
    }


def reports_json(reports: Sequence[Report]) -> dict[str, Any]:
    """The document `perfxl check --format json` prints."""
    total = {"blocking": 0, "warning": 0, "explained": 0}
    for r in reports:
        for k, v in r.summary().items():
            total[k] += v
    return {
        "format": JSON_FORMAT,
        "valid": all(r.valid for r in reports),
        "summary": {
            "files": len(reports),
            "unusable": sum(1 for r in reports if not r.usable),
            **total,
        },
        "files": [r.to_json() for r in reports],
    }
