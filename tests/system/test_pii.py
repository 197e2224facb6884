"""Planted personal data must not leak into prompts, logs, audit, tickets, checkpoints or Chroma: through the desk,
through the HTTP API and through the graph served by `langgraph dev`. The detector itself is
tests/unit/knowledge/test_pii.py; the shared cases are tests/pii_cases.py."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
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
from knowledge.ingest import ingest
from knowledge.pii import PLACEHOLDERS
from tests.helpers import ROOT, free_port, langgraph_dev, make_settings, server
from tests.pii_cases import FORMATS_PII, TEMPLATES, case_id, planted
from tests.stub_openai import OpenAIStub, completion, tool_reply


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


CASES = [pytest.param(i, row, msg, id=case_id(row)) for i, row, msg in _format_messages()]


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
               "SUPPORT_API_KEYS": f"web={hash_token(CHANNEL_KEY)}", "SUPPORT_RATE_LIMIT": ""}

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
    if r.json()["with_team"]:
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
