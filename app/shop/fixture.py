"""The seed file of the sample shop (docs/shop.md): customers and orders, validated before anything is stored.

Dates may be relative ("today-5"), so a fixture stays true to its story (delivered five days ago, inside the return
window) whenever it is loaded. Errors name the file and the item (`orders[3].total`), as every config loader does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

STATUSES = ("placed", "shipped", "delivered", "cancelled")
_RELATIVE = re.compile(r"^today(?:\s*([+-])\s*(\d{1,4}))?$", re.I)


class FixtureError(ValueError):
    """The seed file cannot be loaded; the message names the file and the item."""


def parse_day(value: Any, today: dt.date | None = None) -> str | None:
    """An ISO date (or datetime) or "today", "today-5", "today+2" → an ISO date string; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if m := _RELATIVE.match(text):
        days = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
        return ((today or dt.date.today()) + dt.timedelta(days=days)).isoformat()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (ISO 2026-11-24, or today, today-5, today+2)") from None


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name: str = ""
    email: str | None = None
    phone: str | None = None
    tier: str = "standard"
    verified: bool = False


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sku: str = ""
    name: str
    category: str = ""
    price: float = Field(ge=0)
    quantity: int = Field(1, ge=1, validation_alias=AliasChoices("quantity", "qty"))


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=64)
    customer: str = Field(validation_alias=AliasChoices("customer", "customer_id"))
    status: Literal["placed", "shipped", "delivered", "cancelled"]
    placed: str | None = Field(None, validation_alias=AliasChoices("placed", "placed_at"))
    shipped: str | None = Field(None, validation_alias=AliasChoices("shipped", "shipped_at"))
    delivered: str | None = Field(None, validation_alias=AliasChoices("delivered", "delivered_at"))
    expected: str | None = Field(None, validation_alias=AliasChoices("expected", "expected_delivery"))
    total: float = Field(ge=0)
    currency: str = "USD"
    items: list[Item] = Field(default_factory=list)
    refunded: float = Field(0.0, ge=0, validation_alias=AliasChoices("refunded", "amount_refunded"))
    carrier: str | None = None
    tracking: str | None = Field(None, validation_alias=AliasChoices("tracking", "tracking_number"))

    @field_validator("placed", "shipped", "delivered", "expected", mode="before")
    @classmethod
    def _day(cls, v: Any) -> str | None:
        return parse_day(v)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"{v!r} is not an ISO 4217 code (3 capital letters, like USD)")
        return v

    @model_validator(mode="after")
    def _amounts(self) -> Order:
        if not (math.isfinite(self.total) and math.isfinite(self.refunded)):
            raise ValueError("total and refunded must be finite numbers")
        if self.refunded > self.total + 1e-9:
            raise ValueError(f"refunded {self.refunded} is more than the total {self.total}")
        return self


class Fixture(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[Customer] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Fixture:
        for what, ids in (("customer", [c.id for c in self.customers]), ("order", [o.id for o in self.orders])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} id(s): {', '.join(dupes)}")
        known = {c.id for c in self.customers}
        for i, order in enumerate(self.orders):
            if order.customer not in known:
                raise ValueError(f"orders[{i}] ({order.id}): unknown customer {order.customer!r}")
        return self


def load_fixture(path: str | Path) -> Fixture:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return Fixture.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: invalid shop fixture"]
        for err in exc.errors():
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".") or "(file)"
            lines.append(f"  {where}: {err['msg'].removeprefix('Value error, ')}")
        raise FixtureError("\n".join(lines)) from None
