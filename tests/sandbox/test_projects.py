"""Contract tests for projects (§3.2) and their lifecycle (§4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from tests.sandbox._checks import (
    APP_DESCRIPTION,
    CNT_ID,
    INF_ID,
    ORG_ID,
    PRJ_ID,
    START,
    TS,
    assert_error,
    assert_validation,
    connect_account,
    create_project,
    new_uuid,
    start_builder,
)
from tests.sandbox._flows import INFLUENCER_SUMMARY_FIELDS
from tests.sandbox._http import Api, MakeSandbox

PROJECT_FIELDS = {
    "id",
    "organizationId",
    "name",
    "status",
    "customerExternalId",
    "ownerEmail",
    "timezone",
    "primaryLanguage",
    "appName",
    "appDescription",
    "tagline",
    "brandVoice",
    "targetGender",
    "brandContext",
    "requiresApproval",
    "metadata",
    "archivedAt",
    "createdAt",
    "updatedAt",
}
BRAND_CONTEXT_FIELDS = {
    "appName",
    "appDescription",
    "tagline",
    "audience",
    "icp",
    "brandVoice",
    "keywords",
    "primaryLanguage",
    "logoUrl",
}
SUMMARY_FIELDS = {
    "id",
    "name",
    "status",
    "customerExternalId",
    "timezone",
    "primaryLanguage",
    "ownerEmail",
    "createdAt",
    "updatedAt",
}

GUIDE_BODY: dict[str, Any] = {
    "name": "Acme Coffee",
    "customerExternalId": "acme-coffee",
    "timezone": "America/Los_Angeles",
    "primaryLanguage": "en",
    "appName": "Acme Coffee",
    "appDescription": APP_DESCRIPTION,
    "tagline": "Coffee that shows up before you run out.",
    "brandVoice": "warm",
    "targetGender": "all",
}


def _at(seconds: float) -> str:
    t = datetime(2026, 5, 14, 16, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _assert_project(p: dict[str, Any]) -> None:
    assert set(p) == PROJECT_FIELDS, set(p) ^ PROJECT_FIELDS
    assert PRJ_ID.match(p["id"])
    assert ORG_ID.match(p["organizationId"])
    assert p["status"] in ("active", "archived")
    assert set(p["brandContext"]) == BRAND_CONTEXT_FIELDS
    bc = p["brandContext"]
    for field in ("appName", "appDescription", "tagline", "brandVoice", "primaryLanguage"):
        assert bc[field] == p[field], field
    assert bc["audience"] is None
    assert bc["icp"] is None
    assert isinstance(bc["keywords"], list)
    assert len(bc["keywords"]) <= 10
    assert isinstance(p["requiresApproval"], bool)
    assert isinstance(p["metadata"], dict)
    assert TS.match(p["createdAt"])
    assert TS.match(p["updatedAt"])
    assert p["archivedAt"] is None or TS.match(p["archivedAt"])


# --------------------------------------------------------------------------------------------
# create (contract §3.2.1)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_minimal_project_defaults(api: Api) -> None:
    """A project with only name and timezone gets every documented default."""
    r = await api.post("/v1/projects", {"name": "Acme", "timezone": "UTC"})
    assert r.status == 201, r
    p = r.json
    _assert_project(p)
    org = (await api.get("/v1/whoami")).json["organizationId"]
    assert p["organizationId"] == org
    expected = {
        "name": "Acme",
        "status": "active",
        "customerExternalId": None,
        "ownerEmail": None,
        "timezone": "UTC",
        "primaryLanguage": "en",
        "appName": None,
        "appDescription": None,
        "tagline": None,
        "brandVoice": "authentic",
        "targetGender": "all",
        "requiresApproval": False,
        "metadata": {},
        "archivedAt": None,
        "createdAt": START,
        "updatedAt": START,
    }
    assert {k: p[k] for k in expected} == expected
    assert p["brandContext"] == {
        "appName": None,
        "appDescription": None,
        "tagline": None,
        "audience": None,
        "icp": None,
        "brandVoice": "authentic",
        "keywords": [],
        "primaryLanguage": "en",
        "logoUrl": None,
    }


@pytest.mark.anyio
async def test_create_full_project_echoes_fields(api: Api) -> None:
    """Every sent field is stored and echoed; brandContext copies the brand fields."""
    body = {
        **GUIDE_BODY,
        "ownerEmail": "owner@acme.example",
        "metadata": {"plan": "gold", "n": 3, "nested": {"a": [1, None, True]}},
    }
    r = await api.post("/v1/projects", body)
    assert r.status == 201, r
    p = r.json
    _assert_project(p)
    for key, value in body.items():
        assert p[key] == value, key
    assert p["brandContext"]["brandVoice"] == "warm"
    assert p["brandContext"]["appDescription"] == APP_DESCRIPTION
    assert p["brandContext"]["keywords"] == []
    assert p["brandContext"]["logoUrl"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "abc"},
        {"name": "x" * 30},
        {"name": "é" * 30},
        {"name": "\U0001f600" * 30},
        {"appName": "abc"},
        {"appName": "y" * 30},
        {"appDescription": "d" * 100},
        {"appDescription": "d" * 1000},
        {"tagline": "t"},
        {"tagline": "t" * 80},
        {"customerExternalId": "c"},
        {"customerExternalId": "c" * 128},
        {"primaryLanguage": "es-MX"},
        {"primaryLanguage": "zh-Hans-CN"},
        {"primaryLanguage": "fil"},
        {"timezone": "America/Los_Angeles"},
        {"timezone": "Asia/Kolkata"},
        {"brandVoice": "educational"},
        {"targetGender": "male"},
        {"metadata": {"blob": "m" * 7000}},
    ],
)
async def test_create_accepts_boundary_values(api: Api, overrides: dict[str, Any]) -> None:
    """Values at the documented bounds (lengths in code points) are accepted."""
    body = {"name": "Acme", "timezone": "UTC", **overrides}
    r = await api.post("/v1/projects", body)
    assert r.status == 201, r
    for key, value in overrides.items():
        assert r.json[key] == value


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "drop", "path"),
    [
        ({"name": "ab"}, (), "name"),
        ({"name": "x" * 31}, (), "name"),
        ({"name": "\U0001f600" * 31}, (), "name"),
        ({"name": 123}, (), "name"),
        ({"name": None}, (), "name"),
        ({}, ("name",), "name"),
        ({}, ("timezone",), "timezone"),
        ({"timezone": None}, (), "timezone"),
        ({"timezone": "Mars/Olympus_Mons"}, (), "timezone"),
        ({"timezone": "utc+2"}, (), "timezone"),
        ({"ownerEmail": "not-an-email"}, (), "ownerEmail"),
        ({"ownerEmail": "a@"}, (), "ownerEmail"),
        ({"primaryLanguage": "english!"}, (), "primaryLanguage"),
        ({"primaryLanguage": "e"}, (), "primaryLanguage"),
        ({"primaryLanguage": "en_US"}, (), "primaryLanguage"),
        ({"appName": "ab"}, (), "appName"),
        ({"appName": "y" * 31}, (), "appName"),
        ({"appDescription": "d" * 99}, (), "appDescription"),
        ({"appDescription": "d" * 1001}, (), "appDescription"),
        ({"tagline": ""}, (), "tagline"),
        ({"tagline": "t" * 81}, (), "tagline"),
        ({"brandVoice": "loud"}, (), "brandVoice"),
        ({"brandVoice": "Warm"}, (), "brandVoice"),
        ({"targetGender": "other"}, (), "targetGender"),
        ({"customerExternalId": ""}, (), "customerExternalId"),
        ({"customerExternalId": "c" * 129}, (), "customerExternalId"),
        ({"metadata": {"blob": "m" * 8200}}, (), "metadata"),
        ({"metadata": "flat"}, (), "metadata"),
        ({"metadata": [1, 2]}, (), "metadata"),
        ({"id": f"prj_{new_uuid()}"}, (), "id"),
        ({"status": "active"}, (), "status"),
        ({"brandContext": {}}, (), "brandContext"),
    ],
)
async def test_create_validation(
    api: Api, overrides: dict[str, Any], drop: tuple[str, ...], path: str
) -> None:
    """Each create rule violation is 422 with the field's path; nothing is created."""
    body: dict[str, Any] = {"name": "Acme", "timezone": "UTC"}
    body.update(overrides)
    for key in drop:
        body.pop(key)
    r = await api.post("/v1/projects", body)
    assert_validation(r, path)
    assert (await api.state())["counts"]["projects"]["total"] == 0


@pytest.mark.anyio
async def test_create_lists_every_problem(api: Api) -> None:
    """Several problems at once are all listed in details.issues."""
    r = await api.post(
        "/v1/projects",
        {
            "name": "A",
            "timezone": "Nowhere/Land",
            "brandVoice": "loud",
            "tagline": "",
            "appDescription": "short",
            "bogus": 1,
        },
    )
    assert_validation(r, "name", "timezone", "brandVoice", "tagline", "appDescription", "bogus")


@pytest.mark.anyio
async def test_create_null_optional_fields_mean_omitted(api: Api) -> None:
    """On create, null for an optional field is the same as omitting it."""
    body = {
        "name": "Acme",
        "timezone": "UTC",
        "customerExternalId": None,
        "ownerEmail": None,
        "primaryLanguage": None,
        "appName": None,
        "appDescription": None,
        "tagline": None,
        "brandVoice": None,
        "targetGender": None,
        "metadata": None,
    }
    r = await api.post("/v1/projects", body)
    assert r.status == 201, r
    p = r.json
    assert p["primaryLanguage"] == "en"
    assert p["brandVoice"] == "authentic"
    assert p["targetGender"] == "all"
    assert p["metadata"] == {}
    assert p["customerExternalId"] is None
    assert p["appDescription"] is None
    influencers = await api.get(f"/v1/projects/{p['id']}/influencers")
    assert influencers.json["items"] == []


@pytest.mark.anyio
async def test_create_duplicate_customer_external_id_is_409(api: Api) -> None:
    """A taken customerExternalId is 409 CONFLICT with {projectId, customerExternalId}."""
    first = await create_project(api, customerExternalId="acme-coffee")
    r = await api.post("/v1/projects", {**GUIDE_BODY, "name": "Second"})
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"] == {"projectId": first["id"], "customerExternalId": "acme-coffee"}
    assert (await api.state())["counts"]["projects"]["total"] == 1


@pytest.mark.anyio
async def test_duplicate_customer_external_id_of_archived_project_is_409(api: Api) -> None:
    """Uniqueness holds whatever the existing project's status."""
    first = await create_project(api, customerExternalId="acme-coffee")
    assert (await api.delete(f"/v1/projects/{first['id']}")).status == 200
    r = await api.post(
        "/v1/projects", {"name": "Again", "timezone": "UTC", "customerExternalId": "acme-coffee"}
    )
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"]["projectId"] == first["id"]


@pytest.mark.anyio
async def test_customer_external_id_is_unique_per_organization_only(
    two_org_apis: dict[str, Api],
) -> None:
    """Another organization may use the same customerExternalId."""
    full = two_org_apis["full"]
    foreign = two_org_apis["foreign"]
    await create_project(full, customerExternalId="shared")
    other = await create_project(foreign, customerExternalId="shared")
    assert other["customerExternalId"] == "shared"


# --------------------------------------------------------------------------------------------
# side effects (contract §3.2.1)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_first_influencer_lifecycle(nominal_api: Api) -> None:
    """With appDescription a pending influencer exists at once; training at 10 %, ready at 60 s."""
    api = nominal_api
    p = await create_project(api, **GUIDE_BODY)
    path = f"/v1/projects/{p['id']}/influencers"
    r = await api.get(path)
    assert r.status == 200, r
    assert r.json["nextCursor"] is None
    [row] = r.json["items"]
    assert set(row) == INFLUENCER_SUMMARY_FIELDS
    assert INF_ID.match(row["influencerId"])
    assert row["status"] == "pending"
    assert row["gender"] == "female"
    assert row["ageRange"] == "young_adult"
    assert row["thumbnailUrl"] is None
    assert isinstance(row["name"], str)
    assert row["name"]
    assert row["createdAt"] == START
    state = await api.state()
    assert state["counts"]["jobs"]["total"] == 0
    await api.advance(5)
    assert (await api.get(path)).json["items"][0]["status"] == "pending"
    await api.advance(2)
    assert (await api.get(path)).json["items"][0]["status"] == "training"
    await api.advance(52)
    assert (await api.get(path)).json["items"][0]["status"] == "training"
    await api.advance(2)
    ready = (await api.get(path)).json["items"][0]
    assert ready["status"] == "ready"
    assert ready["thumbnailUrl"].startswith(f"{api.base_url}/_sandbox/media/")
    full = await api.get(f"/v1/influencers/{row['influencerId']}")
    assert full.status == 200, full
    inf = full.json
    assert inf["imageUrl"].startswith(f"{api.base_url}/_sandbox/media/")
    assert inf["brandVoice"] == "warm"
    assert inf["language"] == "en"
    assert inf["projectId"] == p["id"]
    assert inf["errorMessage"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "gender"), [("male", "male"), ("female", "female")])
async def test_first_influencer_gender_follows_target(api: Api, target: str, gender: str) -> None:
    """The first influencer's gender is the project's targetGender when female or male."""
    p = await create_project(api, **{**GUIDE_BODY, "targetGender": target})
    r = await api.get(f"/v1/projects/{p['id']}/influencers")
    assert [i["gender"] for i in r.json["items"]] == [gender]


@pytest.mark.anyio
async def test_keyword_research_after_create(nominal_api: Api) -> None:
    """The bank is empty until research ends at 270 s, then holds 20 sorted hashtags."""
    p = await create_project(nominal_api, **GUIDE_BODY)
    path = f"/v1/projects/{p['id']}/keywords"
    r = await nominal_api.get(path)
    assert r.status == 200, r
    assert r.json == {"projectId": p["id"], "hashtags": [], "refreshedAt": None}
    await nominal_api.advance(269)
    assert (await nominal_api.get(path)).json["refreshedAt"] is None
    await nominal_api.advance(2)
    bank = (await nominal_api.get(path)).json
    assert bank["refreshedAt"] == _at(270)
    tags = bank["hashtags"]
    assert len(tags) == 20
    for t in tags:
        assert set(t) == {"hashtag", "phrase", "score", "viewCount", "useCount"}
        assert isinstance(t["hashtag"], str)
        assert t["hashtag"]
        assert "#" not in t["hashtag"]
        assert isinstance(t["score"], int)
        assert 70 <= t["score"] <= 100
        assert isinstance(t["viewCount"], int)
        assert t["viewCount"] >= 0
        assert isinstance(t["useCount"], int)
        assert t["useCount"] >= 0
    keys = [(-t["score"], -t["viewCount"]) for t in tags]
    assert keys == sorted(keys)
    project = (await nominal_api.get(f"/v1/projects/{p['id']}")).json
    kw = project["brandContext"]["keywords"]
    assert 1 <= len(kw) <= 10
    assert set(kw) <= {t["hashtag"] for t in tags}


@pytest.mark.anyio
async def test_no_app_description_no_background_work(api: Api) -> None:
    """Without appDescription no influencer is created and no research runs."""
    p = await create_project(api)
    await api.advance(400)
    assert (await api.get(f"/v1/projects/{p['id']}/influencers")).json["items"] == []
    bank = (await api.get(f"/v1/projects/{p['id']}/keywords")).json
    assert bank == {"projectId": p["id"], "hashtags": [], "refreshedAt": None}


@pytest.mark.anyio
async def test_background_failures(
    make_sandbox: MakeSandbox, session: aiohttp.ClientSession
) -> None:
    """Failure rates 1.0 make the first influencer fail (errorMessage) and leave the bank empty."""
    rates = {"influencer_create": 1.0, "keywords_refresh": 1.0}
    async with make_sandbox(failure_rates=rates) as sb:
        api = Api(session, sb.url, sb.api_key)
        p = await create_project(api, **GUIDE_BODY)
        await api.advance(400)
        [row] = (await api.get(f"/v1/projects/{p['id']}/influencers")).json["items"]
        assert row["status"] == "failed"
        inf = (await api.get(f"/v1/influencers/{row['influencerId']}")).json
        assert isinstance(inf["errorMessage"], str)
        assert inf["errorMessage"]
        assert inf["imageUrl"] is None
        bank = (await api.get(f"/v1/projects/{p['id']}/keywords")).json
        assert bank["refreshedAt"] is None
        assert bank["hashtags"] == []


@pytest.mark.anyio
async def test_patch_app_description_starts_research(nominal_api: Api) -> None:
    """A new appDescription starts research (no influencer); the same value starts nothing."""
    p = await create_project(nominal_api, appName="Acme Coffee")
    path = f"/v1/projects/{p['id']}/keywords"
    r = await nominal_api.patch(f"/v1/projects/{p['id']}", {"appDescription": APP_DESCRIPTION})
    assert r.status == 200, r
    await nominal_api.advance(271)
    first = (await nominal_api.get(path)).json
    assert first["refreshedAt"] == _at(270)
    assert len(first["hashtags"]) == 20
    assert (await nominal_api.get(f"/v1/projects/{p['id']}/influencers")).json["items"] == []
    same = await nominal_api.patch(f"/v1/projects/{p['id']}", {"appDescription": APP_DESCRIPTION})
    assert same.status == 200
    await nominal_api.advance(300)
    assert (await nominal_api.get(path)).json == first
    await nominal_api.patch(
        f"/v1/projects/{p['id']}", {"appDescription": APP_DESCRIPTION + " Now decaf."}
    )
    await nominal_api.advance(100)
    assert (await nominal_api.get(path)).json == first
    await nominal_api.advance(180)
    assert (await nominal_api.get(path)).json["refreshedAt"] == _at(271 + 300 + 270)


# --------------------------------------------------------------------------------------------
# list (contract §3.2.2)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_list_default_limit_and_summary_shape(api: Api) -> None:
    """The default page holds 25 ProjectSummary rows; the rest follow the cursor."""
    for i in range(27):
        await create_project(api, name=f"Project {i:02d}")
    r = await api.get("/v1/projects")
    assert r.status == 200, r
    assert set(r.json) == {"items", "nextCursor"}
    assert len(r.json["items"]) == 25
    assert isinstance(r.json["nextCursor"], str)
    for row in r.json["items"]:
        assert set(row) == SUMMARY_FIELDS
        assert PRJ_ID.match(row["id"])
    rest = await api.get("/v1/projects", params={"cursor": r.json["nextCursor"]})
    assert len(rest.json["items"]) == 2
    assert rest.json["nextCursor"] is None
    ids = [row["id"] for row in r.json["items"] + rest.json["items"]]
    assert len(set(ids)) == 27


@pytest.mark.anyio
async def test_list_empty(api: Api) -> None:
    """With no projects the list is {items: [], nextCursor: null}."""
    r = await api.get("/v1/projects")
    assert r.json == {"items": [], "nextCursor": None}


@pytest.mark.anyio
async def test_list_filters(api: Api) -> None:
    """status, case-insensitive search and exact customerExternalId filters combine with AND."""
    a = await create_project(api, name="Acme Coffee", customerExternalId="acme-coffee")
    b = await create_project(api, name="Coffee Club")
    c = await create_project(api, name="Tea House")
    assert (await api.delete(f"/v1/projects/{b['id']}")).status == 200

    async def ids(**params: str) -> set[str]:
        r = await api.get("/v1/projects", params=params)
        assert r.status == 200, r
        return {row["id"] for row in r.json["items"]}

    assert await ids() == {a["id"], b["id"], c["id"]}
    assert await ids(status="active") == {a["id"], c["id"]}
    assert await ids(status="archived") == {b["id"]}
    assert await ids(search="COFFEE") == {a["id"], b["id"]}
    assert await ids(search="fee cl") == {b["id"]}
    assert await ids(search="coffee", status="active") == {a["id"]}
    assert await ids(customerExternalId="acme-coffee") == {a["id"]}
    assert await ids(customerExternalId="ACME-COFFEE") == set()
    assert await ids(customerExternalId="acme") == set()
    assert await ids(customerExternalId="acme-coffee", status="archived") == set()


@pytest.mark.anyio
@pytest.mark.parametrize("status", ["deleted", "ACTIVE", ""])
async def test_list_bad_status_filter_is_422(api: Api, status: str) -> None:
    """A status filter outside active/archived is 422 with path status."""
    r = await api.get("/v1/projects", params={"status": status})
    assert_validation(r, "status")


# --------------------------------------------------------------------------------------------
# get (contract §3.2.3)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_returns_the_created_project(api: Api) -> None:
    """GET returns the same full Project as create, by prefixed, bare or uppercase id."""
    created = await create_project(api, **GUIDE_BODY)
    for form in (created["id"], created["id"][4:], created["id"][4:].upper()):
        r = await api.get(f"/v1/projects/{form}")
        assert r.status == 200, r
        assert r.json == created


@pytest.mark.anyio
async def test_get_unknown_project_is_404(api: Api) -> None:
    """An unknown well-formed project id is 404."""
    assert_error(await api.get(f"/v1/projects/prj_{new_uuid()}"), 404, "NOT_FOUND")


# --------------------------------------------------------------------------------------------
# patch (contract §3.2.4)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "New Name"),
        ("ownerEmail", "owner@acme.example"),
        ("timezone", "Europe/Paris"),
        ("primaryLanguage", "es-MX"),
        ("customerExternalId", "cust-9"),
        ("appName", "New App"),
        ("appDescription", APP_DESCRIPTION + " Now with decaf."),
        ("tagline", "New tagline"),
        ("brandVoice", "witty"),
        ("targetGender", "female"),
        ("metadata", {"k": "v", "n": [1, 2]}),
    ],
)
async def test_patch_each_field(api: Api, field: str, value: Any) -> None:
    """PATCH sets one field, leaves others unchanged and refreshes updatedAt."""
    created = await create_project(api, **GUIDE_BODY)
    await api.advance(10)
    r = await api.patch(f"/v1/projects/{created['id']}", {field: value})
    assert r.status == 200, r
    p = r.json
    _assert_project(p)
    assert p[field] == value
    for other in PROJECT_FIELDS - {field, "updatedAt", "brandContext"}:
        assert p[other] == created[other], other
    assert p["updatedAt"] == _at(10)
    assert p["createdAt"] == START
    assert (await api.get(f"/v1/projects/{created['id']}")).json == p


@pytest.mark.anyio
@pytest.mark.parametrize(
    "field", ["ownerEmail", "customerExternalId", "appName", "appDescription", "tagline"]
)
async def test_patch_null_clears_nullable_fields(api: Api, field: str) -> None:
    """null clears a clearable field (and its brandContext copy)."""
    created = await create_project(api, **GUIDE_BODY, ownerEmail="o@acme.example")
    r = await api.patch(f"/v1/projects/{created['id']}", {field: None})
    assert r.status == 200, r
    assert r.json[field] is None
    if field in BRAND_CONTEXT_FIELDS:
        assert r.json["brandContext"][field] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "field",
    [
        "name",
        "status",
        "timezone",
        "primaryLanguage",
        "brandVoice",
        "targetGender",
        "metadata",
    ],
)
async def test_patch_null_on_non_nullable_is_422(api: Api, field: str) -> None:
    """null on a non-clearable field is 422 with the field's path."""
    created = await create_project(api)
    r = await api.patch(f"/v1/projects/{created['id']}", {field: None})
    assert_validation(r, field)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "ab"),
        ("name", "n" * 31),
        ("status", "deleted"),
        ("timezone", "Nowhere/Land"),
        ("primaryLanguage", "x"),
        ("ownerEmail", "nope"),
        ("customerExternalId", ""),
        ("appName", "ab"),
        ("appDescription", "too short"),
        ("tagline", ""),
        ("tagline", "t" * 81),
        ("brandVoice", "loud"),
        ("targetGender", "any"),
        ("metadata", "flat"),
        ("metadata", {"blob": "m" * 8200}),
    ],
)
async def test_patch_validation(api: Api, field: str, value: Any) -> None:
    """PATCH applies the create rules; a bad value is 422 with the field's path."""
    created = await create_project(api)
    r = await api.patch(f"/v1/projects/{created['id']}", {field: value})
    assert_validation(r, field)
    assert (await api.get(f"/v1/projects/{created['id']}")).json == created


@pytest.mark.anyio
async def test_patch_empty_body_is_422_root(api: Api) -> None:
    """An empty PATCH {} is 422 with path ""."""
    created = await create_project(api)
    assert_validation(await api.patch(f"/v1/projects/{created['id']}", {}), "")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11"),
        ("organizationId", "org_2481fa5c-7d3e-4b0a-8c61-5e9f2a7b1c04"),
        ("brandContext", {"keywords": []}),
        ("requiresApproval", True),
        ("archivedAt", None),
        ("createdAt", "2026-05-14T16:00:00.000Z"),
        ("updatedAt", "2026-05-14T16:00:00.000Z"),
    ],
)
async def test_patch_system_fields_are_422(api: Api, field: str, value: Any) -> None:
    """System fields are unknown keys on PATCH: 422 with the field's path."""
    created = await create_project(api)
    r = await api.patch(f"/v1/projects/{created['id']}", {field: value})
    assert_validation(r, field)


@pytest.mark.anyio
async def test_patch_taken_customer_external_id_is_409(api: Api) -> None:
    """Taking another project's customerExternalId is 409; keeping one's own is fine."""
    a = await create_project(api, customerExternalId="taken")
    b = await create_project(api, customerExternalId="mine")
    r = await api.patch(f"/v1/projects/{b['id']}", {"customerExternalId": "taken"})
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"] == {"projectId": a["id"], "customerExternalId": "taken"}
    same = await api.patch(f"/v1/projects/{a['id']}", {"customerExternalId": "taken"})
    assert same.status == 200, same
    cleared = await api.patch(f"/v1/projects/{a['id']}", {"customerExternalId": None})
    assert cleared.status == 200
    now_free = await api.patch(f"/v1/projects/{b['id']}", {"customerExternalId": "taken"})
    assert now_free.status == 200, now_free


@pytest.mark.anyio
async def test_patch_metadata_replaces_whole_object(api: Api) -> None:
    """metadata on PATCH replaces the stored object (no deep merge)."""
    created = await create_project(api, metadata={"a": 1, "b": {"c": 2}})
    r = await api.patch(f"/v1/projects/{created['id']}", {"metadata": {"b": {"d": 3}}})
    assert r.json["metadata"] == {"b": {"d": 3}}
    r = await api.patch(f"/v1/projects/{created['id']}", {"metadata": {}})
    assert r.json["metadata"] == {}


@pytest.mark.anyio
async def test_patch_unknown_project_is_404(api: Api) -> None:
    """PATCH of an unknown project is 404."""
    r = await api.patch(f"/v1/projects/prj_{new_uuid()}", {"name": "Renamed"})
    assert_error(r, 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_patch_status_archive_and_unarchive(api: Api) -> None:
    """PATCH status archived sets archivedAt; status active un-archives (archivedAt null)."""
    created = await create_project(api)
    await api.advance(30)
    r = await api.patch(f"/v1/projects/{created['id']}", {"status": "archived"})
    assert r.status == 200, r
    assert r.json["status"] == "archived"
    assert r.json["archivedAt"] == _at(30)
    await api.advance(30)
    r = await api.patch(f"/v1/projects/{created['id']}", {"status": "active"})
    assert r.status == 200, r
    assert r.json["status"] == "active"
    assert r.json["archivedAt"] is None


@pytest.mark.anyio
async def test_patch_archive_cancels_running_jobs(api: Api) -> None:
    """PATCH status archived has DELETE's effects: running jobs and their containers canceled."""
    p = await create_project(api)
    env = await start_builder(api, p["id"])
    r = await api.patch(f"/v1/projects/{p['id']}", {"status": "archived"})
    assert r.status == 200
    job = (await api.get(f"/v1/jobs/{env['jobId']}")).json
    assert job["status"] == "canceled"
    container = (await api.get(f"/v1/content/{env['containerIds'][0]}")).json
    assert container["status"] == "canceled"


# --------------------------------------------------------------------------------------------
# delete (archive) (contract §3.2.5)
# --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_delete_response_and_repeat(api: Api) -> None:
    """DELETE answers the archive shape; a repeat is 200 with a refreshed archivedAt."""
    p = await create_project(api)
    await api.advance(60)
    for path_id, at in ((p["id"], 60), (p["id"][4:], 120)):  # prefixed, then a bare UUID
        r = await api.delete(f"/v1/projects/{path_id}")
        assert r.status == 200, r
        assert r.json == {
            "id": p["id"],
            "status": "archived",
            "archivedAt": _at(at),
            "canceledScheduledPosts": 0,
        }
        await api.advance(60)
    got = (await api.get(f"/v1/projects/{p['id']}")).json
    assert got["status"] == "archived"
    assert got["archivedAt"] == _at(120)


@pytest.mark.anyio
async def test_delete_unknown_project_is_404(api: Api) -> None:
    """DELETE of an unknown project is 404."""
    assert_error(await api.delete(f"/v1/projects/prj_{new_uuid()}"), 404, "NOT_FOUND")


@pytest.mark.anyio
async def test_archive_cancels_running_job_and_releases_credits(api: Api) -> None:
    """Archiving cancels running jobs at once; containers canceled; reservations released."""
    p = await create_project(api)
    env = await start_builder(api, p["id"])
    assert CNT_ID.match(env["containerIds"][0])
    wallet = (await api.get("/v1/credits")).json
    assert wallet["reservedCredits"] == 50
    assert wallet["available"] == 5950
    await api.advance(10)
    assert (await api.delete(f"/v1/projects/{p['id']}")).status == 200
    job = (await api.get(f"/v1/jobs/{env['jobId']}")).json
    assert job["status"] == "canceled"
    assert job["finishedAt"] == _at(10)
    assert job["result"] is None
    container = (await api.get(f"/v1/content/{env['containerIds'][0]}")).json
    assert container["status"] == "canceled"
    wallet = (await api.get("/v1/credits")).json
    assert wallet["reservedCredits"] == 0
    assert wallet["available"] == 6000
    assert wallet["usedThisPeriod"] == 0
    await api.advance(300)
    assert (await api.get(f"/v1/jobs/{env['jobId']}")).json["status"] == "canceled"
    r = await api.patch(f"/v1/projects/{p['id']}", {"status": "active"})
    assert r.status == 200
    assert (await api.get(f"/v1/jobs/{env['jobId']}")).json["status"] == "canceled"


@pytest.mark.anyio
async def test_archive_cancels_queued_posts_only(api: Api) -> None:
    """Archiving cancels queued posts (counted), leaves published ones, and blocks schedule."""
    p = await create_project(api)
    sa = await connect_account(api, p["id"])
    env = await start_builder(api, p["id"])
    await api.advance(90)
    cid = env["containerIds"][0]
    assert (await api.get(f"/v1/content/{cid}")).json["status"] == "completed"

    async def schedule(lead: int) -> str:
        when = _parse_now(await api.now()) + timedelta(seconds=lead)
        r = await api.post(
            f"/v1/content/{cid}/schedule",
            {
                "scheduledFor": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "targets": [{"socialAccountId": sa, "mode": "publish"}],
            },
        )
        assert r.status == 201, r
        return str(r.json["scheduledPostIds"][0])

    published = await schedule(60)
    await api.advance(100)
    assert (await api.get(f"/v1/scheduled-posts/{published}")).json["status"] == "published"
    q1 = await schedule(3600)
    q2 = await schedule(7200)
    r = await api.delete(f"/v1/projects/{p['id']}")
    assert r.status == 200, r
    assert r.json["canceledScheduledPosts"] == 2
    for sp in (q1, q2):
        post = (await api.get(f"/v1/scheduled-posts/{sp}")).json
        assert post["status"] == "canceled"
        assert post["canceledAt"] == r.json["archivedAt"]
    assert (await api.get(f"/v1/scheduled-posts/{published}")).json["status"] == "published"
    when = _parse_now(await api.now()) + timedelta(seconds=3600)
    blocked = await api.post(
        f"/v1/content/{cid}/schedule",
        {
            "scheduledFor": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "targets": [{"socialAccountId": sa, "mode": "publish"}],
        },
    )
    err = assert_error(blocked, 409, "CONFLICT")
    assert err["details"] == {"projectId": p["id"], "status": "archived"}
    again = await api.delete(f"/v1/projects/{p['id']}")
    assert again.json["canceledScheduledPosts"] == 0


def _parse_now(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("influencers", {}),
        ("keywords/refresh", None),
        (
            "content/slideshow-remix",
            {"tiktokVideoId": "7301234567890123456", "influencerId": "INF"},
        ),
        ("content/video-remix", {"tiktokVideoId": "7301234567890123456", "influencerId": "INF"}),
        ("content/slideshow-builder", {"hook": "A hook"}),
        ("content/ugc-remix", {"influencerId": "INF"}),
    ],
)
async def test_archived_project_refuses_generation(
    api: Api, suffix: str, body: dict[str, Any] | None
) -> None:
    """Influencer create, keyword refresh and the four formats are 409 on an archived project."""
    p = await create_project(api, **GUIDE_BODY)
    await api.advance(90)
    inf = (await api.get(f"/v1/projects/{p['id']}/influencers")).json["items"][0]["influencerId"]
    assert (await api.delete(f"/v1/projects/{p['id']}")).status == 200
    path = f"/v1/projects/{p['id']}/{suffix}"
    if body is None:
        r = await api.post(path)
    else:
        r = await api.post(path, {k: (inf if v == "INF" else v) for k, v in body.items()})
    err = assert_error(r, 409, "CONFLICT")
    assert err["details"] == {"projectId": p["id"], "status": "archived"}
    assert (await api.state())["counts"]["jobs"]["total"] == 0


@pytest.mark.anyio
async def test_archived_project_allows_reads_and_plain_writes(api: Api) -> None:
    """While archived, reads and non-generating writes (PATCH, app media) still work."""
    p = await create_project(api, **GUIDE_BODY)
    assert (await api.delete(f"/v1/projects/{p['id']}")).status == 200
    assert (await api.get(f"/v1/projects/{p['id']}")).status == 200
    assert (await api.get(f"/v1/projects/{p['id']}/influencers")).status == 200
    assert (await api.get(f"/v1/projects/{p['id']}/keywords")).status == 200
    r = await api.patch(f"/v1/projects/{p['id']}", {"name": "Renamed"})
    assert r.status == 200
    assert r.json["status"] == "archived"
    media = await api.post(
        f"/v1/projects/{p['id']}/app-media",
        {"kind": "screenshot", "url": "https://cdn.example.com/s.png"},
    )
    assert media.status == 201, media


@pytest.mark.anyio
async def test_unarchived_project_generates_again(api: Api) -> None:
    """After PATCH status active, generation routes work again."""
    p = await create_project(api)
    assert (await api.delete(f"/v1/projects/{p['id']}")).status == 200
    assert (await api.patch(f"/v1/projects/{p['id']}", {"status": "active"})).status == 200
    env = await start_builder(api, p["id"])
    assert env["status"] == "running"
