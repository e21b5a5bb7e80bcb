"""The error tree (DESIGN §4), `error_from_response` over the contract's code catalogue (§1.10),
validation issues, and pickling of every error class."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from layers_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ApprovalRequiredError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentRejectedError,
    IdempotencyConflictError,
    InternalServerError,
    KillSwitchError,
    LayersClient,
    LayersError,
    LayersValidationError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    Sandbox,
    UnprocessableEntityError,
    ValidationIssue,
)
from layers_async._errors import error_from_failure, failure_from_response

RID = "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T"


def error_from_response(
    status: int,
    payload: Any,
    *,
    request_id: str | None,
    retry_after: str | None,
    method: str,
    path: str,
) -> APIStatusError:
    """The error the transport builds for a first attempt answered with this status and body.

    It calls the internal `error_from_failure`/`failure_from_response` (no public name builds an
    error from an answer): most codes of the catalogue are ones the sandbox never sends."""
    sent = {"X-Request-Id": request_id, "Retry-After": retry_after}
    headers = {name: value for name, value in sent.items() if value is not None}
    failure = failure_from_response(status, payload, headers)
    err = error_from_failure(failure, method=method, path=path, attempts=1, waited=0.0)
    assert isinstance(err, APIStatusError)
    return err

STATUS_ERRORS: list[type[APIStatusError]] = [
    BadRequestError,
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
    ApprovalRequiredError,
    NotFoundError,
    ConflictError,
    ContentRejectedError,
    IdempotencyConflictError,
    UnprocessableEntityError,
    RateLimitError,
    InternalServerError,
    KillSwitchError,
]


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (LayersValidationError, LayersError),
        (LayersValidationError, ValueError),
        (APIConnectionError, LayersError),
        (APITimeoutError, APIConnectionError),
        (APITimeoutError, TimeoutError),
        (APITimeoutError, LayersError),
        (APIStatusError, LayersError),
        *[(cls, APIStatusError) for cls in STATUS_ERRORS],
        (IdempotencyConflictError, ConflictError),
        (ApprovalRequiredError, PermissionDeniedError),
        (ContentRejectedError, ConflictError),
        (LayersError, Exception),
    ],
)
def test_error_tree_relations(child: type[BaseException], parent: type[BaseException]) -> None:
    """Each class of DESIGN §4 sits under its parent, builtin mixins included."""
    assert issubclass(child, parent)


@pytest.mark.parametrize(
    ("child", "other"),
    [
        (APIConnectionError, APIStatusError),
        (APIStatusError, APIConnectionError),
        (APIConnectionError, TimeoutError),
        (APIStatusError, ValueError),
        (KillSwitchError, InternalServerError),
        (InternalServerError, KillSwitchError),
        (RateLimitError, InternalServerError),
        (ConflictError, IdempotencyConflictError),
        (LayersValidationError, UnprocessableEntityError),
        (UnprocessableEntityError, ValueError),
    ],
)
def test_error_tree_keeps_branches_apart(
    child: type[BaseException], other: type[BaseException]
) -> None:
    """Siblings are not subclasses of each other (a 503 KILL_SWITCH is not a retryable 5xx)."""
    assert not issubclass(child, other)


def test_errors_module_docstring_draws_the_tree() -> None:
    """The errors module's docstring draws the tree, naming every public class."""
    from layers_async import _errors

    doc = _errors.__doc__ or ""
    for cls in [LayersError, LayersValidationError, APIConnectionError, APITimeoutError,
                APIStatusError, *STATUS_ERRORS]:  # fmt: skip
        assert cls.__name__ in doc


# Every code of the §1.10 catalogue with its HTTP status and the class it must raise.
CATALOGUE: list[tuple[str, int, type[APIStatusError]]] = [
    ("IDEMPOTENCY_REQUIRED", 400, BadRequestError),
    ("UNAUTHENTICATED", 401, AuthenticationError),
    ("BILLING_EXHAUSTED", 402, PaymentRequiredError),
    ("FORBIDDEN_SCOPE", 403, PermissionDeniedError),
    ("RETURN_URL_NOT_ALLOWED", 403, PermissionDeniedError),
    ("APPROVAL_REQUIRED", 403, ApprovalRequiredError),
    ("NOT_FOUND", 404, NotFoundError),
    ("CONFLICT", 409, ConflictError),
    ("IDEMPOTENCY_CONFLICT", 409, IdempotencyConflictError),
    ("CONTENT_REJECTED", 409, ContentRejectedError),
    ("VALIDATION", 422, UnprocessableEntityError),
    ("RATE_LIMITED", 429, RateLimitError),
    ("INTERNAL_ERROR", 500, InternalServerError),
    ("BAD_GATEWAY", 502, InternalServerError),
    ("PLATFORM_ERROR", 502, InternalServerError),
    ("SERVICE_UNAVAILABLE", 503, InternalServerError),
    ("KILL_SWITCH", 503, KillSwitchError),
]


def _envelope(code: str | None, message: str = "Boom.", **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "requestId": RID}
    err.update(extra)
    return {"error": err}


@pytest.mark.parametrize(("code", "status", "cls"), CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_catalogue_code_maps_to_class(code: str, status: int, cls: type[APIStatusError]) -> None:
    """Every §1.10 code yields its class, with status, code, message, request id and details."""
    details = {"some": "context"}
    err = error_from_response(
        status,
        _envelope(code, details=details),
        request_id=RID,
        retry_after=None,
        method="POST",
        path="/v1/projects",
    )
    assert type(err) is cls
    assert err.status_code == status
    assert err.code == code
    assert err.message == "Boom."
    assert err.request_id == RID
    assert err.details == details
    assert err.method == "POST"
    assert err.path == "/v1/projects"
    assert err.attempts == 1
    assert code in str(err)
    assert str(status) in str(err)
    assert RID in str(err)


def test_code_wins_over_status() -> None:
    """The class follows `code` even when the status disagrees (branch on code, not status)."""
    err = error_from_response(
        500, _envelope("NOT_FOUND"), request_id=None, retry_after=None, method="GET", path="/x"
    )
    assert type(err) is NotFoundError
    assert err.status_code == 500


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (410, APIStatusError),
        (418, APIStatusError),
        (500, InternalServerError),
        (501, InternalServerError),
        (503, InternalServerError),
        (599, InternalServerError),
    ],
)
def test_unknown_code_falls_back_to_status(status: int, cls: type[APIStatusError]) -> None:
    """An unknown code is classified by HTTP status; unknown 4xx statuses give APIStatusError."""
    err = error_from_response(
        status,
        _envelope("BRAND_NEW_CODE"),
        request_id=RID,
        retry_after=None,
        method="GET",
        path="/",
    )
    assert type(err) is cls
    assert err.code == "BRAND_NEW_CODE"


@pytest.mark.parametrize("payload", [None, "oops", [1, 2], {"detail": "x"}, {"error": "flat"}])
def test_malformed_error_bodies_do_not_break_mapping(payload: Any) -> None:
    """A body that is not the error envelope yields the status class with code None."""
    err = error_from_response(
        502, payload, request_id=None, retry_after=None, method="GET", path="/v1/whoami"
    )
    assert type(err) is InternalServerError
    assert err.code is None
    assert err.details == {}
    assert err.message
    err4 = error_from_response(
        404, payload, request_id=None, retry_after=None, method="GET", path="/v1/whoami"
    )
    assert type(err4) is NotFoundError
    assert err4.code is None


def test_request_id_header_wins_and_body_is_the_fallback() -> None:
    """`request_id` comes from X-Request-Id, else from the body's `requestId`."""
    body = _envelope("NOT_FOUND")
    with_header = error_from_response(
        404, body, request_id="req_HEADER", retry_after=None, method="GET", path="/"
    )
    without = error_from_response(
        404, body, request_id=None, retry_after=None, method="GET", path="/"
    )
    assert with_header.request_id == "req_HEADER"
    assert without.request_id == RID


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("86400", 86400.0),
        (None, None),
        ("soon", None),
        ("-3", None),
        # only whole seconds are what the contract allows: the rest counts as absent
        ("1.5", None),
        ("inf", None),
        ("Infinity", None),
        ("nan", None),
        ("1e3", None),
        ("+5", None),
        ("5_000", None),
        ("\u0665", None),  # an Arabic-Indic digit five
        ("9" * 11, None),
        ("", None),
    ],
)
def test_retry_after_parsed_from_header(header: str | None, expected: float | None) -> None:
    """`retry_after` is the Retry-After header in whole seconds; absent or unusable values
    (fractions, exponents, infinities, signs, other scripts' digits) give None."""
    err = error_from_response(
        429, _envelope("RATE_LIMITED"), request_id=None, retry_after=header, method="GET", path="/"
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already passed: no wait
        ("Wed, 99 Oct 2015 07:28:30 GMT", None),
        ("Wed, 21 Oct 2015", None),
    ],
)
def test_retry_after_http_date_counts_from_the_answers_date(
    header: str, expected: float | None
) -> None:
    """A Retry-After in the HTTP-date form is the seconds from the answer's `Date` to it."""
    headers = {"Retry-After": header, "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert failure_from_response(429, _envelope("RATE_LIMITED"), headers).retry_after == expected


def test_validation_issues_are_objects() -> None:
    """A 422's `details.issues` are exposed as ValidationIssue objects, in order."""
    details = {
        "issues": [
            {"path": "scheduledFor", "message": "Must be at least 30 seconds in the future."},
            {"path": "targets.0.mode", "message": "Must be one of publish, draft, managed."},
        ],
        "missingFields": ["appDescription"],
    }
    err = error_from_response(
        422,
        _envelope("VALIDATION", details=details),
        request_id=RID,
        retry_after=None,
        method="POST",
        path="/v1/content/x/schedule",
    )
    assert isinstance(err, UnprocessableEntityError)
    assert err.issues == [
        ValidationIssue("scheduledFor", "Must be at least 30 seconds in the future."),
        ValidationIssue("targets.0.mode", "Must be one of publish, draft, managed."),
    ]
    assert err.issues[1].path == "targets.0.mode"
    assert err.details["missingFields"] == ["appDescription"]
    assert "targets.0.mode" in repr(err.issues[1])
    assert len({*err.issues, *err.issues}) == 2


def test_issues_empty_when_absent_or_malformed() -> None:
    """`issues` is empty for errors without a well-formed `details.issues`."""
    plain = error_from_response(
        404, _envelope("NOT_FOUND"), request_id=None, retry_after=None, method="GET", path="/"
    )
    odd = error_from_response(
        422,
        _envelope("VALIDATION", details={"issues": "nope"}),
        request_id=None,
        retry_after=None,
        method="GET",
        path="/",
    )
    assert plain.issues == []
    assert odd.issues == []


@pytest.mark.anyio
async def test_server_422_exposes_issues(sandbox: Sandbox) -> None:
    """A real 422 from the sandbox (bad X-Layers-Organization) carries its issues."""
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url) as client:
        with pytest.raises(UnprocessableEntityError) as info:
            await client.whoami(extra_headers={"X-Layers-Organization": "not-an-org"})
    err = info.value
    assert err.code == "VALIDATION"
    assert err.status_code == 422
    assert [i.path for i in err.issues] == ["X-Layers-Organization"]
    assert err.issues[0].message


def _status_error(cls: type[APIStatusError]) -> APIStatusError:
    return cls(
        "It went wrong.",
        status_code=503 if cls is KillSwitchError else 429,
        code="SOME_CODE",
        request_id=RID,
        details={"issues": [{"path": "name", "message": "Too short."}], "n": 1},
        method="POST",
        path="/v1/projects",
        attempts=3,
        retry_after=2.5,
    )


ALL_ERRORS: list[tuple[str, LayersError]] = [
    ("LayersValidationError", LayersValidationError("name", "must be 3 to 30 characters")),
    (
        "APIConnectionError",
        APIConnectionError("reset", method="GET", path="/v1/whoami", attempts=2),
    ),
    ("APITimeoutError", APITimeoutError("timed out", method="GET", path="/v1/whoami")),
    ("APIStatusError", _status_error(APIStatusError)),
    *[(cls.__name__, _status_error(cls)) for cls in STATUS_ERRORS],
]


@pytest.mark.parametrize(("name", "err"), ALL_ERRORS, ids=[n for n, _ in ALL_ERRORS])
def test_every_error_pickles_round_trip(name: str, err: LayersError) -> None:
    """Pickling keeps the class, str(), and every attribute (status, code, message, request id,
    details, retry_after, attempts, method, path)."""
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert type(back).__name__ == name
    assert str(back) == str(err)
    assert back.args == err.args
    assert vars(back) == vars(err)
    if isinstance(err, APIStatusError):
        assert isinstance(back, APIStatusError)
        assert back.status_code == err.status_code
        assert back.code == "SOME_CODE"
        assert back.message == "It went wrong."
        assert back.request_id == RID
        assert back.details == err.details
        assert back.retry_after == 2.5
        assert back.attempts == 3
        assert back.issues == [ValidationIssue("name", "Too short.")]
    if isinstance(err, APIConnectionError):
        assert isinstance(back, APIConnectionError)
        assert (back.method, back.path, back.attempts) == (err.method, err.path, err.attempts)
    if isinstance(err, LayersValidationError):
        assert isinstance(back, LayersValidationError)
        assert (back.field, back.message) == ("name", "must be 3 to 30 characters")


def test_validation_issue_pickles() -> None:
    """ValidationIssue survives pickling with its path and message."""
    issue = ValidationIssue("targets.3.mode", "Bad.")
    assert pickle.loads(pickle.dumps(issue)) == issue


def test_errors_report_the_public_module() -> None:
    """Error classes name `layers_async` as their module, so tracebacks show public names."""
    for cls in [LayersError, LayersValidationError, APIConnectionError, APITimeoutError,
                APIStatusError, *STATUS_ERRORS]:  # fmt: skip
        assert cls.__module__ == "layers_async"
