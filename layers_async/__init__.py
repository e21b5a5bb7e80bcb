"""layers_async: the asyncio-native Python SDK for the Layers Partner API.

::

    from layers_async import LayersClient

    async with LayersClient() as client:          # LAYERS_API_KEY, LAYERS_BASE_URL
        project = await client.projects.create(name="Acme Coffee", timezone="UTC")

The package also ships an embedded, stateful Layers sandbox (`layers_async.Sandbox`) that the
command line, the tests and users' own test suites run against.
"""

from __future__ import annotations

import typing as _typing

import attrs

from ._client import LayersClient
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_LIMITS,
    DEFAULT_POLL,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    NO_RETRY,
    Limits,
    PollPolicy,
    RetryPolicy,
    Timeouts,
)
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ApprovalRequiredError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    ContentRejectedError,
    GateUnavailableError,
    IdempotencyConflictError,
    InfluencerFailedError,
    InternalServerError,
    JobCanceledError,
    JobFailedError,
    KillSwitchError,
    LayersError,
    LayersValidationError,
    NotFoundError,
    OAuthExpiredError,
    OAuthFailedError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    UnprocessableEntityError,
    ValidationIssue,
    WaitError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from ._events import SAFETY_NET_POLL
from ._pagination import AsyncPaginator, Page
from ._ratelimit import GateFactory, RateLimitGate
from ._secret import Secret
from ._transport import NOT_GIVEN, AttemptEvent, Hooks, NotGiven
from ._version import __version__
from .flows import (
    Customer,
    ItemFailed,
    ItemOk,
    ItemResult,
    MediaItem,
    OnboardingResult,
    ProvisionResult,
    fan_out,
    onboard_customer,
    provision_customer,
)
from .models._base import LayersModel, RateLimitInfo, ResponseMeta
from .models.api_keys import (
    ApiKeyEnv,
    ApiKeyKilled,
    ApiKeyRotated,
    ApiKeyScope,
    ChildApiKey,
    ChildApiKeyCreated,
    ChildApiKeyRevoked,
    ChildApiKeyRotated,
    ChildApiKeyStatus,
    OwnApiKey,
)
from .models.app_media import AppMedia, AppMediaDeleted, MediaKind
from .models.approvals import Approval, Rejection, ReviewPolicy, ReviewPolicyName, SchedulePromotion
from .models.content import (
    ApprovalStatus,
    Container,
    ContainerStatus,
    ContentFormat,
    ContentProgress,
    CreativeType,
    Hook,
    HookBank,
    PostMode,
    Preview,
    ScheduleResult,
    ScheduleTarget,
    SourceAuthor,
    SourceItem,
    SourceKind,
    SourceRecommendations,
    SourceStats,
)
from .models.credits import (
    CreditAllocation,
    CreditConfig,
    CreditEvent,
    CreditEventType,
    OrganizationCreditConfig,
)
from .models.identity import BillingPeriod, Wallet, Whoami
from .models.influencers import (
    AgeRange,
    Gender,
    Influencer,
    InfluencerStatus,
    InfluencerSummary,
)
from .models.jobs import Asset, ErrorInfo, Job, JobCancelResult, JobResult
from .models.keywords import Hashtag, KeywordBank
from .models.organizations import (
    Organization,
    OrganizationArchived,
    OrganizationDetail,
    OrganizationStatus,
    OrganizationSummary,
)
from .models.projects import (
    BrandContext,
    BrandVoice,
    Project,
    ProjectArchived,
    ProjectStatus,
    ProjectSummary,
    TargetGender,
)
from .models.scheduled_posts import (
    RescheduleResult,
    ScheduledPost,
    ScheduledPostCanceled,
    ScheduledPostStatus,
)
from .models.social import (
    OAuthAttempt,
    OAuthUrl,
    Platform,
    SocialAccount,
    SocialAccountDisconnected,
    SocialAccountStatus,
)
from .models.webhook_endpoints import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEndpointDeleted,
    WebhookEndpointStatus,
    WebhookEndpointUpdateStatus,
    WebhookEventType,
    WebhookScope,
    WebhookSecretRotated,
    WebhookSent,
)
from .models.webhooks import (
    EVENT_CLASSES,
    ContentApprovedEvent,
    ContentGeneratedData,
    ContentGeneratedEvent,
    ContentRejectedEvent,
    ContentReviewData,
    JobCanceledEvent,
    JobCompletedEvent,
    JobEventData,
    JobFailedEvent,
    LeaseRequestAssignedEvent,
    LeaseRequestRejectedEvent,
    PostCanceledEvent,
    PostEventData,
    PostFailedEvent,
    PostPublishedEvent,
    PostScheduledEvent,
    SocialAccountConnectedEvent,
    SocialAccountEventData,
    SocialAccountNeedsReauthEvent,
    SocialAccountRevokedEvent,
    TestPingData,
    TestPingEvent,
    WebhookEvent,
)
from .waiters import wait_for_job, wait_for_keywords, wait_for_oauth, wait_for_ready_influencer
from .webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    DedupStore,
    KeyForm,
    MemoryDedupStore,
    SupportsWebhookFeed,
    WebhookASGIApp,
    WebhookReceiver,
    WebhookResult,
    decode_event,
    verify_webhook,
)

if _typing.TYPE_CHECKING:
    from .sandbox import Sandbox, SandboxConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_POLL",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "EVENT_CLASSES",
    "EVENT_ID_HEADER",
    "NOT_GIVEN",
    "NO_RETRY",
    "SAFETY_NET_POLL",
    "SIGNATURE_HEADER",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AgeRange",
    "ApiKeyEnv",
    "ApiKeyKilled",
    "ApiKeyRotated",
    "ApiKeyScope",
    "AppMedia",
    "AppMediaDeleted",
    "Approval",
    "ApprovalRequiredError",
    "ApprovalStatus",
    "Asset",
    "AsyncPaginator",
    "AttemptEvent",
    "AuthenticationError",
    "BadRequestError",
    "BillingPeriod",
    "BrandContext",
    "BrandVoice",
    "ChildApiKey",
    "ChildApiKeyCreated",
    "ChildApiKeyRevoked",
    "ChildApiKeyRotated",
    "ChildApiKeyStatus",
    "ClientClosedError",
    "ConflictError",
    "Container",
    "ContainerStatus",
    "ContentApprovedEvent",
    "ContentFormat",
    "ContentGeneratedData",
    "ContentGeneratedEvent",
    "ContentProgress",
    "ContentRejectedError",
    "ContentRejectedEvent",
    "ContentReviewData",
    "CreativeType",
    "CreditAllocation",
    "CreditConfig",
    "CreditEvent",
    "CreditEventType",
    "Customer",
    "DedupStore",
    "ErrorInfo",
    "GateFactory",
    "GateUnavailableError",
    "Gender",
    "Hashtag",
    "Hook",
    "HookBank",
    "Hooks",
    "IdempotencyConflictError",
    "Influencer",
    "InfluencerFailedError",
    "InfluencerStatus",
    "InfluencerSummary",
    "InternalServerError",
    "ItemFailed",
    "ItemOk",
    "ItemResult",
    "Job",
    "JobCancelResult",
    "JobCanceledError",
    "JobCanceledEvent",
    "JobCompletedEvent",
    "JobEventData",
    "JobFailedError",
    "JobFailedEvent",
    "JobResult",
    "KeyForm",
    "KeywordBank",
    "KillSwitchError",
    "LayersClient",
    "LayersError",
    "LayersModel",
    "LayersValidationError",
    "LeaseRequestAssignedEvent",
    "LeaseRequestRejectedEvent",
    "Limits",
    "MediaItem",
    "MediaKind",
    "MemoryDedupStore",
    "NotFoundError",
    "NotGiven",
    "OAuthAttempt",
    "OAuthExpiredError",
    "OAuthFailedError",
    "OAuthUrl",
    "OnboardingResult",
    "Organization",
    "OrganizationArchived",
    "OrganizationCreditConfig",
    "OrganizationDetail",
    "OrganizationStatus",
    "OrganizationSummary",
    "OwnApiKey",
    "Page",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Platform",
    "PollPolicy",
    "PostCanceledEvent",
    "PostEventData",
    "PostFailedEvent",
    "PostMode",
    "PostPublishedEvent",
    "PostScheduledEvent",
    "Preview",
    "Project",
    "ProjectArchived",
    "ProjectStatus",
    "ProjectSummary",
    "ProvisionResult",
    "RateLimitError",
    "RateLimitGate",
    "RateLimitInfo",
    "Rejection",
    "RescheduleResult",
    "ResponseMeta",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ReviewPolicy",
    "ReviewPolicyName",
    "Sandbox",
    "SandboxConfigError",
    "SchedulePromotion",
    "ScheduleResult",
    "ScheduleTarget",
    "ScheduledPost",
    "ScheduledPostCanceled",
    "ScheduledPostStatus",
    "Secret",
    "SocialAccount",
    "SocialAccountConnectedEvent",
    "SocialAccountDisconnected",
    "SocialAccountEventData",
    "SocialAccountNeedsReauthEvent",
    "SocialAccountRevokedEvent",
    "SocialAccountStatus",
    "SourceAuthor",
    "SourceItem",
    "SourceKind",
    "SourceRecommendations",
    "SourceStats",
    "SupportsWebhookFeed",
    "TargetGender",
    "TestPingData",
    "TestPingEvent",
    "Timeouts",
    "UnprocessableEntityError",
    "ValidationIssue",
    "WaitError",
    "WaitTimeoutError",
    "Wallet",
    "WebhookASGIApp",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookEndpointDeleted",
    "WebhookEndpointStatus",
    "WebhookEndpointUpdateStatus",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookReceiver",
    "WebhookResult",
    "WebhookScope",
    "WebhookSecretRotated",
    "WebhookSent",
    "WebhookVerificationError",
    "Whoami",
    "__version__",
    "decode_event",
    "fan_out",
    "onboard_customer",
    "provision_customer",
    "verify_webhook",
    "wait_for_job",
    "wait_for_keywords",
    "wait_for_oauth",
    "wait_for_ready_influencer",
]

#: Names resolved on first use, so that `import layers_async` loads neither the sandbox nor
#: aiohttp's server (the pytest plugin and every production import would pay for them).
_LAZY = ("Sandbox", "SandboxConfigError")


def _public_module(obj: object) -> None:
    """Let tracebacks and reprs name the public path, not the private module (as httpx does)."""
    if isinstance(obj, type):
        obj.__module__ = "layers_async"


# Resolve the models' string annotations while their defining modules are still recorded...
for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type) and attrs.has(_obj):
        attrs.resolve_types(_obj)
# ...then rewrite their module.
for _name in __all__:
    _public_module(globals().get(_name))
del _name, _obj

# Type checkers read the imports above instead: a visible __getattr__ would hide typos.
if not _typing.TYPE_CHECKING:

    def __getattr__(name: str) -> _typing.Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'layers_async' has no attribute {name!r}")
        from . import sandbox

        obj = getattr(sandbox, name)
        _public_module(obj)
        globals()[name] = obj
        return obj


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
