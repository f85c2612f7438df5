"""The report's plot: three panels (satisfaction, recall, distance or feasibility), the
families on the x axis, one series per model and control, each point with its 95 %
interval. SVG (text, exact, opened by any browser) drawn here with no plotting library;
`n1studio.app.curate.report.svg_to_png` rasterises it with Qt offscreen when a PNG is wanted
(the core never imports Qt)."""

from __future__ import annotations

import html

from n1studio.curate.stats import finite

_EMPTY = {"value": None, "ci": None, "n": 0}


def _cell(st: dict, key: str) -> dict:
    return (st.get("metrics") or {}).get(key) or _EMPTY


_SERIES = ("#3b6fb6", "#d1495b", "#2a9d8f", "#e9c46a", "#8e6bbf", "#f4a261")
# controls keep one colour each wherever they appear (dashed lines, square markers)
_CONTROL = {"control:reference": "#1b7837", "control:recall-n": "#762a83",
            "control:zeros": "#b35806", "control:noise": "#7f7f7f"}


def _panels(report: dict) -> list[tuple[str, str, float | None]]:
    """(title, metric, fixed top) per panel: satisfaction and recall always; distance
    when any run was judged with it, else the feasible rate."""
    has_dist = any(_cell(st, "distance_median")["n"] for m in report["models"]
                   for st in m["families"].values())
    third = (("median distance to feasibility", "distance_median", None)
             if has_dist else ("feasible answers", "feasible_rate", 1.0))
    return [("overall constraint satisfaction", "overall_satisfaction", 1.0),
            ("recalled N answer", "recalled_n_rate", 1.0), third]


def report_svg(report: dict, width: int = 1080, height: int = 440) -> str:
    """Three panels (satisfaction, recall, distance or feasibility) with the dataset's
    families on the x axis and one series per model and control (controls dashed), each
    point with its 95 % interval."""
    fams = report.get("families") or ["N", "N-1"]
    models = report["models"]
    panels = _panels(report)
    title = html.escape(report.get("dataset") or "all runs")
    n_leg = max(1, len(models))
    mt, mb = (70 if report.get("small_sample") else 50), 86 + 16 * ((n_leg + 1) // 2)
    height = max(height, mt + mb + 220)
    gap, ml = 30, 56
    pw = (width - ml - gap * (len(panels) - 1) - 20) / len(panels)
    ph = height - mt - mb
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
            'font-size="12">'),
           f'<rect width="{width}" height="{height}" fill="white"/>',
           (f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" '
            f'font-weight="bold">By family, models and controls ({title})</text>')]
    if report.get("small_sample"):
        out.append(f'<text x="{width / 2}" y="42" text-anchor="middle" fill="#b00" '
                   f'font-size="11">small sample (hollow points): some cells have fewer than '
                   f'{report.get("small_sample_runs")} runs; read the '
                   'intervals</text>')
    colours, ci_m = [], 0
    for m in models:
        if m.get("control"):
            colours.append(_CONTROL.get(str(m["model"]).split(":", 2)[0] + ":"
                                        + str(m["model"]).split(":", 2)[1], "#444444"))
        else:
            colours.append(_SERIES[ci_m % len(_SERIES)])
            ci_m += 1
    for pi, (ptitle, key, top) in enumerate(panels):
        x0 = ml + pi * (pw + gap)
        vals = [_cell(st, key)["value"] for m in models for st in m["families"].values()]
        his = [(_cell(st, key)["ci"] or [None, None])[1] for m in models
               for st in m["families"].values()]
        ymax = top if top is not None else max(finite(vals + his) or [1.0]) * 1.1 or 1.0
        out.append(f'<text x="{x0 + pw / 2:.1f}" y="{mt - 6}" text-anchor="middle" '
                   f'font-weight="bold">{html.escape(ptitle)}</text>')
        for i in range(6):
            y = mt + ph - ph * i / 5
            lab = f"{100 * ymax * i / 5:.0f}%" if top == 1.0 else f"{ymax * i / 5:.3g}"
            out.append(f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x0 + pw:.1f}" y2="{y:.1f}" '
                       'stroke="#e3e3e3"/>')
            out.append(f'<text x="{x0 - 4:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                       f'font-size="10">{lab}</text>')
        step = pw / max(1, len(fams))
        # long family names slant when they would run into each other (about 6.5 px a letter)
        slant = max(len(f) for f in fams) * 6.5 > step
        for fi, f in enumerate(fams):
            x, y = x0 + step * (fi + 0.5), mt + ph + 16
            if slant:
                out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="end" font-size="11" '
                           f'transform="rotate(-25 {x:.1f} {y - 4})">{html.escape(f)}</text>')
            else:
                out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" '
                           f'font-size="11">{html.escape(f)}</text>')
        for mi, m in enumerate(models):
            dx = (mi - (len(models) - 1) / 2) * min(6.0, step / (2 * max(1, len(models))))
            pts = []
            for fi, f in enumerate(fams):
                c = _cell(m["families"].get(f) or {}, key)
                v = c["value"]
                if v is None:
                    continue
                x = x0 + step * (fi + 0.5) + dx
                y = mt + ph - ph * min(1.0, v / ymax)
                ci = c["ci"]
                if ci:
                    y1 = mt + ph - ph * min(1.0, ci[0] / ymax)
                    y2 = mt + ph - ph * min(1.0, ci[1] / ymax)
                    out.append(f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
                               f'stroke="{colours[mi]}" stroke-width="1.2" '
                               'stroke-opacity="0.45"/>')
                pts.append((x, y, f, v, c))
            dash = ' stroke-dasharray="5,3"' if m.get("control") else ""
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y, *_ in pts)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colours[mi]}" '
                           f'stroke-width="1.6"{dash}/>')
            for x, y, f, v, c in pts:
                shape = (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7"'
                         if m.get("control") else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"')
                # a cell under the report's minimum n is drawn hollow and says so
                fill = (f'fill="white" stroke="{colours[mi]}" stroke-width="1.5"'
                        if c.get("small") else f'fill="{colours[mi]}"')
                small = ", small sample" if c.get("small") else ""
                out.append(f'{shape} {fill}><title>{html.escape(m["model"])} '
                           f'{html.escape(f)}: {v:.3g} (n={c["n"]}{small})</title>'
                           + ("</rect>" if m.get("control") else "</circle>"))
        out.append(f'<line x1="{x0:.1f}" y1="{mt + ph}" x2="{x0 + pw:.1f}" y2="{mt + ph}" '
                   'stroke="#333"/>')
    ly = mt + ph + (66 if any(len(f) * 6.5 > pw / max(1, len(fams)) for f in fams) else 40)
    for mi, m in enumerate(models or [{"model": "no runs yet", "sha256": "", "control": False}]):
        col = colours[mi] if models else "#999"
        lx = ml + (mi % 2) * (width - ml) / 2
        y = ly + 16 * (mi // 2)
        label = m["model"] if m.get("control") else f'{m["model"]} ({m["sha256"][:10]})'
        dash = ' stroke-dasharray="5,3"' if m.get("control") else ""
        out.append(f'<line x1="{lx:.1f}" y1="{y - 4}" x2="{lx + 22:.1f}" y2="{y - 4}" '
                   f'stroke="{col}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 28:.1f}" y="{y}">{html.escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
