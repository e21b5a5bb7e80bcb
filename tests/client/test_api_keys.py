"""`client.organizations.api_keys` (a child's keys) and `client.api_keys` (own keys: kill,
rotate) against the sandbox, and `Secret`, the value a minted secret is."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from layers_async import (
    ApiKeyKilled,
    ApiKeyRotated,
    AuthenticationError,
    ChildApiKey,
    ChildApiKeyCreated,
    ChildApiKeyRevoked,
    ChildApiKeyRotated,
    ConflictError,
    KillSwitchError,
    LayersClient,
    NotFoundError,
    PermissionDeniedError,
    Sandbox,
    Secret,
)
from tests.client._decoded import assert_aware, assert_request_id
from tests.client._orgs import (
    ADMIN_BUT_READ_ONLY,
    GHOST_KEY,
    KEY_RE,
    PREFIX_RE,
    SECRET_RE,
    child_with_key,
    new_child,
)
from tests.client._refusals import api_refusal, refused_field, refused_field_now
from tests.client._setup import OpenSandbox
from tests.client._tracing import SINGLE

DAY = 86_400


def _view(client: LayersClient, secret: Secret | str) -> LayersClient:
    return client.with_options(api_key=secret)


@pytest.mark.anyio
async def test_create_decodes_the_key_and_a_hidden_secret(client: LayersClient) -> None:
    """create() decodes the masked key and a Secret that works as the child's key."""
    org = await new_child(client)
    minted = await client.organizations.api_keys.create(
        org, name="acme-integration", scopes=["content:read", "content:write"], env="test"
    )
    assert isinstance(minted, ChildApiKeyCreated)
    key = minted.api_key
    assert KEY_RE.match(key.id)
    assert PREFIX_RE.match(key.prefix)
    assert (key.organization_id, key.name, key.env, key.status) == (
        org,
        "acme-integration",
        "test",
        "active",
    )
    assert key.scopes == ("content:read", "content:write")
    assert key.rate_limit_tier == "sandbox"
    assert (key.grace_until, key.superseded_by, key.revoked_at) == (None, None, None)
    assert_aware(key.created_at)
    assert minted.warning
    assert_request_id(minted)
    secret = minted.secret.reveal()
    assert SECRET_RE.match(secret)
    assert secret.startswith(key.prefix + "_")
    for shown in (repr(minted), str(minted), repr(minted.secret), f"{minted.secret}"):
        assert secret[25:] not in shown
    assert key.prefix in repr(minted.secret)
    me = await _view(client, minted.secret).whoami()
    assert (me.organization_id, me.api_key_id) == (org, key.id)


@pytest.mark.anyio
async def test_create_replayed_answers_the_same_secret(client: LayersClient) -> None:
    """The same idempotency_key mints once: the repeat answers the same key and secret."""
    org = await new_child(client)
    keys = client.organizations.api_keys
    first = await keys.create(org, name="ci", scopes=["*"], idempotency_key="mint-acme-1")
    again = await keys.create(org, name="ci", scopes=["*"], idempotency_key="mint-acme-1")
    assert again.secret == first.secret
    assert again.api_key.id == first.api_key.id
    assert again.meta is not None
    assert again.meta.idempotency_replayed
    assert len((await keys.list(org)).items) == 1


@pytest.mark.anyio
async def test_create_refuses_scopes_the_caller_cannot_grant(open_sandbox: OpenSandbox) -> None:
    """A scope the calling key lacks is a PermissionDeniedError naming it; an archived child a
    ConflictError."""
    sb, admin = await open_sandbox(**ADMIN_BUT_READ_ONLY)
    org = await new_child(admin)
    async with LayersClient(**SINGLE, api_key=sb.keys["bare"], base_url=sb.url) as bare:
        minting = bare.organizations.api_keys.create(org, name="ci", scopes=["content:write"])
        refused = await api_refusal(PermissionDeniedError, minting)
        assert refused.details == {"requiredScope": "content:write"}
        minted = await bare.organizations.api_keys.create(org, name="ci", scopes=["projects:read"])
        assert minted.api_key.scopes == ("projects:read",)
    await admin.organizations.archive(org)
    archived = admin.organizations.api_keys.create(org, name="ci", scopes=["*"])
    await api_refusal(ConflictError, archived)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"name": "", "scopes": ["*"]}, "name"),
        ({"name": "x" * 121, "scopes": ["*"]}, "name"),
        ({"name": "ci", "scopes": []}, "scopes"),
        ({"name": "ci", "scopes": "content:read"}, "scopes"),
        ({"name": "ci", "scopes": ["*"] * 65}, "scopes"),
        ({"name": "ci", "scopes": ["org:admin"]}, "scopes"),
        ({"name": "ci", "scopes": ["content:delete"]}, "scopes"),
        ({"name": "ci", "scopes": ["*"], "env": "prod"}, "env"),
    ],
)
async def test_create_is_validated_before_sending(
    client: LayersClient, call: dict[str, Any], field: str
) -> None:
    """Name length, 1-64 known scopes (never org:admin) and env are checked locally."""
    org = "org_00000000-0000-4000-8000-000000000001"
    assert await refused_field(client.organizations.api_keys.create, org, **call) == field


@pytest.mark.anyio
async def test_an_ads_write_scope_is_accepted(client: LayersClient) -> None:
    """A Tier 3 `ads:write:<name>` scope passes the local check and is granted."""
    org = await new_child(client)
    scope: Any = "ads:write:campaigns"
    minted = await client.organizations.api_keys.create(org, name="ads", scopes=[scope])
    assert minted.api_key.scopes == ("ads:write:campaigns",)


@pytest.mark.anyio
async def test_list_is_masked_filtered_and_paged(client: LayersClient, sandbox: Sandbox) -> None:
    """list() yields masked ChildApiKeys, newest first, filtered by status."""
    org, _ = await child_with_key(client)
    await sandbox.advance(1)
    second = await client.organizations.api_keys.create(org, name="second", scopes=["*"])
    await client.organizations.api_keys.revoke(org, second.api_key.id)
    keys = client.organizations.api_keys
    listed = await keys.list(org)
    assert [k.name for k in listed.items] == ["second", "integration"]
    assert all(isinstance(k, ChildApiKey) for k in listed.items)
    assert [k.name for k in (await keys.list(org, status="revoked")).items] == ["second"]
    assert [k.name async for k in keys.list(org, status="active", limit=1)] == ["integration"]
    assert refused_field_now(keys.list, org, status="killed") == "status"  # type: ignore[arg-type]
    assert refused_field_now(keys.list, org, limit=101) == "limit"


@pytest.mark.anyio
async def test_rotate_keeps_the_old_key_for_a_grace_period(
    client: LayersClient, sandbox: Sandbox
) -> None:
    """rotate() mints a new key; the old one works 24 h more, then is refused; a second
    rotation of the old key is a ConflictError."""
    org = await new_child(client)
    old = await client.organizations.api_keys.create(org, name="ci", scopes=["*"])
    rotated = await client.organizations.api_keys.rotate(org, old.api_key.id)
    assert isinstance(rotated, ChildApiKeyRotated)
    new, previous = rotated.api_key, rotated.previous_api_key
    assert new.id != old.api_key.id
    assert (new.name, new.scopes) == ("ci", ("*",))
    assert previous.superseded_by == new.id
    assert previous.grace_until is not None
    assert previous.status == "active"
    assert rotated.secret != old.secret
    assert (await _view(client, old.secret).whoami()).api_key_id == old.api_key.id
    assert (await _view(client, rotated.secret).whoami()).api_key_id == new.id
    again = client.organizations.api_keys.rotate(org, old.api_key.id)
    refused = await api_refusal(ConflictError, again)
    assert refused.details["supersededBy"] == new.id
    await sandbox.advance(DAY + 1)
    await api_refusal(AuthenticationError, _view(client, old.secret).whoami())


@pytest.mark.anyio
async def test_revoke_is_immediate_and_repeatable(client: LayersClient) -> None:
    """revoke() answers the revoked key; its next request is refused (401); a repeat answers the
    same; an unknown key id is a NotFoundError."""
    org, secret = await child_with_key(client)
    key_id = (await client.organizations.api_keys.list(org)).items[0].id
    revoked = await client.organizations.api_keys.revoke(org, key_id)
    assert isinstance(revoked, ChildApiKeyRevoked)
    assert (revoked.deleted, revoked.api_key.status) == (True, "revoked")
    assert_aware(revoked.api_key.revoked_at)
    await api_refusal(AuthenticationError, _view(client, secret).whoami())
    again = await client.organizations.api_keys.revoke(org, key_id)
    assert again.api_key.revoked_at == revoked.api_key.revoked_at
    await api_refusal(NotFoundError, client.organizations.api_keys.revoke(org, GHOST_KEY))
    assert await refused_field(client.organizations.api_keys.revoke, org, "key_1") == "key_id"


@pytest.mark.anyio
async def test_kill_stops_a_key_until_rotation(sandbox: Sandbox, client: LayersClient) -> None:
    """kill() stops another own key (KillSwitchError scope key); rotate() brings it back with a
    new secret, and the old secret is refused (401)."""
    async with LayersClient(
        **SINGLE, api_key=sandbox.keys["demo-test"], base_url=sandbox.url
    ) as other:
        victim = (await other.whoami()).api_key_id
        killed = await client.api_keys.kill(victim)
        assert isinstance(killed, ApiKeyKilled)
        assert (killed.killed, killed.api_key.kill_switch, killed.api_key.is_active) == (
            True,
            True,
            False,
        )
        assert_aware(killed.api_key.revoked_at)
        with pytest.raises(KillSwitchError) as stopped:
            await other.whoami()
        assert stopped.value.scope == "key"
        assert stopped.value.attempts == 1
        assert (await client.api_keys.kill(victim)).api_key.kill_switch
        rotated = await client.api_keys.rotate(victim, idempotency_key="rotate-test-1")
        assert isinstance(rotated, ApiKeyRotated)
        assert (rotated.api_key.id, rotated.api_key.is_active) == (victim, True)
        assert rotated.api_key.revoked_at is None
        assert_aware(rotated.api_key.rotated_at)
        replay = await client.api_keys.rotate(victim, idempotency_key="rotate-test-1")
        assert replay.secret == rotated.secret
        await api_refusal(AuthenticationError, other.whoami())
    assert sandbox.keys["demo-test"] == rotated.secret.reveal()
    assert (await _view(client, rotated.secret).whoami()).api_key_id == victim


@pytest.mark.anyio
async def test_own_key_routes_refuse_foreign_and_malformed_ids(client: LayersClient) -> None:
    """A key of another organization (a child's) is a NotFoundError; a malformed id is local."""
    org = await new_child(client)
    child_key = (await client.organizations.api_keys.create(org, name="c", scopes=["*"])).api_key
    await api_refusal(NotFoundError, client.api_keys.kill(child_key.id))
    await api_refusal(NotFoundError, client.api_keys.rotate(GHOST_KEY))
    assert await refused_field(client.api_keys.kill, "lp_live_ABC") == "key_id"
    assert await refused_field(client.api_keys.rotate, GHOST_KEY.upper()) == "key_id"


@pytest.mark.anyio
async def test_a_child_key_can_kill_itself(client: LayersClient) -> None:
    """A child key kills itself through its own view; the parent's child-key list shows it
    revoked."""
    org, secret = await child_with_key(client)
    child = _view(client, secret)
    me = await child.whoami()
    await child.api_keys.kill(me.api_key_id)
    with pytest.raises(KillSwitchError) as stopped:
        await child.whoami()
    assert stopped.value.scope == "key"
    listed = await client.organizations.api_keys.list(org)
    assert [k.status for k in listed.items] == ["revoked"]


# --- Secret ------------------------------------------------------------------------------------
KEY = "lp_live_0123456789ABCDEF_" + "q3Jx9vT2mB7nK4pL8wR1sY6zC0dF5gH2jN7aE3uVb9k"


def test_secret_shows_only_its_hint() -> None:
    """repr, str and format show the key prefix (or `whsec_…`), never the secret."""
    secret = Secret(KEY)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!s:>80}"):
        assert KEY[25:] not in shown
        assert "lp_live_0123456789ABCDEF_" in shown
    assert secret.hint == "lp_live_0123456789ABCDEF_…"
    assert str(Secret("whsec_abcdefghijklmnopqrstuvwxyz012345")) == "whsec_…"
    assert str(Secret("sk-something-else")) == "<redacted>"
    assert secret.reveal() == KEY
    assert secret.get_secret_value() == KEY


def test_secret_equality_hash_and_copies() -> None:
    """Secrets compare by value (never equal to a str), hash alike, and copy as themselves."""
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY[:-1] + "x")
    assert Secret(KEY) != KEY
    assert len({Secret(KEY), Secret(KEY)}) == 1
    secret = Secret(KEY)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_secret_refuses_pickling() -> None:
    """Pickling a Secret (or a model holding one) is a TypeError: it would be written in clear."""
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(Secret(KEY))
    key = ChildApiKey(
        id="key_x",
        organization_id="org_x",
        name="ci",
        prefix=KEY[:24],
        env="live",
        scopes=("*",),
        rate_limit_tier="standard",
        status="active",
        created_at=None,  # type: ignore[arg-type]
    )
    minted = ChildApiKeyCreated(api_key=key, secret=Secret(KEY))
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(minted)
    assert KEY[25:] not in str(minted.to_dict())
    assert minted.to_dict()["secret"] == "lp_live_0123456789ABCDEF_…"


@pytest.mark.anyio
async def test_a_secret_is_accepted_as_a_client_key(sandbox: Sandbox) -> None:
    """LayersClient(api_key=Secret(...)) sends the secret; its repr shows only the prefix."""
    secret = Secret(sandbox.api_key)
    async with LayersClient(**SINGLE, api_key=secret, base_url=sandbox.url) as client:
        assert (await client.whoami()).organization_name
        assert sandbox.api_key[25:] not in repr(client)
