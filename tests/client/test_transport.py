"""The request pipeline: what the client sends, how answers map to results and errors, and
how the client owns (and shares, and closes) its one aiohttp session.

What the client SENDS is inspected with a tiny echo server (an aiohttp.web app on 127.0.0.1:0
that records every request); everything else runs over real HTTP against the sandbox.
"""

from __future__ import annotations

import contextlib
import gc
import json
import platform
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy

import layers_async
from layers_async import (
    NO_RETRY,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    IdempotencyConflictError,
    InternalServerError,
    KillSwitchError,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Sandbox,
    ScheduleTarget,
)

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]

#: A well-formed key (contract §1.2) the echo server accepts without checking.
ECHO_KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"
ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
TS = "2026-05-14T16:00:00.000Z"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
APP_DESCRIPTION = (
    "Acme Coffee is a small neighbourhood roaster whose app lets regulars order ahead, "
    "collect stamps and discover new single-origin beans."
)

#: These tests pin one exchange per call: no retries, no rate-limit gate.
SINGLE: dict[str, Any] = {"retry": NO_RETRY, "rate_limit_tier": False}

WHOAMI: dict[str, Any] = {
    "organizationId": ORG,
    "workspaceId": ORG,
    "organizationName": "Echo Partner",
    "parentOrganizationId": None,
    "scopes": ["*"],
    "rateLimitTier": "standard",
    "apiKeyId": "key_c2037e9a-5b14-4f6d-8a2e-91c0d7b3e845",
    "creditBalance": 6000,
}
PROJECT: dict[str, Any] = {
    "id": PRJ,
    "organizationId": ORG,
    "name": "Acme Coffee",
    "status": "active",
    "customerExternalId": None,
    "ownerEmail": None,
    "timezone": "UTC",
    "primaryLanguage": "en",
    "appName": None,
    "appDescription": None,
    "tagline": None,
    "brandVoice": "authentic",
    "targetGender": "all",
    "brandContext": None,
    "requiresApproval": False,
    "metadata": {},
    "archivedAt": None,
    "createdAt": TS,
    "updatedAt": TS,
}
JOB_BODY: dict[str, Any] = {
    "jobId": JOB,
    "kind": "content_generate",
    "status": "running",
    "stage": "queued",
    "progress": 0,
    "projectId": PRJ,
    "containerIds": ["cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d"],
    "locationUrl": f"/v1/jobs/{JOB}",
    "startedAt": TS,
}


class Echo:
    """An aiohttp.web app that records what it receives and answers with canned bodies."""

    def __init__(self) -> None:
        self.requests: list[SimpleNamespace] = []
        #: When set, every request gets this (status, body bytes, headers) instead.
        self.override: tuple[int, bytes, dict[str, str]] | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    def respond(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer every later request with `status` and `body` (JSON unless bytes)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.override = (status, raw, dict(headers or {}))

    @property
    def last(self) -> SimpleNamespace:
        """The most recent recorded request."""
        return self.requests[-1]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            SimpleNamespace(
                method=request.method,
                path=request.path,
                query=list(request.query.items()),
                headers=CIMultiDictProxy(request.headers.copy()),
                body=body,
            )
        )
        rid = f"req_01HXZ9G7KMV2QX8Y1S5RJW{len(self.requests):04d}"
        if self.override is not None:
            status, raw, headers = self.override
            return web.Response(status=status, body=raw, headers={"X-Request-Id": rid, **headers})
        answer = self._answer(request.method, request.path)
        return web.json_response(answer[1], status=answer[0], headers={"X-Request-Id": rid})

    @staticmethod
    def _answer(method: str, path: str) -> tuple[int, Any]:
        if path == "/v1/whoami":
            return 200, WHOAMI
        if path == "/v1/projects" and method == "GET":
            return 200, {"items": [], "nextCursor": None}
        if path.startswith("/v1/projects"):
            if method == "DELETE":
                return 200, {"id": PRJ, "status": "archived", "archivedAt": TS}
            return (201 if method == "POST" else 200), PROJECT
        if path.endswith("/cancel"):
            return 202, {"jobId": JOB, "accepted": True}
        if path.startswith("/v1/jobs/"):
            return 200, JOB_BODY
        return 404, {"error": {"code": "NOT_FOUND", "message": "No route."}}

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port: int = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    """A running echo server."""
    server = Echo()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def eclient(echo: Echo) -> AsyncIterator[LayersClient]:
    """A client pointed at the echo server."""
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url) as c:
        yield c


# --------------------------------------------------------------------------- what is sent


@pytest.mark.anyio
async def test_every_request_carries_bearer_auth_and_accept(
    echo: Echo, eclient: LayersClient
) -> None:
    """Every request sends `Authorization: Bearer <key>` and `Accept: application/json`."""
    await eclient.whoami()
    await eclient.projects.create(name="Acme Coffee", timezone="UTC")
    await eclient.jobs.cancel(JOB)
    assert len(echo.requests) == 3
    for req in echo.requests:
        assert req.headers.getall("Authorization") == [f"Bearer {ECHO_KEY}"]
        assert req.headers["Accept"] == "application/json"
        assert "X-Api-Key" not in req.headers


@pytest.mark.anyio
async def test_user_agent_names_sdk_python_and_aiohttp_versions(
    echo: Echo, eclient: LayersClient
) -> None:
    """User-Agent is `layers-async/<ver> Python/<ver> aiohttp/<ver>`."""
    await eclient.whoami()
    expected = (
        f"layers-async/{layers_async.__version__} Python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )
    assert echo.last.headers["User-Agent"] == expected


@pytest.mark.anyio
async def test_content_type_only_when_a_body_is_sent(echo: Echo, eclient: LayersClient) -> None:
    """`Content-Type: application/json` accompanies a body and is absent on bodiless calls."""
    await eclient.projects.create(name="Acme Coffee", timezone="UTC")
    create = echo.last
    assert create.headers["Content-Type"] == "application/json"
    assert json.loads(create.body) == {"name": "Acme Coffee", "timezone": "UTC"}

    await eclient.projects.update(PRJ, tagline="Fresh beans")
    patch = echo.last
    assert patch.headers["Content-Type"] == "application/json"
    assert json.loads(patch.body) == {"tagline": "Fresh beans"}

    await eclient.projects.get(PRJ)
    await eclient.projects.archive(PRJ)
    await eclient.whoami()
    for req in echo.requests[2:]:
        assert "Content-Type" not in req.headers, req.method


@pytest.mark.anyio
async def test_bodiless_post_sends_no_content_type(echo: Echo, eclient: LayersClient) -> None:
    """A bodiless POST (`jobs.cancel`) carries no Content-Type header at all."""
    await eclient.jobs.cancel(JOB)
    assert echo.last.method == "POST"
    assert "Content-Type" not in echo.last.headers


@pytest.mark.anyio
async def test_bodiless_calls_send_no_body(echo: Echo, eclient: LayersClient) -> None:
    """GETs, `jobs.cancel` (POST) and `projects.archive` (DELETE) send an empty body."""
    await eclient.whoami()
    await eclient.jobs.get(JOB)
    await eclient.jobs.cancel(JOB)
    await eclient.projects.archive(PRJ)
    assert [r.method for r in echo.requests] == ["GET", "GET", "POST", "DELETE"]
    for req in echo.requests:
        assert req.body == b""
        assert req.headers.get("Content-Length", "0") == "0"
        assert "Transfer-Encoding" not in req.headers


@pytest.mark.anyio
async def test_create_body_is_camel_case_json_of_given_fields_only(
    echo: Echo, eclient: LayersClient
) -> None:
    """The create body holds exactly the passed fields, camelCase; None-valued ones are left out."""
    await eclient.projects.create(
        name="Acme Coffee",
        timezone="America/Los_Angeles",
        customer_external_id="acme-coffee",
        app_name="Acme Coffee",
        app_description=APP_DESCRIPTION,
        brand_voice="warm",
        tagline=None,
    )
    assert echo.last.method == "POST"
    assert echo.last.path == "/v1/projects"
    assert json.loads(echo.last.body) == {
        "name": "Acme Coffee",
        "timezone": "America/Los_Angeles",
        "customerExternalId": "acme-coffee",
        "appName": "Acme Coffee",
        "appDescription": APP_DESCRIPTION,
        "brandVoice": "warm",
    }


@pytest.mark.anyio
async def test_organization_header_from_option_and_for_organization(echo: Echo) -> None:
    """`organization=`/`for_organization()` send X-Layers-Organization; a plain client does not."""
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url) as plain:
        await plain.whoami()
        assert "X-Layers-Organization" not in echo.last.headers

        await plain.for_organization(ORG).whoami()
        assert echo.last.headers["X-Layers-Organization"] == ORG
        assert plain.for_organization(ORG).organization == ORG

        await plain.whoami()  # the view did not change the owner
        assert "X-Layers-Organization" not in echo.last.headers

    async with LayersClient(
        **SINGLE, api_key=ECHO_KEY, base_url=echo.url, organization=ORG
    ) as bound:
        await bound.projects.get(PRJ)
        assert echo.last.headers["X-Layers-Organization"] == ORG
        assert bound.organization == ORG


@pytest.mark.anyio
async def test_invalid_organization_option_rejected_before_sending(echo: Echo) -> None:
    """A malformed `organization=` raises LayersValidationError and nothing is sent."""
    with pytest.raises(LayersValidationError):
        LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url, organization="acme")
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url) as c:
        with pytest.raises(LayersValidationError):
            c.for_organization("not-an-org")
    assert echo.requests == []


@pytest.mark.anyio
async def test_fresh_uuid4_idempotency_key_on_writes_and_none_on_get(
    echo: Echo, eclient: LayersClient
) -> None:
    """POST/PATCH/DELETE each get their own UUIDv4 Idempotency-Key; GETs carry none."""
    await eclient.projects.create(name="Acme Coffee", timezone="UTC")
    await eclient.projects.create(name="Acme Coffee", timezone="UTC")
    await eclient.projects.update(PRJ, name="Acme Two")
    await eclient.projects.archive(PRJ)
    await eclient.jobs.cancel(JOB)
    await eclient.whoami()
    await eclient.projects.get(PRJ)
    await eclient.jobs.get(JOB)
    await eclient.projects.list()

    writes = [r for r in echo.requests if r.method != "GET"]
    reads = [r for r in echo.requests if r.method == "GET"]
    assert [r.method for r in writes] == ["POST", "POST", "PATCH", "DELETE", "POST"]
    keys = [r.headers.getall("Idempotency-Key") for r in writes]
    assert all(len(k) == 1 and UUID4.match(k[0]) for k in keys), keys
    assert len({k[0] for k in keys}) == len(keys)
    assert len(reads) == 4
    assert all("Idempotency-Key" not in r.headers for r in reads)


@pytest.mark.anyio
async def test_caller_idempotency_key_is_sent_verbatim(echo: Echo, eclient: LayersClient) -> None:
    """`idempotency_key=` is sent unchanged, on POST, PATCH and DELETE."""
    await eclient.projects.create(name="Acme Coffee", timezone="UTC", idempotency_key="order-42:A")
    await eclient.projects.update(PRJ, name="Acme Two", idempotency_key="Patch_Key~1")
    await eclient.projects.archive(PRJ, idempotency_key="del!")
    sent = [r.headers.getall("Idempotency-Key") for r in echo.requests]
    assert sent == [["order-42:A"], ["Patch_Key~1"], ["del!"]]


@pytest.mark.anyio
async def test_invalid_idempotency_key_rejected_before_sending(
    echo: Echo, eclient: LayersClient
) -> None:
    """An Idempotency-Key outside 1-255 visible ASCII raises LayersValidationError, unsent."""
    for bad in ("", "has space", "x" * 256, "caf\u00e9"):
        with pytest.raises(LayersValidationError):
            await eclient.projects.create(name="Acme Coffee", timezone="UTC", idempotency_key=bad)
    assert echo.requests == []


@pytest.mark.anyio
async def test_extra_headers_are_merged_with_the_defaults(echo: Echo) -> None:
    """`extra_headers=` and `default_headers=` add headers without dropping the client's own."""
    async with LayersClient(
        **SINGLE, api_key=ECHO_KEY, base_url=echo.url, default_headers={"X-Partner": "acme"}
    ) as c:
        await c.whoami(extra_headers={"X-Trace": "t-1"})
        first = echo.last.headers
        assert first["X-Trace"] == "t-1"
        assert "Idempotency-Key" not in first  # a GET, even with extra headers
        assert "Content-Type" not in first
        assert first["X-Partner"] == "acme"
        assert first["Authorization"] == f"Bearer {ECHO_KEY}"
        assert first["Accept"] == "application/json"

        await c.projects.create(name="Acme Coffee", timezone="UTC", extra_headers={"X-T": "2"})
        second = echo.last.headers
        assert second["X-T"] == "2"
        assert second["X-Partner"] == "acme"
        assert UUID4.match(second["Idempotency-Key"])
        assert second["Content-Type"] == "application/json"

        await c.whoami()
        assert "X-Trace" not in echo.last.headers  # per call, not sticky


@pytest.mark.anyio
async def test_extra_headers_cannot_override_authorization(eclient: LayersClient) -> None:
    """Setting Authorization through `extra_headers` is refused before sending."""
    with pytest.raises(LayersValidationError):
        await eclient.whoami(extra_headers={"authorization": "Bearer other"})


@pytest.mark.anyio
async def test_query_strings_and_paths_are_exact(echo: Echo, eclient: LayersClient) -> None:
    """Paths carry no trailing slash; list filters travel as camelCase query parameters."""
    await eclient.projects.list(status="active", customer_external_id="acme", limit=5)
    assert echo.last.path == "/v1/projects"
    assert echo.last.query == [("status", "active"), ("customerExternalId", "acme"), ("limit", "5")]
    await eclient.jobs.cancel(JOB)
    assert echo.last.path == f"/v1/jobs/{JOB}/cancel"


# --------------------------------------------------------------------------- failures


@pytest.mark.anyio
async def test_timeout_shorter_than_latency_raises_api_timeout_error(
    make_sandbox: MakeSandbox,
) -> None:
    """A per-call `timeout=` below the server's latency raises APITimeoutError (a TimeoutError)."""
    fault = {"route": "GET /v1/whoami", "action": "latency", "latencyMs": 1000, "times": 1}
    async with (
        make_sandbox(faults=[fault]) as sb,
        LayersClient(**SINGLE, api_key=sb.api_key, base_url=sb.url) as c,
    ):
        with pytest.raises(APITimeoutError) as info:
            await c.whoami(timeout=0.1)
        err = info.value
        assert isinstance(err, TimeoutError)
        assert isinstance(err, APIConnectionError)
        assert err.method == "GET"
        assert err.path == "/v1/whoami"
        me = await c.whoami()  # the fault fired once; the client still works
        assert me.meta is not None
        assert me.meta.status_code == 200


@pytest.mark.anyio
async def test_client_default_timeout_applies_via_with_options(make_sandbox: MakeSandbox) -> None:
    """`with_options(timeout=...)` sets the default deadline of every call through the view."""
    fault = {"route": "GET /v1/credits", "action": "latency", "latencyMs": 1000, "times": 1}
    async with (
        make_sandbox(faults=[fault]) as sb,
        LayersClient(**SINGLE, api_key=sb.api_key, base_url=sb.url) as c,
    ):
        with pytest.raises(APITimeoutError):
            await c.with_options(timeout=0.1).credits.get()


@pytest.mark.anyio
async def test_drop_before_commit_raises_api_connection_error(make_sandbox: MakeSandbox) -> None:
    """A connection closed without a response raises APIConnectionError (not a timeout)."""
    fault = {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1}
    async with (
        make_sandbox(faults=[fault]) as sb,
        LayersClient(**SINGLE, api_key=sb.api_key, base_url=sb.url) as c,
    ):
        with pytest.raises(APIConnectionError) as info:
            await c.projects.create(name="Acme Coffee", timezone="UTC")
        assert not isinstance(info.value, APITimeoutError)
        assert info.value.method == "POST"
        assert info.value.path == "/v1/projects"
        assert (await sb.state())["counts"]["projects"]["total"] == 0


@pytest.mark.anyio
async def test_connection_refused_raises_api_connection_error() -> None:
    """Nothing listening on the port raises APIConnectionError."""
    probe = Echo()
    await probe.start()
    url = probe.url
    await probe.stop()
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=url) as c:
        with pytest.raises(APIConnectionError):
            await c.whoami()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (503, "SERVICE_UNAVAILABLE", InternalServerError),
        (503, "KILL_SWITCH", KillSwitchError),
        (500, "INTERNAL_ERROR", InternalServerError),
        (502, "BAD_GATEWAY", InternalServerError),
        (409, "IDEMPOTENCY_CONFLICT", IdempotencyConflictError),
        (401, "UNAUTHENTICATED", AuthenticationError),
        (403, "SOMETHING_NEW_403", PermissionDeniedError),
        (409, "SOMETHING_NEW_409", ConflictError),
        (404, "SOMETHING_NEW_404", NotFoundError),
        (504, "SOMETHING_NEW_5XX", InternalServerError),
        (500, "SOMETHING_NEW_500", InternalServerError),
    ],
)
@pytest.mark.anyio
async def test_error_responses_map_by_code_then_status(
    echo: Echo, eclient: LayersClient, status: int, code: str, cls: type[APIStatusError]
) -> None:
    """Errors map by `code`; an unknown code falls back to the class of its HTTP status."""
    body = {
        "error": {
            "code": code,
            "message": "Something happened.",
            "requestId": "req_IGNORED",
            "details": {"scope": "key"},
        }
    }
    echo.respond(status, body)
    with pytest.raises(APIStatusError) as info:
        await eclient.whoami()
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == code
    assert err.message == "Something happened."
    assert err.details == {"scope": "key"}
    assert err.request_id is not None
    assert err.request_id.startswith("req_01HXZ9G7")


@pytest.mark.anyio
async def test_unknown_4xx_status_and_code_is_plain_api_status_error(
    echo: Echo, eclient: LayersClient
) -> None:
    """A 4xx with an unknown status and code raises APIStatusError itself, code kept."""
    echo.respond(418, {"error": {"code": "TEAPOT", "message": "I am a teapot."}})
    with pytest.raises(APIStatusError) as info:
        await eclient.whoami()
    assert type(info.value) is APIStatusError
    assert (info.value.status_code, info.value.code) == (418, "TEAPOT")


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.anyio
async def test_non_json_5xx_is_internal_server_error_without_code(
    echo: Echo, eclient: LayersClient, status: int
) -> None:
    """A 5xx whose body is not JSON (a proxy's HTML page) raises InternalServerError, code None."""
    echo.respond(status, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    with pytest.raises(InternalServerError) as info:
        await eclient.whoami()
    assert info.value.status_code == status
    assert info.value.code is None
    assert info.value.request_id is not None


@pytest.mark.anyio
async def test_rate_limit_error_carries_retry_after(make_sandbox: MakeSandbox) -> None:
    """A 429 raises RateLimitError with `retry_after` from the Retry-After header."""
    fault = {"route": "GET /v1/credits", "action": "http_429", "retryAfter": 7}
    async with (
        make_sandbox(faults=[fault]) as sb,
        LayersClient(**SINGLE, api_key=sb.api_key, base_url=sb.url) as c,
    ):
        with pytest.raises(RateLimitError) as info:
            await c.credits.get()
    err = info.value
    assert err.retry_after == 7.0
    assert err.code == "RATE_LIMITED"
    assert err.details["limitType"] == "per_minute"
    assert err.details["endpointClass"] == "read-light"


@pytest.mark.anyio
async def test_sandbox_errors_are_typed(client: LayersClient, sandbox: Sandbox) -> None:
    """Real sandbox answers: unknown project → NotFoundError, bad key → AuthenticationError."""
    with pytest.raises(NotFoundError) as nf:
        await client.projects.get("prj_00000000-0000-4000-8000-000000000000")
    assert nf.value.code == "NOT_FOUND"
    assert nf.value.request_id is not None
    assert nf.value.request_id.startswith("req_")
    bad = "lp_live_0000000000000000_" + "A" * 43
    async with LayersClient(**SINGLE, api_key=bad, base_url=sandbox.url) as other:
        with pytest.raises(AuthenticationError) as auth:
            await other.whoami()
    assert (auth.value.status_code, auth.value.code) == (401, "UNAUTHENTICATED")


@pytest.mark.anyio
async def test_same_idempotency_key_other_body_is_idempotency_conflict(
    client: LayersClient,
) -> None:
    """Reusing an Idempotency-Key with another body raises IdempotencyConflictError."""
    await client.projects.create(name="Acme Coffee", timezone="UTC", idempotency_key="k-1")
    with pytest.raises(IdempotencyConflictError) as info:
        await client.projects.create(name="Other Coffee", timezone="UTC", idempotency_key="k-1")
    assert isinstance(info.value, ConflictError)
    assert info.value.status_code == 409


# --------------------------------------------------------------------------- configuration


@pytest.mark.anyio
async def test_missing_api_key_raises_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `api_key=` and no LAYERS_API_KEY raises LayersValidationError (a ValueError) at once."""
    monkeypatch.delenv("LAYERS_API_KEY", raising=False)
    with pytest.raises(LayersValidationError) as info:
        LayersClient(**SINGLE)
    assert isinstance(info.value, ValueError)
    assert "LAYERS_API_KEY" in str(info.value)
    with pytest.raises(LayersValidationError):
        LayersClient(**SINGLE, api_key="")


@pytest.mark.anyio
async def test_env_vars_supply_key_and_base_url(
    echo: Echo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LAYERS_API_KEY and LAYERS_BASE_URL are read when no arguments are given."""
    monkeypatch.setenv("LAYERS_API_KEY", ECHO_KEY)
    monkeypatch.setenv("LAYERS_BASE_URL", echo.url + "/")
    async with LayersClient(**SINGLE) as c:
        assert c.base_url == echo.url
        await c.whoami()
    assert echo.last.headers["Authorization"] == f"Bearer {ECHO_KEY}"
    assert echo.last.path == "/v1/whoami"


@pytest.mark.anyio
async def test_arguments_win_over_env_and_default_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Explicit arguments beat the environment; without either the base URL is production."""
    monkeypatch.setenv("LAYERS_API_KEY", "lp_live_from_env")
    monkeypatch.delenv("LAYERS_BASE_URL", raising=False)
    c = LayersClient(**SINGLE)
    assert c.base_url == "https://api.layers.com" == layers_async.DEFAULT_BASE_URL
    monkeypatch.setenv("LAYERS_BASE_URL", "http://env.invalid")
    d = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url="http://127.0.0.1:9")
    assert d.base_url == "http://127.0.0.1:9"
    await c.aclose()
    await d.aclose()


@pytest.mark.anyio
async def test_bad_base_url_rejected() -> None:
    """A base URL that is not http(s) raises LayersValidationError."""
    with pytest.raises(LayersValidationError):
        LayersClient(**SINGLE, api_key=ECHO_KEY, base_url="ftp://example.com")


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.anyio
async def test_aclose_twice_is_fine(echo: Echo) -> None:
    """`aclose()` is idempotent and marks the client closed."""
    c = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url)
    await c.whoami()
    assert not c.is_closed
    await c.aclose()
    await c.aclose()
    assert c.is_closed


@pytest.mark.anyio
async def test_use_after_close_raises_clear_runtime_error(echo: Echo) -> None:
    """A call on a closed client raises RuntimeError saying the client is closed."""
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url) as c:
        await c.whoami()
    with pytest.raises(RuntimeError, match="closed"):
        await c.whoami()
    with pytest.raises(RuntimeError, match="closed"):
        await c.with_options(timeout=5).projects.get(PRJ)
    never_used = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url)
    await never_used.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await never_used.whoami()
    assert len(echo.requests) == 1


@pytest.mark.anyio
async def test_views_share_the_pool_and_closing_a_view_keeps_the_owner_open(echo: Echo) -> None:
    """`with_options()`/`for_organization()` share the owner's `_pool`; their aclose is a no-op."""
    async with LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url) as owner:
        view = owner.with_options(timeout=5)
        org_view = owner.for_organization(ORG)
        nested = org_view.with_options(default_headers={"X-A": "b"})
        assert view._pool is owner._pool
        assert org_view._pool is owner._pool
        assert nested._pool is owner._pool
        await view.whoami()
        await org_view.whoami()
        await nested.whoami()
        await owner.whoami()
        assert owner._pool.session is not None
        session = owner._pool.session
        await view.aclose()
        await org_view.aclose()
        assert not owner.is_closed
        assert not session.closed
        await owner.whoami()
        assert owner._pool.session is session
        sent = [r.headers for r in echo.requests]
        assert "X-Layers-Organization" not in sent[0]
        assert sent[1]["X-Layers-Organization"] == ORG
        assert sent[2]["X-Layers-Organization"] == ORG  # a view of a view keeps its organization
        assert sent[2]["X-A"] == "b"
        assert "X-Layers-Organization" not in sent[3]
        assert "X-A" not in sent[4]
    assert view.is_closed
    assert org_view.is_closed
    assert session.closed


@pytest.mark.anyio
async def test_unclosed_client_warns_naming_aclose(echo: Echo) -> None:
    """A garbage-collected client that opened a session emits a ResourceWarning naming aclose."""
    c = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url)
    await c.whoami()
    session = c._pool.session
    assert session is not None
    # PT031 waived: the client may be freed by `del` (refcount) or only by gc (cycles)
    with pytest.warns(ResourceWarning, match="aclose"):  # noqa: PT031
        del c
        gc.collect()
    await session.close()


@pytest.mark.anyio
async def test_unused_or_closed_client_does_not_warn(echo: Echo) -> None:
    """No ResourceWarning for a client that never sent anything, nor for one that was closed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unused = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url)
        closed = LayersClient(**SINGLE, api_key=ECHO_KEY, base_url=echo.url)
        await closed.whoami()
        await closed.aclose()
        view = closed.with_options(timeout=3)
        del unused, closed, view
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.anyio
async def test_one_session_and_one_connection_serve_many_calls(echo: Echo) -> None:
    """Nothing is created per call: one session object and one kept-alive connection serve 50."""
    created: list[int] = []

    async def on_create(
        _s: aiohttp.ClientSession, _ctx: SimpleNamespace, _p: aiohttp.TraceConnectionCreateEndParams
    ) -> None:
        created.append(1)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)
    async with LayersClient(
        **SINGLE, api_key=ECHO_KEY, base_url=echo.url, trace_configs=[trace]
    ) as c:
        await c.whoami()
        session = c._pool.session
        transport = c._transport
        for i in range(49):
            if i % 2:
                await c.jobs.get(JOB)
            else:
                await c.projects.get(PRJ)
            assert c._pool.session is session
        assert c._transport is transport
    assert len(echo.requests) == 50
    assert len(created) == 1


# --------------------------------------------------------------------------- response meta


@pytest.mark.anyio
async def test_meta_reports_request_id_status_and_rate_limit(
    sandbox: Sandbox, client: LayersClient
) -> None:
    """`meta.request_id` equals X-Request-Id; status_code and rate-limit headers are parsed."""
    seen: list[CIMultiDictProxy[str]] = []

    async def on_end(
        _s: aiohttp.ClientSession, _ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        seen.append(params.response.headers)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    async with LayersClient(
        **SINGLE, api_key=sandbox.api_key, base_url=sandbox.url, trace_configs=[trace]
    ) as c:
        me = await c.whoami()
        project = await c.projects.create(name="Acme Coffee", timezone="UTC")
    assert me.meta is not None
    assert project.meta is not None
    assert me.meta.request_id == seen[0]["X-Request-Id"]
    assert me.request_id == me.meta.request_id
    assert re.match(r"^req_[0-9A-HJKMNP-TV-Z]{26}$", me.meta.request_id or "")
    assert project.meta.request_id == seen[1]["X-Request-Id"] != me.meta.request_id
    assert me.meta.status_code == 200
    assert project.meta.status_code == 201
    assert me.meta.idempotency_replayed is False
    rl = me.meta.rate_limit
    assert rl is not None
    assert rl.endpoint_class == "read-light"
    assert rl.limit == 120
    assert rl.remaining == int(seen[0]["X-RateLimit-Remaining"]) == 119
    assert rl.reset_seconds == float(seen[0]["X-RateLimit-Reset"])
    assert project.meta.rate_limit is not None
    assert project.meta.rate_limit.endpoint_class == "write-light"
    assert project.meta.rate_limit.limit == 60


@pytest.mark.anyio
async def test_replay_with_same_idempotency_key_is_flagged(
    sandbox: Sandbox, client: LayersClient
) -> None:
    """A repeat with the same `idempotency_key` is a replay: same result, `idempotency_replayed`."""
    first = await client.projects.create(name="Acme Coffee", timezone="UTC", idempotency_key="r-1")
    again = await client.projects.create(name="Acme Coffee", timezone="UTC", idempotency_key="r-1")
    assert first.meta is not None
    assert again.meta is not None
    assert first.meta.idempotency_replayed is False
    assert again.meta.idempotency_replayed is True
    assert again.id == first.id
    assert again == first  # meta is not part of equality
    assert again.meta.request_id != first.meta.request_id
    assert (await sandbox.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
async def test_page_meta_comes_from_the_response_headers(echo: Echo, eclient: LayersClient) -> None:
    """Pages carry meta too; the request id comes from the header, not the body."""
    page = await eclient.projects.list()
    assert page.meta is not None
    assert page.meta.request_id == "req_01HXZ9G7KMV2QX8Y1S5RJW0001"
    assert page.meta.status_code == 200
    assert page.meta.rate_limit is None  # the echo server sends no rate-limit headers


# --------------------------------------------------------------------------- endpoint classes

#: The rate-limit class of every route the SDK calls, as the API contract lists them (§2).
CONTRACT_CLASSES: dict[str, str] = {
    "GET /v1/whoami": "read-light",
    "GET /v1/credits": "read-light",
    "POST /v1/projects": "write-light",
    "GET /v1/projects": "read-light",
    "GET /v1/projects/{projectId}": "read-light",
    "PATCH /v1/projects/{projectId}": "write-light",
    "DELETE /v1/projects/{projectId}": "write-light",
    "POST /v1/projects/{projectId}/app-media": "write-light",
    "GET /v1/projects/{projectId}/app-media": "read-light",
    "DELETE /v1/projects/{projectId}/app-media/{mediaId}": "write-light",
    "POST /v1/projects/{projectId}/social/oauth-url": "write-light",
    "GET /v1/projects/{projectId}/social/oauth-status": "read-light",
    "GET /v1/projects/{projectId}/social-accounts": "read-light",
    "DELETE /v1/social-accounts/{socialAccountId}": "write-light",
    "GET /v1/projects/{projectId}/influencers": "read-light",
    "POST /v1/projects/{projectId}/influencers": "long-running",
    "GET /v1/influencers/{influencerId}": "read-light",
    "PATCH /v1/influencers/{influencerId}": "write-light",
    "GET /v1/projects/{projectId}/keywords": "read-light",
    "POST /v1/projects/{projectId}/keywords/refresh": "long-running",
    "GET /v1/projects/{projectId}/content/source-recommendations": "read-light",
    "POST /v1/projects/{projectId}/content/slideshow-remix": "long-running",
    "POST /v1/projects/{projectId}/content/video-remix": "long-running",
    "POST /v1/projects/{projectId}/content/slideshow-builder": "long-running",
    "POST /v1/projects/{projectId}/content/ugc-remix": "long-running",
    "GET /v1/projects/{projectId}/content/hooks": "read-light",
    "GET /v1/projects/{projectId}/content": "read-light",
    "GET /v1/content/{containerId}": "read-light",
    "GET /v1/content/{containerId}/progress": "read-light",
    "GET /v1/jobs/{jobId}": "read-light",
    "POST /v1/jobs/{jobId}/cancel": "write-light",
    "POST /v1/content/{containerId}/schedule": "write-light",
    "GET /v1/projects/{projectId}/scheduled-posts": "read-light",
    "GET /v1/scheduled-posts/{scheduledPostId}": "read-light",
    "POST /v1/scheduled-posts/{scheduledPostId}/reschedule": "write-light",
    "DELETE /v1/scheduled-posts/{scheduledPostId}": "write-light",
    "POST /v1/content/{containerId}/approve": "write-light",
    "POST /v1/content/{containerId}/reject": "write-light",
    "GET /v1/projects/{projectId}/content-review-policy": "read-light",
    "PATCH /v1/projects/{projectId}/content-review-policy": "write-light",
    "POST /v1/content/{containerId}/publish": "write-light",
    # Tier 2: sub-organizations, their keys and credits, own keys, webhooks (§2.2).
    "POST /v1/organizations": "write-light",
    "GET /v1/organizations": "read-light",
    "GET /v1/organizations/{orgId}": "read-light",
    "PATCH /v1/organizations/{orgId}": "write-light",
    "POST /v1/organizations/{orgId}/suspend": "write-light",
    "POST /v1/organizations/{orgId}/resume": "write-light",
    "DELETE /v1/organizations/{orgId}": "write-light",
    "POST /v1/organizations/{orgId}/api-keys": "write-light",
    "GET /v1/organizations/{orgId}/api-keys": "read-light",
    "POST /v1/organizations/{orgId}/api-keys/{keyId}/rotate": "write-light",
    "DELETE /v1/organizations/{orgId}/api-keys/{keyId}": "write-light",
    "POST /v1/organizations/{orgId}/credits/allocate": "write-light",
    "GET /v1/organizations/{orgId}/credits": "read-light",
    "GET /v1/organizations/{orgId}/credits/events": "read-light",
    "GET /v1/organizations/{orgId}/credit-config": "read-light",
    "PATCH /v1/organizations/{orgId}/credit-config": "write-light",
    "POST /v1/api-keys/{keyId}/kill": "write-light",
    "POST /v1/api-keys/{keyId}/rotate": "write-light",
    "GET /v1/credits/events": "read-light",
    "POST /v1/webhook-endpoints": "write-light",
    "GET /v1/webhook-endpoints": "read-light",
    "GET /v1/webhook-endpoints/{endpointId}": "read-light",
    "PATCH /v1/webhook-endpoints/{endpointId}": "write-light",
    "DELETE /v1/webhook-endpoints/{endpointId}": "write-light",
    "POST /v1/webhook-endpoints/{endpointId}/rotate-secret": "write-light",
    "POST /v1/webhook-endpoints/{endpointId}/test": "write-light",
    "GET /v1/webhook-endpoints/{endpointId}/deliveries": "read-light",
    "POST /v1/webhook-deliveries/{deliveryId}/replay": "write-light",
}
GHOST = "0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
TIKTOK_ID = "7301234567890123456"
LATER = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def _route(method: str, path: str) -> str:
    """The contract route ("METHOD /template") a request's method and path belong to."""
    for route in CONTRACT_CLASSES:
        verb, template = route.split(" ")
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if verb == method and re.fullmatch(pattern, path):
            return route
    raise AssertionError(f"{method} {path} is not a route of the contract")


def _every_route(pid: str) -> list[Callable[[LayersClient], Awaitable[object]]]:
    """One call of every resource method (and whoami), on project `pid` or on unknown ids."""
    inf, cnt, sp = f"inf_{GHOST}", f"cnt_{GHOST}", f"sp_{GHOST}"
    target = ScheduleTarget(social_account_id=f"sa_{GHOST}", mode="publish")
    return [
        lambda c: c.whoami(),
        lambda c: c.credits.get(),
        lambda c: c.projects.create(name="Acme Coffee", timezone="UTC"),
        lambda c: c.projects.list(),
        lambda c: c.projects.get(pid),
        lambda c: c.projects.update(pid, name="Acme Roasters"),
        lambda c: c.projects.archive(f"prj_{GHOST}"),
        lambda c: c.app_media.upload(pid, kind="logo", url="https://example.com/logo.png"),
        lambda c: c.app_media.list(pid),
        lambda c: c.app_media.delete(pid, f"med_{GHOST}"),
        lambda c: c.social.oauth_url(pid, platform="tiktok", return_url="https://localhost/cb"),
        lambda c: c.social.oauth_status(pid, "st_01HXA1NHKJZXPV8R7Q6WSM5BCD"),
        lambda c: c.social.accounts(pid),
        lambda c: c.social.disconnect(f"sa_{GHOST}"),
        lambda c: c.influencers.list(pid),
        lambda c: c.influencers.create(pid),
        lambda c: c.influencers.get(inf),
        lambda c: c.influencers.update(inf, name="Ava"),
        lambda c: c.keywords.get(pid),
        lambda c: c.keywords.refresh(pid),
        lambda c: c.content.source_recommendations(pid),
        lambda c: c.content.slideshow_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=inf),
        lambda c: c.content.video_remix(pid, tiktok_video_id=TIKTOK_ID, influencer_id=inf),
        lambda c: c.content.slideshow_builder(pid, hook="Morning coffee", influencer_id=inf),
        lambda c: c.content.ugc_remix(pid, influencer_id=inf, hook="Morning coffee"),
        lambda c: c.content.hooks(pid),
        lambda c: c.content.list(pid),
        lambda c: c.content.get(cnt),
        lambda c: c.content.progress(cnt),
        lambda c: c.jobs.get(JOB),
        lambda c: c.jobs.cancel(JOB),
        lambda c: c.content.schedule(cnt, scheduled_for=LATER, targets=[target]),
        lambda c: c.scheduled_posts.list(pid),
        lambda c: c.scheduled_posts.get(sp),
        lambda c: c.scheduled_posts.reschedule(sp, scheduled_for=LATER),
        lambda c: c.scheduled_posts.cancel(sp),
        lambda c: c.content.approve(cnt),
        lambda c: c.content.reject(cnt, reason="Off brand"),
        lambda c: c.projects.get_review_policy(pid),
        lambda c: c.projects.update_review_policy(pid, policy="review_all"),
        lambda c: c.content.publish(cnt, targets=[target]),
        *_tier2_routes(),
    ]


def _tier2_routes() -> list[Callable[[LayersClient], Awaitable[object]]]:
    """One call of every Tier 2 method; all but the creates act on unknown ids (404), so no
    key of the test's client is killed or rotated."""
    org, key, wh = f"org_{GHOST}", f"key_{GHOST}", f"wh_{GHOST}"
    return [
        lambda c: c.organizations.create(name="Acme Coffee"),
        lambda c: c.organizations.list(),
        lambda c: c.organizations.get(org),
        lambda c: c.organizations.update(org, name="Acme Roasters"),
        lambda c: c.organizations.suspend(org),
        lambda c: c.organizations.resume(org),
        lambda c: c.organizations.archive(org),
        lambda c: c.organizations.api_keys.create(org, name="ci", scopes=["*"]),
        lambda c: c.organizations.api_keys.list(org),
        lambda c: c.organizations.api_keys.rotate(org, key),
        lambda c: c.organizations.api_keys.revoke(org, key),
        lambda c: c.organizations.credits.allocate(org, credits=10),
        lambda c: c.organizations.credits.get(org),
        lambda c: c.organizations.credits.events(org),
        lambda c: c.organizations.credit_config.get(org),
        lambda c: c.organizations.credit_config.update(org, monthly_credit_cap=100),
        lambda c: c.api_keys.kill(key),
        lambda c: c.api_keys.rotate(key),
        lambda c: c.credits.events(),
        lambda c: c.webhook_endpoints.create(
            url="https://example.com/hook", events=["job.completed"]
        ),
        lambda c: c.webhook_endpoints.list(),
        lambda c: c.webhook_endpoints.get(wh),
        lambda c: c.webhook_endpoints.update(wh, description="CI"),
        lambda c: c.webhook_endpoints.delete(wh),
        lambda c: c.webhook_endpoints.rotate_secret(wh),
        lambda c: c.webhook_endpoints.test(wh),
        lambda c: c.webhook_endpoints.deliveries(wh),
        lambda c: c.webhook_endpoints.replay_delivery(f"dlv_{GHOST}"),
    ]


@pytest.mark.anyio
async def test_every_route_is_sent_in_its_contract_endpoint_class(sandbox: Sandbox) -> None:
    """Each resource method declares its route's rate-limit class: the one the contract lists,
    and the one the sandbox's `X-RateLimit-Endpoint-Class` answers with."""
    declared: list[tuple[str, str, str | None]] = []  # what the on_request hook saw
    answered: list[tuple[str, str, str | None]] = []  # what the server said

    async def on_end(
        _s: aiohttp.ClientSession, _ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        klass = params.response.headers.get("X-RateLimit-Endpoint-Class")
        answered.append((params.method, params.url.path, klass))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    async with LayersClient(
        **SINGLE,
        api_key=sandbox.api_key,
        base_url=sandbox.url,
        trace_configs=[trace],
        on_request=lambda e: declared.append((e.method, e.path, e.endpoint_class)),
    ) as c:
        pid = (await c.projects.create(name="Acme Coffee", timezone="UTC")).id
        declared.clear()
        answered.clear()
        for call in _every_route(pid):
            with contextlib.suppress(APIStatusError):
                result = await call(c)
                if isinstance(result, layers_async.AsyncPaginator):
                    await result
    routes = {_route(method, path): klass for method, path, klass in declared}
    assert routes == CONTRACT_CLASSES
    assert declared == answered
