"""`PollHub`: one poller per client for everything its waiters wait on.

Waiters register *what* they wait for (a key such as `("job", organization, job_id)`) and a
predicate; the hub runs one poll stream per key, however many waiters share it, and stops the
stream as soon as no waiter needs it. Every poll of every stream takes a slot from one poll
budget (requests per second per client), handed out in arrival order so that no stream starves
another. Polls go through the client's transport, so retries, `Retry-After` and the rate-limit
gate apply. A poll that fails transiently (a timeout, a lost connection, a 5xx, or a `429` even
after the transport's retries) does not end the wait (the waiters' deadlines do): the stream
polls again later, backing off while the failures last. Any other failure (a 404, ...) ends
every waiter of the stream with it.

Streams are data, not tasks: between polls a stream is one timer of the event loop; one
dispatcher task hands out the poll slots, with at most `PollHub.max_in_flight` polls in flight
(so that a poll never queues in the connection pool, where its attempt timeout would run out
under thousands of waits).

Polls are paced in real time, also in the no-wait testing mode (which only removes the waits
of retries and of the rate-limit gate): a waiter on a sandbox whose clock is paused polls at its
policy's pace until its deadline, as it would in production, instead of flooding the sandbox.

A predicate ("check") looks at one polled state and returns what the waiter should return, or
None to keep waiting; it raises the waiter's error (`JobFailedError`, ...) to end it badly.

Event-fed streams: a waiter whose end a webhook event announces (a job's end, a completed OAuth
consent) registers an `EventHook`. A fed event (`client.webhooks.feed`) either hands the stream
the state the event describes, which ends its waiters at once without a poll, or wakes the
stream to poll now. Once the client is event-fed (`PollHub.safety_net` set), such streams poll
only on the slow safety-net policy, so that a lost delivery still ends every wait.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._config import PollPolicy
from ._errors import (
    APIConnectionError,
    ClientClosedError,
    InternalServerError,
    LayersError,
    RateLimitError,
    WaitTimeoutError,
)

__all__ = ["Check", "EventHook", "PollBudget", "PollHub", "WaitContext"]

log = logging.getLogger("layers_async")
S = TypeVar("S")  # the state one stream polls (a Job, a KeywordBank, ...)
S_contra = TypeVar("S_contra", contravariant=True)
R = TypeVar("R")  # what one waiter returns once its check accepts a state

#: A waiter's predicate: the value to return, None to keep waiting; it raises to fail the wait.
Check = Callable[[S], R | None]


class EventHook(Protocol[S]):
    """How an event-fed stream reads a fed event: `subjects` index it (e.g. ``("job", id)``);
    `state` returns the state the event describes, or None to wake the stream to poll now."""

    @property
    def subjects(self) -> tuple[Hashable, ...]:
        """What events this stream listens to (the event side's index keys)."""

    def matches(self, event: Any) -> bool:
        """Whether `event` is about this stream's subject as its waiters see it (their
        organization); other events are ignored."""

    def state(self, event: Any, last: S | None) -> S | None:
        """The stream's state after `event` (None: poll now to learn it)."""


class PollBudget:
    """At most `rate` polls per second for the whole client, in first-come order."""

    __slots__ = ("_next", "rate")

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next = 0.0

    async def acquire(self) -> None:
        """Wait for this poll's slot."""
        if not self.rate:
            return
        now = time.monotonic()
        step = 1.0 / self.rate
        slot = max(now, self._next)
        self._next = slot + step
        if slot > now:
            try:
                await asyncio.sleep(slot - now)
            except asyncio.CancelledError:
                # Give the slot back, so streams that leave do not push later polls back.
                self._next = max(time.monotonic(), self._next - step)
                raise

    def refund(self) -> None:
        """Give back the slot just acquired (it was not used)."""
        if self.rate:
            self._next = max(time.monotonic(), self._next - 1.0 / self.rate)


class _Listener(Protocol[S_contra]):
    """What a stream needs of a waiter, whatever the waiter returns."""

    def offer(self, state: S_contra) -> bool:
        """Show the waiter a polled state; True once the waiter has its answer."""

    def fail(self, exc: BaseException) -> None:
        """End the waiter with `exc` (the stream cannot poll any more)."""


class _Waiter(asyncio.Future[R], Generic[S, R]):
    """One waiter on a stream: the future its caller awaits, with its check and deadline.

    The waiter is the future itself, awaited by the caller's own task: a wait holds no
    coroutine frame of the hub's, only this object, its deadline timer and its stream."""

    __slots__ = ("check", "deadline", "stream", "timeout", "what")

    def __init__(
        self,
        stream: _Stream[S],
        check: Check[S, R],
        timeout: float | None,
        what: str | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(loop=loop)
        self.stream = stream
        self.check = check
        self.timeout = timeout
        self.what = what
        self.deadline: asyncio.TimerHandle | None = None

    def offer(self, state: S) -> bool:
        if self.done():
            return True
        try:
            value = self.check(state)
        except Exception as exc:  # the waiter's error, or a predicate bug: this waiter alone
            self.set_exception(exc)
            return True
        if value is None:
            return False
        self.set_result(value)
        return True

    def fail(self, exc: BaseException) -> None:
        if not self.done():
            self.set_exception(exc)


class _Stream(Generic[S]):
    """The polls of one thing, shared by every waiter on it.

    A stream is data, not a task: between polls it is a timer in the event loop (or an entry of
    the hub's ready queue); while a poll is in flight, `task` is that poll."""

    __slots__ = (
        "failures",
        "fetch",
        "handle",
        "hook",
        "hub",
        "interval",
        "key",
        "last",
        "poked",
        "policy",
        "polls",
        "progress",
        "queued",
        "refused",
        "seen",
        "task",
        "waiters",
    )

    def __init__(
        self,
        hub: PollHub,
        key: Hashable,
        fetch: Callable[[S | None], Awaitable[S]],
        policy: PollPolicy,
        progress: Callable[[S], float | None] | None,
        hook: EventHook[S] | None = None,
    ) -> None:
        self.hub = hub
        self.key = key
        self.fetch = fetch
        self.hook = hook
        self.policy = policy
        self.progress = progress
        self.waiters: list[_Listener[S]] = []
        self.last: S | None = None
        self.polls = 0
        self.interval = policy.initial
        #: (client time, progress) of the last change of progress.
        self.seen: tuple[float, float] | None = None
        #: The timer of the next poll (None while queued, polling or stopped).
        self.handle: asyncio.TimerHandle | None = None
        #: In the hub's ready queue, waiting for a poll slot.
        self.queued = False
        #: The poll in flight.
        self.task: asyncio.Task[None] | None = None
        #: A wake-up that came while a poll was in flight: poll again right after it.
        self.poked = False
        #: Polls in a row that failed transiently (a timeout, a lost connection, a 5xx, a 429).
        self.failures = 0
        #: The error of the last poll when it failed transiently (None once one succeeds).
        self.refused: LayersError | None = None

    def deliver(self, state: S) -> None:
        self.waiters = [w for w in self.waiters if not w.offer(state)]

    def fail(self, exc: BaseException) -> None:
        for waiter in self.waiters:
            waiter.fail(exc)
        self.waiters.clear()

    def on_event(self, event: object) -> int:
        """Show the stream a fed event: its waiters end on the state it describes, or the
        stream polls at once. Returns how many waiters it woke."""
        if self.hook is None or not self.waiters or not self.hook.matches(event):
            return 0
        woken = len(self.waiters)
        try:
            state = self.hook.state(event, self.last)
        except Exception:  # an event the hook cannot read: learn the state by polling
            log.debug("event %r not readable by stream %r", type(event).__name__, self.key)
            state = None
        if state is None:
            self.poke()
            return woken
        self.last = state
        self.deliver(state)
        self.hub.answered_by_events += woken - len(self.waiters)
        if not self.waiters:
            self.hub._stop(self)
        return woken

    def poke(self) -> None:
        """Poll at once (or right after the poll in flight)."""
        if self.task is not None:
            self.poked = True
        elif self.handle is not None:
            self.handle.cancel()
            self.handle = None
            self.hub._enqueue(self)

    def schedule(self, delay: float) -> None:
        """Poll again in `delay` seconds (at once after a wake-up during the last poll)."""
        if self.poked or delay <= 0:
            self.poked = False
            self.hub._enqueue(self)
        else:
            self.handle = asyncio.get_running_loop().call_later(
                delay, _due, self, context=_CALLBACKS
            )

    def answered(self, state: S) -> None:
        """A poll succeeded: show its state to the waiters, then place the next poll."""
        policy = self.policy
        self.refused = None
        self.failures = 0
        self.polls += 1
        self.hub.polls += 1
        self.last = state
        self.deliver(state)
        if not self.waiters:
            self.hub._stop(self)
            return
        interval = self.interval
        delay = interval + random.uniform(0.0, policy.jitter)
        self.interval = min(policy.max_interval, interval * policy.multiplier)
        progress = self.progress(state) if self.progress is not None else None
        if progress is not None:
            now = time.monotonic()
            seen = self.seen
            if seen is not None and progress > seen[1] and now > seen[0]:
                rate = (progress - seen[1]) / (now - seen[0])
                eta = (1.0 - progress) / rate
                delay = min(policy.max_extrapolated, max(policy.initial, eta + policy.margin))
            if seen is None or progress > seen[1]:
                self.seen = (now, progress)
        self.schedule(delay)

    def failed(self, exc: Exception) -> None:
        """A poll failed: a transient failure polls again later, backing off while the failures
        last (the waiters' deadlines decide when to give up); any other ends every waiter."""
        if not _transient(exc):
            self.fail(exc)
            self.hub._stop(self)
            return
        self.refused = exc  # type: ignore[assignment]  # transient ones are all LayersErrors
        self.failures += 1
        log.debug("poll of %r failed (%s): polling again later", self.key, type(exc).__name__)
        self.schedule(_after_failure(exc, self.interval, self.failures))


class PollHub:
    """One per client: coalesces waiters by key, runs their polls within one budget."""

    def __init__(self, rate: float | None) -> None:
        self.budget = PollBudget(rate)
        # A key names one thing polled, so its stream always polls the same type of state;
        # the map itself holds streams of every state type.
        self._streams: dict[Hashable, _Stream[Any]] = {}
        #: The event-fed streams by the subjects their events name.
        self._by_subject: dict[Hashable, list[_Stream[Any]]] = {}
        #: Polls sent by every stream so far.
        self.polls = 0
        #: The poll policy of event-fed streams once the client is event-fed (None: polling only).
        self.safety_net: PollPolicy | None = None
        #: Waits ended by the state a fed event described, without a poll.
        self.answered_by_events = 0
        #: Recent events by subject, for waits that start just after their event arrived.
        self.recent: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
        #: How many subjects `recent` remembers (the oldest is forgotten first).
        self.recent_size = 4096
        #: The organization of the client's own key, once known (`whoami`): events of other
        #: organizations never end its waits.
        self.own_organization: str | None = None
        #: Poll once on each fed event instead of building the state from the event.
        self.confirm_events = False
        #: Polls sent at once at most: a poll waits for a slot here, never in the connection
        #: pool, so that its attempt timeout counts only the time the server takes.
        self.max_in_flight = MAX_IN_FLIGHT
        #: Streams whose next poll is due, in the order they became due.
        self._ready: collections.deque[_Stream[Any]] = collections.deque()
        self._in_flight = 0
        #: The one task that hands out poll slots (started with the first wait).
        self._dispatcher: asyncio.Task[None] | None = None
        #: Resolved to wake the dispatcher (a stream became due, or a poll ended).
        self._wakeup: asyncio.Future[None] | None = None

    def streams_for(self, subject: Hashable) -> list[_Stream[Any]]:
        """The event-fed streams listening to `subject`."""
        return list(self._by_subject.get(subject, ()))

    def remember(self, subject: Hashable, event: Any) -> None:
        """Keep `event` for a wait on `subject` that starts later (bounded, oldest out)."""
        self.recent[subject] = event
        self.recent.move_to_end(subject)
        while len(self.recent) > self.recent_size:
            self.recent.popitem(last=False)

    @property
    def active_streams(self) -> int:
        """Streams currently polling."""
        return len(self._streams)

    def wait(
        self,
        key: Hashable,
        fetch: Callable[[S | None], Awaitable[S]],
        check: Check[S, R],
        *,
        policy: PollPolicy,
        timeout: float | None,
        progress: Callable[[S], float | None] | None = None,
        what: str | None = None,
        hook: EventHook[S] | None = None,
    ) -> Awaitable[R]:
        """Wait until `check` returns a value for a polled state and return that value; raises
        what `check` raises, or WaitTimeoutError (carrying the last state) after `timeout` s.
        With a `hook`, fed events can end the wait too (see `EventHook`). `what` names the
        awaited thing in the timeout's message (by default the key's first and last parts).

        Returns the future to await (the caller's own task awaits it: no task nor coroutine of
        the hub's per wait); cancelling that await leaves the wait."""
        loop = asyncio.get_running_loop()
        stream: _Stream[S] | None = self._streams.get(key)
        if stream is None:
            if hook is not None and self.safety_net is not None:
                # An event-fed stream of an event-fed client polls only as a safety net, its
                # first poll before the deadline of the wait that began it, however short.
                policy = self.safety_net
                if timeout is not None and timeout / 2 < policy.first_delay:
                    policy = attrs.evolve(policy, first_delay=timeout / 2)
            stream = _Stream(self, key, fetch, policy, progress, hook)
            self._streams[key] = stream
            if hook is not None:
                for subject in hook.subjects:
                    self._by_subject.setdefault(subject, []).append(stream)
        waiter: _Waiter[S, R] = _Waiter(stream, check, timeout, what, loop)
        if stream.last is not None and stream.waiters:
            # A newcomer may already be satisfied by what the stream saw last.
            value = check(stream.last)
            if value is not None:
                waiter.set_result(value)
                return waiter
        fresh = not stream.waiters  # a stream is kept only while it has waiters
        stream.waiters.append(waiter)
        # Whatever ends the wait (an answer, an error, the deadline, a cancelled await), the
        # waiter then leaves its stream, before the caller resumes.
        waiter.add_done_callback(_left, context=_CALLBACKS)
        if hook is not None:
            for subject in hook.subjects:  # its event came just before the wait began
                if subject in self.recent:
                    stream.on_event(self.recent[subject])
        if fresh and not waiter.done() and stream.handle is None:
            first = stream.policy.first_delay
            if first > 0:
                stream.handle = loop.call_later(first, _due, stream, context=_CALLBACKS)
            else:
                self._enqueue(stream)
        # The deadline fails the future itself: an answered waiter resumes in one step of the
        # event loop (no helper task between the answer and the waiter, unlike asyncio.wait).
        if timeout is not None and not waiter.done():
            waiter.deadline = loop.call_later(timeout, _expire, waiter, context=_CALLBACKS)
        return waiter

    def _leave(self, stream: _Stream[S], waiter: _Waiter[S, R]) -> None:
        """A waiter is done (answered, timed out or cancelled): stop the stream if it was last."""
        if waiter.deadline is not None:
            waiter.deadline.cancel()
            waiter.deadline = None
        if waiter in stream.waiters:
            stream.waiters.remove(waiter)
        if not waiter.cancelled():
            waiter.exception()  # mark it retrieved: the waiter may have left before reading it
        if not stream.waiters:
            self._stop(stream)

    def _stop(self, stream: _Stream[S]) -> None:
        """No waiter needs `stream` any more: cancel its next poll (or the one in flight)."""
        if stream.handle is not None:
            stream.handle.cancel()
            stream.handle = None
        task = stream.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._forget(stream)

    def _forget(self, stream: _Stream[S]) -> None:
        """Drop a stream that stopped (unless a newer stream already took its key)."""
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]
        if stream.hook is not None:
            for subject in stream.hook.subjects:
                streams = self._by_subject.get(subject)
                if streams is not None and stream in streams:
                    streams.remove(stream)
                    if not streams:
                        del self._by_subject[subject]

    def _enqueue(self, stream: _Stream[Any]) -> None:
        """`stream`'s next poll is due: queue it for a poll slot."""
        stream.handle = None
        if stream.queued or not stream.waiters:
            return
        stream.queued = True
        self._ready.append(stream)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="layers_async poll dispatcher"
            )
        self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _dispatch(self) -> None:
        """Hand out poll slots: the due streams in turn, within the poll budget and at most
        `max_in_flight` polls at once, each poll a short task of its own."""
        loop = asyncio.get_running_loop()
        ready = self._ready
        while True:
            if not ready or self._in_flight >= self.max_in_flight:
                self._wakeup = loop.create_future()
                await self._wakeup
                continue
            await self.budget.acquire()
            stream = None
            while ready and stream is None:
                stream = ready.popleft()
                stream.queued = False
                if not stream.waiters:  # every waiter left while it queued
                    stream = None
            if stream is None:
                self.budget.refund()
                continue
            self._in_flight += 1
            stream.task = loop.create_task(self._poll(stream))

    async def _poll(self, stream: _Stream[Any]) -> None:
        """One poll of `stream`; its outcome places the next one (or ends the waiters)."""
        try:
            state = await stream.fetch(stream.last)
        except asyncio.CancelledError:
            stream.task = None
            raise
        except Exception as exc:  # the fetch failed (after the transport's own retries)
            stream.task = None
            stream.failed(exc)
        else:
            stream.task = None
            stream.answered(state)
        finally:
            self._in_flight -= 1
            self._wake()

    async def aclose(self) -> None:
        """Stop every stream; their waiters fail with a clear error instead of hanging."""
        streams = list(self._streams.values())
        for stream in streams:
            stream.fail(ClientClosedError("the LayersClient was closed while this waiter waited"))
        tasks = [s.task for s in streams if s.task is not None]
        for stream in streams:
            self._stop(stream)
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
            self._dispatcher = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._ready.clear()
        self._streams.clear()
        self._by_subject.clear()


def _left(waiter: asyncio.Future[Any]) -> None:
    """A waiter's future is done: it leaves its stream."""
    assert isinstance(waiter, _Waiter)
    stream = waiter.stream
    stream.hub._leave(stream, waiter)


def _expire(waiter: _Waiter[Any, Any]) -> None:
    """A waiter's deadline passed: it ends with WaitTimeoutError, carrying the last state."""
    waiter.deadline = None
    if waiter.done():
        return
    stream = waiter.stream
    refused = stream.refused
    why = "" if refused is None else f" (its last poll failed: {refused})"
    what = waiter.what
    if what is None:
        key = stream.key
        what = f"{key[0]} {key[-1]}" if isinstance(key, tuple) else str(key)
    exc = WaitTimeoutError(
        f"gave up waiting for {what} after {waiter.timeout} s{why}", subject=stream.last
    )
    exc.__cause__ = refused
    waiter.set_exception(exc)


def _due(stream: _Stream[Any]) -> None:
    """A stream's next poll is due (a timer's callback)."""
    stream.hub._enqueue(stream)


#: The context the hub's timers run their callbacks in (they read no context variable): one
#: for all, instead of a copy of the caller's context per timer.
_CALLBACKS = contextvars.Context()
#: Polls in flight at once at most, by default (below the connection pool's default size).
MAX_IN_FLIGHT = 64
#: The longest a stream waits after a failed poll.
_MAX_RETRY_PAUSE = 60.0
#: The shortest first wait after a failed poll.
_MIN_RETRY_PAUSE = 0.05
#: Poll failures that end no wait: the next poll may well succeed.
_TRANSIENT = (RateLimitError, APIConnectionError, InternalServerError)


def _transient(exc: Exception) -> bool:
    """Whether a poll failure is transient (a timeout, a lost connection, a 5xx, a 429)."""
    return isinstance(exc, _TRANSIENT)


def _after_failure(exc: Exception, interval: float, failures: int) -> float:
    """How long a stream waits after its `failures`-th transient poll failure in a row: the poll
    interval doubled per failure, never beyond a 429's `Retry-After` nor a minute. (The
    rate-limit gate holds the next poll for the pause the server asked for anyway; the back-off
    keeps a stream from hammering a server that keeps failing or whose window does not move,
    such as a sandbox with a paused clock under the no-wait testing mode.)"""
    backoff = max(interval, _MIN_RETRY_PAUSE) * 2.0 ** min(failures - 1, 16)
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        backoff = min(backoff, exc.retry_after)
    return max(_MIN_RETRY_PAUSE, min(backoff, _MAX_RETRY_PAUSE))


@attrs.frozen
class WaitContext:
    """What waiters and flows use of a client (see `LayersClient._waiting`): its poll hub, the
    organization it acts in and its default poll policy.

    Streams are shared only inside one organization: the same id seen through a view of another
    organization is another thing, so every key names the organization (`key`).
    """

    hub: PollHub
    organization: str | None
    policy: PollPolicy

    def key(self, kind: str, ident: str) -> tuple[str, str | None, str]:
        """The hub's key of the thing `kind` `ident` seen through this context (see above)."""
        return (kind, self.organization, ident)
