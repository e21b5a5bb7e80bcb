"""Typed webhook events (contract §3.15.11): every catalogue type decodes to its model through
the SDK's converter; an unknown type, or data a model cannot hold, stays a `WebhookEvent`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

import layers_async
from layers_async import (
    EVENT_CLASSES,
    ContentApprovedEvent,
    ContentGeneratedEvent,
    ContentRejectedEvent,
    ErrorInfo,
    JobCanceledEvent,
    JobCompletedEvent,
    JobFailedEvent,
    LeaseRequestAssignedEvent,
    LeaseRequestRejectedEvent,
    PostCanceledEvent,
    PostFailedEvent,
    PostPublishedEvent,
    PostScheduledEvent,
    Preview,
    SocialAccountConnectedEvent,
    SocialAccountNeedsReauthEvent,
    SocialAccountRevokedEvent,
    TestPingEvent,
    WebhookEvent,
    WebhookEventType,
    decode_event,
)
from layers_async._serde import converter

ORG = "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"
PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
JOB = {"organizationId": ORG, "jobId": "job_1", "kind": "content_generate", "projectId": PRJ}
POST = {"organizationId": ORG, "scheduledPostId": "sp_1", "containerId": "cnt_1",
        "projectId": PRJ, "socialAccountId": "sa_1"}  # fmt: skip
ACCOUNT = {"organizationId": ORG, "socialAccountId": "sa_1", "projectId": PRJ,
           "platform": "tiktok"}  # fmt: skip
WHEN = "2026-05-14T17:00:00.000Z"
AT = datetime(2026, 5, 14, 17, tzinfo=timezone.utc)

#: type → (data on the wire, expected class, (attribute of data, expected value)).
CASES: dict[str, tuple[dict[str, Any], type[WebhookEvent], tuple[str, object]]] = {
    "job.completed": ({**JOB, "result": {"containerId": "cnt_1"}}, JobCompletedEvent,
                      ("result", {"containerId": "cnt_1"})),
    "job.failed": ({**JOB, "error": {"code": "GENERATION_FAILED", "message": "no"}},
                   JobFailedEvent, ("error", ErrorInfo(code="GENERATION_FAILED", message="no"))),
    "job.canceled": (JOB, JobCanceledEvent, ("job_id", "job_1")),
    "content.generated": (
        {"organizationId": ORG, "id": "cnt_1", "projectId": PRJ, "format": "slideshow",
         "preview": {"kind": "video", "primaryUrl": "https://cdn/x.mp4"}, "assets": [{"a": 1}]},
        ContentGeneratedEvent, ("preview", Preview(kind="video", primary_url="https://cdn/x.mp4")),
    ),
    "content.approved": ({"organizationId": ORG, "id": "cnt_1", "projectId": PRJ,
                          "approvedAt": WHEN, "approvedBy": "key_1"},
                         ContentApprovedEvent, ("approved_at", AT)),
    "content.rejected": ({"organizationId": ORG, "id": "cnt_1", "projectId": PRJ,
                          "rejectedAt": WHEN, "rejectedBy": "key_1", "reason": "off brand"},
                         ContentRejectedEvent, ("reason", "off brand")),
    "post.scheduled": ({**POST, "scheduledFor": WHEN}, PostScheduledEvent, ("scheduled_for", AT)),
    "post.published": ({**POST, "externalId": "x1", "externalUrl": "https://t/x1",
                        "publishedAt": WHEN}, PostPublishedEvent, ("external_url", "https://t/x1")),
    "post.failed": ({**POST, "lastError": {"code": "PLATFORM_ERROR", "message": "down"}},
                    PostFailedEvent, ("last_error", ErrorInfo(code="PLATFORM_ERROR",
                                                               message="down"))),
    "post.canceled": ({**POST, "canceledAt": WHEN}, PostCanceledEvent, ("canceled_at", AT)),
    "social_account.connected": ({**ACCOUNT, "displayName": "@acme", "connectedAt": WHEN},
                                 SocialAccountConnectedEvent, ("display_name", "@acme")),
    "social_account.needs_reauth": (ACCOUNT, SocialAccountNeedsReauthEvent, ("platform", "tiktok")),
    "social_account.revoked": ({**ACCOUNT, "disconnectedReason": "partner",
                                "disconnectedAt": WHEN},
                               SocialAccountRevokedEvent, ("disconnected_at", AT)),
    "lease_request.assigned": ({"organizationId": ORG, "x": 1}, LeaseRequestAssignedEvent,
                               ("get", None)),
    "lease_request.rejected": ({"organizationId": ORG}, LeaseRequestRejectedEvent, ("get", None)),
    "test.ping": ({"organizationId": ORG, "message": "Test event from Layers.",
                   "endpointId": "wh_1"}, TestPingEvent, ("endpoint_id", "wh_1")),
}  # fmt: skip


def envelope(event_type: str, data: object, **extra: object) -> dict[str, object]:
    """An event body as the API sends it."""
    return {"id": "evt_01KPM7", "type": event_type, "createdAt": WHEN, "data": data, **extra}


def test_the_cases_cover_the_whole_catalogue() -> None:
    """Every name of `WebhookEventType` has a model in EVENT_CLASSES and a case here."""
    names = set(WebhookEventType.__args__)  # type: ignore[attr-defined]
    assert names == set(EVENT_CLASSES) == set(CASES)


@pytest.mark.parametrize("event_type", sorted(CASES))
def test_every_catalogue_type_decodes_to_its_model(event_type: str) -> None:
    """Each type decodes (snake_case, datetimes aware, nested models) to its own subclass."""
    data, cls, (attr, expected) = CASES[event_type]
    event = decode_event(envelope(event_type, data))
    assert type(event) is cls
    assert isinstance(event, WebhookEvent)
    assert (event.id, event.type, event.created_at, event.replay_of) == (
        "evt_01KPM7", event_type, AT, None)  # fmt: skip
    if attr == "get":  # Tier 3 types: data stays the payload's dict
        assert event.data == data
    else:
        assert getattr(event.data, attr) == expected
        assert event.data.organization_id == ORG


def test_the_converter_decodes_the_union_too() -> None:
    """`converter.structure(payload, WebhookEvent)` dispatches on `type` like decode_event."""
    event = converter.structure(envelope("job.canceled", JOB), WebhookEvent)
    assert isinstance(event, JobCanceledEvent)
    assert event.data.job_id == "job_1"


def test_an_unknown_type_is_kept_as_a_generic_event() -> None:
    """A type the SDK does not know is a plain WebhookEvent holding data as a dict."""
    data = {"organizationId": ORG, "walletId": "w_1"}
    event = decode_event(envelope("wallet.topped_up", data, newField=1))
    assert type(event) is WebhookEvent
    assert event.type == "wallet.topped_up"
    assert event.data == data


def test_a_known_type_with_unusable_data_is_kept_as_a_generic_event() -> None:
    """Data missing its identifying field (a test ping's custom payload) is not an error."""
    event = decode_event(envelope("test.ping", {"custom": True}))
    assert type(event) is WebhookEvent
    assert event.data == {"custom": True}
    odd = decode_event({"id": "evt_2", "type": "job.failed", "createdAt": 5, "data": {"x": 1}})
    assert (type(odd), odd.created_at) == (WebhookEvent, None)


def test_a_replay_carries_replay_of() -> None:
    """A replayed delivery's top-level `replayOf` is `replay_of`."""
    event = decode_event(envelope("job.canceled", JOB, replayOf="dlv_1"))
    assert event.replay_of == "dlv_1"


def test_events_are_exported_and_documented() -> None:
    """Every event model is exported from the root and carries a docstring."""
    for cls in EVENT_CLASSES.values():
        assert getattr(layers_async, cls.__name__) is cls
        assert cls.__doc__
