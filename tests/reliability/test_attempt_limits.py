"""Every attempt is bounded by the call's `connect` and `read` timeouts, whichever way its
timeouts were given (the client's default, a call's own `Timeouts` whose attempt timeout is
shorter or longer than its deadline): a connect that hangs, or an answer that does not come,
ends at that timeout and is retried, instead of using up the attempt or the call's deadline.

A connect that hangs on loopback: a listening socket whose queue of unaccepted connections is
full (`listen(0)` plus one connection it never accepts) drops every further SYN on Linux, so
the client's connect waits until its own timeout. An answer that does not come: a local server
that holds every request until the test ends. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from layers_async import APITimeoutError, LayersClient, RetryPolicy, Timeouts
from layers_async.testing import no_waits
from tests.client._rogue import KEY, Rogue, rogue_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform != "linux", reason="a full accept queue drops SYNs on Linux"),
]

#: Six attempts, no gate: only the timeouts decide how a call ends.
ATTEMPTS = 6
POLICY = RetryPolicy(max_attempts=ATTEMPTS, budget_burst=100)
#: A connect that hangs, or a wait for an answer, is given up after this long: six of them
#: (0.18 s) end the call long before its deadline...
STALL = 0.03
TOTAL = 1.1
#: ... while one attempt left to run to its own timeout would leave too little of the deadline
#: for the other five (0.1 s), so the call would end at its deadline instead.
ATTEMPT = 1.0
STALLS = ["connect", "read"]


@asynccontextmanager
async def _stalling(stall: str) -> AsyncIterator[str]:
    """The base URL of a loopback port where every connect hangs (`connect`), or of a server
    that holds every request unanswered (`read`); backoff sleeps are skipped meanwhile."""
    if stall == "connect":
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(0)
            host, port = server.getsockname()
            # The one connection fills the queue: every later SYN is dropped.
            with socket.create_connection((host, port)), no_waits():
                yield f"http://{host}:{port}"
        return
    async with unanswered() as rogue:
        with no_waits():
            yield rogue.url


@asynccontextmanager
async def unanswered() -> AsyncIterator[Rogue]:
    """A local server that holds every request unanswered until the test ends."""
    release = asyncio.Event()

    async def hold(_: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=204)

    async with rogue_server() as rogue:
        rogue.fallback = hold
        try:
            yield rogue
        finally:
            release.set()


def _timeouts(stall: str, *, attempt: float, total: float) -> Timeouts:
    return Timeouts(total=total, attempt=attempt, **{stall: STALL})  # type: ignore[arg-type]


def _expect_every_attempt_stalled(err: APITimeoutError) -> None:
    assert err.attempts == ATTEMPTS  # each ended at its connect or read timeout, and was retried
    assert err.deadline_exceeded is False
    assert err.rate_limit is None  # no answer arrived


@pytest.mark.parametrize("stall", STALLS)
async def test_a_stalled_attempt_ends_at_the_clients_connect_or_read_timeout(stall: str) -> None:
    """With the client's `Timeouts(total=1.1, attempt=1)` and a 0.03 s `connect` (or `read`)
    timeout, each of 6 attempts ends at that timeout: the call fails after 6 attempts, not at
    its deadline."""
    async with (
        _stalling(stall) as url,
        LayersClient(
            api_key=KEY,
            base_url=url,
            retry=POLICY,
            rate_limit_tier=False,
            timeout=_timeouts(stall, attempt=ATTEMPT, total=TOTAL),
        ) as client,
    ):
        with pytest.raises(APITimeoutError) as info:
            await client.whoami()
    _expect_every_attempt_stalled(info.value)


@pytest.mark.parametrize("stall", STALLS)
@pytest.mark.parametrize(
    ("attempt", "total"),
    [(ATTEMPT, TOTAL), (5.0, TOTAL)],
    ids=["attempt-shorter-than-deadline", "deadline-shorter-than-attempt"],
)
async def test_a_stalled_attempt_ends_at_a_calls_own_connect_or_read_timeout(
    stall: str, attempt: float, total: float
) -> None:
    """A call's own `Timeouts` with a 0.03 s `connect` (or `read`) timeout bounds each attempt
    too, whether its attempt timeout or its deadline bounds the attempt: 6 attempts, each
    ended at that timeout."""
    async with (
        _stalling(stall) as url,
        LayersClient(api_key=KEY, base_url=url, retry=POLICY, rate_limit_tier=False) as client,
    ):
        with pytest.raises(APITimeoutError) as info:
            await client.whoami(timeout=_timeouts(stall, attempt=attempt, total=total))
    _expect_every_attempt_stalled(info.value)
