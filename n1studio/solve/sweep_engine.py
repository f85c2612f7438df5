"""The fast path of the N-1 sweep: lightsim2grid's C++ contingency analysis.

Branch outages go to `ContingencyAnalysisCPP` all at once (one LSGrid built from the
pandapower net, the base power flow as the warm start); voltages and branch flows of every
contingency are then classified with numpy in chunks (`sweep_classify.Limits`). Generator,
static-generator and load outages are solved one at a time on the same LSGrid
(deactivate, solve, reactivate). Grids lightsim2grid cannot convert faithfully get no
engine (`LsEngine.build` returns None) and the sweep falls back to pandapower.
"""

from __future__ import annotations

import copy
import logging
import warnings

import numpy as np
import pandapower as pp
import pandas as pd
from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP
from lightsim2grid.network import init_from_pandapower

from n1studio.grid.cases import case_label
from n1studio.grid.elements import parse_element
from n1studio.grid.flows import branch_smax_mva
from n1studio.grid.model import GridModel
from n1studio.solve.sweep_classify import Limits, diverged

log = logging.getLogger(__name__)


class LsEngine:
    """One LSGrid of the net, its base AC power flow, and the maps to our element names."""

    def __init__(self, net, model: GridModel, limits: Limits, grid, v0, ls_names,
                 max_iter: int, tol: float, threads: int, chunk_bytes: int):
        self.net, self.model, self.limits = net, model, limits
        self.grid, self.v0 = grid, v0
        self.max_iter, self.tol = max_iter, tol
        self.threads, self.chunk_bytes = threads, chunk_bytes
        sorted_bus = np.sort(net.bus.index.to_numpy())
        named = model.bus_index >= 0
        # ls bus of each model bus (lightsim numbers pandapower buses by sorted index)
        self.ls_of_model = np.zeros(model.n_bus, dtype=int)
        self.ls_of_model[named] = np.searchsorted(sorted_bus, model.bus_index[named])
        self.ls_bus_rows = self.ls_of_model[self.limits.bus_rows]
        self.n_branch = len(ls_names)
        self.branch_id = {n: k for k, n in enumerate(ls_names)}
        self.model_row = {n: r for r, n in enumerate(model.branch_names)}
        # ls branch id of each rated model branch
        self.rated_ls = np.array([self.branch_id[model.branch_names[r]] for r in self.limits.rated],
                                 dtype=int)
        vm0 = np.abs(v0[self.ls_bus_rows])
        self.base_violations = self.limits.set_base(vm0, self._smax_single(v0))

    @classmethod
    def build(cls, net, model: GridModel, limits: Limits, max_iter: int = 20, tol: float = 1e-8,
              threads: int = 1, chunk_bytes: int = 48 << 20) -> LsEngine | None:
        """The engine, or None where lightsim2grid cannot model this grid faithfully."""
        src = ls_source(net)
        if src is None:
            log.info("%s: elements lightsim2grid does not convert; using pandapower",
                     case_label(net))
            return None
        src_net, ls_names = src
        if set(model.branch_names) - set(ls_names):
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                grid = init_from_pandapower(src_net, pp_orig_file="pandapower_v3")
            v0 = grid.ac_pf(np.full(grid.total_bus(), 1.0 + 0j), max_iter, tol)
        except Exception as exc:  # noqa: BLE001 - lightsim2grid raises many kinds on conversion
            log.warning("%s: lightsim2grid failed (%s); using pandapower", case_label(net), exc)
            return None
        if len(v0) == 0:
            log.warning("%s: the base AC power flow does not converge in lightsim2grid",
                        case_label(net))
            return None
        return cls(net, model, limits, grid, v0, ls_names, max_iter, tol, threads,
                   chunk_bytes)

    def _smax_single(self, v_ls: np.ndarray) -> np.ndarray:
        v = np.zeros(self.model.n_bus, dtype=complex)
        v[:] = v_ls[self.ls_of_model]
        rated = self.limits.rated
        return branch_smax_mva(self.model, v, rated) * self.model.branch_on[rated]

    def injection_outage(self, el: str) -> dict:
        """Solve the outage of one gen, sgen or load on the LSGrid, then restore it."""
        e = parse_element(el)
        pos = self.net[e.table].index.get_loc(e.index)
        off = {"gen": self.grid.deactivate_gen, "sgen": self.grid.deactivate_sgen,
               "load": self.grid.deactivate_load}[e.table]
        on = {"gen": self.grid.reactivate_gen, "sgen": self.grid.reactivate_sgen,
              "load": self.grid.reactivate_load}[e.table]
        off(pos)
        try:
            v = self.grid.ac_pf(self.v0.copy(), self.max_iter, self.tol)
        except Exception as exc:  # noqa: BLE001 - the C++ solver raises plain RuntimeErrors and more
            log.info("%s: solver error %s", el, exc)
            v = np.zeros(0)
        finally:
            on(pos)
        if len(v) == 0 or not np.all(np.isfinite(v)):
            return diverged(el, "the AC power flow did not converge", self.limits.cut_buses)
        vm = np.abs(v[self.ls_bus_rows])
        return self.limits.results([el], vm[None, :], self._smax_single(v)[None, :])[0]


def sweep_branches(eng: LsEngine, elements: list[str], step, cancelled) -> dict[str, dict]:
    """Solve the outages of `elements` (branches that split nothing) in chunks.

    `step(n)` reports n more done; `cancelled()` True stops before the next chunk.
    """
    lim = eng.limits
    out: dict[str, dict] = {}
    if not elements:
        return out
    nbr = eng.n_branch
    chunk = max(8, int(eng.chunk_bytes // max(1, nbr * 4 * 8 + len(lim.bus_rows) * 16)))
    ca = ContingencyAnalysisCPP(eng.grid, False)
    ca.nb_thread = max(1, int(eng.threads))
    for start in range(0, len(elements), chunk):
        if cancelled():
            break
        part = elements[start:start + chunk]
        ids = [eng.branch_id[el] for el in part]
        ca.clear()
        ca.add_multiple_n1(ids)
        try:
            ca.compute(eng.v0, eng.max_iter, eng.tol)
        except RuntimeError as exc:  # the C++ side raises for a failed base case
            log.warning("contingency analysis failed: %s", exc)
            out.update({el: diverged(el, f"contingency analysis failed: {exc}", lim.cut_buses)
                        for el in part})
            step(len(part))
            continue
        order = [tuple(d) for d in ca.my_defaults()]
        row_of = {d[0]: k for k, d in enumerate(order)}
        conv = np.asarray(ca.converged_mask(), dtype=bool)
        vs = ca.get_voltages()
        br = ca.compute_branch_results()  # rows x branches x (p1, q1, p2, q2)
        rr = np.array([row_of[i] for i in ids])
        vm = np.abs(vs[rr][:, eng.ls_bus_rows])
        b = br[rr][:, eng.rated_ls, :]
        smax = np.maximum(np.hypot(b[..., 0], b[..., 1]), np.hypot(b[..., 2], b[..., 3]))
        ok_rows = conv[rr] & np.all(np.isfinite(vm), axis=1) & np.all(vm > 0, axis=1)
        good = np.flatnonzero(ok_rows)
        solved = lim.results([part[k] for k in good], vm[good], smax[good])
        out.update({r["element"]: r for r in solved})
        out.update({part[k]: diverged(part[k], "the AC power flow did not converge",
                                      lim.cut_buses)
                    for k in np.flatnonzero(~ok_rows)})
        step(len(part))
    return out


def ls_source(net) -> tuple[pp.pandapowerNet, list[str]] | None:
    """A shallow copy of `net` that lightsim2grid converts, and its branch names in LSGrid order.

    lightsim2grid has no impedance element; MATPOWER branches joining buses of different
    nominal voltage without a tap arrive as pandapower impedances (pglib case118 has two),
    so symmetric ones become the equivalent line (same per-unit r, x, b; verified against
    runpp). A net last run with ``trafo_model="pi"`` keeps it in ``_options``, which
    lightsim2grid refuses; it models transformers as runpp does by default.
    """
    if any(len(net[t]) for t in ("trafo3w", "xward", "ward", "dcline", "switch", "storage")
           if t in net):
        return None
    src = copy.copy(net)
    src["_options"] = {k: v for k, v in dict(net.get("_options", {}) or {}).items()
                       if k != "trafo_model"}
    names = [f"line:{i}" for i in net.line.index]
    imp = net.impedance if "impedance" in net else None
    if imp is not None and len(imp):
        sym = (np.allclose(imp.rft_pu, imp.rtf_pu) and np.allclose(imp.xft_pu, imp.xtf_pu)
               and np.allclose(imp.bf_pu, imp.bt_pu)
               and not np.any(imp.get("gf_pu", 0.0)) and not np.any(imp.get("gt_pu", 0.0)))
        if not sym:
            return None
        vn = net.bus.vn_kv.loc[imp.from_bus].to_numpy()
        zb = vn ** 2 / net.sn_mva
        scale = net.sn_mva / imp.sn_mva.to_numpy()  # own base -> system base, for impedances
        b_sys = (imp.bf_pu.to_numpy() + imp.bt_pu.to_numpy()) / scale
        extra = pd.DataFrame({
            "name": None, "std_type": None, "from_bus": imp.from_bus.to_numpy(),
            "to_bus": imp.to_bus.to_numpy(), "length_km": 1.0,
            "r_ohm_per_km": imp.rft_pu.to_numpy() * scale * zb,
            "x_ohm_per_km": imp.xft_pu.to_numpy() * scale * zb,
            "c_nf_per_km": b_sys / zb / (2 * np.pi * net.f_hz) * 1e9, "g_us_per_km": 0.0,
            "max_i_ka": 1e3, "df": 1.0, "parallel": 1, "type": "ol",
            "in_service": imp.in_service.to_numpy()})
        src["line"] = pd.concat([net.line, extra], ignore_index=True)
        src["impedance"] = imp.iloc[0:0]
        names += [f"impedance:{i}" for i in imp.index]
    names += [f"trafo:{i}" for i in net.trafo.index]
    return src, names
