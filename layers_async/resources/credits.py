"""`client.credits`: the wallet of the effective organization (contract §3.1.2)."""

from __future__ import annotations

from ..models.identity import Wallet
from ._base import RequestOptions, Resource, Unpack, call_options

__all__ = ["Credits"]


class Credits(Resource):
    """Credit balances. Gate generation on `available`."""

    __slots__ = ()

    async def get(self, **options: Unpack[RequestOptions]) -> Wallet:
        """The wallet (`GET /v1/credits`)."""
        opts = call_options(options)
        return await self._read(Wallet, "/v1/credits", opts)
