"""Approvals and the review policy (contract §3.16), and the posts that schedule, publish-now
and approval promotion create (contract §3.9.1, §3.17).

A container's approval is decided when it completes, by its project's policy at that moment;
`pending` then goes to `approved` or `rejected`, both final. Scheduling content that awaits
approval parks the intent on the container; approval promotes every parked intent at once,
all or nothing, and rejection drops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _webhooks
from ._errors import conflict
from ._models import Container, ParkedSchedule, Project, Review, ScheduledPost

if TYPE_CHECKING:
    from ._world import World

__all__ = [
    "POLICIES",
    "approval_on_completion",
    "decide",
    "park",
    "pending_count",
    "queue_posts",
    "set_policy",
]

#: The review policies, the default first.
POLICIES = ("auto_approve", "review_first_n", "review_all")


def approval_on_completion(w: World, p: Project) -> str:
    """The approval status content of `p` gets when it completes: `pending` under
    `review_all`, and under `review_first_n` while the project has fewer than `firstN`
    approved containers; `not_required` otherwise (contract §3.16)."""
    if p.review_policy == "review_all":
        return "pending"
    if p.review_policy == "review_first_n":
        approved = sum(
            1
            for c in w.containers.values()
            if c.project_id == p.id and c.approval_status == "approved"
        )
        return "pending" if approved < (p.review_first_n or 0) else "not_required"
    return "not_required"


def pending_count(w: World, p: Project) -> int:
    """How many of the project's containers await approval."""
    return sum(
        1 for c in w.containers.values() if c.project_id == p.id and c.approval_status == "pending"
    )


def set_policy(p: Project, policy: str, first_n: int | None, now: int) -> None:
    """Change the policy; it applies to content that completes afterwards."""
    p.review_policy = policy
    p.review_first_n = first_n if policy == "review_first_n" else None
    p.review_updated_at = now


def _review(w: World, c: Container) -> Review:
    review = w.reviews.get(c.id)
    if review is None:
        review = w.reviews[c.id] = Review(c.id)
    return review


def park(w: World, c: Container, when: int, targets: list[dict[str, Any]]) -> None:
    """Park a schedule intent on content awaiting approval."""
    _review(w, c).parked.append(ParkedSchedule(when, targets))


def queue_posts(
    w: World, c: Container, p: Project, when: int, targets: list[dict[str, Any]], now: int
) -> list[str]:
    """One `queued` post per target, in target order; their ids. A post whose time has
    already come starts publishing at once."""
    ids = []
    for t in targets:
        acc = w.accounts[t["sa"]]
        post = ScheduledPost(
            id=w.ids.prefixed("sp"),
            container_id=c.id,
            project_id=p.id,
            org_id=p.org_id,
            social_account_id=acc.id,
            platform=acc.platform,
            mode=t["mode"],
            scheduled_for=when,
            created_at=now,
            updated_at=now,
            will_fail=w.fails("publish"),
            options=dict(t["options"]),
        )
        w.posts[post.id] = post
        w.schedule_post(post)
        _webhooks.post_scheduled(w, post)
        ids.append(post.id)
    return ids


def _promote(w: World, c: Container, parked: list[ParkedSchedule], now: int) -> dict[str, Any]:
    """Create every parked post, or none when any target account is no longer connected."""
    connected = all(
        (acc := w.accounts.get(t["sa"])) is not None and acc.status == "connected"
        for intent in parked
        for t in intent.targets
    )
    if not connected:
        return {"status": "failed", "scheduledPostIds": []}
    p = w.projects[c.project_id]
    ids = [sp for i in parked for sp in queue_posts(w, c, p, i.scheduled_for, i.targets, now)]
    return {"status": "ok", "scheduledPostIds": ids}


def decide(
    w: World, c: Container, verdict: str, key_id: str, text: str | None, now: int
) -> tuple[Review, dict[str, Any] | None]:
    """Approve or reject content awaiting approval (409 otherwise): the review, and with an
    approval that had parked intents, the outcome of their promotion."""
    if c.approval_status != "pending":
        state = c.approval_status
        message = (
            f"Container is already {state}."
            if state in ("approved", "rejected")
            else "Container does not await approval."
        )
        raise conflict(message, {"containerId": c.id, "approvalStatus": state})
    review = _review(w, c)
    parked, review.parked = review.parked, []
    c.approval_status = verdict
    c.updated_at = now
    review.decided_at = now
    review.decided_by = key_id
    if verdict == "approved":
        review.note = text
    else:
        review.reason = text
    # The decision's event goes first, then `post.scheduled` per promoted post (§3.16.1).
    _webhooks.content_reviewed(w, c, w.projects[c.project_id].org_id, review)
    promotion = _promote(w, c, parked, now) if verdict == "approved" and parked else None
    return review, promotion
