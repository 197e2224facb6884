"""Contact details as the shop stores them, checked with maintained validators (email-validator, phonenumbers)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def clean_contact(field: str, value: str) -> tuple[str, str | None]:
    """(the value as stored, None) or (value, why it is refused, in words a customer can act on)."""
    value = " ".join(str(value or "").split())
    if not value:
        return value, f"The new {field} is empty."
    if field == "email":
        try:
            return validate_email(value, check_deliverability=False).normalized, None
        except EmailNotValidError as exc:
            return value, f"That email address doesn't look right: {exc}"
    if field == "phone":
        try:
            number = phonenumbers.parse(value, None if value.startswith("+") else "US")
        except phonenumbers.NumberParseException:
            return value, "That phone number doesn't look right; please give it with its country code (+44 …)."
        if not phonenumbers.is_valid_number(number):
            return value, "That phone number doesn't look right; please give it with its country code (+44 …)."
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
    if len(value) > 200:
        return value, f"The new {field} is too long."
    return value, None
