"""The personal-data detector and redaction on their own (knowledge/pii.py): every planted value and every format
of the table is found whole and redacted, look-alikes survive, and the work stays bounded on long inputs. That
none of it reaches storage through the desk, the HTTP API or the served graph is tests/system/test_pii.py."""

from __future__ import annotations

import pytest

from knowledge import pii
from knowledge.pii import PLACEHOLDERS, find_pii, redact, redact_value
from tests.pii_cases import FORMATS_PII, LOOKALIKES, case_id, planted


def test_detector_finds_every_planted_value():
    for msg, secret in planted():
        assert secret not in redact(msg), msg
        assert find_pii(msg), msg


CONTEXTS = ["Hi, you can reach me via {v}, thanks.", "{v}", "My details ({v}) are on file. Order #55120, refund $40.",
            "You can reach me at {v}."]


def test_the_table_covers_every_family():
    assert len(FORMATS_PII) >= 60
    described = [(row["kind"], f"{row['format']} {row['value']}".lower()) for row in FORMATS_PII]
    for kind, words in {"card": ["spaces", "dashes", "dots", "slashes", "no separators", "amex 15"],
                        "phone": ["US", "no separators", "+44", "+49", "+33", "+34", "+91", "(0)", "extension"],
                        "iban": ["GB", "DE", "FR", "ES", "NL", "lowercase", "dashed", "spaced"],
                        "ssn": ["dashes", "spaces", "dots"],
                        "email": ["plain", "plus", "subdomains", "uppercase", "obfuscated"]}.items():
        for word in words:
            assert any(k == kind and word.lower() in text for k, text in described), (kind, word)


@pytest.mark.parametrize("row", FORMATS_PII, ids=case_id)
def test_every_format_is_found_whole_and_redacted(row):
    secret = row.get("found", row["value"])  # "found" when the value carries a label that stays ("SSN: ...")
    for context in CONTEXTS:
        text = context.format(v=row["value"])
        out = redact(text)
        assert secret not in out and PLACEHOLDERS[row["kind"]] in out, (text, out)
        assert find_pii(text) == {row["kind"]: [secret]}, text  # the whole value, and nothing else
        assert redact(out) == out
        if "#55120" in text:
            assert "#55120" in out and "$40" in out


@pytest.mark.parametrize("row", LOOKALIKES, ids=case_id)
def test_lookalikes_survive(row):
    for context in CONTEXTS:
        text = context.format(v=row["value"])
        assert redact(text) == text and find_pii(text) == {}, (text, redact(text))


def test_redact_value_redacts_strings_at_any_depth_and_leaves_numbers():
    args = {"amount": 120.5, "order_id": "BW-61616", "approved": True, "missing": None, "count": 2,
            "note": "call +44 20 7946 0958", "contacts": ["ana@example.com", {"iban": "de89 3704 0044 0532 0130 00"}],
            "ssn 123-45-6789": ("4111.1111.1111.1111", 7)}
    out = redact_value(args)
    assert out == {"amount": 120.5, "order_id": "BW-61616", "approved": True, "missing": None, "count": 2,
                   "note": "call [PHONE]", "contacts": ["[EMAIL]", {"iban": "[IBAN]"}], "ssn [SSN]": ["[CARD]", 7]}
    assert args["note"] == "call +44 20 7946 0958"  # a copy: the caller's value is untouched
    assert redact_value("name at example dot com") == "[EMAIL]" and redact_value(3.5) == 3.5


def test_redact_value_survives_deep_and_self_referencing_payloads():
    deep: list = ["555-201-3344"]
    for _ in range(20_000):  # far past the recursion limit
        deep = [deep]
    out = redact_value(deep)
    for _ in range(20_000):
        out = out[0]
    assert out == ["[PHONE]"]
    loop: dict = {"email": "ana@example.com"}
    loop["self"] = loop
    copy = redact_value(loop)
    assert copy["email"] == "[EMAIL]" and copy["self"] is copy


def test_phone_matcher_work_is_bounded_on_long_digit_runs(monkeypatch):
    """Linear time by construction: every regex starts only at the start of a run and repeats possessively or
    boundedly, and the phone matcher (the only costly validator) sees at most `_MAX_FAILURES` windows of at most
    `_WINDOW` characters per run that yields nothing. Counted here, not timed."""
    calls: list[int] = []
    real = pii.PhoneNumberMatcher

    def counting(window, region, **kwargs):
        calls.append(len(window))
        return real(window, region, **kwargs)

    monkeypatch.setattr(pii, "PhoneNumberMatcher", counting)
    for text in ("7" * 20_000, "1 " * 10_000, "0 " * 10_000, "+1 " * 7_000, "(0) " * 5_000):
        calls.clear()
        assert redact(text) == text
        assert len(calls) <= pii._MAX_FAILURES * len(pii.REGIONS), (text[:8], len(calls))
        assert max(calls, default=0) <= pii._WINDOW + 17
