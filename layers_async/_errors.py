"""The exceptions layers_async raises.

::

    LayersError
    ├── LayersValidationError(LayersError, ValueError)   bad input caught before any request
    ├── APIConnectionError                                no response (reset, DNS, refused)
    │   └── APITimeoutError(APIConnectionError, TimeoutError)
    ├── APIStatusError  (status_code, code, message, request_id, details, attempts)
    │   ├── BadRequestError 400 · AuthenticationError 401 · PaymentRequiredError 402
    │   ├── PermissionDeniedError 403 · NotFoundError 404 · ConflictError 409
    │   │   ├── ApprovalRequiredError(PermissionDeniedError) (APPROVAL_REQUIRED)
    │   │   ├── ContentRejectedError(ConflictError) (CONTENT_REJECTED)
    │   │   └── IdempotencyConflictError(ConflictError) (IDEMPOTENCY_CONFLICT)
    │   ├── UnprocessableEntityError 422 (issues) · RateLimitError 429 (retry_after)
    │   └── InternalServerError 5xx · KillSwitchError 503 KILL_SWITCH
    ├── APIResponseValidationError (status_code, request_id, excerpt)  a 2xx answer whose body
    │   │                        is not what the route returns: not JSON (truncated, HTML,
    │   │                        empty), not an object, or without the fields a model requires
    │   └── ResponseTooLargeError (max_response_bytes)   a body over `Limits.max_response_bytes`
    ├── ClientClosedError(LayersError, RuntimeError)  a call or a waiter on a closed client
    ├── WebhookVerificationError (reason)        a webhook delivery that did not verify
    └── WaitError                                   a waiter saw its thing end badly
        ├── JobFailedError (job, error) · JobCanceledError (job)
        ├── InfluencerFailedError (influencer) · OAuthFailedError · OAuthExpiredError (attempt)
        └── WaitTimeoutError(WaitError, TimeoutError)   (last_state: what was last seen)

Branch on `code` (stable), never on `message`. Every `APIStatusError` carries the server's
`request_id` when it gave one. No exception ever holds the API key: they carry the method and
path of the request, never its headers.

`APIResponseValidationError` is not an `APIStatusError`: the server said the call succeeded
(the status is 2xx), so a write it reports may well have happened; its `excerpt` shows the start
of the body (at most 200 characters), never the whole body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Generic, NamedTuple, TypedDict, TypeVar

from ._ratelimit import header_int
from .models._base import ResponseMeta

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._request import RawResponse
    from .models import JSON
    from .models._base import RateLimitInfo
    from .models.influencers import InfluencerSummary
    from .models.jobs import ErrorInfo, Job
    from .models.social import OAuthAttempt

__all__ = [
    "EXCERPT_CHARS",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ApprovalRequiredError",
    "AuthenticationError",
    "BadRequestError",
    "CallFacts",
    "ClientClosedError",
    "ConflictError",
    "ContentRejectedError",
    "Failure",
    "GateUnavailableError",
    "IdempotencyConflictError",
    "InfluencerFailedError",
    "InternalServerError",
    "JobCanceledError",
    "JobFailedError",
    "KillSwitchError",
    "LayersError",
    "LayersValidationError",
    "NotFoundError",
    "OAuthExpiredError",
    "OAuthFailedError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "ValidationIssue",
    "WaitError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_from_failure",
    "excerpt",
    "failure_from_response",
    "malformed",
    "retry_after_seconds",
]

S = TypeVar("S")  # what a waiter waited for (a Job, an InfluencerSummary, an OAuthAttempt)


def _restore(
    cls: type[LayersError], args: tuple[object, ...], state: dict[str, object]
) -> LayersError:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class LayersError(Exception):
    """Base class of every layers_async exception."""

    def __reduce__(
        self,
    ) -> tuple[
        Callable[[type[LayersError], tuple[object, ...], dict[str, object]], LayersError],
        tuple[type[LayersError], tuple[object, ...], dict[str, object]],
    ]:
        # Exceptions with keyword-only constructors do not pickle by default; rebuild from state.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class LayersValidationError(LayersError, ValueError):
    """Input rejected before any request was sent. `field` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CallFacts(TypedDict, total=False):
    """What an API-side error reports about the call that raised it: keywords every such
    error's constructor accepts (each optional), and the attributes it then has."""

    #: Attempts the call made (1 when it was not retried).
    attempts: int
    #: Seconds the call spent waiting (backoff sleeps, Retry-After, the rate-limit gate).
    waited: float
    #: True when a retry was possible but the client's retry budget was empty.
    budget_exhausted: bool
    #: The `X-RateLimit-*` state of the last response, when there was one.
    rate_limit: RateLimitInfo | None
    #: The headers of the last response (None when no response arrived).
    headers: Mapping[str, str] | None


class _CallFacts:
    """The `CallFacts` attributes, set once by the constructor."""

    attempts: int
    waited: float
    budget_exhausted: bool
    rate_limit: RateLimitInfo | None
    headers: Mapping[str, str] | None

    def _set_call_facts(
        self,
        *,
        attempts: int = 1,
        waited: float = 0.0,
        budget_exhausted: bool = False,
        rate_limit: RateLimitInfo | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.attempts = attempts
        self.waited = waited
        self.budget_exhausted = budget_exhausted
        self.rate_limit = rate_limit
        # A plain dict (never the response's multidict), so that the error still pickles.
        self.headers = None if headers is None else dict(headers)


class APIConnectionError(_CallFacts, LayersError):
    """No response arrived: the connection failed, was reset or was closed early."""

    def __init__(self, message: str, *, method: str, path: str, **facts: Unpack[CallFacts]) -> None:
        super().__init__(f"{message} ({method} {path})")
        self.message = message
        self.method = method
        self.path = path
        self._set_call_facts(**facts)


class APITimeoutError(APIConnectionError, TimeoutError):
    """A timeout the SDK set expired. `deadline_exceeded` tells which: True when the call's own
    deadline (`Timeouts.total`) passed — never retried — False when one attempt ran over
    `Timeouts.attempt` (retried while attempts, budget and deadline allow). A cancellation by the
    caller is never turned into this error: it propagates as `CancelledError`.

    When the deadline passed after an answered attempt, `rate_limit` and `headers` are that
    answer's."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        deadline_exceeded: bool = False,
        **facts: Unpack[CallFacts],
    ) -> None:
        super().__init__(message, method=method, path=path, **facts)
        self.deadline_exceeded = deadline_exceeded


class ValidationIssue:
    """One entry of a `422 VALIDATION` error's `details.issues`."""

    __slots__ = ("message", "path")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __repr__(self) -> str:
        return f"ValidationIssue(path={self.path!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidationIssue):
            return NotImplemented
        return (self.path, self.message) == (other.path, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.message))

    def __reduce__(self) -> tuple[type[ValidationIssue], tuple[str, str]]:
        return (ValidationIssue, (self.path, self.message))


class APIStatusError(_CallFacts, LayersError):
    """The API answered with an error status. Branch on `code`, never on `message`."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None,
        request_id: str | None,
        details: Mapping[str, JSON] | None,
        method: str,
        path: str,
        retry_after: float | None = None,
        **facts: Unpack[CallFacts],
    ) -> None:
        rid = f", request_id={request_id}" if request_id else ""
        super().__init__(f"{status_code} {code or 'UNKNOWN'}: {message} ({method} {path}{rid})")
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.details: dict[str, JSON] = dict(details or {})
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self._set_call_facts(**facts)

    @property
    def issues(self) -> list[ValidationIssue]:
        """`details.issues` as objects (empty unless the error is a 422)."""
        raw = self.details.get("issues")
        if not isinstance(raw, list):
            return []
        return [
            ValidationIssue(str(i.get("path", "")), str(i.get("message", "")))
            for i in raw
            if isinstance(i, dict)
        ]


class BadRequestError(APIStatusError):
    """400, e.g. `IDEMPOTENCY_REQUIRED`."""


class AuthenticationError(APIStatusError):
    """401 `UNAUTHENTICATED`: missing, malformed, unknown, revoked or rotated-away key."""


class PaymentRequiredError(APIStatusError):
    """402 `BILLING_EXHAUSTED`: `details` has `required`, `available`, `reason`."""


class PermissionDeniedError(APIStatusError):
    """403: `FORBIDDEN_SCOPE`, `RETURN_URL_NOT_ALLOWED` or `APPROVAL_REQUIRED`."""


class NotFoundError(APIStatusError):
    """404 `NOT_FOUND`: absent, deleted, or in another organization."""


class ConflictError(APIStatusError):
    """409: the resource's state forbids the operation (`CONFLICT`, `CONTENT_REJECTED`)."""


class ApprovalRequiredError(PermissionDeniedError):
    """403 `APPROVAL_REQUIRED`: publish-now of content still awaiting approval; `details` has
    `containerId` and `approvalStatus`. Nothing was parked: approve, then publish again."""


class ContentRejectedError(ConflictError):
    """409 `CONTENT_REJECTED`: schedule or publish of rejected content (never allowed; generate
    again for a new take)."""


class IdempotencyConflictError(ConflictError):
    """409 `IDEMPOTENCY_CONFLICT`: the same Idempotency-Key was sent with another body."""


class UnprocessableEntityError(APIStatusError):
    """422 `VALIDATION`: `issues` lists every problem the server found."""


class RateLimitError(APIStatusError):
    """429 `RATE_LIMITED`: `retry_after` holds the server's Retry-After in seconds."""


class InternalServerError(APIStatusError):
    """A 5xx other than `KILL_SWITCH` (retryable by the SDK's rules)."""


class KillSwitchError(APIStatusError):
    """503 `KILL_SWITCH`: the key was killed or its organization suspended (never retried).

    `scope` tells which: ``"key"`` (rotate the key to bring it back) or ``"organization"``
    (the organization is suspended until its parent resumes it)."""

    @property
    def scope(self) -> str | None:
        """`details.scope`: ``"key"`` or ``"organization"`` (None when the server gave none;
        a newer value is kept as it is)."""
        scope = self.details.get("scope")
        return scope if isinstance(scope, str) else None


class APIResponseValidationError(_CallFacts, LayersError):
    """The API answered 2xx, but its body is not what the route returns: not JSON (truncated,
    HTML, empty), not a JSON object, or without the fields the model requires.

    `status_code` and `request_id` are the answer's (quote the id to Layers support); `excerpt`
    is the start of the body, at most 200 characters. Unknown fields and unknown enum values
    never cause it: they decode as documented. Not retried: the server reported success, so a
    write may have happened (retry it with the same `idempotency_key` to get its result).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None,
        excerpt: str,
        method: str,
        path: str,
        **facts: Unpack[CallFacts],
    ) -> None:
        rid = f", request_id={request_id}" if request_id else ""
        super().__init__(f"{status_code}: {message} ({method} {path}{rid})")
        self.message, self.excerpt = message, excerpt
        self.status_code, self.request_id = status_code, request_id
        self.method, self.path = method, path
        self._set_call_facts(**facts)


class ResponseTooLargeError(APIResponseValidationError):
    """The answer's body outgrew `Limits.max_response_bytes` (counted after decompression): the
    SDK stopped reading it there."""

    #: The limit that applied (`Limits.max_response_bytes`).
    max_response_bytes: int = 0


class ClientClosedError(LayersError, RuntimeError):
    """The `LayersClient` was closed: a call was made on it afterwards, or a waiter was still
    waiting when it closed. Create a new client (`async with LayersClient(...)`)."""


class GateUnavailableError(LayersError, RuntimeError):
    """A shared rate-limit gate could not reach its store (e.g. Redis is down or refuses), so
    the call was not sent: sending without the shared budget could draw a 429 storm on the key.
    Choose ``fallback="local"`` on the gate to go on with a per-process gate instead.
    The message names the store's error, never a password from its URL."""


class WebhookVerificationError(LayersError):
    """A webhook delivery failed verification (`verify_webhook`): answer it with ``400`` and
    do not act on it. `reason` says why, as a stable word:

    - ``missing_header``: no ``X-Layers-Signature`` header;
    - ``malformed``: the header is not ``t=<unix seconds>,v1=<hex>[,v1=<hex>]``;
    - ``stale`` / ``future``: its timestamp is further than the tolerance from now (a replay,
      or a clock out of step);
    - ``no_match``: no signature matches any of the secrets (wrong secret, altered body);
    - ``invalid_payload``: the body verified but is not a JSON event object.

    The message never holds a secret, a signature or the body.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"webhook verification failed ({reason}): {message}")
        #: Why, as a stable word (see the class docstring).
        self.reason = reason
        self.message = message


_BY_CODE: dict[str, type[APIStatusError]] = {
    "IDEMPOTENCY_REQUIRED": BadRequestError,
    "UNAUTHENTICATED": AuthenticationError,
    "BILLING_EXHAUSTED": PaymentRequiredError,
    "FORBIDDEN_SCOPE": PermissionDeniedError,
    "RETURN_URL_NOT_ALLOWED": PermissionDeniedError,
    "APPROVAL_REQUIRED": ApprovalRequiredError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "CONTENT_REJECTED": ContentRejectedError,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflictError,
    "VALIDATION": UnprocessableEntityError,
    "RATE_LIMITED": RateLimitError,
    "KILL_SWITCH": KillSwitchError,
}
_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The answer's `Retry-After` in seconds, or None when it is absent or unreadable.

    Only what the contract allows is read: a non-negative integer number of seconds (ASCII
    digits alone, contract §1.11) — or the HTTP-date form, counted from the answer's `Date`
    (else from now). Anything else (`inf`, `1e3`, `-1`, `1.5`, `abc`) counts as absent, so the
    call falls back to its backoff. How long a call or the gate really waits is capped
    separately by `RetryPolicy.max_retry_after`.
    """
    value = headers.get("Retry-After")
    if value is None:
        return None
    seconds = header_int(value)
    if seconds is not None:
        return float(seconds)
    when = _http_date(value)
    if when is None:
        return None
    sent = _http_date(headers.get("Date")) or datetime.now(timezone.utc)
    return float(max(0, math.ceil((when - sent).total_seconds())))


def _http_date(value: str | None) -> datetime | None:
    """An HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`) as an aware datetime, else None."""
    if not value or not value[:1].isalpha():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


#: Characters of a response body an error shows at most.
EXCERPT_CHARS = 200
#: A key-shaped token (its log-safe prefix kept), or a bearer credential, in a response body.
_KEY_LIKE = re.compile(
    r"(lp_(?:live|test)_[0-9A-HJKMNP-TV-Z]{16})_[A-Za-z0-9_-]+|(Bearer\s+)\S+", re.IGNORECASE
)


def excerpt(body: bytes) -> str:
    """The start of a response body for an error: at most `EXCERPT_CHARS` characters, decoded
    leniently, with anything shaped like an API key cut to its log-safe prefix (a misbehaving
    proxy may echo the request's headers)."""
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    return _KEY_LIKE.sub(lambda m: f"{m.group(1)}_…" if m.group(1) else f"{m.group(2)}…", text)


class Failure(NamedTuple):
    """An attempt that got no usable answer, read but not yet turned into an exception: the
    transport decides from it whether to retry, then builds the exception once, whole
    (`error_from_failure`)."""

    #: HTTP status of the answer; None when no response arrived.
    status: int | None
    message: str
    code: str | None = None
    details: Mapping[str, JSON] | None = None
    request_id: str | None = None
    #: The answer's `Retry-After` in seconds (None when absent or unreadable).
    retry_after: float | None = None
    headers: Mapping[str, str] | None = None
    #: No response arrived because the attempt's own timeout expired.
    timed_out: bool = False
    #: A 2xx answer whose body outgrew this many bytes (`Limits.max_response_bytes`).
    body_limit: int | None = None
    #: The start of that body (see `excerpt`).
    excerpt: str = ""


def failure_from_response(status: int, payload: object, headers: Mapping[str, str]) -> Failure:
    """Read an error response: `code`, `message` and `details` from its JSON body, the request
    id from `X-Request-Id` (else from the body) and `Retry-After`."""
    code: str | None = None
    message = "The API returned an error."
    details: Mapping[str, JSON] | None = None
    body_rid: str | None = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        code = err.get("code") if isinstance(err.get("code"), str) else None
        if isinstance(err.get("message"), str):
            message = err["message"]
        if isinstance(err.get("details"), dict):
            details = err["details"]
        if isinstance(err.get("requestId"), str):
            body_rid = err["requestId"]
    elif status >= 500:
        message = "The server returned a non-JSON error."
    return Failure(
        status,
        message,
        code,
        details,
        headers.get("X-Request-Id") or body_rid,
        retry_after_seconds(headers),
        headers,
    )


def error_from_failure(
    failure: Failure,
    *,
    method: str,
    path: str,
    attempts: int,
    waited: float,
    budget_exhausted: bool = False,
    deadline_exceeded: bool = False,
) -> APIConnectionError | APIStatusError | APIResponseValidationError:
    """Build the typed error of a failed attempt with everything the call knows about it (for
    an error status, the class is chosen by `code`, then by status)."""
    facts = CallFacts(attempts=attempts, waited=waited, budget_exhausted=budget_exhausted)
    status = failure.status
    if status is None:
        if failure.timed_out:
            return APITimeoutError(
                failure.message,
                method=method,
                path=path,
                deadline_exceeded=deadline_exceeded,
                **facts,
            )
        return APIConnectionError(failure.message, method=method, path=path, **facts)
    if failure.headers is not None:
        facts["headers"] = failure.headers
        facts["rate_limit"] = ResponseMeta(status, failure.headers).rate_limit
    if failure.body_limit is not None:
        big = ResponseTooLargeError(
            failure.message, status_code=status, request_id=failure.request_id,
            excerpt=failure.excerpt, method=method, path=path, **facts,
        )  # fmt: skip
        big.max_response_bytes = failure.body_limit
        return big
    cls = _BY_CODE.get(failure.code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(
        failure.message,
        status_code=status,
        code=failure.code,
        request_id=failure.request_id,
        details=failure.details,
        method=method,
        path=path,
        retry_after=failure.retry_after,
        **facts,
    )


def malformed(raw: RawResponse, what: str, exc: Exception) -> APIResponseValidationError:
    """The error for a 2xx body that does not decode into `what`; `exc` is why (only its text
    is kept: a JSON parser's exception holds the whole body)."""
    from ._serde import loads  # here: the converter's module raises this module's errors

    try:
        data = loads(raw.body)
    except Exception:
        why = "an empty body" if not raw.body.strip() else "a body that is not valid JSON"
    else:
        if not isinstance(data, dict):
            why = f"{_kind(data)} where a JSON object was expected"
        elif isinstance(exc, KeyError):
            why = f"an object without the required field {exc.args[0]!r}"
        else:
            why = f"an object that does not fit ({type(exc).__name__}: {str(exc)[:EXCERPT_CHARS]})"
    meta = raw.meta
    return APIResponseValidationError(
        f"The API answered {raw.status} with {why}, not a {what}.",
        status_code=raw.status,
        request_id=meta.request_id,
        excerpt=excerpt(raw.body),
        method=raw.spec.method,
        path=raw.spec.path,
        attempts=meta.attempts,
        waited=meta.waited,
        headers=raw.headers,
        rate_limit=meta.rate_limit,
    )


def _kind(value: object) -> str:
    """How a decoding error names a JSON value's type."""
    if value is None:
        return "null"
    return {list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


class WaitError(LayersError):
    """A waiter stopped because what it waited for ended badly, or its deadline passed."""

    def __init__(self, message: str, *, subject: object = None) -> None:
        super().__init__(message)
        self.message = message
        #: The last state of the thing waited for (a Job, an InfluencerSummary, an OAuthAttempt,
        #: ...); each subclass names it by what it is (`job`, `influencer`, `attempt`).
        self.subject = subject


class _EndedBadly(WaitError, Generic[S]):
    """A waiter's thing ended badly; `subject` is its final state, of type `S`."""

    subject: S

    def __init__(self, message: str, *, subject: S) -> None:
        super().__init__(message, subject=subject)


class _JobEnded(_EndedBadly["Job"]):
    """A job ended other than `completed`; `job` is the final Job."""

    @property
    def job(self) -> Job:
        """The final Job."""
        return self.subject


class JobFailedError(_JobEnded):
    """The job ended `failed`; `job` is the final Job and `error` its `{code, message}`."""

    @property
    def error(self) -> ErrorInfo | None:
        """The job's `ErrorInfo` (`code` such as `GENERATION_FAILED`)."""
        return self.subject.error


class JobCanceledError(_JobEnded):
    """The job ended `canceled`; `job` is the final Job."""


class InfluencerFailedError(_EndedBadly["InfluencerSummary"]):
    """The influencer waited for failed (or every influencer of the project did)."""

    @property
    def influencer(self) -> InfluencerSummary:
        """The failed influencer."""
        return self.subject


class _OAuthEnded(_EndedBadly["OAuthAttempt"]):
    """An OAuth attempt ended other than `completed`; `attempt` is its final state."""

    @property
    def attempt(self) -> OAuthAttempt:
        """The final OAuthAttempt."""
        return self.subject


class OAuthFailedError(_OAuthEnded):
    """The OAuth attempt ended `failed` (`attempt.error.code` is OAUTH_DENIED or OAUTH_FAILED)."""


class OAuthExpiredError(_OAuthEnded):
    """The OAuth attempt expired while pending: mint a new URL."""


class WaitTimeoutError(WaitError, TimeoutError):
    """The waiter's deadline passed; `last_state` is what was seen last (None if nothing)."""

    @property
    def last_state(self) -> object:
        """The last state observed before the deadline: what the waiter polls (a Job, a tuple of
        InfluencerSummary, a KeywordBank, an OAuthAttempt), or None when nothing was seen."""
        return self.subject
