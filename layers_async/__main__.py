"""The `layers-async` command.

Sub-commands:

* ``layers-async sandbox [--host] [--port] [--speed] [--seed] [--config]`` serves the
  embedded sandbox, exactly like ``python -m layers_async.sandbox``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_USAGE = """usage: layers-async <command> [options]

commands:
  sandbox    serve the embedded Layers sandbox (see `layers-async sandbox --help`)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `layers-async` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "sandbox":
        from .sandbox.__main__ import main as sandbox_main

        return sandbox_main(rest)
    print(f"layers-async: unknown command {command!r}\n\n{_USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
