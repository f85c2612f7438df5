"""Log-probabilities of texts written after a prompt, from the model's own logits.

The prompt is evaluated once (reusing the worker's prefix cache and the state on disk, as
an answer does); each text is then evaluated after it in chunks with logits kept for the
chunk only, and turned into log-probabilities with our own log-softmax. Gemma 3's
vocabulary has 262,144 entries: logits for every position of a 2,000-token context would
take 2 GB, a chunk of `CHUNK` tokens takes `CHUNK` MB. llama-cpp-python's own echo
log-probabilities are not used (misaligned by one position, its issue #1983).

The tokens scored are the prompt's followed by the text's: a string is tokenized alone (no
BOS); a list of ("t", text) and ("n", number) pieces as the worker writes a constrained
answer (each fixed piece tokenized alone, each number one character per token).

llama.cpp's CPU kernels round differently for batches of one or a few tokens than for
larger ones (measured with the default model: up to 0.5 nats per token between one-token
and whole-text batches, 1e-7 between batches of 8 and more). So every scored position is
computed in a batch whose size is a multiple of `CHUNK` (`eval_padded`: the worker reads
every prompt so too), the prompt's last token is evaluated with the text's first chunk, and
a prompt tail left to read is at least `CHUNK` tokens. The result then does not depend on
what was cached before, nor on the text's length (tested against one whole-text batch).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from n1studio.llm.runtime import prompt_threads

#: Answer tokens evaluated per batch with logits kept (each row is n_vocab floats).
CHUNK = 32


def chunks(n: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """[start, stop) spans covering range(n) in even pieces of at most `size`."""
    if n <= 0:
        return []
    k = -(-n // size)
    bounds = [round(i * n / k) for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def log_softmax_at(rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """log p(ids[k] | row k) for float logits rows (k, n_vocab). The sums are float64; the
    exponentials stay float32, in one buffer the size of the rows (a chunk's worth)."""
    x = np.asarray(rows, dtype=np.float32)
    top = x.max(axis=1)
    buf = np.subtract(x, top[:, None])
    np.exp(buf, out=buf)
    lse = top.astype(np.float64) + np.log(buf.sum(axis=1, dtype=np.float64))
    return x[np.arange(len(ids)), ids].astype(np.float64) - lse


def eval_padded(engine, chunk: list[int], logits: str = "all") -> np.ndarray | None:
    """Evaluate `chunk` after the context's tokens in a batch padded to a multiple of
    `CHUNK` (with copies of its last token placed after it, which no real token attends
    to, then dropped from the cache). logits "all": returns every real position's logits
    (a copy); "last": only the last one's are computed (`llama_get_logits_ith(-1)`);
    "none": none."""
    llama, lc = engine.llama, engine._llama_cpp
    n_past, n = llama.n_tokens, len(chunk)
    size = -(-n // CHUNK) * CHUNK
    llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
    b = llama._batch
    b.set_batch(batch=list(chunk) + [chunk[-1]] * (size - n), n_past=n_past, logits_all=False)
    for i in range(size):
        b.batch.logits[i] = (logits == "all" and i < n) or (logits == "last" and i == n - 1)
    llama._ctx.decode(b)
    llama._ctx.kv_cache_seq_rm(-1, n_past + n, -1)
    llama.input_ids[n_past:n_past + n] = chunk
    llama.n_tokens = n_past + n
    if logits != "all":
        return None
    ptr = lc.llama_get_logits(llama._ctx.ctx)
    return np.ctypeslib.as_array(ptr, shape=(n, engine.n_vocab)).copy()


def text_tokens(engine, text) -> list[int]:
    """The tokens of a text (a string, or ("t" | "n", text) pieces) written after a prompt."""
    if isinstance(text, str):
        return engine.tokenize(text, bos=False)
    ids: list[int] = []
    for kind, piece in text:
        if kind == "n":
            ids += [engine.char_id(c) for c in piece]
        else:
            ids += engine.tokenize(piece, bos=False)
    return ids


def score_texts(engine, prompt: str, texts: list, shared_chars: int,
                emit: Callable[[dict], None], cancelled: Callable[[], bool]) -> dict:
    """{"scores": [{"n_tokens", "logprob_sum", "mean", "token_logprobs"}], "stats"} for
    each text as a continuation of `prompt` (worker op "score")."""
    # the engine imports this module: its names are taken when a request runs
    from n1studio.llm.engine import Cancelled, WorkerError  # noqa: PLC0415 - a cycle, above

    t0 = time.perf_counter()
    lc = engine._llama_cpp
    ctx = engine.llama._ctx.ctx
    n_read = prompt_threads(int(engine.settings["n_threads"]),
                            int(engine.settings.get("n_threads_batch") or 0))
    lc.llama_set_n_threads(ctx, int(engine.settings["n_threads"]), n_read)
    tokens = engine.tokenize(prompt, bos=True)
    if len(tokens) < 2:
        raise WorkerError("the prompt is empty: there is nothing to score texts after")
    # the prompt but its last token: that one is evaluated with each text's first chunk
    head = tokens[:-1]
    cached = engine.prefill(head, cancelled, emit,
                            min(engine.shared_tokens(prompt, shared_chars, tokens), len(head) - 1),
                            logits=False, min_batch=CHUNK)
    t_prompt = time.perf_counter() - t0
    scores = []
    for text in texts:
        ids = text_tokens(engine, text)
        if not ids:
            raise WorkerError("an empty text has no likelihood")
        engine.llama._ctx.kv_cache_seq_rm(-1, len(head), -1)
        engine.llama.n_tokens = len(head)
        inputs = [tokens[-1], *ids[:-1]]  # position k predicts ids[k]
        lp = []
        for a, b in chunks(len(inputs)):
            if cancelled():
                raise Cancelled()
            rows = eval_padded(engine, inputs[a:b])
            lp.append(log_softmax_at(rows, np.array(ids[a:b])))
        vals = np.concatenate(lp)
        scores.append({"n_tokens": len(ids), "logprob_sum": float(vals.sum()),
                       "mean": float(vals.mean()),
                       "token_logprobs": [round(float(v), 6) for v in vals]})
    wall = time.perf_counter() - t0
    stats = {"prompt_tokens": len(tokens), "cached_tokens": cached,
             "prompt_state": engine.prompt_state, "prompt_s": round(t_prompt, 4),
             "score_s": round(wall - t_prompt, 4), "wall_s": round(wall, 4),
             "scored_tokens": sum(s["n_tokens"] for s in scores), "n_ctx": engine.n_ctx,
             "prompt_threads": n_read}
    return {"raw": "", "scores": scores, "stats": stats}
