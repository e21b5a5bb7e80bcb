"""The Getting started flow as one coroutine, and `fan_out` to run it for many customers.

`onboard_customer` is safe to run again for the same customer: every mutating step sends an
`Idempotency-Key` derived from the customer's external id and the step (UUIDv5), an existing
project bound to the same `customer_external_id` is adopted on `409 CONFLICT`, and media,
accounts, containers and posts that already exist are reused instead of created twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar

import anyio
import attrs

# Public names only: the package root binds the errors before it imports this module.
from . import ConflictError, IdempotencyConflictError, LayersValidationError, Secret
from ._transport import NOT_GIVEN, NotGiven
from ._validation import check_str
from .models import JSON
from .models.api_keys import ApiKeyScope
from .models.app_media import MediaKind
from .models.content import ScheduleTarget
from .models.jobs import Job
from .models.projects import BrandVoice, TargetGender
from .models.social import OAuthUrl, Platform
from .models.webhook_endpoints import WebhookEventType
from .waiters import OAUTH_TIMEOUT, wait_for_job, wait_for_oauth, wait_for_ready_influencer

if TYPE_CHECKING:
    from . import LayersClient
    from .models.content import Container
    from .models.organizations import Organization

__all__ = [
    "Checkpoint",
    "Customer",
    "ItemFailed",
    "ItemOk",
    "ItemResult",
    "MediaItem",
    "OnboardingResult",
    "ProvisionResult",
    "fan_out",
    "onboard_customer",
    "provision_customer",
]

log = logging.getLogger("layers_async")
T = TypeVar("T")
R = TypeVar("R")

#: A new project's first influencer takes about a minute (contract §3.2.1): its stream waits
#: this many initial poll intervals before its first poll.
_FIRST_INFLUENCER_POLLS = 20
#: Media of an adopted project listed per page, to find what an earlier run uploaded.
_MEDIA_PAGE = 100
#: The longest keyword a live source search takes (a longer app name is cut to it).
_KEYWORD_MAX_LEN = 200

#: Namespace of the derived idempotency keys (a fixed UUID: keys must be stable across runs).
_NAMESPACE = uuid.UUID("6c1f3b9e-2a4d-4f1e-9b7c-3d5e8a0f2c41")


def step_key(customer_external_id: str, step: str) -> str:
    """The Idempotency-Key of one step of one customer's flow (UUIDv5, stable across runs)."""
    return str(uuid.uuid5(_NAMESPACE, f"{customer_external_id}\x1f{step}"))


@attrs.frozen
class MediaItem:
    """A brand asset to upload: `kind` is logo, screenshot or demo-video."""

    kind: MediaKind
    url: str


@attrs.frozen
class Customer:
    """One customer to onboard. `external_id` is your id for them (`customerExternalId`)."""

    external_id: str
    name: str
    timezone: str = "UTC"
    app_name: str | None = None
    app_description: str | None = None
    tagline: str | None = None
    brand_voice: BrandVoice | None = None
    target_gender: TargetGender | None = None
    primary_language: str | None = None
    media: tuple[MediaItem, ...] = ()
    #: Connect an account on this platform ("tiktok" or "instagram"), or None to skip.
    connect: Platform | None = None
    #: When to publish the result (timezone-aware), or None not to schedule.
    schedule_at: datetime | None = None
    #: Schedule this long after now instead of at a fixed time.
    schedule_in: timedelta | None = None
    metadata: Mapping[str, JSON] | None = None


@attrs.frozen
class OnboardingResult:
    """Every id the flow produced (or adopted), and how long each step took (seconds)."""

    customer_external_id: str
    project_id: str
    adopted_project: bool
    media_ids: tuple[str, ...]
    social_account_id: str | None
    influencer_id: str
    source_tiktok_id: str
    source: str
    job_id: str
    container_id: str
    scheduled_post_ids: tuple[str, ...]
    timings: Mapping[str, float]


Authorize = Callable[[OAuthUrl], Awaitable[None]]


class Checkpoint(Protocol):
    """Where `onboard_customer` keeps each finished step of one customer's flow, to resume it.

    `load()` returns the steps that earlier runs finished (step name → that step's outputs, a
    JSON object); `save(step, outputs)` records one more as soon as it finishes. A flow given a
    checkpoint skips the steps it holds and runs the rest, the one a crash interrupted included,
    with the same idempotency keys (derived from the customer and the step), so a resumed flow
    replays those calls instead of repeating their effects.
    """

    async def load(self) -> Mapping[str, Mapping[str, Any]]:
        """The outputs of the steps finished so far, by step name (empty for a fresh flow)."""
        ...

    async def save(self, step: str, outputs: Mapping[str, JSON]) -> None:
        """Record that `step` finished with `outputs` (ids and flags; never a secret)."""
        ...


async def onboard_customer(
    client: LayersClient,
    customer: Customer,
    *,
    authorize: Authorize | None = None,
    return_url: str = "http://localhost:3000/social/connect/callback",
    now: Callable[[], Awaitable[datetime]] | None = None,
    influencer_timeout: float = 600.0,
    job_timeout: float = 1200.0,
    oauth_timeout: float = OAUTH_TIMEOUT,
    on_step: Callable[[str, str], None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> OnboardingResult:
    """Run the Getting started flow for one customer; safe to run again.

    `customer.app_description` is required (100-1,000 characters): the API creates the first
    influencer from it. Steps: create (or adopt) the project → upload media → (optional)
    connect an account, with `authorize(attempt)` showing the consent page to the customer →
    wait for a ready influencer → find a source (portfolio first, else live search on the top
    keyword or the app name) → slideshow-remix → wait for the job → fetch the container →
    (optional) schedule.
    `now` supplies the current time for `schedule_in` (the sandbox's clock in demos).
    `on_step(customer_external_id, step)` is called as each step finishes (for progress displays).
    With a `checkpoint` the flow resumes after the last step it recorded (see `Checkpoint`).
    """
    if not isinstance(customer, Customer):
        raise LayersValidationError("customer", "must be a layers_async.Customer")
    if not customer.app_description:
        # Without a description the API starts no research and no first influencer, so the
        # flow could only wait until its deadline for one (contract §3.2.1).
        raise LayersValidationError(
            "app_description",
            "is needed to onboard a customer: without it no influencer is ever created",
        )
    ext = customer.external_id
    timings: dict[str, float] = {}
    mark = time.monotonic()

    saved = dict(await checkpoint.load()) if checkpoint is not None else {}

    async def lap(step: str, **outputs: JSON) -> None:
        nonlocal mark
        t = time.monotonic()
        timings[step] = round(t - mark, 4)
        mark = t
        if checkpoint is not None and step not in saved:
            await checkpoint.save(step, outputs)
        if on_step is not None:
            on_step(ext, step)

    # 1. the project: created once, adopted when it already exists
    if "project" in saved:
        project_id, adopted = saved["project"]["project_id"], saved["project"]["adopted"]
    else:
        project_id, adopted = await _project(client, customer)
    # a resumed flow looks for what an interrupted step may have made, as an adopted one does
    rerun = adopted or bool(saved)
    await lap("project", project_id=project_id, adopted=adopted)

    # 2. media: skip what is already there (matched by source URL)
    media_ids: list[str] = list(saved.get("media", {}).get("media_ids", []))
    if customer.media and "media" not in saved:
        have: dict[str | None, str] = {}
        if rerun:  # only a project made earlier can hold media already
            listed = client.app_media.list(project_id, limit=_MEDIA_PAGE)
            have = {m.source_url: m.id async for m in listed}
        for i, item in enumerate(customer.media):
            if item.url in have:
                media_ids.append(have[item.url])
                continue
            media = await client.app_media.upload(
                project_id,
                kind=item.kind,
                url=item.url,
                idempotency_key=step_key(ext, f"media:{i}:{item.url}"),
            )
            media_ids.append(media.id)
    await lap("media", media_ids=list(media_ids))

    # 3. social account (optional): reuse a connected one of the platform
    account_id: str | None = saved.get("social", {}).get("social_account_id")
    if customer.connect is not None and "social" not in saved:
        connected = (
            await client.social.accounts(
                project_id, platform=customer.connect, status="connected", limit=1
            )
            if rerun
            else None
        )
        if connected is not None and connected.items:
            account_id = connected.items[0].social_account_id
        else:
            if authorize is None:
                raise LayersValidationError(
                    "authorize", "connecting an account needs a callback that shows the consent"
                )
            attempt = await client.social.oauth_url(
                project_id, platform=customer.connect, return_url=return_url
            )
            await authorize(attempt)
            done = await wait_for_oauth(client, project_id, attempt, timeout=oauth_timeout)
            account_id = done.social_account_id
    await lap("social", social_account_id=account_id)

    # 4. a ready influencer; a new project's first one takes about a minute (contract §3.2.1),
    #    so its stream starts polling near then instead of at once
    policy = client._waiting.policy
    if not rerun:
        policy = attrs.evolve(policy, first_delay=policy.initial * _FIRST_INFLUENCER_POLLS)
    influencer_id: str | None = saved.get("influencer", {}).get("influencer_id")
    if influencer_id is None:
        influencer = await wait_for_ready_influencer(
            client, project_id, timeout=influencer_timeout, policy=policy
        )
        influencer_id = influencer.influencer_id
    await lap("influencer", influencer_id=influencer_id)

    # 5-7. one slideshow-remix container: reuse a live one, else generate it
    found: Container | None = None
    awaited: str | Job = ""  # the job, or its envelope (an event then ends its wait alone)
    ended = 0  # failed or canceled remixes of earlier runs: each later try needs a new key
    if "generate" in saved:
        made = saved["generate"]
        container_id, job_id = made["container_id"], made["job_id"]
        tiktok_id, source = made["source_tiktok_id"], made["source"]
    elif rerun:
        async for previous in client.content.list(project_id, format="slideshow-remix"):
            if previous.status in ("queued", "processing", "completed"):
                found = found or previous
            else:
                ended += 1
    if "generate" in saved:
        await lap("source")
    elif found is not None:
        container_id = found.id
        job_id = awaited = found.job_id or ""
        tiktok_id = found.source_tiktok_id or ""
        source = "existing"
        await lap("source")
    else:
        tiktok_id, source = await _find_source(client, project_id, customer)
        await lap("source")
        generation = await client.content.slideshow_remix(
            project_id,
            tiktok_video_id=tiktok_id,
            influencer_id=influencer_id,
            idempotency_key=step_key(ext, f"remix:{ended}"),
        )
        job_id, awaited = generation.job_id, generation
        container_id = generation.container_ids[0]
    made_ids = {"container_id": container_id, "job_id": job_id, "source": source}
    await lap("generate", **made_ids, source_tiktok_id=tiktok_id)
    if job_id and "job" not in saved:
        await wait_for_job(client, awaited or job_id, timeout=job_timeout)
    await lap("job")
    if "container" not in saved:
        container_id = (await client.content.get(container_id)).id
    await lap("container")

    # 8. schedule (optional): reuse posts already made for this container and account
    post_ids: tuple[str, ...] = tuple(saved.get("schedule", {}).get("scheduled_post_ids", ()))
    when = customer.schedule_at
    if when is None and customer.schedule_in is not None:
        base = await now() if now is not None else datetime.now(timezone.utc)
        when = base + customer.schedule_in
    if when is not None and account_id is not None and "schedule" not in saved:
        posts = (
            [
                p
                async for p in client.scheduled_posts.list(project_id, social_account_id=account_id)
                if p.container_id == container_id and p.status != "canceled"
            ]
            if rerun
            else []
        )
        if posts:
            post_ids = tuple(p.id for p in posts)
        else:
            scheduled = await client.content.schedule(
                container_id,
                scheduled_for=when,
                targets=[ScheduleTarget(social_account_id=account_id, mode="publish")],
                idempotency_key=step_key(ext, "schedule"),
            )
            post_ids = tuple(scheduled.scheduled_post_ids)
    await lap("schedule", scheduled_post_ids=list(post_ids))
    return OnboardingResult(
        customer_external_id=ext,
        project_id=project_id,
        adopted_project=adopted,
        media_ids=tuple(media_ids),
        social_account_id=account_id,
        influencer_id=influencer_id,
        source_tiktok_id=tiktok_id,
        source=source,
        job_id=job_id,
        container_id=container_id,
        scheduled_post_ids=post_ids,
        timings=timings,
    )


async def _project(client: LayersClient, customer: Customer) -> tuple[str, bool]:
    """Create the customer's project once: (its id, whether it existed already)."""
    ext = customer.external_id
    try:
        project = await client.projects.create(
            name=customer.name,
            timezone=customer.timezone,
            customer_external_id=ext,
            app_name=customer.app_name,
            app_description=customer.app_description,
            tagline=customer.tagline,
            brand_voice=customer.brand_voice,
            target_gender=customer.target_gender,
            primary_language=customer.primary_language,
            metadata=customer.metadata,
            idempotency_key=step_key(ext, "project"),
        )
    except IdempotencyConflictError:
        # The customer's record changed since the first run: find the project by its id.
        page = await client.projects.list(customer_external_id=ext, limit=1)
        if not page.items:
            raise
        return page.items[0].id, True
    except ConflictError as exc:
        existing = exc.details.get("projectId") if exc.code == "CONFLICT" else None
        if not isinstance(existing, str):
            raise
        return existing, True
    return project.id, bool(project.meta and project.meta.idempotency_replayed)


async def _find_source(
    client: LayersClient, project_id: str, customer: Customer
) -> tuple[str, str]:
    """Portfolio first; else live search on the top keyword, else on the app name.

    The portfolio comes from the project's keyword research, so it is only asked for once the
    bank has been refreshed (one request saved per new project).
    """
    bank = await client.keywords.get(project_id)
    if bank.refreshed_at is not None:
        portfolio = await client.content.source_recommendations(project_id, kind="slideshow")
        if portfolio.items:
            return portfolio.items[0].tiktok_id, "portfolio"
    keyword = bank.hashtags[0].hashtag if bank.hashtags else (customer.app_name or customer.name)
    live = await client.content.source_recommendations(
        project_id, kind="slideshow", keyword=keyword[:_KEYWORD_MAX_LEN]
    )
    if not live.items:
        raise LayersValidationError("source", f"no slideshow found for {keyword!r}")
    return live.items[0].tiktok_id, "live_search"


@attrs.frozen
class ItemOk(Generic[T, R]):
    """An item of `fan_out` that produced a value: `ok` is `True` and `error` is `None`."""

    item: T
    value: R
    seconds: float
    #: Always `True`: `if result.ok:` narrows an `ItemResult` to this class.
    ok: ClassVar[Literal[True]] = True
    #: Always `None`: the item raised nothing.
    error: ClassVar[None] = None


@attrs.frozen
class ItemFailed(Generic[T, R]):
    """An item of `fan_out` that raised: `ok` is `False`, `value` is `None`, `error` the cause."""

    item: T
    error: BaseException
    seconds: float
    #: Always `False`: `if not result.ok:` narrows an `ItemResult` to this class.
    ok: ClassVar[Literal[False]] = False
    #: Always `None`: the item produced no value.
    value: ClassVar[None] = None


#: The outcome of one item of `fan_out`: `ItemOk` (its value) or `ItemFailed` (the exception
#: it raised). Both have `item`, `value`, `error`, `seconds` and `ok`; `ok` is a literal, so
#: `r.value.project_id if r.ok else repr(r.error)` type-checks without a cast.
ItemResult: TypeAlias = ItemOk[T, R] | ItemFailed[T, R]


Progress = Callable[[int, int, "ItemResult[T, R]"], None]


async def fan_out(
    items: Iterable[T],
    fn: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = 50,
    per_item_timeout: float | None = None,
    on_progress: Progress[T, R] | None = None,
) -> list[ItemResult[T, R]]:
    """Run `fn(item)` for every item, at most `concurrency` at a time, in an anyio task group.

    Returns one `ItemResult` per item, in input order. A failing item is recorded (its
    exception in `error`) and never cancels the others; `per_item_timeout` bounds each item
    (a `TimeoutError` is recorded). `on_progress(done, total, result)` is called as items
    finish. Cancelling the caller (Ctrl-C) cancels every running item and re-raises.
    """
    work: Sequence[T] = list(items)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise LayersValidationError("concurrency", "must be a positive integer")
    if per_item_timeout is not None and per_item_timeout <= 0:
        raise LayersValidationError("per_item_timeout", "must be positive or None")
    results: list[ItemResult[T, R] | None] = [None] * len(work)
    limiter = anyio.CapacityLimiter(concurrency)
    finished = 0

    async def run(index: int, item: T) -> None:
        nonlocal finished
        async with limiter:
            started = time.monotonic()
            result: ItemResult[T, R]
            try:
                if per_item_timeout is not None:
                    with anyio.fail_after(per_item_timeout):
                        value = await fn(item)
                else:
                    value = await fn(item)
            except Exception as exc:  # recorded for this item
                result = ItemFailed(item, exc, _elapsed(started))
            except anyio.get_cancelled_exc_class() as exc:
                if group.cancel_scope.cancel_called:
                    raise  # the whole fan-out is being cancelled (Ctrl-C): stop
                # this item alone was cancelled from inside: record it
                result = ItemFailed(item, exc, _elapsed(started))
            else:
                result = ItemOk(item, value, _elapsed(started))
        results[index] = result
        finished += 1
        if on_progress is not None:
            try:
                on_progress(finished, len(work), result)
            except Exception:
                log.exception("fan_out's on_progress callback raised; ignoring it")

    async with anyio.create_task_group() as group:
        for index, item in enumerate(work):
            group.start_soon(run, index, item)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:  # cannot happen unless an item escaped both handlers above
        raise RuntimeError(f"fan_out lost the results of items {missing[:10]}")
    return [r for r in results if r is not None]


def _elapsed(started: float) -> float:
    return round(time.monotonic() - started, 4)


# ---------------------------------------------------------------- provision_customer

#: How long the API replays a write sent again with the same Idempotency-Key (contract §1.8).
REPLAY_WINDOW = timedelta(hours=24)
#: A resource made closer than this to the end of the window is treated as past it: a replay
#: sent that late could arrive after the record expired and create a second one.
_WINDOW_MARGIN = timedelta(minutes=10)
#: Children listed per page when looking for one by its `metadata.externalId`.
_CHILD_PAGE = 200
#: The events the webhook endpoint of `provision_customer` subscribes to by default.
DEFAULT_WEBHOOK_EVENTS: tuple[WebhookEventType, ...] = (
    "job.completed",
    "job.failed",
    "post.published",
    "post.failed",
)


@attrs.frozen
class ProvisionResult:
    """What `provision_customer` produced or found for one customer.

    `secret` is the child key's secret (a `Secret`: ``secret.reveal()`` to store it), from the
    mint, its replay, or a rotation. Flags say how each part came to be:

    - `adopted`: the child already existed (found by ``metadata.externalId``); otherwise it
      was created by this call.
    - `key_rotated`: the child's key existed but its secret could no longer be recovered (its
      mint is past the 24-hour replay window), so it was rotated: `secret` is the new key's,
      and `previous_key_id` (the old key) keeps working for 24 hours.
    - `allocation_replayed`: the credits were moved by an earlier run (nothing moved now).
      `allocation_txn` is the transfer id, or past the replay window the id of the child's
      `allocation` ledger event; None when no allocation was asked for.
    - `webhook_signing_secret`: None when no webhook was asked for, or when the endpoint
      existed past the replay window (its secret cannot be shown again: rotate it).
    """

    customer_external_id: str
    organization_id: str
    adopted: bool
    api_key_id: str
    secret: Secret
    key_rotated: bool
    previous_key_id: str | None
    allocation_txn: str | None
    allocation_replayed: bool
    webhook_endpoint_id: str | None
    webhook_signing_secret: Secret | None
    balance: int
    available: int


async def provision_customer(
    client: LayersClient,
    external_id: str,
    name: str,
    *,
    allocate: int | None = None,
    monthly_credit_cap: int | None = None,
    refill_threshold: int | None = None,
    refill_amount: int | None = None,
    webhook_url: str | None = None,
    webhook_events: Sequence[WebhookEventType] = DEFAULT_WEBHOOK_EVENTS,
    key_name: str = "integration",
    scopes: Sequence[ApiKeyScope] = ("*",),
    billing_email: str | None = None,
    now: Callable[[], Awaitable[datetime]] | None = None,
    on_step: Callable[[str, str], None] | None = None,
) -> ProvisionResult:
    """Provision one customer as a child organization, funded and keyed; safe to run again.

    The provision-and-fund flow (contract §3.10.0) with your `org:admin` key: create the
    child (``metadata.externalId`` = `external_id`) → mint its key (`scopes`, default every
    scope but org:admin) → allocate `allocate` credits from your prepaid balance → set its
    credit config (`monthly_credit_cap`, `refill_threshold`/`refill_amount`, when given) →
    (when `webhook_url` is given) a webhook endpoint inside the child → read its wallet.

    Every write sends an Idempotency-Key derived from `external_id` and the step, so a rerun
    after a crash at any point creates exactly one child, one key, one allocation and one
    endpoint. Within 24 hours the API replays the earlier answers, the key's secret included;
    past that window the child is adopted by its ``metadata.externalId`` (the children are
    paged through), an allocation already in its ledger is not repeated, and a key whose
    secret can no longer be shown is rotated (`ProvisionResult.key_rotated`). `now` supplies
    the API's current time for the window (the sandbox's clock in tests; default this
    machine's). `on_step(external_id, step)` is called as each step finishes.
    """
    ext = check_str("external_id", external_id, min_len=1, max_len=500)
    if allocate is not None and (isinstance(allocate, bool) or not isinstance(allocate, int)):
        raise LayersValidationError("allocate", "must be a positive integer or None")
    current = now() if now is not None else _utcnow()
    cutoff = (await current) - REPLAY_WINDOW + _WINDOW_MARGIN
    orgs = client.organizations

    def done(step: str) -> None:
        if on_step is not None:
            on_step(ext, step)

    # 1. the child: adopted when it exists, else created (a replay within the window)
    org = await _find_child(client, ext)
    adopted = org is not None
    if org is None:
        org = await orgs.create(
            name=name,
            metadata={"externalId": ext},
            billing_email=billing_email,
            idempotency_key=step_key(ext, "organization"),
        )
    org_id = org.id
    done("organization")

    # 2. its key: minted once; its secret replayed within the window, else rotated
    key = await _child_key(client, org_id, ext, key_name, scopes, cutoff, fresh=not adopted)
    done("api_key")

    # 3. the allocation: once, whatever the window
    txn: str | None = None
    replayed = False
    if allocate is not None:
        txn, replayed = await _allocation(client, org_id, ext, allocate, cutoff, not adopted)
        done("allocation")

    # 4. the credit config, when any of it is given
    if (monthly_credit_cap, refill_threshold, refill_amount) != (None, None, None):
        await orgs.credit_config.update(
            org_id,
            monthly_credit_cap=_given(monthly_credit_cap),
            refill_threshold=_given(refill_threshold),
            refill_amount=_given(refill_amount),
            idempotency_key=step_key(ext, "credit-config"),
        )
        done("credit_config")

    # 5. the webhook endpoint inside the child, when asked for
    endpoint_id: str | None = None
    signing: Secret | None = None
    if webhook_url is not None:
        endpoint_id, signing = await _endpoint(
            client.for_organization(org_id), ext, webhook_url, webhook_events, cutoff
        )
        done("webhook_endpoint")

    # 6. the child's wallet
    wallet = await orgs.credits.get(org_id)
    done("wallet")
    return ProvisionResult(
        customer_external_id=ext,
        organization_id=org_id,
        adopted=adopted,
        **attrs.asdict(key, recurse=False),
        allocation_txn=txn,
        allocation_replayed=replayed,
        webhook_endpoint_id=endpoint_id,
        webhook_signing_secret=signing,
        balance=wallet.balance,
        available=wallet.available,
    )


def _given(value: int | None) -> int | NotGiven:
    """A config field left out of the update when None (None would clear it)."""
    return NOT_GIVEN if value is None else value


async def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def _find_child(client: LayersClient, ext: str) -> Organization | None:
    """The live child whose ``metadata.externalId`` is `ext` (no filter exists: page through)."""
    async for org in client.organizations.list(limit=_CHILD_PAGE):
        if org.metadata.get("externalId") == ext and org.status != "archived":
            return org
    return None


@attrs.frozen
class _Key:
    """The key part of a `ProvisionResult` (same field names)."""

    api_key_id: str
    secret: Secret
    key_rotated: bool = False
    previous_key_id: str | None = None


async def _child_key(
    client: LayersClient,
    org_id: str,
    ext: str,
    name: str,
    scopes: Sequence[ApiKeyScope],
    cutoff: datetime,
    *,
    fresh: bool,
) -> _Key:
    """The child's key with its secret: minted, replayed, or (past the window) rotated.

    The current key is the newest active key named `name` that no rotation superseded. It was
    minted (its mint's key replays it) or made by rotating a predecessor (that rotation's key
    replays it), each only within the window; otherwise its secret is gone and it is rotated.
    """
    keys = client.organizations.api_keys
    mint_key = step_key(ext, "api-key")
    current = None
    if not fresh:
        listed = [k async for k in keys.list(org_id, limit=100)]
        live = [
            k
            for k in listed
            if k.name == name and k.status == "active" and k.superseded_by is None
        ]
        current = max(live, key=lambda k: k.created_at, default=None)
    if current is None:
        made = await keys.create(org_id, name=name, scopes=scopes, idempotency_key=mint_key)
        return _Key(made.api_key.id, made.secret)
    if current.created_at > cutoff:
        before = next((k for k in listed if k.superseded_by == current.id), None)
        if before is None:
            again = await keys.create(org_id, name=name, scopes=scopes, idempotency_key=mint_key)
            if again.api_key.id == current.id:
                return _Key(current.id, again.secret)
            # not the key this flow minted: keep the new one, retire the other at once
            await keys.revoke(org_id, current.id)
            return _Key(again.api_key.id, again.secret)
        redo = await keys.rotate(
            org_id, before.id, idempotency_key=step_key(ext, f"rotate-key:{before.id}")
        )
        if redo.api_key.id == current.id:
            return _Key(current.id, redo.secret, key_rotated=True, previous_key_id=before.id)
    rotated = await keys.rotate(
        org_id, current.id, idempotency_key=step_key(ext, f"rotate-key:{current.id}")
    )
    return _Key(rotated.api_key.id, rotated.secret, key_rotated=True, previous_key_id=current.id)


async def _allocation(
    client: LayersClient, org_id: str, ext: str, credits: int, cutoff: datetime, fresh: bool
) -> tuple[str, bool]:
    """Move `credits` to the child once: (the transfer id, whether an earlier run moved them).

    An allocation already in the child's ledger is replayed within the window (same transfer
    id); past it the ledger event stands for it and nothing is sent.
    """
    wallets = client.organizations.credits
    if not fresh:
        # the flow's allocation is the child's first: later ones are refills
        first = None
        async for event in wallets.events(org_id, event_type="allocation", limit=100):
            first = event
        if first is not None and first.created_at <= cutoff:
            return first.event_id, True
    moved = await wallets.allocate(
        org_id, credits=credits, idempotency_key=step_key(ext, "allocation")
    )
    return moved.id, moved.replayed


async def _endpoint(
    child: LayersClient,
    ext: str,
    url: str,
    events: Sequence[WebhookEventType],
    cutoff: datetime,
) -> tuple[str, Secret | None]:
    """The child's webhook endpoint marked with `ext`: created once; its signing secret
    replayed within the window, None past it."""
    async for endpoint in child.webhook_endpoints.list(limit=100):
        if endpoint.metadata.get("externalId") == ext and endpoint.created_at <= cutoff:
            return endpoint.id, None
    made = await child.webhook_endpoints.create(
        url=url,
        events=events,
        metadata={"externalId": ext},
        idempotency_key=step_key(ext, "webhook-endpoint"),
    )
    return made.endpoint.id, made.signing_secret
