"""Slot values that make sense for their type, or a question that says what was wrong.

A value is checked by what it is, with the maintained validators the shop itself uses: an email address by
email-validator (syntax only: nothing is looked up), a phone number by phonenumbers, a name by its shape (words of
letters, not a sentence: "still in my maiden name, can you update it" is a request about a name, not one). A value
that fails is not used; the customer is asked again, told what did not fit, and the next reply fills the slot.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Something the customer meant as an email address: an @ between text, or a "name.domain.tld" without one.
EMAIL_LIKE = re.compile(r"[^\s<>(),;:\"']*@[^\s<>(),;:\"']*|\b[\w.+-]+\.(?:com|net|org|co\.uk|de|fr|it|es|nl|pt)\b",
                        re.I)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:[-'’][^\W\d_]+)*\.?$")
# Particles of names ("van der Berg", "de la Cruz", "da Silva"), which are not sentence words there.
_PARTICLES = {"de", "del", "della", "der", "den", "van", "von", "da", "di", "du", "la", "le", "dos", "das", "y", "bin",
              "al", "el", "ter", "ten", "zu", "st"}
_NOT_NAME = (ENGLISH_STOP_WORDS - _PARTICLES) | {"update", "change", "name", "please", "pls", "account", "maiden",
                                                 "still", "new", "old", "married", "surname"}


def email_problem(text: str) -> str | None:
    """Why the email-like text of a message is not an address, or None when there is none or it is fine."""
    found = EMAIL_LIKE.search(text)
    if not found:
        return None
    try:
        validate_email(found.group().strip(".,"), check_deliverability=False)
    except EmailNotValidError as exc:
        return f"“{found.group()}” doesn't look like a valid email address ({str(exc).rstrip('.')})"
    return None


def phone_problem(value: str, region: str | None = None) -> str | None:
    try:
        number = phonenumbers.parse(value, region or "US")
    except phonenumbers.NumberParseException:
        return f"“{value}” doesn't look like a phone number"
    if not phonenumbers.is_valid_number(number):
        return f"“{value}” doesn't look like a complete phone number; please include the country code (like +44)"
    return None


def name_problem(value: str) -> str | None:
    words = value.split()
    if not 1 <= len(words) <= 5 or not all(_NAME_WORD.match(w) for w in words) \
            or any(w.lower().strip(".") in _NOT_NAME for w in words):
        return f"“{value}” doesn't look like a name"
    return None


def problem(field: str | None, value: str | None) -> str | None:
    """Why `value` cannot be the new `field`, or None. Redacted values ([EMAIL], [PHONE]) were recognised as such
    when the message came in, and are fine."""
    if not value or value.startswith("["):
        return None
    if field == "phone":
        return phone_problem(value)
    if field == "name":
        return name_problem(value)
    if field == "email":
        return email_problem(value) or (None if "@" in value else f"“{value}” doesn't look like an email address")
    return None
