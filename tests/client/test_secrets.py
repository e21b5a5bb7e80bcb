"""The API key never leaks (contract §1.2): not in reprs, not in exceptions (str, repr, pickle),
not in the DEBUG log — while the log-safe prefix `lp_<env>_<keyId16>` does appear there."""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import AsyncIterator

import pytest

from layers_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    Sandbox,
    UnprocessableEntityError,
)
from tests.client._setup import MakeSandbox
from tests.client._tracing import SINGLE

PREFIX = re.compile(r"lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}")
MISSING_PROJECT = "prj_00000000-0000-4000-8000-000000000000"
#: A well-formed key the sandbox does not know (a 401).
UNKNOWN_KEY = "lp_live_0123456789ABCDEF_" + "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tX"[:43]


def _secret(key: str) -> str:
    """The secret part of a key (everything after the 25-character prefix)."""
    return key[25:]


def assert_no_key(err: BaseException, key: str) -> None:
    """Neither the key nor its secret appear in str, repr, args or pickled bytes of `err`."""
    secret = _secret(key)
    assert len(secret) == 43
    for text in (str(err), repr(err), repr(err.args), repr(vars(err))):
        assert key not in text
        assert secret not in text
    raw = pickle.dumps(err)
    assert key.encode() not in raw
    assert secret.encode() not in raw
    cause = err.__cause__ or err.__context__
    if cause is not None and not err.__suppress_context__:
        assert key not in repr(cause)
        assert secret not in str(cause)


@pytest.fixture
async def faulty(make_sandbox: MakeSandbox) -> AsyncIterator[Sandbox]:
    """A sandbox that drops the first project create and delays the first whoami by 1 s."""
    faults = [
        {"route": "POST /v1/projects", "action": "drop_before_commit", "times": 1},
        {"route": "GET /v1/whoami", "action": "latency", "latencyMs": 1000, "times": 1},
    ]
    async with make_sandbox(faults=faults) as sb:
        yield sb


@pytest.mark.anyio
async def test_sandbox_key_has_the_documented_shape(sandbox: Sandbox) -> None:
    """The fixture key has the documented shape (contract §1.2): the checks below are real."""
    assert re.fullmatch(r"lp_live_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}", sandbox.api_key)
    assert re.fullmatch(r"lp_live_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}", UNKNOWN_KEY)


@pytest.mark.anyio
async def test_client_repr_shows_only_the_prefix(sandbox: Sandbox) -> None:
    """`repr(client)` and the repr of its views show the key prefix, never the key."""
    key = sandbox.api_key
    async with LayersClient(**SINGLE, api_key=key, base_url=sandbox.url) as client:
        views = [
            client,
            client.with_options(timeout=3),
            client.for_organization("org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"),
        ]
        for c in views:
            text = f"{c!r} {c}"
            assert key not in text
            assert _secret(key) not in text
            assert key[:24] in text
        with pytest.raises(TypeError):
            pickle.dumps(client)


def test_repr_of_a_key_without_the_documented_shape_is_redacted() -> None:
    """A key the SDK cannot split safely is not shown at all."""
    client = LayersClient(
        **SINGLE, api_key="sk-totally-secret-value", base_url="http://127.0.0.1:9"
    )
    assert "totally-secret" not in repr(client)


def test_validation_error_for_a_bad_key_does_not_echo_it() -> None:
    """Rejecting a key with whitespace does not quote the key."""
    key = "lp_live_0123456789ABCDEF_ secret with spaces in it"
    with pytest.raises(LayersValidationError) as info:
        LayersClient(**SINGLE, api_key=key, base_url="http://127.0.0.1:9")
    assert "secret with spaces" not in str(info.value)
    assert "secret with spaces" not in repr(info.value)
    assert b"secret with spaces" not in pickle.dumps(info.value)


@pytest.mark.anyio
async def test_401_error_does_not_contain_the_key(sandbox: Sandbox) -> None:
    """An AuthenticationError for an unknown key does not carry that key."""
    async with LayersClient(**SINGLE, api_key=UNKNOWN_KEY, base_url=sandbox.url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.whoami()
    assert_no_key(info.value, UNKNOWN_KEY)


@pytest.mark.anyio
async def test_status_errors_do_not_contain_the_key(sandbox: Sandbox, client: LayersClient) -> None:
    """404, 409 and a server-side 422 carry no trace of the key."""
    key = sandbox.api_key
    raised: list[APIStatusError] = []
    with pytest.raises(NotFoundError) as nf:
        await client.projects.get(MISSING_PROJECT)
    raised.append(nf.value)
    await client.projects.create(name="Acme Coffee", timezone="UTC", customer_external_id="acme")
    with pytest.raises(ConflictError) as conflict:
        await client.projects.create(name="Acme Again", timezone="UTC", customer_external_id="acme")
    raised.append(conflict.value)
    with pytest.raises(UnprocessableEntityError) as unproc:
        await client.whoami(extra_headers={"X-Layers-Organization": "not-an-org"})
    raised.append(unproc.value)
    for err in raised:
        assert err.request_id is not None
        assert_no_key(err, key)


@pytest.mark.anyio
async def test_connection_errors_and_timeouts_do_not_contain_the_key(faulty: Sandbox) -> None:
    """A dropped connection and a timeout raise errors that carry no trace of the key."""
    key = faulty.api_key
    async with LayersClient(**SINGLE, api_key=key, base_url=faulty.url) as client:
        with pytest.raises(APIConnectionError) as dropped:
            await client.projects.create(name="Acme Coffee", timezone="UTC")
        with pytest.raises(APITimeoutError) as timed_out:
            await client.whoami(timeout=0.1)
    assert_no_key(dropped.value, key)
    assert_no_key(timed_out.value, key)


@pytest.mark.anyio
async def test_debug_log_shows_prefix_never_key(
    faulty: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A flow of ~10 calls logs one DEBUG line each with the key prefix and never the key."""
    key = faulty.api_key
    caplog.set_level(logging.DEBUG, logger="layers_async")
    async with LayersClient(**SINGLE, api_key=key, base_url=faulty.url) as client:
        with pytest.raises(APIConnectionError):
            await client.projects.create(name="Acme Coffee", timezone="UTC")  # dropped
        with pytest.raises(APITimeoutError):
            await client.whoami(timeout=0.1)  # delayed
        await client.whoami()
        await client.credits.get()
        project = await client.projects.create(
            name="Acme Coffee", timezone="UTC", customer_external_id="acme"
        )
        await client.projects.get(project.id)
        await client.projects.update(project.id, tagline="Fresh beans")
        await client.projects.list(limit=5)
        with pytest.raises(NotFoundError):
            await client.projects.get(MISSING_PROJECT)
        with pytest.raises(ConflictError):
            await client.projects.create(name="Acme 2", timezone="UTC", customer_external_id="acme")
        await client.projects.archive(project.id)
        org_view = client.with_options(timeout=10)
        await org_view.whoami()

    assert key not in caplog.text
    assert _secret(key) not in caplog.text
    for record in caplog.records:
        assert key not in record.getMessage()
        assert _secret(key) not in repr(record.args)
    sdk_lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "layers_async" and r.levelno == logging.DEBUG
    ]
    # one line per call: 10 answered, 1 dropped connection, 1 timeout
    assert len(sdk_lines) == 12, sdk_lines
    assert any("ServerDisconnectedError" in line for line in sdk_lines)
    assert any("-> timeout" in line for line in sdk_lines)
    for line in sdk_lines:
        m = PREFIX.search(line)
        assert m is not None, line
        assert m.group(0) == key[:24]
    assert any("/v1/projects" in line and "404" in line for line in sdk_lines)
