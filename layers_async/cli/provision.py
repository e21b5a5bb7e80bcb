"""`layers-async provision`: one child organization per customer, keyed and funded, crash-safely.

::

    layers-async provision customers.csv --state run.jsonl --secrets secrets.jsonl --allocate 5000
    layers-async provision customers.csv --state run.jsonl --secrets secrets.jsonl --sandbox

The customer list is the one of ``layers-async onboard`` (`external_id` and `name` are what
provisioning uses; every row is validated the same way, a bad row reported as
``line N: field: message`` and skipped). Each good row runs `layers_async.provision_customer`:
a child with ``metadata.externalId``, its key, the allocation, and (``--webhook-url``) a
webhook endpoint inside the child.

Crash safety is `onboard`'s: the ``--state`` journal (one fsynced line per event) tells a rerun
which customers are done, and the flow's idempotency keys, derived from the customer and the
step, make a run killed at any moment finish with exactly one child, key, allocation and
endpoint per customer. Child secrets go only to the ``--secrets`` file (mode 0600; an existing
file others may read is refused), fsynced before the customer is marked done; they are never
printed, logged, nor written to the journal or the results file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from .. import LayersClient, LayersValidationError, ProvisionResult, provision_customer
from .._validation import check_return_url
from ..flows import ItemResult
from .arguments import EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, positive_int
from .journal import Journal
from .onboard import (
    add_run_arguments,
    error_json,
    fan_out_until_sigint,
    open_run,
    result_lines,
    results_path,
    with_client,
    write_results,
)
from .rows import BadRow, Row
from .secrets import SecretsFile, SecretsFileError

__all__ = ["EPILOG", "HELP", "add_arguments", "provisioned", "result_json", "run_provision"]

#: The description of ``layers-async provision --help``.
HELP = """\
Provision every customer of a CSV or JSONL file (the columns of `onboard`; external_id and
name are used) as a child organization: created (or adopted by its metadata.externalId), with
one API key, --allocate credits moved from your prepaid balance, and with --webhook-url a
webhook endpoint inside the child. The key needs org:admin (LAYERS_API_KEY, or --sandbox).

Child secrets are written only to the --secrets file, created with mode 0600: one JSON line
per customer (external_id, organization_id, api_key_id, secret); after a key rotation a later
line supersedes the earlier one. They are never printed.
"""

#: What ``layers-async provision --help`` prints after the options.
EPILOG = """\
The state file is an append-only journal; re-run with the same --state and --secrets after a
crash or Ctrl-C: only the unfinished customers run again, and nothing is created or funded
twice. Within 24 hours a rerun recovers each key's secret; past that, a key whose secret is
not in the --secrets file is rotated (the results line says "key_rotated": true).

exit status: 0 when every customer is provisioned (or already was), 1 when any row was bad or
any customer failed, 2 on a usage error (nothing was run), 130 when interrupted.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``provision`` command's arguments to `p`."""
    add_run_arguments(p, "provision")
    p.add_argument(
        "--secrets", type=Path, required=True, metavar="FILE",
        help="where the child keys' secrets go (JSONL, created with mode 0600)",
    )  # fmt: skip
    p.add_argument(
        "--allocate", type=positive_int, default=None, metavar="N",
        help="credits to move from your prepaid balance to each child (default: none)",
    )  # fmt: skip
    p.add_argument(
        "--webhook-url", default=None, metavar="URL",
        help="give each child a webhook endpoint at this https URL (default: none)",
    )  # fmt: skip
    p.set_defaults(func=run_provision)


def result_json(result: ProvisionResult) -> dict[str, Any]:
    """What a results line and the journal hold of one customer: ids and flags, no secret."""
    return {
        "organization_id": result.organization_id,
        "adopted": result.adopted,
        "api_key_id": result.api_key_id,
        "key_rotated": result.key_rotated,
        "previous_key_id": result.previous_key_id,
        "allocation_txn": result.allocation_txn,
        "allocation_replayed": result.allocation_replayed,
        "webhook_endpoint_id": result.webhook_endpoint_id,
        "balance": result.balance,
    }


def provisioned(result: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a ``done`` record read back names the child and key a finished run records."""
    return isinstance(result, dict) and all(
        isinstance(result.get(f), str) and result[f] for f in ("organization_id", "api_key_id")
    )


async def run_provision(args: argparse.Namespace) -> int:
    """Run the ``provision`` sub-command described by `args`; returns the exit status."""
    if args.webhook_url is not None:
        try:
            check_return_url("--webhook-url", args.webhook_url)
        except LayersValidationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        secrets = SecretsFile(Path(args.secrets))
    except (OSError, SecretsFileError) as exc:
        print(f"error: cannot use --secrets {args.secrets}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    opened = open_run(args, provisioned)
    if isinstance(opened, int):
        secrets.close()
        return opened
    rows, bad, journal = opened
    try:
        return await with_client(
            args,
            journal,
            lambda client, target: _provision_all(
                args, rows, bad, journal, secrets, client, target.now
            ),
        )
    finally:
        secrets.close()


async def _provision_all(
    args: argparse.Namespace,
    rows: list[Row],
    bad: list[BadRow],
    journal: Journal,
    secrets: SecretsFile,
    client: LayersClient,
    now: Callable[[], Awaitable[datetime]],
) -> int:
    todo = [r for r in rows if r.customer.external_id not in journal.done]
    print(
        f"provision: {len(rows) + len(bad)} rows in {args.customers}: {len(todo)} to provision,"
        f" {len(rows) - len(todo)} already done, {len(bad)} bad",
        flush=True,
    )

    async def one(row: Row) -> ProvisionResult:
        c = row.customer
        await journal.append({"external_id": c.external_id, "status": "started", "line": row.line})
        try:
            result = await provision_customer(
                client,
                c.external_id,
                c.name,
                allocate=args.allocate,
                webhook_url=args.webhook_url,
                now=now,
            )
            secrets.write(result)  # on disk before the customer is marked done
        except Exception as exc:
            failure = {"external_id": c.external_id, "status": "failed", "error": error_json(exc)}
            await journal.append(failure)
            raise
        done = {"external_id": c.external_id, "status": "done", "result": result_json(result)}
        await journal.append(done)
        return result

    finished: dict[str, ItemResult[Row, ProvisionResult]] = {}

    def progress(n: int, total: int, item: ItemResult[Row, ProvisionResult]) -> None:
        ext = item.item.customer.external_id
        finished[ext] = item
        if item.value is None:
            print(f"[{n}/{total}] FAIL {ext} (line {item.item.line}): {item.error!r}", flush=True)
            return
        r = item.value
        notes = "".join(
            f"  {flag}" for flag, on in (("adopted", r.adopted), ("key rotated", r.key_rotated))
            if on
        )
        print(
            f"[{n}/{total}] ok   {ext}  org {r.organization_id}  key {r.api_key_id}"
            f"  balance {r.balance}{notes}",
            flush=True,
        )

    interrupted = await fan_out_until_sigint(todo, one, args.concurrency, progress)
    lines, failed, made = result_lines(rows, bad, journal, finished, result_json, "provision")
    results = results_path(args)
    write_results(results, lines)
    print(
        ("interrupted: " if interrupted else "summary: ")
        + f"{made} provisioned, {len(rows) - len(todo)} skipped (already done),"
        f" {len(failed)} failed, {len(bad)} bad rows; secrets in {args.secrets}",
        flush=True,
    )
    print(f"results: {results}", flush=True)
    if interrupted:
        print(f"to resume, run the same command again with --state {journal.path}", flush=True)
        return EXIT_INTERRUPTED
    return EXIT_PROBLEMS if failed or bad else EXIT_OK
