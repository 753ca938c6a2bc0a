"""The ``office`` fixture: one real headless LibreOffice per test module.

Locally a missing LibreOffice skips the tests with the reason; under CI (``CI=true``) it fails
them, because there scripts/setup-system.sh must have run and a skip would hide that.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from perfxl.office import UNO_PYTHON, Office, find_soffice


def office_missing() -> str | None:
    """Why LibreOffice cannot run here, or None if it can."""
    if find_soffice() is None:
        return "未找到 LibreOffice（soffice）(soffice not found)"
    try:
        subprocess.run([UNO_PYTHON, "-c", "import uno"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return f"{UNO_PYTHON} 无法 import uno (python3-uno missing)"
    return None


def require_office() -> None:
    """Skip locally, fail loudly under CI, when LibreOffice is not installed."""
    reason = office_missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason}; CI must run scripts/setup-system.sh first", pytrace=False)
    pytest.skip(f"{reason}; run scripts/setup-system.sh to enable office tests")


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    require_office()
    with Office(timeout=60) as o:
        yield o
