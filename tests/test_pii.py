"""Planted personal data must not leak into prompts, logs, audit, tickets, checkpoints or Chroma."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from agents.compliance.reviewers import hash_token
from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.logs import configure
from app.services import Services
from app.store.tickets import TicketStore
from knowledge import pii
from knowledge.ingest import ingest
from knowledge.pii import PLACEHOLDERS, find_pii, luhn_ok, redact, redact_value
from tests.helpers import ROOT, free_port, langgraph_dev, make_settings, server
from tests.stub_openai import OpenAIStub, completion, tool_reply

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


def _echo_desk(data_dir, caplog) -> tuple[Services, SupportDesk, ScriptedChatModel]:
    """LLM mode on a model that echoes its prompt back (so anything that reaches a prompt reaches storage too),
    with the app's DEBUG logs captured: the widest net for a leak."""
    configure("DEBUG")
    caplog.set_level(logging.DEBUG, logger="supportflow")
    fake = ScriptedChatModel(responder=echo_responder)
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=fake, research=fake))
    return svc, SupportDesk(services=svc), fake


def test_no_leaks_anywhere(data_dir, caplog, tmp_path):
    svc, desk, fake = _echo_desk(data_dir, caplog)
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


def _format_messages() -> list[tuple[int, dict, str]]:
    """Each format of the table planted in a customer message: (index, row, message), the same on every path."""
    rng = random.Random(19)
    return [(i, row, TEMPLATES[i % len(TEMPLATES)].format(pii=row["value"], amt=rng.randint(5, 900),
                                                          order=rng.randint(10000, 99999)))
            for i, row in enumerate(FORMATS_PII)]


def _secret(row: dict) -> str:
    return row.get("found", row["value"])


def _leaks(places: dict[str, str | bytes], values: list[str]) -> dict[str, list[str]]:
    out = {}
    for place, text in places.items():
        leaked = [v for v in values if (v.encode() if isinstance(text, bytes) else v) in text]
        if leaked:
            out[place] = leaked[:5]
    return out


def _raw(*paths: Path) -> bytes:
    """Database files as they lie on disk, with their WAL and shared-memory companions."""
    return b"".join(p.read_bytes() for db in paths for p in db.parent.glob(db.name + "*") if p.is_file())


def test_every_format_stays_out_of_storage(data_dir, caplog):
    """Each format of the table, sent through the desk, is absent from the checkpoint database files, tickets,
    audit trail and logs (the vault keeps contact details, as designed)."""
    svc, desk, fake = _echo_desk(data_dir, caplog)
    for i, _, msg in _format_messages():
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
        "database files": _raw(svc.settings.checkpoint_db),
    }
    assert not _leaks(places, [_secret(row) for row in FORMATS_PII])


CASES = [pytest.param(i, row, msg, id=_name(row)) for i, row, msg in _format_messages()]


# ---- the same table through the HTTP API and through the graph served by `langgraph dev` ---------------------
# One server per path for the whole module; each format is one case, sent and checked on its own.
CHANNEL_KEY = "pii-channel-key"
CHANNEL = {"Authorization": f"Bearer {CHANNEL_KEY}"}
REVIEWER = {"Authorization": "Bearer demo-ana"}  # may approve every queue in app/config/reviewers.yaml


def _echo_llm(req: dict):
    """The scripted model's answers (echo_responder) from the local OpenAI-compatible stub; refunds with an amount
    and an order number are triaged as refund requests, so the large ones pause for review."""
    tool = req["tools"][0]["function"]["name"] if req.get("tools") else None
    msgs = [SystemMessage(str(m.get("content") or "")) if m["role"] == "system" else
            HumanMessage(str(m.get("content") or "")) for m in req["messages"]]
    reply = echo_responder(tool, msgs)
    refund = re.search(r"refund.*?\$(\d+).*?#(\d+)|refund.*?#(\d+).*?\$(\d+)", str(msgs[-1].content), re.I | re.S)
    if tool == "TriageResult" and refund:  # refunds are triaged as such, so some pause for review
        amount, order = (refund[1], refund[2]) if refund[1] else (refund[4], refund[3])
        reply = {"intent": "refund_request", "confidence": 0.95, "amount": float(amount), "order_id": order,
                 "is_request": True}
    if isinstance(reply, dict):
        return tool_reply(reply)
    return lambda r: (200, completion(r, {"role": "assistant", "content": str(reply.content)}, 50, 5), {})


@pytest.fixture(scope="module")
def api(template_dir, tmp_path_factory):
    """`python -m app serve` in LLM mode against the stub, on a copy of the ingested data directory."""
    base = tmp_path_factory.mktemp("pii-api")
    data = base / "data"
    shutil.copytree(template_dir, data)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with OpenAIStub(_echo_llm) as stub:
        env = {**{k: v for k, v in os.environ.items() if k != "SUPPORT_DATABASE_URL"},
               "SUPPORT_DATA_DIR": str(data), "SUPPORT_OFFLINE": "false", "SUPPORT_OPENAI_BASE_URL": stub.url,
               "SUPPORT_OPENAI_API_KEY": "stub", "SUPPORT_TRIAGE_CONFIDENCE": "0.999", "SUPPORT_LOG_LEVEL": "DEBUG",
               "SUPPORT_API_KEYS": f"web={hash_token(CHANNEL_KEY)}"}

        def ready():
            assert httpx.get(f"{url}/readyz", timeout=2).status_code == 200

        with server([sys.executable, "-m", "app", "serve", "--port", str(port)], ROOT, env, base / "api.log", ready,
                    "the HTTP API"), httpx.Client(base_url=url, timeout=120) as client:
            yield SimpleNamespace(client=client, data=data, stub=stub, log=base / "api.log", sent={})


def _send_http(api, i: int, row: dict, msg: str) -> str:
    """One message; a paused action is approved with a reviewer's note that carries the value again."""
    tid = f"http-{i}"
    r = api.client.post("/v1/messages", headers=CHANNEL,
                        json={"message": msg, "thread_id": tid, "message_id": f"m-{i}"})
    assert r.status_code == 200 and r.json()["outcome"] != "error", r.text
    if r.json()["pending_review"]:
        done = api.client.post(f"/v1/reviews/{tid}/approve", headers=REVIEWER,
                               json={"note": f"called the customer on {row['value']}"})
        assert done.status_code == 200 and done.json()["outcome"] == "ticket_created", done.text
    api.sent[i] = tid
    return tid


@pytest.mark.slow
@pytest.mark.parametrize(("i", "row", "msg"), CASES)
def test_every_format_stays_out_of_storage_through_the_http_api(api, i, row, msg):
    secret, tid = _secret(row), _send_http(api, i, row, msg)
    settings = make_settings(api.data)
    places = {
        "thread": api.client.get(f"/v1/threads/{tid}", headers=CHANNEL).text,
        "audit": api.client.get(f"/v1/threads/{tid}/audit", headers=REVIEWER).text,
        "tickets": api.client.get("/v1/tickets", headers=REVIEWER, params={"thread_id": tid}).text,
        "prompts": json.dumps([q["body"] for q in api.stub.requests], ensure_ascii=False),
        "checkpoint and app database files": _raw(settings.checkpoint_db, settings.app_db),
        "server log": api.log.read_bytes(),
    }
    assert api.stub.requests, "no prompt reached the model: the LLM path went untested"
    assert not _leaks(places, [secret])
    assert PLACEHOLDERS[row["kind"]] in places["thread"]  # the message was stored, redacted
    if row["kind"] in ("email", "phone"):  # contact details are kept, in the vault only: the scan sees raw values
        assert secret.encode() in _raw(settings.vault_db)


@pytest.mark.slow
def test_the_http_path_paused_for_review_and_opened_tickets(api):
    """The cases above went through review and ticketing, not only answers (formats not yet sent are sent now)."""
    for i, row, msg in _format_messages():
        if i not in api.sent:
            _send_http(api, i, row, msg)
    tickets = api.client.get("/v1/tickets", headers=REVIEWER).json()
    assert tickets and {t["thread_id"] for t in tickets} <= set(api.sent.values())
    decided = [tid for tid in api.sent.values()
               if any(e["event"] == "review_decision" for e in api.client.get(f"/v1/threads/{tid}/audit",
                                                                                headers=REVIEWER).json())]
    assert decided, "no message paused for review: the reviewer-note path went untested"


@pytest.fixture(scope="module")
def served(template_dir, tmp_path_factory):
    """`langgraph dev` serving the repo's graphs (offline) on a copy of the ingested data directory."""
    base = tmp_path_factory.mktemp("pii-served")
    data = base / "data"
    shutil.copytree(template_dir, data)
    ctx = langgraph_dev(base, data)
    client, project = ctx.__enter__()
    state = SimpleNamespace(client=client, data=data, project=project, sent={}, running=True)
    state.stop = lambda: (ctx.__exit__(None, None, None), setattr(state, "running", False))
    yield state
    if state.running:
        state.stop()


def _send_served(served, i: int, row: dict, msg: str) -> str:
    """One run of the supervisor; a paused refund is approved with a note that carries the value again."""
    c = served.client
    tid = c.threads.create()["thread_id"]
    out = c.runs.wait(tid, "supervisor", input={"messages": [{"role": "user", "content": msg}]})
    if c.threads.get_state(tid)["next"]:
        out = c.runs.wait(tid, "supervisor", command={"resume": {"decisions": [
            {"type": "approve", "reviewer": "ana", "token": "demo-ana", "note": f"called {row['value']}"}]}})
        assert out["outcome"] == "ticket_created", out
    assert out["outcome"] != "error", out
    served.sent[i] = tid
    return tid


@pytest.mark.slow
@pytest.mark.parametrize(("i", "row", "msg"), CASES)
def test_every_format_stays_out_of_storage_through_the_served_graph(served, i, row, msg):
    tid = _send_served(served, i, row, msg)
    c, settings = served.client, make_settings(served.data)
    places = {
        "checkpoints": json.dumps([c.threads.get_state(tid), c.threads.get_history(tid, limit=100)],
                                  ensure_ascii=False),
        "tickets and audit database files": _raw(settings.app_db),
    }
    assert not _leaks(places, [_secret(row)])
    assert PLACEHOLDERS[row["kind"]] in places["checkpoints"]  # the message was stored, redacted


@pytest.mark.slow
def test_the_served_graph_leaves_no_format_in_any_file_once_stopped(served):
    """The dev server keeps its checkpoints in memory and writes them to disk on a timer and at shutdown: stop it,
    then read every file it and the graphs wrote. Formats the cases above did not send are sent here first."""
    for i, row, msg in _format_messages():
        if i not in served.sent:
            _send_served(served, i, row, msg)
    assert TicketStore(make_settings(served.data).app_db).list(), "no ticket: the ticket path went untested"
    served.stop()
    files = [p for root in (served.project, served.data) for p in root.rglob("*") if p.is_file()]
    assert any(".langgraph_api" in p.parts for p in files), "the server wrote no checkpoint file to read"
    leaks = {str(p): leaked for p in files for leaked in [_leaks({"f": p.read_bytes()},
                                                               [_secret(r) for r in FORMATS_PII])] if leaked}
    assert not leaks
