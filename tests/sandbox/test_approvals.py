"""Contract tests for approvals, the review policy (§3.16), publish-now (§3.17) and their
effects on containers (§4.5) and scheduled posts (§4.6)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.sandbox._flows import (
    GHOST_CNT,
    GHOST_PRJ,
    SP_RE,
    assert_ts,
    builder_job,
    completed_container,
    connect_account,
    create_project,
    err,
    get_container,
    get_post,
    invalid,
    ok,
    route_scope_test,
    schedule,
    shift,
    two_org_options,
)
from tests.sandbox._http import Api, MakeSandbox, Reply


def policy_path(pid: str) -> str:
    """The review policy of a project."""
    return f"/v1/projects/{pid}/content-review-policy"


class Review:
    """A project under a review policy, with a connected TikTok account."""

    def __init__(self, api: Api, pid: str, sa: str) -> None:
        self.api = api
        self.pid = pid
        self.sa = sa

    async def container(self) -> str:
        """A freshly completed container of the project."""
        return await completed_container(self.api, self.pid)

    async def approve(self, cid: str, body: Any = None) -> Reply:
        return await self.api.post(f"/v1/content/{cid}/approve", {} if body is None else body)

    async def reject(self, cid: str, reason: str = "Off brand") -> Reply:
        return await self.api.post(f"/v1/content/{cid}/reject", {"reason": reason})

    async def publish(self, cid: str, targets: list[dict[str, Any]] | None = None) -> Reply:
        tg = targets if targets is not None else [{"socialAccountId": self.sa, "mode": "publish"}]
        return await self.api.post(f"/v1/content/{cid}/publish", {"targets": tg})

    async def schedule(self, cid: str, ahead: float = 60, mode: str = "publish") -> Reply:
        when = shift(await self.api.now(), ahead)
        return await schedule(self.api, cid, when, [{"socialAccountId": self.sa, "mode": mode}])

    async def posts(self) -> list[dict[str, Any]]:
        page = ok(await self.api.get(f"/v1/projects/{self.pid}/scheduled-posts"))
        items: list[dict[str, Any]] = page["items"]
        return items


async def review(api: Api, policy: dict[str, Any] | None = None) -> Review:
    """A project with a connected account, under `policy` (default: review_all)."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    ok(await api.patch(policy_path(pid), policy or {"policy": "review_all"}))
    return Review(api, pid, sa)


async def key_id(api: Api) -> str:
    """The caller's key id (whoami)."""
    return str(ok(await api.get("/v1/whoami"))["apiKeyId"])


# ---------------------------------------------------------------------- review policy
@pytest.mark.anyio
async def test_policy_defaults_to_auto_approve_never_set(api: Api) -> None:
    """A new project's policy is auto_approve with firstN and updatedAt null, nothing pending."""
    pid = (await create_project(api, app=False))["id"]
    assert ok(await api.get(policy_path(pid))) == {
        "projectId": pid,
        "policy": "auto_approve",
        "firstN": None,
        "pendingCount": 0,
        "updatedAt": None,
    }


@pytest.mark.anyio
async def test_patch_policy_answers_it_and_requires_approval_follows(api: Api) -> None:
    """PATCH answers the policy with updatedAt now; the project's requiresApproval follows it."""
    pid = (await create_project(api, app=False))["id"]
    now = await api.now()
    body = ok(await api.patch(policy_path(pid), {"policy": "review_first_n", "firstN": 3}))
    assert body == {
        "projectId": pid,
        "policy": "review_first_n",
        "firstN": 3,
        "pendingCount": 0,
        "updatedAt": now,
    }
    assert ok(await api.get(policy_path(pid))) == body
    assert ok(await api.get(f"/v1/projects/{pid}"))["requiresApproval"] is True
    back = ok(await api.patch(policy_path(pid), {"policy": "auto_approve"}))
    assert (back["policy"], back["firstN"]) == ("auto_approve", None)
    assert ok(await api.get(f"/v1/projects/{pid}"))["requiresApproval"] is False


POLICY_422 = [
    ({}, "policy"),
    ({"policy": "review_some"}, "policy"),
    ({"policy": None}, "policy"),
    ({"policy": "review_first_n"}, "firstN"),
    ({"policy": "review_first_n", "firstN": 0}, "firstN"),
    ({"policy": "review_first_n", "firstN": 51}, "firstN"),
    ({"policy": "review_first_n", "firstN": "3"}, "firstN"),
    ({"policy": "review_first_n", "firstN": True}, "firstN"),
    ({"policy": "review_first_n", "firstN": 2.5}, "firstN"),
    ({"policy": "review_all", "firstN": 3}, "firstN"),
    ({"policy": "auto_approve", "firstN": None}, "firstN"),
    ({"policy": "review_all", "requiresApproval": True}, "requiresApproval"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "path"), POLICY_422, ids=[str(b) for b, _ in POLICY_422])
async def test_patch_policy_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """A bad policy body is 422 at the field's path and changes nothing."""
    pid = (await create_project(api, app=False))["id"]
    invalid(await api.patch(policy_path(pid), body), path)
    assert ok(await api.get(policy_path(pid)))["updatedAt"] is None


@pytest.mark.anyio
async def test_policy_of_unknown_or_foreign_project_is_404_after_validation(
    two_live_org_apis: dict[str, Api],
) -> None:
    """Another organization's project is 404 as an unknown one; a bad body is 422 first."""
    mine, other = two_live_org_apis["demo-live"], two_live_org_apis["other-live"]
    pid = (await create_project(mine, app=False))["id"]
    for target in (pid, GHOST_PRJ):
        err(await other.get(policy_path(target)), 404, "NOT_FOUND")
        err(await other.patch(policy_path(target), {"policy": "review_all"}), 404, "NOT_FOUND")
        invalid(await other.patch(policy_path(target), {"policy": "nope"}), "policy")


@pytest.mark.anyio
async def test_policy_applies_to_content_completing_afterwards(api: Api) -> None:
    """Approval is decided at completion: content running when review_all is set becomes
    pending; content completed before stays not_required (a final state)."""
    pid = (await create_project(api, app=False))["id"]
    before = await completed_container(api, pid)
    running = (await builder_job(api, pid))["containerIds"][0]
    ok(await api.patch(policy_path(pid), {"policy": "review_all"}))
    await api.advance(80)
    assert (await get_container(api, before))["approvalStatus"] == "not_required"
    assert (await get_container(api, running))["approvalStatus"] == "pending"
    assert ok(await api.get(policy_path(pid)))["pendingCount"] == 1


@pytest.mark.anyio
async def test_container_awaits_nothing_before_completion(api: Api) -> None:
    """A queued container is not_required even under review_all; approving it is 409."""
    r = await review(api)
    cid = (await builder_job(api, r.pid))["containerIds"][0]
    assert (await get_container(api, cid))["approvalStatus"] == "not_required"
    e = err(await r.approve(cid), 409, "CONFLICT")
    assert e["details"] == {"containerId": cid, "approvalStatus": "not_required"}


@pytest.mark.anyio
async def test_review_first_n_gates_until_n_containers_are_approved(api: Api) -> None:
    """review_first_n: content is pending while fewer than firstN containers are approved."""
    r = await review(api, {"policy": "review_first_n", "firstN": 2})
    first, second = await r.container(), await r.container()
    assert (await get_container(api, first))["approvalStatus"] == "pending"
    assert ok(await api.get(policy_path(r.pid)))["pendingCount"] == 2
    ok(await r.approve(first))
    ok(await r.reject(second))
    third = await r.container()
    assert (await get_container(api, third))["approvalStatus"] == "pending"
    ok(await r.approve(third))
    fourth = await r.container()
    assert (await get_container(api, fourth))["approvalStatus"] == "not_required"
    assert ok(await api.get(policy_path(r.pid)))["pendingCount"] == 0


# ---------------------------------------------------------------------- approve and reject
@pytest.mark.anyio
async def test_approve_answers_who_and_when_and_the_container_is_approved(api: Api) -> None:
    """approve: 200 {id, approvalStatus, approvedAt, approvedBy}; no promotion when nothing
    was parked; the container reads approved."""
    r = await review(api)
    cid = await r.container()
    now = await api.now()
    body = ok(await r.approve(cid, {"note": "Ship it"}))
    assert body == {
        "id": cid,
        "approvalStatus": "approved",
        "approvedAt": now,
        "approvedBy": await key_id(api),
    }
    assert (await get_container(api, cid))["approvalStatus"] == "approved"


@pytest.mark.anyio
async def test_reject_answers_who_when_and_why(api: Api) -> None:
    """reject: 200 {id, approvalStatus, rejectedAt, rejectedBy, reason}."""
    r = await review(api)
    cid = await r.container()
    now = await api.now()
    body = ok(await r.reject(cid, "Wrong logo"))
    assert body == {
        "id": cid,
        "approvalStatus": "rejected",
        "rejectedAt": now,
        "rejectedBy": await key_id(api),
        "reason": "Wrong logo",
    }
    assert_ts(body["rejectedAt"])
    assert (await get_container(api, cid))["approvalStatus"] == "rejected"


@pytest.mark.anyio
@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("then", ["approve", "reject"])
async def test_approved_and_rejected_are_final(api: Api, first: str, then: str) -> None:
    """A second decision is 409 CONFLICT naming the final status."""
    r = await review(api)
    cid = await r.container()
    ok(await (r.approve(cid) if first == "approve" else r.reject(cid)))
    state = "approved" if first == "approve" else "rejected"
    e = err(await (r.approve(cid) if then == "approve" else r.reject(cid)), 409, "CONFLICT")
    assert e["details"] == {"containerId": cid, "approvalStatus": state}
    assert e["message"] == f"Container is already {state}."


@pytest.mark.anyio
async def test_content_not_under_review_cannot_be_decided(api: Api) -> None:
    """Under auto_approve a completed container is not_required: approve and reject are 409."""
    pid = (await create_project(api, app=False))["id"]
    cid = await completed_container(api, pid)
    for verb, body in (("approve", {}), ("reject", {"reason": "no"})):
        e = err(await api.post(f"/v1/content/{cid}/{verb}", body), 409, "CONFLICT")
        assert e["details"] == {"containerId": cid, "approvalStatus": "not_required"}


DECISION_422 = [
    ("approve", {"note": "n" * 1025}, "note"),
    ("approve", {"note": 5}, "note"),
    ("approve", {"reason": "x"}, "reason"),
    ("reject", {}, "reason"),
    ("reject", {"reason": ""}, "reason"),
    ("reject", {"reason": "r" * 1025}, "reason"),
    ("reject", {"reason": "x", "note": "y"}, "note"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("verb", "body", "path"), DECISION_422)
async def test_decision_body_validation_comes_before_existence(
    api: Api, verb: str, body: dict[str, Any], path: str
) -> None:
    """A bad approve/reject body is 422 even for an unknown container, and decides nothing."""
    invalid(await api.post(f"/v1/content/{GHOST_CNT}/{verb}", body), path)
    cid = await (await review(api)).container()
    invalid(await api.post(f"/v1/content/{cid}/{verb}", body), path)
    assert (await get_container(api, cid))["approvalStatus"] == "pending"


@pytest.mark.anyio
async def test_approve_accepts_an_empty_body_and_a_note_at_the_limit(api: Api) -> None:
    """The approve body is optional; a 1024-character note is accepted."""
    r = await review(api)
    one, two = await r.container(), await r.container()
    assert ok(await api.call("POST", f"/v1/content/{one}/approve"))["approvalStatus"] == "approved"
    assert ok(await r.approve(two, {"note": "n" * 1024}))["approvalStatus"] == "approved"


@pytest.mark.anyio
async def test_decisions_on_foreign_or_unknown_content_are_404(
    two_live_org_apis: dict[str, Api],
) -> None:
    """Another organization's container is as absent as an unknown one."""
    mine, other = two_live_org_apis["demo-live"], two_live_org_apis["other-live"]
    r = await review(mine)
    cid = await r.container()
    for target in (cid, GHOST_CNT):
        err(await other.post(f"/v1/content/{target}/approve", {}), 404, "NOT_FOUND")
        err(await other.post(f"/v1/content/{target}/reject", {"reason": "x"}), 404, "NOT_FOUND")
        tg = [{"socialAccountId": r.sa, "mode": "publish"}]
        err(await other.post(f"/v1/content/{target}/publish", {"targets": tg}), 404, "NOT_FOUND")
    assert (await get_container(mine, cid))["approvalStatus"] == "pending"


# ---------------------------------------------------------------------- parked intents
@pytest.mark.anyio
async def test_schedule_of_pending_content_parks_and_approval_promotes(api: Api) -> None:
    """Schedule of pending content: 202 blocked_on_approval, no post; approve creates every
    parked post, in order, queued at the parked times."""
    r = await review(api)
    cid = await r.container()
    first = ok(await r.schedule(cid, ahead=600), 202)
    assert first["scheduledPostIds"] == []
    assert first["gateStatus"] == "blocked_on_approval"
    ok(await r.schedule(cid, ahead=900, mode="draft"), 202)
    assert await r.posts() == []
    counts = (await api.state())["counts"]
    assert counts["parkedSchedules"] == {"total": 2}
    assert counts["approvals"]["byStatus"].get("pending") == 1
    body = ok(await r.approve(cid))
    promo = body["pendingSchedulePromotion"]
    assert promo["status"] == "ok"
    ids = promo["scheduledPostIds"]
    assert len(ids) == 2
    assert all(SP_RE.match(i) for i in ids)
    posts = [await get_post(api, i) for i in ids]
    assert [(p["status"], p["mode"]) for p in posts] == [("queued", "publish"), ("queued", "draft")]
    counts = (await api.state())["counts"]
    assert counts["parkedSchedules"] == {"total": 0}
    assert counts["approvals"]["byStatus"].get("approved") == 1
    assert posts[0]["scheduledFor"] == first["scheduledFor"]
    assert posts[1]["scheduledFor"] == shift(first["scheduledFor"], 300)


@pytest.mark.anyio
async def test_late_approval_publishes_a_past_intent_at_once(api: Api) -> None:
    """A parked post whose time passed before approval starts publishing at approval."""
    r = await review(api)
    cid = await r.container()
    parked = ok(await r.schedule(cid, ahead=60), 202)
    await api.advance(120)
    approved_at = await api.now()
    (sp,) = ok(await r.approve(cid))["pendingSchedulePromotion"]["scheduledPostIds"]
    post = await get_post(api, sp)
    assert (post["status"], post["attemptedAt"]) == ("publishing", approved_at)
    assert post["scheduledFor"] == parked["scheduledFor"]
    await api.advance(15)
    assert (await get_post(api, sp))["status"] == "published"


@pytest.mark.anyio
async def test_promotion_is_all_or_nothing_when_an_account_is_gone(api: Api) -> None:
    """If any parked target's account is no longer connected, approval creates no post and
    reports the promotion failed; the container is approved all the same."""
    r = await review(api)
    other = await connect_account(api, r.pid)
    cid = await r.container()
    ok(await r.schedule(cid), 202)
    when = shift(await api.now(), 120)
    ok(await schedule(api, cid, when, [{"socialAccountId": other, "mode": "publish"}]), 202)
    ok(await api.delete(f"/v1/social-accounts/{other}"))
    body = ok(await r.approve(cid))
    assert body["pendingSchedulePromotion"] == {"status": "failed", "scheduledPostIds": []}
    assert body["approvalStatus"] == "approved"
    assert await r.posts() == []


@pytest.mark.anyio
async def test_rejection_drops_parked_intents_and_blocks_schedule_and_publish(api: Api) -> None:
    """Reject drops parked intents; afterwards schedule and publish are 409 CONTENT_REJECTED."""
    r = await review(api)
    cid = await r.container()
    ok(await r.schedule(cid), 202)
    ok(await r.reject(cid))
    await api.advance(120)
    assert await r.posts() == []
    for reply in (await r.schedule(cid), await r.publish(cid)):
        e = err(reply, 409, "CONTENT_REJECTED")
        assert e["details"] == {"containerId": cid, "approvalStatus": "rejected"}


# ---------------------------------------------------------------------- publish now
@pytest.mark.anyio
async def test_publish_now_queues_posts_now_that_start_on_the_next_tick(api: Api) -> None:
    """publish: 201 {scheduledPostIds, gateStatus queued, scheduledFor now}; the posts start
    publishing on the next tick and end as a scheduled post does."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    now = await api.now()
    r = Review(api, pid, sa)
    body = ok(await r.publish(cid, [{"socialAccountId": sa, "mode": "publish"}]), 201)
    assert body["gateStatus"] == "queued"
    assert body["scheduledFor"] == now
    (sp,) = body["scheduledPostIds"]
    post = await get_post(api, sp)
    assert (post["status"], post["scheduledFor"], post["attemptedAt"]) == ("publishing", now, now)
    await api.advance(15)
    assert (await get_post(api, sp))["status"] == "published"


@pytest.mark.anyio
async def test_publish_of_pending_content_is_approval_required_and_parks_nothing(
    api: Api,
) -> None:
    """publish of pending content: 403 APPROVAL_REQUIRED; approving later promotes nothing."""
    r = await review(api)
    cid = await r.container()
    e = err(await r.publish(cid), 403, "APPROVAL_REQUIRED")
    assert e["details"] == {"containerId": cid, "approvalStatus": "pending"}
    body = ok(await r.approve(cid))
    assert "pendingSchedulePromotion" not in body
    assert await r.posts() == []
    assert len(ok(await r.publish(cid), 201)["scheduledPostIds"]) == 1


@pytest.mark.anyio
async def test_publish_of_unfinished_content_is_conflict(api: Api) -> None:
    """publish of a container that is not completed: 409 CONFLICT {containerId, status}."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = (await builder_job(api, pid))["containerIds"][0]
    e = err(await Review(api, pid, sa).publish(cid), 409, "CONFLICT")
    assert e["details"] == {"containerId": cid, "status": "queued"}


PUBLISH_422: list[tuple[Any, str]] = [
    ({}, "targets"),
    ({"targets": []}, "targets"),
    ({"targets": [{"socialAccountId": "$sa", "mode": "publish"}] * 51}, "targets"),
    ({"targets": [{"socialAccountId": "$sa", "mode": "later"}]}, "targets.0.mode"),
    ({"targets": [{"socialAccountId": "$sa"}]}, "targets.0.mode"),
    (
        {"targets": [{"socialAccountId": "$sa", "mode": "publish"}], "scheduledFor": "x"},
        "scheduledFor",
    ),
    (
        {"targets": [{"socialAccountId": "$sa", "mode": "draft", "tiktokMusic": {"id": "1"}}]},
        "targets.0.tiktokMusic",
    ),
]


def _fill(body: Any, sa: str) -> Any:
    """`body` with every "$sa" replaced by the account id."""
    if isinstance(body, dict):
        return {k: _fill(v, sa) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, sa) for v in body]
    return sa if body == "$sa" else body


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "path"), PUBLISH_422, ids=[p for _, p in PUBLISH_422])
async def test_publish_body_validation(api: Api, body: Any, path: str) -> None:
    """publish validates its body as schedule does its targets: 422, nothing created."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    invalid(await api.post(f"/v1/content/{cid}/publish", _fill(body, sa)), path)
    assert await Review(api, pid, sa).posts() == []


@pytest.mark.anyio
async def test_publish_order_of_checks(api: Api) -> None:
    """Body 422 → container 404 → targets 422 → not completed 409 → rejected 409 → archived
    409 → approval 403 (contract §3.9.1, §3.17)."""
    r = await review(api)
    stranger = await connect_account(api, (await create_project(api, app=False))["id"])
    bad_target = [{"socialAccountId": stranger, "mode": "publish"}]
    invalid(await api.post(f"/v1/content/{GHOST_CNT}/publish", {}), "targets")
    err(await r.publish(GHOST_CNT, bad_target), 404, "NOT_FOUND")
    running = (await builder_job(api, r.pid))["containerIds"][0]
    invalid(await r.publish(running, bad_target), "targets.0.socialAccountId")
    err(await r.publish(running), 409, "CONFLICT")
    await api.advance(80)
    rejected, pending = running, await r.container()
    ok(await r.reject(rejected))
    ok(await api.delete(f"/v1/projects/{r.pid}"))
    err(await r.publish(rejected), 409, "CONTENT_REJECTED")
    e = err(await r.publish(pending), 409, "CONFLICT")
    assert e["details"] == {"projectId": r.pid, "status": "archived"}
    ok(await api.patch(f"/v1/projects/{r.pid}", {"status": "active"}))
    err(await r.publish(pending), 403, "APPROVAL_REQUIRED")


@pytest.mark.anyio
async def test_publish_replayed_with_its_idempotency_key_posts_once(api: Api) -> None:
    """The same Idempotency-Key replays the first answer: one post, not two."""
    pid = (await create_project(api, app=False))["id"]
    sa = await connect_account(api, pid)
    cid = await completed_container(api, pid)
    body = {"targets": [{"socialAccountId": sa, "mode": "publish"}]}
    first = ok(await api.post(f"/v1/content/{cid}/publish", body, idem="pub-1"), 201)
    again = ok(await api.post(f"/v1/content/{cid}/publish", body, idem="pub-1"), 201)
    assert first == again
    assert len(await Review(api, pid, sa).posts()) == 1


test_publish_requires_publish_write = route_scope_test(
    [("POST", f"/v1/content/{GHOST_CNT}/publish", "publish:write")],
    """publish needs publish:write (403 FORBIDDEN_SCOPE before 404/422).""",
)


@pytest.mark.anyio
async def test_approvals_and_the_policy_need_no_scope(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """approve, reject and the policy routes take any key: one with an unrelated scope gets
    past the scope step (200 on its organization's project, 404 for unknown ids)."""
    options = two_org_options()
    options["api_keys"].append({**options["api_keys"][0], "name": "bare", "scopes": ["ads:read"]})
    async with make_sandbox(**options) as sb:
        bare = Api(session, sb.url, sb.keys["bare"])
        pid = (await create_project(Api(session, sb.url, sb.keys["demo-live"]), app=False))["id"]
        ok(await bare.patch(policy_path(pid), {"policy": "review_all"}))
        assert ok(await bare.get(policy_path(pid)))["policy"] == "review_all"
        err(await bare.post(f"/v1/content/{GHOST_CNT}/approve", {}), 404, "NOT_FOUND")
        err(await bare.post(f"/v1/content/{GHOST_CNT}/reject", {"reason": "x"}), 404, "NOT_FOUND")
        err(await bare.get(policy_path(GHOST_PRJ)), 404, "NOT_FOUND")
        patch = await bare.patch(policy_path(GHOST_PRJ), {"policy": "review_all"})
        err(patch, 404, "NOT_FOUND")
