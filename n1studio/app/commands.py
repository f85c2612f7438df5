"""The commands that need Qt: `n1studio gui [CASE] [--model GGUF]` (also plain `n1studio`),
`n1studio demo [--out DIR]` and `n1studio report` (its PNG is rendered with Qt offscreen).
They live in the app layer so that n1studio/commands, like the core, never imports Qt.

With no display (Linux: no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM), `gui` runs
the headless demo into ./demo-out and says where the picture is, so `make run` does
something useful on a server too.
"""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger(__name__)

DEFAULT_CASE = "case14"


def register(sub: argparse._SubParsersAction) -> None:
    _register_report(sub)
    _register_render(sub)
    p = sub.add_parser("gui", help="the desktop app (default when no command is given)",
                       description="Open the desktop app on a case (default: case14).")
    p.add_argument("case", nargs="?", default=None,
                   help="built-in case name or a .json/.m file (default: case14)")
    p.add_argument("--model", default=None, help="a GGUF model file (default: the bundled one)")
    p.set_defaults(func=run_gui)

    d = sub.add_parser("demo", help="headless: the main job end to end, PNG + verdict",
                       description="Open pglib_opf_case14_ieee, take line:6 out, solve the "
                                   "reference, ask the default model (constrained mode), "
                                   "check the answer and draw the violations.")
    d.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    d.add_argument("--model", default=None, help="a GGUF model file (default: the bundled one)")
    d.add_argument("--case", default=None, help=argparse.SUPPRESS)
    d.add_argument("--outage", default=None, help=argparse.SUPPRESS)
    d.set_defaults(func=run_demo_cmd)


def run_demo_cmd(args: argparse.Namespace) -> int:
    from n1studio.app.demo import DEMO_CASE, DEMO_OUTAGE, ensure_offscreen, run_demo

    ensure_offscreen()
    from n1studio.app.runtime import qtlog

    qtlog.install()  # the offscreen platform's notices go to the debug log, not the terminal
    res = run_demo(args.out, case=args.case or DEMO_CASE, outage=args.outage or DEMO_OUTAGE,
                   model_path=args.model)
    print(f"The drawing with the violations highlighted: {res['grid_png']}")
    return 0


def run_gui(args: argparse.Namespace) -> int:
    from n1studio.app.demo import has_display

    if not has_display():
        print("n1studio: no display here (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are "
              "unset); running the headless demo instead.", file=sys.stderr)
        ns = argparse.Namespace(out="demo-out", model=args.model, case=None, outage=None)
        return run_demo_cmd(ns)
    from PySide6 import QtWidgets

    from n1studio.app.runtime import qtlog
    from n1studio.app.window.main_window import MainWindow

    qtlog.install()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("N-1 Studio")
    app.setOrganizationName("N1Studio")
    app.setDesktopFileName("io.github.n1studio.N1Studio")  # packaging/*.desktop
    if args.model:
        from pathlib import Path

        from n1studio.errors import ModelError

        if not Path(args.model).expanduser().is_file():
            raise ModelError(f"no such model file: {args.model}")
    _check_case(args.case or DEFAULT_CASE)
    win = MainWindow(model_path=str(args.model or ""))
    win.show()
    win.open_case(args.case or DEFAULT_CASE)
    return int(app.exec())


def _check_case(spec: str) -> None:
    """Refuse a case that cannot exist before the window opens (one clear line)."""
    from pathlib import Path

    from n1studio.errors import CaseError
    from n1studio.grid.cases import builtin_cases

    if spec in {c["name"] for c in builtin_cases()}:
        return
    path = Path(spec).expanduser()
    if path.is_dir():
        raise CaseError(f"{path} is a directory, not a case file (give a .m or .json file)")
    if path.suffix.lower() not in (".json", ".m"):
        raise CaseError(f"unknown case {spec!r}: not a built-in name (see `n1studio cases`) "
                        "nor a .json or .m file")
    if not path.is_file():
        raise CaseError(f"no such file: {path}")


# ---- report (n1studio.report/1 from a study) ---------------------------------------------

def _register_report(sub) -> None:
    p = sub.add_parser("report", help="the report by family of a study (HTML, PNG, JSON)",
                       description="Per family of the dataset (N, N-1, N-2, load, cost, "
                                   "relabel, ...) and per model and control: satisfaction per "
                                   "constraint kind, feasibility, median distance to "
                                   "feasibility, recall rate with 95 % intervals, and the drop "
                                   "from N, as a table, report.html, report.png/svg and "
                                   "report.json in --out.")
    p.add_argument("--study", required=True, metavar="STUDY")
    p.add_argument("--dataset", metavar="NAME", help="which dataset (default: every run)")
    p.add_argument("--out", metavar="DIR", help="write report.html, .png, .svg and .json here")
    p.add_argument("--no-png", action="store_true", help="skip the PNG (needs Qt offscreen)")
    p.add_argument("--json", action="store_true", help="print the report document")
    p.set_defaults(func=run_report_cmd)


def run_report_cmd(args) -> int:
    from n1studio.curate.report import build_report, report_text, write_report
    from n1studio.curate.study import Study

    with Study.open(args.study) as st:
        ds = st.dataset_id(args.dataset) if args.dataset else None
        report = build_report(st, ds)
    files = {}
    if args.out:
        png = None
        if not args.no_png:
            from n1studio.app.curate.report import svg_to_png

            png = svg_to_png
        files = write_report(report, args.out, png_writer=png)
    if args.json:
        from n1studio.schema import emit_json

        emit_json(report | {"files": {k: str(v) for k, v in files.items()}})
        return 0
    print(report_text(report))
    for k, v in files.items():
        print(f"{k}: {v}")
    return 0


# ---- render (a figure of a variant, with an answer's verdict) ----------------------------

def _register_render(sub) -> None:
    from n1studio.commands.args import add_variant_args

    p = sub.add_parser("render", help="a figure of a variant (PNG, SVG or PDF), with a verdict",
                       description="Draw CASE with the given elements out of service (and "
                                   "perturbations) at a chosen size, titled with the case and "
                                   "the variant; with --answer, the answer's verdict drawn as "
                                   "in the app (violations marked) and summarised in a line.")
    add_variant_args(p)
    p.add_argument("--answer", metavar="FILE", help="an n1studio.answer/1 file to judge and draw")
    p.add_argument("--to", required=True, metavar="FILE",
                   help="the figure to write: .png, .svg or .pdf")
    p.add_argument("--width", type=int, default=None, metavar="PX",
                   help="page width in pixels (default 1600, or what --height and --aspect "
                        "make it)")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--height", type=int, default=None, metavar="PX",
                       help="page height in pixels: with --width, exactly WIDTHxHEIGHT (the "
                            "grid fitted inside, centred); alone, the width follows the grid")
    shape.add_argument("--aspect", default=None, metavar="W:H",
                       help="page shape, e.g. 16:9 or 4:3 for a slide (the height is the width "
                            "over W:H; the grid fitted inside, centred)")
    p.add_argument("--scale", type=float, default=1.0, metavar="S",
                   help="markers, lines and text times S (default 1)")
    p.add_argument("--theme", choices=["light", "dark"], default="light")
    p.set_defaults(func=run_render_cmd)


def run_render_cmd(args) -> int:
    from n1studio.app.demo import ensure_offscreen

    ensure_offscreen()
    from pathlib import Path

    from n1studio.commands.args import variant_from_args
    from n1studio.errors import N1Error

    if Path(args.to).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise N1Error(f"--to {args.to}: give a .png, .svg or .pdf file")
    from n1studio.app.canvas.page import check_shape

    check_shape(args.width, args.height, args.aspect)  # a bad size: one line, before any work
    variant = variant_from_args(args)
    verdict = None
    if args.answer:
        from n1studio import pipeline
        from n1studio.commands.check import read_answer_text

        verdict = pipeline.judge(variant, read_answer_text(args.answer))
    from PySide6 import QtGui

    from n1studio.app.canvas.render import variant_panel, write_figure
    from n1studio.app.runtime import qtlog

    qtlog.install()
    _app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(["n1studio"])
    fig = write_figure(args.to, [variant_panel(variant.base, variant, verdict)],
                       width=args.width, scale=args.scale, theme=args.theme,
                       height=args.height, aspect=args.aspect)
    line = f"{args.to}: {fig.width}x{fig.height}"
    if verdict is not None:
        from n1studio.app.canvas.render import verdict_summary

        line += f" — {verdict_summary(verdict)}"
    print(line)
    return 0
