"""Scaling out past one process: one rate-limit budget in Redis shared by every process, and
the tools to run a real Redis locally (README, "Scaling out").

Import it only when you scale out: it needs the `distributed` extra
(``pip install 'layers-async[distributed]'``), and ``import layers_async`` never imports it.
"""

from __future__ import annotations

from ._redis_server import RedisServer, RedisServerError, find_redis_server, start_redis_server
from .gate import RedisGates, RedisRateGate

__all__ = [
    "RedisGates",
    "RedisRateGate",
    "RedisServer",
    "RedisServerError",
    "find_redis_server",
    "start_redis_server",
]
