"""The `layers-async` command: `demo`, `onboard`, `provision`, `sandbox` and the arq workers.

``layers-async demo`` starts an embedded sandbox and runs the Getting started flow for many
fictional customers at once through the SDK, with a live progress display (rich, when installed
and stdout is a terminal; plain lines otherwise), then prints a summary table and totals.
``layers-async onboard`` onboards a customer list crash-safely (see `layers_async.cli.onboard`),
``layers-async provision`` makes each customer of a list a child organization with its own key
and credits (see `layers_async.cli.provision`), ``layers-async sandbox`` serves the
embedded sandbox (``python -m layers_async.sandbox``), and ``worker``, ``enqueue``, ``status``
and ``results`` run onboarding as durable jobs on arq workers over Redis (see
`layers_async.cli.scale`; the ``distributed`` extra).

Each command lives in its own module and drives the SDK and the `Sandbox` through their public
API: no module here imports a private (``_``) name from the rest of the package, nor reads a
client's private attributes. The live display needs rich (the ``cli`` extra); everything else
works without it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from .. import __version__
from . import demo, onboard, provision, scale, scale_demo
from .arguments import EXIT_INTERRUPTED, EXIT_USAGE
from .demo import run_demo

__all__ = ["build_parser", "main", "run_demo"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `layers-async`."""
    parser = argparse.ArgumentParser(
        prog="layers-async",
        description="The Layers Partner API SDK's command line: a demo, onboarding from a file"
        " and the embedded sandbox. `layers-async COMMAND --help` describes each command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo.add_arguments(
        sub.add_parser(
            "demo",
            help="run many customers' Getting started flows against an embedded sandbox",
            description=demo.HELP,
        )
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="serve the embedded sandbox (python -m layers_async.sandbox)",
        description="Serve the embedded Layers sandbox; `layers-async sandbox --help` for options.",
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    runs = (
        (onboard, "onboard customers from a CSV or JSONL file, crash-safely"),
        (provision, "provision customers as child organizations (keyed, funded), crash-safely"),
    )
    for module, summary in runs:  # the crash-safe runs over a customer list
        module.add_arguments(
            sub.add_parser(
                module.__name__.rpartition(".")[2],
                help=summary,
                description=module.HELP,
                epilog=module.EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
        )
    for name, summary, description in scale.COMMANDS:  # the durable runs on arq workers
        scale.add_arguments(name, sub.add_parser(name, help=summary, description=description))
    scale_demo.add_arguments(
        sub.add_parser(
            "scale-demo",
            help="Redis, a sandbox and worker processes on this machine, onboarding the demo",
            description=scale_demo.HELP,
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `layers-async` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        from ..sandbox.__main__ import main as sandbox_main

        return sandbox_main(args_list[1:], prog="layers-async sandbox")
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        if args.command == "demo":
            return asyncio.run(run_demo(args))
        if args.command == "onboard":
            return asyncio.run(onboard.run_onboard(args))
        if args.command == "provision":
            return asyncio.run(provision.run_provision(args))
        if args.command in {name for name, _, _ in scale.COMMANDS}:
            return scale.run(args)
        if args.command == "scale-demo":
            return scale_demo.run_scale_demo(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    parser.print_help()
    return EXIT_USAGE
