"""The request path's shape: a first attempt that succeeds goes out without the retry loop, a
call without options carries the one default options object, and a response's status and
headers live in one metadata object; the hooks see a first attempt's success as attempt 1; a
redirect is never followed, nor is any answer but a 2xx a success; a refused connection names
its failure.

These tests import internals (`_transport.Transport._retry_loop`, `RawResponse`, the default
`CallOptions`) because what they pin is how the call is carried, which no public result shows;
every call still runs over real HTTP against the sandbox.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from layers_async import (
    APIConnectionError,
    APIStatusError,
    AttemptEvent,
    LayersClient,
    RetryPolicy,
    Sandbox,
    Timeouts,
    _transport,
)
from layers_async.resources._base import call_options, list_options
from layers_async.testing import no_waits
from tests.client._rogue import KEY, WHOAMI, answer, rogue_server

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
CREATE = "POST /v1/projects"


@pytest.fixture
def loop_entries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls that entered the transport's retry loop (wrapped, not replaced)."""
    entries: list[int] = []
    original = _transport.Transport._retry_loop

    async def counted(self: _transport.Transport, *args: Any) -> _transport.RawResponse:
        entries.append(1)
        return await original(self, *args)

    monkeypatch.setattr(_transport.Transport, "_retry_loop", counted)
    return entries


@pytest.fixture
def nowait() -> Iterator[None]:
    """Retries happen without real backoff sleeps in this test."""
    with no_waits():
        yield


def test_a_call_without_options_carries_the_transports_one_default_options_object() -> None:
    """`**options` left empty reaches the transport as its `DEFAULT_CALL`, built once."""
    assert call_options({}) is _transport.DEFAULT_CALL
    assert list_options({}).options is _transport.DEFAULT_CALL


@pytest.mark.anyio
async def test_a_first_attempt_that_succeeds_never_enters_the_retry_loop(
    make_sandbox: MakeSandbox, loop_entries: list[int]
) -> None:
    """Reads and writes that succeed at once (the tier lookup included) skip the retry loop."""
    async with (
        make_sandbox() as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as c,
    ):
        project = await c.projects.create(name="Acme Coffee", timezone="UTC")
        again = await c.projects.get(project.id)
        page = await c.projects.list(limit=5)
    assert again.id == project.id
    assert [p.id for p in page] == [project.id]
    assert loop_entries == []


@pytest.mark.anyio
async def test_a_failed_first_attempt_is_retried_in_the_retry_loop(
    make_sandbox: MakeSandbox, nowait: None, loop_entries: list[int]
) -> None:
    """A 503 on the first attempt hands the call to the retry loop once; attempt 2 succeeds."""
    rule = {"route": CREATE, "times": 1, "action": "http_503", "retryAfter": 1}
    async with (
        make_sandbox(faults=[rule]) as sb,
        LayersClient(
            api_key=sb.api_key,
            base_url=sb.url,
            timeout=Timeouts(total=30),
            retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01),
        ) as c,
    ):
        project = await c.projects.create(name="Acme Coffee", timezone="UTC")
    assert project.meta is not None
    assert project.meta.attempts == 2
    assert loop_entries == [1]


@pytest.mark.anyio
async def test_a_response_keeps_its_status_and_headers_in_one_metadata_object(
    make_sandbox: MakeSandbox,
) -> None:
    """`RawResponse` holds the body, the one `ResponseMeta` and the request, nothing twice."""
    assert _transport.RawResponse._fields == ("body", "meta", "spec")
    async with (
        make_sandbox() as sb,
        LayersClient(api_key=sb.api_key, base_url=sb.url) as c,
    ):
        project = await c.projects.create(name="Acme Coffee", timezone="UTC")
    assert project.meta is not None
    assert project.meta.status_code == 201
    assert project.meta.request_id is not None


@pytest.mark.anyio
async def test_a_first_attempt_that_succeeds_reaches_the_hooks_as_attempt_1(
    make_sandbox: MakeSandbox,
) -> None:
    """`on_request` and `on_response` see a call answered at once as attempt 1, with its
    status, request id and endpoint class."""
    seen: list[AttemptEvent] = []
    async with (
        make_sandbox() as sb,
        LayersClient(
            api_key=sb.api_key, base_url=sb.url, on_request=seen.append, on_response=seen.append
        ) as c,
    ):
        wallet = await c.credits.get()
    assert wallet.meta is not None
    sent, answered = seen  # the tier lookup's own attempt is not shown to the hooks
    assert (sent.method, sent.path, sent.attempt, sent.status) == ("GET", "/v1/credits", 1, None)
    assert (answered.attempt, answered.status) == (1, 200)
    assert answered.request_id == wallet.meta.request_id
    assert answered.endpoint_class == sent.endpoint_class == "read-light"


@pytest.mark.anyio
async def test_a_redirect_is_the_calls_answer_never_followed() -> None:
    """A 302 ends the call as an `APIStatusError` with status 302 (not retried): the client
    never follows it, so neither the key nor the request goes anywhere else."""
    async with rogue_server() as rogue:
        rogue.then(answer(b"", 302, {"Location": "/v1/elsewhere"}))
        async with LayersClient(api_key=KEY, base_url=rogue.url, rate_limit_tier=False) as c:
            with pytest.raises(APIStatusError) as info:
                await c.whoami()
    assert info.value.status_code == 302
    assert info.value.attempts == 1
    assert rogue.seen == [("GET", "/v1/whoami")]


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "success"), [(299, True), (300, False), (304, False)])
async def test_only_a_2xx_answer_is_a_success_where_no_304_is_expected(
    status: int, success: bool
) -> None:
    """A 299 answer decodes; a 300 (the first status that is not a success), or a 304 to a
    call that sent no validator, is an `APIStatusError` with that status, not retried."""
    async with rogue_server() as rogue:
        rogue.then(answer(WHOAMI, status))
        async with LayersClient(api_key=KEY, base_url=rogue.url, rate_limit_tier=False) as c:
            if success:
                me = await c.whoami()
                assert me.meta is not None
                assert me.meta.status_code == status
            else:
                with pytest.raises(APIStatusError) as info:
                    await c.whoami()
                assert info.value.status_code == status
                assert info.value.attempts == 1
    assert rogue.seen == [("GET", "/v1/whoami")]


@pytest.mark.anyio
async def test_a_refused_connection_is_an_api_connection_error_naming_the_failure() -> None:
    """A connection refused on every attempt ends the call as an `APIConnectionError` whose
    message names aiohttp's failure (`Connection failed: ClientConnectorError: ...`)."""
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with no_waits():
        async with LayersClient(
            api_key=KEY, base_url=f"http://127.0.0.1:{port}", rate_limit_tier=False
        ) as c:
            with pytest.raises(APIConnectionError) as info:
                await c.whoami()
    err = info.value
    assert type(err) is APIConnectionError
    assert err.message.startswith("Connection failed: ClientConnectorError: ")
    assert str(port) in err.message
