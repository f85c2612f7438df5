"""The report by family: the memorisation signature, as numbers, a plot and an HTML page.

Every family has its own column, with or without a dataset: a run's family is its
variant's (n1studio.curate.families: N, N-1, N-2, load:0.1, N-1+load:0.1, relabel, ...),
and N holds only unperturbed N variants. For each model (file name + SHA-256; controls and
hand-checked answer sources marked) and each family, every cell has its value, its 95 %
interval and its n (stats.py says how each interval is made, and so does the report):
- satisfaction per constraint kind and overall (means, Student t);
- feasible, solved (feasible with |cost gap| within SOLVED_GAP), usable answers (Wilson);
- recalled N answer and nearest its own optimum, over the runs whose variant can tell
  (`recall.can_tell`) (Wilson);
- median distance to feasibility (where judged with it) and median |cost gap| (order
  statistics);
- the drop from N to each family per model, each with its own interval (paired by grid or
  Welch for means, Newcombe for rates). A model that solves rather than recalls keeps it
  near zero. Cells with fewer than SMALL_SAMPLE runs are marked in every output;
- where runs carry the likelihood probe (`eval --likelihood`: stats.likelihood.delta_ll),
  the median ΔLL per family (order statistics) and, for every pair of models (not
  controls) on a family, the AUROC of their ΔLL (Mann-Whitney, DeLong's interval).
"""

from __future__ import annotations

import functools
import json
import statistics
from pathlib import Path

import jinja2
from markupsafe import Markup

from n1studio.curate.families import N, family_order
from n1studio.curate.plot import report_svg
from n1studio.curate.stats import (
    METHODS,
    auroc,
    finite,
    mean,
    mean_ci,
    median_ci,
    newcombe,
    paired,
    welch,
    wilson,
)
from n1studio.curate.study import Study
from n1studio.errors import N1Error
from n1studio.resources import resource
from n1studio.schema import CONSTRAINT_KINDS

REPORT = "n1studio.report/2"
SMALL_SAMPLE = 30  # runs per cell below which the report marks the cell
SOLVED_GAP = 0.01  # "solved": feasible and |cost gap| at most 1 % of the reference cost
RECALL_WORDS = {"recalled": "recalled N answer", "own": "nearest its own optimum",
                "neither": "neither"}

__all__ = ["REPORT", "SMALL_SAMPLE", "SOLVED_GAP", "auroc_rows", "build_report", "delta_ll",
           "median_ci", "report_html", "report_svg", "report_text", "table_rows", "wilson",
           "write_report"]

#: metrics that are means of values in [0, 1] / rates / medians, in table order
_MEANS = (*(f"satisfaction:{k}" for k in CONSTRAINT_KINDS), "overall_satisfaction")
_DROPS = ("overall_satisfaction", *(f"satisfaction:{k}" for k in CONSTRAINT_KINDS),
          "feasible_rate", "solved_rate")


def _cell(value, ci, n: int) -> dict:
    return {"value": value, "ci": ci, "n": n, "small": 0 < n < SMALL_SAMPLE}


def _rate(k: int, n: int) -> dict:
    return _cell(k / n if n else None, wilson(k, n), n)


def _mean_cell(xs) -> dict:
    xs = finite(xs)
    return _cell(mean(xs), mean_ci(xs), len(xs))


def _median_cell(xs) -> dict:
    xs = finite(xs)
    return _cell(statistics.median(xs) if xs else None, median_ci(xs), len(xs))


def _solved(v: dict) -> bool:
    gap = v.get("cost_gap")
    return bool(v.get("feasible")) and isinstance(gap, (int, float)) and abs(gap) <= SOLVED_GAP


def _family_stats(runs: list[dict], family: str) -> dict:
    verdicts = [r["verdict"] or {} for r in runs]
    n = len(runs)
    m = {f"satisfaction:{k}": _mean_cell((v.get("satisfaction") or {}).get(k, 0.0)
                                         for v in verdicts) for k in CONSTRAINT_KINDS}
    m["overall_satisfaction"] = _mean_cell(v.get("overall_satisfaction", 0.0) for v in verdicts)
    m["feasible_rate"] = _rate(sum(1 for v in verdicts if v.get("feasible")), n)
    m["solved_rate"] = _rate(sum(1 for v in verdicts if _solved(v)), n)
    m["usable_rate"] = _rate(sum(1 for v, r in zip(verdicts, runs, strict=True)
                                 if v.get("usable", r["answer"] is not None)), n)
    m["distance_median"] = _median_cell(v.get("distance_to_feasible") for v in verdicts)
    m["cost_gap_median"] = _median_cell(abs(v["cost_gap"]) for v in verdicts
                                        if isinstance(v.get("cost_gap"), (int, float)))
    recall = [v.get("recall") if isinstance(v.get("recall"), dict) else None for v in verdicts]
    counts = dict.fromkeys([*RECALL_WORDS.values(), "cannot tell"], 0)
    if family == N:  # the N case has no N answer to recall
        m["recalled_n_rate"] = m["own_rate"] = _cell(None, None, 0)
        counts = {}
    elif any(rec is not None for rec in recall):
        telling = [rec["verdict"] for rec in recall if rec is not None and rec.get("can_tell")]
        for w in telling:
            counts[RECALL_WORDS.get(w, w)] = counts.get(RECALL_WORDS.get(w, w), 0) + 1
        counts["cannot tell"] = n - len(telling)
        m["recalled_n_rate"] = _rate(telling.count("recalled"), len(telling))
        m["own_rate"] = _rate(telling.count("own"), len(telling))
    else:  # verdicts from before the calibrated recall verdict: the flag alone
        k = sum(1 for v in verdicts if v.get("recalled_n_answer"))
        m["recalled_n_rate"], m["own_rate"] = _rate(k, n), _cell(None, None, 0)
        counts = {RECALL_WORDS["recalled"]: k}
    dll = [x for x in map(delta_ll, runs) if x is not None]
    if dll:  # absent where no run has the likelihood probe
        m["delta_ll_median"] = _median_cell(dll)
    tps = finite((r.get("stats") or {}).get("tokens_per_s") for r in runs)
    return {"runs": n, "small_sample": 0 < n < SMALL_SAMPLE, "metrics": m,
            "recall_counts": counts, "mean_tokens_per_s": mean(tps)}


def delta_ll(run: dict) -> float | None:
    """The run's likelihood-probe ΔLL (nats per token; stats.likelihood.delta_ll as `eval
    --likelihood` stores it, or stats.delta_ll), None where it has none."""
    st = run.get("stats") or {}
    lk = st.get("likelihood")
    v = lk.get("delta_ll") if isinstance(lk, dict) else st.get("delta_ll")
    return finite([v])[0] if finite([v]) else None


def _aurocs(rows: list[dict], split_runs: dict[str, dict[str, list[dict]]],
            fams: list[str]) -> list[dict]:
    """For every pair of models (not controls or sources) with ΔLL on the same family: the
    AUROC P(ΔLL of A > ΔLL of B) + ½P(=), its DeLong interval and the n of each side."""
    out = []
    models = [r for r in rows if r["kind"] == "model"]
    for i, a in enumerate(models):
        for b in models[i + 1:]:
            for f in fams:
                xa = [x for x in map(delta_ll, split_runs[a["sha256"]][f]) if x is not None]
                xb = [x for x in map(delta_ll, split_runs[b["sha256"]][f]) if x is not None]
                if not xa or not xb:
                    continue
                value, ci = auroc(xa, xb)
                out.append({"family": f, "a": a["model"], "a_sha256": a["sha256"],
                            "b": b["model"], "b_sha256": b["sha256"], "value": value,
                            "ci": ci, "n_a": len(xa), "n_b": len(xb), "method": "delong",
                            "small": min(len(xa), len(xb)) < SMALL_SAMPLE})
    return out


def _value(run: dict, key: str) -> float:
    v = run["verdict"] or {}
    if key.startswith("satisfaction:"):
        return (v.get("satisfaction") or {}).get(key.split(":", 1)[1], 0.0)
    return v.get(key, 0.0)


def _drop(key: str, n_runs: list[dict], f_runs: list[dict], nst: dict, fst: dict) -> dict:
    """N minus the family for one metric, with its interval and the method used."""
    a, b = nst["metrics"][key], fst["metrics"][key]
    out = {"value": None, "ci": None, "method": None, "df": None,
           "n_n": a["n"], "n_family": b["n"]}
    if a["value"] is None or b["value"] is None:
        return out
    if key.endswith("_rate"):
        k1 = round(a["value"] * a["n"])
        k2 = round(b["value"] * b["n"])
        return {**out, "value": a["value"] - b["value"], "method": "newcombe",
                "ci": newcombe(k1, a["n"], k2, b["n"])}
    by_grid: dict[int, list[float]] = {}
    for r in n_runs:
        by_grid.setdefault(r["grid_id"], []).append(_value(r, key))
    if all(r["grid_id"] in by_grid for r in f_runs):
        n_of = {g: sum(xs) / len(xs) for g, xs in by_grid.items()}  # N's value per grid
        diffs = [n_of[r["grid_id"]] - _value(r, key) for r in f_runs]
        ci, df = paired(diffs)
        return {**out, "value": sum(diffs) / len(diffs), "ci": ci, "df": df,
                "method": "paired by grid"}
    ci, df = welch([_value(r, key) for r in n_runs], [_value(r, key) for r in f_runs])
    return {**out, "value": a["value"] - b["value"], "ci": ci, "df": df, "method": "welch"}


def _kind(sha: str) -> str:
    return ("source" if sha.startswith("source:") else
            "control" if sha.startswith(("control:", "opfdata:")) else "model")


def build_report(study: Study, dataset_id: int | None = None) -> dict:
    """The report document (``n1studio.report/2``) of a dataset's runs (all runs if None)."""
    runs = [r for r in study.runs(dataset_id) if not r["cancelled"]]
    present = {r["split"] for r in runs}
    fams = family_order(present | {N} | (set() if present - {N} else {"N-1"}))
    by_model: dict[str, dict] = {}
    for r in runs:
        m = by_model.setdefault(r["model_sha256"], {"model": r["model"],
                                                    "sha256": r["model_sha256"], "runs": []})
        m["runs"].append(r)
    rows = []
    splits: dict[str, dict[str, list[dict]]] = {}
    for m in by_model.values():
        split = splits[m["sha256"]] = {f: [r for r in m["runs"] if r["split"] == f]
                                       for f in fams}
        families = {f: _family_stats(split[f], f) for f in fams}
        drops = {f: {k: _drop(k, split[N], split[f], families[N], families[f]) for k in _DROPS}
                 for f in fams if f != N}
        kind = _kind(m["sha256"])
        rows.append({"model": m["model"], "sha256": m["sha256"], "kind": kind,
                     "control": kind == "control", "families": families, "drops": drops})
    # models, then controls, then hand-checked answers, each group by name
    order = {"model": 0, "control": 1, "source": 2}
    rows.sort(key=lambda r: (order[r["kind"]], r["model"]))
    if dataset_id is None:
        cov = study.coverage()
        datasets = [{k: d[k] for k in ("name", "cases", "runs", "models")}
                    for d in cov["datasets"]]
        outside = cov["runs_outside_datasets"]
    else:
        name = study.dataset_name(dataset_id)
        datasets = [{"name": name, "cases": len(study.dataset_items(dataset_id)),
                     "runs": len(runs), "models": sorted({r["model"] for r in runs})}]
        outside = 0
    small = any(c["small"] for r in rows for st in r["families"].values()
                for c in st["metrics"].values())
    return {"schema": REPORT, "study": study.path.name,
            "dataset": study.dataset_name(dataset_id) if dataset_id is not None else None,
            "covers": {"datasets": datasets, "runs_outside_datasets": outside,
                       "models": [r["model"] for r in rows]},
            "constraint_kinds": list(CONSTRAINT_KINDS), "families": fams, "models": rows,
            "auroc": _aurocs(rows, splits, fams),
            "runs": len(runs), "small_sample": small, "small_sample_runs": SMALL_SAMPLE,
            "method": {**METHODS, "min_n": SMALL_SAMPLE, "solved_gap": SOLVED_GAP,
                       "solved": f"feasible, and |cost gap| at most {SOLVED_GAP:.0%} of the "
                                 "reference cost",
                       "own": "nearest its own optimum: the answer is within the recall "
                              "margin of the variant's own reference (not that it is "
                              "feasible or solved)",
                       "recall_runs": "recall rates count the runs whose variant can tell "
                                      "its N and own references apart"}}


# ---- tables -----------------------------------------------------------------------------------

SMALL_MARK = "†"


def _fmt(c: dict, pct: bool = True) -> str:
    """One cell: value [interval] n=K, with SMALL_MARK under the minimum n."""
    v, ci, n = c.get("value"), c.get("ci"), c.get("n", 0)
    if v is None:
        return f"– n={n}"
    if pct:
        text = f"{100 * v:.1f}%" + (f" [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]" if ci else "")
    else:
        text = f"{v:.3g}" + (f" [{ci[0]:.3g}–{ci[1]:.3g}]" if ci else "")
    return f"{text} n={n}" + (SMALL_MARK if c.get("small") else "")


def _fmt_drop(d: dict) -> str:
    v, ci = d.get("value"), d.get("ci")
    if v is None:
        return "–"
    ci_text = f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]" if ci else " [no interval]"
    small = SMALL_MARK if min(d["n_n"], d["n_family"]) < SMALL_SAMPLE else ""
    return f"{100 * v:+.1f}{ci_text} n={d['n_n']}/{d['n_family']}{small}"


def table_rows(report: dict, m: dict) -> list[tuple[str, list[str]]]:
    """(metric, one cell per family) for one model: what the HTML, text and window tables
    show. Every cell has its n; cells under the minimum n end with SMALL_MARK."""
    fams = report["families"]
    F = m["families"]
    out = [("runs", [str(F[f]["runs"]) + (SMALL_MARK if F[f]["small_sample"] else "")
                     for f in fams])]
    rows = [*((f"{k} satisfaction", f"satisfaction:{k}", True)
              for k in report["constraint_kinds"]),
            ("overall satisfaction", "overall_satisfaction", True),
            ("feasible answers", "feasible_rate", True),
            ("solved (feasible, gap within tolerance)", "solved_rate", True),
            ("usable answers", "usable_rate", True),
            ("median distance to feasibility", "distance_median", False),
            ("median |cost gap|", "cost_gap_median", True),
            ("recalled N answer", "recalled_n_rate", True),
            ("nearest its own optimum", "own_rate", True)]
    for label, key, pct in rows:
        out.append((label, ["" if f == N and key in ("recalled_n_rate", "own_rate")
                            else _fmt(F[f]["metrics"][key], pct) for f in fams]))
    for label, key in (("drop from N: overall satisfaction (points)", "overall_satisfaction"),
                       ("drop from N: feasible (points)", "feasible_rate"),
                       ("drop from N: solved (points)", "solved_rate")):
        out.append((label, ["" if f == N else _fmt_drop(m["drops"][f][key]) for f in fams]))
    if any("delta_ll_median" in F[f]["metrics"] for f in fams):
        out.append((DELTA_LL_LABEL, [_fmt_dll(F[f]["metrics"].get("delta_ll_median"))
                                     for f in fams]))
    return out


DELTA_LL_LABEL = "ΔLL (nats/token, median)"


def _fmt_dll(c: dict | None) -> str:
    if c is None or c.get("value") is None:
        return "–"
    ci = c.get("ci")
    text = f"{c['value']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
    return f"{text} n={c['n']}" + (SMALL_MARK if c.get("small") else "")


def auroc_rows(report: dict) -> list[tuple[str, str, str, str]]:
    """(family, model A, model B, AUROC [interval] n=A/B) for the AUROC table."""
    out = []
    for r in report.get("auroc") or []:
        ci = r["ci"]
        text = (f"{r['value']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else
                                       " [no interval]")
                + f" n={r['n_a']}/{r['n_b']}" + (SMALL_MARK if r["small"] else ""))
        out.append((r["family"], r["a"], r["b"], text))
    return out


def covers_text(report: dict) -> str:
    """One line: which datasets and models the report covers."""
    cov = report.get("covers") or {}
    ds = ", ".join(f"{d['name']} ({d['runs']} runs of {d['cases']} cases)"
                   for d in cov.get("datasets", [])) or "none"
    extra = cov.get("runs_outside_datasets")
    models = ", ".join(cov.get("models", [])) or "none"
    return (f"datasets: {ds}" + (f"; {extra} runs outside any dataset" if extra else "")
            + f". Models and sources: {models}.")


def report_html(report: dict, svg: str, png_name: str | None = None) -> str:
    """A self-contained HTML page: the plot (inline SVG) and one table per model and control,
    rendered from `resources/report/report.html.j2` with autoescape (every text from the
    study, a model's name included, is escaped; only the plot, built here, is markup)."""
    tables = [{**m, "rows": table_rows(report, m)} for m in report["models"]]
    return _templates().get_template("report.html.j2").render(
        report=report, svg=Markup(svg), png_name=png_name, tables=tables,
        aurocs=auroc_rows(report),
        covers=covers_text(report), small_mark=SMALL_MARK)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(resource("report")),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def report_text(report: dict) -> str:
    """The report as a plain-text table per model and control (the command line's output)."""
    fams = report["families"]
    lines = [f"Report by family: {report.get('dataset') or 'all runs'} ({report['runs']} runs)",
             f"Covers {covers_text(report)}",
             ("Cells: value [95 % interval] n=runs; drops in percentage points, N minus the "
              f"family; {SMALL_MARK} = fewer than {report['small_sample_runs']} runs. "
              f"Solved = {report['method']['solved']}.")]
    for m in report["models"]:
        tag = m["kind"] if m["kind"] != "model" else f"sha256 {m['sha256'][:16]}"
        lines.append(f"\n{m['model']}  {tag}")
        rows = table_rows(report, m)
        w = [max(len(f), *(len(c[i]) for _, c in rows)) + 2 for i, f in enumerate(fams)]
        lab = max(len(label) for label, _ in rows) + 2
        lines.append(f"  {'metric':<{lab}}" + "".join(f"{f:>{w[i]}}" for i, f in enumerate(fams)))
        for label, cells in rows:
            lines.append(f"  {label:<{lab}}"
                         + "".join(f"{c:>{w[i]}}" for i, c in enumerate(cells)))
    aurocs = auroc_rows(report)
    if aurocs:
        lines.append("\nAUROC of ΔLL, P(ΔLL of A > ΔLL of B) + ½P(=) [95 % DeLong] n=A/B")
        for f, a, b, text in aurocs:
            lines.append(f"  {f}: {a} vs {b}: {text}")
    if not report["models"]:
        lines.append("no runs yet: run `n1studio eval` first")
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | Path, png_writer=None) -> dict[str, Path]:
    """Write report.json, report.svg, report.html (and report.png via `png_writer(svg, path)`)."""
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
