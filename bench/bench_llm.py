"""Model runtime benchmark (default model, CPU): prints the issue's three targets side by side.

1. Time to a complete, schema-valid answer for case14 and case30 N-1 variants: our
   scaffolded constrained answer against the plain approach (llama-cpp-python's
   `create_completion` with `LlamaGrammar.from_json_schema(answer_json_schema())`), both
   from a cold context on the same Llama object, greedy. The plain approach is capped
   (--plain-tokens, --plain-seconds) and reported as "did not finish" when it hits the cap.
   Target: ours at least 3x faster.
2. Time to first token of a second N-1 variant of case118 after a first one, through the
   worker process (prefix cache). Target: at most 20 % of the first's.
3. Decoding speed: our streamed tokens/s in free mode against llama.cpp's own figure
   (llama_perf_context of the same context, same threads). Target: within 10 %.
4. A cold constrained case14 answer (fresh worker, empty cache) with the prompt read on
   one thread (the old setting), on every core, and automatically (n_threads_batch=0, the
   default: every core that the load average leaves free), decoding on n_threads.
   Target: at most 10 s.
5. A grid's prompt read once per grid, not once per process: a fresh worker answers case14
   N-1 line:3 with an empty prompt-state folder (cold: it reads and saves the shared part),
   then another fresh worker answers N-1 line:5 of the same grid (warm: it loads the
   shared part from disk). First-token time, prompt time and the whole answer of each, and
   where the constrained numbers' time goes (tokens per number, seconds per constrained
   step: the one-token decode and the rest of the loop). Target: warm first token <= 2 s,
   warm answer <= 10 s.
6. The likelihood probe beside an answer, case14 and case118 N-1: seconds and the worker's
   peak resident memory (VmHWM) of one constrained answer and of one likelihood (two texts
   scored after the prompt), each in a fresh worker without prompt states on disk.

    .venv/bin/python bench/bench_llm.py [--quick] [--threads N] [--skip answer,ttft,...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from n1studio import pipeline
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.client import ModelClient
from n1studio.llm.engine import Engine
from n1studio.llm.likelihood import likelihood
from n1studio.llm.prompt import render_prompt
from n1studio.llm.runtime import FREE, ModelSettings
from n1studio.llm.scaffold import answer_plan, max_number_tokens
from n1studio.schema import ANSWER, answer_json_schema


def valid_for(doc, prompt) -> tuple[bool, bool]:
    """(valid against the generic schema, valid for exactly this variant's elements)."""
    if not isinstance(doc, dict) or doc.get("schema") != ANSWER:
        return False, False
    gens, buses = doc.get("generators"), doc.get("buses")
    if not isinstance(gens, list) or not isinstance(buses, list):
        return False, False
    num = (int, float)
    ok = all(isinstance(g, dict) and isinstance(g.get("element"), str)
             and isinstance(g.get("p_mw"), num) and isinstance(g.get("q_mvar"), num) for g in gens)
    ok = ok and all(isinstance(b, dict) and isinstance(b.get("element"), str)
                    and isinstance(b.get("vm_pu"), num) and isinstance(b.get("va_degree"), num)
                    for b in buses)
    exact = ok and [g["element"] for g in gens] == prompt.generators and \
        [b["element"] for b in buses] == prompt.buses
    return ok, exact


def cold(engine: Engine) -> None:
    engine.llama.reset()
    engine.llama._ctx.kv_cache_clear()


def ours(engine: Engine, prompt) -> dict:
    cold(engine)
    plan = answer_plan(prompt)
    t0 = time.perf_counter()
    r = engine.run(prompt.text, plan, max_number_tokens(plan), lambda e: None, lambda: False)
    wall = time.perf_counter() - t0
    doc = json.loads(r["raw"])
    ok, exact = valid_for(doc, prompt)
    return {"s": wall, "tokens": r["stats"]["completion_tokens"], "valid": ok, "exact": exact,
            "prompt_tokens": r["stats"]["prompt_tokens"]}


def plain(engine: Engine, prompt, max_tokens: int, max_s: float) -> dict:
    from llama_cpp import LlamaGrammar

    cold(engine)
    grammar = LlamaGrammar.from_json_schema(json.dumps(answer_json_schema()), verbose=False)
    t0 = time.perf_counter()
    text, n, capped = "", 0, False
    for chunk in engine.llama.create_completion(prompt.text, grammar=grammar, max_tokens=max_tokens,
                                                temperature=0.0, stream=True):
        text += chunk["choices"][0]["text"]
        n += 1
        if time.perf_counter() - t0 > max_s:
            capped = True
            break
    wall = time.perf_counter() - t0
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    ok, exact = valid_for(doc, prompt)
    return {"s": wall, "tokens": n, "valid": ok, "exact": exact,
            "finished": ok and not capped, "tail": text[-60:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="case14 only; the plain approach is stopped at 3.2x our time")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--plain-tokens", type=int, default=1500)
    ap.add_argument("--plain-seconds", type=float, default=200.0)
    ap.add_argument("--skip", default="",
                    help="comma list of parts to skip: answer,ttft,decode,cold,warm,likelihood")
    ap.add_argument("--likelihood-cases", default="case14,case118",
                    help="part 6: the cases (N-1 of their first line)")
    ap.add_argument("--prompt-threads", default="1,0,2",
                    help="part 4: prompt thread counts to compare (0 = automatic)")
    ap.add_argument("--repeats", type=int, default=2, help="part 4: runs of each")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    base = ModelSettings() if args.threads is None else ModelSettings(n_threads=args.threads)
    s = base.resolved()
    if args.quick:  # the plain approach gets 3.2x our time (at least 30 s)
        args.plain_seconds = 30.0
    print(f"model {s.model_path}\nthreads {s.n_threads} (decode) / {s.n_threads_batch} "
          f"(prompt, 0 = automatic), greedy, CPU, load average {os.getloadavg()[0]:.1f}\n")

    if "answer" not in skip:
        print("1. time to a complete schema-valid answer (cold context, prompt included)")
        print(f"{'variant':<22}{'prompt tok':>11}{'ours s':>9}{'tokens':>8}{'exact':>7}"
              f"{'plain s':>10}{'tokens':>8}{'plain result':>28}{'speed-up':>10}")
        engine = Engine(s.to_dict(), n_ctx=8192)
        cases = [("case14", "line:3")] if args.quick else [("case14", "line:3"),
                                                            ("case30", "line:5")]
        for case, out in cases:
            p = render_prompt(Variant(load_case(case), [out]))
            a = ours(engine, p)
            cap_s = args.plain_seconds
            if args.quick:  # enough to show the 3x target, not more
                cap_s = max(cap_s, 3.2 * a["s"])
            b = plain(engine, p, args.plain_tokens, cap_s)
            res = "valid" if b["finished"] else (
                f"did not finish ({b['tokens']} tok)" if not b["valid"] else "capped")
            speed = f">{b['s'] / a['s']:.1f}x" if not b["finished"] else f"{b['s'] / a['s']:.1f}x"
            print(f"{case + ' -' + out:<22}{a['prompt_tokens']:>11}{a['s']:>9.1f}{a['tokens']:>8}"
                  f"{a['exact']!s:>7}{b['s']:>10.1f}{b['tokens']:>8}{res:>28}{speed:>10}")
            if not b["finished"]:
                print(f"{'':<22}plain approach's last text: {b['tail']!r}")
        engine.llama.close()
        print()

    if "ttft" not in skip:
        print("2. time to first token, case118, through the worker (prefix cache)")
        net = load_case("case118")
        fs = ModelSettings(**{**s.to_dict(), "mode": FREE, "max_tokens": 2})
        with ModelClient(fs) as client:
            rows = []
            for out in ("line:7", "line:20"):
                p = render_prompt(Variant(net, [out]))
                r = client.complete(p.text, settings=fs, max_tokens=2)
                rows.append((out, r.stats))
            for out, st in rows:
                print(f"  N-1 {out:<9} prompt {st['prompt_tokens']:>6} tokens, cached "
                      f"{st['cached_tokens']:>6}, first token after {st['ttft_s']:.2f} s "
                      f"(model load {st.get('load_s', 0):.2f} s, not included)")
            ratio = rows[1][1]["ttft_s"] / rows[0][1]["ttft_s"]
            print(f"  second / first: {ratio:.1%} (target <= 20 %)\n")

    if "decode" not in skip:
        print("3. decoding speed, free mode, 128 tokens, through the worker")
        fs = ModelSettings(**{**s.to_dict(), "mode": FREE, "max_tokens": 128})
        p = render_prompt(Variant(load_case("case9")))
        with ModelClient(fs) as client:
            client.complete(p.text, settings=fs, max_tokens=2)  # load and cache the prompt
            # an instruction-free tail that keeps the model writing numbers for 128 tokens
            r = client.complete(p.text + "1.0", settings=fs, max_tokens=128)
            st = r.stats
        ours_tps, llama_tps = st["tokens_per_s"], st["llama_decode_tokens_per_s"]
        print(f"  ours (streamed, wall clock): {ours_tps:.2f} tokens/s over "
              f"{st['completion_tokens']} tokens")
        print(f"  llama.cpp's own figure:      {llama_tps:.2f} tokens/s over "
              f"{st['llama_decode_tokens']} decodes")
        print(f"  ratio: {ours_tps / llama_tps:.1%} (target >= 90 %)\n")

    if "cold" not in skip:
        os.environ["N1STUDIO_PROMPT_CACHE"] = "off"  # cold: no prompt state from disk
        cold_answer(s, [int(x) for x in args.prompt_threads.split(",")], args.repeats)
        os.environ.pop("N1STUDIO_PROMPT_CACHE")
    if "warm" not in skip:
        warm_start(s)
    if "likelihood" not in skip:
        likelihood_beside_answer(s, args.likelihood_cases.split(","))
    return 0


def peak_rss_mb(pid: int | None) -> float:
    """A process's peak resident memory (VmHWM) in MB, read while it lives."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def plan_line(st: dict) -> str:
    pl = st.get("plan") or {}
    steps = max(pl.get("steps", 0), 1)
    per = pl.get("steps", 0) / max(pl.get("numbers", 1), 1)
    return (f"{pl.get('numbers', 0)} numbers, {per:.2f} steps per number, "
            f"{1000 * pl.get('numbers_s', 0) / steps:.1f} ms per step "
            f"({1000 * pl.get('decode_s', 0) / steps:.1f} ms decoding one token, "
            f"{1000 * (pl.get('numbers_s', 0) - pl.get('decode_s', 0)) / steps:.1f} ms the rest); "
            f"fixed text {pl.get('text_tokens', 0)} tokens in {pl.get('text_s', 0):.2f} s")


def warm_start(s: ModelSettings) -> None:
    """Part 5: cold then warm (prompt state on disk) constrained case14 answers."""
    print("5. a new process about a grid already seen: case14, fresh worker each time")
    net = load_case("case14")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["N1STUDIO_PROMPT_CACHE"] = folder
        try:
            for label, out in (("cold", "line:3"), ("warm", "line:5")):
                p = render_prompt(Variant(net, [out]))
                plan = answer_plan(p)
                with ModelClient(s) as client:
                    r = client.complete(p.text, plan=plan, max_tokens=max_number_tokens(plan),
                                        settings=s, shared_chars=p.shared_chars)
                st = r.stats
                print(f"  {label} N-1 {out:<8} prompt {st['prompt_tokens']} tokens "
                      f"({st['prompt_state']}, {st['cached_tokens']} from disk) in "
                      f"{st['prompt_s']:.2f} s; first token {st['ttft_s']:.2f} s; answer "
                      f"{st['wall_s']:.2f} s; model load {st.get('load_s', 0):.2f} s apart",
                      flush=True)
                print(f"  {'':<4}{plan_line(st)}")
        finally:
            os.environ.pop("N1STUDIO_PROMPT_CACHE")
    print("  (targets: warm first token <= 2 s, warm answer <= 10 s)\n")


def likelihood_beside_answer(s: ModelSettings, cases: list[str]) -> None:
    """Part 6: one constrained answer and one likelihood, seconds and peak memory."""
    print("6. the likelihood probe beside an answer (fresh worker each, no prompt state)")
    os.environ["N1STUDIO_PROMPT_CACHE"] = "off"
    try:
        for case in cases:
            net = load_case(case)
            v = Variant(net, [f"line:{2 if case == 'case14' else 6}"])
            p = render_prompt(v)
            refs = pipeline.references(v)
            plan = answer_plan(p)
            with ModelClient(s) as client:
                t0 = time.perf_counter()
                r = client.complete(p.text, plan=plan, max_tokens=max_number_tokens(plan),
                                    settings=s, shared_chars=p.shared_chars)
                ans_s, ans_mb = time.perf_counter() - t0, peak_rss_mb(client.worker_pid)
            with ModelClient(s) as client:
                t0 = time.perf_counter()
                lk = likelihood(v, p, refs.n_answer, refs.own_answer, s, client=client)
                lk_s, lk_mb = time.perf_counter() - t0, peak_rss_mb(client.worker_pid)
            st = lk.stats
            print(f"  {case} {v.label}: prompt {r.stats['prompt_tokens']} tokens", flush=True)
            print(f"    answer     {ans_s:7.1f} s (prompt {r.stats['prompt_s']:.1f} s), peak "
                  f"{ans_mb:6.0f} MB, {r.stats['completion_tokens']} tokens written")
            print(f"    likelihood {lk_s:7.1f} s (prompt {st['prompt_s']:.1f} s, scoring "
                  f"{st['score_s']:.1f} s of {st['scored_tokens']} tokens), peak {lk_mb:6.0f} MB;"
                  f" delta_ll {lk.delta_ll:+.4f}", flush=True)
    finally:
        os.environ.pop("N1STUDIO_PROMPT_CACHE")


def cold_answer(s: ModelSettings, batches: list[int], repeats: int = 2) -> None:
    """Part 4: a complete constrained case14 answer from a fresh worker, prompt threads varied."""
    print("4. cold constrained case14 answer (N-1 line:3), fresh worker each time")
    p = render_prompt(Variant(load_case("case14"), ["line:3"]))
    plan = answer_plan(p)
    print(f"  {'prompt/decode threads':<24}{'prompt tok':>11}{'prompt s':>10}{'prompt tok/s':>14}"
          f"{'numbers s':>11}{'answer s':>10}{'load s':>8}{'exact':>7}")
    for batch in batches:
        cs = ModelSettings(**{**s.to_dict(), "n_threads_batch": batch})
        for _ in range(repeats):
            with ModelClient(cs) as client:
                r = client.complete(p.text, plan=plan, max_tokens=max_number_tokens(plan),
                                    settings=cs)
            st = r.stats
            _, ok = valid_for(json.loads(r.raw), p)
            used = f"{st['prompt_threads']}" + (" (auto)" if batch == 0 else "")
            print(f"  {f'{used} / {cs.n_threads}':<24}{st['prompt_tokens']:>11}"
                  f"{st['prompt_s']:>10.2f}{st['prompt_tokens_per_s']:>14.1f}"
                  f"{st['wall_s'] - st['prompt_s']:>11.2f}{st['wall_s']:>10.2f}"
                  f"{st.get('load_s', 0):>8.2f}{ok!s:>7}", flush=True)
    print("  (answer s = prompt + numbers, the model load apart; target <= 10 s)")


if __name__ == "__main__":
    sys.exit(main())
