"""`Sandbox`: run the embedded Layers API in process, on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from aiohttp import web
from yarl import URL

from ._app import SandboxCore
from ._clock import format_ts
from ._config import SNAKE_TO_CAMEL, normalize_config
from ._errors import ApiError
from ._protocol import SandboxProtocol
from ._render import state as render_state

if TYPE_CHECKING:
    from .._client import LayersClient

__all__ = ["Sandbox", "SandboxConfigError"]

log = logging.getLogger("layers_async.sandbox")

_TICK_SECONDS = 0.1
#: The path of the sandbox's OAuth consent page (what `authorize_url` points at).
_CONSENT_PATH = "/_sandbox/oauth/authorize"
#: Poll intervals are divided by the clock speed; a paused clock (speed 0) only moves when the
#: program advances it, so its waiters poll as a clock this fast would (2 s become 10 ms).
_PAUSED_POLL_SPEED = 200.0
#: The epoch the virtual clock counts milliseconds from.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class SandboxConfigError(ValueError):
    """The sandbox configuration is invalid; `issues` lists every problem."""

    def __init__(self, issues: list[dict[str, str]]) -> None:
        self.issues = issues
        super().__init__(
            "invalid sandbox configuration: "
            + "; ".join(f"{i['path'] or '<root>'}: {i['message']}" for i in issues)
        )


@contextlib.contextmanager
def _config_errors() -> Iterator[None]:
    """Raise the sandbox's 422s as `SandboxConfigError` (what the HTTP routes would answer)."""
    try:
        yield
    except ApiError as err:
        raise SandboxConfigError(list((err.details or {}).get("issues", []))) from None


def _merge_options(config: Mapping[str, Any] | None, options: Mapping[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(dict(config or {}))
    unknown = [k for k in options if k not in SNAKE_TO_CAMEL]
    if unknown:
        raise TypeError(f"unknown Sandbox option(s): {', '.join(sorted(unknown))}")
    for k, v in options.items():
        raw[SNAKE_TO_CAMEL[k]] = v
    with _config_errors():
        return normalize_config(raw)


class Sandbox:
    """A stateful local Layers API (contract §5) served over HTTP by aiohttp.web.

    Use it as an async context manager::

        async with Sandbox(speed=0, seed=7) as sandbox:
            print(sandbox.url, sandbox.api_key)
            await sandbox.advance(60)

    Options are the §5.2 configuration keys in snake_case (``clock_start``,
    ``failure_rates``, ...); ``config=`` takes the same keys in camelCase.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self._config = _merge_options(config, options)
        self._host = host
        self._port = port
        self._core = SandboxCore(self._config)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bind the listener and start the background ticker."""
        if self._runner is not None:
            return
        core = self._core

        @web.middleware
        async def every_request(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            # Every request goes to the sandbox's own dispatch, including those aiohttp's router
            # cannot match (`OPTIONS *`, `CONNECT host:port`), so each gets the error envelope;
            # the app registers no route, since this middleware answers them all.
            return await core.handle(request)

        app = web.Application(client_max_size=8 * 1_048_576, middlewares=[every_request])
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self._host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        port = sock.getsockname()[1]
        try:
            self._listener = await self._listen(runner, sock)
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._url = f"http://{host}:{port}"
        self._core.build(self._url)
        self._ticker = asyncio.create_task(self._tick())

    async def _listen(self, runner: web.AppRunner, sock: socket.socket) -> asyncio.Server:
        """Serve `sock` with `SandboxProtocol` connections of the runner's server.

        What `web.SockSite` does, with a connection handler that answers the requests
        aiohttp's parser rejects with the error envelope instead of plain text.
        """
        server = runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        core = self._core

        def connection() -> SandboxProtocol:
            return SandboxProtocol(core, server, loop=loop, access_log=None)

        return await loop.create_server(connection, sock=sock)

    async def _tick(self) -> None:
        """Apply due transitions every tick; one that fails is logged, and the ticker goes on."""
        while True:
            await asyncio.sleep(_TICK_SECONDS)
            world = self._core.world
            if world is None:
                continue
            try:
                world.run_due()
            except Exception:
                log.exception("a sandbox transition failed; the sandbox goes on without it")

    async def aclose(self) -> None:
        """Stop serving; idempotent."""
        if self._ticker is not None:
            ticker, self._ticker = self._ticker, None
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ facts
    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8787``."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started; use `async with Sandbox(...)`")
        return self._url

    @property
    def keys(self) -> dict[str, str]:
        """Current key strings by key name (``demo-live``, ``demo-test``, ...)."""
        return {k["name"]: k["key"] for k in self._core.keys_json()}

    @property
    def api_key(self) -> str:
        """The ``demo-live`` key string (else the first configured key)."""
        keys = self.keys
        if "demo-live" in keys:
            return keys["demo-live"]
        return next(iter(keys.values()))

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the effective configuration."""
        return copy.deepcopy(self._core.public_config())

    # ------------------------------------------------------------------ control
    async def state(self, organization_id: str | None = None) -> dict[str, Any]:
        """What ``GET /_sandbox/state`` returns: now, speed and counts per resource."""
        world = self._core.w
        world.run_due()
        return render_state(world, organization_id)

    async def advance(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward and apply every due transition, in order.

        Raises `SandboxConfigError` (a `ValueError`) when `seconds` is not a number > 0 of
        at most ten years that keeps the clock before 9900-01-01T00:00:00Z; nothing moves then.
        """
        with _config_errors():
            applied = self._core.advance(seconds)
        return {"now": format_ts(self._core.w.now()), "transitionsApplied": applied}

    async def set_speed(self, speed: float) -> None:
        """Change the clock speed (0 pauses it).

        Raises `SandboxConfigError` (a `ValueError`) for a speed the clock cannot run at:
        neither 0 nor a number from 0.001 to 1,000,000; nothing changes then.
        """
        with _config_errors():
            self._core.set_speed(speed)

    async def configure(self, **patch: Any) -> dict[str, Any]:
        """``PATCH /_sandbox/config`` with snake_case keys; returns the effective config."""
        data = {SNAKE_TO_CAMEL.get(k, k): v for k, v in patch.items()}
        with _config_errors():
            self._core.patch_config(data)
        return self.config

    async def reset(self, **partial: Any) -> None:
        """``POST /_sandbox/reset``: wipe state, merging snake_case options over the config."""
        data = {SNAKE_TO_CAMEL.get(k, k): v for k, v in partial.items()}
        with _config_errors():
            self._core.reset(data)

    async def now(self) -> datetime:
        """The sandbox's current virtual time, timezone-aware (UTC), to the millisecond.

        It is what ``GET /_sandbox/clock`` answers: schedule relative to it (not to this
        machine's clock), since the sandbox's clock may run faster, be paused or advanced.
        """
        return _EPOCH + timedelta(milliseconds=self._core.w.now())

    async def authorize(self, url: str, decision: Literal["allow", "deny"] = "allow") -> str:
        """Complete an OAuth consent page of this sandbox as the customer's browser would.

        `url` is an attempt's ``authorize_url`` (from ``client.social.oauth_url``);
        ``decision="deny"`` refuses the consent. Returns where the page redirects the browser:
        the attempt's return URL with ``state`` and ``status`` (``success`` or ``error``)
        added. Raises `ValueError` for a URL that is not this sandbox's consent page and
        `RuntimeError` when the page does not redirect (an unknown ``state``, for example).
        """
        if decision not in ("allow", "deny"):
            raise ValueError(f"decision must be 'allow' or 'deny' (got {decision!r})")
        page = f"{self.url}{_CONSENT_PATH}"
        if url.split("?", 1)[0] != page:
            raise ValueError(f"not this sandbox's consent page (expected {page}?state=...)")
        target = URL(url).update_query(decision=decision)
        async with (
            aiohttp.ClientSession() as http,
            http.get(target, allow_redirects=False) as resp,
        ):
            location = resp.headers.get("Location")
            if resp.status != 302 or location is None:
                raise RuntimeError(f"the consent page answered {resp.status}: {await resp.text()}")
            return location

    def client(self, **options: Any) -> LayersClient:
        """A `LayersClient` bound to this sandbox's `url` and `api_key`, polling at its speed.

        `options` are `LayersClient`'s keywords (``retry``, ``timeout``, ...). Unless
        ``poll_policy`` is given, the default policy's intervals are divided by the clock's
        current speed, so waiters poll as often in virtual time as they would against the
        real API (at speed 60, every 2 s becomes every 33 ms); a paused clock (speed 0)
        polls every 10 ms at first, since it moves only when the program advances it. Use
        it as the client: ``async with sandbox.client() as client: ...``.
        """
        from .._client import LayersClient
        from .._config import DEFAULT_POLL

        if "poll_policy" not in options:
            speed = float(self.config["speed"]) or _PAUSED_POLL_SPEED
            options["poll_policy"] = DEFAULT_POLL.scaled(1 / speed)
        return LayersClient(api_key=self.api_key, base_url=self.url, **options)

    def __repr__(self) -> str:
        return f"<Sandbox url={self._url!r} speed={self._core.config['speed']!r}>"
