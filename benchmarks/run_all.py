"""Run every benchmark in this folder, one after another, printing their figures.

Run: python benchmarks/run_all.py [--n N]
`--n` (or PERFXL_BENCH_N) sets the number of returns of the bureau-scale benchmark
(bench_scale.py, default 10,000: about 8 minutes on 2 cores); 1000 makes a quick run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=None, help="bench_scale.py 的份数（默认 10000）")
args = ap.parse_args()
env = dict(os.environ)
if args.n is not None:
    env["PERFXL_BENCH_N"] = str(args.n)
here = Path(__file__).resolve().parent
failed = 0
for bench in sorted(here.glob("bench_*.py")):
    print(f"== {bench.name}", flush=True)
    failed |= subprocess.call([sys.executable, str(bench)], env=env)
sys.exit(failed)
