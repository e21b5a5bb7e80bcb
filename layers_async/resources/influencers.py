"""`client.influencers`: list, create, get, update (contract §3.5)."""

from __future__ import annotations

from .._pagination import AsyncPaginator
from .._transport import NOT_GIVEN, NotGiven
from .._validation import BCP47, check_enum, check_id, check_str, fail
from ..models import JSON
from ..models.influencers import (
    AgeRange,
    Gender,
    Influencer,
    InfluencerStatus,
    InfluencerSummary,
)
from ..models.jobs import Job
from ..models.projects import BrandVoice
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["Influencers"]


class Influencers(Resource):
    """Generated personas of a project."""

    __slots__ = ()

    def list(
        self,
        project_id: str,
        *,
        status: InfluencerStatus | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[InfluencerSummary]:
        """List a project's influencers, newest first
        (`GET /v1/projects/{project_id}/influencers`, `limit` 1-100 per page). Await for a
        page; `async for` for every influencer. Raises `NotFoundError` for an unknown
        project."""
        call = list_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if status is not None:
            params.append(("status", check_enum("status", status, InfluencerStatus)))
        return self._list(
            InfluencerSummary, f"/v1/projects/{pid}/influencers", params, call, hi=100
        )

    async def create(
        self,
        project_id: str,
        *,
        gender: Gender | None = None,
        age_range: AgeRange | None = None,
        prompt: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Job:
        """Create a persona (`POST /v1/projects/{project_id}/influencers`); returns the
        `influencer_create` job's 202 envelope (`job.influencer_id` names the new persona, which
        exists at once as `pending`). The server picks the name; `gender` defaults to the
        project's target gender (or female), `age_range` to young_adult; `prompt` is a 1-1000
        character visual hint.

        Raises `ConflictError` for an archived project, `RateLimitError`
        (`details["limitType"] == "concurrent_jobs"`) when the organization runs too many jobs,
        and `NotFoundError` for an unknown project.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body: dict[str, JSON] = {}
        if gender is not None:
            body["gender"] = check_enum("gender", gender, Gender)
        if age_range is not None:
            body["ageRange"] = check_enum("age_range", age_range, AgeRange)
        if prompt is not None:
            body["prompt"] = check_str("prompt", prompt, min_len=1, max_len=1000)
        return await self._start_job(f"/v1/projects/{pid}/influencers", opts, body=body)

    async def get(self, influencer_id: str, **options: Unpack[RequestOptions]) -> Influencer:
        """Fetch one influencer (`GET /v1/influencers/{influencer_id}`). Raises
        `NotFoundError` when it is unknown or in another organization."""
        opts = call_options(options)
        iid = check_id("influencer_id", influencer_id, "inf")
        return await self._read(Influencer, f"/v1/influencers/{iid}", opts)

    async def update(
        self,
        influencer_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        gender: Gender | NotGiven = NOT_GIVEN,
        age_range: AgeRange | NotGiven | None = NOT_GIVEN,
        brand_voice: BrandVoice | NotGiven = NOT_GIVEN,
        language: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Influencer:
        """Change a persona's fields (`PATCH /v1/influencers/{influencer_id}`), in any status;
        omitted fields stay, `age_range=None` clears the age range (no other field can be
        cleared). `name` is 1-128 characters, `language` a BCP 47 tag. At least one field is
        required. Raises `NotFoundError` when the influencer is unknown."""
        opts = call_options(options)
        iid = check_id("influencer_id", influencer_id, "inf")
        body: dict[str, JSON] = {}
        if not isinstance(name, NotGiven):
            body["name"] = check_str("name", name, min_len=1, max_len=128)
        if not isinstance(gender, NotGiven):
            body["gender"] = check_enum("gender", gender, Gender)
        if not isinstance(age_range, NotGiven):
            body["ageRange"] = (
                None if age_range is None else check_enum("age_range", age_range, AgeRange)
            )
        if not isinstance(brand_voice, NotGiven):
            body["brandVoice"] = check_enum("brand_voice", brand_voice, BrandVoice)
        if not isinstance(language, NotGiven):
            body["language"] = check_str(
                "language", language, min_len=2, pattern=BCP47, what="a BCP 47 tag"
            )
        if not body:
            raise fail("update", "needs at least one field to change")
        return await self._write(Influencer, "PATCH", f"/v1/influencers/{iid}", opts, body=body)
