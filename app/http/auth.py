"""Who is calling: a channel (API key) for conversations, a reviewer (registry token) for decisions and team data,
and the customer a channel speaks for (a JWT the channel signs, in `X-Customer-Token`).

Keys and tokens are stored only as hashes (`python -m app review hash-token` makes one). Channel keys come from the
settings: a YAML file (`api_keys_file`, `SUPPORT_API_KEYS_FILE`: `channels: [{id, key_hash, customer_tokens}]`) and
a list (`api_keys`, `SUPPORT_API_KEYS`: `id=sha256:…,id2=sha256:…`). With neither, every conversation endpoint
refuses: nothing is open by default but health.
The reviewer's identity always comes from the token, and the customer's from the channel's signature
(app/identity.py), never from the request body: a channel without `customer_tokens` speaks for anonymous customers.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from agents.compliance.reviewers import TEAM_ROLES, Reviewer, ReviewerError, hash_token, registry_for
from agents.config import load_model
from app.identity import ANONYMOUS, CustomerTokenError, CustomerTokens, Principal, verify_customer_token
from app.settings import Settings
from app.thread_ids import check_not_personal


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    key_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    customer_tokens: CustomerTokens | None = None


class Channels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[Channel] = Field(default_factory=list)


class ChannelConfigError(ValueError):
    """An unreadable or invalid channel key file or SUPPORT_API_KEYS value."""


def load_channels(settings: Settings) -> list[Channel]:
    """The channels of `settings.api_keys_file` and `settings.api_keys`; ChannelConfigError naming what is wrong."""
    out: list[Channel] = []
    if settings.api_keys_file:
        out += load_model(settings.api_keys_file, Channels, ChannelConfigError, "channel key file", "'channels'",
                          {"channels": "channel"})[1].channels
    for item in filter(None, (p.strip() for p in (settings.api_keys or "").split(","))):
        cid, sep, digest = item.partition("=")
        if not sep:
            raise ChannelConfigError(f"SUPPORT_API_KEYS: expected id=sha256:<hex>, got {item[:40]!r}")
        try:
            out.append(Channel(id=cid.strip(), key_hash=digest.strip()))
        except ValueError as exc:
            raise ChannelConfigError(f"SUPPORT_API_KEYS: channel {cid.strip()!r}: {exc}") from None
    return out


@dataclass(frozen=True)
class Caller:
    kind: str  # "channel" or "reviewer"
    id: str
    reviewer: Reviewer | None = None
    channel: Channel | None = None

    def principal(self, customer_token: str | None = None) -> Principal:
        """Who owns what this caller creates: the channel and its signed customer; a reviewer is the team
        (trusted: may read any thread)."""
        if self.kind == "reviewer":
            return Principal(f"reviewer:{self.id}", trusted=True)
        customer = ANONYMOUS
        if customer_token:
            if self.channel is None or self.channel.customer_tokens is None:
                raise HTTPException(401, f"channel {self.id!r} has no customer token key configured "
                                         "(customer_tokens in the channel key file)")
            try:
                customer = verify_customer_token(customer_token, self.channel.customer_tokens, check_not_personal)
            except CustomerTokenError as exc:
                raise HTTPException(401, str(exc)) from None
        return Principal(f"http:{self.id}", customer=customer)


# Declared as security schemes, so the OpenAPI document says how to authenticate and /docs has an Authorize button;
# auto_error=False: a missing credential gets this service's own 401 message, not FastAPI's 403.
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="A channel key (conversations) or a reviewer token (decisions, tickets, team data).")
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey",
                       description="The same secret as the bearer token, for clients that cannot set Authorization.")


def _bearer(authorization: HTTPAuthorizationCredentials | None, api_key: str | None) -> str:
    if api_key:
        return api_key
    if authorization and authorization.scheme.lower() == "bearer" and authorization.credentials:
        return authorization.credentials.strip()
    raise HTTPException(401, "missing credentials: send `Authorization: Bearer <key or token>`")


def channel(request: Request, authorization: HTTPAuthorizationCredentials | None = Security(BEARER),
            x_api_key: str | None = Security(API_KEY)) -> Caller:
    """Dependency for conversation endpoints: a configured channel key (a reviewer token is accepted too)."""
    secret = _bearer(authorization, x_api_key)
    digest = hash_token(secret)
    for ch in request.app.state.channels:
        if hmac.compare_digest(digest, ch.key_hash):
            return Caller("channel", ch.id, channel=ch)
    who = _reviewer_for(request, digest)
    if who is not None:
        _reviews(who)
        return Caller("reviewer", who.id, who)
    raise HTTPException(401, "unknown API key or token")


def reviewer(request: Request, authorization: HTTPAuthorizationCredentials | None = Security(BEARER),
             x_api_key: str | None = Security(API_KEY)) -> Caller:
    """Dependency for decisions and team data: a reviewer token from the registry."""
    digest = hash_token(_bearer(authorization, x_api_key))
    who = _reviewer_for(request, digest)
    if who is None:
        for ch in request.app.state.channels:
            if hmac.compare_digest(digest, ch.key_hash):
                raise HTTPException(403, f"channel {ch.id!r} may not do this: a reviewer token is needed")
        raise HTTPException(401, "unknown reviewer token")
    _reviews(who)
    return Caller("reviewer", who.id, who)


def _reviews(who: Reviewer) -> None:
    """Team routes read conversations, reviews and tickets: only for people who review. A knowledge editor
    changes documents and sees none of that."""
    if not set(who.roles) - TEAM_ROLES:
        raise HTTPException(403, f"{who.id!r} holds no review role (has: {', '.join(who.roles)})")


def _reviewer_for(request: Request, digest: str) -> Reviewer | None:
    try:
        registry = registry_for(request.app.state.desk.services.settings)
    except ReviewerError:
        return None
    found = None
    for r in registry.reviewers:  # compare against every hash, so timing does not tell which id matched
        if r.token_hash is not None and hmac.compare_digest(digest, r.token_hash):
            found = r
    return found
