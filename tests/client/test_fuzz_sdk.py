"""Generated arguments fed to the SDK: every failure is a `LayersError`, never a builtins error.

Each example picks one of 15 SDK methods, gives it valid arguments (some optional ones and
per-call options among them) and replaces at most one by a hostile value: control characters,
lone surrogates, huge text, NaN, infinities, integers past 64 bits, edge and naive datetimes,
odd mappings, wrong types. About one example in five stays valid and reaches the sandbox. A
`LayersValidationError` must also leave the sandbox's request counter where it was.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers_async import (
    LayersClient,
    LayersError,
    LayersValidationError,
    Sandbox,
    ScheduleTarget,
    Timeouts,
    _serde,
)
from tests.client._ids import GHOST_CNT, GHOST_INF, GHOST_JOB, GHOST_PRJ, GHOST_SA, GHOST_SP

#: Examples per run: fixed, and drawn from a fixed seed, so CI sees the same calls every time.
EXAMPLES = 1000
ORG = "org_0b6f3d2e-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
Call = Callable[[LayersClient], object]

#: Characters that break things: controls, separators, a lone surrogate, non-ASCII, RTL.
_NASTY = st.sampled_from(["\n", "\r", "\x00", "\t", " ", "\ud800", "\udfff", "\u00e9", "\u202e"])
_CHARS = st.one_of(st.characters(), st.characters(categories=["Cs", "Cc", "Zs"]), _NASTY)
TEXT = st.one_of(
    st.text(_CHARS, max_size=40),
    st.builds(lambda s, tail: s + tail, st.sampled_from([GHOST_PRJ, "key", "UTC"]), _NASTY),
    st.builds(
        lambda s, n: s * n, st.sampled_from(["a", "\n", "\ud800", "\u00e9"]), st.integers(0, 70_000)
    ),
)
NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**63, 2**64, -(2**63) - 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
)
_OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439))
DATETIMES = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), _OFFSETS)),
    st.builds(
        lambda edge, tz: edge.replace(tzinfo=tz),
        st.sampled_from([datetime.min, datetime.max]),
        st.one_of(st.none(), _OFFSETS),
    ),
)
_LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(_CHARS, max_size=20))
JSONISH = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(_CHARS, max_size=10), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)
MAPPINGS = st.dictionaries(st.one_of(TEXT, st.integers()), st.one_of(TEXT, JSONISH), max_size=4)
#: Anything at all: what a hostile argument is drawn from.
HOSTILE = st.one_of(
    TEXT, NUMBERS, DATETIMES, MAPPINGS, JSONISH, st.lists(TEXT, max_size=3), st.binary(max_size=8)
)


#: What some arguments are corrupted with, besides HOSTILE (`("Timeouts", x)` means
#: `timeout=Timeouts(total=x)`, built when the call is made).
SPECIAL: dict[str, st.SearchStrategy[Any]] = {
    "timeout": st.one_of(NUMBERS, st.builds(lambda t: ("Timeouts", t), NUMBERS)),
    "extra_headers": st.dictionaries(
        st.sampled_from(["X-Trace", "Host", "Idempotency-Key", "Authorization", "x y", "X\n"]),
        TEXT,
        min_size=1,
        max_size=2,
    ),
    "since": DATETIMES,
    "until": DATETIMES,
    "scheduled_for": DATETIMES,
}
OK_WHEN = datetime(2030, 1, 1, tzinfo=timezone.utc)
#: A valid schedule target; `target.<field>` arguments corrupt one of its fields.
TARGET = {"social_account_id": GHOST_SA, "mode": "publish", "caption_override": "caption"}
TARGET_EXTRAS = {
    "tiktok_post_settings": {"privacy": "public"},
    "tiktok_music": {"id": 1},
    "share_reel_to_feed": True,
    "first_comment_override": "first",
}
#: Per-call options a call may take (valid values; each is corrupted like any argument).
PER_CALL = {"timeout": 5.0, "idempotency_key": "key-1", "extra_headers": {"X-Trace": "t"}}

#: Method → (required arguments, optional arguments), each with a valid value.
METHODS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "projects.create": (
        {"name": "Acme", "timezone": "UTC"},
        {
            "owner_email": "owner@example.com",
            "primary_language": "en-US",
            "brand_voice": "playful",
            "tagline": "Coffee, on time",
            "metadata": {"tier": "gold", "n": [1, 2.5, None]},
            "customer_external_id": "cust-1",
        },
    ),
    "projects.get": ({"project_id": GHOST_PRJ}, {}),
    "projects.list": ({}, {"status": "active", "search": "acme", "limit": 5, "cursor": "abc"}),
    "projects.update": ({"project_id": GHOST_PRJ}, {"name": "Acme 2", "tagline": None}),
    "app_media.upload": (
        {"project_id": GHOST_PRJ, "kind": "logo", "url": "https://cdn.example.com/logo.png"},
        {},
    ),
    "social.oauth_url": (
        {"project_id": GHOST_PRJ, "platform": "tiktok", "return_url": "https://a.example/cb"},
        {"scopes": ["video.upload"], "usage_note": "note"},
    ),
    "influencers.create": (
        {"project_id": GHOST_PRJ},
        {"gender": "female", "age_range": "25-34", "prompt": "calm"},
    ),
    "content.slideshow_remix": (
        {"project_id": GHOST_PRJ, "tiktok_video_id": "7301234567890123456"},
        {"influencer_id": GHOST_INF, "social_account_id": GHOST_SA},
    ),
    "content.list": (
        {"project_id": GHOST_PRJ},
        {"status": "completed", "since": OK_WHEN, "until": OK_WHEN, "limit": 10},
    ),
    "content.schedule": (
        {"container_id": GHOST_CNT, "scheduled_for": OK_WHEN},
        {f"target.{k}": v for k, v in {**TARGET, **TARGET_EXTRAS}.items()},
    ),
    "scheduled_posts.reschedule": ({"scheduled_post_id": GHOST_SP, "scheduled_for": OK_WHEN}, {}),
    "scheduled_posts.cancel": ({"scheduled_post_id": GHOST_SP}, {"reason": "changed plans"}),
    "jobs.get": ({"job_id": GHOST_JOB}, {}),
    "whoami": ({}, {}),
    "with_options": ({}, {"timeout": 30.0, "organization": ORG, "default_headers": {"X-P": "a"}}),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A method and its arguments: valid ones, some optional ones and per-call options, and at
    most one argument replaced by a hostile value."""
    name = draw(st.sampled_from(sorted(METHODS)), label="method")
    required, optional = METHODS[name]
    chosen = draw(st.sets(st.sampled_from(sorted(optional)), max_size=3)) if optional else set()
    extras = {} if name == "with_options" else PER_CALL
    picked = draw(st.sets(st.sampled_from(sorted(extras)), max_size=1)) if extras else set()
    kwargs = {**required, **{k: optional[k] for k in chosen}, **{k: extras[k] for k in picked}}
    victim = draw(st.sampled_from([None, *sorted(kwargs)]), label="hostile argument")
    if victim is not None:
        field = victim.removeprefix("target.")
        kwargs[victim] = draw(st.one_of(HOSTILE, SPECIAL.get(field, HOSTILE)), label=victim)
    return name, kwargs


def _bind(name: str, given: dict[str, Any]) -> Call:
    """The call of `name` with `given` arguments on a client (Timeouts and targets built here,
    so that their constructors are fuzzed too)."""
    kwargs = {k: v for k, v in given.items() if not k.startswith("target.")}
    if name == "content.schedule":
        fields = {**TARGET, **{k[7:]: v for k, v in given.items() if k.startswith("target.")}}
        kwargs["targets"] = [ScheduleTarget(**fields)]
    timeout = kwargs.get("timeout")
    if isinstance(timeout, tuple):
        kwargs["timeout"] = Timeouts(total=timeout[1])
    lead = [kwargs.pop(k) for k in _POSITIONAL if k in kwargs]

    def call(client: LayersClient) -> object:
        if name == "with_options":
            return client.with_options(**kwargs).whoami()
        target: Any = client
        for part in name.split("."):
            target = getattr(target, part)
        return target(*lead, **kwargs)

    return call


#: Arguments the SDK takes positionally.
_POSITIONAL = ("project_id", "container_id", "scheduled_post_id", "job_id")


async def _outcome(call: Call, client: LayersClient) -> BaseException | None:
    """Make `call` (awaiting what it returns); the exception it raised, if any."""
    try:
        pending = call(client)
        if inspect.isawaitable(pending):
            await pending
    except Exception as exc:
        return exc
    return None


async def _sent(sandbox: Sandbox) -> int:
    return int((await sandbox.state())["requests"]["total"])


@pytest.mark.anyio
@pytest.mark.timeout(120)
@pytest.mark.parametrize("encode", [orjson.dumps, _serde._json_encode], ids=["orjson", "json"])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(case=cases())
async def test_generated_arguments_fail_only_with_layers_errors(
    sandbox: Sandbox,
    client: LayersClient,
    monkeypatch: pytest.MonkeyPatch,
    encode: Callable[[object], bytes],
    case: tuple[str, dict[str, Any]],
) -> None:
    """Every failure of 15 SDK methods fed generated arguments is a LayersError; a validation
    error sends nothing. Run with orjson and with the standard-library encoder."""
    monkeypatch.setattr(_serde, "_encode", encode)
    name, given_kwargs = case
    before = await _sent(sandbox)
    try:
        call = _bind(name, given_kwargs)
    except LayersError:
        return  # Timeouts(...) refused its value (that check is fuzzed too)
    error = await _outcome(call, client)
    if error is None:
        return
    assert isinstance(error, LayersError), f"{name}: {type(error).__name__}: {error}"
    if isinstance(error, LayersValidationError):
        assert await _sent(sandbox) == before, f"{name} sent a request, then refused {error}"
