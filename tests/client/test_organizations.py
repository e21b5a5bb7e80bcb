"""`client.organizations` against the sandbox: create, list, get, update, suspend, resume,
archive, acting inside a child, and the six-call provision-and-fund flow."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from layers_async import (
    AsyncPaginator,
    AuthenticationError,
    ConflictError,
    KillSwitchError,
    LayersClient,
    NotFoundError,
    Organization,
    OrganizationArchived,
    OrganizationDetail,
    PermissionDeniedError,
    Sandbox,
    Secret,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_aware, assert_request_id
from tests.client._orgs import (
    ADMIN_BUT_READ_ONLY,
    GHOST_KEY,
    GHOST_ORG,
    ORG_RE,
    TXN_RE,
    WH_RE,
    child_with_key,
    new_child,
)
from tests.client._refusals import api_refusal, issue_paths, refused_field, refused_field_now
from tests.client._setup import OpenSandbox
from tests.client._tracing import SINGLE


@pytest.mark.anyio
async def test_create_decodes_every_field(client: LayersClient) -> None:
    """create() sends name, metadata and billing_email and decodes the active child."""
    me = await client.whoami()
    org = await client.organizations.create(
        name="Acme Coffee", metadata={"externalId": "acme-coffee"}, billing_email="ap@acme.example"
    )
    assert isinstance(org, Organization)
    assert ORG_RE.match(org.id)
    assert (org.name, org.status, org.parent_organization_id) == (
        "Acme Coffee",
        "active",
        me.organization_id,
    )
    assert org.metadata == {"externalId": "acme-coffee"}
    assert org.billing_email == "ap@acme.example"
    assert org.archived_at is None
    assert_aware(org.created_at, org.updated_at)
    assert_request_id(org)
    assert org.meta is not None
    assert org.meta.status_code == 201


@pytest.mark.anyio
async def test_a_child_cannot_have_children(client: LayersClient) -> None:
    """Creating a child while acting inside a child is a 422 at the body ("one level deep")."""
    child = await new_child(client)
    nested = client.for_organization(child).organizations.create(name="Grandchild")
    refused = await api_refusal(UnprocessableEntityError, nested)
    assert issue_paths(refused) == [""]


@pytest.mark.anyio
async def test_list_filters_by_status_and_pages(sandbox: Sandbox, client: LayersClient) -> None:
    """list() is a paginator of children, newest first, filtered by status, paged by limit."""
    a = await new_child(client, "Alpha")
    await sandbox.advance(1)
    b = await new_child(client, "Beta")
    await sandbox.advance(1)
    c = await new_child(client, "Gamma")
    await client.organizations.suspend(b)
    listing = client.organizations.list()
    assert isinstance(listing, AsyncPaginator)
    assert [o.id for o in (await listing).items] == [c, b, a]
    suspended = await client.organizations.list(status="suspended")
    assert [o.id for o in suspended.items] == [b]
    assert isinstance(suspended.items[0], Organization)
    first = await client.organizations.list(limit=2)
    assert first.has_next
    walked = [o.id async for o in client.organizations.list(limit=2)]
    assert walked == [c, b, a]


@pytest.mark.anyio
async def test_get_adds_the_summary_and_takes_a_bare_uuid(client: LayersClient) -> None:
    """get() decodes the child with its summary (projects, credits, credit config)."""
    org = await new_child(client)
    await client.organizations.credits.allocate(org, credits=300)
    await client.organizations.credit_config.update(org, monthly_credit_cap=1000)
    detail = await client.organizations.get(org.removeprefix("org_").upper())
    assert isinstance(detail, OrganizationDetail)
    assert detail.id == org
    assert (detail.summary.project_count, detail.summary.balance) == (0, 300)
    assert detail.summary.available == 300
    config = detail.summary.credit_config
    assert (config.monthly_credit_cap, config.refill_threshold, config.auto_refill_enabled) == (
        1000,
        None,
        False,
    )
    await api_refusal(NotFoundError, client.organizations.get(GHOST_ORG))


@pytest.mark.anyio
async def test_update_merges_metadata_and_clears(client: LayersClient) -> None:
    """update() renames, merges metadata ("" removes a key, None clears), clears the email."""
    org = await new_child(
        client, metadata={"externalId": "acme", "plan": "pro"}, billing_email="a@acme.example"
    )
    merged = await client.organizations.update(
        org, name="Acme Roasters", metadata={"plan": "", "region": "eu"}, billing_email=None
    )
    assert (merged.name, merged.billing_email) == ("Acme Roasters", None)
    assert merged.metadata == {"externalId": "acme", "region": "eu"}
    cleared = await client.organizations.update(org, metadata=None)
    assert cleared.metadata == {}


@pytest.mark.anyio
async def test_suspend_and_resume_are_idempotent_by_state(client: LayersClient) -> None:
    """suspend() stops the child's keys (KillSwitchError scope organization); resume() restarts."""
    org, secret = await child_with_key(client)
    child = client.with_options(api_key=secret)
    assert (await client.organizations.suspend(org)).status == "suspended"
    assert (await client.organizations.suspend(org)).status == "suspended"
    stopped = await api_refusal_kill(child.whoami())
    assert stopped.scope == "organization"
    assert stopped.details == {"scope": "organization"}
    assert (await client.organizations.resume(org)).status == "active"
    assert (await client.organizations.resume(org)).status == "active"
    assert (await child.whoami()).organization_id == org


async def api_refusal_kill(pending: Any) -> KillSwitchError:
    """Awaiting `pending` raises exactly KillSwitchError (503 KILL_SWITCH) with a request id."""
    with pytest.raises(KillSwitchError) as ei:
        await pending
    assert type(ei.value) is KillSwitchError
    assert (ei.value.status_code, ei.value.code) == (503, "KILL_SWITCH")
    assert_request_id(ei.value)
    return ei.value


@pytest.mark.anyio
async def test_archive_sweeps_credits_revokes_keys_and_is_terminal(client: LayersClient) -> None:
    """archive() reclaims the balance and revokes keys; a repeat answers the same values; the
    archived child refuses changes (ConflictError) and its key is refused (401)."""
    org, secret = await child_with_key(client)
    await client.organizations.credits.allocate(org, credits=700)
    before = (await client.credits.get()).prepaid_balance
    gone = await client.organizations.archive(org)
    assert isinstance(gone, OrganizationArchived)
    assert (gone.id, gone.status, gone.reclaimed_credits, gone.revoked_api_keys) == (
        org,
        "archived",
        700,
        1,
    )
    assert_aware(gone.archived_at)
    assert (await client.credits.get()).prepaid_balance == before + 700
    again = await client.organizations.archive(org)
    assert (again.archived_at, again.reclaimed_credits) == (gone.archived_at, 700)
    assert (await client.organizations.get(org)).status == "archived"
    refused = await api_refusal(ConflictError, client.organizations.suspend(org))
    assert refused.details == {"organizationId": org, "status": "archived"}
    await api_refusal(ConflictError, client.organizations.update(org, name="Back"))
    await api_refusal(ConflictError, client.organizations.resume(org))
    async with LayersClient(**SINGLE, api_key=secret, base_url=client.base_url) as child:
        await api_refusal(AuthenticationError, child.whoami())


@pytest.mark.anyio
async def test_org_admin_is_required(open_sandbox: OpenSandbox) -> None:
    """A key without org:admin, and any child key, get PermissionDeniedError naming org:admin."""
    sb, admin = await open_sandbox(**ADMIN_BUT_READ_ONLY)
    _, secret = await child_with_key(admin)
    for key in (sb.keys["no-admin"], secret):
        async with LayersClient(**SINGLE, api_key=key, base_url=sb.url) as other:
            refused = await api_refusal(PermissionDeniedError, other.organizations.list())
            assert refused.details == {"requiredScope": "org:admin"}


@pytest.mark.anyio
async def test_another_parents_child_is_not_found(open_sandbox: OpenSandbox) -> None:
    """A child of another organization is a 404 on every route, never a 403."""
    options = {
        "organizations": [
            {"ref": "partner", "name": "Partner"},
            {"ref": "rival", "name": "Rival"},
        ],
        "api_keys": [
            {"name": "demo-live", "organization": "partner", "scopes": ["*", "org:admin"]},
            {"name": "rival", "organization": "rival", "scopes": ["*", "org:admin"]},
        ],
    }
    sb, client = await open_sandbox(**options)
    theirs = await new_child(client)
    async with LayersClient(**SINGLE, api_key=sb.keys["rival"], base_url=sb.url) as rival:
        await api_refusal(NotFoundError, rival.organizations.get(theirs))
        await api_refusal(NotFoundError, rival.organizations.suspend(theirs))
        await api_refusal(NotFoundError, rival.for_organization(theirs).whoami())


@pytest.mark.anyio
async def test_for_organization_acts_inside_the_child(client: LayersClient) -> None:
    """A for_organization view sees the child's organization and wallet with the parent's key."""
    me = await client.whoami()
    org = await new_child(client)
    await client.organizations.credits.allocate(org, credits=250)
    inside = client.for_organization(org)
    seen = await inside.whoami()
    assert (seen.organization_id, seen.parent_organization_id) == (org, me.organization_id)
    assert seen.api_key_id == me.api_key_id
    assert (await inside.credits.get()).balance == 250
    pid = (await inside.projects.create(name="Acme Child", timezone="UTC")).id
    assert (await client.organizations.get(org)).summary.project_count == 1
    await api_refusal(NotFoundError, client.projects.get(pid))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "Acme", "metadata": {"k": 1}}, "metadata['k']"),
        ({"name": "Acme", "metadata": {"k" * 41: "v"}}, "metadata"),
        ({"name": "Acme", "metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"name": "Acme", "metadata": {"k": "v" * 501}}, "metadata['k']"),
        ({"name": "Acme", "metadata": {f"k{i}": "é" * 200 for i in range(50)}}, "metadata"),
        ({"name": "Acme", "metadata": ["externalId"]}, "metadata"),
        ({"name": "Acme", "billing_email": "not-an-email"}, "billing_email"),
    ],
)
async def test_create_is_validated_before_sending(
    client: LayersClient, call: dict[str, Any], field: str
) -> None:
    """Lengths, string-to-string metadata bounds and the email are checked locally."""
    assert await refused_field(client.organizations.create, **call) == field


@pytest.mark.anyio
async def test_other_calls_are_validated_before_sending(client: LayersClient) -> None:
    """Malformed ids, unknown statuses, empty updates and null metadata values are local."""
    orgs = client.organizations
    assert await refused_field(orgs.get, "prj_00000000-0000-4000-8000-000000000001") == "org_id"
    assert await refused_field(orgs.suspend, "acme") == "org_id"
    assert refused_field_now(orgs.list, status="deleted") == "status"  # type: ignore[arg-type]
    assert refused_field_now(orgs.list, limit=201) == "limit"
    assert await refused_field(orgs.update, GHOST_ORG) == "update"
    null_value: Any = {"plan": None}
    assert await refused_field(orgs.update, GHOST_ORG, metadata=null_value) == "metadata['plan']"
    assert await refused_field(orgs.update, GHOST_ORG, name="") == "name"


@pytest.mark.anyio
async def test_the_six_call_provision_and_fund_flow(sandbox: Sandbox, client: LayersClient) -> None:
    """The contract's six calls (create, mint, allocate, cap and refill, firehose webhook,
    child wallet) through the SDK; the minted key then works as the child."""
    before = (await client.credits.get()).prepaid_balance
    org = await client.organizations.create(
        name="Acme Coffee", metadata={"externalId": "acme-coffee"}
    )
    minted = await client.organizations.api_keys.create(
        org.id, name="acme-integration", scopes=["content:read", "content:write"]
    )
    funded = await client.organizations.credits.allocate(org.id, credits=5000)
    config = await client.organizations.credit_config.update(
        org.id, monthly_credit_cap=5000, refill_threshold=1000, refill_amount=2000
    )
    hook = await client.webhook_endpoints.create(
        url="https://yourapp.com/layers/webhooks",
        events=["job.completed", "job.failed", "post.published", "post.failed"],
        scope="all_children",
    )
    wallet = await client.organizations.credits.get(org.id)

    assert isinstance(minted.secret, Secret)
    assert minted.api_key.scopes == ("content:read", "content:write")
    assert TXN_RE.match(funded.id)
    assert (funded.allocated, funded.balance, funded.available, funded.replayed) == (
        5000,
        5000,
        5000,
        False,
    )
    assert config.config.auto_refill_enabled
    assert WH_RE.match(hook.endpoint.id)
    assert hook.endpoint.scope == "all_children"
    assert hook.signing_secret.reveal().startswith("whsec_")
    assert (wallet.balance, wallet.available) == (5000, 5000)
    assert (await client.credits.get()).prepaid_balance == before - 5000
    child = client.with_options(api_key=minted.secret)
    me = await child.whoami()
    assert (me.organization_id, me.scopes) == (org.id, ("content:read", "content:write"))
    counts = (await sandbox.state())["counts"]
    assert counts["organizations"]["total"] == 2


@pytest.mark.parametrize("sub", ["api_keys", "credits", "credit_config"])
def test_sub_namespaces_are_made_once_and_show_their_call_options(sub: str) -> None:
    """`client.organizations.<sub>` is one object per client view, and its methods' help shows
    the call options as keyword-only parameters."""
    client = LayersClient(api_key="lp_test_offline", base_url="http://127.0.0.1:9")
    namespace = getattr(client.organizations, sub)
    assert getattr(client.organizations, sub) is namespace
    assert getattr(client.with_options(timeout=5).organizations, sub) is not namespace
    for name, method in inspect.getmembers(namespace, inspect.ismethod):
        if not name.startswith("_"):
            params = inspect.signature(method).parameters
            assert list(params)[-3:] == ["timeout", "idempotency_key", "extra_headers"], name


@pytest.mark.anyio
@pytest.mark.xfail(
    strict=True,
    reason="sandbox defect: it measures the 16 KB metadata bound on JSON re-serialised with "
    "spaces, not on the compact JSON sent, so it refuses metadata of 16,351 bytes",
)
async def test_metadata_just_under_16_kb_as_sent_is_accepted(client: LayersClient) -> None:
    """Metadata whose JSON, as the SDK sends it, is just under 16 KB passes both checks."""
    metadata = {f"k{i:02d}": "v" * 318 for i in range(50)}  # 16,351 bytes compact
    org = await client.organizations.create(name="Acme", metadata=metadata)
    assert org.metadata == metadata


#: Every call naming a child organization, given an id that names none.
UNKNOWN_CHILD_CALLS = {
    "update": lambda c: c.organizations.update(GHOST_ORG, name="Acme"),
    "resume": lambda c: c.organizations.resume(GHOST_ORG),
    "archive": lambda c: c.organizations.archive(GHOST_ORG),
    "api_keys.create": lambda c: c.organizations.api_keys.create(GHOST_ORG, name="k", scopes=["*"]),
    "api_keys.list": lambda c: c.organizations.api_keys.list(GHOST_ORG),
    "api_keys.rotate": lambda c: c.organizations.api_keys.rotate(GHOST_ORG, GHOST_KEY),
    "credits.get": lambda c: c.organizations.credits.get(GHOST_ORG),
    "credit_config.get": lambda c: c.organizations.credit_config.get(GHOST_ORG),
    "credit_config.update": lambda c: c.organizations.credit_config.update(
        GHOST_ORG, monthly_credit_cap=None
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("call", UNKNOWN_CHILD_CALLS.values(), ids=UNKNOWN_CHILD_CALLS.keys())
async def test_an_unknown_child_is_not_found(client: LayersClient, call: Any) -> None:
    """Each call on a child that does not exist raises NotFoundError."""
    await api_refusal(NotFoundError, call(client))


@pytest.mark.anyio
async def test_acting_in_a_suspended_child_reads_but_starts_nothing(client: LayersClient) -> None:
    """Inside a suspended child the parent's key still reads and makes projects, but a job start
    is a ConflictError naming the child and its status."""
    org = await new_child(client)
    inside = client.for_organization(org)
    await client.organizations.suspend(org)
    pid = (await inside.projects.create(name="Acme Child", timezone="UTC")).id
    assert (await inside.projects.get(pid)).id == pid
    refused = await api_refusal(ConflictError, inside.influencers.create(pid))
    assert refused.details == {"organizationId": org, "status": "suspended"}
