"""Approvals and the content review policy (contract §3.16).

A container's `approval_status` is independent of its `status`: it is decided when the
container completes, by its project's review policy at that moment (`not_required` or
`pending`); `pending` then becomes `approved` or `rejected`, both final.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel

__all__ = ["Approval", "Rejection", "ReviewPolicy", "ReviewPolicyName", "SchedulePromotion"]

#: A project's review policy: no review (`auto_approve`, the default), review of everything
#: (`review_all`), or review until `first_n` containers are approved (`review_first_n`).
ReviewPolicyName = Literal["auto_approve", "review_first_n", "review_all"]


@attrs.frozen
class ReviewPolicy(LayersModel):
    """A project's content review policy and how many of its containers await approval."""

    project_id: str
    """The project, `prj_<uuid>`."""
    policy: str
    """`auto_approve`, `review_first_n` or `review_all` (a plain string: newer values decode)."""
    pending_count: int
    """Containers of the project awaiting approval now."""
    first_n: int | None = None
    """Approved containers needed before content is no longer held; only with `review_first_n`."""
    updated_at: datetime | None = None
    """When the policy was last set; None when it never was."""


@attrs.frozen
class SchedulePromotion(LayersModel):
    """What approval did with the schedule intents parked on the container.

    `status` is `ok` (every parked post was created, ids in the order the intents were
    parked) or `failed` (a target account was no longer connected: nothing was created and
    the intents were dropped; schedule again).
    """

    status: str
    """`ok` (every parked post was created) or `failed` (none was: schedule again)."""
    scheduled_post_ids: tuple[str, ...] = ()
    """With `ok`, the posts created, in the order the intents were parked."""


@attrs.frozen
class Approval(LayersModel):
    """The answer to `content.approve()`."""

    id: str
    """The container approved, `cnt_<uuid>`."""
    approval_status: str
    """Always `approved`."""
    approved_at: datetime
    """When it was approved."""
    approved_by: str
    """The id of the key that approved."""
    pending_schedule_promotion: SchedulePromotion | None = None
    """What became of parked schedule intents; None when none were."""


@attrs.frozen
class Rejection(LayersModel):
    """The answer to `content.reject()`; any parked schedule intents were dropped."""

    id: str
    """The container rejected, `cnt_<uuid>`."""
    approval_status: str
    """Always `rejected`."""
    rejected_at: datetime
    """When it was rejected."""
    rejected_by: str
    """The id of the key that rejected."""
    reason: str
    """The reason given, 1-1024 characters."""
