"""Clients that pin one exchange per call, and aiohttp trace configs recording what they send."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp

from layers_async import NO_RETRY, LayersClient, Sandbox

T = TypeVar("T")

#: Client options for one exchange per call: no retries, no rate-limit gate.
SINGLE: dict[str, Any] = {"retry": NO_RETRY, "rate_limit_tier": False}


def _recorder(signal: str, take: Callable[[Any], T]) -> tuple[aiohttp.TraceConfig, list[T]]:
    """A trace config appending `take(params)` to its list on every `signal` of a request."""
    seen: list[T] = []
    trace = aiohttp.TraceConfig()

    async def record(_s: aiohttp.ClientSession, _c: SimpleNamespace, params: Any) -> None:
        seen.append(take(params))

    getattr(trace, signal).append(record)
    return trace, seen


def url_recorder() -> tuple[aiohttp.TraceConfig, list[str]]:
    """A trace config recording the URL of every request the client sends."""
    return _recorder("on_request_start", lambda params: str(params.url))


def body_recorder() -> tuple[aiohttp.TraceConfig, list[tuple[str, bytes]]]:
    """A trace config recording (method, chunk) for every request body chunk the client sends."""
    return _recorder("on_request_chunk_sent", lambda params: (params.method, params.chunk))


def traced_client(sandbox: Sandbox, trace: aiohttp.TraceConfig, **options: Any) -> LayersClient:
    """A client of the sandbox's demo-live key whose requests `trace` observes."""
    return LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, trace_configs=[trace], **options
    )
