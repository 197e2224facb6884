"""Reading one message into requests: each piece of text with its triage, read in the conversation's context.

Split out of the slots step (agents/turn/understand.py), which decides what each request still lacks: this part
only says what was asked. A message with several requests is cut at clear markers (agents/turn/splitting.py) and
each piece triaged; pieces that turn out to be the same request are joined again,
and two questions on one topic stay two.
A bare "BW-61616" or "$80" is read with the message that said what it is for; a short question that points back
("how long until I see the money?") is read with the topic of the action it follows.
"""

from __future__ import annotations

import hashlib
import re

from langchain_core.messages import HumanMessage

from agents.services import Services
from agents.state import SupportState
from agents.turn import slots
from agents.turn.speech_act import speech_act
from agents.turn.splitting import split_requests

# A short question that points back ("how long until I see the money?", "when will I get it?") right after an
# action is about that action: its topic is added before the question is triaged and researched.
BACK_REFERENCE = re.compile(r"\b(?:it|that|this|them|the money|my money|the refund|the cancellation)\b", re.I)
VALUE = re.compile(r"\d")  # an order number or an amount
OPEN_QUESTION = re.compile(r"^\W*(?:and |also |plus )?(?:how|what|what's|when|where|which|who|why)\b", re.I)
TOPIC = {"refund_request": "about my refund", "cancel_order": "about cancelling my order",
         "change_account_details": "about changing my account details", "close_account": "about closing my account"}


def kind(t: dict) -> str:
    return t.get("kind") or "question"


def triage_text(text: str, state: SupportState, svc: Services, calls: list) -> dict:
    """Triage one part of the message by the triage sub-graph itself (Services.triage). `part` keys its audit
    entries apart from the whole message's and from other parts', the same on a replay."""
    history = [m for m in state.get("messages") or [] if isinstance(m, HumanMessage)][:-1]
    part = "read:" + hashlib.sha256(text.encode()).hexdigest()[:12]
    out = svc.triage({"request": text, "messages": [*history, HumanMessage(text)], "turn": state.get("turn", 0),
                      "part": part})
    calls.extend(out.get("llm_calls") or [])
    return out["triage"]


def _two_questions(before: str, text: str, tri: dict) -> bool:
    """Two questions on one topic ("how do I download my data, and how do I turn off marketing emails?") are
    two questions, each with its own answer; an action cut in two is one request. A yes/no question after
    another ("Which payment methods do you accept? Can I use PayPal?") narrows it: one answer."""
    return (kind(tri) == "question" and bool(OPEN_QUESTION.match(text))
            and speech_act(before) == "question" and speech_act(text) == "question")


def pieces(text: str, whole: dict, state: SupportState, svc: Services, calls: list) -> list[tuple[str, dict]]:
    """(text, triage) per request; a single request keeps the triage the sub-graph already made."""
    texts = split_requests(text)
    if len(texts) == 1:
        return [(text, whole)]
    groups: list[list[tuple[str, dict]]] = []
    for t in texts:
        tri = triage_text(t, state, svc, calls)
        if groups and groups[-1][-1][1]["intent"] == tri["intent"] and not _two_questions(groups[-1][-1][0], t, tri):
            groups[-1].append((t, tri))  # the same request, cut in two
        else:
            groups.append([(t, tri)])
    if len(groups) == 1:
        return [(text, whole)]
    pieces = [g[0] if len(g) == 1 else (joined := " ".join(t for t, _ in g), triage_text(joined, state, svc, calls))
              for g in groups]
    risks = list(whole.get("risk") or [])  # a threat anywhere in the message covers every request in it
    return [(t, {**tri, "risk": list(dict.fromkeys([*(tri.get("risk") or []), *risks]))}) for t, tri in pieces]


def bare_values(text: str, whole: dict, state: SupportState, svc: Services, calls: list) -> list | None:
    """A bare "BW-61616" or "$80" with nothing waiting for it says no request of its own: read with the message
    before it, it continues a request made there ("I want to return my headphones" … "BW-55555"); otherwise
    the customer is asked what they want done with it, instead of the classifier guessing."""
    if kind(whole) == "conversation" or not slots.terse(text) or not VALUE.search(text):
        return None
    earlier = [str(m.content) for m in state.get("messages") or [] if isinstance(m, HumanMessage)][:-1]
    values = [text]
    while earlier and slots.terse(earlier[-1]):  # "it was BW-77001" … "around $45": values given one by one
        values.insert(0, earlier.pop())
    ran = (state.get("recent") or {}).get("turn") == state.get("turn", 0) - len(values)
    if earlier and not ran:  # the message that said what it is about, unless its request already ran
        joined_text = " ".join([earlier[-1], *values])
        joined = triage_text(joined_text, state, svc, calls)
        if kind(joined) == "action":
            return [(joined_text, joined)]
    return [(text, {**whole, "intent": "unclear", "kind": "conversation", "action": None, "bare_values": True})]


def _asks_about_last_action(piece: str, tri: dict, state: SupportState) -> bool:
    """A question right after an action, classified as that action again but naming no order or amount of its
    own, is about the action just done, not a second one."""
    recent = state.get("recent") or {}
    just_ran = recent.get("intent") == tri.get("intent") and recent.get("turn") == state.get("turn", 0) - 1
    return (kind(tri) == "action" and just_ran and "?" in piece
            and not slots.entity_values(tri.get("entities") or {}, piece))


def in_context(piece: str, tri: dict, topic: str | None, state: SupportState, svc: Services, calls: list) -> tuple:
    """(text, triage) of a question read with the topic of the action it follows, when it points back to it
    (a question, or a short message the classifier is unsure about)."""
    if _asks_about_last_action(piece, tri, state):  # "do I need to send it back?" right after the refund
        asked = (getattr(svc.taxonomy, "asked_as", None) or {}).get(tri["intent"])
        if asked:
            spec = svc.taxonomy.describe(asked)
            tri = {**tri, "intent": asked, "category": spec["category"], "kind": "question", "action": None}
            return (f"{piece} ({topic})" if topic else piece), tri
    unsure = (tri.get("confidence") or 0) < svc.settings.triage_confidence
    if not topic or not (kind(tri) == "question" or unsure) or len(piece.split()) > 10 \
            or not BACK_REFERENCE.search(piece) or (kind(tri) == "action" and speech_act(piece) == "request"):
        return piece, tri  # ...and a message that asks for the action itself ("refund $10, it broke") is not one
    text = f"{piece} ({topic})"
    hinted = triage_text(text, state, svc, calls)
    if kind(hinted) == "question":
        return text, hinted
    asked = (getattr(svc.taxonomy, "asked_as", None) or {}).get(hinted["intent"])  # a question about the action
    if asked:
        spec = svc.taxonomy.describe(asked)
        return text, {**hinted, "intent": asked, "category": spec["category"], "kind": "question", "action": None}
    return text, tri  # still asked as a question: researched with the topic, never run as an action
