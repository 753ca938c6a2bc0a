"""Run every benchmark in this folder, one after another, printing their figures.

Run: python benchmarks/run_all.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for bench in sorted(here.glob("bench_*.py")):
    print(f"== {bench.name}", flush=True)
    failed |= subprocess.call([sys.executable, str(bench)])
sys.exit(failed)
