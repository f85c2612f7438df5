"""10,000 hostile answers on PGLib case118: crashes, hangs and the slowest input (issue 10).

The answers are seeded mutations (tests/check/fuzzing.py) of the reference AC OPF answer
of pglib_opf_case118_ieee with line:10 out: integers beyond float range, wrong types, deep
nesting, NaN/Infinity, byte-order marks, duplicates, odd names, truncation, random bytes,
fences and prose, oversized texts. Each is judged as `check` judges it (both references:
cost gap and recall run too); each text is also judged as `ask --free` reads it
(`extract_answer`, then the checker). A crash is any exception; a hang is a judgement
over 1 s (the target). Then the inputs named in the issue, one by one.

Run: .venv/bin/python bench/bench_fuzz_answers.py [N] [--seed S]
"""

from __future__ import annotations

import copy
import json
import logging
import random
import statistics
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.check.fuzzing

from n1studio import pipeline
from n1studio.check import check_answer
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.parse import extract_answer
from tests.check.fuzzing import describe, mutate

CASE, OUT = "pglib_opf_case118_ieee", ["line:10"]
HANG_S = 1.0


def main(argv: list[str]) -> int:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    n = int(argv[0]) if argv and argv[0].isdigit() else 10_000
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 10
    variant = Variant(load_case(CASE), OUT)
    refs = pipeline.references(variant)
    if refs.own_answer is None:
        print(f"{CASE} {OUT}: no reference answer; cannot fuzz", file=sys.stderr)
        return 1
    base = refs.own_answer
    kw = {"reference": base, "reference_objective": refs.own_objective,
          "n_reference": refs.n_answer}
    model = variant.model
    check_answer(model, base, **kw)  # build the model's caches once

    def judge(answer):
        return check_answer(model, answer, **kw)

    def judge_free(text):
        return check_answer(model, extract_answer(text), **kw)

    rng = random.Random(seed)
    times: list[float] = []
    crashes: list[tuple[str, str, str]] = []
    hangs: list[tuple[float, str, str]] = []
    slowest = {"check": (0.0, "", ""), "free": (0.0, "", "")}
    kinds: Counter = Counter()
    t_start = time.perf_counter()
    for i in range(n):
        kind, answer = mutate(rng, copy.deepcopy(base))
        kinds[kind] += 1
        routes = [("check", judge, answer)]
        if isinstance(answer, (str, bytes)):
            text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
            routes.append(("free", judge_free, text))
        for route, fn, arg in routes:
            t0 = time.perf_counter()
            try:
                verdict = fn(arg)
                json.dumps(verdict, allow_nan=False)
                if verdict.get("schema") != "n1studio.verdict/1":
                    raise AssertionError("not a verdict")
            except Exception as exc:  # noqa: BLE001 -- counting crashes is the point
                crashes.append((f"{route} {kind}", describe(answer),
                                "".join(traceback.format_exception_only(type(exc), exc)).strip()))
                continue
            dt = time.perf_counter() - t0
            times.append(dt)
            if dt > HANG_S:
                hangs.append((dt, f"{route} {kind}", describe(answer)))
            if dt > slowest[route][0]:
                slowest[route] = (dt, kind, describe(answer))
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1:,} answers, {time.perf_counter() - t_start:.0f} s", flush=True)

    print(f"\n{CASE} with {', '.join(OUT)} out, {model.n_bus} buses; seed {seed}")
    print(f"answers        {n:,} ({len(times) + len(crashes):,} judgements: check + free mode)")
    print("mutations      " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"crashes        {len(crashes)}")
    for c in crashes[:10]:
        print(f"  {c[0]}: {c[2]}\n    input: {c[1]}")
    by_route = Counter(h[1].split()[0] for h in hangs)
    print(f"hangs (>{HANG_S:g} s) {len(hangs)} (check {by_route['check']}, free mode "
          f"{by_route['free']})")
    for h in sorted(hangs, reverse=True)[:10]:
        print(f"  {h[0]:.2f} s {h[1]}: {h[2]}")
    if times:
        q = statistics.quantiles(times, n=100)
        print(f"time per judgement: median {statistics.median(times) * 1e3:.1f} ms, "
              f"p99 {q[98] * 1e3:.1f} ms, max {max(times) * 1e3:.0f} ms")
    for route, (dt, kind, what) in slowest.items():
        print(f"slowest {route:<6} {dt * 1e3:.0f} ms, {kind}: {what}")
    print(f"total          {time.perf_counter() - t_start:.0f} s")
    named_inputs(model, base, judge)
    return 1 if crashes or hangs else 0


def named_inputs(model, base: dict, judge) -> None:
    """The inputs issue 10 timed before the fix, one by one."""
    entry = json.dumps(base["buses"][0]) + ", "
    dup50 = '{"schema": "n1studio.answer/1", "buses": [' + entry * (50_000_000 // len(entry))
    body = base["buses"] + [base["buses"][0]] * ((4_000_000 - len(json.dumps(base))) // len(entry))
    dup4 = json.dumps(dict(base, buses=body))
    fence = "```json\n" + json.dumps(base) + "\n" + " \n" * 50_000 + "x"
    many = '{"schema": "n1studio.answer/1", "generators": [], "buses": [' + "1," * 1_900_000 + "1]}"
    big = json.dumps(dict(base, objective="BIG")).replace('"BIG"', "1" + "0" * 400)
    print("\nnamed inputs (were: 29 s fence, 7-15 s braces, 21 s + 185 MB duplicates)")
    for name, fn, arg in [
            ("50 MB of duplicate buses", judge, dup50),
            (f"{len(dup4) / 1e6:.1f} MB of duplicate buses (under the limit)", judge, dup4),
            ("100 KB of white space in a fence", judge, fence),
            ("1.9 M list entries (3.8 MB)", judge, many),
            ("objective 1e400 as an integer", judge, big),
            ("extract_answer: 8,000 '{'", extract_answer, "{" * 8000),
            ("extract_answer: 100 KB fence + white space", extract_answer, fence)]:
        t0 = time.perf_counter()
        out = fn(arg)
        dt = time.perf_counter() - t0
        what = ""
        if isinstance(out, dict) and out.get("schema") == "n1studio.verdict/1":
            v = out["violations"]
            what = f"{len(v)} violations, {len(json.dumps(out)):,} bytes of verdict"
            if v:
                what += f"; first: {v[0].get('message') or v[0]['constraint']}"[:150]
        else:
            what = f"-> {type(out).__name__}"
        print(f"  {name:<44} {dt * 1e3:8.0f} ms  {what}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
