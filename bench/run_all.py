"""Run every benchmark in turn and print their figures (`make bench`).

Each bench prints its own table with the baseline it compares against. Timing figures
depend on the machine: note `nproc` and the load when you copy them into the README.
Pass `--quick` for a shorter run (the LLM bench skips the slow plain-grammar baseline).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_opf.py", "bench_check.py", "bench_sweep.py", "bench_gui.py", "bench_llm.py"]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    print(f"# N-1 Studio benchmarks — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    failed = []
    for name in BENCHES:
        args = [sys.executable, str(HERE / name)]
        if quick and name == "bench_llm.py":
            args.append("--quick")
        print(f"\n## {name}\n", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(args, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        print(f"({name}: {time.perf_counter() - t0:.0f} s, exit {rc})", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
