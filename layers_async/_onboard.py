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
import csv
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import urlsplit

import aiohttp
import anyio
import attrs

from ._client import LayersClient
from ._config import DEFAULT_POLL
from ._errors import APIStatusError, LayersError, LayersValidationError
from ._transport import NOT_GIVEN
from ._validation import check_datetime, check_enum, check_https_url, check_str
from .flows import Customer, ItemResult, MediaItem, OnboardingResult, fan_out, onboard_customer
from .models.app_media import MediaKind
from .models.projects import BrandVoice, TargetGender
from .models.social import OAuthUrl, Platform
from .resources.projects import _fields as _project_fields

__all__ = [
    "BadRow",
    "Journal",
    "add_onboard_parser",
    "main_for_tests",
    "parse_duration",
    "read_customers",
    "run_onboard",
]

#: Input columns (CSV header names or JSONL keys) and what they become.
COLUMNS = (
    "external_id",
    "name",
    "timezone",
    "app_name",
    "app_description",
    "tagline",
    "brand_voice",
    "target_gender",
    "primary_language",
    "logo_url",
    "screenshot_url",
    "demo_video_url",
    "connect",
    "schedule_at",
)
#: Project fields checked by the same code `client.projects.create` uses (column → keyword).
_PROJECT_FIELDS = {
    "name": "name",
    "timezone": "timezone",
    "app_name": "app_name",
    "app_description": "app_description",
    "tagline": "tagline",
    "brand_voice": "brand_voice",
    "target_gender": "target_gender",
    "primary_language": "primary_language",
}
_PROJECT_KWARGS = (
    "name",
    "timezone",
    "customer_external_id",
    "owner_email",
    "primary_language",
    "app_name",
    "app_description",
    "tagline",
    "brand_voice",
    "target_gender",
    "metadata",
)
_MEDIA_COLUMNS: tuple[tuple[str, MediaKind], ...] = (
    ("logo_url", "logo"),
    ("screenshot_url", "screenshot"),
    ("demo_video_url", "demo-video"),
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNITS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

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

EXIT_OK = 0
EXIT_PROBLEMS = 1  # a row was bad or a customer failed (the others were still onboarded)
EXIT_USAGE = 2  # nothing was onboarded: bad arguments, unreadable input or state, no API key
EXIT_INTERRUPTED = 130


# ---------------------------------------------------------------------------------- arguments
def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d`` or a sum such as ``1h30m`` → a positive timedelta."""
    s = text.strip().lower()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s) or total <= 0:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d or 1h30m)"
        )
    return timedelta(seconds=total)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = 0.0
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text!r})")
    return x


_HELP = """\
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

_EPILOG = """\
The state file is an append-only journal; re-run with the same --state after a crash or
Ctrl-C and only the unfinished customers run again, without duplicating anything.

exit status: 0 when every customer is onboarded (or already was), 1 when any row was bad or
any customer failed (the others are still onboarded), 2 on a usage error (nothing was run),
130 when interrupted.
"""


def add_onboard_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``onboard`` sub-command; its namespace carries ``func=run_onboard``."""
    p = subparsers.add_parser(
        "onboard",
        help="onboard customers from a CSV or JSONL file, crash-safely",
        description=_HELP,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(p)


def _add_arguments(p: argparse.ArgumentParser) -> None:
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
        type=_positive_int,
        default=20,
        help="customers onboarded at once (default 20)",
    )
    p.add_argument(
        "--schedule-in",
        type=parse_duration,
        default=None,
        metavar="DURATION",
        help="schedule each customer's post this long after it is ready (e.g. 2h, 30m, 1d) "
        "unless the row has schedule_at; only rows with connect are scheduled (default: no)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="serve an embedded sandbox (speed 60) in this process and onboard against it",
    )
    p.add_argument(
        "--oauth-timeout",
        type=_positive_float,
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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="layers-async onboard",
        description=_HELP,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(p)
    return p


def main_for_tests(argv: Sequence[str]) -> int:
    """Parse ``argv`` (the arguments after ``onboard``) and run; returns the exit status."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse exits on --help (0) and on errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return asyncio.run(run_onboard(args))
    except KeyboardInterrupt:
        print("interrupted; re-run with the same --state to finish", file=sys.stderr)
        return EXIT_INTERRUPTED


# -------------------------------------------------------------------------------------- input
@attrs.frozen
class BadRow:
    """A row that failed validation: its line (1-based, as in the file) and every problem."""

    line: int
    external_id: str | None
    problems: tuple[tuple[str, str], ...]  # (field, message)


@attrs.frozen
class Row:
    """A valid row: its line and the customer it describes."""

    line: int
    customer: Customer


def read_customers(
    path: Path, *, schedule_in: timedelta | None = None
) -> tuple[list[Row], list[BadRow]]:
    """Read and fully validate a .csv or .jsonl customer list (OSError/ValueError if unreadable).

    Format by suffix: ``.jsonl``/``.ndjson`` is JSONL, anything else CSV. A repeated
    ``external_id`` is a bad row (the first one wins).
    """
    rows: list[Row] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        records = _jsonl(fh) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv(fh)
        for line, record, problems in records:
            ext_raw = record.get("external_id")
            ext = ext_raw.strip() if isinstance(ext_raw, str) and ext_raw.strip() else None
            if record or problems:
                # a line that is not a record at all is reported as such, nothing more
                customer = _customer(record, problems, schedule_in) if record else None
                if ext is not None and ext in seen:
                    problems.append(("external_id", f"duplicate of line {seen[ext]}"))
                elif ext is not None and not problems:
                    seen[ext] = line
                if problems or customer is None:
                    bad.append(BadRow(line, ext, tuple(problems)))
                else:
                    rows.append(Row(line, customer))
    return rows, bad


def _csv(fh: TextIO) -> Iterator[tuple[int, dict[str, Any], list[tuple[str, str]]]]:
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        return
    names = [h.strip().lower() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise ValueError(f"line 1: repeated column(s) in the header: {', '.join(dupes)}")
    last = reader.line_num
    for values in reader:
        line, last = last + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue  # a blank line
        problems: list[tuple[str, str]] = []
        if len(values) > len(names):
            problems.append(
                ("row", f"has {len(values)} values but the header names {len(names)} columns")
            )
        record = {n: v for n, v in zip(names, values, strict=False) if n}
        yield line, record, problems


def _jsonl(fh: TextIO) -> Iterator[tuple[int, dict[str, Any], list[tuple[str, str]]]]:
    for line, text in enumerate(fh, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield line, {}, [("row", f"not valid JSON ({exc})")]
            continue
        if not isinstance(value, dict):
            yield line, {}, [("row", "must be a JSON object")]
            continue
        yield line, {str(k).strip().lower(): v for k, v in value.items()}, []


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _customer(
    record: Mapping[str, Any], problems: list[tuple[str, str]], schedule_in: timedelta | None
) -> Customer | None:
    """Validate one record with the SDK's own checks; append every problem found."""
    for name, value in record.items():
        if name not in COLUMNS and _present(value):
            problems.append((name, "unknown column (see the --help for the known ones)"))
    v: dict[str, Any] = {}
    for name in COLUMNS:
        value = record.get(name)
        if _present(value):
            v[name] = value.strip() if isinstance(value, str) else value

    def check(name: str, fn: Any) -> None:
        if name not in v:
            return
        try:
            v[name] = fn(v[name])
        except LayersValidationError as exc:
            problems.append((name, exc.message))
            del v[name]

    for name in ("external_id", "name"):
        if name not in v:
            problems.append((name, "is required"))
    check("external_id", lambda x: check_str("external_id", x, min_len=1, max_len=128))
    for column, keyword in _PROJECT_FIELDS.items():
        check(column, lambda x, kw=keyword: _check_project_field(kw, x))
    for column, _kind in _MEDIA_COLUMNS:
        check(column, lambda x, c=column: check_https_url(c, x))
    check("connect", lambda x: check_enum("connect", x, ("tiktok", "instagram")))
    check("schedule_at", _schedule_at)
    if "schedule_at" in v and "connect" not in v and "connect" not in dict(problems):
        problems.append(("schedule_at", "needs connect (a post is scheduled on an account)"))
    if problems:
        return None
    return Customer(
        external_id=v["external_id"],
        name=v["name"],
        timezone=v.get("timezone", "UTC"),
        app_name=v.get("app_name"),
        app_description=v.get("app_description"),
        tagline=v.get("tagline"),
        brand_voice=cast("BrandVoice | None", v.get("brand_voice")),
        target_gender=cast("TargetGender | None", v.get("target_gender")),
        primary_language=v.get("primary_language"),
        media=tuple(MediaItem(kind, v[c]) for c, kind in _MEDIA_COLUMNS if c in v),
        connect=cast("Platform | None", v.get("connect")),
        schedule_at=v.get("schedule_at"),
        schedule_in=schedule_in if "connect" in v and "schedule_at" not in v else None,
    )


def _check_project_field(keyword: str, value: Any) -> Any:
    """One project field through the validator `client.projects.create` runs."""
    kwargs: dict[str, Any] = dict.fromkeys(_PROJECT_KWARGS, NOT_GIVEN)
    kwargs[keyword] = value
    _project_fields(**kwargs, patch=False)
    return value


def _schedule_at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise LayersValidationError("schedule_at", "must be an ISO 8601 date and time string")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise LayersValidationError(
            "schedule_at", f"must be ISO 8601, e.g. 2026-06-01T09:00:00+02:00 (got {value!r})"
        ) from None
    check_datetime("schedule_at", when)  # naive → "must be timezone-aware"
    return when


# ------------------------------------------------------------------------------------ journal
class StateInUseError(Exception):
    """Another run holds the state file."""


class Journal:
    """The append-only JSONL state file: one fsynced line per event, read back on start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        self.started: set[str] = set()
        self.torn = False
        self.unreadable = 0
        self._lock = anyio.Lock()
        self._pending: list[bytes] = []
        created = not path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._flock()
            self._load()
            if created:
                _fsync_dir(path.parent)
        except BaseException:
            os.close(self._fd)
            raise

    def _flock(self) -> None:
        if sys.platform == "win32":  # pragma: no cover - no advisory locks there
            return
        import fcntl

        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateInUseError(f"{self.path} is in use by another run") from None

    def _load(self) -> None:
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a kill while writing the last line: drop the fragment
            self.torn = True
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for raw in data[:end].splitlines():
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                ext, status = rec["external_id"], rec["status"]
            except (ValueError, KeyError, TypeError):
                self.unreadable += 1
                continue
            if status == "done" and isinstance(rec.get("result"), dict):
                self.done[ext] = rec["result"]
            elif status == "started":
                self.started.add(ext)

    def _write(self, data: bytes) -> None:
        os.write(self._fd, data)
        os.fsync(self._fd)

    @staticmethod
    def _encode(record: Mapping[str, Any]) -> bytes:
        return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()

    def note(self, record: Mapping[str, Any]) -> None:
        """Queue one record; it is written (and fsynced) with the next `append` or `close`."""
        self._pending.append(self._encode(record))

    async def append(self, record: Mapping[str, Any]) -> None:
        """Append one record (after any queued ones), on disk before this returns.

        Lines that arrive while a write is under way are written together with one fsync.
        """
        self._pending.append(self._encode(record))
        async with self._lock:
            if not self._pending:  # the previous writer took this record along
                return
            batch, self._pending = self._pending, []
            await anyio.to_thread.run_sync(self._write, b"".join(batch))

    def close(self) -> None:
        """Write what is queued, then release the lock and the file."""
        if self._fd >= 0:
            if self._pending:
                batch, self._pending = self._pending, []
                with contextlib.suppress(OSError):
                    self._write(b"".join(batch))
            os.close(self._fd)
            self._fd = -1


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -------------------------------------------------------------------------------------- run
def _result_json(result: OnboardingResult) -> dict[str, Any]:
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


def _error_json(exc: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, APIStatusError):
        out.update(status=exc.status_code, code=exc.code, request_id=exc.request_id)
    elif isinstance(exc, LayersValidationError):
        out["field"] = exc.field
    return out


class _Target:
    """Where the customers are onboarded: the API or a sandbox, and how to get consent."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        sandbox_speed: float | None,
        oauth_timeout: float,
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.sandbox_speed = sandbox_speed
        self.oauth_timeout = oauth_timeout

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_speed is not None

    async def authorize(self, customer: Customer, attempt: OAuthUrl) -> None:
        """Open the sandbox's consent page, or ask the human to open the real one."""
        url = attempt.authorize_url
        if self.is_sandbox and url.startswith(f"{self.base_url}/_sandbox/oauth/authorize"):
            async with self.http.get(url, allow_redirects=False) as r:
                if r.status not in (301, 302, 303, 307):
                    raise LayersError(f"the sandbox consent page answered {r.status}")
            return
        minutes = self.oauth_timeout / 60
        print(
            f"consent needed: {customer.external_id} ({customer.connect}): open {url}"
            f" - waiting up to {minutes:g} min",
            flush=True,
        )

    async def now(self) -> datetime:
        """The sandbox's virtual clock, else this machine's (what `--schedule-in` counts from)."""
        if self.is_sandbox:
            async with self.http.get(f"{self.base_url}/_sandbox/clock") as r:
                text = (await r.json())["now"]
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return datetime.now(timezone.utc)


async def _probe_sandbox(http: aiohttp.ClientSession, base_url: str) -> float | None:
    """The speed of the sandbox at `base_url` when it is one on this machine, else None."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host not in _LOOPBACK:
        return None
    try:
        async with http.get(
            f"{base_url}/_sandbox/clock", timeout=aiohttp.ClientTimeout(total=5)
        ) as r:
            if r.status != 200:
                return None
            speed = (await r.json()).get("speed")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return None
    return float(speed) if isinstance(speed, (int, float)) and speed > 0 else None


def _results_path(args: argparse.Namespace) -> Path:
    if args.results is not None:
        return Path(args.results)
    state = Path(args.state)
    stem = state.name[: -len(".jsonl")] if state.name.endswith(".jsonl") else state.name
    return state.with_name(f"{stem}.results.jsonl")


def _write_results(path: Path, lines: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in lines:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


async def run_onboard(args: argparse.Namespace) -> int:
    """Run the ``onboard`` sub-command described by `args`; returns the exit status."""
    started = time.monotonic()
    path = Path(args.customers)
    try:
        rows, bad = read_customers(path, schedule_in=args.schedule_in)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for b in bad:
        for field, message in b.problems:
            print(f"line {b.line}: {field}: {message}", flush=True)
    try:
        journal = Journal(Path(args.state))
    except (OSError, StateInUseError) as exc:
        print(f"error: cannot use --state {args.state}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        async with contextlib.AsyncExitStack() as stack:
            if args.sandbox:
                from .sandbox import Sandbox

                sandbox = await stack.enter_async_context(Sandbox(SANDBOX_CONFIG))
                print(f"sandbox: serving the Layers API at {sandbox.url}", flush=True)
                api_key, base_url = sandbox.api_key, sandbox.url
            else:
                api_key = os.environ.get("LAYERS_API_KEY", "")
                base_url = os.environ.get("LAYERS_BASE_URL") or "https://api.layers.com"
            base_url = base_url.rstrip("/")
            http = await stack.enter_async_context(aiohttp.ClientSession())
            speed = SANDBOX_SPEED if args.sandbox else await _probe_sandbox(http, base_url)
            target = _Target(http, base_url, speed, args.oauth_timeout)
            try:
                client = await stack.enter_async_context(
                    LayersClient(
                        api_key=api_key or None,
                        base_url=base_url,
                        poll_policy=DEFAULT_POLL.scaled(1 / speed) if speed else DEFAULT_POLL,
                        poll_rate=min(1000.0, 20.0 * speed) if speed else 20.0,
                    )
                )
            except LayersValidationError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            return await _onboard_all(args, rows, bad, journal, client, target, started)
    finally:
        journal.close()


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
    print(
        f"onboard: {len(rows) + len(bad)} rows in {args.customers}: {len(todo)} to onboard"
        f" ({resumed} interrupted earlier), {len(rows) - len(todo)} already done,"
        f" {len(bad)} bad; concurrency {args.concurrency}"
        + (f"; dropped a torn last line of {journal.path}" if journal.torn else ""),
        flush=True,
    )
    if args.sandbox and len(todo) < len(rows):
        print(
            "note: --sandbox serves a fresh sandbox; the customers this state file marks done"
            " were onboarded into an earlier one and are skipped",
            flush=True,
        )
    speed = target.sandbox_speed
    scale = 1.0 if speed is None else max(1.0 / speed, 0.05)
    influencer_timeout = max(60.0, 600.0 * scale)
    job_timeout = max(60.0, 1200.0 * scale)
    oauth_timeout = max(60.0, 900.0 * scale) if target.is_sandbox else float(args.oauth_timeout)

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
            await journal.append(
                {"external_id": ext, "status": "failed", "error": _error_json(exc)}
            )
            raise
        await journal.append({"external_id": ext, "status": "done", "result": _result_json(result)})
        return result

    def progress(done: int, total: int, item: ItemResult[Any, Any]) -> None:
        row: Row = item.item
        ext = row.customer.external_id
        if item.value is not None:
            r: OnboardingResult = item.value
            posts = ",".join(r.scheduled_post_ids) or "-"
            print(
                f"[{done}/{total}] ok   {ext}  project {r.project_id}  container"
                f" {r.container_id}  posts {posts}  ({item.seconds:.1f} s)",
                flush=True,
            )
        else:
            print(f"[{done}/{total}] FAIL {ext} (line {row.line}): {item.error!r}", flush=True)

    outcomes = await fan_out(todo, one, concurrency=args.concurrency, on_progress=progress)
    by_ext = {o.item.customer.external_id: o for o in outcomes}

    lines: list[dict[str, Any]] = []
    failed: list[tuple[Row, BaseException]] = []
    onboarded = 0
    for row in rows:
        ext = row.customer.external_id
        o = by_ext.get(ext)
        if o is None:
            rec = {"external_id": ext, "line": row.line, "ok": True, "skipped": True}
            lines.append(rec | journal.done[ext])
        elif o.value is not None:
            onboarded += 1
            rec = {"external_id": ext, "line": row.line, "ok": True, "skipped": False}
            lines.append(rec | _result_json(o.value))
        else:
            assert o.error is not None
            failed.append((row, o.error))
            err = _error_json(o.error) | {"line": row.line}
            lines.append({"external_id": ext, "line": row.line, "ok": False, "error": err})
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
    results = _results_path(args)
    _write_results(results, lines)

    skipped = len(rows) - len(todo)
    wall = time.monotonic() - started
    print(
        f"summary: {onboarded} onboarded, {skipped} skipped (already done), {len(failed)} failed,"
        f" {len(bad)} bad rows in {wall:.1f} s",
        flush=True,
    )
    for row, exc in failed:
        print(f"  failed: {row.customer.external_id} (line {row.line}): {exc!r}", flush=True)
    for b in bad:
        fields = ", ".join(f for f, _ in b.problems)
        print(f"  bad row: line {b.line}: {fields}", flush=True)
    print(f"results: {results}", flush=True)
    if failed:
        print(f"re-run with --state {journal.path} to retry the failed customers", flush=True)
    return EXIT_PROBLEMS if failed or bad else EXIT_OK
