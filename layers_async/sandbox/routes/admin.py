"""The `/_sandbox/*` admin API (contract §5), the OAuth consent page and the placeholder media.

These routes skip the `/v1` pipeline: no key, no rate limit, no fault injection.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .. import _render as render
from .. import _webhooks
from .._config import MAX_CREDITS, SPEED_RULE
from .._errors import Issues, not_found, validation
from .._jsonio import loads
from .._responses import ok
from .._validate import normalize_prefixed

if TYPE_CHECKING:
    from .._app import SandboxCore
    from .._world import World

__all__ = ["MP4_PLACEHOLDER", "PNG_PLACEHOLDER", "consent_location", "dispatch"]

AdminHandler = Callable[["SandboxCore", web.Request, str], Awaitable[web.StreamResponse]]

_MEDIA_PREFIX = "/_sandbox/media/"
#: A media name with one of these extensions is served as an image, any other as a video.
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".svg", ".heic")
_NEEDS_REAUTH = re.compile(r"/_sandbox/social-accounts/([^/]+)/needs-reauth")


def _png() -> bytes:
    """A 1x1 opaque white PNG, encoded by hand (no imaging library needed)."""

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


#: What every fake image URL serves.
PNG_PLACEHOLDER = _png()
#: What every fake video URL serves: an MP4 `ftyp` box and padding.
MP4_PLACEHOLDER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32


async def _body_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object (empty → {}); anything else is a 422 at path ""."""
    try:
        raw = await request.read() if request.can_read_body else b""
    except web.HTTPRequestEntityTooLarge:
        raise validation([{"path": "", "message": "Body too large."}]) from None
    if not raw.strip():
        return {}
    try:
        data = loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise validation([{"path": "", "message": "Body must be a JSON object."}])
    return data


def _clock(core: SandboxCore, rid: str, **extra: Any) -> web.Response:
    w = core.w
    return ok(rid, {"now": render.ts(w.now()), **extra})


# ---------------------------------------------------------------------- state, clock, config
async def get_state(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/state[?organizationId=…]: traffic and counts, for one organization or all."""
    org = request.rel_url.query.get("organizationId")
    if org is not None:
        org = normalize_prefixed(org, "org", bare_ok=True) or org
    return ok(rid, render.state(core.w, org))


async def get_clock(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/clock: virtual now and speed."""
    return _clock(core, rid, speed=core.w.clock.speed)


async def patch_clock(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """PATCH /_sandbox/clock `{"speed": n}`: from 0 (paused) to the fastest the clock runs."""
    data = await _body_json(request)
    if set(data) != {"speed"}:
        raise validation([{"path": "speed", "message": SPEED_RULE}])
    core.set_speed(data["speed"])
    return _clock(core, rid, speed=core.w.clock.speed)


async def advance_clock(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """POST /_sandbox/clock/advance `{"seconds": n}`: apply every transition due on the way."""
    data = await _body_json(request)
    applied = core.advance(data.get("seconds"))
    return _clock(core, rid, transitionsApplied=applied)


async def get_config(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/config: the effective configuration."""
    return ok(rid, core.public_config())


async def patch_config(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """PATCH /_sandbox/config: only the patchable keys."""
    core.patch_config(await _body_json(request))
    return ok(rid, core.public_config())


async def reset(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """POST /_sandbox/reset: wipe all state, merging the body over the configuration."""
    core.reset(await _body_json(request))
    return ok(rid, {"reset": True, "now": render.ts(core.w.now())})


# ---------------------------------------------------------------------- keys, credits, accounts
async def get_keys(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/keys: every key with its current string."""
    return ok(rid, {"items": core.keys_json()})


def _adjust_credits(w: World, data: Mapping[str, Any]) -> dict[str, Any]:
    """Add to (or take from) an organization's prepaid balance; returns its wallet."""
    issues = Issues()
    oid = data.get("organizationId")
    credits = data.get("credits")
    org = None
    if not isinstance(oid, str):
        issues.add("organizationId", "Required.")
    else:
        org = w.orgs.get(normalize_prefixed(oid, "org", bare_ok=True) or "")
    if (
        not isinstance(credits, int)
        or isinstance(credits, bool)
        or credits == 0
        or not -MAX_CREDITS <= credits <= MAX_CREDITS
    ):
        issues.add("credits", f"Must be a non-zero integer from -{MAX_CREDITS} to {MAX_CREDITS}.")
    issues.raise_if_any()
    if org is None:
        raise not_found("Organization not found.")
    assert isinstance(credits, int)
    if org.wallet.prepaid + credits > MAX_CREDITS:
        raise validation(
            [{"path": "credits", "message": f"Would take the balance past {MAX_CREDITS}."}]
        )
    w.adjust_credits(org, credits)
    return render.wallet(w, org)


async def post_credits(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """POST /_sandbox/credits `{"organizationId", "credits"}`: a ledger adjustment."""
    data = await _body_json(request)
    return ok(rid, _adjust_credits(core.w, data))


async def needs_reauth(
    core: SandboxCore, request: web.Request, rid: str, account_id: str
) -> web.StreamResponse:
    """POST /_sandbox/social-accounts/{id}/needs-reauth: a connected account's token goes bad."""
    acc = core.w.accounts.get(normalize_prefixed(account_id, "sa", bare_ok=False) or "")
    if acc is None:
        raise not_found("Social account not found.")
    if acc.status == "connected":
        acc.status = "reauth_required"
        _webhooks.account_needs_reauth(core.w, acc)
    return ok(rid, render.account(acc))


# ---------------------------------------------------------------------- consent page and media
def consent_location(w: World, state: str | None, decision: str) -> str:
    """Complete a pending OAuth attempt on the consent page; returns the redirect target.

    The return URL gets `state` and `status` (`success` only when this visit connected the
    account, else `error`) before any fragment.
    """
    issues = Issues()
    if state is None:
        issues.add("state", "Required.")
    if decision not in ("allow", "deny"):
        issues.add("decision", "Must be allow or deny.")
    issues.raise_if_any()
    assert state is not None
    att = w.oauth.get(state)
    if att is None:
        raise not_found("OAuth attempt not found.")
    was_pending = att.status == "pending"
    if was_pending:
        w.complete_oauth(att, w.now(), decision)
    status = "success" if was_pending and att.status == "completed" else "error"
    url, hash_sign, frag = att.return_url.partition("#")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}state={state}&status={status}{hash_sign}{frag}"


async def oauth_consent(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/oauth/authorize?state=…[&decision=allow|deny]: a 302 to the return URL."""
    q = request.rel_url.query
    location = consent_location(core.w, q.get("state"), q.get("decision", "allow"))
    return web.Response(status=302, headers={"X-Request-Id": rid, "Location": location})


def media(core: SandboxCore, rid: str, name: str) -> web.StreamResponse:
    """GET /_sandbox/media/{name}: the placeholder image or video of an issued media URL."""
    w = core.w
    if name not in w.issued_media:
        raise not_found("Media not found.")
    if name.lower().endswith(_IMAGE_EXTENSIONS):
        body, content_type = PNG_PLACEHOLDER, "image/png"
    else:
        body, content_type = MP4_PLACEHOLDER, "video/mp4"
    return web.Response(body=body, headers={"X-Request-Id": rid, "Content-Type": content_type})


async def get_outbox(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """GET /_sandbox/webhooks/outbox: the attempts recorded in `record` mode, oldest first,
    narrowed by `endpointId` and `type` when given."""
    endpoint = request.query.get("endpointId")
    type_ = request.query.get("type")
    items = [
        item
        for endpoint_id, event_type, item in core.w.webhook_outbox
        if endpoint in (None, endpoint_id) and type_ in (None, event_type)
    ]
    return ok(rid, {"items": items})


async def clear_outbox(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """DELETE /_sandbox/webhooks/outbox: forget every recorded attempt."""
    cleared = len(core.w.webhook_outbox)
    core.w.webhook_outbox.clear()
    return ok(rid, {"cleared": cleared})


#: The admin routes with an exact path, by (method, path).
ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("GET", "/_sandbox/state"): get_state,
    ("GET", "/_sandbox/clock"): get_clock,
    ("PATCH", "/_sandbox/clock"): patch_clock,
    ("POST", "/_sandbox/clock/advance"): advance_clock,
    ("GET", "/_sandbox/config"): get_config,
    ("PATCH", "/_sandbox/config"): patch_config,
    ("POST", "/_sandbox/reset"): reset,
    ("GET", "/_sandbox/keys"): get_keys,
    ("POST", "/_sandbox/credits"): post_credits,
    ("GET", "/_sandbox/oauth/authorize"): oauth_consent,
    ("GET", "/_sandbox/webhooks/outbox"): get_outbox,
    ("DELETE", "/_sandbox/webhooks/outbox"): clear_outbox,
}


async def dispatch(core: SandboxCore, request: web.Request, rid: str) -> web.StreamResponse:
    """Serve one `/_sandbox/` request after applying every transition due by now."""
    core.w.run_due()
    method, path = request.method, request.path
    handler = ROUTES.get((method, path))
    if handler is not None:
        return await handler(core, request, rid)
    if method == "GET" and path.startswith(_MEDIA_PREFIX):
        return media(core, rid, path[len(_MEDIA_PREFIX) :])
    reauth = _NEEDS_REAUTH.fullmatch(path)
    if reauth and method == "POST":
        return await needs_reauth(core, request, rid, reauth.group(1))
    raise not_found("No sandbox route matches this method and path.")
