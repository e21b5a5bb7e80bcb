"""`client.social`: OAuth URL and status, connected accounts, disconnect (contract §3.4)."""

from __future__ import annotations

from collections.abc import Sequence

from .._pagination import AsyncPaginator
from .._validation import check_bool, check_enum, check_id, check_return_url, check_str, fail
from ..models import JSON
from ..models.social import (
    OAuthAttempt,
    OAuthUrl,
    Platform,
    SocialAccount,
    SocialAccountDisconnected,
    SocialAccountStatus,
)
from ._base import ListOptions, Params, RequestOptions, Resource, Unpack, call_options, list_options

__all__ = ["Social"]


#: OAuth scopes one consent may ask for, at most.
_MAX_SCOPES = 32
#: The longest OAuth scope name, in characters.
_SCOPE_MAX_LEN = 64


def _scopes(value: object) -> list[JSON]:
    """OAuth scopes, as sent: a sequence of at most 32 strings of 1-64 characters each."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise fail("scopes", "must be a sequence of strings (not a single string)")
    if len(value) > _MAX_SCOPES:
        raise fail("scopes", f"must hold at most {_MAX_SCOPES} entries (got {len(value)})")
    return [
        check_str(f"scopes[{i}]", s, min_len=1, max_len=_SCOPE_MAX_LEN) for i, s in enumerate(value)
    ]


class Social(Resource):
    """Connect TikTok and Instagram accounts through OAuth and manage them."""

    __slots__ = ()

    async def oauth_url(
        self,
        project_id: str,
        *,
        platform: Platform,
        return_url: str,
        scopes: Sequence[str] | None = None,
        usage_note: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> OAuthUrl:
        """Start an OAuth attempt (`POST /v1/projects/{project_id}/social/oauth-url`).

        Open `authorize_url` top-level (a popup or tab, never an iframe), then poll
        `oauth_status(project_id, state)`; the state lives 10 minutes. `return_url` must be
        absolute https (http only for localhost / 127.0.0.1), at most 2048 characters, and its
        host must be on the key's allowlist, else `PermissionDeniedError`
        (`code == "RETURN_URL_NOT_ALLOWED"`, `details["host"]`). `scopes`: at most 32 entries of
        1-64 characters; `usage_note`: at most 500 characters.

        The server does not honour `Idempotency-Key` on this route: every call (retries
        included) mints a fresh `state`, and an `idempotency_key` you pass is only checked for
        syntax. Raises `NotFoundError` for an unknown project.
        """
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        body: dict[str, JSON] = {
            "platform": check_enum("platform", platform, Platform),
            "returnUrl": check_return_url("return_url", return_url),
        }
        if scopes is not None:
            body["scopes"] = _scopes(scopes)
        if usage_note is not None:
            body["usageNote"] = check_str("usage_note", usage_note, max_len=500)
        return await self._write(
            OAuthUrl, "POST", f"/v1/projects/{pid}/social/oauth-url", opts, body=body
        )

    async def oauth_status(
        self, project_id: str, state: str, **options: Unpack[RequestOptions]
    ) -> OAuthAttempt:
        """Poll an OAuth attempt (`GET /v1/projects/{project_id}/social/oauth-status?state=…`,
        the Getting started path). `pending` → poll again (at most once a second);
        `completed` → use `social_account_id`; `failed` → see `error`; `expired` → mint a new
        URL. Raises `NotFoundError` (`details["resource"] == "oauth_attempt"`) when the state
        is unknown, belongs to another project, or was minted by another API key."""
        opts = call_options(options)
        pid = check_id("project_id", project_id, "prj")
        st = check_id("state", state, "st")
        return await self._read(
            OAuthAttempt,
            f"/v1/projects/{pid}/social/oauth-status",
            opts,
            params=[("state", st)],
        )

    def accounts(
        self,
        project_id: str,
        *,
        platform: Platform | None = None,
        status: SocialAccountStatus | None = None,
        leased: bool | None = None,
        **options: Unpack[ListOptions],
    ) -> AsyncPaginator[SocialAccount]:
        """List a project's social accounts, newest `connected_at` first
        (`GET /v1/projects/{project_id}/social-accounts`, `limit` 1-200 per page); every
        status unless `status` is given. Await for a page; `async for` for every account.
        Raises `NotFoundError` for an unknown project."""
        call = list_options(options)
        pid = check_id("project_id", project_id, "prj")
        params: Params = []
        if platform is not None:
            params.append(("platform", check_enum("platform", platform, Platform)))
        if status is not None:
            params.append(("status", check_enum("status", status, SocialAccountStatus)))
        if leased is not None:
            params.append(("leased", "true" if check_bool("leased", leased) else "false"))
        return self._list(
            SocialAccount, f"/v1/projects/{pid}/social-accounts", params, call, hi=200
        )

    async def disconnect(
        self, social_account_id: str, **options: Unpack[RequestOptions]
    ) -> SocialAccountDisconnected:
        """Disconnect an account (`DELETE /v1/social-accounts/{social_account_id}`): drops the
        token and cancels its queued posts (published ones stay). Raises `NotFoundError` when
        the account is unknown, in another organization or already disconnected, and
        `ConflictError` for a leased account."""
        opts = call_options(options)
        sid = check_id("social_account_id", social_account_id, "sa")
        return await self._write(
            SocialAccountDisconnected, "DELETE", f"/v1/social-accounts/{sid}", opts
        )
