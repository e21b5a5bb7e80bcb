"""`AsyncPaginator` over `client.projects.list(...)` (contract §1.9, §3.2.2): `await` is the
first page, `async for` is every item, `.pages()` is every page; filters travel with every page;
a bad `limit` fails before any request. Then what every list route of a project's resources
shares: a bad cursor is a 422, bad filters fail at the call, filters go out repeated and in UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from operator import attrgetter
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from layers_async import (
    AsyncPaginator,
    LayersClient,
    LayersValidationError,
    Page,
    ProjectSummary,
    Sandbox,
)
from tests.client._ids import GHOST_PRJ, GHOST_SA
from tests.client._refusals import BAD_CURSOR, assert_bad_cursor_is_422, refused_field_now
from tests.client._setup import PACIFIC, new_project
from tests.client._tracing import SINGLE, traced_client, url_recorder

KEY = "lp_live_01HXA1NHKJZXPV8R_q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"
NAMES = ["Acme One", "Acme Two", "Bravo Three", "Acme Four", "Bravo Five", "Acme Six", "Acme Seven"]


async def _create_seven(client: LayersClient) -> list[str]:
    ids = []
    for i, name in enumerate(NAMES):
        project = await client.projects.create(
            name=name, timezone="UTC", customer_external_id=f"cust-{i}"
        )
        ids.append(project.id)
    return ids


@pytest.mark.anyio
async def test_await_returns_the_first_page(client: LayersClient) -> None:
    """`await client.projects.list(limit=2)` is a Page with items, next_cursor and has_next."""
    await _create_seven(client)
    paginator = client.projects.list(limit=2)
    assert isinstance(paginator, AsyncPaginator)
    page = await paginator
    assert isinstance(page, Page)
    assert len(page) == 2
    assert all(isinstance(p, ProjectSummary) for p in page.items)
    assert isinstance(page.next_cursor, str)
    assert page.next_cursor
    assert page.has_next
    assert page.meta is not None
    assert page.meta.status_code == 200
    assert [p.name for p in page] == [p.name for p in page.items]
    whole = await client.projects.list(limit=200)
    assert len(whole) == 7
    assert whole.next_cursor is None
    assert not whole.has_next


@pytest.mark.anyio
async def test_async_for_walks_every_page_in_order_exactly_once(
    sandbox: Sandbox, client: LayersClient
) -> None:
    """`async for` with limit=2 yields all 7 projects newest first, no repeats, in four requests."""
    ids = await _create_seven(client)
    trace, urls = url_recorder()
    async with traced_client(sandbox, trace, **SINGLE) as c:
        seen = [p.id async for p in c.projects.list(limit=2)]
    assert len(seen) == 7
    assert len(set(seen)) == 7
    assert set(seen) == set(ids)
    reference = await client.projects.list(limit=200)
    assert seen == [p.id for p in reference.items]
    assert len(urls) == 4
    assert "cursor=" not in urls[0]
    assert all("cursor=" in u for u in urls[1:])


@pytest.mark.anyio
async def test_pages_yields_each_page(client: LayersClient) -> None:
    """`.pages()` yields Page objects of sizes 2, 2, 2, 1, the last without a cursor."""
    await _create_seven(client)
    pages = [page async for page in client.projects.list(limit=2).pages()]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert all(p.has_next for p in pages[:-1])
    assert pages[-1].next_cursor is None
    cursors = [p.next_cursor for p in pages[:-1]]
    assert len(set(cursors)) == 3


@pytest.mark.anyio
async def test_cursor_argument_resumes_a_listing(client: LayersClient) -> None:
    """`list(cursor=page.next_cursor)` continues where the page ended."""
    await _create_seven(client)
    first = await client.projects.list(limit=3)
    rest = [p.id async for p in client.projects.list(limit=3, cursor=first.next_cursor)]
    everything = [p.id async for p in client.projects.list(limit=3)]
    assert [p.id for p in first.items] + rest == everything


@pytest.mark.anyio
async def test_to_list_collects_items(client: LayersClient) -> None:
    """`to_list()` gathers every item; `max_items` stops early."""
    await _create_seven(client)
    assert len(await client.projects.list(limit=2).to_list()) == 7
    assert len(await client.projects.list(limit=2).to_list(max_items=3)) == 3


@pytest.mark.anyio
async def test_filters_apply_on_every_page_sandbox(client: LayersClient) -> None:
    """With limit=2, `search`, `status` and `customer_external_id` still filter the later pages."""
    ids = await _create_seven(client)
    await client.projects.archive(ids[0])
    acme = [p.name async for p in client.projects.list(search="acme", limit=2)]
    assert sorted(acme) == sorted(n for n in NAMES if n.startswith("Acme"))
    active = [p.id async for p in client.projects.list(status="active", limit=2)]
    assert sorted(active) == sorted(ids[1:])
    archived = [p.id async for p in client.projects.list(status="archived", limit=2)]
    assert archived == [ids[0]]
    both = [p.name async for p in client.projects.list(search="acme", status="active", limit=1)]
    assert sorted(both) == sorted(n for n in NAMES[1:] if n.startswith("Acme"))
    bound = await client.projects.list(customer_external_id="cust-3")
    assert [p.id for p in bound.items] == [ids[3]]
    assert bound.items[0].customer_external_id == "cust-3"


class PagingEcho:
    """Serves `GET /v1/projects` in three pages and records every query string."""

    def __init__(self) -> None:
        self.queries: list[list[tuple[str, str]]] = []
        app = web.Application()
        app.router.add_get("/v1/projects", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        return str(self.server.make_url("")).rstrip("/")

    @staticmethod
    def _row(n: int) -> dict[str, Any]:
        return {
            "id": f"prj_00000000-0000-4000-8000-{n:012d}",
            "name": f"Project {n}",
            "status": "active",
            "customerExternalId": None,
            "timezone": "UTC",
            "primaryLanguage": "en",
            "ownerEmail": None,
            "createdAt": "2026-05-14T16:00:00.000Z",
            "updatedAt": "2026-05-14T16:00:00.000Z",
        }

    async def _handle(self, request: web.Request) -> web.Response:
        self.queries.append(list(request.query.items()))
        cursor = request.query.get("cursor")
        page = {None: (1, "opaque/cursor+1=="), "opaque/cursor+1==": (2, "c2")}.get(
            cursor, (3, None)
        )
        n, nxt = page
        return web.json_response({"items": [self._row(n)], "nextCursor": nxt})


@pytest.fixture
async def paging_echo() -> AsyncIterator[PagingEcho]:
    """A running PagingEcho."""
    echo = PagingEcho()
    async with echo.server:
        yield echo


@pytest.mark.anyio
async def test_filters_and_limit_sent_with_every_page(paging_echo: PagingEcho) -> None:
    """Every page request repeats the filters and limit; cursors are passed back verbatim."""
    async with LayersClient(**SINGLE, api_key=KEY, base_url=paging_echo.url) as c:
        names = [
            p.name
            async for p in c.projects.list(
                status="active", search="acme co", customer_external_id="cust-1", limit=1
            )
        ]
    assert names == ["Project 1", "Project 2", "Project 3"]
    filters = [
        ("status", "active"),
        ("search", "acme co"),
        ("customerExternalId", "cust-1"),
        ("limit", "1"),
    ]
    assert paging_echo.queries == [
        filters,
        [*filters, ("cursor", "opaque/cursor+1==")],
        [*filters, ("cursor", "c2")],
    ]


@pytest.mark.anyio
async def test_paginator_is_lazy_and_reusable(paging_echo: PagingEcho) -> None:
    """Nothing is sent until the paginator is awaited; each await fetches the first page anew."""
    async with LayersClient(**SINGLE, api_key=KEY, base_url=paging_echo.url) as c:
        paginator = c.projects.list(limit=1)
        assert paging_echo.queries == []
        first = await paginator
        again = await paginator
    assert first == again
    assert len(paging_echo.queries) == 2


@pytest.mark.parametrize("limit", [0, 201, -1, True, "5", 2.0])
@pytest.mark.anyio
async def test_invalid_limit_raises_before_any_request(sandbox: Sandbox, limit: Any) -> None:
    """A limit outside 1-200 (or not an int) raises LayersValidationError; nothing is sent."""
    trace, urls = url_recorder()
    before = (await sandbox.state())["counts"]["projects"]
    async with traced_client(sandbox, trace, **SINGLE) as c:
        with pytest.raises(LayersValidationError) as info:
            c.projects.list(limit=limit)
        assert info.value.field == "limit"
        with pytest.raises(LayersValidationError):
            async for _ in c.projects.list(limit=limit):
                pass  # pragma: no cover - never reached
    assert urls == []
    assert (await sandbox.state())["counts"]["projects"] == before


@pytest.mark.parametrize(
    "kwargs",
    [{"status": "deleted"}, {"search": ""}, {"search": "x" * 201}, {"customer_external_id": ""}],
)
@pytest.mark.anyio
async def test_invalid_filters_raise_before_any_request(
    sandbox: Sandbox, kwargs: dict[str, Any]
) -> None:
    """Bad filter values raise LayersValidationError without a request."""
    trace, urls = url_recorder()
    async with traced_client(sandbox, trace, **SINGLE) as c:
        with pytest.raises(LayersValidationError):
            c.projects.list(**kwargs)
    assert urls == []


# --- every list route of a project's resources ----------------------------------------------------
#: The list routes under a project, by their client attribute path.
PROJECT_LISTS = [
    "app_media.list",
    "social.accounts",
    "influencers.list",
    "content.list",
    "scheduled_posts.list",
]


@pytest.mark.anyio
@pytest.mark.parametrize("route", PROJECT_LISTS[:3])
async def test_bad_cursor_is_422(client: LayersClient, route: str) -> None:
    """A cursor the server cannot decode raises UnprocessableEntityError with path cursor."""
    pid = await new_project(client)
    await assert_bad_cursor_is_422(attrgetter(route)(client)(pid, cursor=BAD_CURSOR))


#: What each list route refuses when it is called: parameter → the values it refuses.
LIST_REFUSALS: dict[str, dict[str, list[Any]]] = {
    "app_media.list": {
        "project_id": ["prj_nope"],
        "kind": ["end-card"],
        "limit": [0, 101, "10", True],
    },
    "social.accounts": {
        "project_id": ["prj_nope"],
        "platform": ["facebook"],
        "status": ["pending"],
        "leased": ["yes", 1],
        "limit": [0, 201],
    },
    "influencers.list": {"project_id": ["prj_nope"], "status": ["archived"], "limit": [0, 101]},
    "content.list": {
        "project_id": ["prj_x"],
        "status": ["generating", ["queued", "nope"], []],
        "format": ["slideshow_remix"],
        "creative_type": ["ai"],
        "since": [datetime(2026, 5, 14, 16, 0)],
        "until": ["2026-05-14T16:00:00Z"],
        "limit": [0, 201],
    },
    "scheduled_posts.list": {
        "project_id": ["p"],
        "status": ["done", ["queued", "draft_in_inbox"]],
        "social_account_id": ["sa_1", GHOST_SA[3:]],
        "since": [datetime(2026, 5, 14)],
        "until": [datetime(2026, 5, 14)],
        "limit": [0, 101],
    },
}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("route", "param", "value"),
    [
        pytest.param(route, param, value, id=f"{route}-{param}-{i}")
        for route, params in LIST_REFUSALS.items()
        for param, values in params.items()
        for i, value in enumerate(values)
    ],
)
async def test_bad_filters_are_refused_when_listing(
    client: LayersClient, route: str, param: str, value: Any
) -> None:
    """Each list route refuses a bad project id, filter or limit at the call, before sending."""
    args: dict[str, Any] = {"project_id": GHOST_PRJ, param: value}
    pid = args.pop("project_id")
    assert refused_field_now(attrgetter(route)(client), pid, **args) == param


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("route", "filters", "sent", "repeated"),
    [
        (
            "content.list",
            {
                "status": ["queued", "failed"],
                "format": ["ugc-remix", "video-remix"],
                "since": datetime(2026, 5, 14, 9, 0, tzinfo=PACIFIC),
                "until": datetime(2026, 5, 14, 9, 0, tzinfo=PACIFIC),
                "limit": 5,
            },
            [
                "status=queued",
                "status=failed",
                "format=ugc-remix",
                "format=video-remix",
                "since=2026-05-14T16:00:00.000Z",
                "until=2026-05-14T16:00:00.000Z",
                "limit=5",
            ],
            {"status=": 2},
        ),
        (
            "scheduled_posts.list",
            {
                "status": ("queued", "draft"),
                "social_account_id": GHOST_SA,
                "since": datetime(2026, 5, 14, 9, 30, tzinfo=PACIFIC),
                "until": datetime(2026, 5, 14, 9, 30, tzinfo=PACIFIC),
                "limit": 100,
            },
            ["status=queued", "status=draft", f"socialAccountId={GHOST_SA}", "limit=100"],
            {"status=": 2, "2026-05-14T16:30:00.000Z": 2},
        ),
    ],
)
async def test_list_filters_go_out_repeated_and_in_utc(
    sandbox: Sandbox,
    route: str,
    filters: dict[str, Any],
    sent: list[str],
    repeated: dict[str, int],
) -> None:
    """status and format go out repeated, since/until as UTC Z, social_account_id camelCase."""
    trace, urls = url_recorder()
    async with traced_client(sandbox, trace) as client:
        await attrgetter(route)(client)(await new_project(client), **filters)
    query = urls[-1].split("?", 1)[1]
    for part in sent:
        assert part in query
    for part, times in repeated.items():
        assert query.count(part) == times
