"""`layers-async onboard`: crash-safe resume, bad rows reported by line and field, results."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest

from layers_async import LayersValidationError
from layers_async.cli import build_parser
from layers_async.cli.arguments import parse_duration
from layers_async.cli.onboard import run_onboard
from layers_async.cli.rows import read_customers
from layers_async.resources.projects import validate_project_fields
from layers_async.sandbox import Sandbox
from tests.cli._remote import KEYS, ORGS, sandbox_state

MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]
ROOT = Path(__file__).resolve().parents[2]
DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)
HEADER = ["external_id", "name", "timezone", "app_description", "screenshot_url", "connect"]


def _good_row(i: int) -> dict[str, str]:
    return {
        "external_id": f"cust-{i:04d}",
        "name": f"Customer {i:04d}",
        "timezone": "Europe/Paris" if i % 2 else "UTC",
        "app_description": DESC,
        "screenshot_url": f"https://cdn.example.com/{i}/home.png",
        "connect": "tiktok",
    }


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _totals(state: dict[str, Any]) -> dict[str, int]:
    names = ("projects", "appMedia", "socialAccounts", "containers", "scheduledPosts")
    return {n: int(state["counts"][n]["total"]) for n in names}


def _onboard_command(
    tmp_path: Path, customers: int, sandbox: tuple[str, str]
) -> tuple[list[str], dict[str, str], Path]:
    """`onboard` of `customers` good rows against a sandbox process: (argv, env, state file)."""
    path = tmp_path / "customers.csv"
    _write_csv(path, HEADER, [_good_row(i) for i in range(customers)])
    state = tmp_path / "run.jsonl"
    cmd = [sys.executable, "-m", "layers_async", "onboard", str(path)]
    cmd += ["--state", str(state), "--schedule-in", "2h"]
    base, key = sandbox
    return cmd, os.environ | {"LAYERS_BASE_URL": base, "LAYERS_API_KEY": key}, state


def _n_done(state: Path) -> int:
    """Customers the run's state file records as done (0 before it exists)."""
    lines = state.read_bytes().splitlines() if state.exists() else []
    return sum(b'"status":"done"' in line for line in lines)


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_killed_three_times_then_rerun_creates_everything_exactly_once(
    remote_sandbox: tuple[str, str], tmp_path: Path
) -> None:
    """200 customers, SIGKILLed 3 times at random moments, resume to exactly one of everything."""
    cmd, env, state = _onboard_command(tmp_path, 200, remote_sandbox)
    cmd += ["--concurrency", "50"]
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    log: list[str] = []
    n_done = 0
    for attempt in range(3):
        # A random moment, read off the run's own progress (not a wall-clock delay): once a
        # random number more customers are done, give or take the customers in flight.
        target = n_done + rng.randint(1, 200 // 4)
        proc = subprocess.Popen(  # noqa: ASYNC220 - the process under test, killed below
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        while _n_done(state) < target and proc.poll() is None:  # noqa: ASYNC110 - another process writes it
            await asyncio.sleep(0.002)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()
        n_done = _n_done(state)
        counts = _totals(await sandbox_state(remote_sandbox[0]))
        log.append(f"kill {attempt + 1} after {target} done (alive={alive}): {n_done}, {counts}")
        if attempt == 0:
            assert alive, f"seed {seed}: the first run finished before the kill"
    final = subprocess.run(  # noqa: ASYNC221 - the resumed run to completion
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
    )
    report = "\n".join([f"seed {seed}", *log, final.stdout[-2000:], final.stderr[-2000:]])
    print(report)
    assert final.returncode == 0, report
    totals = _totals(await sandbox_state(remote_sandbox[0]))
    assert totals == dict.fromkeys(totals, 200), report
    results = _results(tmp_path / "run.results.jsonl")
    assert len(results) == 200
    assert all(r["ok"] for r in results), report
    assert len({r["project_id"] for r in results}) == 200
    assert all(len(r["scheduled_post_ids"]) == 1 for r in results)
    assert "summary:" in final.stdout


def _args(customers: Path, *options: str | Path) -> argparse.Namespace:
    """`layers-async onboard customers --schedule-in 1h *options` as the command parses it."""
    argv = ["onboard", str(customers), "--schedule-in", "1h", *map(str, options)]
    return build_parser().parse_args([*argv, "--return-url", "http://localhost:3000/callback"])


@contextlib.asynccontextmanager
async def _served(
    make_sandbox: MakeSandbox, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Sandbox]:
    """A speed-60 sandbox with a partner-tier key, named by LAYERS_BASE_URL and LAYERS_API_KEY."""
    async with make_sandbox(speed=60, api_keys=KEYS, organizations=ORGS) as sb:
        monkeypatch.setenv("LAYERS_BASE_URL", sb.url)
        monkeypatch.setenv("LAYERS_API_KEY", sb.api_key)
        yield sb


BAD: list[tuple[int, str, dict[str, str]]] = [
    # (index among the 50 rows, the field reported, the fields changed)
    (3, "name", {"name": ""}),
    (7, "app_description", {"app_description": "Too short to describe an app."}),
    (11, "screenshot_url", {"screenshot_url": "http://cdn.example.com/a.png"}),
    (15, "screenshot_url", {"screenshot_url": "https://192.168.1.20/a.png"}),
    (19, "timezone", {"timezone": "Mars/Olympus_Mons"}),
    (23, "notes", {"notes": "call back on Monday"}),
    (27, "schedule_at", {"schedule_at": "2026-05-20T09:00:00"}),
    (31, "connect", {"connect": "myspace"}),
    (35, "external_id", {"external_id": ""}),
    (39, "name", {"name": "N" * 31}),
]


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_bad_rows_are_reported_by_line_and_field_and_the_good_ones_onboarded(
    make_sandbox: MakeSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """10 malformed rows of 50: each reported as `line N: field:`, exit 1, the 40 others done."""
    rows = [_good_row(i) | {"notes": "", "schedule_at": ""} for i in range(50)]
    rows[0]["schedule_at"] = "2026-05-20T09:00:00+02:00"  # an explicit time with an offset
    for index, _field, change in BAD:
        rows[index] |= change
    customers = tmp_path / "customers.csv"
    _write_csv(customers, [*HEADER, "notes", "schedule_at"], rows)
    args = _args(customers, "--state", tmp_path / "run.jsonl", "--results", tmp_path / "out.jsonl")
    async with _served(make_sandbox, monkeypatch) as sb:
        status = await run_onboard(args)
        totals = _totals(await sb.state())
    out = capsys.readouterr().out
    assert status == 1, out
    reported = [line for line in out.splitlines() if line.startswith("line ")]
    expected = {(index + 2, field) for index, field, _ in BAD}  # header = line 1
    for line, field in expected:
        assert any(r.startswith(f"line {line}: {field}: ") for r in reported), (line, field, out)
    assert {int(r.split(":")[0].split()[1]) for r in reported} == {ln for ln, _ in expected}
    assert "summary: 40 onboarded, 0 skipped (already done), 0 failed, 10 bad rows" in out
    assert totals == dict.fromkeys(totals, 40)
    results = _results(tmp_path / "out.jsonl")
    assert [r["line"] for r in results] == list(range(2, 52))
    bad = {(r["line"], r["error"]["field"]) for r in results if not r["ok"]}
    assert bad == expected
    assert sum(r["ok"] for r in results) == 40


def test_rows_are_validated_with_the_sdk_checks_and_jsonl_lines_counted(tmp_path: Path) -> None:
    """JSONL input: blank lines keep numbering, unknown keys only count when non-empty."""
    path = tmp_path / "c.jsonl"
    good = {"external_id": "a", "name": "Alpha Co", "logo_url": "https://cdn.example.com/l.png"}
    lines = [
        json.dumps(good | {"unused": None}),
        "",
        json.dumps({"external_id": "b", "name": "Beta", "schedule_at": "2026-06-01T09:00:00Z"}),
        "{not json",
        json.dumps(good | {"external_id": "c", "schedule_at": "2026-06-01T09:00:00+02:00"}),
        json.dumps(good | {"external_id": "d", "brand_voice": "shouty", "extra": 1}),
        json.dumps(good),
    ]
    path.write_text("\n".join(lines) + "\n")
    rows, bad = read_customers(path, schedule_in=parse_duration("1h30m"))
    assert [(r.line, r.customer.external_id) for r in rows] == [(1, "a")]
    assert rows[0].customer.media[0].kind == "logo"
    assert rows[0].customer.schedule_in is None  # no connect, nothing to schedule
    problems = {b.line: [f for f, _ in b.problems] for b in bad}
    assert problems == {
        3: ["schedule_at"],  # a time without connect
        4: ["row"],
        5: ["schedule_at"],
        6: ["extra", "brand_voice"],
        7: ["external_id"],  # a duplicate of line 1
    }
    assert parse_duration("90s").total_seconds() == 90
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("2 hours")


def _onboard_three_in_process(
    tmp_path: Path, journal: bytes, *options: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`onboard --sandbox` of 3 customers with `journal` as the state file: (process, state)."""
    customers = tmp_path / "c.csv"
    _write_csv(customers, HEADER, [_good_row(i) for i in range(3)])
    state = tmp_path / "run.jsonl"
    state.write_bytes(journal)
    cmd = [sys.executable, "-m", "layers_async", "onboard", str(customers)]
    cmd += ["--state", str(state), "--sandbox", *options]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    return proc, state


def test_the_sandbox_flag_onboards_in_process_and_a_torn_journal_line_is_dropped(
    tmp_path: Path,
) -> None:
    """`--sandbox` serves its own API; a half-written last journal line is cut before appending."""
    journal = b'{"external_id":"cust-0000","status":"started"}\n{"external_id":"cu'
    proc, state = _onboard_three_in_process(tmp_path, journal, "--schedule-in", "30m")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sandbox: serving the Layers API at http://127.0.0.1:" in proc.stdout
    assert "dropped a torn last line" in proc.stdout
    records = [json.loads(line) for line in state.read_text().splitlines()]
    assert sum(r["status"] == "done" for r in records) == 3
    results = _results(tmp_path / "run.results.jsonl")
    assert all(r["ok"] and len(r["scheduled_post_ids"]) == 1 for r in results)


def test_project_fields_are_checked_without_a_client() -> None:
    """validate_project_fields (what the row check uses) applies create's rules offline."""
    body = validate_project_fields(name="Acme Coffee", brand_voice="warm", tagline=None)
    assert body == {"name": "Acme Coffee", "brandVoice": "warm"}
    with pytest.raises(LayersValidationError) as bad:
        validate_project_fields(timezone="Mars/Olympus_Mons")
    assert bad.value.field == "timezone"
    with pytest.raises(TypeError, match="not project fields: colour"):
        validate_project_fields(colour="red")


#: Journal lines that are not records `onboard` writes: each is skipped and counted.
UNREADABLE = [
    b'{"external_id":["cust-0000"],"status":"done","result":{}}',  # a list as the id
    b'{"external_id":"cust-0001","status":7}',
    b'{"external_id":{"a":1},"status":"started"}',
    b'["cust-0002","done"]',
    b'"done"',
    b"\xff\xfe not utf-8",
    b"[" * 100_000,
    # numbers strict JSON cannot write back: trusting them would put Infinity in the results
    b'{"external_id":"cust-0000","status":"done","result":{"project_id":"prj_x","seconds":1e999}}',
    b'{"external_id":"cust-0001","status":"done","result":{"project_id":"prj_x","seconds":NaN}}',
]


def test_journal_lines_of_the_wrong_type_are_skipped_counted_and_the_run_completes(
    tmp_path: Path,
) -> None:
    """Unreadable or wrongly typed journal lines are skipped, counted and said; all onboard."""
    proc, state = _onboard_three_in_process(tmp_path, b"\n".join(UNREADABLE) + b"\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"skipped {len(UNREADABLE)} unreadable line(s) of {state}" in proc.stdout
    assert "3 to onboard" in proc.stdout
    assert "3 at a time" in proc.stdout  # not the default concurrency of 20
    results = _results(tmp_path / "run.results.jsonl")
    assert [r["external_id"] for r in results] == ["cust-0000", "cust-0001", "cust-0002"]
    assert all(r["ok"] and not r["skipped"] for r in results)
    assert all(r["project_id"].startswith("prj_") for r in results)


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_a_done_record_without_a_project_id_is_not_trusted_and_is_onboarded_again(
    make_sandbox: MakeSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`done` with `result: {}` runs that customer again; the rerun creates nothing twice."""
    customers = tmp_path / "c.csv"
    _write_csv(customers, HEADER, [_good_row(i) for i in range(4)])
    state = tmp_path / "run.jsonl"
    args = _args(customers, "--state", state, "--concurrency", "4")
    async with _served(make_sandbox, monkeypatch) as sb:
        assert await run_onboard(args) == 0
        first = {r["external_id"]: r for r in _results(tmp_path / "run.results.jsonl")}
        # what a hand-edited or foreign journal may hold: done, but with nothing to show for it
        with state.open("a") as fh:
            fh.write('{"external_id":"cust-0001","status":"done","result":{}}\n')
            fh.write('{"external_id":"cust-0002","status":"done","result":{"project_id":7}}\n')
        capsys.readouterr()
        assert await run_onboard(args) == 0
        totals = _totals(await sb.state())
    out = capsys.readouterr().out
    assert "2 'done' record(s) without a project id are not trusted" in out, out
    assert "2 to onboard" in out
    assert "summary: 2 onboarded, 2 skipped (already done), 0 failed" in out
    results = {r["external_id"]: r for r in _results(tmp_path / "run.results.jsonl")}
    for ext in ("cust-0001", "cust-0002"):
        assert results[ext]["ok"]
        assert not results[ext]["skipped"]
        assert results[ext]["project_id"] == first[ext]["project_id"]  # adopted, not new
    assert results["cust-0000"]["skipped"]
    assert totals == dict.fromkeys(totals, 4)  # nothing created twice


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_ctrl_c_writes_the_results_so_far_and_says_how_to_resume(
    remote_sandbox: tuple[str, str], tmp_path: Path
) -> None:
    """SIGINT: what finished is printed and written, exit 130, the resume finishes once each."""
    cmd, env, state = _onboard_command(tmp_path, 30, remote_sandbox)
    proc = subprocess.Popen(  # noqa: ASYNC220 - the process under test, interrupted below
        [*cmd, "--concurrency", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    while not any(line.startswith("[1/30] ok") for line in seen):
        line = await anyio.to_thread.run_sync(proc.stdout.readline)
        assert line, "".join(seen)
        seen.append(line)
    proc.send_signal(signal.SIGINT)
    rest, err = await anyio.to_thread.run_sync(proc.communicate, None, 60)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    done = [line for line in out.splitlines() if " ok   cust-" in line]
    assert re.search(rf"^interrupted: {len(done)} onboarded, 0 skipped .* failed,", out, re.M)
    assert f"to resume, run the same command again with --state {state}" in out
    results = _results(tmp_path / "run.results.jsonl")
    assert len(results) == 30
    finished = [r for r in results if r["ok"]]
    assert len(finished) == len(done) >= 1
    assert all(r["project_id"].startswith("prj_") for r in finished)
    assert {r["error"]["type"] for r in results if not r["ok"]} <= {"Interrupted"}
    resumed = subprocess.run(  # noqa: ASYNC221 - the resumed run to completion
        [*cmd, "--concurrency", "30"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{len(done)} already done" in resumed.stdout
    totals = _totals(await sandbox_state(remote_sandbox[0]))
    assert totals == dict.fromkeys(totals, 30)
