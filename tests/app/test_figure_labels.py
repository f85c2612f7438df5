"""Bus labels stay readable whatever is drawn on their bus, in figures (`render`, Export
figure): pglib case14 and case118 with an answer that breaks every kind of constraint, on
pages that follow the grid, of a fixed size and of a slide's aspect.

The geometry is read from the figure itself (where each label's box and each marker's box
landed); font metrics differ between machines, so the heights are asserted against the
font's pixel size with a 1-pixel tolerance, never against a fixed box size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from n1studio import cli
from n1studio.app.canvas.render import variant_panel, write_figure
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from tests.app.everything_broken import breaking_verdict, has_angle_limits, kinds

CASES = ["pglib_opf_case14_ieee", "pglib_opf_case118_ieee"]


@pytest.fixture(scope="module", params=CASES)
def broken(request):
    net = load_case(request.param)
    variant = Variant(net, ())
    verdict = breaking_verdict(variant)
    want = {"voltage", "power_balance", "gen_p", "gen_q", "thermal"}
    if has_angle_limits(variant):
        want.add("angle")
    assert want <= kinds(verdict), f"{request.param}: {sorted(want - kinds(verdict))} missing"
    return request.param, net, variant, verdict


def _rect(b) -> QtCore.QRectF:
    return QtCore.QRectF(b[0], b[1], b[2] - b[0], b[3] - b[1])


def _assert_labels_clear(fig, page: QtCore.QRectF) -> None:
    geo = fig.geometry[0]
    n = len(fig.panels[0].drawing.bus_names)
    assert len(geo.labels) == n and len(geo.markers) > 0
    markers = [_rect(m) for m in geo.markers]
    for k, box in enumerate(geo.labels):
        r = _rect(box)
        hit = [m for m in markers if r.intersects(m)]
        assert not hit, f"label of bus {k} under {len(hit)} marker(s)"
        assert page.contains(r), f"label of bus {k} outside the page"
        # at least 14 px tall in a 1920 px wide figure (font metrics: 1 px tolerance)
        assert r.height() >= 14 - 1
    assert geo.label_px >= 14


def test_labels_clear_of_markers_on_a_1920_page(qapp, tmp_path, broken):
    _name, net, variant, verdict = broken
    fig = write_figure(tmp_path / "fig.png", [variant_panel(net, variant, verdict)], width=1920)
    assert fig.width == 1920
    _assert_labels_clear(fig, QtCore.QRectF(0, 0, fig.width, fig.height))
    # every marker kind of the verdict is in the legend
    texts = set(fig.legend)
    assert {"power balance", "voltage limit", "generator P limit", "generator Q limit",
            "thermal rating"} <= texts


@pytest.mark.parametrize("shape", [("--width", "1920", "--height", "1080"),
                                   ("--width", "1920", "--aspect", "16:9"),
                                   ("--aspect", "4:3")])
def test_slide_shapes_hold_the_whole_grid(qapp, tmp_path, broken, shape):
    name, net, variant, verdict = broken
    out = tmp_path / "slide.png"
    rc = cli.main(["render", name, "--to", str(out), *shape])
    assert rc == 0
    img = QtGui.QImage(str(out))
    opts = dict(zip(shape[0::2], shape[1::2], strict=True))
    want = (1920, 1080) if "--width" in opts else (1600, 1200)  # 1600: the default width
    assert (img.width(), img.height()) == want
    # the same page painted again, to read where things went
    width = int(opts.get("--width", 1600))
    height = int(opts["--height"]) if "--height" in opts else None
    aspect = opts.get("--aspect")
    fig = write_figure(tmp_path / "again.png", [variant_panel(net, variant, verdict)],
                       width=width, height=height, aspect=aspect)
    assert (fig.width, fig.height) == want
    page = QtCore.QRectF(0, 0, fig.width, fig.height)
    geo = fig.geometry[0]
    # every bus and glyph inside the grid's area, the area, title and legend inside the page
    for x, y in list(geo.points) + list(geo.units):
        assert geo.area.contains(QtCore.QPointF(x, y))
    for m in geo.markers:
        assert page.contains(_rect(m))
    assert page.contains(geo.area) and page.contains(geo.title_rect)
    assert page.contains(fig.legend_rect) and not fig.legend_rect.intersects(geo.area)
    _assert_labels_clear(fig, page)
    # the grid fills the slide one way or the other (centred, not a stamp in a corner)
    pts = np.concatenate([geo.points, geo.units])
    xs, ys = pts[:, 0], pts[:, 1]
    fill = max((xs.max() - xs.min()) / geo.area.width(), (ys.max() - ys.min()) / geo.area.height())
    assert fill > 0.8
    assert abs((xs.max() + xs.min()) / 2 - geo.area.center().x()) < 0.1 * geo.area.width()


def test_shape_errors_are_one_line(qapp, tmp_path, capsys):
    for args, words in ((["--aspect", "wide"], "--aspect wide"),
                        (["--width", "1920", "--height", "50"], "--height 50"),
                        (["--aspect", "16:0"], "--aspect 16:0")):
        rc = cli.main(["render", "case14", "--to", str(tmp_path / "x.png"), *args])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and words in err and "\n" not in err, (args, err)
