"""layers_async: the asyncio-native Python SDK for the Layers Partner API.

The package also ships an embedded, stateful Layers sandbox (`layers_async.Sandbox`) that the
command line, the tests and users' own test suites run against.
"""

from __future__ import annotations

from .sandbox import Sandbox, SandboxConfigError

__version__ = "0.1.0.dev0"

__all__ = ["Sandbox", "SandboxConfigError", "__version__"]

for _name in ("Sandbox", "SandboxConfigError"):
    globals()[_name].__module__ = "layers_async"
del _name
