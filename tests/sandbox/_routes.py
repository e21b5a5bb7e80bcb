"""The sandbox's route table as the hardening tests walk it: every route, with ids filled in.

It reads the internal route table (`sandbox.routes`, `sandbox._routing.Route`): no public name
lists the routes, and walking every one of them is the point of those tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from layers_async.sandbox._routing import Route
from layers_async.sandbox.routes import ROUTES
from layers_async.sandbox.routes.admin import ROUTES as ADMIN_ROUTES
from tests.sandbox._flows import GHOST_JOB, GHOST_UUID, REQ_RE
from tests.sandbox._http import Api, Reply

#: Every `/v1` route, and every `/_sandbox/` route with an exact path, as (method, template).
ALL_ROUTES: tuple[tuple[str, str], ...] = (
    *((r.method, r.template) for r in ROUTES),
    *ADMIN_ROUTES,
)
#: The routes that take a request body: every POST and PATCH of the route table.
BODY_ROUTES: tuple[tuple[str, str], ...] = tuple(
    (m, t) for m, t in ALL_ROUTES if m in ("POST", "PATCH")
)
_BY_TEMPLATE = {(r.method, r.template): r for r in ROUTES}


def ghost_ids(route: Route) -> dict[str, str]:
    """Well-formed ids that name nothing, for each path parameter of `route`."""
    return {
        name: GHOST_JOB if p.form == "ulid" else f"{p.prefix}_{GHOST_UUID}"
        for name, p in route.params.items()
    }


def fill(method: str, template: str, ids: Mapping[str, str] | None = None) -> str:
    """The path of a route, its parameters taken from `ids` (ghost ids where missing)."""
    route = _BY_TEMPLATE.get((method, template))
    values = {**(ghost_ids(route) if route is not None else {}), **(ids or {})}
    return template.format(**values)


def assert_answer(r: Reply) -> None:
    """No 5xx; a request id always; the error envelope, naming that id, on every non-2xx."""
    assert r.status < 500, r
    rid = r.headers.get("X-Request-Id")
    assert rid is not None, r
    assert REQ_RE.match(rid), rid
    if 200 <= r.status < 400:
        return
    err = json.loads(r.body)["error"]
    assert isinstance(err["code"], str), r
    assert isinstance(err["message"], str), r
    assert err["requestId"] == rid, r
    assert set(err) <= {"code", "message", "requestId", "details"}, r


async def assert_every_route_answers(api: Api) -> None:
    """Call every route once (`{}` as the body of a write): each answers as `assert_answer`."""
    for method, template in ALL_ROUTES:
        if template == "/_sandbox/reset":
            continue  # would wipe what the caller checks next; its own tests call it
        path = fill(method, template)
        if method in ("POST", "PATCH"):
            r = await api.call(method, path, json={})
        else:
            r = await api.call(method, path)
        assert_answer(r)
