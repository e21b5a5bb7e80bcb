"""Ergonomics peers have: `model.to_dict()`, resource classes named after their namespace,
namespaces listed by `help(LayersClient)`, `with_options(organization=None)`, and fan-out
results that narrow on `ok`."""

from __future__ import annotations

import inspect
import json
import pydoc
import typing
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from layers_async import (
    ItemFailed,
    ItemOk,
    LayersClient,
    LayersValidationError,
    NotFoundError,
    Project,
    Sandbox,
    fan_out,
)
from layers_async.models import JSON
from layers_async.resources._base import Resource
from layers_async.resources.app_media import AppMedia as AppMediaNamespace
from tests.examples.test_examples import _load as load_example

#: Every namespace of the client, as the README and `help(LayersClient)` name them.
NAMESPACES = (
    "projects",
    "app_media",
    "social",
    "influencers",
    "keywords",
    "content",
    "jobs",
    "scheduled_posts",
    "credits",
    "organizations",
    "api_keys",
    "webhook_endpoints",
)
#: An organization the sandbox's demo key has no child of: acting in it answers 404.
STRANGER_ORG = "org_00000000-0000-4000-8000-000000000001"
#: A client that never sends anything: these tests only look at its attributes.
OFFLINE_URL = "http://127.0.0.1:9"
METADATA: dict[str, JSON] = {"crm_id": "c-1", "tiers": [1, {"nestedKey": True}]}


async def _project(client: LayersClient) -> Project:
    return await client.projects.create(
        name="Acme Coffee",
        timezone="UTC",
        customer_external_id="acme-coffee",
        app_name="Acme Coffee",
        brand_voice="warm",
        metadata=METADATA,
    )


async def _raw(session: aiohttp.ClientSession, sandbox: Sandbox, path: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    async with session.get(f"{sandbox.url}{path}", headers=headers) as resp:
        body: dict[str, Any] = await resp.json()
        return body


# --- to_dict --------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_to_dict_gives_the_api_json_of_the_model(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """`to_dict()` is the API's own JSON of the object: camelCase keys, `...Z` times, no meta."""
    project = await _project(client)
    wire: dict[str, Any] = project.to_dict()
    raw = await _raw(session, sandbox, f"/v1/projects/{project.id}")
    assert json.loads(json.dumps(wire)) == wire  # plain JSON values only
    assert set(wire) <= set(raw)
    assert wire == {key: raw[key] for key in wire}
    assert wire["createdAt"].endswith("Z")
    assert wire["metadata"] == METADATA  # the keys of a free-form mapping are data: kept
    assert "meta" not in wire
    assert "_meta" not in wire


@pytest.mark.anyio
async def test_to_dict_wire_false_uses_python_names(client: LayersClient) -> None:
    """`to_dict(wire=False)` keys are the attribute names (nested too); values stay JSON-able."""
    project = await _project(client)
    plain: dict[str, Any] = project.to_dict(wire=False)
    assert json.loads(json.dumps(plain)) == plain
    assert plain["customer_external_id"] == "acme-coffee"
    assert plain["brand_context"]["brand_voice"] == "warm"
    assert plain["metadata"] == METADATA
    assert isinstance(plain["created_at"], str)
    assert datetime.fromisoformat(plain["created_at"].replace("Z", "+00:00")) == project.created_at
    assert "customerExternalId" not in plain


@pytest.mark.anyio
async def test_to_dict_of_listed_and_nested_models(
    client: LayersClient, sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    """Models with tuples of nested models (`SourceRecommendations`) become lists of objects."""
    project = await _project(client)
    recs = await client.content.source_recommendations(
        project.id, kind="slideshow", keyword="coffee"
    )
    wire: dict[str, Any] = recs.to_dict()
    assert isinstance(wire["items"], list)
    assert wire["items"]
    assert wire["items"][0]["tiktokId"] == recs.items[0].tiktok_id
    plain: dict[str, Any] = recs.to_dict(wire=False)
    assert plain["items"][0]["tiktok_id"] == recs.items[0].tiktok_id
    me = (await client.whoami()).to_dict()
    raw = await _raw(session, sandbox, "/v1/whoami")
    assert me == {key: raw[key] for key in me}


@pytest.mark.anyio
async def test_web_service_example_answers_a_project_as_its_api_json(sandbox: Sandbox) -> None:
    """examples/web_service.py's `GET /projects/{id}` answers `project.to_dict()`; 404, 422."""
    service = load_example("web_service")
    app = service.create_app(lambda: LayersClient(api_key=sandbox.api_key, base_url=sandbox.url))
    async with TestClient(TestServer(app)) as http:
        project = await _project(app[service.CLIENT])
        answer = await http.get(f"/projects/{project.id}")
        assert answer.status == 200
        assert await answer.json() == project.to_dict()
        missing = await http.get(f"/projects/{STRANGER_ORG.replace('org_', 'prj_')}")
        assert missing.status == 404
        assert (await http.get("/projects/nope")).status == 422


# --- resource classes and help(LayersClient) ------------------------------------------------------
@pytest.mark.parametrize("name", NAMESPACES)
def test_resource_class_is_named_after_its_namespace(name: str) -> None:
    """`client.app_media` is an `AppMedia`, `client.scheduled_posts` a `ScheduledPosts`, ...
    (each a subclass of the internal `resources._base.Resource`, which no public name shows)."""
    client = LayersClient(api_key="lp_test_offline", base_url=OFFLINE_URL)
    namespace = getattr(client, name)
    assert isinstance(namespace, Resource)
    assert type(namespace).__name__ == "".join(part.title() for part in name.split("_"))


def test_app_media_resource_keeps_its_old_name_as_a_deprecated_alias() -> None:
    """`resources.app_media.AppMediaResource` still resolves, to `AppMedia`, with a warning."""
    from layers_async.resources import app_media

    with pytest.warns(DeprecationWarning, match="use AppMedia"):
        old = app_media.AppMediaResource
    assert old is AppMediaNamespace
    with pytest.raises(AttributeError):
        _ = app_media.NoSuchName


def test_help_lists_every_namespace_with_its_class() -> None:
    """`help(LayersClient)` shows each namespace, its resource class and what it does."""
    text = pydoc.render_doc(LayersClient, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
    for name in NAMESPACES:
        cls = type(getattr(LayersClient, name)).__name__
        assert cls == "_Namespace", name
        line = next(
            (i for i, row in enumerate(text.splitlines()) if row.strip("| ").strip() == name),
            None,
        )
        assert line is not None, f"{name} missing from help(LayersClient)"
        doc = text.splitlines()[line + 1]
        assert "layers_async.resources." in doc, doc
    assert set(NAMESPACES) <= set(dir(LayersClient))


def test_namespaces_are_read_only_and_made_once_per_view() -> None:
    """A namespace is the same object on every access and cannot be replaced by assignment."""
    client = LayersClient(api_key="lp_test_offline", base_url=OFFLINE_URL)
    assert client.projects is client.projects
    view = client.with_options(timeout=5)
    assert view.projects is not client.projects
    with pytest.raises(AttributeError, match="read-only"):
        client.projects = client.projects


# --- the call options: **options: Unpack[RequestOptions] ----------------------------------------
#: Every keyword a method takes besides its own, with its default, in signature order.
CALL_OPTIONS = {"timeout": "NOT_GIVEN", "idempotency_key": "None", "extra_headers": "None"}


def _methods() -> list[tuple[str, str]]:
    client = LayersClient(api_key="lp_test_offline", base_url=OFFLINE_URL)
    return [
        (ns, name)
        for ns in NAMESPACES
        for name, _ in inspect.getmembers(type(getattr(client, ns)), inspect.isfunction)
        if not name.startswith("_")
    ]


@pytest.mark.parametrize(("namespace", "method"), _methods())
def test_signature_spells_out_the_call_options(namespace: str, method: str) -> None:
    """`help()` shows every method's timeout=, idempotency_key=, extra_headers= (and a list
    method's limit=, cursor=) as keyword-only parameters with their defaults; its annotations
    resolve at run time."""
    client = LayersClient(api_key="lp_test_offline", base_url=OFFLINE_URL)
    bound = getattr(getattr(client, namespace), method)
    assert "return" in typing.get_type_hints(bound)
    sig = inspect.signature(bound)
    params = sig.parameters
    paged = str(sig.return_annotation).startswith("AsyncPaginator[")
    expected = {"limit": "None", "cursor": "None"} if paged else {}
    expected.update(CALL_OPTIONS)
    tail = list(params.values())[-len(expected) :]
    assert [(p.name, repr(p.default), p.kind) for p in tail] == [
        (name, default, inspect.Parameter.KEYWORD_ONLY) for name, default in expected.items()
    ]
    assert tail[0].annotation in ("int | None", "float | Timeouts | NotGiven | None")
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


@pytest.mark.anyio
async def test_an_unknown_keyword_is_a_type_error_naming_it(client: LayersClient) -> None:
    """A misspelt keyword raises `TypeError` naming it before any argument is checked, as a
    parameter list would (a list method too, and `limit=` on a method that does not page);
    the call options are checked before the method's own arguments."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        await client.credits.get(timout=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'statuss'"):
        client.projects.list(statuss="active")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'limit'"):
        await client.keywords.get("prj_x", limit=5)  # type: ignore[call-arg]
    with pytest.raises(LayersValidationError, match="timeout"):  # checked before the id
        await client.projects.get("nope", timeout=-1)
    assert (await client.credits.get(timeout=3, extra_headers={"X-Trace": "1"})).meta


# --- with_options(organization=None) --------------------------------------------------------------
@pytest.mark.anyio
async def test_with_options_organization_none_returns_to_the_parent_organization(
    sandbox: Sandbox,
) -> None:
    """A view of a child organization, given `organization=None`, acts in the key's own again."""
    async with LayersClient(api_key=sandbox.api_key, base_url=sandbox.url) as client:
        own = (await client.whoami()).organization_id
        child = client.for_organization(STRANGER_ORG)
        with pytest.raises(NotFoundError):
            await child.whoami()
        assert child.with_options(timeout=5).organization == STRANGER_ORG  # left out: kept
        back = child.with_options(organization=None)
        assert back.organization is None
        assert (await back.whoami()).organization_id == own
        assert (await back.projects.list()).items == ()


@pytest.mark.anyio
async def test_organization_none_undoes_the_constructor_option(sandbox: Sandbox) -> None:
    """A client made with `organization=` also gets back to the key's organization with None."""
    async with LayersClient(
        api_key=sandbox.api_key, base_url=sandbox.url, organization=STRANGER_ORG
    ) as bound:
        with pytest.raises(NotFoundError):
            await bound.whoami()
        assert (await bound.with_options(organization=None).whoami()).organization_name


# --- fan_out results narrow on ok -----------------------------------------------------------------
@pytest.mark.anyio
async def test_fan_out_results_are_item_ok_or_item_failed() -> None:
    """A value gives an `ItemOk` (ok True, error None), an exception an `ItemFailed`."""

    async def half(n: int) -> float:
        if n == 0:
            raise ZeroDivisionError("n is 0")
        return 1 / n

    ok, failed = await fan_out([2, 0], half)
    assert isinstance(ok, ItemOk)
    assert (ok.item, ok.value, ok.error, ok.ok) == (2, 0.5, None, True)
    assert isinstance(failed, ItemFailed)
    assert (failed.item, failed.value, failed.ok) == (0, None, False)
    assert isinstance(failed.error, ZeroDivisionError)
    assert ok.seconds >= 0
    assert failed.seconds >= 0
