#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# System packages (LibreOffice headless, a CJK font) come from scripts/setup-system.sh;
# Python packages go into .venv. Safe to run again: what is there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "perfxl 需要 Python 3.11 或更高版本")'
if [ -f scripts/setup-system.sh ]; then
  bash scripts/setup-system.sh
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check perfxl tests benchmarks
.venv/bin/ruff format --check -q perfxl tests benchmarks
exec .venv/bin/python -m pytest -q "$@"
