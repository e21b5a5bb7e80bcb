"""A thin raw-HTTP helper for the sandbox contract tests (deliberately not SDK code)."""

from __future__ import annotations

import json as _json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from layers_async.sandbox import Sandbox

#: The `make_sandbox` fixture: starts a sandbox with the given `Sandbox` keywords.
MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

_UNSET: Any = object()


class Reply:
    """One HTTP response, read whole."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        """The `error` object of an error envelope."""
        err: dict[str, Any] = self.json["error"]
        return err

    @property
    def code(self) -> str:
        """The error code of an error envelope."""
        return str(self.error["code"])

    @property
    def issue_paths(self) -> list[str]:
        """The `path` of every validation issue."""
        return [i["path"] for i in self.error["details"]["issues"]]

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.body[:300]!r}>"


class Api:
    """Sends raw requests to a sandbox with a given key; no retries, no SDK logic."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key: str | None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key = key

    def with_key(self, key: str | None) -> Api:
        """The same helper with another key (None sends no Authorization header)."""
        return Api(self.session, self.base_url, key)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        data: bytes | str | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        idem: str | None = None,
        allow_redirects: bool = False,
    ) -> Reply:
        """Send one request and read the whole response."""
        h: dict[str, str] = {}
        if self.key is not None:
            h["Authorization"] = f"Bearer {self.key}"
        if idem is not None:
            h["Idempotency-Key"] = idem
        if json is not _UNSET:
            data = _json.dumps(json)
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        url = path if path.startswith("http") else self.base_url + path
        async with self.session.request(
            method, url, data=data, params=params, headers=h, allow_redirects=allow_redirects
        ) as resp:
            body = await resp.read()
            return Reply(resp.status, resp.headers, body)

    async def get(self, path: str, **kw: Any) -> Reply:
        """GET path."""
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = _UNSET, **kw: Any) -> Reply:
        """POST path with an optional JSON body."""
        return await self.call("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any = _UNSET, **kw: Any) -> Reply:
        """PATCH path with a JSON body."""
        return await self.call("PATCH", path, json=json, **kw)

    async def delete(self, path: str, json: Any = _UNSET, **kw: Any) -> Reply:
        """DELETE path."""
        return await self.call("DELETE", path, json=json, **kw)

    # --- /_sandbox/ helpers -------------------------------------------------------------
    async def advance(self, seconds: float) -> Any:
        """Move the virtual clock forward through the sandbox route."""
        r = await self.call("POST", "/_sandbox/clock/advance", json={"seconds": seconds})
        assert r.status == 200, r
        return r.json

    async def state(self) -> Any:
        """GET /_sandbox/state as JSON."""
        r = await self.call("GET", "/_sandbox/state")
        assert r.status == 200, r
        return r.json

    async def now(self) -> str:
        """The sandbox's current virtual time (UTC Z string)."""
        r = await self.call("GET", "/_sandbox/clock")
        return str(r.json["now"])

    async def set_speed(self, speed: float) -> Any:
        """PATCH /_sandbox/clock."""
        r = await self.call("PATCH", "/_sandbox/clock", json={"speed": speed})
        assert r.status == 200, r
        return r.json

    async def configure(self, patch: dict[str, Any]) -> Any:
        """PATCH /_sandbox/config."""
        r = await self.call("PATCH", "/_sandbox/config", json=patch)
        assert r.status == 200, r
        return r.json
