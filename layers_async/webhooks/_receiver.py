"""`WebhookReceiver`: verify, deduplicate and dispatch deliveries to async handlers.

One core (`WebhookReceiver.receive`) behind two front doors that need no web framework as a
dependency: `aiohttp_handler()` for an ``aiohttp.web`` application and `asgi()` for any ASGI
server or framework (Starlette, FastAPI, uvicorn, hypercorn).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

import attrs

from .._errors import LayersValidationError, WebhookVerificationError
from .._secret import Secret
from .._serde import dumps
from ..models.webhooks import EVENT_CLASSES, WebhookEvent
from ._dedup import DedupStore, MemoryDedupStore
from ._verify import KeyForm, _finite, _key, _verified

if TYPE_CHECKING:
    from aiohttp import web

    from ._asgi import WebhookASGIApp

__all__ = [
    "EVENT_ID_HEADER",
    "SupportsWebhookFeed",
    "WebhookFeed",
    "WebhookHandler",
    "WebhookReceiver",
    "WebhookResult",
]

#: The header naming the event of a delivery, the same on every retry: the deduplication key.
EVENT_ID_HEADER = "X-Layers-Event-Id"
#: Bodies above this many bytes are refused with ``413`` unread (events are a few KB).
DEFAULT_MAX_BODY_BYTES = 1_048_576

log = logging.getLogger("layers_async.webhooks")

E = TypeVar("E", bound=WebhookEvent)
#: An async function taking one event; its return value is ignored.
WebhookHandler = Callable[[E], Awaitable[object]]
#: The catalogue name of each event class (to register a handler by class).
_TYPE_OF = {cls: name for name, cls in EVENT_CLASSES.items()}


class WebhookFeed(Protocol):
    """What `SupportsWebhookFeed.webhooks` offers: ``feed(event)``, which wakes the waiters
    the event concerns."""

    def feed(self, event: WebhookEvent) -> object:
        """Hand one verified event over."""
        ...


class SupportsWebhookFeed(Protocol):
    """The ``client=`` of a `WebhookReceiver`: a `LayersClient`, or any object whose
    ``webhooks.feed(event)`` takes verified events."""

    @property
    def webhooks(self) -> WebhookFeed:
        """The event sink."""
        ...


@attrs.frozen
class WebhookResult:
    """What `WebhookReceiver.receive` made of one delivery: the HTTP `status` to answer and a
    short `reason` word.

    ``200``: ``accepted`` (handlers scheduled) or ``duplicate`` (the event id was already
    accepted: handlers not run again). ``400``: the delivery is refused and no handler runs —
    a `WebhookVerificationError` reason (``missing_header``, ``malformed``, ``stale``,
    ``future``, ``no_match``, ``invalid_payload``) or ``event_id_mismatch`` (the
    ``X-Layers-Event-Id`` header differs from the signed body's ``id``). ``405``
    ``method_not_allowed``, ``413`` ``too_large``, ``503`` ``closed`` (after `aclose`),
    ``500`` ``dedup_failed`` / ``dispatch_failed``: the sender retries these later, and the
    event id is not remembered, so the retry is processed.
    """

    status: int
    reason: str
    #: The verified event (``accepted`` and ``duplicate`` only).
    event: WebhookEvent | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer (accepted or duplicate)."""
        return 200 <= self.status < 300

    def body(self) -> bytes:
        """The JSON answer body: ``{"ok": …, "reason": …}`` and the event id when known."""
        out: dict[str, object] = {"ok": self.ok, "reason": self.reason}
        if self.event is not None:
            out["eventId"] = self.event.id
        return dumps(out)


def _secrets(secrets: Sequence[str | Secret], key_form: KeyForm) -> tuple[Secret, ...]:
    """The secrets as `Secret`s, each checked now (a bad one is a configuration error)."""
    if isinstance(secrets, (str, Secret)) or not isinstance(secrets, Sequence) or not secrets:
        raise LayersValidationError("secrets", "must be a non-empty list of signing secrets")
    if key_form not in ("full", "unprefixed", "decoded"):
        raise LayersValidationError("key_form", 'must be "full", "unprefixed" or "decoded"')
    for secret in secrets:
        _key(secret, key_form)
    return tuple(s if isinstance(s, Secret) else Secret(s) for s in secrets)


class WebhookReceiver:
    """Receives Layers webhook deliveries: verifies each one before reading it, drops the
    duplicates, answers at once and runs the handlers in the background.

    ::

        receiver = WebhookReceiver([signing_secret], client=client)

        @receiver.on(JobCompletedEvent)
        async def job_done(event: JobCompletedEvent) -> None:
            print(event.data.job_id, event.data.result)

        app.router.add_post("/layers/webhooks", receiver.aiohttp_handler())  # aiohttp.web
        Route("/layers/webhooks", receiver.asgi_app)  # a Starlette / FastAPI route (ASGI)

    `secrets`: every secret valid for the endpoint (during a rotation, the new and the
    previous one; `set_secrets` changes them while running). `key_form` and
    `tolerance_seconds` are `verify_webhook`'s. `dedup` remembers accepted event ids
    (default: a `MemoryDedupStore` of 100,000 ids). `client`: a `LayersClient` (or any
    `SupportsWebhookFeed`) whose ``webhooks.feed(event)`` gets every accepted event, so its
    waiters resolve on it. `max_body_bytes`: larger bodies get ``413`` unread.

    Each delivery (`receive`): refused with ``400`` (no handler runs, nothing remembered) if
    its signature does not verify, checked before the body is parsed; answered ``200``
    without running anything again if its event id (``X-Layers-Event-Id``, else the body's
    ``id``) was accepted before; otherwise the id is remembered, the event goes to `client`,
    and the handlers are scheduled as a background task before the ``200`` goes out (with a
    `client`, the answer waits one step of the event loop: the waiters the event woke return
    first). An id is
    remembered only once the delivery is accepted: a delivery answered ``5xx`` (or ``413``) is
    retried by the sender and processed then.

    Handlers run one after the other in registration order, each event in its own task; one
    that raises is logged (logger ``layers_async.webhooks``, with the event id) and the others
    still run: the answer was already ``200``. `drain()` waits for the running handlers and
    `aclose()` (or leaving ``async with receiver:``) also refuses new deliveries with ``503``.
    """

    def __init__(
        self,
        secrets: Sequence[str | Secret],
        *,
        key_form: KeyForm = "full",
        tolerance_seconds: float = 300,
        dedup: DedupStore | None = None,
        client: SupportsWebhookFeed | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._secrets = _secrets(secrets, key_form)
        self._key_form: KeyForm = key_form
        if not _finite(tolerance_seconds) or tolerance_seconds < 0:
            raise LayersValidationError("tolerance_seconds", "must be a finite number >= 0")
        self._tolerance = tolerance_seconds
        if dedup is not None and not isinstance(dedup, DedupStore):
            raise LayersValidationError("dedup", "must have seen_or_add() and forget()")
        self.dedup: DedupStore = MemoryDedupStore() if dedup is None else dedup
        feeds = getattr(client, "webhooks", None)
        if client is not None and not callable(getattr(feeds, "feed", None)):
            raise LayersValidationError("client", "must have webhooks.feed(event)")
        self._client = client
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise LayersValidationError("max_body_bytes", "must be an integer >= 1")
        if max_body_bytes < 1:
            raise LayersValidationError("max_body_bytes", "must be an integer >= 1")
        self.max_body_bytes = max_body_bytes
        self._routes: dict[str, list[tuple[type[WebhookEvent] | None, WebhookHandler[Any]]]] = {}
        self._unhandled: list[WebhookHandler[WebhookEvent]] = []
        self._taps: list[Callable[[WebhookEvent], object]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._asgi_app: WebhookASGIApp | None = None

    # ------------------------------------------------------------------ configuration
    def set_secrets(self, secrets: Sequence[str | Secret]) -> None:
        """Replace the signing secrets (e.g. ``[new, previous]`` after a rotation)."""
        self._secrets = _secrets(secrets, self._key_form)

    @property
    def client(self) -> SupportsWebhookFeed | None:
        """The object whose ``webhooks.feed(event)`` gets every accepted event, if any."""
        return self._client

    @overload
    def on(
        self, event_type: type[E], /, *more: type[E]
    ) -> Callable[[WebhookHandler[E]], WebhookHandler[E]]: ...

    @overload
    def on(
        self, event_type: str, /, *more: str
    ) -> Callable[[WebhookHandler[WebhookEvent]], WebhookHandler[WebhookEvent]]: ...

    def on(
        self, event_type: str | type[WebhookEvent], /, *more: str | type[WebhookEvent]
    ) -> Callable[[WebhookHandler[Any]], WebhookHandler[Any]]:
        """Decorator: run the handler for events of the given types.

        By class (``@receiver.on(JobCompletedEvent)``): the handler gets that class, typed, and
        runs only for events that decoded to it. By name (``@receiver.on("job.completed")``):
        it gets a `WebhookEvent` (narrow with ``isinstance``) for every event of that
        ``type``, including names the SDK does not know yet and known events whose `data`
        could not be decoded. Several types may be given; a handler may be registered more
        than once.
        """
        keys = [self._route_key(t) for t in (event_type, *more)]

        def register(handler: WebhookHandler[Any]) -> WebhookHandler[Any]:
            if not callable(handler):
                raise LayersValidationError("handler", "must be an async function of one event")
            for name, cls in keys:
                self._routes.setdefault(name, []).append((cls, handler))
            return handler

        return register

    def on_unhandled(self, handler: WebhookHandler[WebhookEvent]) -> WebhookHandler[WebhookEvent]:
        """Decorator: the catch-all, run for every accepted event no `on` handler matched
        (an unknown type, for instance, as a plain `WebhookEvent`)."""
        if not callable(handler):
            raise LayersValidationError("handler", "must be an async function of one event")
        self._unhandled.append(handler)
        return handler

    @staticmethod
    def _route_key(event_type: object) -> tuple[str, type[WebhookEvent] | None]:
        if isinstance(event_type, str):
            if not event_type:
                raise LayersValidationError("event_type", "must be a non-empty event name")
            return event_type, None
        if isinstance(event_type, type) and event_type in _TYPE_OF:
            return _TYPE_OF[event_type], event_type
        raise LayersValidationError(
            "event_type",
            "must be an event name or one of the catalogue's event classes "
            "(use on_unhandled for a catch-all)",
        )

    # ------------------------------------------------------------------ the core
    async def receive(
        self, raw_body: bytes, signature: str | None, event_id: str | None = None
    ) -> WebhookResult:
        """Process one delivery: its raw body, its ``X-Layers-Signature`` and
        ``X-Layers-Event-Id`` headers. Returns what to answer (`WebhookResult`); the handlers
        it schedules run after it returns. The front door for any other framework."""
        if self._closed:
            return WebhookResult(503, "closed")
        if len(raw_body) > self.max_body_bytes:
            return WebhookResult(413, "too_large")
        try:
            event = _verified(
                raw_body, signature, self._secrets, self._key_form, self._tolerance, None
            )
        except WebhookVerificationError as exc:
            return WebhookResult(400, exc.reason)
        # The header is not signed: it may only repeat the body's id, so that a valid body
        # replayed under another id is still a duplicate.
        if event_id and event_id != event.id:
            return WebhookResult(400, "event_id_mismatch")
        try:
            seen = await self.dedup.seen_or_add(event.id)
        except Exception:
            log.exception("the dedup store failed on webhook event %s", event.id)
            return WebhookResult(500, "dedup_failed")
        if seen:
            return WebhookResult(200, "duplicate", event)
        try:
            self._dispatch(event)
        except Exception:
            log.exception("could not dispatch webhook event %s (%s)", event.id, event.type)
            try:
                await self.dedup.forget(event.id)
            except Exception:
                log.exception("the dedup store failed on webhook event %s", event.id)
            return WebhookResult(500, "dispatch_failed")
        if self._client is not None:
            # One step of the event loop: the waiters the event woke return before the answer
            # is written (its socket write is not theirs to wait for; the sender waits seconds).
            await asyncio.sleep(0)
        return WebhookResult(200, "accepted", event)

    def _handlers(self, event: WebhookEvent) -> list[WebhookHandler[Any]]:
        routes = self._routes.get(event.type, ())
        found = [h for cls, h in routes if cls is None or isinstance(event, cls)]
        return found or list(self._unhandled)

    def _dispatch(self, event: WebhookEvent) -> None:
        for tap in self._taps:
            tap(event)
        fed: Awaitable[object] | None = None
        if self._client is not None:
            try:
                # At once: the waiters it wakes do not wait for the handlers' task.
                result = self._client.webhooks.feed(event)
            except Exception:
                log.exception("client.webhooks.feed failed on webhook event %s", event.id)
            else:
                fed = result if inspect.isawaitable(result) else None
        handlers = self._handlers(event)
        if fed is None and not handlers:
            return
        task = asyncio.get_running_loop().create_task(self._run(event, fed, handlers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        event: WebhookEvent,
        fed: Awaitable[object] | None,
        handlers: list[WebhookHandler[Any]],
    ) -> None:
        """Await the feed, then each handler in turn; a failure is logged, the rest go on."""
        for step in (fed, *handlers):
            if step is None:
                continue
            try:
                result = step(event) if callable(step) else step
                if inspect.isawaitable(result):  # a plain function has already run
                    await result
            except Exception:
                log.exception("a webhook handler failed on event %s (%s)", event.id, event.type)

    # ------------------------------------------------------------------ front doors
    def aiohttp_handler(self) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """An ``aiohttp.web`` request handler:
        ``app.router.add_route("*", "/layers/webhooks", receiver.aiohttp_handler())``."""
        from ._aiohttp import aiohttp_handler

        return aiohttp_handler(self)

    def asgi(self, path: str | None = None) -> WebhookASGIApp:
        """A plain ASGI 3 application around this receiver: route to it in Starlette or FastAPI
        (``Route("/layers/webhooks", receiver.asgi_app)``; a ``Mount`` would answer the bare
        path with a redirect the sender does not follow) or serve it alone. With `path`,
        requests to any other path get ``404``; lifespan events are answered (shutdown waits
        for the running handlers)."""
        from ._asgi import WebhookASGIApp

        return WebhookASGIApp(self, path)

    @property
    def asgi_app(self) -> WebhookASGIApp:
        """The ASGI application of this receiver for any path (`asgi` without a path)."""
        if self._asgi_app is None:
            self._asgi_app = self.asgi()
        return self._asgi_app

    # ------------------------------------------------------------------ lifecycle
    @property
    def pending(self) -> int:
        """How many events still have handlers running."""
        return len(self._tasks)

    @property
    def closed(self) -> bool:
        """True after `aclose`: deliveries are answered ``503`` (the sender retries)."""
        return self._closed

    async def drain(self) -> None:
        """Wait until every scheduled handler has finished (including those scheduled while
        waiting). Cancelling the wait does not cancel the handlers."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Refuse new deliveries (``503``) and wait for the running handlers; idempotent."""
        self._closed = True
        await self.drain()

    async def __aenter__(self) -> WebhookReceiver:
        return self

    async def __aexit__(self, *exc_info: object) -> Literal[False]:
        await self.aclose()
        return False

    def __repr__(self) -> str:
        handlers = sum(len(v) for v in self._routes.values()) + len(self._unhandled)
        return (
            f"WebhookReceiver({len(self._secrets)} secret(s), key_form={self._key_form!r}, "
            f"handlers={handlers}, pending={self.pending}, closed={self._closed})"
        )
