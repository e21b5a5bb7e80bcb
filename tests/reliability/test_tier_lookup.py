"""The one-time tier lookup (`rate_limit_tier=True`): `GET /v1/whoami` sizes the rate-limit
gate once per client; a lookup that fails, answers no tier or is slow leaves the gate sized for
the `standard` tier; a call waits for it at most half of what is left of its deadline; and it is
cancelled only once no call waits for it any more.

The gate is internal: these tests read its `tier` through the one private peek
`client._pool.shared.gate` (no public name shows how the client sized it), and count the
lookups on the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from aiohttp import web

from layers_async import APITimeoutError, LayersClient, RetryPolicy, Sandbox, Timeouts
from layers_async._ratelimit import RateGate
from layers_async.testing import no_waits
from tests.client._rogue import KEY, Answer, answer, rogue_server
from tests.client._rogue import WHOAMI as WHOAMI_BODY
from tests.reliability.test_cancellation import PARTNER_KEY

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
WHOAMI = "GET /v1/whoami"
CREDITS = "GET /v1/credits"

pytestmark = pytest.mark.anyio


def _gate(client: LayersClient) -> RateGate:
    return client._pool.shared.gate


async def _count(sb: Sandbox, route: str) -> int:
    count: int = (await sb.state())["requests"]["byRoute"].get(route, 0)
    return count


def _client(sb: Sandbox, **options: Any) -> LayersClient:
    return LayersClient(api_key=sb.api_key, base_url=sb.url, rate_limit_tier=True, **options)


async def test_the_lookup_sizes_the_gate_once_from_whoami(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A partner key's client is sized `partner` by one lookup, however many calls follow, and
    the lookup's DEBUG lines carry the key's prefix only."""
    caplog.set_level(logging.DEBUG, logger="layers_async")
    async with make_sandbox(api_keys=[PARTNER_KEY]) as sb, _client(sb) as client:
        await asyncio.gather(*(client.credits.get() for _ in range(5)))
        await client.credits.get()
        assert _gate(client).tier == "partner"
        assert await _count(sb, WHOAMI) == 1
        prefix = sb.api_key[: len("lp_live_") + 16] + "_…"
    lookup = [
        r.getMessage() for r in caplog.records if "GET /v1/whoami attempt 1" in r.getMessage()
    ]
    assert len(lookup) == 1
    assert lookup[0].endswith(f" key={prefix}")


async def test_a_lookup_that_keeps_failing_sizes_the_gate_as_standard(
    make_sandbox: MakeSandbox,
) -> None:
    """A lookup answered 500 until its attempts run out sizes the gate `standard`; the call
    itself goes on and succeeds."""
    faults = [{"route": WHOAMI, "action": "http_500"}]
    policy = RetryPolicy(max_attempts=2, budget_burst=100)
    with no_waits():
        async with (
            make_sandbox(api_keys=[PARTNER_KEY], faults=faults) as sb,
            _client(sb, retry=policy) as client,
        ):
            wallet = await client.credits.get()
            assert wallet.meta is not None
            assert _gate(client).tier == "standard"
            assert await _count(sb, WHOAMI) == 2  # the lookup was retried like any call


async def test_a_lookup_attempt_is_cut_at_the_clients_attempt_timeout(
    make_sandbox: MakeSandbox,
) -> None:
    """With `Timeouts(attempt=0.3)`, a 600 ms whoami answer is cut and the lookup retried."""
    faults = [{"route": WHOAMI, "action": "latency", "latencyMs": 600, "times": 1}]
    with no_waits():
        async with (
            make_sandbox(api_keys=[PARTNER_KEY], faults=faults) as sb,
            _client(sb, timeout=Timeouts(attempt=0.3)) as client,
        ):
            await client.credits.get()
            assert _gate(client).tier == "partner"
            assert await _count(sb, WHOAMI) == 2


async def test_a_slow_lookup_is_waited_for_half_the_deadline_then_sized_standard(
    make_sandbox: MakeSandbox,
) -> None:
    """A call with `timeout=2` waits at most 1 s for a 3 s lookup, then goes on with the gate
    sized `standard` (and succeeds); no second lookup follows."""
    faults = [{"route": WHOAMI, "action": "latency", "latencyMs": 3000, "times": 1}]
    async with make_sandbox(api_keys=[PARTNER_KEY], faults=faults) as sb, _client(sb) as client:
        wallet = await client.credits.get(timeout=2)
        assert wallet.meta is not None
        assert wallet.meta.attempts == 1
        assert _gate(client).tier == "standard"
        await client.credits.get()
        assert await _count(sb, WHOAMI) == 1


async def test_a_caller_leaving_keeps_the_lookup_for_the_others(
    make_sandbox: MakeSandbox,
) -> None:
    """Of two calls waiting for a 1 s lookup, cancelling one leaves the lookup running for the
    other, which then goes on with the gate sized from it."""
    faults = [{"route": WHOAMI, "action": "latency", "latencyMs": 1000, "times": 1}]
    async with make_sandbox(api_keys=[PARTNER_KEY], faults=faults) as sb, _client(sb) as client:
        leaving = asyncio.create_task(client.credits.get())
        staying = asyncio.create_task(client.credits.get())
        for _ in range(5):  # both calls reach the lookup on their first steps
            await asyncio.sleep(0)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        wallet = await staying
        assert wallet.meta is not None
        assert _gate(client).tier == "partner"
        assert await _count(sb, WHOAMI) == 1


@pytest.mark.parametrize(("answered", "tier"), [("pilot", "pilot"), (7, "standard")])
async def test_the_tier_is_read_from_whoami_and_a_non_string_is_standard(
    answered: object, tier: str
) -> None:
    """`rateLimitTier: "pilot"` sizes the gate `pilot`; a tier that is not a string, `standard`."""
    body = json.loads(WHOAMI_BODY) | {"rateLimitTier": answered}
    async with rogue_server() as server:
        server.fallback = answer(json.dumps(body).encode())
        async with LayersClient(api_key=KEY, base_url=server.url, rate_limit_tier=True) as client:
            await client.whoami()
            assert _gate(client).tier == tier


#: A second well-formed key (another key of the same shape; the rogue server checks none).
OTHER_KEY = KEY[:-4] + "Zz9Q"


def _holding(arrived: asyncio.Event, release: asyncio.Event) -> Answer:
    """An answer that notes the request's arrival, then holds it until `release` is set."""

    async def hold(_: web.Request) -> web.StreamResponse:
        arrived.set()
        await release.wait()
        return web.Response(body=WHOAMI_BODY, content_type="application/json")

    return hold


def _whoami(tier: str, headers: dict[str, str] | None = None) -> Answer:
    return answer(
        json.dumps(json.loads(WHOAMI_BODY) | {"rateLimitTier": tier}).encode(), 200, headers
    )


async def test_the_lookups_rate_limit_headers_size_the_read_light_bucket() -> None:
    """The lookup's own `X-RateLimit-*` headers correct the read-light bucket it sized: after a
    lookup answered `Remaining: 1` (for 30 s), one read goes out and the next is held at the
    gate until its 0.2 s deadline passes, unsent."""
    async with rogue_server() as server:
        window = {
            "X-RateLimit-Limit": "120",
            "X-RateLimit-Remaining": "1",
            "X-RateLimit-Reset": "30",
        }
        server.then(_whoami("standard", window))
        async with LayersClient(api_key=KEY, base_url=server.url, rate_limit_tier=True) as client:
            first = await client.whoami()
            assert first.meta is not None
            assert first.meta.attempts == 1
            with pytest.raises(APITimeoutError) as info:
                await client.whoami(timeout=0.2)
            assert info.value.deadline_exceeded is True
            assert info.value.attempts == 0
        assert server.seen == [("GET", "/v1/whoami")] * 2  # the lookup and the first read


async def test_a_lookup_whose_callers_all_left_is_started_again_by_the_next_call() -> None:
    """When the only call waiting for the lookup is cancelled, the lookup is cancelled with it;
    the next call starts a new lookup, which sizes the gate."""
    arrived, release = asyncio.Event(), asyncio.Event()
    async with rogue_server() as server:
        server.then(_holding(arrived, release), _whoami("pilot"))
        try:
            async with LayersClient(
                api_key=KEY, base_url=server.url, rate_limit_tier=True
            ) as client:
                leaving = asyncio.create_task(client.whoami())
                await arrived.wait()  # the first lookup is on the server: its caller leaves
                leaving.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await leaving
                assert _gate(client).tier is None  # the cancelled lookup sized nothing
                me = await client.whoami()
                assert me.meta is not None
                assert _gate(client).tier == "pilot"
        finally:
            release.set()
        assert server.seen == [("GET", "/v1/whoami")] * 3  # two lookups, then the call


async def test_a_call_with_under_a_second_left_waits_half_of_it_for_the_lookup() -> None:
    """A call with `timeout=0.5` waits 0.25 s for a lookup that does not answer, then goes on
    (sized `standard`) and is answered within its deadline: the patience is half of what is
    left, however little, never a floor of a second."""
    arrived, release = asyncio.Event(), asyncio.Event()
    async with rogue_server() as server:
        server.then(_holding(arrived, release))
        try:
            async with LayersClient(
                api_key=KEY, base_url=server.url, rate_limit_tier=True
            ) as client:
                me = await client.whoami(timeout=0.5)
                assert me.meta is not None
                assert me.meta.attempts == 1
                assert _gate(client).tier == "standard"
        finally:
            release.set()
        assert server.seen == [("GET", "/v1/whoami")] * 2  # the held lookup, then the call


async def test_a_view_with_another_key_looks_up_that_keys_tier() -> None:
    """A view made with `api_key=` sizes its own gate from a lookup sent with its own key: the
    other key's `pilot` tier, not the client key's `partner`. (Private peek at the view's gate:
    no public name shows how a view's gate was sized.)"""

    async def by_key(request: web.Request) -> web.StreamResponse:
        mine = request.headers["Authorization"] == f"Bearer {OTHER_KEY}"
        return await _whoami("pilot" if mine else "partner")(request)

    async with rogue_server() as server:
        server.fallback = by_key
        async with LayersClient(api_key=KEY, base_url=server.url, rate_limit_tier=True) as client:
            view = client.with_options(api_key=OTHER_KEY)
            await view.whoami()
            assert view._shared.gate.tier == "pilot"
            await client.whoami()
            assert _gate(client).tier == "partner"
