"""`n1studio render`: figures of pglib case14 with line:6 out, with and without the recalled
N answer (the N case's reference from `n1studio solve --json`), as PNG, SVG and PDF."""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6 import QtGui

from n1studio import cli

CASE = "pglib_opf_case14_ieee"
OUT = "line:6"
SVG_NS = "{http://www.w3.org/2000/svg}"


def run_cli(*argv: str) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli.main(list(argv))
    return rc, buf.getvalue()


@pytest.fixture(scope="module")
def n_answer(tmp_path_factory) -> str:
    """The N case's answer as `n1studio solve CASE --json` writes it (the recalled answer)."""
    rc, text = run_cli("solve", CASE, "--json")
    assert rc == 0
    path = tmp_path_factory.mktemp("answer") / "n.json"
    path.write_text(text)
    assert json.loads(text)["schema"] == "n1studio.answer/1"
    return str(path)


def colour_near(img: QtGui.QImage, x: float, y: float, hex_colour: str, r: int = 2) -> bool:
    """Whether a pixel within r of (x, y) has (nearly) this colour."""
    want = QtGui.QColor(hex_colour)
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            c = img.pixelColor(round(x) + dx, round(y) + dy)
            if (abs(c.red() - want.red()) + abs(c.green() - want.green())
                    + abs(c.blue() - want.blue())) < 30:
                return True
    return False


def test_render_png_svg_pdf_with_answer(qapp, tmp_path, n_answer):
    from n1studio import pipeline
    from n1studio.app.canvas.render import variant_panel, write_figure
    from n1studio.grid.cases import load_case
    from n1studio.grid.variant import Variant
    from n1studio.present.theme import palette

    png, bare = tmp_path / "fig.png", tmp_path / "bare.png"
    rc, out = run_cli("render", CASE, "--out", OUT, "--answer", n_answer, "--to", str(png),
                      "--width", "900")
    assert rc == 0 and "infeasible" in out
    rc, _ = run_cli("render", CASE, "--out", OUT, "--to", str(bare), "--width", "900")
    assert rc == 0
    img, img0 = QtGui.QImage(str(png)), QtGui.QImage(str(bare))
    assert img.width() == 900 and img0.width() == 900
    # the legend lists the answer's marker kinds too (it may take one more row): the grid
    # itself lands in the same place on both pages
    assert img.height() >= img0.height() > 300

    # the verdict the figure draws, and where each bus lands on the same page
    net = load_case(CASE)
    variant = Variant(net, (OUT,))
    verdict = pipeline.judge(variant, Path(n_answer).read_text())
    bad = {v["element"] for v in verdict["violations"] if v["element"].startswith("bus:")}
    assert bad, "the recalled N answer breaks power balance at the ends of line:6"
    fig = write_figure(tmp_path / "same.png", [variant_panel(net, variant, verdict)], width=900)
    pal = palette("light")
    for name in fig.panels[0].drawing.bus_names:
        x, y = fig.point(name)
        if name in bad:
            assert colour_near(img, x, y, pal.violation), name
            assert not colour_near(img0, x, y, pal.violation), name
            assert colour_near(img0, x, y, pal.bus), name
        else:
            assert not colour_near(img, x, y, pal.violation, r=1), name

    # SVG: every marker its own shape, one circle per bus, no embedded symbol sheet
    svg = tmp_path / "fig.svg"
    assert run_cli("render", CASE, "--out", OUT, "--answer", n_answer, "--to", str(svg))[0] == 0
    root = ET.parse(svg).getroot()
    assert root.find(f".//{SVG_NS}image") is None
    shapes = [e for e in root.iter() if e.tag in (f"{SVG_NS}circle", f"{SVG_NS}ellipse")]
    assert len(shapes) == len(net.bus)
    texts = " ".join("".join(e.itertext()) for e in root.iter(f"{SVG_NS}text"))
    assert f"N-1 {OUT}" in texts and "infeasible" in texts

    pdf, same = tmp_path / "fig.pdf", tmp_path / "fig15.png"
    for path in (pdf, same):
        assert run_cli("render", CASE, "--out", OUT, "--answer", n_answer, "--to", str(path),
                       "--scale", "1.5")[0] == 0
    img = QtGui.QImage(str(same))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # one page with the PNG's proportions (1600 px wide at 96 dpi: 1200 pt)
    import re

    box = re.search(rb"MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    w_pt, h_pt = float(box.group(1)), float(box.group(2))
    assert w_pt == pytest.approx(1200, abs=1)
    assert h_pt / w_pt == pytest.approx(img.height() / img.width(), rel=0.02)


def test_render_bad_target_is_one_line(qapp, tmp_path, capsys):
    rc = cli.main(["render", CASE, "--to", str(tmp_path / "fig.gif")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ".png, .svg or .pdf" in err


@pytest.mark.qt_log_ignore(r"This plugin does not support")
def test_window_export_figure_both_panes(window, qtbot, open_case, tmp_path):
    """File → Export figure… at a chosen size: both panes when comparing, the size asked."""
    from n1studio.app.dialogs.export import export_figure, window_panels

    open_case(window, CASE)
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    window.act_compare.trigger()
    panels = window_panels(window)
    assert [p.title for p in panels] == [f"{CASE} — N-1 {OUT}", f"{CASE} — N"]
    path = export_figure(window, str(tmp_path / "both.png"), width=1400, scale=1.25, fmt="png")
    img = QtGui.QImage(path)
    assert img.width() == 1400 and img.height() > 300
    svg = export_figure(window, str(tmp_path / "both.svg"), width=1400, fmt="svg")
    root = ET.parse(svg).getroot()
    shapes = [e for e in root.iter() if e.tag in (f"{SVG_NS}circle", f"{SVG_NS}ellipse")]
    assert len(shapes) == 2 * len(window.session.net.bus)


@pytest.mark.qt_log_ignore(r"This plugin does not support")
def test_compare_export_is_one_figure_with_one_legend_for_both_panes(window, qtbot, open_case,
                                                                     tmp_path):
    """Left: an answer over a voltage limit; right: one over a generator's P limit. The
    exported figure has one legend, and it lists both panes' markers."""
    from n1studio.app.dialogs.export import export_figure
    from tests.app.everything_broken import breaking_verdict, kinds

    open_case(window, CASE)
    s = window.session
    window.take_out(OUT)
    qtbot.waitUntil(lambda: not window.ref_slot.busy, timeout=120_000)
    left, right = s.entries[1], s.entries[0]
    s.update(left, verdict=breaking_verdict(left.variant, ("voltage",)))
    s.update(right, verdict=breaking_verdict(right.variant, ("gen_p",)))
    assert kinds(left.verdict) == {"voltage", "power_balance"}
    assert kinds(right.verdict) == {"gen_p", "power_balance"}
    window.act_compare.trigger()  # opens on the active variant and the one before it
    assert s.active == 1 and "N-1" not in window.compare.banner.text().split("·")[1]
    # the window's one legend (the left pane's) lists the right pane's markers too
    texts = [lab.text.strip() for _, lab in window.view.legend.items]
    assert {"voltage limit", "generator P limit", "power balance"} <= set(texts)
    assert not window.compare.legend.isVisible()
    svg = export_figure(window, str(tmp_path / "both.svg"), width=1920, fmt="svg",
                        aspect="16:9")
    root = ET.parse(svg).getroot()
    assert root.get("width", "").startswith("1920") or root.get("viewBox") == "0 0 1920 1080"
    words = ["".join(e.itertext()).strip() for e in root.iter(f"{SVG_NS}text")]
    for text in ("voltage limit", "generator P limit", "power balance", "bus", "line"):
        assert words.count(text) == 1, (text, words.count(text))
    titles = [w for w in words if w.startswith(CASE)]
    assert titles == [f"{CASE} — N-1 {OUT}", f"{CASE} — N"]


def test_export_dialog_shapes(qapp):
    """Export figure's Shape: as high as the grid needs, a 16:9 or 4:3 slide, or a fixed
    height (its box enabled only then)."""
    from n1studio.app.dialogs.export import ExportDialog

    dlg = ExportDialog()
    assert dlg.shape == (0, None) and not dlg.height_box.isEnabled()
    dlg.shape_box.setCurrentIndex(dlg.shape_box.findText("16:9 slide"))
    assert dlg.shape == (0, "16:9")
    dlg.shape_box.setCurrentIndex(dlg.shape_box.findText("fixed height"))
    assert dlg.height_box.isEnabled()
    dlg.height_box.setValue(1080)
    assert dlg.shape == (1080, None)
