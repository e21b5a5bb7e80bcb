"""Memory and completion of 10,000 and 20,000 concurrent `wait_for_job` on distinct jobs.

Usage::

    python benchmarks/waits.py [--waits 10000 20000] [--rounds 2] [--before DIR]

Every measurement runs in a fresh Python process of its own (so that one run's heap does not
carry into the next), which starts a sandbox in a further process (speed 600, ``partner`` key,
jitter 0, slideshow jobs that run until the clock jumps), starts the jobs through one client
(``poll_rate=5000``, the default poll policy), then starts one `wait_for_job` task per job and,
once every job was polled at least once, jumps the sandbox clock so that every job completes.
Two kinds of process:

- ``rss``: the growth of the process's resident set from just before the waits start to its
  peak (``VmHWM``, reset first) until every wait returned, and once every wait polled once; also
  the waits that completed, the polls per wait and the errors that ended the others. Each
  waiter counts its result and drops it (a completed job, about 6 KiB with its response
  headers, is the caller's data, not what the wait costs);
- ``trace``: the bytes that `tracemalloc` sees allocated and still held once every wait polled
  once (the wait's task and coroutines, its future, stream, timer and the last job state),
  divided by the number of waits; deterministic, unlike RSS on a shared machine.

``--before DIR`` adds the same runs with ``layers_async`` imported from another checkout
(e.g. a worktree of ``main``), interleaved with this checkout's runs round by round. Printed
side by side: medians of the rounds with their ranges, and the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sandbox_throughput import free_port, stop, wait_for_sandbox  # noqa: E402

POLL_RATE = 5_000.0
#: Jobs started at once while setting up.
START_CONCURRENCY = 64


def sandbox_config(jobs: int) -> dict[str, Any]:
    """One organization allowed `jobs` running jobs; slideshows that never end on their own."""
    return {
        "jitter": 0,
        "organizations": [
            {
                "ref": "partner",
                "name": "Waits",
                "includedThisPeriod": 0,
                "prepaidBalance": 0,
                "maxRunningJobs": jobs * 2,
            }
        ],
        "apiKeys": [
            {
                "name": "waits",
                "organization": "partner",
                "env": "test",
                "rateLimitTier": "partner",
                "scopes": ["*"],
                "returnUrlAllowlist": ["localhost"],
            }
        ],
        "durations": {"slideshowBuilder": 10_000_000},
    }


def _status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux ``clear_refs`` 5)."""
    Path("/proc/self/clear_refs").write_text("5")


async def measure(mode: str, waits: int) -> dict[str, Any]:
    """One child process's measurement (see the module docstring)."""
    from layers_async import LayersClient, wait_for_job

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "sandbox.json"
        cfg.write_text(json.dumps(sandbox_config(waits)))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = ["-m", "layers_async.sandbox", "--port", str(port), "--speed", "600"]
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured part
            [sys.executable, *argv, "--config", str(cfg)], stdout=subprocess.DEVNULL
        )
        try:
            async with aiohttp.ClientSession() as http:
                await wait_for_sandbox(http, base, proc)
                async with http.get(f"{base}/_sandbox/keys") as r:
                    key = (await r.json())["items"][0]["key"]
                async with LayersClient(api_key=key, base_url=base, poll_rate=POLL_RATE) as client:
                    project = await client.projects.create(name="Waits Co", timezone="UTC")
                    sem = asyncio.Semaphore(START_CONCURRENCY)

                    async def start(i: int) -> str:
                        async with sem:
                            job = await client.content.slideshow_builder(project.id, hook=f"h {i}")
                            return job.job_id

                    job_ids = await asyncio.gather(*[start(i) for i in range(waits)])
                    hub = client._waiting.hub
                    gc.collect()
                    if mode == "trace":
                        tracemalloc.start()
                    base_traced = tracemalloc.get_traced_memory()[0]
                    before = _status()["VmRSS"]
                    _reset_peak()
                    polls0 = hub.polls
                    started = time.perf_counter()
                    # Each result is counted and dropped as it arrives (a completed job weighs
                    # about 6 KiB: the caller's data, not the wait's).
                    outcomes: Counter[str] = Counter()

                    async def one(job_id: str) -> None:
                        try:
                            job = await wait_for_job(client, job_id, timeout=300)
                        except Exception as exc:  # counted by type, shown in the report
                            outcomes[type(exc).__name__] += 1
                        else:
                            outcomes["completed" if job.status == "completed" else "other"] += 1

                    tasks = [asyncio.create_task(one(j)) for j in job_ids]
                    del job_ids
                    while hub.polls - polls0 < waits and time.perf_counter() - started < 120:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                    held = _status()["VmRSS"]
                    traced = tracemalloc.get_traced_memory()[0] - base_traced
                    async with http.post(
                        f"{base}/_sandbox/clock/advance", json={"seconds": 20_000_000}
                    ) as r:
                        r.raise_for_status()
                    await asyncio.gather(*tasks)
                    tracemalloc.stop()
                    elapsed = time.perf_counter() - started
                    polls = hub.polls - polls0
            peak = _status()["VmHWM"]
        finally:
            stop(proc)
    completed = outcomes.pop("completed", 0)
    return {
        "completed": completed,
        "errors": dict(outcomes),
        "polls_per_wait": polls / waits,
        "seconds": elapsed,
        "held_mb": (held - before) / 1024,
        "peak_mb": (peak - before) / 1024,
        "bytes_per_wait": traced / waits if mode == "trace" else None,
    }


def run_child(src: Path, mode: str, waits: int) -> dict[str, Any]:
    """Run one measurement in a fresh process importing `layers_async` from `src`."""
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--waits", str(waits)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"measurement failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _span(values: list[float], fmt: str) -> str:
    """The median, and the range when the rounds differ."""
    med = format(statistics.median(values), fmt)
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return med if lo == hi else f"{med} ({lo}-{hi})"


ROWS = (
    ("waits completed", "completed", ".0f"),
    ("RSS growth, peak MB", "peak_mb", ".0f"),
    ("RSS growth, all waiting MB", "held_mb", ".0f"),
    ("tracemalloc KiB per wait", "kib_per_wait", ".2f"),
    ("polls per wait", "polls_per_wait", ".2f"),
    ("seconds to the last return", "seconds", ".1f"),
)


def report(results: dict[tuple[str, int], list[dict[str, Any]]], variants: list[str]) -> None:
    """Print one table per number of waits: a column per variant, medians with ranges."""
    for waits in sorted({w for _, w in results}):
        print(f"\n{waits:,} concurrent waits | " + " | ".join(variants))
        for label, field, fmt in ROWS:
            cells = []
            for variant in variants:
                runs = results[(variant, waits)]
                values = [r[field] for r in runs if r.get(field) is not None]
                cells.append(_span(values, fmt) if values else "—")
            print(f"  {label:30} | " + " | ".join(f"{c:>22}" for c in cells))
        for variant in variants:
            errors: Counter[str] = Counter()
            for r in results[(variant, waits)]:
                errors.update(r["errors"])
            if errors:
                print(f"  errors ({variant}): {dict(errors)}")
    print("\nLoad average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in os.getloadavg()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--waits", type=int, nargs="+", default=[10_000, 20_000])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", type=Path, help="a checkout to compare with (e.g. main)")
    parser.add_argument("--child", choices=("rss", "trace"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.waits[0]))))
        return 0
    sources = {"after (this checkout)": HERE.parent}
    if args.before is not None:
        sources = {"before": args.before.resolve(), **sources}
    variants = list(sources)
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rnd in range(args.rounds):
        order = variants if rnd % 2 == 0 else variants[::-1]
        for waits in args.waits:
            for variant in order:
                rss = run_child(sources[variant], "rss", waits)
                trace = run_child(sources[variant], "trace", waits)
                rss["kib_per_wait"] = trace["bytes_per_wait"] / 1024
                results.setdefault((variant, waits), []).append(rss)
                print(json.dumps({"variant": variant, "waits": waits, **rss}), file=sys.stderr)
                print(
                    f"round {rnd + 1} {variant} {waits}: {rss['completed']} completed, "
                    f"peak +{rss['peak_mb']:.0f} MB, {rss['kib_per_wait']:.2f} KiB/wait",
                    file=sys.stderr,
                )
    report(results, variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())
