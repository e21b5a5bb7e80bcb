"""Fuzz: generated bodies on every POST and PATCH route never get a 5xx, always an envelope.

Hypothesis draws a route of the route table and a body: JSON objects keyed by the API's field
names or by any text, holding nested values of every JSON type (huge integers, extreme floats,
any unicode, lone surrogates), JSON that is not an object, truncated JSON and arbitrary bytes.
Path parameters name records that exist. The sandbox runs on an event loop in a thread of its
own, so the property is an ordinary synchronous hypothesis test that Hypothesis can shrink.
It starts from the internal `sandbox._config.DEFAULT_CONFIG` (no public name holds the whole
default configuration) so that a reset with it undoes whatever a fuzzed reset changed.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers_async.sandbox import Sandbox
from layers_async.sandbox._config import DEFAULT_CONFIG
from tests.sandbox._flows import (
    DESCRIPTION,
    SOURCE_TIKTOK_ID,
    completed_container,
    connect_account,
    setup_project,
    shift,
    upload_demo_video,
)
from tests.sandbox._http import Api, Reply
from tests.sandbox._routes import BODY_ROUTES, assert_answer, fill

T = TypeVar("T")

#: How many bodies the property sends at least (the acceptance asks for 2,000).
MIN_BODIES = 2_000
#: The sandbox's whole configuration: a partner-tier key (rate limits rarely bind) with a fixed
#: key string, and credits for any generation that validates. A reset with it undoes whatever a
#: fuzzed reset or configuration change did.
_KEY = "lp_live_0123456789ABCDEF_" + "a" * 43
CONFIG: dict[str, Any] = copy.deepcopy(DEFAULT_CONFIG) | {
    "seed": 11,
    "speed": 0,
    # deliveries go to the outbox: a fuzzed webhook URL is never fetched
    "webhookDelivery": "record",
    "clockStart": "2026-05-14T16:00:00.000Z",
    "jitter": 0,
    "organizations": [
        {"ref": "partner", "name": "Fuzz Co", "includedThisPeriod": 10**6, "prepaidBalance": 10**9}
    ],
    "apiKeys": [
        {
            "name": "demo-live",
            "organization": "partner",
            "key": _KEY,
            "rateLimitTier": "partner",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost", "127.0.0.1"],
        }
    ],
}
#: Field names of the API's request bodies (and of the sandbox's own), so that generated
#: objects reach the validation of real fields, not only "unknown field" answers.
FIELDS = (
    "name", "timezone", "appName", "appDescription", "brandVoice", "metadata", "customerExternalId",
    "ownerEmail", "primaryLanguage", "tagline", "kind", "url", "usageNote", "platform",
    "returnUrl", "influencerId", "tiktokVideoId", "hook", "hooks", "prompt", "format",
    "scheduledFor", "targets", "socialAccountId", "mode", "captionOverride",
    "firstCommentOverride", "tiktokPostSettings", "shareReelToFeed", "tiktokMusic", "reason",
    "gender", "ageRange", "targetGender", "language", "source", "creativeType", "data",
    "seconds", "speed", "organizationId", "credits", "durations", "failureRates", "jitter",
    "oauthAutoCompleteSeconds", "webhookDelivery", "webhookTimeoutSeconds", "seed", "clockStart",
    "billingEmail", "scopes", "env", "events", "description", "projectId", "scope",
    "monthlyCreditCap", "refillThreshold", "refillAmount",
)  # fmt: skip
#: Strings worth trying in any field: ids, timestamps, URLs, edge whitespace, a long one.
_STRINGS = (
    "", " ", "\n", "x" * 5000, "2026-05-14T16:00:00.000Z", "2026-05-14T16:00:00Z",
    "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "UTC", "Mars/Olympus", "warm",
    "https://cdn.example.com/a.mp4", "http://localhost:3000/cb", "tiktok", "instagram",
    "publish", "demo-video", "7301234567890123456", "prj_", "inf_not-a-uuid",
    "$projectId", "$influencerId", "$socialAccountId", "$containerId", "$scheduledPostId",
)  # fmt: skip
#: A valid body per route; the property changes, drops and adds fields of it, so that it also
#: reaches what a handler checks after the first field. `$name` stands for an existing id.
_ACTOR = {"influencerId": "$influencerId"}
VALID: dict[str, dict[str, Any]] = {
    "/v1/projects": {
        "name": "Fuzz Co", "timezone": "UTC", "appName": "Fuzz", "appDescription": DESCRIPTION,
        "brandVoice": "warm", "customerExternalId": "cust-1", "metadata": {"tier": 1},
    },
    "/v1/projects/{projectId}": {"name": "Renamed Co", "metadata": {"k": "v"}},
    "/v1/projects/{projectId}/app-media": {
        "kind": "demo-video", "url": "https://cdn.acmecoffee.com/marketing/x.mp4",
    },
    "/v1/projects/{projectId}/social/oauth-url": {
        "platform": "tiktok", "returnUrl": "http://localhost:3000/cb",
    },
    "/v1/projects/{projectId}/influencers": {"name": "Maya", "gender": "female"},
    "/v1/influencers/{influencerId}": {"name": "Maya Torres", "ageRange": "mature"},
    "/v1/projects/{projectId}/keywords/refresh": {},
    "/v1/projects/{projectId}/content/slideshow-remix": {
        "tiktokVideoId": SOURCE_TIKTOK_ID, **_ACTOR,
    },
    "/v1/projects/{projectId}/content/video-remix": {"tiktokVideoId": SOURCE_TIKTOK_ID, **_ACTOR},
    "/v1/projects/{projectId}/content/slideshow-builder": {"hook": "I kept running out"},
    "/v1/projects/{projectId}/content/ugc-remix": _ACTOR,
    "/v1/content/{containerId}/schedule": {
        "scheduledFor": "2027-06-01T00:00:00.000Z",
        "targets": [{"socialAccountId": "$socialAccountId", "mode": "publish"}],
    },
    "/v1/content/{containerId}/approve": {"note": "Looks good"},
    "/v1/content/{containerId}/reject": {"reason": "Off brand"},
    "/v1/content/{containerId}/publish": {
        "targets": [{"socialAccountId": "$socialAccountId", "mode": "publish"}],
    },
    "/v1/projects/{projectId}/content-review-policy": {"policy": "review_first_n", "firstN": 3},
    "/v1/jobs/{jobId}/cancel": {},
    "/v1/scheduled-posts/{scheduledPostId}/reschedule": {
        "scheduledFor": "2027-07-01T00:00:00.000Z",
    },
    "/v1/organizations": {"name": "Child Co", "metadata": {"externalId": "c-1"}},
    "/v1/organizations/{orgId}": {"name": "Renamed Child", "billingEmail": "ops@child.example"},
    "/v1/organizations/{orgId}/suspend": {},
    "/v1/organizations/{orgId}/resume": {},
    "/v1/organizations/{orgId}/api-keys": {"name": "k", "scopes": ["content:read"], "env": "test"},
    "/v1/organizations/{orgId}/api-keys/{keyId}/rotate": {},
    "/v1/organizations/{orgId}/credits/allocate": {"credits": 10, "description": "top-up"},
    "/v1/organizations/{orgId}/credit-config": {
        "monthlyCreditCap": 100, "refillThreshold": 10, "refillAmount": 20,
    },
    "/v1/api-keys/{keyId}/kill": {},
    "/v1/api-keys/{keyId}/rotate": {},
    "/v1/webhook-endpoints": {
        "url": "https://hooks.example.com/layers", "events": ["job.completed"],
        "projectId": "$projectId",
    },
    "/v1/webhook-endpoints/{endpointId}": {
        "url": "https://hooks.example.com/v2", "status": "active",
    },
    "/v1/webhook-endpoints/{endpointId}/rotate-secret": {},
    "/v1/webhook-endpoints/{endpointId}/test": {"payload": {"hello": "world"}},
    "/v1/webhook-deliveries/{deliveryId}/replay": {},
    "/_sandbox/clock": {"speed": 0},
    "/_sandbox/clock/advance": {"seconds": 1},
    "/_sandbox/config": {"jitter": 0},
    "/_sandbox/reset": {"seed": 11},
    "/_sandbox/credits": {"organizationId": "$organizationId", "credits": 10},
}  # fmt: skip


class _Live:
    """A sandbox, an HTTP session and the ids of existing records, on a loop in its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sandbox = Sandbox(CONFIG)
        self.session: aiohttp.ClientSession | None = None
        self.ids: dict[str, str] = {}
        self.sent: Counter[tuple[str, str]] = Counter()

    def run(self, coro: Awaitable[T]) -> T:
        """Run `coro` on the sandbox's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(_await(coro), self.loop).result(timeout=60)

    @property
    def api(self) -> Api:
        """A raw HTTP helper with the configured key."""
        assert self.session is not None
        return Api(self.session, self.sandbox.url, _KEY)

    async def start(self) -> None:
        """Start the sandbox and the session; create the records."""
        await self.sandbox.start()
        self.session = aiohttp.ClientSession()
        await self.seed_records()

    async def seed_records(self) -> None:
        """A project with a ready influencer, media, a connected account, a completed container,
        a job, a far-off scheduled post and a child organization with a key: every path
        parameter of a write names a record."""
        api = self.api
        pid, inf = await setup_project(api)
        med = await upload_demo_video(api, pid)
        sa = await connect_account(api, pid)
        cnt = await completed_container(api, pid)
        r = await api.post(f"/v1/projects/{pid}/keywords/refresh", {})
        assert r.status == 202, r
        when = shift(await api.now(), 400 * 86_400)
        r = await api.post(
            f"/v1/content/{cnt}/schedule",
            {"scheduledFor": when, "targets": [{"socialAccountId": sa, "mode": "publish"}]},
        )
        assert r.status == 201, r
        child = await api.post("/v1/organizations", {"name": "Fuzz Child"})
        assert child.status == 201, child
        org = str(child.json["id"])
        key = await api.post(f"/v1/organizations/{org}/api-keys", {"name": "k", "scopes": ["*"]})
        assert key.status == 201, key
        hook = {"url": "https://hooks.example.com/layers", "events": ["job.completed"]}
        wh = (await api.post("/v1/webhook-endpoints", hook)).json["endpoint"]["id"]
        ping = (await api.post(f"/v1/webhook-endpoints/{wh}/test", {})).json
        self.ids = {
            "projectId": pid,
            "influencerId": inf,
            "mediaId": med,
            "socialAccountId": sa,
            "containerId": cnt,
            "jobId": str((await api.get(f"/v1/content/{cnt}")).json["jobId"]),
            "scheduledPostId": str(r.json["scheduledPostIds"][0]),
            "organizationId": str((await api.get("/v1/whoami")).json["organizationId"]),
            "orgId": org,
            # a key of the child: the own-key routes answer 404, and never stop the fuzz key
            "keyId": str(key.json["apiKey"]["id"]),
            "endpointId": str(wh),
            "deliveryId": str(ping["deliveryId"]),
        }

    def encode(self, body: bytes | tuple[Any, bool]) -> bytes:
        """Raw bytes as they are; a JSON value with each `$name` string replaced by that id."""
        if isinstance(body, bytes):
            return body
        value, ascii_only = body
        return _encode(_with_ids(value, self.ids), ascii_only)

    async def send(self, method: str, template: str, body: bytes | tuple[Any, bool]) -> Reply:
        """Send one fuzzed body; restore the configuration and records after a 2xx reset or
        config change, and let a virtual minute pass now and then (rate limits reset)."""
        api = self.api
        self.sent[(method, template)] += 1
        headers = {"Content-Type": "application/json"}
        if template.endswith("/credits/allocate"):  # refused without one: fuzz past that
            headers["Idempotency-Key"] = f"fuzz-{sum(self.sent.values())}"
        r = await api.call(
            method, fill(method, template, self.ids), data=self.encode(body), headers=headers
        )
        if r.status < 300 and template in ("/_sandbox/reset", "/_sandbox/config"):
            restored = await api.post("/_sandbox/reset", CONFIG)
            assert restored.status == 200, restored
            await self.seed_records()
        elif sum(self.sent.values()) % 200 == 0:
            await api.advance(61)
        return r

    async def stop(self) -> None:
        """Close the session and the sandbox."""
        if self.session is not None:
            await self.session.close()
        await self.sandbox.aclose()


async def _await(coro: Awaitable[T]) -> T:
    return await coro


@pytest.fixture(scope="module")
def live() -> Iterator[_Live]:
    """The fuzzed sandbox, started once for the property's thousands of examples."""
    live = _Live()
    try:
        live.run(live.start())
        yield live
    finally:
        live.run(live.stop())
        live.loop.call_soon_threadsafe(live.loop.stop)
        live.thread.join(timeout=10)
        live.loop.close()


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 2**64, 0, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e308, -1e308, 1e300, 1e16, 5e-324, 1e6 + 1, 315_360_001, 2**53])
    | st.text(alphabet=st.characters(exclude_categories=()), max_size=20)
    | st.sampled_from(_STRINGS)
)
_keys = st.sampled_from(FIELDS) | st.text(max_size=12)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=10,
)
_objects = st.dictionaries(_keys, _json, max_size=6)


def _with_ids(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return ids.get(value[1:], value)
    if isinstance(value, list):
        return [_with_ids(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _with_ids(v, ids) for k, v in value.items()}
    return value


def _encode(value: Any, ascii_only: bool) -> bytes:
    """JSON bytes of `value`; lone surrogates become `\\udxxx` escapes or invalid UTF-8."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


_bodies = st.one_of(
    st.builds(_encode, _objects, st.booleans()),
    st.builds(_encode, _objects, st.booleans()),
    st.builds(_encode, _json, st.booleans()),
    st.builds(lambda b, n: b[: max(1, len(b) - n)], st.builds(_encode, _objects, st.just(True)),
              st.integers(min_value=1, max_value=8)),
    st.binary(max_size=64),
    st.sampled_from([b"", b"   ", b"1e400", b"[" * 2000 + b"]" * 2000, b'{"a":NaN}', b"\xff"]),
)  # fmt: skip


def _mutated(template: str) -> st.SearchStrategy[tuple[Any, bool]]:
    """The route's valid body with one field changed, or some dropped, changed or added."""
    base = VALID[template]
    names = st.sampled_from(sorted(base) or ["name"])
    values = _scalars | _json
    one_field = st.builds(lambda k, v: {**base, k: v}, names, values)
    several = st.builds(
        lambda drop, changes: {**{k: v for k, v in base.items() if k not in drop}, **changes},
        st.sets(names, max_size=2),
        st.dictionaries(names | _keys, values, max_size=2),
    )
    return st.tuples(st.one_of(one_field, one_field, several), st.booleans())


def _cases(route: tuple[str, str]) -> st.SearchStrategy[tuple[tuple[str, str], Any]]:
    body = st.one_of(_bodies, _mutated(route[1]), _mutated(route[1]))
    return st.tuples(st.just(route), body)


@pytest.mark.timeout(300)
def test_fuzzed_bodies_never_get_a_5xx_and_always_the_envelope(live: _Live) -> None:
    """At least 2,000 generated bodies across every POST/PATCH route: no 5xx, envelope on errors."""

    @settings(
        max_examples=MIN_BODIES + 200,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=st.sampled_from(BODY_ROUTES).flatmap(_cases))
    def one_body(case: tuple[tuple[str, str], Any]) -> None:
        (method, template), body = case
        assert_answer(live.run(live.send(method, template, body)))

    one_body()
    assert sum(live.sent.values()) >= MIN_BODIES
    assert set(live.sent) == set(BODY_ROUTES)
    assert min(live.sent.values()) >= 30, live.sent
