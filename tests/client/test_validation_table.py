"""Bad input is refused by the SDK before any request: one table across every resource."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from layers_async import (
    LayersClient,
    LayersError,
    LayersValidationError,
    Sandbox,
    ScheduleTarget,
    Timeouts,
)

PRJ = "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"
MED = "med_7a1c3e5f-2b4d-4e6f-8a0b-1c2d3e4f5a6b"
SA = "sa_9c1e42a0-3d5f-4a7b-b9c1-d2e3f4a5b6c7"
INF = "inf_5f0b8d2e-6a4c-4e1f-a3b5-c7d9e1f3a5b7"
CNT = "cnt_7d18b9a1-4c2e-4f6a-8b0d-2e4f6a8c0e1d"
SP = "sp_3b5d7f9a-1c3e-4a5b-9c7d-e9f1a3b5c7d9"
JOB = "job_01HXA1NHKJZXPV8R7Q6WSM5BCD"
ORG = "org_1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"
WH = "wh_2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
ST = "st_01HXZ8K2M4P5QRS6TV7WXYZ9AB"
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)
DESC = "d" * 120

Call = Callable[[LayersClient], Awaitable[Any]]


async def _first_page(paginator: Any) -> Any:
    return await paginator


def _create(**fields: Any) -> Call:
    """`projects.create` of "Acme" in UTC with `fields` added."""
    return lambda c: c.projects.create(name="Acme", timezone="UTC", **fields)


def _upload(url: str, kind: Any = "logo") -> Call:
    """`app_media.upload` of `url` as `kind` into a project."""
    return lambda c: c.app_media.upload(PRJ, kind=kind, url=url)


def _metadata(size: int) -> dict[str, str]:
    """A metadata object whose compact JSON is exactly `size` bytes (`{"x":"..."}`)."""
    return {"x": "y" * (size - len('{"x":""}'))}


def _string_map(size: int) -> dict[str, str]:
    """String → string metadata of 40 keys (within every other bound) whose compact JSON is
    exactly `size` bytes (for sizes near the 16 KB bound)."""
    out = {f"k{i:02}": "v" * 400 for i in range(40)}
    out["k00"] = "v" * (400 + size - len(json.dumps(out, separators=(",", ":"))))
    return out


def _org(metadata: Any) -> Call:
    """`organizations.create` of "Acme" with string → string `metadata`."""
    return lambda c: c.organizations.create(name="Acme", metadata=metadata)


def _return_url(url: str) -> Call:
    """`social.oauth_url` for TikTok returning to `url`."""
    return lambda c: c.social.oauth_url(PRJ, platform="tiktok", return_url=url)


def _url_of(length: int) -> str:
    """An https media URL of exactly `length` characters."""
    head = "https://cdn.example.com/"
    return head + "a" * (length - len(head))


CASES: list[tuple[str, Call, str]] = [
    # projects
    ("name too short", lambda c: c.projects.create(name="ab", timezone="UTC"), "name"),
    ("name too long", lambda c: c.projects.create(name="x" * 31, timezone="UTC"), "name"),
    (
        "unknown timezone",
        lambda c: c.projects.create(name="Acme", timezone="Mars/Base"),
        "timezone",
    ),
    ("description too short", _create(app_description="short"), "app_description"),
    ("description too long", _create(app_description="d" * 1001), "app_description"),
    ("tagline too long", _create(tagline="t" * 81), "tagline"),
    ("empty tagline", _create(tagline=""), "tagline"),
    ("unknown brand voice", _create(brand_voice="shouty"), "brand_voice"),
    ("unknown target gender", _create(target_gender="robots"), "target_gender"),
    ("bad owner email", _create(owner_email="not-an-email"), "owner_email"),
    ("bad language tag", _create(primary_language="english!"), "primary_language"),
    ("metadata over 8 KB", _create(metadata={"x": "y" * 9000}), "metadata"),
    ("external id too long", _create(customer_external_id="e" * 129), "customer_external_id"),
    ("malformed project id", lambda c: c.projects.get("project-1"), "project_id"),
    ("list limit 0", lambda c: _first_page(c.projects.list(limit=0)), "limit"),
    ("list limit 201", lambda c: _first_page(c.projects.list(limit=201)), "limit"),
    ("list bad status", lambda c: _first_page(c.projects.list(status="gone")), "status"),  # type: ignore[arg-type]
    ("empty update", lambda c: c.projects.update(PRJ), "update"),
    ("clear the name", lambda c: c.projects.update(PRJ, name=None), "name"),  # type: ignore[arg-type]
    # app media
    ("http media url", _upload("http://cdn.example.com/a.png"), "url"),
    ("private media url", _upload("https://192.168.1.4/a.png"), "url"),
    ("localhost media url", _upload("https://localhost/a.png"), "url"),
    ("credentials in media url", _upload("https://u:p@cdn.example.com/a.png"), "url"),
    ("unknown media kind", _upload("https://cdn.example.com/a.png", kind="end-card"), "kind"),
    ("media list limit 101", lambda c: _first_page(c.app_media.list(PRJ, limit=101)), "limit"),
    ("malformed media id", lambda c: c.app_media.delete(PRJ, "logo.png"), "media_id"),
    ("delete: malformed project id", lambda c: c.app_media.delete("prj_nope", MED), "project_id"),
    ("delete: bare uuid media id", lambda c: c.app_media.delete(PRJ, MED[4:]), "media_id"),
    ("delete: unprefixed media id", lambda c: c.app_media.delete(PRJ, "med_nope"), "media_id"),
    (
        "delete: account id as media id",
        lambda c: c.app_media.delete(PRJ, f"sa_{MED[4:]}"),
        "media_id",
    ),
    # social
    (
        "unknown platform",
        lambda c: c.social.oauth_url(PRJ, platform="myspace", return_url="https://a.example/cb"),  # type: ignore[arg-type]
        "platform",
    ),
    (
        "http return url off localhost",
        _return_url("http://a.example/cb"),
        "return_url",
    ),
    (
        "usage note too long",
        lambda c: c.social.oauth_url(
            PRJ, platform="tiktok", return_url="https://a.example/cb", usage_note="n" * 501
        ),
        "usage_note",
    ),
    ("lowercase state", lambda c: c.social.oauth_status(PRJ, ST.lower()), "state"),
    ("accounts limit 0", lambda c: _first_page(c.social.accounts(PRJ, limit=0)), "limit"),
    ("malformed account id", lambda c: c.social.disconnect(INF), "social_account_id"),
    # influencers
    (
        "unknown gender",
        lambda c: c.influencers.create(PRJ, gender="other"),  # type: ignore[arg-type]
        "gender",
    ),
    (
        "unknown age range",
        lambda c: c.influencers.create(PRJ, age_range="ancient"),  # type: ignore[arg-type]
        "age_range",
    ),
    ("prompt too long", lambda c: c.influencers.create(PRJ, prompt="p" * 1001), "prompt"),
    ("empty influencer update", lambda c: c.influencers.update(INF), "update"),
    (
        "influencer list limit 101",
        lambda c: _first_page(c.influencers.list(PRJ, limit=101)),
        "limit",
    ),
    # keywords
    ("keywords bad project id", lambda c: c.keywords.refresh("prj_nope"), "project_id"),
    # content
    (
        "source limit 21",
        lambda c: c.content.source_recommendations(PRJ, limit=21),
        "limit",
    ),
    (
        "empty keyword",
        lambda c: c.content.source_recommendations(PRJ, keyword=""),
        "keyword",
    ),
    (
        "remix without an actor",
        lambda c: c.content.slideshow_remix(PRJ, tiktok_video_id="7301234567890123456"),
        "influencer_id",
    ),
    (
        "non-numeric tiktok id",
        lambda c: c.content.video_remix(PRJ, tiktok_video_id="abc", influencer_id=INF),
        "tiktok_video_id",
    ),
    ("empty hook", lambda c: c.content.slideshow_builder(PRJ, hook=""), "hook"),
    ("hook too long", lambda c: c.content.slideshow_builder(PRJ, hook="h" * 2001), "hook"),
    (
        "ugc with a malformed media id",
        lambda c: c.content.ugc_remix(PRJ, influencer_id=INF, media_id="demo.mp4"),
        "media_id",
    ),
    ("hooks limit 51", lambda c: c.content.hooks(PRJ, limit=51), "limit"),
    (
        "naive since",
        lambda c: _first_page(c.content.list(PRJ, since=datetime(2026, 5, 1))),
        "since",
    ),
    (
        "schedule with no targets",
        lambda c: c.content.schedule(CNT, scheduled_for=LATER, targets=[]),
        "targets",
    ),
    (
        "schedule 51 targets",
        lambda c: c.content.schedule(
            CNT,
            scheduled_for=LATER,
            targets=[ScheduleTarget(social_account_id=SA, mode="publish")] * 51,
        ),
        "targets",
    ),
    (
        "schedule naive time",
        lambda c: c.content.schedule(
            CNT,
            scheduled_for=datetime(2030, 1, 1),
            targets=[ScheduleTarget(social_account_id=SA, mode="publish")],
        ),
        "scheduled_for",
    ),
    (
        "schedule unknown mode",
        lambda c: c.content.schedule(
            CNT,
            scheduled_for=LATER,
            targets=[ScheduleTarget(social_account_id=SA, mode="later")],  # type: ignore[arg-type]
        ),
        "targets[0].mode",
    ),
    (
        "schedule duplicate target",
        lambda c: c.content.schedule(
            CNT,
            scheduled_for=LATER,
            targets=[
                ScheduleTarget(social_account_id=SA, mode="publish"),
                ScheduleTarget(social_account_id=SA, mode="publish"),
            ],
        ),
        "targets[1]",
    ),
    (
        "caption override too long",
        lambda c: c.content.schedule(
            CNT,
            scheduled_for=LATER,
            targets=[
                ScheduleTarget(social_account_id=SA, mode="publish", caption_override="c" * 4001)
            ],
        ),
        "targets[0].caption_override",
    ),
    # approvals, the review policy and publish-now
    ("approve malformed id", lambda c: c.content.approve("cnt_nope"), "container_id"),
    ("approve note too long", lambda c: c.content.approve(CNT, note="n" * 1025), "note"),
    ("reject empty reason", lambda c: c.content.reject(CNT, reason=""), "reason"),
    ("reject reason too long", lambda c: c.content.reject(CNT, reason="r" * 1025), "reason"),
    ("reject reason not text", lambda c: c.content.reject(CNT, reason=5), "reason"),  # type: ignore[arg-type]
    ("publish no targets", lambda c: c.content.publish(CNT, targets=[]), "targets"),
    (
        "publish 51 targets",
        lambda c: c.content.publish(
            CNT, targets=[ScheduleTarget(social_account_id=SA, mode="publish")] * 51
        ),
        "targets",
    ),
    (
        "publish unknown mode",
        lambda c: c.content.publish(
            CNT,
            targets=[ScheduleTarget(social_account_id=SA, mode="later")],  # type: ignore[arg-type]
        ),
        "targets[0].mode",
    ),
    (
        "publish malformed container id",
        lambda c: c.content.publish(
            "post-1", targets=[ScheduleTarget(social_account_id=SA, mode="publish")]
        ),
        "container_id",
    ),
    (
        "unknown review policy",
        lambda c: c.projects.update_review_policy(PRJ, policy="review_some"),  # type: ignore[arg-type]
        "policy",
    ),
    (
        "review_first_n without first_n",
        lambda c: c.projects.update_review_policy(PRJ, policy="review_first_n"),
        "first_n",
    ),
    (
        "first_n 51",
        lambda c: c.projects.update_review_policy(PRJ, policy="review_first_n", first_n=51),
        "first_n",
    ),
    (
        "first_n with review_all",
        lambda c: c.projects.update_review_policy(PRJ, policy="review_all", first_n=3),
        "first_n",
    ),
    (
        "policy of malformed project id",
        lambda c: c.projects.get_review_policy("prj_nope"),
        "project_id",
    ),
    # jobs and scheduled posts
    ("malformed job id", lambda c: c.jobs.get("job_123"), "job_id"),
    ("cancel malformed job id", lambda c: c.jobs.cancel(CNT), "job_id"),
    (
        "posts list limit 101",
        lambda c: _first_page(c.scheduled_posts.list(PRJ, limit=101)),
        "limit",
    ),
    (
        "reschedule naive",
        lambda c: c.scheduled_posts.reschedule(SP, scheduled_for=datetime(2030, 1, 1)),
        "scheduled_for",
    ),
    ("cancel reason too long", lambda c: c.scheduled_posts.cancel(SP, reason="r" * 1025), "reason"),
    # per-call options
    (
        "bad idempotency key",
        lambda c: c.projects.get(PRJ, idempotency_key="has space"),
        "idempotency_key",
    ),
    ("negative timeout", lambda c: c.whoami(timeout=-1), "timeout"),
    # boundaries: the first invalid value past each bound (the last valid one is in ACCEPTED)
    ("name 2 characters", lambda c: c.projects.create(name="xy", timezone="UTC"), "name"),
    ("description 99 characters", _create(app_description="d" * 99), "app_description"),
    ("metadata 8,193 bytes", _create(metadata=_metadata(8_193)), "metadata"),
    ("metadata not a mapping", _create(metadata=[("k", "v")]), "metadata"),
    ("metadata not JSON", _create(metadata={"when": LATER}), "metadata"),
    ("list limit -1", lambda c: _first_page(c.projects.list(limit=-1)), "limit"),
    ("list limit True", lambda c: _first_page(c.projects.list(limit=True)), "limit"),
    ("first_n 0", lambda c: c.projects.update_review_policy(PRJ, policy="review_first_n", first_n=0), "first_n"),  # noqa: E501
    ("media url 2,049 characters", _upload(_url_of(2_049)), "url"),
    ("empty media url", _upload(""), "url"),
    ("media url with a space", _upload("https://cdn.example.com/a b.png"), "url"),
    ("media url with a tab", _upload("https://cdn.example.com/\ta.png"), "url"),
    ("media url without a host", _upload("https:///a.png"), "url"),
    ("media url with a bad IPv6", _upload("https://[::1/a.png"), "url"),
    ("media url not a string", _upload(b"https://cdn.example.com/a.png"), "url"),  # type: ignore[arg-type]
    ("localhost with a trailing dot", _upload("https://localhost./a.png"), "url"),
    ("LOCALHOST upper case", _upload("https://LOCALHOST/a.png"), "url"),
    ("a .localhost subdomain", _upload("https://app.localhost/a.png"), "url"),
    ("cloud metadata host", _upload("https://metadata.google.internal/a.png"), "url"),
    ("metadata host, trailing dot", _upload("https://metadata.google.internal./a"), "url"),
    ("0.0.0.0", _upload("https://0.0.0.0/a.png"), "url"),
    ("first of 10/8", _upload("https://10.0.0.0/a.png"), "url"),
    ("last of 10/8", _upload("https://10.255.255.255/a.png"), "url"),
    ("first of 100.64/10", _upload("https://100.64.0.0/a.png"), "url"),
    ("last of 100.64/10", _upload("https://100.127.255.255/a.png"), "url"),
    ("loopback", _upload("https://127.0.0.1/a.png"), "url"),
    ("cloud metadata address", _upload("https://169.254.169.254/a.png"), "url"),
    ("first of 172.16/12", _upload("https://172.16.0.0/a.png"), "url"),
    ("last of 172.16/12", _upload("https://172.31.255.255/a.png"), "url"),
    ("last of 192.168/16", _upload("https://192.168.255.255/a.png"), "url"),
    ("loopback as one number", _upload("https://2130706433/a.png"), "url"),
    ("loopback in hex", _upload("https://0x7f.1/a.png"), "url"),
    ("loopback shortened", _upload("https://127.1/a.png"), "url"),
    ("IPv6 unspecified", _upload("https://[::]/a.png"), "url"),
    ("IPv6 loopback", _upload("https://[::1]/a.png"), "url"),
    ("IPv6 unique local", _upload("https://[fd12:3456::1]/a.png"), "url"),
    ("IPv6 link local", _upload("https://[fe80::1]/a.png"), "url"),
    ("IPv4-mapped private", _upload("https://[::ffff:10.1.2.3]/a.png"), "url"),
    ("ftp media url", _upload("ftp://cdn.example.com/a.png"), "url"),
    ("return url without a host", _return_url("https:/cb"), "return_url"),
    ("return url with a bad IPv6", _return_url("https://[::1/cb"), "return_url"),
    ("return url ftp", _return_url("ftp://a.example/cb"), "return_url"),
    ("http return url to 127.0.0.2", _return_url("http://127.0.0.2/cb"), "return_url"),
    ("idempotency key 256 characters", lambda c: c.projects.get(PRJ, idempotency_key="k" * 256), "idempotency_key"),  # noqa: E501
    ("empty idempotency key", lambda c: c.projects.get(PRJ, idempotency_key=""), "idempotency_key"),
    ("idempotency key not text", lambda c: c.projects.get(PRJ, idempotency_key=7), "idempotency_key"),  # type: ignore[arg-type]  # noqa: E501
    ("zero timeout", lambda c: c.whoami(timeout=0), "timeout"),
    ("bool timeout", lambda c: c.whoami(timeout=True), "timeout"),
    ("text timeout", lambda c: c.whoami(timeout="5"), "timeout"),  # type: ignore[arg-type]
    # string → string metadata (organizations, allocations, webhook endpoints)
    ("org metadata not a mapping", _org([("k", "v")]), "metadata"),
    ("org metadata 51 keys", _org({f"k{i}": "v" for i in range(51)}), "metadata"),
    ("org metadata key 41 characters", _org({"k" * 41: "v"}), "metadata"),
    ("org metadata key not text", _org({5: "v"}), "metadata"),
    ("org metadata value 501 characters", _org({"k": "v" * 501}), "metadata['k']"),
    ("org metadata value not text", _org({"k": 5}), "metadata['k']"),
    ("org metadata 16,385 bytes", _org(_string_map(16_385)), "metadata"),
    ("org update metadata 51 keys", lambda c: c.organizations.update(ORG, metadata={f"k{i}": "v" for i in range(51)}), "metadata"),  # noqa: E501
    ("allocation metadata value 501 characters", lambda c: c.organizations.credits.allocate(ORG, credits=1, metadata={"k": "v" * 501}), "metadata['k']"),  # noqa: E501
    ("endpoint metadata key 41 characters", lambda c: c.webhook_endpoints.create(url="https://a.example/h", events=["job.completed"], metadata={"k" * 41: "v"}), "metadata"),  # noqa: E501
    ("endpoint update metadata not a mapping", lambda c: c.webhook_endpoints.update(WH, metadata="k=v"), "metadata"),  # type: ignore[arg-type]  # noqa: E501
]


#: Inputs next to a bound or a rejection rule that must pass the SDK's checks and be sent.
ACCEPTED: list[tuple[str, Call]] = [
    ("name 3 characters", lambda c: c.projects.create(name="xyz", timezone="UTC")),
    ("name 30 characters", lambda c: c.projects.create(name="x" * 30, timezone="UTC")),
    ("description 100 characters", _create(app_description="d" * 100)),
    ("description 1000 characters", _create(app_description="d" * 1000)),
    ("tagline 1 character", _create(tagline="t")),
    ("tagline 80 characters", _create(tagline="t" * 80)),
    ("metadata 8,192 bytes", _create(metadata=_metadata(8_192))),
    ("empty metadata", _create(metadata={})),
    ("external id 128 characters", _create(customer_external_id="e" * 128)),
    ("list limit 1", lambda c: _first_page(c.projects.list(limit=1))),
    ("list limit 200", lambda c: _first_page(c.projects.list(limit=200))),
    ("first_n 1", lambda c: c.projects.update_review_policy(PRJ, policy="review_first_n", first_n=1)),  # noqa: E501
    ("first_n 50", lambda c: c.projects.update_review_policy(PRJ, policy="review_first_n", first_n=50)),  # noqa: E501
    ("media url 2,048 characters", _upload(_url_of(2_048))),
    ("public IPv4", _upload("https://93.184.216.34/a.png")),
    ("last before 10/8", _upload("https://9.255.255.255/a.png")),
    ("first after 10/8", _upload("https://11.0.0.0/a.png")),
    ("first after 0/8", _upload("https://1.0.0.0/a.png")),
    ("last before 100.64/10", _upload("https://100.63.255.255/a.png")),
    ("first after 100.64/10", _upload("https://100.128.0.0/a.png")),
    ("first after 127/8", _upload("https://128.0.0.0/a.png")),
    ("next to 169.254/16", _upload("https://169.255.0.1/a.png")),
    ("last before 172.16/12", _upload("https://172.15.255.255/a.png")),
    ("first after 172.16/12", _upload("https://172.32.0.0/a.png")),
    ("next to 192.168/16", _upload("https://192.169.0.1/a.png")),
    ("public IPv6", _upload("https://[2606:2800:220:1:248:1893:25c8:1946]/a.png")),
    ("IPv6 ::2", _upload("https://[::2]/a.png")),
    ("IPv6 just below fc00::/7", _upload("https://[fbff:ffff::1]/a.png")),
    ("IPv6 between fc00::/7 and fe80::/10", _upload("https://[fe00::1]/a.png")),
    ("IPv6 just above fe80::/10", _upload("https://[fec0::1]/a.png")),
    ("IPv4-mapped public", _upload("https://[::ffff:8.8.8.8]/a.png")),
    ("public host with a trailing dot", _upload("https://cdn.example.com./a.png")),
    ("a host that ends in localhost", _upload("https://notlocalhost/a.png")),
    ("localhost as a subdomain label", _upload("https://localhost.example.com/a.png")),
    ("a host of hex letters", _upload("https://fab.cafe/a.png")),
    ("a number too big for an address", _upload("https://99999999999/a.png")),
    ("HTTPS in upper case", _upload("HTTPS://cdn.example.com/a.png")),
    ("an explicit port", _upload("https://cdn.example.com:8443/a.png")),
    ("http return url to localhost", _return_url("http://localhost:8080/cb")),
    ("http return url to 127.0.0.1", _return_url("http://127.0.0.1/cb")),
    ("https return url", _return_url("https://a.example/cb")),
    ("idempotency key 255 characters", lambda c: c.projects.get(PRJ, idempotency_key="k" * 255)),
    ("idempotency key of visible ASCII", lambda c: c.projects.get(PRJ, idempotency_key="!~")),
    ("integer timeout", lambda c: c.whoami(timeout=5)),
    ("no timeout", lambda c: c.whoami(timeout=None)),
    ("a Timeouts", lambda c: c.whoami(timeout=Timeouts(total=5))),
    ("one status", lambda c: _first_page(c.content.list(PRJ, status="queued"))),
    ("a list of statuses", lambda c: _first_page(c.content.list(PRJ, status=["queued", "failed"]))),
    ("a plain header", lambda c: c.projects.get(PRJ, extra_headers={"X-Trace": "a\tb c"})),
    ("a well-formed Idempotency-Key header", lambda c: c.projects.get(PRJ, extra_headers={"Idempotency-Key": "k-1"})),  # noqa: E501
    ("an aware datetime", lambda c: _first_page(c.content.list(PRJ, since=LATER))),
    ("org metadata 50 keys", _org({f"k{i}": "v" for i in range(50)})),
    ("org metadata key 40 characters", _org({"k" * 40: "v"})),
    ("org metadata value 500 characters", _org({"k": "v" * 500})),
    ("org metadata 16,384 bytes", _org(_string_map(16_384))),
    ("empty org metadata", _org({})),
    ("org update removing a key with an empty value", lambda c: c.organizations.update(ORG, metadata={"k": ""})),  # noqa: E501
    ("allocation metadata", lambda c: c.organizations.credits.allocate(ORG, credits=1, metadata={"k": "v"})),  # noqa: E501
    ("endpoint metadata", lambda c: c.webhook_endpoints.create(url="https://a.example/h", events=["job.completed"], metadata={"k": "v"})),  # noqa: E501
    ("endpoint update metadata", lambda c: c.webhook_endpoints.update(WH, metadata={"k": "v"})),
]


def test_the_table_is_big_enough() -> None:
    """At least 40 distinct invalid inputs are covered."""
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "call", "field"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_input_never_reaches_the_server(
    sandbox: Sandbox, client: LayersClient, name: str, call: Call, field: str
) -> None:
    """The SDK raises LayersValidationError naming the field, and the server counts no request."""
    with pytest.raises(LayersValidationError) as info:
        await call(client)
    assert info.value.field == field, name
    assert isinstance(info.value, ValueError)
    assert (await sandbox.state())["requests"]["total"] == 0


#: The whole message of each refusal rule: what a user reads names the rule and the bound.
MESSAGES: list[tuple[str, Call, str]] = [
    ("not a string", lambda c: c.projects.create(name=5, timezone="UTC"), "name: must be a string, not int"),  # type: ignore[arg-type]  # noqa: E501
    ("too short", lambda c: c.projects.create(name="ab", timezone="UTC"), "name: must be 3 to 30 characters (got 2)"),  # noqa: E501
    ("pattern", _create(owner_email="x@y"), "owner_email: must be an email address"),
    ("enum", _create(brand_voice="shouty"), "brand_voice: must be one of authentic, casual, educational, professional, warm, witty (got 'shouty')"),  # noqa: E501
    ("long value quoted in part", _create(brand_voice="v" * 100), f"brand_voice: must be one of authentic, casual, educational, professional, warm, witty (got '{'v' * 56}...)"),  # noqa: E501
    ("empty enum list", lambda c: _first_page(c.content.list(PRJ, status=[])), "status: must be a value or a non-empty sequence of values"),  # noqa: E501
    ("int range", lambda c: _first_page(c.projects.list(limit=0)), "limit: must be an integer from 1 to 200 (got 0)"),  # noqa: E501
    ("bool", lambda c: _first_page(c.social.accounts(PRJ, leased="yes")), "leased: must be a bool (got 'yes')"),  # type: ignore[arg-type]  # noqa: E501
    ("id", lambda c: c.projects.get("project-1"), "project_id: must be a prj_<uuid> id (got 'project-1')"),  # noqa: E501
    ("org id", lambda c: c.organizations.get("o"), "org_id: must be an org_<uuid> id (got 'o')"),
    ("container id", lambda c: c.content.get("c"), "container_id: must be a cnt_<uuid> id (got 'c')"),  # noqa: E501
    ("media id", lambda c: c.app_media.delete(PRJ, "m"), "media_id: must be a med_<uuid> id (got 'm')"),  # noqa: E501
    ("account id", lambda c: c.social.disconnect("s"), "social_account_id: must be a sa_<uuid> id (got 's')"),  # noqa: E501
    ("influencer id", lambda c: c.influencers.get("i"), "influencer_id: must be an inf_<uuid> id (got 'i')"),  # noqa: E501
    ("post id", lambda c: c.scheduled_posts.get("p"), "scheduled_post_id: must be a sp_<uuid> id (got 'p')"),  # noqa: E501
    ("key id", lambda c: c.api_keys.kill("k"), "key_id: must be a key_<uuid> id (got 'k')"),
    ("endpoint id", lambda c: c.webhook_endpoints.get("w"), "endpoint_id: must be a wh_<uuid> id (got 'w')"),  # noqa: E501
    ("delivery id", lambda c: c.webhook_endpoints.replay_delivery("d"), "delivery_id: must be a dlv_<uuid> id (got 'd')"),  # noqa: E501
    ("job id", lambda c: c.jobs.get("j"), "job_id: must be a job_<ULID> id (got 'j')"),
    ("oauth state", lambda c: c.social.oauth_status(PRJ, "s"), "state: must be a st_<ULID> state (got 's')"),  # noqa: E501
    ("not a datetime", lambda c: _first_page(c.content.list(PRJ, since="2026-05-01")), "since: must be a datetime (got str)"),  # type: ignore[arg-type]  # noqa: E501
    ("naive datetime", lambda c: _first_page(c.content.list(PRJ, since=datetime(2026, 5, 1))), "since: must be timezone-aware (a naive datetime has no defined instant)"),  # noqa: E501
    ("control character in a URL", _upload("https://a.example/\x00"), "url: must not contain spaces or control characters"),  # noqa: E501
    ("http URL", _upload("http://a.example/a.png"), "url: must be an absolute https URL"),
    ("unparsable URL", _upload("https://[::1/a.png"), "url: must be an absolute https URL"),
    ("credentials", _upload("https://u@a.example/a.png"), "url: must not contain credentials"),
    ("localhost", _upload("https://LocalHost./a.png"), "url: host 'localhost' is not allowed"),
    ("private address", _upload("https://10.0.0.1/a.png"), "url: must not point at a private or reserved address"),  # noqa: E501
    ("http return URL", _return_url("http://a.example/cb"), "return_url: must use https (http is allowed only for localhost and 127.0.0.1)"),  # noqa: E501
    ("ftp return URL", _return_url("ftp://a.example/cb"), "return_url: must be an absolute https URL"),  # noqa: E501
    ("unparsable return URL", _return_url("https://[::1/cb"), "return_url: must be an absolute URL"),  # noqa: E501
    ("metadata type", _create(metadata=[]), "metadata: must be a mapping"),
    ("metadata size", _create(metadata=_metadata(8_193)), "metadata: must be at most 8192 bytes serialised (got 8193)"),  # noqa: E501
    ("idempotency key", lambda c: c.projects.get(PRJ, idempotency_key=" "), "idempotency_key: must be 1 to 255 visible ASCII characters"),  # noqa: E501
    ("header map", lambda c: c.projects.get(PRJ, extra_headers={"X-A": 1}), "extra_headers: must map header names to string values"),  # type: ignore[dict-item]  # noqa: E501
    ("headers not a map", lambda c: c.projects.get(PRJ, extra_headers=[("X-A", "1")]), "extra_headers: must map header names to string values"),  # type: ignore[arg-type]  # noqa: E501
    ("header name", lambda c: c.projects.get(PRJ, extra_headers={"X A": "1"}), "extra_headers: 'X A' is not a valid header name"),  # noqa: E501
    ("reserved header", lambda c: c.projects.get(PRJ, extra_headers={"host": "a"}), "extra_headers: must not set host (the base URL decides the host)"),  # noqa: E501
    ("header value", lambda c: c.projects.get(PRJ, extra_headers={"X-A": "\n"}), "extra_headers: the value of X-A must be printable ASCII (no CR, LF or other control character)"),  # noqa: E501
    ("idempotency header", lambda c: c.projects.get(PRJ, extra_headers={"Idempotency-Key": ""}), "extra_headers: Idempotency-Key must be 1 to 255 visible ASCII characters"),  # noqa: E501
    ("NaN seconds", lambda c: c.whoami(timeout=float("nan")), "timeout: must be a finite number of seconds above 0 (got nan)"),  # noqa: E501
    ("timeout type", lambda c: c.whoami(timeout="5"), "timeout: must be a positive number of seconds, a Timeouts or None"),  # type: ignore[arg-type]  # noqa: E501
    ("enum list type", lambda c: _first_page(c.content.list(PRJ, status=5)), "status: must be a value or a non-empty sequence of values"),  # type: ignore[arg-type]  # noqa: E501
    ("unprintable value", lambda c: _first_page(c.projects.list(limit=10**5000)), "limit: must be an integer from 1 to 200 (got a int)"),  # noqa: E501
    ("empty cursor", lambda c: _first_page(c.projects.list(cursor=5)), "cursor: must be a string, not int"),  # type: ignore[arg-type]  # noqa: E501
    ("bad value in an enum list", lambda c: _first_page(c.content.list(PRJ, status=["queued", "nope"])), "status: must be one of canceled, completed, failed, processing, queued (got 'nope')"),  # type: ignore[list-item]  # noqa: E501
    ("offset-less tzinfo", lambda c: _first_page(c.content.list(PRJ, since=datetime(2026, 5, 1, tzinfo=_NoOffset()))), "since: must be timezone-aware (a naive datetime has no defined instant)"),  # noqa: E501
    ("datetime with no UTC form", lambda c: _first_page(c.content.list(PRJ, since=datetime.min.replace(tzinfo=timezone(timedelta(hours=1))))), "since: is out of range: its UTC time is not a representable date"),  # noqa: E501
    ("empty URL", _upload(""), "url: must be 1 to 2048 characters (got 0)"),
    ("one-character URL", _upload("x"), "url: must be an absolute https URL"),
    ("return URL 2,049 characters", _return_url(_url_of(2_049)), "return_url: must be 1 to 2048 characters (got 2049)"),  # noqa: E501
    ("view timeout type", lambda c: c.with_options(timeout="5"), "timeout: must be a number of seconds (got str)"),  # type: ignore[arg-type]  # noqa: E501
    ("view timeout bool", lambda c: c.with_options(timeout=True), "timeout: must be a number of seconds (got bool)"),  # noqa: E501
    ("no upper bound", lambda c: c.influencers.update(INF, language="e"), "language: must be at least 2 characters (got 1)"),  # noqa: E501
    ("string map type", _org(["k"]), "metadata: must be a mapping of strings to strings"),
    ("string map keys", _org({f"k{i}": "v" for i in range(51)}), "metadata: must have at most 50 keys (got 51)"),  # noqa: E501
    ("string map key", _org({"k" * 41: "v"}), f"metadata: keys must be strings of at most 40 characters (got '{'k' * 41}')"),  # noqa: E501
    ("string map value", _org({"k": "v" * 501}), "metadata['k']: must be 0 to 500 characters (got 501)"),  # noqa: E501
    ("string map size", _org(_string_map(16_385)), "metadata: must be at most 16384 bytes serialised (got 16385)"),  # noqa: E501
    ("a 60-character quote is whole", _create(brand_voice="v" * 58), f"brand_voice: must be one of authentic, casual, educational, professional, warm, witty (got '{'v' * 58}')"),  # noqa: E501
]


class _NoOffset(tzinfo):
    """A tzinfo whose offset is unknown: the datetime is aware in form only."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "call", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
async def test_each_refusal_says_which_rule_and_bound(
    sandbox: Sandbox, client: LayersClient, name: str, call: Call, message: str
) -> None:
    """The refusal's whole message, field first, names the rule and the bound; nothing sent."""
    with pytest.raises(LayersValidationError) as info:
        await call(client)
    assert str(info.value) == message, name
    assert (await sandbox.state())["requests"]["total"] == 0


def test_boundary_helpers_build_exact_sizes() -> None:
    """The boundary rows' metadata and URLs have exactly the size their names say."""
    assert len(json.dumps(_metadata(8_192), separators=(",", ":")).encode()) == 8_192
    assert len(_url_of(2_048)) == 2_048
    for size in (16_384, 16_385):
        assert len(json.dumps(_string_map(size), separators=(",", ":")).encode()) == size


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "call"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
async def test_input_next_to_a_rule_is_sent(
    sandbox: Sandbox, client: LayersClient, name: str, call: Call
) -> None:
    """Input at a bound or next to a rejection rule passes the SDK's checks and is sent (the
    sandbox may still refuse it: a ghost project, say)."""
    try:
        await call(client)
    except LayersValidationError as err:
        pytest.fail(f"{name}: refused before sending: {err}")
    except LayersError:
        pass  # the sandbox's answer: the SDK did send the call
    assert (await sandbox.state())["requests"]["total"] >= 1, name


@pytest.mark.anyio
async def test_valid_input_does_reach_the_server(sandbox: Sandbox, client: LayersClient) -> None:
    """The request counter the table relies on does move when a call is sent."""
    await client.projects.create(name="Acme", timezone="UTC", app_description=DESC)
    assert (await sandbox.state())["requests"]["total"] == 1


#: What `_id_form` builds per kind of id: (prefix, ULID body?, bare UUID accepted?, name).
ID_FORMS: list[tuple[str, bool, bool, str]] = [
    ("org", False, True, "an org_<uuid> id"),
    ("prj", False, True, "a prj_<uuid> id"),
    ("inf", False, False, "an inf_<uuid> id"),
    ("med", False, False, "a med_<uuid> id"),
    ("job", True, False, "a job_<ULID> id"),
    ("st", True, False, "a st_<ULID> state"),
]


@pytest.mark.parametrize(("prefix", "ulid", "bare", "name"), ID_FORMS, ids=[f[0] for f in ID_FORMS])
def test_each_id_form_has_its_pattern_and_name(
    prefix: str, ulid: bool, bare: bool, name: str
) -> None:
    """`_id_form` gives each id kind its pattern (bare UUIDs only where the API takes them) and
    the name refusals use. (Internal: `check_id` uses forms built once at import, before any
    test runs, so only a direct call lets mutation testing see the builder; the MESSAGES rows
    pin the same names through the client.)"""
    from layers_async._validation import _ULID, _UUID, _id_form

    body_pattern = _ULID if ulid else _UUID
    # Prefixed-only is the default: the forms built without `bare` are the prefixed ones.
    form = _id_form(prefix, body_pattern, bare=True) if bare else _id_form(prefix, body_pattern)
    pattern, what = form
    body = ST[3:] if ulid else PRJ[4:]
    assert what == name
    assert pattern.fullmatch(f"{prefix}_{body}")
    assert bool(pattern.fullmatch(body)) is bare
    assert not pattern.fullmatch(f"{prefix}_{(PRJ[4:] if ulid else ST[3:])}")
