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
    state: str
    expires_at: datetime


@attrs.frozen
class OAuthAttempt(LayersModel):
    """One OAuth attempt. `status` is `pending`, `completed`, `failed` or `expired`.

    `social_account_id` is set once `completed`; `error` (`OAUTH_DENIED` or `OAUTH_FAILED`)
    once `failed`; an `expired` attempt needs a new URL.
    """

    state: str
    status: str
    expires_at: datetime
    project_id: str | None = None
    platform: str | None = None
    social_account_id: str | None = None
    error: ErrorInfo | None = None
    completed_at: datetime | None = None

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
    platform: str
    handle: str
    status: str
    leased: bool
    connected_at: datetime
    project_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    token_expires_at: datetime | None = None
    disconnected_at: datetime | None = None
    disconnected_reason: str | None = None


@attrs.frozen
class SocialAccountDisconnected(LayersModel):
    """The answer to disconnecting an account: its new status and the queued posts canceled."""

    social_account_id: str
    status: str
    disconnected_at: datetime
    disconnected_reason: str | None = None
    canceled_scheduled_posts: int = 0
