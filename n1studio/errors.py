"""Errors users can cause; the CLI prints them as one line, the GUI as a message.

Also `mask_secrets`, which every message, log record and crash report passes through
before it is shown or written (keys in URLs and headers never leave the process).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class N1Error(Exception):
    """Base of every error N-1 Studio reports to users instead of a traceback."""


class CaseError(N1Error):
    """A grid case that cannot be read or is malformed."""


class ElementError(N1Error):
    """An element name that is malformed, unknown or out of range."""


class ModelError(N1Error):
    """A GGUF model that cannot be loaded or a model worker that failed."""


class StudyError(N1Error):
    """A study file that is not a study or cannot be opened."""


class StudyBusyError(StudyError):
    """A study another process is writing (it holds the study's writer lease)."""


class CaseDataError(CaseError):
    """A case file whose data is malformed; the message names the table, row and column."""


class OptionError(N1Error):
    """A command-line option whose value is out of range (a negative iteration count, NaN)."""


# ---- secrets never shown ---------------------------------------------------------------------
# Query parameters that carry a credential (`?api_key=`, `?key=`, `&token=`, ...).
_SECRET_PARAMS = (r"api[_-]?key|apikey|key|token|access[_-]?token|auth|password|passwd|secret"
                  r"|sig|signature|x-api-key")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#@'\"]+@")
_QUERY_SECRET = re.compile(rf"(?i)([?&;](?:{_SECRET_PARAMS})=)[^&#\s'\"]*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+")
_SECRET_PARAM = re.compile(rf"(?i)(?:{_SECRET_PARAMS})")
MASK = "***"


def is_secret_param(name: str) -> bool:
    """Whether a URL query parameter of this name carries a credential."""
    return bool(_SECRET_PARAM.fullmatch(name))


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credentials blanked: each of `secrets` (an API key's value), URL user
    info (`http://user:KEY@host`), credential query parameters (`?api_key=`, `?key=`,
    `token=`, ...) and `Bearer` tokens. Used on every message, log record and crash report
    that may quote a command line, a URL or an HTTP header."""
    text = str(text)
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, MASK)
    text = _URL_USERINFO.sub(rf"\g<1>{MASK}@", text)
    text = _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    return _BEARER.sub(rf"\g<1>{MASK}", text)
