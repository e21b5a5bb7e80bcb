"""`client.credits`: the wallet of the effective organization (contract §3.1.2)."""

from __future__ import annotations

from collections.abc import Mapping

from .._config import Timeouts
from .._transport import NOT_GIVEN, NotGiven
from ..models.identity import Wallet
from ._base import Resource, options

__all__ = ["Credits"]


class Credits(Resource):
    """Credit balances. Gate generation on `available`."""

    __slots__ = ()

    async def get(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Wallet:
        """The wallet (`GET /v1/credits`)."""
        opts = options(timeout, idempotency_key, extra_headers)
        return await self._read(Wallet, "/v1/credits", opts)
