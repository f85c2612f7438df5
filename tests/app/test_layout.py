"""Bus layouts (n1studio/grid/layout.py, no Qt) and the drawing geometry built on them."""

from __future__ import annotations

import json

import numpy as np

from n1studio.grid.cases import load_case
from n1studio.grid.layout import computed_layout, layout_for, stored_coordinates
from n1studio.grid.variant import Variant
from n1studio.present.drawing import build_drawing, state_for


def test_stored_geojson_coordinates_parse_exactly():
    net = load_case("case1354pegase")
    xy = stored_coordinates(net)
    expected = np.array([json.loads(g)["coordinates"] for g in net.bus.geo])
    assert np.array_equal(xy, expected)


def test_computed_layout_is_deterministic_and_spread(pglib):
    net = load_case(str(pglib("case118_ieee")))
    assert stored_coordinates(net) is None
    a, b = computed_layout(net), computed_layout(net)
    assert np.array_equal(a, b)
    assert np.isfinite(a).all()
    # no two buses on top of each other
    d = np.linalg.norm(a[:, None] - a[None], axis=2) + np.eye(len(a))
    assert d.min() > 0.05


def test_layout_is_cached_per_net_and_shared_by_variants():
    net = load_case("case14")
    lay = layout_for(net)
    assert layout_for(net) is lay
    assert layout_for(load_case("case14")) is not lay  # another net object, another entry
    assert lay.source == "stored" and lay.xy.shape == (14, 2)


def test_drawing_masks_follow_the_variant():
    net = load_case("case14")
    d = build_drawing(net)
    v = Variant(net, ["line:3", "gen:0"])
    st = state_for(d, net, v.outages, v.islands.cut_buses)
    removed = {d.edge_names[k] for k in np.flatnonzero(st.edge_removed)}
    assert removed == {"line:3"}
    off_units = {d.unit_names[k] for k in np.flatnonzero(~st.unit_on)}
    assert off_units == {"gen:0"}
    # a bus out of service takes its branches and units with it
    v2 = Variant(net, ["bus:7"])
    st2 = state_for(d, net, v2.outages, v2.islands.cut_buses)
    b7 = d.index["bus:7"][1][0]
    assert not st2.bus_on[b7]
    assert not st2.edge_on[(d.edge_a == b7) | (d.edge_b == b7)].any()
    assert not st2.unit_on[d.unit_bus == b7].any()
    # violations: exactly the named elements are marked
    viol = [{"constraint": "voltage", "element": "bus:3"},
            {"constraint": "thermal", "element": "line:5"},
            {"constraint": "gen_p", "element": "gen:1"}]
    st3 = state_for(d, net, (), (), viol)
    assert st3.highlighted == {"bus:3", "line:5", "gen:1"}
    assert [d.bus_names[k] for k in np.flatnonzero(st3.bus_viol)] == ["bus:3"]
    assert [d.edge_names[k] for k in np.flatnonzero(st3.edge_viol)] == ["line:5"]
    assert [d.unit_names[k] for k in np.flatnonzero(st3.unit_viol)] == ["gen:1"]


def test_computed_layout_is_the_same_while_other_threads_use_random():
    import random
    import threading

    import numpy as np

    from n1studio.grid.cases import load_case
    from n1studio.grid.layout import computed_layout

    net = load_case("pglib_opf_case14_ieee")
    first = computed_layout(net)
    stop = threading.Event()

    def noise():
        while not stop.is_set():
            random.random()

    t = threading.Thread(target=noise)
    t.start()
    try:
        again = [computed_layout(net) for _ in range(3)]
    finally:
        stop.set()
        t.join()
    assert all(np.allclose(first, a) for a in again)
