"""Webhooks: verify a delivery (`verify_webhook`), decode its event (`decode_event`) and
receive deliveries in a web application (`WebhookReceiver`, contract §3.15.10).

::

    from layers_async import JobCompletedEvent, WebhookReceiver

    receiver = WebhookReceiver([signing_secret])

    @receiver.on(JobCompletedEvent)
    async def job_done(event: JobCompletedEvent) -> None:
        ...

    app.router.add_post("/layers/webhooks", receiver.aiohttp_handler())  # aiohttp.web
    Route("/layers/webhooks", receiver.asgi_app)  # a Starlette / FastAPI route (ASGI)

Or verify by hand::

    try:
        event = verify_webhook(raw_body, request.headers.get("X-Layers-Signature"), [secret])
    except WebhookVerificationError:
        return 400

Pass the raw body bytes exactly as received (not re-encoded JSON) and every secret currently
valid for the endpoint: during a secret rotation both the new and the previous one.
"""

from __future__ import annotations

from ._asgi import WebhookASGIApp
from ._dedup import DedupStore, MemoryDedupStore
from ._receiver import (
    EVENT_ID_HEADER,
    SupportsWebhookFeed,
    WebhookFeed,
    WebhookHandler,
    WebhookReceiver,
    WebhookResult,
)
from ._verify import SIGNATURE_HEADER, KeyForm, decode_event, verify_webhook

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "DedupStore",
    "KeyForm",
    "MemoryDedupStore",
    "SupportsWebhookFeed",
    "WebhookASGIApp",
    "WebhookFeed",
    "WebhookHandler",
    "WebhookReceiver",
    "WebhookResult",
    "decode_event",
    "verify_webhook",
]
