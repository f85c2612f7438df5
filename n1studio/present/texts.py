"""The words the main window shows: the banner over the drawing, the verdict panel's hint,
the model's statistics line and the tooltip/inspector rows of an element.

Plain functions of the session and a variant entry (no widgets), so each text is decided in
one place and can be read without the window around it.
"""

from __future__ import annotations

import html

from n1studio.present.results import element_rows, rows_html
from n1studio.present.session import Session, VariantEntry
from n1studio.present.theme import palette

AUTO_REFERENCE_MAX_BUS = 400  # the window solves references on its own up to this size
SOLVE_LINK = "solve-reference"  # the banner's "Solve reference" link

# status lines shown before the first token; the first token replaces them
BEFORE_ANSWER = ("reading the prompt", "model loaded", "starting", "loading")

ANSWERING = "The model is answering…"
NO_ANSWER = "No answer yet: press Ask to question the model on this variant."
STOPPED = "stopped before the answer was complete (the partial text is in the Answer tab)"


def entry_drawable(session: Session, entry: VariantEntry) -> bool:
    """Whether the entry's model and islands can be used now (small grids: always)."""
    return entry.ready or not session.big


def banner_text(session: Session, entry: VariantEntry, theme: str,
                finding: dict | None = None, solving: bool = False,
                auto_reference: bool = True) -> str:
    """The rich-text line over the drawing: case, variant, islands, reference, verdict;
    `finding`: the sweep's result for this outage (drawn while there is no verdict);
    `solving`: its reference is being solved; `auto_reference`: False where references are
    not solved on their own (big grids: the banner says so and offers the solve)."""
    parts = [f"<b>{html.escape(session.name)}</b>", f"<b>{html.escape(entry.label)}</b>"]
    isl = entry.variant.islands if entry_drawable(session, entry) else None
    if isl is None:
        parts.append("preparing…")
    elif isl.islanded:
        t = f"{isl.n_islands} islands"
        if isl.cut_buses:
            t += f", {len(isl.cut_buses)} bus(es) cut off"
        if isl.lost_loads:
            t += f", <b>{isl.lost_load_mw:.1f} MW of load lost</b>"
        parts.append(t)
    if entry.reference is None and solving:
        parts.append("solving the reference…")
    elif entry.reference is None and not auto_reference and not entry.reference_error:
        parts.append(f"reference not solved (above {AUTO_REFERENCE_MAX_BUS} buses it is not "
                     f"solved on its own): <a href='{SOLVE_LINK}'>Solve reference</a>")
    if entry.reference is not None:
        r = entry.reference
        parts.append(f"reference {r.objective:,.1f} $/h" if r.success
                     else f"reference: {html.escape(r.status)}")
    if finding is not None and entry.verdict is None:
        n = len(finding.get("violations") or [])
        col = palette(theme).violation
        what = {"diverged": "no power-flow solution", "islanded": "islanded",
                "ok": "no violation"}.get(finding.get("status"), f"{n} violation(s)")
        # where the sweep ran (solve/sweep_point.py): the N reference or the file's dispatch
        at = {"reference": " at the N reference dispatch", "file": " at the file's dispatch"}.get(
            (finding.get("operating_point") or {}).get("at"), "")
        head = f"sweep (post-outage power flow){at}"
        parts.append(f"{head}: <span style='color:{col}'><b>{what}</b></span>"
                     if finding.get("status") != "ok" else f"{head}: {what}")
    if entry.verdict is not None:
        n = len(entry.verdict.get("violations") or [])
        col = palette(theme).violation
        parts.append(f"<span style='color:{col}'><b>{n} violation(s)</b></span>" if n
                     else "answer feasible")
        if entry.verdict.get("recalled_n_answer"):
            parts.append(f"<span style='color:{col}'><b>recalled N answer</b></span>")
    return " · ".join(parts)


def verdict_hint(answering: bool, stopped: bool = False) -> str:
    """What the verdict panel says while there is no verdict for the variant."""
    if answering:
        return ANSWERING
    if stopped:
        return f"The model was {STOPPED}: press Ask to ask again."
    return NO_ANSWER


def stats_text(st: dict) -> str:
    """The model's statistics in one line: speed, tokens, prompt cache, latency, time."""
    if not st:
        return ""
    parts = []
    if st.get("tokens_per_s") is not None:
        parts.append(f"{float(st['tokens_per_s']):.1f} tokens/s")
    if st.get("completion_tokens") is not None:
        parts.append(f"{int(st['completion_tokens'])} tokens")
    if st.get("prompt_tokens") is not None:
        parts.append(f"prompt {int(st['prompt_tokens'])} "
                     f"({int(st.get('cached_tokens') or 0)} cached)")
    if st.get("ttft_s") is not None:
        parts.append(f"first token {float(st['ttft_s']):.2f} s")
    if st.get("wall_s") is not None:
        parts.append(f"{float(st['wall_s']):.1f} s")
    return " · ".join(parts)


def element_table(session: Session, name: str) -> list[tuple[str, str]]:
    """The inspector's rows of an element of the active variant (data, reference, answer).
    An element this variant takes out says so once ("OUT OF SERVICE"), not also the base
    case's "in_service yes"."""
    e = session.current
    model = e.variant.model if entry_drawable(session, e) else None
    return _one_state(element_rows(session.net, model, name, e.reference, e.answer,
                                   e.verdict))


def _one_state(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if any(k == "state" and v.startswith("OUT OF SERVICE") for k, v in rows):
        return [(k, v) for k, v in rows if k != "in_service"]
    return rows


def describe(session: Session | None, name: str) -> str:
    """The hover tooltip of an element (HTML): its data, and its results once the variant is
    prepared."""
    if session is None:
        return ""
    e = session.current
    if not entry_drawable(session, e):
        return rows_html(element_rows(session.net, None, name))
    return rows_html(_one_state(element_rows(session.net, e.variant.model, name, e.reference,
                                             e.answer, e.verdict)))
