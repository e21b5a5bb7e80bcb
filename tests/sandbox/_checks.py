"""Checks of the envelope conventions: the error and validation envelopes, rate-limit headers,
id formats, and the small builders and test factories the conventions, projects and
app-media tests share."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox._flows import (
    CNT_RE,
    INF_RE,
    JOB_RE,
    MED_RE,
    ORG_RE,
    PRJ_RE,
    REQ_RE,
    SA_RE,
    SP_RE,
    TS_RE,
    UUID4,
    standard_key,
    two_organizations,
)
from tests.sandbox._http import Api, Reply

# The id and timestamp formats, under the names these tests use.
CNT_ID = CNT_RE
INF_ID = INF_RE
JOB_ID = JOB_RE
MED_ID = MED_RE
ORG_ID = ORG_RE
PRJ_ID = PRJ_RE
REQ_ID = REQ_RE
SA_ID = SA_RE
SP_ID = SP_RE
TS = TS_RE
KEY_ID = re.compile(rf"^key_{UUID4}$")
API_KEY = re.compile(r"^lp_(live|test)_[0-9A-HJKMNP-TV-Z]{16}_[A-Za-z0-9_-]{43}$")

#: The clock every paused fixture sandbox starts at.
START = "2026-05-14T16:00:00.000Z"

#: A valid appDescription (100-1000 code points).
APP_DESCRIPTION = (
    "Daily ritual coffee subscriptions for runners and night-shift workers. Fresh beans "
    "roasted weekly, shipped on your schedule, paused any time from the app."
)
assert 100 <= len(APP_DESCRIPTION) <= 1000

#: A well-formed API key that no sandbox ever issues.
UNKNOWN_KEY = "lp_live_0123456789ABCDEF_" + "A" * 43

JSON_CT = "application/json; charset=utf-8"


async def burst(api: Api, n: int, path: str = "/v1/whoami") -> list[Reply]:
    """`n` concurrent GETs of `path`."""
    return list(await asyncio.gather(*(api.get(path) for _ in range(n))))


def new_uuid() -> str:
    """A fresh random lowercase uuid4 string."""
    return str(uuid.uuid4())


def assert_error(r: Reply, status: int, code: str) -> dict[str, Any]:
    """Assert an error envelope with the given status and code; return the `error` object."""
    assert r.status == status, r
    assert r.headers.get("Content-Type") == JSON_CT, r.headers.get("Content-Type")
    body = r.json
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, r
    assert isinstance(err["message"], str)
    assert err["message"]
    rid = r.headers.get("X-Request-Id")
    assert rid is not None
    assert REQ_ID.match(rid), rid
    assert err["requestId"] == rid
    assert set(err) <= {"code", "message", "requestId", "details"}, err
    return dict(err)


def assert_validation(r: Reply, *paths: str, exact: bool = True) -> list[dict[str, Any]]:
    """Assert a 422 VALIDATION listing issues at `paths` (exactly those when `exact`)."""
    err = assert_error(r, 422, "VALIDATION")
    issues = err["details"]["issues"]
    assert isinstance(issues, list)
    assert issues
    for issue in issues:
        assert isinstance(issue["path"], str)
        assert isinstance(issue["message"], str)
        assert issue["message"]
    got = [i["path"] for i in issues]
    if exact:
        assert sorted(set(got)) == sorted(set(paths)), got
    else:
        assert set(paths) <= set(got), got
    return list(issues)


def assert_rate_headers(r: Reply, endpoint_class: str, limit: int | None = None) -> None:
    """Assert the four rate-limit headers of an authenticated /v1 response."""
    h = r.headers
    assert h.get("X-RateLimit-Endpoint-Class") == endpoint_class, dict(h)
    assert h.get("X-RateLimit-Limit") is not None, dict(h)
    assert h.get("X-RateLimit-Remaining") is not None, dict(h)
    assert h.get("X-RateLimit-Reset") is not None, dict(h)
    if limit is not None:
        assert int(h["X-RateLimit-Limit"]) == limit
    assert int(h["X-RateLimit-Remaining"]) >= 0
    assert int(h["X-RateLimit-Reset"]) >= 0


def assert_only_class_header(r: Reply, endpoint_class: str) -> None:
    """Assert a pre-authentication /v1 response: only the endpoint-class header."""
    h = r.headers
    assert h.get("X-RateLimit-Endpoint-Class") == endpoint_class, dict(h)
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name not in h, dict(h)


async def create_project(api: Api, **fields: Any) -> dict[str, Any]:
    """POST /v1/projects with defaults for the required fields; assert 201; return the project."""
    body: dict[str, Any] = {"name": "Acme Coffee", "timezone": "UTC"}
    body.update(fields)
    r = await api.post("/v1/projects", body)
    assert r.status == 201, r
    project: dict[str, Any] = r.json
    return project


async def ready_influencer(api: Api, project_id: str) -> str:
    """Advance until the project's first influencer is ready; return its id."""
    await api.advance(90)
    r = await api.get(f"/v1/projects/{project_id}/influencers", params={"status": "ready"})
    assert r.status == 200, r
    assert r.json["items"], r
    return str(r.json["items"][0]["influencerId"])


async def connect_account(api: Api, project_id: str) -> str:
    """Run the sandbox OAuth flow for a TikTok account; return the socialAccountId."""
    r = await api.post(
        f"/v1/projects/{project_id}/social/oauth-url",
        {"platform": "tiktok", "returnUrl": "http://localhost:3000/cb"},
    )
    assert r.status == 200, r
    state = r.json["state"]
    auth = await api.with_key(None).get(r.json["authorizeUrl"])
    assert auth.status == 302, auth
    r = await api.get(f"/v1/projects/{project_id}/social/oauth-status", params={"state": state})
    assert r.status == 200, r
    assert r.json["status"] == "completed", r
    return str(r.json["socialAccountId"])


async def start_builder(api: Api, project_id: str, **extra: Any) -> dict[str, Any]:
    """Start a slideshow-builder job (no actor needed); assert 202; return the envelope."""
    body: dict[str, Any] = {"hook": "I kept running out of coffee\\nso I fixed it"}
    body.update(extra)
    r = await api.post(f"/v1/projects/{project_id}/content/slideshow-builder", body)
    assert r.status == 202, r
    env: dict[str, Any] = r.json
    return env


def two_org_config() -> dict[str, Any]:
    """Sandbox options with two top-level organizations, a full key in each and a read-only key."""
    local = {"returnUrlAllowlist": ["localhost"]}
    keys = [
        standard_key("full", "partner", ["*", "org:admin"], **local),
        standard_key("star", "partner", ["*"], **local),
        standard_key("ro", "partner", ["projects:read"], **local),
        standard_key("foreign", "other", ["*", "org:admin"], **local),
    ]
    return {"organizations": two_organizations(), "api_keys": keys}


Query = dict[str, str] | list[tuple[str, str]]


def _query_cases(specs: list[str | Query]) -> list[tuple[Query, str]]:
    """`(params, path)` cases: each `name=value` word of a string is one case with that single
    parameter; any other item is one case as it is. The issue path is the parameter's name."""
    cases: list[tuple[Query, str]] = []
    for spec in specs:
        if isinstance(spec, str):
            for word in spec.split():
                name, _, value = word.partition("=")
                cases.append(({name: value}, name))
        else:
            first = next(iter(spec.items())) if isinstance(spec, dict) else spec[0]
            cases.append((spec, first[0]))
    return cases


def query_validation_test(
    collection: str, specs: list[str | Query], doc: str
) -> Callable[..., Any]:
    """A test, parametrized over the bad queries of `specs` (see `_query_cases`), that listing
    a project's `collection` with each is a 422 at exactly that parameter; `doc` is its
    docstring."""

    @pytest.mark.anyio
    @pytest.mark.parametrize(("params", "path"), _query_cases(specs))
    async def test(api: Api, params: Query, path: str) -> None:
        p = await create_project(api)
        r = await api.get(f"/v1/projects/{p['id']}/{collection}", params=params)
        assert_validation(r, path)

    test.__doc__ = doc
    return test
