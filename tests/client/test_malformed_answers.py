"""A 2xx answer whose body is not what the route returns raises `APIResponseValidationError` (a
`LayersError`) with the status, the request id and a short excerpt of the body — never a bare
JSON-parser, converter or `KeyError` exception, and never the whole body."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from layers_async import (
    APIResponseValidationError,
    APIStatusError,
    LayersClient,
    LayersError,
)
from tests.client._rogue import KEY, RID, Rogue, answer, rogue_server
from tests.client._tracing import SINGLE

PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
#: Bodies that are not a model: (id, status, body, content type).
NOT_A_MODEL: list[tuple[str, int, bytes, str]] = [
    ("truncated-json", 200, b'{"organizationId": "org_2481fa5c-7d3e-4b0a', "application/json"),
    ("html", 200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    ("empty-200", 200, b"", "application/json"),
    ("no-content-204", 204, b"", "application/json"),
    ("null", 200, b"null", "application/json"),
    ("list", 200, b"[1, 2, 3]", "application/json"),
    ("empty-object", 200, b"{}", "application/json"),
    ("string", 200, b'"ok"', "application/json"),
    ("number", 201, b"42", "application/json"),
    ("not-utf8", 200, b"\xff\xfe\x00garbage", "application/octet-stream"),
]
#: A job body whose required timestamp is no timestamp.
BAD_TIMESTAMP = (
    b'{"jobId":"' + JOB.encode() + b'","kind":"content_generate","status":"running",'
    b'"locationUrl":"/v1/jobs/' + JOB.encode() + b'","startedAt":"yesterday"}'
)
Call = Callable[[LayersClient], Awaitable[Any]]
#: One call per decoding path: a read, a write, the job poll, a list page.
CALLS: dict[str, tuple[str, str, Call]] = {
    "whoami": ("GET", "/v1/whoami", lambda c: c.whoami()),
    "projects.get": ("GET", f"/v1/projects/{PRJ}", lambda c: c.projects.get(PRJ)),
    "projects.create": (
        "POST",
        "/v1/projects",
        lambda c: c.projects.create(name="Acme", timezone="UTC"),
    ),
    "jobs.get": ("GET", f"/v1/jobs/{JOB}", lambda c: c.jobs.get(JOB)),
    "projects.list": ("GET", "/v1/projects", lambda c: c.projects.list()),
}


@pytest.fixture
async def rogue() -> AsyncIterator[Rogue]:
    """A server that answers what each test scripts."""
    async with rogue_server() as server:
        yield server


@pytest.fixture
async def client(rogue: Rogue) -> AsyncIterator[LayersClient]:
    """A client of the rogue server (no gate: it has no tier to look up)."""
    async with LayersClient(api_key=KEY, base_url=rogue.url, rate_limit_tier=False) as c:
        yield c


def _check(err: APIResponseValidationError, status: int, body: bytes, call: str) -> None:
    """What every such error carries: the answer's status and id, the call, an excerpt."""
    method, path, _ = CALLS[call]
    assert isinstance(err, LayersError)
    assert not isinstance(err, APIStatusError)  # the server reported success
    assert err.status_code == status
    assert err.request_id == RID
    assert (err.method, err.path) == (method, path)
    assert err.excerpt == body[:200].decode("utf-8", "replace")
    assert err.attempts == 1  # never retried: the server said it succeeded
    assert RID in str(err)
    assert str(status) in str(err)
    assert err.__cause__ is None
    assert err.__suppress_context__  # no JSON parser's error (it holds the whole body) chained
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.excerpt, again.request_id) == (type(err), err.excerpt, RID)


@pytest.mark.anyio
@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(
    ("status", "body", "ctype"), [b[1:] for b in NOT_A_MODEL], ids=[b[0] for b in NOT_A_MODEL]
)
async def test_a_body_that_is_not_the_model_raises_a_typed_error(
    rogue: Rogue, client: LayersClient, call: str, status: int, body: bytes, ctype: str
) -> None:
    """Truncated JSON, HTML, an empty 200, a 204, null, a list, {} and other non-models raise
    APIResponseValidationError on every decoding path, sent once."""
    rogue.then(answer(body, status, content_type=ctype))
    with pytest.raises(APIResponseValidationError) as info:
        await CALLS[call][2](client)
    _check(info.value, status, body, call)
    assert len(rogue.seen) == 1


@pytest.mark.anyio
async def test_a_required_field_of_the_wrong_type_raises_a_typed_error(
    rogue: Rogue, client: LayersClient
) -> None:
    """A job whose `startedAt` is no timestamp raises APIResponseValidationError naming why."""
    rogue.then(answer(BAD_TIMESTAMP))
    with pytest.raises(APIResponseValidationError) as info:
        await client.jobs.get(JOB)
    _check(info.value, 200, BAD_TIMESTAMP, "jobs.get")
    assert "Job" in info.value.message


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [b'{"nextCursor": null}', b'{"items": {}}', b'{"items": [1]}', b'{"items": [{}]}'],
    ids=["no-items", "items-not-a-list", "item-not-an-object", "item-without-fields"],
)
async def test_a_page_that_is_not_a_page_raises_a_typed_error(
    rogue: Rogue, client: LayersClient, body: bytes
) -> None:
    """A list answer without an `items` list of models raises APIResponseValidationError."""
    rogue.then(answer(body))
    with pytest.raises(APIResponseValidationError) as info:
        await client.projects.list()
    _check(info.value, 200, body, "projects.list")


@pytest.mark.anyio
async def test_the_excerpt_is_short_and_the_error_says_what_was_wrong(
    rogue: Rogue, client: LayersClient
) -> None:
    """A 1 MB HTML page shows only its first 200 characters; the message says it is not JSON."""
    page = b"<html>" + b"x" * 1_000_000 + b"</html>"
    rogue.then(answer(page, content_type="text/html"))
    with pytest.raises(APIResponseValidationError) as info:
        await client.whoami()
    err = info.value
    assert len(err.excerpt) == 200
    assert len(str(err)) < 400
    assert "not valid JSON" in err.message
    assert "Whoami" in err.message
    assert len(pickle.dumps(err)) < 4_000


@pytest.mark.anyio
async def test_an_excerpt_never_shows_a_key_the_server_echoes(rogue: Rogue) -> None:
    """A proxy page echoing the request's Authorization header shows the key's prefix only."""

    async def echo(request: Any) -> Any:
        page = f"<pre>Authorization: {request.headers['Authorization']}\nKey: {KEY}</pre>"
        return await answer(page.encode(), content_type="text/html")(request)

    rogue.then(echo)
    async with LayersClient(**SINGLE, api_key=KEY, base_url=rogue.url) as c:
        with pytest.raises(APIResponseValidationError) as info:
            await c.whoami()
    err = info.value
    secret = KEY[25:]
    for text in (str(err), repr(err), err.excerpt, repr(vars(err))):
        assert secret not in text
    assert secret.encode() not in pickle.dumps(err)
    assert KEY[:24] in err.excerpt  # the log-safe prefix stays, to tell which key it was


@pytest.mark.anyio
async def test_unknown_fields_still_decode(rogue: Rogue, client: LayersClient) -> None:
    """The checks do not make decoding strict: unknown fields and enum values still pass."""
    body = b'{"items": [], "nextCursor": null, "futureField": {"x": 1}}'
    rogue.then(answer(body))
    page = await client.projects.list()
    assert list(page) == []
    assert not page.has_next


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "call", "why"),
    [
        (
            b'{"items": {}, "nextCursor": null}',
            "projects.list",
            "an object that does not fit (TypeError: items is not a list), "
            "not a page of ProjectSummary",
        ),
        (b"{}", "whoami", "an object without the required field 'organizationId', not a Whoami"),
    ],
    ids=["items-not-a-list", "missing-field"],
)
async def test_the_message_names_the_misfit_and_the_model(
    rogue: Rogue, client: LayersClient, body: bytes, call: str, why: str
) -> None:
    """A page whose `items` is an object, an object missing a required field: the message says
    which, and for which model."""
    rogue.then(answer(body))
    with pytest.raises(APIResponseValidationError) as info:
        await CALLS[call][2](client)
    assert info.value.message == f"The API answered 200 with {why}."


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cursor", "expected"),
    [('"c_2"', "c_2"), ('""', None), ("7", None), ("null", None)],
    ids=["text", "empty", "number", "null"],
)
async def test_only_a_non_empty_text_cursor_means_another_page(
    rogue: Rogue, client: LayersClient, cursor: str, expected: str | None
) -> None:
    """`nextCursor` is the next page's cursor only when it is non-empty text; else the end."""
    rogue.then(answer(b'{"items": [], "nextCursor": ' + cursor.encode() + b"}"))
    page = await client.projects.list()
    assert page.next_cursor == expected
    assert page.has_next is (expected is not None)
