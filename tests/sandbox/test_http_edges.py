"""The sandbox's own HTTP edges: what aiohttp's parser rejects, and repeated single headers.

Every answer carries the error envelope and an `X-Request-Id`, including requests that never
reach the application because aiohttp's HTTP parser refuses them. The requests are written
byte for byte on a raw socket, since no HTTP client sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import assert_error, assert_validation
from tests.sandbox._http import Api, Reply

_LONG = b"a" * 9000


async def raw_exchange(base_url: str, request: bytes) -> Reply:
    """Write `request` as is on a fresh connection and read one response."""
    url = URL(base_url)
    assert url.host is not None
    assert url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        return Reply(int(status_line.split(" ")[1]), CIMultiDictProxy(headers), body)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _get(path: bytes = b"/v1/whoami", *headers: bytes, method: bytes = b"GET") -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _auth(key: str) -> bytes:
    return b"Authorization: Bearer " + key.encode()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        pytest.param(_get(b"/v1/whoami", b"X-Big: " + _LONG), 400, "BAD_REQUEST", id="long-header"),
        pytest.param(_get(b"/v1/" + _LONG), 400, "BAD_REQUEST", id="long-url"),
        pytest.param(_get(b"/v1/whoami", b"X-A: a\x01b"), 400, "BAD_REQUEST", id="control-byte"),
        pytest.param(
            _get(b"/v1/whoami", b"X-\xc3\xa9: a"), 400, "BAD_REQUEST", id="non-ascii-name"
        ),
        pytest.param(
            _get(b"/v1/whoami", *(b"X-%d: a" % i for i in range(200))),
            400,
            "BAD_REQUEST",
            id="too-many-headers",
        ),
        pytest.param(
            _get(b"/v1/projects", b"Content-Length: abc", method=b"POST"),
            400,
            "BAD_REQUEST",
            id="bad-content-length",
        ),
        pytest.param(
            b"GET /v1/whoami HTTX/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST", id="bad-version"
        ),
        pytest.param(_get(method=b"G@T"), 404, "NOT_FOUND", id="invalid-method"),
        pytest.param(_get(method=b"FOO"), 404, "NOT_FOUND", id="unknown-method"),
        pytest.param(_get(b"*", method=b"OPTIONS"), 404, "NOT_FOUND", id="options-asterisk"),
        pytest.param(
            _get(b"127.0.0.1:80", method=b"CONNECT"), 404, "NOT_FOUND", id="connect-authority"
        ),
    ],
)
async def test_request_the_parser_rejects_gets_the_envelope(
    sandbox: Sandbox, request_bytes: bytes, status: int, code: str
) -> None:
    """What aiohttp's parser refuses is answered with the JSON envelope and an X-Request-Id."""
    r = await raw_exchange(sandbox.url, request_bytes)
    assert_error(r, status, code)


@pytest.mark.anyio
async def test_parser_rejection_never_echoes_the_request(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected request's bytes, its API key included, appear neither in the answer nor logs."""
    with caplog.at_level(logging.DEBUG):
        r = await raw_exchange(sandbox.url, _get(b"/v1/whoami", _auth(sandbox.api_key) + b"\x01"))
    assert_error(r, 400, "BAD_REQUEST")
    assert sandbox.api_key.encode() not in r.body
    assert sandbox.api_key not in caplog.text


@pytest.mark.anyio
async def test_non_ascii_authorization_reaches_the_pipeline_as_401(sandbox: Sandbox) -> None:
    """A non-ASCII byte in the key is not a parser error: the pipeline answers 401."""
    r = await raw_exchange(sandbox.url, _get(b"/v1/whoami", b"Authorization: Bearer caf\xc3\xa9"))
    assert_error(r, 401, "UNAUTHENTICATED")


@pytest.mark.anyio
@pytest.mark.parametrize("order", ["valid-first", "invalid-first", "same-twice"])
async def test_two_authorization_headers_are_401(sandbox: Sandbox, order: str) -> None:
    """Two Authorization headers are refused with 401, never resolved by taking the first."""
    valid = _auth(sandbox.api_key)
    other = valid if order == "same-twice" else _auth(sandbox.keys["demo-test"])
    first, second = (other, valid) if order == "invalid-first" else (valid, other)
    r = await raw_exchange(sandbox.url, _get(b"/v1/whoami", first, second))
    assert_error(r, 401, "UNAUTHENTICATED")
    assert (await raw_exchange(sandbox.url, _get(b"/v1/whoami", valid))).status == 200


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Layers-Organization"])
async def test_a_single_header_sent_twice_is_422(sandbox: Sandbox, header: str) -> None:
    """Idempotency-Key and X-Layers-Organization sent twice are a 422 naming the header."""
    value = f"{header}: org_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f".encode()
    request = _get(
        b"/v1/projects", _auth(sandbox.api_key), value, value, b"Content-Length: 0", method=b"POST"
    )
    assert_validation(await raw_exchange(sandbox.url, request), header)


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/_sandbox/reset"), ("PATCH", "/_sandbox/config")]
)
async def test_admin_body_over_the_read_limit_is_422(api: Api, method: str, path: str) -> None:
    """A 9 MiB body on a `/_sandbox/` route is a 422 envelope at path "", not a 413 or a 500."""
    assert_validation(await api.call(method, path, data=b"x" * (9 * 1024 * 1024)), "")


@pytest.mark.anyio
@pytest.mark.parametrize("encoding", [b"gzip", b"deflate"])
async def test_a_body_that_cannot_be_decoded_is_400(sandbox: Sandbox, encoding: bytes) -> None:
    """A body whose Content-Encoding does not decode is a 400 BAD_REQUEST envelope, not a 500."""
    body = b"abcde"
    request = (
        b"POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + _auth(sandbox.api_key)
        + b"\r\nContent-Type: application/json\r\nContent-Encoding: "
        + encoding
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    r = await raw_exchange(sandbox.url, request)
    assert_error(r, 400, "BAD_REQUEST")
