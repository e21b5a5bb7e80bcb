"""The public API as a user writes it, checked by `mypy --strict` and never executed
(DESIGN §5.7; `tests/test_typing.py` runs mypy over this file).

Each call's result is assigned to a variable annotated with the type a user expects, so a
changed return type fails the check. Lines ending in `# type: ignore[<code>]` pin calls that
must NOT type-check: with `warn_unused_ignores` (part of --strict) the ignore becomes an error
as soon as the call is accepted.

The functions below are never called; pytest does not collect this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import aiohttp
import attrs
from typing_extensions import assert_type

import layers_async
from layers_async import (
    DEFAULT_BASE_URL,
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUTS,
    NOT_GIVEN,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    Asset,
    AsyncPaginator,
    AuthenticationError,
    BadRequestError,
    BillingPeriod,
    BrandContext,
    ClientClosedError,
    ConflictError,
    ErrorInfo,
    IdempotencyConflictError,
    InternalServerError,
    Job,
    JobCancelResult,
    JobResult,
    KillSwitchError,
    LayersClient,
    LayersError,
    LayersModel,
    LayersValidationError,
    Limits,
    NotFoundError,
    NotGiven,
    Page,
    PaymentRequiredError,
    PermissionDeniedError,
    Project,
    ProjectArchived,
    ProjectSummary,
    RateLimitError,
    RateLimitInfo,
    ResponseMeta,
    ResponseTooLargeError,
    Sandbox,
    SandboxConfigError,
    Timeouts,
    UnprocessableEntityError,
    ValidationIssue,
    Wallet,
    Whoami,
)
from layers_async.models import JSON

ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"


# --------------------------------------------------------------------------- configuration


def config_values() -> None:
    version: str = layers_async.__version__
    base: str = DEFAULT_BASE_URL
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    limits: Limits = DEFAULT_LIMITS
    longer: Timeouts = attrs.evolve(DEFAULT_TIMEOUTS, read=120.0)
    custom = Timeouts(total=30.0, connect=5.0, read=None)
    total: float | None = custom.total
    pool = Limits(max_connections=10, max_connections_per_host=5, keepalive_expiry=30.0)
    capped = Limits(max_response_bytes=1024 * 1024)
    max_body: int = capped.max_response_bytes
    del max_body
    max_conn: int = pool.max_connections
    unset: NotGiven = NOT_GIVEN
    falsy: bool = bool(NOT_GIVEN)
    del version, base, timeouts, limits, longer, total, max_conn, unset, falsy


# --------------------------------------------------------------------------- the client


async def client_construction() -> None:
    from_env: LayersClient = LayersClient()
    explicit = LayersClient(
        "lp_live_…",
        "http://127.0.0.1:8787",
        organization=ORG,
        timeout=30.0,
        limits=Limits(max_connections=10),
        default_headers={"X-Partner": "acme"},
        trace_configs=[aiohttp.TraceConfig()],
    )
    with_timeouts = LayersClient(api_key="k", timeout=Timeouts(total=60.0))
    no_deadline = LayersClient(api_key="k", timeout=None)

    view: LayersClient = explicit.with_options(timeout=10)
    view2: LayersClient = explicit.with_options(
        timeout=Timeouts(read=5.0), organization=ORG, default_headers={"X-A": "b"}
    )
    view3: LayersClient = explicit.with_options(timeout=NOT_GIVEN)
    child: LayersClient = explicit.for_organization(ORG)

    url: str = explicit.base_url
    org: str | None = child.organization
    closed: bool = explicit.is_closed
    text: str = repr(explicit)

    async with LayersClient() as client:
        entered: LayersClient = client
        me: Whoami = await client.whoami()
        me2: Whoami = await client.whoami(
            timeout=5, idempotency_key=None, extra_headers={"X-Trace": "1"}
        )
        del entered, me, me2

    for c in (from_env, explicit, with_timeouts, no_deadline):
        await c.aclose()
    del view, view2, view3, url, org, closed, text


async def client_misuse(client: LayersClient) -> None:
    LayersClient(api_key=1)  # type: ignore[arg-type]
    client.with_options(organization=5)  # type: ignore[arg-type]
    await client.whoami(5)  # type: ignore[call-arg]
    client.whoami()  # type: ignore[unused-coroutine]


# --------------------------------------------------------------------------- identity, credits


async def identity_and_credits(client: LayersClient) -> None:
    me = await client.whoami()
    org_id: str = me.organization_id
    workspace: str = me.workspace_id
    name: str = me.organization_name
    scopes: tuple[str, ...] = me.scopes
    tier: str = me.rate_limit_tier
    key_id: str = me.api_key_id
    balance: int = me.credit_balance
    parent: str | None = me.parent_organization_id

    wallet: Wallet = await client.credits.get()
    wallet2: Wallet = await client.credits.get(timeout=3.0, extra_headers={"X": "y"})
    available: int = wallet.available
    period: BillingPeriod = wallet.current_period
    start: datetime = period.start
    used: int = period.used_credits
    per_format: dict[str, int] = wallet.estimated_credits_per_format
    del org_id, workspace, name, scopes, tier, key_id, balance, parent, wallet2
    del available, start, used, per_format


# --------------------------------------------------------------------------- projects


async def projects(client: LayersClient) -> None:
    project: Project = await client.projects.create(
        name="Acme Coffee",
        timezone="America/Los_Angeles",
        customer_external_id="acme-coffee",
        owner_email="owner@acme.example",
        primary_language="en",
        app_name="Acme Coffee",
        app_description="..." * 40,
        tagline="Fresh beans",
        brand_voice="warm",
        target_gender="all",
        metadata={"crm": 1},
        timeout=10,
        idempotency_key="create-acme",
        extra_headers={"X-Trace": "1"},
    )
    minimal: Project = await client.projects.create(name="Acme", timezone="UTC")
    pid: str = project.id
    status: str = project.status
    created: datetime = project.created_at
    brand: BrandContext | None = project.brand_context
    keywords: tuple[str, ...] = brand.keywords if brand is not None else ()
    metadata: dict[str, Any] = project.metadata
    archived_at: datetime | None = project.archived_at

    fetched: Project = await client.projects.get(pid)
    updated: Project = await client.projects.update(
        pid, name="Acme Two", tagline=None, status="active", idempotency_key="u-1"
    )
    cleared: Project = await client.projects.update(pid, customer_external_id=None)
    archived: ProjectArchived = await client.projects.archive(pid, timeout=None)
    canceled_posts: int = archived.canceled_scheduled_posts
    when: datetime = archived.archived_at

    del minimal, status, created, keywords, metadata, archived_at
    del fetched, updated, cleared, canceled_posts, when


async def projects_misuse(client: LayersClient) -> None:
    await client.projects.create(name="Acme")  # type: ignore[call-arg]
    await client.projects.create("Acme", "UTC")  # type: ignore[call-arg]
    await client.projects.create(name="Acme", timezone="UTC", brand_voice="loud")  # type: ignore[arg-type]
    await client.projects.update(PRJ, name=None)  # type: ignore[arg-type]
    as_list: list[ProjectSummary] = await client.projects.list()  # type: ignore[assignment]
    del as_list


# --------------------------------------------------------------------------- pagination


async def pagination(client: LayersClient) -> None:
    paginator: AsyncPaginator[ProjectSummary] = client.projects.list(
        status="active",
        search="acme",
        customer_external_id="acme-coffee",
        limit=50,
        cursor=None,
        timeout=5,
        extra_headers={"X": "y"},
    )
    page: Page[ProjectSummary] = await paginator
    items: tuple[ProjectSummary, ...] = page.items
    cursor: str | None = page.next_cursor
    more: bool = page.has_next
    size: int = len(page)
    meta: ResponseMeta | None = page.meta
    for row in page:
        first: ProjectSummary = row
        del first

    async for summary in client.projects.list(limit=2):
        one: ProjectSummary = summary
        sid: str = summary.id
        external: str | None = summary.customer_external_id
        del one, sid, external

    async for each_page in client.projects.list().pages():
        p: Page[ProjectSummary] = each_page
        del p

    everything: list[ProjectSummary] = await client.projects.list().to_list()
    some: list[ProjectSummary] = await client.projects.list().to_list(max_items=10)
    resumed: Page[ProjectSummary] = await client.projects.list(cursor=cursor)
    del items, more, size, meta, everything, some, resumed


async def pagination_misuse(client: LayersClient) -> None:
    page = await client.projects.list()
    wrong: Project = page.items[0]  # type: ignore[assignment]
    client.projects.list(limit="5")  # type: ignore[arg-type]
    del wrong


# --------------------------------------------------------------------------- jobs


async def jobs(client: LayersClient) -> None:
    job: Job = await client.jobs.get(JOB)
    job_again: Job = await client.jobs.get(JOB, if_none_match=None, timeout=2.0)
    job2: Job = await client.jobs.get(JOB, if_none_match=job)
    maybe: Job | None = await client.jobs.get(JOB, if_none_match="etag")
    if maybe is not None:
        current: Job = maybe
        del current

    jid: str = job.job_id
    kind: str = job.kind
    status: str = job.status
    stage: str | None = job.stage
    progress: float = job.progress
    started: datetime = job.started_at
    finished: datetime | None = job.finished_at
    containers: tuple[str, ...] = job.container_ids
    terminal: bool = job.is_terminal
    result: JobResult | None = job.result
    if result is not None:
        assets: tuple[Asset, ...] = result.assets
        url: str = assets[0].url
        thumb: str | None = assets[0].thumbnail_url
        del url, thumb
    error: ErrorInfo | None = job.error
    if error is not None:
        code: str = error.code
        platform_code: str | None = error.platform_code
        del code, platform_code

    cancel: JobCancelResult = await client.jobs.cancel(JOB, idempotency_key="cancel-1")
    accepted: bool = cancel.accepted
    reason: str | None = cancel.reason
    del job_again, job2, jid, kind, status, stage, progress, started, finished
    del containers, terminal, accepted, reason


async def jobs_misuse(client: LayersClient) -> None:
    not_optional: Job = await client.jobs.get(JOB, if_none_match="etag")  # type: ignore[assignment]
    await client.jobs.get(JOB, if_none_match=3)  # type: ignore[call-overload]
    del not_optional


# --------------------------------------------------------------------------- meta


async def response_meta(client: LayersClient) -> None:
    project = await client.projects.get(PRJ)
    model: LayersModel = project
    request_id: str | None = project.request_id
    meta: ResponseMeta | None = project.meta
    if meta is not None:
        rid: str | None = meta.request_id
        status_code: int = meta.status_code
        replayed: bool = meta.idempotency_replayed
        etag: str | None = meta.etag
        attempts: int = meta.attempts
        waited: float = meta.waited
        rate: RateLimitInfo | None = meta.rate_limit
        if rate is not None:
            endpoint_class: str | None = rate.endpoint_class
            limit: int | None = rate.limit
            remaining: int | None = rate.remaining
            reset: float | None = rate.reset_seconds
            del endpoint_class, limit, remaining, reset
        del rid, status_code, replayed, etag, attempts, waited
    del model, request_id


# --------------------------------------------------------------------------- errors


async def errors(client: LayersClient) -> None:
    try:
        await client.projects.create(name="Acme Coffee", timezone="UTC")
    except LayersValidationError as exc:
        field: str = exc.field
        as_value_error: ValueError = exc
        del field, as_value_error
    except RateLimitError as exc:
        retry_after: float | None = exc.retry_after
        del retry_after
    except UnprocessableEntityError as exc:
        issues: list[ValidationIssue] = exc.issues
        path: str = issues[0].path
        text: str = issues[0].message
        del path, text
    except (IdempotencyConflictError, ConflictError, NotFoundError, KillSwitchError) as exc:
        assert_type(exc.details, dict[str, JSON])
        assert_type(exc.rate_limit, RateLimitInfo | None)
        assert_type(exc.headers, Mapping[str, str] | None)
    except (AuthenticationError, PermissionDeniedError, PaymentRequiredError) as exc:
        as_status: APIStatusError = exc
        del as_status
    except (BadRequestError, InternalServerError) as exc:
        code: str | None = exc.code
        del code
    except APIStatusError as exc:
        status_code: int = exc.status_code
        message: str = exc.message
        request_id: str | None = exc.request_id
        attempts: int = exc.attempts
        method: str = exc.method
        del status_code, message, request_id, attempts, method
    except ResponseTooLargeError as exc:
        limit: int = exc.max_response_bytes
        as_malformed: APIResponseValidationError = exc
        del limit, as_malformed
    except APIResponseValidationError as exc:
        answered: int = exc.status_code
        answer_id: str | None = exc.request_id
        excerpt: str = exc.excerpt
        as_status_error: APIStatusError = exc  # type: ignore[assignment]
        del answered, answer_id, excerpt, as_status_error
    except ClientClosedError as exc:
        as_runtime: RuntimeError = exc
        del as_runtime
    except APITimeoutError as exc:
        as_timeout: TimeoutError = exc
        as_connection: APIConnectionError = exc
        del as_timeout, as_connection
    except APIConnectionError as exc:
        where: str = f"{exc.method} {exc.path}"
        tries: int = exc.attempts
        del where, tries
    except LayersError as exc:
        base: Exception = exc
        del base


# --------------------------------------------------------------------------- the sandbox


async def sandbox() -> None:
    async with Sandbox(speed=600, seed=7) as sb:
        url: str = sb.url
        key: str = sb.api_key
        keys: dict[str, str] = sb.keys
        config: dict[str, Any] = sb.config
        state: dict[str, Any] = await sb.state()
        advanced: dict[str, Any] = await sb.advance(60)
        await sb.set_speed(0)
        patched: dict[str, Any] = await sb.configure(faults=[])
        await sb.reset()
        async with LayersClient(api_key=key, base_url=url) as client:
            await client.whoami()
        del keys, config, state, advanced, patched
    try:
        Sandbox(speed=-1)
    except SandboxConfigError as exc:
        as_value_error: ValueError = exc
        del as_value_error
    manual = Sandbox({"seed": 1}, host="127.0.0.1", port=0)
    await manual.start()
    await manual.aclose()


# --------------------------------------------------------------------------- other namespaces

SA = "sa_9c1e42a0-3d5f-4a7b-b9c1-d2e3f4a5b6c7"
INF = "inf_5f0b8d2e-6a4c-4e1f-a3b5-c7d9e1f3a5b7"
MED = "med_7a1c3e5f-2b4d-4e6f-8a0b-1c2d3e4f5a6b"
CNT = "cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d"
SP = "sp_3b5d7f9a-1c3e-4a5b-9c7d-e9f1a3b5c7d9"
ST = "st_01HXZ8K2M4P5QRS6TV7WXYZ9AB"


async def app_media(client: LayersClient) -> None:
    media: layers_async.AppMedia = await client.app_media.upload(
        PRJ, kind="logo", url="https://cdn.example.com/logo.png", idempotency_key="k"
    )
    mime: str = media.mime_type
    size: int = media.byte_size
    page: Page[layers_async.AppMedia] = await client.app_media.list(
        PRJ, kind="screenshot", limit=10
    )
    async for item in client.app_media.list(PRJ):
        url: str = item.url
    gone: layers_async.AppMediaDeleted = await client.app_media.delete(PRJ, MED)
    deleted: bool = gone.deleted
    kind: layers_async.MediaKind = "demo-video"
    await client.app_media.upload(PRJ, kind="end-card", url="https://x")  # type: ignore[arg-type]
    del mime, size, page, url, deleted, kind


async def social(client: LayersClient) -> None:
    attempt: layers_async.OAuthUrl = await client.social.oauth_url(
        PRJ,
        platform="tiktok",
        return_url="http://localhost:3000/cb",
        scopes=["video.publish"],
        usage_note="onboarding",
    )
    authorize: str = attempt.authorize_url
    expires: datetime = attempt.expires_at
    status: layers_async.OAuthAttempt = await client.social.oauth_status(PRJ, attempt.state)
    account_id: str | None = status.social_account_id
    error: ErrorInfo | None = status.error
    accounts: Page[layers_async.SocialAccount] = await client.social.accounts(
        PRJ, platform="instagram", status="connected", leased=False, limit=50
    )
    async for account in client.social.accounts(PRJ):
        handle: str = account.handle
    off: layers_async.SocialAccountDisconnected = await client.social.disconnect(SA)
    canceled: int = off.canceled_scheduled_posts
    platform: layers_async.Platform = "tiktok"
    await client.social.oauth_url(PRJ, platform="myspace", return_url="https://a")  # type: ignore[arg-type]
    del authorize, expires, account_id, error, accounts, handle, canceled, platform


async def influencers(client: LayersClient) -> None:
    job: Job = await client.influencers.create(
        PRJ, gender="female", age_range="adult", prompt="runner"
    )
    pointer: str | None = job.influencer_id
    page: Page[layers_async.InfluencerSummary] = await client.influencers.list(PRJ, status="ready")
    async for summary in client.influencers.list(PRJ, limit=100):
        thumb: str | None = summary.thumbnail_url
    one: layers_async.Influencer = await client.influencers.get(INF)
    image: str | None = one.image_url
    renamed: layers_async.Influencer = await client.influencers.update(
        INF, name="Maya", age_range=None, brand_voice="warm", language="es-MX", gender="female"
    )
    gender: layers_async.Gender = "non_binary"
    age: layers_async.AgeRange = "senior"
    await client.influencers.create(PRJ, gender="robot")  # type: ignore[arg-type]
    del pointer, page, thumb, image, renamed, gender, age


async def keywords(client: LayersClient) -> None:
    bank: layers_async.KeywordBank = await client.keywords.get(PRJ)
    tags: tuple[layers_async.Hashtag, ...] = bank.hashtags
    score: int = tags[0].score
    refreshed: datetime | None = bank.refreshed_at
    job: Job = await client.keywords.refresh(PRJ)
    del score, refreshed, job


async def content(client: LayersClient) -> None:
    recs: layers_async.SourceRecommendations = await client.content.source_recommendations(
        PRJ, kind="slideshow", keyword="morning routine", limit=20
    )
    item: layers_async.SourceItem = recs.items[0]
    slides: int | None = item.image_count
    remix: Job = await client.content.slideshow_remix(
        PRJ, tiktok_video_id=item.tiktok_id, influencer_id=INF
    )
    video: Job = await client.content.video_remix(PRJ, tiktok_video_id="7", social_account_id=SA)
    built: Job = await client.content.slideshow_builder(PRJ, hook="Stop scrolling")
    ugc: Job = await client.content.ugc_remix(PRJ, influencer_id=INF, hook="hi", media_id=MED)
    hooks: layers_async.HookBank = await client.content.hooks(PRJ, limit=5)
    first_hook: str = hooks.items[0].text
    containers: Page[layers_async.Container] = await client.content.list(
        PRJ,
        status=["completed", "failed"],
        format="slideshow-remix",
        creative_type="generated",
        since=datetime(2026, 5, 1, tzinfo=None),
        until=datetime(2026, 6, 1),
        limit=50,
    )
    async for container in client.content.list(PRJ):
        preview: layers_async.Preview | None = container.preview
    one: layers_async.Container = await client.content.get(CNT)
    assets: tuple[Asset, ...] = one.assets
    progress: layers_async.ContentProgress = await client.content.progress(CNT)
    eta: int | None = progress.eta_seconds
    target = layers_async.ScheduleTarget(social_account_id=SA, mode="publish")
    draft = layers_async.ScheduleTarget(
        social_account_id=SA, mode="draft", caption_override="hi", first_comment_override="link"
    )
    result: layers_async.ScheduleResult = await client.content.schedule(
        CNT, scheduled_for=datetime(2026, 6, 1), targets=[target, draft]
    )
    ids: tuple[str, ...] = result.scheduled_post_ids
    mode: layers_async.PostMode = "managed"
    layers_async.ScheduleTarget(social_account_id=SA, mode="later")  # type: ignore[arg-type]
    del slides, remix, video, built, ugc, first_hook, containers, preview, assets, eta, ids, mode


async def approvals(client: LayersClient) -> None:
    policy: layers_async.ReviewPolicy = await client.projects.get_review_policy(PRJ)
    first_n: int | None = policy.first_n
    set_at: datetime | None = policy.updated_at
    gated: layers_async.ReviewPolicy = await client.projects.update_review_policy(
        PRJ, policy="review_first_n", first_n=3, idempotency_key="k"
    )
    name: layers_async.ReviewPolicyName = "review_all"
    await client.projects.update_review_policy(PRJ, policy="sometimes")  # type: ignore[arg-type]
    await client.projects.update_review_policy(PRJ)  # type: ignore[call-arg]
    approval: layers_async.Approval = await client.content.approve(CNT, note="Ship it")
    promotion: layers_async.SchedulePromotion | None = approval.pending_schedule_promotion
    approved_at: datetime = approval.approved_at
    rejection: layers_async.Rejection = await client.content.reject(CNT, reason="Off brand")
    await client.content.reject(CNT)  # type: ignore[call-arg]
    target = layers_async.ScheduleTarget(social_account_id=SA, mode="publish")
    published: layers_async.ScheduleResult = await client.content.publish(CNT, targets=[target])
    await client.content.publish(CNT, targets=[target], scheduled_for=datetime(2026, 6, 1))  # type: ignore[call-arg]
    status: layers_async.ApprovalStatus = "pending"
    try:
        await client.content.publish(CNT, targets=[target])
    except layers_async.ApprovalRequiredError as exc:
        denied: PermissionDeniedError = exc
        del denied
    except layers_async.ContentRejectedError as exc:
        conflict: ConflictError = exc
        del conflict
    del first_n, set_at, gated, name, promotion, approved_at, rejection, published, status


async def scheduled_posts(client: LayersClient) -> None:
    page: Page[layers_async.ScheduledPost] = await client.scheduled_posts.list(
        PRJ, status=["queued", "publishing"], social_account_id=SA, limit=100
    )
    async for post in client.scheduled_posts.list(PRJ, since=datetime(2026, 5, 1)):
        external: str | None = post.external_url
    one: layers_async.ScheduledPost = await client.scheduled_posts.get(SP)
    last_error: ErrorInfo | None = one.last_error
    moved: layers_async.RescheduleResult = await client.scheduled_posts.reschedule(
        SP, scheduled_for=datetime(2026, 6, 2)
    )
    when: datetime = moved.scheduled_for
    canceled: layers_async.ScheduledPostCanceled = await client.scheduled_posts.cancel(
        SP, reason="customer asked"
    )
    status: layers_async.ScheduledPostStatus = "draft"
    del page, external, last_error, when, canceled, status


# --------------------------------------------------------------------------- reliability


async def reliability() -> None:
    from layers_async import DEFAULT_RETRY, NO_RETRY, AttemptEvent, Hooks, RetryPolicy
    from layers_async.testing import no_waits, set_testing

    seen: list[AttemptEvent] = []
    policy = RetryPolicy(max_attempts=8, initial_backoff=0.1, max_backoff=2.0, budget_ratio=0.5)
    client = LayersClient(
        api_key="k",
        retry=policy,
        rate_limit_tier="pilot",
        timeout=Timeouts(total=30.0, attempt=5.0),
        on_request=seen.append,
        on_response=seen.append,
        on_retry=lambda event: None,
    )
    patient: LayersClient = client.with_options(retry=DEFAULT_RETRY)
    once: LayersClient = client.with_options(retry=NO_RETRY)
    job = await once.jobs.get(JOB)
    attempts: int = job.meta.attempts if job.meta is not None else 0
    waited: float = job.meta.waited if job.meta is not None else 0.0
    try:
        await patient.whoami()
    except APITimeoutError as err:
        deadline: bool = err.deadline_exceeded
        tried: int = err.attempts
        del deadline, tried
    except RateLimitError as err:
        exhausted: bool = err.budget_exhausted
        after: float | None = err.retry_after
        del exhausted, after
    with no_waits():
        await client.whoami()
    set_testing(False)
    hooks = Hooks(on_retry=seen.append)
    event: AttemptEvent = seen[0]
    status: int | None = event.status
    LayersClient(api_key="k", retry=4)  # type: ignore[arg-type]
    del attempts, waited, hooks, status


# --------------------------------------------------------------------------- waiters and flows


async def waiters_and_flows(client: LayersClient) -> None:
    from datetime import timedelta

    from layers_async import (
        DEFAULT_POLL,
        Customer,
        InfluencerFailedError,
        InfluencerSummary,
        ItemResult,
        JobCanceledError,
        JobFailedError,
        KeywordBank,
        MediaItem,
        OAuthAttempt,
        OAuthExpiredError,
        OAuthFailedError,
        OnboardingResult,
        PollPolicy,
        WaitTimeoutError,
        fan_out,
        onboard_customer,
        wait_for_job,
        wait_for_keywords,
        wait_for_oauth,
        wait_for_ready_influencer,
    )

    fast: PollPolicy = DEFAULT_POLL.scaled(1 / 60)
    view = client.with_options(poll_policy=fast)
    job: Job = await wait_for_job(client, JOB, timeout=600, cancel_remote=True, policy=fast)
    same: Job = await view.wait_for_job(JOB, timeout=None)
    ready: InfluencerSummary = await wait_for_ready_influencer(client, PRJ, timeout=300)
    one: InfluencerSummary = await client.wait_for_ready_influencer(PRJ, influencer_id="inf_x")
    bank: KeywordBank = await wait_for_keywords(client, PRJ, after=None)
    newer: KeywordBank = await client.wait_for_keywords(PRJ, after=bank.refreshed_at)
    attempt: OAuthAttempt = await wait_for_oauth(client, PRJ, "st_x", timeout=900)
    again: OAuthAttempt = await client.wait_for_oauth(PRJ, "st_x")
    try:
        await wait_for_job(client, JOB, timeout=1)
    except WaitTimeoutError as err:
        assert_type(err.last_state, object)
    except JobFailedError as err:
        assert_type(err.job, Job)
        assert_type(err.error, ErrorInfo | None)
    except JobCanceledError as err:
        assert_type(err.job, Job)
    except InfluencerFailedError as err:
        assert_type(err.influencer, InfluencerSummary)
    except (OAuthFailedError, OAuthExpiredError) as err:
        assert_type(err.attempt, OAuthAttempt)
    customer = Customer(
        external_id="acme",
        name="Acme Coffee",
        media=(MediaItem("logo", "https://cdn.example.com/logo.png"),),
        connect="tiktok",
        schedule_in=timedelta(hours=2),
    )
    result: OnboardingResult = await onboard_customer(client, customer, on_step=lambda c, s: None)
    results: list[ItemResult[Customer, OnboardingResult]] = await fan_out(
        [customer], lambda c: onboard_customer(client, c), concurrency=10, per_item_timeout=60
    )
    ok: bool = results[0].ok
    MediaItem("banner", "https://x")  # type: ignore[arg-type]
    del job, same, ready, one, newer, attempt, again, result, ok


# --------------------------------------------------------------------------- sub-organizations


async def sub_organizations(client: LayersClient) -> None:
    from layers_async import (
        ApiKeyRotated,
        ChildApiKey,
        ChildApiKeyCreated,
        ChildApiKeyRotated,
        CreditAllocation,
        CreditEvent,
        Organization,
        OrganizationArchived,
        OrganizationCreditConfig,
        OrganizationDetail,
        Secret,
        WebhookEndpoint,
        WebhookEndpointCreated,
    )

    orgs = client.organizations
    child: Organization = await orgs.create(name="Acme", metadata={"externalId": "a"})
    listing: AsyncPaginator[Organization] = orgs.list(status="suspended", limit=200)
    detail: OrganizationDetail = await orgs.get(child.id)
    cap: int | None = detail.summary.credit_config.monthly_credit_cap
    renamed: Organization = await orgs.update(child.id, metadata=None, billing_email=None)
    held: Organization = await orgs.suspend(child.id, idempotency_key="s-1")
    gone: OrganizationArchived = await orgs.archive(child.id)
    minted: ChildApiKeyCreated = await orgs.api_keys.create(
        child.id, name="ci", scopes=["content:read", "*"], env="test"
    )
    secret: Secret = minted.secret
    plain: str = secret.reveal()
    keys: AsyncPaginator[ChildApiKey] = orgs.api_keys.list(child.id, status="revoked")
    swapped: ChildApiKeyRotated = await orgs.api_keys.rotate(child.id, minted.api_key.id)
    moved: CreditAllocation = await orgs.credits.allocate(child.id, credits=5000)
    replayed: bool = moved.replayed
    events: AsyncPaginator[CreditEvent] = orgs.credits.events(child.id, event_type="allocation")
    config: OrganizationCreditConfig = await orgs.credit_config.update(
        child.id, monthly_credit_cap=5000, refill_threshold=None, refill_amount=None
    )
    ledger: AsyncPaginator[CreditEvent] = client.credits.events(since=datetime.now())
    own: ApiKeyRotated = await client.api_keys.rotate("key_x")
    kill_switch: bool = (await client.api_keys.kill("key_x")).api_key.kill_switch
    hook: WebhookEndpointCreated = await client.webhook_endpoints.create(
        url="https://x.example/hooks", events=["job.completed"], scope="all_children"
    )
    signing: Secret = hook.signing_secret
    endpoints: AsyncPaginator[WebhookEndpoint] = client.webhook_endpoints.list(status="paused")
    endpoint: WebhookEndpoint = await client.webhook_endpoints.get(hook.endpoint.id)
    paused: WebhookEndpoint = await client.webhook_endpoints.update(endpoint.id, status="paused")
    dropped: layers_async.WebhookEndpointDeleted = await client.webhook_endpoints.delete("wh_x")
    rotated: layers_async.WebhookSecretRotated = await client.webhook_endpoints.rotate_secret(
        endpoint.id
    )
    new_secret: Secret = rotated.signing_secret
    pinged: layers_async.WebhookSent = await client.webhook_endpoints.test("wh_x", payload={})
    deliveries: AsyncPaginator[layers_async.WebhookDelivery] = (
        client.webhook_endpoints.deliveries("wh_x", status="failed", event_type="test.ping")
    )
    again: str | None = (await client.webhook_endpoints.replay_delivery("dlv_x")).replay_of
    await client.webhook_endpoints.update("wh_x", status="auto_paused")  # type: ignore[arg-type]
    client.webhook_endpoints.deliveries("wh_x", status="lost")  # type: ignore[arg-type]
    del paused, dropped, new_secret, pinged, deliveries, again
    as_child: LayersClient = client.with_options(api_key=secret)
    as_child2: LayersClient = client.with_options(api_key=plain, timeout=5)
    shared: bool = as_child.shares_pool_with(client)
    try:
        await as_child.whoami()
    except KillSwitchError as exc:
        scope: str | None = exc.scope
        del scope
    await orgs.create(name="Acme", metadata={"n": 1})  # type: ignore[dict-item]
    await orgs.api_keys.create(child.id, name="ci", scopes=["org:admin"])  # type: ignore[list-item]
    orgs.list(status="deleted")  # type: ignore[arg-type]
    await orgs.credits.allocate(child.id)  # type: ignore[call-arg]
    await client.webhook_endpoints.create(url="https://x", events=["job.exploded"])  # type: ignore[list-item]
    client.with_options(api_key=5)  # type: ignore[arg-type]
    del listing, cap, renamed, held, gone, keys, swapped, replayed, events, config, ledger
    del own, kill_switch, signing, endpoints, endpoint, as_child2, shared


# --------------------------------------------------------------------------- provisioning


async def provisioning(client: LayersClient) -> None:
    from layers_async import ProvisionResult, Secret, provision_customer

    async def clock() -> datetime:
        return datetime.now(timezone.utc)

    result: ProvisionResult = await provision_customer(
        client,
        "acme",
        "Acme Coffee",
        allocate=5000,
        monthly_credit_cap=5000,
        refill_threshold=1000,
        refill_amount=2000,
        webhook_url="https://hooks.example.com/layers",
        webhook_events=["job.completed"],
        scopes=["content:read", "content:write"],
        now=clock,
        on_step=lambda ext, step: None,
    )
    secret: Secret = result.secret
    signing: Secret | None = result.webhook_signing_secret
    flags: tuple[bool, bool] = (result.adopted, result.key_rotated)
    replayed: bool = result.allocation_replayed
    txn: str | None = result.allocation_txn
    await provision_customer(client, "acme", "Acme", allocate="5")  # type: ignore[arg-type]
    await provision_customer(client, "acme", "Acme", webhook_events=["nope"])  # type: ignore[list-item]
    child = client.with_options(api_key=secret)
    del signing, flags, replayed, txn, child


# --------------------------------------------------------------------------- webhook events


def webhook_events(raw: bytes, header: str | None, secret: layers_async.Secret) -> None:
    from layers_async import (
        JobCompletedEvent,
        JobEventData,
        PostFailedEvent,
        WebhookEvent,
        WebhookVerificationError,
        decode_event,
        verify_webhook,
    )

    event: WebhookEvent = verify_webhook(raw, header, [secret, "whsec_old"], 300, now=1.0)
    decoded: WebhookEvent = decode_event({"id": "evt_1", "type": "x", "data": {}})
    full: WebhookEvent = verify_webhook(raw, header, ["whsec_x"], key_form="decoded")
    if isinstance(event, JobCompletedEvent):
        data: JobEventData = event.data
        job_id: str = event.data.job_id
        del data, job_id
    if isinstance(event, PostFailedEvent) and event.data.last_error is not None:
        code: str = event.data.last_error.code
        del code
    try:
        verify_webhook(raw, header, ["whsec_x"])
    except WebhookVerificationError as exc:
        reason: str = exc.reason
        del reason
    verify_webhook(raw, header, ["whsec_x"], key_form="hex")  # type: ignore[arg-type]
    verify_webhook("text", header, ["whsec_x"])  # type: ignore[arg-type]
    verify_webhook(raw, header, [b"whsec_x"])  # type: ignore[list-item]
    del event, decoded, full


# --------------------------------------------------------------------------- webhook receivers


async def webhook_receivers(client: LayersClient, secret: layers_async.Secret) -> None:
    from aiohttp import web

    from layers_async import (
        EVENT_ID_HEADER,
        DedupStore,
        JobCompletedEvent,
        JobFailedEvent,
        MemoryDedupStore,
        SupportsWebhookFeed,
        WebhookASGIApp,
        WebhookEvent,
        WebhookReceiver,
        WebhookResult,
    )

    store: DedupStore = MemoryDedupStore(max_events=1000)
    receiver = WebhookReceiver(
        [secret, "whsec_previous"],
        key_form="full",
        tolerance_seconds=300,
        dedup=store,
        client=client,
        max_body_bytes=65_536,
    )
    feeds: SupportsWebhookFeed = client

    @receiver.on(JobCompletedEvent)
    async def done(event: JobCompletedEvent) -> None:
        job_id: str = event.data.job_id
        del job_id

    @receiver.on("job.completed", "job.failed")
    async def by_name(event: WebhookEvent) -> None:
        del event

    @receiver.on_unhandled
    async def other(event: WebhookEvent) -> None:
        del event

    @receiver.on(JobFailedEvent)  # type: ignore[arg-type]
    async def mismatched(event: JobCompletedEvent) -> None:
        del event

    @receiver.on("job.completed")  # type: ignore[arg-type]
    async def too_narrow(event: JobCompletedEvent) -> None:
        del event

    handler = receiver.aiohttp_handler()
    app = web.Application()
    app.router.add_route("*", "/layers/webhooks", handler)
    asgi: WebhookASGIApp = receiver.asgi("/layers/webhooks")
    same: WebhookASGIApp = receiver.asgi_app
    result: WebhookResult = await receiver.receive(b"{}", "t=1,v1=00", None)
    status: int = result.status
    accepted: bool = result.ok
    event: WebhookEvent | None = result.event
    header: str = EVENT_ID_HEADER
    receiver.set_secrets([secret])
    pending: int = receiver.pending
    await receiver.drain()
    async with receiver as same_receiver:
        assert_type(same_receiver, WebhookReceiver)
    WebhookReceiver(["whsec_x"], key_form="hex")  # type: ignore[arg-type]
    WebhookReceiver(["whsec_x"], client=object())  # type: ignore[arg-type]
    del feeds, done, by_name, other, mismatched, too_narrow, asgi, same, status, accepted
    del event, header, pending


async def event_fed_waiters(client: LayersClient, event: layers_async.WebhookEvent) -> None:
    from layers_async import SAFETY_NET_POLL, OAuthAttempt, OAuthUrl, PollPolicy

    woken: int = client.webhooks.feed(event)
    client.webhooks.enable(SAFETY_NET_POLL.scaled(1 / 60), confirm=False)
    client.webhooks.enable()
    net: PollPolicy | None = client.webhooks.safety_net
    fed: bool = client.webhooks.is_event_fed
    ended: int = client.webhooks.answered_by_events
    client.webhooks.disable()
    envelope: Job = await client.content.slideshow_remix(
        "prj_x", tiktok_video_id="7", influencer_id="inf_x"
    )
    done: Job = await client.wait_for_job(envelope)
    url: OAuthUrl = await client.social.oauth_url("prj_x", platform="tiktok", return_url="x")
    attempt: OAuthAttempt = await client.wait_for_oauth("prj_x", url, timeout=60)
    client.webhooks.feed({"id": "evt_x"})  # type: ignore[arg-type]
    client.webhooks.enable(safety_net=60)  # type: ignore[arg-type]
    del woken, net, fed, ended, done, attempt

async def rate_limit_gates(redis_url: str, headers: Mapping[str, str]) -> None:
    from layers_async import GateFactory, GateUnavailableError, RateLimitGate
    from layers_async.distributed import RedisGates, RedisRateGate, start_redis_server

    async with RedisGates(redis_url, fallback="local") as gates:
        factory: GateFactory = gates
        gate: RateLimitGate = gates("key-id")
        redis_gate: RedisRateGate = gates("key-id")
        paused: float = await redis_gate.paused_for("long-running")
        async with LayersClient(gate=factory) as client:
            del client
        gate.observe("read-light", headers, lazily=True)
        if gate.unsynced:
            await gate.sync()
        del gate, paused
    RedisGates(redis_url, fallback="remote")  # type: ignore[arg-type]
    LayersClient(gate="redis://localhost")  # type: ignore[arg-type]
    error: LayersError = GateUnavailableError("Redis is down")
    with start_redis_server() as server:
        url: str = server.url
        del url
    del error
