"""Contract tests for Idempotency-Key (§1.8): replay, conflicts, scope, what is stored, 24 h."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from layers_async.sandbox import Sandbox
from tests.sandbox._checks import (
    assert_error,
    assert_validation,
    create_project,
    new_uuid,
)
from tests.sandbox._http import Api, Reply

# --------------------------------------------------------------------------------------------
# idempotency (contract §1.8)
# --------------------------------------------------------------------------------------------

_BODY = {"name": "Acme Coffee", "timezone": "UTC", "metadata": {"a": 1, "b": [1, 2]}}


@pytest.mark.anyio
async def test_same_key_same_body_replays_byte_for_byte(api: Api) -> None:
    """Same key and body → same status and body, Idempotency-Replayed: true, fresh request id."""
    first = await api.post("/v1/projects", _BODY, idem="k-1")
    assert first.status == 201, first
    assert first.headers.get("Idempotency-Replayed") is None
    await api.advance(5)
    second = await api.post("/v1/projects", _BODY, idem="k-1")
    assert second.status == 201
    assert second.body == first.body
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert (
        int(second.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )
    assert (await api.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
async def test_replay_ignores_key_order_and_whitespace(api: Api) -> None:
    """Bodies are compared as parsed JSON: key order and whitespace do not matter."""
    first = await api.post("/v1/projects", _BODY, idem="k-order")
    raw = b'{ "metadata" : {"b":[1,2], "a":1},\n "timezone":"UTC",  "name" : "Acme Coffee" }'
    second = await api.post(
        "/v1/projects", data=raw, idem="k-order", headers={"Content-Type": "application/json"}
    )
    assert second.status == 201
    assert second.body == first.body
    assert second.headers["Idempotency-Replayed"] == "true"


@pytest.mark.anyio
async def test_same_key_different_body_is_409(api: Api) -> None:
    """Same key with a different body → 409 IDEMPOTENCY_CONFLICT, and nothing is created."""
    assert (await api.post("/v1/projects", _BODY, idem="k-2")).status == 201
    r = await api.post("/v1/projects", {**_BODY, "name": "Other Name"}, idem="k-2")
    assert_error(r, 409, "IDEMPOTENCY_CONFLICT")
    assert (await api.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
async def test_same_key_on_another_path_is_independent(api: Api) -> None:
    """The same key string on another path (or another project's path) is a different record."""
    p1 = await api.post("/v1/projects", _BODY, idem="shared")
    assert p1.status == 201
    p2 = await create_project(api)
    media = {"kind": "screenshot", "url": "https://cdn.example.com/a.png"}
    r1 = await api.post(f"/v1/projects/{p1.json['id']}/app-media", media, idem="shared")
    assert r1.status == 201, r1
    assert "Idempotency-Replayed" not in r1.headers
    r2 = await api.post(f"/v1/projects/{p2['id']}/app-media", media, idem="shared")
    assert r2.status == 201, r2
    assert "Idempotency-Replayed" not in r2.headers
    assert r2.json["id"] != r1.json["id"]


@pytest.mark.anyio
async def test_idempotency_records_are_per_api_key(api: Api, sandbox: Sandbox) -> None:
    """The same key string and body sent with another API key executes independently."""
    first = await api.post("/v1/projects", _BODY, idem="per-key")
    other = await api.with_key(sandbox.keys["demo-test"]).post(
        "/v1/projects", _BODY, idem="per-key"
    )
    assert other.status == 201, other
    assert "Idempotency-Replayed" not in other.headers
    assert other.json["id"] != first.json["id"]
    state = await api.state()
    assert state["counts"]["projects"] == {"total": 2, "byStatus": {"active": 2}}
    assert (await api.delete(f"/v1/projects/{first.json['id']}")).status == 200
    state = await api.state()
    assert state["counts"]["projects"]["byStatus"] == {"active": 1, "archived": 1}


@pytest.mark.anyio
async def test_idempotency_scope_normalises_path_ids(api: Api) -> None:
    """Bare, uppercase and prefixed forms of a path id share one idempotency record."""
    project = await create_project(api)
    bare = project["id"][4:]
    first = await api.patch(f"/v1/projects/{bare}", {"name": "Renamed"}, idem="norm")
    assert first.status == 200
    second = await api.patch(f"/v1/projects/prj_{bare.upper()}", {"name": "Renamed"}, idem="norm")
    assert second.status == 200
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.body == first.body


@pytest.mark.anyio
async def test_absent_body_equals_empty_object(api: Api) -> None:
    """For idempotency an absent body equals {}: DELETE without body then with {} replays."""
    project = await create_project(api)
    first = await api.delete(f"/v1/projects/{project['id']}", idem="del-1")
    assert first.status == 200
    await api.advance(3)
    second = await api.delete(f"/v1/projects/{project['id']}", json={}, idem="del-1")
    assert second.status == 200
    assert second.body == first.body
    assert second.headers["Idempotency-Replayed"] == "true"


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["has space", "x" * 256, "", "tab\there"])
async def test_bad_idempotency_key_is_422(api: Api, key: str) -> None:
    """A key that is not 1-255 visible ASCII characters is 422 with path Idempotency-Key."""
    r = await api.post("/v1/projects", _BODY, idem=key)
    assert_validation(r, "Idempotency-Key")
    assert (await api.state())["counts"]["projects"]["total"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "key", ["x" * 255, "!", "~{}[]<>|\\^`", "550e8400-e29b-41d4-a716-446655440000"]
)
async def test_valid_idempotency_key_forms(api: Api, key: str) -> None:
    """Any 1-255 visible ASCII characters form a valid Idempotency-Key."""
    r = await api.post("/v1/projects", _BODY, idem=key)
    assert r.status == 201, r


@pytest.mark.anyio
async def test_idempotency_key_ignored_on_get(api: Api) -> None:
    """The Idempotency-Key header is ignored on GET, even when malformed."""
    r = await api.get("/v1/projects", headers={"Idempotency-Key": "has space"})
    assert r.status == 200, r


@pytest.mark.anyio
async def test_concurrent_duplicates_execute_once(api: Api) -> None:
    """25 concurrent POSTs with one key create one project and return 25 identical bodies."""
    replies = await asyncio.gather(
        *(api.post("/v1/projects", _BODY, idem="burst") for _ in range(25))
    )
    assert [r.status for r in replies] == [201] * 25
    assert len({r.body for r in replies}) == 1
    replayed = [r for r in replies if r.headers.get("Idempotency-Replayed") == "true"]
    assert len(replayed) == 24
    assert (await api.state())["counts"]["projects"]["total"] == 1


async def _dropped_then_retried(api: Api, action: str, *, written: int) -> Reply:
    """Arm one `action` fault on project creation, see the connection drop, check that it left
    `written` projects, and send the same request again with the same Idempotency-Key."""
    await api.configure({"faults": [{"route": "POST /v1/projects", "action": action, "times": 1}]})
    with pytest.raises(aiohttp.ClientError):
        await api.post("/v1/projects", _BODY, idem=action)
    assert (await api.state())["counts"]["projects"]["total"] == written
    r = await api.post("/v1/projects", _BODY, idem=action)
    assert r.status == 201, r
    return r


@pytest.mark.anyio
async def test_drop_after_commit_then_retry_replays(api: Api) -> None:
    """drop_after_commit: the client sees a dropped connection; a retry replays the stored 201."""
    r = await _dropped_then_retried(api, "drop_after_commit", written=1)
    assert r.headers["Idempotency-Replayed"] == "true"
    listed = await api.get("/v1/projects")
    assert [p["id"] for p in listed.json["items"]] == [r.json["id"]]
    assert (await api.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
async def test_drop_before_commit_then_retry_executes(api: Api) -> None:
    """drop_before_commit: nothing is written; a retry with the same key executes normally."""
    r = await _dropped_then_retried(api, "drop_before_commit", written=0)
    assert "Idempotency-Replayed" not in r.headers
    assert (await api.state())["counts"]["projects"]["total"] == 1


async def _injected_error_is_not_stored(
    api: Api, action: str, status: int, code: str, key: str
) -> None:
    """One injected error under `key`; the retry with the same key executes (201, no replay)."""
    await api.configure({"faults": [{"route": "POST /v1/projects", "action": action, "times": 1}]})
    assert_error(await api.post("/v1/projects", _BODY, idem=key), status, code)
    r = await api.post("/v1/projects", _BODY, idem=key)
    assert r.status == 201, r
    assert "Idempotency-Replayed" not in r.headers


@pytest.mark.anyio
async def test_5xx_is_not_stored(api: Api) -> None:
    """An injected 500 is not stored: a retry with the same key executes (201, no replay)."""
    await _injected_error_is_not_stored(api, "http_500", 500, "INTERNAL_ERROR", "five")


@pytest.mark.anyio
async def test_422_is_not_stored(api: Api) -> None:
    """A 422 is not stored: a corrected body under the same key executes."""
    bad = await api.post("/v1/projects", {"name": "A", "timezone": "UTC"}, idem="fixme")
    assert_validation(bad, "name")
    again = await api.post("/v1/projects", {"name": "A", "timezone": "UTC"}, idem="fixme")
    assert_validation(again, "name")
    assert "Idempotency-Replayed" not in again.headers
    good = await api.post("/v1/projects", _BODY, idem="fixme")
    assert good.status == 201, good


@pytest.mark.anyio
async def test_429_is_not_stored(api: Api) -> None:
    """A 429 is not stored: the retry with the same key executes."""
    await _injected_error_is_not_stored(api, "http_429", 429, "RATE_LIMITED", "throttled")


@pytest.mark.anyio
async def test_409_conflict_and_404_are_stored(api: Api) -> None:
    """409 CONFLICT and 404 responses are stored and replayed."""
    body = {"name": "Acme", "timezone": "UTC", "customerExternalId": "acme"}
    assert (await api.post("/v1/projects", body, idem="c1")).status == 201
    first = await api.post("/v1/projects", body, idem="c2")
    assert_error(first, 409, "CONFLICT")
    second = await api.post("/v1/projects", body, idem="c2")
    assert second.status == 409
    assert second.body == first.body
    assert second.headers["Idempotency-Replayed"] == "true"
    missing = f"/v1/projects/prj_{new_uuid()}"
    a = await api.patch(missing, {"name": "Nope"}, idem="n1")
    assert_error(a, 404, "NOT_FOUND")
    b = await api.patch(missing, {"name": "Nope"}, idem="n1")
    assert b.status == 404
    assert b.body == a.body
    assert b.headers["Idempotency-Replayed"] == "true"


@pytest.mark.anyio
async def test_idempotency_window_is_24_hours(api: Api) -> None:
    """A key replays within 24 h of virtual time and executes anew after it."""
    first = await api.post("/v1/projects", _BODY, idem="window")
    assert first.status == 201
    await api.advance(86_400 - 120)
    inside = await api.post("/v1/projects", _BODY, idem="window")
    assert inside.headers.get("Idempotency-Replayed") == "true"
    assert inside.body == first.body
    await api.advance(240)
    after = await api.post("/v1/projects", _BODY, idem="window")
    assert after.status == 201
    assert "Idempotency-Replayed" not in after.headers
    assert after.json["id"] != first.json["id"]
    assert (await api.state())["counts"]["projects"]["total"] == 2
