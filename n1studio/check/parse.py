"""The checker's answer reader: `grid.answer` (one layer below the checker and the nearest
feasible point, which share it) under the names the checker has always used.

Rules (see `grid.answer` and `grid.answer_text` for the details): a JSON object with
`"schema": "n1studio.answer/1"`, `buses` and `generators` lists of `<table>:<index>`
entries with finite numbers; every problem becomes a `format` or `removed_element` issue
and the value concerned NaN, never an exception; texts over MAX_ANSWER_BYTES and lists
over MAX_ENTRIES are refused unread.
"""

from __future__ import annotations

from n1studio.grid.answer import (
    MAX_ENTRIES,
    MAX_ENTRY_ISSUES,
    ParsedAnswer,
    name_lookups,
    parse_answer,
    read_number,
)
from n1studio.grid.answer_text import MAX_ANSWER_BYTES, issue, load_document, unfence

__all__ = ["MAX_ANSWER_BYTES", "MAX_ENTRIES", "MAX_ENTRY_ISSUES", "ParsedAnswer", "issue",
           "load_document", "name_lookups", "parse_answer", "read_number", "unfence"]
