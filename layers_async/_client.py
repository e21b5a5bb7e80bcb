"""`LayersClient`: configuration, ownership of one aiohttp session and pool, views."""

from __future__ import annotations

import hashlib
import os
import platform
import time
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Generic, NoReturn, TypeVar, overload

import aiohttp
import attrs

from . import waiters
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_LIMITS,
    DEFAULT_POLL,
    DEFAULT_POLL_RATE,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    Limits,
    PollPolicy,
    RetryPolicy,
    Timeouts,
)
from ._errors import ClientClosedError, LayersValidationError
from ._polling import PollHub, WaitContext
from ._ratelimit import GateFactory, RateGate, RetryBudget
from ._request import NOT_GIVEN, Hook, Hooks, NotGiven
from ._secret import Secret, key_hint
from ._transport import Shared, Transport
from ._validation import check_extra_headers, check_id, check_seconds
from ._version import __version__
from ._waiting import sleep
from .models.identity import Whoami
from .resources._base import Resource, options
from .resources.api_keys import ApiKeys
from .resources.app_media import AppMedia
from .resources.content import Content
from .resources.credits import Credits
from .resources.influencers import Influencers
from .resources.jobs import Jobs
from .resources.keywords import Keywords
from .resources.organizations import Organizations
from .resources.projects import Projects
from .resources.scheduled_posts import ScheduledPosts
from .resources.social import Social
from .resources.webhook_endpoints import WebhookEndpoints
from .resources.webhooks import Webhooks

__all__ = ["LayersClient"]

USER_AGENT = (
    f"layers-async/{__version__} Python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)
N = TypeVar("N", bound=Resource)


class _Masked(str):
    """The Authorization header's value: the real text on the wire, a masked repr everywhere
    else (aiohttp's header maps, request infos and any frame that holds them)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'Bearer <redacted>'"


class _Key:
    """The API key, held where no repr shows it: a traceback with locals, a debugger or an
    error reporter that collects frames sees only its log-safe prefix."""

    __slots__ = ("_secret", "hint")

    def __init__(self, secret: str) -> None:
        self._secret = secret
        #: The log-safe prefix (`key_hint`).
        self.hint = key_hint(secret)

    @classmethod
    def read(cls, given: str | Secret | None, *, from_env: bool = True) -> _Key:
        """The key passed (a string or a `Secret`), else `LAYERS_API_KEY` (when `from_env`);
        raises `LayersValidationError` without it."""
        value = given.reveal() if isinstance(given, Secret) else given
        if value is None and from_env:
            value = os.environ.get("LAYERS_API_KEY")
        if not value or not isinstance(value, str):
            problem = "no API key: pass api_key=... or set the LAYERS_API_KEY variable"
        elif any(c.isspace() for c in value):
            problem = "must not contain whitespace"
        else:
            return cls(value)
        del value, given  # the error's traceback must not show the key it rejects
        raise LayersValidationError("api_key", problem)

    def gate_id(self) -> str:
        """The id a shared rate-limit gate stores this key's budget under: a SHA-256 of the
        key, so that neither Redis nor its logs ever hold the key itself."""
        return hashlib.sha256(self._secret.encode()).hexdigest()[:32]

    def authorization(self) -> str:
        """The Authorization header's value (its repr masked)."""
        return _Masked(f"Bearer {self._secret}")

    def __repr__(self) -> str:
        return f"<API key {self.hint}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key is not pickled")


class _Pool:
    """The session and connector shared by a client and all its views."""

    __slots__ = (
        "by_key",
        "closed",
        "gates",
        "hub",
        "key",
        "limits",
        "session",
        "shared",
        "trace_configs",
    )

    def __init__(
        self,
        key: _Key,
        limits: Limits,
        trace_configs: Sequence[aiohttp.TraceConfig],
        retry: RetryPolicy,
        poll_rate: float | None,
        gates: GateFactory | None = None,
    ) -> None:
        self.key = key
        #: Makes each key's rate-limit gate (`LayersClient(gate=...)`); None: a local `RateGate`.
        self.gates = gates
        self.hub = PollHub(poll_rate)
        self.limits = limits
        self.trace_configs = list(trace_configs)
        self.session: aiohttp.ClientSession | None = None
        self.closed = False
        self.shared = self._new_shared(key, retry)
        #: The gate and budget of each key the client and its views send with (`shared` is
        #: the client's own key's); a view with another key gets its own, kept here so that
        #: every view of that key shares them, for the pool's lifetime (little memory per key).
        self.by_key: dict[_Key, Shared] = {key: self.shared}

    def _new_shared(self, key: _Key, retry: RetryPolicy) -> Shared:
        gates = self.gates
        gate = RateGate(time.monotonic, sleep) if gates is None else gates(key.gate_id())
        budget = RetryBudget(retry.budget_ratio, retry.budget_burst)
        return Shared(self.get, gate, budget, self.limits.max_response_bytes)

    def shared_for(self, key: _Key, retry: RetryPolicy) -> Shared:
        """The rate-limit gate and retry budget of `key`, made on its first use (the API's
        buckets are per key, so each key gets its own) over this pool's one session."""
        shared = self.by_key.get(key)
        if shared is None:
            shared = self.by_key[key] = self._new_shared(key, retry)
        return shared

    def get(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running event loop."""
        session = self.session
        if session is not None:
            return session
        if self.closed:
            raise ClientClosedError(
                "this LayersClient is closed; create a new one (`async with LayersClient(...)`)"
            )
        lim = self.limits
        connector = aiohttp.TCPConnector(
            limit=lim.max_connections,
            limit_per_host=lim.max_connections_per_host,
            keepalive_timeout=lim.keepalive_expiry,
        )
        # The headers every request sends live in the session alone (a view adds its own per
        # request): no frame of the SDK holds the key, and a call copies no header map for them.
        session = aiohttp.ClientSession(
            connector=connector,
            headers={
                "Authorization": self.key.authorization(),
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            trace_configs=self.trace_configs or None,
            auto_decompress=True,
        )
        # aiohttp silently resends an idempotent request once when a pooled connection drops;
        # that resend would escape our attempt count, hooks, logs and retry budget. Retries
        # are the transport's job alone. (A private flag: aiohttp has no public switch for it.)
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self.session = session
        return session

    async def close(self) -> None:
        await self.hub.aclose()
        self.closed = True
        session, self.session = self.session, None
        if session is not None and not session.closed:
            await session.close()


class _Namespace(Generic[N]):
    """A resource namespace of `LayersClient` (`client.projects`, ...): read-only, made on
    first use, one per client view. A class attribute, so `help(LayersClient)` and `dir()`
    list every namespace with its resource class and what it does."""

    def __init__(self, cls: type[N]) -> None:
        self._cls = cls
        self._name = cls.__name__
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        self.__doc__ = f"`{cls.__module__}.{cls.__qualname__}`: {summary}"

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Namespace[N]: ...
    @overload
    def __get__(self, obj: LayersClient, owner: type | None = None) -> N: ...
    def __get__(self, obj: LayersClient | None, owner: type | None = None) -> N | _Namespace[N]:
        if obj is None:
            return self
        made = obj._namespaces.get(self._name)
        if made is None:
            made = obj._namespaces[self._name] = self._cls(obj)
        assert isinstance(made, self._cls)
        return made

    def __set__(self, obj: LayersClient, value: object) -> NoReturn:
        raise AttributeError(f"LayersClient.{self._name} is read-only")


class LayersClient:
    """The async client of the Layers Partner API.

    ::

        async with LayersClient() as client:          # reads LAYERS_API_KEY / LAYERS_BASE_URL
            me = await client.whoami()
            project = await client.projects.create(name="Acme Coffee", timezone="UTC")

    One client owns one aiohttp session and connection pool (`limits.max_connections`,
    default 100); `with_options()` and `for_organization()` return views that share it. Close
    the client with `await client.aclose()` or use it as an async context manager.

    The API's namespaces are attributes: `projects`, `app_media`, `social`, `influencers`,
    `keywords`, `content`, `jobs`, `scheduled_posts`, `credits`, `organizations` (with
    `organizations.api_keys`, `organizations.credits` and `organizations.credit_config`),
    `api_keys`, `webhook_endpoints` and `webhooks` (feed webhook events to the waiters); the
    waiters are methods (`wait_for_job`, `wait_for_ready_influencer`, `wait_for_keywords`,
    `wait_for_oauth`).

    Many customers as child organizations: ``client.for_organization(org_id)`` acts inside a
    child with this client's key (its rate limits, one gate); ``client.with_options(
    api_key=child_secret)`` sends with a child's own key, over the same pool but with that
    key's own rate-limit gate and retry budget.

    Each key's rate-limit gate lives in this process by default. Several processes on one key
    share one budget with ``gate=`` and a factory of shared gates, e.g.
    ``LayersClient(gate=RedisGates(redis_url))`` (`layers_async.distributed`).
    """

    _owner: bool
    _pool: _Pool
    _namespaces: dict[str, Resource]

    projects = _Namespace(Projects)
    app_media = _Namespace(AppMedia)
    social = _Namespace(Social)
    influencers = _Namespace(Influencers)
    keywords = _Namespace(Keywords)
    content = _Namespace(Content)
    jobs = _Namespace(Jobs)
    scheduled_posts = _Namespace(ScheduledPosts)
    credits = _Namespace(Credits)

    # Sub-organizations, keys and webhooks (Tier 2).
    organizations = _Namespace(Organizations)
    api_keys = _Namespace(ApiKeys)
    webhook_endpoints = _Namespace(WebhookEndpoints)
    webhooks = _Namespace(Webhooks)

    def __init__(
        self,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        *,
        organization: str | None = None,
        timeout: float | Timeouts | None = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
        default_headers: Mapping[str, str] | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit_tier: str | bool = True,
        on_request: Hook | None = None,
        on_response: Hook | None = None,
        on_retry: Hook | None = None,
        poll_policy: PollPolicy = DEFAULT_POLL,
        poll_rate: float | None = DEFAULT_POLL_RATE,
        gate: GateFactory | None = None,
    ) -> None:
        try:
            key = _Key.read(api_key)
        finally:
            del api_key  # from here on the key lives only in `key`, whose repr hides it
        url = base_url if base_url is not None else os.environ.get("LAYERS_BASE_URL")
        url = (url or DEFAULT_BASE_URL).rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise LayersValidationError("base_url", f"must be an http(s) URL (got {url!r})")
        if not isinstance(limits, Limits):
            raise LayersValidationError("limits", "must be a layers_async.Limits")
        if not isinstance(retry, RetryPolicy):
            raise LayersValidationError("retry", "must be a layers_async.RetryPolicy")
        if not isinstance(rate_limit_tier, (str, bool)):
            raise LayersValidationError("rate_limit_tier", "must be a tier name, True or False")
        if not isinstance(poll_policy, PollPolicy):
            raise LayersValidationError("poll_policy", "must be a layers_async.PollPolicy")
        if poll_rate is not None and (
            isinstance(poll_rate, bool)
            or not isinstance(poll_rate, (int, float))
            or not poll_rate > 0  # NaN too
        ):
            raise LayersValidationError(
                "poll_rate", "must be a positive number of polls per second"
            )
        if gate is not None and not callable(gate):
            raise LayersValidationError("gate", "must be a gate factory: key id -> gate")
        if gate is not None and rate_limit_tier is False:
            raise LayersValidationError("gate", "needs the gate on (not rate_limit_tier=False)")
        self._pool = _Pool(key, limits, trace_configs, retry, poll_rate, gate)
        self._poll_policy = poll_policy
        if isinstance(rate_limit_tier, str):
            self._pool.shared.gate.set_tier(rate_limit_tier)
        self._gate_enabled = rate_limit_tier is not False
        self._retry = retry
        self._hooks = Hooks(on_request, on_response, on_retry)
        self._owner = True
        self._namespaces = {}
        self._key_hint = key.hint
        #: The key this view sends with when it is not the session's (the client's own).
        self._key: _Key | None = None
        self._shared = self._pool.shared
        self._base_url = url
        self._organization: str | None = None
        self._timeouts = DEFAULT_TIMEOUTS
        self._default_headers: dict[str, str] = {}
        self._configure(organization, timeout, default_headers, NOT_GIVEN)

    def _configure(
        self,
        organization: str | NotGiven | None,
        timeout: float | Timeouts | NotGiven | None,
        default_headers: Mapping[str, str] | None,
        retry: RetryPolicy | NotGiven,
    ) -> None:
        if not isinstance(retry, NotGiven):
            if not isinstance(retry, RetryPolicy):
                raise LayersValidationError("retry", "must be a layers_async.RetryPolicy")
            self._retry = retry
        if isinstance(organization, str):
            check_id("organization", organization, "org")
            self._organization = organization
        elif organization is None:  # acts in the key's own organization: no header
            self._organization = None
        if not isinstance(timeout, NotGiven):
            self._timeouts = _as_timeouts(timeout, self._timeouts)
        if default_headers is not None:
            check_extra_headers(default_headers, "default_headers")  # extra_headers' rules
            self._default_headers = {**self._default_headers, **default_headers}
        headers = dict(self._default_headers)  # the key, User-Agent and Accept: the session's
        if self._key is not None:  # another key: sent with each request, over the session's
            headers["Authorization"] = self._key.authorization()
        if self._organization is not None:
            headers["X-Layers-Organization"] = self._organization
        self._transport = Transport(
            self._shared,
            self._base_url,
            headers,
            self._timeouts,
            self._key_hint,
            retry=self._retry,
            gate_enabled=self._gate_enabled,
            hooks=self._hooks,
        )

    # ------------------------------------------------------------------ views
    def _view(self) -> LayersClient:
        view = object.__new__(LayersClient)
        view.__dict__.update(self.__dict__)
        view._owner = False
        view._namespaces = {}  # the view's namespaces send through the view
        return view

    def with_options(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | NotGiven = NOT_GIVEN,
        poll_policy: PollPolicy | NotGiven = NOT_GIVEN,
        api_key: str | Secret | NotGiven = NOT_GIVEN,
    ) -> LayersClient:
        """A view with other defaults (timeouts, retry and poll policies, organization, headers,
        key) that shares this client's session, pool and poll hub.

        An option left out keeps this client's value. ``organization="org_..."`` acts inside
        that child organization; ``organization=None`` acts in the key's own (parent)
        organization again, without the ``X-Layers-Organization`` header.

        ``api_key=`` (a string or a `Secret`, e.g. a child key just minted) sends with another
        key. The API counts rate limits per key, so such a view has that key's own rate-limit
        gate and retry budget: a 429 on one key pauses only that key's views, and one process
        can drive hundreds of child keys over one pool, each within its own limits. Every view
        of the same key shares that key's gate and budget. A view with another key acts in
        that key's own organization unless ``organization=`` is given too. Views with the
        client's own key (``for_organization()`` ones too) share the client's gate and budget.
        """
        view = self._view()
        if not isinstance(api_key, NotGiven):
            try:
                key = _Key.read(api_key, from_env=False)
            finally:
                del api_key  # from here on the key lives only in `key`, whose repr hides it
            policy = self._retry if isinstance(retry, NotGiven) else retry
            if not isinstance(policy, RetryPolicy):
                raise LayersValidationError("retry", "must be a layers_async.RetryPolicy")
            view._key = None if key == self._pool.key else key
            view._key_hint = key.hint
            view._shared = self._pool.shared_for(key, policy)
            if isinstance(organization, NotGiven):
                organization = None  # the new key acts in its own organization
        if not isinstance(poll_policy, NotGiven):
            if not isinstance(poll_policy, PollPolicy):
                raise LayersValidationError("poll_policy", "must be a layers_async.PollPolicy")
            view._poll_policy = poll_policy
        view._configure(organization, timeout, default_headers, retry)
        return view

    def for_organization(self, organization_id: str) -> LayersClient:
        """A view acting inside a child organization (`X-Layers-Organization`; needs org:admin)."""
        return self.with_options(organization=organization_id)

    # ------------------------------------------------------------------ calls
    async def whoami(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Whoami:
        """Resolve the key to its organization, scopes and tier (`GET /v1/whoami`)."""
        me = await self.projects._read(
            Whoami, "/v1/whoami", options(timeout, idempotency_key, extra_headers)
        )
        if self._organization is None and self._shared is self._pool.shared:
            # Fed events of other organizations never end this key's own waits.
            self._pool.hub.own_organization = me.organization_id
        return me

    # ------------------------------------------------------------------ waiters
    @property
    def _waiting(self) -> WaitContext:
        """The one internal interface of waiters and flows to this client: the poll hub it
        shares with its views, the organization this view acts in and its default poll policy.
        Waiters and flows read nothing else of the client's private state.

        Poll streams are shared by the views of one key acting in one organization: a view
        with another key scopes its streams to that key too, so that a waiter never sees what
        another key polled (ids are unique, but what a key may read is its own)."""
        scope = self._organization
        if self._shared is not self._pool.shared:
            scope = f"{scope or ''}#key{id(self._shared)}"  # the Shared lives as long as the pool
        return WaitContext(self._pool.hub, scope, self._poll_policy)

    # The waiters as methods: `client.wait_for_job(job_id)` is `wait_for_job(client, job_id)`
    # (the same functions, so their defaults and documentation are written once).
    wait_for_job = waiters.wait_for_job
    wait_for_ready_influencer = waiters.wait_for_ready_influencer
    wait_for_keywords = waiters.wait_for_keywords
    wait_for_oauth = waiters.wait_for_oauth

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """The API base URL this client talks to."""
        return self._base_url

    @property
    def organization(self) -> str | None:
        """The child organization this view acts in, if any."""
        return self._organization

    def shares_pool_with(self, other: LayersClient) -> bool:
        """True when this client and `other` send over one aiohttp session and connection pool
        (a client and all its views, whatever key they send with)."""
        return self._pool is other._pool

    @property
    def is_closed(self) -> bool:
        """True once the client (or the client this view belongs to) was closed."""
        return self._pool.closed

    @property
    def polls_sent(self) -> int:
        """How many polls this client's waiters have sent so far (views share the count)."""
        return self._pool.hub.polls

    async def __aenter__(self) -> LayersClient:
        self._pool.get()  # create the session inside the running loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and its pool; idempotent. A view's `aclose()` does nothing: the
        client that created it owns the pool."""
        if self._owner:
            await self._pool.close()

    def __del__(self) -> None:
        # Only a warning: nothing is scheduled from a finalizer.
        pool = getattr(self, "_pool", None)
        owner = getattr(self, "_owner", False)
        if owner and pool is not None and pool.session is not None and not pool.closed:
            warnings.warn(
                f"unclosed {self!r}: close it with `await client.aclose()` or use "
                "`async with LayersClient(...) as client:`",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )

    def __repr__(self) -> str:
        # Also for a client whose constructor failed (a traceback printed with its locals).
        state = self.__dict__
        org = state.get("_organization")
        org_part = f", organization={org!r}" if org else ""
        base = state.get("_base_url")
        return f"<LayersClient base_url={base!r} key={state.get('_key_hint')!r}{org_part}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("LayersClient cannot be pickled (it owns a network session)")


def _as_timeouts(value: float | Timeouts | None, current: Timeouts) -> Timeouts:
    if isinstance(value, Timeouts):
        return value
    if value is None:
        return attrs.evolve(current, total=None)
    return attrs.evolve(current, total=check_seconds("timeout", value))
