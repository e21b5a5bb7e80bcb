"""Sandbox configuration (contract §5.2): defaults, validation and merging.

Organizations and keys may be provisioned up front, children included, so that a test starts
from a tree of organizations. An entry of ``organizations`` with a ``parent`` (the ``ref`` of a
top-level organization; nesting is one level deep) is a child of it::

    "organizations": [
        {"ref": "partner", "name": "Agency", "includedThisPeriod": 1000, "prepaidBalance": 5000},
        {"ref": "acme", "parent": "partner", "name": "Acme Coffee",
         "metadata": {"externalId": "acme-coffee"}, "billingEmail": null,
         "status": "active",                      # or "suspended"
         "prepaidBalance": 500,                   # granted to the child (a grant event)
         "monthlyCreditCap": null, "refillThreshold": null, "refillAmount": null},
    ],
    "apiKeys": [
        {"name": "acme-key", "organization": "acme", "env": "live",
         "rateLimitTier": "standard", "scopes": ["content:read", "content:write"]},
    ]

A child's ``subscriptionTier`` defaults to its parent's and its ``includedThisPeriod`` to 0;
``refillThreshold`` and ``refillAmount`` are set together or not at all. A key of a child
never holds ``org:admin``. Top-level organizations are created first, then children, each
group in list order, so ids generated from the seed do not depend on where a child is listed.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ._clock import (
    CLOCK_MAX_MS,
    CLOCK_MIN_MS,
    MAX_SPEED,
    MAX_STEP_SECONDS,
    MIN_SPEED,
    parse_config_ts,
)
from ._errors import Issues
from ._ids import KEY_RE

__all__ = [
    "ACTIONS",
    "DAILY_WRITES_INDEX",
    "DEFAULT_CONFIG",
    "DURATION_KEYS",
    "FAILURE_KINDS",
    "MAX_CREDITS",
    "PATCHABLE",
    "PER_MINUTE_INDEX",
    "RUNNING_JOBS_INDEX",
    "SNAKE_TO_CAMEL",
    "SPEED_RULE",
    "TIERS",
    "known_scope",
    "normalize_config",
    "valid_speed",
]

DURATION_KEYS = {
    "influencer": 60,
    "keywords": 270,
    "slideshowRemix": 120,
    "slideshowBuilder": 60,
    "videoRemix": 240,
    "ugcRemix": 180,
    "publish": 10,
    "oauthTtl": 600,
}
FAILURE_KINDS = ("influencer_create", "keywords_refresh", "content_generate", "publish", "oauth")
ACTIONS = (
    "http_500",
    "http_502",
    "http_503",
    "http_429",
    "drop_before_commit",
    "drop_after_commit",
    "latency",
)
#: Per tier: read-light/min, write-light/min, long-running/min, write-light/day, running jobs.
TIERS: dict[str, tuple[int, int, int, int, int]] = {  # positions named below
    "standard": (120, 60, 20, 10_000, 10),
    "pilot": (1_200, 600, 60, 100_000, 50),
    "partner": (6_000, 3_000, 300, 500_000, 200),
    "sandbox": (120, 60, 20, 10_000, 10),
}
#: Where a `TIERS` tuple holds each endpoint class's per-minute limit, the daily write cap
#: and the running-jobs cap.
PER_MINUTE_INDEX = {"read-light": 0, "write-light": 1, "long-running": 2}
DAILY_WRITES_INDEX = 3
RUNNING_JOBS_INDEX = 4
KNOWN_SCOPES = frozenset(
    {
        "projects:read",
        "projects:write",
        "social:read",
        "social:write",
        "influencers:write",
        "content:read",
        "content:write",
        "jobs:read",
        "jobs:cancel",
        "publish:read",
        "publish:write",
        "org:admin",
        "*",
        "ingest:write",
        "leased:write",
        "metrics:read",
        "ads:read",
        "content:approve",
        "github:admin",
        "layer:write",
    }
)
_ADS_WRITE = re.compile(r"^ads:write:[a-z_]+\Z")


def known_scope(scope: str) -> bool:
    """A scope string the API knows (contract §1.3), `*` and `ads:write:<name>` included."""
    return scope in KNOWN_SCOPES or _ADS_WRITE.match(scope) is not None


DEFAULT_CONFIG: dict[str, Any] = {
    "seed": 0,
    "speed": 60,
    "clockStart": None,
    "jitter": 0.2,
    "publicBaseUrl": None,
    "organizations": [
        {
            "ref": "partner",
            "name": "Sandbox Partner",
            "includedThisPeriod": 1000,
            "prepaidBalance": 5000,
            "subscriptionTier": "pro",
        }
    ],
    # The partner's two keys, demo-live and demo-test: every scope, localhost return URLs.
    "apiKeys": [
        {
            "name": f"demo-{env}",
            "organization": "partner",
            "env": env,
            "rateLimitTier": "standard",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost", "127.0.0.1"],
        }
        for env in ("live", "test")
    ],
    "durations": dict(DURATION_KEYS),
    "failureRates": dict.fromkeys(FAILURE_KINDS, 0.0),
    "oauthAutoCompleteSeconds": None,
    "webhookDelivery": "http",
    "webhookTimeoutSeconds": 10,
    "faults": [],
    # Webhook faults for tests: the share of delivery attempts lost after they "succeeded"
    # (dropped) and the share that fail as unreachable (failed), drawn from their own stream.
    "webhookDropRate": 0.0,
    "webhookFailRate": 0.0,
}
#: Keys `PATCH /_sandbox/config` may change.
PATCHABLE = frozenset(
    {
        "failureRates",
        "faults",
        "oauthAutoCompleteSeconds",
        "webhookDelivery",
        "webhookTimeoutSeconds",
        "webhookDropRate",
        "webhookFailRate",
        "durations",
        "jitter",
        "speed",
    }
)
SNAKE_TO_CAMEL = {
    "seed": "seed",
    "speed": "speed",
    "clock_start": "clockStart",
    "jitter": "jitter",
    "public_base_url": "publicBaseUrl",
    "organizations": "organizations",
    "api_keys": "apiKeys",
    "durations": "durations",
    "failure_rates": "failureRates",
    "oauth_auto_complete_seconds": "oauthAutoCompleteSeconds",
    "webhook_delivery": "webhookDelivery",
    "webhook_timeout_seconds": "webhookTimeoutSeconds",
    "faults": "faults",
    "webhook_drop_rate": "webhookDropRate",
    "webhook_fail_rate": "webhookFailRate",
}


#: The most credits a balance holds: the largest integer every JSON reader keeps exact (2**53 - 1).
MAX_CREDITS = 9_007_199_254_740_991
#: The rule a clock speed follows: 0 pauses the clock, else from `MIN_SPEED` to `MAX_SPEED`.
SPEED_RULE = f"Must be 0 (paused) or a number from {MIN_SPEED} to {MAX_SPEED}."
_CLOCK_START_RULE = (
    "Must be a UTC timestamp ending in Z, from 1970-01-01T00:00:00Z to 9900-01-01T00:00:00Z,"
    " or null."
)
#: The rule of a simulated duration: at most ten years, the longest step the clock takes.
_SPAN_RULE = f"Must be a number from 0 to {MAX_STEP_SECONDS} (ten years)."


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _span(v: float) -> bool:
    return 0 <= v <= MAX_STEP_SECONDS


def valid_speed(v: Any) -> bool:
    """Whether `v` is a clock speed the virtual clock can run at (`SPEED_RULE`)."""
    return _num(v) and (v == 0 or MIN_SPEED <= v <= MAX_SPEED)


def _valid_clock_start(v: Any) -> bool:
    """Null (real time at start-up), or a timestamp within the virtual clock's range."""
    if v is None:
        return True
    ms = parse_config_ts(v) if isinstance(v, str) else None
    return ms is not None and CLOCK_MIN_MS <= ms <= CLOCK_MAX_MS


def _check_numbers(
    issues: Issues,
    cfg: Mapping[str, Any],
    name: str,
    known: Collection[str],
    unknown: str,
    valid: Callable[[float], bool],
    invalid: str,
) -> None:
    """`cfg[name]` is an object of known keys, each a number that `valid` accepts."""
    values = cfg[name]
    if not isinstance(values, Mapping):
        issues.add(name, "Must be an object.")
        return
    for k, v in values.items():
        if k not in known:
            issues.add(f"{name}.{k}", unknown)
        elif not _num(v) or not valid(v):
            issues.add(f"{name}.{k}", invalid)


def _check_faults(faults: Any, issues: Issues) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(faults, list):
        issues.add("faults", "Must be an array of rules.")
        return out
    allowed = {"id", "route", "action", "probability", "times", "retryAfter", "latencyMs"}
    for i, rule in enumerate(faults):
        p = f"faults.{i}"
        if not isinstance(rule, Mapping):
            issues.add(p, "Must be an object.")
            continue
        for k in rule:
            if k not in allowed:
                issues.add(f"{p}.{k}", "Unknown field.")
        route = rule.get("route", "*")
        if not isinstance(route, str) or (route != "*" and len(route.split(" ", 1)) != 2):
            issues.add(f"{p}.route", 'Must be "*" or "<METHOD> <path template>".')
        action = rule.get("action")
        if action not in ACTIONS:
            issues.add(f"{p}.action", "Must be one of " + ", ".join(ACTIONS) + ".")
        prob = rule.get("probability", 1)
        if not _num(prob) or not 0 <= prob <= 1:
            issues.add(f"{p}.probability", "Must be a number from 0 to 1.")
        times = rule.get("times")
        if times is not None and (
            not isinstance(times, int) or isinstance(times, bool) or times < 0
        ):
            issues.add(f"{p}.times", "Must be a non-negative integer or null.")
        ra = rule.get("retryAfter", 1)
        if not isinstance(ra, int) or isinstance(ra, bool) or ra < 1:
            issues.add(f"{p}.retryAfter", "Must be a positive integer.")
        lat = rule.get("latencyMs", 0)
        if not isinstance(lat, int) or isinstance(lat, bool) or lat < 0:
            issues.add(f"{p}.latencyMs", "Must be a non-negative integer.")
        out.append(
            {
                "id": rule.get("id"),
                "route": route,
                "action": action,
                "probability": prob,
                "times": times,
                "retryAfter": ra,
                "latencyMs": lat,
            }
        )
    return out


def _check_webhook_faults(cfg: Mapping[str, Any], issues: Issues) -> None:
    """`webhookDropRate` and `webhookFailRate` are shares from 0 to 1 that add up to at most 1
    (one draw per attempt decides: dropped, failed or sent)."""
    rates = ("webhookDropRate", "webhookFailRate")
    bad = False
    for name in rates:
        if not _num(cfg[name]) or not 0 <= cfg[name] <= 1:
            issues.add(name, "Must be a number from 0 to 1.")
            bad = True
    if not bad and cfg[rates[0]] + cfg[rates[1]] > 1:
        issues.add(rates[1], "webhookDropRate and webhookFailRate add up to at most 1.")


def _int_or_none(v: Any, least: int) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= least)


def _check_children(orgs: list[Any], issues: Issues) -> set[str]:
    """Child organizations (those with a `parent` ref); returns their refs.

    A parent is a top-level organization of the list (nesting is one level deep); a child may
    set `status` (active or suspended), `metadata`, `billingEmail` and its credit config.
    """
    objs = [(i, o) for i, o in enumerate(orgs) if isinstance(o, Mapping)]
    tops = {o.get("ref") for _, o in objs if o.get("parent") is None}
    children: set[str] = set()
    for i, o in objs:
        p = f"organizations.{i}"
        if o.get("parent") is None:
            continue
        children.add(o.get("ref"))  # type: ignore[arg-type]
        if o["parent"] not in tops:
            issues.add(f"{p}.parent", "Must name a top-level organization ref.")
        if o.get("status", "active") not in ("active", "suspended"):
            issues.add(f"{p}.status", "Must be active or suspended.")
        meta = o.get("metadata", {})
        if not isinstance(meta, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
        ):
            issues.add(f"{p}.metadata", "Must map strings to strings.")
        email = o.get("billingEmail")
        if email is not None and not isinstance(email, str):
            issues.add(f"{p}.billingEmail", "Must be a string or null.")
        for f, least in (("monthlyCreditCap", 0), ("refillThreshold", 0), ("refillAmount", 1)):
            if not _int_or_none(o.get(f), least):
                issues.add(f"{p}.{f}", f"Must be an integer of at least {least}, or null.")
        if (o.get("refillThreshold") is None) != (o.get("refillAmount") is None):
            issues.add(f"{p}.refillAmount", "Set refillThreshold and refillAmount together.")
    return children


def normalize_config(
    raw: Mapping[str, Any], base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge `raw` over `base` (or the defaults) and validate; raises ApiError 422 on problems."""
    cfg = copy.deepcopy(dict(base if base is not None else DEFAULT_CONFIG))
    issues = Issues()
    for key, value in raw.items():
        if key not in DEFAULT_CONFIG:
            issues.add(key, "Unknown configuration key.")
            continue
        if key in ("durations", "failureRates") and isinstance(value, Mapping):
            merged = dict(cfg[key])
            merged.update(value)
            cfg[key] = merged
        else:
            cfg[key] = copy.deepcopy(value)
    if not isinstance(cfg["seed"], int) or isinstance(cfg["seed"], bool):
        issues.add("seed", "Must be an integer.")
    if not valid_speed(cfg["speed"]):
        issues.add("speed", SPEED_RULE)
    if not _valid_clock_start(cfg["clockStart"]):
        issues.add("clockStart", _CLOCK_START_RULE)
    if not _num(cfg["jitter"]) or not 0 <= cfg["jitter"] <= 1:
        issues.add("jitter", "Must be a number from 0 to 1.")
    pbu = cfg["publicBaseUrl"]
    if pbu is not None and (
        not isinstance(pbu, str) or not pbu.startswith(("http://", "https://"))
    ):
        issues.add("publicBaseUrl", "Must be an http(s) URL or null.")
    _check_numbers(
        issues,
        cfg,
        "durations",
        DURATION_KEYS,
        "Unknown duration.",
        _span,
        _SPAN_RULE,
    )
    _check_numbers(
        issues,
        cfg,
        "failureRates",
        FAILURE_KINDS,
        "Unknown kind.",
        lambda v: 0 <= v <= 1,
        "Must be a number from 0 to 1.",
    )
    oac = cfg["oauthAutoCompleteSeconds"]
    if oac is not None and (not _num(oac) or not _span(oac)):
        issues.add("oauthAutoCompleteSeconds", _SPAN_RULE[:-1] + ", or null.")
    if cfg["webhookDelivery"] not in ("http", "record"):
        issues.add("webhookDelivery", "Must be http or record.")
    if not _num(cfg["webhookTimeoutSeconds"]) or cfg["webhookTimeoutSeconds"] <= 0:
        issues.add("webhookTimeoutSeconds", "Must be a positive number.")
    _check_webhook_faults(cfg, issues)
    cfg["faults"] = _check_faults(cfg["faults"], issues)
    refs: set[str] = set()
    children: set[str] = set()
    orgs = cfg["organizations"]
    if not isinstance(orgs, list) or not orgs:
        issues.add("organizations", "Must be a non-empty array.")
    else:
        for i, org in enumerate(orgs):
            if not isinstance(org, Mapping) or not isinstance(org.get("ref"), str):
                issues.add(f"organizations.{i}", "Must be an object with a string ref.")
                continue
            refs.add(org["ref"])
            for f in ("includedThisPeriod", "prepaidBalance"):
                v = org.get(f, 0)
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_CREDITS:
                    issues.add(
                        f"organizations.{i}.{f}", f"Must be an integer from 0 to {MAX_CREDITS}."
                    )
            cap = org.get("maxRunningJobs")
            if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
                issues.add(f"organizations.{i}.maxRunningJobs", "Must be a positive integer.")
        children = _check_children(orgs, issues)
    keys = cfg["apiKeys"]
    if not isinstance(keys, list):
        issues.add("apiKeys", "Must be an array.")
    else:
        for i, k in enumerate(keys):
            p = f"apiKeys.{i}"
            if not isinstance(k, Mapping):
                issues.add(p, "Must be an object.")
                continue
            if k.get("organization") not in refs:
                issues.add(f"{p}.organization", "Must name an organization ref.")
            elif k["organization"] in children and "org:admin" in (k.get("scopes") or ()):
                issues.add(f"{p}.scopes", "A key of a child organization never has org:admin.")
            if k.get("rateLimitTier", "standard") not in TIERS:
                issues.add(f"{p}.rateLimitTier", "Must be one of " + ", ".join(TIERS) + ".")
            key_string = k.get("key")
            if key_string is not None and (
                not isinstance(key_string, str) or not KEY_RE.match(key_string)
            ):
                issues.add(f"{p}.key", "Must match the lp_<env>_<keyId16>_<secret43> format.")
            if k.get("env", "live") not in ("live", "test"):
                issues.add(f"{p}.env", "Must be live or test.")
            scopes = k.get("scopes", ["*"])
            if not isinstance(scopes, list) or not all(
                isinstance(s, str) and known_scope(s) for s in scopes
            ):
                issues.add(f"{p}.scopes", "Must be an array of known scope strings.")
            allow = k.get("returnUrlAllowlist", [])
            if not isinstance(allow, list) or not all(isinstance(h, str) for h in allow):
                issues.add(f"{p}.returnUrlAllowlist", "Must be an array of host names.")
    issues.raise_if_any()
    return cfg
