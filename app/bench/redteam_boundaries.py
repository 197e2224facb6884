"""Red-team probes of the trust boundaries (issue #25): one channel or customer reaching another's thread, customer
facts claimed instead of signed, a retried or reused message id, personal data as an id. Each replays a finding
of the issue against the desk, and, for the door that decides it, against the HTTP service in process."""

from __future__ import annotations

import time
from collections.abc import Callable

from app.bench import NO_SYSTEMS
from app.bench.redteam_probes import MID, Ctx, check, refused

WEB_SECRET = "redteam-web-signing-secret-0123456789"


def _principals():
    from app.identity import Customer, Principal

    return (Principal("http:web"), Principal("http:email"),
            Principal("http:web", customer=Customer(id="cus-rt-jane", verified=True)),
            Principal("http:web", customer=Customer(id="cus-rt-john", verified=True)))


def other_channel_reads_posts_withdraws(ctx: Ctx) -> None:
    from app.desk import UnknownThreadError

    web, email, _, _ = _principals()
    tid = ctx.desk.send(MID, caller=web).thread_id
    check(ctx.desk.get(tid).pending_review, "the refund did not pause")
    for call in (lambda: ctx.desk.get(tid, caller=email), lambda: ctx.desk.history(tid, caller=email),
                 lambda: ctx.desk.send("VIP, please approve", thread_id=tid, caller=email),
                 lambda: ctx.desk.send("never mind, cancel that request", thread_id=tid, caller=email)):
        refused(call, UnknownThreadError, match="unknown thread")
    check(ctx.desk.get(tid).pending_review, "the review was withdrawn")


def other_customer_opens(ctx: Ctx) -> None:
    from app.desk import UnknownThreadError

    web, _, jane, john = _principals()
    tid = ctx.desk.send(MID, caller=jane).thread_id
    for who in (john, web):
        refused(lambda who=who: ctx.desk.get(tid, caller=who), UnknownThreadError)
        refused(lambda who=who: ctx.desk.send("cancel that request", thread_id=tid, caller=who), UnknownThreadError)
    check(tid not in {t["thread_id"] for t in ctx.desk.threads_of(john)}, "listed for another customer")


def self_verified_account_closure(ctx: Ctx) -> None:
    from agents.supervisor.conversation import MessageError

    web, _, _, _ = _principals()
    refused(lambda: ctx.desk.send("Please close my account", customer={"verified": True}, caller=web), MessageError)
    result = ctx.desk.send("Please close my account", caller=web)
    check((result.policy or {}).get("effect") == "deny", f"an anonymous closure was {result.outcome}")


def body_customer_over_http(ctx: Ctx) -> None:
    with _client(ctx) as (client, headers):
        r = client.post("/v1/messages", headers=headers, json={
            "message": "Please close my account", "customer": {"id": "cus-rt-x", "verified": True}})
        check(r.status_code == 200 and not r.json().get("ticket_id"), f"body claims acted on: {r.text[:200]}")


def four_refunds_four_ids(ctx: Ctx) -> None:
    with _client(ctx) as (client, headers):
        paused = [client.post("/v1/messages", headers=headers, json={
            "message": f"I want a refund of $450 for order #{62100 + i}, it arrived broken",
            "customer": {"id": f"cus-rt-{i}", "verified": True}}).json().get("with_team") for i in range(4)]
    check(sum(bool(p) for p in paused) >= 3, f"anonymous refunds approved automatically: {paused}")


def forged_customer_token(ctx: Ctx) -> None:
    import jwt

    now = int(time.time())
    claims = {"sub": "cus-rt-jane", "aud": "supportflow", "iat": now, "exp": now + 300, "verified": True}
    with _client(ctx) as (client, headers):
        for bad in (jwt.encode(claims, "not-the-channel-secret-0123456789abc", algorithm="HS256"),
                    jwt.encode({**claims, "exp": now - 3600}, WEB_SECRET, algorithm="HS256"),
                    jwt.encode({**claims, "aud": "another-service"}, WEB_SECRET, algorithm="HS256"),
                    jwt.encode(claims, None, algorithm="none")):
            r = client.post("/v1/messages", headers={**headers, "X-Customer-Token": bad},
                            json={"message": "Please close my account"})
            check(r.status_code == 401, f"a bad customer token got {r.status_code}")


def message_id_twice_without_thread(ctx: Ctx) -> None:
    web, _, _, _ = _principals()
    text = "Please cancel my order #62201, I ordered the wrong size"
    first, again = (ctx.desk.send(text, message_id="rt-m-1", caller=web) for _ in range(2))
    check(first.thread_id == again.thread_id, "two threads for one message id")
    tickets = ctx.desk.services.tickets.list(thread_id=first.thread_id)
    check(first.ticket_id and [t["id"] for t in tickets] == [first.ticket_id], f"tickets: {tickets}")
    check([m["role"] for m in ctx.desk.history(first.thread_id)] == ["human", "ai"], "the message ran twice")


def message_id_other_text(ctx: Ctx) -> None:
    from app.desk import MessageIdConflictError

    web, _, _, _ = _principals()
    ctx.desk.send("How do I reset my password?", message_id="rt-m-2", caller=web)
    refused(lambda: ctx.desk.send("Refund $400 for order #62202", message_id="rt-m-2", caller=web),
            MessageIdConflictError, match="different message")


def personal_data_as_id(field: str, value: str) -> Callable[[Ctx], None]:
    def probe(ctx: Ctx) -> None:
        from app.thread_ids import PersonalIdError

        web, _, _, _ = _principals()
        refused(lambda: ctx.desk.send("How do I reset my password?", caller=web, **{field: value}), PersonalIdError)
        check(value not in str(ctx.desk.services.audit.entries()), "the id reached the audit trail")
    return probe


class _client:
    """The HTTP service in process (fastapi's TestClient) on the probe's data directory, with a `web` channel
    that signs its customers."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx

    def __enter__(self):
        import os

        from fastapi.testclient import TestClient

        from agents.compliance.reviewers import hash_token
        from app.http.api import create_app
        from app.settings import Settings

        folder = self.ctx.data_dir.parent / "redteam-channels.yaml"
        folder.write_text(f"channels:\n- id: web\n  key_hash: '{hash_token('rt-web-key')}'\n"
                          "  customer_tokens: {secret_env: REDTEAM_WEB_SECRET}\n")
        os.environ["REDTEAM_WEB_SECRET"] = WEB_SECRET
        settings = Settings(**NO_SYSTEMS, data_dir=self.ctx.data_dir, offline=True, api_keys_file=folder, rate_limit="")
        self.client = TestClient(create_app(settings, warm_in_background=False))
        self.client.__enter__()
        return self.client, {"Authorization": "Bearer rt-web-key"}

    def __exit__(self, *exc) -> None:
        self.client.__exit__(*exc)


FAMILY = [
    ("other_channel_reads_posts_withdraws", other_channel_reads_posts_withdraws, True),
    ("other_customer_opens", other_customer_opens, False),
    ("self_verified_account_closure", self_verified_account_closure, True),
    ("body_customer_over_http", body_customer_over_http, False),
    ("four_refunds_four_body_ids", four_refunds_four_ids, False),
    ("forged_expired_misaddressed_none_tokens", forged_customer_token, True),
    ("message_id_twice_without_thread", message_id_twice_without_thread, True),
    ("message_id_other_text", message_id_other_text, False),
    *((f"personal_{field}_{kind}", personal_data_as_id(field, value), i == 0)
      for i, (field, kind, value) in enumerate([("thread_id", "email", "jane.roe@example.com"),
                                                ("message_id", "card", "4111111111111111"),
                                                ("thread_id", "phone", "+44 20 7946 0958")])),
]
