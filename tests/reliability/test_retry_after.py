"""One bad `Retry-After` never disables an endpoint class: only whole seconds (or an HTTP-date)
are read, anything else counts as absent, and every pause — a call's and the rate-limit gate's
pause of the class — is capped by `RetryPolicy.max_retry_after`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from layers_async import LayersClient, RateLimitError, RetryPolicy
from layers_async._ratelimit import RateGate
from tests.client._rogue import KEY, Rogue, answer, rogue_server

RATE_LIMITED = b'{"error":{"code":"RATE_LIMITED","message":"Slow down.","details":{}}}'
#: A policy with a short cap, so that a capped pause passes within the test.
SHORT_CAP = RetryPolicy(initial_backoff=0.05, max_backoff=0.1, max_retry_after=0.3)


@pytest.fixture
async def rogue() -> AsyncIterator[Rogue]:
    """A server that answers what each test scripts."""
    async with rogue_server() as server:
        yield server


def _limited(retry_after: str) -> tuple[bytes, int, dict[str, str]]:
    return RATE_LIMITED, 429, {"Retry-After": retry_after}


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["inf", "Infinity", "1e3", "-1", "abc", "1.5", "nan", ""])
async def test_an_unreadable_retry_after_falls_back_to_backoff(rogue: Rogue, header: str) -> None:
    """A 429 whose Retry-After is not whole seconds is retried after the backoff, and the next
    call of the same class goes through at once."""
    rogue.then(answer(*_limited(header)))
    async with LayersClient(
        api_key=KEY, base_url=rogue.url, rate_limit_tier="standard", retry=SHORT_CAP
    ) as client:
        first = await client.whoami()
        assert first.meta is not None
        assert first.meta.attempts == 2
        gate = client._pool.shared.gate  # the one private peek: how long the class is paused
        assert gate.paused_for("read-light") <= SHORT_CAP.initial_backoff
        second = await client.whoami()
        assert second.meta is not None
        assert second.meta.attempts == 1
    assert len(rogue.seen) == 3


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["99999999", "3600", "Fri, 01 Jan 2100 00:00:00 GMT"])
async def test_a_huge_retry_after_pauses_the_class_no_longer_than_the_cap(
    rogue: Rogue, header: str
) -> None:
    """A 429 asking for years (or an hour, or a date far ahead) fails that call at once with the
    server's Retry-After; the class is paused for `max_retry_after` at most, so the next call of
    the class waits that out and succeeds."""
    rogue.then(answer(*_limited(header)))
    async with LayersClient(
        api_key=KEY, base_url=rogue.url, rate_limit_tier="standard", retry=SHORT_CAP
    ) as client:
        with pytest.raises(RateLimitError) as refused:
            await client.whoami()
        assert refused.value.retry_after is not None
        assert refused.value.retry_after > 3000
        gate = client._pool.shared.gate
        assert 0 < gate.paused_for("read-light") <= SHORT_CAP.max_retry_after
        after = await client.whoami()
        assert after.meta is not None
        assert after.meta.attempts == 1
    assert len(rogue.seen) == 2


@pytest.mark.anyio
async def test_a_huge_rate_limit_reset_is_not_believed() -> None:
    """`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset: 99999999` holds the class until the
    end of one rate window (60 s) at most, not for years. (The internal `RateGate` on an
    injected clock: a minute's hold cannot be waited in real time.)"""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    gate = RateGate(lambda: now[0], sleep)
    gate.set_tier("standard")
    headers = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0"}
    gate.observe("read-light", {**headers, "X-RateLimit-Reset": "99999999"})
    waited = await gate.acquire("read-light", deadline=3600.0)
    assert 0 < waited < 61.0
