"""The aiohttp.web application: the `/v1` request pipeline, one named step per check.

A `/v1` request goes through, in this order, the first failing step answering (contract
§1.15): route → faults → auth → organization → rate limit → scope → idempotency →
validation → handler. `/_sandbox/` requests go to `routes.admin` instead.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from ._clock import CLOCK_MAX_MS, MAX_STEP_SECONDS, real_seconds
from ._config import (
    DAILY_WRITES_INDEX,
    PATCHABLE,
    PER_MINUTE_INDEX,
    SPEED_RULE,
    normalize_config,
    valid_speed,
)
from ._errors import ApiError, Issues, internal_error, validation
from ._ids import KEY_RE
from ._jsonio import dumps, dumps_canonical, loads
from ._models import ApiKey, IdempotencyRecord, Organization
from ._render import keys
from ._responses import error_body, error_response, json_response
from ._routing import MAX_BODY_BYTES, Ctx, Route, Router
from ._validate import normalize_prefixed
from ._world import DAY_MS, World
from .routes import ROUTES, admin

__all__ = ["SandboxCore"]

log = logging.getLogger("layers_async.sandbox")

_MINUTE_MS = 60_000
_BEARER = re.compile(r"^bearer +(\S+)$", re.IGNORECASE)
#: An Idempotency-Key is 1 to 255 visible ASCII characters (0x21-0x7E).
_IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: Of the 409s, only these outcomes are stored for replay (with every 2xx, 402 and 404).
_STORED_409 = frozenset({"CONFLICT", "CONTENT_REJECTED"})
_ADVANCE_RULE = (
    "Must be a number > 0, at most ten years, that keeps the clock before 9900-01-01T00:00:00Z."
)
_ROUTER = Router(ROUTES)

#: What each injected-error fault answers: status, code, message, whether it sends Retry-After.
_FAULT_ERRORS = {
    "http_500": (500, "INTERNAL_ERROR", "Injected server error.", False),
    "http_502": (502, "BAD_GATEWAY", "Injected bad gateway.", False),
    "http_503": (503, "SERVICE_UNAVAILABLE", "Injected unavailability.", True),
    "http_429": (429, "RATE_LIMITED", "Rate limit exceeded.", True),
}


class _Drop(Exception):
    """Close the connection without a response (fault injection)."""


@attrs.define(slots=True)
class _Exchange:
    """One `/v1` request as the pipeline learns about it, step by step."""

    request: web.Request
    rid: str
    route: Route
    raw_params: dict[str, str]
    body: bytes
    #: Headers every response from here on carries (endpoint class, then rate limit).
    headers: dict[str, str]
    now: int = 0
    key: ApiKey | None = None
    org: Organization | None = None
    params: dict[str, str] = attrs.Factory(dict)
    idem_scope: tuple[str, ...] | None = None
    fingerprint: bytes = b""

    def fail(self, err: ApiError, extra: Mapping[str, str] | None = None) -> web.Response:
        """The error response at this point of the pipeline."""
        return error_response(self.rid, err, {**self.headers, **(extra or {})})


Step = Callable[[_Exchange], "web.Response | None"]


def _fingerprint(body: bytes) -> bytes:
    """The request body as canonical JSON, so key order and whitespace do not matter."""
    if not body.strip():
        return b"{}"
    try:
        return dumps_canonical(loads(body))
    except (ValueError, TypeError):  # not JSON, or nested deeper than the encoder allows
        return b"raw:" + body


def _normalized_params(route: Route, raw_params: dict[str, str]) -> dict[str, str]:
    """Path ids in canonical form; a malformed one is left out (validation reports it)."""
    params: dict[str, str] = {}
    for name, raw in raw_params.items():
        spec = route.params.get(name)
        norm = spec.normalize(raw) if spec is not None else raw
        if norm is not None:
            params[name] = norm
    return params


def _unauthenticated(message: str = "Missing or invalid API key.") -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message)


def _one_header(request: web.Request, name: str) -> str | ApiError | None:
    """The value of a header that may appear once; sent twice it is a 422 on its name.

    The sandbox never picks one of several values: the client meant only one of them.
    """
    values = request.headers.getall(name, ())
    if len(values) > 1:
        return validation([{"path": name, "message": "Send this header once."}])
    return values[0] if values else None


class SandboxCore:
    """Holds the configuration and the current `World`; serves every request."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.base_url = "http://127.0.0.1"
        self.world: World | None = None
        #: The pipeline steps between faults and validation, in order; each may answer.
        self._checks: tuple[Step, ...] = (
            self._auth,
            self._organization,
            self._rate_limit,
            self._scope,
            self._idempotency,
        )

    def build(self, base_url: str) -> None:
        """(Re)create the world for the listener's base URL."""
        self.base_url = base_url
        public = self.config["publicBaseUrl"] or base_url
        self.world = World(self.config, public.rstrip("/"))

    @property
    def w(self) -> World:
        """The current world."""
        assert self.world is not None, "sandbox not started"
        return self.world

    # ------------------------------------------------------------------ entry point
    def request_id(self) -> str:
        """A new `req_<ULID>` on the virtual clock, from the seeded request-id stream."""
        w = self.w
        return "req_" + w.request_ids.ulid(w.now())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Dispatch one request: `/v1` through the pipeline, `/_sandbox/` to its routes.

        Whatever fails unexpectedly is logged and answered `500 INTERNAL_ERROR` with the
        envelope, so no request gets aiohttp's plain-text error page.
        """
        rid = self.request_id()
        is_admin = request.path.startswith("/_sandbox/")
        try:
            if is_admin:
                resp = await admin.dispatch(self, request, rid)
            else:
                resp = await self._v1(request, rid)
        except ApiError as err:
            resp = error_response(rid, err)
        except web.RequestPayloadError:
            # A body that cannot be read as sent (a corrupt gzip or deflate encoding): the
            # client's fault, answered like any request the HTTP parser rejects.
            resp = error_response(
                rid, ApiError(400, "BAD_REQUEST", "The request body cannot be decoded.")
            )
        except _Drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None
        except ConnectionError:
            raise  # the client went away mid-request: there is no one to answer
        except Exception:
            log.exception("sandbox request failed: %s %s", request.method, request.path)
            resp = error_response(rid, internal_error())
        finally:
            self.w.end_request()
        if not is_admin:
            by_status = self.w.responses_by_status
            key = str(resp.status)
            by_status[key] = by_status.get(key, 0) + 1
        return resp

    # ------------------------------------------------------------------ /v1 pipeline
    async def _v1(self, request: web.Request, rid: str) -> web.StreamResponse:
        """Route and faults (which may wait), then the synchronous steps."""
        x = await self._route(request, rid)
        if isinstance(x, web.Response):
            return x
        drop_after = False
        if self.w.config["faults"]:
            fault = await self._faults(x.route, rid)
            if isinstance(fault, web.Response):
                return fault
            drop_after = fault
        # Re-read the world after any await: a reset may have replaced it meanwhile.
        resp = self._pipeline(x)
        if drop_after:
            raise _Drop
        return resp

    def _pipeline(self, x: _Exchange) -> web.Response:
        """Auth to handler; synchronous, so one request's changes are atomic."""
        x.now = self.w.begin_request()
        for step in self._checks:
            resp = step(x)
            if resp is not None:
                return resp
        ctx, issues = self._validation(x)
        return self._handler(x, ctx, issues)

    async def _route(self, request: web.Request, rid: str) -> _Exchange | web.Response:
        """Match the route (404 otherwise), count the request and read its body."""
        method = request.method
        matched = _ROUTER.match(method, request.path)
        counter = self.w.requests_by_route
        label = matched[0].label if matched is not None else "unmatched"
        counter[label] = counter.get(label, 0) + 1
        if matched is None:
            klass = "read-light" if method == "GET" else "write-light"
            return error_response(
                rid,
                ApiError(404, "NOT_FOUND", "No route matches this method and path."),
                {"X-RateLimit-Endpoint-Class": klass},
            )
        route, raw_params = matched
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            body = b"\x00" * (MAX_BODY_BYTES + 1)  # too large: the handler reports path ""
        headers = {"X-RateLimit-Endpoint-Class": route.klass}
        x = _Exchange(request, rid, route, raw_params, body, headers)
        x.params = _normalized_params(route, raw_params)
        return x

    async def _faults(self, route: Route, rid: str) -> web.Response | bool:
        """Apply fault rules in order; returns a response, or whether to drop after commit."""
        w = self.w
        rules = w.config["faults"]
        fired = w.fault_fired  # captured with `rules`: a config change mid-sleep swaps both
        for i, rule in enumerate(rules):
            if not self._fault_applies(rule, route) or (
                rule["times"] is not None and fired[i] >= rule["times"]
            ):
                continue
            if w.fault_rng.random() >= rule["probability"]:
                continue
            fired[i] += 1
            action = rule["action"]
            log.info("fault %s (%s) on %s", rule.get("id") or i, action, route.label)
            if action == "latency":
                await asyncio.sleep(rule["latencyMs"] / 1000.0)
                continue
            if action == "drop_before_commit":
                raise _Drop
            if action == "drop_after_commit":
                return True
            return self._injected_error(action, rule, route, rid)
        return False

    @staticmethod
    def _fault_applies(rule: Mapping[str, Any], route: Route) -> bool:
        """A rule names `*`, or `<METHOD or *> <template>` of this route."""
        r: str = rule["route"]
        if r == "*":
            return True
        m, _, tpl = r.partition(" ")
        return tpl == route.template and (m == "*" or m == route.method)

    @staticmethod
    def _injected_error(
        action: str, rule: Mapping[str, Any], route: Route, rid: str
    ) -> web.Response:
        status, code, message, retry_after = _FAULT_ERRORS[action]
        h = {"X-RateLimit-Endpoint-Class": route.klass}
        if retry_after:
            h["Retry-After"] = str(rule["retryAfter"])
        details = None
        if status == 429:
            details = {"limitType": "per_minute", "endpointClass": route.klass}
        return error_response(rid, ApiError(status, code, message, details), h)

    def _auth(self, x: _Exchange) -> web.Response | None:
        """A known, live key (401) whose kill switch is off and organization not suspended (503)."""
        key_or_err = self._authenticate(x.request, x.now)
        if isinstance(key_or_err, ApiError):
            return x.fail(key_or_err)
        key = key_or_err
        org = self.w.orgs[key.org_id]
        if org.status == "suspended":
            return x.fail(
                ApiError(
                    503, "KILL_SWITCH", "The organization is suspended.", {"scope": "organization"}
                )
            )
        key.last_used_at = x.now
        x.key = key
        x.org = org
        return None

    def _authenticate(self, request: web.Request, now: int) -> ApiKey | ApiError:
        """The bearer key; a key past its rotation grace period is revoked on first use.

        Two `Authorization` headers are refused (401) whatever they hold, never resolved.
        """
        headers = request.headers.getall("Authorization", ())
        if not headers:
            return _unauthenticated()
        if len(headers) > 1:
            return _unauthenticated("Send the API key in one Authorization header.")
        header = headers[0]
        m = _BEARER.match(header.strip())
        if m is None or not KEY_RE.match(m.group(1)):
            return _unauthenticated()
        key = self.w.key_by_string.get(m.group(1))
        if key is None or key.status == "revoked":
            return _unauthenticated()
        if key.grace_until is not None and now >= key.grace_until:
            key.status = "revoked"
            key.revoked_at = key.grace_until
            return _unauthenticated()
        if key.kill_switch:
            return ApiError(503, "KILL_SWITCH", "This API key has been killed.", {"scope": "key"})
        return key

    def _organization(self, x: _Exchange) -> web.Response | None:
        """`X-Layers-Organization` acts for a child organization (its errors show the bucket)."""
        value = _one_header(x.request, "X-Layers-Organization")
        if value is None:
            return None
        if isinstance(value, ApiError):
            return x.fail(value)
        assert x.key is not None
        assert x.org is not None
        child = self._child_org(x.key, x.org, value)
        if isinstance(child, ApiError):
            peek, _ = self._bucket(x.key, x.route.klass, x.now, consume=False)
            return x.fail(child, peek)
        x.org = child
        return None

    def _child_org(self, key: ApiKey, org: Organization, value: str) -> Organization | ApiError:
        """The named child: needs org:admin (403), a well-formed id (422), a live child (404)."""
        if not key.has_scope("org:admin"):
            return ApiError(
                403,
                "FORBIDDEN_SCOPE",
                "Acting for a child organization needs org:admin.",
                {"requiredScope": "org:admin"},
            )
        oid = normalize_prefixed(value, "org", bare_ok=True)
        if oid is None:
            return validation(
                [
                    {
                        "path": "X-Layers-Organization",
                        "message": "Must be an org_<uuid> id or a bare UUID.",
                    }
                ]
            )
        child = self.w.orgs.get(oid)
        if child is None or child.parent_id != org.id or child.status == "archived":
            return ApiError(404, "NOT_FOUND", "Organization not found.")
        return child

    def _rate_limit(self, x: _Exchange) -> web.Response | None:
        """Spend one unit of the key's bucket; from here on responses show the bucket."""
        assert x.key is not None
        rl_headers, rl_err = self._bucket(x.key, x.route.klass, x.now)
        x.headers.update(rl_headers)
        return x.fail(rl_err) if rl_err is not None else None

    def _bucket(
        self, key: ApiKey, klass: str, now: int, *, consume: bool = True
    ) -> tuple[dict[str, str], ApiError | None]:
        """The per-minute bucket and the daily write cap; headers describe the bucket."""
        w = self.w
        limits = w.tier_limits(key)
        per_min = limits[PER_MINUTE_INDEX[klass]]
        window = now - now % _MINUTE_MS
        bk = (key.id, klass)
        bucket = w.buckets.get(bk)
        if bucket is None or bucket[0] != window:
            bucket = [window, 0]
            w.buckets[bk] = bucket
        speed = w.clock.speed
        reset_v = window + _MINUTE_MS - now
        headers = {
            "X-RateLimit-Limit": str(per_min),
            "X-RateLimit-Remaining": str(max(0, per_min - bucket[1])),
            "X-RateLimit-Reset": str(real_seconds(reset_v, speed, minimum=0)),
        }
        if not consume:
            return headers, None
        if bucket[1] >= per_min:
            return headers, self._limited("Rate limit exceeded.", "per_minute", klass, reset_v)
        if klass == "write-light":
            day = now // DAY_MS
            dk = (key.id, day)
            used = w.daily.get(dk, 0)
            if used >= limits[DAILY_WRITES_INDEX]:
                until = (day + 1) * DAY_MS - now
                return headers, self._limited("Daily write limit exceeded.", "daily", klass, until)
            w.daily[dk] = used + 1
        bucket[1] += 1
        headers["X-RateLimit-Remaining"] = str(max(0, per_min - bucket[1]))
        return headers, None

    def _limited(self, message: str, limit_type: str, klass: str, wait_ms: int) -> ApiError:
        """429 RATE_LIMITED; `Retry-After` is the virtual wait in real seconds (at least 1)."""
        return ApiError(
            429,
            "RATE_LIMITED",
            message,
            {"limitType": limit_type, "endpointClass": klass},
            {"Retry-After": str(real_seconds(wait_ms, self.w.clock.speed, minimum=1))},
        )

    def _scope(self, x: _Exchange) -> web.Response | None:
        """The route's scope, when it has one (403 FORBIDDEN_SCOPE)."""
        scope = x.route.scope
        assert x.key is not None
        if scope is None or x.key.has_scope(scope):
            return None
        return x.fail(
            ApiError(
                403,
                "FORBIDDEN_SCOPE",
                f"This key lacks the {scope} scope.",
                {"requiredScope": scope},
            )
        )

    def _idempotency(self, x: _Exchange) -> web.Response | None:
        """`Idempotency-Key` on a write: syntax (422), then replay or 409 on a different body.

        A record lives 24 hours; it is scoped to key, organization, method and the normalised
        path, so `prj_<uuid>` and its bare UUID share one record.
        """
        method = x.request.method
        if method == "GET":
            return None
        ik = _one_header(x.request, "Idempotency-Key")
        if ik is None:
            if x.route.requires_idempotency:
                return x.fail(
                    ApiError(
                        400,
                        "IDEMPOTENCY_REQUIRED",
                        "This route needs an Idempotency-Key header.",
                    )
                )
            return None
        if isinstance(ik, ApiError):
            return x.fail(ik)
        if not _IDEM_KEY.fullmatch(ik):
            return x.fail(
                validation(
                    [
                        {
                            "path": "Idempotency-Key",
                            "message": "Must be 1-255 visible ASCII characters.",
                        }
                    ]
                )
            )
        if not x.route.honours_idempotency:
            return None
        assert x.key is not None
        assert x.org is not None
        norm_path = "/".join(
            x.params.get(s[1:-1], x.raw_params.get(s[1:-1], s)) if s.startswith("{") else s
            for s in x.route.segments
        )
        x.idem_scope = (x.key.id, x.org.id, method, norm_path, ik)
        x.fingerprint = _fingerprint(x.body)
        w = self.w
        rec = w.idempotency.get(x.idem_scope)
        if rec is not None and x.now - rec.created_at >= DAY_MS:
            del w.idempotency[x.idem_scope]
            rec = None
        if rec is None:
            return None
        if rec.fingerprint != x.fingerprint:
            return x.fail(
                ApiError(
                    409,
                    "IDEMPOTENCY_CONFLICT",
                    "This Idempotency-Key was used with a different request body.",
                )
            )
        replay = {**x.headers, **rec.headers, "Idempotency-Replayed": "true"}
        body = rec.body
        if x.route.replay is not None and 200 <= rec.status < 300:
            body = x.route.replay(body)
        return json_response(rec.status, x.rid, body, replay)

    def _validation(self, x: _Exchange) -> tuple[Ctx, Issues]:
        """The handler's context, and the malformed path ids as its first issues.

        The handler adds its query and body issues to them and answers 422 with all at once.
        """
        assert x.key is not None
        assert x.org is not None
        ctx = Ctx(
            world=self.w,
            key=x.key,
            org=x.org,
            params=x.params,
            raw_params=x.raw_params,
            query=x.request.rel_url.query,
            body=x.body,
            headers=x.request.headers,
            now=x.now,
        )
        return ctx, ctx.path_issues(x.route)

    def _handler(self, x: _Exchange, ctx: Ctx, issues: Issues) -> web.Response:
        """Run the handler; store its outcome under the Idempotency-Key when it is replayable.

        Replayable: every 2xx, 402, 404 and the 409s of `_STORED_409`.
        """
        w = self.w
        try:
            out = x.route.handler(ctx, issues)
            payload = out.raw if out.raw is not None or out.status == 304 else dumps(out.body)
        except ApiError as err:
            resp_body = error_body(x.rid, err)
            extra = dict(err.headers or {})
            if x.idem_scope is not None and (
                err.status in (402, 404) or (err.status == 409 and err.code in _STORED_409)
            ):
                w.idempotency[x.idem_scope] = IdempotencyRecord(
                    x.fingerprint, x.now, err.status, resp_body, extra
                )
            return json_response(err.status, x.rid, resp_body, {**x.headers, **extra})
        except Exception:
            log.exception("sandbox handler failed: %s %s", x.request.method, x.request.path)
            return x.fail(internal_error())

        extra = dict(out.headers or {})
        if payload is None:  # 304 Not Modified
            return json_response(304, x.rid, None, {**x.headers, **extra})
        if x.idem_scope is not None and 200 <= out.status < 300:
            w.idempotency[x.idem_scope] = IdempotencyRecord(
                x.fingerprint, x.now, out.status, payload, extra
            )
        return json_response(out.status, x.rid, payload, {**x.headers, **extra})

    # ------------------------------------------------------------------ control (also in process)
    def set_speed(self, speed: object) -> None:
        """Change the clock speed (re-anchoring); one the clock cannot run at is a 422."""
        if not valid_speed(speed):
            raise validation([{"path": "speed", "message": SPEED_RULE}])
        assert isinstance(speed, (int, float))
        self.w.run_due()
        self.w.clock.set_speed(float(speed))
        self.config["speed"] = float(speed)

    def advance(self, seconds: object) -> int:
        """Advance virtual time and apply due transitions; returns how many applied.

        A step that is not a number > 0, is longer than ten years or would take the clock past
        the furthest instant it holds is a 422 on `seconds`, and nothing moves.
        """
        w = self.w
        if (
            not isinstance(seconds, (int, float))
            or isinstance(seconds, bool)
            or not 0 < seconds <= MAX_STEP_SECONDS  # also false for NaN
            or w.now() + round(seconds * 1000) > CLOCK_MAX_MS
        ):
            raise validation([{"path": "seconds", "message": _ADVANCE_RULE}])
        applied = w.run_due()
        w.clock.advance(seconds)
        return applied + w.run_due()

    def public_config(self) -> dict[str, Any]:
        """The effective configuration (key strings omitted; see /_sandbox/keys)."""
        cfg = dict(self.config)
        cfg["speed"] = self.w.clock.speed
        return cfg

    def patch_config(self, data: Mapping[str, Any]) -> None:
        """PATCH /_sandbox/config: only the patchable keys."""
        issues = Issues()
        for k in data:
            if k not in PATCHABLE:
                issues.add(k, "Not patchable.")
        issues.raise_if_any()
        new = normalize_config(data, self.config)
        w = self.w
        self.config.clear()
        self.config.update(new)
        w.config = self.config
        if "faults" in data:
            w.fault_fired = [0] * len(self.config["faults"])
        if "speed" in data:
            w.clock.set_speed(float(self.config["speed"]))

    def reset(self, partial: Mapping[str, Any]) -> None:
        """Wipe all state and rebuild from the (merged) configuration."""
        new = normalize_config(partial, self.config)
        self.config.clear()
        self.config.update(new)
        self.build(self.base_url)

    def keys_json(self) -> list[dict[str, Any]]:
        """Every key with its current string."""
        return keys(self.w.keys.values())
