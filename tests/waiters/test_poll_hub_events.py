"""Unit tests of the poll hub's event side on a virtual clock: what a fed event does to the
streams listening to its subject (ends their waits with the state it describes, or wakes them to
poll at once, also while a poll is in flight), the events it remembers for waits that start
later, and the poll budget's refunds and the pause after a 429's `Retry-After`.

`client.webhooks.feed` reaches the hub through `_events.feed`, whose hooks read webhook event
types; these tests feed the hub directly (`fire`, the same steps) with a fake hook, so that the
hub's own rules are pinned apart from how job and OAuth events are read (`test_events.py` runs
those end to end against the sandbox). The harness is in `_virtual.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable

import attrs
import pytest

from layers_async import PollPolicy
from layers_async._polling import PollBudget, PollHub

from . import _virtual
from ._virtual import STEADY, Counter, Run, at_least, start, until

SUBJECT = ("job", "job_1")
#: The first poll at 1 s: an event fired before it finds the stream between polls.
LATE = attrs.evolve(STEADY, first_delay=1.0)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs a test's coroutine on a fresh virtual loop (see `_virtual.virtual_runner`)."""
    return _virtual.virtual_runner(monkeypatch)


@attrs.frozen
class Event:
    """A fed event about `SUBJECT`. `says`: the state it describes (None: it does not say; a
    function: the state it builds from the stream's last one); `ours`: False for an event of
    another organization."""

    says: int | Callable[[int | None], int | None] | None
    ours: bool = True


class Hook:
    """An `EventHook` reading `Event`s about `SUBJECT`."""

    subjects: tuple[Hashable, ...] = (SUBJECT,)

    def matches(self, event: Event) -> bool:
        return event.ours

    def state(self, event: Event, last: int | None) -> int | None:
        says = event.says
        return says(last) if callable(says) else says


def fire(hub: PollHub, event: Event) -> int:
    """What `_events.feed` does with a job's end: show it to the streams listening to its
    subject, then remember it for waits that start later; returns how many waiters it woke."""
    woken = sum(stream.on_event(event) for stream in hub.streams_for(SUBJECT))
    hub.remember(SUBJECT, event)
    return woken


def even(state: int) -> int | None:
    """A check only even states satisfy."""
    return state if state % 2 == 0 else None


def test_an_event_describing_the_state_ends_its_waits_without_a_poll(run: Run) -> None:
    """An event of another organization is ignored; one that describes a state satisfying
    every waiter ends them all with it, stops the stream, and no poll is ever sent."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        waits = [
            start(hub.wait("k", fetch, at_least(5), policy=LATE, timeout=None, hook=Hook()))
            for _ in range(2)
        ]
        await until(0.5)
        assert fire(hub, Event(7, ours=False)) == 0
        assert fire(hub, Event(7)) == 2
        assert await asyncio.gather(*waits) == [7, 7]
        assert hub.answered_by_events == 2
        assert hub.active_streams == 0
        assert hub.streams_for(SUBJECT) == []
        await until(5.0)
        assert fetch.given == []
        await hub.aclose()

    run(main)


def test_an_event_ending_some_waits_leaves_the_stream_polling_for_the_others(run: Run) -> None:
    """An event's state is built from the stream's last polled state; it ends the waiters it
    satisfies (counted in `answered_by_events`), and the stream polls on for the others from
    that state (the next fetch is given it)."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        big = start(hub.wait("k", fetch, at_least(5), policy=LATE, timeout=None, hook=Hook()))
        odd = start(hub.wait("k", fetch, even, policy=LATE, timeout=None, hook=Hook()))
        await until(1.5)  # the poll at 1 s (state 1) satisfied neither
        assert fire(hub, Event(lambda last: None if last is None else last + 10)) == 2
        assert await big == 11
        assert hub.answered_by_events == 1
        assert await odd == 2  # the next poll, on the policy's pace
        assert fetch.given == [None, 11]
        assert fetch.times == [1.0, 2.0]
        assert hub.active_streams == 0
        await hub.aclose()

    run(main)


def test_an_event_the_hook_cannot_read_makes_the_stream_poll_at_once(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """A hook that raises on an event wakes the stream between polls to poll at once (at 0.5 s,
    not at its first poll's 1 s), and the debug log names the event's type and the stream."""

    def unreadable(last: int | None) -> int:
        raise KeyError("result")

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        wait = start(hub.wait("k", fetch, at_least(1), policy=LATE, timeout=None, hook=Hook()))
        await until(0.5)
        assert fire(hub, Event(unreadable)) == 1
        assert await wait == 1
        assert fetch.times == [0.5]
        assert hub.answered_by_events == 0
        await hub.aclose()

    caplog.set_level(logging.DEBUG, logger="layers_async")
    run(main)
    assert [r.getMessage() for r in caplog.records] == ["event 'Event' not readable by stream 'k'"]


def test_an_event_during_a_poll_makes_the_stream_poll_again_right_after_it(run: Run) -> None:
    """An event that does not say the state, fed while a poll is in flight (1 s to 1.25 s),
    makes the stream poll again as soon as that poll ends, not a poll interval later; after
    that one poll the stream is back on its policy's pace."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter(took=0.25)
        wait = start(hub.wait("k", fetch, at_least(3), policy=LATE, timeout=None, hook=Hook()))
        await until(1.1)
        assert fire(hub, Event(None)) == 1
        assert await wait == 3
        assert fetch.times == [1.0, 1.25, 2.5]
        await hub.aclose()

    run(main)


def test_a_check_raising_on_an_events_state_ends_its_waiter_with_the_error(run: Run) -> None:
    """A waiter whose check raises on the state an event describes ends with that error (the
    other waiter goes on); it ended without a poll, so it counts in `answered_by_events`."""

    def refuses_seven(state: int) -> int | None:
        if state == 7:
            raise ValueError("job failed")
        return None

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        bad = start(hub.wait("k", fetch, refuses_seven, policy=LATE, timeout=None, hook=Hook()))
        odd = start(hub.wait("k", fetch, even, policy=LATE, timeout=None, hook=Hook()))
        await until(0.5)
        assert fire(hub, Event(7)) == 2
        with pytest.raises(ValueError, match="job failed"):
            await bad
        assert hub.answered_by_events == 1
        assert await odd == 2  # polls at 1 s (state 1) and 2 s (state 2)
        assert fetch.given == [7, 1]
        await hub.aclose()

    run(main)


def test_a_wait_starting_after_its_event_ends_at_once(run: Run) -> None:
    """An event that no stream listened to is remembered: a wait on its subject that starts
    later ends with its state at once, without a poll."""

    async def main() -> None:
        hub = PollHub(None)
        assert fire(hub, Event(7)) == 0
        fetch = Counter()
        got = await hub.wait("k", fetch, at_least(5), policy=STEADY, timeout=None, hook=Hook())
        assert got == 7
        assert hub.answered_by_events == 1
        assert hub.active_streams == 0
        assert fetch.given == []
        await hub.aclose()

    run(main)


def test_a_hooked_wait_joining_a_plain_stream_is_answered_by_its_polls(run: Run) -> None:
    """A wait with a hook that joins a stream a plain wait began (same key) is answered by that
    stream's polls: the stream has no hook, so an event remembered for the subject is not shown
    to it (and showing it is no error)."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter()
        plain = start(hub.wait("k", fetch, at_least(2), policy=LATE, timeout=None))
        await until(0.5)
        assert fire(hub, Event(7)) == 0  # no stream listens to the subject
        hooked = start(hub.wait("k", fetch, at_least(2), policy=LATE, timeout=None, hook=Hook()))
        assert list(await asyncio.gather(plain, hooked)) == [2, 2]
        assert fetch.times == [1.0, 2.0]
        assert hub.answered_by_events == 0
        await hub.aclose()

    run(main)


def test_remembered_events_are_bounded_oldest_out() -> None:
    """The hub remembers up to `recent_size` subjects' events; remembering one again makes it
    the newest; past the bound, the oldest is forgotten first."""
    hub = PollHub(None)
    hub.recent_size = 2
    hub.remember("a", 1)
    hub.remember("b", 2)
    assert list(hub.recent.items()) == [("a", 1), ("b", 2)]
    hub.remember("a", 3)
    hub.remember("c", 4)
    assert list(hub.recent.items()) == [("a", 3), ("c", 4)]


def test_a_429s_retry_after_shortens_the_pause_after_it(
    run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll refused with `Retry-After: 0.2` is retried 0.2 s later, not after the 1 s poll
    interval; the debug log names the stream and the failure's type."""

    async def main() -> None:
        hub = PollHub(None)
        fetch = Counter(fail=[_virtual.refused(0.2)])
        assert await hub.wait("k", fetch, at_least(1), policy=STEADY, timeout=None) == 1
        assert fetch.times == pytest.approx([0.0, 0.2])
        await hub.aclose()

    caplog.set_level(logging.DEBUG, logger="layers_async")
    run(main)
    assert [r.getMessage() for r in caplog.records] == [
        "poll of 'k' failed (RateLimitError): polling again later"
    ]


def test_a_refund_gives_back_exactly_one_slot(run: Run) -> None:
    """At one poll per 2 s, with slots handed out at 0, 2 and 4 s, a refund gives back one
    slot: the next caller gets 4 s, not 6 s (no refund) nor 2 s (two slots given back, which
    would let polls exceed the rate)."""

    async def main() -> None:
        budget = PollBudget(0.5)
        await budget.acquire()
        queued = [asyncio.ensure_future(budget.acquire()) for _ in range(2)]
        await asyncio.sleep(0)
        budget.refund()
        await budget.acquire()
        assert _virtual.now() == 4.0
        await asyncio.gather(*queued)

    run(main)


def test_a_stream_left_while_queued_does_not_use_up_a_poll_slot(run: Run) -> None:
    """At one poll per 2 s: a stream whose waiter leaves while it queues for the 2 s slot gives
    that slot back, so a wait beginning at 3 s polls at once (not at 4 s or later)."""

    async def main() -> None:
        hub = PollHub(0.5)
        first = Counter()
        assert await hub.wait("a", first, at_least(1), policy=STEADY, timeout=None) == 1
        left: asyncio.Task[None] = start(
            hub.wait("b", Counter(), _virtual.never, policy=STEADY, timeout=None)
        )
        await until(0.5)
        left.cancel()
        with pytest.raises(asyncio.CancelledError):
            await left
        await until(3.0)
        fetch = Counter()
        assert await hub.wait("c", fetch, at_least(1), policy=STEADY, timeout=None) == 1
        assert first.times == [0.0]
        assert fetch.times == [3.0]
        await hub.aclose()

    run(main)


def test_streams_listening_to_one_subject_are_fed_apart(run: Run) -> None:
    """Two streams (two keys) listen to one subject; once one stops (its waiter left), the
    other still gets the subject's events, and once both stopped none listens."""

    async def main() -> None:
        hub = PollHub(None)
        one: asyncio.Task[None] = start(
            hub.wait("k1", Counter(), _virtual.never, policy=LATE, timeout=None, hook=Hook())
        )
        two = start(hub.wait("k2", Counter(), at_least(5), policy=LATE, timeout=None, hook=Hook()))
        await until(0.5)
        assert len(hub.streams_for(SUBJECT)) == 2
        one.cancel()
        with pytest.raises(asyncio.CancelledError):
            await one
        assert len(hub.streams_for(SUBJECT)) == 1
        assert fire(hub, Event(7)) == 1
        assert await two == 7
        assert hub.streams_for(SUBJECT) == []
        await hub.aclose()

    run(main)


def test_an_event_fed_hubs_hooked_waits_poll_on_its_safety_net(run: Run) -> None:
    """Once the hub is event-fed (`safety_net` set), a new wait with a hook polls on the safety
    net: first after its `first_delay` (3 s), or at half the wait's deadline when that is sooner
    (2 s for a 4 s deadline, still 3 s for an 8 s one), then at its interval (10 s); a wait
    without a hook keeps its own policy."""

    async def main() -> None:
        hub = PollHub(None)
        hub.safety_net = PollPolicy(
            initial=10.0, multiplier=1.0, max_interval=10.0, jitter=0.0, first_delay=3.0
        )
        fetches = [Counter() for _ in range(4)]
        waits = [
            hub.wait("a", fetches[0], at_least(2), policy=STEADY, timeout=None, hook=Hook()),
            hub.wait("b", fetches[1], at_least(1), policy=STEADY, timeout=8.0, hook=Hook()),
            hub.wait("c", fetches[2], at_least(1), policy=STEADY, timeout=4.0, hook=Hook()),
            hub.wait("d", fetches[3], at_least(2), policy=STEADY, timeout=8.0),
        ]
        assert await asyncio.gather(*waits) == [2, 1, 1, 2]
        assert [f.times for f in fetches] == [[3.0, 13.0], [3.0], [2.0], [0.0, 1.0]]
        await hub.aclose()

    run(main)
