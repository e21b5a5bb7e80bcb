"""Offline decoding: layers_async's models against pydantic v2 ``model_validate`` on the same data.

Usage::

    python benchmarks/decode.py [--rounds 15] [--budget 0.05]

No network and no sandbox: each shape is one JSON body, as the sandbox renders it, decoded once
with orjson before timing starts. Both variants then build their models **from the same parsed
dict** (the JSON parse is not timed for either):

- ``layers_async``: what the client does after ``loads`` — ``structure(data, Job)`` for one
  object; for a list page, the ``items`` checked to be a list, every row structured into
  ``ProjectSummary`` and ``nextCursor`` read (the steps of the transport's ``decode_page``);
- ``pydantic v2``: ``Model.model_validate(data)`` on pydantic models written here with the same
  fields and types (camelCase aliases, datetimes as ``datetime``, tuples of nested models,
  optional fields with the same defaults, frozen like ours, unknown keys ignored like ours).

Shapes: a completed ``Job`` with its nested ``result`` (two assets), a ``Project`` with its
``brandContext``, and a 50-row ``ProjectSummary`` list page. Both variants decode every field.

For reference only (not the target), the script also times decoding from the bytes:
``orjson.loads`` + the above against pydantic's own JSON parser, ``model_validate_json``.

The variants run interleaved: every round times each shape with each variant (the order flips
every round), running each for about ``--budget`` seconds of CPU. Time is
``time.process_time()``, this process's CPU alone; a busy machine still slows both variants
(shared caches and cores), and interleaving spreads that over both alike. The script prints,
per shape, the median µs per decode of each variant with its range over the rounds, and the
median of the per-round ratios (layers_async / pydantic) with their range, against the target
of at most 1.0x, then the machine's load average. Exit status 0 when it ran and both variants
decoded equal values.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # import layers_async from this checkout

import attrs  # noqa: E402
import orjson  # noqa: E402 - the `bench` extra
from pydantic import BaseModel, ConfigDict  # noqa: E402 - the `bench` extra
from pydantic.alias_generators import to_camel  # noqa: E402

from layers_async import Job, LayersModel, Project, ProjectSummary  # noqa: E402
from layers_async._serde import structure  # noqa: E402 - needs the path set above

TARGET_RATIO = 1.0
PAGE_ROWS = 50

# ---------------------------------------------------------------------------- the same data
JOB_BODY = orjson.dumps(
    {
        "jobId": "job_01HXA1NHKJZXPV8R7Q6WSM5BCD",
        "kind": "slideshow_builder",
        "status": "completed",
        "stage": "done",
        "progress": 1,
        "projectId": "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11",
        "containerIds": ["cnt_7f3c2a10-5b1e-4d8a-9c0f-1e2d3c4b5a69"],
        "influencerId": "inf_0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
        "locationUrl": "/v1/jobs/job_01HXA1NHKJZXPV8R7Q6WSM5BCD",
        "startedAt": "2026-12-03T17:42:12.123Z",
        "updatedAt": "2026-12-03T17:43:02.456Z",
        "finishedAt": "2026-12-03T17:43:02.456Z",
        "result": {
            "containerId": "cnt_7f3c2a10-5b1e-4d8a-9c0f-1e2d3c4b5a69",
            "assets": [
                {
                    "assetId": f"ast_{i:08d}-5b1e-4d8a-9c0f-1e2d3c4b5a69",
                    "kind": "image",
                    "url": f"https://cdn.layers.example/assets/{i}.png",
                    "thumbnailUrl": f"https://cdn.layers.example/assets/{i}_thumb.png",
                }
                for i in range(2)
            ],
            "projectId": "prj_254a4ce1-6f0e-4c1a-9a57-3b8f0d2c9e11",
        },
        "error": None,
    }
)


def _summary(i: int) -> dict[str, Any]:
    return {
        "id": f"prj_{i:08d}-6f0e-4c1a-9a57-3b8f0d2c9e11",
        "name": f"Customer {i}",
        "status": "active",
        "timezone": "America/New_York",
        "createdAt": f"2026-11-{1 + i % 28:02d}T09:{i % 60:02d}:00.000Z",
        "updatedAt": f"2026-12-{1 + i % 3:02d}T10:{i % 60:02d}:30.250Z",
        "customerExternalId": f"cust-{i}",
        "primaryLanguage": "en",
        "ownerEmail": f"owner{i}@example.com",
    }


PAGE_BODY = orjson.dumps(
    {"items": [_summary(i) for i in range(PAGE_ROWS)], "nextCursor": "cur_0000000050"}
)
PROJECT_BODY = orjson.dumps(
    {
        **_summary(7),
        "organizationId": "org_2481fa5c-7d3e-4b0a-9f1e-2d3c4b5a6978",
        "appName": "Acme Notes",
        "appDescription": "Notes that write themselves.",
        "tagline": "Think less, note more",
        "brandVoice": "witty",
        "targetGender": "all",
        "brandContext": {
            "appName": "Acme Notes",
            "appDescription": "Notes that write themselves.",
            "tagline": "Think less, note more",
            "audience": None,
            "icp": None,
            "brandVoice": "witty",
            "keywords": ["notes", "productivity", "ai"],
            "primaryLanguage": "en",
            "logoUrl": None,
        },
        "requiresApproval": True,
        "metadata": {"plan": "pro", "seats": 12},
        "archivedAt": None,
    }
)


# ------------------------------------------------------------- the same models, in pydantic v2
class _Wire(BaseModel):
    """camelCase on the wire, unknown keys ignored, frozen: what our models do."""

    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="ignore")


class PAsset(_Wire):
    """`Asset`."""

    asset_id: str
    kind: str
    url: str
    thumbnail_url: str | None = None


class PJobResult(_Wire):
    """`JobResult`."""

    container_id: str | None = None
    assets: tuple[PAsset, ...] = ()
    influencer_id: str | None = None
    image_url: str | None = None
    project_id: str | None = None
    hashtag_count: int | None = None
    refreshed_at: datetime | None = None


class PErrorInfo(_Wire):
    """`ErrorInfo`."""

    code: str
    message: str
    platform_code: str | None = None


class PJob(_Wire):
    """`Job`."""

    job_id: str
    kind: str
    status: str
    location_url: str
    started_at: datetime
    stage: str | None = None
    progress: float = 0.0
    project_id: str | None = None
    container_ids: tuple[str, ...] = ()
    influencer_id: str | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    result: PJobResult | None = None
    error: PErrorInfo | None = None


class PProjectSummary(_Wire):
    """`ProjectSummary`."""

    id: str
    name: str
    status: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    customer_external_id: str | None = None
    primary_language: str = "en"
    owner_email: str | None = None


class PPage(_Wire):
    """A list page: `items` and `nextCursor`."""

    items: list[PProjectSummary]
    next_cursor: str | None = None


class PBrandContext(_Wire):
    """`BrandContext`."""

    app_name: str | None = None
    app_description: str | None = None
    tagline: str | None = None
    audience: str | None = None
    icp: str | None = None
    brand_voice: str | None = None
    keywords: tuple[str, ...] = ()
    primary_language: str | None = None
    logo_url: str | None = None


class PProject(_Wire):
    """`Project`."""

    id: str
    organization_id: str
    name: str
    status: str
    timezone: str
    created_at: datetime
    updated_at: datetime
    customer_external_id: str | None = None
    owner_email: str | None = None
    primary_language: str = "en"
    app_name: str | None = None
    app_description: str | None = None
    tagline: str | None = None
    brand_voice: str = "authentic"
    target_gender: str = "all"
    brand_context: PBrandContext | None = None
    requires_approval: bool = False
    metadata: dict[str, Any] = {}
    archived_at: datetime | None = None


# ------------------------------------------------------------------------------ the variants
def ours_page(data: Any) -> tuple[tuple[ProjectSummary, ...], str | None]:
    """What the transport's `decode_page` does after parsing the body."""
    found = data["items"]
    if not isinstance(found, list):
        raise TypeError("items is not a list")
    items = tuple(structure(item, ProjectSummary) for item in found)
    nxt = data.get("nextCursor")
    return items, nxt if isinstance(nxt, str) and nxt else None


Decode = Callable[[Any], object]
#: Shape: (body, ours, pydantic); both decode `orjson.loads(body)`, the parsed dict.
SHAPES: dict[str, tuple[bytes, Decode, Decode]] = {
    "Job (with result)": (JOB_BODY, lambda d: structure(d, Job), PJob.model_validate),
    "Project": (PROJECT_BODY, lambda d: structure(d, Project), PProject.model_validate),
    f"{PAGE_ROWS}-row ProjectSummary page": (PAGE_BODY, ours_page, PPage.model_validate),
}
#: For reference, not the target: from the bytes, orjson.loads + ours against pydantic's own
#: JSON parser (`model_validate_json`, its fastest path).
FROM_BYTES: dict[str, tuple[bytes, Decode, Decode]] = {
    "Job, from bytes": (
        JOB_BODY,
        lambda b: structure(orjson.loads(b), Job),
        PJob.model_validate_json,
    ),
    f"{PAGE_ROWS}-row page, from bytes": (
        PAGE_BODY,
        lambda b: ours_page(orjson.loads(b)),
        PPage.model_validate_json,
    ),
}
VARIANTS = ("layers_async", "pydantic v2")


def _plain(value: object) -> object:
    """A decoded value as comparable plain data (both libraries' models alike)."""
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, LayersModel):
        fields = attrs.fields(type(value))
        return {a.name: _plain(getattr(value, a.name)) for a in fields if a.name[0] != "_"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _same_values(name: str, data: Any, ours: Decode, theirs: Decode) -> bool:
    """Both variants decode the same field values (the page's rows and cursor alike)."""
    mine = _plain(ours(data))
    other = _plain(theirs(data))
    if isinstance(mine, list):  # (items, cursor) against PPage(items, next_cursor)
        mine = {"items": mine[0], "next_cursor": mine[1]}
    if mine == other:
        return True
    print(f"MISMATCH in {name}:\n  ours   {mine}\n  theirs {other}", file=sys.stderr)
    return False


def time_one(decode: Decode, data: Any, budget: float) -> float:
    """CPU µs per decode, over batches until `budget` CPU seconds are spent."""
    batch = 1
    while True:  # size a batch to take about a tenth of the budget
        start = time.process_time()
        for _ in range(batch):
            decode(data)
        spent = time.process_time() - start
        if spent >= budget / 10:
            break
        batch *= 2
    runs, cpu = batch, spent
    while cpu < budget:
        start = time.process_time()
        for _ in range(batch):
            decode(data)
        cpu += time.process_time() - start
        runs += batch
    return cpu / runs * 1e6


def _span(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def main() -> int:
    """Run the rounds and print the table; 0 when both variants decoded equal values."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument("--budget", type=float, default=0.05, help="CPU s per timing (0.05)")
    args = parser.parse_args()

    inputs: dict[str, Any] = {n: orjson.loads(body) for n, (body, _, _) in SHAPES.items()}
    if not all(_same_values(n, inputs[n], o, t) for n, (_, o, t) in SHAPES.items()):
        return 1
    inputs.update((n, body) for n, (body, _, _) in FROM_BYTES.items())
    cases = {**SHAPES, **FROM_BYTES}
    for name, (_, ours, theirs) in cases.items():  # warm both: hooks built, caches filled
        for _ in range(200):
            ours(inputs[name])
            theirs(inputs[name])

    us: dict[tuple[str, str], list[float]] = {(n, v): [] for n in cases for v in VARIANTS}
    for r in range(args.rounds):
        for name, (_, ours, theirs) in cases.items():
            pair = [("layers_async", ours), ("pydantic v2", theirs)]
            for variant, decode in pair if r % 2 == 0 else pair[::-1]:
                us[name, variant].append(time_one(decode, inputs[name], args.budget))

    import pydantic

    print(
        f"Offline decode, Python {platform.python_version()}, pydantic {pydantic.VERSION}, "
        f"{os.cpu_count()} CPUs; {args.rounds} interleaved rounds, median (min-max) CPU µs "
        "per decode"
    )
    worst = 0.0
    for title, group in (
        ("From the parsed dict (orjson.loads not timed): the target", SHAPES),
        ("For reference, from the bytes (orjson.loads + ours / model_validate_json)", FROM_BYTES),
    ):
        print(title)
        head = ("shape", "layers_async µs", "pydantic v2 µs", "ours/pydantic")
        print(f"  {head[0]:32} {head[1]:>22} {head[2]:>22} {head[3]:>18}")
        for name in group:
            mine, other = us[name, "layers_async"], us[name, "pydantic v2"]
            ratios = [m / o for m, o in zip(mine, other, strict=True)]
            if group is SHAPES:
                worst = max(worst, statistics.median(ratios))
            cells = (_span(mine, ".2f"), _span(other, ".2f"), _span(ratios, ".2f"))
            print(f"  {name:32} {cells[0]:>22} {cells[1]:>22} {cells[2]:>18}")
    verdict = "met" if worst <= TARGET_RATIO else "missed"
    print(
        f"Target: every shape from the dict at most {TARGET_RATIO:.1f}x pydantic v2 — {verdict} "
        f"(worst median {worst:.2f}x)"
    )
    print("Load average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
