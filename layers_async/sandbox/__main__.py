"""`python -m layers_async.sandbox`: serve the sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._server import Sandbox, SandboxConfigError

__all__ = ["main", "serve"]

_T = TypeVar("_T")


def _checked(
    convert: Callable[[str], _T], ok: Callable[[_T], bool], what: str
) -> Callable[[str], _T]:
    """An argparse type: `convert` the text, refused as "must be <what>" unless `ok`."""

    def parse(text: str) -> _T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})")
        return value

    return parse


_port = _checked(int, lambda port: 0 <= port <= 65535, "a port from 0 to 65535")
#: A clock speed: 0 is a paused clock, legitimate for a sandbox driven by clock/advance.
_speed = _checked(float, lambda speed: speed >= 0 and math.isfinite(speed), "a number >= 0")


def _parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Serve the embedded Layers sandbox (a stateful local Layers API).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8787, help="port to bind (default 8787; 0 = any free)"
    )
    p.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help="virtual seconds per real second (0 = paused; POST /_sandbox/clock/advance moves it)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed for ids, jitter, failures, data")
    p.add_argument("--config", default=None, help="JSON file with configuration (camelCase keys)")
    return p


async def serve(config: dict[str, Any], host: str, port: int) -> int:
    """Run until SIGINT/SIGTERM; prints the base URL and the key strings first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Sandbox(config, host=host, port=port) as sandbox:
        print(f"Layers sandbox listening on {sandbox.url}", flush=True)
        for name, key in sandbox.keys.items():
            print(f"  {name:<12} {key}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        await stop.wait()
    print("Layers sandbox stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m layers_async.sandbox") -> int:
    """Command-line entry point (`prog` names it in help and errors); returns the exit status."""
    args = _parser(prog).parse_args(argv)
    config: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                loaded = json.load(fh)
        except (OSError, ValueError) as exc:
            print(f"error: cannot read --config {args.config}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(loaded, dict):
            print("error: --config must hold a JSON object", file=sys.stderr)
            return 2
        config.update(loaded)
    if args.speed is not None:
        config["speed"] = args.speed
    if args.seed is not None:
        config["seed"] = args.seed
    try:
        return asyncio.run(serve(config, args.host, args.port))
    except SandboxConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
