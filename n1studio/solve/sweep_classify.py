"""Classifying solved post-outage states against the grid's limits (used by the N-1 sweep).

Limits are the checker's: ``vmin``/``vmax`` per energised bus and the MVA rating at both
branch ends (`GridModel`), with the checker's tolerances (`grid.tolerances.Tolerances`:
``vm_pu``, ``thermal_rel`` and ``thermal_mva``), so a sweep's ``violations`` and a verdict
on the same state name the same elements.
"""

from __future__ import annotations

import numpy as np

from n1studio.grid.model import GridModel
from n1studio.grid.tolerances import Tolerances


def result(el: str, status: str, violations=(), islanded_buses=(),
           lost_load_mw: float | None = None, tripped=()) -> dict:
    """One outage's result document (``n1studio.sweep/1``); ``tripped`` names the units
    the outage takes out with it (grid/topology.py)."""
    r = {"element": el, "status": status, "islanded_buses": list(islanded_buses),
         "violations": list(violations), "tripped": list(tripped)}
    if lost_load_mw is not None:
        r["lost_load_mw"] = round(float(lost_load_mw), 4)
    return r


def diverged(el: str, reason: str, islanded_buses=()) -> dict:
    r = result(el, "diverged", islanded_buses=islanded_buses)
    r["reason"] = reason
    return r


class Limits:
    """The checker's limits on the base model, arranged for vectorised classification."""

    def __init__(self, model: GridModel, tolerances: Tolerances, all_violations: bool = False):
        self.model = model
        self.tol = tolerances
        self.all_violations = all_violations
        named = np.array([bool(n) for n in model.bus_names], dtype=bool)
        # buses cut off in the base case are not solved, so they have no voltage to judge
        self.bus_rows = np.flatnonzero(model.energised() & named)
        self.vmin = model.vmin[self.bus_rows]
        self.vmax = model.vmax[self.bus_rows]
        self.bus_names = [model.bus_names[k] for k in self.bus_rows]
        rate = model.rate * model.base_mva
        self.rated = np.flatnonzero(np.isfinite(rate) & model.branch_on)
        self.rate_mva = rate[self.rated]
        self.branch_names = [model.branch_names[k] for k in self.rated]
        # what each kind of excess may reach before it is a violation (the checker's rule:
        # |S| <= rate (1 + thermal_rel) + thermal_mva)
        self.tols = (tolerances.vm_pu, tolerances.vm_pu,
                     self.rate_mva * tolerances.thermal_rel + tolerances.thermal_mva)
        # the base case's cut-off buses: every outage that splits nothing leaves them cut off
        self.cut_buses = [n for n, c in zip(model.bus_names, model.cut_off(), strict=True)
                          if c and n]
        self.base = None  # base-case excess per limit, set by set_base

    def set_base(self, vm0: np.ndarray, smax0: np.ndarray | None) -> list[dict]:
        """Remember the base case's state; return every violation it already has."""
        ex = self._excess(vm0[None, :], None if smax0 is None else smax0[None, :])
        self.base = tuple(np.maximum(e[0], 0.0) for e in ex)
        return self.classify(vm0[None, :], None if smax0 is None else smax0[None, :],
                             against_base=False)[0][0]

    def _excess(self, vm, smax):
        """Per state and limit: how far beyond the limit (pu for voltages, MVA for ratings)."""
        lo = np.where(vm > 0, self.vmin - vm, -np.inf)
        hi = vm - self.vmax
        th = (smax - self.rate_mva) if smax is not None else np.zeros((len(vm), 0))
        return lo, hi, th

    def classify(self, vm: np.ndarray, smax: np.ndarray | None,
                 against_base: bool = True) -> list[tuple[list[dict], int]]:
        """Per row of solved states: (violations to list, number of pre-existing ones).

        vm is rows x bus_rows (pu), smax rows x rated branches (MVA). A violation is listed
        when it is new or worse than in the base case by more than the tolerance (unless
        `all_violations`); the others are only counted, the base case lists them once.
        """
        lo, hi, th = self._excess(vm, smax)
        violated = [e > t for e, t in zip((lo, hi, th), self.tols, strict=True)]
        if against_base and self.base is not None and not self.all_violations:
            listed = [e > t + b[None, :]
                      for e, t, b in zip((lo, hi, th), self.tols, self.base, strict=True)]
        else:
            listed = violated
        n_viol = sum(v.sum(axis=1) for v in violated)
        n_list = sum(v.sum(axis=1) for v in listed)
        out: list[tuple[list[dict], int]] = [([], int(nv - nl))
                                             for nv, nl in zip(n_viol, n_list, strict=True)]
        for kind, mask in zip(("lo", "hi", "th"), listed, strict=True):
            rows, cols = np.nonzero(mask)
            if not len(rows):
                continue
            if kind == "th":
                val = np.round(smax[rows, cols], 3).tolist()
                lim = self.rate_mva[cols].tolist()
                exc = np.round(smax[rows, cols] - self.rate_mva[cols], 3).tolist()
                names = self.branch_names
                con = "thermal"
            else:
                v = vm[rows, cols]
                limv = (self.vmin if kind == "lo" else self.vmax)[cols]
                val = np.round(v, 5).tolist()
                lim = limv.tolist()
                exc = np.round(np.abs(v - limv), 5).tolist()
                names = self.bus_names
                con = "voltage"
            for r, c, va, li, ex in zip(rows.tolist(), cols.tolist(), val, lim, exc,
                                         strict=True):
                out[r][0].append({"constraint": con, "element": names[c], "value": va,
                                  "limit": li, "excess": ex})
        return out

    def results(self, elements: list[str], vm: np.ndarray, smax: np.ndarray | None) -> list[dict]:
        """Result documents for solved outages that split nothing, one per row."""
        cls = self.classify(vm, smax)
        lo = np.where(vm > 0, vm, np.inf).min(axis=1)
        hi = vm.max(axis=1)
        out = []
        for k, el in enumerate(elements):
            viol, pre = cls[k]
            r = result(el, "violations" if viol else "ok", viol, islanded_buses=self.cut_buses)
            r["pre_existing_violations"] = pre
            r["min_vm_pu"] = round(float(lo[k]), 5)
            r["max_vm_pu"] = round(float(hi[k]), 5)
            out.append(r)
        return out
