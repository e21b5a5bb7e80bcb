"""What the rate-limit gate learns from the answers' `X-RateLimit-*` headers: a failed answer's
headers correct the count as a success's do, and a success's are only read once half of the
window's calls are used (until then the client's own count is good enough).

Each test scripts the headers on a local server, then looks at the effect on the next call:
held at the gate until its short deadline passes (unsent), or sent at once.
"""

from __future__ import annotations

import pytest

from layers_async import APITimeoutError, InternalServerError, LayersClient, RetryPolicy
from tests.client._rogue import KEY, WHOAMI, answer, rogue_server

pytestmark = pytest.mark.anyio

#: The server's word: no call of the class left in this window, which ends in 30 s.
EXHAUSTED = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
GET_WHOAMI = ("GET", "/v1/whoami")


def _client(url: str) -> LayersClient:
    """A client whose gate is sized for the standard tier at once (120 reads a minute)."""
    return LayersClient(api_key=KEY, base_url=url, retry=ONE_ATTEMPT, rate_limit_tier="standard")


async def _held_until_its_deadline(client: LayersClient) -> None:
    with pytest.raises(APITimeoutError) as info:
        await client.whoami(timeout=0.2)
    assert info.value.deadline_exceeded is True
    assert info.value.attempts == 0


async def test_a_failed_answers_rate_limit_headers_correct_the_gate() -> None:
    """A 500 answered with `Remaining: 0` (for 30 s) holds the class's next call at the gate
    until its deadline, unsent: the server's count binds whatever the status."""
    async with rogue_server() as server:
        server.then(answer(b'{"error":{"code":"INTERNAL"}}', 500, EXHAUSTED))
        async with _client(server.url) as client:
            with pytest.raises(InternalServerError):
                await client.whoami()
            await _held_until_its_deadline(client)
        assert server.seen == [GET_WHOAMI]


async def test_a_successs_rate_limit_headers_are_not_read_while_most_calls_are_left() -> None:
    """With 119 of 120 reads left by the client's own count, a success answered `Remaining: 0`
    is not read: the next read is sent at once (the count is corrected once half is used)."""
    async with rogue_server() as server:
        server.then(answer(WHOAMI, 200, EXHAUSTED))
        async with _client(server.url) as client:
            await client.whoami()
            me = await client.whoami(timeout=0.2)
            assert me.meta is not None
            assert me.meta.attempts == 1
        assert server.seen == [GET_WHOAMI] * 2
