"""Planted personal data must not leak into prompts, logs, audit, tickets, checkpoints or Chroma."""

from __future__ import annotations

import json
import logging
import random

from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.logs import configure
from app.services import Services
from knowledge.ingest import ingest
from knowledge.pii import find_pii, luhn_ok, redact
from tests.helpers import make_settings

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
