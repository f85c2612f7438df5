"""The budget of one solve, shared by every solver: the AC OPF (Ipopt iterations and wall
time), the DC OPF (HiGHS's time limit) and the nearest feasible point. `--max-iter` and
`--time-limit` override it per command, N1STUDIO_OPF_MAX_ITER / N1STUDIO_OPF_TIME_LIMIT_S
per environment.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def _env_number(name: str, default: float, cast=float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = cast(text)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, text, default)
        return default
    if not value > 0:
        log.warning("%s=%r must be positive; using %s", name, text, default)
        return default
    return value


# The budget of one solve. 1000 iterations is Ipopt's own default; every PGLib case and
# every solvable built-in case converges in far fewer here (bench/bench_opf.py), so a run
# still going has lost its way (pandapower's case300, whose data has no feasible point,
# uses them all in ~25 s). 300 s leaves room for case9241pegase on 2 cores.
DEFAULT_MAX_ITER: int = int(_env_number("N1STUDIO_OPF_MAX_ITER", 1000, int))
DEFAULT_TIME_LIMIT_S: float = _env_number("N1STUDIO_OPF_TIME_LIMIT_S", 300.0)
