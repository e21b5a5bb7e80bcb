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
    #: `auto_approve`, `review_first_n` or `review_all` (a plain string: newer values decode).
    policy: str
    #: Containers of the project awaiting approval now.
    pending_count: int
    #: Set only with `review_first_n`.
    first_n: int | None = None
    #: None when the policy was never set.
    updated_at: datetime | None = None


@attrs.frozen
class SchedulePromotion(LayersModel):
    """What approval did with the schedule intents parked on the container.

    `status` is `ok` (every parked post was created, ids in the order the intents were
    parked) or `failed` (a target account was no longer connected: nothing was created and
    the intents were dropped; schedule again).
    """

    status: str
    scheduled_post_ids: tuple[str, ...] = ()


@attrs.frozen
class Approval(LayersModel):
    """The answer to `content.approve()`."""

    id: str
    approval_status: str
    approved_at: datetime
    #: The id of the key that approved.
    approved_by: str
    #: Present only when schedule intents were parked on the container.
    pending_schedule_promotion: SchedulePromotion | None = None


@attrs.frozen
class Rejection(LayersModel):
    """The answer to `content.reject()`; any parked schedule intents were dropped."""

    id: str
    approval_status: str
    rejected_at: datetime
    #: The id of the key that rejected.
    rejected_by: str
    reason: str
