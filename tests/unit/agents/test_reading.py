"""agents/turn/reading.py: one message read into requests. Triage is the part that would need the model, so a
stand-in `Services.triage(view)` answers with triage results chosen per text and records what it was asked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agents.triage.taxonomy import Taxonomy
from agents.turn.reading import bare_values, in_context, pieces

TAXONOMY = Taxonomy.model_validate({
    "intents": {
        "refund_request": {"category": "billing", "kind": "action", "action": "refund"},
        "refund_timeline": {"category": "billing", "kind": "question"},
        "cancel_order": {"category": "orders", "kind": "action", "action": "cancel_order"},
        "password_reset": {"category": "account", "kind": "question"},
        "data_export": {"category": "privacy", "kind": "question"},
        "payment_methods": {"category": "billing", "kind": "question"},
    },
    "routes": {"question": ["research"], "action": ["compliance", "ticketing"]},
    "asked_as": {"refund_request": "refund_timeline"},
})


def tri(intent: str, kind: str = "question", **kw) -> dict:
    return {"intent": intent, "kind": kind, "confidence": 0.95, **kw}


REFUND, PASSWORD = tri("refund_request", "action"), tri("password_reset")


class FakeServices:
    """`triage(view)` returns the triage chosen for `view["request"]` (a missing one fails the test)."""

    def __init__(self, triages: dict[str, dict] | None = None, confidence: float = 0.6):
        self.triages = triages or {}
        self.views: list[dict] = []
        self.taxonomy = TAXONOMY
        self.settings = SimpleNamespace(triage_confidence=confidence)

    def triage(self, view: dict, config: dict | None = None) -> dict:
        self.views.append(view)
        text = view["request"]
        assert text in self.triages, f"unexpected triage of {text!r}"
        return {"triage": self.triages[text], "llm_calls": [{"id": f"call-{len(self.views)}"}]}

    @property
    def asked(self) -> list[str]:
        return [v["request"] for v in self.views]


def state(*human: str, turn: int = 1, **kw) -> dict:
    """The conversation so far; the last message is the one being read."""
    msgs = []
    for text in human:
        msgs += [HumanMessage(text), AIMessage("ok")]
    return {"messages": msgs[:-1], "turn": turn, **kw}


# ---- pieces ------------------------------------------------------------------------------------------------------
def test_a_single_request_keeps_the_whole_messages_triage():
    svc, calls = FakeServices(), []
    text = "I want a refund for order BW-12345"
    assert pieces(text, REFUND, state(text), svc, calls) == [(text, REFUND)]
    assert svc.views == [] and calls == []


def test_two_requests_are_triaged_apart_and_share_the_messages_risk():
    first, second = "How do I reset my password?", "I want a refund for order BW-12345."
    text = f"{first} Also, {second}"
    svc, calls = FakeServices({first: PASSWORD, second: REFUND}), []
    whole = tri("refund_request", "action", risk=["legal_threat"])
    out = pieces(text, whole, state("hello", text, turn=3), svc, calls)
    assert out == [(first, {**PASSWORD, "risk": ["legal_threat"]}), (second, {**REFUND, "risk": ["legal_threat"]})]
    assert calls == [{"id": "call-1"}, {"id": "call-2"}]  # every part's LLM calls are the turn's


def test_each_part_is_triaged_with_the_earlier_messages_and_its_own_audit_key():
    first, second = "How do I reset my password?", "I want a refund for order BW-12345."
    text = f"{first} Also, {second}"
    svc = FakeServices({first: PASSWORD, second: REFUND})
    pieces(text, REFUND, state("hello", text, turn=3), svc, [])
    one, two = svc.views
    assert [m.content for m in one["messages"]] == ["hello", first]  # history, then the part: not the whole message
    assert one["turn"] == 3 and one["part"].startswith("read:") and one["part"] != two["part"]
    again = FakeServices({first: PASSWORD, second: REFUND})
    pieces(text, REFUND, state("hello", text, turn=3), again, [])
    assert [v["part"] for v in again.views] == [one["part"], two["part"]]  # the same keys on a replay


def test_a_request_cut_in_two_is_one_request():
    text = "Please cancel order BW-1? Also refund it? And how do I reset my password?"
    head, tail = "Please cancel order BW-1? refund it?", "how do I reset my password?"
    svc = FakeServices({head: PASSWORD, tail: PASSWORD})
    assert pieces(text, REFUND, state(text), svc, []) == [(text, REFUND)]


def test_adjacent_parts_of_one_request_are_joined_and_triaged_again():
    text = "1) refund order BW-1 2) it arrived broken 3) how do I reset my password?"
    joined = "refund order BW-1 it arrived broken"
    svc = FakeServices({"refund order BW-1": REFUND, "it arrived broken": tri("refund_request", "action"),
                        "how do I reset my password?": PASSWORD, joined: REFUND})
    out = pieces(text, REFUND, state(text), svc, [])
    assert [t for t, _ in out] == [joined, "how do I reset my password?"]
    assert out[0][1]["intent"] == "refund_request" and svc.asked[-1] == joined


def test_two_open_questions_on_one_topic_stay_two():
    text = "how do I download my data, and how do I turn off marketing emails?"
    a, b = "how do I download my data", "how do I turn off marketing emails?"
    svc = FakeServices({a: tri("data_export"), b: tri("data_export")})
    assert [t for t, _ in pieces(text, tri("data_export"), state(text), svc, [])] == [a, b]


def test_a_yes_no_question_that_narrows_the_first_is_read_as_one_request():
    text = "Which payment methods do you accept? Can I use PayPal?"
    a, b = "Which payment methods do you accept?", "Can I use PayPal?"
    svc = FakeServices({a: tri("payment_methods"), b: tri("payment_methods")})
    whole = tri("payment_methods")
    assert pieces(text, whole, state(text), svc, []) == [(text, whole)]


# ---- bare_values ---------------------------------------------------------------------------------------------------
def test_a_bare_value_continues_the_request_before_it():
    joined = "I want to return my headphones BW-55555"
    svc, calls = FakeServices({joined: REFUND}), []
    out = bare_values("BW-55555", tri("order_status"), state("I want to return my headphones", "BW-55555", turn=2),
                      svc, calls)
    assert out == [(joined, REFUND)] and len(calls) == 1


def test_values_given_one_by_one_are_read_together_with_the_request():
    joined = "I want a refund it was BW-77001 around $45"
    svc = FakeServices({joined: REFUND})
    msgs = state("I want a refund", "it was BW-77001", "around $45", turn=3)
    assert bare_values("around $45", tri("refund_request", "action"), msgs, svc, []) == [(joined, REFUND)]


def bare(whole: dict) -> dict:
    return {**whole, "intent": "unclear", "kind": "conversation", "action": None, "bare_values": True}


def test_a_bare_value_with_nothing_before_it_is_asked_about():
    whole = tri("order_status")
    svc = FakeServices()
    assert bare_values("BW-55555", whole, state("BW-55555"), svc, []) == [("BW-55555", bare(whole))]
    assert svc.views == []


def test_a_bare_value_whose_joined_reading_is_no_action_is_asked_about():
    joined = "what are your opening hours BW-55555"
    svc = FakeServices({joined: tri("opening_hours")})
    out = bare_values("BW-55555", tri("order_status"), state("what are your opening hours", "BW-55555", turn=2), svc,
                      [])
    assert out == [("BW-55555", bare(tri("order_status")))]


def test_a_bare_value_after_a_request_that_already_ran_is_not_joined_to_it():
    svc = FakeServices()
    recent = {"intent": "refund_request", "turn": 1}
    msgs = state("I want a refund for BW-1, $20", "BW-55555", turn=2, recent=recent)
    assert bare_values("BW-55555", tri("order_status"), msgs, svc, []) == [("BW-55555", bare(tri("order_status")))]
    assert svc.views == []


@pytest.mark.parametrize("text, whole", [
    ("BW-55555", tri("greeting", "conversation")),  # small talk with a number in it
    ("I want a refund for BW-55555", REFUND),  # says what it wants
    ("ok thanks", tri("order_status")),  # no value
])
def test_only_a_terse_value_with_nothing_said_is_bare(text, whole):
    svc = FakeServices()
    assert bare_values(text, whole, state("earlier", text, turn=2), svc, []) is None
    assert svc.views == []


# ---- in_context ------------------------------------------------------------------------------------------------------
RECENT = {"recent": {"intent": "refund_request", "turn": 1}}


def test_a_question_right_after_an_action_is_asked_about_that_action():
    piece = "do I need to send it back?"
    svc = FakeServices()
    text, out = in_context(piece, REFUND, "about my refund", state(piece, turn=2, **RECENT), svc, [])
    assert text == "do I need to send it back? (about my refund)"
    assert out["intent"] == "refund_timeline" and out["kind"] == "question" and out["action"] is None
    assert out["category"] == "billing" and svc.views == []  # read from the taxonomy, no second triage


def test_a_question_naming_its_own_order_is_a_new_action():
    piece = "can you refund BW-2 as well?"
    svc = FakeServices()
    entities = {"order_ids": ["BW-2"]}
    out = in_context(piece, {**REFUND, "entities": entities, "confidence": 0.99}, None,
                     state(piece, turn=2, **RECENT), svc, [])
    assert out == (piece, {**REFUND, "entities": entities, "confidence": 0.99})


def test_a_question_pointing_back_is_triaged_again_with_the_topic():
    piece = "how long until I see the money?"
    hinted = tri("refund_timeline")
    svc, calls = FakeServices({f"{piece} (about my refund)": hinted}), []
    out = in_context(piece, tri("order_status"), "about my refund", state(piece, turn=2), svc, calls)
    assert out == (f"{piece} (about my refund)", hinted) and len(calls) == 1


def test_a_hint_that_reads_as_the_action_becomes_the_question_about_it():
    piece = "when will I get it?"
    svc = FakeServices({f"{piece} (about my refund)": tri("refund_request", "action", entities={})})
    text, out = in_context(piece, tri("order_status"), "about my refund", state(piece, turn=2), svc, [])
    assert text == f"{piece} (about my refund)"
    assert (out["intent"], out["kind"], out["action"], out["category"]) == ("refund_timeline", "question", None,
                                                                            "billing")


def test_a_hint_that_reads_as_an_action_without_a_question_form_keeps_the_first_reading():
    piece = "when will it happen?"
    first = tri("order_status")
    svc = FakeServices({f"{piece} (about cancelling my order)": tri("cancel_order", "action")})
    out = in_context(piece, first, "about cancelling my order", state(piece, turn=2), svc, [])
    assert out == (f"{piece} (about cancelling my order)", first)  # researched with the topic, never run


@pytest.mark.parametrize("piece, triage, topic", [
    ("how long until I see the money?", tri("order_status"), None),  # no action to point back to
    ("how long does shipping to Canada usually take for the big parcels?", tri("shipping"), "about my refund"),
    ("how long does shipping take?", tri("shipping"), "about my refund"),  # points back to nothing
    ("refund $10, it broke", tri("refund_request", "action", confidence=0.3), "about my refund"),  # asks for it
    ("and the money?", tri("refund_request", "action"), "about my refund"),  # a sure action, not a question
])
def test_messages_that_do_not_point_back_are_left_as_read(piece, triage, topic):
    svc = FakeServices()
    assert in_context(piece, triage, topic, state(piece, turn=2), svc, []) == (piece, triage)
    assert svc.views == []
