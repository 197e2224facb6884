"""Ticket operations over real HTTP (uvicorn processes, httpx): the team works a ticket, the customer sees the reply
in their conversation and reopens it by writing again; the actor is the token's owner and held to the queues they
work (app/ticket_scope.py); two agents replying at once lose nothing, on SQLite and PostgreSQL (across processes:
tests/system/test_ticket_lifecycle.py)."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.system.test_http_api import REFUND, _auth, _env, _serve

pytestmark = pytest.mark.slow
HUMAN = "I want to talk to a human about my order #48213"


def _escalate(c: httpx.Client, thread_id: str) -> str:
    r = c.post("/v1/messages", headers=_auth(), json={"message": HUMAN, "thread_id": thread_id})
    assert r.status_code == 200 and r.json()["outcome"] == "ticket_created", r.text
    return r.json()["ticket_id"]


def test_the_team_works_a_ticket_and_the_customer_reopens_it(data_dir, tmp_path):
    ctx, url = _serve(tmp_path, _env(data_dir))
    with ctx, httpx.Client(base_url=url, timeout=120) as c:
        tid = _escalate(c, "h1")
        path = f"/v1/tickets/{tid}"
        # no token, a wrong one, a channel key: refused, and nothing recorded
        for headers, code in (({}, 401), (_auth("wrong"), 401), (_auth(), 403)):
            for op, body in (("reply", {"message": "hi"}), ("note", {"message": "x"}), ("status", {"to": "open"}),
                             ("assign", {"to": "ana"})):
                r = c.post(f"{path}/{op}", headers=headers, json=body)
                assert r.status_code == code and r.json()["error"], (op, r.text)
            assert c.get(path, headers=headers).status_code == code
        # the actor is the token's owner: a body naming one is refused
        forged = c.post(f"{path}/note", headers=_auth("demo-ana"), json={"message": "x", "actor": "max"})
        assert forged.status_code == 400 and "actor" in forged.json()["error"]
        assert c.get(path, headers=_auth("demo-ana")).json()["events"] == []

        assigned = c.post(f"{path}/assign", headers=_auth("demo-max"), json={"to": "ana"}).json()
        assert (assigned["id"], assigned["status"], assigned["assignee"]) == (tid, "open", "ana")
        assert assigned["event"]["actor"] == "max" and assigned["event"]["kind"] == "assign"
        noted = c.post(f"{path}/note", headers=_auth("demo-ana"), json={"message": "VIP, handle with care"})
        assert noted.status_code == 200 and noted.json()["event"]["kind"] == "note"

        sent = c.post(f"{path}/reply", headers=_auth("demo-ana"),
                      json={"message": "Your parcel is at the depot, it ships today.", "status": "solved"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "solved" and sent.json()["event"]["actor"] == "ana"
        thread = c.get("/v1/threads/h1", headers=_auth()).json()
        assert thread["messages"][-1] == {"role": "ai", "content": "Your parcel is at the depot, it ships today.",
                                          "name": "agent:ana", "aside": False}
        assert not any("VIP" in m["content"] for m in thread["messages"])  # the note stays internal

        again = c.post("/v1/messages", headers=_auth(), json={"message": "Thanks, but it is still not here.",
                                                               "thread_id": "h1"})
        assert again.status_code == 200 and again.json()["thread_id"] == "h1"
        shown = c.get(path, headers=_auth("demo-ana")).json()
        assert shown["status"] == "reopened" and shown["first_response_s"] is not None
        assert [e["kind"] for e in shown["events"]] == ["assign", "note", "reply", "status"]
        listed = c.get("/v1/tickets", headers=_auth("demo-ana"), params={"status": "reopened"}).json()
        assert [t["id"] for t in listed] == [tid]

        story = c.get("/v1/threads/h1/audit", headers=_auth("demo-ana")).json()
        assert [(e["event"], e["actor"]) for e in story if e["agent"] == "tickets"] == [
            ("ticket_assigned", "agent:max"), ("ticket_note", "agent:ana"), ("ticket_reply", "agent:ana"),
            ("ticket_status", "customer")]

        # errors: JSON with the CLI's messages
        missing = c.post("/v1/tickets/T-NOPE/note", headers=_auth("demo-ana"), json={"message": "x"})
        assert missing.status_code == 404 and "unknown ticket 'T-NOPE'" in missing.json()["error"]
        assert c.get("/v1/tickets/T-NOPE", headers=_auth("demo-ana")).status_code == 404
        bad = c.post(f"{path}/status", headers=_auth("demo-ana"), json={"to": "done"})
        assert bad.status_code == 400 and "unknown status" in bad.json()["error"]
        assert c.post(f"{path}/reply", headers=_auth("demo-ana"), json={"message": "  "}).status_code == 400
        assert c.post(f"{path}/assign", headers=_auth("demo-ana"), json={}).status_code == 400
        assert c.post(f"{path}/status", headers=_auth("demo-ana"), json={"to": "closed"}).status_code == 200
        closed = c.post(f"{path}/reply", headers=_auth("demo-ana"), json={"message": "one more thing"})
        assert closed.status_code == 409 and "closed" in closed.json()["error"]
        assert c.post(f"{path}/status", headers=_auth("demo-ana"), json={"to": "open"}).status_code == 409
        assert len(c.get("/v1/threads/h1", headers=_auth()).json()["messages"]) == len(thread["messages"]) + 2

        # a reviewer's approval note joins the ticket the approval created
        paused = c.post("/v1/messages", headers=_auth(), json={"message": REFUND, "thread_id": "r1"}).json()
        assert paused["outcome"] == "escalated_pending_review"
        done = c.post("/v1/reviews/r1/approve", headers=_auth("demo-bo"), json={"note": "receipt checked"}).json()
        events = c.get(f"/v1/tickets/{done['ticket_id']}", headers=_auth("demo-bo")).json()["events"]
        assert [(e["kind"], e["actor"], e["body"]) for e in events] == [("note", "bo", "review note: receipt checked")]


def test_ticket_work_is_scoped_to_the_registry_and_the_callers_queues(data_dir, tmp_path):
    """On main a token holder could assign to anyone or any queue (typos included) and close any queue's ticket."""
    ctx, url = _serve(tmp_path, _env(data_dir))
    with ctx, httpx.Client(base_url=url, timeout=120) as c:
        tid = _escalate(c, "s1")  # customer-care: worked by no one but the supervisors (ana, max)
        path, before = f"/v1/tickets/{tid}", c.get("/v1/threads/s1", headers=_auth()).json()["messages"]

        def post(token: str, op: str, body: dict) -> httpx.Response:
            return c.post(f"{path}/{op}", headers=_auth(token), json=body)

        for body, why in (({"to": "nobody"}, "unknown person 'nobody'; people who work tickets: ana, bo"),
                          ({"to": "queue:nowhere"}, "unknown queue 'nowhere'; queues: billing, fraud"),
                          ({"queue": "nowhere", "to": "ana"}, "unknown queue 'nowhere'")):
            r = post("demo-ana", "assign", body)
            assert r.status_code == 400 and why in r.json()["error"], r.text
        for op, body in (("status", {"to": "closed"}), ("status", {"to": "solved"}), ("assign", {"to": "sam"}),
                         ("assign", {"to": "queue:billing"}), ("reply", {"message": "Done!", "status": "solved"})):
            r = post("demo-sam", op, body)
            assert r.status_code == 403, (op, r.text)
            assert "queue 'customer-care' and 'sam' works billing" in r.json()["error"] and "supervisor" in r.text
        shown = c.get(path, headers=_auth("demo-sam")).json()
        assert (shown["status"], shown["queue"], shown["assignee"], shown["events"]) == ("open", "customer-care",
                                                                                         None, [])
        assert c.get("/v1/threads/s1", headers=_auth()).json()["messages"] == before  # no refused reply reached it
        assert [e for e in c.get("/v1/threads/s1/audit", headers=_auth("demo-ana")).json()
                if e["agent"] == "tickets"] == []

        # a supervisor hands it to billing; billing finishes it, or hands it on and is done with it
        assert post("demo-max", "assign", {"to": "queue:billing"}).status_code == 200
        assert post("demo-sam", "status", {"to": "pending_customer"}).status_code == 200
        assert post("demo-sam", "assign", {"to": "sam", "queue": "fraud"}).status_code == 200  # handing off is fine
        assert post("demo-sam", "status", {"to": "closed"}).status_code == 403  # but fraud's now, assignee or not
        closed = post("demo-fay", "status", {"to": "closed"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
        assert [(e["kind"], e["actor"]) for e in c.get(path, headers=_auth("demo-fay")).json()["events"]] == [
            ("assign", "max"), ("status", "sam"), ("assign", "sam"), ("status", "fay")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_agents_replying_at_once_lose_nothing(backend, data_dir, tmp_path, request):
    extra = {"SUPPORT_DATABASE_URL": request.getfixturevalue("pg_url")} if backend == "postgres" else {}
    ctx, url = _serve(tmp_path, _env(data_dir, **extra))
    with ctx, httpx.Client(base_url=url, timeout=120) as c:
        tid = _escalate(c, "race")
        start, results = threading.Barrier(2), {}

        def reply(token: str) -> None:
            with httpx.Client(base_url=url, timeout=120) as own:
                start.wait()
                results[token] = own.post(f"/v1/tickets/{tid}/reply", headers=_auth(token),
                                          json={"message": f"Reply from {token}"})

        racers = [threading.Thread(target=reply, args=(t,)) for t in ("demo-ana", "demo-bo")]
        for t in racers:
            t.start()
        for t in racers:
            t.join(timeout=300)
        assert {k: r.status_code for k, r in results.items()} == {"demo-ana": 200, "demo-bo": 200}
        bodies = {"Reply from demo-ana", "Reply from demo-bo"}
        shown = c.get(f"/v1/tickets/{tid}", headers=_auth("demo-ana")).json()
        ticket_order = [e["body"] for e in shown["events"] if e["kind"] == "reply"]
        assert set(ticket_order) == bodies
        messages = c.get("/v1/threads/race", headers=_auth()).json()["messages"]
        thread_order = [m["content"] for m in messages if m["content"] in bodies]
        assert thread_order == ticket_order  # both landed, in the same order on the ticket and in the thread
        assert {m["name"] for m in messages if m["content"] in bodies} == {"agent:ana", "agent:bo"}
