"""The event side of the waiters: webhook events fed to a client end the waits they describe.

`feed` routes an event to the event-fed poll streams of its subject (a job's end wakes the
waits on that job, a completed OAuth consent the OAuth waits of its project) and keeps it a
while for waits that start just after it arrived. A stream either takes the state the event
describes (no poll at all) or polls once at once when the event does not say enough.

What an event says, and what it does not (contract §3.15.11):

- ``job.completed`` carries the job's id, kind, project and result, not its start time, its
  containers or its influencer. A waiter that knows the job's `202` envelope (`wait_for_job`
  given the `Job` a start call returned) or has polled it once builds the completed `Job` from
  it: status, result and ids exactly as a poll shows them, `progress` 1, the kind's last stage,
  and the event's time as `finished_at`/`updated_at` (a poll may show the end a few virtual
  milliseconds earlier). Without either, or for a kind whose stages the contract does not
  list, the event makes the stream poll once, at once.
- ``job.failed`` and ``job.canceled`` always make the stream poll once, at once, so that the
  waiter raises exactly the error polling would (`JobFailedError` with the polled job).
- ``social_account.connected`` names the project, not the OAuth `state`. A waiter given the
  `OAuthUrl` builds the completed attempt from the event when it is the only OAuth wait of the
  project and the connection falls within the attempt's 10-minute life; otherwise the event
  makes the OAuth streams of the project poll once, at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Final

import attrs

from ._config import DEFAULT_POLL, PollPolicy
from ._errors import LayersValidationError
from ._polling import PollHub, WaitContext
from ._serde import converter
from .models.jobs import Job, JobResult
from .models.social import OAuthAttempt, OAuthUrl
from .models.webhooks import (
    JobCanceledEvent,
    JobCompletedEvent,
    JobFailedEvent,
    SocialAccountConnectedEvent,
    WebhookEvent,
)

__all__ = ["SAFETY_NET_POLL", "JobHook", "OAuthHook", "enable", "feed", "safety_net_for"]

#: How an event-fed client's job and OAuth waits poll, as a safety net for lost deliveries:
#: the first poll 3 minutes after the wait begins (or at half its deadline, if sooner), then
#: at the completion time extrapolated from a job's `progress` plus 15 s, else 1, 2, 4, ...
#: minutes apart, up to 10. Scale it like any `PollPolicy` (`SAFETY_NET_POLL.scaled(1 / 60)`).
SAFETY_NET_POLL: Final = PollPolicy(
    initial=60.0,
    multiplier=2.0,
    max_interval=600.0,
    jitter=5.0,
    max_extrapolated=600.0,
    margin=15.0,
    first_delay=180.0,
)

#: The last stage of each documented job kind (contract §1.12), shown by a completed job.
_LAST_STAGE: Final = {
    "content_generate": "finalizing",
    "influencer_create": "training",
    "keywords_refresh": "curating",
}
#: How long an OAuth state lives (contract §3.5): an attempt began this long before it expires.
_OAUTH_LIFE: Final = timedelta(minutes=10)
_JOB_EVENTS = (JobCompletedEvent, JobFailedEvent, JobCanceledEvent)


def safety_net_for(policy: PollPolicy) -> PollPolicy:
    """`SAFETY_NET_POLL` at the pace of a client's poll policy: a client polling at the default
    pace scaled by 1/60 (a sandbox at speed 60) gets the safety net scaled the same."""
    if policy.initial > 0 and DEFAULT_POLL.initial > 0:
        factor = policy.initial / DEFAULT_POLL.initial
        if factor != 1.0:
            return SAFETY_NET_POLL.scaled(factor)
    return SAFETY_NET_POLL


def enable(hub: PollHub, safety_net: PollPolicy, *, confirm: bool = False) -> None:
    """Make the hub's client event-fed: its new job and OAuth waits poll on `safety_net`."""
    if not isinstance(safety_net, PollPolicy):
        raise LayersValidationError("safety_net", "must be a layers_async.PollPolicy")
    hub.safety_net = safety_net
    hub.confirm_events = bool(confirm)


def subject_of(event: WebhookEvent) -> Hashable | None:
    """The subject whose waits `event` may end; None for events no waiter waits on."""
    if isinstance(event, _JOB_EVENTS):
        return ("job", event.data.job_id)
    if isinstance(event, SocialAccountConnectedEvent) and event.data.project_id:
        return ("oauth", event.data.project_id.lower())
    return None


def feed(hub: PollHub, event: WebhookEvent, default_net: Callable[[], PollPolicy]) -> int:
    """Route one event to the waits it ends (see `Webhooks.feed`); returns how many it woke.
    `default_net()` is the safety net the first event enables (called only then)."""
    if not isinstance(event, WebhookEvent):
        raise LayersValidationError(
            "event", "must be a layers_async WebhookEvent (see layers_async.decode_event)"
        )
    if hub.safety_net is None:  # the first event makes the client event-fed
        hub.safety_net = default_net()
    subject = subject_of(event)
    if subject is None:
        return 0
    woken = 0
    for stream in hub.streams_for(subject):
        woken += stream.on_event(event)
    if isinstance(event, _JOB_EVENTS) or not woken:
        hub.remember(subject, event)  # a job's end is final; a used consent is not kept
    return woken


@attrs.define
class _Scoped:
    """What every hook shares: the hub and the organization its waiters act in."""

    waiting: WaitContext

    def matches(self, event: WebhookEvent) -> bool:
        """False for an event of an organization other than the one the waiter acts in."""
        org = event.data.organization_id if hasattr(event.data, "organization_id") else None
        if org is None:
            return True
        scope = self.waiting.organization or ""
        explicit, _, other_key = scope.partition("#")
        if explicit:
            return bool(org == explicit)
        if other_key:  # a view with another key, in that key's own organization
            return True
        own = self.waiting.hub.own_organization
        return own is None or org == own


@attrs.define
class JobHook(_Scoped):
    """The event side of `wait_for_job`."""

    job_id: str
    envelope: Job | None = None

    @property
    def subjects(self) -> tuple[Hashable, ...]:
        """The one subject it listens to: the job's end."""
        return (("job", self.job_id),)

    def state(self, event: WebhookEvent, last: Job | None) -> Job | None:
        """The completed `Job` a ``job.completed`` event describes, or None to poll at once."""
        if not isinstance(event, JobCompletedEvent) or self.waiting.hub.confirm_events:
            return None  # failed or canceled: poll, to raise exactly what polling raises
        if last is not None and last.is_terminal:
            return last
        base = last if last is not None else self.envelope
        if base is None or base.kind not in _LAST_STAGE:
            return None  # a kind whose last stage is not documented: poll, to show it exactly
        data = event.data
        try:
            result = converter.structure(data.result, JobResult) if data.result else None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a result this SDK cannot read from the event: poll
        return attrs.evolve(
            base,
            status="completed",
            stage=_LAST_STAGE[base.kind],
            progress=1.0,
            result=result,
            error=None,
            updated_at=event.created_at or base.updated_at,
            finished_at=event.created_at or base.finished_at,
            meta=None,
        )


@attrs.define
class OAuthHook(_Scoped):
    """The event side of `wait_for_oauth`."""

    project_id: str
    state_id: str
    url: OAuthUrl | None = None

    @property
    def subjects(self) -> tuple[Hashable, ...]:
        """The one subject it listens to: the OAuth consents of the project."""
        return (("oauth", self.project_id.lower()),)

    def state(self, event: WebhookEvent, last: OAuthAttempt | None) -> OAuthAttempt | None:
        """The completed attempt a ``social_account.connected`` event describes when it can
        only be this wait's, or None to poll at once."""
        url = self.url
        if (
            not isinstance(event, SocialAccountConnectedEvent)
            or url is None
            or self.waiting.hub.confirm_events
            or len(self.waiting.hub.streams_for(self.subjects[0])) > 1
        ):
            return None  # poll: the event may be another attempt's
        connected: datetime | None = event.data.connected_at
        if connected is None or not url.expires_at - _OAUTH_LIFE <= connected <= url.expires_at:
            return None
        self.waiting.hub.recent.pop(self.subjects[0], None)  # one consent ends one wait
        return OAuthAttempt(
            state=self.state_id,
            status="completed",
            expires_at=url.expires_at,
            project_id=event.data.project_id,
            platform=event.data.platform,
            social_account_id=event.data.social_account_id,
            completed_at=connected,
        )
