"""Issue 19's hostile case inputs, the long runs: what a user sees for each class, and
the figures behind the README's reliability section.

1. The MATPOWER reader on every PGLib file: parse time (best of 5) and table sizes; with
   `--matpowercaseframes`, the ecosystem reader's tables beside ours (it must be
   installed: pip install matpowercaseframes) on the PGLib files and the hostile set.
2. Each hostile class (made from PGLib case14 as tests/grid/test_matpower_hostile.py does)
   through `n1studio solve`: exit code, the first line on stderr, seconds.
3. Bus ids near 2^31: `solve` of case14 renumbered, seconds and peak memory (a child process).
4. The time limit on a large DC OPF: case9241pegase with and without --time-limit.

Run: .venv/bin/python bench/bench_hostile_cases.py [--skip-large] [--matpowercaseframes]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from n1studio.cli import main
from n1studio.grid.matpower import read_matpower
from tests.conftest import PGLIB
from tests.grid import case_mutations as cm

REPO = Path(__file__).resolve().parents[1]


def parse_times() -> None:
    print("== MATPOWER reader: best of 5 per PGLib file ==")
    for path in sorted(PGLIB.glob("pglib_opf_*.m")):
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            ppc = read_matpower(path)
            best = min(best, time.perf_counter() - t0)
        sizes = " ".join(f"{t}={len(ppc[t])}" for t in ("bus", "gen", "branch", "gencost"))
        print(f"  {path.stem:30s} {path.stat().st_size / 1e3:8.0f} kB  {best * 1e3:7.1f} ms  "
              f"{sizes}")


def hostile_files(folder: Path) -> dict[str, Path]:
    """One file per hostile class, from PGLib case14."""
    text = (PGLIB / "pglib_opf_case14_ieee.m").read_text()
    branch_row = text.index("\t1\t 5\t 0.05403")
    eol = text.index("\n", branch_row)
    cases = {
        "commented-out gencost after the real one": text + "\n% mpc.gencost = [\n%\t2 0 0 3 "
        "100 9000 0;\n% ];\n",
        "comment holding ]; inside mpc.branch": text[:eol] + " % ]; ] ;" + text[eol:],
        "block comment hiding a branch row": text.replace(
            "mpc.branch = [\n", "mpc.branch = [\n%{\n\t1\t 3\t 0.1\t 0.2\t 0\t 0\t 0\t 0\t 0\t 0"
            "\t 1\t -30\t 30;\n%}\n", 1),
        "table ended early, rows after it": text.replace("\t2\t 4\t 0.05811",
                                                         "];\n\t2\t 4\t 0.05811", 1),
        "second mpc.gencost": text + "\nmpc.gencost = [2 0 0 3 0 1 0];\n",
        "code changing mpc.branch": text + "\nmpc.branch(:, 6) = 0;\n",
        "cut mid-table (truncated)": text[:text.index("mpc.branch = [") + 200],
        "cut between tables": text[:text.index("%% generator cost data")],
        "PD = 1e300": cm.set_cell(text, "bus", 2, cm.PD, "1e300"),
        "BR_R = BR_X = 1e-300": cm.set_cell(cm.set_cell(text, "branch", 6, cm.BR_R, "1e-300"),
                                            "branch", 6, cm.BR_X, "1e-300"),
    }
    out = {}
    for k, (name, body) in enumerate(cases.items()):
        out[name] = folder / f"hostile_{k}.m"
        out[name].write_text(body)
    for enc in ("utf-16", "utf-16-le"):
        out[f"{enc} text"] = folder / f"hostile_{enc}.m"
        out[f"{enc} text"].write_bytes(text.encode(enc))
    return out


def _cost_line(stdout: str) -> str:
    return next((ln.strip() for ln in stdout.splitlines() if "$/h" in ln), "")


def solve_line(path: Path, *args: str) -> tuple[int, str, float]:
    """Exit code, the first stderr line (else the cost line of stdout), seconds."""
    err, out = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["solve", str(path), *args])
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    return code, (lines[0] if lines else _cost_line(out.getvalue())), time.perf_counter() - t0


def hostile_outcomes(folder: Path) -> None:
    print("== hostile classes through `n1studio solve` (exit code, first stderr line) ==")
    for name, path in hostile_files(folder).items():
        code, line, dt = solve_line(path)
        print(f"  {name:42s} exit {code}  {dt:5.1f} s  {line[:150]}")


def big_ids(folder: Path) -> None:
    print("== case14 with bus ids near 2^31 (a child process) ==")
    text = (PGLIB / "pglib_opf_case14_ieee.m").read_text()
    path = folder / "big_ids.m"
    path.write_text(cm.renumber_buses(text, 2**31 - 20))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "n1studio.cli", "solve", str(path)], cwd=REPO,
                         capture_output=True, text=True, check=False)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  exit {out.returncode}  {time.perf_counter() - t0:.1f} s  peak {peak:.0f} MB  "
          f"{_cost_line(out.stdout) or out.stderr.strip()[:120]}")


def dc_time_limit() -> None:
    print("== DC OPF of case9241pegase: --time-limit honoured ==")
    for args in ((), ("--time-limit", "1"), ("--time-limit", "0.2")):
        code, line, dt = solve_line(Path("case9241pegase"), "--dc", *args)
        print(f"  {' '.join(args) or '(default 300 s)':18s} exit {code}  {dt:6.1f} s  "
              f"{line[:120]}")


def ecosystem(folder: Path) -> None:
    from matpowercaseframes import CaseFrames

    print("== matpowercaseframes beside N-1 Studio's reader (tables equal?) ==")
    files = [*sorted(PGLIB.glob("pglib_opf_*.m")), *hostile_files(folder).values()]
    for path in files:
        try:
            ours = read_matpower(path)
            ours_text = "read"
        except Exception as exc:  # noqa: BLE001 - the comparison reports any outcome
            ours, ours_text = None, f"refused: {str(exc)[:70]}"
        try:
            cf = CaseFrames(str(path))
            theirs = {t: np.asarray(getattr(cf, t), dtype=float) for t in
                      ("bus", "gen", "branch", "gencost")}
            theirs_text = "read"
        except Exception as exc:  # noqa: BLE001
            theirs, theirs_text = None, f"error: {type(exc).__name__}"
        same = ""
        if ours is not None and theirs is not None:
            same = "same" if all(np.array_equal(ours[t], theirs[t][:, :ours[t].shape[1]])
                                 for t in theirs) else "DIFFERENT GRID"
        print(f"  {path.name:34s} ours: {ours_text:12s} theirs: {theirs_text:20s} {same}")


def run(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--skip-large", action="store_true", help="skip the 9,241-bus DC OPF")
    ap.add_argument("--matpowercaseframes", action="store_true",
                    help="compare with the ecosystem's reader (installed separately)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parse_times()
        hostile_outcomes(folder)
        big_ids(folder)
        if not args.skip_large:
            dc_time_limit()
        if args.matpowercaseframes:
            ecosystem(folder)


if __name__ == "__main__":
    run()
