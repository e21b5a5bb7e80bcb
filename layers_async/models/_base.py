"""The base of every response model, and the per-response metadata it carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from . import JSON

__all__ = ["LayersModel", "RateLimitInfo", "ResponseMeta"]


@attrs.frozen
class RateLimitInfo:
    """The rate-limit state a response reported (`X-RateLimit-*` headers)."""

    endpoint_class: str | None
    limit: int | None
    remaining: int | None
    reset_seconds: float | None


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class ResponseMeta:
    """Facts about the HTTP exchange that produced a model (never part of the API's body).

    Header-derived facts are read from the response headers when first asked for, so a call
    that never looks at them pays nothing for them.
    """

    __slots__ = ("_headers", "attempts", "status_code", "waited")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        *,
        attempts: int = 1,
        waited: float = 0.0,
    ) -> None:
        #: HTTP status of the final attempt.
        self.status_code = status_code
        #: How many attempts the call took.
        self.attempts = attempts
        #: Seconds spent waiting between attempts.
        self.waited = waited
        self._headers: Mapping[str, str] = headers if headers is not None else {}

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (read-only)."""
        return self._headers

    @property
    def request_id(self) -> str | None:
        """`X-Request-Id` of the response: quote it when contacting Layers support."""
        return self._headers.get("X-Request-Id")

    @property
    def idempotency_replayed(self) -> bool:
        """True when the server replayed a stored response for the same Idempotency-Key."""
        return self._headers.get("Idempotency-Replayed") == "true"

    @property
    def etag(self) -> str | None:
        """The `ETag` header, when the route sends one (jobs)."""
        return self._headers.get("ETag")

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The `X-RateLimit-*` state the response reported, if any."""
        h = self._headers
        klass = h.get("X-RateLimit-Endpoint-Class")
        if klass is None:
            return None
        reset = _int_or_none(h.get("X-RateLimit-Reset"))
        return RateLimitInfo(
            endpoint_class=klass,
            limit=_int_or_none(h.get("X-RateLimit-Limit")),
            remaining=_int_or_none(h.get("X-RateLimit-Remaining")),
            reset_seconds=float(reset) if reset is not None else None,
        )

    def __repr__(self) -> str:
        return (
            f"ResponseMeta(request_id={self.request_id!r}, status_code={self.status_code}, "
            f"idempotency_replayed={self.idempotency_replayed}, etag={self.etag!r}, "
            f"rate_limit={self.rate_limit!r}, attempts={self.attempts}, waited={self.waited})"
        )


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

    def to_dict(self, *, wire: bool = True) -> dict[str, JSON]:
        """This model as plain data that `json.dumps` accepts, e.g. to answer a web request.

        With ``wire=True`` (the default) the keys are the API's camelCase names and the
        shape is the one the Layers API documents (``{"id": ..., "createdAt": "...Z"}``);
        with ``wire=False`` they are this class's snake_case attribute names. Either way
        datetimes become UTC ISO 8601 strings ending in ``Z``, nested models objects and
        tuples lists; `meta` is left out. A ``wire=True`` dict decodes back into an equal
        model, as a response body would.
        """
        from .._serde import to_plain  # the serde module imports this one

        return to_plain(self, wire=wire)
