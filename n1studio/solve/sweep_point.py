"""The operating point an N-1 sweep starts from: the N reference dispatch, or the file's.

An engineer's N-1 study asks what each outage does to the system *as it is operated*: the
base case dispatched economically within its limits. A case file's own set-points are
often no such point (PGLib files hold placeholder dispatches: case39's does not even have
an AC power-flow solution, so every outage "diverged" for a reason no outage has). So by
default the sweep runs at the N reference, the AC OPF of the unperturbed base case
(`solve.reference`): every unit's active power, every voltage set-point (gen and
ext_grid; the ext_grid's angle too) and the reactive power of controllable sgens are set
from it on a copy of the net. ``at="file"`` keeps the file's own dispatch. Where the N
reference has no solution the sweep falls back to the file's dispatch and says why.
"""

from __future__ import annotations

import copy
import weakref

import numpy as np
import pandapower as pp

from n1studio.errors import N1Error
from n1studio.grid.elements import parse_element
from n1studio.grid.variant import Variant
from n1studio.solve.reference import reference
from n1studio.solve.result import OpfResult

AT = ("reference", "file")
AT_TEXT = {"reference": "the N reference dispatch (AC OPF of the base case)",
           "file": "the file's own dispatch"}

# id(net) -> (weak reference to net, fingerprint, (net at the point, description))
_POINTS: dict[int, tuple] = {}


def operating_point(net: pp.pandapowerNet, at: str = "reference", *, fingerprint=None,
                    cancel=None) -> tuple[pp.pandapowerNet, dict]:
    """The net to sweep and its description (``n1studio.sweep/1``'s ``operating_point``):
    ``{"at": "reference"|"file", "text": ..., "objective": $/h, "status": ...}``, plus
    ``requested`` and ``reason`` when the N reference failed and the file's dispatch is used.
    `fingerprint` (the sweep's) lets the same unchanged net reuse its point."""
    if at not in AT:
        raise N1Error(f"unknown operating point {at!r}: one of {', '.join(AT)}")
    if at == "file":
        return net, {"at": "file", "text": AT_TEXT["file"]}
    hit = _POINTS.get(id(net))
    if hit is not None and hit[0]() is net and fingerprint is not None and hit[1] == fingerprint:
        return hit[2]
    ref = reference(Variant(net), "ac", cancel=cancel)
    if ref.status == "cancelled":
        return net, {"at": "file", "requested": "reference", "text": AT_TEXT["file"],
                     "reason": "stopped while solving the N reference"}
    if not ref.success:
        point = (net, {"at": "file", "requested": "reference", "status": ref.status,
                       "reason": f"the N reference AC OPF is {ref.status}",
                       "text": f"{AT_TEXT['file']} (the N reference AC OPF is {ref.status})"})
    else:
        point = (dispatched(net, ref), {
            "at": "reference", "status": ref.status, "objective": round(float(ref.objective), 6),
            "text": f"{AT_TEXT['reference']}, {ref.objective:,.2f} $/h"})
    if fingerprint is not None:
        key = id(net)
        try:
            ref_net = weakref.ref(net, lambda _r: _POINTS.pop(key, None))
        except TypeError:
            return point
        _POINTS[key] = (ref_net, fingerprint, point)
    return point


def dispatched(net: pp.pandapowerNet, ref: OpfResult) -> pp.pandapowerNet:
    """A copy of `net` with the set-points of `ref` (a solved OPF of `net` itself): P and
    voltage of every gen, voltage and angle of every ext_grid, P and Q of controllable sgens.
    Units the OPF does not carry (out of service, cut off) keep the file's values."""
    work = copy.deepcopy(net)
    m = ref.model
    carried = ref.gen_mask
    for k in np.flatnonzero(carried):
        el = parse_element(m.gen_names[k])
        bus = m.gen_bus[k]
        table = work[el.table]
        if el.table == "gen":
            table.at[el.index, "p_mw"] = float(ref.pg[k])
            table.at[el.index, "vm_pu"] = float(ref.vm[bus])
        elif el.table == "ext_grid":
            table.at[el.index, "vm_pu"] = float(ref.vm[bus])
            table.at[el.index, "va_degree"] = float(np.rad2deg(ref.va[bus]))
        elif el.table == "sgen":
            table.at[el.index, "p_mw"] = float(ref.pg[k])
            table.at[el.index, "q_mvar"] = float(ref.qg[k])
    return work
