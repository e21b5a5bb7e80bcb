"""The public `Sandbox` helpers: `authorize` (the consent page), `now` and `client`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from layers_async import DEFAULT_POLL, NO_RETRY, LayersClient, OAuthUrl, Sandbox, WaitTimeoutError
from layers_async.cli.demo import demo_customers
from layers_async.flows import Customer, OnboardingResult, fan_out, onboard_customer
from layers_async.waiters import wait_for_oauth, wait_for_ready_influencer
from tests.conftest import CLOCK_START

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
RETURN_URL = "http://localhost:3000/social/connect/callback"
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
#: How long (real seconds) the poll-count tests let a waiter poll an influencer still pending.
POLL_WINDOW = 0.5

pytestmark = pytest.mark.anyio


async def _attempt_url(client: LayersClient) -> tuple[str, str, str]:
    """A new project and an OAuth attempt on it: (project id, state, authorize URL)."""
    project = await client.projects.create(name="Consent Co", timezone="UTC")
    attempt = await client.social.oauth_url(project.id, platform="tiktok", return_url=RETURN_URL)
    return project.id, attempt.state, attempt.authorize_url


async def test_authorize_allows_and_the_waiter_sees_the_account(sandbox: Sandbox) -> None:
    """authorize(url) consents like a browser: the redirect says success, the account connects."""
    async with sandbox.client() as client:
        project_id, state, url = await _attempt_url(client)
        location = await sandbox.authorize(url)
        assert location == f"{RETURN_URL}?state={state}&status=success"
        attempt = await wait_for_oauth(client, project_id, state, timeout=5)
    assert attempt.status == "completed"
    assert attempt.social_account_id is not None


async def test_authorize_can_deny(sandbox: Sandbox) -> None:
    """decision="deny" refuses the consent: the redirect says error and the attempt fails."""
    async with sandbox.client() as client:
        project_id, state, url = await _attempt_url(client)
        location = await sandbox.authorize(url, decision="deny")
        assert location == f"{RETURN_URL}?state={state}&status=error"
        status = await client.social.oauth_status(project_id, state)
    assert status.status == "failed"
    assert status.social_account_id is None
    assert status.error is not None


async def test_authorize_refuses_other_pages_and_reports_a_page_error(sandbox: Sandbox) -> None:
    """A URL that is not this sandbox's consent page is a ValueError; an unknown state fails."""
    page = f"{sandbox.url}/_sandbox/oauth/authorize"
    with pytest.raises(ValueError, match="consent page"):
        await sandbox.authorize("https://www.tiktok.com/v2/auth/authorize?state=st_1")
    with pytest.raises(ValueError, match="allow"):
        await sandbox.authorize(f"{page}?state=st_1", decision="maybe")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="404"):
        await sandbox.authorize(f"{page}?state=st_01HXA1NHKJZXPV8R7Q6WSM5BCD")


async def test_now_is_the_virtual_clock(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """now() is timezone-aware, equals GET /_sandbox/clock and moves with advance()."""
    start = datetime.fromisoformat(CLOCK_START.replace("Z", "+00:00"))
    now = await sandbox.now()
    assert now == start
    assert now.utcoffset() == timedelta(0)
    await sandbox.advance(90.5)
    async with session.get(f"{sandbox.url}/_sandbox/clock") as r:
        clock = (await r.json())["now"]
    now = await sandbox.now()
    assert now == start + timedelta(seconds=90.5)
    assert now == datetime.fromisoformat(clock.replace("Z", "+00:00"))
    assert now.tzinfo is timezone.utc


async def test_client_is_bound_to_the_sandbox_and_takes_client_options(sandbox: Sandbox) -> None:
    """client() talks to this sandbox with its key; other keywords go to LayersClient."""
    async with sandbox.client(retry=NO_RETRY, timeout=30) as client:
        assert client.base_url == sandbox.url
        me = await client.whoami()
        assert me.api_key_id
        assert client.polls_sent == 0
    with pytest.raises(TypeError):
        sandbox.client(no_such_option=1)


async def _polls_while_pending(client: LayersClient) -> int:
    """Polls a waiter sends in POLL_WINDOW for an influencer that stays pending."""
    async with client:
        project = await client.projects.create(name="Poll Co", timezone="UTC", app_description=DESC)
        with pytest.raises(WaitTimeoutError):
            await wait_for_ready_influencer(client, project.id, timeout=POLL_WINDOW)
        return client.polls_sent


@pytest.mark.parametrize("speed", [0, 60])
async def test_client_polls_at_the_pace_of_the_sandbox_clock(
    make_sandbox: MakeSandbox, speed: float
) -> None:
    """At speed 60, and paused, the default client polls many times where 1x polls once."""
    async with make_sandbox(speed=speed) as sb:
        assert await _polls_while_pending(sb.client()) >= 3
        # the unscaled policy (what speed 1 gets) waits 2 s after its first poll
        assert await _polls_while_pending(sb.client(poll_policy=DEFAULT_POLL)) == 1


async def test_client_at_speed_1_keeps_the_real_api_pace(make_sandbox: MakeSandbox) -> None:
    """A sandbox running at real time gets the default poll policy: one poll in the window."""
    async with make_sandbox(speed=1) as sb:
        assert await _polls_while_pending(sb.client()) == 1


@pytest.mark.timeout(60)
async def test_customers_onboard_at_speed_60_with_the_sandbox_helpers(
    make_sandbox: MakeSandbox,
) -> None:
    """client(), authorize() and now() are all the Getting started flow needs at speed 60."""
    async with make_sandbox(speed=60) as sb, sb.client() as client:

        async def authorize(attempt: OAuthUrl) -> None:
            await sb.authorize(attempt.authorize_url)

        def one(customer: Customer) -> Awaitable[OnboardingResult]:
            return onboard_customer(client, customer, authorize=authorize, now=sb.now)

        results = await fan_out(demo_customers(3), one, concurrency=3)
        counts = (await sb.state())["counts"]
    assert [r.ok for r in results] == [True] * 3, [r.error for r in results]
    assert counts["scheduledPosts"]["byStatus"] == {"queued": 3}
    assert client.polls_sent > 0
