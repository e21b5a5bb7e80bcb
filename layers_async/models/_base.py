"""The base of every response model, and the per-response metadata it carries."""

from __future__ import annotations

import attrs

__all__ = ["LayersModel", "RateLimitInfo", "ResponseMeta"]


@attrs.frozen
class RateLimitInfo:
    """The rate-limit state a response reported (`X-RateLimit-*` headers)."""

    endpoint_class: str | None
    limit: int | None
    remaining: int | None
    reset_seconds: float | None


@attrs.frozen
class ResponseMeta:
    """Facts about the HTTP exchange that produced a model (never part of the API's body)."""

    #: `X-Request-Id` of the response: quote it when contacting Layers support.
    request_id: str | None
    #: HTTP status of the final attempt.
    status_code: int
    #: True when the server replayed a stored response for the same Idempotency-Key.
    idempotency_replayed: bool = False
    #: The `ETag` header, when the route sends one (jobs).
    etag: str | None = None
    #: The rate-limit headers of the response.
    rate_limit: RateLimitInfo | None = None
    #: How many attempts the call took.
    attempts: int = 1
    #: Seconds spent waiting between attempts.
    waited: float = 0.0


@attrs.frozen
class LayersModel:
    """Base of response models: frozen, slotted, snake_case; `meta` describes the response."""

    _meta: ResponseMeta | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)

    @property
    def meta(self) -> ResponseMeta | None:
        """The response this object came from (None for nested objects)."""
        return self._meta

    @property
    def request_id(self) -> str | None:
        """Shortcut for `meta.request_id`."""
        return self._meta.request_id if self._meta is not None else None
