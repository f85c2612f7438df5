"""The N-versus-N-1 report: the memorisation signature, as numbers, a plot and an HTML page.

For each model (file name + SHA-256) and split (N, N-1), over the runs of a dataset:
satisfaction per constraint kind (mean over runs), overall satisfaction, feasibility rate,
usable-answer rate, cost gap (median |gap| over runs that have one), and on N-1 the rate of
recalled N answers. The drop is N minus N-1 per kind: a model that solves rather than
recalls keeps it near zero.

The plot is SVG (text, exact, opened by any browser) drawn here with no plotting library;
`n1studio.app.curate_report.svg_to_png` rasterises it with Qt offscreen when a PNG is
wanted (the core never imports Qt).
"""

from __future__ import annotations

import html
import json
import math
import statistics
from pathlib import Path

from n1studio.curate.study import Study
from n1studio.schema import CONSTRAINT_KINDS

REPORT = "n1studio.report/1"
SPLITS = ("N", "N-1")


def _mean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return sum(xs) / len(xs) if xs else None


def _split_stats(runs: list[dict]) -> dict:
    verdicts = [r["verdict"] or {} for r in runs]
    sat = {k: _mean([v.get("satisfaction", {}).get(k, 0.0) for v in verdicts])
           for k in CONSTRAINT_KINDS}
    gaps = [abs(v["cost_gap"]) for v in verdicts if v.get("cost_gap") is not None
            and math.isfinite(v["cost_gap"])]
    return {
        "runs": len(runs),
        "satisfaction": sat,
        "overall_satisfaction": _mean([v.get("overall_satisfaction", 0.0) for v in verdicts]),
        "feasible_rate": _mean([1.0 if v.get("feasible") else 0.0 for v in verdicts]),
        "usable_rate": _mean([1.0 if v.get("usable", r["answer"] is not None) else 0.0
                              for v, r in zip(verdicts, runs)]),
        "cost_gap_median": statistics.median(gaps) if gaps else None,
        "cost_gap_runs": len(gaps),
        "recalled_n_rate": _mean([1.0 if v.get("recalled_n_answer") else 0.0 for v in verdicts]),
        "mean_tokens_per_s": _mean([(r.get("stats") or {}).get("tokens_per_s") for r in runs]),
    }


def build_report(study: Study, dataset_id: int | None = None) -> dict:
    """The report document (``n1studio.report/1``) of a dataset's runs (all runs if None)."""
    runs = [r for r in study.runs(dataset_id) if not r["cancelled"]]
    by_model: dict[str, dict] = {}
    for r in runs:
        m = by_model.setdefault(r["model_sha256"], {"model": r["model"],
                                                    "sha256": r["model_sha256"], "runs": []})
        m["runs"].append(r)
    rows = []
    for m in by_model.values():
        splits = {s: _split_stats([r for r in m["runs"] if r["split"] == s]) for s in SPLITS}
        drop = {}
        for k in (*CONSTRAINT_KINDS, "overall_satisfaction", "feasible_rate"):
            a = splits["N"]["satisfaction"].get(k) if k in CONSTRAINT_KINDS else splits["N"][k]
            b = splits["N-1"]["satisfaction"].get(k) if k in CONSTRAINT_KINDS else splits["N-1"][k]
            drop[k] = None if a is None or b is None else a - b
        if splits["N-1"]["recalled_n_rate"] is None:
            splits["N"]["recalled_n_rate"] = None
        rows.append({"model": m["model"], "sha256": m["sha256"], "splits": splits, "drop": drop})
    name = study.dataset_name(dataset_id) if dataset_id is not None else None
    return {"schema": REPORT, "study": study.path.name, "dataset": name,
            "constraint_kinds": list(CONSTRAINT_KINDS), "models": rows,
            "runs": len(runs)}


# ---- the plot -----------------------------------------------------------------------------

_COLORS = {"N": "#3b6fb6", "N-1": "#d1495b"}


def report_svg(report: dict, width: int = 900, height: int = 420) -> str:
    """Grouped bars: satisfaction per constraint kind (and overall, feasible), N vs N-1, per model."""
    cats = [*report["constraint_kinds"], "overall", "feasible"]
    models = report["models"] or [{"model": "no runs", "sha256": "", "splits": {}, "drop": {}}]
    ml, mr, mt, mb = 60, 20, 50, 90
    pw, ph = width - ml - mr, height - mt - mb
    title = html.escape(report.get("dataset") or "all runs")
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
            'font-size="12">'),
           f'<rect width="{width}" height="{height}" fill="white"/>',
           (f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" '
            f'font-weight="bold">Constraint satisfaction, N vs N-1 ({title})</text>')]
    for i in range(0, 11, 2):  # y grid and labels
        y = mt + ph - ph * i / 10
        out.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{ml + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end">{i * 10}%</text>')
    group_w = pw / len(cats)
    nbar = len(models) * 2
    bar_w = max(2.0, (group_w * 0.8) / nbar)
    for ci, cat in enumerate(cats):
        gx = ml + ci * group_w + group_w * 0.1
        for mi, m in enumerate(models):
            for si, split in enumerate(SPLITS):
                st = m["splits"].get(split) or {}
                if cat == "overall":
                    val = st.get("overall_satisfaction")
                elif cat == "feasible":
                    val = st.get("feasible_rate")
                else:
                    val = (st.get("satisfaction") or {}).get(cat)
                x = gx + (mi * 2 + si) * bar_w
                if val is None:
                    continue
                h = ph * max(0.0, min(1.0, val))
                if nbar <= 4:  # few bars: print the value on top, so a 0 % bar is seen too
                    out.append(f'<text x="{x + bar_w * 0.46:.1f}" y="{mt + ph - h - 4:.1f}" '
                               f'text-anchor="middle" font-size="10">{100 * val:.0f}%</text>')
                opacity = 1.0 - 0.35 * mi / max(1, len(models) - 1) if len(models) > 1 else 1.0
                out.append(f'<rect x="{x:.1f}" y="{mt + ph - h:.1f}" width="{bar_w * 0.92:.1f}" '
                           f'height="{h:.1f}" fill="{_COLORS[split]}" fill-opacity="{opacity:.2f}">'
                           f'<title>{html.escape(m["model"])} {split} {cat}: {val:.3f}</title></rect>')
        out.append(f'<text x="{ml + ci * group_w + group_w / 2:.1f}" y="{mt + ph + 18}" '
                   f'text-anchor="middle">{html.escape(cat)}</text>')
    out.append(f'<line x1="{ml}" y1="{mt + ph}" x2="{ml + pw}" y2="{mt + ph}" stroke="#333"/>')
    ly = mt + ph + 42
    lx = ml
    for split in SPLITS:
        out.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{_COLORS[split]}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly}">{split}</text>')
        lx += 70
    for mi, m in enumerate(models):
        out.append(f'<text x="{lx}" y="{ly + 18 * mi}">model {mi + 1}: '
                   f'{html.escape(m["model"])} ({m["sha256"][:12]})</text>')
    out.append("</svg>")
    return "\n".join(out)


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def report_html(report: dict, svg: str, png_name: str | None = None) -> str:
    """A self-contained HTML page: the plot (inline SVG) and the tables per model."""
    kinds = report["constraint_kinds"]
    style = ("body{font-family:sans-serif;margin:2em;max-width:1000px}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
             ".drop{font-weight:bold}")
    title = html.escape(report.get("dataset") or report["study"])
    intro = (f"<p>Study <code>{html.escape(report['study'])}</code>, {report['runs']} runs. "
             "A model that solves the problem scores the same on N and N-1; a drop on N-1 "
             "is the memorisation signature.</p>")
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>N-1 Studio report: {title}</title><style>{style}</style></head><body>",
             f"<h1>N versus N-1: {html.escape(report.get('dataset') or 'all runs')}</h1>",
             intro, svg]
    if png_name:
        parts.append(f"<p><a href='{html.escape(png_name)}'>PNG of the plot</a></p>")
    for m in report["models"]:
        parts.append(f"<h2>{html.escape(m['model'])}</h2><p>SHA-256 <code>{m['sha256']}</code></p>")
        parts.append("<table><tr><th>metric</th><th>N</th><th>N-1</th><th>drop</th></tr>")
        n, n1 = m["splits"]["N"], m["splits"]["N-1"]
        parts.append(f"<tr><td>runs</td><td>{n['runs']}</td><td>{n1['runs']}</td><td></td></tr>")
        for k in kinds:
            parts.append(f"<tr><td>{k} satisfaction</td><td>{_pct(n['satisfaction'][k])}</td>"
                         f"<td>{_pct(n1['satisfaction'][k])}</td>"
                         f"<td class='drop'>{_pct(m['drop'][k])}</td></tr>")
        for key, label in (("overall_satisfaction", "overall satisfaction"),
                           ("feasible_rate", "feasible answers")):
            parts.append(f"<tr><td>{label}</td><td>{_pct(n[key])}</td><td>{_pct(n1[key])}</td>"
                         f"<td class='drop'>{_pct(m['drop'][key])}</td></tr>")
        parts.append(f"<tr><td>usable answers</td><td>{_pct(n['usable_rate'])}</td>"
                     f"<td>{_pct(n1['usable_rate'])}</td><td></td></tr>")
        parts.append(f"<tr><td>median |cost gap|</td><td>{_pct(n['cost_gap_median'])}</td>"
                     f"<td>{_pct(n1['cost_gap_median'])}</td><td></td></tr>")
        parts.append(f"<tr><td>recalled N answer</td><td></td>"
                     f"<td>{_pct(n1['recalled_n_rate'])}</td><td></td></tr></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def report_text(report: dict) -> str:
    """The report as a plain-text table (the command line's default output)."""
    lines = [f"N vs N-1 report: {report.get('dataset') or 'all runs'} ({report['runs']} runs)"]
    for m in report["models"]:
        lines.append(f"\n{m['model']}  sha256 {m['sha256'][:16]}")
        n, n1 = m["splits"]["N"], m["splits"]["N-1"]
        lines.append(f"  {'metric':<24}{'N':>9}{'N-1':>9}{'drop':>9}")
        lines.append(f"  {'runs':<24}{n['runs']:>9}{n1['runs']:>9}")
        for k in report["constraint_kinds"]:
            lines.append(f"  {k:<24}{_pct(n['satisfaction'][k]):>9}"
                         f"{_pct(n1['satisfaction'][k]):>9}{_pct(m['drop'][k]):>9}")
        for key, label in (("overall_satisfaction", "overall"), ("feasible_rate", "feasible")):
            lines.append(f"  {label:<24}{_pct(n[key]):>9}{_pct(n1[key]):>9}"
                         f"{_pct(m['drop'][key]):>9}")
        lines.append(f"  {'median |cost gap|':<24}{_pct(n['cost_gap_median']):>9}"
                     f"{_pct(n1['cost_gap_median']):>9}")
        lines.append(f"  {'recalled N answer':<24}{'':>9}{_pct(n1['recalled_n_rate']):>9}")
    if not report["models"]:
        lines.append("no runs yet: run `n1studio eval` first")
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | Path, png_writer=None) -> dict[str, Path]:
    """Write report.json, report.svg, report.html (and report.png via `png_writer(svg, path)`)."""
    from n1studio.errors import N1Error

    d = Path(out_dir).expanduser()
    try:
        d.mkdir(parents=True, exist_ok=True)
        svg = report_svg(report)
        files = {"json": d / "report.json", "svg": d / "report.svg", "html": d / "report.html"}
        files["json"].write_text(json.dumps(report, indent=2, allow_nan=False), encoding="utf-8")
        files["svg"].write_text(svg, encoding="utf-8")
        png_name = None
        if png_writer is not None:
            files["png"] = d / "report.png"
            png_writer(svg, files["png"])
            png_name = files["png"].name
        files["html"].write_text(report_html(report, svg, png_name), encoding="utf-8")
    except OSError as exc:
        raise N1Error(f"cannot write the report into {d}: {exc.strerror}") from None
    return files
