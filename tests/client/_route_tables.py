"""Tests built from a table of a resource's routes: each route's scope, the 401 of an unknown
key, and the 404 of an unknown resource."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from layers_async import AuthenticationError, LayersClient, NotFoundError, PermissionDeniedError
from tests.client._refusals import api_refusal
from tests.client._setup import MakeSandbox, new_project

#: One route of a resource as a table row: (name, required scope, call). The call takes the
#: client and, for the routes of `scope_and_auth_test` and `not_found_test(project_id=...)`, a
#: project id.
Route = tuple[str, str, Callable[..., Awaitable[Any]]]
TestFunction = Callable[..., Awaitable[None]]


def scoped_sandbox_options(bare_scopes: Sequence[str] = ("ads:read",)) -> dict[str, Any]:
    """make_sandbox options: `demo-live` with every scope and `bare` with only `bare_scopes`."""
    base = {
        "organization": "partner",
        "env": "live",
        "rateLimitTier": "standard",
        "returnUrlAllowlist": ["localhost"],
    }
    return {
        "api_keys": [
            {**base, "name": "demo-live", "scopes": ["*", "org:admin"]},
            {**base, "name": "bare", "scopes": list(bare_scopes)},
        ]
    }


async def assert_scope_and_auth(
    make_sandbox: MakeSandbox,
    call: Callable[[LayersClient, str], Awaitable[Any]],
    scope: str,
    *,
    bare_scopes: Sequence[str] = ("ads:read",),
    make_project: Callable[[LayersClient], Awaitable[str]] = new_project,
) -> None:
    """`call` on a fresh project: a key lacking `scope` gets 403 naming it; an unknown key 401."""
    async with (
        make_sandbox(**scoped_sandbox_options(bare_scopes)) as sb,
        LayersClient(api_key=sb.keys["demo-live"], base_url=sb.url) as full,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as bare,
        LayersClient(api_key="lp_live_unknown", base_url=sb.url) as stranger,
    ):
        pid = await make_project(full)
        denied = await api_refusal(PermissionDeniedError, call(bare, pid))
        assert denied.details["requiredScope"] == scope
        await api_refusal(AuthenticationError, call(stranger, pid))


async def assert_needs_scope(
    make_sandbox: MakeSandbox, call: Callable[[LayersClient], Awaitable[Any]], scope: str
) -> None:
    """`call` with a key lacking `scope` is exactly PermissionDeniedError {requiredScope}."""
    async with (
        make_sandbox(**scoped_sandbox_options()) as sb,
        LayersClient(api_key=sb.keys["bare"], base_url=sb.url) as client,
    ):
        denied = await api_refusal(PermissionDeniedError, call(client))
        assert denied.details == {"requiredScope": scope}


def _routes_test(routes: Sequence[Route], doc: str, body: TestFunction) -> TestFunction:
    """`body` as an anyio test over `routes` (ids: the route names), with docstring `doc`."""
    body.__doc__ = doc
    names = [name for name, _, _ in routes]
    return pytest.mark.anyio(
        pytest.mark.parametrize(("name", "scope", "call"), routes, ids=names)(body)
    )


def scope_and_auth_test(
    routes: Sequence[Route],
    doc: str,
    *,
    bare_scopes: Sequence[str] = ("ads:read",),
    make_project: Callable[[LayersClient], Awaitable[str]] = new_project,
) -> TestFunction:
    """A test running `assert_scope_and_auth` for every (name, scope, call(client, pid)) route."""

    async def test(
        make_sandbox: MakeSandbox, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        await assert_scope_and_auth(
            make_sandbox, call, scope, bare_scopes=bare_scopes, make_project=make_project
        )

    return _routes_test(routes, doc, test)


def needs_scope_test(routes: Sequence[Route], doc: str) -> TestFunction:
    """A test running `assert_needs_scope` for every (name, scope, call(client)) route."""

    async def test(
        make_sandbox: MakeSandbox, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        await assert_needs_scope(make_sandbox, call, scope)

    return _routes_test(routes, doc, test)


def not_found_test(
    routes: Sequence[Route], doc: str, *, project_id: str | None = None
) -> TestFunction:
    """A test: call(client), or call(client, project_id), is exactly NotFoundError, per route."""

    async def test(
        client: LayersClient, name: str, scope: str, call: Callable[..., Awaitable[Any]]
    ) -> None:
        args = () if project_id is None else (project_id,)
        await api_refusal(NotFoundError, call(client, *args))

    return _routes_test(routes, doc, test)
