"""The pytest plugin users enable: `layers_sandbox`, `layers_client`, `layers_advance`."""

from __future__ import annotations

from typing import Any

import pytest

from layers_async import LayersClient, Sandbox, wait_for_ready_influencer

DESC = (
    "Freshly roasted coffee delivered on a schedule for runners and night-shift workers who "
    "never want to run out of beans."
)


@pytest.mark.anyio
async def test_fixtures_give_a_paused_sandbox_and_a_bound_client(
    layers_sandbox: Sandbox, layers_client: LayersClient, layers_advance: Any
) -> None:
    """The client talks to the sandbox; time moves only through layers_advance."""
    assert layers_client.base_url == layers_sandbox.url
    project = await layers_client.projects.create(
        name="Plugin Co", timezone="UTC", app_description=DESC
    )
    first = await layers_client.influencers.list(project.id)
    assert [i.status for i in first.items] == ["pending"]
    moved = await layers_advance(61)
    assert moved["transitionsApplied"] >= 1
    ready = await wait_for_ready_influencer(layers_client, project.id, timeout=5)
    assert ready.status == "ready"


@pytest.fixture
def layers_sandbox_options() -> dict[str, Any]:
    """This module's sandboxes fail every generation (overriding the plugin's default)."""
    return {"speed": 0, "failure_rates": {"content_generate": 1.0}}


@pytest.mark.anyio
async def test_options_fixture_configures_the_sandbox(layers_sandbox: Sandbox) -> None:
    """Overriding layers_sandbox_options changes the sandbox the fixtures start."""
    assert layers_sandbox.config["failureRates"]["content_generate"] == 1.0
    assert layers_sandbox.config["speed"] == 0
