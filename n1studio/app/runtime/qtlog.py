"""Qt's own messages (qWarning and friends) go to Python logging, not straight to stderr.

Without this, Qt prints whatever its platform plugin says to the terminal: the offscreen
platform that `n1studio demo` and a display-less `make run` use says "This plugin does not
support propagateSizeHints()" for every window, which is noise to the user. Known notices
of that kind are logged at debug level; every other Qt message keeps its weight (warning,
error) and shows the usual way, through the `n1studio.qt` logger.

Installed by the command-line entries (`gui`, `demo`) only: the tests keep pytest-qt's own
handler, which turns Qt warnings into test failures.

It also keeps None, True and False alive. PySide6 6.12.0 on CPython 3.11 drops references
it does not own (measured, per call: a method returning None drops one to None, every
`Signal.emit()` drops one to True, a message through a Python handler drops one to None).
Their counts only fall: a long session (a streamed token is an emit) reaches zero and the
interpreter aborts, during use or at quit ("Fatal Python error: bool_dealloc" or
"none_dealloc"). Python 3.12 makes these objects immortal; `install` does the same on 3.11
for each one it measures leaking, so a fixed PySide6 costs nothing.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import sys

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
    for _ in range(_STATE["none_leak"]):
        _incref_none()


_STATE = {"installed": False, "none_leak": 0, "immortal": ()}

_SINGLETONS = {"None": None, "True": True, "False": False}
_IMMORTAL_BIAS = 1 << 40  # decrements a session never reaches (3.12's immortal count is ~2**32)


def _incref_none() -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))


class _Probe(QtCore.QObject):
    pinged = QtCore.Signal()


def measure_drops(n: int = 32) -> dict[str, float]:
    """References to None, True and False that PySide6 drops per call, measured on the paths
    found leaking (a method returning None, a `Signal.emit()`); what was lost is given back."""
    probe = _Probe()
    before = {k: sys.getrefcount(v) for k, v in _SINGLETONS.items()}
    for _ in range(n):
        probe.setObjectName("n1studio-probe")
        probe.pinged.emit()
    after = {k: sys.getrefcount(v) for k, v in _SINGLETONS.items()}
    lost = {}
    for k, v in _SINGLETONS.items():
        for _ in range(max(0, before[k] - after[k])):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(v))
        lost[k] = max(0.0, (before[k] - after[k]) / n)
    return lost


def keep_singletons_alive() -> tuple[str, ...]:
    """Make None / True / False immortal, as Python 3.12 does, where PySide6 drops their
    references (measured); returns the names made immortal. Idempotent."""
    if sys.version_info >= (3, 12):
        return ()
    if not _STATE["immortal"]:
        lost = measure_drops()
        # any measured leak: all three (emit() never returned False in the measurement, but
        # a path that does would drop False the same way; the bias costs nothing)
        names = tuple(_SINGLETONS) if any(v >= 0.5 for v in lost.values()) else ()
        for k in names:  # ob_refcnt is the first field of every object
            ctypes.c_ssize_t.from_address(id(_SINGLETONS[k])).value += _IMMORTAL_BIAS
        log.debug("PySide6 drops references per call: %s; immortal: %s", lost, names or "none")
        _STATE["immortal"] = names or ("-",)
    return tuple(k for k in _STATE["immortal"] if k != "-")


def _calibrate() -> int:
    """How many references to None PySide6's handler wrapper drops per message.

    PySide6 6.12 on Python 3.11 drops one per call: after a few thousand Qt messages None's
    count reaches zero and the interpreter aborts ("none_dealloc: deallocating None").
    Measured rather than assumed, so a fixed PySide6 costs nothing.
    """
    if sys.version_info >= (3, 12):
        return 0  # None is immortal there: its count never matters
    n = 16
    before = sys.getrefcount(None)
    for _ in range(n):
        QtCore.qDebug("n1studio: checking the Qt message handler")
    lost = before - sys.getrefcount(None)
    for _ in range(max(0, lost)):  # give back what the check itself cost
        _incref_none()
    return max(0, round(lost / n))


def install() -> None:
    """Route Qt's messages to the `n1studio.qt` logger (idempotent); put Qt's own printing
    back at exit, when Python can no longer run a handler."""
    if _STATE["installed"]:
        return
    keep_singletons_alive()
    QtCore.qInstallMessageHandler(_handler)
    _STATE["none_leak"] = _calibrate()
    _STATE["installed"] = True
    atexit.register(uninstall)


def uninstall() -> None:
    """Give Qt its default message output back."""
    if _STATE["installed"]:
        QtCore.qInstallMessageHandler(None)
        _STATE["installed"] = False
