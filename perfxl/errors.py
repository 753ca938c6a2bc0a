"""Errors that reach the user: Chinese, located, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with where it is."""

    file: str
    place: str  # e.g. "第 12 行 indicators[1].weight" or "Sheet1!C7"
    message: str
    code: str | None = None  # the catalogue rule a workbook reading note belongs to

    def __str__(self) -> str:
        where = f"{self.file}" + (f"：{self.place}" if self.place else "")
        return f"{where}：{self.message}"


class InputError(Exception):
    """An input cannot be used. The CLI prints every problem and exits with code 2."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
