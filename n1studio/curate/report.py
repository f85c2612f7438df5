"""The N-versus-N-1 report: the memorisation signature, as numbers, a plot and an HTML page.

For each model (file name + SHA-256; controls marked) and each family of the dataset (its
split labels: `N`, `N-1`, `N-2`, `load:0.1`, `relabel`, ... in dataset order), over the
runs of a dataset:
- satisfaction per constraint kind and overall (mean over runs, with a 95 % interval:
  mean ± 1.96 standard errors, clipped to [0, 1]);
- feasible rate, usable-answer rate and recall rate (Wilson 95 % score intervals; the
  recall rate counts "recalled" over the runs whose variant can tell, `recall.can_tell`);
- median distance to feasibility where the runs were judged with it (95 % interval from
  the binomial order statistics), median |cost gap|;
- the drop from N per family: N's value minus the family's. A model that solves rather
  than recalls keeps it near zero. Fewer than SMALL_SAMPLE runs in a cell says so.

The plot is SVG (text, exact, opened by any browser) drawn here with no plotting library;
`n1studio.app.curate.report.svg_to_png` rasterises it with Qt offscreen when a PNG is
wanted (the core never imports Qt).
"""

from __future__ import annotations

import functools
import html
import json
import math
import statistics
from pathlib import Path

import jinja2
from markupsafe import Markup

from n1studio.curate.study import Study
from n1studio.resources import resource
from n1studio.schema import CONSTRAINT_KINDS

REPORT = "n1studio.report/1"
SPLITS = ("N", "N-1")
SMALL_SAMPLE = 30  # runs per cell below which intervals are wide and the report says so
Z95 = 1.959964


def _finite(xs) -> list[float]:
    return [float(x) for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)
            and math.isfinite(x)]


def _mean(xs) -> float | None:
    xs = _finite(xs)
    return sum(xs) / len(xs) if xs else None


def mean_ci(xs) -> list[float] | None:
    """95 % interval of a mean of values in [0, 1] (normal approximation, clipped)."""
    xs = _finite(xs)
    if not xs:
        return None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return [0.0, 1.0]
    se = statistics.stdev(xs) / math.sqrt(len(xs))
    return [max(0.0, m - Z95 * se), min(1.0, m + Z95 * se)]


def wilson(k: int, n: int) -> list[float] | None:
    """Wilson score 95 % interval of a rate k/n (sound for small n and rates near 0 or 1)."""
    if n <= 0:
        return None
    p = k / n
    d = 1 + Z95 ** 2 / n
    c = (p + Z95 ** 2 / (2 * n)) / d
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / d
    return [max(0.0, c - h), min(1.0, c + h)]


def median_ci(xs) -> list[float] | None:
    """95 % interval of a median from the order statistics (binomial(n, 1/2) ranks)."""
    xs = sorted(_finite(xs))
    n = len(xs)
    if n == 0:
        return None
    half = Z95 * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half))
    hi = min(n - 1, math.ceil(n / 2 + half) - 1)
    return [xs[lo], xs[max(lo, hi)]]


def _recall_word(v: dict) -> str | None:
    rec = v.get("recall")
    if isinstance(rec, dict) and isinstance(rec.get("verdict"), str):
        return rec["verdict"]
    return None


def _family_stats(runs: list[dict]) -> dict:
    verdicts = [r["verdict"] or {} for r in runs]
    sat = {k: [v.get("satisfaction", {}).get(k, 0.0) for v in verdicts] for k in CONSTRAINT_KINDS}
    overall = [v.get("overall_satisfaction", 0.0) for v in verdicts]
    gaps = _finite(abs(v["cost_gap"]) for v in verdicts if v.get("cost_gap") is not None)
    dist = _finite(v.get("distance_to_feasible") for v in verdicts)
    feasible = sum(1 for v in verdicts if v.get("feasible"))
    usable = sum(1 for v, r in zip(verdicts, runs) if v.get("usable", r["answer"] is not None))
    words = [_recall_word(v) for v in verdicts]
    if any(w is not None for w in words):
        tells = [bool((v.get("recall") or {}).get("can_tell")) for v in verdicts]
        telling = [w for w, t in zip(words, tells) if t]
        recalled = sum(1 for w in telling if w == "recalled")
        counts = {w: telling.count(w) for w in ("recalled", "own", "neither")}
        counts["cannot tell"] = len(words) - len(telling)
    else:  # verdicts from before the calibrated recall verdict: the flag alone
        telling = verdicts
        recalled = sum(1 for v in verdicts if v.get("recalled_n_answer"))
        counts = {"recalled": recalled}
    n = len(runs)
    return {
        "runs": n,
        "small_sample": n < SMALL_SAMPLE,
        "satisfaction": {k: _mean(x) for k, x in sat.items()},
        "satisfaction_ci": {k: mean_ci(x) for k, x in sat.items()},
        "overall_satisfaction": _mean(overall),
        "overall_satisfaction_ci": mean_ci(overall),
        "feasible_rate": feasible / n if n else None,
        "feasible_rate_ci": wilson(feasible, n),
        "usable_rate": usable / n if n else None,
        "cost_gap_median": statistics.median(gaps) if gaps else None,
        "cost_gap_runs": len(gaps),
        "distance_median": statistics.median(dist) if dist else None,
        "distance_ci": median_ci(dist),
        "distance_runs": len(dist),
        "recalled_n_rate": recalled / len(telling) if telling else None,
        "recalled_n_rate_ci": wilson(recalled, len(telling)),
        "recall_runs": len(telling),
        "recall_counts": counts,
        "mean_tokens_per_s": _mean((r.get("stats") or {}).get("tokens_per_s") for r in runs),
    }


def _families(runs: list[dict]) -> list[str]:
    """Families in a stable order: N, then N-1, N-2, ..., then the rest as first seen."""
    seen: list[str] = []
    for r in runs:
        if r["split"] not in seen:
            seen.append(r["split"])

    def key(f: str):
        if f == "N":
            return (0, 0, "")
        if f.startswith("N-") and f[2:].isdigit():
            return (1, int(f[2:]), "")
        return (2, seen.index(f), f)

    return sorted(seen, key=key)


_DROP_KEYS = ("overall_satisfaction", "feasible_rate")


def build_report(study: Study, dataset_id: int | None = None) -> dict:
    """The report document (``n1studio.report/1``) of a dataset's runs (all runs if None)."""
    runs = [r for r in study.runs(dataset_id) if not r["cancelled"]]
    fams = _families(runs) or list(SPLITS)
    for f in SPLITS:  # N and N-1 always have a column (empty when not in the dataset)
        if f not in fams:
            fams.append(f)
    fams = _families([{"split": f} for f in fams])
    by_model: dict[str, dict] = {}
    for r in runs:
        m = by_model.setdefault(r["model_sha256"], {"model": r["model"],
                                                    "sha256": r["model_sha256"], "runs": []})
        m["runs"].append(r)
    rows = []
    for m in by_model.values():
        families = {f: _family_stats([r for r in m["runs"] if r["split"] == f]) for f in fams}
        n = families["N"]
        drops = {}
        for f in fams:
            if f == "N":
                continue
            st = families[f]
            d = {k: (None if n["satisfaction"][k] is None or st["satisfaction"][k] is None
                     else n["satisfaction"][k] - st["satisfaction"][k]) for k in CONSTRAINT_KINDS}
            for k in _DROP_KEYS:
                d[k] = None if n[k] is None or st[k] is None else n[k] - st[k]
            drops[f] = d
        # the N case has no N answer to recall: no recall rate there
        families["N"].update(recalled_n_rate=None, recalled_n_rate_ci=None, recall_runs=0)
        rows.append({"model": m["model"], "sha256": m["sha256"],
                     "control": str(m["model"]).startswith("control:"),
                     "families": families, "splits": families,
                     "drops": drops, "drop": drops.get("N-1", {})})
    # controls after models, each group by name: a reader finds the calibration together
    rows.sort(key=lambda r: (r["control"], r["model"]))
    name = study.dataset_name(dataset_id) if dataset_id is not None else None
    small = any(st["runs"] and st["small_sample"] for r in rows for st in r["families"].values())
    return {"schema": REPORT, "study": study.path.name, "dataset": name,
            "constraint_kinds": list(CONSTRAINT_KINDS), "families": fams, "models": rows,
            "runs": len(runs), "small_sample": small, "small_sample_runs": SMALL_SAMPLE}


# ---- the plot -----------------------------------------------------------------------------

_SERIES = ("#3b6fb6", "#d1495b", "#2a9d8f", "#e9c46a", "#8e6bbf", "#f4a261")
# controls keep one colour each wherever they appear (dashed lines, square markers)
_CONTROL = {"control:reference": "#1b7837", "control:recall-n": "#762a83",
            "control:zeros": "#b35806", "control:noise": "#7f7f7f"}


def _panels(report: dict) -> list[tuple[str, str, str | None, float | None]]:
    """(title, key, ci key, fixed top) per panel: satisfaction and recall always; distance
    when any run was judged with it, else the feasible rate."""
    has_dist = any(st.get("distance_runs") for m in report["models"]
                   for st in m["families"].values())
    third = (("median distance to feasibility", "distance_median", "distance_ci", None)
             if has_dist else ("feasible answers", "feasible_rate", "feasible_rate_ci", 1.0))
    return [("overall constraint satisfaction", "overall_satisfaction",
             "overall_satisfaction_ci", 1.0),
            ("recalled N answer", "recalled_n_rate", "recalled_n_rate_ci", 1.0), third]


def report_svg(report: dict, width: int = 1080, height: int = 440) -> str:
    """Three panels (satisfaction, recall, distance or feasibility) with the dataset's
    families on the x axis and one series per model and control (controls dashed), each
    point with its 95 % interval."""
    fams = report.get("families") or list(SPLITS)
    models = report["models"]
    panels = _panels(report)
    title = html.escape(report.get("dataset") or "all runs")
    n_leg = max(1, len(models))
    mt, mb = (70 if report.get("small_sample") else 50), 70 + 16 * ((n_leg + 1) // 2)
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
                   f'font-size="11">small sample: some cells have fewer than '
                   f'{report.get("small_sample_runs", SMALL_SAMPLE)} runs; read the '
                   'intervals</text>')
    colours, ci_m = [], 0
    for m in models:
        if m.get("control"):
            colours.append(_CONTROL.get(str(m["model"]).split(":", 2)[0] + ":"
                                        + str(m["model"]).split(":", 2)[1], "#444444"))
        else:
            colours.append(_SERIES[ci_m % len(_SERIES)])
            ci_m += 1
    for pi, (ptitle, key, ci_key, top) in enumerate(panels):
        x0 = ml + pi * (pw + gap)
        vals = [st.get(key) for m in models for st in m["families"].values()]
        his = [(st.get(ci_key) or [None, None])[1] for m in models
               for st in m["families"].values()]
        ymax = top if top is not None else max(_finite(vals + his) or [1.0]) * 1.1 or 1.0
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
        for fi, f in enumerate(fams):
            out.append(f'<text x="{x0 + step * (fi + 0.5):.1f}" y="{mt + ph + 16}" '
                       f'text-anchor="middle" font-size="11">{html.escape(f)}</text>')
        for mi, m in enumerate(models):
            dx = (mi - (len(models) - 1) / 2) * min(6.0, step / (2 * max(1, len(models))))
            pts = []
            for fi, f in enumerate(fams):
                st = m["families"].get(f) or {}
                v = st.get(key)
                if v is None:
                    continue
                x = x0 + step * (fi + 0.5) + dx
                y = mt + ph - ph * min(1.0, v / ymax)
                ci = st.get(ci_key)
                if ci:
                    y1 = mt + ph - ph * min(1.0, ci[0] / ymax)
                    y2 = mt + ph - ph * min(1.0, ci[1] / ymax)
                    out.append(f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
                               f'stroke="{colours[mi]}" stroke-width="1.2" '
                               'stroke-opacity="0.45"/>')
                pts.append((x, y, f, v))
            dash = ' stroke-dasharray="5,3"' if m.get("control") else ""
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colours[mi]}" '
                           f'stroke-width="1.6"{dash}/>')
            for x, y, f, v in pts:
                shape = (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7"'
                         if m.get("control") else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"')
                out.append(f'{shape} fill="{colours[mi]}"><title>{html.escape(m["model"])} '
                           f'{html.escape(f)}: {v:.3g}</title>'
                           + ("</rect>" if m.get("control") else "</circle>"))
        out.append(f'<line x1="{x0:.1f}" y1="{mt + ph}" x2="{x0 + pw:.1f}" y2="{mt + ph}" '
                   'stroke="#333"/>')
    ly = mt + ph + 40
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


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci, pct: bool = True) -> str:
    if not ci:
        return ""
    if pct:
        return f" [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]"
    return f" [{ci[0]:.3g}–{ci[1]:.3g}]"


def _num(x) -> str:
    return "–" if x is None else f"{x:.3g}"


def table_rows(report: dict, m: dict) -> list[tuple[str, list[str]]]:
    """(metric, one cell per family) for one model: what the HTML and text tables show."""
    fams = report["families"]
    F = m["families"]
    out = [("runs", [str(F[f]["runs"]) + (" (small)" if F[f]["runs"] and F[f]["small_sample"]
                                          else "") for f in fams])]
    for k in report["constraint_kinds"]:
        out.append((f"{k} satisfaction", [_pct(F[f]["satisfaction"][k])
                                          + _ci(F[f]["satisfaction_ci"][k]) for f in fams]))
    out.append(("overall satisfaction", [_pct(F[f]["overall_satisfaction"])
                                         + _ci(F[f]["overall_satisfaction_ci"]) for f in fams]))
    out.append(("feasible answers", [_pct(F[f]["feasible_rate"]) + _ci(F[f]["feasible_rate_ci"])
                                     for f in fams]))
    out.append(("usable answers", [_pct(F[f]["usable_rate"]) for f in fams]))
    out.append(("median distance to feasibility",
                [_num(F[f]["distance_median"]) + _ci(F[f]["distance_ci"], pct=False)
                 for f in fams]))
    out.append(("median |cost gap|", [_pct(F[f]["cost_gap_median"]) for f in fams]))
    out.append(("recalled N answer", ["" if f == "N" else _pct(F[f]["recalled_n_rate"])
                                      + _ci(F[f]["recalled_n_rate_ci"]) for f in fams]))
    out.append(("drop from N (overall)", ["" if f == "N" else _pct(m["drops"][f]["overall_satisfaction"])
                                          for f in fams]))
    out.append(("drop from N (feasible)", ["" if f == "N" else _pct(m["drops"][f]["feasible_rate"])
                                           for f in fams]))
    return out


def report_html(report: dict, svg: str, png_name: str | None = None) -> str:
    """A self-contained HTML page: the plot (inline SVG) and one table per model and control,
    rendered from `resources/report/report.html.j2` with autoescape (every text from the
    study, a model's name included, is escaped; only the plot, built here, is markup)."""
    tables = [{**m, "rows": table_rows(report, m)} for m in report["models"]]
    return _templates().get_template("report.html.j2").render(
        report=report, svg=Markup(svg), png_name=png_name, tables=tables)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(resource("report")),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def report_text(report: dict) -> str:
    """The report as a plain-text table per model and control (the command line's output)."""
    fams = report["families"]
    lines = [f"Report by family: {report.get('dataset') or 'all runs'} ({report['runs']} runs)"]
    if report.get("small_sample"):
        lines.append(f"small sample: some cells have fewer than {report['small_sample_runs']} "
                     "runs; [brackets] are 95 % intervals")
    for m in report["models"]:
        tag = "control" if m["control"] else f"sha256 {m['sha256'][:16]}"
        lines.append(f"\n{m['model']}  {tag}")
        rows = table_rows(report, m)
        w = [max(len(f), *(len(c[i]) for _, c in rows)) + 2 for i, f in enumerate(fams)]
        lines.append(f"  {'metric':<31}" + "".join(f"{f:>{w[i]}}" for i, f in enumerate(fams)))
        for label, cells in rows:
            lines.append(f"  {label:<31}" + "".join(f"{c:>{w[i]}}" for i, c in enumerate(cells)))
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
