"""The trust boundaries of issue #25 over real HTTP (`python -m app serve`, uvicorn), on SQLite and PostgreSQL:
two channels (`web`, which signs its customers, and `email`, which does not), each finding of the issue replayed."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time

import httpx
import jwt
import pytest
import yaml

from agents.compliance.reviewers import hash_token
from tests.helpers import ROOT, free_port, fresh_database, server, sse_events

pytestmark = pytest.mark.slow
WEB, EMAIL, SECRET = "web-key-1", "email-key-1", "web-signing-secret-0123456789abcdef"
REFUND = "I want a refund of $900 for order #55120"
TEAM_FIELDS = ("reviewer_role", "queue", "rule_id", "max_amount", "customer_notes", "pending_review", "policy")


def token(sub: str, verified: bool = True, secret: str = SECRET, **claims) -> str:
    now = int(time.time())
    body = {"sub": sub, "aud": "supportflow", "iat": now, "exp": now + 600, "verified": verified, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request, template_dir, tmp_path_factory):
    """One server per backend for the whole module (each test makes its own threads and ids)."""
    tmp_path = tmp_path_factory.mktemp(f"boundaries-{request.param}")
    data_dir = tmp_path / "data"
    shutil.copytree(template_dir, data_dir)
    keys = tmp_path / "channels.yaml"
    keys.write_text(yaml.safe_dump({"channels": [
        {"id": "web", "key_hash": hash_token(WEB), "customer_tokens": {"secret_env": "WEB_CUSTOMER_SECRET"}},
        {"id": "email", "key_hash": hash_token(EMAIL)}]}))
    env = {k: v for k, v in os.environ.items() if k != "SUPPORT_DATABASE_URL"}
    env.update({"SUPPORT_OFFLINE": "true", "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_API_KEYS_FILE": str(keys),
                "WEB_CUSTOMER_SECRET": SECRET, "SUPPORT_RATE_LIMIT": ""})
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            env["SUPPORT_DATABASE_URL"] = stack.enter_context(fresh_database())
        port = free_port()
        url = f"http://127.0.0.1:{port}"

        def ready():
            if httpx.get(f"{url}/readyz", timeout=2).status_code != 200:
                raise RuntimeError("starting")

        cmd = [sys.executable, "-m", "app", "serve", "--port", str(port)]
        stack.enter_context(server(cmd, ROOT, env, tmp_path / "api.log", ready, "api"))
        yield stack.enter_context(httpx.Client(base_url=url, timeout=120))


def auth(key: str, customer: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {key}"}
    if customer:
        headers["X-Customer-Token"] = customer
    return headers


def sse(c: httpx.Client, headers: dict, **body) -> tuple[int, list[tuple[str, dict]]]:
    with c.stream("POST", "/v1/messages/stream", headers=headers, json=body) as r:
        text = "".join(r.iter_text())
    return r.status_code, sse_events(text) if r.status_code == 200 else []


def test_another_channel_gets_404_everywhere_and_sees_no_team_fields(api):
    sent = api.post("/v1/messages", headers=auth(WEB), json={"message": REFUND})
    assert sent.status_code == 200 and sent.json()["with_team"], sent.text
    tid = sent.json()["thread_id"]
    assert not any(f in sent.json() for f in TEAM_FIELDS)
    own = api.get(f"/v1/threads/{tid}", headers=auth(WEB)).json()
    assert not any(f in own for f in TEAM_FIELDS) and own["messages"]
    assert api.get(f"/v1/threads/{tid}", headers=auth(EMAIL)).status_code == 404
    note = api.post("/v1/messages", headers=auth(EMAIL), json={"message": "VIP, please approve", "thread_id": tid})
    assert note.status_code == 404
    cancel = {"message": "never mind, cancel that request", "thread_id": tid}
    assert api.post("/v1/messages", headers=auth(EMAIL), json=cancel).status_code == 404
    assert sse(api, auth(EMAIL), **cancel)[0] == 404
    assert api.get(f"/v1/threads/{tid}/audit", headers=auth(EMAIL)).status_code == 404
    assert api.get(f"/v1/threads/{tid}/audit", headers=auth(WEB)).status_code == 404  # team data, even its own
    inbox = api.get("/v1/reviews", headers=auth("demo-ana")).json()
    item = next(i for i in inbox if i["thread_id"] == tid)  # still pending, with no note from the other channel
    assert not item.get("customer_notes")


def test_another_signed_customer_gets_404(api):
    jane, john = auth(WEB, token("cus-jane")), auth(WEB, token("cus-john"))
    tid = api.post("/v1/messages", headers=jane, json={"message": REFUND}).json()["thread_id"]
    assert api.get(f"/v1/threads/{tid}", headers=john).status_code == 404
    assert api.get(f"/v1/threads/{tid}", headers=auth(WEB)).status_code == 404  # anonymous
    assert api.post("/v1/messages", headers=john, json={"message": "cancel that", "thread_id": tid}).status_code == 404
    assert api.get(f"/v1/threads/{tid}", headers=jane).status_code == 200


def test_customer_facts_in_the_body_are_ignored(api):
    body = {"message": "Please close my account", "customer": {"id": "cus-x", "verified": True, "tier": "plus"}}
    closed = api.post("/v1/messages", headers=auth(EMAIL), json=body)
    assert closed.status_code == 200
    assert "verif" in closed.json()["answer"].lower() and not closed.json()["ticket_id"]
    signed = api.post("/v1/messages", headers=auth(WEB, token("cus-ver")), json={"message": "Please close my account"})
    assert signed.json()["ticket_id"]


def test_four_refunds_with_different_body_ids_are_not_four_fresh_customers(api):
    outcomes = []
    for i in range(4):
        body = {"message": f"I want a refund of $450 for order #{61400 + i}, it arrived broken",
                "customer": {"id": f"cus-{i}", "verified": True}}
        outcomes.append(api.post("/v1/messages", headers=auth(EMAIL), json=body).json()["with_team"])
    assert outcomes == [False, True, True, True]


@pytest.mark.parametrize("bad", [dict(secret="another-secret-0123456789abcdef0123"), dict(exp=1),
                                 dict(aud="someone-else")])
def test_a_forged_expired_or_misaddressed_token_is_refused(api, bad):
    bad = dict(bad)  # the parameter is shared by both backends' runs
    secret = bad.pop("secret", SECRET)
    r = api.post("/v1/messages", headers=auth(WEB, token("cus-jane", secret=secret, **bad)),
                 json={"message": "Please close my account"})
    assert r.status_code == 401 and "customer token" in r.json()["error"]
    no_key = api.post("/v1/messages", headers=auth(EMAIL, token("cus-jane")), json={"message": "hi"})
    assert no_key.status_code == 401 and "no customer token key" in no_key.json()["error"]


def test_a_retried_message_id_is_one_turn_and_other_text_is_a_409(api):
    body = {"message": "I want a refund of $120 for order #61501, it arrived broken", "message_id": "m-77"}
    first = api.post("/v1/messages", headers=auth(WEB), json=body).json()
    again = api.post("/v1/messages", headers=auth(WEB), json=body).json()
    assert first["thread_id"] == again["thread_id"] and first["ticket_id"] == again["ticket_id"]
    tickets = api.get("/v1/tickets", headers=auth("demo-ana"), params={"thread_id": first["thread_id"]}).json()
    assert len(tickets) == 1
    other = api.post("/v1/messages", headers=auth(WEB), json={**body, "message": "Refund $400 for order #61502"})
    assert other.status_code == 409 and "different message" in other.json()["error"]
    status, events = sse(api, auth(WEB), **{**body, "message": "Something else"})
    assert status == 409


@pytest.mark.parametrize("field,value", [("thread_id", "jane.roe@example.com"), ("message_id", "4111111111111111"),
                                         ("thread_id", "+1 415 555 0100")])
def test_ids_that_look_like_personal_data_are_a_400(api, field, value):
    r = api.post("/v1/messages", headers=auth(WEB), json={"message": "How do I reset my password?", field: value})
    assert r.status_code == 400 and "personal data" in r.json()["error"] and value not in r.text
    signed = api.post("/v1/messages", headers=auth(WEB, token("jane.roe@example.com")), json={"message": "hi"})
    assert signed.status_code == 400 and "personal data" in signed.json()["error"]


def test_the_stream_takes_its_message_in_the_body(api):
    assert api.get("/v1/messages/stream", headers=auth(WEB),
                   params={"message": "my card is 4111 1111 1111 1111"}).status_code == 405
    status, events = sse(api, auth(WEB), message="How do I reset my password?")
    assert status == 200 and events[-1][0] == "result" and not any(f in events[-1][1] for f in TEAM_FIELDS)


def test_a_knowledge_editor_token_reads_no_threads_reviews_or_tickets(api):
    tid = api.post("/v1/messages", headers=auth(WEB), json={"message": REFUND}).json()["thread_id"]
    for path in (f"/v1/threads/{tid}", "/v1/reviews", "/v1/tickets", f"/v1/threads/{tid}/audit"):
        r = api.get(path, headers=auth("demo-kim"))
        assert r.status_code == 403 and "no review role" in r.json()["error"], (path, r.text)
    assert api.get(f"/v1/threads/{tid}", headers=auth("demo-ana")).json()["pending_review"]  # the team sees it
