"""Waiters: await the end of a job, a ready influencer, fresh keywords, a completed OAuth consent.

Each is a plain async function taking the client first (also offered as client methods). They
share one `PollHub` per client: any number of waiters on the same thing cost one poll stream,
spaced by the client's `PollPolicy`, with `If-None-Match` on job polls and completion time
extrapolated from a job's `progress`. A deadline raises `WaitTimeoutError` carrying the last state
seen; cancelling one waiter never disturbs the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final, TypeVar

from ._config import PollPolicy
from ._errors import (
    InfluencerFailedError,
    JobCanceledError,
    JobFailedError,
    LayersValidationError,
    OAuthExpiredError,
    OAuthFailedError,
    WaitError,
)
from ._events import JobHook, OAuthHook
from ._polling import Check, EventHook, WaitContext
from ._validation import check_id
from .models.influencers import InfluencerSummary
from .models.jobs import ErrorInfo, Job
from .models.keywords import KeywordBank
from .models.social import OAuthAttempt, OAuthUrl

if TYPE_CHECKING:
    from ._client import LayersClient

__all__ = [
    "JOB_TIMEOUT",
    "KEYWORDS_TIMEOUT",
    "OAUTH_TIMEOUT",
    "READY_INFLUENCER_TIMEOUT",
    "wait_for_job",
    "wait_for_keywords",
    "wait_for_oauth",
    "wait_for_ready_influencer",
]

log = logging.getLogger("layers_async")
T = TypeVar("T")
S = TypeVar("S")  # the state a waiter polls
R = TypeVar("R")  # what it returns

#: Default deadline of `wait_for_job`, in seconds.
JOB_TIMEOUT: Final = 600.0
#: Default deadline of `wait_for_ready_influencer`, in seconds.
READY_INFLUENCER_TIMEOUT: Final = 300.0
#: Default deadline of `wait_for_keywords`, in seconds.
KEYWORDS_TIMEOUT: Final = 600.0
#: Default deadline of `wait_for_oauth`, in seconds (the OAuth state itself lives 10 minutes).
OAUTH_TIMEOUT: Final = 900.0
#: Influencers asked for per page while looking for a ready one (the list's maximum).
_INFLUENCER_PAGE = 100


def _wait(
    waiting: WaitContext,
    key: tuple[str, str],
    fetch: Callable[[S | None], Awaitable[S]],
    check: Check[S, R],
    timeout: float | None,
    policy: PollPolicy | None,
    what: str | None,
    progress: Callable[[S], float | None] | None = None,
    hook: EventHook[S] | None = None,
) -> Awaitable[R]:
    """Check the waiter's `timeout` and `policy`, then return the wait on the client's shared
    poll hub (a future the waiter awaits itself: no frame of its own per wait)."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise LayersValidationError("timeout", "must be a positive number of seconds or None")
    if policy is None:
        policy = waiting.policy
    elif not isinstance(policy, PollPolicy):
        raise LayersValidationError("policy", "must be a layers_async.PollPolicy")
    kind, ident = key
    return waiting.hub.wait(
        waiting.key(kind, ident),
        fetch,
        check,
        policy=policy,
        timeout=timeout,
        progress=progress,
        what=what,
        hook=hook,
    )


async def wait_for_job(
    client: LayersClient,
    job_id: str | Job,
    *,
    timeout: float | None = JOB_TIMEOUT,
    cancel_remote: bool = False,
    policy: PollPolicy | None = None,
) -> Job:
    """Wait until a job ends and return it when `completed`.

    Raises `JobFailedError` (with `.job` and `.error`) or `JobCanceledError`, and
    `WaitTimeoutError` (with `.last_state`) when `timeout` seconds pass first. With
    `cancel_remote=True`, cancelling this waiter also asks the server to cancel the job — which
    ends the job for every other waiter on it too. Whatever that request meets, the waiter ends
    with the CancelledError it was given.

    `job_id` is the job's id, or the `Job` a start call returned (its `202` envelope). On an
    event-fed client (`client.webhooks`), the wait ends the moment the job's event is fed; given
    the envelope, a ``job.completed`` event alone makes the returned `Job` (no poll at all).
    """
    envelope = job_id if isinstance(job_id, Job) else None
    jid = check_id("job_id", envelope.job_id if envelope is not None else job_id, "job")
    waiting = client._waiting
    try:
        hook = JobHook(waiting, jid, envelope)
        fetch = _JobFetch(client, jid)
        key = ("job", jid)
        return await _wait(
            waiting, key, fetch, _job_verdict, timeout, policy, None, _job_progress, hook
        )
    except asyncio.CancelledError:
        if cancel_remote:
            await _cancel_remote(client, jid)
        raise


class _JobFetch:
    """A job wait's poll: `GET /v1/jobs/{id}`, with the last job seen as `If-None-Match`.
    (An object of two slots: the smallest thing a wait can hold to poll.)"""

    __slots__ = ("client", "job_id")

    def __init__(self, client: LayersClient, job_id: str) -> None:
        self.client = client
        self.job_id = job_id

    def __call__(self, previous: Job | None) -> Awaitable[Job]:
        return self.client.jobs.get(self.job_id, if_none_match=previous)


_JOB_FAILED: Final = (JobFailedError, "UNKNOWN")
_JOB_CANCELED: Final = ("canceled", JobCanceledError, "was canceled")


def _job_verdict(job: Job) -> Job | None:
    """A job wait's check: the job once completed, None while it runs; raises when it ended
    otherwise."""
    what = f"job {job.job_id}"
    return _verdict(job, job.status, job.error, what, _JOB_FAILED, _JOB_CANCELED)


def _job_progress(job: Job) -> float | None:
    """A running job's progress (what places the next poll)."""
    return job.progress if job.status == "running" else None


def _verdict(
    subject: S,
    status: str,
    error: ErrorInfo | None,
    what: str,
    failed: tuple[type[WaitError], str],
    other: tuple[str, type[WaitError], str],
) -> S | None:
    """A job's or an OAuth attempt's state judged by its waiter: the state once `completed`,
    None while it goes on. Raises `failed` (its error's code, else the default code) when it
    failed, and `other` when it ended its own other way (a job `canceled`, consent `expired`)."""
    if status == "completed":
        return subject
    failed_error, default_code = failed
    if status == "failed":
        code = error.code if error else default_code
        raise failed_error(f"{what} failed ({code})", subject=subject)
    other_status, other_error, said = other
    if status == other_status:
        raise other_error(f"{what} {said}", subject=subject)
    return None


async def _cancel_remote(client: LayersClient, job_id: str) -> None:
    """Ask the server to cancel a job while the waiter itself is being cancelled."""
    task = asyncio.ensure_future(client.jobs.cancel(job_id))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        # Cancelled again while cancelling: let the request finish on its own.
        task.add_done_callback(_swallow)
    except Exception as exc:  # refused (finalizing, already ended), unreachable, client closed
        log.debug("remote cancel of %s failed: %s", job_id, type(exc).__name__)


def _swallow(task: asyncio.Future[T]) -> None:
    with contextlib.suppress(BaseException):
        task.result()


async def wait_for_ready_influencer(
    client: LayersClient,
    project_id: str,
    *,
    influencer_id: str | None = None,
    timeout: float | None = READY_INFLUENCER_TIMEOUT,
    policy: PollPolicy | None = None,
) -> InfluencerSummary:
    """Wait for a `ready` influencer of the project (the given one, or the first to be ready).

    Raises `InfluencerFailedError` when the awaited influencer fails — or, without
    `influencer_id`, when every influencer of the project has failed — and `WaitTimeoutError`.
    """
    pid = check_id("project_id", project_id, "prj")
    key = ("influencers", pid.lower())
    iid = check_id("influencer_id", influencer_id, "inf") if influencer_id is not None else None

    async def fetch(
        previous: tuple[InfluencerSummary, ...] | None,
    ) -> tuple[InfluencerSummary, ...]:
        # Every page: the influencer awaited may be beyond the first hundred.
        return tuple([i async for i in client.influencers.list(pid, limit=_INFLUENCER_PAGE)])

    def check(items: tuple[InfluencerSummary, ...]) -> InfluencerSummary | None:
        if iid is not None:
            for item in items:
                if item.influencer_id == iid:
                    if item.status == "ready":
                        return item
                    if item.status == "failed":
                        raise InfluencerFailedError(f"influencer {iid} failed", subject=item)
            return None
        ready = [i for i in items if i.status == "ready"]
        if ready:  # the earliest made (ties broken by id)
            return min(ready, key=lambda i: (i.created_at, i.influencer_id))
        if items and all(i.status == "failed" for i in items):
            raise InfluencerFailedError(f"every influencer of {pid} failed", subject=items[0])
        return None

    what = f"a ready influencer of {pid}"
    return await _wait(client._waiting, key, fetch, check, timeout, policy, what)


async def wait_for_keywords(
    client: LayersClient,
    project_id: str,
    *,
    after: datetime | None = None,
    timeout: float | None = KEYWORDS_TIMEOUT,
    policy: PollPolicy | None = None,
) -> KeywordBank:
    """Wait for the project's keyword bank: until `refreshed_at` is set, or (with `after`, a
    datetime such as a previous bank's `refreshed_at`) until it moves past `after`."""
    pid = check_id("project_id", project_id, "prj")
    key = ("keywords", pid.lower())

    async def fetch(previous: KeywordBank | None) -> KeywordBank:
        return await client.keywords.get(pid)

    def check(bank: KeywordBank) -> KeywordBank | None:
        if bank.refreshed_at is None:
            return None
        if after is not None and bank.refreshed_at <= after:
            return None
        return bank

    what = f"the keyword bank of {pid}"
    return await _wait(client._waiting, key, fetch, check, timeout, policy, what)


async def wait_for_oauth(
    client: LayersClient,
    project_id: str,
    state: str | OAuthUrl,
    *,
    timeout: float | None = OAUTH_TIMEOUT,
    policy: PollPolicy | None = None,
) -> OAuthAttempt:
    """Wait until the customer finishes consent; returns the completed attempt (its
    `social_account_id` is what schedule targets take). Raises `OAuthFailedError` (denied or
    failed), `OAuthExpiredError` (the 10-minute state ran out) or `WaitTimeoutError`.

    `state` is the attempt's state, or the `OAuthUrl` that `client.social.oauth_url` returned.
    On an event-fed client (`client.webhooks`), a ``social_account.connected`` event of the
    project ends the wait at once; given the `OAuthUrl`, the event alone makes the returned
    attempt when it is the project's only OAuth wait (else the wait polls once, at once).
    """
    url = state if isinstance(state, OAuthUrl) else None
    pid = check_id("project_id", project_id, "prj")
    st = check_id("state", url.state if url is not None else state, "st")

    async def fetch(previous: OAuthAttempt | None) -> OAuthAttempt:
        return await client.social.oauth_status(pid, st)

    failed = (OAuthFailedError, "OAUTH_FAILED")
    expired = ("expired", OAuthExpiredError, "expired")

    def check(attempt: OAuthAttempt) -> OAuthAttempt | None:
        return _verdict(attempt, attempt.status, attempt.error, f"OAuth {st}", failed, expired)

    what = f"OAuth consent {st}"
    hook = OAuthHook(client._waiting, pid, st, url)
    return await _wait(
        client._waiting, ("oauth", st), fetch, check, timeout, policy, what, None, hook
    )
