"""An aiohttp.web service that onboards customers in the background with one LayersClient.

The application's lifespan (``cleanup_ctx``) owns one client — one session and connection pool
for every request — and closes it on shutdown, cancelling onboarding still in flight.

    POST /customers            {"external_id", "name", "app_description", ...} → 202
    GET  /customers/{id}       → {"status": "running" | "done" | "failed", ...}
    GET  /projects/{id}        → the project, as the Layers API's JSON (`model.to_dict()`)

Run it against the real API with ``LAYERS_API_KEY`` set::

    python examples/web_service.py      # serves on http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from layers_async import (
    Customer,
    LayersClient,
    LayersError,
    LayersValidationError,
    MediaItem,
    NotFoundError,
    onboard_customer,
)

CLIENT = web.AppKey("layers_client", LayersClient)
JOBS: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("onboarding")
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks")


def create_app(make_client: Callable[[], LayersClient] = LayersClient) -> web.Application:
    """The application; `make_client` builds the one LayersClient it owns."""
    app = web.Application()

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        async with make_client() as client:
            app[CLIENT] = client
            app[JOBS] = {}
            app[TASKS] = set()
            yield
            running: set[asyncio.Task[None]] = app[TASKS]
            pending = list(running)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    app.cleanup_ctx.append(lifespan)
    app.router.add_post("/customers", start_onboarding)
    app.router.add_get("/customers/{external_id}", onboarding_status)
    app.router.add_get("/projects/{project_id}", project_json)
    return app


def _customer(data: Any) -> Customer:
    if not isinstance(data, dict):
        raise LayersValidationError("body", "must be a JSON object")
    for field in ("external_id", "name"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise LayersValidationError(field, "is required")
    media: list[MediaItem] = []
    if isinstance(data.get("logo_url"), str):
        media.append(MediaItem("logo", data["logo_url"]))
    if isinstance(data.get("screenshot_url"), str):
        media.append(MediaItem("screenshot", data["screenshot_url"]))
    return Customer(
        external_id=data["external_id"],
        name=data["name"],
        timezone=data.get("timezone", "UTC"),
        app_name=data.get("app_name"),
        app_description=data.get("app_description"),
        media=tuple(media),
    )


async def start_onboarding(request: web.Request) -> web.Response:
    """Validate the customer, start its onboarding in the background, answer 202 at once."""
    app = request.app
    try:
        customer = _customer(await request.json())
    except (ValueError, LayersValidationError) as exc:
        field = getattr(exc, "field", "body")
        return web.json_response({"error": str(exc), "field": field}, status=422)
    jobs: dict[str, dict[str, Any]] = app[JOBS]
    if jobs.get(customer.external_id, {}).get("status") == "running":
        return web.json_response(jobs[customer.external_id], status=202)
    jobs[customer.external_id] = {"external_id": customer.external_id, "status": "running"}

    async def run() -> None:
        try:
            result = await onboard_customer(app[CLIENT], customer)
        except LayersError as exc:
            jobs[customer.external_id] = {
                "external_id": customer.external_id,
                "status": "failed",
                "error": type(exc).__name__,
                "message": str(exc),
            }
        else:
            jobs[customer.external_id] = {
                "external_id": customer.external_id,
                "status": "done",
                "project_id": result.project_id,
                "container_id": result.container_id,
                "influencer_id": result.influencer_id,
            }

    task = asyncio.create_task(run())
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)
    return web.json_response(jobs[customer.external_id], status=202)


async def onboarding_status(request: web.Request) -> web.Response:
    """Where the onboarding of one customer stands."""
    job = request.app[JOBS].get(request.match_info["external_id"])
    if job is None:
        return web.json_response({"error": "unknown customer"}, status=404)
    return web.json_response(job)


async def project_json(request: web.Request) -> web.Response:
    """A project as JSON: `to_dict()` gives the API's camelCase shape, datetimes as `...Z`."""
    try:
        project = await request.app[CLIENT].projects.get(request.match_info["project_id"])
    except LayersValidationError as exc:
        return web.json_response({"error": str(exc), "field": exc.field}, status=422)
    except NotFoundError:
        return web.json_response({"error": "unknown project"}, status=404)
    return web.json_response(project.to_dict())


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
