"""A local HTTP server that misbehaves on purpose: each test scripts what it answers.

Real HTTP on 127.0.0.1 (aiohttp.web), so the SDK reads every answer through its real transport.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

#: One scripted answer: what the server sends back for one request.
Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The request id every scripted answer carries.
RID = "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T"
#: A well-formed key of the documented shape (no server checks it).
KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"
ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
#: A whoami body the SDK decodes.
WHOAMI = (
    b'{"organizationId":"' + ORG.encode() + b'","workspaceId":"' + ORG.encode() + b'",'
    b'"organizationName":"Acme","parentOrganizationId":null,"scopes":["*"],'
    b'"rateLimitTier":"standard","apiKeyId":"key_c2037e9a-5b14-4f6d-8a2e-91c0d7b3e845",'
    b'"creditBalance":10}'
)


def answer(
    body: bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Answer:
    """An answer with exactly these bytes (and `X-Request-Id`)."""

    async def send(_: web.Request) -> web.Response:
        sent = {"X-Request-Id": RID, **(headers or {})}
        if status == 204:
            return web.Response(status=204, headers=sent)
        return web.Response(body=body, status=status, headers=sent, content_type=content_type)

    return send


class Rogue:
    """The server's script: `answers` are sent in order, then `fallback` for every request."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.fallback: Answer = answer(WHOAMI)
        #: (method, path) of every request received.
        self.seen: list[tuple[str, str]] = []
        self.url = ""

    def then(self, *answers: Answer) -> None:
        """Queue answers for the next requests."""
        self.answers.extend(answers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path))
        await request.read()
        script = self.answers.popleft() if self.answers else self.fallback
        return await script(request)


@asynccontextmanager
async def rogue_server() -> AsyncIterator[Rogue]:
    """A running misbehaving server; its `url` is the base URL to give a client."""
    rogue = Rogue()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rogue.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rogue.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield rogue
    finally:
        await runner.cleanup()
