"""Serve a `WebhookReceiver` on 127.0.0.1 through each front door: the aiohttp.web handler,
the ASGI app routed by Starlette under uvicorn, and the bare ASGI app under uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn
from aiohttp import web
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from layers_async import WebhookReceiver

Door = Literal["aiohttp", "starlette", "asgi"]
DOORS: tuple[Door, ...] = ("aiohttp", "starlette", "asgi")
PATH = "/layers/webhooks"


def _socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@asynccontextmanager
async def serve(receiver: WebhookReceiver, door: Door) -> AsyncIterator[str]:
    """Serve `receiver` at `PATH` through `door`; yield the URL of that path."""
    sock = _socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"
    try:
        if door == "aiohttp":
            async with _aiohttp(receiver, sock):
                yield url
        else:
            async with uvicorn_server(receiver, sock, door):
                yield url
    finally:
        sock.close()


@asynccontextmanager
async def _aiohttp(receiver: WebhookReceiver, sock: socket.socket) -> AsyncIterator[None]:
    app = web.Application()
    app.router.add_route("*", PATH, receiver.aiohttp_handler())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def uvicorn_server(
    receiver: WebhookReceiver, sock: socket.socket, door: Door
) -> AsyncIterator[None]:
    """uvicorn serving `sock`: a Starlette app routing `PATH` to ``receiver.asgi_app``, or
    (``"asgi"``) the receiver's own app checking `PATH`, with its lifespan on."""
    if door == "starlette":
        app: ASGIApp = Starlette(routes=[Route(PATH, receiver.asgi_app)])
    else:
        app = receiver.asgi(PATH)
    async with uvicorn_serving(app, sock):
        yield


@asynccontextmanager
async def uvicorn_serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[None]:
    """uvicorn serving `app` on `sock` (lifespan on) until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # startup (lifespan included) has not finished yet
        if task.done():
            task.result()  # raises what stopped it
            raise AssertionError("uvicorn stopped during startup")
        await asyncio.sleep(0.005)
    try:
        yield
    finally:
        server.should_exit = True
        await task
