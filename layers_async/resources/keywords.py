"""`client.keywords`: the keyword bank and its refresh (contract §3.6)."""

from __future__ import annotations

from .._validation import check_id
from ..models.jobs import Job
from ..models.keywords import KeywordBank
from ._base import RequestOptions, Resource, Unpack, call_options

__all__ = ["Keywords"]


class Keywords(Resource):
    """The project's researched hashtags."""

    __slots__ = ()

    async def get(self, project_id: str, **options: Unpack[RequestOptions]) -> KeywordBank:
        """Fetch the keyword bank (`GET /v1/projects/{project_id}/keywords`): empty with
        `refreshed_at` None until the first research run ends; while a run is in progress the
        previous bank is returned. Raises `NotFoundError` for an unknown project."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        return await self._read(KeywordBank, f"/v1/projects/{pid}/keywords", opts)

    async def refresh(self, project_id: str, **options: Unpack[RequestOptions]) -> Job:
        """Re-run keyword research (`POST /v1/projects/{project_id}/keywords/refresh`, about
        4-5 minutes); returns the `keywords_refresh` job's 202 envelope. On completion the bank
        is replaced; a failed or canceled run leaves it unchanged.

        Raises `UnprocessableEntityError` (`details["missingFields"] == ["appDescription"]`)
        when the project has no app description, `ConflictError` for an archived project,
        `RateLimitError` (`details["limitType"] == "concurrent_jobs"`) when the organization
        runs too many jobs, and `NotFoundError` for an unknown project.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        return await self._start_job(f"/v1/projects/{pid}/keywords/refresh", opts)
