"""The customer directory: the server's own record of who a console customer is (app/config/customers.yaml).

The console cannot take a customer's word for who they are: a checkbox or a typed id would let anyone approve an
account closure or read another customer's conversations. So the console signs a customer in against this file
(an id and a password, checked against a stored hash in constant time) and reads `verified`, `tier` and
`account_age_days` from it, never from the page. Loading follows the reviewer registry: pydantic, errors that name
the file, the customer and the field, reloaded when the file changes.

Demo mode (`settings.demo_mode`, set by `make run`) lets the console offer the customers marked `demo: true`
without a password; `demo_customers` returns none unless it is on, so a page cannot offer them by mistake.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.config import load_model, load_when_changed, repeated
from app.identity import Customer
from app.thread_ids import PersonalIdError, check_not_personal

# scrypt (hashlib, OpenSSL's): salted and memory-hard, so a copied directory does not give the passwords away the
# way a plain digest of a short password would. n=2**14, r=8, p=1: about 16 MB and 30-60 ms a check here.
_HASH = re.compile(r"^scrypt:(?P<n>\d+):(?P<r>\d+):(?P<p>\d+):(?P<salt>[0-9a-f]{32}):(?P<key>[0-9a-f]{64})$")
_COST = (2**14, 8, 1)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Checked against when the id is unknown, so an unknown id takes as long as a wrong password.
_NO_HASH = f"scrypt:{_COST[0]}:{_COST[1]}:{_COST[2]}:{'0' * 32}:{'0' * 64}"

__all__ = ["CustomerDirectoryError", "CustomerSignInError", "Directory", "demo_customers", "directory_for",
           "load_directory", "password_hash", "sign_in"]


class CustomerDirectoryError(ValueError):
    """The customer directory cannot be read or is invalid (the message names the file and the field)."""


class CustomerSignInError(ValueError):
    """Unknown customer or wrong password; the same message for both, so ids cannot be probed."""


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Opaque customer id; stored raw as the owner of the customer's threads.")
    name: str = Field(min_length=1, max_length=200)
    verified: bool = Field(False, description="Identity verified: account changes need it (the policy's rule).")
    tier: Literal["standard", "plus"] = "standard"
    account_age_days: int | None = Field(None, ge=0)
    password_hash: str | None = None
    demo: bool = Field(False, description="Offered without a password in demo mode only.")

    @field_validator("id")
    @classmethod
    def _opaque_id(cls, v: str) -> str:
        try:
            check_not_personal(v, "customer id")
        except PersonalIdError as exc:
            raise ValueError(str(exc)) from None
        if not _ID.match(v):
            raise ValueError("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("password_hash")
    @classmethod
    def _hash_format(cls, v: str | None) -> str | None:
        if v is not None and not _HASH.match(v):
            raise ValueError('must look like "scrypt:<n>:<r>:<p>:<salt hex>:<key hex>" '
                             "(python -m app.customers hash-password)")
        return v

    def customer(self) -> Customer:
        return Customer(id=self.id, verified=self.verified, tier=self.tier,
                        account_age_days=self.account_age_days, name=self.name)


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | str = 1
    customers: list[Entry] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="after")
    def _unique(self) -> Directory:
        dupes = repeated([c.id for c in self.customers])
        if dupes:
            raise ValueError(f"duplicate customer id(s): {', '.join(dupes)}")
        return self

    def find(self, customer_id: str) -> Entry | None:
        return next((c for c in self.customers if c.id == customer_id), None)


def password_hash(password: str, salt: bytes | None = None) -> str:
    """The stored form of a password (`python -m app.customers PASSWORD` prints one)."""
    salt = os.urandom(16) if salt is None else salt
    n, r, p = _COST
    return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{_derive(password, salt, n, r, p).hex()}"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20,
                          dklen=32)


def password_matches(password: str, stored: str) -> bool:
    m = _HASH.match(stored)
    if m is None:
        return False
    n, r, p = int(m["n"]), int(m["r"]), int(m["p"])
    if (n, r, p) != _COST:  # a cost the file could set would let it make every sign-in slow (or trivial)
        return False
    return hmac.compare_digest(_derive(password, bytes.fromhex(m["salt"]), n, r, p).hex(), m["key"])


def load_directory(path: str | Path) -> Directory:
    path = Path(path)
    _, directory = load_model(path, Directory, CustomerDirectoryError, "customer directory", "'customers'",
                              {"customers": "customer"})
    directory.source = str(path)
    return directory


def directory_for(settings: Any) -> Directory:
    """The directory `settings.customers_file` names, reloaded when the file changes."""
    return load_when_changed(Path(settings.customers_file), load_directory, CustomerDirectoryError,
                             "customer directory")


def sign_in(settings: Any, customer_id: str, password: str) -> Customer:
    """The customer whose password matches; CustomerSignInError (one message for every failure) otherwise."""
    customer_id = (customer_id or "").strip()
    if not customer_id or not password:
        raise CustomerSignInError("Enter your customer id and password.")
    entry = directory_for(settings).find(customer_id)
    stored = entry.password_hash if entry is not None and entry.password_hash else _NO_HASH
    matches = password_matches(password, stored)
    if entry is None or entry.password_hash is None or not matches:
        raise CustomerSignInError("Unknown customer id or wrong password.")
    return entry.customer()


def demo_customers(settings: Any) -> list[Customer]:
    """The customers a demo may act as without a password: none unless `settings.demo_mode` is on."""
    if not settings.demo_mode:
        return []
    return [c.customer() for c in directory_for(settings).customers if c.demo]


if __name__ == "__main__":  # python -m app.customers PASSWORD: a password_hash line for the directory
    print(password_hash(sys.argv[1]) if len(sys.argv) == 2 else "usage: python -m app.customers PASSWORD")
