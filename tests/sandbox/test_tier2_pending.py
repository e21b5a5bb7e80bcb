"""Tier 2 routes are not served yet: each answers 404 NOT_FOUND like an unknown route."""

from __future__ import annotations

import pytest

from tests.sandbox._http import Api

ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
KEY = "key_c2037e9a-5b14-4f6d-8a2e-91c0d7b3e845"
WH = "wh_0f2e4d6c-8b0a-4c2e-9d4f-6a8b0c2e4f6a"
DLV = "dlv_1a3c5e7f-9b1d-4f3a-8c5e-7a9b1c3d5e7f"

TIER2 = [
    ("POST", "/v1/organizations"),
    ("GET", "/v1/organizations"),
    ("GET", f"/v1/organizations/{ORG}"),
    ("PATCH", f"/v1/organizations/{ORG}"),
    ("POST", f"/v1/organizations/{ORG}/suspend"),
    ("POST", f"/v1/organizations/{ORG}/resume"),
    ("DELETE", f"/v1/organizations/{ORG}"),
    ("POST", f"/v1/organizations/{ORG}/api-keys"),
    ("GET", f"/v1/organizations/{ORG}/api-keys"),
    ("POST", f"/v1/organizations/{ORG}/api-keys/{KEY}/rotate"),
    ("DELETE", f"/v1/organizations/{ORG}/api-keys/{KEY}"),
    ("POST", f"/v1/organizations/{ORG}/credits/allocate"),
    ("GET", f"/v1/organizations/{ORG}/credits"),
    ("GET", f"/v1/organizations/{ORG}/credits/events"),
    ("GET", f"/v1/organizations/{ORG}/credit-config"),
    ("PATCH", f"/v1/organizations/{ORG}/credit-config"),
    ("POST", f"/v1/api-keys/{KEY}/kill"),
    ("POST", f"/v1/api-keys/{KEY}/rotate"),
    ("GET", "/v1/credits/events"),
    ("POST", "/v1/webhook-endpoints"),
    ("GET", "/v1/webhook-endpoints"),
    ("GET", f"/v1/webhook-endpoints/{WH}"),
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
