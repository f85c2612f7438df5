"""The local model runtime: prompts, the GGUF worker process, constrained and free answers.

Public API (import from the submodules; nothing heavy is imported here):
- `runtime.ModelSettings`, `runtime.default_model_path()`, `runtime.gpu_offload_supported()`,
  `runtime.validate_settings()`, `runtime.build_info()`
- `gguf.inspect_gguf(path)`: header checks (not GGUF, version, truncated)
- `prompt.render_prompt(variant, template=None) -> Prompt`, `prompt.default_template()`
- `client.ModelClient(settings)`: the worker process; `.complete(...)`, `.close()`, `.kill()`
- `ask.ask_variant(variant, settings, on_event, cancel) -> AskResult` (the job the GUI runs)
- `parse.extract_answer(text)`: the answer in free-mode text, or None
"""
