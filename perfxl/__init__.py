"""perfxl: budget-performance self-evaluation workbooks (预算绩效自评表), exact and checked."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Filing
    from .profile import Profile

__version__ = "0.1.0"


def read(path: str | os.PathLike[str], profile: Profile | None = None) -> Filing:
    """The filing in a filled perfxl workbook (.xlsx/.xlsm); see perfxl.workbook.read.

    Imported lazily, so `import perfxl` stays light.
    """
    from pathlib import Path

    from .workbook.read import read_workbook

    return read_workbook(Path(path), profile)


def collect(*args, **kwargs):  # type: ignore[no-untyped-def]
    """A collection round as pandas DataFrames: ``units, findings = perfxl.collect(returns,
    manifest, output=None, *, profile=None, jobs=None)``; see perfxl.collect.collect.

    Imported lazily (pandas only on this path), so `import perfxl` stays light.
    """
    from .collect import collect as _collect

    return _collect(*args, **kwargs)
