"""The limits a call to a model server runs under, and their defaults (no imports: the
command line reads the defaults for its help without loading the HTTP client)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT_S = 600.0  # one whole answer; a cold case14 answer on 2 busy cores: ~2 min
DEFAULT_IDLE_S = 120.0  # no byte for this long (time queued on the server included)
DEFAULT_RETRIES = 3  # retries of one answer in all (429/5xx, dropped connections)
BYTES_PER_TOKEN = 1024  # what one streamed chunk may take on the wire, JSON and all
TOKEN_SLACK = 16  # chunks beyond max_tokens before a server is said to ignore it


@dataclass(frozen=True)
class Limits:
    """What one call may spend: the whole deadline, the idle time per read, the retries
    and the bytes read (comments and pings included)."""

    deadline_s: float
    idle_s: float
    retries: int
    max_bytes: int
