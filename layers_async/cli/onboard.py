"""`layers-async onboard`: onboard a customer list from a CSV or JSONL file, crash-safely.

::

    layers-async onboard customers.csv --state run.jsonl [--concurrency 20] [--schedule-in 2h]
    layers-async onboard customers.jsonl --state run.jsonl --sandbox

Every row is validated before anything is sent; a bad row is reported as
``line N: field: message`` and skipped, and the good rows are onboarded with
`layers_async.onboard_customer`, at most ``--concurrency`` at a time.

The state file is an append-only JSONL journal: ``{"external_id", "status": "started"}`` when a
customer's flow begins and ``{"external_id", "status": "done", "result": {...}}`` when it ends
(``"failed"`` with the error when it fails), each line flushed and fsynced. A re-run with the
same state file skips the customers already done and runs the others again; since
`onboard_customer` derives its idempotency keys from the customer and the step, adopts the
project on 409 and reuses the media, account, container and posts that exist, a run killed at
any moment and re-run finishes with exactly one of each per customer. A torn last line (a kill
while writing) is dropped on start.

Connecting an account (the ``connect`` column) needs the customer's consent. Against a sandbox
(``--sandbox``, or a ``LAYERS_BASE_URL`` on this machine that answers ``/_sandbox/clock``) the
command opens the consent page itself; against the real API it prints the authorize URL for
each customer and waits (``--oauth-timeout``, default 15 min) for them to complete it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import aiohttp

from .. import (
    DEFAULT_POLL,
    APIStatusError,
    GateFactory,
    LayersClient,
    LayersError,
    LayersValidationError,
)
from ..flows import Customer, ItemResult, OnboardingResult, fan_out, onboard_customer
from ..models.social import OAuthUrl
from .arguments import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    parse_duration,
    positive_float,
    positive_int,
)
from .journal import Journal, StateInUseError, Trusted
from .rows import BadRow, Row, read_customers

if TYPE_CHECKING:
    from .. import Sandbox

__all__ = [
    "EPILOG",
    "HELP",
    "MISSING_KEY",
    "add_arguments",
    "add_run_arguments",
    "connect",
    "error_json",
    "fan_out_until_sigint",
    "open_run",
    "result_json",
    "result_lines",
    "results_path",
    "run_onboard",
    "stop_on_sigint",
    "wait_timeouts",
    "with_client",
    "write_results",
]

R = TypeVar("R")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Polls per second a client may send per unit of clock speed (the client's default at 1x)...
_POLL_RATE_PER_SPEED = 20.0
#: ...and at most, however fast the sandbox's clock runs.
_MAX_POLL_RATE = 1000.0
#: How long the probe of ``LAYERS_BASE_URL`` for a sandbox may take (seconds).
_PROBE_TIMEOUT = 5.0
#: Waiter timeouts (seconds of the API's time) and the floor they keep at any speed.
_INFLUENCER_TIMEOUT = 600.0
_JOB_TIMEOUT = 1200.0
_OAUTH_TIMEOUT = 900.0
_MIN_WAIT = 60.0
#: Against a fast sandbox a wait is at most this share of the same wait at 1x.
_MIN_SCALE = 0.05

#: The embedded sandbox of `--sandbox`: a partner-tier key and credits for many customers.
SANDBOX_SPEED = 60.0
SANDBOX_CONFIG: dict[str, Any] = {
    "speed": SANDBOX_SPEED,
    "organizations": [
        {
            "ref": "partner",
            "name": "Onboarding Partner",
            "includedThisPeriod": 1000,
            "prepaidBalance": 10_000_000,
            "subscriptionTier": "pro",
        }
    ],
    "apiKeys": [
        {
            "name": "onboard",
            "organization": "partner",
            "rateLimitTier": "partner",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost", "127.0.0.1"],
        }
    ],
}

#: The description of ``layers-async onboard --help``.
HELP = """\
Onboard every customer of a CSV (header row) or JSONL (one object per line) file: create or
adopt the project, upload its media, connect an account, wait for an influencer, generate a
slideshow and (optionally) schedule it.

Columns: external_id and name (required), timezone (IANA, default UTC), app_name,
app_description (100-1000 chars), tagline, brand_voice, target_gender, primary_language,
logo_url, screenshot_url, demo_video_url (public https URLs), connect (tiktok|instagram),
schedule_at (ISO 8601 with an offset; needs connect). A value in any other column is an error.
Every row is checked before anything is sent; bad rows are reported as "line N: field: message"
and skipped.

The API key and base URL come from LAYERS_API_KEY and LAYERS_BASE_URL, unless --sandbox.
Connecting an account against the real API needs the customer: the authorize URL is printed
and the run waits for the consent (--oauth-timeout).
"""

#: What ``onboard`` says when it has no API key (and no ``--sandbox``).
MISSING_KEY = (
    "error: no API key: set LAYERS_API_KEY (and LAYERS_BASE_URL for a sandbox of your own)"
    " or pass --sandbox to onboard against an embedded one"
)

#: What ``layers-async onboard --help`` prints after the options.
EPILOG = """\
The state file is an append-only journal; re-run with the same --state after a crash or
Ctrl-C and only the unfinished customers run again, without duplicating anything. Ctrl-C
stops the customers under way, writes the results so far and prints the command that resumes.

exit status: 0 when every customer is onboarded (or already was), 1 when any row was bad or
any customer failed (the others are still onboarded), 2 on a usage error (nothing was run),
130 when interrupted.
"""


def add_run_arguments(p: argparse.ArgumentParser, verb: str) -> None:
    """The arguments every crash-safe run over a customer list takes: the list, ``--state``,
    ``--results``, ``--concurrency`` and ``--sandbox``; `verb` says what is done to each."""
    p.add_argument("customers", type=Path, help="the customer list: a .csv or .jsonl file")
    p.add_argument(
        "--state",
        type=Path,
        required=True,
        metavar="RUN.jsonl",
        help="the journal of this run (created if missing); re-use it to resume",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="OUT.jsonl",
        help="where to write one JSON line per row (default: RUN.results.jsonl beside --state)",
    )
    p.add_argument(
        "--concurrency",
        type=positive_int,
        default=20,
        help=f"customers {verb}ed at once (default 20)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help=f"serve an embedded sandbox (speed 60) in this process and {verb} against it",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``onboard`` command's arguments to `p` (its namespace runs `run_onboard`)."""
    add_run_arguments(p, "onboard")
    p.add_argument(
        "--schedule-in",
        type=parse_duration,
        default=None,
        metavar="DURATION",
        help="schedule each customer's post this long after it is ready (e.g. 2h, 30m, 1d) "
        "unless the row has schedule_at; only rows with connect are scheduled (default: no)",
    )
    p.add_argument(
        "--oauth-timeout",
        type=positive_float,
        default=900.0,
        metavar="SECONDS",
        help="how long to wait for each customer's consent against the real API (default 900)",
    )
    p.add_argument(
        "--return-url",
        default="http://localhost:3000/social/connect/callback",
        help="where the consent page sends the customer back (must be allow-listed for the key)",
    )
    p.set_defaults(func=run_onboard)


def result_json(result: OnboardingResult) -> dict[str, Any]:
    """The ids (in full) and the time of one finished flow, as a results line holds them."""
    return {
        "project_id": result.project_id,
        "adopted_project": result.adopted_project,
        "media_ids": list(result.media_ids),
        "social_account_id": result.social_account_id,
        "influencer_id": result.influencer_id,
        "source": result.source,
        "source_tiktok_id": result.source_tiktok_id,
        "job_id": result.job_id,
        "container_id": result.container_id,
        "scheduled_post_ids": list(result.scheduled_post_ids),
        "seconds": round(sum(result.timings.values()), 3),
    }


def error_json(exc: BaseException) -> dict[str, Any]:
    """A failure as a results line holds it: the type, message and, for API errors, the ids."""
    out: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, APIStatusError):
        out.update(status=exc.status_code, code=exc.code, request_id=exc.request_id)
    elif isinstance(exc, LayersValidationError):
        out["field"] = exc.field
    return out


class _Target:
    """Where the customers are onboarded and how their consent is obtained: the real API.

    The customer opens the authorize URL (printed here) and the run waits for the consent;
    ``--schedule-in`` counts from this machine's clock.
    """

    #: The clock speed of a sandbox target; None for the real API.
    sandbox_speed: float | None = None

    def __init__(self, oauth_timeout: float) -> None:
        self.oauth_timeout = oauth_timeout

    async def authorize(self, customer: Customer, attempt: OAuthUrl) -> None:
        """Ask the human to open the consent page (the run waits for it)."""
        minutes = self.oauth_timeout / 60
        print(
            f"consent needed: {customer.external_id} ({customer.connect}):"
            f" open {attempt.authorize_url} - waiting up to {minutes:g} min",
            flush=True,
        )

    async def now(self) -> datetime:
        """What ``--schedule-in`` counts from."""
        return datetime.now(timezone.utc)


class _Embedded(_Target):
    """The sandbox of ``--sandbox``, served in this process: it consents for the customer."""

    def __init__(self, sandbox: Sandbox, oauth_timeout: float) -> None:
        super().__init__(oauth_timeout)
        self.sandbox = sandbox
        self.sandbox_speed = float(sandbox.config["speed"])

    async def authorize(self, customer: Customer, attempt: OAuthUrl) -> None:
        """Complete the sandbox's consent page; a page of elsewhere goes to the human."""
        try:
            await self.sandbox.authorize(attempt.authorize_url)
        except ValueError:
            await super().authorize(customer, attempt)

    async def now(self) -> datetime:
        """The sandbox's virtual clock."""
        return await self.sandbox.now()


class _Remote(_Target):
    """A sandbox in another process on this machine (``LAYERS_BASE_URL``), over HTTP."""

    def __init__(
        self, http: aiohttp.ClientSession, base_url: str, speed: float, oauth_timeout: float
    ) -> None:
        super().__init__(oauth_timeout)
        self.http = http
        self.base_url = base_url
        self.sandbox_speed = speed

    async def authorize(self, customer: Customer, attempt: OAuthUrl) -> None:
        """Open the sandbox's consent page as the customer's browser would."""
        url = attempt.authorize_url
        if not url.startswith(f"{self.base_url}/_sandbox/oauth/authorize"):
            await super().authorize(customer, attempt)
            return
        async with self.http.get(url, allow_redirects=False) as r:
            if r.status not in (301, 302, 303, 307):
                raise LayersError(f"the sandbox consent page answered {r.status}")

    async def now(self) -> datetime:
        """The sandbox's virtual clock (``GET /_sandbox/clock``)."""
        async with self.http.get(f"{self.base_url}/_sandbox/clock") as r:
            text = (await r.json())["now"]
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_timeouts(target: _Target, oauth_timeout: float) -> tuple[float, float, float]:
    """The flow's influencer, job and consent timeouts for `target`: against a sandbox they
    scale with its clock (a sandbox consents at once), never below a floor."""
    speed = target.sandbox_speed
    if speed is None:
        return _INFLUENCER_TIMEOUT, _JOB_TIMEOUT, float(oauth_timeout)
    scale = max(1.0 / speed, _MIN_SCALE)
    waits = (_INFLUENCER_TIMEOUT, _JOB_TIMEOUT, _OAUTH_TIMEOUT)
    influencer, job, oauth = (max(_MIN_WAIT, t * scale) for t in waits)
    return influencer, job, oauth


def _poll_rate(speed: float | None) -> float:
    """Polls per second for the whole run: more against a faster clock, within a bound."""
    return min(_MAX_POLL_RATE, _POLL_RATE_PER_SPEED * (speed or 1.0))


async def _probe_sandbox(http: aiohttp.ClientSession, base_url: str) -> float | None:
    """The speed of the sandbox at `base_url` when it is one on this machine, else None."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host not in _LOOPBACK:
        return None
    try:
        async with http.get(
            f"{base_url}/_sandbox/clock", timeout=aiohttp.ClientTimeout(total=_PROBE_TIMEOUT)
        ) as r:
            if r.status != 200:
                return None
            speed = (await r.json()).get("speed")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return None
    return float(speed) if isinstance(speed, (int, float)) and speed > 0 else None


def results_path(args: argparse.Namespace) -> Path:
    """``--results``, or RUN.results.jsonl beside ``--state``."""
    if args.results is not None:
        return Path(args.results)
    state = Path(args.state)
    stem = state.name[: -len(".jsonl")] if state.name.endswith(".jsonl") else state.name
    return state.with_name(f"{stem}.results.jsonl")


def write_results(path: Path, lines: list[dict[str, Any]]) -> None:
    """Write `lines` as JSONL to `path` atomically (a temporary file, fsynced, then renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in lines:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def open_run(
    args: argparse.Namespace,
    trusted: Trusted | None = None,
    *,
    schedule_in: timedelta | None = None,
) -> tuple[list[Row], list[BadRow], Journal] | int:
    """Start a run over ``args.customers``: read and check every row (the bad ones printed as
    ``line N: field: message``), check there is a key, open the ``--state`` journal (whose
    ``done`` results `trusted` judges). An exit status instead when the run cannot start."""
    path = Path(args.customers)
    try:
        rows, bad = read_customers(path, schedule_in=schedule_in)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.sandbox and not os.environ.get("LAYERS_API_KEY"):
        print(MISSING_KEY, file=sys.stderr)
        return EXIT_USAGE
    for b in bad:
        for field, message in b.problems:
            print(f"line {b.line}: {field}: {message}", flush=True)
    try:
        journal = Journal(Path(args.state), trusted)
    except (OSError, StateInUseError) as exc:
        print(f"error: cannot use --state {args.state}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return rows, bad, journal


async def run_onboard(args: argparse.Namespace) -> int:
    """Run the ``onboard`` sub-command described by `args`; returns the exit status."""
    started = time.monotonic()
    opened = open_run(args, schedule_in=args.schedule_in)
    if isinstance(opened, int):
        return opened
    rows, bad, journal = opened

    async def work(client: LayersClient, target: _Target) -> int:
        return await _onboard_all(args, rows, bad, journal, client, target, started)

    return await with_client(args, journal, work)


async def with_client(
    args: argparse.Namespace,
    journal: Journal,
    work: Callable[[LayersClient, _Target], Awaitable[int]],
) -> int:
    """Connect as `connect` does, run `work(client, target)` and return its exit status
    (`EXIT_USAGE` when the client cannot be made); the journal is closed whatever happens."""
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                client, target = await connect(stack, args)
            except LayersValidationError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            return await work(client, target)
    finally:
        journal.close()


async def connect(
    stack: contextlib.AsyncExitStack,
    args: argparse.Namespace,
    config: dict[str, Any] | None = None,
    gate: GateFactory | None = None,
) -> tuple[LayersClient, _Target]:
    """The client of the run and its target: ``--sandbox``, a local sandbox or the API.

    ``--sandbox`` serves `config` (default `SANDBOX_CONFIG`) in this process; otherwise
    ``LAYERS_API_KEY`` and ``LAYERS_BASE_URL`` say where to go, and `gate` (when given) makes
    the client's rate-limit gates (e.g. shared ones in Redis).
    """
    oauth_timeout = float(getattr(args, "oauth_timeout", _OAUTH_TIMEOUT))
    if args.sandbox:
        from .. import Sandbox

        sandbox = await stack.enter_async_context(Sandbox(config or SANDBOX_CONFIG))
        print(f"sandbox: serving the Layers API at {sandbox.url}", flush=True)
        client = sandbox.client(poll_rate=_poll_rate(SANDBOX_SPEED))
        return await stack.enter_async_context(client), _Embedded(sandbox, oauth_timeout)
    api_key = os.environ.get("LAYERS_API_KEY", "")
    base_url = (os.environ.get("LAYERS_BASE_URL") or "https://api.layers.com").rstrip("/")
    http = await stack.enter_async_context(aiohttp.ClientSession())
    speed = await _probe_sandbox(http, base_url)
    target = _Target(oauth_timeout)
    if speed is not None:
        target = _Remote(http, base_url, speed, oauth_timeout)
    client = LayersClient(
        api_key=api_key or None,
        base_url=base_url,
        poll_policy=DEFAULT_POLL.scaled(1 / speed) if speed else DEFAULT_POLL,
        poll_rate=_poll_rate(speed),
        gate=gate,
    )
    return await stack.enter_async_context(client), target


async def _onboard_all(
    args: argparse.Namespace,
    rows: list[Row],
    bad: list[BadRow],
    journal: Journal,
    client: LayersClient,
    target: _Target,
    started: float,
) -> int:
    todo = [r for r in rows if r.customer.external_id not in journal.done]
    resumed = sum(1 for r in todo if r.customer.external_id in journal.started)
    notes = []
    if journal.torn:
        notes.append(f"dropped a torn last line of {journal.path}")
    if journal.unreadable:
        notes.append(f"skipped {journal.unreadable} unreadable line(s) of {journal.path}")
    if journal.untrusted:
        notes.append(
            f"{journal.untrusted} 'done' record(s) without a project id are not trusted:"
            " those customers run again"
        )
    print(
        f"onboard: {len(rows) + len(bad)} rows in {args.customers}: {len(todo)} to onboard"
        f" ({resumed} interrupted earlier), {len(rows) - len(todo)} already done,"
        f" {len(bad)} bad"
        + (f"; {min(args.concurrency, len(todo))} at a time" if todo else "")
        + "".join(f"; {n}" for n in notes),
        flush=True,
    )
    if args.sandbox and len(todo) < len(rows):
        print(
            "note: --sandbox serves a fresh sandbox; the customers this state file marks done"
            " were onboarded into an earlier one and are skipped",
            flush=True,
        )
    influencer_timeout, job_timeout, oauth_timeout = wait_timeouts(target, args.oauth_timeout)

    def step(external_id: str, name: str) -> None:
        journal.note({"external_id": external_id, "status": "step", "step": name})

    async def one(row: Row) -> OnboardingResult:
        ext = row.customer.external_id
        await journal.append({"external_id": ext, "status": "started", "line": row.line})

        async def authorize(attempt: OAuthUrl) -> None:
            await target.authorize(row.customer, attempt)

        try:
            result = await onboard_customer(
                client,
                row.customer,
                authorize=authorize,
                return_url=args.return_url,
                now=target.now,
                influencer_timeout=influencer_timeout,
                job_timeout=job_timeout,
                oauth_timeout=oauth_timeout,
                on_step=step,
            )
        except Exception as exc:
            await journal.append({"external_id": ext, "status": "failed", "error": error_json(exc)})
            raise
        await journal.append({"external_id": ext, "status": "done", "result": result_json(result)})
        return result

    finished: dict[str, ItemResult[Row, OnboardingResult]] = {}

    def progress(done: int, total: int, item: ItemResult[Row, OnboardingResult]) -> None:
        row = item.item
        ext = row.customer.external_id
        finished[ext] = item
        if item.value is not None:
            r = item.value
            posts = ",".join(r.scheduled_post_ids) or "-"
            print(
                f"[{done}/{total}] ok   {ext}  project {r.project_id}  container"
                f" {r.container_id}  posts {posts}  ({item.seconds:.1f} s)",
                flush=True,
            )
        else:
            print(f"[{done}/{total}] FAIL {ext} (line {row.line}): {item.error!r}", flush=True)

    interrupted = await fan_out_until_sigint(todo, one, args.concurrency, progress)
    lines, failed, onboarded = result_lines(rows, bad, journal, finished, result_json)
    results = results_path(args)
    write_results(results, lines)

    skipped = len(rows) - len(todo)
    wall = time.monotonic() - started
    unfinished = len(todo) - len(finished)
    print(
        ("interrupted: " if interrupted else "summary: ")
        + f"{onboarded} onboarded, {skipped} skipped (already done), {len(failed)} failed,"
        + (f" {unfinished} not finished," if interrupted else "")
        + f" {len(bad)} bad rows in {wall:.1f} s",
        flush=True,
    )
    for row, exc in failed:
        print(f"  failed: {row.customer.external_id} (line {row.line}): {exc!r}", flush=True)
    for b in bad:
        fields = ", ".join(f for f, _ in b.problems)
        print(f"  bad row: line {b.line}: {fields}", flush=True)
    print(f"results: {results}", flush=True)
    if interrupted:
        print(
            f"to resume, run the same command again with --state {journal.path}: the"
            f" {unfinished + len(failed)} customer(s) not onboarded run again, nothing twice",
            flush=True,
        )
        return EXIT_INTERRUPTED
    if failed:
        print(f"re-run with --state {journal.path} to retry the failed customers", flush=True)
    return EXIT_PROBLEMS if failed or bad else EXIT_OK


class _Interrupted:
    """Whether Ctrl-C stopped the run (truthy once it did)."""

    def __init__(self) -> None:
        self.seen = False

    def __bool__(self) -> bool:
        return self.seen


async def fan_out_until_sigint(
    todo: list[Row],
    one: Callable[[Row], Awaitable[R]],
    concurrency: int,
    progress: Callable[[int, int, ItemResult[Row, R]], None],
) -> bool:
    """`fan_out` the rows, `concurrency` at a time; True when Ctrl-C stopped it early."""
    run = asyncio.ensure_future(
        fan_out(todo, one, concurrency=concurrency, on_progress=progress)
    )
    with stop_on_sigint(run) as interrupted:
        try:
            await run
        except asyncio.CancelledError:
            if not interrupted:
                raise
    return bool(interrupted)


@contextlib.contextmanager
def stop_on_sigint(run: asyncio.Future[Any]) -> Iterator[_Interrupted]:
    """On the first Ctrl-C cancel `run` (the run then reports and exits); a second one quits.

    Where the loop cannot handle signals (Windows), Ctrl-C raises KeyboardInterrupt as usual.
    """
    loop = asyncio.get_running_loop()
    interrupted = _Interrupted()

    def on_sigint() -> None:
        if interrupted:  # pressed again while the run winds down: quit at once
            loop.remove_signal_handler(signal.SIGINT)
            raise KeyboardInterrupt
        interrupted.seen = True
        print("\ninterrupted: stopping the customers under way...", flush=True)
        run.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
        yield interrupted
        return
    try:
        yield interrupted
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def result_lines(
    rows: list[Row],
    bad: list[BadRow],
    journal: Journal,
    finished: Mapping[str, ItemResult[Row, R]],
    to_json: Callable[[R], dict[str, Any]],
    verb: str = "onboard",
) -> tuple[list[dict[str, Any]], list[tuple[Row, BaseException]], int]:
    """One results line per row, in file order; the failures; how many finished now.

    A finished row's line holds ``to_json(value)``; `verb` names the work in the line of a
    row an interruption left unfinished.
    """
    lines: list[dict[str, Any]] = []
    failed: list[tuple[Row, BaseException]] = []
    onboarded = 0
    for row in rows:
        ext = row.customer.external_id
        rec = {"external_id": ext, "line": row.line}
        o = finished.get(ext)
        if ext in journal.done:
            lines.append(rec | {"ok": True, "skipped": True} | journal.done[ext])
        elif o is None:
            message = f"not finished when the run was interrupted: re-run to {verb}"
            err = {"type": "Interrupted", "message": message, "line": row.line}
            lines.append(rec | {"ok": False, "error": err})
        elif o.value is not None:
            onboarded += 1
            lines.append(rec | {"ok": True, "skipped": False} | to_json(o.value))
        else:
            assert o.error is not None
            failed.append((row, o.error))
            err = error_json(o.error) | {"line": row.line}
            lines.append(rec | {"ok": False, "error": err})
    for b in bad:
        field = b.problems[0][0]
        lines.append(
            {
                "external_id": b.external_id,
                "line": b.line,
                "ok": False,
                "error": {
                    "type": "InvalidRow",
                    "field": field,
                    "message": "; ".join(f"{f}: {m}" for f, m in b.problems),
                    "line": b.line,
                },
                "problems": [{"field": f, "message": m} for f, m in b.problems],
            }
        )
    lines.sort(key=lambda rec: int(rec["line"]))
    return lines, failed, onboarded
