"""`client.content.approve/reject/publish` and `client.projects.get_review_policy` /
`update_review_policy` (contract §3.16, §3.17) against the sandbox; their client-side refusals
are in the table of test_validation_table.py."""

from __future__ import annotations

import aiohttp
import pytest

from layers_async import (
    Approval,
    ApprovalRequiredError,
    ConflictError,
    ContentRejectedError,
    LayersClient,
    NotFoundError,
    PermissionDeniedError,
    Rejection,
    ReviewPolicy,
    Sandbox,
    SchedulePromotion,
    ScheduleResult,
    ScheduleTarget,
)
from tests.client._ids import GHOST_CNT, GHOST_PRJ, GHOST_SA, SP_RE
from tests.client._refusals import api_refusal
from tests.client._route_tables import needs_scope_test
from tests.client._setup import Scheduled, later, new_project, now, scheduling_setup


async def awaiting_review(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> Scheduled:
    """A project under review_all with a connected account and a completed, pending container."""
    pid = await new_project(client, app=False)
    await client.projects.update_review_policy(pid, policy="review_all")
    setup = await scheduling_setup(client, sandbox, session, project_id=pid)
    assert (await client.content.get(setup.container_id)).approval_status == "pending"
    return setup


def target(setup: Scheduled) -> list[ScheduleTarget]:
    """One publish target on the setup's account."""
    return [ScheduleTarget(social_account_id=setup.account_id, mode="publish")]


# ---------------------------------------------------------------------- review policy
@pytest.mark.anyio
async def test_get_review_policy_decodes_the_default(client: LayersClient, project: str) -> None:
    """get_review_policy() decodes ReviewPolicy: auto_approve, never set, nothing pending."""
    policy = await client.projects.get_review_policy(project)
    assert isinstance(policy, ReviewPolicy)
    assert (policy.project_id, policy.policy, policy.first_n) == (project, "auto_approve", None)
    assert (policy.pending_count, policy.updated_at) == (0, None)


@pytest.mark.anyio
async def test_update_review_policy_sets_it_and_requires_approval_follows(
    client: LayersClient, sandbox: Sandbox, project: str
) -> None:
    """update_review_policy() answers the new policy (updated_at: the server's now) and the
    project's requires_approval follows it."""
    policy = await client.projects.update_review_policy(project, policy="review_first_n", first_n=3)
    assert (policy.policy, policy.first_n) == ("review_first_n", 3)
    assert policy.updated_at == await now(sandbox)
    assert (await client.projects.get(project)).requires_approval is True
    back = await client.projects.update_review_policy(project, policy="auto_approve")
    assert (back.policy, back.first_n) == ("auto_approve", None)
    assert (await client.projects.get(project)).requires_approval is False


@pytest.mark.anyio
async def test_review_policy_of_an_unknown_project_is_not_found(client: LayersClient) -> None:
    """Both policy methods raise NotFoundError for a project that is not the caller's."""
    await api_refusal(NotFoundError, client.projects.get_review_policy(GHOST_PRJ))
    await api_refusal(
        NotFoundError, client.projects.update_review_policy(GHOST_PRJ, policy="review_all")
    )


# ---------------------------------------------------------------------- approve and reject
@pytest.mark.anyio
async def test_approve_decodes_who_and_when(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """approve() decodes Approval: approved now by the calling key, no promotion to report."""
    setup = await awaiting_review(client, sandbox, session)
    approval = await client.content.approve(setup.container_id, note="Ship it")
    assert isinstance(approval, Approval)
    assert (approval.id, approval.approval_status) == (setup.container_id, "approved")
    assert approval.approved_at == await now(sandbox)
    assert approval.approved_by == (await client.whoami()).api_key_id
    assert approval.pending_schedule_promotion is None


@pytest.mark.anyio
async def test_approval_promotes_a_parked_schedule(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """A schedule of pending content is parked (blocked_on_approval, no ids); approve() reports
    its promotion with the created post's id."""
    setup = await awaiting_review(client, sandbox, session)
    when = later(await now(sandbox), 600)
    parked = await client.content.schedule(
        setup.container_id, scheduled_for=when, targets=target(setup)
    )
    assert (parked.gate_status, parked.scheduled_post_ids) == ("blocked_on_approval", ())
    promotion = (await client.content.approve(setup.container_id)).pending_schedule_promotion
    assert isinstance(promotion, SchedulePromotion)
    assert promotion.status == "ok"
    (post_id,) = promotion.scheduled_post_ids
    assert SP_RE.match(post_id)
    post = await client.scheduled_posts.get(post_id)
    assert (post.status, post.scheduled_for) == ("queued", when)


@pytest.mark.anyio
async def test_reject_decodes_and_rejected_content_cannot_be_posted(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """reject() decodes Rejection; then schedule() and publish() raise ContentRejectedError
    (a ConflictError)."""
    setup = await awaiting_review(client, sandbox, session)
    rejection = await client.content.reject(setup.container_id, reason="Wrong logo")
    assert isinstance(rejection, Rejection)
    assert (rejection.approval_status, rejection.reason) == ("rejected", "Wrong logo")
    assert rejection.rejected_by == (await client.whoami()).api_key_id
    assert rejection.rejected_at == await now(sandbox)
    when = later(await now(sandbox), 600)
    for pending in (
        client.content.schedule(setup.container_id, scheduled_for=when, targets=target(setup)),
        client.content.publish(setup.container_id, targets=target(setup)),
    ):
        refused = await api_refusal(ContentRejectedError, pending, code="CONTENT_REJECTED")
        assert isinstance(refused, ConflictError)
        assert refused.details["approvalStatus"] == "rejected"


@pytest.mark.anyio
async def test_deciding_content_not_awaiting_approval_is_conflict(
    client: LayersClient, scheduled: Scheduled
) -> None:
    """approve()/reject() of content that needs no approval raise ConflictError naming its
    approval status."""
    for pending in (
        client.content.approve(scheduled.container_id),
        client.content.reject(scheduled.container_id, reason="no"),
    ):
        refused = await api_refusal(ConflictError, pending)
        assert refused.details == {
            "containerId": scheduled.container_id,
            "approvalStatus": "not_required",
        }


@pytest.mark.anyio
async def test_decisions_and_publish_on_unknown_content_are_not_found(
    client: LayersClient, scheduled: Scheduled
) -> None:
    """approve(), reject() and publish() of an unknown container raise NotFoundError."""
    await api_refusal(NotFoundError, client.content.approve(GHOST_CNT))
    await api_refusal(NotFoundError, client.content.reject(GHOST_CNT, reason="no"))
    await api_refusal(NotFoundError, client.content.publish(GHOST_CNT, targets=target(scheduled)))


# ---------------------------------------------------------------------- publish now
@pytest.mark.anyio
async def test_publish_decodes_posts_queued_now(
    client: LayersClient, sandbox: Sandbox, scheduled: Scheduled
) -> None:
    """publish() decodes ScheduleResult: one id per target, gate queued, scheduled for now;
    the post is publishing on the next call."""
    result = await client.content.publish(scheduled.container_id, targets=target(scheduled))
    assert isinstance(result, ScheduleResult)
    assert result.gate_status == "queued"
    assert result.scheduled_for == await now(sandbox)
    (post_id,) = result.scheduled_post_ids
    assert (await client.scheduled_posts.get(post_id)).status == "publishing"


@pytest.mark.anyio
async def test_publish_of_pending_content_raises_approval_required(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """publish() of content awaiting approval raises ApprovalRequiredError, a
    PermissionDeniedError, with the container and its approval status."""
    setup = await awaiting_review(client, sandbox, session)
    refused = await api_refusal(
        ApprovalRequiredError,
        client.content.publish(setup.container_id, targets=target(setup)),
        code="APPROVAL_REQUIRED",
    )
    assert isinstance(refused, PermissionDeniedError)
    assert refused.details == {"containerId": setup.container_id, "approvalStatus": "pending"}


test_publish_needs_publish_write = needs_scope_test(
    [
        (
            "publish",
            "publish:write",
            lambda c: c.content.publish(
                GHOST_CNT, targets=[ScheduleTarget(social_account_id=GHOST_SA, mode="publish")]
            ),
        )
    ],
    """publish() with a key lacking publish:write raises PermissionDeniedError naming it.""",
)
