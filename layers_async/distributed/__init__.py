"""Scaling out past one process: one rate-limit budget in Redis shared by every process,
onboarding flows as durable arq jobs checkpointed step by step in Redis (`run_worker`,
`enqueue_onboarding`, `FlowStore`), and the tools to run a real Redis locally (README,
"Scaling out").

Import it only when you scale out: it needs the `distributed` extra
(``pip install 'layers-async[distributed]'``), and ``import layers_async`` never imports it.
"""

from __future__ import annotations

from ._redis_server import RedisServer, RedisServerError, find_redis_server, start_redis_server
from ._steps import FlowStatus, FlowStore, RedisCheckpoint
from ._worker import (
    Child,
    Enqueued,
    FlowOptions,
    connect_redis,
    enqueue_onboarding,
    job_id,
    run_worker,
)
from .gate import RedisGates, RedisRateGate

__all__ = [
    "Child",
    "Enqueued",
    "FlowOptions",
    "FlowStatus",
    "FlowStore",
    "RedisCheckpoint",
    "RedisGates",
    "RedisRateGate",
    "RedisServer",
    "RedisServerError",
    "connect_redis",
    "enqueue_onboarding",
    "find_redis_server",
    "job_id",
    "run_worker",
    "start_redis_server",
]
