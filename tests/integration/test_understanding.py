"""Understanding what the customer asked (#27), through `SupportDesk.send` offline. Each test fails on the code
before the change it names."""

from __future__ import annotations

VERIFIED = {"id": "cu-understanding", "verified": True}


def test_a_quoted_approval_under_a_new_question_is_history_not_a_request(desk):
    """Item 1: the quoted reply used to be read with the question, so the old approval became a new refund."""
    mail = ("Hi, where can I download the invoice for that order? Our accounts team needs it.\n\nThanks, Robin\n\n"
            "On Tue, Dec 1, 2026 at 10:02 AM Brightwave Support <support@brightwave.example> wrote:\n"
            "> Hi Robin, your refund of $75.00 for order BW-77310 has been approved.\n> Best, Brightwave Support")
    r = desk.send(mail, thread_id="t-quoted-invoice", customer=VERIFIED)
    assert r.ticket_id is None and r.pending_review is None and r.outcome == "answered", r.answer
    assert "invoices-and-receipts.md" in [c["doc_id"] for c in r.citations], r.answer
    assert "75.00" not in r.answer


def test_a_corrected_order_number_is_the_one_acted_on_and_the_wrong_one_never(desk):
    """Item 3: "… - sorry, wrong order, I meant …" was cut at the dash into two requests, and the refund went to
    the order the customer had just taken back. Then it was confirmed first, so the customer said it twice."""
    r = desk.send("Please refund $31 for BW-58120 - sorry, wrong order, I meant BW-58121. Thanks!",
                  thread_id="t-correct-order", customer=VERIFIED)
    assert r.outcome == "ticket_created" and "BW-58120" not in r.answer, r.answer
    ticket = desk.services.tickets.get(r.ticket_id)
    assert ticket["action"]["args"]["order_id"] == "BW-58121" and ticket["action"]["args"]["amount"] == 31, ticket


def test_a_correction_in_a_later_message_replaces_the_value_given_before(desk):
    """"$38. oh and typo, the order is …" kept the order number the customer had just called a typo."""
    r = desk.send("I'd like my money back for order BW-47710", thread_id="t-later-fix", customer=VERIFIED)
    assert r.outcome == "needs_info", r.answer
    r = desk.send("it was $27 - and sorry, wrong number, it's BW-47701 not BW-47710", thread_id="t-later-fix",
                  customer=VERIFIED)
    assert r.outcome == "ticket_created", r.answer
    args = desk.services.tickets.get(r.ticket_id)["action"]["args"]
    assert args["order_id"] == "BW-47701" and args["amount"] == 27, args
    r = desk.send("need to cancel something", thread_id="t-later-cancel", customer=VERIFIED)
    r = desk.send("BW-52290, no wait, BW-52209", thread_id="t-later-cancel", customer=VERIFIED)
    assert r.outcome == "ticket_created", r.answer
    assert desk.services.tickets.get(r.ticket_id)["action"]["args"]["order_id"] == "BW-52209"


def test_asking_whether_the_desk_is_a_bot_gets_an_honest_answer_and_no_ticket(desk):
    """Item 5: "am I talking to an AI?" read as a request for a person and opened a high-priority ticket."""
    r = desk.send("hang on, is this a real person or a bot?", thread_id="t-bot", customer=VERIFIED)
    assert r.ticket_id is None and r.outcome == "answered", r.answer
    assert "automated" in r.answer and "not a person" in r.answer
    it = desk.send("Scusi, sto parlando con un robot?", thread_id="t-bot-it", customer=VERIFIED)
    assert it.ticket_id is None and "automatico" in it.answer, it.answer
    both = desk.send("Are you a human? Also, how do I reset my password?", thread_id="t-bot-more", customer=VERIFIED)
    assert both.ticket_id is None and "password" in both.answer.lower() and "automated" in both.answer, both.answer


def test_a_question_the_help_centre_does_not_answer_gets_a_person_not_the_nearest_section(desk):
    """Item 7: with no answerability check, "can I pick up my order in a store in Leeds?" got whichever section
    shared a word with it, with full confidence."""
    r = desk.send("Can I pick up my order in a store in Leeds?", thread_id="t-unanswerable", customer=VERIFIED)
    assert r.ticket_id and not r.grounded, r.answer
    assert "won't guess" in r.answer
    ok = desk.send("How do I turn on two-step verification for my account?", thread_id="t-answerable",
                   customer=VERIFIED)
    assert ok.grounded and ok.ticket_id is None and ok.citations, ok.answer


def test_wanting_a_person_escalates_whatever_the_topic(desk):
    """Item 5: the classifier read the topic ("service", "joke") and answered out_of_scope."""
    r = desk.send("Third time I'm writing about this and your service is a joke. I want to speak to a manager.",
                  thread_id="t-manager", customer=VERIFIED)
    assert r.ticket_id and r.intent == "human_agent", r.answer
    it = desk.send("Voglio parlare con un operatore, per favore.", thread_id="t-manager-it", customer=VERIFIED)
    assert it.ticket_id and it.intent == "human_agent", it.answer


def test_a_request_for_a_person_wins_over_an_action_the_classifier_only_guessed(desk):
    """"…nobody answers me. Put me through to a supervisor" (in Spanish) was read as a refund at 0.51 and asked for
    an amount; a person takes over, and the customer is told so in their language."""
    r = desk.send("Hace diez días que escribo por el pedido BW-61770 y nadie responde. Comuníqueme con el encargado.",
                  thread_id="t-es-person", customer=VERIFIED)
    assert r.outcome == "ticket_created" and r.pending_review is None, r.answer
    assert desk.services.tickets.get(r.ticket_id)["action"]["name"] == "escalate"
    assert "equipo" in r.answer and r.ticket_id in r.answer, r.answer
    sure = desk.send("Refund $30 for BW-61771, it broke. Thanks!", thread_id="t-sure", customer=VERIFIED)
    assert desk.services.tickets.get(sure.ticket_id)["action"]["name"] == "refund"  # no person asked: it runs
