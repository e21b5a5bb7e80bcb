"""Building a `WebhookReceiver`: bad settings and registrations fail at once with
`LayersValidationError`, nothing shows a secret, and the dedup store protocol is what the
receiver relies on."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async import (
    DedupStore,
    JobCompletedEvent,
    LayersValidationError,
    MemoryDedupStore,
    Secret,
    WebhookEvent,
    WebhookReceiver,
)

SECRET = "whsec_s3cr3t-value"


@pytest.mark.parametrize(
    ("field", "args", "options"),
    [
        ("secrets", ([],), {}),
        ("secrets", (SECRET,), {}),
        ("secrets", ([""],), {}),
        ("secrets", ([b"whsec_x"],), {}),
        ("key_form", ([SECRET],), {"key_form": "hex"}),
        ("secrets", (["whsec_!!"],), {"key_form": "decoded"}),
        ("tolerance_seconds", ([SECRET],), {"tolerance_seconds": -1}),
        ("tolerance_seconds", ([SECRET],), {"tolerance_seconds": float("nan")}),
        ("dedup", ([SECRET],), {"dedup": {}}),
        ("client", ([SECRET],), {"client": object()}),
        ("max_body_bytes", ([SECRET],), {"max_body_bytes": 0}),
        ("max_body_bytes", ([SECRET],), {"max_body_bytes": True}),
    ],
)
def test_bad_settings_fail_at_construction(
    field: str, args: tuple[Any, ...], options: dict[str, Any]
) -> None:
    """Each bad setting raises LayersValidationError naming its field, without the secret."""
    with pytest.raises(LayersValidationError) as caught:
        WebhookReceiver(*args, **options)
    assert caught.value.field == field
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("event_type", ["", 3, WebhookEvent, dict])
def test_on_refuses_what_is_not_an_event_name_or_class(event_type: Any) -> None:
    """`on` takes event names and the catalogue's classes; `WebhookEvent` itself is refused
    (the catch-all is `on_unhandled`)."""
    receiver = WebhookReceiver([SECRET])
    with pytest.raises(LayersValidationError) as caught:
        receiver.on(event_type)
    assert caught.value.field == "event_type"
    if event_type is WebhookEvent:
        assert "on_unhandled" in str(caught.value)


def test_nothing_shows_the_secrets() -> None:
    """The receiver's repr names how many secrets it holds, never one of them."""
    receiver = WebhookReceiver([SECRET, Secret("whsec_other-value")])

    @receiver.on(JobCompletedEvent)
    async def done(event: JobCompletedEvent) -> None:
        del event

    text = repr(receiver)
    assert "2 secret(s)" in text
    assert "handlers=1" in text
    assert "s3cr3t" not in text
    assert "other-value" not in text


@pytest.mark.anyio
async def test_the_memory_store_is_a_dedup_store_with_a_bound() -> None:
    """`MemoryDedupStore` satisfies `DedupStore`: `seen_or_add` records once, a hit refreshes
    the id, the least recently seen id goes first, and `forget` takes one back."""
    store = MemoryDedupStore(max_events=2)
    assert isinstance(store, DedupStore)
    assert [await store.seen_or_add(i) for i in ("a", "b", "a", "c")] == [False, False, True, False]
    assert ("a" in store, "b" in store, "c" in store) == (True, False, True)
    await store.forget("a")
    await store.forget("never-added")
    assert (await store.seen_or_add("a"), len(store), store.max_events) == (False, 2, 2)
    assert repr(store) == "MemoryDedupStore(2/2 ids)"
    assert MemoryDedupStore().max_events == 100_000
    with pytest.raises(LayersValidationError):
        MemoryDedupStore(max_events=0)
