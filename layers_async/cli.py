"""The `layers-async` command: `demo`, `onboard` and `sandbox`.

``layers-async demo`` starts an embedded sandbox and runs the Getting started flow for many
fictional customers at once through the SDK, with a live progress display (rich, when installed
and stdout is a terminal; plain lines otherwise), then prints a summary table and totals.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO

import aiohttp

from ._config import DEFAULT_POLL
from ._transport import AttemptEvent
from .flows import Customer, ItemResult, MediaItem, OnboardingResult, fan_out, onboard_customer
from .models.social import OAuthUrl
from .sandbox import Sandbox

__all__ = ["build_parser", "main", "run_demo"]

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
        self._live: Any = None
        self._progress: Any = None
        self._task: Any = None
        if rich_ok:
            try:
                from rich.console import Console
                from rich.live import Live
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )
            except ImportError:
                return
            console = Console(file=out)
            self._progress = Progress(
                TextColumn("[bold]onboarding"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self._task = self._progress.add_task("customers", total=total)
            self._live = Live(self._render(), console=console, refresh_per_second=8)

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        stages = Table.grid(padding=(0, 2))
        for _ in STEPS:
            stages.add_column(justify="center")
        stages.add_row(*[f"[dim]{s}[/]" for s in STEPS])
        stages.add_row(*[str(self.stage[s]) for s in STEPS])
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
        if self._live is not None:
            self._progress.update(self._task, completed=done)
            self._live.update(self._render())
        else:
            elapsed = time.monotonic() - self.started
            status = "ok" if result.ok else f"FAILED {type(result.error).__name__}: {result.error}"
            who = f"{result.item.external_id} {result.item.name}"
            print(f"[{elapsed:6.1f}s] {done}/{total} {who}: {status}", file=self.out, flush=True)


def _summary(
    results: list[ItemResult[Customer, OnboardingResult]], out: TextIO, *, rich_ok: bool
) -> None:
    rows = []
    for r in results:
        v = r.value
        rows.append(
            (
                r.item.external_id,
                r.item.name,
                v.project_id if v else "-",
                v.influencer_id if v else "-",
                v.container_id if v else "-",
                (v.scheduled_post_ids[0] if v and v.scheduled_post_ids else "-"),
                f"{r.seconds:.1f}",
                "ok" if r.ok else f"{type(r.error).__name__}",
            )
        )
    headers = ("customer", "name", "project", "influencer", "container", "scheduled post", "s", "")
    if rich_ok:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            rich_ok = False
        else:
            table = Table(title="Onboarded customers")
            for h in headers:
                table.add_column(h, overflow="fold")
            for row in rows:
                table.add_row(*row)
            Console(file=out).print(table)
            return
    print("\t".join(headers), file=out)
    for row in rows:
        print("\t".join(row), file=out)


async def run_demo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """`layers-async demo`: N customers' Getting started flows against an embedded sandbox."""
    out = out or sys.stdout
    rich_ok = out.isatty() and not args.plain
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
            "prepaidBalance": 50 * max(args.customers, 1) + 5000,
            "subscriptionTier": "pro",
        }
    ]
    retries = 0

    def count_retry(event: AttemptEvent) -> None:
        nonlocal retries
        retries += 1

    from ._client import LayersClient

    started = time.monotonic()
    async with (
        Sandbox(speed=args.speed, seed=args.seed, api_keys=keys, organizations=orgs) as sandbox,
        aiohttp.ClientSession() as http,
        LayersClient(
            api_key=sandbox.api_key,
            base_url=sandbox.url,
            poll_policy=DEFAULT_POLL.scaled(1 / args.speed) if args.speed > 0 else DEFAULT_POLL,
            poll_rate=max(50.0, 20.0 * args.customers),
            on_retry=count_retry,
        ) as client,
    ):
        print(f"Layers sandbox on {sandbox.url} (speed {args.speed:g}, seed {args.seed})", file=out)
        print(f"Onboarding {args.customers} customers, {args.concurrency} at a time\n", file=out)

        async def authorize(attempt: OAuthUrl) -> None:
            # Stands in for the customer's browser on the sandbox's consent page.
            async with http.get(attempt.authorize_url, allow_redirects=False) as resp:
                if resp.status != 302:
                    raise RuntimeError(f"consent page answered {resp.status}")

        async def now() -> datetime:
            async with http.get(f"{sandbox.url}/_sandbox/clock") as resp:
                text = (await resp.json())["now"]
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        with _Display(args.customers, out, rich_ok=rich_ok) as display:

            async def one(customer: Customer) -> OnboardingResult:
                return await onboard_customer(
                    client, customer, authorize=authorize, now=now, on_step=display.step
                )

            results = await fan_out(
                demo_customers(args.customers),
                one,
                concurrency=args.concurrency,
                on_progress=display.finished,
            )
        state = await sandbox.state()
        polls = client._poll_hub.polls
    wall = time.monotonic() - started
    print(file=out)
    _summary(results, out, rich_ok=rich_ok)
    failed = [r for r in results if not r.ok]
    statuses = state["responses"]["byStatus"]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} customers onboarded in {wall:.1f} s"
        f" | requests {state['requests']['total']} | retries {retries}"
        f" | 429s {statuses.get('429', 0)} | polls {polls}",
        file=out,
    )
    for r in failed:
        print(f"  {r.item.external_id}: {type(r.error).__name__}: {r.error}", file=out)
    return 0 if not failed else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `layers-async`."""
    parser = argparse.ArgumentParser(
        prog="layers-async", description="The Layers Partner API SDK's command line."
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo = sub.add_parser(
        "demo", help="run many customers' Getting started flows against an embedded sandbox"
    )
    demo.add_argument("--customers", type=_positive_int, default=25, help="how many (default 25)")
    demo.add_argument("--speed", type=float, default=60.0, help="sandbox clock speed (default 60)")
    demo.add_argument("--seed", type=int, default=0, help="sandbox seed (default 0)")
    demo.add_argument(
        "--concurrency", type=_positive_int, default=25, help="flows at once (default 25)"
    )
    demo.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    sandbox = sub.add_parser(
        "sandbox", help="serve the embedded sandbox (python -m layers_async.sandbox)"
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    try:
        from ._onboard import add_onboard_parser
    except ImportError:  # pragma: no cover - the onboarding command ships with the package
        pass
    else:
        add_onboard_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `layers-async` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        from .sandbox.__main__ import main as sandbox_main

        return sandbox_main(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            return asyncio.run(run_demo(args))
        if args.command == "onboard":
            from ._onboard import run_onboard

            status: int = asyncio.run(run_onboard(args))
            return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.print_help()
    return 2
