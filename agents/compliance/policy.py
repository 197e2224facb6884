"""Policy-as-code: a YAML rule list validated by a schema and evaluated in code.

The LLM never decides whether approval is needed: it can at most propose an action,
which is then checked here like any other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from babel.numbers import is_currency
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from agents.compliance.money import to_base
from agents.config import load_model


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid; the message names file, rule and field."""


class When(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: list[str] | None = None
    intent: list[str] | None = None
    category: list[str] | None = None
    amount_gt: float | None = None
    amount_lte: float | None = None
    identity_verified: bool | None = None
    tier: list[str] | None = None
    refunds_30d_gte: int | None = Field(None, description="Customer's refunds in the last 30 days, at least.")
    account_age_days_lt: int | None = None
    account_age_days_gte: int | None = None
    risk: list[str] | None = Field(None, description="Any of these risk signals present.")
    currency_rated: bool | None = Field(
        None, description="The action's amount is in a currency with a rate (false: it has none, so no limit "
                          "can judge it).")
    amount_unsure: bool | None = Field(None, description="Triage read the amount with a guess (fact amount_unsure).")
    lookup: list[Literal["found", "not_found", "unverified", "unavailable"]] | None = Field(
        None, description="What reading the named order from the system of record gave (fact lookup): found, "
                          "not_found (missing or another customer's), unverified (no verified customer: nothing is "
                          "read), unavailable. No fact when no order is named or no system is connected.")
    order_status: list[str] | None = Field(None, description="The order's status in the system (placed, shipped, "
                                                             "delivered, cancelled).")
    over_refundable: bool | None = Field(
        None, description="The amount is above what was paid minus what was already refunded (same currency).")
    refundable_lte: float | None = Field(None, description="What can still be refunded, in the order's currency, is "
                                                           "at most this (0: nothing is left).")
    days_since_delivery_gt: int | None = Field(None, description="The order was delivered more than this many days "
                                                                 "ago (the return window).")
    currency_matches_order: bool | None = Field(None, description="The amount is in the order's currency.")
    total_gt: float | None = Field(
        None, description="This action's amount plus fact prior_total (earlier amounts for the same order, thread "
                          "or customer, in the policy currency) is above this.")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    when: When = Field(default_factory=When)
    effect: Literal["allow", "review", "deny"]
    reason: str = ""
    message: str | None = None
    reviewer_role: str | None = None
    queue: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None

    @model_validator(mode="after")
    def _effect_fields(self) -> Rule:
        if self.effect == "review" and not self.reviewer_role:
            raise ValueError("a 'review' rule needs reviewer_role")
        if self.effect == "deny" and not self.message:
            raise ValueError("a 'deny' rule needs message (what the customer is told)")
        return self


def _iso_code(code: str) -> str:
    if not (len(code) == 3 and code.isalpha() and code.isupper() and is_currency(code)):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (like USD, EUR, GBP)")
    return code


Currency = Annotated[str, AfterValidator(_iso_code)]
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, (int, float)) else v)]
    currency: Currency = Field("USD", description="The currency of every amount condition (amount_gt, total_gt…).")
    currency_rates: dict[Currency, Rate] = Field(
        default_factory=dict, description="Units of `currency` per unit of each listed currency. An amount in a "
                                          "currency not listed is never compared with a limit (currency_rated: false).")
    rules: list[Rule] = Field(min_length=1)
    content_hash: str = ""

    @model_validator(mode="after")
    def _base_rate(self) -> Policy:
        if self.currency_rates.setdefault(self.currency, 1.0) != 1.0:
            raise ValueError(f"currency_rates.{self.currency} must be 1 ({self.currency} is the policy currency)")
        return self

    def to_base(self, amount: Any, currency: str | None) -> float | None:
        """An amount in the policy currency, or None when it has no rate (or is not a finite number)."""
        return to_base(amount, currency, self.currency_rates, self.currency)

    @property
    def version_id(self) -> str:
        return f"{self.version}@{self.content_hash[:12]}"

    def explain(self, action: dict[str, Any], facts: dict[str, Any]) -> list[tuple[str, list[str]]]:
        """Each rule in order with the conditions that failed (empty list = it matched)."""
        return [(rule.id, _failed(rule.when, action, facts, self)) for rule in self.rules]

    def evaluate(self, action: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
        """First matching rule wins; returns the decision fields recorded in state."""
        for rule in self.rules:
            if not _failed(rule.when, action, facts, self):
                return {
                    "effect": rule.effect,
                    "rule_id": rule.id,
                    "policy_version": self.version_id,
                    "reason": rule.reason,
                    "message": rule.message,
                    "reviewer_role": rule.reviewer_role,
                    "queue": rule.queue,
                    "priority": rule.priority,
                }
        raise PolicyError(f"no rule matched action {action.get('name')!r}; add a catch-all rule")


def _failed(w: When, action: dict[str, Any], facts: dict[str, Any], policy: Policy) -> list[str]:
    """Names of the conditions that do not hold; a condition on a missing value does not hold. Amounts are
    compared in the policy currency: one without a rate matches no amount condition, only currency_rated."""
    args = action.get("args", {})
    raw = args.get("amount")
    amount = policy.to_base(raw, args.get("currency"))
    prior = facts.get("prior_total")
    total = amount + prior if amount is not None and isinstance(prior, (int, float)) else None
    age = facts.get("account_age_days")
    checks = {
        "action": w.action is None or action.get("name") in w.action,
        "intent": w.intent is None or facts.get("intent") in w.intent,
        "category": w.category is None or facts.get("category") in w.category,
        "amount_gt": w.amount_gt is None or (amount is not None and amount > w.amount_gt),
        "amount_lte": w.amount_lte is None or (amount is not None and amount <= w.amount_lte),
        "identity_verified": w.identity_verified is None or bool(facts.get("identity_verified")) == w.identity_verified,
        "tier": w.tier is None or facts.get("tier") in w.tier,
        "refunds_30d_gte": w.refunds_30d_gte is None or facts.get("refunds_30d", 0) >= w.refunds_30d_gte,
        "account_age_days_lt": w.account_age_days_lt is None or (age is not None and age < w.account_age_days_lt),
        "account_age_days_gte": w.account_age_days_gte is None or (age is not None and age >= w.account_age_days_gte),
        "risk": w.risk is None or bool(set(w.risk) & set(facts.get("risk", []))),
        "currency_rated": w.currency_rated is None or (raw is None or amount is not None) == w.currency_rated,
        "amount_unsure": w.amount_unsure is None or bool(facts.get("amount_unsure")) == w.amount_unsure,
        "total_gt": w.total_gt is None or (total is not None and total > w.total_gt),
        "lookup": w.lookup is None or facts.get("lookup") in w.lookup,
        "order_status": w.order_status is None or facts.get("order_status") in w.order_status,
        "over_refundable": w.over_refundable is None or facts.get("over_refundable") == w.over_refundable,
        "refundable_lte": w.refundable_lte is None or (facts.get("refundable") is not None
                                                       and facts["refundable"] <= w.refundable_lte),
        "days_since_delivery_gt": w.days_since_delivery_gt is None or (
            facts.get("days_since_delivery") is not None and facts["days_since_delivery"] > w.days_since_delivery_gt),
        "currency_matches_order": w.currency_matches_order is None
        or facts.get("currency_matches_order") == w.currency_matches_order,
    }
    return [name for name, ok in checks.items() if not ok]


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    raw_text, policy = load_model(path, Policy, PolicyError, "policy", "'version' and 'rules'", {"rules": "rule"})
    ids = [r.id for r in policy.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PolicyError(f"{path}: duplicate rule id(s): {', '.join(dupes)}")
    policy.content_hash = hashlib.sha256(raw_text.encode()).hexdigest()
    return policy
