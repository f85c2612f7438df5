"""The outcome of a reference solve (AC OPF, DC OPF or AC power flow) of one grid variant.

Every solver in `n1studio.solve` returns an `OpfResult` over the arrays of a `GridModel`:
one entry per model bus (`vm`, `va`) and per model generator (`pg`, `qg`), so the checker,
the GUI and the CLI read the same numbers. `answer` turns it into the `n1studio.answer/1`
document that a language model is asked to produce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from n1studio.grid.model import GridModel
from n1studio.schema import make_answer

# Ipopt return statuses -> our short status words.
IPOPT_STATUS = {
    "Solve_Succeeded": "optimal",
    "Solved_To_Acceptable_Level": "acceptable",
    "Infeasible_Problem_Detected": "infeasible",
    "Restoration_Failed": "infeasible",
    "Maximum_Iterations_Exceeded": "iteration_limit",
    "Maximum_CpuTime_Exceeded": "time_limit",
    "Maximum_WallTime_Exceeded": "time_limit",
    "Diverging_Iterates": "diverged",
    "Search_Direction_Becomes_Too_Small": "numerical_error",
    "Error_In_Step_Computation": "numerical_error",
    "Invalid_Number_Detected": "numerical_error",
    "User_Requested_Stop": "cancelled",
}


@dataclass
class OpfResult:
    """A solution of one variant.

    Units: `vm` in pu, `va` in **radians** (per model bus, NaN where the bus was not solved:
    out of service or de-energised); `pg`/`qg` in MW/Mvar per model generator (0 for units
    out of service or de-energised); `objective` in $/h (cost of the dispatch, c0 included).
    `kind` is "ac" (AC OPF), "dc" (DC OPF) or "pf" (AC power flow).
    """

    model: GridModel = field(repr=False)
    kind: str
    status: str
    success: bool
    objective: float
    vm: np.ndarray
    va: np.ndarray
    pg: np.ndarray
    qg: np.ndarray
    solve_time_s: float = 0.0
    build_time_s: float = 0.0
    iterations: int = 0
    message: str = ""
    solved_bus: np.ndarray | None = field(default=None, repr=False)  # mask of buses solved
    warm_started: bool = False
    # Ipopt multipliers (lam_x, lam_g) in the layout of the grid's compiled AC OPF: lets an
    # N-1 solve of the same grid warm-start from this one (acopf.warm_start_from)
    duals: tuple | None = field(default=None, repr=False)

    # ---- views --------------------------------------------------------------------------
    @property
    def va_degree(self) -> np.ndarray:
        return np.rad2deg(self.va)

    @property
    def bus_mask(self) -> np.ndarray:
        """Buses carried in the answer: solved (energised) buses that have a name."""
        solved = self.solved_bus if self.solved_bus is not None else np.isfinite(self.vm)
        return solved & np.array([bool(n) for n in self.model.bus_names], dtype=bool)

    @property
    def gen_mask(self) -> np.ndarray:
        """Generators carried in the answer: in service and on a solved bus."""
        solved = self.solved_bus if self.solved_bus is not None else np.isfinite(self.vm)
        return self.model.gen_on & solved[self.model.gen_bus]

    @property
    def answer(self) -> dict:
        """The `n1studio.answer/1` document of this solution (model order)."""
        m = self.model
        gens = [{"element": m.gen_names[g], "p_mw": self.pg[g], "q_mvar": self.qg[g],
                 "vm_pu": self.vm[m.gen_bus[g]]} for g in np.flatnonzero(self.gen_mask)]
        vad = self.va_degree
        buses = [{"element": m.bus_names[b], "vm_pu": self.vm[b], "va_degree": vad[b]}
                 for b in np.flatnonzero(self.bus_mask)]
        obj = self.objective if math.isfinite(self.objective) else None
        return make_answer(gens, buses, obj)

    def to_dict(self) -> dict:
        """A JSON-able summary (the CLI's --json adds it to the answer document)."""
        return {
            "kind": self.kind, "status": self.status, "success": bool(self.success),
            "objective": _finite(self.objective), "solve_time_s": round(self.solve_time_s, 4),
            "build_time_s": round(self.build_time_s, 4), "iterations": int(self.iterations),
            "message": self.message, "warm_started": self.warm_started,
        }


def _finite(x: float):
    return float(x) if x is not None and math.isfinite(x) else None


def dispatch_cost(model: GridModel, pg_mw: np.ndarray) -> float:
    """Cost in $/h of a dispatch: c2 P^2 + c1 P + c0 over generators in service."""
    on = model.gen_on
    p = np.asarray(pg_mw, dtype=float)[on]
    return float(np.sum(model.c2[on] * p * p + model.c1[on] * p + model.c0[on]))


def empty_result(model: GridModel, kind: str, status: str, message: str) -> OpfResult:
    """A failed result with nothing solved (NaN voltages, zero dispatch)."""
    nb, ng = model.n_bus, len(model.gen_names)
    return OpfResult(model=model, kind=kind, status=status, success=False, objective=math.nan,
                     vm=np.full(nb, np.nan), va=np.full(nb, np.nan), pg=np.zeros(ng),
                     qg=np.zeros(ng), message=message, solved_bus=np.zeros(nb, dtype=bool))
