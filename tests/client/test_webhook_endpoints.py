"""`client.webhook_endpoints` against the sandbox: create (with its signing secret), list, get,
update, delete, rotate_secret, test, deliveries and replay_delivery."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async import (
    AsyncPaginator,
    ConflictError,
    LayersClient,
    NotFoundError,
    PermissionDeniedError,
    Sandbox,
    Secret,
    UnprocessableEntityError,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
    WebhookSecretRotated,
    WebhookSent,
)
from tests.client._decoded import assert_aware, assert_request_id
from tests.client._orgs import ADMIN_BUT_READ_ONLY, GHOST_WH, WH_RE, new_child
from tests.client._refusals import api_refusal, issue_paths, refused_field, refused_field_now
from tests.client._setup import OpenSandbox, new_project
from tests.client._tracing import SINGLE, traced_client, url_recorder

URL = "https://yourapp.com/layers/webhooks"
GHOST_PRJ = "prj_00000000-0000-4000-8000-000000000004"


@pytest.mark.anyio
async def test_create_decodes_the_endpoint_and_a_hidden_signing_secret(
    client: LayersClient,
) -> None:
    """create() decodes the endpoint and a `whsec_` Secret whose repr does not show it."""
    me = await client.whoami()
    pid = await new_project(client)
    created = await client.webhook_endpoints.create(
        url=URL,
        events=["job.completed", "post.published"],
        description="prod",
        project_id=pid,
        metadata={"team": "growth"},
    )
    assert isinstance(created, WebhookEndpointCreated)
    endpoint = created.endpoint
    assert WH_RE.match(endpoint.id)
    assert (endpoint.organization_id, endpoint.project_id, endpoint.url) == (
        me.organization_id,
        pid,
        URL,
    )
    assert endpoint.events == ("job.completed", "post.published")
    assert (endpoint.status, endpoint.scope, endpoint.api_version) == ("active", "own", "v1")
    assert (endpoint.description, endpoint.metadata) == ("prod", {"team": "growth"})
    assert (endpoint.last_success_at, endpoint.consecutive_failure_count) == (None, 0)
    assert_aware(endpoint.created_at, endpoint.updated_at)
    assert_request_id(created)
    assert isinstance(created.signing_secret, Secret)
    secret = created.signing_secret.reveal()
    assert secret.startswith("whsec_")
    assert len(secret) == len("whsec_") + 32
    assert secret not in repr(created)
    assert secret not in str(created.to_dict())


@pytest.mark.anyio
async def test_list_and_get(sandbox: Sandbox, client: LayersClient) -> None:
    """list() pages the endpoints newest first, filtered by project; get() reads one."""
    pid = await new_project(client)
    wide = (await client.webhook_endpoints.create(url=URL, events=["job.failed"])).endpoint
    await sandbox.advance(1)
    narrow = await client.webhook_endpoints.create(url=URL, events=["test.ping"], project_id=pid)
    listing = client.webhook_endpoints.list()
    assert isinstance(listing, AsyncPaginator)
    assert [e.id for e in (await listing).items] == [narrow.endpoint.id, wide.id]
    assert all(isinstance(e, WebhookEndpoint) for e in (await listing).items)
    by_project = await client.webhook_endpoints.list(project_id=pid)
    assert [e.id for e in by_project.items] == [narrow.endpoint.id]
    assert [e.id async for e in client.webhook_endpoints.list(status="active", limit=1)] == [
        narrow.endpoint.id,
        wide.id,
    ]
    assert (await client.webhook_endpoints.list(status="paused")).items == ()
    fetched = await client.webhook_endpoints.get(wide.id)
    assert fetched == wide
    await api_refusal(NotFoundError, client.webhook_endpoints.get(GHOST_WH))


@pytest.mark.anyio
async def test_endpoints_belong_to_the_effective_organization(client: LayersClient) -> None:
    """An endpoint made inside a child is the child's: the parent cannot read it (404)."""
    org = await new_child(client)
    inside = client.for_organization(org)
    made = (await inside.webhook_endpoints.create(url=URL, events=["job.completed"])).endpoint
    assert made.organization_id == org
    assert [e.id for e in (await inside.webhook_endpoints.list()).items] == [made.id]
    await api_refusal(NotFoundError, client.webhook_endpoints.get(made.id))


@pytest.mark.anyio
async def test_all_children_refusals(open_sandbox: OpenSandbox) -> None:
    """`all_children` needs org:admin (403), cannot be made inside a child (422 at scope); an
    unknown project is a 404 naming the project."""
    sb, client = await open_sandbox(**ADMIN_BUT_READ_ONLY)
    org = await new_child(client)
    inside = client.for_organization(org).webhook_endpoints.create(
        url=URL, events=["job.completed"], scope="all_children"
    )
    assert issue_paths(await api_refusal(UnprocessableEntityError, inside)) == ["scope"]
    unknown = client.webhook_endpoints.create(url=URL, events=["job.failed"], project_id=GHOST_PRJ)
    missing = await api_refusal(NotFoundError, unknown)
    assert missing.details == {"resource": "project", "id": GHOST_PRJ}
    async with LayersClient(**SINGLE, api_key=sb.keys["no-admin"], base_url=sb.url) as plain:
        firehose = plain.webhook_endpoints.create(
            url=URL, events=["job.completed"], scope="all_children"
        )
        refused = await api_refusal(PermissionDeniedError, firehose)
        assert refused.details == {"requiredScope": "org:admin"}
        own = await plain.webhook_endpoints.create(url=URL, events=["job.completed"])
        assert own.endpoint.scope == "own"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"url": "http://yourapp.com/hooks", "events": ["job.failed"]}, "url"),
        ({"url": "ftp://yourapp.com/hooks", "events": ["job.failed"]}, "url"),
        ({"url": "https://x.com/" + "a" * 2048, "events": ["job.failed"]}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": "job.failed"}, "events"),
        ({"url": URL, "events": ["job.exploded"]}, "events"),
        ({"url": URL, "events": ["job.failed"] * 51}, "events"),
        ({"url": URL, "events": ["job.failed"], "description": "d" * 501}, "description"),
        ({"url": URL, "events": ["job.failed"], "project_id": "cnt_x"}, "project_id"),
        ({"url": URL, "events": ["job.failed"], "metadata": {"a": 1}}, "metadata['a']"),
        ({"url": URL, "events": ["job.failed"], "scope": "everyone"}, "scope"),
        (
            {"url": URL, "events": ["test.ping"], "scope": "all_children", "project_id": GHOST_PRJ},
            "project_id",
        ),
    ],
)
async def test_create_is_validated_before_sending(
    client: LayersClient, call: dict[str, Any], field: str
) -> None:
    """URL, the event catalogue, bounds, ids, scope and the scope/project rule are local."""
    assert await refused_field(client.webhook_endpoints.create, **call) == field


@pytest.mark.anyio
async def test_a_localhost_url_is_accepted_for_development(client: LayersClient) -> None:
    """http://localhost and http://127.0.0.1 URLs pass, for development."""
    for url in ("http://localhost:8080/hooks", "http://127.0.0.1:9000/hooks"):
        created = await client.webhook_endpoints.create(url=url, events=["test.ping"])
        assert created.endpoint.url == url


@pytest.mark.anyio
async def test_list_and_get_are_validated_before_sending(client: LayersClient) -> None:
    """Malformed ids, statuses and limits are refused locally."""
    endpoints = client.webhook_endpoints
    assert await refused_field(endpoints.get, "wh_123") == "endpoint_id"
    assert refused_field_now(endpoints.list, status="off") == "status"  # type: ignore[arg-type]
    assert refused_field_now(endpoints.list, project_id="org_x") == "project_id"
    assert refused_field_now(endpoints.list, limit=101) == "limit"


GHOST_DLV = "dlv_00000000-0000-4000-8000-000000000005"
LOOPBACK = "http://127.0.0.1:9/hooks"


@pytest.mark.anyio
async def test_update_pauses_resumes_and_changes_fields(client: LayersClient) -> None:
    """update() decodes the changed endpoint; pause then resume round-trips the status."""
    made = (await client.webhook_endpoints.create(url=URL, events=["job.failed"])).endpoint
    changed = await client.webhook_endpoints.update(
        made.id,
        url=LOOPBACK,
        events=["test.ping", "job.completed"],
        description="staging",
        metadata={"env": "stg"},
        status="paused",
    )
    assert isinstance(changed, WebhookEndpoint)
    assert (changed.id, changed.url, changed.status) == (made.id, LOOPBACK, "paused")
    assert changed.events == ("test.ping", "job.completed")
    assert (changed.description, changed.metadata) == ("staging", {"env": "stg"})
    assert_aware(changed.updated_at)
    resumed = await client.webhook_endpoints.update(made.id, status="active")
    assert resumed.status == "active"
    await api_refusal(NotFoundError, client.webhook_endpoints.update(GHOST_WH, status="paused"))


@pytest.mark.anyio
async def test_delete_removes_the_endpoint(client: LayersClient) -> None:
    """delete() decodes `{id, deleted}`; the endpoint then reads as 404, and so does a second
    delete."""
    made = (await client.webhook_endpoints.create(url=URL, events=["job.failed"])).endpoint
    gone = await client.webhook_endpoints.delete(made.id)
    assert isinstance(gone, WebhookEndpointDeleted)
    assert (gone.id, gone.deleted) == (made.id, True)
    await api_refusal(NotFoundError, client.webhook_endpoints.get(made.id))
    await api_refusal(NotFoundError, client.webhook_endpoints.delete(made.id))


@pytest.mark.anyio
async def test_rotate_secret_returns_a_new_hidden_secret(client: LayersClient) -> None:
    """rotate_secret() decodes a new `whsec_` Secret (hidden from repr) and an aware overlap
    end; an unknown endpoint is a 404."""
    created = await client.webhook_endpoints.create(url=URL, events=["job.failed"])
    rotated = await client.webhook_endpoints.rotate_secret(created.endpoint.id)
    assert isinstance(rotated, WebhookSecretRotated)
    assert rotated.endpoint_id == created.endpoint.id
    assert isinstance(rotated.signing_secret, Secret)
    secret = rotated.signing_secret.reveal()
    assert secret.startswith("whsec_")
    assert secret != created.signing_secret.reveal()
    assert secret not in repr(rotated)
    assert_aware(rotated.previous_secret_expires_at)
    await api_refusal(NotFoundError, client.webhook_endpoints.rotate_secret(GHOST_WH))


@pytest.mark.anyio
async def test_ping_deliveries_and_replay(open_sandbox: OpenSandbox) -> None:
    """test() schedules a ping listed by deliveries(); replay_delivery() sends it again with
    `replay_of`; a paused endpoint refuses both with 409, unknown ids are 404."""
    _, client = await open_sandbox(webhook_delivery="record")
    hooks = client.webhook_endpoints
    made = (await hooks.create(url=LOOPBACK, events=["job.failed"])).endpoint
    sent = await hooks.test(made.id, payload={"hello": "world"})
    assert isinstance(sent, WebhookSent)
    assert (sent.replay_of, sent.delivery_id.startswith("dlv_")) == (None, True)
    assert_aware(sent.scheduled_at)
    listing = hooks.deliveries(made.id, event_type="test.ping")
    assert isinstance(listing, AsyncPaginator)
    rows = (await listing).items
    assert [d.id for d in rows] == [sent.delivery_id]
    row = rows[0]
    assert isinstance(row, WebhookDelivery)
    assert (row.endpoint_id, row.event_id, row.event_type) == (
        made.id,
        sent.event_id,
        "test.ping",
    )
    assert_aware(row.created_at)
    assert (await hooks.deliveries(made.id, event_type="job.failed")).items == ()
    again = await hooks.replay_delivery(sent.delivery_id)
    assert again.replay_of == sent.delivery_id
    assert again.event_id != sent.event_id
    assert len([d async for d in hooks.deliveries(made.id, limit=1)]) == 2
    await hooks.update(made.id, status="paused")
    await api_refusal(ConflictError, hooks.test(made.id))
    await api_refusal(ConflictError, hooks.replay_delivery(sent.delivery_id))
    await api_refusal(NotFoundError, hooks.replay_delivery(GHOST_DLV))
    await api_refusal(NotFoundError, hooks.test(GHOST_WH))


@pytest.mark.anyio
async def test_the_new_methods_are_validated_before_sending(sandbox: Sandbox) -> None:
    """Malformed ids, enums, URLs, lengths and empty updates are refused locally: no request
    leaves the client."""
    trace, urls = url_recorder()
    async with traced_client(sandbox, trace) as client:
        _refuse_each(client)
        await _refuse_each_awaited(client.webhook_endpoints)
    assert urls == []


def _refuse_each(client: LayersClient) -> None:
    """deliveries() refuses its bad arguments at the call, before any page is awaited."""
    hooks = client.webhook_endpoints
    assert refused_field_now(hooks.deliveries, "wh_x") == "endpoint_id"
    assert refused_field_now(hooks.deliveries, GHOST_WH, status="lost") == "status"
    assert refused_field_now(hooks.deliveries, GHOST_WH, event_type="job.x") == "event_type"
    assert refused_field_now(hooks.deliveries, GHOST_WH, limit=101) == "limit"


async def _refuse_each_awaited(hooks: Any) -> None:
    """The awaited methods refuse their bad arguments when awaited, before sending."""
    assert await refused_field(hooks.update, "wh_1", status="paused") == "endpoint_id"
    assert await refused_field(hooks.update, GHOST_WH) == "endpoint_id"
    assert await refused_field(hooks.update, GHOST_WH, status="auto_paused") == "status"
    assert await refused_field(hooks.update, GHOST_WH, url="ftp://x.com") == "url"
    assert await refused_field(hooks.update, GHOST_WH, events=[]) == "events"
    assert await refused_field(hooks.update, GHOST_WH, description="d" * 501) == "description"
    assert await refused_field(hooks.delete, "prj_x") == "endpoint_id"
    assert await refused_field(hooks.rotate_secret, "wh_") == "endpoint_id"
    assert await refused_field(hooks.test, "wh_x") == "endpoint_id"
    assert await refused_field(hooks.test, GHOST_WH, payload=[1]) == "payload"
    assert await refused_field(hooks.replay_delivery, "wh_x") == "delivery_id"
