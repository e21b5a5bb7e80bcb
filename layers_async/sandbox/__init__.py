"""The embedded Layers sandbox: a stateful local Layers API with a virtual clock and faults.

Start it in process with ``async with Sandbox(...) as sandbox`` or from the shell with
``python -m layers_async.sandbox``. Its behaviour follows the project's API contract, §5.
"""

from __future__ import annotations

from ._server import Sandbox, SandboxConfigError

__all__ = ["Sandbox", "SandboxConfigError"]
