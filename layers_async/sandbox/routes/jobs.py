"""Jobs (contract §3.8): polling with an ETag, and cooperative cancellation."""

from __future__ import annotations

import hashlib

from .. import _render as render
from .._errors import Issues
from .._jsonio import dumps_canonical
from .._models import Job
from .._routing import READ, WRITE, Ctx, Out, Param, Route
from ._common import expect_empty_body, find

__all__ = ["ROUTES", "cancel_job", "get_job"]

JOB = Param("job", form="ulid")
#: An ETag is the first 16 hex digits of the SHA-256 of the canonical job JSON.
_ETAG_HEX_DIGITS = 16


def _job(ctx: Ctx) -> Job:
    return find(ctx, ctx.world.jobs, "jobId", "Job not found.")


def _etag_matches(header: str, etag: str) -> bool:
    """`If-None-Match` matches on `*` or any listed tag, weak (`W/`) or strong."""
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def get_job(ctx: Ctx, issues: Issues) -> Out:
    """GET /v1/jobs/{jobId}: with an ETag; a matching If-None-Match is a 304 without body."""
    issues.raise_if_any()
    body = dumps_canonical(render.job(ctx.world, _job(ctx), ctx.now))
    etag = '"' + hashlib.sha256(body).hexdigest()[:_ETAG_HEX_DIGITS] + '"'
    inm = ctx.headers.get("If-None-Match")
    if inm is not None and _etag_matches(inm, etag):
        return Out(304, None, {"ETag": etag})
    return Out(200, None, {"ETag": etag}, raw=body)


def cancel_job(ctx: Ctx, issues: Issues) -> Out:
    """POST /v1/jobs/{jobId}/cancel: 202 when accepted, 200 when the job had already ended."""
    expect_empty_body(ctx, issues)
    out = ctx.world.cancel_job(_job(ctx))
    return Out(202 if out["accepted"] else 200, out)


ROUTES: list[Route] = [
    Route("GET", "/v1/jobs/{jobId}", READ, "jobs:read", get_job, {"jobId": JOB}),
    Route("POST", "/v1/jobs/{jobId}/cancel", WRITE, "jobs:cancel", cancel_job, {"jobId": JOB}),
]
