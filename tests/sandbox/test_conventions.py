"""Contract tests for the conventions of §1 (routing, auth, scopes, organization header, ids,
strict bodies, pagination, order of checks), determinism (§5.1) and the sandbox CLI."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import socket
import sys
import tempfile
from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    API_KEY,
    APP_DESCRIPTION,
    JSON_CT,
    PRJ_ID,
    REQ_ID,
    UNKNOWN_KEY,
    assert_error,
    assert_only_class_header,
    assert_rate_headers,
    assert_validation,
    burst,
    create_project,
    new_uuid,
    start_builder,
)
from tests.sandbox._http import Api, MakeSandbox, Reply

# --------------------------------------------------------------------------------------------
# routing and transport (contract §1.1)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/projects/"),
        ("GET", "/v1/whoami/"),
        ("GET", "/v1/nope"),
        ("GET", "/v2/whoami"),
        ("GET", "/whoami"),
        ("PUT", "/v1/projects"),
        ("DELETE", "/v1/projects"),
        ("POST", "/v1/whoami"),
        ("PATCH", "/v1/credits"),
        ("PUT", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"),
        ("POST", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/ingest/github"),
        ("POST", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/ingest/website"),
        ("POST", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/content/upload"),
        ("POST", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/media"),
        ("GET", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/metrics"),
        ("GET", "/v1/audit-log"),
        ("GET", "/v1/tiktok-music"),
        ("POST", "/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11/content"),
    ],
)
async def test_unknown_route_or_method_is_404(api: Api, method: str, path: str) -> None:
    """Trailing slashes, unknown paths, unserved methods and Tier 3 routes answer 404 NOT_FOUND."""
    if method == "GET":
        r = await api.call(method, path)
    else:
        r = await api.call(method, path, json={})
    err = assert_error(r, 404, "NOT_FOUND")
    assert "details" not in err


@pytest.mark.anyio
async def test_error_envelope_and_request_id(api: Api) -> None:
    """Errors use {error:{code,message,requestId}} and requestId equals the X-Request-Id header."""
    r = await api.get(f"/v1/projects/prj_{new_uuid()}")
    err = assert_error(r, 404, "NOT_FOUND")
    assert err["requestId"] == r.headers["X-Request-Id"]


@pytest.mark.anyio
async def test_request_ids_are_fresh_and_client_value_ignored(api: Api) -> None:
    """Every response has a fresh req_<ULID> X-Request-Id; a client-sent X-Request-Id is ignored."""
    client_id = "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T"
    seen: set[str] = set()
    for _ in range(5):
        r = await api.get("/v1/whoami", headers={"X-Request-Id": client_id})
        assert r.status == 200, r
        rid = r.headers["X-Request-Id"]
        assert REQ_ID.match(rid), rid
        assert rid != client_id
        seen.add(rid)
    assert len(seen) == 5


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_sandbox/state", None),
        ("GET", "/_sandbox/clock", None),
        ("GET", "/_sandbox/config", None),
        ("GET", "/_sandbox/keys", None),
        ("POST", "/_sandbox/clock/advance", {"seconds": 1}),
        ("GET", "/_sandbox/media/never-issued.png", None),
        ("GET", "/v1/nope", None),
    ],
)
async def test_request_id_on_every_response(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """/_sandbox/ routes and unknown routes also carry a fresh X-Request-Id."""
    if body is None:
        r = await api.call(method, path)
    else:
        r = await api.call(method, path, json=body)
    rid = r.headers.get("X-Request-Id")
    assert rid is not None, r
    assert REQ_ID.match(rid), rid
    if r.status >= 400:
        assert r.json["error"]["requestId"] == rid


@pytest.mark.anyio
async def test_sandbox_routes_carry_no_rate_limit_headers(api: Api) -> None:
    """/_sandbox/ responses carry X-Request-Id but none of the X-RateLimit-* headers."""
    r = await api.get("/_sandbox/state")
    assert r.status == 200
    assert r.headers.get("Content-Type") == JSON_CT
    for name in (
        "X-RateLimit-Endpoint-Class",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    ):
        assert name not in r.headers


@pytest.mark.anyio
async def test_304_carries_request_id_etag_and_rate_headers(api: Api) -> None:
    """A 304 on GET /v1/jobs/{id} has no body but carries X-Request-Id, ETag and rate headers."""
    project = await create_project(api)
    env = await start_builder(api, project["id"])
    first = await api.get(f"/v1/jobs/{env['jobId']}")
    assert first.status == 200, first
    etag = first.headers["ETag"]
    r = await api.get(f"/v1/jobs/{env['jobId']}", headers={"If-None-Match": etag})
    assert r.status == 304, r
    assert r.body == b""
    assert REQ_ID.match(r.headers["X-Request-Id"])
    assert r.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert r.headers["ETag"] == etag
    assert_rate_headers(r, "read-light", 120)
    before = int(first.headers["X-RateLimit-Remaining"])
    assert int(r.headers["X-RateLimit-Remaining"]) == before - 1


@pytest.mark.anyio
async def test_json_content_type_on_success_and_error(api: Api) -> None:
    """Responses are `application/json; charset=utf-8`, success and error alike."""
    ok = await api.get("/v1/whoami")
    assert ok.status == 200
    assert ok.headers["Content-Type"] == JSON_CT
    created = await api.post("/v1/projects", {"name": "Acme", "timezone": "UTC"})
    assert created.status == 201
    assert created.headers["Content-Type"] == JSON_CT
    bad = await api.post("/v1/projects", {"name": "A"})
    assert bad.headers["Content-Type"] == JSON_CT


# --------------------------------------------------------------------------------------------
# authentication (contract §1.2)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic dXNlcjpwYXNz",
        "Token {key}",
        "Bearer",
        "Bearer ",
        "{key}",
        "Bearer lp_live_short_secret",
        "Bearer lp_prod_0123456789ABCDEF_" + "A" * 43,
        "Bearer lp_live_0123456789ABCDEI_" + "A" * 43,
        "Bearer lp_live_0123456789ABCDEF_" + "A" * 42,
        "Bearer " + UNKNOWN_KEY,
        "Bearer {key}x",
    ],
)
async def test_bad_authorization_is_401(api: Api, authorization: str | None) -> None:
    """Missing, non-Bearer, malformed or unknown keys all get 401 UNAUTHENTICATED."""
    anon = api.with_key(None)
    headers = None
    if authorization is not None:
        headers = {"Authorization": authorization.replace("{key}", api.key or "")}
    r = await anon.get("/v1/whoami", headers=headers)
    err = assert_error(r, 401, "UNAUTHENTICATED")
    assert "details" not in err
    assert_only_class_header(r, "read-light")


@pytest.mark.anyio
async def test_x_api_key_alone_is_401(api: Api) -> None:
    """X-Api-Key is never read: a valid key sent only there gets 401."""
    r = await api.with_key(None).get("/v1/whoami", headers={"X-Api-Key": api.key or ""})
    assert_error(r, 401, "UNAUTHENTICATED")


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_bearer_word_is_case_insensitive(api: Api, scheme: str) -> None:
    """The word Bearer is matched case-insensitively."""
    r = await api.with_key(None).get("/v1/whoami", headers={"Authorization": f"{scheme} {api.key}"})
    assert r.status == 200, r


@pytest.mark.anyio
async def test_default_keys_have_the_documented_format(api: Api, sandbox: Sandbox) -> None:
    """Both default keys match the lp_<env>_<keyId16>_<secret43> format with their env."""
    assert API_KEY.match(sandbox.keys["demo-live"])
    assert sandbox.keys["demo-live"].startswith("lp_live_")
    assert API_KEY.match(sandbox.keys["demo-test"])
    assert sandbox.keys["demo-test"].startswith("lp_test_")
    r = await api.with_key(sandbox.keys["demo-test"]).get("/v1/whoami")
    assert r.status == 200, r


# --------------------------------------------------------------------------------------------
# scopes (contract §1.3)
# --------------------------------------------------------------------------------------------

_JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
_PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "body", "scope"),
    [
        ("POST", "/v1/projects", {"name": "Acme", "timezone": "UTC"}, "projects:write"),
        ("PATCH", f"/v1/projects/{_PRJ}", {"name": "Acme"}, "projects:write"),
        ("DELETE", f"/v1/projects/{_PRJ}", None, "projects:write"),
        ("GET", f"/v1/jobs/{_JOB}", None, "jobs:read"),
        ("GET", f"/v1/projects/{_PRJ}/influencers", None, "influencers:write"),
        ("GET", f"/v1/projects/{_PRJ}/content", None, "content:read"),
        ("GET", f"/v1/projects/{_PRJ}/social-accounts", None, "social:read"),
        ("GET", f"/v1/projects/{_PRJ}/scheduled-posts", None, "publish:read"),
        ("POST", f"/v1/jobs/{_JOB}/cancel", None, "jobs:cancel"),
    ],
)
async def test_missing_scope_is_403(
    two_org_apis: dict[str, Api],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    scope: str,
) -> None:
    """A key lacking the route's scope gets 403 FORBIDDEN_SCOPE with details.requiredScope."""
    ro = two_org_apis["ro"]
    if body is None:
        r = await ro.call(method, path)
    else:
        r = await ro.call(method, path, json=body)
    err = assert_error(r, 403, "FORBIDDEN_SCOPE")
    assert err["details"]["requiredScope"] == scope


@pytest.mark.anyio
async def test_read_scope_and_scopeless_routes(two_org_apis: dict[str, Api]) -> None:
    """A projects:read key may list projects and call whoami/credits, which need no scope."""
    ro = two_org_apis["ro"]
    for path in ("/v1/whoami", "/v1/credits", "/v1/projects"):
        r = await ro.get(path)
        assert r.status == 200, (path, r)
    who = await ro.get("/v1/whoami")
    assert who.json["scopes"] == ["projects:read"]


@pytest.mark.anyio
async def test_star_does_not_grant_org_admin_but_grants_data_scopes(
    two_org_apis: dict[str, Api],
) -> None:
    """A `*` key reaches data routes but cannot use X-Layers-Organization (needs org:admin)."""
    star = two_org_apis["star"]
    created = await star.post("/v1/projects", {"name": "Acme", "timezone": "UTC"})
    assert created.status == 201, created
    r = await star.get("/v1/whoami", headers={"X-Layers-Organization": f"org_{new_uuid()}"})
    err = assert_error(r, 403, "FORBIDDEN_SCOPE")
    assert err["details"]["requiredScope"] == "org:admin"


# --------------------------------------------------------------------------------------------
# X-Layers-Organization (contract §1.4)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["acme", "org_123", "org_not-a-uuid", "prj_" + _PRJ[4:], "org_"])
async def test_malformed_organization_header_is_422(api: Api, value: str) -> None:
    """A malformed X-Layers-Organization value is 422 with issue path X-Layers-Organization."""
    r = await api.get("/v1/whoami", headers={"X-Layers-Organization": value})
    assert_validation(r, "X-Layers-Organization")


@pytest.mark.anyio
async def test_unknown_or_non_child_organization_is_404(two_org_apis: dict[str, Api]) -> None:
    """Unknown orgs, the key's own org and another top-level org are all 404 NOT_FOUND."""
    full = two_org_apis["full"]
    foreign = two_org_apis["foreign"]
    own_org = (await full.get("/v1/whoami")).json["organizationId"]
    other_org = (await foreign.get("/v1/whoami")).json["organizationId"]
    unknown = new_uuid()
    for value in (f"org_{unknown}", unknown, own_org, other_org, other_org[4:]):
        r = await full.get("/v1/projects", headers={"X-Layers-Organization": value})
        assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_organization_header_without_org_admin_is_403(two_org_apis: dict[str, Api]) -> None:
    """A key without org:admin sending the header gets 403 with requiredScope org:admin."""
    ro = two_org_apis["ro"]
    r = await ro.get("/v1/projects", headers={"X-Layers-Organization": f"org_{new_uuid()}"})
    err = assert_error(r, 403, "FORBIDDEN_SCOPE")
    assert err["details"]["requiredScope"] == "org:admin"


# --------------------------------------------------------------------------------------------
# identifiers (contract §1.5)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/projects/abc", "projectId"),
        ("/v1/projects/prj_123", "projectId"),
        ("/v1/projects/org_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11", "projectId"),
        ("/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e1", "projectId"),
        ("/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11x", "projectId"),
        ("/v1/projects/prj_254a4ce16f0e4c1a9a573b8f0d2c9e11", "projectId"),
        ("/v1/projects/abc/influencers", "projectId"),
        ("/v1/influencers/254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11", "influencerId"),
        ("/v1/influencers/inf_nope", "influencerId"),
        ("/v1/jobs/job_01hxa1nhkjzxpv8r7q6wsm5bcd", "jobId"),
        ("/v1/jobs/01HXA1NHKJZXPV8R7Q6WSM5BCD", "jobId"),
        ("/v1/jobs/job_01HXA1NHKJZXPV8R7Q6WSM5BC", "jobId"),
        ("/v1/jobs/job_01HXA1NHKJZXPV8R7Q6WSM5BCU", "jobId"),
        ("/v1/content/cnt_nope", "containerId"),
        ("/v1/scheduled-posts/254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11", "scheduledPostId"),
    ],
)
async def test_malformed_path_id_is_422_with_parameter_name(
    api: Api, path: str, param: str
) -> None:
    """A path id that is not well formed for its position is 422 with the parameter as path."""
    r = await api.get(path)
    assert_validation(r, param)


@pytest.mark.anyio
async def test_project_accepts_bare_and_uppercase_uuid(api: Api) -> None:
    """Projects accept prj_<uuid>, the bare UUID and uppercase forms; responses use prj_<lower>."""
    project = await create_project(api)
    pid = project["id"]
    bare = pid[4:]
    for form in (pid, bare, bare.upper(), "prj_" + bare.upper()):
        r = await api.get(f"/v1/projects/{form}")
        assert r.status == 200, (form, r)
        assert r.json["id"] == pid
        assert PRJ_ID.match(r.json["id"])


@pytest.mark.anyio
async def test_unknown_well_formed_ids_are_404(api: Api) -> None:
    """A well-formed id that does not exist gives 404 NOT_FOUND."""
    for path in (
        f"/v1/projects/prj_{new_uuid()}",
        f"/v1/projects/{new_uuid()}",
        f"/v1/influencers/inf_{new_uuid()}",
        f"/v1/content/cnt_{new_uuid()}",
        f"/v1/scheduled-posts/sp_{new_uuid()}",
        f"/v1/jobs/{_JOB}",
    ):
        r = await api.get(path)
        assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_other_organizations_project_is_404_not_403(two_org_apis: dict[str, Api]) -> None:
    """Another organization's project is 404 on read, patch and delete (never 403)."""
    full = two_org_apis["full"]
    foreign = two_org_apis["foreign"]
    project = await create_project(full)
    pid = project["id"]
    assert_error(await foreign.get(f"/v1/projects/{pid}"), 404, "NOT_FOUND")
    assert_error(await foreign.patch(f"/v1/projects/{pid}", {"name": "Mine"}), 404, "NOT_FOUND")
    assert_error(await foreign.delete(f"/v1/projects/{pid}"), 404, "NOT_FOUND")
    listed = await foreign.get("/v1/projects")
    assert listed.json["items"] == []


# --------------------------------------------------------------------------------------------
# strict bodies and query strings (contract §1.7)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unknown_body_key_is_422_with_key_path(api: Api) -> None:
    """An unknown body key is 422 VALIDATION with the key itself as issue path."""
    r = await api.post("/v1/projects", {"name": "Acme", "timezone": "UTC", "bogus": 1})
    assert_validation(r, "bogus")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "Acme", "timezone": ',
        b"not json",
        b"[]",
        b'[{"name": "Acme", "timezone": "UTC"}]',
        b'"Acme"',
        b"42",
        b"null",
        b"true",
    ],
)
async def test_malformed_or_non_object_body_is_422_root(api: Api, raw: bytes) -> None:
    """Malformed JSON or a non-object body is 422 with issue path ""."""
    r = await api.post("/v1/projects", data=raw, headers={"Content-Type": "application/json"})
    assert_validation(r, "")


@pytest.mark.anyio
async def test_body_over_one_mebibyte_is_422_root(api: Api) -> None:
    """A body over 1 MiB is 422 with issue path "" (nothing else reported)."""
    body = {"name": "Acme", "timezone": "UTC", "metadata": {"blob": "x" * (1024 * 1024)}}
    raw = io.BytesIO(json.dumps(body).encode())
    r = await api.post(
        "/v1/projects",
        data=raw,  # type: ignore[arg-type]  # a stream avoids aiohttp's large-body warning
        headers={"Content-Type": "application/json"},
    )
    assert_validation(r, "")
    assert (await api.state())["counts"]["projects"]["total"] == 0


@pytest.mark.anyio
async def test_validation_details_issue_shape(api: Api) -> None:
    """details.issues is a non-empty list of {path, message}, one per problem."""
    r = await api.post("/v1/projects", {"name": "A", "timezone": "Not/AZone", "bogus": True})
    issues = assert_validation(r, "name", "timezone", "bogus")
    for issue in issues:
        assert set(issue) == {"path", "message"}


@pytest.mark.anyio
async def test_no_body_routes_accept_empty_or_empty_object(api: Api) -> None:
    """Endpoints without a body accept no body, an empty body and {}."""
    a = await create_project(api)
    b = await create_project(api)
    c = await create_project(api)
    assert (await api.delete(f"/v1/projects/{a['id']}")).status == 200
    assert (
        await api.delete(
            f"/v1/projects/{b['id']}", data=b"", headers={"Content-Type": "application/json"}
        )
    ).status == 200
    assert (await api.delete(f"/v1/projects/{c['id']}", json={})).status == 200


@pytest.mark.anyio
async def test_no_body_route_rejects_unknown_keys(api: Api) -> None:
    """A body with keys on a no-body route is strict: unknown key → 422 with that path."""
    project = await create_project(api)
    r = await api.delete(f"/v1/projects/{project['id']}", json={"force": True})
    assert_validation(r, "force")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "query",
    [
        [("limit", "2"), ("limit", "3")],
        [("search", "a"), ("search", "b")],
        [("customerExternalId", "a"), ("customerExternalId", "b")],
    ],
)
async def test_repeated_single_valued_query_param_is_422(
    api: Api, query: list[tuple[str, str]]
) -> None:
    """A single-valued query parameter sent twice is 422 with the parameter as path."""
    r = await api.get("/v1/projects", params=query)
    assert_validation(r, query[0][0])


@pytest.mark.anyio
async def test_unknown_query_params_are_ignored(api: Api) -> None:
    """Unknown query parameters are ignored."""
    await create_project(api)
    r = await api.get("/v1/projects", params={"foo": "bar", "expand": "everything"})
    assert r.status == 200, r
    assert len(r.json["items"]) == 1


# --------------------------------------------------------------------------------------------
# keyset pagination (GET /v1/projects) (contract §1.9)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5", "2e1", "10x"])
async def test_limit_out_of_range_or_non_integer_is_422(api: Api, limit: str) -> None:
    """limit outside 1-200 or not an integer is 422 with path limit."""
    r = await api.get("/v1/projects", params={"limit": limit})
    assert_validation(r, "limit")


@pytest.mark.anyio
@pytest.mark.parametrize("limit", ["1", "200"])
async def test_limit_bounds_are_inclusive(api: Api, limit: str) -> None:
    """limit 1 and 200 are accepted."""
    await create_project(api)
    r = await api.get("/v1/projects", params={"limit": limit})
    assert r.status == 200, r


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cursor",
    ["!!!", "bm90LWpzb24", "%%%%", base64.urlsafe_b64encode(b"\xff\xfe\x00").decode()],
)
async def test_undecodable_cursor_is_422(api: Api, cursor: str) -> None:
    """A cursor the server cannot decode is 422 with path cursor."""
    r = await api.get("/v1/projects", params={"cursor": cursor})
    assert_validation(r, "cursor")


async def _walk(api: Api, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        q = dict(params)
        if cursor is not None:
            q["cursor"] = cursor
        r = await api.get("/v1/projects", params=q)
        assert r.status == 200, r
        assert set(r.json) == {"items", "nextCursor"}
        assert len(r.json["items"]) <= int(params.get("limit", "25"))
        items.extend(r.json["items"])
        cursor = r.json["nextCursor"]
        if cursor is None:
            return items
        assert isinstance(cursor, str)
    raise AssertionError("pagination did not terminate")


def _expected_order(projects: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(projects, key=lambda p: (p["createdAt"], p["id"]), reverse=True)
    return [p["id"] for p in ordered]


@pytest.mark.anyio
async def test_walk_pages_newest_first_ties_by_id_desc(api: Api) -> None:
    """limit=2 pages return every project once, createdAt desc, ties broken by id desc."""
    created: list[dict[str, Any]] = []
    for i in range(4):
        created.append(await create_project(api, name=f"Tie {i}"))
    await api.advance(5)
    for i in range(3):
        created.append(await create_project(api, name=f"Later {i}"))
    items = await _walk(api, {"limit": "2"})
    assert [p["id"] for p in items] == _expected_order(created)


@pytest.mark.anyio
async def test_inserts_during_iteration_neither_skip_nor_repeat(api: Api) -> None:
    """Projects created mid-iteration do not make the keyset walk skip or repeat rows."""
    created = [await create_project(api, name=f"Orig {i}") for i in range(6)]
    expected = _expected_order(created)
    r = await api.get("/v1/projects", params={"limit": "2"})
    seen = [p["id"] for p in r.json["items"]]
    cursor = r.json["nextCursor"]
    await api.advance(1)
    newer = [await create_project(api, name=f"New {i}") for i in range(3)]
    while cursor is not None:
        r = await api.get("/v1/projects", params={"limit": "2", "cursor": cursor})
        assert r.status == 200, r
        seen.extend(p["id"] for p in r.json["items"])
        cursor = r.json["nextCursor"]
    assert seen == expected
    again = await _walk(api, {"limit": "2"})
    assert [p["id"] for p in again] == _expected_order(created + newer)


@pytest.mark.anyio
async def test_filters_apply_on_every_page(api: Api) -> None:
    """status, search and customerExternalId filters hold on every page of a walk."""
    alphas = [await create_project(api, name=f"Alpha {i}") for i in range(5)]
    await create_project(api, name="Beta One")
    await create_project(api, name="Beta Two", customerExternalId="beta-2")
    archived = alphas[:2]
    for p in archived:
        assert (await api.delete(f"/v1/projects/{p['id']}")).status == 200
    items = await _walk(api, {"limit": "2", "search": "alpha", "status": "active"})
    assert sorted(p["id"] for p in items) == sorted(p["id"] for p in alphas[2:])
    assert all(p["status"] == "active" and "Alpha" in p["name"] for p in items)
    items = await _walk(api, {"limit": "1", "status": "archived"})
    assert sorted(p["id"] for p in items) == sorted(p["id"] for p in archived)
    items = await _walk(api, {"limit": "1", "customerExternalId": "beta-2"})
    assert [p["name"] for p in items] == ["Beta Two"]


# --------------------------------------------------------------------------------------------
# order of checks (contract §1.15)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_route_404_beats_auth_401(api: Api) -> None:
    """An unknown route without credentials is 404, not 401."""
    r = await api.with_key(None).get("/v1/organizations-typo")
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_fault_injection_beats_auth(api: Api) -> None:
    """A matching fault rule answers before authentication."""
    await api.configure({"faults": [{"route": "GET /v1/whoami", "action": "http_503"}]})
    r = await api.with_key(None).get("/v1/whoami")
    assert_error(r, 503, "SERVICE_UNAVAILABLE")


@pytest.mark.anyio
async def test_401_beats_429(api: Api) -> None:
    """With the bucket exhausted, an invalid key still gets 401."""
    await burst(api, 121)
    r = await api.with_key(UNKNOWN_KEY).get("/v1/whoami")
    assert_error(r, 401, "UNAUTHENTICATED")


@pytest.mark.anyio
async def test_429_beats_403(two_org_apis: dict[str, Api]) -> None:
    """Scope refusals consume the bucket; once empty the answer is 429, not 403."""
    ro = two_org_apis["ro"]
    body = {"name": "Acme", "timezone": "UTC"}
    replies = await asyncio.gather(*(ro.post("/v1/projects", body) for _ in range(60)))
    assert [r.status for r in replies] == [403] * 60
    r = await ro.post("/v1/projects", body)
    assert_error(r, 429, "RATE_LIMITED")


@pytest.mark.anyio
async def test_403_beats_idempotency_and_path_422(two_org_apis: dict[str, Api]) -> None:
    """A missing scope is 403 even with a bad Idempotency-Key or a malformed path id."""
    ro = two_org_apis["ro"]
    r = await ro.post("/v1/projects", {"name": "A"}, idem="bad key")
    assert_error(r, 403, "FORBIDDEN_SCOPE")
    r = await ro.get("/v1/jobs/not-a-job")
    assert_error(r, 403, "FORBIDDEN_SCOPE")


@pytest.mark.anyio
async def test_bad_idempotency_key_beats_body_422(api: Api) -> None:
    """A bad Idempotency-Key is reported alone, before body validation."""
    r = await api.post("/v1/projects", {"name": "A", "bogus": 1}, idem="has space")
    assert_validation(r, "Idempotency-Key")


@pytest.mark.anyio
async def test_body_422_beats_handler_404(api: Api) -> None:
    """Body validation runs before the existence check of the path resource."""
    r = await api.patch(f"/v1/projects/prj_{new_uuid()}", {"bogus": 1})
    assert_validation(r, "bogus")
    r = await api.post(f"/v1/projects/prj_{new_uuid()}/app-media", {"kind": "end-card"})
    assert_validation(r, "kind", "url")


@pytest.mark.anyio
async def test_path_422_beats_404_and_404_beats_409(api: Api) -> None:
    """A malformed id is 422; an unknown project is 404 even for state-dependent routes."""
    r = await api.post("/v1/projects/prj_x/keywords/refresh")
    assert_validation(r, "projectId")
    r = await api.post(f"/v1/projects/prj_{new_uuid()}/keywords/refresh")
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_archived_409_beats_actor_404(api: Api) -> None:
    """On an archived project a remix with an unknown influencer is 409 archived, not 404."""
    project = await create_project(api)
    assert (await api.delete(f"/v1/projects/{project['id']}")).status == 200
    r = await api.post(
        f"/v1/projects/{project['id']}/content/slideshow-remix",
        {"tiktokVideoId": "7301234567890123456", "influencerId": f"inf_{new_uuid()}"},
    )
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"] == {"projectId": project["id"], "status": "archived"}


@pytest.mark.anyio
async def test_429_beats_idempotent_replay(api: Api) -> None:
    """With the write bucket empty, a retry with a stored key gets 429, not the replay."""
    body = {"name": "Acme", "timezone": "UTC"}
    first = await api.post("/v1/projects", body, idem="replay-me")
    assert first.status == 201
    pid = first.json["id"]
    await asyncio.gather(*(api.patch(f"/v1/projects/{pid}", {"name": "Bumped"}) for _ in range(59)))
    r = await api.post("/v1/projects", body, idem="replay-me")
    assert_error(r, 429, "RATE_LIMITED")


# --------------------------------------------------------------------------------------------
# determinism (contract §5.1)
# --------------------------------------------------------------------------------------------


def _normalise(r: Reply) -> tuple[int, Any]:
    if not r.body:
        return (r.status, None)
    body = r.json
    if r.status >= 400:
        body["error"].pop("requestId", None)
    return (r.status, body)


async def _scripted_run(api: Api) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    out.append(_normalise(await api.get("/v1/whoami")))
    r = await api.post(
        "/v1/projects",
        {
            "name": "Acme Coffee",
            "timezone": "UTC",
            "appName": "Acme",
            "appDescription": APP_DESCRIPTION,
        },
    )
    out.append(_normalise(r))
    pid = r.json["id"]
    out.append(_normalise(await api.get(f"/v1/projects/{pid}/influencers")))
    out.append((200, await api.advance(300)))
    inf = await api.get(f"/v1/projects/{pid}/influencers")
    out.append(_normalise(inf))
    out.append(_normalise(await api.get(f"/v1/projects/{pid}/keywords")))
    recs = await api.get(
        f"/v1/projects/{pid}/content/source-recommendations",
        params={"keyword": "morning run", "kind": "slideshow"},
    )
    out.append(_normalise(recs))
    remix = await api.post(
        f"/v1/projects/{pid}/content/slideshow-remix",
        {
            "tiktokVideoId": recs.json["items"][0]["tiktokId"],
            "influencerId": inf.json["items"][0]["influencerId"],
        },
    )
    out.append(_normalise(remix))
    out.append((200, await api.advance(200)))
    out.append(_normalise(await api.get(f"/v1/jobs/{remix.json['jobId']}")))
    out.append(_normalise(await api.get(f"/v1/content/{remix.json['containerIds'][0]}")))
    out.append(_normalise(await api.get("/v1/projects/prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11")))
    out.append(_normalise(await api.post("/v1/projects", {"name": "A"})))
    out.append(_normalise(await api.get("/v1/credits")))
    return out


@pytest.mark.anyio
async def test_same_seed_same_responses(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """Two sandboxes with the same seed and requests return identical bodies (bar requestId)."""
    base = "http://sandbox.invalid:8787"
    async with make_sandbox(seed=0, public_base_url=base) as a:
        run_a = await _scripted_run(Api(session, a.url, a.api_key))
        key_a = a.api_key
    async with make_sandbox(seed=0, public_base_url=base) as b:
        run_b = await _scripted_run(Api(session, b.url, b.api_key))
        key_b = b.api_key
    assert key_a == key_b
    for i, (x, y) in enumerate(zip(run_a, run_b, strict=True)):
        assert x == y, (i, x, y)
    async with make_sandbox(seed=1) as c:
        api_c = Api(session, c.url, c.api_key)
        created = await create_project(api_c)
    assert created["id"] != run_a[1][1]["id"]


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.anyio
async def test_cli_serves_and_exits_cleanly_on_sigterm(session: aiohttp.ClientSession) -> None:
    """`python -m layers_async.sandbox` answers whoami once it is up and exits 0 on SIGTERM."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "layers_async.sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--speed",
        "60",
        "--seed",
        "0",
    ]
    with tempfile.TemporaryFile() as err:
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=err, cwd=os.getcwd()
        )
        try:
            whoami: Reply | None = None
            for _ in range(400):  # up to ~20 s of 50 ms tries: however loaded the machine is
                try:
                    keys = await Api(session, base, None).get("/_sandbox/keys")
                    key = next(k["key"] for k in keys.json["items"] if k["name"] == "demo-live")
                    whoami = await Api(session, base, key).get("/v1/whoami")
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            assert whoami is not None, "sandbox CLI never answered"
            assert whoami.status == 200
            assert whoami.json["organizationName"] == "Sandbox Partner"
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = await asyncio.wait_for(proc.wait(), timeout=10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                raise
        err.seek(0)
        assert rc == 0, err.read()[-2000:]
