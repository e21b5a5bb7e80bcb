"""The sandbox's whole state, its scheduler of time-driven transitions and its domain rules.

Every mutation happens synchronously on the event loop, so one request's changes are atomic.
Time-driven transitions sit in a heap ordered by virtual time and are applied, in order, by
`World.run_due(now)` before each request and from a background ticker.
"""

from __future__ import annotations

import calendar
import functools
import heapq
import random
import time
from collections.abc import Callable
from typing import Any

from . import _fake, _review, _tenancy, _webhooks
from ._clock import VirtualClock, format_ts, parse_config_ts
from ._config import DURATION_KEYS, RUNNING_JOBS_INDEX, TIERS
from ._errors import ApiError, conflict
from ._ids import IdFactory
from ._models import (
    ApiKey,
    AppMedia,
    Container,
    CreditEvent,
    IdempotencyRecord,
    Influencer,
    Job,
    OAuthAttempt,
    Organization,
    Project,
    Review,
    ScheduledPost,
    SocialAccount,
    Wallet,
    WebhookDelivery,
    WebhookEndpoint,
    Work,
)

__all__ = ["FORMAT_DURATION_KEY", "FORMAT_ESTIMATES", "World"]

#: One virtual day in milliseconds.
DAY_MS = 86_400_000
#: How long a platform token lasts after an account connects (60 days).
_TOKEN_LIFETIME_MS = 60 * DAY_MS


#: Credits reserved per generation, keyed by the underscore format (contract §3.0.12).
FORMAT_ESTIMATES = {
    "slideshow_builder": 50,
    "slideshow_remix": 50,
    "video_remix": 120,
    "ugc_remix": 120,
    "auto": 120,
}
FORMAT_DURATION_KEY = {
    "slideshow-remix": "slideshowRemix",
    "slideshow-builder": "slideshowBuilder",
    "video-remix": "videoRemix",
    "ugc-remix": "ugcRemix",
}
_STAGES = {
    "content_generate": (("queued", 0.0), ("generating_visuals", 0.05), ("finalizing", 0.85)),
    "influencer_create": (("queued", 0.0), ("training", 0.10)),
    "keywords_refresh": (("queued", 0.0), ("researching", 0.05), ("curating", 0.80)),
}
_STAGES["influencer_auto"] = _STAGES["influencer_create"]
_STAGES["keywords_auto"] = _STAGES["keywords_refresh"]
#: Stages in which a cancel request is refused: content while finalizing, keywords while
#: curating (contract §1.12).
NOT_CANCELABLE = {"content_generate": {"finalizing"}, "keywords_refresh": {"curating"}}
_FAILURE_KIND = {
    "content_generate": "content_generate",
    "influencer_create": "influencer_create",
    "influencer_auto": "influencer_create",
    "keywords_refresh": "keywords_refresh",
    "keywords_auto": "keywords_refresh",
}
_DURATION_KIND = {
    "influencer_create": "influencer",
    "influencer_auto": "influencer",
    "keywords_refresh": "keywords",
    "keywords_auto": "keywords",
}


def _month_bounds(ms: int) -> tuple[int, int]:
    t = time.gmtime(ms // 1000)
    start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, 0))
    y, m = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    end = calendar.timegm((y, m, 1, 0, 0, 0, 0, 0, 0))
    return start * 1000, end * 1000


class World:
    """All state of one sandbox run; rebuilt whole by `/_sandbox/reset`."""

    def __init__(self, config: dict[str, Any], base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        seed = int(config["seed"])
        self.seed = seed
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(f"faults:{seed}")
        self.request_rng = random.Random(f"requests:{seed}")
        self.ids = IdFactory(self.rng)
        self.hook_ids = IdFactory(random.Random(f"webhooks:{seed}"))
        self.webhook_fault_rng = random.Random(f"webhook-faults:{seed}")
        self.request_ids = IdFactory(self.request_rng)
        start = config["clockStart"]
        start_ms = parse_config_ts(start) if start else int(time.time() * 1000)
        assert start_ms is not None
        self.clock = VirtualClock(start_ms, float(config["speed"]))
        self._frozen: int | None = None
        self._heap: list[tuple[int, int, Callable[[int], bool]]] = []
        self._seq = 0
        self.fault_fired: list[int] = [0] * len(config["faults"])

        self.orgs: dict[str, Organization] = {}
        self.org_refs: dict[str, str] = {}
        self.keys: dict[str, ApiKey] = {}
        self.key_by_string: dict[str, ApiKey] = {}
        self.projects: dict[str, Project] = {}
        self.external_ids: dict[tuple[str, str], str] = {}
        self.media: dict[str, AppMedia] = {}
        self.oauth: dict[str, OAuthAttempt] = {}
        self.accounts: dict[str, SocialAccount] = {}
        self.influencers: dict[str, Influencer] = {}
        self.jobs: dict[str, Job] = {}
        self.containers: dict[str, Container] = {}
        self.posts: dict[str, ScheduledPost] = {}
        self.reviews: dict[str, Review] = {}  # by container id (contract §3.16)
        self.credit_events: list[CreditEvent] = []
        self.webhook_endpoints: dict[str, WebhookEndpoint] = {}
        self.webhook_deliveries: dict[str, WebhookDelivery] = {}
        self.webhook_outbox: list[tuple[str, str, dict[str, Any]]] = []
        self.idempotency: dict[tuple[str, ...], IdempotencyRecord] = {}
        self.running_jobs: dict[str, set[str]] = {}
        self.issued_media: set[str] = set()
        # /v1 requests received, by route label ("GET /v1/jobs/{jobId}") or "unmatched"
        self.requests_by_route: dict[str, int] = {}
        # /v1 responses sent, by HTTP status ("200", "429", ...); dropped connections excluded
        self.responses_by_status: dict[str, int] = {}
        # rate limiting: (key id, class) -> [window start, count]; (key id, day) -> count
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.daily: dict[tuple[str, int], int] = {}
        self._bootstrap(start_ms)

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(self, now: int) -> None:
        _tenancy.bootstrap(self, now, _month_bounds(now))

    # ------------------------------------------------------------------ time
    def now(self) -> int:
        """Current virtual time (ms); fixed to the request's instant while one is handled."""
        frozen = self._frozen
        return frozen if frozen is not None else self.clock.now()

    def begin_request(self) -> int:
        """Read the clock once, apply every transition due by then, and fix `now()` to it."""
        now = self.clock.now()
        self._frozen = None
        self.run_due(now)
        self._frozen = now
        return now

    def end_request(self) -> None:
        """Let `now()` follow the clock again."""
        self._frozen = None

    def at(self, when: int, fn: Callable[[int], bool]) -> None:
        """Schedule `fn(when)`; it returns True when it changed something."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, fn))

    def run_due(self, now: int | None = None) -> int:
        """Apply every transition due by `now`, in virtual-time order; returns how many applied."""
        if now is None:
            now = self.clock.now()
        heap = self._heap
        applied = 0
        while heap and heap[0][0] <= now:
            when, _, fn = heapq.heappop(heap)
            if fn(when):
                applied += 1
        return applied

    def jittered(self, nominal_seconds: float) -> int:
        """A duration in ms multiplied by a seeded factor in [1 - jitter, 1 + jitter]."""
        j = float(self.config["jitter"])
        factor = 1.0 + (self.rng.uniform(-j, j) if j > 0 else 0.0)
        return max(1, round(nominal_seconds * 1000 * factor))

    def duration(self, key: str) -> float:
        """The configured nominal duration (virtual seconds)."""
        return float(self.config["durations"].get(key, DURATION_KEYS[key]))

    def fails(self, kind: str) -> bool:
        """Draw once whether a piece of work of `kind` fails."""
        rate = float(self.config["failureRates"].get(kind, 0.0))
        draw = self.rng.random()
        return rate > 0 and draw < rate

    def media_url(self, name: str) -> str:
        """A fake media URL served by `/_sandbox/media/{name}`."""
        self.issued_media.add(name)
        return f"{self.base_url}/_sandbox/media/{name}"

    # ------------------------------------------------------------------ wallet
    def wallet(self, org: Organization, when: int | None = None) -> Wallet:
        """The org's wallet, rolled over to the billing period of `when` (default: now)."""
        w = org.wallet
        now = self.now() if when is None else when
        if now >= w.period_end:
            w.period_start, w.period_end = _month_bounds(now)
            w.used_this_period = 0
        return w

    def _ledger(
        self,
        org: Organization,
        project_id: str | None,
        credits: int,
        event_type: str,
        when: int,
        *,
        fmt: str | None = None,
        container_id: str | None = None,
        workflow_id: str | None = None,
    ) -> None:
        w = org.wallet
        self.credit_events.append(
            CreditEvent(
                event_id=self.ids.uuid(),
                org_id=org.id,
                project_id=project_id,
                credits=credits,
                event_type=event_type,
                balance_after_prepaid=w.prepaid,
                usage_after_period=w.used_this_period,
                created_at=when,
                format=fmt,
                container_id=container_id,
                workflow_id=workflow_id,
            )
        )

    def adjust_credits(self, org: Organization, credits: int) -> None:
        """`/_sandbox/credits`: add to or take from prepaidBalance with an adjustment event."""
        w = self.wallet(org)
        applied = max(-w.prepaid, credits)
        w.prepaid += applied
        self._ledger(org, None, applied, "adjustment", self.now())

    def _release(self, work: Work) -> None:
        if work.reserved:
            org = self.orgs[work.org_id]
            org.wallet.reserved = max(0, org.wallet.reserved - work.reserved)
            work.reserved = 0

    def _charge(self, work: Work, when: int) -> None:
        org = self.orgs[work.org_id]
        cost = work.reserved
        self._release(work)
        w = self.wallet(org, when)
        from_included = min(cost, w.included_remaining)
        w.prepaid -= cost - from_included
        w.used_this_period += cost
        self._ledger(
            org,
            work.project_id,
            -cost,
            "usage",
            when,
            fmt=work.format,
            container_id=work.container_id,
            workflow_id=work.job.id if work.job else None,
        )
        _tenancy.auto_refill(self, org, when)

    # ------------------------------------------------------------------ simulated work
    def start_work(
        self,
        kind: str,
        org_id: str,
        project_id: str,
        *,
        duration_key: str | None = None,
        job_kind: str | None = None,
        influencer_id: str | None = None,
        container_id: str | None = None,
        reserve: int = 0,
        fmt: str | None = None,
    ) -> Work:
        """Create a piece of timed work (and its job when `job_kind` is given) and schedule it."""
        now = self.now()
        dkey = duration_key or _DURATION_KIND[kind]
        dur = self.jittered(self.duration(dkey))
        fail_at = None
        if self.fails(_FAILURE_KIND[kind]):
            fail_at = now + int(dur * self.rng.uniform(0.2, 0.9))
        work = Work(
            kind=kind,
            org_id=org_id,
            project_id=project_id,
            start=now,
            duration=dur,
            stages=_STAGES[kind],
            fail_at=fail_at,
            influencer_id=influencer_id,
            container_id=container_id,
            reserved=reserve,
            format=fmt,
        )
        if reserve:
            self.wallet(self.orgs[org_id]).reserved += reserve
            _tenancy.auto_refill(self, self.orgs[org_id], now)
        if job_kind is not None:
            job = Job(
                id="job_" + self.ids.ulid(now),
                kind=job_kind,
                org_id=org_id,
                project_id=project_id,
                started_at=now,
                updated_at=now,
                work=work,
                container_ids=[container_id] if container_id else None,
                influencer_id=influencer_id,
            )
            work.job = job
            self.jobs[job.id] = job
            self.running_jobs.setdefault(org_id, set()).add(job.id)
        for i in range(1, len(work.stages)):
            self.at(now + int(dur * work.stages[i][1]), self._boundary(work, i))
        self.at(now + dur, self._boundary(work, len(work.stages)))
        if fail_at is not None:
            self.at(fail_at, functools.partial(self._fail, work))
        return work

    def _boundary(self, work: Work, index: int) -> Callable[[int], bool]:
        def fire(when: int) -> bool:
            if work.done:
                return False
            if work.cancel_requested:
                self._cancel(work, when)
                return True
            if index >= len(work.stages):
                self._complete(work, when)
                return True
            work.stage_index = index
            stage = work.stages[index][0]
            if work.job:
                work.job.updated_at = when
            if work.kind in ("influencer_create", "influencer_auto") and stage == "training":
                inf = self.influencers[work.influencer_id or ""]
                inf.status = "training"
                inf.updated_at = when
            elif work.kind == "content_generate" and stage == "generating_visuals":
                c = self.containers[work.container_id or ""]
                c.status = "processing"
                c.updated_at = when
            return True

        return fire

    def progress(self, work: Work, now: int) -> float:
        """Rounded job progress in [0, 1], frozen once the work has ended."""
        if work.final_progress is not None:
            return work.final_progress
        frac = (now - work.start) / work.duration if work.duration else 1.0
        return min(0.99, max(0.0, round(frac, 2)))

    def stage_progress(self, work: Work, now: int) -> float:
        """Progress within the current stage, 0-1."""
        i = work.stage_index
        lo = work.stages[i][1]
        hi = work.stages[i + 1][1] if i + 1 < len(work.stages) else 1.0
        t = work.ended_at if work.ended_at is not None else now
        frac = (t - work.start) / work.duration if work.duration else 1.0
        if hi <= lo:
            return 1.0
        return round(min(1.0, max(0.0, (frac - lo) / (hi - lo))), 2)

    def _finish(self, work: Work, when: int, status: str) -> None:
        work.done = True
        work.ended_at = when
        if status == "completed":
            work.final_progress = 1.0
        else:
            frac = (when - work.start) / work.duration if work.duration else 1.0
            work.final_progress = min(0.99, max(0.0, round(frac, 2)))
        job = work.job
        if job is not None:
            job.status = status
            job.finished_at = when
            job.updated_at = when
            running = self.running_jobs.get(job.org_id)
            if running is not None:
                running.discard(job.id)

    def _complete(self, work: Work, when: int) -> None:
        self._finish(work, when, "completed")
        job = work.job
        if work.kind in ("influencer_create", "influencer_auto"):
            inf = self.influencers[work.influencer_id or ""]
            inf.status = "ready"
            inf.image_url = self.media_url(f"{inf.id}.png")
            inf.thumbnail_url = self.media_url(f"{inf.id}-thumb.png")
            inf.updated_at = when
            if job:
                job.result = {"influencerId": inf.id, "imageUrl": inf.image_url}
        elif work.kind in ("keywords_refresh", "keywords_auto"):
            p = self.projects[work.project_id]
            p.hashtags = _fake.hashtags(self.seed, p.app_name, p.app_description)
            p.refreshed_at = when
            if job:
                job.result = {
                    "projectId": p.id,
                    "hashtagCount": len(p.hashtags),
                    "refreshedAt": format_ts(when),
                }
        elif work.kind == "content_generate":
            c = self.containers[work.container_id or ""]
            self._render_container(c, when)
            _webhooks.content_generated(self, c, work.org_id)
            if work.reserved:
                self._charge(work, when)
            if job:
                job.result = {"containerId": c.id, "assets": c.assets}
        if job:
            _webhooks.job_ended(self, job)

    def _render_container(self, c: Container, when: int) -> None:
        rng = _fake.rng_for("container", self.seed, c.id)
        p = self.projects[c.project_id]
        slideshow = c.format in ("slideshow-remix", "slideshow-builder")
        if slideshow:
            n = _fake.slide_count(c.source_tiktok_id) if c.source_tiktok_id else 6
            assets = []
            for _ in range(n):
                aid = self.ids.prefixed("ast")
                assets.append(
                    {
                        "assetId": aid,
                        "kind": "image",
                        "url": self.media_url(f"{aid}.png"),
                        "thumbnailUrl": self.media_url(f"{aid}-thumb.png"),
                    }
                )
            urls = [a["url"] for a in assets]
            c.preview = {
                "kind": "slideshow",
                "primaryUrl": urls[0],
                "thumbnailUrl": assets[0]["thumbnailUrl"],
                "imageUrls": urls,
                "videoUrl": None,
                "hlsUrl": None,
                "durationMs": None,
                "aspectRatio": "9:16",
            }
        else:
            aid = self.ids.prefixed("ast")
            url = self.media_url(f"{aid}.mp4")
            thumb = self.media_url(f"{aid}-thumb.png")
            assets = [{"assetId": aid, "kind": "video", "url": url, "thumbnailUrl": thumb}]
            c.preview = {
                "kind": "video",
                "primaryUrl": url,
                "thumbnailUrl": thumb,
                "imageUrls": [],
                "videoUrl": url,
                "hlsUrl": None,
                "durationMs": rng.randint(15_000, 60_000),
                "aspectRatio": "9:16",
            }
        c.assets = assets
        tag = p.hashtags[0]["hashtag"] if p.hashtags else None
        c.caption = _fake.caption(rng, p.app_name or p.name, tag)
        c.status = "completed"
        c.completed_at = when
        c.updated_at = when
        c.approval_status = _review.approval_on_completion(self, p)

    def _fail(self, work: Work, when: int) -> bool:
        if work.done:
            return False
        self._finish(work, when, "failed")
        job = work.job
        self._release(work)
        if work.kind in ("influencer_create", "influencer_auto"):
            inf = self.influencers[work.influencer_id or ""]
            inf.status = "failed"
            inf.error_message = "Persona rendering failed."
            inf.updated_at = when
            if job:
                job.error = {"code": "TRAINING_FAILED", "message": "Persona rendering failed."}
        elif work.kind in ("keywords_refresh", "keywords_auto"):
            if job:
                job.error = {"code": "RESEARCH_FAILED", "message": "Keyword research failed."}
        elif work.kind == "content_generate":
            c = self.containers[work.container_id or ""]
            err = {"code": "GENERATION_FAILED", "message": "Generation failed while rendering."}
            c.status = "failed"
            c.last_error = dict(err)
            c.failed_at = when
            c.updated_at = when
            if job:
                job.error = err
        if job:
            _webhooks.job_ended(self, job)
        return True

    def _cancel(self, work: Work, when: int) -> None:
        self._finish(work, when, "canceled")
        self._release(work)
        if work.kind in ("influencer_create", "influencer_auto"):
            inf = self.influencers[work.influencer_id or ""]
            inf.status = "failed"
            inf.error_message = "Creation canceled."
            inf.updated_at = when
        elif work.kind == "content_generate":
            c = self.containers[work.container_id or ""]
            c.status = "canceled"
            c.updated_at = when
        if work.job:
            _webhooks.job_ended(self, work.job)

    def cancel_job(self, job: Job) -> dict[str, Any]:
        """Cancel a job: an ended job reports why not; a queued one cancels now; a running one
        at its next stage boundary; a stage that refuses it is a 409 (contract §3.8.2)."""
        if job.status != "running":
            reason = {
                "completed": "ALREADY_COMPLETED",
                "failed": "ALREADY_FAILED",
                "canceled": "ALREADY_CANCELED",
            }[job.status]
            return {"jobId": job.id, "accepted": False, "reason": reason}
        work = job.work
        assert work is not None
        stage = work.stages[work.stage_index][0]
        if stage in NOT_CANCELABLE.get(work.kind, ()):
            raise ApiError(
                409,
                "CONFLICT",
                "Job cannot be canceled during this stage.",
                {"subcode": "JOB_CANCEL_UNAVAILABLE", "jobId": job.id, "stage": stage},
            )
        if stage == "queued":
            self._cancel(work, self.now())
        else:
            work.cancel_requested = True
        return {"jobId": job.id, "accepted": True}

    # ------------------------------------------------------------------ domain helpers
    def project_for(self, org_id: str, project_id: str) -> Project:
        """The project, or 404 when absent or in another organization."""
        p = self.projects.get(project_id)
        if p is None or p.org_id != org_id:
            raise ApiError(404, "NOT_FOUND", "Project not found.")
        return p

    def ensure_active(self, p: Project) -> None:
        """409 when the project is archived or its organization suspended (generation, schedule)."""
        if p.status == "archived":
            raise conflict("Project is archived.", {"projectId": p.id, "status": "archived"})
        org = self.orgs[p.org_id]
        if org.status == "suspended":
            raise conflict(
                "Organization is suspended.", {"organizationId": org.id, "status": "suspended"}
            )

    def create_influencer(
        self, p: Project, gender: str, age_range: str | None, *, with_job: bool
    ) -> tuple[Influencer, Work]:
        """An influencer row in `pending`, plus its creation work (a job when `with_job`)."""
        now = self.now()
        inf = Influencer(
            id=self.ids.prefixed("inf"),
            project_id=p.id,
            name=_fake.influencer_name(self.rng, gender),
            gender=gender,
            age_range=age_range,
            brand_voice=p.brand_voice,
            language=p.primary_language,
            created_at=now,
            updated_at=now,
        )
        self.influencers[inf.id] = inf
        kind = "influencer_create" if with_job else "influencer_auto"
        work = self.start_work(
            kind,
            p.org_id,
            p.id,
            job_kind="influencer_create" if with_job else None,
            influencer_id=inf.id,
        )
        return inf, work

    def start_research(self, p: Project, *, with_job: bool) -> Work:
        """A keyword research run (automatic, or a `keywords_refresh` job)."""
        kind = "keywords_refresh" if with_job else "keywords_auto"
        return self.start_work(
            kind, p.org_id, p.id, job_kind="keywords_refresh" if with_job else None
        )

    def archive_project(self, p: Project) -> int:
        """Archive: cancels queued posts and running jobs; returns how many posts it canceled."""
        now = self.now()
        p.status = "archived"
        p.archived_at = now
        p.updated_at = now
        canceled = 0
        for post in self.posts.values():
            if post.project_id == p.id and post.status == "queued":
                self._cancel_post(post, now)
                canceled += 1
        for job_id in list(self.running_jobs.get(p.org_id, ())):
            job = self.jobs[job_id]
            if job.project_id == p.id and job.work is not None and not job.work.done:
                self._cancel(job.work, now)
        return canceled

    def _cancel_post(self, post: ScheduledPost, now: int) -> None:
        post.status = "canceled"
        post.canceled_at = now
        post.updated_at = now
        post.generation += 1
        _webhooks.post_ended(self, post)

    def cancel_post(self, post: ScheduledPost) -> None:
        """Cancel one queued post."""
        self._cancel_post(post, self.now())

    def running_count(self, org_id: str) -> int:
        """Jobs with status running in the organization."""
        return len(self.running_jobs.get(org_id, ()))

    def earliest_running_end(self, org_id: str) -> int | None:
        """When the organization's earliest running job is due to finish."""
        ends = [
            self.jobs[j].work.end  # type: ignore[union-attr]
            for j in self.running_jobs.get(org_id, ())
            if self.jobs[j].work is not None
        ]
        return min(ends) if ends else None

    def jobs_cap(self, key: ApiKey, org: Organization) -> int:
        """The running-jobs cap: the organization's override, else the tier's (contract §1.11)."""
        if org.max_running_jobs is not None:
            return org.max_running_jobs
        return self.tier_limits(key)[RUNNING_JOBS_INDEX]

    def tier_limits(self, key: ApiKey) -> tuple[int, int, int, int, int]:
        """The rate-limit tuple of the key's tier."""
        return TIERS.get(key.tier, TIERS["standard"])

    # ------------------------------------------------------------------ OAuth & posts
    def schedule_oauth(self, att: OAuthAttempt) -> None:
        """Schedule auto-completion (when configured) and expiry of a pending attempt."""
        auto = self.config["oauthAutoCompleteSeconds"]
        if auto is not None:
            self.at(
                att.created_at + int(float(auto) * 1000),
                functools.partial(self._auto_complete, att),
            )
        self.at(att.expires_at, functools.partial(self._expire_oauth, att))

    def _auto_complete(self, att: OAuthAttempt, when: int) -> bool:
        return self.complete_oauth(att, when, "allow")

    def _expire_oauth(self, att: OAuthAttempt, when: int) -> bool:
        if att.status != "pending":
            return False
        att.status = "expired"
        return True

    def complete_oauth(self, att: OAuthAttempt, when: int, decision: str) -> bool:
        """Complete a pending attempt (consent or denial); creates the account on success."""
        if att.status != "pending":
            return False
        if when >= att.expires_at:
            att.status = "expired"
            return True
        att.completed_at = when
        if decision == "deny":
            att.status = "failed"
            att.error = {"code": "OAUTH_DENIED", "message": "The user declined consent."}
            return True
        if self.fails("oauth"):
            att.status = "failed"
            att.error = {"code": "OAUTH_FAILED", "message": "The platform token exchange failed."}
            return True
        p = self.projects[att.project_id]
        acc = SocialAccount(
            id=self.ids.prefixed("sa"),
            project_id=p.id,
            org_id=p.org_id,
            platform=att.platform,
            handle=_fake.handle(p.name, att.platform),
            display_name=_fake.display_name(p.name, att.platform),
            avatar_url=None,
            connected_at=when,
            token_expires_at=when + _TOKEN_LIFETIME_MS,
        )
        acc.avatar_url = self.media_url(f"{acc.id}-avatar.png")
        self.accounts[acc.id] = acc
        _webhooks.account_connected(self, acc)
        att.status = "completed"
        att.social_account_id = acc.id
        return True

    def schedule_post(self, post: ScheduledPost) -> None:
        """Arm the publish transition of a queued post for its current `scheduledFor`, or for
        now when that time has passed (a late approval, a resume)."""
        gen = post.generation
        when = max(post.scheduled_for, self.now())
        self.at(when, functools.partial(self._start_publish, post, gen))

    def _start_publish(self, post: ScheduledPost, gen: int, when: int) -> bool:
        if post.generation != gen or post.status != "queued":
            return False
        if self.orgs[post.org_id].status == "suspended":
            return False  # held; resume (Tier 2) re-arms it
        post.status = "publishing"
        post.attempted_at = when
        post.updated_at = when
        acc = self.accounts.get(post.social_account_id)
        bad_token = acc is not None and acc.status == "reauth_required"
        done = when + self.jittered(self.duration("publish"))
        self.at(done, functools.partial(self._end_publish, post, bad_token))
        return True

    def _end_publish(self, post: ScheduledPost, bad_token: bool, when: int) -> bool:
        if post.status != "publishing":
            return False
        post.updated_at = when
        if bad_token:
            post.status = "failed"
            post.last_error = {
                "code": "CREDENTIAL_INVALID",
                "message": "The account's token was invalid at publish time.",
                "platformCode": None,
            }
        elif post.mode == "draft":
            post.status = "draft"
        elif post.will_fail:
            post.status = "failed"
            post.last_error = {
                "code": "PLATFORM_ERROR",
                "message": "The platform rejected the post.",
                "platformCode": "sandbox_rejected",
            }
        else:
            rng = _fake.rng_for("post", self.seed, post.id)
            acc = self.accounts[post.social_account_id]
            if post.platform == "tiktok":
                ext = "7" + "".join(rng.choice("0123456789") for _ in range(18))
                url = f"https://www.tiktok.com/@{acc.handle}/video/{ext}"
            else:
                ext = "1" + "".join(rng.choice("0123456789") for _ in range(16))
                url = f"https://www.instagram.com/p/{ext}/"
            post.status = "published"
            post.published_at = when
            post.external_id = ext
            post.external_url = url
        _webhooks.post_ended(self, post)
        return True
