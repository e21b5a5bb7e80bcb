"""Assertions on decoded answers: request ids, aware datetimes, the 202 job envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from layers_async import Job
from tests.client._ids import JOB_RE, REQ_ID


def assert_request_id(value: Any) -> str:
    """`value` (a decoded answer or an API error) carries a well-formed req_ request id; it."""
    assert value.request_id is not None
    assert REQ_ID.match(value.request_id), value.request_id
    return str(value.request_id)


def assert_aware(*values: datetime | None) -> None:
    """Every given datetime is set and timezone-aware."""
    for v in values:
        assert v is not None
        assert v.tzinfo is not None


def assert_job_envelope(job: Job, kind: str, project_id: str) -> None:
    """`job` is the 202 envelope of a just-started `kind` job of the project."""
    assert isinstance(job, Job)
    assert JOB_RE.match(job.job_id), job.job_id
    assert job.kind == kind
    assert job.status == "running"
    assert job.stage is None
    assert job.progress == 0
    assert job.project_id == project_id
    assert job.location_url == f"/v1/jobs/{job.job_id}"
    assert job.meta is not None
    assert job.meta.status_code == 202
