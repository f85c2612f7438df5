"""The model runtime a command asks for, built in one place: the local worker, or an
`EndpointClient` from the command line's --endpoint options or the window's server entry.
Imported by the handlers that run a model (not at parser build time: httpx and the
worker's multiprocessing stay unloaded for `--help`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from n1studio.llm.client import ModelClient
from n1studio.llm.constrain import GRAMMAR
from n1studio.llm.endpoint import EndpointClient
from n1studio.llm.endpoint_limits import DEFAULT_IDLE_S, DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from n1studio.llm.runtime import ModelSettings


def endpoint_client(options: Mapping, settings: ModelSettings | None = None) -> EndpointClient:
    """The one place an EndpointClient is built, from the command line's options or the
    window's server entry: `endpoint`, `model`, and optionally `chat`, `api_key_env`,
    `constrained`, `timeout`, `idle_timeout`, `retries` (absent or None: the defaults)."""
    def get(name, default):
        value = options.get(name)
        return default if value is None else value

    timeout = float(get("timeout", DEFAULT_TIMEOUT_S))
    return EndpointClient(str(options.get("endpoint") or ""), str(options.get("model") or ""),
                          chat=bool(get("chat", False)), api_key_env=options.get("api_key_env"),
                          constrained=get("constrained", GRAMMAR), timeout_s=timeout,
                          idle_timeout_s=min(float(get("idle_timeout", DEFAULT_IDLE_S)), timeout),
                          retries=int(get("retries", DEFAULT_RETRIES)), settings=settings)


def make_client(args: argparse.Namespace,
                settings: ModelSettings | None = None) -> ModelClient | EndpointClient:
    """The runtime a command line asks for: a server with --endpoint, else the local worker
    (with --endpoint, --model is the server's model name, not a GGUF file)."""
    if not getattr(args, "endpoint", None):
        return ModelClient(settings)
    return endpoint_client(vars(args), settings)
