"""The one place a request is sent: URL and headers, Idempotency-Key, timeouts, error mapping.

Every resource method builds a `RequestSpec` and calls `Transport.send`: a retry loop around one
attempt. Each step of it is a function of its own: wait at the rate-limit gate within the
deadline (`_queue`), bound the attempt by the deadline (`_limit_attempt`), send it
(`_attempt`), then either record the success (`_succeeded`) or plan what follows the failure
(`_after_failure`, `_plan_retry`), which builds the error once, whole.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import uuid
from collections.abc import Callable, Mapping
from time import monotonic

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from . import _waiting
from ._config import RetryPolicy, Timeouts
from ._errors import (
    EXCERPT_CHARS,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    Failure,
    RateLimitError,
    error_from_failure,
    excerpt,
    failure_from_response,
)
from ._ratelimit import EndpointClass, GatePaused, RateLimitGate, RetryBudget
from ._request import (
    DEFAULT_CALL,
    NO_HOOKS,
    NOT_GIVEN,
    AttemptEvent,
    CallOptions,
    Hook,
    Hooks,
    NotGiven,
    RawResponse,
    RequestSpec,
    decode,
    decode_page,
)
from ._serde import dumps, loads
from ._waiting import sleep
from .models._base import ResponseMeta

__all__ = [
    "NOT_GIVEN",
    "AttemptEvent",
    "CallOptions",
    "Hooks",
    "NotGiven",
    "RawResponse",
    "RequestSpec",
    "Shared",
    "Transport",
    "decode",
    "decode_page",
]

log = logging.getLogger("layers_async")
#: aiohttp adds `Content-Type: application/octet-stream` to bodiless POST/PATCH; we send none.
_NO_CT = ("Content-Type",)
#: What a failed attempt ends a call with.
_CallError = APIConnectionError | APIStatusError | APIResponseValidationError


#: Error codes never retried, whatever their status: the key is killed, or the platform failed.
_NEVER_RETRIED = frozenset({"KILL_SWITCH", "PLATFORM_ERROR"})
#: Longest a call waits for the one-time tier lookup before going on without it...
_TIER_PATIENCE = 2.0
#: ... and the most of what is left of its deadline it spends on it.
_TIER_SHARE_OF_DEADLINE = 0.5
#: Longest one attempt of the tier lookup may take.
_TIER_ATTEMPT = 5.0
#: The tier lookup: the key's tier sizes the gate's buckets.
_WHOAMI = RequestSpec("GET", "/v1/whoami", "read-light")
#: An attempt that got no response before its timeout expired.
_TIMED_OUT = Failure(None, "The attempt timed out before a response arrived.", timed_out=True)
#: An attempt that timed out this close to the call's deadline was cut by the deadline.
_DEADLINE_SLACK = 0.05


class _Stop(enum.Enum):
    """Why a failed attempt is the call's last."""

    #: Not retryable, out of attempts, or the server asks for a longer wait than allowed.
    FINAL = "final"
    #: A retry was due but the client's retry budget is empty.
    BUDGET = "budget"
    #: The next attempt could only start after the call's deadline.
    DEADLINE = "deadline"


def _retryable(failure: Failure, cut_by_deadline: bool) -> bool:
    """The retry cases (contract §1.10): no response (unless the call's deadline cut the
    attempt), 429, and 5xx other than a killed key or a platform failure."""
    status = failure.status
    if status is None:
        return not cut_by_deadline
    if failure.code in _NEVER_RETRIED:
        return False
    return status == 429 or status >= 500


class Shared:
    """What every view of one client shares: the session, the rate-limit gate, the budget, and
    the largest response body it reads (`Limits.max_response_bytes`)."""

    __slots__ = ("budget", "gate", "max_body", "pool", "tier_task", "tier_waiters")

    def __init__(
        self,
        pool: Callable[[], aiohttp.ClientSession],
        gate: RateLimitGate,
        budget: RetryBudget,
        max_body: int,
    ) -> None:
        self.pool = pool
        self.gate = gate
        self.budget = budget
        self.max_body = max_body
        self.tier_task: asyncio.Future[None] | None = None
        self.tier_waiters = 0


class Transport:
    """Sends requests for one client view (its headers, timeouts, retry policy and hooks)."""

    __slots__ = (
        "_base_url",
        "_default_limit",
        "_gate",
        "_headers",
        "_hooks",
        "_key_hint",
        "_retry",
        "_shared",
        "_timeouts",
    )

    def __init__(
        self,
        shared: Shared,
        base_url: str,
        headers: dict[str, str],
        timeouts: Timeouts,
        key_hint: str,
        *,
        retry: RetryPolicy,
        gate_enabled: bool,
        hooks: Hooks = NO_HOOKS,
    ) -> None:
        self._shared = shared
        self._base_url = base_url
        self._headers = headers
        self._timeouts = timeouts
        #: What `_limit_attempt` answers for most attempts, built once: the view's own attempt
        #: timeout, which the call's deadline does not cut short.
        self._default_limit = (
            aiohttp.ClientTimeout(
                total=timeouts.attempt, sock_connect=timeouts.connect, sock_read=timeouts.read
            ),
            False,
        )
        self._key_hint = key_hint
        self._retry = retry
        self._gate = shared.gate if gate_enabled else None
        self._hooks = hooks

    # ------------------------------------------------------------------ the request path
    async def send(self, spec: RequestSpec) -> RawResponse:
        """Send one logical call: gate, attempts, backoff and one deadline; raises typed errors.

        The first attempt goes out straight from here (after queueing at the gate when it has
        no token at once); the retry loop, with its attempt count and backoff, only starts
        after the first attempt failed.
        """
        opts = spec.options
        if opts is DEFAULT_CALL:
            timeouts = self._timeouts
        else:
            timeouts = self._call_timeouts(opts.timeout)
        total = timeouts.total
        deadline = None if total is None else monotonic() + total
        gate = self._gate
        if gate is not None and not gate.known:
            await self._learn_tier(deadline)
        headers = self._headers_for(spec)
        body = spec.body
        data = None if body is None else dumps(body)
        self._shared.budget.on_first_attempt()
        klass = spec.endpoint_class
        waited = 0.0
        if gate is not None and not gate.try_acquire(klass):
            waited = await self._queue(spec, gate, deadline, 1, waited)
        try:
            limit, by_deadline = self._limit_attempt(spec, timeouts, deadline, 1, waited)
            self._emit_request(spec, 1)
            outcome = await self._attempt(spec, headers, data, limit, 1, waited)
        finally:
            if gate is not None:
                gate.release(klass)  # answered, failed or cancelled: the token is not kept
        if isinstance(outcome, RawResponse):
            self._succeeded(spec, outcome, 1)
            if gate is not None and gate.unsynced:
                await gate.sync()  # a shared gate writes its bookkeeping before returning
            return outcome
        return await self._retry_loop(
            spec, headers, data, timeouts, deadline, (outcome, by_deadline), waited
        )

    async def _retry_loop(
        self,
        spec: RequestSpec,
        headers: Mapping[str, str],
        data: bytes | None,
        timeouts: Timeouts,
        deadline: float | None,
        first: tuple[Failure, bool],
        waited: float,
    ) -> RawResponse:
        """The attempts after a first one that failed (`first`: its failure and whether the
        deadline bounded it; `waited`: the seconds it queued at the gate)."""
        gate = self._gate
        klass = spec.endpoint_class
        attempt = 1
        waited += await self._after_attempt(spec, first, attempt, waited, deadline)
        while True:
            attempt += 1
            if gate is not None and not gate.try_acquire(klass):
                waited += await self._queue(spec, gate, deadline, attempt, waited)
            try:
                limit, by_deadline = self._limit_attempt(spec, timeouts, deadline, attempt, waited)
                self._emit_request(spec, attempt)
                outcome = await self._attempt(spec, headers, data, limit, attempt, waited)
            finally:
                if gate is not None:
                    gate.release(klass)  # answered, failed or cancelled: the token is not kept
            if isinstance(outcome, RawResponse):
                self._succeeded(spec, outcome, attempt)
                if gate is not None and gate.unsynced:
                    await gate.sync()  # a shared gate writes its bookkeeping before returning
                return outcome
            failed = (outcome, by_deadline)
            waited += await self._after_attempt(spec, failed, attempt, waited, deadline)

    async def _after_attempt(
        self,
        spec: RequestSpec,
        failed: tuple[Failure, bool],
        attempt: int,
        waited: float,
        deadline: float | None,
    ) -> float:
        """Plan what follows a failed attempt and sleep before the next one; returns the real
        seconds slept. Raises the call's error when there is no next attempt."""
        gate = self._gate
        try:
            delay = self._after_failure(spec, failed[0], attempt, waited, deadline, failed[1])
        finally:
            if gate is not None and gate.unsynced:
                await gate.sync()  # a 429's pause reaches every process before we go on
        return await _sleep_for(delay)

    def _emit_request(self, spec: RequestSpec, attempt: int) -> None:
        on_request = self._hooks.on_request
        if on_request is not None:
            klass = spec.endpoint_class
            _emit(on_request, AttemptEvent(spec.method, spec.path, attempt, endpoint_class=klass))

    # ------------------------------------------------------------------ its steps
    def _call_timeouts(self, value: float | Timeouts | NotGiven | None) -> Timeouts:
        if isinstance(value, NotGiven):
            return self._timeouts
        if isinstance(value, Timeouts):
            return value
        return attrs.evolve(self._timeouts, total=None if value is None else float(value))

    def _headers_for(self, spec: RequestSpec) -> Mapping[str, str]:
        """The client's headers, plus the call's Idempotency-Key, body type and extra headers."""
        opts = spec.options
        if spec.method == "GET" and spec.body is None and not opts.extra_headers:
            return self._headers
        headers = dict(self._headers)
        if spec.method != "GET":
            # One key per logical call, made before the first attempt and sent again with every
            # retry, so the server runs the call at most once (contract §1.8).
            headers["Idempotency-Key"] = opts.idempotency_key or str(uuid.uuid4())
        if spec.body is not None:
            headers["Content-Type"] = "application/json"
        if opts.extra_headers:
            headers.update(opts.extra_headers)
        return headers

    async def _queue(
        self,
        spec: RequestSpec,
        gate: RateLimitGate,
        deadline: float | None,
        attempt: int,
        waited: float,
    ) -> float:
        """Wait at the gate for a token of the call's class; returns the seconds waited.

        Raises the deadline error when the deadline passes meanwhile, and a `RateLimitError`
        at once when a pause outlasts what the call may wait.
        """
        try:
            return await gate.acquire(spec.endpoint_class, deadline, self._retry.max_retry_after)
        except TimeoutError:
            raise self._deadline_error(spec, attempt - 1, waited, None) from None
        except GatePaused as paused:
            raise self._paused_error(spec, attempt - 1, waited, paused.seconds) from None

    def _limit_attempt(
        self,
        spec: RequestSpec,
        timeouts: Timeouts,
        deadline: float | None,
        attempt: int,
        waited: float,
    ) -> tuple[aiohttp.ClientTimeout, bool]:
        """The timeout of the next attempt, and whether it is the deadline that bounds it.

        Raises the deadline error when the deadline has already passed.
        """
        per_attempt = timeouts.attempt
        if deadline is not None:
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise self._deadline_error(spec, attempt - 1, waited, None)
            if per_attempt is None or remaining <= per_attempt:
                cut = aiohttp.ClientTimeout(
                    total=remaining, sock_connect=timeouts.connect, sock_read=timeouts.read
                )
                return cut, True
        if timeouts is self._timeouts:
            return self._default_limit
        own = aiohttp.ClientTimeout(
            total=per_attempt, sock_connect=timeouts.connect, sock_read=timeouts.read
        )
        return own, False

    async def _attempt(
        self,
        spec: RequestSpec,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
        attempt: int,
        waited: float,
    ) -> RawResponse | Failure:
        """Send the request once; the response read whole, or what went wrong."""
        method = spec.method
        path = spec.path
        try:
            async with self._shared.pool().request(
                method,
                self._base_url + path,
                params=spec.params,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                skip_auto_headers=None if data is not None or method == "GET" else _NO_CT,
            ) as resp:
                status = resp.status
                rheaders = resp.headers
                length = resp.content_length
                limit = self._shared.max_body
                if length is not None and length <= limit and "Content-Encoding" not in rheaders:
                    body = await resp.read()  # the common case: a small document of known size
                else:
                    body = await _read_capped(resp, limit)
        except _TooLarge as big:
            if status < 300:
                return self._too_large(status, rheaders, big.head)
            body = b""  # an error answer too large to read is judged by its status alone
        except asyncio.TimeoutError:
            # On Python >= 3.11 this also catches aiohttp's ServerTimeoutError. A cancellation
            # by the caller is a CancelledError, which is never caught here.
            log.debug("%s %s attempt %d -> timeout key=%s", method, path, attempt, self._key_hint)
            return _TIMED_OUT
        except aiohttp.ClientError as exc:
            # Only its text is kept: the exception may hold the request's headers.
            kind = type(exc).__name__
            log.debug("%s %s attempt %d -> %s key=%s", method, path, attempt, kind, self._key_hint)
            return Failure(None, f"Connection failed: {kind}: {exc}")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s attempt %d -> %s wait=%.3fs request_id=%s key=%s",
                method,
                path,
                attempt,
                status,
                waited,
                rheaders.get("X-Request-Id"),
                self._key_hint,
            )
        if status >= 300 and not (status == 304 and spec.accept_not_modified):
            return failure_from_response(status, _json_or_none(body), rheaders)
        meta = ResponseMeta(status, rheaders, attempts=attempt, waited=waited)
        return RawResponse(body, meta, spec)

    def _too_large(self, status: int, headers: CIMultiDictProxy[str], head: bytes) -> Failure:
        """A 2xx answer whose body outgrew `Limits.max_response_bytes` (never retried)."""
        limit = self._shared.max_body
        return Failure(
            status,
            f"The response body is larger than max_response_bytes ({limit} bytes).",
            request_id=headers.get("X-Request-Id"),
            headers=headers,
            body_limit=limit,
            excerpt=excerpt(head),
        )

    def _succeeded(self, spec: RequestSpec, raw: RawResponse, attempt: int) -> None:
        """Correct the gate from the answer's rate-limit headers and tell the hooks."""
        gate = self._gate
        if gate is not None:
            gate.observe(spec.endpoint_class, raw.meta.headers, lazily=True)
        on_response = self._hooks.on_response
        if on_response is not None:
            meta = raw.meta
            event = AttemptEvent(
                spec.method,
                spec.path,
                attempt,
                meta.status_code,
                meta.request_id,
                endpoint_class=spec.endpoint_class,
            )
            _emit(on_response, event)

    def _after_failure(
        self,
        spec: RequestSpec,
        failure: Failure,
        attempt: int,
        waited: float,
        deadline: float | None,
        by_deadline: bool,
    ) -> float:
        """After a failed attempt: the delay before the next one, or the call's error raised.

        The error is built once, with everything the call knows about it, and the hooks see
        that same error.
        """
        klass = spec.endpoint_class
        if self._gate is not None and failure.headers is not None:
            self._gate.observe(klass, failure.headers)
        cut = (
            failure.timed_out
            and by_deadline
            and deadline is not None
            and monotonic() >= deadline - _DEADLINE_SLACK
        )
        plan = self._plan_retry(failure, cut, attempt, klass, deadline)
        err = error_from_failure(
            failure,
            method=spec.method,
            path=spec.path,
            attempts=attempt,
            waited=waited,
            budget_exhausted=plan is _Stop.BUDGET,
            deadline_exceeded=cut,
        )
        hooks = self._hooks
        if hooks.on_response is not None:
            _emit(hooks.on_response, self._failed_event(spec, attempt, failure, err, 0.0))
        if plan is _Stop.DEADLINE:
            raise self._deadline_error(spec, attempt, waited, err) from err
        if isinstance(plan, _Stop):
            raise err
        if hooks.on_retry is not None:
            _emit(hooks.on_retry, self._failed_event(spec, attempt, failure, err, plan))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s attempt %d failed (%s); retrying in %.3fs key=%s",
                spec.method,
                spec.path,
                attempt,
                _describe(err),
                plan,
                self._key_hint,
            )
        return plan

    def _plan_retry(
        self,
        failure: Failure,
        cut_by_deadline: bool,
        attempt: int,
        klass: EndpointClass,
        deadline: float | None,
    ) -> float | _Stop:
        """The delay before the next attempt, or why there is none.

        A 429 pauses the whole class at the gate, even when this call gives up. The retry
        budget is only spent on a retry that will really be made.
        """
        if not _retryable(failure, cut_by_deadline):
            return _Stop.FINAL
        policy = self._retry
        retry_after = failure.retry_after
        if failure.status == 429 and self._gate is not None:
            wait = retry_after if retry_after is not None else policy.initial_backoff
            # Never pause the class longer than a call may wait: a huge Retry-After fails this
            # call at once (below), and the next call of the class only waits out the cap.
            wait = min(wait, policy.max_retry_after)
            details = failure.details or {}
            if details.get("limitType") == "concurrent_jobs":
                self._gate.hold_for_jobs_cap(klass, wait)
            else:
                self._gate.pause(klass, wait)
        if retry_after is not None and retry_after > policy.max_retry_after:
            return _Stop.FINAL  # the server asks for longer than we may wait: fail fast
        if attempt >= policy.max_attempts:
            return _Stop.FINAL
        backoff = min(policy.max_backoff, policy.initial_backoff * (2 ** (attempt - 1)))
        delay = random.uniform(0.0, backoff)  # full jitter
        if retry_after is not None:
            delay = max(delay, retry_after)
        if deadline is not None and monotonic() + _effective(delay) >= deadline:
            return _Stop.DEADLINE
        if not self._shared.budget.try_spend():
            return _Stop.BUDGET
        return delay

    @staticmethod
    def _failed_event(
        spec: RequestSpec,
        attempt: int,
        failure: Failure,
        err: _CallError,
        wait: float,
    ) -> AttemptEvent:
        return AttemptEvent(
            spec.method,
            spec.path,
            attempt,
            failure.status,
            failure.request_id,
            err,
            wait,
            spec.endpoint_class,
        )

    def _deadline_error(
        self,
        spec: RequestSpec,
        attempts: int,
        waited: float,
        last: _CallError | None,
    ) -> APITimeoutError:
        why = f"; last error: {_describe(last)}" if last is not None else ""
        log.debug("%s %s -> deadline passed key=%s", spec.method, spec.path, self._key_hint)
        return APITimeoutError(
            f"The call's deadline passed before it could complete{why}.",
            method=spec.method,
            path=spec.path,
            deadline_exceeded=True,
            attempts=attempts,
            waited=waited,
            rate_limit=None if last is None else last.rate_limit,
            headers=None if last is None else last.headers,
        )

    def _paused_error(
        self, spec: RequestSpec, attempts: int, waited: float, seconds: float
    ) -> RateLimitError:
        return RateLimitError(
            "The endpoint class is paused after a 429 for longer than this call may wait.",
            status_code=429,
            code="RATE_LIMITED",
            request_id=None,
            details={"limitType": "client_pause"},
            method=spec.method,
            path=spec.path,
            retry_after=seconds,
            attempts=attempts,
            waited=waited,
        )

    # ------------------------------------------------------------------ the tier lookup
    async def _learn_tier(self, deadline: float | None) -> None:
        """Size the gate from `whoami().rate_limit_tier`, once per client, shared by all tasks.

        The lookup is shared by every call waiting for it; when all of them are cancelled it is
        cancelled too (the next call starts a new one), so no task outlives its callers. A call
        waits for it only briefly, and never for more than part of what is left of its
        deadline; then it goes on with the most conservative sizing, which the lookup (when it
        ends) and the responses' `X-RateLimit-Limit` correct.
        """
        shared = self._shared
        if shared.tier_task is None or shared.tier_task.cancelled():
            shared.tier_task = asyncio.ensure_future(self._fetch_tier())
            shared.tier_waiters = 0
        task = shared.tier_task
        shared.tier_waiters += 1
        try:
            patience = _TIER_PATIENCE
            if deadline is not None:
                left = max(0.0, deadline - monotonic())
                patience = min(patience, left * _TIER_SHARE_OF_DEADLINE)
            try:
                await asyncio.wait_for(asyncio.shield(task), patience)
            except asyncio.TimeoutError:
                if not shared.gate.known:
                    shared.gate.set_tier("standard")
        finally:
            shared.tier_waiters -= 1
            if shared.tier_waiters == 0 and not task.done():
                task.cancel()
                shared.tier_task = None

    async def _fetch_tier(self) -> None:
        """`GET /v1/whoami`, sent and retried like every call (without the gate it sizes, and
        unseen by the hooks); whatever goes wrong, the gate ends up sized."""
        gate = self._shared.gate
        timeouts = Timeouts(
            total=None,
            attempt=min(self._timeouts.attempt or _TIER_ATTEMPT, _TIER_ATTEMPT),
            connect=self._timeouts.connect,
        )
        lookup = Transport(
            self._shared,
            self._base_url,
            self._headers,
            timeouts,
            self._key_hint,
            retry=self._retry,
            gate_enabled=False,
        )
        try:
            raw = await lookup.send(_WHOAMI)
            tier = loads(raw.body).get("rateLimitTier")
        except Exception:
            # The call itself will surface any real problem (a bad key, a closed client); size
            # the gate conservatively so that no task waits on this forever.
            gate.set_tier("standard")
            return
        gate.set_tier(tier if isinstance(tier, str) else "standard")
        gate.observe("read-light", raw.headers)


class _TooLarge(Exception):
    """A response body outgrew the limit; `head` is its first chunk (for the excerpt)."""

    def __init__(self, head: bytes) -> None:
        super().__init__()
        self.head = head


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The response body, decompressed, read whole unless it outgrows `limit` bytes: then the
    connection is dropped and `_TooLarge` raised. Memory stays bounded by the limit, also for a
    small compressed body that inflates enormously (counted after decompression, as read)."""
    if resp.content_length is not None and "Content-Encoding" not in resp.headers:
        resp.close()  # a plain body of known length over the limit: not worth reading
        raise _TooLarge(b"")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            resp.close()
            raise _TooLarge(chunks[0] if chunks else chunk[: EXCERPT_CHARS * 4])
        chunks.append(chunk)
    return b"".join(chunks)


def _emit(hook: Hook, event: AttemptEvent) -> None:
    try:
        hook(event)
    except Exception:
        log.exception("a layers_async hook raised; ignoring it")


async def _sleep_for(delay: float) -> float:
    """Sleep before a retry; returns the real seconds slept (none in the no-wait testing mode)."""
    slept_from = monotonic()
    await sleep(delay)
    return monotonic() - slept_from


def _json_or_none(body: bytes) -> object:
    """An error response's JSON body, or None when it has none or it is not JSON."""
    if not body:
        return None
    try:
        return loads(body)
    except ValueError:
        return None


def _effective(delay: float) -> float:
    """How long a wait really lasts (nothing in the no-wait testing mode)."""
    return 0.0 if _waiting.testing else delay


def _describe(err: _CallError) -> str:
    if isinstance(err, APIStatusError):
        return f"{err.status_code} {err.code or 'UNKNOWN'}"
    return type(err).__name__
