"""Planted personal data must not leak into prompts, logs, audit, tickets, checkpoints or Chroma."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys

import pytest

from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.logs import configure
from app.services import Services
from knowledge import pii
from knowledge.ingest import ingest
from knowledge.pii import PLACEHOLDERS, find_pii, luhn_ok, redact, redact_value
from tests.helpers import ROOT, make_settings

TEMPLATES = [
    "Please refund ${amt} for order #{order}. You can reach me at {pii}.",
    "I can't log in, my email is {pii} and I forgot my password",
    "Change the phone on my account, my details: {pii}",
    "Someone charged my card {pii} without permission!",
    "I want to talk to a human. Contact: {pii}",
    "Where is my order #{order}? My SSN is {pii} if you need it",
    "Refund to my bank account {pii} please, order #{order}, amount ${amt}",
    "How do I delete my data? Registered as {pii}",
]


def _card(rng: random.Random) -> str:
    while True:
        digits = "4" + "".join(str(rng.randint(0, 9)) for _ in range(15))
        if luhn_ok(digits):
            return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def planted(n: int = 210, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    makers = [
        lambda: f"{rng.choice(['ana', 'li.wei', 'j.smith', 'omar_k'])}{rng.randint(1, 999)}@example.com",
        lambda: f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        lambda: f"(555) {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        lambda: _card(rng),
        lambda: f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        lambda: "DE89 3704 0044 0532 0130 00" if rng.random() < 0.5 else "GB82 WEST 1234 5698 7654 32",
    ]
    out = []
    for i in range(n):
        secret = makers[i % len(makers)]()
        msg = TEMPLATES[i % len(TEMPLATES)].format(pii=secret, amt=rng.randint(5, 900), order=rng.randint(10000, 99999))
        out.append((msg, secret))
    return out


def test_detector_finds_every_planted_value():
    for msg, secret in planted():
        assert secret not in redact(msg), msg
        assert find_pii(msg), msg


def test_no_leaks_anywhere(data_dir, caplog, tmp_path):
    configure("DEBUG")
    caplog.set_level(logging.DEBUG, logger="supportflow")
    fake = ScriptedChatModel(responder=echo_responder)
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=fake, research=fake))
    desk = SupportDesk(services=svc)
    cases = planted()
    assert len(cases) >= 200
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leaky.md").write_text(
        "# Escalations\n## Contacts\nWrite to " + cases[0][1] + " or call " + cases[1][1] + ".")
    ingest([docs], svc.store(), svc.embedder)

    for i, (msg, _) in enumerate(cases):
        r = desk.send(msg, thread_id=f"pii-{i}")
        if r.pending_review:
            desk.approve(r.thread_id, reviewer="ana")

    secrets = [s for _, s in cases]
    prompts = "\n".join(c["prompt"] for c in fake.calls)
    assert len(fake.calls) >= len(cases)  # every message went past an LLM
    places = {
        "prompts": prompts,
        "logs": caplog.text,
        "audit": json.dumps(svc.audit.entries()),
        "tickets": json.dumps(svc.tickets.list(limit=10_000)),
        "chroma": json.dumps(svc.store().all_chunks()),
        "checkpoints": "\n".join(json.dumps(desk.history(f"pii-{i}")) for i in range(len(cases))),
    }
    for place, text in places.items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{len(leaked)} planted values leaked into {place}, e.g. {leaked[:3]}"
    # contact details are kept, but only in the vault
    assert any(svc.vault.contacts(f"pii-{i}") for i in range(len(cases)))
    db = svc.settings.checkpoint_db
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # database, WAL and shm files
    assert not [s for s in secrets if s.encode() in raw]


# ---- every format, one table (tests/fixtures/pii_formats.jsonl) -------------------------------------------
FORMATS = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "pii_formats.jsonl").read_text().splitlines()
           if line.strip()]
FORMATS_PII = [row for row in FORMATS if row["kind"]]
LOOKALIKES = [row for row in FORMATS if not row["kind"]]
CONTEXTS = ["Hi, you can reach me via {v}, thanks.", "{v}", "My details ({v}) are on file. Order #55120, refund $40.",
            "You can reach me at {v}."]


def _name(row: dict) -> str:
    return f"{row['kind'] or 'keep'}: {row['format']}"


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


@pytest.mark.parametrize("row", FORMATS_PII, ids=_name)
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


@pytest.mark.parametrize("row", LOOKALIKES, ids=_name)
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


ADVERSARIAL = '''
import sys
sys.path.insert(0, {root!r})
from knowledge.pii import redact
assert redact("7" * 400_000) == "7" * 400_000  # the 20,000-digit message of issue #19, twenty times over
for unit in ["1 ", "0 ", "a.", "a@", "a dot ", "a at ", "b [dot] ", "GB82 ", "GB82", "+1 ", "1-", "123-45-",
             "x.y+z", "(1) ", "4111 ab12 +44 a.b@ at dot 0 ", "555-201-3344 x1 ", "2026-11-29 ", "a" * 50 + " at ",
             "me at b.c "]:
    redact((unit * (200_000 // len(unit) + 1))[:200_000] + "@")
print("ok")
'''


@pytest.mark.slow
def test_adversarial_inputs_finish_under_a_guard():
    """Pathological shapes at 200,000-400,000 characters. Linear scans finish in seconds; a quadratic one (like
    the amount regex of issue #19, 3 s at 20,000 digits) would need many minutes, so the subprocess timeout guards
    against backtracking without asserting on speed."""
    done = subprocess.run([sys.executable, "-c", ADVERSARIAL.format(root=str(ROOT))], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_every_format_stays_out_of_storage(data_dir, caplog):
    """Each format of the table, sent through the desk, is absent from the checkpoint database files, tickets,
    audit trail and logs (the vault keeps contact details, as designed)."""
    configure("DEBUG")
    caplog.set_level(logging.DEBUG, logger="supportflow")
    fake = ScriptedChatModel(responder=echo_responder)
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=fake, research=fake))
    desk = SupportDesk(services=svc)
    rng = random.Random(19)
    for i, row in enumerate(FORMATS_PII):
        msg = TEMPLATES[i % len(TEMPLATES)].format(pii=row["value"], amt=rng.randint(5, 900),
                                                   order=rng.randint(10000, 99999))
        r = desk.send(msg, thread_id=f"fmt-{i}")
        if r.pending_review:
            desk.approve(r.thread_id, reviewer="ana")
    assert svc.tickets.list(limit=10_000), "no ticket was opened: the ticket path went untested"
    places = {
        "prompts": "\n".join(c["prompt"] for c in fake.calls),
        "logs": caplog.text,
        "audit": json.dumps(svc.audit.entries()),
        "tickets": json.dumps(svc.tickets.list(limit=10_000)),
        "checkpoints": "\n".join(json.dumps(desk.history(f"fmt-{i}")) for i in range(len(FORMATS_PII))),
    }
    values = [row.get("found", row["value"]) for row in FORMATS_PII]
    for place, text in places.items():
        leaked = [v for v in values if v in text]
        assert not leaked, f"{len(leaked)} formats stored raw in {place}: {leaked[:5]}"
    db = svc.settings.checkpoint_db
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert not [v for v in values if v.encode() in raw]
