"""Qt's own messages (qWarning and friends) go to Python logging, not straight to stderr.

Without this, Qt prints whatever its platform plugin says to the terminal: the offscreen
platform that `n1studio demo` and a display-less `make run` use says "This plugin does not
support propagateSizeHints()" for every window, which is noise to the user. Known notices
of that kind are logged at debug level; every other Qt message keeps its weight (warning,
error) and shows the usual way, through the `n1studio.qt` logger.

Installed by the command-line entries (`gui`, `demo`) only: the tests keep pytest-qt's own
handler, which turns Qt warnings into test failures.

PySide6 is pinned to 6.11.3 (pyproject.toml): 6.12.0 on CPython 3.11 drops references it
does not own (one to None per call of a method returning None and per message through a
Python handler such as this one, one to True per `Signal.emit()`), so a count reaches zero
and the interpreter aborts ("Fatal Python error: bool_dealloc" or "none_dealloc") after
about a thousand emits, a few seconds of a streamed answer. 6.11.3 drops none; the test
`tests/app/test_quit_refcounts.py` measures the installed PySide6 and fails if it does.
"""

from __future__ import annotations

import atexit
import logging

from PySide6 import QtCore

log = logging.getLogger("n1studio.qt")

# QPlatformWindow's defaults say "This plugin does not support propagateSizeHints()" (or
# raise(), setParent!, grabbing the keyboard...) when a platform plugin, offscreen above
# all, lacks a window-manager feature: a fact about the platform, not about the app.
KNOWN_NOTICES = ("This plugin does not support",)

_LEVELS = {
    QtCore.QtMsgType.QtDebugMsg: logging.DEBUG,
    QtCore.QtMsgType.QtInfoMsg: logging.INFO,
    QtCore.QtMsgType.QtWarningMsg: logging.WARNING,
    QtCore.QtMsgType.QtCriticalMsg: logging.ERROR,
    QtCore.QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def level_for(kind: QtCore.QtMsgType, message: str) -> int:
    """The logging level a Qt message of this type and text is recorded at."""
    if any(message.startswith(n) for n in KNOWN_NOTICES):
        return logging.DEBUG
    return _LEVELS.get(kind, logging.WARNING)


def _handler(kind: QtCore.QtMsgType, context: QtCore.QMessageLogContext, message: str) -> None:
    category = getattr(context, "category", None) or "default"
    if category == "default":
        log.log(level_for(kind, message), "%s", message)
    else:
        log.log(level_for(kind, message), "%s: %s", category, message)


_STATE = {"installed": False}


def install() -> None:
    """Route Qt's messages to the `n1studio.qt` logger (idempotent); put Qt's own printing
    back at exit, when Python can no longer run a handler."""
    if _STATE["installed"]:
        return
    QtCore.qInstallMessageHandler(_handler)
    _STATE["installed"] = True
    atexit.register(uninstall)


def uninstall() -> None:
    """Give Qt its default message output back."""
    if _STATE["installed"]:
        QtCore.qInstallMessageHandler(None)
        _STATE["installed"] = False
