"""An answer's text: its size limit, ``` fences, and the JSON document it holds.

The one place that turns what a model wrote into a JSON document: the checker
(`grid.answer.parse_answer`, used by `check`), the nearest feasible point (`solve.nearest`)
and the free-text extractor (`llm.parse`, which looks for an answer inside prose) all
strip fences here, and the server client (`llm.endpoint`) caps an answer at the same
MAX_ANSWER_BYTES.
"""

from __future__ import annotations

import json
import re

# An answer of case9241pegase (the largest bundled case) is about 1.1 MB as `solve --json`
# writes it; 4 MiB leaves three times that. Larger texts are a `format` verdict, unread,
# and a model server that streams more than this for one answer is stopped.
MAX_ANSWER_BYTES = 4 * 1024 * 1024

_FENCE = "```"
_FENCE_TAG = re.compile(r"[a-zA-Z0-9_-]*")


def issue(kind: str, element: str, message: str) -> dict:
    """A violation record of kind `format` or `removed_element` (n1studio.verdict/1)."""
    return {"constraint": kind, "element": element, "value": None, "limit": None, "excess": None,
            "message": message}


def fence_bodies(text: str) -> list[str]:
    """What each ``` fence of `text` holds (to the next ``` or the end), its language tag
    (```json) removed. Plain string operations, linear in the text."""
    parts = text.split(_FENCE)
    bodies = []
    for body in parts[1::2]:
        tag = _FENCE_TAG.match(body)
        bodies.append(body[tag.end():] if tag else body)
    return bodies


def unfence(text: str) -> str:
    """The body of a text that is one ``` fence (```json ... ```), else the text itself."""
    if len(text) < 6 or not text.startswith(_FENCE) or not text.endswith(_FENCE) \
            or text.count(_FENCE) != 2:
        return text
    return fence_bodies(text)[0]


def load_document(answer) -> tuple[dict | None, list[dict]]:
    """The answer (a dict, JSON text or bytes, or None) as a dict, or None and the format
    issue that says why not.

    Linear in the size of the answer: a text over MAX_ANSWER_BYTES is refused unread, a
    UTF-8 byte-order mark is skipped, one ``` fence around the whole text is removed.
    """
    if answer is None:
        return None, [issue("format", "answer", "no answer")]
    if isinstance(answer, (bytes, bytearray)):
        if len(answer) > MAX_ANSWER_BYTES:
            return None, [_too_large(len(answer))]
        answer = bytes(answer).decode("utf-8", errors="replace")
    if isinstance(answer, str):
        size = _utf8_size(answer)
        if size > MAX_ANSWER_BYTES:
            return None, [_too_large(size)]
        text = answer.lstrip("\ufeff").strip()
        if not text:
            return None, [issue("format", "answer", "the answer is empty")]
        text = unfence(text)
        try:
            answer = json.loads(text)
        except (ValueError, RecursionError) as exc:
            msg = getattr(exc, "msg", None)
            if msg is None:  # not a JSONDecodeError: nesting too deep, an integer too long
                text = str(exc)
                msg = "nested too deeply" if isinstance(exc, RecursionError) else \
                    "a number with too many digits" if "digits" in text else short(text, 80)
            pos = getattr(exc, "pos", None)
            where = f" at character {pos}" if pos is not None else ""
            return None, [issue("format", "answer", f"not JSON: {msg}{where}")]
    if not isinstance(answer, dict):
        return None, [issue("format", "answer",
                            f"expected a JSON object, got {json_type(answer)}")]
    return answer, []


def _utf8_size(text: str) -> int:
    if len(text) * 4 <= MAX_ANSWER_BYTES:  # cannot be over the limit: skip the encoding
        return len(text)
    return len(text.encode("utf-8", errors="surrogatepass"))


def _too_large(size: int) -> dict:
    return issue("format", "answer", f"the answer is {size:,} bytes, more than the "
                                     f"{MAX_ANSWER_BYTES:,} an answer may have")


def json_type(x) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(x), type(x).__name__)


def a_type(x) -> str:
    """'a number', 'an object': the JSON type of `x` with its article."""
    t = json_type(x)
    return f"an {t}" if t[0] in "aeiou" else f"a {t}"


def short(x, n: int = 30) -> str:
    """`x` as JSON (a string as its repr), cut to `n` characters; never raises."""
    if isinstance(x, str):
        s = repr(x[: n + 2])
    elif isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 3 * n:
        s = f"an integer of about {int(x.bit_length() * 0.30103) + 1:,} digits"
    else:
        try:
            s = json.dumps(x)
        except (TypeError, ValueError, RecursionError, OverflowError):
            s = a_type(x)
    return s if len(s) <= n else s[: n - 3] + "..."
