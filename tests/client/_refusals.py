"""What the API refuses (the error class, status, code and request id of each refusal) and what
the SDK refuses before sending (the parameter a LayersValidationError names)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from layers_async import (
    APIStatusError,
    ApprovalRequiredError,
    AuthenticationError,
    ConflictError,
    ContentRejectedError,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from tests.client._decoded import assert_request_id

E = TypeVar("E", bound=APIStatusError)

#: The HTTP status and the usual error code of each error class the tests expect.
STATUS_AND_CODE: dict[type[APIStatusError], tuple[int, str]] = {
    AuthenticationError: (401, "UNAUTHENTICATED"),
    PaymentRequiredError: (402, "BILLING_EXHAUSTED"),
    PermissionDeniedError: (403, "FORBIDDEN_SCOPE"),
    ApprovalRequiredError: (403, "APPROVAL_REQUIRED"),
    NotFoundError: (404, "NOT_FOUND"),
    ConflictError: (409, "CONFLICT"),
    ContentRejectedError: (409, "CONTENT_REJECTED"),
    UnprocessableEntityError: (422, "VALIDATION"),
    RateLimitError: (429, "RATE_LIMITED"),
}


async def api_refusal(cls: type[E], pending: Awaitable[Any], *, code: str = "") -> E:
    """Awaiting `pending` raises exactly `cls`, with its status, `code` (default: the class's
    usual one) and a well-formed request id; the error."""
    with pytest.raises(cls) as ei:
        await pending
    refused = ei.value
    assert type(refused) is cls, repr(refused)
    status, usual = STATUS_AND_CODE[cls]
    assert refused.status_code == status
    assert refused.code == (code or usual)
    assert_request_id(refused)
    return refused


def issue_paths(exc: UnprocessableEntityError) -> list[str]:
    """The paths of a 422's issues, in the order the server listed them."""
    return [issue.path for issue in exc.issues]


async def assert_refused_once_archived(
    client: LayersClient, project_id: str, start: Callable[[str], Awaitable[Any]]
) -> None:
    """Once the project is archived, `start(project_id)` is exactly ConflictError
    {projectId, status: archived}."""
    await client.projects.archive(project_id)
    refused = await api_refusal(ConflictError, start(project_id))
    assert refused.details == {"projectId": project_id, "status": "archived"}


#: `details` of the 429 answered to the 11th running job of a standard organization.
CONCURRENT_JOBS_DETAILS = {
    "limitType": "concurrent_jobs",
    "endpointClass": "long-running",
    "running": 10,
    "max": 10,
}


async def assert_running_jobs_capped(
    fill: Callable[[], Awaitable[Any]], start: Callable[[], Awaitable[Any]] | None = None
) -> None:
    """After ten `fill()` jobs the next `start()` (default: `fill()`) is exactly RateLimitError
    concurrent_jobs with a Retry-After of at least one second."""
    for _ in range(10):
        await fill()
    refused = await api_refusal(RateLimitError, (start or fill)())
    assert refused.details == CONCURRENT_JOBS_DETAILS
    assert refused.retry_after is not None
    assert refused.retry_after >= 1


#: A list cursor the server cannot decode.
BAD_CURSOR = "!!not-a-cursor!!"


async def assert_bad_cursor_is_422(page: Awaitable[Any]) -> None:
    """Awaiting `page`, a list call sent with BAD_CURSOR, is a 422 whose only issue is `cursor`."""
    assert issue_paths(await api_refusal(UnprocessableEntityError, page)) == ["cursor"]


async def refused_field(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """The `field` of the LayersValidationError raised by `await call(*args, **kwargs)`."""
    with pytest.raises(LayersValidationError) as ei:
        await call(*args, **kwargs)
    return ei.value.field


def refused_field_now(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The `field` of the LayersValidationError raised by the bare call (nothing awaited)."""
    with pytest.raises(LayersValidationError) as ei:
        call(*args, **kwargs)
    return ei.value.field
