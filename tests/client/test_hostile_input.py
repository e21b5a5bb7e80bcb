"""Hostile input gets a typed `LayersValidationError` naming the field, and nothing is sent.

Two families: text that only looks valid because a pattern matched a prefix (a trailing
newline), and input that used to surface as a builtins error (`ValueError` from aiohttp,
`TypeError` from orjson, `OverflowError` from datetime) or was sent silently (NaN as `null`, a
NaN timeout). Encoding checks run with orjson and with the standard-library fallback alike.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from layers_async import (
    LayersClient,
    LayersValidationError,
    PollPolicy,
    RetryPolicy,
    Sandbox,
    ScheduleTarget,
    Timeouts,
    _serde,
)
from tests.client._ids import (
    GHOST_CNT,
    GHOST_INF,
    GHOST_JOB,
    GHOST_PRJ,
    GHOST_SA,
    GHOST_SP,
    GHOST_UUID,
    TIKTOK_ID,
)

ORG = "org_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
STATE = "st_01HXZ8K2M4P5QRS6TV7WXYZ9AB"
#: A call of the SDK; it may refuse at once (a view, a paginator) or when awaited.
Call = Callable[[LayersClient], object]
#: An aware time whose UTC form is below `datetime.min`, and one above `datetime.max`.
BELOW_MIN = datetime.min.replace(tzinfo=timezone(timedelta(hours=1)))
ABOVE_MAX = datetime.max.replace(tzinfo=timezone(timedelta(hours=-1)))
LONE = "\ud800"  # a lone surrogate: valid in a Python str, not encodable as UTF-8


def _create(**fields: Any) -> Call:
    """`projects.create` of "Acme" in UTC with `fields` added."""
    return lambda c: c.projects.create(name="Acme", timezone="UTC", **fields)


def _get(**per_call: Any) -> Call:
    """`projects.get` of a well-formed id with per-call keywords `per_call`."""
    return lambda c: c.projects.get(GHOST_PRJ, **per_call)


def _schedule(**target: Any) -> Call:
    """`content.schedule` of one TikTok target with `target`'s extra fields."""
    one = ScheduleTarget(social_account_id=GHOST_SA, mode="publish", **target)
    return lambda c: c.content.schedule(
        GHOST_CNT, scheduled_for=datetime(2030, 1, 1, tzinfo=timezone.utc), targets=[one]
    )


TRAILING_NEWLINE: list[tuple[str, Call, str]] = [
    ("project id", lambda c: c.projects.get(GHOST_PRJ + "\n"), "project_id"),
    ("bare uuid project id", lambda c: c.projects.get(GHOST_PRJ[4:] + "\n"), "project_id"),
    ("container id", lambda c: c.content.get(GHOST_CNT + "\n"), "container_id"),
    ("job id", lambda c: c.jobs.get(GHOST_JOB + "\n"), "job_id"),
    ("media id", lambda c: c.app_media.delete(GHOST_PRJ, f"med_{GHOST_UUID}\n"), "media_id"),
    ("influencer id", lambda c: c.influencers.get(GHOST_INF + "\n"), "influencer_id"),
    ("scheduled post id", lambda c: c.scheduled_posts.get(GHOST_SP + "\n"), "scheduled_post_id"),
    ("oauth state", lambda c: c.social.oauth_status(GHOST_PRJ, STATE + "\n"), "state"),
    (
        "tiktok video id",
        lambda c: c.content.video_remix(
            GHOST_PRJ, tiktok_video_id=TIKTOK_ID + "\n", influencer_id=GHOST_INF
        ),
        "tiktok_video_id",
    ),
    ("owner email", _create(owner_email="owner@example.com\n"), "owner_email"),
    ("primary language", _create(primary_language="en-US\n"), "primary_language"),
    ("idempotency key", _get(idempotency_key="key-1\n"), "idempotency_key"),
    ("organization view", lambda c: c.with_options(organization=ORG + "\n"), "organization"),
    ("for_organization", lambda c: c.for_organization(ORG + "\n"), "organization"),
    (
        "media url",
        lambda c: c.app_media.upload(GHOST_PRJ, kind="logo", url="https://cdn.example.com/a\n"),
        "url",
    ),
    (
        "oauth return url",
        lambda c: c.social.oauth_url(
            GHOST_PRJ, platform="tiktok", return_url="https://app.example.com/cb\n"
        ),
        "return_url",
    ),
]

BUILTINS_ERRORS: list[tuple[str, Call, str]] = [
    # headers
    ("CR LF in a header value", _get(extra_headers={"X-Trace": "a\r\nX-Evil: 1"}), "extra_headers"),
    ("LF in a header name", _get(extra_headers={"X-Trace\n": "a"}), "extra_headers"),
    ("space in a header name", _get(extra_headers={"X Trace": "a"}), "extra_headers"),
    ("non-ASCII header value", _get(extra_headers={"X-Trace": "caf\u00e9"}), "extra_headers"),
    ("lone surrogate in a header", _get(extra_headers={"X-Trace": LONE}), "extra_headers"),
    ("Host override", _get(extra_headers={"Host": "evil.example"}), "extra_headers"),
    ("Content-Length override", _get(extra_headers={"Content-Length": "0"}), "extra_headers"),
    (
        "malformed Idempotency-Key override",
        _create(extra_headers={"Idempotency-Key": "has space"}),
        "extra_headers",
    ),
    (
        "Idempotency-Key override with a newline",
        _create(extra_headers={"idempotency-key": "k\n"}),
        "extra_headers",
    ),
    (
        "Idempotency-Key both as idempotency_key= and in extra_headers",
        _create(idempotency_key="zzz", extra_headers={"idempotency-key": "abc"}),
        "extra_headers",
    ),
    (
        "CR LF in default headers",
        lambda c: c.with_options(default_headers={"X-Partner": "a\r\n"}),
        "default_headers",
    ),
    # text that UTF-8 cannot encode
    ("lone surrogate in a tagline", _create(tagline=f"Ac{LONE}me"), "tagline"),
    ("lone surrogate in a search", lambda c: c.projects.list(search=LONE), "search"),
    ("lone surrogate in a cursor", lambda c: c.projects.list(cursor=LONE), "cursor"),
    ("lone surrogate in a metadata value", _create(metadata={"k": LONE}), "metadata"),
    ("lone surrogate in a metadata key", _create(metadata={LONE: 1}), "metadata"),
    (
        "lone surrogate in tiktok post settings",
        _schedule(tiktok_post_settings={"title": [LONE]}),
        "targets[0].tiktok_post_settings",
    ),
    # numbers JSON cannot hold
    ("NaN in metadata", _create(metadata={"score": math.nan}), "metadata"),
    ("Infinity in metadata", _create(metadata={"score": math.inf}), "metadata"),
    ("-Infinity nested in metadata", _create(metadata={"a": [{"b": -math.inf}]}), "metadata"),
    ("integer past 64 bits in metadata", _create(metadata={"n": 2**64}), "metadata"),
    (
        "NaN in tiktok music",
        _schedule(tiktok_music={"volume": math.nan}),
        "targets[0].tiktok_music",
    ),
    # datetimes at the edge of the range
    (
        "aware since below datetime.min in UTC",
        lambda c: c.content.list(GHOST_PRJ, since=BELOW_MIN),
        "since",
    ),
    (
        "aware until above datetime.max in UTC",
        lambda c: c.scheduled_posts.list(GHOST_PRJ, until=ABOVE_MAX),
        "until",
    ),
    (
        "reschedule above datetime.max in UTC",
        lambda c: c.scheduled_posts.reschedule(GHOST_SP, scheduled_for=ABOVE_MAX),
        "scheduled_for",
    ),
    # timeouts
    ("NaN call timeout", _get(timeout=math.nan), "timeout"),
    ("infinite call timeout", _get(timeout=math.inf), "timeout"),
    ("call timeout past float range", _get(timeout=10**400), "timeout"),
    ("NaN view timeout", lambda c: c.with_options(timeout=math.nan), "timeout"),
]


async def _sent(sandbox: Sandbox) -> int:
    """Requests the sandbox has counted so far."""
    return int((await sandbox.state())["requests"]["total"])


async def _make(call: Call, client: LayersClient) -> None:
    """Make `call` and await what it returns when that is awaitable."""
    pending = call(client)
    if inspect.isawaitable(pending):
        await pending


async def _refused_here(sandbox: Sandbox, client: LayersClient, call: Call) -> str:
    """Make `call`, which must raise LayersValidationError without sending; the field named."""
    with pytest.raises(LayersValidationError) as info:
        await _make(call, client)
    assert await _sent(sandbox) == 0, "a request left the machine"
    assert isinstance(info.value, ValueError)
    return info.value.field


@pytest.fixture(params=["orjson", "json"])
def encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Encode request bodies with orjson, then with the standard-library fallback."""
    fallback = {"orjson": orjson.dumps, "json": _serde._json_encode}
    monkeypatch.setattr(_serde, "_encode", fallback[request.param])
    return str(request.param)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "call", "field"), TRAILING_NEWLINE, ids=[c[0] for c in TRAILING_NEWLINE]
)
async def test_trailing_newline_is_refused_before_sending(
    sandbox: Sandbox, client: LayersClient, name: str, call: Call, field: str
) -> None:
    """Patterns match the whole value: a trailing newline is refused, not sent or stripped."""
    assert await _refused_here(sandbox, client, call) == field, name


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "call", "field"), BUILTINS_ERRORS, ids=[c[0] for c in BUILTINS_ERRORS]
)
async def test_input_that_broke_builtins_is_a_validation_error(
    sandbox: Sandbox, client: LayersClient, encoder: str, name: str, call: Call, field: str
) -> None:
    """Headers, unencodable text, NaN, edge datetimes and NaN timeouts: typed, named, unsent."""
    assert await _refused_here(sandbox, client, call) == field, (name, encoder)


@pytest.mark.anyio
async def test_trailing_newline_in_client_organization_is_refused(sandbox: Sandbox) -> None:
    """`LayersClient(organization=...)` applies the same full-match rule as the views."""
    with pytest.raises(LayersValidationError) as info:
        LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, organization=ORG + "\n")
    assert info.value.field == "organization"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Timeouts(total=math.nan), "timeout.total"),
        (lambda: Timeouts(attempt=math.inf), "timeout.attempt"),
        (lambda: Timeouts(connect=-1.0), "timeout.connect"),
        (lambda: RetryPolicy(max_retry_after=math.nan), "max_retry_after"),
        (lambda: PollPolicy(initial=math.nan), "initial"),
        (lambda: PollPolicy().scaled(math.nan), "factor"),
    ],
    ids=[
        "Timeouts total NaN",
        "Timeouts attempt inf",
        "Timeouts connect -1",
        "retry NaN",
        "poll NaN",
        "scaled by NaN",
    ],
)
def test_config_values_refuse_nan(build: Callable[[], object], field: str) -> None:
    """NaN (and, for timeouts, infinity) in a config value is a LayersValidationError."""
    with pytest.raises(LayersValidationError) as info:
        build()
    assert info.value.field == field


@pytest.mark.anyio
async def test_nan_client_timeout_and_poll_rate_are_refused(sandbox: Sandbox) -> None:
    """`LayersClient(timeout=nan)` and `poll_rate=nan` are refused when the client is built."""
    for field in ("timeout", "poll_rate"):
        bad: dict[str, Any] = {field: math.nan}
        with pytest.raises(LayersValidationError) as info:
            LayersClient(api_key=sandbox.api_key, base_url=sandbox.url, **bad)
        assert info.value.field == field


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": math.nan}, "nan"),
        ({"a": [1, {"b": math.inf}]}, "inf"),
        ({"a": f"x{LONE}"}, "surrogate"),
        ({LONE: "x"}, "surrogate"),
        ({"a": 2**64}, "64 bits"),
        ({"a": -(2**63) - 1}, "64 bits"),
        ({1: "x"}, "keys"),
        ({"a": {1, 2}}, "plain JSON"),
        ({"a": datetime(2030, 1, 1, tzinfo=timezone.utc)}, "plain JSON"),
    ],
)
def test_encoding_refuses_what_json_cannot_hold_with_both_encoders(
    encoder: str, value: dict[Any, Any], where: str
) -> None:
    """`dumps` refuses NaN, lone surrogates, huge ints and non-JSON types under both encoders."""
    with pytest.raises(LayersValidationError) as info:
        _serde.dumps(value, "metadata")
    assert info.value.field == "metadata"
    assert where.split()[0].lower() in str(info.value).lower(), str(info.value)


def test_encoding_refuses_deep_nesting_identically(encoder: str) -> None:
    """Nesting deeper than MAX_DEPTH is refused by both encoders at the same depth."""
    deep: object = "leaf"
    for _ in range(_serde.MAX_DEPTH):
        deep = [deep]
    assert _serde.dumps(deep) == b"[" * _serde.MAX_DEPTH + b'"leaf"' + b"]" * _serde.MAX_DEPTH
    with pytest.raises(LayersValidationError, match="nest"):
        _serde.dumps([deep])


def test_both_encoders_send_the_same_bytes() -> None:
    """orjson and the fallback encode plain JSON to identical compact UTF-8."""
    value = {"a": "caf\u00e9 \U0001f600", "b": [1, -(2**63), 2**64 - 1, 2.5, None, True], "c": {}}
    assert orjson.dumps(value) == _serde._json_encode(value)


def test_datetimes_before_year_1000_are_sent_with_four_digit_years() -> None:
    """The wire form of year 1 is `0001-...`, a valid timestamp (strftime wrote `1-...`)."""
    early = datetime(1, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert _serde.format_datetime(early) == "0001-01-02T03:04:05.678Z"
