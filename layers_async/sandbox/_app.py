"""The aiohttp.web application: the §1.15 request pipeline and the `/_sandbox/` routes."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any, TypeGuard

from aiohttp import web

from ._clock import real_seconds
from ._config import PATCHABLE, normalize_config
from ._errors import ApiError, Issues, validation
from ._handlers import ROUTES
from ._ids import KEY_RE
from ._jsonio import dumps, dumps_canonical, loads
from ._models import ApiKey, IdempotencyRecord, Organization
from ._routing import Ctx, Route, Router
from ._validate import normalize_prefixed
from ._world import World, ts

__all__ = ["SandboxCore"]

log = logging.getLogger("layers_async.sandbox")

JSON_CT = "application/json; charset=utf-8"
_CLASS_INDEX = {"read-light": 0, "write-light": 1, "long-running": 2}
_BEARER = re.compile(r"^bearer +(\S+)$", re.IGNORECASE)
_IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_STORED_409 = frozenset({"CONFLICT", "CONTENT_REJECTED"})
_ROUTER = Router(ROUTES)
_MAX_BODY = 1_048_576


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Drop(Exception):
    """Close the connection without a response (fault injection)."""


def _png() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1, 8-bit RGBA
    pixel = b"\x00\xff\xff\xff\xff"  # filter byte, then one opaque white pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(pixel))
        + chunk(b"IEND", b"")
    )


PNG_PLACEHOLDER = _png()
MP4_PLACEHOLDER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32


def _error_body(rid: str, err: ApiError) -> bytes:
    e: dict[str, Any] = {"code": err.code, "message": err.message, "requestId": rid}
    if err.details is not None:
        e["details"] = err.details
    return dumps({"error": e})


class SandboxCore:
    """Holds the configuration and the current `World`; serves every request."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.base_url = "http://127.0.0.1"
        self.world: World | None = None

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

    # ------------------------------------------------------------------ responses
    def _json(
        self, status: int, rid: str, body: bytes | None, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        h = {"X-Request-Id": rid}
        if headers:
            h.update(headers)
        if body is not None:
            h["Content-Type"] = JSON_CT
        return web.Response(status=status, body=body, headers=h)

    def _error(
        self, rid: str, err: ApiError, extra: Mapping[str, str] | None = None
    ) -> web.Response:
        h = dict(extra or {})
        if err.headers:
            h.update(err.headers)
        return self._json(err.status, rid, _error_body(rid, err), h)

    # ------------------------------------------------------------------ entry point
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Dispatch one request: `/v1` through the pipeline, `/_sandbox/` to its routes."""
        w = self.w
        rid = "req_" + w.request_ids.ulid(w.now())
        if request.path.startswith("/_sandbox/"):
            try:
                return await self._sandbox_route(request, rid)
            except ApiError as err:
                return self._error(rid, err)
            finally:
                self.w.end_request()
        try:
            resp = await self._v1(request, rid)
            by_status = self.w.responses_by_status
            key = str(resp.status)
            by_status[key] = by_status.get(key, 0) + 1
            return resp
        except _Drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None
        finally:
            self.w.end_request()

    # ------------------------------------------------------------------ /v1 pipeline
    async def _v1(self, request: web.Request, rid: str) -> web.StreamResponse:
        method = request.method
        matched = _ROUTER.match(method, request.path)  # step 2
        counter = self.w.requests_by_route
        label = matched[0].label if matched is not None else "unmatched"
        counter[label] = counter.get(label, 0) + 1
        if matched is None:
            klass = "read-light" if method == "GET" else "write-light"
            return self._error(
                rid,
                ApiError(404, "NOT_FOUND", "No route matches this method and path."),
                {"X-RateLimit-Endpoint-Class": klass},
            )
        route, raw_params = matched
        class_hdr = {"X-RateLimit-Endpoint-Class": route.klass}
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            body = b"\x00" * (_MAX_BODY + 1)  # too large: the handler reports path ""

        drop_after = False
        if self.w.config["faults"]:  # step 3
            fault = await self._faults(route, rid)
            if isinstance(fault, web.Response):
                return fault
            drop_after = fault
        # Re-read the world after any await: a reset may have replaced it meanwhile.
        resp = self._pipeline(request, rid, route, raw_params, class_hdr, body)
        if drop_after:
            raise _Drop
        return resp

    def _pipeline(
        self,
        request: web.Request,
        rid: str,
        route: Route,
        raw_params: dict[str, str],
        class_hdr: dict[str, str],
        body: bytes,
    ) -> web.Response:
        """Steps 4-10 of §1.15; synchronous, so one request's changes are atomic."""
        w = self.w
        now = w.begin_request()
        method = request.method
        klass = route.klass
        key_or_err = self._authenticate(request, now)  # step 4
        if isinstance(key_or_err, ApiError):
            return self._error(rid, key_or_err, class_hdr)
        key = key_or_err
        org = w.orgs[key.org_id]
        if org.status == "suspended":
            err = ApiError(
                503, "KILL_SWITCH", "The organization is suspended.", {"scope": "organization"}
            )
            return self._error(rid, err, class_hdr)
        key.last_used_at = now

        org_header = request.headers.get("X-Layers-Organization")  # step 5
        if org_header is not None:
            eff = self._effective_org(key, org, org_header)
            if isinstance(eff, ApiError):
                peek, _ = self._rate_limit(key, klass, now, consume=False)
                return self._error(rid, eff, {**class_hdr, **peek})
            org = eff

        rl_headers, rl_err = self._rate_limit(key, klass, now)  # step 6
        headers = {**class_hdr, **rl_headers}
        if rl_err is not None:
            return self._error(rid, rl_err, headers)

        if route.scope is not None and not key.has_scope(route.scope):  # step 7
            err = ApiError(
                403,
                "FORBIDDEN_SCOPE",
                f"This key lacks the {route.scope} scope.",
                {"requiredScope": route.scope},
            )
            return self._error(rid, err, headers)

        params: dict[str, str] = {}
        for name, raw in raw_params.items():
            spec = route.params.get(name)
            norm = spec.normalize(raw) if spec is not None else raw
            if norm is not None:
                params[name] = norm

        idem_scope: tuple[str, ...] | None = None
        fingerprint = b""
        if method != "GET":  # step 8
            ik = request.headers.get("Idempotency-Key")
            if ik is not None:
                if not _IDEM_KEY.fullmatch(ik):
                    err = validation(
                        [
                            {
                                "path": "Idempotency-Key",
                                "message": "Must be 1-255 visible ASCII characters.",
                            }
                        ]
                    )
                    return self._error(rid, err, headers)
                if route.honours_idempotency:
                    norm_path = "/".join(
                        params.get(s[1:-1], raw_params.get(s[1:-1], s)) if s.startswith("{") else s
                        for s in route.segments
                    )
                    idem_scope = (key.id, org.id, method, norm_path, ik)
                    fingerprint = self._fingerprint(body)
                    rec = w.idempotency.get(idem_scope)
                    if rec is not None and now - rec.created_at >= 86_400_000:
                        del w.idempotency[idem_scope]
                        rec = None
                    if rec is not None:
                        if rec.fingerprint != fingerprint:
                            err = ApiError(
                                409,
                                "IDEMPOTENCY_CONFLICT",
                                "This Idempotency-Key was used with a different request body.",
                            )
                            return self._error(rid, err, headers)
                        h = {**headers, **rec.headers, "Idempotency-Replayed": "true"}
                        return self._json(rec.status, rid, rec.body, h)

        ctx = Ctx(
            world=w,
            key=key,
            org=org,
            params=params,
            raw_params=raw_params,
            query=request.rel_url.query,
            body=body,
            headers=request.headers,
            now=now,
        )
        try:  # steps 9-10
            out = route.handler(ctx, route, Issues())
            payload = out.raw if out.raw is not None or out.status == 304 else dumps(out.body)
        except ApiError as err:
            resp_body = _error_body(rid, err)
            extra = dict(err.headers or {})
            if idem_scope is not None and (
                err.status in (402, 404) or (err.status == 409 and err.code in _STORED_409)
            ):
                w.idempotency[idem_scope] = IdempotencyRecord(
                    fingerprint, now, err.status, resp_body, extra
                )
            return self._json(err.status, rid, resp_body, {**headers, **extra})
        except Exception:
            log.exception("sandbox handler failed: %s %s", method, request.path)
            internal = ApiError(500, "INTERNAL_ERROR", "Unexpected sandbox error.")
            return self._error(rid, internal, headers)

        extra = dict(out.headers or {})
        if payload is None:  # 304 Not Modified
            return self._json(304, rid, None, {**headers, **extra})
        if idem_scope is not None and 200 <= out.status < 300:
            w.idempotency[idem_scope] = IdempotencyRecord(
                fingerprint, now, out.status, payload, extra
            )
        return self._json(out.status, rid, payload, {**headers, **extra})

    @staticmethod
    def _fingerprint(body: bytes) -> bytes:
        """The request body as canonical JSON, so key order and whitespace do not matter."""
        if not body.strip():
            return b"{}"
        try:
            return dumps_canonical(loads(body))
        except (ValueError, TypeError):  # not JSON, or nested deeper than the encoder allows
            return b"raw:" + body

    async def _faults(self, route: Route, rid: str) -> web.Response | bool:
        """Apply fault rules in order; returns a response, or whether to drop after commit."""
        w = self.w
        rules = w.config["faults"]
        fired = w.fault_fired  # captured with `rules`: a config change mid-sleep swaps both
        label = route.label
        for i, rule in enumerate(rules):
            r = rule["route"]
            if r != "*":
                m, _, tpl = r.partition(" ")
                if tpl != route.template or (m != "*" and m != route.method):
                    continue
            times = rule["times"]
            if times is not None and fired[i] >= times:
                continue
            if w.fault_rng.random() >= rule["probability"]:
                continue
            fired[i] += 1
            action = rule["action"]
            log.info("fault %s (%s) on %s", rule.get("id") or i, action, label)
            if action == "latency":
                await asyncio.sleep(rule["latencyMs"] / 1000.0)
                continue
            h = {"X-RateLimit-Endpoint-Class": route.klass}
            if action == "http_500":
                return self._error(
                    rid, ApiError(500, "INTERNAL_ERROR", "Injected server error."), h
                )
            if action == "http_502":
                return self._error(rid, ApiError(502, "BAD_GATEWAY", "Injected bad gateway."), h)
            if action == "http_503":
                h["Retry-After"] = str(rule["retryAfter"])
                err = ApiError(503, "SERVICE_UNAVAILABLE", "Injected unavailability.")
                return self._error(rid, err, h)
            if action == "http_429":
                h["Retry-After"] = str(rule["retryAfter"])
                err = ApiError(
                    429,
                    "RATE_LIMITED",
                    "Rate limit exceeded.",
                    {"limitType": "per_minute", "endpointClass": route.klass},
                )
                return self._error(rid, err, h)
            if action == "drop_before_commit":
                raise _Drop
            if action == "drop_after_commit":
                return True
        return False

    def _authenticate(self, request: web.Request, now: int) -> ApiKey | ApiError:
        unauth = ApiError(401, "UNAUTHENTICATED", "Missing or invalid API key.")
        header = request.headers.get("Authorization")
        if header is None:
            return unauth
        m = _BEARER.match(header.strip())
        if m is None or not KEY_RE.match(m.group(1)):
            return unauth
        key = self.w.key_by_string.get(m.group(1))
        if key is None or key.status == "revoked":
            return unauth
        if key.grace_until is not None and now >= key.grace_until:
            key.status = "revoked"
            key.revoked_at = key.grace_until
            return unauth
        if key.kill_switch:
            return ApiError(503, "KILL_SWITCH", "This API key has been killed.", {"scope": "key"})
        return key

    def _effective_org(self, key: ApiKey, org: Organization, value: str) -> Organization | ApiError:
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

    def _rate_limit(
        self, key: ApiKey, klass: str, now: int, *, consume: bool = True
    ) -> tuple[dict[str, str], ApiError | None]:
        """Step 6: the per-minute bucket and the daily cap; headers describe the bucket."""
        w = self.w
        limits = w.tier_limits(key)
        per_min = limits[_CLASS_INDEX[klass]]
        window = now - now % 60_000
        bk = (key.id, klass)
        bucket = w.buckets.get(bk)
        if bucket is None or bucket[0] != window:
            bucket = [window, 0]
            w.buckets[bk] = bucket
        speed = w.clock.speed
        reset_v = window + 60_000 - now
        headers = {
            "X-RateLimit-Limit": str(per_min),
            "X-RateLimit-Remaining": str(max(0, per_min - bucket[1])),
            "X-RateLimit-Reset": str(real_seconds(reset_v, speed, minimum=0)),
        }
        if not consume:
            return headers, None
        if bucket[1] >= per_min:
            err = ApiError(
                429,
                "RATE_LIMITED",
                "Rate limit exceeded.",
                {"limitType": "per_minute", "endpointClass": klass},
                {"Retry-After": str(real_seconds(reset_v, speed, minimum=1))},
            )
            return headers, err
        if klass == "write-light":
            day = now // 86_400_000
            dk = (key.id, day)
            used = w.daily.get(dk, 0)
            if used >= limits[3]:
                until = (day + 1) * 86_400_000 - now
                err = ApiError(
                    429,
                    "RATE_LIMITED",
                    "Daily write limit exceeded.",
                    {"limitType": "daily", "endpointClass": klass},
                    {"Retry-After": str(real_seconds(until, speed, minimum=1))},
                )
                return headers, err
            w.daily[dk] = used + 1
        bucket[1] += 1
        headers["X-RateLimit-Remaining"] = str(max(0, per_min - bucket[1]))
        return headers, None

    # ------------------------------------------------------------------ /_sandbox/ routes
    async def _body_json(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read() if request.can_read_body else b""
        if not raw.strip():
            return {}
        try:
            data = loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise validation([{"path": "", "message": "Body must be a JSON object."}])
        return data

    def _ok(self, rid: str, body: Any, status: int = 200) -> web.Response:
        return self._json(status, rid, dumps(body))

    async def _sandbox_route(self, request: web.Request, rid: str) -> web.StreamResponse:
        w = self.w
        w.run_due()
        m = request.method
        path = request.path
        if path == "/_sandbox/state" and m == "GET":
            org = request.rel_url.query.get("organizationId")
            if org is not None:
                org = normalize_prefixed(org, "org", bare_ok=True) or org
            return self._ok(rid, w.state_json(org))
        if path == "/_sandbox/clock" and m == "GET":
            return self._ok(rid, {"now": ts(w.now()), "speed": w.clock.speed})
        if path == "/_sandbox/clock" and m == "PATCH":
            data = await self._body_json(request)
            speed = data.get("speed")
            if (
                set(data) != {"speed"}
                or not isinstance(speed, (int, float))
                or isinstance(speed, bool)
                or speed < 0
            ):
                raise validation([{"path": "speed", "message": "Must be a number >= 0."}])
            self.set_speed(float(speed))
            return self._ok(rid, {"now": ts(w.now()), "speed": w.clock.speed})
        if path == "/_sandbox/clock/advance" and m == "POST":
            data = await self._body_json(request)
            secs = data.get("seconds")
            if not _finite(secs) or not 0 < secs <= 10 * 365 * 86_400:
                raise validation(
                    [{"path": "seconds", "message": "Must be a number > 0 (at most ten years)."}]
                )
            applied = self.advance(float(secs))
            return self._ok(rid, {"now": ts(w.now()), "transitionsApplied": applied})
        if path == "/_sandbox/config" and m == "GET":
            return self._ok(rid, self.public_config())
        if path == "/_sandbox/config" and m == "PATCH":
            data = await self._body_json(request)
            self.patch_config(data)
            return self._ok(rid, self.public_config())
        if path == "/_sandbox/reset" and m == "POST":
            data = await self._body_json(request)
            self.reset(data)
            return self._ok(rid, {"reset": True, "now": ts(self.w.now())})
        if path == "/_sandbox/keys" and m == "GET":
            return self._ok(rid, {"items": self.keys_json()})
        if path == "/_sandbox/credits" and m == "POST":
            data = await self._body_json(request)
            return self._ok(rid, self.credits(data))
        if path == "/_sandbox/oauth/authorize" and m == "GET":
            return self._authorize(request, rid)
        if path.startswith("/_sandbox/media/") and m == "GET":
            name = path[len("/_sandbox/media/") :]
            if name not in w.issued_media:
                raise ApiError(404, "NOT_FOUND", "Media not found.")
            if w.is_image_name(name):
                return web.Response(
                    body=PNG_PLACEHOLDER, headers={"X-Request-Id": rid, "Content-Type": "image/png"}
                )
            return web.Response(
                body=MP4_PLACEHOLDER, headers={"X-Request-Id": rid, "Content-Type": "video/mp4"}
            )
        mm = re.fullmatch(r"/_sandbox/social-accounts/([^/]+)/needs-reauth", path)
        if mm and m == "POST":
            acc = w.accounts.get(normalize_prefixed(mm.group(1), "sa", bare_ok=False) or "")
            if acc is None:
                raise ApiError(404, "NOT_FOUND", "Social account not found.")
            if acc.status == "connected":
                acc.status = "reauth_required"
            return self._ok(rid, w.account_json(acc))
        if path == "/_sandbox/webhooks/outbox" and m == "GET":
            return self._ok(rid, {"items": []})
        if path == "/_sandbox/webhooks/outbox" and m == "DELETE":
            return self._ok(rid, {"cleared": 0})
        raise ApiError(404, "NOT_FOUND", "No sandbox route matches this method and path.")

    def _authorize(self, request: web.Request, rid: str) -> web.StreamResponse:
        w = self.w
        q = request.rel_url.query
        state = q.get("state")
        decision = q.get("decision", "allow")
        issues = Issues()
        if state is None:
            issues.add("state", "Required.")
        if decision not in ("allow", "deny"):
            issues.add("decision", "Must be allow or deny.")
        issues.raise_if_any()
        assert state is not None
        att = w.oauth.get(state)
        if att is None:
            raise ApiError(404, "NOT_FOUND", "OAuth attempt not found.")
        now = w.now()
        was_pending = att.status == "pending"
        if was_pending:
            w.complete_oauth(att, now, decision)
        status = "success" if was_pending and att.status == "completed" else "error"
        url, hash_sign, frag = att.return_url.partition("#")
        sep = "&" if "?" in url else "?"
        location = f"{url}{sep}state={state}&status={status}{hash_sign}{frag}"
        return web.Response(status=302, headers={"X-Request-Id": rid, "Location": location})

    # ------------------------------------------------------------------ control (also in process)
    def set_speed(self, speed: float) -> None:
        """Change the clock speed (re-anchoring)."""
        self.w.run_due()
        self.w.clock.set_speed(speed)
        self.config["speed"] = speed

    def advance(self, seconds: float) -> int:
        """Advance virtual time and apply due transitions; returns how many applied."""
        w = self.w
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
        return [
            {
                "id": k.id,
                "name": k.name,
                "organizationId": k.org_id,
                "env": k.env,
                "rateLimitTier": k.tier,
                "scopes": list(k.scopes),
                "key": k.key,
                "status": k.status,
            }
            for k in self.w.keys.values()
        ]

    def credits(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """POST /_sandbox/credits."""
        issues = Issues()
        oid = data.get("organizationId")
        credits = data.get("credits")
        org = None
        if not isinstance(oid, str):
            issues.add("organizationId", "Required.")
        else:
            norm = normalize_prefixed(oid, "org", bare_ok=True)
            org = self.w.orgs.get(norm or "")
        if not isinstance(credits, int) or isinstance(credits, bool) or credits == 0:
            issues.add("credits", "Must be a non-zero integer.")
        issues.raise_if_any()
        if org is None:
            raise ApiError(404, "NOT_FOUND", "Organization not found.")
        assert isinstance(credits, int)
        self.w.adjust_credits(org, credits)
        return self.w.wallet_json(org)
