"""Every attempt is bounded by the call's `connect` timeout, whichever way its timeouts were
given (the client's default, a call's own `Timeouts` shorter or longer than its deadline): a
connect that hangs ends at `connect` and is retried, instead of using up the attempt or the
call's deadline.

A connect that hangs on loopback: a listening socket whose queue of unaccepted connections is
full (`listen(0)` plus one connection it never accepts) drops every further SYN on Linux, so
the client's connect waits until its own timeout. Nothing is mocked.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from layers_async import APITimeoutError, LayersClient, RetryPolicy, Timeouts
from layers_async.testing import no_waits
from tests.client._rogue import KEY

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform != "linux", reason="a full accept queue drops SYNs on Linux"),
]

#: Three attempts, no gate: only the timeouts decide how a call ends.
POLICY = RetryPolicy(max_attempts=3, budget_burst=100)
#: A connect that hangs is given up after this long...
CONNECT = 0.1
#: ... well before an attempt's own timeout, and three of them well before the deadline.
ATTEMPT = 1.0
TOTAL = 1.5


@contextmanager
def _hanging_connects() -> Iterator[str]:
    """The base URL of a loopback port that never completes a connect."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        host, port = server.getsockname()
        # The one connection fills the queue: every later SYN is dropped.
        with socket.create_connection((host, port)), no_waits():
            yield f"http://{host}:{port}"


def _expect_three_connect_timeouts(err: APITimeoutError) -> None:
    assert err.attempts == 3  # each attempt ended at its connect timeout and was retried
    assert err.deadline_exceeded is False
    assert err.rate_limit is None  # no answer arrived


async def test_a_hanging_connect_ends_at_the_clients_connect_timeout() -> None:
    """With the client's `Timeouts(total=1.5, attempt=1, connect=0.1)`, each of 3 attempts
    ends at its 0.1 s connect timeout: the call fails after 3 attempts, not at its deadline."""
    timeouts = Timeouts(total=TOTAL, attempt=ATTEMPT, connect=CONNECT)
    with _hanging_connects() as url:
        async with LayersClient(
            api_key=KEY, base_url=url, retry=POLICY, rate_limit_tier=False, timeout=timeouts
        ) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.whoami()
    _expect_three_connect_timeouts(info.value)


@pytest.mark.parametrize(
    ("attempt", "total"),
    [(ATTEMPT, TOTAL), (5.0, TOTAL)],
    ids=["attempt-shorter-than-deadline", "deadline-shorter-than-attempt"],
)
async def test_a_hanging_connect_ends_at_a_calls_own_connect_timeout(
    attempt: float, total: float
) -> None:
    """A call's own `Timeouts(connect=0.1)` bounds each connect too, whether its attempt or its
    deadline bounds the attempt: 3 attempts, each ended at its connect timeout."""
    timeouts = Timeouts(total=total, attempt=attempt, connect=CONNECT)
    with _hanging_connects() as url:
        async with LayersClient(
            api_key=KEY, base_url=url, retry=POLICY, rate_limit_tier=False
        ) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.whoami(timeout=timeouts)
    _expect_three_connect_timeouts(info.value)
