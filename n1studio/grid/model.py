"""The numeric model of a grid that the solver and the checker share.

`GridModel.from_net(net)` turns a pandapower net into per-unit arrays (buses, branches,
generators), using pandapower's own converter for branch parameters so that transformer
models, taps and phase shifts are exactly pandapower's (the steps: grid/convert.py).
Outages are applied as masks on the base model (`with_outages`), so an N-1 variant costs
no reconversion.

Conventions: powers in per-unit of `base_mva`, angles in radians, costs in $/h with P in MW
(cost = c2 P^2 + c1 P + c0, as in pandapower's poly_cost and MATPOWER's gencost).
Internal buses (the star points of three-winding transformers) have an empty name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
from scipy.sparse import coo_matrix, csr_matrix

from n1studio.errors import ElementError
from n1studio.grid import topology
from n1studio.grid.convert import model_fields
from n1studio.grid.elements import resolve, sort_key


@dataclass
class GridModel:
    name: str
    base_mva: float
    # buses
    bus_names: list[str]
    bus_index: np.ndarray  # pandapower bus index, -1 for internal buses
    vn_kv: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    pd: np.ndarray
    qd: np.ndarray
    gs: np.ndarray
    bs: np.ndarray
    is_ref: np.ndarray
    bus_on: np.ndarray
    # branches
    branch_names: list[str]
    f: np.ndarray
    t: np.ndarray
    yff: np.ndarray
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    rate: np.ndarray  # pu MVA, inf where unlimited
    angmin: np.ndarray  # rad, -inf where unlimited
    angmax: np.ndarray
    branch_on: np.ndarray
    # generators (ext_grid, gen, controllable sgen)
    gen_names: list[str]
    gen_bus: np.ndarray
    pmin: np.ndarray
    pmax: np.ndarray
    qmin: np.ndarray
    qmax: np.ndarray
    c2: np.ndarray
    c1: np.ndarray
    c0: np.ndarray
    gen_on: np.ndarray
    # loads (for lost-load reporting): name, model bus, p (pu), q (pu)
    load_names: list[str]
    load_bus: np.ndarray
    load_p: np.ndarray
    load_q: np.ndarray
    load_on: np.ndarray
    load_in_net: np.ndarray | None = None  # the net's own in_service flag per load
    outages: tuple[str, ...] = ()
    _lookup: dict = field(default_factory=dict, repr=False)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_net(cls, net: pp.pandapowerNet) -> GridModel:
        """Build the model of `net` as it is (its own in_service flags are respected).

        pandapower's converter drops out-of-service branches and units from its tables while
        its lookups still span every element, so the conversion runs on a copy with every
        bus, branch and dispatchable unit in service; the net's own flags become the masks.
        Loads and fixed injections keep their flags (they make up the buses' Pd/Qd).
        The steps (buses, branches, generators, loads) are in grid/convert.py.
        """
        m = cls(**model_fields(net))
        m._finish()
        return m

    def _finish(self) -> None:
        if not self._lookup:
            self._build_lookup()
        # a bus that is off takes everything attached to it off
        off = ~self.bus_on
        self.branch_on = self.branch_on & ~off[self.f] & ~off[self.t]
        self.gen_on = self.gen_on & self.bus_on[self.gen_bus]
        self.load_on = self.load_on & self.bus_on[self.load_bus]

    def _build_lookup(self) -> None:
        self._lookup = {}
        for kind, names in (("bus", self.bus_names), ("branch", self.branch_names),
                            ("gen", self.gen_names), ("load", self.load_names)):
            for k, n in enumerate(names):
                if n:
                    self._lookup.setdefault(n, (kind, []))[1].append(k)

    # ---- variants -----------------------------------------------------------------------
    def with_outages(self, elements, net: pp.pandapowerNet | None = None) -> GridModel:
        """A copy with the given elements out of service (names or Elements)."""
        m = dataclasses.replace(self)
        for attr in ("bus_on", "branch_on", "gen_on", "load_on", "pd", "qd"):
            setattr(m, attr, getattr(self, attr).copy())
        outs = []
        for e in elements:
            name = str(e).strip()
            if net is not None:
                resolve(net, name, outage=True)
            if name not in self._lookup:
                raise ElementError(f"{name}: no such element in {self.name}")
            kind, rows = self._lookup[name]
            if kind == "bus":
                m.bus_on[rows] = False
            elif kind == "branch":
                m.branch_on[rows] = False
            elif kind == "gen":
                m.gen_on[rows] = False
            elif kind == "load":
                for r in rows:
                    if m.load_on[r]:
                        m.pd[self.load_bus[r]] -= self.load_p[r]
                        m.qd[self.load_bus[r]] -= self.load_q[r]
                        m.load_on[r] = False
            outs.append(name)
        m.outages = tuple(sorted(set(self.outages) | set(outs), key=sort_key))
        m._lookup = self._lookup
        m._finish()
        return m

    # ---- topology (one definition, in grid/topology.py) ----------------------------------
    def islands(self) -> np.ndarray:
        """Component label per bus over in-service buses and branches (-1 for buses off)."""
        return topology.island_labels(self)

    def energised(self) -> np.ndarray:
        """Buses on that sit in an island with at least one generator in service."""
        return topology.energised(self)

    def cut_off(self) -> np.ndarray:
        """Buses on that sit in no island with a generator in service (see grid/topology.py)."""
        return topology.cut_off(self)

    def index(self, name: str) -> tuple[str, list[int]]:
        return self._lookup[name]

    @property
    def n_bus(self) -> int:
        return len(self.bus_names)

    def ybus(self, branch_mask: np.ndarray | None = None) -> csr_matrix:
        """Bus admittance matrix over in-service branches, shunts included."""
        on = self.branch_on if branch_mask is None else branch_mask
        nb = self.n_bus
        f, t = self.f[on], self.t[on]
        rows = np.concatenate([f, f, t, t])
        cols = np.concatenate([f, t, f, t])
        vals = np.concatenate([self.yff[on], self.yft[on], self.ytf[on], self.ytt[on]])
        y = coo_matrix((vals, (rows, cols)), shape=(nb, nb)).tocsr()
        y = y + csr_matrix((self.gs + 1j * self.bs, (np.arange(nb), np.arange(nb))), shape=(nb, nb))
        return y
