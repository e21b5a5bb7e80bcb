"""Social accounts and OAuth attempts (contract §3.0.4, §3.0.5, §3.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from ._base import LayersModel
from .jobs import ErrorInfo

__all__ = [
    "TERMINAL_OAUTH_STATUSES",
    "OAuthAttempt",
    "OAuthUrl",
    "Platform",
    "SocialAccount",
    "SocialAccountDisconnected",
    "SocialAccountStatus",
]

#: Platforms the API connects (responses may carry newer values as plain strings).
Platform = Literal["tiktok", "instagram"]
#: Social account statuses, as accepted by the `status` filter of the accounts list.
SocialAccountStatus = Literal["connected", "reauth_required", "disconnected"]

#: OAuth attempt statuses that never change again.
TERMINAL_OAUTH_STATUSES = frozenset({"completed", "failed", "expired"})


@attrs.frozen
class OAuthUrl(LayersModel):
    """A freshly minted OAuth attempt: open `authorize_url` top-level, then poll `state`."""

    authorize_url: str
    """The consent page: open it top-level in the customer's browser."""
    state: str
    """The attempt's `st_<ULID>` state (case-sensitive): poll `social.oauth_status()`."""
    expires_at: datetime
    """When the attempt expires unused, 10 minutes after it was minted."""


@attrs.frozen
class OAuthAttempt(LayersModel):
    """One OAuth attempt. `status` is `pending`, `completed`, `failed` or `expired`.

    `social_account_id` is set once `completed`; `error` (`OAUTH_DENIED` or `OAUTH_FAILED`)
    once `failed`; an `expired` attempt needs a new URL.
    """

    state: str
    """The attempt's `st_<ULID>` state, case-sensitive."""
    status: str
    """`pending`, `completed`, `failed` or `expired`."""
    expires_at: datetime
    """When a `pending` attempt expires, 10 minutes after it was minted."""
    project_id: str | None = None
    """The project connecting the account, `prj_<uuid>`; None if the server omits it."""
    platform: str | None = None
    """`tiktok` or `instagram` (`Platform`); None if the server omits it."""
    social_account_id: str | None = None
    """The connected account, `sa_<uuid>`; None until `completed`."""
    error: ErrorInfo | None = None
    """`{code, message}` with `OAUTH_DENIED` or `OAUTH_FAILED`; None unless `failed`."""
    completed_at: datetime | None = None
    """When it became `completed` or `failed`; None before."""

    @property
    def is_terminal(self) -> bool:
        """True once the attempt is completed, failed or expired (it never changes again)."""
        return self.status in TERMINAL_OAUTH_STATUSES


@attrs.frozen
class SocialAccount(LayersModel):
    """A connected (or formerly connected) TikTok or Instagram account of a project.

    `social_account_id` is what schedule targets take. `status` is `connected`,
    `reauth_required` or `disconnected` (newer values pass through).
    """

    social_account_id: str
    """The account id, `sa_<uuid>`: what schedule targets take."""
    platform: str
    """`tiktok` or `instagram` (`Platform`)."""
    handle: str
    """The account's handle, without `@`."""
    status: str
    """`connected`, `reauth_required` or `disconnected` (`SocialAccountStatus`)."""
    leased: bool
    """True for a leased account (always False in the sandbox)."""
    connected_at: datetime
    """When the account was connected."""
    project_id: str | None = None
    """The project it belongs to, `prj_<uuid>`; None if the server omits it."""
    display_name: str | None = None
    """The name shown on the profile; None if the server omits it."""
    avatar_url: str | None = None
    """The profile picture URL; None when there is none."""
    token_expires_at: datetime | None = None
    """When the platform token expires; None when unknown."""
    disconnected_at: datetime | None = None
    """When it was disconnected; None while connected."""
    disconnected_reason: str | None = None
    """Why it was disconnected, e.g. `revoked_by_partner`; None while connected."""


@attrs.frozen
class SocialAccountDisconnected(LayersModel):
    """The answer to disconnecting an account: its new status and the queued posts canceled."""

    social_account_id: str
    """The account, `sa_<uuid>`."""
    status: str
    """Always `disconnected`."""
    disconnected_at: datetime
    """When it was disconnected."""
    disconnected_reason: str | None = None
    """Why, e.g. `revoked_by_partner`; None if the server gave no reason."""
    canceled_scheduled_posts: int = 0
    """How many of its queued posts were canceled."""
