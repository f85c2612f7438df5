"""PyInstaller hook: llama-cpp-python loads libllama/libggml with ctypes from llama_cpp/lib.

The libraries are opened by path at import time (`<package>/lib/libllama.so`), so import
analysis cannot see them; they must sit in `llama_cpp/lib` inside the bundle.
"""

from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp", destdir="llama_cpp/lib")
# The OpenAI-compatible server needs packages the app does not use.
excludedimports = ["llama_cpp.server"]
