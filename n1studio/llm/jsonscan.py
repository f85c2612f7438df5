"""Whether streamed text has closed its first top-level JSON object.

The one scanner both runtimes use to stop a free answer as soon as it is complete: the
local worker (`llm.worker`) between tokens, the server client (`llm.endpoint`) between
stream chunks. Braces inside strings do not count; a quote counts only once an object
has opened (prose before the answer may hold apostrophes and quotes). A quote after a
backslash stays inside its string: the scanner this replaces, written twice, ended the string
there and could stop an answer early.
"""

from __future__ import annotations


class JsonEnd:
    """Feed text as it streams; `feed()` is True once the first object has closed."""

    __slots__ = ("closed", "depth", "esc", "in_str", "opened")

    def __init__(self) -> None:
        self.depth, self.in_str, self.esc, self.opened, self.closed = 0, False, False, False, False

    def feed(self, text: str) -> bool:
        """Scan `text`; True when a top-level object has opened and closed (sticky)."""
        if self.closed:
            return True
        for ch in text:
            if self.in_str:
                if self.esc:
                    self.esc = False
                elif ch == "\\":
                    self.esc = True
                elif ch == '"':
                    self.in_str = False
            elif ch == '"':
                self.in_str = self.opened
            elif ch == "{":
                self.depth += 1
                self.opened = True
            elif ch == "}" and self.depth > 0:
                self.depth -= 1
                if self.depth == 0:
                    self.closed = True
                    return True
        return False
