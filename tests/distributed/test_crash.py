"""Crash test: 300 customers on 3 worker processes, one SIGKILLed at random three times mid-run;
every customer ends with exactly one project, container and scheduled post."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest

from layers_async.cli.demo import demo_customers
from tests.distributed._processes import (
    Workers,
    cli,
    env_for,
    sandbox_json,
    sandbox_process,
    store_at,
    until_status,
    write_csv,
)

CUSTOMERS = 300
WORKERS = 3
#: Kill a worker as the number of finished flows passes each of these.
KILL_AT = (30, 120, 210)


@pytest.mark.anyio
@pytest.mark.timeout(420)
async def test_three_sigkills_mid_run_leave_exactly_one_of_everything_per_customer(
    tmp_path: Path, redis_url: str
) -> None:
    """SIGKILLing a random worker three times mid-run (each restarted) loses and repeats
    nothing: the sandbox holds exactly 300 projects, containers and scheduled posts, `status`
    reports 300 done, and the killed workers' jobs resumed on another try."""
    rng = random.Random(13)
    customers = write_csv(tmp_path / "customers.csv", demo_customers(CUSTOMERS))
    async with sandbox_process(tmp_path, speed=60) as (base, key), store_at(redis_url) as store:
        env = env_for(base, key, redis_url)
        enqueued = cli(env, "enqueue", str(customers), "--schedule-in", "30d")
        assert enqueued.returncode == 0, enqueued.stderr
        assert f"{CUSTOMERS} enqueued" in enqueued.stdout
        workers = Workers(env, tmp_path, "--concurrency", "20", "--lease", "1")
        try:
            for _ in range(WORKERS):
                workers.start()
            live = list(range(WORKERS))
            for threshold in KILL_AT:
                await until_status(
                    store, lambda s, t=threshold: s.count("done") >= t, f"{threshold} done"
                )
                victim = rng.choice(live)
                workers.procs[victim].send_signal(signal.SIGKILL)
                workers.procs[victim].wait()
                live[live.index(victim)] = workers.start()
            final = await until_status(
                store,
                lambda s: s.count("done") + s.count("failed") == CUSTOMERS,
                "every flow finished",
            )
        finally:
            workers.stop_all()
        assert final.count("done") == CUSTOMERS, (final, workers.logs())
        status = cli(env, "status")
        assert status.returncode == 0, status.stderr
        assert f"done {CUSTOMERS} | failed 0" in status.stdout
        counts = (await sandbox_json(base, "/_sandbox/state"))["counts"]
        assert counts["projects"]["total"] == CUSTOMERS
        assert counts["containers"]["total"] == CUSTOMERS
        assert counts["scheduledPosts"]["total"] == CUSTOMERS
        results = await store.results()
        assert len(results) == CUSTOMERS
        assert max(r["tries"] for r in results.values()) > 1  # the kills hit running jobs
