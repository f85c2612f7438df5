"""Models: prompts, runtimes (the local GGUF worker process), constrained and free answers.

`llm` never judges an answer (it does not import `n1studio.check`); the whole question,
answer and verdict together, is `n1studio.pipeline.ask`.

Public API (import from the submodules; nothing heavy is imported here):
- `runtime.ModelSettings`, `runtime.default_model_path()`, `runtime.gpu_offload_supported()`,
  `runtime.validate_settings()`, `runtime.build_info()`
- `gguf.inspect_gguf(path)`: header checks (not GGUF, version, truncated)
- `prompt.render_prompt(variant, template=None) -> Prompt`, `prompt.default_template()`
- `client.ModelClient(settings)`: the worker process; `.complete(...)`, `.close()`, `.kill()`
- `ask.ask_variant(variant, settings, on_event, cancel) -> AskResult` (prompt, raw text,
  parsed answer, stats); `ask.shared_client()`, `shared_worker_pid()`, `close_shared_client()`
- `parse.extract_answer(text)`: the answer in free-mode text, or None
- `lora.check_adapter(path, model_path)`: a LoRA adapter GGUF checked against its base
  (`ModelSettings.lora_path`, `lora_scale`; the adapter's hash names the model)
- `likelihood.likelihood(variant, prompt, n_answer, own_answer, settings, client=...)`:
  the likelihood probe (ll_n, ll_own, delta_ll, the texts scored); `ModelClient.score`
  and `scoring.score_texts` in the worker (own log-softmax over chunked logits)
- `statecache`: the prompt's shared part kept on disk across processes
"""
