"""One `EndpointClient.complete()`: the request bodies, the three constrained ways, the
caps on what a server may send, and the text and statistics returned."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from n1studio.grid.answer_text import MAX_ANSWER_BYTES
from n1studio.llm.client import Completion
from n1studio.llm.constrain import (
    REGEX,
    SCAFFOLD,
    number_grammar,
    number_regex,
    plan_grammar,
    plan_regex,
    plan_token_budget,
    portable_plan_regex,
)
from n1studio.llm.endpoint_http import Call, Closed, EndpointError, clean_text
from n1studio.llm.endpoint_limits import TOKEN_SLACK
from n1studio.llm.jsonscan import JsonEnd
from n1studio.llm.runtime import ModelSettings

if TYPE_CHECKING:  # the client builds its runs; this is for the type hint only
    from n1studio.llm.endpoint import EndpointClient


class Run:
    """One `complete()` call: the text so far, the counters and the events."""

    def __init__(self, client: EndpointClient, s: ModelSettings, on_token, on_event, cancel):
        self.c, self.s = client, s
        self.on_token, self.on_event, self.cancel = on_token, on_event, cancel
        self.call: Call | None = None
        self.out: list[str] = []
        self.pending = ""  # fixed text not yet shown (shown with the model's next token)
        self.hold = ""  # a high surrogate waiting for its pair from the next chunk
        self.n_tokens = 0
        self.n_chars = 0
        self.requests = 0
        self.usage: dict | None = None
        self.cancelled = False
        self.t0 = time.perf_counter()
        self.ttft: float | None = None

    async def go(self, prompt: str, plan: list | None, max_tokens: int) -> None:
        await self.c._io.model_entry(self.call)  # unknown model, refused connection: said first
        if plan is None:
            await self.free(prompt, max_tokens)
        elif self.c.config.constrained == SCAFFOLD and not self.c.config.chat:
            await self.scaffold(prompt, plan)
        elif self.c.config.constrained == REGEX:
            await self.regex(prompt, plan)
        else:
            await self.grammar(prompt, plan)

    def body(self, prompt: str, max_tokens: int, grammar: str | None = None,
             regex: str | None = None) -> dict:
        s = self.s
        b: dict = {"model": self.c.config.model, "max_tokens": int(max_tokens),
                   "temperature": float(s.temperature), "top_p": float(s.top_p),
                   "top_k": int(s.top_k), "seed": int(s.seed), "stream": True,
                   "stream_options": {"include_usage": True},
                   "repeat_penalty": 1.0}  # llama.cpp's server defaults to 1.1; we sample plainly
        if self.c.config.chat:
            b["messages"] = [{"role": "user", "content": prompt}]
        else:
            b["prompt"] = prompt
        if grammar is not None:
            b["grammar"] = grammar
        if regex is not None:  # vLLM binds structured_outputs (0.12 on); older ones guided_regex
            b["structured_outputs"] = {"regex": regex}
            b["guided_regex"] = regex
        return b

    def count(self, text: str, asked: int) -> None:
        """Count one chunk against the caps: tokens asked (+ slack) and the answer size."""
        self.n_tokens += 1
        self.n_chars += len(text)
        if self.n_tokens > asked + TOKEN_SLACK:
            raise EndpointError(f"{self.c.where()} sent more than the {asked} tokens asked for "
                                "(it ignores max_tokens)")
        if self.n_chars > MAX_ANSWER_BYTES:
            raise EndpointError(f"{self.c.where()} sent more than {MAX_ANSWER_BYTES:,} "
                                "characters for one answer (the checker's answer-size limit)")

    def emit(self, text: str) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.t0
        text, self.hold = self.hold + text, ""
        if text and "\ud800" <= text[-1] <= "\udbff":  # half a pair: wait for the rest
            text, self.hold = text[:-1], text[-1]
        text, self.pending = self.pending + clean_text(text), ""
        self.out.append(text)
        if self.on_event is not None:
            self.on_event({"ev": "token", "text": text})
        if self.on_token is not None:
            self.on_token(text)

    def _check_finish(self, finish: str | None, what: str) -> None:
        if finish == "length":
            raise EndpointError(f"{self.c.where()} stopped {what} at its token limit "
                                "(max_tokens or the server's context)")

    # ---- the three ways -------------------------------------------------------------------
    async def free(self, prompt: str, max_tokens: int) -> None:
        track = JsonEnd()

        def on_text(t: str) -> bool:
            self.emit(t)
            return track.feed(t)

        try:
            await self.c._io.stream(self.body(prompt, max_tokens), self, on_text, max_tokens)
        except Closed:
            if not track.closed:
                raise

    async def grammar(self, prompt: str, plan: list) -> None:
        budget = plan_token_budget(plan)
        finish = await self.c._io.stream(self.body(prompt, budget, plan_grammar(plan)), self,
                                         self.emit, budget)
        if not plan_regex(plan).fullmatch("".join(self.out)):
            self._check_finish(finish, "the answer")
            raise EndpointError(f"{self.c.where()} ignored the answer grammar (the text does "
                                "not follow the variant's answer plan); it needs llama.cpp's "
                                "`grammar` field")

    async def regex(self, prompt: str, plan: list) -> None:
        """One request constrained by the plan as a regex (vLLM's structured outputs)."""
        budget = plan_token_budget(plan)
        finish = await self.c._io.stream(self.body(prompt, budget, regex=portable_plan_regex(plan)),
                                         self, self.emit, budget)
        if not plan_regex(plan).fullmatch("".join(self.out)):
            self._check_finish(finish, "the answer")
            raise EndpointError(f"{self.c.where()} ignored the answer regex (the text does "
                                "not follow the variant's answer plan); the regex mode needs "
                                "vLLM's structured outputs")

    async def scaffold(self, prompt: str, plan: list) -> None:
        done = ""  # the answer so far, fixed pieces included
        for i, seg in enumerate(plan):
            if seg[0] == "t":
                done += seg[1]
                self.pending += seg[1]
                continue
            nxt = next((s[1][:1] for s in plan[i + 1:] if s[0] == "t"), "")
            neg, idig, fdig = bool(seg[1]), int(seg[2]), int(seg[3])
            got: list[str] = []

            def on_text(t: str, got=got, nxt=nxt) -> bool:
                got.append(t)
                shown = t.replace(nxt, "") if nxt else t
                if shown:
                    self.emit(shown)
                return False  # the grammar ends the stream right after the end character

            asked = idig + fdig + 4
            finish = await self.c._io.stream(
                self.body(prompt + done, asked, number_grammar(neg, idig, fdig, nxt)), self,
                on_text, asked)
            text = "".join(got)
            num = text.split(nxt, 1)[0] if nxt else text
            if not number_regex(neg, idig, fdig).fullmatch(num):
                self._check_finish(finish, "a number")
                raise EndpointError(f"{self.c.where()} ignored the number grammar (wrote "
                                    f"{self.c.scrub(text[:20])!r}); it needs llama.cpp's "
                                    "`grammar` field, or use chat mode")
            done += num
        if self.pending:
            self.emit("")

    def result(self) -> Completion:
        if self.hold:
            self.out.append("\ufffd")
            self.hold = ""
        wall = time.perf_counter() - self.t0
        ttft = self.ttft if self.ttft is not None else wall
        gen_s = wall - ttft
        usage = self.usage or {}
        details = usage.get("prompt_tokens_details")
        stats = {
            "prompt_tokens": usage.get("prompt_tokens"),
            "cached_tokens": details.get("cached_tokens") if isinstance(details, dict) else None,
            "completion_tokens": self.n_tokens, "sampled_tokens": self.n_tokens,
            "ttft_s": round(ttft, 4),
            "tokens_per_s": round((self.n_tokens - 1) / gen_s, 2)
            if self.n_tokens > 1 and gen_s > 0 else None,
            "wall_s": round(wall, 4), "prompt_s": round(ttft, 4),
            "requests": self.requests, "cancelled": self.cancelled,
            "runtime": "openai-http", "constrained": self.c.config.constrained,
        }
        return Completion(raw="".join(self.out), stats=stats, cancelled=self.cancelled)

