"""Colours and styles: one palette per theme, shared by the drawing, the plots and the .qss.

The widgets' look lives in resources/themes/<name>.qss; the drawing's colours live here
because pyqtgraph paints them itself. Both follow one palette so a colour means the same
thing everywhere (crimson = violation, gold = selection, grey = out of service).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from n1studio.resources import resource

log = logging.getLogger(__name__)

THEMES = ("light", "dark")


@dataclass(frozen=True)
class Palette:
    name: str
    background: str
    text: str
    muted: str
    line: str
    trafo: str
    bus: str
    bus_edge: str
    gen: str
    ext_grid: str
    sgen: str
    load: str
    off: str
    cut: str
    violation: str
    selection: str
    reference: str
    answer: str
    limit: str


LIGHT = Palette(
    name="light", background="#fbfaf7", text="#1f2933", muted="#7b8794",
    line="#3e5f99", trafo="#9b59b6", bus="#1f2933", bus_edge="#fbfaf7",
    gen="#1e8e5a", ext_grid="#0b6e4f", sgen="#17a2b8", load="#d98a1c",
    off="#b4b9bf", cut="#8d99ae", violation="#e0245e", selection="#f5b700",
    reference="#3e5f99", answer="#e0245e", limit="#7b8794",
)

DARK = Palette(
    name="dark", background="#1b1e24", text="#e6e9ef", muted="#8b95a5",
    line="#7aa2f7", trafo="#c397ff", bus="#e6e9ef", bus_edge="#1b1e24",
    gen="#4cd38a", ext_grid="#2fbf71", sgen="#4fd1e0", load="#ffb454",
    off="#565d69", cut="#6b7486", violation="#ff4d7e", selection="#ffd43b",
    reference="#7aa2f7", answer="#ff4d7e", limit="#8b95a5",
)


def palette(name: str = "light") -> Palette:
    return DARK if name == "dark" else LIGHT


def stylesheet(name: str = "light", scale: float = 1.0) -> str:
    """The .qss of a theme, with its base font size scaled (presentation mode)."""
    path = resource("themes", f"{name if name in THEMES else 'light'}.qss")
    try:
        qss = path.read_text(encoding="utf-8")
    except OSError:
        log.warning("theme file %s is missing", path)
        return ""
    icons = resource("icons").as_posix()
    return (qss.replace("@FONT_PT@", f"{round(10 * scale)}")
            .replace("@FONT_BIG_PT@", f"{round(13 * scale)}")
            .replace("@ICONS@", icons))
