"""Every public name of the webhook modules documents itself, down to methods and properties."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = (
    "layers_async._events",
    "layers_async.cli.webhook_demo",
    "layers_async.models.webhook_endpoints",
    "layers_async.models.webhooks",
    "layers_async.resources.webhook_endpoints",
    "layers_async.resources.webhooks",
    "layers_async.webhooks",
    "layers_async.webhooks._asgi",
    "layers_async.webhooks._dedup",
)


def _undocumented(module_name: str) -> list[str]:
    """The public classes, functions, methods and properties of a module with no docstring."""
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for attr, value in vars(obj).items():
            member = value.fget if isinstance(value, property) else value
            if attr.startswith("_") or not callable(member):
                continue
            if not (inspect.getdoc(member) or "").strip():
                missing.append(f"{name}.{attr}")
    return missing


@pytest.mark.parametrize("module_name", MODULES)
def test_public_webhook_names_have_docstrings(module_name: str) -> None:
    """No public class, function, method or property of the module lacks a docstring."""
    assert _undocumented(module_name) == []
