"""The long run of issue 10's case-file fuzzing: N mutated case files (default 200).

Made from PGLib case14/case30 .m files and pandapower's case14 saved as JSON (the mutations
of tests/grid/case_mutations.py: NaN/Inf/0/negative/fractional/text/400-digit cells, limits
swapped, no reference bus, rows and numbers deleted or duplicated, tables dropped,
truncation, stray characters). Each file is opened, its islands found and, when it loads,
its AC OPF solved (any status). Prints the outcome counts, every crash (an exception that
is not a one-line N1Error), every hang (over --hang seconds, interrupted by SIGALRM), lines
printed by CasADi/Ipopt, the slowest files and the most frequent refusals.
Run: .venv/bin/python bench/bench_fuzz_cases.py [--n 200] [--seed 1] [--hang 30]
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from n1studio.resources import resource
from tests.grid.case_mutations import fuzz_files, outcome

REPO = Path(__file__).resolve().parents[1]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run_one(path: Path, hang_s: int, scratch: Path) -> tuple[str, str, float, int]:
    """(kind, detail, seconds, lines printed on stdout/stderr by C code or Python)."""
    out = scratch / "fd.txt"
    saved = os.dup(1), os.dup(2)
    with open(out, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        signal.alarm(hang_s)
        t0 = time.perf_counter()
        try:
            kind, detail = outcome(path)
        except Hang:
            kind, detail = "hang", f"over {hang_s} s"
        finally:
            dt = time.perf_counter() - t0
            signal.alarm(0)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    printed = [ln for ln in out.read_text(errors="replace").splitlines() if ln.strip()]
    return kind, detail, dt, len(printed)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hang", type=int, default=30)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # the rateA = 0 warnings are expected output
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = fuzz_files(folder, resource("pglib"), args.n, args.seed)
        print(f"{len(files)} mutated case files (seed {args.seed}) made in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        rows = []
        for path, what in files:
            kind, detail, dt, printed = run_one(path, args.hang, folder)
            rows.append((path.name, what, kind, detail, dt, printed))
    counts = collections.Counter(r[2] for r in rows)
    statuses = collections.Counter(r[3] for r in rows if r[2] == "ok")
    total = sum(r[4] for r in rows)
    print(f"outcomes: {dict(counts)}; solved statuses: {dict(statuses)}")
    print(f"time: {total:.1f} s in all, median {sorted(r[4] for r in rows)[len(rows) // 2]:.3f} s")
    noisy = [r for r in rows if r[5]]
    print(f"files with printed output (CasADi/Ipopt/warnings): {len(noisy)}")
    for r in noisy[:10]:
        print(f"  {r[0]} ({r[1]}): {r[5]} lines")
    crashes = [r for r in rows if r[2] == "crash"]
    print(f"crashes: {len(crashes)}")
    for r in crashes:
        last = [ln for ln in r[3].strip().splitlines() if ln.strip()][-1]
        print(f"  {r[0]} ({r[1]}): {last}")
    hangs = [r for r in rows if r[2] == "hang"]
    print(f"hangs (> {args.hang} s): {len(hangs)}")
    for r in hangs:
        print(f"  {r[0]} ({r[1]})")
    print("slowest:")
    for r in sorted(rows, key=lambda r: -r[4])[:5]:
        print(f"  {r[4]:7.3f} s  {r[0]} ({r[1]}) -> {r[2]}: {r[3][:90]}")
    kinds = collections.Counter(re.sub(r"\d+(\.\d+)?", "N", r[3].split(": ", 1)[-1])[:70]
                                for r in rows if r[2] == "refused")
    print("most frequent refusals:")
    for text, n in kinds.most_common(8):
        print(f"  {n:4d}  {text}")
    return 1 if crashes or hangs else 0


if __name__ == "__main__":
    sys.exit(main())
