"""The defaults of the limits a call to a model server runs under (no imports: the command
line reads them for its help without loading the HTTP client)."""

DEFAULT_TIMEOUT_S = 600.0  # one whole answer (a large answer from a busy CPU server: minutes)
DEFAULT_IDLE_S = 120.0  # no byte for this long (time queued on the server included)
DEFAULT_RETRIES = 3  # retries of one answer in all (429/5xx, dropped connections)
BYTES_PER_TOKEN = 1024  # what one streamed chunk may take on the wire, JSON and all
TOKEN_SLACK = 16  # chunks beyond max_tokens before a server is said to ignore it

