"""Decoding a list page (`decode_page`) into a model class it has never seen: the row decoder is
looked up on the class's first page and kept for its next pages.

Internal on purpose: every list method of the client decodes an exported model whose row
decoder an earlier call in the process (or, under mutmut, the process this one forked from)
has already kept, so only a model class made inside the test reaches the lookup itself.
"""

from __future__ import annotations

import attrs
import pytest

from layers_async import APIResponseValidationError, LayersModel, ResponseMeta
from layers_async._request import RawResponse, RequestSpec, decode, decode_page


def _row_model() -> type[LayersModel]:
    """A response model made anew on every call (so no decoder for it is kept yet)."""
    return attrs.make_class(
        "Row",
        {"row_id": attrs.field(type=str), "size": attrs.field(type=int, default=0)},
        bases=(LayersModel,),
        frozen=True,
    )


def _raw(body: bytes) -> RawResponse:
    meta = ResponseMeta(200, {"X-Request-Id": "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T"})
    return RawResponse(body, meta, RequestSpec("GET", "/v1/rows", "read-light"))


def test_the_first_and_later_pages_of_a_model_never_seen_decode_every_row() -> None:
    """The first page of a fresh model class decodes each row into that class (and keeps the
    cursor); its second page decodes the same way, to its last page's cursor of None."""
    row = _row_model()
    first = _raw(b'{"items":[{"rowId":"a","size":2},{"rowId":"b"}],"nextCursor":"c2"}')
    items, cursor = decode_page(first, row)
    assert items == (row(row_id="a", size=2), row(row_id="b"))  # type: ignore[call-arg]
    assert all(type(item) is row for item in items)
    assert cursor == "c2"
    items, cursor = decode_page(_raw(b'{"items":[{"rowId":"c"}],"nextCursor":null}'), row)
    assert items == (row(row_id="c"),)  # type: ignore[call-arg]
    assert cursor is None


def test_a_fresh_models_row_without_a_required_field_is_a_validation_error() -> None:
    """A row of a fresh model class missing its required field is an
    `APIResponseValidationError` naming the page, not a crash."""
    with pytest.raises(APIResponseValidationError) as info:
        decode_page(_raw(b'{"items":[{"size":1}]}'), _row_model())
    assert "not a page of Row" in info.value.message


def test_a_fresh_model_decodes_with_the_responses_metadata() -> None:
    """`decode` builds a fresh model class from a JSON object and attaches the response's
    metadata (status and request id) to it."""
    row = _row_model()
    got = decode(_raw(b'{"rowId":"a","size":3}'), row)
    assert got == row(row_id="a", size=3)  # type: ignore[call-arg]
    assert got.meta is not None
    assert got.meta.status_code == 200
    assert got.meta.request_id == "req_01HXZ9G7KMV2QX8Y1S5RJW3B7T"
