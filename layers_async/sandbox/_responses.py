"""The responses the sandbox writes: JSON bodies and the contract's error envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._errors import ApiError
from ._jsonio import dumps

__all__ = ["JSON_CT", "error_body", "error_response", "json_response", "ok"]

JSON_CT = "application/json; charset=utf-8"


def error_body(rid: str, err: ApiError) -> bytes:
    """`{"error": {code, message, requestId[, details]}}` as JSON bytes."""
    e: dict[str, Any] = {"code": err.code, "message": err.message, "requestId": rid}
    if err.details is not None:
        e["details"] = err.details
    return dumps({"error": e})


def json_response(
    status: int, rid: str, body: bytes | None, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A response with its request id; a body (if any) is JSON already encoded."""
    h = {"X-Request-Id": rid}
    if headers:
        h.update(headers)
    if body is not None:
        h["Content-Type"] = JSON_CT
    return web.Response(status=status, body=body, headers=h)


def error_response(rid: str, err: ApiError, extra: Mapping[str, str] | None = None) -> web.Response:
    """The error envelope of `err`, with `extra` headers and then the error's own."""
    h = dict(extra or {})
    if err.headers:
        h.update(err.headers)
    return json_response(err.status, rid, error_body(rid, err), h)


def ok(rid: str, body: Any, status: int = 200) -> web.Response:
    """A JSON response of `body`."""
    return json_response(status, rid, dumps(body))
