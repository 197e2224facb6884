"""Conversational turns, questions about actions and customers who don't write English (issue #15, items 1, 3, 8, 9).

Every turn goes through `desk.send`: the real supervisor graph, the real classifier trained on
agents/triage_examples.csv, real Chroma and SQLite. LLM mode uses the scripted fake chat model.
"""

from __future__ import annotations

import pytest

from agents.supervisor import replies
from tests.helpers import scripted_desk


def _triage(desk, r) -> dict:
    return desk.graph.get_state({"configurable": {"thread_id": r.thread_id}}).values["triage"]


def _no_ticket_no_policy(r, services) -> None:
    assert r.ticket_id is None and r.policy is None and r.pending_review is None
    assert "compliance" not in r.route and "ticketing" not in r.route
    assert services.tickets.list() == []


# ---- 1. conversational turns ------------------------------------------------------------------------------
@pytest.mark.parametrize("message,intent", [
    ("Hi there!", "greeting"),  # the issue's examples: each opened a high-priority ticket
    ("hello?? anyone there", "greeting"),
    ("What's the weather like in Paris tomorrow?", "out_of_scope"),
])
def test_issue_small_talk_gets_a_reply_not_a_ticket(desk, services, message, intent):
    r = desk.send(message)
    assert r.intent == intent and r.outcome == "answered" and r.route == []
    _no_ticket_no_policy(r, services)
    assert "help" in r.answer.lower()  # a greeting offers help; off-topic says what the desk can help with


def test_goodbye_after_an_answer_is_not_closing_the_account(desk, services):
    first = desk.send("How do I reset my password?")
    assert first.outcome == "answered"
    r = desk.send("ok great, bye", thread_id=first.thread_id)
    assert r.intent == "goodbye" and r.outcome == "answered"
    assert "close" not in r.answer.lower() and "verif" not in r.answer.lower()
    _no_ticket_no_policy(r, services)


SMALL_TALK = [
    ("hey", "greeting"), ("Good morning!", "greeting"), ("helloooo is anybody there??", "greeting"),
    ("hiya team", "greeting"), ("yo", "greeting"),
    ("thanks!", "thanks"), ("cool thanks", "thanks"), ("thank u so much :)", "thanks"), ("thx", "thanks"),
    ("cheers mate", "thanks"),
    ("bye", "goodbye"), ("that's all, have a nice day", "goodbye"), ("okay thank you, bye!", "goodbye"),
    ("ok", "acknowledgement"), ("great", "acknowledgement"), ("got it 👍", "acknowledgement"),
    ("sounds good to me", "acknowledgement"), ("understood 👌", "acknowledgement"),
    ("got any good jokes?", "out_of_scope"), ("who won the football match last night?", "out_of_scope"),
    ("my Spotify premium stopped, can u fix it", "out_of_scope"),
    ("will it rain in London on Saturday?", "out_of_scope"),
    ("Bonjour !", "greeting"), ("merci beaucoup", "thanks"), ("au revoir, bonne journée", "goodbye"),
    ("Hallo, ist da jemand?", "greeting"), ("Danke schön!", "thanks"), ("tschüss", "goodbye"),
    ("¡Hola!", "greeting"), ("muchas gracias", "thanks"), ("vale, adiós", "goodbye"),
]


@pytest.mark.parametrize("message,intent", SMALL_TALK)
def test_small_talk_wordings(desk, services, message, intent):
    r = desk.send(message)
    assert (r.intent, r.outcome) == (intent, "answered")
    _no_ticket_no_policy(r, services)


@pytest.mark.parametrize("message,lang,word", [
    ("Bonjour !", "fr", "Bonjour"), ("Danke schön!", "de", "Gern geschehen"), ("¡Hola!", "es", "Hola"),
])
def test_small_talk_reply_in_the_customers_language(desk, message, lang, word):
    r = desk.send(message)
    assert _triage(desk, r)["language"] == lang and word in r.answer


@pytest.mark.parametrize("message", ["it doesn't work", "help", "???", "my thing", "I have a problem",
                                     "something's wrong", "ça ne marche pas", "hilfe"])
def test_unclear_message_gets_one_clarifying_question(desk, services, message):
    r = desk.send(message)
    assert r.intent == "unclear" and r.outcome == "needs_info" and r.answer.rstrip().endswith("?")
    _no_ticket_no_policy(r, services)


def test_ticket_for_a_person_only_after_two_clarifying_questions_failed(desk, services):
    first = desk.send("help")
    second = desk.send("it doesn't work", thread_id=first.thread_id)
    assert [first.outcome, second.outcome] == ["needs_info", "needs_info"]
    assert first.answer != second.answer  # the second question asks differently
    assert services.tickets.list() == []
    third = desk.send("???", thread_id=first.thread_id)
    assert third.outcome == "ticket_created" and third.policy["rule_id"] == "human-or-complaint"
    (ticket,) = services.tickets.list()
    assert ticket["queue"] == "customer-care"


def test_a_clear_message_resets_the_clarifying_count(desk, services):
    first = desk.send("help")
    desk.send("How do I reset my password?", thread_id=first.thread_id)
    again = desk.send("it doesn't work", thread_id=first.thread_id)
    assert again.outcome == "needs_info" and "more detail" in again.answer  # the first question again
    assert services.tickets.list() == []


def test_asking_for_a_person_still_opens_a_ticket(desk, services):
    r = desk.send("I want to talk to a real person, not a bot.")
    assert r.intent == "human_agent" and r.outcome == "ticket_created"


# ---- 3. a question about an action is not the action -------------------------------------------------------
QUESTIONS = [
    "Is it possible to cancel just one item from an order and keep the rest?",  # the issue's example
    "Can I cancel just one item?", "can I return opened earphones?", "is it possible to get a refund after 30 days?",
    "how do I cancel my order?", "What happens to my data if I close my account?",
    "can i change the email on my account myself", "how do i delete my account??",
    "is there a fee if I cancel an order?", "Could I get my money back if I just changed my mind?",
]


@pytest.mark.parametrize("message", QUESTIONS)
def test_question_about_an_action_is_researched_not_executed(desk, services, message):
    r = desk.send(message)
    t = _triage(desk, r)
    assert t["kind"] == "question" and t["speech_act"] == "question", t
    assert r.route[:1] == ["research"] and "compliance" not in r.route and r.policy is None


@pytest.mark.parametrize("message,intent", [
    ("cancel order BW-1", "cancel_order"), ("I want a refund for #55120", "refund_request"),
    ("please close my account", "close_account"), ("Can I cancel order BW-61616?", "cancel_order"),
    ("could you refund the $30 for order BW-4411", "refund_request"),
])
def test_requests_stay_actions(desk, message, intent):
    r = desk.send(message)
    t = _triage(desk, r)
    assert (t["intent"], t["kind"], t["speech_act"]) == (intent, "action", "request")


# ---- 8. customers who don't write English -----------------------------------------------------------------------
FOREIGN = [
    ("Bonjour, comment réinitialiser mon mot de passe ?", "fr", "password_reset"),  # the issue's examples
    ("Wie lange dauert es, bis eine Rückerstattung auf meiner Karte ist?", "de", "refund_policy"),
    ("J'ai oublié mon mot de passe et le lien n'arrive pas", "fr", "password_reset"),
    ("C'est combien pour une livraison express en France ?", "fr", "shipping_info"),
    ("Mon ordinateur portable ne s'allume plus, que faire ?", "fr", "troubleshooting"),
    ("Où est ma commande ? Je n'ai pas de numéro de suivi", "fr", "order_status"),
    ("Wie kann ich die Zwei-Faktor-Authentifizierung einschalten?", "de", "account_security"),
    ("Meine Kopfhörer verbinden sich nicht mehr mit dem Handy", "de", "troubleshooting"),
    ("Welche Zahlungsarten kann ich benutzen?", "de", "billing_question"),
    ("¿Cuánto tarda en llegar un pedido con envío estándar?", "es", "shipping_info"),
    ("Olvidé la contraseña de mi cuenta, ¿qué hago?", "es", "password_reset"),
    ("¿Puedo devolver un artículo después de 30 días?", "es", "refund_policy"),
]


@pytest.mark.parametrize("message,lang,intent", FOREIGN)
def test_questions_in_french_german_spanish_are_routed(desk, message, lang, intent):
    r = desk.send(message)
    t = _triage(desk, r)
    assert (t["language"], t["intent"]) == (lang, intent)
    assert r.route[:1] == ["research"] and "compliance" not in r.route
    assert t["search_text"]  # English keywords for the English help centre


@pytest.mark.parametrize("message,lang,intent", [
    ("Pouvez-vous annuler ma commande BW-9120 ?", "fr", "cancel_order"),
    ("Stornieren Sie bitte sofort die Bestellung BW-5120", "de", "cancel_order"),
    ("Quiero un reembolso de 30 € por el pedido BW-12121", "es", "refund_request"),
    ("J'aimerais discuter avec un conseiller humain", "fr", "human_agent"),
])
def test_requests_in_french_german_spanish_are_routed(desk, message, lang, intent):
    r = desk.send(message)
    t = _triage(desk, r)
    assert (t["language"], t["intent"]) == (lang, intent) and t["kind"] in ("action", "escalation")


def test_english_is_recorded_as_english(desk):
    r = desk.send("My wireless headphones won't pair with my phone, what should I try?")
    t = _triage(desk, r)
    assert t["language"] == "en" and "search_text" not in t


# ---- 9. follow-ups in context ---------------------------------------------------------------------------------
def test_follow_up_after_a_refund_is_about_refund_timelines(desk):
    first = desk.send("Please refund $40 for order #48213, the headphones arrived broken.", customer={"id": "c-fu"})
    assert first.outcome == "ticket_created"
    r = desk.send("how long until I see the money?", thread_id=first.thread_id, customer={"id": "c-fu"})
    assert r.intent == "refund_policy" and r.route[:1] == ["research"] and r.outcome == "answered"
    assert "refund-timelines.md" in [c["doc_id"] for c in r.citations]


def test_a_follow_up_question_does_not_repeat_the_action(desk, services):
    first = desk.send("I want a refund of $40 for order #48213", customer={"id": "c-fu3"})
    assert first.outcome == "ticket_created"
    r = desk.send("is that ok?", thread_id=first.thread_id, customer={"id": "c-fu3"})
    assert r.intent == "refund_policy" and "compliance" not in r.route and len(services.tickets.list()) == 1


# ---- LLM mode ----------------------------------------------------------------------------------------------------
@pytest.fixture
def llm(data_dir):
    with scripted_desk(data_dir) as handles:
        yield handles


@pytest.mark.parametrize("message", ["Hi there!", "ok great, bye", "What's the weather like in Paris tomorrow?"])
def test_llm_mode_small_talk_needs_no_model_and_opens_nothing(llm, message):
    desk, svc, small, big = llm
    r = desk.send(message)
    assert r.outcome == "answered" and r.llm_calls == 0 and small.calls == [] and big.calls == []
    _no_ticket_no_policy(r, svc)


def test_llm_mode_uses_the_is_request_field(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [{"intent": "cancel_order", "confidence": 0.9, "is_request": False},
                                    {"intent": "cancel_order", "confidence": 0.9, "is_request": True}]
    big.script["GroundedAnswer"] = [{"answer": "You can cancel individual items that have not shipped yet.",
                                     "citations": ["order-cancellation.md"]}]
    r = desk.send("Cancelling a single item of an order that has not shipped yet, is that a thing?")
    t = _triage(desk, r)
    assert (t["intent"], t["kind"], t["speech_act"]) == ("cancellation_info", "question", "question")
    assert r.route == ["research"] and r.outcome == "answered" and svc.tickets.list() == []
    r = desk.send("Cancel order BW-80100 for me.", thread_id=r.thread_id)
    t = _triage(desk, r)
    assert (t["intent"], t["kind"], t["speech_act"]) == ("cancel_order", "action", "request")
    assert "compliance" in r.route


def test_llm_mode_out_of_scope_and_unclear_from_the_model(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [{"intent": "out_of_scope", "confidence": 0.9},
                                    {"intent": "unclear", "confidence": 0.8}]
    r = desk.send("Which club has the most fans in Europe, would you say?")
    assert r.intent == "out_of_scope" and r.outcome == "answered"
    r2 = desk.send("the thingy from before, the blue one", thread_id=r.thread_id)
    assert r2.intent == "unclear" and r2.outcome == "needs_info"
    _no_ticket_no_policy(r2, svc)


def test_llm_mode_records_the_customers_language(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    big.script["GroundedAnswer"] = [{"answer": "Utilisez « Mot de passe oublié ».", "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    r = desk.send("Bonjour, comment réinitialiser mon mot de passe ?")
    t = _triage(desk, r)
    assert t["language"] == "fr" and t["intent"] == "password_reset"
    assert not r.answer.startswith(replies.ANSWER_NOTE["fr"])  # the model answered; no offline note


# Needs agents/research/nodes.py to search `triage.search_text` (issue #15 item 8; the change is in the report):
# not strict, so it starts passing, unnoticed by CI, the day research searches what triage hands it.


@pytest.mark.parametrize("message,lang,doc", [
    ("Bonjour, comment réinitialiser mon mot de passe ?", "fr", "password-reset.md"),
    ("Wie lange dauert es, bis eine Rückerstattung auf meiner Karte ist?", "de", "refund-timelines.md"),
    ("¿Puedo cancelar solo un artículo de mi pedido?", "es", "order-cancellation.md"),
])
def test_foreign_question_answered_from_the_english_help_centre(desk, services, message, lang, doc):
    r = desk.send(message)
    assert r.outcome == "answered" and r.answer.startswith(replies.ANSWER_NOTE[lang])
    assert r.citations[0]["doc_id"] == doc and services.tickets.list() == []


def test_follow_up_is_searched_with_its_topic(desk):
    first = desk.send("Please refund $40 for order #48213, the headphones arrived broken.", customer={"id": "c-fu2"})
    r = desk.send("and how long does that take?", thread_id=first.thread_id, customer={"id": "c-fu2"})
    assert r.intent == "refund_policy" and r.citations[0]["doc_id"] == "refund-timelines.md"


@pytest.mark.parametrize("first,then,phrase", [
    # The topic used to be the intent's name ("troubleshooting and if only …"): nothing was found, a ticket opened.
    ("my wireless earbuds won't pair with my new phone, what do I do",
     "and if only the left one connects and the right stays silent?", "charging contacts"),
    ("what's your return window?", "does that change if I have Plus?", "60 days"),
])
def test_a_follow_up_question_is_searched_with_what_the_earlier_one_named(desk, services, first, then, phrase):
    r = desk.send(first)
    r = desk.send(then, thread_id=r.thread_id)
    assert r.outcome == "answered" and phrase in r.answer, r.answer
    assert services.tickets.list(thread_id=r.thread_id) == []


def test_another_amount_for_the_same_order_is_a_request_not_a_follow_up_question(desk, services):
    r = desk.send("refund $40 for BW-20001, the soundbar is faulty", customer={"id": "c-fu3", "verified": True})
    r = desk.send("and another $45 for the same order, the subwoofer too", thread_id=r.thread_id,
                  customer={"id": "c-fu3", "verified": True})
    assert r.intent == "refund_request" and r.outcome != "answered", r.answer


def test_llm_mode_answers_in_the_customers_language(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    big.script["GroundedAnswer"] = [{"answer": "Utilisez « Mot de passe oublié ».", "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    desk.send("Bonjour, comment réinitialiser mon mot de passe ?")
    assert "in French" in big.calls[0]["prompt"]


def test_an_approved_cancellation_reads_as_english(desk):
    """The reply used to say "Your cancel order for order BW-31313 has been approved"."""
    r = desk.send("Please cancel order BW-31313, I ordered the wrong colour.")
    assert r.outcome == "ticket_created", r.answer
    assert r.answer.startswith("Your cancellation for order BW-31313 has been approved"), r.answer


def test_a_reply_to_a_quoted_mail_is_read_with_the_history_it_quotes(desk, services):
    """The quoted history is context for reading the new text ("when does it show up?" is about the refund it
    quotes), never a request: no refund, no ticket."""
    r = desk.send("ok thanks. so when does it actually show up on my card?\n\n"
                  "> On 2 Dec 2026, at 14:10, Brightwave Support wrote:\n"
                  "> Your refund has been approved and is on its way.\n>\n"
                  ">> On 1 Dec 2026, at 09:55, Sanjay wrote:\n"
                  ">> I want a refund of $640 for order BW-48861, the TV arrived with a cracked panel.",
                  customer={"id": "c-quoted", "verified": True})
    assert r.outcome == "answered" and "5 to 10 business days" in r.answer, r.answer
    assert r.policy is None and services.tickets.list(thread_id=r.thread_id) == []


@pytest.mark.parametrize("message,lang", [
    ("Buongiorno, il rimborso per l'ordine BW-44172 mi è stato approvato la settimana scorsa ma sulla carta non "
     "vedo ancora niente. Quando arriva?", "it"),
    ("Bonjour, mon remboursement a été approuvé il y a plus de deux semaines et je ne vois toujours rien sur mon "
     "compte. Que dois-je faire ?", "fr"),
])
def test_a_question_about_an_approved_refund_is_not_a_new_refund(desk, services, message, lang):
    """Before: the gloss kept "refund … when", read as a request, and the desk asked for the amount to refund again."""
    r = desk.send(message, customer={"id": f"c-status-{lang}", "verified": True})
    assert r.outcome == "answered" and r.intent == "refund_policy", (r.outcome, r.answer)
    assert r.policy is None and services.tickets.list(thread_id=r.thread_id) == []
