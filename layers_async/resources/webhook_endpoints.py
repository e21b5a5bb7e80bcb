"""`client.webhook_endpoints`: create, list, get, update, delete, rotate the secret of, ping
and list the deliveries of the organization's webhook endpoints, and replay a delivery
(contract §3.15.1-§3.15.9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._pagination import AsyncPaginator
from .._validation import check_enum, check_id, check_return_url, check_str, check_string_map, fail
from ..models import JSON
from ..models.webhook_endpoints import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
    WebhookEndpointStatus,
    WebhookEndpointUpdateStatus,
    WebhookEventType,
    WebhookScope,
    WebhookSecretRotated,
    WebhookSent,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["WebhookEndpoints"]


def _events(value: object) -> list[str]:
    """1 to 50 names from the event catalogue."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not 1 <= len(value) <= 50:
        raise fail("events", "must be a sequence of 1 to 50 event names")
    return [check_enum("events", event, WebhookEventType) for event in value]


class WebhookEndpoints(Resource):
    """URLs the organization's events are delivered to, signed with a per-endpoint secret."""

    __slots__ = ()

    async def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEventType],
        description: str | None = None,
        project_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        scope: WebhookScope | None = None,
        **options: Unpack[RequestOptions],
    ) -> WebhookEndpointCreated:
        """Register an endpoint (`POST /v1/webhook-endpoints`).

        `url` is https (http only for localhost and 127.0.0.1, for development); `events`
        1-50 names of the catalogue; `project_id` narrows deliveries to one project;
        ``scope="all_children"`` also delivers every child's events (needs org:admin; not with
        `project_id`, not from a child). The answer's `signing_secret` is a `Secret` shown only
        here: store ``signing_secret.reveal()`` to verify deliveries.
        """
        opts = call_options(options)
        body: dict[str, JSON] = {
            "url": check_return_url("url", url),
            "events": list(_events(events)),
        }
        if description is not None:
            body["description"] = check_str("description", description, max_len=500)
        if project_id is not None:
            body["projectId"] = check_id("project_id", project_id, "prj")
        if metadata is not None:
            body["metadata"] = dict(check_string_map("metadata", metadata))
        if scope is not None:
            body["scope"] = check_enum("scope", scope, WebhookScope)
            if scope == "all_children" and project_id is not None:
                raise fail("project_id", "cannot narrow an all_children endpoint to a project")
        path = "/v1/webhook-endpoints"
        return await self._write(WebhookEndpointCreated, "POST", path, opts, body=body)

    def list(
        self,
        *,
        project_id: str | None = None,
        status: WebhookEndpointStatus | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[WebhookEndpoint]:
        """The organization's endpoints, newest first (`GET /v1/webhook-endpoints`; `limit`
        1-100 per page). `project_id` keeps that project's endpoints (organization-wide ones
        are left out). Await for a page; `async for` for every endpoint."""
        call = list_options(options)
        params: Params = []
        if project_id is not None:
            params.append(("projectId", check_id("project_id", project_id, "prj")))
        if status is not None:
            params.append(("status", check_enum("status", status, WebhookEndpointStatus)))
        return self._list(WebhookEndpoint, "/v1/webhook-endpoints", params, call, hi=100)

    async def get(self, endpoint_id: str, **options: Unpack[RequestOptions]) -> WebhookEndpoint:
        """One endpoint (`GET /v1/webhook-endpoints/{endpoint_id}`; a ``wh_<uuid>`` id)."""
        opts = call_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        return await self._read(WebhookEndpoint, f"/v1/webhook-endpoints/{eid}", opts)

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[WebhookEventType] | None = None,
        description: str | None = None,
        status: WebhookEndpointUpdateStatus | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> WebhookEndpoint:
        """Change an endpoint (`PATCH /v1/webhook-endpoints/{endpoint_id}`; at least one field).

        ``status="paused"`` abandons its pending deliveries; ``"active"`` resumes it and resets
        the failure count (also after an ``auto_paused``).
        """
        opts = call_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        body: dict[str, JSON] = {}
        if url is not None:
            body["url"] = check_return_url("url", url)
        if events is not None:
            body["events"] = list(_events(events))
        if description is not None:
            body["description"] = check_str("description", description, max_len=500)
        if status is not None:
            body["status"] = check_enum("status", status, WebhookEndpointUpdateStatus)
        if metadata is not None:
            body["metadata"] = dict(check_string_map("metadata", metadata))
        if not body:
            raise fail("endpoint_id", "an update needs at least one field to change")
        path = f"/v1/webhook-endpoints/{eid}"
        return await self._write(WebhookEndpoint, "PATCH", path, opts, body=body)

    async def delete(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> WebhookEndpointDeleted:
        """Delete an endpoint and its delivery history (`DELETE /v1/webhook-endpoints/{id}`)."""
        opts = call_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        path = f"/v1/webhook-endpoints/{eid}"
        return await self._write(WebhookEndpointDeleted, "DELETE", path, opts)

    async def rotate_secret(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> WebhookSecretRotated:
        """A new signing secret (`POST .../rotate-secret`), shown only here as a `Secret`; the
        previous one also signs until `previous_secret_expires_at` (24 hours)."""
        opts = call_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        path = f"/v1/webhook-endpoints/{eid}/rotate-secret"
        return await self._write(WebhookSecretRotated, "POST", path, opts)

    async def test(
        self,
        endpoint_id: str,
        *,
        payload: Mapping[str, JSON] | None = None,
        **options: Unpack[RequestOptions],
    ) -> WebhookSent:
        """Send a signed `test.ping` to this endpoint only (`POST .../test`), whatever its
        events; `payload` replaces the event's data. The endpoint must be active (409)."""
        opts = call_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        body: dict[str, JSON] = {}
        if payload is not None:
            if not isinstance(payload, Mapping):
                raise fail("payload", "must be a mapping")
            body["payload"] = dict(payload)
        path = f"/v1/webhook-endpoints/{eid}/test"
        return await self._write(WebhookSent, "POST", path, opts, body=body)

    def deliveries(
        self,
        endpoint_id: str,
        *,
        event_type: WebhookEventType | None = None,
        status: WebhookDeliveryStatus | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[WebhookDelivery]:
        """An endpoint's deliveries, newest first, without payloads (`GET .../deliveries`;
        `limit` 1-100 per page)."""
        call = list_options(options)
        eid = check_id("endpoint_id", endpoint_id, "wh")
        params: Params = []
        if event_type is not None:
            params.append(("eventType", check_enum("event_type", event_type, WebhookEventType)))
        if status is not None:
            params.append(("status", check_enum("status", status, WebhookDeliveryStatus)))
        path = f"/v1/webhook-endpoints/{eid}/deliveries"
        return self._list(WebhookDelivery, path, params, call, hi=100)

    async def replay_delivery(
        self, delivery_id: str, **options: Unpack[RequestOptions]
    ) -> WebhookSent:
        """Send a delivery's event again under a new event id (`POST
        /v1/webhook-deliveries/{delivery_id}/replay`); `replay_of` names the original."""
        opts = call_options(options)
        did = check_id("delivery_id", delivery_id, "dlv")
        path = f"/v1/webhook-deliveries/{did}/replay"
        return await self._write(WebhookSent, "POST", path, opts)
