"""The OPF question written for a model: a variant rendered through a user-editable template.

The template (`resources/prompts/opf_prompt.j2`, Jinja2, rendered in a sandbox) receives
the grid as compact, documented tables:

    BUSES      name vmin vmax Pd Qd [Gs Bs]          (pu, MW, MVAr; "ref" marks a slack bus)
    BRANCHES   name from to r x b rate [angmin angmax] [tap shift]
               (from/to: bus numbers; r x b in pu on the system base; rate in MVA, "-" =
               unlimited; angle limits in degrees; tap ratio and phase shift in degrees
               only where not 1 and 0)
    GENERATORS name bus Pmin Pmax Qmin Qmax c2 c1 c0 (MW, MVAr; cost c2*P^2 + c1*P + c0 $/h)

Precision (one rule per column, documented in resources/prompts/README.md, checked for
every bundled case by tests/llm/test_prompt_roundtrip.py). Numbers are positional, never
in exponent notation; trailing zeros after the decimal point are dropped, zeros before it
never (a 160 MVA rating reads `160`):

    vmin vmax (pu)                         4 decimals            (`fixed(x, 4)`)
    Pd Qd Gs Bs Pmin Pmax Qmin Qmax (MW, MVAr)  2 decimals       (`fixed(x, 2)`)
    rate (MVA)                             2 decimals
    angmin angmax shift (degrees)          2 decimals
    r x b tap (pu)                         6 significant digits  (`sig(x)`, at most 12 decimals)
    c2 c1 c0 ($/MW^2h, $/MWh, $/h)         6 significant digits
    infinite (no limit)                    `-`

Order matters for speed: everything shared by the N case and all its N-1 variants (the
instructions and the *base* grid) comes first, and only what differs (the outages and
their consequences) comes last. The model worker keeps the evaluated prefix in llama.cpp's
KV cache, so a second variant of the same grid only processes the short tail.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np
from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from n1studio.errors import ModelError
from n1studio.grid.model import GridModel
from n1studio.grid.variant import Variant, base_model
from n1studio.resources import resource

log = logging.getLogger(__name__)

TEMPLATE_NAME = "opf_prompt.j2"
#: Marks the end of the shared part in the template; removed from the rendered text.
SPLIT_MARK = "<<<VARIANT>>>"


@dataclass
class Prompt:
    """A rendered prompt and the elements an answer must cover, in the reference's order."""

    text: str
    shared_chars: int  # length of the part shared by every variant of this grid
    generators: list[str] = field(default_factory=list)
    buses: list[str] = field(default_factory=list)

    @property
    def shared(self) -> str:
        return self.text[: self.shared_chars]


def answer_elements(model: GridModel) -> tuple[list[str], list[str]]:
    """Generators and buses an answer for this (masked) model covers, in model order.

    Generators: every unit in service on an energised bus (ext_grid, gen, controllable
    sgen, in GridModel order). Buses: every named bus in service that is energised (sits
    in an island with a generator); internal trafo3w star points are not named.
    """
    fed = model.energised()
    gens = [n for k, n in enumerate(model.gen_names) if model.gen_on[k] and fed[model.gen_bus[k]]]
    buses = [n for k, n in enumerate(model.bus_names) if n and fed[k]]
    return gens, buses


def default_template() -> str:
    """The template shipped in resources/prompts (what the GUI shows for editing)."""
    path = resource("prompts", TEMPLATE_NAME)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"prompt template {path} cannot be read: {exc}") from None


def read_template(path: str | os.PathLike) -> str:
    """A user's template file (`--template FILE`); a file that cannot be read is one line."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise ModelError(f"cannot read the template {path}: {why}") from None


def render_prompt(variant: Variant, template: str | None = None,
                  example: dict | None = None) -> Prompt:
    """Write `variant` into the prompt template (the default one unless `template` is given).

    `example`, the solved N case as an `n1studio.answer/1` (canonical names), is written
    into the shared part as a worked example (`--example n`): a control for copying, since
    a model that copies it answers every variant with the N case."""
    src = default_template() if template is None else template
    tpl = _compile(src)
    ctx = dict(grid_context(table_model(variant), variant.relabelling))
    ctx["example"] = example_text(example, variant.relabelling) if example else ""
    ctx.update(variant_context(variant))
    try:
        text = tpl.render(**ctx)
    except Exception as exc:  # noqa: BLE001 -- a user-edited template can fail in many ways; say where
        raise ModelError(f"prompt template cannot be rendered: {type(exc).__name__}: {exc}") \
            from None
    head, mark, tail = text.partition(SPLIT_MARK)
    if not mark:  # a template without the marker: nothing is known to be shared
        head, tail = "", text
    gens, buses = prompt_elements(variant)
    return Prompt(text=head + tail, shared_chars=len(head), generators=gens, buses=buses)


def example_text(answer: dict, rl=None) -> str:
    """An answer written exactly as a model is asked to write one (compact JSON, numbers
    at the schema's precision), in the prompt's names."""
    if rl is not None:
        answer = rl.answer_to_prompt(answer)
    def r(x, nd):
        return round(float(x), nd) + 0.0  # + 0.0: never "-0.0"

    gens = [{"element": g["element"], "p_mw": r(g["p_mw"], 2), "q_mvar": r(g["q_mvar"], 2)}
            for g in answer.get("generators", [])]
    buses = [{"element": b["element"], "vm_pu": r(b["vm_pu"], 4), "va_degree": r(b["va_degree"], 2)}
             for b in answer.get("buses", [])]
    doc = {"schema": "n1studio.answer/1", "generators": gens, "buses": buses}
    if answer.get("objective") is not None:
        doc["objective"] = round(float(answer["objective"]), 2)
    return json.dumps(doc, separators=(",", ":"))


def table_model(variant: Variant) -> GridModel:
    """The grid the prompt's tables describe: the base grid (every element in service; the
    outages are said after the shared part) with the variant's load and cost perturbation.
    Every N-1 variant of one grid and perturbation shares this part of the prompt."""
    return variant.perturbation.apply_to_model(base_model(variant.base))


def prompt_elements(variant: Variant) -> tuple[list[str], list[str]]:
    """The generators and buses an answer lists, in the prompt's names and table order."""
    gens, buses = answer_elements(variant.model)
    rl = variant.relabelling
    if rl is None:
        return gens, buses
    base = base_model(variant.base)
    return (_in_table_order(gens, base.gen_names, rl, "generators"),
            _in_table_order(buses, base.bus_names, rl, "buses"))


def _in_table_order(names: list[str], rows: list[str], rl, table: str) -> list[str]:
    order = rl.row_order(len(rows), table)
    rank = {rows[k]: i for i, k in enumerate(order)}
    return [rl.name(n) for n in sorted(names, key=lambda n: rank[n])]


@functools.lru_cache(maxsize=8)
def _compile(src: str):
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True,
                                        trim_blocks=True, lstrip_blocks=True, autoescape=False)
    try:
        return env.from_string(src)
    except TemplateSyntaxError as exc:
        raise ModelError(f"prompt template, line {exc.lineno}: {exc.message}") from None


# ---- the tables ---------------------------------------------------------------------------
#: Decimals / significant digits per quantity (resources/prompts/README.md says the same).
PU_VOLTAGE_DECIMALS = 4
POWER_DECIMALS = 2  # MW, MVAr, MVA
DEGREE_DECIMALS = 2
SIGNIFICANT_DIGITS = 6  # r, x, b, tap, cost coefficients
MAX_DECIMALS = 12  # below 5e-13 a significant-digit number is written 0


def fixed(x: float, decimals: int) -> str:
    """`x` rounded to `decimals` places, positional; '-' for infinite.

    Trailing zeros after the decimal point are dropped, zeros before it never are
    (160 -> "160", 1.50 -> "1.5", -0.0 -> "0").
    """
    x = float(x)
    if not math.isfinite(x):
        return "-"
    s = f"{x:.{max(int(decimals), 0)}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def sig(x: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """`x` to `digits` significant digits, positional (never exponent notation); '-' if infinite.

    The integer part is always written in full (1234567 stays 1234567), and at most
    MAX_DECIMALS decimals are kept, so floating-point noise such as 1e-17 reads 0.
    """
    x = float(x)
    if not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    return fixed(x, min(max(digits - 1 - exponent, 0), MAX_DECIMALS))


def _bus_label(m: GridModel, k: int, rl=None) -> str:
    idx = int(m.bus_index[k])
    if idx < 0:
        return f"~{k}"  # "~k": an internal (trafo3w star) bus
    return rl.number(f"bus:{idx}") if rl is not None else str(idx)


def _rows(rows: list[str], rl, table: str) -> str:
    """A table's rows, shuffled when the variant is relabelled."""
    if rl is not None:
        rows = [rows[k] for k in rl.row_order(len(rows), table)]
    return "\n".join(rows)


def branch_parameters(m: GridModel) -> dict[str, np.ndarray]:
    """r, x, b (pu), tap ratio and shift (deg) recovered from the pi-model admittances.

    pandapower's pi model: yff = (ys + jb/2)/|t|^2, yft = -ys/conj(t), ytf = -ys/t,
    ytt = ys + jb/2, hence t/conj(t) = yft/ytf, |t|^2 = ytt/yff, ys = -yft conj(t).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.angle(m.yft / m.ytf) / 2
        ratio = np.sqrt(np.abs(m.ytt / m.yff))
        tap = ratio * np.exp(1j * shift)
        ys = -m.yft * np.conj(tap)
        z = 1 / ys
        bc = 2 * (m.ytt - ys)
    # the recovery is exact up to rounding relative to |ys| (|z|): below that it is noise
    # (a transformer's b of 0 comes back as -2e-12 on pglib case300), written as 0
    noise = 1e-10
    b = np.where(np.abs(bc.imag) <= noise * np.abs(ys), 0.0, bc.imag)
    r = np.where(np.abs(z.real) <= noise * np.abs(z), 0.0, z.real)
    x = np.where(np.abs(z.imag) <= noise * np.abs(z), 0.0, z.imag)
    return {"r": r, "x": x, "b": b, "tap": np.nan_to_num(ratio, nan=1.0),
            "shift": np.rad2deg(np.nan_to_num(shift))}


def grid_context(m: GridModel, rl=None) -> dict:
    """Template variables describing the base grid (shared by all its variants); `rl`, a
    `grid.perturb.Relabelling`, writes it under other names with the rows shuffled."""
    base = m.base_mva

    def nm(name: str) -> str:
        return rl.name(name) if rl is not None else name

    rows = []
    for k, name in enumerate(m.bus_names):
        gs, bs = fixed(m.gs[k] * base, POWER_DECIMALS), fixed(m.bs[k] * base, POWER_DECIMALS)
        cols = [nm(name) if name else f"~{k}", fixed(m.vmin[k], PU_VOLTAGE_DECIMALS),
                fixed(m.vmax[k], PU_VOLTAGE_DECIMALS), fixed(m.pd[k] * base, POWER_DECIMALS),
                fixed(m.qd[k] * base, POWER_DECIMALS)]
        if gs != "0" or bs != "0":
            cols += [gs, bs]
        if m.is_ref[k]:
            cols.append("ref")
        if not m.bus_on[k]:
            cols.append("off")
        rows.append(" ".join(cols))
    buses = _rows(rows, rl, "buses")

    bp = branch_parameters(m)
    rows = []
    for k, name in enumerate(m.branch_names):
        cols = [nm(name), _bus_label(m, m.f[k], rl), _bus_label(m, m.t[k], rl), sig(bp["r"][k]),
                sig(bp["x"][k]), sig(bp["b"][k]), fixed(m.rate[k] * base, POWER_DECIMALS)]
        if np.isfinite(m.angmin[k]) or np.isfinite(m.angmax[k]):
            cols += [fixed(np.rad2deg(m.angmin[k]), DEGREE_DECIMALS),
                     fixed(np.rad2deg(m.angmax[k]), DEGREE_DECIMALS)]
        tap, shift = sig(bp["tap"][k]), fixed(bp["shift"][k], DEGREE_DECIMALS)
        if tap != "1" or shift != "0":  # written whenever it would not read as 1 and 0
            cols += [f"tap={tap}", f"shift={shift}"]
        if not m.branch_on[k]:
            cols.append("off")
        rows.append(" ".join(cols))
    branches = _rows(rows, rl, "branches")

    rows = []
    for k, name in enumerate(m.gen_names):
        cols = [nm(name), _bus_label(m, m.gen_bus[k], rl),
                *(fixed(v * base, POWER_DECIMALS)
                  for v in (m.pmin[k], m.pmax[k], m.qmin[k], m.qmax[k])),
                sig(m.c2[k]), sig(m.c1[k]), sig(m.c0[k])]
        if not m.gen_on[k]:
            cols.append("off")
        rows.append(" ".join(cols))
    gens = _rows(rows, rl, "generators")
    return {"name": m.name, "base_mva": sig(base), "n_bus": m.n_bus,
            "n_branch": len(m.branch_names), "n_gen": len(m.gen_names),
            "buses_table": buses, "branches_table": branches, "generators_table": gens,
            "total_load_mw": fixed(float(np.sum(m.pd[m.bus_on])) * base, POWER_DECIMALS)}


def variant_context(variant: Variant) -> dict:
    """Template variables for what differs between variants: outages and their effects."""
    m = variant.model
    base = base_model(variant.base)
    gens, buses = answer_elements(m)
    # elements an answer must leave out, beyond the outages themselves
    out = set(variant.out_of_service)  # the outages and the units tripped with them
    idle_gens = [n for n in base.gen_names if n not in set(gens) and n not in out
                 and base.gen_on[base.gen_names.index(n)]]
    dead_buses = [n for n in base.bus_names if n and n not in set(buses) and n not in out]
    rep = variant.islands
    outages = list(variant.out_of_service)
    label = variant.label
    rl = variant.relabelling
    if rl is not None:  # nothing in the prompt may give the canonical names away
        outages = [rl.name(n) for n in outages]
        idle_gens = [rl.name(n) for n in idle_gens]
        dead_buses = [rl.name(n) for n in dead_buses]
        label = variant.label_with(rl.name, perturbation=False)
    gens, buses = prompt_elements(variant)
    return {"variant_label": label, "outages": outages,
            "outages_text": ", ".join(outages) if outages else "none",
            "idle_generators": idle_gens, "dead_buses": dead_buses,
            "islands_text": rep.describe(), "answer_generators": gens, "answer_buses": buses,
            "variant_load_mw": fixed(float(np.sum(m.pd[m.energised()])) * m.base_mva,
                                     POWER_DECIMALS),
            "n_answer_generators": len(gens), "n_answer_buses": len(buses)}
