"""The main job end to end with no screen: a grid, one line out, the reference, the default
model's answer, the verdict, and a picture of the grid with the violations drawn.

`run_demo` is what `n1studio demo` and a display-less `n1studio`/`make run` execute.
The case is PGLib's IEEE 14-bus (`pglib_opf_case14_ieee`, bundled): it carries the
branch ratings and costs the published optimum (8081.5 $/h) is computed with, so the
cost gap and thermal checks mean what they say.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from n1studio import pipeline
from n1studio.controls import is_control
from n1studio.grid.cases import load_case
from n1studio.jobs import JobState, Partial, Progress
from n1studio.llm.ask import shared_client
from n1studio.llm.runtime import ModelSettings, validate_settings
from n1studio.present.session import Session
from n1studio.schema import json_default

log = logging.getLogger(__name__)

DEMO_CASE = "pglib_opf_case14_ieee"
DEMO_OUTAGE = "line:6"


def has_display() -> bool:
    """Whether Qt can open windows here (Linux: an X or Wayland display, or a platform set)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                    or os.environ.get("QT_QPA_PLATFORM"))
    return True


def ensure_offscreen() -> None:
    """Render without a screen when there is none (must run before Qt is imported)."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def run_demo(out_dir: str | Path = "demo-out", case: str = DEMO_CASE, outage: str = DEMO_OUTAGE,
             model_path: str | None = None, say: Callable[[str], None] = print,
             size: tuple[int, int] = (1400, 1000)) -> dict:
    """Run the main job and write grid.png, verdict.json and answer.json into `out_dir`.

    Returns {"grid_png", "verdict_json", "answer_json", "verdict", "answer", "stats"}.
    """
    ensure_offscreen()
    # Qt is imported only now, after the platform is chosen (offscreen without a display)
    from PySide6 import QtWidgets  # noqa: PLC0415

    from n1studio.app.canvas.gridview import GridView  # noqa: PLC0415

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["n1studio-demo"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()

    values = {"model_path": model_path or None, "mode": "constrained", "n_gpu_layers": 0}
    settings = ModelSettings.from_values(values)
    if not is_control(model_path):  # a control (control:reference...) has no file to check
        validate_settings(settings)  # a bad model file: one line, at once
    say(f"[1/5] opening {case}")
    session = Session(load_case(case), case)
    entry = session.new_entry((outage,))
    session.insert(entry)
    session.active = 1
    isl = entry.variant.islands
    say(f"      {len(session.net.bus)} buses; variant {entry.label}: {isl.describe()}")

    say("[2/5] reference AC OPF of the N case and of the variant")
    session.base_entry.reference = pipeline.reference(session.base_entry.variant)
    entry.reference = pipeline.reference(entry.variant)
    r = entry.reference
    say(f"      N: {session.base_entry.reference.objective:,.2f} $/h; "
        f"{entry.label}: " + (f"{r.objective:,.2f} $/h ({r.status})" if r.success else r.status))

    say(f"[3/5] asking {model_path} (a control: no model)" if is_control(model_path)
        else "[3/5] asking the model (constrained mode, CPU)")
    counter = {"n": 0, "last": time.perf_counter(), "prompt": False}

    def report(ev) -> None:
        if isinstance(ev, Progress) and ev.stage == "prompt" and not counter["prompt"]:
            counter["prompt"] = True
            say(f"      reading the prompt ({ev.total} tokens)…")
        elif isinstance(ev, Partial) and ev.kind == "token":
            if counter["n"] == 0:
                counter["last"] = time.perf_counter()  # count from the first token
            counter["n"] += 1
            if time.perf_counter() - counter["last"] > 5:
                counter["last"] = time.perf_counter()
                say(f"      … {counter['n']} tokens")

    # the references solved above are the pipeline's (solved once per variant)
    res = pipeline.ask(entry.variant, settings, client=shared_client(), state=JobState(report))
    entry.answer, entry.raw, entry.verdict = res.answer, res.raw, res.verdict
    entry.stats, entry.prompt = res.stats, res.prompt
    st = res.stats
    say(f"      {st.get('completion_tokens')} tokens at {st.get('tokens_per_s')} tokens/s "
        f"in {st.get('wall_s')} s")

    v = entry.verdict
    say(f"[4/5] verdict: {'feasible' if v.get('feasible') else 'infeasible'}, "
        f"{len(v.get('violations') or [])} violation(s), overall satisfaction "
        f"{_pct(v.get('overall_satisfaction'))}, cost gap {_pct(v.get('cost_gap'))}"
        + (", looks like the recalled N answer" if v.get("recalled_n_answer") else ""))

    say("[5/5] drawing")
    view = GridView()
    view.resize(*size)
    view.show()
    view.set_drawing(session.drawing, session.draw_state(entry))
    view.set_banner(banner_text(session, entry), "warn")
    app.processEvents()
    png = out / "grid.png"
    view.export_png(str(png))
    view.close()
    vpath, apath = out / "verdict.json", out / "answer.json"
    vpath.write_text(json.dumps(v, indent=2, default=json_default) + "\n")
    apath.write_text(json.dumps({"case": case, "outages": list(entry.outages),
                                 "answer": entry.answer, "raw": entry.raw, "stats": st,
                                 "model_file": str(res.settings.get("model_path")
                                                   or res.model)}, indent=2,
                                default=json_default) + "\n")
    say(f"done in {time.perf_counter() - t0:.1f} s:")
    for p in (png, vpath, apath):
        say(f"  {p.resolve()}")
    return {"grid_png": str(png), "verdict_json": str(vpath), "answer_json": str(apath),
            "verdict": v, "answer": entry.answer, "stats": st}


def banner_text(session, entry) -> str:
    """The line over the demo's drawing (its length sets the room the grid is fitted in)."""
    v = entry.verdict or {}
    n = len(v.get("violations") or [])
    isl = entry.variant.islands
    parts = [f"<b>{session.name}</b>", f"<b>{entry.label}</b>"]
    if isl.islanded:
        parts.append(isl.describe())
    if entry.reference is not None and entry.reference.success:
        parts.append(f"reference {entry.reference.objective:,.1f} $/h")
    parts.append(f"<span style='color:#e0245e'><b>{n} violation(s)</b></span> in the model's "
                 f"answer" if n else "the model's answer is feasible")
    if v.get("recalled_n_answer"):
        parts.append("<span style='color:#e0245e'><b>recalled N answer</b></span>")
    return " · ".join(parts)


def _pct(x) -> str:
    return f"{x:.1%}" if isinstance(x, (int, float)) else "n/a"

