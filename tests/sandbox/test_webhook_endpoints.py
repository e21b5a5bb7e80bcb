"""Webhook endpoints (contract §3.15.1-§3.15.3): create, list, read; delivery is pinned in
test_webhook_deliveries."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sandbox._checks import START, assert_error, assert_validation
from tests.sandbox._flows import GHOST_PRJ, GHOST_UUID, create_project, ok
from tests.sandbox._http import Api
from tests.sandbox._orgs import ENDPOINT_FIELDS, WH_RE, acting, idem, make_child

pytestmark = pytest.mark.anyio

ENDPOINTS = "/v1/webhook-endpoints"
SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{32}$")
BODY: dict[str, Any] = {
    "url": "https://yourapp.com/layers/webhooks",
    "events": ["job.completed", "job.failed", "post.published", "post.failed"],
}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    """POST /v1/webhook-endpoints with BODY and `fields`; assert 201; return the answer."""
    out: dict[str, Any] = ok(await api.post(ENDPOINTS, {**BODY, **fields}), 201)
    return out


async def test_create_answers_the_endpoint_and_its_signing_secret(api: Api) -> None:
    """201 `{endpoint, signingSecret}` with every field; a replay answers the same secret."""
    me = ok(await api.get("/v1/whoami"))["organizationId"]
    key = idem()
    body = {**BODY, "description": "main", "metadata": {"env": "prod"}}
    r = await api.post(ENDPOINTS, body, idem=key)
    out = ok(r, 201)
    assert list(out) == ["endpoint", "signingSecret"]
    assert SECRET.match(out["signingSecret"])
    e = out["endpoint"]
    assert list(e) == ENDPOINT_FIELDS
    assert WH_RE.match(e["id"])
    assert e == {
        "id": e["id"],
        "organizationId": me,
        "projectId": None,
        "url": BODY["url"],
        "description": "main",
        "status": "active",
        "events": BODY["events"],
        "scope": "own",
        "metadata": {"env": "prod"},
        "apiVersion": "v1",
        "createdAt": START,
        "updatedAt": START,
        "lastSuccessAt": None,
        "lastFailureAt": None,
        "consecutiveFailureCount": 0,
    }
    again = await api.post(ENDPOINTS, body, idem=key)
    assert (again.status, again.body) == (201, r.body)
    assert ok(await api.get(f"{ENDPOINTS}/{e['id']}")) == e


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"url": "http://yourapp.com/hooks"}, "url"),
        ({"url": "ftp://yourapp.com/hooks"}, "url"),
        ({"url": "https://x.com/" + "a" * 2040}, "url"),
        ({"url": None}, "url"),
        ({"events": []}, "events"),
        ({"events": ["job.completed", "wallet.low"]}, "events.1"),
        ({"events": [[]]}, "events.0"),
        ({"events": ["job.completed", {"name": "job.failed"}]}, "events.1"),
        ({"events": ["job.completed"] * 51}, "events"),
        ({"description": "d" * 501}, "description"),
        ({"projectId": "cnt_" + GHOST_UUID}, "projectId"),
        ({"scope": "everyone"}, "scope"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"secret": "mine"}, "secret"),
        ({"scope": "all_children", "projectId": GHOST_PRJ}, "projectId"),
    ],
)
async def test_create_validation(api: Api, fields: dict[str, Any], path: str) -> None:
    """Each invalid field is a 422 at its path (all_children with a project filter included)."""
    assert_validation(await api.post(ENDPOINTS, {**BODY, **fields}), path)


async def test_local_http_urls_are_accepted_for_development(api: Api) -> None:
    """http://localhost and http://127.0.0.1 URLs are accepted."""
    for url in ("http://localhost:3000/hooks", "http://127.0.0.1:8080/h"):
        assert (await create(api, url=url))["endpoint"]["url"] == url


async def test_an_unknown_project_is_404_naming_the_resource(api: Api) -> None:
    """A projectId that names no project of the organization is 404 with resource and id."""
    r = await api.post(ENDPOINTS, {**BODY, "projectId": GHOST_PRJ})
    err = assert_error(r, 404, "NOT_FOUND")
    assert err["details"] == {"resource": "project", "id": GHOST_PRJ}


async def test_all_children_needs_org_admin_and_a_parent(two_org_apis: dict[str, Api]) -> None:
    """all_children: 403 without org:admin, 422 at scope from inside a child, 201 for the parent."""
    full, star = two_org_apis["full"], two_org_apis["star"]
    r = await star.post(ENDPOINTS, {**BODY, "scope": "all_children"})
    assert assert_error(r, 403, "FORBIDDEN_SCOPE")["details"] == {"requiredScope": "org:admin"}
    child = (await make_child(full))["id"]
    r = await full.post(ENDPOINTS, {**BODY, "scope": "all_children"}, headers=acting(child))
    assert_validation(r, "scope")
    assert (await create(full, scope="all_children"))["endpoint"]["scope"] == "all_children"
    assert (await create(star))["endpoint"]["scope"] == "own"


async def test_list_filters_and_pages_newest_first(api: Api) -> None:
    """GET: newest first; projectId leaves out organization-wide endpoints; status narrows."""
    pid = (await create_project(api, app=False))["id"]
    wide = (await create(api))["endpoint"]["id"]
    await api.advance(1)
    narrow = (await create(api, projectId=pid.removeprefix("prj_")))["endpoint"]
    assert narrow["projectId"] == pid
    page = ok(await api.get(ENDPOINTS, params={"limit": "1"}))
    assert [e["id"] for e in page["items"]] == [narrow["id"]]
    rest = ok(await api.get(ENDPOINTS, params={"cursor": page["nextCursor"]}))
    assert ([e["id"] for e in rest["items"]], rest["nextCursor"]) == ([wide], None)
    only = ok(await api.get(ENDPOINTS, params={"projectId": pid}))
    assert [e["id"] for e in only["items"]] == [narrow["id"]]
    assert ok(await api.get(ENDPOINTS, params={"status": "paused"}))["items"] == []
    for params, path in (({"status": "off"}, "status"), ({"limit": "101"}, "limit")):
        assert_validation(await api.get(ENDPOINTS, params=params), path)


async def test_endpoints_belong_to_the_effective_organization(
    two_org_apis: dict[str, Api],
) -> None:
    """Another organization's endpoint is 404; a child's endpoints are listed only inside it."""
    full, foreign = two_org_apis["full"], two_org_apis["foreign"]
    theirs = (await create(foreign))["endpoint"]["id"]
    assert_error(await full.get(f"{ENDPOINTS}/{theirs}"), 404, "NOT_FOUND")
    assert_validation(await full.get(f"{ENDPOINTS}/{GHOST_UUID}"), "endpointId")
    child = (await make_child(full))["id"]
    r = await full.post(ENDPOINTS, BODY, headers=acting(child))
    inside = ok(r, 201)["endpoint"]
    assert inside["organizationId"] == child
    assert ok(await full.get(ENDPOINTS))["items"] == []
    listed = ok(await full.get(ENDPOINTS, headers=acting(child)))["items"]
    assert [e["id"] for e in listed] == [inside["id"]]
