"""Response bodies are capped (`Limits.max_response_bytes`, 16 MiB by default), counted after
decompression: a huge body or a compression bomb raises `ResponseTooLargeError` after reading at
most the limit, so memory stays bounded, and the client goes on working."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from layers_async import (
    DEFAULT_LIMITS,
    APIResponseValidationError,
    APIStatusError,
    InternalServerError,
    LayersClient,
    LayersError,
    Limits,
    ResponseTooLargeError,
)
from tests.client._rogue import KEY, RID, WHOAMI, Answer, Rogue, answer, rogue_server
from tests.client._tracing import SINGLE

MiB = 1024 * 1024
#: Zeros that a bomb inflates to, and the limit of the clients reading it.
BOMB_SIZE = 64 * MiB
SMALL_LIMIT = 1 * MiB


@pytest.fixture
async def rogue() -> AsyncIterator[Rogue]:
    """A server that answers what each test scripts."""
    async with rogue_server() as server:
        yield server


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """64 MiB of zeros, deflated and gzipped (about 64 KB each)."""
    zeros = bytes(BOMB_SIZE)
    return {"deflate": zlib.compress(zeros, 9), "gzip": gzip.compress(zeros, 9)}


def streamed(total: int, *, with_length: bool, sent: list[int], status: int = 200) -> Answer:
    """An answer of `total` bytes written in 64 KiB chunks; `sent` counts what was written."""
    chunk = b"x" * 65536

    async def send(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"X-Request-Id": RID})
        if with_length:
            resp.content_length = total
        await resp.prepare(request)
        written = 0
        try:
            while written < total:
                await resp.write(chunk)
                written += len(chunk)
                sent[0] = written
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: it read enough
        return resp

    return send


def _client(rogue: Rogue, limit: int | None = None) -> LayersClient:
    limits = DEFAULT_LIMITS if limit is None else Limits(max_response_bytes=limit)
    return LayersClient(**SINGLE, api_key=KEY, base_url=rogue.url, limits=limits)


def test_the_default_limit_is_16_mib() -> None:
    """`Limits.max_response_bytes` defaults to 16 MiB."""
    assert DEFAULT_LIMITS.max_response_bytes == 16 * MiB


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "16MiB", None])
def test_the_limit_must_be_a_positive_integer(bad: Any) -> None:
    """A limit that is not a positive integer is refused when the Limits is made."""
    with pytest.raises(ValueError):
        Limits(max_response_bytes=bad)


@pytest.mark.anyio
@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_a_96_mib_body_raises_a_typed_error_after_at_most_the_limit(
    rogue: Rogue, with_length: bool
) -> None:
    """A 96 MiB answer (with or without Content-Length) raises ResponseTooLargeError at the
    default limit; the client stops reading, and its next call works."""
    sent = [0]
    rogue.then(streamed(96 * MiB, with_length=with_length, sent=sent))
    async with _client(rogue) as client:
        with pytest.raises(ResponseTooLargeError) as info:
            await client.whoami()
        err = info.value
        assert isinstance(err, APIResponseValidationError)
        assert isinstance(err, LayersError)
        assert err.max_response_bytes == 16 * MiB
        assert (err.status_code, err.request_id) == (200, RID)
        assert (err.method, err.path, err.attempts) == ("GET", "/v1/whoami", 1)
        assert "max_response_bytes" in str(err)
        assert len(err.excerpt) <= 200
        assert sent[0] < 96 * MiB  # the server could not send it all: nobody read it
        assert (await client.whoami()).organization_id  # a fresh connection, a good answer
    assert len(rogue.seen) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("encoding", ["deflate", "gzip"])
async def test_a_compression_bomb_raises_a_typed_error_with_bounded_memory(
    rogue: Rogue, bombs: dict[str, bytes], encoding: str
) -> None:
    """A 64 KB body inflating to 64 MiB raises ResponseTooLargeError at a 1 MiB limit while
    the Python heap grows by a few MiB at most (counted after decompression, as read)."""
    bomb = bombs[encoding]
    rogue.then(answer(bomb, headers={"Content-Encoding": encoding}))
    async with _client(rogue, SMALL_LIMIT) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                await client.whoami()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert info.value.max_response_bytes == SMALL_LIMIT
        assert info.value.excerpt == "\0" * 200
        assert peak < 8 * MiB, peak
        assert (await client.whoami()).organization_id


@pytest.mark.anyio
@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_not(
    rogue: Rogue, with_length: bool
) -> None:
    """The limit is inclusive: a body of exactly `max_response_bytes` decodes."""

    async def whoami(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"X-Request-Id": RID})
        if with_length:
            resp.content_length = len(WHOAMI)
        await resp.prepare(request)
        await resp.write(WHOAMI)
        await resp.write_eof()
        return resp

    rogue.then(whoami, whoami)
    async with _client(rogue, len(WHOAMI)) as exact:
        assert (await exact.whoami()).organization_name == "Acme"
    async with _client(rogue, len(WHOAMI) - 1) as short:
        with pytest.raises(ResponseTooLargeError):
            await short.whoami()


@pytest.mark.anyio
async def test_an_error_answer_too_large_to_read_is_judged_by_its_status(rogue: Rogue) -> None:
    """A 500 with a 96 MiB body is an InternalServerError (as a non-JSON 500), not read whole."""
    sent = [0]
    rogue.then(streamed(96 * MiB, with_length=False, sent=sent, status=500))
    async with _client(rogue, SMALL_LIMIT) as client:
        with pytest.raises(InternalServerError) as info:
            await client.whoami()
    assert info.value.status_code == 500
    assert info.value.request_id == RID
    assert sent[0] < 96 * MiB


def in_pieces(pieces: list[bytes], *, with_length: bool = False) -> Answer:
    """An answer written piece by piece (each flushed on its own, so that the client reads
    several chunks), with or without Content-Length."""

    async def send(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"X-Request-Id": RID})
        if with_length:
            resp.content_length = sum(len(p) for p in pieces)
        await resp.prepare(request)
        try:
            for piece in pieces:
                await resp.write(piece)
                await asyncio.sleep(0.01)  # a separate read for the client (merging is harmless)
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: it read enough
        return resp

    return send


@pytest.mark.anyio
async def test_a_body_read_in_several_chunks_decodes_whole(rogue: Rogue) -> None:
    """A chunked answer arriving in several reads is joined byte for byte before decoding."""
    third = len(WHOAMI) // 3
    rogue.then(in_pieces([WHOAMI[:third], WHOAMI[third : 2 * third], WHOAMI[2 * third :]]))
    async with _client(rogue) as client:
        me = await client.whoami()
    assert me.organization_name == "Acme"


@pytest.mark.anyio
async def test_a_too_large_answer_keeps_its_headers_and_the_start_of_its_body(
    rogue: Rogue,
) -> None:
    """A chunked answer outgrowing the limit in a later chunk quotes the start of the body (its
    first chunk), and keeps the answer's headers; one of known length over the limit is not
    read at all (an empty excerpt)."""
    head = b'{"head": "' + b"h" * 300
    rogue.then(
        in_pieces([head, b"x" * SMALL_LIMIT]),
        in_pieces([b"y" * (SMALL_LIMIT + 1)], with_length=True),
    )
    async with _client(rogue, SMALL_LIMIT) as client:
        with pytest.raises(ResponseTooLargeError) as chunked:
            await client.whoami()
        with pytest.raises(ResponseTooLargeError) as known:
            await client.whoami()
    assert chunked.value.excerpt == head.decode()[:200]
    assert chunked.value.headers is not None
    sent = {name.lower(): value for name, value in chunked.value.headers.items()}
    assert sent["x-request-id"] == RID
    assert known.value.excerpt == ""
    assert known.value.request_id == RID


@pytest.mark.anyio
@pytest.mark.parametrize("status", [299, 300])
async def test_only_a_success_answer_too_large_to_read_is_a_response_too_large_error(
    rogue: Rogue, status: int
) -> None:
    """Over the limit, a 299 answer is a `ResponseTooLargeError`; a 300 (the first status that
    is not a success) is judged by its status alone, as a plain `APIStatusError`."""
    rogue.then(answer(WHOAMI, status))
    async with _client(rogue, len(WHOAMI) - 1) as client:
        with pytest.raises(LayersError) as info:
            await client.whoami()
    err = info.value
    expected = ResponseTooLargeError if status == 299 else APIStatusError
    assert type(err) is expected
    assert isinstance(err, (ResponseTooLargeError, APIStatusError))
    assert err.status_code == status
