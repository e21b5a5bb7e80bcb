"""`client.credits`: the wallet of the effective organization (contract §3.1.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.identity import Wallet
from ._base import RequestOptions, Resource, call_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Credits"]


class Credits(Resource):
    """Credit balances. Gate generation on `available`."""

    __slots__ = ()

    async def get(self, **options: Unpack[RequestOptions]) -> Wallet:
        """The wallet (`GET /v1/credits`)."""
        opts = call_options(options)
        return await self._read(Wallet, "/v1/credits", opts)
