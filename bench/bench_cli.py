"""How fast the command line answers: `--help`, `cases`, `prompt`, `check --help`.

Each command runs as a fresh process (what a user's shell does) `--runs` times; printed
per command: the median and the best wall time, and which heavy packages the process
imported (read from `python -X importtime`): pandapower, PySide6 (Qt), llama_cpp, casadi.

    .venv/bin/python bench/bench_cli.py                 # this checkout
    .venv/bin/python bench/bench_cli.py --before REV    # also a git revision, side by side

`--before REV` checks REV out into a temporary git worktree and times it with the same
interpreter, so the two columns differ only by the code.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandapower", "PySide6", "llama_cpp", "casadi")
COMMANDS = [["--help"], ["cases"], ["prompt", "case14", "--out", "line:3"],
            ["check", "--help"]]


def _env(repo: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(repo), "QT_QPA_PLATFORM": "offscreen"}


def _argv(args: list[str]) -> list[str]:
    code = "import sys; from n1studio.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, *args]


def time_command(repo: Path, args: list[str], runs: int) -> list[float] | None:
    """Wall times of `runs` runs; None when the command does not exist there (exit 2)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rc = subprocess.run(_argv(args), cwd=repo, env=_env(repo), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False).returncode
        out.append(time.perf_counter() - t0)
        if rc == 2:
            return None
    return out


def time_bare() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=False)
    return time.perf_counter() - t0


def heavy_imports(repo: Path, args: list[str]) -> list[str]:
    """The heavy top-level packages the command imports (from -X importtime)."""
    argv = _argv(args)
    argv.insert(1, "-X")
    argv.insert(2, "importtime")
    res = subprocess.run(argv, cwd=repo, env=_env(repo), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=False)
    seen = set()
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            top = name.split(".")[0]
            if top in HEAVY:
                seen.add(top)
    return sorted(seen)


def measure(repo: Path, runs: int) -> dict[str, tuple[float, float, list[str]]]:
    out = {}
    for args in COMMANDS:
        times = time_command(repo, args, runs)
        if times is None:
            out[" ".join(args)] = None
            continue
        out[" ".join(args)] = (statistics.median(times), min(times), heavy_imports(repo, args))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--before", metavar="REV", help="also time this git revision")
    args = ap.parse_args()
    print(f"# n1studio command line, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; median (best) of {args.runs} runs, seconds")
    cols = {"now": measure(ROOT, args.runs)}
    if args.before:
        with tempfile.TemporaryDirectory() as tmp:
            wt = Path(tmp) / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(wt),
                            args.before], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            try:
                cols = {f"before ({args.before})": measure(wt, args.runs), **cols}
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(wt)], check=False)
    bare = [time_bare() for _ in range(args.runs)]
    print(f"bare interpreter (python -c pass): {statistics.median(bare):.2f} "
          f"({min(bare):.2f}) s; the floor under every figure below")
    names = list(cols)
    print(f"{'command':<28}" + "".join(f"{n:>34}" for n in names))
    for cmd in cols["now"]:
        cells = []
        for n in names:
            if cols[n].get(cmd) is None:
                cells.append("(no such command)")
                continue
            med, best, heavy = cols[n][cmd]
            cells.append(f"{med:6.2f} ({best:4.2f}) {','.join(heavy) or '-':>20}")
        print(f"n1studio {cmd:<19}" + "".join(f"{c:>34}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
