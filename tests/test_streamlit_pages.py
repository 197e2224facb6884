"""Review inbox, tickets, operations and knowledge pages of the console, each through its main flow.

Paused threads and tickets are produced by real turns through a SupportDesk on the same data
directory the app reads, as a second process would.
"""

from __future__ import annotations

import pytest

from tests.helpers import REFUND, button, make_settings, sign_in, tickets


@pytest.fixture
def second_desk(data_dir):
    from app.desk import SupportDesk

    d = SupportDesk(data_dir=data_dir)
    yield d
    d.close()


def test_review_inbox_groups_and_batch_approve(app, data_dir, second_desk):
    for order, amount in (("48213", 900), ("48214", 950)):
        second_desk.send(f"I want a refund of ${amount} for order #{order}", customer={"id": f"c{order}"})
    app.switch_page("app/ui/review.py").run()
    assert not app.exception
    assert any("2 pending" in c.value for c in app.caption)
    assert len([e for e in app.expander if "refund" in e.label and "USD 9" in e.label]) == 2
    batch = next(b for b in app.button if b.label == "Approve all 2")
    batch.click().run()
    assert any("Sign in" in e.value for e in app.error) and tickets(data_dir) == []  # no anonymous approvals
    sign_in(app)
    next(b for b in app.button if b.label == "Approve all 2").click().run()
    assert not app.exception
    assert any("2 approved by ana" in s.value for s in app.success)
    assert sorted(t["reviewer"] for t in tickets(data_dir)) == ["ana", "ana"]
    assert any("Nothing is waiting" in s.value for s in app.success)


def test_review_inbox_edit_and_reject(app, data_dir, second_desk):
    paused = second_desk.send(REFUND, customer={"id": "c1"}).thread_id
    app.switch_page("app/ui/review.py").run()
    sign_in(app)
    key = f"inbox-args-{paused}"
    app.text_input(key=key).set_value("{amount: 300").run()
    button(app, "inbox-edit").click().run()
    assert any("not valid JSON" in e.value for e in app.error) and tickets(data_dir) == []
    app.text_input(key=key).set_value('{"amount": 300}').run()
    button(app, "inbox-edit").click().run()
    (ticket,) = tickets(data_dir)
    assert ticket["action"]["args"]["amount"] == 300 and ticket["reviewer"] == "ana"

    other = second_desk.send("I want a refund of $1200 for order #50001", customer={"id": "c2"}).thread_id
    app.run()
    app.text_input(key=f"inbox-msg-{other}").set_value("Order is outside the window.").run()
    button(app, "inbox-reject").click().run()
    assert len(tickets(data_dir)) == 1
    assert "Order is outside the window." in second_desk.get(other).answer


def test_tickets_search_and_audit_story(app, second_desk):
    made = second_desk.send("please refund $40 for order #48213", customer={"id": "cust-77"})
    second_desk.send("How do I reset my password?")
    assert made.ticket_id
    app.switch_page("app/ui/tickets.py").run()
    assert not app.exception
    assert any("1 ticket(s)" in c.value for c in app.caption)
    app.text_input(key="ticket-search").set_value("no-such-thing").run()
    assert any("0 ticket(s)" in c.value for c in app.caption)
    app.text_input(key="ticket-search").set_value("cust-77").run()
    assert any("1 ticket(s)" in c.value for c in app.caption)
    assert any(made.ticket_id in h.value for h in app.subheader)
    story = " ".join(m.value for m in app.markdown)
    for event in ("**triage**", "**policy_decision**", "**ticket**"):
        assert event in story
    assert f"ticket {made.ticket_id} created" in story
    next(b for b in app.button if b.key == f"open-{made.ticket_id}").click().run()
    assert app.session_state["thread_id"] == made.thread_id  # reopened in the chat page
    assert any("refund" in m.markdown[0].value.lower() for m in app.chat_message if m.markdown)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _llm_desk(data_dir):
    """A desk whose provider is the scripted fake (everything else real), as a second process would run."""
    from app.desk import SupportDesk
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel, echo_responder
    from app.services import Services

    small = ScriptedChatModel(model="small", responder=echo_responder)
    small.script["TriageResult"] = [{"intent": "refund_request", "confidence": 0.95}]
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=ScriptedChatModel(model="big", responder=echo_responder)))
    return SupportDesk(services=svc)


def test_operations_dashboard_reads_recorded_runs(app, data_dir, second_desk):
    second_desk.send("How do I reset my password?")
    llm = _llm_desk(data_dir)
    try:
        llm.send("please refund $40 for order #48213")  # ticket with the LLM calls it cost
    finally:
        llm.close()
    second_desk.send(REFUND)  # paused
    (ticket,) = tickets(data_dir)
    assert ticket["llm_calls"] > 0 and ticket["tokens"] > 0
    app.switch_page("app/ui/dashboard.py").run()
    assert not app.exception
    assert _metric(app, "Paused for review") == "1"
    assert _metric(app, "Turns started in window") == "3"
    assert _metric(app, "Completion rate") == "67%"  # 2 of 3 turns finished; the third waits for review
    assert _metric(app, "Escalation rate") == "33%"
    assert _metric(app, "Error rate") == "0%"
    assert _metric(app, "Tickets") == "1"
    assert _metric(app, "LLM calls per ticket") == f"{ticket['llm_calls']:.2f}"
    assert _metric(app, "Tokens per ticket") == f"{ticket['tokens']:.0f}"
    agents = app.dataframe[1].value  # [0] = pending reviews by age, [1] = per-agent latency
    assert set(agents["agent"]) >= {"supervisor", "triage", "research", "compliance", "ticketing"}
    research = agents[agents["agent"] == "research"].iloc[0]
    assert research["runs"] == 3 and research["failure_rate"] == 0 and research["p95_ms"] >= research["p50_ms"] > 0


def _documents(at) -> int:
    """The document count the knowledge page reports ("N documents, M chunks in <collection>")."""
    return int(next(s.value for s in at.subheader if "chunks in" in s.value).split()[0])


def test_knowledge_upload_and_folder_ingest(app, tmp_path):
    app.switch_page("app/ui/knowledge.py").run()
    assert not app.exception
    before = _documents(app)
    assert before > 0
    app.file_uploader(key="kb-upload").set_value(
        ("gift-cards.md", b"# Gift cards\n\nGift cards never expire and can be used on any order.\n", "text/markdown"))
    app.run()
    next(b for b in app.button if b.key == "kb-ingest-upload").click().run()
    assert not app.exception
    assert any("1 added" in s.value for s in app.success)
    docs = app.dataframe[0].value
    assert docs[docs["doc_id"] == "gift-cards.md"]["chunks"].iloc[0] == 1

    folder = tmp_path / "more"
    folder.mkdir()
    for i in range(3):
        (folder / f"topic-{i}.md").write_text(f"# Topic {i}\n\n" + "Details about this topic. " * 80)
    app.text_input(key="kb-folder").set_value(str(folder)).run()
    next(b for b in app.button if b.key == "kb-ingest-folder").click().run()
    assert any("3 added" in s.value for s in app.success)
    assert _documents(app) == before + 4
    app.text_input(key="kb-folder").set_value(str(tmp_path / "missing")).run()
    next(b for b in app.button if b.key == "kb-ingest-folder").click().run()
    assert any("no such file or folder" in e.value for e in app.error)
