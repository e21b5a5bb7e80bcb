"""`client.whoami()`, `client.credits` and `client.projects` against the sandbox."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest

from layers_async import (
    AuthenticationError,
    ConflictError,
    LayersClient,
    NotFoundError,
    PermissionDeniedError,
    Project,
    ProjectSummary,
    RateLimitError,
    Sandbox,
    UnprocessableEntityError,
)
from tests.client._refusals import api_refusal, issue_paths
from tests.client._route_tables import scoped_sandbox_options
from tests.client._setup import OpenSandbox

DESC = (
    "Acme Coffee delivers freshly roasted beans on a schedule that fits runners and night-shift "
    "workers who never want to run out."
)
#: Every field projects.create() takes, as keyword arguments.
EVERY_FIELD: dict[str, Any] = {
    "name": "Acme Coffee",
    "timezone": "America/Los_Angeles",
    "customer_external_id": "acme",
    "owner_email": "ops@acme.example",
    "primary_language": "en-US",
    "app_name": "Acme Coffee",
    "app_description": DESC,
    "tagline": "Coffee that shows up.",
    "brand_voice": "warm",
    "target_gender": "female",
    "metadata": {"crm": {"id": 7}},
}


@pytest.mark.anyio
async def test_whoami_decodes(client: LayersClient) -> None:
    """whoami() returns the organization, scopes, tier and key id of the demo-live key."""
    me = await client.whoami()
    assert me.organization_id.startswith("org_")
    assert me.workspace_id == me.organization_id
    assert me.scopes == ("*", "org:admin")
    assert me.api_key_id.startswith("key_")
    assert me.credit_balance == 6000


@pytest.mark.anyio
async def test_unknown_key_is_authentication_error(sandbox: Sandbox) -> None:
    """A key the server does not know raises AuthenticationError (401 UNAUTHENTICATED)."""
    bogus = "lp_live_0123456789ABCDEF_" + "a" * 43
    async with LayersClient(api_key=bogus, base_url=sandbox.url) as client:
        await api_refusal(AuthenticationError, client.whoami())


@pytest.mark.anyio
async def test_credits_decode_with_period(client: LayersClient) -> None:
    """credits.get() decodes the wallet, its period as aware datetimes and the price list."""
    wallet = await client.credits.get()
    assert wallet.balance == wallet.included_remaining + wallet.prepaid_balance
    assert wallet.current_period.start.tzinfo is not None
    assert wallet.current_period.start.utcoffset() == timezone.utc.utcoffset(None)
    assert wallet.current_period.end > wallet.current_period.start
    assert wallet.estimated_credits_per_format["video_remix"] == 120
    assert wallet.billing_status == "active"


@pytest.mark.anyio
async def test_create_decodes_every_field(client: LayersClient) -> None:
    """projects.create() sends snake_case arguments as camelCase and decodes the full Project."""
    project = await client.projects.create(**EVERY_FIELD)
    assert isinstance(project, Project)
    assert project.customer_external_id == "acme"
    assert project.owner_email == "ops@acme.example"
    assert project.primary_language == "en-US"
    assert project.target_gender == "female"
    assert project.metadata == {"crm": {"id": 7}}
    assert project.brand_context is not None
    assert project.brand_context.app_description == DESC
    assert project.brand_context.keywords == ()
    assert project.created_at.tzinfo is not None
    assert project.archived_at is None
    assert project.request_id is not None


@pytest.mark.anyio
async def test_create_defaults(client: LayersClient) -> None:
    """Omitted optional fields take the API's defaults."""
    project = await client.projects.create(name="Plain Co", timezone="UTC")
    assert (project.brand_voice, project.target_gender, project.primary_language) == (
        "authentic",
        "all",
        "en",
    )
    assert project.app_description is None


@pytest.mark.anyio
async def test_duplicate_external_id_is_conflict(client: LayersClient) -> None:
    """A taken customer_external_id raises ConflictError naming the existing project."""
    first = await client.projects.create(name="Acme", timezone="UTC", customer_external_id="a-1")
    again = client.projects.create(name="Acme 2", timezone="UTC", customer_external_id="a-1")
    refused = await api_refusal(ConflictError, again)
    assert refused.details == {"projectId": first.id, "customerExternalId": "a-1"}


@pytest.mark.anyio
async def test_get_by_bare_uuid_and_not_found(client: LayersClient) -> None:
    """get() accepts a bare UUID; an unknown id raises NotFoundError with a request id."""
    project = await client.projects.create(name="Acme", timezone="UTC")
    same = await client.projects.get(project.id.removeprefix("prj_").upper())
    assert same.id == project.id
    await api_refusal(
        NotFoundError, client.projects.get("prj_00000000-0000-4000-8000-000000000000")
    )


@pytest.mark.anyio
async def test_list_filters(client: LayersClient) -> None:
    """list() filters by status, search and customer_external_id and yields summaries."""
    a = await client.projects.create(name="Alpha Roast", timezone="UTC", customer_external_id="a")
    b = await client.projects.create(name="Beta Brew", timezone="UTC")
    await client.projects.archive(b.id)
    active = await client.projects.list(status="active")
    assert [p.id for p in active.items] == [a.id]
    assert isinstance(active.items[0], ProjectSummary)
    searched = await client.projects.list(search="brew")
    assert [p.id for p in searched.items] == [b.id]
    by_ext = await client.projects.list(customer_external_id="a")
    assert [p.id for p in by_ext.items] == [a.id]
    assert not by_ext.has_next


@pytest.mark.anyio
async def test_update_changes_clears_and_archives(client: LayersClient) -> None:
    """update() changes fields, None clears clearable ones, status archives and un-archives."""
    project = await client.projects.create(
        name="Acme", timezone="UTC", tagline="Old line", customer_external_id="x-1"
    )
    changed = await client.projects.update(
        project.id, name="Acme Roasters", tagline=None, customer_external_id=None
    )
    assert (changed.name, changed.tagline, changed.customer_external_id) == (
        "Acme Roasters",
        None,
        None,
    )
    archived = await client.projects.update(project.id, status="archived")
    assert archived.status == "archived"
    assert archived.archived_at is not None
    restored = await client.projects.update(project.id, status="active")
    assert (restored.status, restored.archived_at) == ("active", None)


@pytest.mark.anyio
async def test_update_to_a_taken_external_id_is_conflict(client: LayersClient) -> None:
    """Moving a project onto another project's customer_external_id raises ConflictError."""
    await client.projects.create(name="One Co", timezone="UTC", customer_external_id="one")
    two = await client.projects.create(name="Two Co", timezone="UTC")
    refused = await api_refusal(
        ConflictError, client.projects.update(two.id, customer_external_id="one")
    )
    assert refused.details["customerExternalId"] == "one"


@pytest.mark.anyio
async def test_archive_and_archive_again(client: LayersClient) -> None:
    """archive() answers ProjectArchived; a second archive succeeds with zero cancellations."""
    project = await client.projects.create(name="Acme", timezone="UTC")
    first = await client.projects.archive(project.id)
    assert (first.id, first.status, first.canceled_scheduled_posts) == (project.id, "archived", 0)
    again = await client.projects.archive(project.id)
    assert again.canceled_scheduled_posts == 0
    with pytest.raises(NotFoundError):
        await client.projects.archive("prj_00000000-0000-4000-8000-000000000000")


@pytest.mark.anyio
async def test_missing_scope_is_permission_denied(open_sandbox: OpenSandbox) -> None:
    """A read-only key creating a project raises PermissionDeniedError naming the scope."""
    sb, _ = await open_sandbox(**scoped_sandbox_options(bare_scopes=["projects:read"]))
    async with LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as reader:
        creating = reader.projects.create(name="Acme", timezone="UTC")
        refused = await api_refusal(PermissionDeniedError, creating)
        assert refused.details == {"requiredScope": "projects:write"}
        assert (await reader.projects.list()).items == ()


@pytest.mark.anyio
async def test_server_validation_is_unprocessable_with_issues(client: LayersClient) -> None:
    """A 422 from the server (a malformed header slipped in via extra_headers) lists its issues."""
    bad_org = {"X-Layers-Organization": "not-an-org"}
    creating = client.projects.create(name="Acme", timezone="UTC", extra_headers=bad_org)
    refused = await api_refusal(UnprocessableEntityError, creating)
    assert issue_paths(refused) == ["X-Layers-Organization"]


@pytest.mark.anyio
async def test_per_minute_limit_is_rate_limit_error(client: LayersClient) -> None:
    """The 61st write in one virtual minute raises RateLimitError with retry_after."""
    for i in range(60):
        await client.projects.create(name=f"Bulk {i:02d}", timezone="UTC")
    creating = client.projects.create(name="One Too Many", timezone="UTC")
    refused = await api_refusal(RateLimitError, creating)
    assert refused.details == {"limitType": "per_minute", "endpointClass": "write-light"}
    assert refused.retry_after is not None
    assert refused.retry_after >= 1
