"""layers_async: the asyncio-native Python SDK for the Layers Partner API.

::

    from layers_async import LayersClient

    async with LayersClient() as client:          # LAYERS_API_KEY, LAYERS_BASE_URL
        project = await client.projects.create(name="Acme Coffee", timezone="UTC")

The package also ships an embedded, stateful Layers sandbox (`layers_async.Sandbox`) that the
command line, the tests and users' own test suites run against.
"""

from __future__ import annotations

import attrs

from ._client import LayersClient
from ._config import DEFAULT_BASE_URL, DEFAULT_LIMITS, DEFAULT_TIMEOUTS, Limits, Timeouts
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IdempotencyConflictError,
    InternalServerError,
    KillSwitchError,
    LayersError,
    LayersValidationError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    ValidationIssue,
)
from ._pagination import AsyncPaginator, Page
from ._transport import NOT_GIVEN, NotGiven
from .models._base import LayersModel, RateLimitInfo, ResponseMeta
from .models.identity import BillingPeriod, Wallet, Whoami
from .models.jobs import Asset, ErrorInfo, Job, JobCancelResult, JobResult
from .models.projects import BrandContext, Project, ProjectArchived, ProjectSummary
from .sandbox import Sandbox, SandboxConfigError

__version__ = "0.1.0.dev0"

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Asset",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BillingPeriod",
    "BrandContext",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUTS",
    "ErrorInfo",
    "IdempotencyConflictError",
    "InternalServerError",
    "Job",
    "JobCancelResult",
    "JobResult",
    "KillSwitchError",
    "LayersClient",
    "LayersError",
    "LayersModel",
    "LayersValidationError",
    "Limits",
    "NOT_GIVEN",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Project",
    "ProjectArchived",
    "ProjectSummary",
    "RateLimitError",
    "RateLimitInfo",
    "ResponseMeta",
    "Sandbox",
    "SandboxConfigError",
    "Timeouts",
    "UnprocessableEntityError",
    "ValidationIssue",
    "Wallet",
    "Whoami",
    "__version__",
]

# Resolve the models' string annotations while their defining modules are still recorded...
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and attrs.has(_obj):
        attrs.resolve_types(_obj)
# ...then let tracebacks and reprs name the public path, not the private module (as httpx does).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "layers_async"
del _name, _obj
