"""The slots step, between triage and the supervisor: what this turn asks for, and what each request still lacks.

A message becomes one or more *parts* (agents/splitting.py cuts clear enumerations; each piece is triaged and
pieces that turn out to be the same request are joined again). An action part gets its arguments from the
message's entities (one action per order when several orders are named); one that lacks a required slot gets
a question instead of a route, and is kept as *pending* in the thread's state. A later message that gives the
missing values continues it, whatever the classifier makes of a bare "BW-61616".

Pending actions and new messages:
- a message that fills a missing value, or says the customer cannot give it, continues the pending action,
  unless it is clearly a new request (a confidently classified different action or escalation) or a new
  question (a confidently classified question with a question mark): a short reply that is little more than
  the values always continues it;
- a new action or escalation replaces it; a question or small talk parks it (a question's answer ends with a
  reminder); "never mind" or a goodbye drops it, and so does `slots.PENDING_TURNS` turns without progress;
- an escalating risk (fraud, a legal threat) does not wait long for details: a person must see it, so the
  action goes to policy with the missing slots listed in `args["missing"]` (compliance never approves it
  automatically, agents/compliance.py `decide`); only a fraud report that names no detail at all is asked
  for them once first (`_escalate_now`).
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage

from agents import slots, triage
from agents.services import Services
from agents.speech_act import speech_act
from agents.splitting import split_requests

READS = ("request", "triage", "messages", "pending", "turn", "recent")
ESCALATING = {"legal_threat", "fraud"}
ORDER_SCOPED = {"order_id"}
MONEY = ("amount", "currency")  # as the customer wrote it: the policy converts with its own rates
# A short question that points back ("how long until I see the money?", "when will I get it?") right after an
# action is about that action: its topic is added before the question is triaged and researched.
BACK_REFERENCE = re.compile(r"\b(?:it|that|this|them|the money|my money|the refund|the cancellation)\b", re.I)
VALUE = re.compile(r"\d")  # an order number or an amount
OPEN_QUESTION = re.compile(r"^\W*(?:and |also |plus )?(?:how|what|what's|when|where|which|who|why)\b", re.I)
TOPIC = {"refund_request": "about my refund", "cancel_order": "about cancelling my order",
         "change_account_details": "about changing my account details", "close_account": "about closing my account"}


def _kind(t: dict) -> str:
    return t.get("kind") or "question"


def triage_text(text: str, state: dict, svc: Services, calls: list) -> dict:
    """Triage one part of the message the way the triage sub-graph triages a whole one."""
    history = [m for m in state.get("messages") or [] if isinstance(m, HumanMessage)][:-1]
    view: dict[str, Any] = {"request": text, "messages": [*history, HumanMessage(text)]}
    view["triage"] = triage.classify(view, svc)["triage"]
    if triage.needs_llm(view, svc):
        out = triage.classify_llm(view, svc)
        view["triage"] = out["triage"]
        calls.extend(out.get("llm_calls") or [])
    return triage.enrich(view, svc)["triage"]


def _two_questions(before: str, text: str, tri: dict) -> bool:
    """Two questions on one topic ("how do I download my data, and how do I turn off marketing emails?") are
    two questions, each with its own answer; an action cut in two is one request. A yes/no question after
    another ("Which payment methods do you accept? Can I use PayPal?") narrows it: one answer."""
    return (_kind(tri) == "question" and bool(OPEN_QUESTION.match(text))
            and speech_act(before) == "question" and speech_act(text) == "question")


def _pieces(text: str, whole: dict, state: dict, svc: Services, calls: list) -> list[tuple[str, dict]]:
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


def _bare_values(text: str, whole: dict, state: dict, svc: Services, calls: list) -> list | None:
    """A bare "BW-61616" or "$80" with nothing waiting for it says no request of its own: read with the message
    before it, it continues a request made there ("I want to return my headphones" … "BW-55555"); otherwise
    the customer is asked what they want done with it, instead of the classifier guessing."""
    if _kind(whole) == "conversation" or not slots.terse(text) or not VALUE.search(text):
        return None
    earlier = [str(m.content) for m in state.get("messages") or [] if isinstance(m, HumanMessage)][:-1]
    values = [text]
    while earlier and slots.terse(earlier[-1]):  # "it was BW-77001" … "around $45": values given one by one
        values.insert(0, earlier.pop())
    ran = (state.get("recent") or {}).get("turn") == state.get("turn", 0) - len(values)
    if earlier and not ran:  # the message that said what it is about, unless its request already ran
        joined_text = " ".join([earlier[-1], *values])
        joined = triage_text(joined_text, state, svc, calls)
        if _kind(joined) == "action":
            return [(joined_text, joined)]
    return [(text, {**whole, "intent": "unclear", "kind": "conversation", "action": None, "bare_values": True})]


def _asks_about_last_action(piece: str, tri: dict, state: dict) -> bool:
    """A question right after an action, classified as that action again but naming no order or amount of its
    own, is about the action just done, not a second one."""
    recent = state.get("recent") or {}
    just_ran = recent.get("intent") == tri.get("intent") and recent.get("turn") == state.get("turn", 0) - 1
    return (_kind(tri) == "action" and just_ran and "?" in piece
            and not slots.entity_values(tri.get("entities") or {}, piece))


def _in_context(piece: str, tri: dict, topic: str | None, state: dict, svc: Services, calls: list) -> tuple:
    """(text, triage) of a question read with the topic of the action it follows, when it points back to it
    (a question, or a short message the classifier is unsure about)."""
    if _asks_about_last_action(piece, tri, state):  # "do I need to send it back?" right after the refund
        asked = (getattr(svc.taxonomy, "asked_as", None) or {}).get(tri["intent"])
        if asked:
            spec = svc.taxonomy.describe(asked)
            tri = {**tri, "intent": asked, "category": spec["category"], "kind": "question", "action": None}
            return (f"{piece} ({topic})" if topic else piece), tri
    unsure = (tri.get("confidence") or 0) < svc.settings.triage_confidence
    if not topic or not (_kind(tri) == "question" or unsure) or len(piece.split()) > 10 \
            or not BACK_REFERENCE.search(piece) or (_kind(tri) == "action" and speech_act(piece) == "request"):
        return piece, tri  # ...and a message that asks for the action itself ("refund $10, it broke") is not one
    text = f"{piece} ({topic})"
    hinted = triage_text(text, state, svc, calls)
    if _kind(hinted) == "question":
        return text, hinted
    asked = (getattr(svc.taxonomy, "asked_as", None) or {}).get(hinted["intent"])  # a question about the action
    if asked:
        spec = svc.taxonomy.describe(asked)
        return text, {**hinted, "intent": asked, "category": spec["category"], "kind": "question", "action": None}
    return text, tri  # still asked as a question: researched with the topic, never run as an action


def _requests(spec: dict, entities: dict) -> list[tuple[dict[str, Any], bool]]:
    """(arguments, amount unsure) per order named: two orders with two amounts are two actions, each decided on
    its own."""
    money = {k: entities[k] for k in MONEY if entities.get(k) is not None}
    if money:
        money.setdefault("currency", "USD")
    orders = list(entities.get("order_ids") or [])
    unsure = bool(entities.get("amount_unsure"))
    if not ORDER_SCOPED & set(slots.required(spec)) or len(orders) < 2:
        return [({**({"order_id": orders[0]} if orders else {}), **money}, unsure)]
    listed = [r for r in entities.get("requests") or [] if isinstance(r, dict) and r.get("order_id")]
    if len(listed) >= 2:
        keep = ("order_id", *MONEY)
        return [({k: r[k] for k in keep if r.get(k) is not None}, bool(r.get("amount_unsure"))) for r in listed]
    amounts = entities.get("amounts") or []
    if len(amounts) == len(orders):
        return [({"order_id": o, "amount": a.get("value", a.get("amount")), "currency": a.get("currency") or "USD"},
                 unsure) for o, a in zip(orders, amounts, strict=True)]
    return [({"order_id": o}, False) for o in orders]  # amounts that cannot be paired: each is asked for


def _pending(spec: dict, tri: dict, args: dict, gaps: list[str], text: str, turn: int, asked: int = 1,
             candidate: dict | None = None) -> dict:
    return {"intent": tri["intent"], "action": tri.get("action") or spec.get("action"), "args": args,
            "missing": gaps, "since": turn, "asked": asked, "request": text, "risk": list(tri.get("risk") or []),
            "candidate": candidate}


def _ask(index: int, text: str, tri: dict, pend: dict, again: bool = False) -> dict:
    q = slots.question(pend["action"], pend["args"], pend["missing"], pend.get("candidate"), again)
    return {"index": index, "request": text, "triage": {**tri, "args": pend["args"]}, "missing": pend["missing"],
            "reply": {"text": q, "outcome": "needs_info"}}


def _escalate_now(tri: dict, spec: dict, args: dict) -> bool:
    """A risk that cannot wait: a legal threat always; fraud once the request names at least one detail (a
    "refund that $300 someone charged" goes to the fraud team as it is). Fraud with no detail at all is asked
    for them once first, so the reviewer gets something to check; the reply goes to review whatever it holds."""
    risk = set(tri.get("risk") or [])
    if "legal_threat" in risk:
        return True
    return bool(ESCALATING & risk) and any(args.get(s) not in (None, "") for s in slots.required(spec))


def _action_parts(index: int, text: str, tri: dict, spec: dict, turn: int) -> tuple[list[dict], list[dict]]:
    """(parts, new pending actions) for one action request, one part per order it names."""
    parts, pending = [], []
    ents = tri.get("entities") or {}
    for args, unsure in _requests(spec, ents):
        candidate = None
        if unsure and "amount" in args:  # an amount read with a guess: confirmed with the customer first
            candidate = {k: args[k] for k in MONEY if k in args}
            args = {k: v for k, v in args.items() if k not in MONEY}
        args, _ = slots.apply(args, {}, text, [s for s in ("field", "value") if s in slots.required(spec)])
        gaps = slots.missing(spec, args)
        unknown = slots.declared_unknown(text, gaps)
        if "amount" in unknown:
            args, gaps = {**args, "missing": ["amount"]}, [g for g in gaps if g != "amount"]
        if gaps and _escalate_now(tri, spec, args):
            args, gaps = {**args, "missing": sorted({*args.get("missing", []), *gaps})}, []
        if not gaps:
            parts.append({"index": index, "request": text, "triage": {**tri, "args": args}})
            continue
        pend = _pending(spec, tri, args, gaps, text, turn, candidate=candidate)
        pending.append(pend)
        parts.append(_ask(index, text, tri, pend, again=bool(unknown)))
    return parts, pending


def _filled(pend: dict, text: str, found: dict) -> tuple[dict, list[str], dict | None, list[str]]:
    """(args, slots filled, amount awaiting confirmation, slots declared unknown) after this message."""
    want = list(pend["missing"])
    args, filled = slots.apply(pend["args"], found, text, want, reply=True)
    candidate = pend.get("candidate")
    if "amount" in want and "amount" not in filled:
        if candidate and slots.YES.search(text):
            args, filled = {**args, **candidate}, [*filled, "amount"]
        elif slots.candidate_amount(found):
            candidate = slots.candidate_amount(found)  # a new amount, itself to be confirmed
        elif candidate and slots.NO.search(text):
            candidate = None
    return args, filled, candidate, slots.declared_unknown(text, [w for w in want if w not in filled], reply=True)


def _continue(pend: dict, text: str, tri: dict, svc: Services, turn: int) -> dict | None:
    """The pending action with this message's values, as a part; None when the message is something else."""
    spec = svc.taxonomy.describe(pend["intent"])
    args, filled, candidate, unknown = _filled(pend, text, slots.entity_values(tri.get("entities") or {}, text))
    progress = bool(filled) or "amount" in unknown or candidate != pend.get("candidate")
    same = tri.get("intent") == pend["intent"]
    if not (progress or unknown or same):
        return None
    sure = (tri.get("confidence") or 0) >= svc.settings.triage_confidence
    if not (slots.terse(text) or same):
        if sure and _kind(tri) in ("action", "escalation"):
            return None  # a new request that happens to carry a value
        if sure and _kind(tri) == "question" and "?" in text:
            return None  # a new question: answered, the pending action waits
    base = {k: v for k, v in tri.items() if k not in ("intent", "category", "kind", "action", "args")}
    merged = {**base, "intent": pend["intent"], "category": spec["category"], "kind": spec["kind"],
              "action": pend["action"], "risk": list(dict.fromkeys([*pend.get("risk", []), *(tri.get("risk") or [])])),
              "continues": True}
    request = f"{pend['request']} {text}"
    if "amount" in unknown:
        args = {**args, "missing": ["amount"]}
    gaps = slots.missing(spec, args)
    if gaps and ESCALATING & set(merged["risk"]):
        args, gaps = {**args, "missing": sorted({*args.get("missing", []), *gaps})}, []
    if not gaps:
        return {"part": {"index": 0, "request": request, "triage": {**merged, "args": args}}, "pending": None}
    asked = pend.get("asked", 1) + (0 if progress else 1)
    if asked > 2:  # two questions have not got it: a person takes over with what we have
        handover = {**merged, "kind": "escalation", "action": "escalate", "args": {**args, "missing": gaps}}
        return {"part": {"index": 0, "request": request, "triage": handover}, "pending": None}
    new = {**pend, "args": args, "missing": gaps, "since": turn, "asked": asked, "request": request,
           "candidate": candidate, "risk": merged["risk"]}
    return {"part": _ask(0, request, merged, new, again=not progress), "pending": new}


def understand(state: dict, svc: Services) -> dict:
    """The turn's parts (in the order they run), the pending actions after it, and the slots asked for."""
    turn, text, whole = state.get("turn", 0), state["request"], state["triage"]
    pending = [p for p in state.get("pending") or [] if turn - p.get("since", turn) <= slots.PENDING_TURNS]
    calls: list = []
    parts: list[dict] = []
    if pending and slots.WITHDRAW.search(text):
        reply = {"text": slots.withdrawn(pending), "outcome": "answered"}
        parts, pending = [{"index": 0, "request": text, "triage": whole, "reply": reply}], []
    elif pending and (hit := _continue(pending[0], text, whole, svc, turn)) is not None:
        parts = [hit["part"]]
        pending = ([hit["pending"]] if hit["pending"] else []) + pending[1:]
    else:
        new_pending: list[dict] = []
        pieces = _bare_values(text, whole, state, svc, calls) or _pieces(text, whole, state, svc, calls)
        recent = state.get("recent") or {}
        topic = next((TOPIC.get(t["intent"]) for _, t in pieces if _kind(t) == "action"),
                     TOPIC.get(recent.get("intent")) if turn - recent.get("turn", -9) <= 2 else None)
        for index, (piece, tri) in enumerate(pieces):
            piece, tri = _in_context(piece, tri, topic, state, svc, calls)
            spec = svc.taxonomy.describe(tri["intent"])
            if _kind(tri) == "action" and tri.get("action") == spec.get("action"):
                got, waiting = _action_parts(index, piece, tri, spec, turn)
                parts += got
                new_pending += waiting
            else:
                parts.append({"index": index, "request": piece, "triage": tri})
        news = any(_kind(p["triage"]) in ("action", "escalation") for p in parts)
        if news or whole.get("intent") == "goodbye":
            pending = new_pending  # a new request replaces what was waiting
        else:
            if pending and any(_kind(p["triage"]) == "question" for p in parts):
                parts.append({"index": len(parts), "request": text, "triage": whole,
                              "reply": {"text": slots.reminder(pending[0]), "outcome": "answered"}})
            pending = new_pending + pending
    return _start(parts, pending, calls)


def _start(parts: list[dict], pending: list[dict], calls: list) -> dict:
    """Questions and small talk run first, actions after them (a review pause then holds only actions);
    parts whose reply is already written run nothing and come last."""
    def rank(p: dict) -> tuple[int, int]:
        ready = 2 if p.get("reply") else (1 if _kind(p["triage"]) in ("action", "escalation") else 0)
        return ready, p["index"]
    parts = sorted(parts, key=rank)
    first = parts[0]
    asked = list(dict.fromkeys(s for p in parts for s in p.get("missing") or []))
    update: dict[str, Any] = {"parts": parts, "part": None if first.get("reply") else 0, "mark": 0,
                              "pending": pending, "missing": asked, "request": first["request"],
                              "triage": first["triage"]}
    if calls:
        update["llm_calls"] = calls
    return update
