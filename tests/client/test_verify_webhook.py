"""`verify_webhook` (contract §3.15.10): signatures are computed here with `hmac` and `hashlib`,
independently of the SDK, and every refusal is a `WebhookVerificationError` with a reason."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers_async import (
    JobCompletedEvent,
    LayersError,
    LayersValidationError,
    Secret,
    WebhookEvent,
    WebhookVerificationError,
    verify_webhook,
)

SECRET = "whsec_k3Jd8sPq0ZxY7vBn4mL2cR9tW6eA1fGh"
OLD_SECRET = "whsec_Qw8Er5Ty2Ui9Op6As3Df0Gh7Jk4Lz1Xc"
NOW = 1_780_000_000
BODY = json.dumps(
    {
        "id": "evt_01KPM7QZEC6NJF4XJTCZRR6S3N",
        "type": "job.completed",
        "createdAt": "2026-05-14T16:08:01.000Z",
        "data": {
            "organizationId": "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04",
            "jobId": "job_01HXA1NHKJZXPV8R7Q6WSM5BCD",
            "kind": "content_generate",
            "projectId": "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11",
            "result": {"containerId": "cnt_1", "assets": []},
        },
    }
).encode()


def sign(body: bytes, t: int, key: bytes | str = SECRET) -> str:
    """The hex `v1` of `body` at `t`, computed with the standard library alone."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def header(body: bytes = BODY, t: int = NOW, *secrets: str) -> str:
    """A signature header for `body` at `t`, one `v1` per secret (SECRET when none)."""
    return f"t={t}," + ",".join(f"v1={sign(body, t, s)}" for s in (secrets or (SECRET,)))


def refusal(body: bytes, sig: str | None, secrets: list[str] | None = None, **kw: float) -> str:
    """The reason `verify_webhook` refuses with (fails the test when it accepts)."""
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(body, sig, secrets or [SECRET], now=kw.pop("now", NOW), **kw)  # type: ignore[arg-type]
    return info.value.reason


def test_a_valid_delivery_returns_its_typed_event() -> None:
    """A correctly signed body verifies and decodes to the event model of its type."""
    event = verify_webhook(BODY, header(), [SECRET], now=NOW)
    assert isinstance(event, JobCompletedEvent)
    assert event.id == "evt_01KPM7QZEC6NJF4XJTCZRR6S3N"
    assert event.data.job_id == "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
    assert event.data.result == {"containerId": "cnt_1", "assets": []}


def test_a_secret_object_and_a_bytearray_body_are_accepted() -> None:
    """Secrets may be `Secret`s (as create() returns them) and the body any bytes-like."""
    event = verify_webhook(bytearray(BODY), header(), [Secret(SECRET)], now=NOW)
    assert event.type == "job.completed"


def test_a_tampered_body_does_not_match() -> None:
    """One changed byte in the body makes every signature mismatch."""
    tampered = BODY.replace(b"content_generate", b"content_generatf")
    assert refusal(tampered, header()) == "no_match"


def test_a_wrong_secret_does_not_match() -> None:
    """A body signed with another secret is refused as no_match."""
    assert refusal(BODY, header(BODY, NOW, OLD_SECRET)) == "no_match"


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    """A valid v1 moved to another (fresh) timestamp no longer matches."""
    sig = sign(BODY, NOW)
    assert refusal(BODY, f"t={NOW + 1},v1={sig}") == "no_match"


@pytest.mark.parametrize("tolerance", [300, 10])
def test_a_delivery_exactly_at_the_tolerance_is_fresh_both_ways(tolerance: int) -> None:
    """|now - t| equal to the tolerance is accepted, whether t is behind or ahead of now."""
    for t in (NOW - tolerance, NOW + tolerance):
        event = verify_webhook(BODY, header(BODY, t), [SECRET], tolerance, now=NOW)
        assert event.id.startswith("evt_")


def test_one_second_past_the_tolerance_is_stale_or_future() -> None:
    """One second beyond the default 300 s is `stale` when old and `future` when ahead."""
    assert refusal(BODY, header(BODY, NOW - 301)) == "stale"
    assert refusal(BODY, header(BODY, NOW + 301)) == "future"


def test_freshness_defaults_to_the_wall_clock() -> None:
    """Without `now`, a delivery signed in 2001 is stale against time.time()."""
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(BODY, header(BODY, 1_000_000_000), [SECRET])
    assert info.value.reason == "stale"


def test_two_secrets_during_a_rotation_verify_with_either() -> None:
    """Two v1 (new first) verify against the new secret, the old one, or both listed."""
    both = header(BODY, NOW, SECRET, OLD_SECRET)
    for secrets in ([SECRET], [OLD_SECRET], [OLD_SECRET, SECRET]):
        assert verify_webhook(BODY, both, secrets, now=NOW).type == "job.completed"
    only_old = header(BODY, NOW, OLD_SECRET)
    assert verify_webhook(BODY, only_old, [SECRET, OLD_SECRET], now=NOW).type == "job.completed"
    assert refusal(BODY, both, ["whsec_neither"]) == "no_match"


def test_the_key_form_is_a_switch() -> None:
    """`key_form` picks the HMAC key: the full string, the text after whsec_, or its base64."""
    secret = "whsec_" + base64.b64encode(b"raw-key-bytes-0123456789").decode()
    by_form = {
        "full": secret.encode(),
        "unprefixed": secret[len("whsec_") :].encode(),
        "decoded": b"raw-key-bytes-0123456789",
    }
    for form, key in by_form.items():
        sig = f"t={NOW},v1={sign(BODY, NOW, key)}"
        assert verify_webhook(BODY, sig, [secret], now=NOW, key_form=form).id  # type: ignore[arg-type]
        for other in by_form.keys() - {form}:
            with pytest.raises(WebhookVerificationError):
                verify_webhook(BODY, sig, [secret], now=NOW, key_form=other)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sig",
    [
        "",
        "   ",
        "garbage",
        "t=",
        f"t={NOW}",
        f"v1={sign(BODY, NOW)}",
        f"t=abc,v1={sign(BODY, NOW)}",
        f"t=-{NOW},v1={sign(BODY, NOW)}",
        f"t={NOW}.5,v1={sign(BODY, NOW)}",
        f"t=+{NOW},v1={sign(BODY, NOW)}",
        f"t={NOW:_},v1={sign(BODY, NOW)}",
        f"t=１２３,v1={sign(BODY, NOW)}",
        f"t={NOW},t={NOW},v1={sign(BODY, NOW)}",
        f"t={NOW},v1=",
        f"t={NOW},v1={sign(BODY, NOW)[:-1]}",
        f"t={NOW},v1={sign(BODY, NOW)}0",
        f"t={NOW},v1={'z' * 64}",
        f"t={NOW},v1={'é' * 64}",
        f"t={NOW},v1 {sign(BODY, NOW)}",
        f"t={NOW};v1={sign(BODY, NOW)}",
        f"t={NOW},,v1={sign(BODY, NOW)}",
        f"t={NOW},v0={sign(BODY, NOW)}",
        f"t={NOW}," + ",".join([f"v1={sign(BODY, NOW)}"] * 9),
        f"t={NOW},v1={sign(BODY, NOW)}," + "x=" + "y" * 2000,
        f"t={'9' * 40},v1={sign(BODY, NOW)}",
        f"t={NOW},v1=\x00{sign(BODY, NOW)[1:]}",
    ],
)
def test_a_malformed_header_is_refused_before_any_comparison(sig: str) -> None:
    """Headers that are not `t=<int>,v1=<64 hex>[,...]` are refused (malformed or missing)."""
    assert refusal(BODY, sig) in {"malformed", "missing_header"}


def test_a_missing_header_says_so() -> None:
    """No header at all (None, as frameworks give for an absent one) is missing_header."""
    assert refusal(BODY, None) == "missing_header"


@pytest.mark.parametrize("sig", [b"t=1,v1=00", 17])
def test_a_header_that_is_not_text_is_malformed(sig: object) -> None:
    """A header handed over as bytes or a number is refused as malformed, not crashed on."""
    assert refusal(BODY, sig) == "malformed"  # type: ignore[arg-type]


def test_other_schemes_beside_v1_are_ignored() -> None:
    """A future `v2=` part beside a valid v1 does not stop verification."""
    sig = header() + ",v2=whatever"
    assert verify_webhook(BODY, sig, [SECRET], now=NOW).id.startswith("evt_")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"type": "job.completed"}', b'{"id": 1, "type": "x"}',
     b'{"id": "evt_1", "type": "x", "data": [1]}', b"\xff\xfe"],
)  # fmt: skip
def test_a_verified_body_that_is_no_event_is_an_invalid_payload(body: bytes) -> None:
    """A signed body that is not a JSON event object is refused only after it verified."""
    assert refusal(body, header(body)) == "invalid_payload"
    assert refusal(body, header(b"other")) == "no_match"


def test_the_error_never_shows_the_secret_the_signature_or_the_body() -> None:
    """Message, repr and pickle of the error hold no secret, no signature and no body."""
    sig = header(BODY, NOW, OLD_SECRET)
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(BODY, sig, [SECRET], now=NOW)
    err = info.value
    assert isinstance(err, LayersError)
    shown = str(err) + repr(err) + repr(pickle.dumps(err))
    for leak in (SECRET, SECRET[6:], OLD_SECRET, sign(BODY, NOW, OLD_SECRET), "job_01HXA"):
        assert leak not in shown
    assert pickle.loads(pickle.dumps(err)).reason == "no_match"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secrets": []}, "secrets"),
        ({"secrets": SECRET}, "secrets"),
        ({"secrets": [""]}, "secrets"),
        ({"secrets": [42]}, "secrets"),
        ({"raw_body": "text"}, "raw_body"),
        ({"tolerance_seconds": -1}, "tolerance_seconds"),
        ({"tolerance_seconds": float("nan")}, "tolerance_seconds"),
        ({"now": float("inf")}, "now"),
        ({"key_form": "hex"}, "key_form"),
        ({"key_form": "decoded", "secrets": ["whsec_not*base64"]}, "secrets"),
    ],
)
def test_bad_arguments_are_a_validation_error(kwargs: dict[str, object], field: str) -> None:
    """A misconfigured call (no secrets, a str body, a NaN tolerance...) names the argument."""
    call: dict[str, object] = {"raw_body": BODY, "signature_header": header(), "secrets": [SECRET],
                               "now": NOW, **kwargs}  # fmt: skip
    with pytest.raises(LayersValidationError) as info:
        verify_webhook(**call)  # type: ignore[arg-type]
    assert info.value.field == field
    assert SECRET not in str(info.value)


_part = st.one_of(
    st.text(max_size=30),
    st.builds(lambda v: f"t={v}", st.one_of(st.integers(), st.text(max_size=15))),
    st.builds(lambda v: f"v1={v}", st.one_of(st.text(max_size=70), st.just(sign(BODY, NOW)))),
)


@settings(max_examples=300, deadline=None)
@given(
    sig=st.one_of(st.none(), st.text(max_size=200), st.lists(_part, max_size=6).map(",".join)),
    body=st.one_of(st.just(BODY), st.binary(max_size=200)),
)
def test_no_header_and_body_raise_anything_but_a_verification_error(
    sig: str | None, body: bytes
) -> None:
    """Whatever the header and body, verify_webhook returns an event or raises
    WebhookVerificationError: never another exception."""
    with contextlib.suppress(WebhookVerificationError):
        verify_webhook(body, sig, [SECRET, OLD_SECRET], now=NOW)


_keys = st.sampled_from(
    ["jobId", "id", "scheduledPostId", "socialAccountId", "message", "error", "lastError",
     "preview", "assets", "result", "kind", "code", "primaryUrl", "publishedAt"]
) | st.text(max_size=8)  # fmt: skip
_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_value = _scalar | st.lists(_scalar, max_size=3) | st.dictionaries(_keys, _scalar, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    payload=st.one_of(_value, st.dictionaries(_keys, _value, max_size=5)),
    event_type=st.sampled_from(["job.completed", "post.failed", "test.ping", "content.generated",
                                "social_account.connected", "unheard.of"]),
    shape=st.booleans(),
)  # fmt: skip
def test_a_signed_body_of_any_shape_is_an_event_or_an_invalid_payload(
    payload: object, event_type: str, shape: bool
) -> None:
    """A verified body whose fields hold anything decodes to a WebhookEvent or is refused as
    invalid_payload; no other exception escapes the decoding."""
    doc = {"id": "evt_1", "type": event_type, "data": payload, "createdAt": payload}
    body = json.dumps(doc if shape else payload).encode()
    outcome: object
    try:
        outcome = verify_webhook(body, header(body), [SECRET], now=NOW)
    except WebhookVerificationError as err:
        outcome = err.reason
    assert isinstance(outcome, WebhookEvent) or outcome == "invalid_payload"
