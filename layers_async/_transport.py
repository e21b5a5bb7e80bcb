"""The one place a request is sent: URL and headers, Idempotency-Key, timeouts, error mapping.

Every resource method builds a `RequestSpec` and calls `Transport.send`. Retries and rate limiting
slot in around `Transport._attempt` without touching resource code.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from time import monotonic
from typing import Any, Final, NamedTuple, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from . import _waiting
from ._config import RetryPolicy, Timeouts
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    error_from_response,
)
from ._ratelimit import GatePaused, RateGate, RetryBudget, endpoint_class
from ._serde import dumps, loads, structure
from ._waiting import sleep
from .models._base import LayersModel, ResponseMeta

__all__ = [
    "NOT_GIVEN",
    "AttemptEvent",
    "Hooks",
    "Shared",
    "CallOptions",
    "NotGiven",
    "RawResponse",
    "RequestSpec",
    "Transport",
    "decode",
]

log = logging.getLogger("layers_async")
#: aiohttp adds `Content-Type: application/octet-stream` to bodiless POST/PATCH; we send none.
_NO_CT = ("Content-Type",)
M = TypeVar("M", bound=LayersModel)


class NotGiven:
    """Marks a keyword argument the caller did not pass (distinct from an explicit None)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


@attrs.frozen
class CallOptions:
    """Per-call options every resource method accepts as keywords."""

    timeout: float | Timeouts | NotGiven | None = NOT_GIVEN
    idempotency_key: str | None = None
    extra_headers: Mapping[str, str] | None = None


DEFAULT_CALL = CallOptions()


class RequestSpec(NamedTuple):
    """What a resource method asks the transport to send."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] | None = None
    body: Mapping[str, Any] | None = None
    options: CallOptions = DEFAULT_CALL
    accept_not_modified: bool = False


class RawResponse(NamedTuple):
    """A successful (2xx or accepted 304) response, read whole."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    meta: ResponseMeta


def decode(raw: RawResponse, cls: type[M]) -> M:
    """Decode a JSON body into `cls` and attach the response metadata."""
    obj = structure(loads(raw.body), cls)
    object.__setattr__(obj, "_meta", raw.meta)
    return obj


@attrs.frozen
class AttemptEvent:
    """What the `on_request`, `on_response` and `on_retry` hooks receive about one attempt."""

    method: str
    path: str
    attempt: int
    #: HTTP status of the attempt (None before it is sent, or when no response arrived).
    status: int | None = None
    request_id: str | None = None
    #: The error this attempt ended with, if any.
    error: BaseException | None = None
    #: Seconds the call will wait before the next attempt (`on_retry` only).
    wait: float = 0.0


Hook = Callable[[AttemptEvent], None]


@attrs.frozen
class Hooks:
    """Synchronous callbacks observing attempts; a hook's exception is logged, not raised."""

    on_request: Hook | None = None
    on_response: Hook | None = None
    on_retry: Hook | None = None


NO_HOOKS = Hooks()
_NEVER_RETRIED = frozenset({"KILL_SWITCH", "PLATFORM_ERROR"})
#: Longest a call waits for the one-time tier lookup before going on without it.
_TIER_PATIENCE = 2.0


def _retryable(err: Exception) -> bool:
    """The retry cases of contract §1.10."""
    if isinstance(err, APITimeoutError):
        return not err.deadline_exceeded
    if isinstance(err, APIConnectionError):
        return True
    if isinstance(err, APIStatusError):
        if err.code in _NEVER_RETRIED:
            return False
        return err.status_code == 429 or err.status_code >= 500
    return False


class Shared:
    """What every view of one client shares: the session, the rate-limit gate, the budget."""

    __slots__ = ("budget", "gate", "pool", "tier_task", "tier_waiters")

    def __init__(
        self, pool: Callable[[], aiohttp.ClientSession], gate: RateGate, budget: RetryBudget
    ) -> None:
        self.pool = pool
        self.gate = gate
        self.budget = budget
        self.tier_task: asyncio.Future[None] | None = None
        self.tier_waiters = 0


class Transport:
    """Sends requests for one client view (its headers, timeouts, retry policy and hooks)."""

    __slots__ = (
        "_attempt_timeout",
        "_base_url",
        "_gate_enabled",
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
        self._attempt_timeout = aiohttp.ClientTimeout(
            total=timeouts.attempt, sock_connect=timeouts.connect, sock_read=timeouts.read
        )
        self._key_hint = key_hint
        self._retry = retry
        self._gate_enabled = gate_enabled
        self._hooks = hooks

    def _call_timeouts(self, value: float | Timeouts | NotGiven | None) -> Timeouts:
        if isinstance(value, NotGiven):
            return self._timeouts
        if isinstance(value, Timeouts):
            return value
        return attrs.evolve(self._timeouts, total=None if value is None else float(value))

    async def send(self, spec: RequestSpec) -> RawResponse:
        """Send one logical call: gate, attempts, backoff and one deadline; raises typed errors."""
        opts = spec.options
        headers = self._headers
        method = spec.method
        if method != "GET" or spec.body is not None or opts.extra_headers:
            headers = dict(headers)
            if method != "GET":
                # One key per logical call, made before the first attempt (contract §1.8).
                headers["Idempotency-Key"] = opts.idempotency_key or str(uuid.uuid4())
            if spec.body is not None:
                headers["Content-Type"] = "application/json"
            if opts.extra_headers:
                headers.update(opts.extra_headers)
        data = dumps(spec.body) if spec.body is not None else None
        timeouts = (
            self._timeouts if opts.timeout is NOT_GIVEN else self._call_timeouts(opts.timeout)
        )
        policy = self._retry
        shared = self._shared
        hooks = self._hooks
        now = monotonic()
        deadline = now + timeouts.total if timeouts.total is not None else None
        klass = endpoint_class(method, spec.path)
        gate = shared.gate if self._gate_enabled and not _waiting.testing else None
        if gate is not None and not gate.known:
            await self._learn_tier(deadline)
        shared.budget.on_first_attempt()
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            if gate is not None and not gate.try_acquire(klass):
                try:
                    waited += await gate.acquire(klass, deadline, policy.max_retry_after)
                except TimeoutError:
                    raise self._deadline_error(spec, attempt - 1, waited, None) from None
                except GatePaused as paused:
                    raise self._paused_error(spec, attempt - 1, waited, paused.seconds) from None
            at_deadline = False
            per_attempt = timeouts.attempt
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining <= 0:
                    if gate is not None:
                        gate.release(klass)
                    raise self._deadline_error(spec, attempt - 1, waited, None)
                if per_attempt is None or remaining <= per_attempt:
                    per_attempt, at_deadline = remaining, True
            if at_deadline or timeouts is not self._timeouts:
                timeout = aiohttp.ClientTimeout(
                    total=per_attempt, sock_connect=timeouts.connect, sock_read=timeouts.read
                )
            else:
                timeout = self._attempt_timeout
            if hooks.on_request is not None:
                self._emit(hooks.on_request, AttemptEvent(method, spec.path, attempt))
            try:
                raw = await self._attempt(spec, headers, data, timeout, attempt, waited)
            except (APIStatusError, APIConnectionError) as err:
                if gate is not None:
                    gate.release(klass)
                    if isinstance(err, APIStatusError) and err.headers is not None:
                        gate.observe(klass, err.headers)
                err.attempts = attempt
                err.waited = waited
                if isinstance(err, APITimeoutError) and at_deadline and deadline is not None:
                    # Only when the deadline itself ran out (not, say, a connect timeout).
                    err.deadline_exceeded = monotonic() >= deadline - 0.05
                if hooks.on_response is not None:
                    self._emit(
                        hooks.on_response,
                        AttemptEvent(
                            method,
                            spec.path,
                            attempt,
                            getattr(err, "status_code", None),
                            getattr(err, "request_id", None),
                            err,
                        ),
                    )
                try:
                    delay = self._plan_retry(err, attempt, policy, klass, gate, deadline)
                except _PastDeadline:
                    raise self._deadline_error(spec, attempt, waited, err) from err
                if delay is None:
                    raise
                self._emit(
                    hooks.on_retry,
                    AttemptEvent(
                        method,
                        spec.path,
                        attempt,
                        getattr(err, "status_code", None),
                        getattr(err, "request_id", None),
                        err,
                        delay,
                    ),
                )
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s %s attempt %d failed (%s); retrying in %.3fs key=%s",
                        method,
                        spec.path,
                        attempt,
                        _describe(err),
                        delay,
                        self._key_hint,
                    )
                slept_from = monotonic()
                await sleep(delay)
                waited += monotonic() - slept_from  # real time: nothing under no_waits()
                continue
            except BaseException:
                if gate is not None:
                    gate.release(klass)  # cancelled: the token is not held forever
                raise
            meta = raw.meta
            if attempt != 1 or waited:
                meta.attempts = attempt
                meta.waited = waited
            if gate is not None:
                gate.release(klass)
                gate.observe(klass, raw.headers, lazily=True)
            if hooks.on_response is not None:
                self._emit(
                    hooks.on_response,
                    AttemptEvent(method, spec.path, attempt, raw.status, meta.request_id),
                )
            return raw

    def _plan_retry(
        self,
        err: APIStatusError | APIConnectionError,
        attempt: int,
        policy: RetryPolicy,
        klass: str,
        gate: RateGate | None,
        deadline: float | None,
    ) -> float | None:
        """The delay before the next attempt, or None when `err` must be raised now.

        Raises the deadline error when the wait would pass the call's deadline; the retry
        budget is only spent on a retry that will really be made.
        """
        if not _retryable(err):
            return None
        retry_after = err.retry_after if isinstance(err, APIStatusError) else None
        if isinstance(err, APIStatusError) and err.status_code == 429 and gate is not None:
            # Hold the class for every task, even when this call gives up below.
            wait = retry_after if retry_after is not None else policy.initial_backoff
            if err.details.get("limitType") == "concurrent_jobs":
                gate.hold_for_jobs_cap(klass, wait)
            else:
                gate.pause(klass, wait)
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None  # the server asks for longer than we may wait: fail fast, say how long
        if attempt >= policy.max_attempts:
            return None
        backoff = min(policy.max_backoff, policy.initial_backoff * (2 ** (attempt - 1)))
        delay = random.uniform(0.0, backoff)  # full jitter
        if retry_after is not None:
            delay = max(delay, retry_after)
        if deadline is not None and monotonic() + _effective(delay) >= deadline:
            raise _PastDeadline
        if not self._shared.budget.try_spend():
            err.budget_exhausted = True
            return None
        return delay

    def _deadline_error(
        self,
        spec: RequestSpec,
        attempts: int,
        waited: float,
        last: BaseException | None,
    ) -> APITimeoutError:
        why = f"; last error: {_describe(last)}" if last is not None else ""
        err = APITimeoutError(
            f"The call's deadline passed before it could complete{why}.",
            method=spec.method,
            path=spec.path,
            attempts=attempts,
        )
        err.deadline_exceeded = True
        err.waited = waited
        if isinstance(last, (APIStatusError, APIConnectionError)):
            err.rate_limit = last.rate_limit
            err.headers = last.headers
        log.debug("%s %s -> deadline passed key=%s", spec.method, spec.path, self._key_hint)
        return err

    def _paused_error(
        self, spec: RequestSpec, attempts: int, waited: float, seconds: float
    ) -> RateLimitError:
        err = RateLimitError(
            "The endpoint class is paused after a 429 for longer than this call may wait.",
            status_code=429,
            code="RATE_LIMITED",
            request_id=None,
            details={"limitType": "client_pause"},
            method=spec.method,
            path=spec.path,
            retry_after=seconds,
        )
        err.attempts = attempts
        err.waited = waited
        return err

    async def _learn_tier(self, deadline: float | None = None) -> None:
        """Size the gate from `whoami().rate_limit_tier`, once per client, shared by all tasks.

        The lookup is shared by every call waiting for it; when all of them are cancelled it is
        cancelled too (the next call starts a new one), so no task outlives its callers.
        """
        shared = self._shared
        if shared.tier_task is None or shared.tier_task.cancelled():
            shared.tier_task = asyncio.ensure_future(self._fetch_tier())
            shared.tier_waiters = 0
        task = shared.tier_task
        shared.tier_waiters += 1
        try:
            # Spend at most 2 s (and at most half of what is left of the deadline) on it.
            patience = _TIER_PATIENCE
            if deadline is not None:
                patience = min(patience, max(0.0, deadline - monotonic()) / 2)
            try:
                await asyncio.wait_for(asyncio.shield(task), patience)
            except asyncio.TimeoutError:
                # Go on with the most conservative sizing; the lookup, when it ends, and the
                # responses' X-RateLimit-Limit correct it.
                if not shared.gate.known:
                    shared.gate.set_tier("standard")
        finally:
            shared.tier_waiters -= 1
            if shared.tier_waiters == 0 and not task.done():
                task.cancel()
                shared.tier_task = None

    async def _fetch_tier(self) -> None:
        gate = self._shared.gate
        timeout = aiohttp.ClientTimeout(
            total=min(self._timeouts.attempt or 5.0, 5.0), sock_connect=self._timeouts.connect
        )
        for attempt in (1, 2, 3):
            try:
                raw = await self._attempt(
                    RequestSpec("GET", "/v1/whoami"), self._headers, None, timeout, attempt
                )
                tier = loads(raw.body).get("rateLimitTier")
                gate.set_tier(tier if isinstance(tier, str) else "standard")
                gate.observe("read-light", raw.headers)
                return
            except (APIStatusError, APIConnectionError) as exc:
                if not _retryable(exc) or attempt == 3:
                    break
                await sleep(random.uniform(0.0, 0.2 * attempt))
            except Exception:
                break
        # Whatever went wrong, the call itself will surface any real problem (a bad key, a
        # closed client); size the gate conservatively so no task waits on this forever.
        gate.set_tier("standard")

    def _emit(self, hook: Hook | None, event: AttemptEvent) -> None:
        if hook is None:
            return
        try:
            hook(event)
        except Exception:
            log.exception("a layers_async hook raised; ignoring it")

    async def _attempt(
        self,
        spec: RequestSpec,
        headers: Mapping[str, str],
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
        attempt: int,
        waited: float = 0.0,
    ) -> RawResponse:
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
                body = await resp.read()
                status = resp.status
                rheaders = resp.headers
        except asyncio.TimeoutError:
            # On Python >= 3.11 this also catches aiohttp's ServerTimeoutError. A cancellation
            # by the caller is a CancelledError, which is never caught here.
            failure = None
        except aiohttp.ClientError as exc:
            failure = f"{type(exc).__name__}: {exc}"
        else:
            failure = ""
        if failure is not None and failure != "":
            # Raised outside the except block, so no aiohttp exception (which may hold the
            # request's headers) rides along in __context__.
            log.debug(
                "%s %s attempt %d -> %s key=%s",
                method,
                path,
                attempt,
                failure.split(":")[0],
                self._key_hint,
            )
            raise APIConnectionError(f"Connection failed: {failure}", method=method, path=path)
        if failure is None:
            log.debug("%s %s attempt %d -> timeout key=%s", method, path, attempt, self._key_hint)
            raise APITimeoutError(
                "The attempt timed out before a response arrived.", method=method, path=path
            )
        request_id = rheaders.get("X-Request-Id")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s attempt %d -> %s wait=%.3fs request_id=%s key=%s",
                method,
                path,
                attempt,
                status,
                waited,
                request_id,
                self._key_hint,
            )
        if status >= 300 and not (status == 304 and spec.accept_not_modified):
            payload: Any = None
            if body:
                try:
                    payload = loads(body)
                except ValueError:
                    payload = None
            err = error_from_response(
                status,
                payload,
                request_id=request_id,
                retry_after=rheaders.get("Retry-After"),
                method=method,
                path=path,
            )
            err.headers = dict(rheaders)  # a plain dict, so the error still pickles
            err.rate_limit = ResponseMeta(status, rheaders).rate_limit
            raise err
        return RawResponse(status, rheaders, body, ResponseMeta(status, rheaders))


class _PastDeadline(Exception):
    """The next attempt could only start after the call's deadline."""


def _effective(delay: float) -> float:
    """How long a wait really lasts (nothing in the no-wait testing mode)."""
    return 0.0 if _waiting.testing else delay


def _describe(err: BaseException | None) -> str:
    if isinstance(err, APIStatusError):
        return f"{err.status_code} {err.code or 'UNKNOWN'}"
    return type(err).__name__
