"""Where the project's resources (prompt templates, icons, themes, bundled cases) live."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs


def resources_dir() -> Path:
    """The `resources/` folder: beside the package in a checkout, inside a PyInstaller bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def cache_dir(*parts: str) -> Path:
    """The user's cache folder for N-1 Studio (platformdirs: $XDG_CACHE_HOME/n1studio or
    ~/.cache/n1studio on Linux, ~/Library/Caches/n1studio on macOS, %LOCALAPPDATA% on
    Windows), joined with `parts`. Not created here: the writer creates what it writes."""
    return platformdirs.user_cache_path("n1studio", appauthor=False).joinpath(*parts)
