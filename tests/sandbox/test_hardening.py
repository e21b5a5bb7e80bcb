"""Hostile or odd input gets the contract's answers, never a crash; timing edge cases hold."""

from __future__ import annotations

import asyncio
import base64
import json
import types
from typing import Any

import aiohttp
import pytest

from layers_async.sandbox import Sandbox, SandboxConfigError
from layers_async.sandbox import _app as sandbox_app
from tests.sandbox._http import Api, MakeSandbox

DESC = (
    "Daily ritual coffee subscriptions for runners and night-shift workers "
    "who never want to run out of fresh beans again."
)


async def _project(api: Api, **extra: Any) -> str:
    r = await api.post("/v1/projects", json={"name": "Hard Co", "timezone": "UTC", **extra})
    assert r.status == 201, r
    return str(r.json["id"])


@pytest.mark.anyio
async def test_deeply_nested_body_with_idempotency_key_is_422(api: Api) -> None:
    """A body nested 300 levels with an Idempotency-Key is a 422 envelope, not a plain 500."""
    body = '{"x":' + "[" * 300 + "]" * 300 + "}"
    r = await api.call(
        "POST",
        "/v1/projects",
        data=body,
        headers={"Content-Type": "application/json"},
        idem="deep-1",
    )
    assert r.status == 422
    assert r.code == "VALIDATION"
    assert r.headers["X-Request-Id"] == r.error["requestId"]


@pytest.mark.anyio
async def test_deeply_nested_metadata_is_422_on_metadata(api: Api) -> None:
    """Metadata too deep to serialise is refused at path `metadata`."""
    body = '{"name":"Acme","timezone":"UTC","metadata":{"x":' + "[" * 300 + "]" * 300 + "}}"
    r = await api.call(
        "POST", "/v1/projects", data=body, headers={"Content-Type": "application/json"}
    )
    assert r.status == 422
    assert r.issue_paths == ["metadata"]


@pytest.mark.anyio
@pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
async def test_body_over_the_server_read_limit_is_422_root(api: Api) -> None:
    """A 9 MiB body gets the contract's 422 at path "" with a request id, not aiohttp's 413."""
    r = await api.call("POST", "/v1/projects", data=b"x" * (9 * 1024 * 1024))
    assert r.status == 422
    assert r.issue_paths == [""]
    assert r.headers["X-Request-Id"].startswith("req_")


@pytest.mark.anyio
async def test_path_with_encoded_newline_reaches_the_pipeline(api: Api) -> None:
    """`/v1/projects/<id>%0A` is a malformed id (422 projectId), answered with an envelope."""
    pid = await _project(api)
    r = await api.get(f"/v1/projects/{pid}%0A")
    assert r.status == 422
    assert r.issue_paths == ["projectId"]


@pytest.mark.anyio
async def test_id_with_trailing_newline_in_body_is_malformed(api: Api) -> None:
    """An id followed by a newline in a body is not well formed (422), not a 404."""
    pid = await _project(api, appDescription=DESC)
    r = await api.post(
        f"/v1/projects/{pid}/content/slideshow-builder",
        json={"hook": "hi", "influencerId": "inf_5f0b8d2e-6a4c-4e1f-a3b5-c7d9e1f3a5b7\n"},
    )
    assert r.status == 422
    assert r.issue_paths == ["influencerId"]


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["+5", "5 ", "٥", "05x", "1e1"])
async def test_limit_must_be_plain_ascii_digits(api: Api, value: str) -> None:
    """`limit` accepts plain ASCII digits only."""
    r = await api.get("/v1/projects", params={"limit": value})
    assert r.status == 422
    assert r.issue_paths == ["limit"]


@pytest.mark.anyio
async def test_timestamp_with_non_ascii_digits_is_refused(api: Api) -> None:
    """`since` with Arabic-Indic digits is not a UTC Z timestamp."""
    pid = await _project(api)
    r = await api.get(f"/v1/projects/{pid}/content", params={"since": "٢٠٢٦-05-14T16:00:00Z"})
    assert r.status == 422
    assert r.issue_paths == ["since"]


@pytest.mark.anyio
async def test_cursor_with_wrong_sort_key_type_is_422(api: Api) -> None:
    """A cursor that decodes but holds a string sort key is undecodable for this list."""
    raw = base64.urlsafe_b64encode(json.dumps(["x", "prj_x"]).encode()).decode().rstrip("=")
    r = await api.get("/v1/projects", params={"cursor": raw})
    assert r.status == 422
    assert r.issue_paths == ["cursor"]


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["0x0a000005", "2130706433", "0177.0.0.1", "0xa9fea9fe"])
async def test_numeric_ip_shorthands_of_private_ranges_are_refused(api: Api, host: str) -> None:
    """Hex, integer and octal IPv4 forms of private addresses fail the URL rule."""
    pid = await _project(api)
    r = await api.post(
        f"/v1/projects/{pid}/app-media", json={"kind": "logo", "url": f"https://{host}/logo.png"}
    )
    assert r.status == 422
    assert r.issue_paths == ["url"]


@pytest.mark.anyio
async def test_non_ascii_size_override_is_ignored(api: Api) -> None:
    """`sandboxByteSize=²` is not a number: the deterministic size is used instead of crashing."""
    pid = await _project(api)
    r = await api.post(
        f"/v1/projects/{pid}/app-media",
        json={"kind": "logo", "url": "https://cdn.example.com/a.png?sandboxByteSize=%C2%B2"},
    )
    assert r.status == 201
    assert 10_000 <= r.json["byteSize"] <= 5 * 1024 * 1024 // 2


@pytest.mark.anyio
async def test_media_urls_in_client_data_are_not_served(api: Api, sandbox: Sandbox) -> None:
    """Only media the sandbox issued is served: a URL echoed from metadata stays 404."""
    url = f"{sandbox.url}/_sandbox/media/not-issued.png"
    await _project(api, metadata={"x": url})
    r = await api.get(url)
    assert r.status == 404


@pytest.mark.anyio
async def test_stage_progress_of_a_canceled_container_is_frozen(make_sandbox: MakeSandbox) -> None:
    """After an archive cancels a job, the container's stageProgress no longer moves."""
    async with make_sandbox(jitter=0) as sb, aiohttp.ClientSession() as s:
        api = Api(s, sb.url, sb.api_key)
        pid = await _project(api, appDescription=DESC)
        await sb.advance(61)
        inf = (await api.get(f"/v1/projects/{pid}/influencers")).json["items"][0]["influencerId"]
        job = (
            await api.post(
                f"/v1/projects/{pid}/content/slideshow-builder",
                json={"hook": "hi", "influencerId": inf},
            )
        ).json
        cid = job["containerIds"][0]
        await sb.advance(10)
        assert (await api.delete(f"/v1/projects/{pid}")).status == 200
        first = (await api.get(f"/v1/content/{cid}/progress")).json
        await sb.advance(30)
        later = (await api.get(f"/v1/content/{cid}/progress")).json
        assert first["status"] == later["status"] == "canceled"
        assert later["stageProgress"] == first["stageProgress"]
        assert later["etaSeconds"] is None


@pytest.mark.anyio
async def test_usage_is_charged_to_the_period_the_job_finished_in(
    make_sandbox: MakeSandbox,
) -> None:
    """A job that ends on May 31 is charged to May even when one advance crosses into June."""
    async with (
        make_sandbox(jitter=0, clock_start="2026-05-31T23:55:00.000Z") as sb,
        aiohttp.ClientSession() as s,
    ):
        api = Api(s, sb.url, sb.api_key)
        pid = await _project(api, appDescription=DESC)
        await sb.advance(61)
        inf = (await api.get(f"/v1/projects/{pid}/influencers")).json["items"][0]
        r = await api.post(
            f"/v1/projects/{pid}/content/slideshow-builder",
            json={"hook": "hi", "influencerId": inf["influencerId"]},
        )
        assert r.status == 202  # starts 23:56:01, ends 23:57:01 (60 s)
        await sb.advance(600)  # one jump past midnight
        wallet = (await api.get("/v1/credits")).json
        assert wallet["currentPeriod"]["start"] == "2026-06-01T00:00:00.000Z"
        assert wallet["usedThisPeriod"] == 0
        assert wallet["includedRemaining"] == 1000
        assert wallet["prepaidBalance"] == 5000
        assert wallet["balance"] == 6000


@pytest.mark.anyio
async def test_drop_after_commit_drops_pipeline_errors_too(make_sandbox: MakeSandbox) -> None:
    """A drop_after_commit rule closes the connection whatever the pipeline answered (here 401)."""
    faults = [{"route": "POST /v1/projects", "action": "drop_after_commit", "times": 1}]
    async with make_sandbox(faults=faults) as sb, aiohttp.ClientSession() as s:
        api = Api(s, sb.url, "lp_live_0123456789ABCDEF_" + "a" * 43)
        with pytest.raises(aiohttp.ClientError):
            await api.post("/v1/projects", json={"name": "Acme", "timezone": "UTC"})
        r = await api.post("/v1/projects", json={"name": "Acme", "timezone": "UTC"})
        assert r.status == 401  # the rule fired once and is now inert


@pytest.mark.anyio
async def test_reset_during_injected_latency_is_safe(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request sleeping in a latency fault while the sandbox resets lands in the new world.
    (The latency's sleep is spied on in the internal `sandbox._app`, so that the reset is sent
    once the request is surely asleep in it, not after a guessed delay.)"""
    asleep = asyncio.Event()
    release = asyncio.Event()
    real_sleep = asyncio.sleep

    async def latency(seconds: float) -> None:
        asleep.set()
        await release.wait()
        await real_sleep(0)

    fake = types.SimpleNamespace(**vars(asyncio))
    fake.sleep = latency
    monkeypatch.setattr(sandbox_app, "asyncio", fake)
    faults = [{"route": "POST /v1/projects", "action": "latency", "latencyMs": 300}]
    async with make_sandbox(faults=faults) as sb, aiohttp.ClientSession() as s:
        api = Api(s, sb.url, sb.api_key)
        pending = asyncio.create_task(
            api.post("/v1/projects", json={"name": "Late Co", "timezone": "UTC"})
        )
        await asyncio.wait_for(asleep.wait(), 10)
        await api.call("POST", "/_sandbox/reset", json={"faults": []})
        release.set()
        r = await pending
        assert r.status == 201
        got = await api.get(f"/v1/projects/{r.json['id']}")
        assert got.status == 200
        assert (await sb.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("speed", float("nan")),
        ("jitter", float("inf")),
        ("durations", {"influencer": float("nan")}),
    ],
)
async def test_non_finite_numbers_are_refused_in_configuration(option: str, value: Any) -> None:
    """NaN and infinity never reach the clock or the durations."""
    with pytest.raises(SandboxConfigError):
        Sandbox(**{option: value})


@pytest.mark.anyio
async def test_huge_advance_is_refused(api: Api) -> None:
    """Advancing more than ten years at once is a 422 on `seconds`, not a crash."""
    r = await api.call("POST", "/_sandbox/clock/advance", json={"seconds": 1e18})
    assert r.status == 422
    assert r.issue_paths == ["seconds"]


@pytest.mark.anyio
@pytest.mark.parametrize("credits", [2**64 - 1, 2**63 - 1, -(2**63), 2**53])
async def test_credit_adjustment_beyond_exact_json_integers_is_422(api: Api, credits: int) -> None:
    """An adjustment past 2**53 - 1 is a 422 on `credits`; the wallet still renders."""
    org = (await api.get("/v1/whoami")).json["organizationId"]
    r = await api.post("/_sandbox/credits", {"organizationId": org, "credits": credits})
    assert r.status == 422, r
    assert r.issue_paths == ["credits"]
    assert (await api.get("/v1/credits")).json["prepaidBalance"] == 5000


@pytest.mark.anyio
async def test_credit_adjustments_cannot_add_up_past_exact_json_integers(api: Api) -> None:
    """Adjustments that would together pass 2**53 - 1 are refused at the one that would."""
    org = (await api.get("/v1/whoami")).json["organizationId"]
    top = 2**53 - 1 - 5000
    assert (
        await api.post("/_sandbox/credits", {"organizationId": org, "credits": top})
    ).status == 200
    r = await api.post("/_sandbox/credits", {"organizationId": org, "credits": 1})
    assert r.status == 422, r
    assert r.issue_paths == ["credits"]
    assert (await api.get("/v1/credits")).json["prepaidBalance"] == 2**53 - 1


@pytest.mark.anyio
async def test_configured_balance_beyond_exact_json_integers_is_refused() -> None:
    """A configured prepaid balance past 2**53 - 1 is a SandboxConfigError."""
    orgs = [{"ref": "partner", "name": "Big", "prepaidBalance": 2**64}]
    with pytest.raises(SandboxConfigError, match="prepaidBalance"):
        Sandbox(organizations=orgs, api_keys=[{"name": "k", "organization": "partner"}])
