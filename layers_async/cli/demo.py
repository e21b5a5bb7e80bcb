"""`layers-async demo`: many customers' Getting started flows against an embedded sandbox.

``layers-async demo`` starts an embedded sandbox and runs the Getting started flow for many
fictional customers at once through the SDK, with a live progress display (rich, when installed
and stdout is a terminal; plain lines otherwise), then prints a summary table and totals.
With ``--sub-orgs`` each customer is first provisioned as a child organization
(`provision_customer`) and onboarded inside it with the child's own key. With ``--webhooks``
a local receiver gets the sandbox's webhook deliveries and wakes the flows' job and OAuth
waits (see `layers_async.cli.webhook_demo`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import (
    AttemptEvent,
    LayersClient,
    MediaItem,
    OAuthUrl,
    SandboxConfigError,
    provision_customer,
)
from ..flows import Customer, ItemResult, OnboardingResult, fan_out, onboard_customer
from .arguments import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    RICH_MISSING,
    positive_float,
    positive_int,
    rich_available,
)
from .onboard import error_json, result_json, write_results
from .webhook_demo import WebhookStats, receiving

if TYPE_CHECKING:
    from rich.console import Group
    from rich.live import Live
    from rich.progress import Progress, TaskID

__all__ = ["HELP", "STEPS", "SUMMARY_HEADERS", "add_arguments", "demo_customers", "run_demo"]

#: The description of ``layers-async demo --help``.
HELP = """\
Start an embedded Layers sandbox and run the Getting started flow (project, media, TikTok
account, influencer, slideshow, scheduled post) for many fictional customers at once through
the SDK: a live progress display on a terminal (plain lines in a pipe or with --plain), then a
summary table that fits 80 columns, with short ids; --results writes the full ids as JSONL.

With --sub-orgs each customer first becomes a child organization of the demo's partner
(provision_customer: the child, its own API key, an allocation of credits) and is then
onboarded inside that child through a view with the child's key,
client.with_options(api_key=secret): its projects, credits and rate limits are the child's,
and one process drives every child key over one connection pool. (for_organization(org_id)
would act in the child with the partner's key and the partner's rate limits instead.)

With --webhooks a receiver on 127.0.0.1 is registered with the sandbox and fed to the client:
the flows' job and OAuth waits end the moment their event arrives and poll only as a safety
net; the totals show the polls they sent against what polling only costs.
"""

#: Credits the demo's organization gets per customer (a flow spends fewer), plus a reserve.
_CREDITS_PER_CUSTOMER = 50
_SPARE_CREDITS = 5000
#: The client's poll budget: this many polls per second per customer, and at least the floor.
_POLLS_PER_CUSTOMER = 20.0
_MIN_POLL_RATE = 50.0
#: Redraws of the live display per second.
_REFRESH_PER_S = 8
#: The summary table's columns.
SUMMARY_HEADERS = (
    "customer",
    "name",
    "project",
    "influencer",
    "container",
    "post",
    "secs",
    "status",
)
#: The table shows an id as its prefix and this many characters (``prj_55d449``).
_SHORT_ID = 6
#: Longer names are cut to this many characters (…), so a line fits 80 columns.
_NAME_WIDTH = 14

#: The flow's steps, in order, as `onboard_customer` reports them.
STEPS = (
    "project",
    "media",
    "social",
    "influencer",
    "source",
    "generate",
    "job",
    "container",
    "schedule",
)
_DESCRIPTIONS = (
    "{name} roasts small-batch coffee and ships it on a schedule that fits runners, night-shift "
    "workers and anyone who hates running out of beans before the alarm goes off.",
    "{name} plans weekly meals from what is already in the fridge, so busy families waste less "
    "food and spend less time deciding what to cook on a weeknight.",
    "{name} turns ten spare minutes into a guided stretch, breathing or strength session picked "
    "for the time of day, the room you are in and how your body feels.",
)
_NAMES = (
    "Acme Coffee",
    "Brightside Meals",
    "Cedar Stretch",
    "Dune Running",
    "Echo Budget",
    "Fable Books",
    "Granite Gym",
    "Harbor Tea",
    "Indigo Sleep",
    "Juniper Plants",
)


def demo_customers(n: int) -> list[Customer]:
    """`n` fictional customers with media, a TikTok account to connect and a post to schedule."""
    out = []
    for i in range(n):
        base = _NAMES[i % len(_NAMES)]
        name = base if i < len(_NAMES) else f"{base} {i // len(_NAMES) + 1}"
        slug = name.lower().replace(" ", "-")
        out.append(
            Customer(
                external_id=f"demo-{i + 1:04d}",
                name=name[:30],
                timezone="America/Los_Angeles",
                app_name=name[:30],
                app_description=_DESCRIPTIONS[i % len(_DESCRIPTIONS)].format(name=name),
                brand_voice="warm",
                media=(
                    MediaItem("logo", f"https://cdn.example.com/{slug}/logo.png"),
                    MediaItem("screenshot", f"https://cdn.example.com/{slug}/home.png"),
                ),
                connect="tiktok",
                schedule_in=timedelta(days=1),
            )
        )
    return out


class _Display:
    """Progress: a rich live view on a terminal, plain lines otherwise."""

    def __init__(self, total: int, out: TextIO, *, rich_ok: bool) -> None:
        self.total = total
        self.out = out
        self.started = time.monotonic()
        self.done = 0
        self.failed = 0
        self.stage: Counter[str] = Counter()
        self._live: Live | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if rich_ok:
            from rich.console import Console
            from rich.live import Live
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(file=out)
            self._progress = Progress(
                TextColumn("[bold]onboarding"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self._task = self._progress.add_task("customers", total=total)
            self._live = Live(self._render(), console=console, refresh_per_second=_REFRESH_PER_S)

    def _render(self) -> Group:
        from rich.console import Group
        from rich.table import Table

        stages = Table.grid(padding=(0, 2))
        for _ in STEPS:
            stages.add_column(justify="center")
        stages.add_row(*[f"[dim]{s}[/]" for s in STEPS])
        stages.add_row(*[str(self.stage[s]) for s in STEPS])
        assert self._progress is not None
        return Group(self._progress, stages)

    def __enter__(self) -> _Display:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(None, None, None)

    def step(self, external_id: str, step: str) -> None:
        self.stage[step] += 1
        if self._live is not None:
            self._live.update(self._render())

    def finished(
        self, done: int, total: int, result: ItemResult[Customer, OnboardingResult]
    ) -> None:
        self.done = done
        if not result.ok:
            self.failed += 1
        if self._live is not None and self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done)
            self._live.update(self._render())
        else:
            elapsed = time.monotonic() - self.started
            status = "ok" if result.ok else f"FAILED {type(result.error).__name__}: {result.error}"
            who = f"{result.item.external_id} {result.item.name}"
            print(f"[{elapsed:6.1f}s] {done}/{total} {who}: {status}", file=self.out, flush=True)


def _short(value: str | None) -> str:
    """``prj_55d44936-a151-...`` → ``prj_55d449``: enough to tell a run's ids apart."""
    if not value:
        return "-"
    prefix, sep, rest = value.partition("_")
    return f"{prefix}{sep}{rest[:_SHORT_ID]}" if sep else value[:_SHORT_ID]


def _summary(
    results: list[ItemResult[Customer, OnboardingResult]], out: TextIO, *, rich_ok: bool
) -> None:
    """The table of customers: one line each, 80 columns wide, every column named."""
    rows = []
    for r in results:
        v = r.value
        name = r.item.name
        if len(name) > _NAME_WIDTH:
            name = name[: _NAME_WIDTH - 1] + "…"
        rows.append(
            (
                r.item.external_id,
                name,
                _short(v.project_id if v else None),
                _short(v.influencer_id if v else None),
                _short(v.container_id if v else None),
                _short(v.scheduled_post_ids[0] if v and v.scheduled_post_ids else None),
                f"{r.seconds:.1f}",
                "ok" if r.ok else "failed",
            )
        )
    if rich_ok:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title="Onboarded customers", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0)
        )
        for h in SUMMARY_HEADERS:
            table.add_column(h, no_wrap=True, justify="right" if h == "secs" else "left")
        for row in rows:
            table.add_row(*row)
        Console(file=out).print(table)
        return
    widths = [max(len(c) for c in col) for col in zip(SUMMARY_HEADERS, *rows, strict=True)]
    for line in (SUMMARY_HEADERS, *rows):
        print(" ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip(), file=out)


def _results_lines(
    results: list[ItemResult[Customer, OnboardingResult]], children: dict[str, str]
) -> list[dict[str, Any]]:
    """One JSON line per customer with the full ids (what ``--results`` writes), and its child
    organization's id with ``--sub-orgs``."""
    lines = []
    for r in results:
        rec: dict[str, Any] = {"external_id": r.item.external_id, "name": r.item.name}
        if r.item.external_id in children:
            rec["organization_id"] = children[r.item.external_id]
        if r.value is not None:
            lines.append(rec | {"ok": True} | result_json(r.value))
        else:
            assert r.error is not None
            lines.append(rec | {"ok": False, "error": error_json(r.error)})
    return lines


async def run_demo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """`layers-async demo`: N customers' Getting started flows against an embedded sandbox."""
    out = out or sys.stdout
    rich_ok = out.isatty() and not args.plain
    if rich_ok and not rich_available():
        print(f"{RICH_MISSING} (or run the demo with --plain)", file=sys.stderr)
        return EXIT_USAGE
    keys = [
        {
            "name": "demo-live",
            "organization": "partner",
            "env": "live",
            "rateLimitTier": "partner",
            "scopes": ["*", "org:admin"],
            "returnUrlAllowlist": ["localhost", "127.0.0.1"],
        }
    ]
    orgs = [
        {
            "ref": "partner",
            "name": "Demo Partner",
            "includedThisPeriod": 1000,
            "prepaidBalance": _CREDITS_PER_CUSTOMER * args.customers + _SPARE_CREDITS,
            "subscriptionTier": "pro",
        }
    ]
    retries = 0

    def count_retry(event: AttemptEvent) -> None:
        nonlocal retries
        retries += 1

    from .. import Sandbox

    started = time.monotonic()
    try:
        sandbox = Sandbox(speed=args.speed, seed=args.seed, api_keys=keys, organizations=orgs)
    except SandboxConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    hooks = WebhookStats() if args.webhooks else None
    async with (
        sandbox,
        sandbox.client(
            poll_rate=max(_MIN_POLL_RATE, _POLLS_PER_CUSTOMER * args.customers),
            on_retry=count_retry,
            on_request=hooks.count_poll if hooks is not None else None,
        ) as client,
        receiving(client, args.speed, hooks) if hooks is not None else _nothing(),
    ):
        print(f"Layers sandbox on {sandbox.url} (speed {args.speed:g}, seed {args.seed})", file=out)
        at_once = min(args.concurrency, args.customers)
        inside = ", each in its own child organization" if args.sub_orgs else ""
        print(f"Onboarding {args.customers} customers{inside}, {at_once} at a time\n", file=out)
        children: dict[str, str] = {}

        async def authorize(attempt: OAuthUrl) -> None:
            # Stands in for the customer's browser on the sandbox's consent page.
            await sandbox.authorize(attempt.authorize_url)

        with _Display(args.customers, out, rich_ok=rich_ok) as display:

            async def one(customer: Customer) -> OnboardingResult:
                acting: LayersClient = client
                if args.sub_orgs:  # a child per customer, and the child's own key
                    child = await provision_customer(
                        client,
                        customer.external_id,
                        customer.name,
                        allocate=_CREDITS_PER_CUSTOMER,
                        now=sandbox.now,
                    )
                    children[customer.external_id] = child.organization_id
                    acting = client.with_options(api_key=child.secret)
                return await onboard_customer(
                    acting, customer, authorize=authorize, now=sandbox.now, on_step=display.step
                )

            results = await fan_out(
                demo_customers(args.customers),
                one,
                concurrency=args.concurrency,
                on_progress=display.finished,
            )
        state = await sandbox.state()
        polls = client.polls_sent
        answered = client.webhooks.answered_by_events
    wall = time.monotonic() - started
    print(file=out)
    _summary(results, out, rich_ok=rich_ok)
    failed = [r for r in results if not r.ok]
    statuses = state["responses"]["byStatus"]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} customers onboarded in {wall:.1f} s\n"
        f"requests {state['requests']['total']} | retries {retries}"
        f" | 429s {statuses.get('429', 0)} | polls {polls}",
        file=out,
    )
    if hooks is not None:  # a job wait per customer, and an OAuth wait per new account
        print(hooks.line(2 * len(results), answered), file=out)
    for r in failed:
        print(f"  {r.item.external_id}: {type(r.error).__name__}: {r.error}", file=out)
    if args.results is not None:
        try:
            write_results(args.results, _results_lines(results, children))
        except OSError as exc:
            print(f"error: cannot write --results {args.results}: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"full ids: {args.results}", file=out)
    return EXIT_OK if not failed else EXIT_PROBLEMS


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``demo`` command's arguments to `p`."""
    p.add_argument("--customers", type=positive_int, default=25, help="how many (default 25)")
    p.add_argument(
        "--speed",
        type=positive_float,
        default=60.0,
        help="the sandbox's clock speed, > 0 (default 60; the flows wait on that clock)",
    )
    p.add_argument("--seed", type=int, default=0, help="sandbox seed (default 0)")
    p.add_argument(
        "--concurrency", type=positive_int, default=25, help="flows at once (default 25)"
    )
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    p.add_argument(
        "--sub-orgs",
        action="store_true",
        help="provision each customer as a child organization and onboard it inside the child"
        " with the child's own API key (its own credits and rate limits)",
    )
    p.add_argument(
        "--webhooks",
        action="store_true",
        help="receive the sandbox's webhooks on 127.0.0.1 and wake the flows' job and OAuth"
        " waits on them (polling only as a safety net); the totals show the polls saved",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="also write one JSON line per customer with the full ids (the table shortens them)",
    )
