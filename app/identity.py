"""Who is asking: the caller of a turn (`Principal`) and the customer it speaks for (`Customer`).

A customer's identity comes from a signature or from the server's own record, never from what a request says:
an HTTP channel sends a JWT signed with its own secret or private key (`verify_customer_token`, PyJWT: signature,
expiry, audience and, when configured, issuer), the console signs customers in against the customer directory
(app/customers.py). `verified`, `tier` and the customer id that per-customer totals count by are read only from
there. Without either the customer is anonymous: no per-customer facts, and the policy denies account changes
(`identity_verified` is false).

The same `Customer` is what a connector to the company's systems is scoped to: a lookup of orders or accounts
takes `principal.customer.id`, so a conversation can only ever reach its own customer's records.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, model_validator

TIERS = ("standard", "plus")


@dataclass(frozen=True)
class Customer:
    id: str | None = None  # None: anonymous
    verified: bool = False
    tier: str = "standard"
    account_age_days: int | None = None
    name: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.id is None

    def facts(self) -> dict[str, Any]:
        """The thread's `customer` state: what compliance rules and per-customer totals may read."""
        out: dict[str, Any] = {"verified": self.verified, "tier": self.tier}
        if self.id is not None:
            out["id"] = self.id
        if self.account_age_days is not None:
            out["account_age_days"] = self.account_age_days
        return out


ANONYMOUS = Customer()


@dataclass(frozen=True)
class Principal:
    """The caller of an operation. `channel` owns the threads it creates; `trusted` callers (the server's own
    code: the Python API, the CLI, team pages, reviewers) may open any thread and state customer facts."""

    channel: str
    customer: Customer = field(default=ANONYMOUS)
    trusted: bool = False

    def customer_facts(self) -> dict[str, Any]:
        """The customer facts a turn runs with. Anonymous customers of one channel count as one customer for
        per-customer counts and totals: refunds nobody signed for share one budget instead of each new thread
        starting from zero (four anonymous $450 refunds add up like four from one person)."""
        facts = self.customer.facts()
        if self.customer.anonymous:
            facts["id"] = f"anonymous:{self.channel}"
        return facts

    def may_open(self, owner_channel: str, owner_customer: str | None) -> bool:
        if self.trusted:
            return True
        if owner_channel != self.channel:
            return False
        return owner_customer is None or owner_customer == self.customer.id


LOCAL = Principal("local", trusted=True)


class CustomerTokenError(ValueError):
    """A customer token that does not verify: bad signature, expired, wrong audience or issuer, bad claims."""


class CustomerTokens(BaseModel):
    """How one channel signs its customers: an HS256 secret (from an environment variable, never in the file)
    or a public key file for RS256/ES256 tokens."""

    model_config = ConfigDict(extra="forbid")
    audience: str = Field("supportflow", min_length=1)
    issuer: str | None = None
    algorithms: list[str] = Field(default_factory=lambda: ["HS256"], min_length=1)
    secret_env: str | None = Field(None, description="Environment variable holding the HS256 secret.")
    public_key_file: Path | None = None
    leeway_seconds: int = Field(30, ge=0, le=300)
    max_age_seconds: int = Field(86400, gt=0, description="Tokens issued longer ago than this are refused.")

    @model_validator(mode="after")
    def _one_key(self) -> CustomerTokens:
        if (self.secret_env is None) == (self.public_key_file is None):
            raise ValueError("give exactly one of secret_env (HS256) and public_key_file (RS256/ES256)")
        if "none" in {a.lower() for a in self.algorithms}:
            raise ValueError("algorithm 'none' is not allowed")
        symmetric = {a for a in self.algorithms if a.upper().startswith("HS")}
        if self.secret_env and symmetric != set(self.algorithms):
            raise ValueError("secret_env goes with HS* algorithms only")
        if self.public_key_file and symmetric:
            raise ValueError("a public key goes with RS*/ES*/PS*/EdDSA algorithms, not HS*")
        return self

    def key(self) -> str:
        if self.secret_env:
            secret = os.environ.get(self.secret_env)
            if not secret:
                raise CustomerTokenError(f"the channel's token secret ({self.secret_env}) is not set on the server")
            return secret
        return Path(self.public_key_file).read_text(encoding="utf-8")  # type: ignore[arg-type]


def verify_customer_token(token: str, config: CustomerTokens, check_id) -> Customer:
    """The customer a channel's signed token names. `check_id` refuses ids that look like personal data."""
    try:
        claims = jwt.decode(token, config.key(), algorithms=config.algorithms, audience=config.audience,
                            issuer=config.issuer, leeway=config.leeway_seconds,
                            options={"require": ["exp", "iat", "sub", "aud"]})
    except jwt.PyJWTError as exc:
        raise CustomerTokenError(f"customer token refused: {exc}") from None
    if claims["iat"] > time.time() + config.leeway_seconds or time.time() - claims["iat"] > config.max_age_seconds:
        raise CustomerTokenError("customer token refused: issued in the future or too long ago")
    sub, tier, age = claims["sub"], claims.get("tier", "standard"), claims.get("account_age_days")
    if not isinstance(sub, str) or not sub.strip():
        raise CustomerTokenError("customer token refused: `sub` must be the customer id")
    if tier not in TIERS:
        raise CustomerTokenError(f"customer token refused: tier must be one of {', '.join(TIERS)}")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or age < 0):
        raise CustomerTokenError("customer token refused: account_age_days must be a non-negative integer")
    verified = claims.get("verified", False)
    if not isinstance(verified, bool):
        raise CustomerTokenError("customer token refused: `verified` must be true or false")
    return Customer(id=check_id(sub, "customer id"), verified=verified, tier=tier, account_age_days=age)
