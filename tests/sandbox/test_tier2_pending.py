"""Tier 2 routes not served yet (webhook deliveries and the routes beside them, approvals,
publish-now): each answers 404 NOT_FOUND like an unknown route."""

from __future__ import annotations

import pytest

from tests.sandbox._http import Api

WH = "wh_0f2e4d6c-8b0a-4c2e-9d4f-6a8b0c2e4f6a"
DLV = "dlv_1a3c5e7f-9b1d-4f3a-8c5e-7a9b1c3d5e7f"

TIER2 = [
    ("PATCH", f"/v1/webhook-endpoints/{WH}"),
    ("DELETE", f"/v1/webhook-endpoints/{WH}"),
    ("POST", f"/v1/webhook-endpoints/{WH}/rotate-secret"),
    ("POST", f"/v1/webhook-endpoints/{WH}/test"),
    ("GET", f"/v1/webhook-endpoints/{WH}/deliveries"),
    ("POST", f"/v1/webhook-deliveries/{DLV}/replay"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path"), TIER2, ids=[f"{m} {p}" for m, p in TIER2])
async def test_tier2_route_is_not_served_yet(api: Api, method: str, path: str) -> None:
    """Until Tier 2 lands, its routes answer 404 NOT_FOUND before authentication."""
    r = await api.with_key(None).call(method, path)
    assert r.status == 404
    assert r.code == "NOT_FOUND"
    assert r.headers["X-RateLimit-Endpoint-Class"] == (
        "read-light" if method == "GET" else "write-light"
    )
    assert "X-RateLimit-Limit" not in r.headers
