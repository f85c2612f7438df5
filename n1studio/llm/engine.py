"""The model engine: one loaded llama.cpp model with a persistent context (the worker
process holds one; the benchmarks use it in-process).

The `Engine` keeps one `Llama` object alive across requests: its evaluated tokens stay in
llama.cpp's KV cache, and a new prompt only evaluates what follows the longest common
prefix with what is already there (`cached_tokens`). Gemma 3 uses sliding-window
attention; `swa_full=True` keeps the full cache so that the prefix can be reused. The
prompt's shared part (`shared_chars`) is also kept on disk across processes
(`llm/statecache.py`), keyed by the model's and the LoRA adapter's hashes.

Sampling is done here on the logits with numpy (greedy at temperature 0, seeded
top-k/top-p otherwise), so that constrained numbers, free text and the statistics all
go through one loop. Chat templates inside the GGUF are never rendered, nor compiled
(`chat_templates_not_compiled`): prompts are raw completions of our own template, so a
model whose embedded template is broken Jinja still loads.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import logging
import os
import time
from collections.abc import Callable

import numpy as np

from n1studio.llm import statecache
from n1studio.llm.jsonscan import JsonEnd
from n1studio.llm.runtime import prompt_threads
from n1studio.llm.scoring import eval_padded

log = logging.getLogger(__name__)

Emit = Callable[[dict], None]


class WorkerError(Exception):
    """An error the worker reports to the parent as one clear line."""


class Cancelled(Exception):
    pass


class ParentGone(Exception):
    """The parent closed the pipe (it quit or dropped the worker): stop quietly."""


class _UncompiledChatTemplate:
    """Stands in for llama-cpp-python's Jinja2ChatFormatter while a model loads.

    `Llama.__init__` compiles every chat template in the GGUF's metadata; a template with a
    Jinja syntax error then makes the model unusable ("TemplateSyntaxError"), although this
    program never uses chat templates. The template text is kept, nothing is compiled.
    """

    def __init__(self, template: str, *args, **kwargs):
        self.template = template

    def to_chat_handler(self):
        def refuse(*args, **kwargs):
            raise WorkerError("N-1 Studio does not use the model's chat template")

        return refuse


@contextlib.contextmanager
def chat_templates_not_compiled(llama_cpp):
    """While a Llama object is built in this (single-purpose) process, compile no template."""
    fmt = llama_cpp.llama_chat_format
    real = fmt.Jinja2ChatFormatter
    fmt.Jinja2ChatFormatter = _UncompiledChatTemplate
    try:
        yield
    finally:
        fmt.Jinja2ChatFormatter = real


def loader(llama_cpp) -> Callable:
    """`llama_cpp.Llama`, built without compiling the GGUF's chat templates."""

    def load(**kwargs):
        with chat_templates_not_compiled(llama_cpp):
            return llama_cpp.Llama(**kwargs)

    return load


class Engine:
    """A loaded model with a persistent context; usable in-process (bench) or in the worker."""

    def __init__(self, settings: dict, n_ctx: int):
        # llama.cpp loads only where a model runs; ModelClient's process imports this module
        # (through llm.worker, to name the worker's entry point) and must not load it
        import llama_cpp  # noqa: PLC0415 - see above

        Llama = loader(llama_cpp)  # llama_cpp.Llama, templates left uncompiled

        quiet_llama_logs(llama_cpp)
        self.settings = dict(settings)
        t0 = time.perf_counter()
        try:
            self.llama = Llama(
                model_path=settings["model_path"], n_ctx=n_ctx, n_batch=512, n_ubatch=512,
                n_threads=settings["n_threads"],
                n_threads_batch=settings.get("n_threads_batch") or settings["n_threads"],
                n_gpu_layers=settings["n_gpu_layers"], seed=int(settings.get("seed", 0)),
                swa_full=True, verbose=False, logits_all=False,
                lora_path=settings.get("lora_path") or None,
                lora_scale=float(settings.get("lora_scale", 1.0)),
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise WorkerError(f"llama.cpp cannot load {os.path.basename(settings['model_path'])}: "
                              f"{exc}") from None
        self.load_s = time.perf_counter() - t0
        self.n_vocab = self.llama.n_vocab()
        self.n_ctx_train = int(self.llama._model.n_ctx_train())
        self._vocab = self.llama._model.vocab
        self._llama_cpp = llama_cpp
        self._char_ids: dict[str, int] = {}
        for ch in "0123456789.-":
            ids = self.llama.tokenize(ch.encode(), add_bos=False, special=False)
            if len(ids) != 1:
                raise WorkerError(f"the model's tokenizer has no single token for {ch!r}; "
                                  "use free mode with this model")
            self._char_ids[ch] = ids[0]
        ends = set()
        for s in (",", "}", "},", "}]", ",\n"):
            ids = self.llama.tokenize(s.encode(), add_bos=False, special=False)
            if len(ids) == 1:
                ends.add(ids[0])
        self._end_ids = np.array(sorted(ends), dtype=np.intc)
        self._state_key: str | None = None  # statecache.model_key, computed when first needed

    @property
    def n_ctx(self) -> int:
        return self.llama.n_ctx()

    # ---- token plumbing ------------------------------------------------------------------
    def tokenize(self, text: str, bos: bool) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=bos, special=False)

    def piece(self, tok: int) -> bytes:
        return self.llama._model.detokenize([tok], special=False)

    def logits(self) -> np.ndarray:
        ptr = self._llama_cpp.llama_get_logits_ith(self.llama._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def char_id(self, ch: str) -> int:
        """The single token of a number character ("0"-"9", ".", "-")."""
        try:
            return self._char_ids[ch]
        except KeyError:
            raise WorkerError(f"{ch!r} is not a number character") from None

    def is_eog(self, tok: int) -> bool:
        try:
            return bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, tok))
        except AttributeError:
            return tok == self.llama.token_eos()

    def shared_tokens(self, prompt: str, shared_chars: int, tokens: list[int]) -> int:
        """How many of the prompt's `tokens` belong to its shared part (the first
        `shared_chars` characters, tokenized alone: equal up to the boundary)."""
        if shared_chars <= 0:
            return 0
        head = self.tokenize(prompt[:shared_chars], bos=True)
        n = min(len(head), len(tokens))
        same = np.asarray(head[:n]) == np.asarray(tokens[:n])
        return n if same.all() else int(np.argmin(same))

    def _disk_state(self, tokens: list[int], shared: int, prefix: int):
        """The state file of the shared part when it is worth using (else None)."""
        if shared < statecache.MIN_TOKENS or not (prefix < shared < len(tokens)):
            return None
        folder = statecache.cache_dir()
        if folder is None:
            return None
        if self._state_key is None:
            build = getattr(self._llama_cpp, "__version__", "?")
            self._state_key = statecache.model_key(self.settings, build)
        return statecache.state_file(folder, self._state_key, tokens[:shared])

    def prefill(self, tokens: list[int], cancelled: Callable[[], bool], emit: Emit,
                shared: int = 0, logits: bool = True, min_batch: int = 1) -> int:
        """Make the context hold exactly `tokens`, reusing the longest cached prefix: in
        the KV cache, else the first `shared` tokens' state on disk (statecache), which
        this call writes when it reads them itself.

        Returns the number of tokens reused (from memory or disk); `self.prompt_state`
        says where they came from ("memory", "disk", "read" and "saved" otherwise).
        `logits=False`: the caller needs no logits of the last token (a fully cached prompt
        is not touched). `min_batch`: a tail shorter than this is read again from further
        back (llama.cpp rounds one-token batches differently: see llm/scoring.py).
        Batches are padded to a multiple of `CHUNK` (scoring.eval_padded), so a prompt's
        state does not depend on how it was split (cached prefix, state on disk).
        """
        llama = self.llama
        have = llama.input_ids[: llama.n_tokens]
        n = min(len(have), len(tokens))
        prefix = 0
        if n:
            neq = np.flatnonzero(have[:n] != np.asarray(tokens[:n], dtype=have.dtype))
            prefix = int(neq[0]) if len(neq) else n
        if prefix >= len(tokens) and logits:  # re-evaluate the last token: fresh logits
            prefix = len(tokens) - 1
        if 0 < len(tokens) - prefix < min_batch:
            prefix = max(0, len(tokens) - min_batch)
        if prefix > 0 and not llama._ctx.kv_cache_seq_rm(-1, prefix, -1):
            prefix = 0  # this cache cannot drop a suffix: start over
        self.prompt_state = "memory" if prefix else "read"
        disk = self._disk_state(tokens, shared, prefix)
        if disk is not None and disk.is_file():
            llama.reset()
            llama._ctx.kv_cache_clear()
            if statecache.load(self._llama_cpp, llama._ctx.ctx, disk, tokens[:shared]):
                llama.input_ids[:shared] = tokens[:shared]
                prefix, disk, self.prompt_state = shared, None, "disk"
            else:
                prefix = 0
            emit({"ev": "progress", "done": prefix, "total": len(tokens)})
        if prefix == 0:
            llama.reset()
            llama._ctx.kv_cache_clear()
        llama.n_tokens = prefix
        step = llama.n_batch
        # with a state to write, stop once at the end of the shared part
        stops = [shared, len(tokens)] if disk is not None else [len(tokens)]
        at = prefix
        for stop in stops:
            for i in range(at, stop, step):
                if cancelled():
                    raise Cancelled()
                j = min(i + step, stop)
                eval_padded(self, tokens[i:j], "last" if j == len(tokens) and logits else "none")
                emit({"ev": "progress", "done": min(i + step, stop), "total": len(tokens)})
            at = stop
            if disk is not None and stop == shared and statecache.save(
                    self._llama_cpp, llama._ctx.ctx, disk, tokens[:shared]):
                self.prompt_state = "saved"
        return prefix

    # ---- sampling --------------------------------------------------------------------------
    def pick(self, ids: np.ndarray, logits: np.ndarray, rng: np.random.Generator) -> int:
        """Index into `ids` of the chosen candidate (greedy or temperature sampling)."""
        temp = float(self.settings.get("temperature", 0.0))
        if temp <= 0 or len(ids) == 1:
            return int(np.argmax(logits))
        z = (logits - logits.max()) / temp
        p = np.exp(z)
        p /= p.sum()
        return int(rng.choice(len(ids), p=p))

    def sample_free(self, rng: np.random.Generator) -> int:
        """A token from the whole vocabulary: greedy, or top-k then top-p at temperature > 0."""
        lg = self.logits()
        temp = float(self.settings.get("temperature", 0.0))
        if temp <= 0:
            return int(np.argmax(lg))
        k = max(1, int(self.settings.get("top_k", 40)))
        top = np.argpartition(lg, -k)[-k:]
        top = top[np.argsort(lg[top])[::-1]]
        z = (lg[top] - lg[top[0]]) / temp
        p = np.exp(z)
        p /= p.sum()
        keep = int(np.searchsorted(np.cumsum(p), float(self.settings.get("top_p", 0.95))) + 1)
        p = p[:keep] / p[:keep].sum()
        return int(top[rng.choice(keep, p=p)])

    # ---- a request ---------------------------------------------------------------------------
    def run(self, prompt: str, plan: list | None, max_tokens: int, emit: Emit,
            cancelled: Callable[[], bool], shared_chars: int = 0) -> dict:
        """Answer one request; streams token events and returns {"raw", "stats"}.
        `shared_chars`: the length of the prompt's shared part (kept on disk)."""
        # scaffold imports llm.prompt and so the grid (pandapower: seconds); the worker takes
        # that cost on its first answer, not while it starts
        from n1studio.llm.scaffold import NumberState  # noqa: PLC0415 - see above

        t0 = time.perf_counter()
        lc = self._llama_cpp
        ctx = self.llama._ctx.ctx
        lc.llama_perf_context_reset(ctx)
        rng = np.random.default_rng(int(self.settings.get("seed", 0)))
        tokens = self.tokenize(prompt, bos=True)
        n_read = prompt_threads(int(self.settings["n_threads"]),
                                int(self.settings.get("n_threads_batch") or 0))
        lc.llama_set_n_threads(ctx, int(self.settings["n_threads"]), n_read)
        cached = self.prefill(tokens, cancelled, emit,
                              self.shared_tokens(prompt, shared_chars, tokens))
        t_prompt = time.perf_counter() - t0
        perf0 = lc.llama_perf_context(ctx)
        out: list[str] = []
        dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        state = {"ttft": None, "n_out": 0, "n_sampled": 0, "cancelled": False}

        def send(text: str, n: int) -> None:
            if state["ttft"] is None:
                state["ttft"] = time.perf_counter() - t0
            state["n_out"] += n
            out.append(text)
            emit({"ev": "token", "text": text})

        try:
            if plan is None:
                self._run_free(max_tokens, rng, send, state, dec, cancelled)
            else:
                self._run_plan(plan, rng, send, state, cancelled, NumberState)
        except Cancelled:
            state["cancelled"] = True
        wall = time.perf_counter() - t0
        perf = lc.llama_perf_context(ctx)
        n_eval = perf.n_eval - perf0.n_eval
        t_eval = perf.t_eval_ms - perf0.t_eval_ms
        gen_s = max(wall - t_prompt, 1e-9)
        stats = {
            "prompt_tokens": len(tokens), "cached_tokens": cached,
            "completion_tokens": state["n_out"], "sampled_tokens": state["n_sampled"],
            "ttft_s": round(state["ttft"] if state["ttft"] is not None else wall, 4),
            "tokens_per_s": round(state["n_out"] / gen_s, 2),
            "wall_s": round(wall, 4), "prompt_s": round(t_prompt, 4),
            "prompt_tokens_per_s": round((len(tokens) - cached) / max(t_prompt, 1e-9), 1),
            "llama_decode_tokens": int(n_eval),
            "llama_decode_tokens_per_s": round(1000.0 * n_eval / t_eval, 2) if t_eval > 0 else None,
            "n_ctx": self.n_ctx, "cancelled": state["cancelled"], "prompt_threads": n_read,
            "prompt_state": self.prompt_state,
        }
        if "plan" in state:
            stats["plan"] = {k: round(v, 4) if isinstance(v, float) else v
                             for k, v in state["plan"].items()}
        return {"raw": "".join(out), "stats": stats}

    def _run_free(self, max_tokens, rng, send, state, dec, cancelled) -> None:
        track = JsonEnd()
        for _ in range(max_tokens):
            if cancelled():
                raise Cancelled()
            tok = self.sample_free(rng)
            state["n_sampled"] += 1
            if self.is_eog(tok):
                break
            text = dec.decode(self.piece(tok))
            send(text, 1)
            if track.feed(text):  # a top-level JSON object has closed: the answer is complete
                break
            self.llama.eval([tok])

    def _run_plan(self, plan, rng, send, state, cancelled, NumberState) -> None:
        """A constrained answer; `state["plan"]` gets where its time went: fixed text
        (tokens, seconds), numbers (count, steps), one-token decodes (seconds) and the
        rest of the number loop (choosing among allowed characters: Python overhead).

        A number that is full (no character may follow, it must end) needs no logits after
        its last character: that character is evaluated in one batch with the fixed text
        that follows, one decode fewer per full number (most are: 2 or 4 decimals)."""
        ids_of = self._char_ids
        clock = time.perf_counter
        t = {"text_tokens": 0, "text_s": 0.0, "numbers": 0, "steps": 0, "decode_s": 0.0,
             "numbers_s": 0.0, "merged": 0}
        state["plan"] = t
        pending: list[int] = []  # a full number's last character, not evaluated yet
        for seg in plan:
            if cancelled():
                raise Cancelled()
            if seg[0] == "t":
                t0 = clock()
                toks = self.tokenize(seg[1], bos=False)
                self.llama.eval(pending + toks)
                pending = []
                t["text_tokens"] += len(toks)
                t["text_s"] += clock() - t0
                send(seg[1], len(toks))
                continue
            t_num = clock()
            t["numbers"] += 1
            num = NumberState(bool(seg[1]), int(seg[2]), int(seg[3]))
            while True:
                chars, can_end = num.allowed()
                if not chars and can_end:
                    break
                lg = self.logits()
                ids = np.array([ids_of[c] for c in chars], dtype=np.intc)
                cand = lg[ids]
                if can_end:
                    cand = np.append(cand, lg[self._end_ids].max())
                k = self.pick(ids, cand, rng)
                state["n_sampled"] += 1
                t["steps"] += 1
                if k == len(chars):  # the model ends the number
                    break
                ch = chars[k]
                num.push(ch)
                nxt, must_end = num.allowed()
                if not nxt and must_end:  # full: evaluated with the next fixed text
                    pending = [ids_of[ch]]
                    t["merged"] += 1
                    send(ch, 1)
                    break
                t0 = clock()
                self.llama.eval([ids_of[ch]])
                t["decode_s"] += clock() - t0
                send(ch, 1)
                if cancelled():
                    raise Cancelled()
            t["numbers_s"] += clock() - t_num
        if pending:
            self.llama.eval(pending)


_LOG_CB = None


def quiet_llama_logs(llama_cpp) -> None:
    """Route llama.cpp's C logging to Python logging (debug) instead of raw stderr."""
    global _LOG_CB
    if _LOG_CB is not None:
        return
    clog = logging.getLogger("llama_cpp")

    @llama_cpp.llama_log_callback
    def _cb(level, text, user_data):  # pragma: no cover - called from C
        with contextlib.suppress(Exception):  # never raise into C code
            clog.debug(text.decode("utf-8", "replace").rstrip())

    _LOG_CB = _cb
    llama_cpp.llama_log_set(_cb, ctypes.c_void_p(0))
