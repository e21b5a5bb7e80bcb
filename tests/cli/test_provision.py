"""`layers-async provision`: crash-safe resume to exactly one child, key and allocation per
customer, secrets only in the 0600 --secrets file, bad rows reported by line and field."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from layers_async import LayersClient
from layers_async.cli.secrets import read_secrets
from tests.cli._remote import sandbox_state

ROOT = Path(__file__).resolve().parents[2]
ALLOCATE = 50
#: Customers of the crash test in the suite; benchmarks/children.py --crash runs 200 and more.
CUSTOMERS = int(os.environ.get("LAYERS_PROVISION_CRASH_CUSTOMERS", "200"))

pytestmark = pytest.mark.anyio


def _customers(path: Path, n: int, extra: list[dict[str, str]] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["external_id", "name"])
        writer.writeheader()
        writer.writerows(
            {"external_id": f"cust-{i:04d}", "name": f"Customer {i}"} for i in range(n)
        )
        writer.writerows(extra or [])
    return path


def _command(tmp_path: Path, n: int, sandbox: tuple[str, str]) -> tuple[list[str], dict[str, str]]:
    customers = _customers(tmp_path / "customers.csv", n)
    cmd = [sys.executable, "-m", "layers_async", "provision", str(customers)]
    cmd += ["--state", str(tmp_path / "run.jsonl"), "--secrets", str(tmp_path / "secrets.jsonl")]
    cmd += ["--allocate", str(ALLOCATE), "--concurrency", "20"]
    base, key = sandbox
    return cmd, os.environ | {"LAYERS_BASE_URL": base, "LAYERS_API_KEY": key}


def _totals(state: dict[str, Any]) -> dict[str, int]:
    counts = state["counts"]
    return {n: int(counts[n]["total"]) for n in ("organizations", "apiKeys", "creditEvents")}


def _done(tmp_path: Path) -> int:
    """Customers the journal marks done."""
    journal = tmp_path / "run.jsonl"
    return journal.read_bytes().count(b'"status":"done"') if journal.exists() else 0


async def _parent(client: LayersClient) -> tuple[int, list[int]]:
    """The parent's prepaid balance and the credits of its allocation events."""
    wallet = await client.credits.get()
    events = [e.credits async for e in client.credits.events(event_type="allocation")]
    return wallet.prepaid_balance, events


@pytest.mark.timeout(150)
async def test_killed_three_times_then_rerun_provisions_each_customer_exactly_once(
    remote_sandbox: tuple[str, str], tmp_path: Path
) -> None:
    """200 customers, SIGKILLed 3 times at random (seeded) moments, resumed: exactly 200
    children, 200 child keys, 200 allocations, the parent debited 200 x N, and 200 working
    secrets in the --secrets file, none of them in any output, journal or results file."""
    cmd, env = _command(tmp_path, CUSTOMERS, remote_sandbox)
    base, key = remote_sandbox
    seed = int(os.environ.get("LAYERS_CRASH_SEED") or random.randrange(1 << 32))
    rng = random.Random(seed)
    before = _totals(await sandbox_state(base))
    async with LayersClient(api_key=key, base_url=base) as client:
        prepaid_before, _ = await _parent(client)
        outputs: list[Path] = []
        log = [f"seed {seed}"]
        done = 0
        for attempt in range(3):
            # a random moment: after a random number more customers are done, plus a jitter
            target, jitter = done + rng.randint(1, CUSTOMERS // 4), rng.uniform(0, 0.05)
            out = tmp_path / f"run{attempt}.out"
            outputs.append(out)
            with out.open("wb") as fh:
                proc = subprocess.Popen(  # noqa: ASYNC220 - the process under test, killed below
                    cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT
                )
                while _done(tmp_path) < target and proc.poll() is None:  # noqa: ASYNC110 - another process writes it
                    await asyncio.sleep(0.002)
                await asyncio.sleep(jitter)
                alive = proc.poll() is None
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
            done = _done(tmp_path)
            log.append(f"kill {attempt + 1} after {target} done + {jitter:.3f} s: {done} done")
            assert alive, f"seed {seed}: run {attempt + 1} finished before the kill"
        final = subprocess.run(  # noqa: ASYNC221 - the resumed run to completion
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        report = "\n".join(
            [
                *log,
                final.stdout[-1500:],
                final.stderr[-1500:],
            ]
        )
        print(report)
        assert final.returncode == 0, report
        after = _totals(await sandbox_state(base))
        prepaid_after, allocations = await _parent(client)
        assert after["organizations"] - before["organizations"] == CUSTOMERS, report
        assert after["apiKeys"] - before["apiKeys"] == CUSTOMERS, report
        assert allocations == [-ALLOCATE] * CUSTOMERS, report
        assert prepaid_before - prepaid_after == CUSTOMERS * ALLOCATE, report

        secrets = read_secrets(tmp_path / "secrets.jsonl")
        results = [json.loads(x) for x in (tmp_path / "run.results.jsonl").read_text().splitlines()]
        assert len(secrets) == CUSTOMERS == len(results)
        orgs = {r["external_id"]: r["organization_id"] for r in results}
        assert {e: s["organization_id"] for e, s in secrets.items()} == orgs

        async def whoami(secret: str) -> str:
            return (await client.with_options(api_key=secret).whoami()).organization_id

        answered = await asyncio.gather(*(whoami(s["secret"]) for s in secrets.values()))
        assert answered == [s["organization_id"] for s in secrets.values()]

    assert stat.S_IMODE((tmp_path / "secrets.jsonl").stat().st_mode) == 0o600
    seen = (
        b"".join(
            p.read_bytes()
            for p in [*outputs, tmp_path / "run.jsonl", tmp_path / "run.results.jsonl"]
        )
        + (final.stdout + final.stderr).encode()
    )
    leaked = [e for e, s in secrets.items() if s["secret"].encode() in seen]
    assert leaked == [], report


def _in_process(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`provision --sandbox` of 3 good rows and 2 bad ones, in a child process."""
    bad = [{"external_id": "", "name": "No id"}, {"external_id": "nameless", "name": ""}]
    customers = _customers(tmp_path / "customers.csv", 3, bad)
    cmd = [sys.executable, "-m", "layers_async", "provision", str(customers), "--sandbox"]
    cmd += ["--state", str(tmp_path / "run.jsonl"), "--secrets", str(tmp_path / "secrets.jsonl")]
    cmd += ["--allocate", "10", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_bad_rows_are_reported_and_secrets_are_only_in_the_secrets_file(tmp_path: Path) -> None:
    """Bad rows by line and field, the good ones provisioned; the secrets file is 0600 and
    holds every secret, which no output, journal or results line shows."""
    proc = _in_process(tmp_path, "--webhook-url", "https://hooks.example.com/layers")
    assert proc.returncode == 1, proc.stderr
    assert "line 5: external_id: is required" in proc.stdout
    assert "line 6: name: is required" in proc.stdout
    assert "summary: 3 provisioned" in proc.stdout
    path = tmp_path / "secrets.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secrets = read_secrets(path)
    assert sorted(secrets) == ["cust-0000", "cust-0001", "cust-0002"]
    values = [v for s in secrets.values() for k, v in s.items() if "secret" in k]
    assert len(values) == 6  # each customer's key and webhook signing secret
    seen = proc.stdout + proc.stderr
    seen += (tmp_path / "run.jsonl").read_text() + (tmp_path / "run.results.jsonl").read_text()
    assert [v for v in values if v in seen] == []
    results = [json.loads(x) for x in (tmp_path / "run.results.jsonl").read_text().splitlines()]
    assert [r["ok"] for r in results] == [True, True, True, False, False]
    assert all(r["balance"] == 10 for r in results[:3])


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    """An existing --secrets file with mode 0644 is refused (exit 2), left as it was, and
    nothing is provisioned."""
    path = tmp_path / "secrets.jsonl"
    path.write_text("")
    path.chmod(0o644)
    proc = _in_process(tmp_path)
    assert proc.returncode == 2
    assert "may be read by others (mode 0644)" in proc.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not (tmp_path / "run.jsonl").exists()


def test_a_bad_webhook_url_is_a_usage_error(tmp_path: Path) -> None:
    """--webhook-url is checked before anything is sent."""
    proc = _in_process(tmp_path, "--webhook-url", "ftp://example.com")
    assert proc.returncode == 2
    assert "--webhook-url" in proc.stderr
