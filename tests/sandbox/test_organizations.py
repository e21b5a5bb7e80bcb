"""Sub-organizations (contract §3.10, §4.8) and acting for a child (contract §1.4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox._checks import START, assert_error, assert_validation
from tests.sandbox._flows import (
    GHOST_UUID,
    ORG_RE,
    completed_container,
    connect_account,
    create_project,
    ok,
    schedule,
    shift,
)
from tests.sandbox._http import Api
from tests.sandbox._orgs import ORG_FIELDS, acting, allocate, idem, make_child, mint, prepaid

pytestmark = pytest.mark.anyio

GHOST_ORG = f"org_{GHOST_UUID}"


# ---------------------------------------------------------------------- create
async def test_create_answers_an_active_child_with_an_empty_wallet(api: Api) -> None:
    """POST /v1/organizations: 201 Organization, active, under the caller, empty wallet."""
    me = ok(await api.get("/v1/whoami"))
    r = await api.post(
        "/v1/organizations",
        {"name": "Acme Coffee", "metadata": {"externalId": "acme"}, "billingEmail": "a@acme.co"},
    )
    org = ok(r, 201)
    assert list(org) == ORG_FIELDS
    assert ORG_RE.match(org["id"])
    assert org["parentOrganizationId"] == me["organizationId"]
    assert (org["status"], org["metadata"], org["billingEmail"]) == (
        "active",
        {"externalId": "acme"},
        "a@acme.co",
    )
    assert (org["archivedAt"], org["createdAt"], org["updatedAt"]) == (None, START, START)
    wallet = ok(await api.get("/v1/credits", headers=acting(org["id"])))
    assert (wallet["balance"], wallet["includedThisPeriod"], wallet["prepaidBalance"]) == (0, 0, 0)
    assert wallet["subscriptionTier"] == "pro"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "A", "metadata": ["x"]}, "metadata"),
        ({"name": "A", "metadata": {"k" * 41: "v"}}, "metadata." + "k" * 41),
        ({"name": "A", "metadata": {"k": "v" * 501}}, "metadata.k"),
        ({"name": "A", "metadata": {"k": 1}}, "metadata.k"),
        ({"name": "A", "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"name": "A", "billingEmail": "not-an-email"}, "billingEmail"),
        ({"name": "A", "status": "suspended"}, "status"),
    ],
)
async def test_create_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Each invalid create body is a 422 at exactly the offending path."""
    assert_validation(await api.post("/v1/organizations", body), path)


async def test_a_child_cannot_have_children(api: Api) -> None:
    """Acting inside a child, creating an organization is a 422 at path "" (one level deep)."""
    child = await make_child(api)
    r = await api.post("/v1/organizations", {"name": "Grandchild"}, headers=acting(child["id"]))
    assert_validation(r, "")


async def test_org_routes_need_org_admin_before_validation(two_org_apis: dict[str, Api]) -> None:
    """A key without org:admin gets 403 requiredScope org:admin, even with an invalid body."""
    star = two_org_apis["star"]
    for r in (
        await star.post("/v1/organizations", {"bad": 1}),
        await star.get("/v1/organizations", params={"limit": "0"}),
        await star.get(f"/v1/organizations/{GHOST_ORG}"),
    ):
        err = assert_error(r, 403, "FORBIDDEN_SCOPE")
        assert err["details"] == {"requiredScope": "org:admin"}


async def test_create_replays_byte_for_byte(api: Api) -> None:
    """The same Idempotency-Key and body replay the 201; another body is IDEMPOTENCY_CONFLICT."""
    key = idem()
    first = await api.post("/v1/organizations", {"name": "Acme"}, idem=key)
    again = await api.post("/v1/organizations", {"name": "Acme"}, idem=key)
    assert (again.status, again.body) == (201, first.body)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert_error(
        await api.post("/v1/organizations", {"name": "B"}, idem=key), 409, "IDEMPOTENCY_CONFLICT"
    )
    assert len(ok(await api.get("/v1/organizations"))["items"]) == 1


# ---------------------------------------------------------------------- list and get
async def test_list_is_direct_children_newest_first_with_a_status_filter(
    two_org_apis: dict[str, Api],
) -> None:
    """GET /v1/organizations: own children only, newest first, by status, page by page."""
    full, foreign = two_org_apis["full"], two_org_apis["foreign"]
    ids = []
    for name in ("A", "B", "C"):
        ids.append((await make_child(full, name))["id"])
        await full.advance(1)
    await make_child(foreign, "Not yours")
    ok(await full.post(f"/v1/organizations/{ids[1]}/suspend"))
    page = ok(await full.get("/v1/organizations", params={"limit": "2"}))
    assert [o["id"] for o in page["items"]] == [ids[2], ids[1]]
    rest = ok(await full.get("/v1/organizations", params={"cursor": page["nextCursor"]}))
    assert ([o["id"] for o in rest["items"]], rest["nextCursor"]) == ([ids[0]], None)
    suspended = ok(await full.get("/v1/organizations", params={"status": "suspended"}))
    assert [o["id"] for o in suspended["items"]] == [ids[1]]


@pytest.mark.parametrize(
    ("params", "path"),
    [({"status": "gone"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"),
     ({"cursor": "!!"}, "cursor")],
)  # fmt: skip
async def test_list_validation(api: Api, params: dict[str, str], path: str) -> None:
    """A bad list query is a 422 at the parameter."""
    assert_validation(await api.get("/v1/organizations", params=params), path)


async def test_get_has_a_summary_and_accepts_a_bare_uuid(api: Api) -> None:
    """GET /v1/organizations/{orgId}: the fields plus projects, balances and credit config."""
    child = await make_child(api)
    await allocate(api, child["id"], 300)
    ok(
        await api.post(
            "/v1/projects", {"name": "Proj", "timezone": "UTC"}, headers=acting(child["id"])
        ),
        201,
    )
    got = ok(await api.get(f"/v1/organizations/{child['id'].removeprefix('org_')}"))
    assert list(got) == [*ORG_FIELDS, "summary"]
    assert got["id"] == child["id"]
    assert got["summary"] == {
        "projectCount": 1,
        "balance": 300,
        "available": 300,
        "creditConfig": {
            "monthlyCreditCap": None,
            "refillThreshold": None,
            "refillAmount": None,
            "autoRefillEnabled": False,
        },
    }


async def test_another_organizations_child_is_404(two_org_apis: dict[str, Api]) -> None:
    """A child of another organization, an unknown id and the caller itself are 404 everywhere."""
    full, foreign = two_org_apis["full"], two_org_apis["foreign"]
    theirs = (await make_child(foreign))["id"]
    mine = ok(await full.get("/v1/whoami"))["organizationId"]
    for org in (theirs, GHOST_ORG, mine):
        for method, suffix in (
            ("GET", ""), ("PATCH", ""), ("POST", "/suspend"), ("POST", "/resume"),
            ("DELETE", ""), ("GET", "/api-keys"), ("GET", "/credits"),
            ("GET", "/credits/events"), ("GET", "/credit-config"),
        ):  # fmt: skip
            body = {"name": "X"} if method == "PATCH" else None
            r = await full.call(method, f"/v1/organizations/{org}{suffix}", json=body or {})
            assert_error(r, 404, "NOT_FOUND")


async def test_a_malformed_org_id_is_422(api: Api) -> None:
    """An orgId that is not org_<uuid> or a bare UUID is a 422 at orgId."""
    assert_validation(await api.get("/v1/organizations/prj_" + GHOST_UUID), "orgId")


# ---------------------------------------------------------------------- patch
async def test_patch_merges_metadata_key_by_key(api: Api) -> None:
    """Sent keys are set, "" removes a key, omitted keys stay; null clears everything."""
    child = await make_child(api, metadata={"a": "1", "b": "2"})
    path = f"/v1/organizations/{child['id']}"
    await api.advance(5)
    got = ok(await api.patch(path, {"metadata": {"b": "", "c": "3"}, "name": "Renamed"}))
    assert (got["metadata"], got["name"]) == ({"a": "1", "c": "3"}, "Renamed")
    assert got["updatedAt"] == shift(START, 5)
    got = ok(await api.patch(path, {"billingEmail": "x@y.co"}))
    assert got["metadata"] == {"a": "1", "c": "3"}
    got = ok(await api.patch(path, {"metadata": None, "billingEmail": None}))
    assert (got["metadata"], got["billingEmail"]) == ({}, None)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, ""),
        ({"status": "active"}, "status"),
        ({"name": ""}, "name"),
        ({"metadata": {"k": None}}, "metadata.k"),
        ({"billingEmail": "nope"}, "billingEmail"),
        ({"metadata": {f"n{i}": "v" for i in range(50)}}, "metadata"),
    ],
)
async def test_patch_validation(api: Api, body: dict[str, Any], path: str) -> None:
    """Each invalid patch is a 422 at its path (50 new keys over one kept is too many)."""
    child = await make_child(api, metadata={"kept": "1"})
    assert_validation(await api.patch(f"/v1/organizations/{child['id']}", body), path)


# ---------------------------------------------------------------------- suspend, resume, archive
async def test_suspend_and_resume_follow_the_state_machine(api: Api) -> None:
    """active → suspended → active, each idempotent by state; the child's keys get 503 meanwhile."""
    child = await make_child(api)
    _, secret = await mint(api, child["id"])
    own = api.with_key(secret)
    path = f"/v1/organizations/{child['id']}"
    for _ in range(2):
        assert ok(await api.post(path + "/suspend"))["status"] == "suspended"
    err = assert_error(await own.get("/v1/whoami"), 503, "KILL_SWITCH")
    assert err["details"] == {"scope": "organization"}
    assert ok(await api.get(path))["status"] == "suspended"
    for _ in range(2):
        assert ok(await api.post(path + "/resume"))["status"] == "active"
    assert ok(await own.get("/v1/whoami"))["organizationId"] == child["id"]


async def test_acting_inside_a_suspended_child(api: Api) -> None:
    """Reads and non-generating writes work; a job start is a 409 naming the organization."""
    child = (await make_child(api))["id"]
    h = acting(child)
    pid = ok(await api.post("/v1/projects", {"name": "Proj", "timezone": "UTC"}, headers=h), 201)[
        "id"
    ]
    ok(await api.post(f"/v1/organizations/{child}/suspend"))
    assert ok(await api.get("/v1/projects", headers=h))["items"][0]["id"] == pid
    ok(await api.patch(f"/v1/projects/{pid}", {"name": "Quux"}, headers=h))
    r = await api.post(f"/v1/projects/{pid}/content/slideshow-builder", {"hook": "h"}, headers=h)
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"] == {"organizationId": child, "status": "suspended"}


async def queued_post_in_child(api: Api) -> tuple[str, str]:
    """A child with a test key and a post queued one minute ahead: (child id, post id)."""
    child = (await make_child(api))["id"]
    _, secret = await mint(api, child, env="test")
    own = api.with_key(secret)
    pid = (await create_project(own))["id"]
    sa = await connect_account(own, pid)
    cnt = await completed_container(own, pid)
    r = await schedule(
        own, cnt, shift(await api.now(), 60), [{"socialAccountId": sa, "mode": "publish"}]
    )
    return child, str(ok(r, 201)["scheduledPostIds"][0])


async def test_resume_publishes_held_posts(api: Api) -> None:
    """A queued post of a suspended child holds past its time and publishes on resume."""
    child, post = await queued_post_in_child(api)
    path = f"/v1/scheduled-posts/{post}"
    ok(await api.post(f"/v1/organizations/{child}/suspend"))
    await api.advance(120)
    assert ok(await api.get(path, headers=acting(child)))["status"] == "queued"
    ok(await api.post(f"/v1/organizations/{child}/resume"))
    await api.advance(1)
    assert ok(await api.get(path, headers=acting(child)))["status"] == "publishing"


async def test_archive_cancels_queued_posts(api: Api) -> None:
    """Offboarding a child cancels its queued posts: they never publish."""
    child, _ = await queued_post_in_child(api)
    ok(await api.delete(f"/v1/organizations/{child}"))
    await api.advance(120)
    got = ok(await api.get("/_sandbox/state", params={"organizationId": child}))
    assert got["counts"]["scheduledPosts"] == {"total": 1, "byStatus": {"canceled": 1}}


async def test_archive_revokes_keys_sweeps_credits_and_is_terminal(api: Api) -> None:
    """DELETE: keys revoked, unspent credits back to the parent, posts canceled; then 409s."""
    child = (await make_child(api))["id"]
    path = f"/v1/organizations/{child}"
    _, s1 = await mint(api, child)
    await mint(api, child)
    await allocate(api, child, 700)
    before = await prepaid(api)
    await api.advance(10)
    out = ok(await api.delete(path))
    assert out == {
        "id": child,
        "status": "archived",
        "archivedAt": shift(START, 10),
        "reclaimedCredits": 700,
        "revokedApiKeys": 2,
    }
    assert await prepaid(api) == before + 700
    assert_error(await api.with_key(s1).get("/v1/whoami"), 401, "UNAUTHENTICATED")
    sweep = ok(await api.get(f"{path}/credits/events", params={"eventType": "allocation"}))
    assert [e["credits"] for e in sweep["items"]] in ([-700, 700], [700, -700])
    await api.advance(10)
    again = await api.delete(path, idem=idem())
    assert again.json == out
    got = ok(await api.get(path))
    assert (got["status"], got["archivedAt"]) == ("archived", shift(START, 10))
    for method, suffix, body in (
        ("POST", "/suspend", None),
        ("POST", "/resume", None),
        ("PATCH", "", {"name": "X"}),
        ("POST", "/api-keys", {"name": "k", "scopes": ["*"]}),
        ("PATCH", "/credit-config", {"monthlyCreditCap": 1}),
    ):
        r = await api.call(method, path + suffix, json=body or {})
        err = assert_error(r, 409, "CONFLICT")
        assert err["details"] == {"organizationId": child, "status": "archived"}
    r = await api.post(path + "/credits/allocate", {"credits": 1}, idem=idem())
    assert_error(r, 409, "CONFLICT")
    assert_error(await api.get("/v1/whoami", headers=acting(child)), 404, "NOT_FOUND")


async def test_archive_keeps_reserved_credits(api: Api) -> None:
    """Credits reserved by a running generation are not reclaimed on archive."""
    child = (await make_child(api))["id"]
    _, secret = await mint(api, child)
    await allocate(api, child, 200)
    pid = (await create_project(api.with_key(secret), app=False))["id"]
    r = await api.with_key(secret).post(
        f"/v1/projects/{pid}/content/slideshow-builder", {"hook": "h"}
    )
    ok(r, 202)
    assert ok(await api.delete(f"/v1/organizations/{child}"))["reclaimedCredits"] == 150


# ---------------------------------------------------------------------- acting for a child
async def test_acting_as_a_child_changes_the_organization_not_the_key(api: Api) -> None:
    """whoami acting inside a child: the child's organization and credits, the parent's key."""
    me = ok(await api.get("/v1/whoami"))
    child = await make_child(api, "Acme")
    await allocate(api, child["id"], 40)
    got = ok(await api.get("/v1/whoami", headers=acting(child["id"].removeprefix("org_"))))
    assert got["organizationId"] == got["workspaceId"] == child["id"]
    assert (got["organizationName"], got["parentOrganizationId"]) == ("Acme", me["organizationId"])
    assert (got["apiKeyId"], got["scopes"], got["creditBalance"]) == (
        me["apiKeyId"],
        me["scopes"],
        40,
    )


async def test_acting_as_an_archived_child_is_404(api: Api) -> None:
    """An archived child cannot be acted in (404), though it stays readable."""
    child = (await make_child(api))["id"]
    ok(await api.delete(f"/v1/organizations/{child}"))
    assert_error(await api.get("/v1/projects", headers=acting(child)), 404, "NOT_FOUND")


async def test_a_childs_key_cannot_act_or_administer(api: Api) -> None:
    """A child key lacks org:admin: X-Layers-Organization and the org routes are 403."""
    child = (await make_child(api))["id"]
    _, secret = await mint(api, child)
    own = api.with_key(secret)
    for r in (
        await own.get("/v1/whoami", headers=acting(child)),
        await own.get("/v1/organizations"),
        await own.get(f"/v1/organizations/{child}/credit-config"),
    ):
        assert assert_error(r, 403, "FORBIDDEN_SCOPE")["details"] == {"requiredScope": "org:admin"}


async def test_a_parent_acting_in_a_child_sees_no_grandchildren(api: Api) -> None:
    """Acting inside a child, the child's own config is 404: it is not its own child."""
    child = (await make_child(api))["id"]
    r = await api.get(f"/v1/organizations/{child}/credit-config", headers=acting(child))
    assert_error(r, 404, "NOT_FOUND")
    assert ok(await api.get("/v1/organizations", headers=acting(child)))["items"] == []


async def test_acting_scopes_idempotency_to_the_child(api: Api) -> None:
    """One Idempotency-Key used inside two children creates a project in each."""
    a, b = (await make_child(api, "A"))["id"], (await make_child(api, "B"))["id"]
    body = {"name": "Proj", "timezone": "UTC"}
    ra = await api.post("/v1/projects", body, idem="same", headers=acting(a))
    rb = await api.post("/v1/projects", body, idem="same", headers=acting(b))
    assert (ra.status, rb.status) == (201, 201)
    assert ra.json["id"] != rb.json["id"]
    assert "Idempotency-Replayed" not in rb.headers


async def test_children_do_not_see_each_other(api: Api) -> None:
    """A child key gets 404 for a project of its parent or of a sibling."""
    a, b = (await make_child(api, "A"))["id"], (await make_child(api, "B"))["id"]
    _, sa = await mint(api, a)
    theirs = ok(
        await api.post("/v1/projects", {"name": "Proj", "timezone": "UTC"}, headers=acting(b)), 201
    )
    parents = await create_project(api, app=False)
    for pid in (theirs["id"], parents["id"]):
        assert_error(await api.with_key(sa).get(f"/v1/projects/{pid}"), 404, "NOT_FOUND")
    assert ok(await api.with_key(sa).get("/v1/projects"))["items"] == []


# ---------------------------------------------------------------------- provisioned tree, state
def tree_options() -> dict[str, Any]:
    """Sandbox options with a partner, two configured children and a key in each."""
    orgs = [
        {"ref": "acme", "parent": "partner", "name": "Acme", "prepaidBalance": 500,
         "metadata": {"externalId": "acme"}, "refillThreshold": 10, "refillAmount": 20},
        {"ref": "partner", "name": "Agency", "includedThisPeriod": 0, "prepaidBalance": 1000},
        {"ref": "bolt", "parent": "partner", "name": "Bolt", "status": "suspended"},
    ]  # fmt: skip
    keys = [
        {"name": "agency", "organization": "partner", "scopes": ["*", "org:admin"]},
        {"name": "acme-key", "organization": "acme", "scopes": ["content:read"]},
        {"name": "bolt-key", "organization": "bolt", "scopes": ["*"], "env": "test"},
    ]
    return {"organizations": orgs, "api_keys": keys}


@pytest.mark.sandbox_options(**tree_options())
async def test_the_configuration_provisions_children_and_their_keys(custom_api: Api) -> None:
    """Configured children are listed under their parent with their keys, credits and status."""
    api = custom_api
    me = ok(await api.get("/v1/whoami"))
    assert me["organizationName"] == "Agency"
    children = {o["name"]: o for o in ok(await api.get("/v1/organizations"))["items"]}
    assert set(children) == {"Acme", "Bolt"}
    acme, bolt = children["Acme"], children["Bolt"]
    assert (acme["parentOrganizationId"], acme["metadata"]) == (
        me["organizationId"],
        {"externalId": "acme"},
    )
    assert bolt["status"] == "suspended"
    summary = ok(await api.get(f"/v1/organizations/{acme['id']}"))["summary"]
    assert (summary["balance"], summary["creditConfig"]["autoRefillEnabled"]) == (500, True)
    keys = {k["name"]: k for k in ok(await api.get("/_sandbox/keys"))["items"]}
    acme_key = api.with_key(keys["acme-key"]["key"])
    got = ok(await acme_key.get("/v1/whoami"))
    assert (got["organizationId"], got["parentOrganizationId"]) == (
        acme["id"],
        me["organizationId"],
    )
    listed = ok(await api.get(f"/v1/organizations/{acme['id']}/api-keys"))["items"]
    assert [k["name"] for k in listed] == ["acme-key"]
    r = await api.with_key(keys["bolt-key"]["key"]).get("/v1/whoami")
    assert assert_error(r, 503, "KILL_SWITCH")["details"] == {"scope": "organization"}


@pytest.mark.parametrize(
    ("orgs", "keys", "path"),
    [
        ([{"ref": "c", "parent": "nobody"}], [], "organizations.1.parent"),
        ([{"ref": "c", "parent": "partner"}, {"ref": "g", "parent": "c"}], [],
         "organizations.2.parent"),
        ([{"ref": "c", "parent": "partner", "status": "archived"}], [], "organizations.1.status"),
        ([{"ref": "c", "parent": "partner", "refillAmount": 5}], [],
         "organizations.1.refillAmount"),
        ([{"ref": "c", "parent": "partner"}],
         [{"name": "k", "organization": "c", "scopes": ["*", "org:admin"]}], "apiKeys.0.scopes"),
    ],
)  # fmt: skip
def test_the_configuration_refuses_a_bad_tree(
    orgs: list[dict[str, Any]], keys: list[dict[str, Any]], path: str
) -> None:
    """A child under an unknown or child parent, a bad status, an unpaired refill, or a child
    key with org:admin is a configuration error at its path."""
    from layers_async.sandbox import Sandbox, SandboxConfigError

    partner = {"ref": "partner", "name": "Agency"}
    with pytest.raises(SandboxConfigError) as info:
        Sandbox(organizations=[partner, *orgs], api_keys=keys)
    assert path in [i["path"] for i in info.value.issues]


async def test_state_counts_every_new_resource(api: Api) -> None:
    """/_sandbox/state counts organizations, keys, endpoints and ledger events by status."""
    child = (await make_child(api))["id"]
    other = (await make_child(api, "Other"))["id"]
    await mint(api, child)
    await allocate(api, child, 10)
    ok(await api.post(f"/v1/organizations/{other}/suspend"))
    ok(
        await api.post("/v1/webhook-endpoints", {"url": "https://a.co/h", "events": ["test.ping"]}),
        201,
    )
    counts = (await api.state())["counts"]
    assert counts["organizations"] == {"total": 3, "byStatus": {"active": 2, "suspended": 1}}
    assert counts["apiKeys"] == {"total": 3, "byStatus": {"active": 3}}
    assert counts["webhookEndpoints"] == {"total": 1, "byStatus": {"active": 1}}
    assert counts["creditEvents"] == {"total": 3}
    ok(await api.delete(f"/v1/organizations/{child}"))
    counts = (await api.state())["counts"]
    assert counts["apiKeys"]["byStatus"] == {"active": 2, "revoked": 1}
    assert counts["organizations"]["byStatus"] == {"active": 1, "suspended": 1, "archived": 1}
    r = await api.get("/_sandbox/state", params={"organizationId": child})
    assert r.json["counts"]["creditEvents"] == {"total": 2}


async def test_a_suspended_child_can_be_archived(api: Api) -> None:
    """suspended → archived: the archive answers, and the child's key is revoked (401, not 503)."""
    child = (await make_child(api))["id"]
    _, secret = await mint(api, child)
    ok(await api.post(f"/v1/organizations/{child}/suspend"))
    assert ok(await api.delete(f"/v1/organizations/{child}"))["status"] == "archived"
    assert_error(await api.with_key(secret).get("/v1/whoami"), 401, "UNAUTHENTICATED")


@pytest.mark.anyio
@pytest.mark.parametrize(("value_len", "status"), [(318, 201), (319, 422)])
async def test_metadata_bound_is_16_kb_of_compact_json(
    api: Api, value_len: int, status: int
) -> None:
    """The 16 KB metadata bound is measured on compact JSON as sent: 16,351 bytes pass, 16,401
    do not (measured with spaces, the first would be 16,450 and refused)."""
    metadata = {f"k{i:02d}": "v" * value_len for i in range(50)}
    r = await api.post("/v1/organizations", {"name": "Acme", "metadata": metadata})
    assert r.status == status
    if status == 422:
        assert_validation(r, "metadata")
