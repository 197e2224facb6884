"""The slots step, between triage and the supervisor: what this turn asks for, and what each request still lacks.

A message becomes one or more *parts* (agents/turn/splitting.py cuts clear enumerations; each piece is triaged and
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
  automatically, agents/compliance/nodes.py `decide`); only a fraud report that names no detail at all is asked
  for them once first (`_escalate_now`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from agents import orders
from agents.services import Services
from agents.state import SupportState
from agents.turn import reading, slots
from agents.turn.correction import repaired

READS = ("request", "triage", "messages", "pending", "turn", "recent", "customer")
ESCALATING = {"legal_threat", "fraud"}
ORDER_SCOPED = {"order_id"}
MONEY = ("amount", "currency")  # as the customer wrote it: the policy converts with its own rates
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


def _refundable(state: SupportState, svc: Services, action: str | None, args: dict) -> dict | None:
    """What the system says can still be refunded on the named order, offered to the customer to confirm (never
    used unconfirmed): a refund asked for without an amount. None without a verified customer or a connected
    system, or when nothing is left."""
    if action != "refund" or not args.get("order_id"):
        return None
    found = orders.look_up(state, svc, {"name": action, "args": args})
    order = (found or {}).get("order") or {}
    left = order.get("refundable")
    if (found or {}).get("lookup") != "found" or not isinstance(left, int | float) or left <= 0:
        return None
    return {"amount": float(left), "currency": order.get("currency") or "USD", "source": "order"}


def _action_parts(index: int, text: str, tri: dict, spec: dict, turn: int, propose=None
                  ) -> tuple[list[dict], list[dict]]:
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
        if gaps == ["amount"] and candidate is None and propose is not None:
            candidate = propose(tri.get("action") or spec.get("action"), args)
        pend = _pending(spec, tri, args, gaps, text, turn, candidate=candidate)
        pending.append(pend)
        parts.append(_ask(index, text, tri, pend, again=bool(unknown)))
    return parts, pending


def _filled(pend: dict, text: str, found: dict) -> tuple[dict, list[str], dict | None, list[str]]:
    """(args, slots filled, amount awaiting confirmation, slots declared unknown) after this message."""
    want = list(pend["missing"])
    if repaired(text):  # "…oh and typo, the order is BW-38820 not BW-38802": it replaces what was given before
        given = {"order_id": bool(found.get("order_ids")), "amount": bool(found.get("amount"))}
        want += [s for s, named in given.items() if named and s not in want]
    args, filled = slots.apply(pend["args"], found, text, want, reply=True)
    candidate = pend.get("candidate")
    if "amount" in want and "amount" not in filled:
        if candidate and slots.YES.search(text):
            args, filled = {**args, **{k: candidate[k] for k in MONEY if k in candidate}}, [*filled, "amount"]
        elif slots.candidate_amount(found):
            candidate = slots.candidate_amount(found)  # a new amount, itself to be confirmed
        elif candidate and slots.NO.search(text):
            candidate = None
    return args, filled, candidate, slots.declared_unknown(text, [w for w in want if w not in filled], reply=True)


def _continue(pend: dict, text: str, tri: dict, svc: Services, turn: int, propose=None) -> dict | None:
    """The pending action with this message's values, as a part; None when the message is something else."""
    spec = svc.taxonomy.describe(pend["intent"])
    args, filled, candidate, unknown = _filled(pend, text, slots.entity_values(tri.get("entities") or {}, text))
    progress = bool(filled) or "amount" in unknown or candidate != pend.get("candidate")
    same = tri.get("intent") == pend["intent"]
    if not (progress or unknown or same):
        return None
    sure = (tri.get("confidence") or 0) >= svc.settings.triage_confidence
    if not (slots.terse(text) or same):
        if sure and reading.kind(tri) in ("action", "escalation"):
            return None  # a new request that happens to carry a value
        if sure and reading.kind(tri) == "question" and "?" in text:
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
    if gaps == ["amount"] and candidate is None and propose is not None and "order_id" in filled:
        candidate = propose(pend["action"], args)
    asked = pend.get("asked", 1) + (0 if progress else 1)
    if asked > 2:  # two questions have not got it: a person takes over with what we have
        handover = {**merged, "kind": "escalation", "action": "escalate", "args": {**args, "missing": gaps}}
        return {"part": {"index": 0, "request": request, "triage": handover}, "pending": None}
    new = {**pend, "args": args, "missing": gaps, "since": turn, "asked": asked, "request": request,
           "candidate": candidate, "risk": merged["risk"]}
    return {"part": _ask(0, request, merged, new, again=not progress), "pending": new}


def understand(state: SupportState, svc: Services) -> dict:
    """The turn's parts (in the order they run), the pending actions after it, and the slots asked for."""
    turn, text, whole = state.get("turn", 0), state["request"], state["triage"]
    pending = [p for p in state.get("pending") or [] if turn - p.get("since", turn) <= slots.PENDING_TURNS]
    calls: list = []
    parts: list[dict] = []
    propose = partial(_refundable, state, svc)
    if pending and slots.WITHDRAW.search(text):
        reply = {"text": slots.withdrawn(pending), "outcome": "answered"}
        parts, pending = [{"index": 0, "request": text, "triage": whole, "reply": reply}], []
    elif pending and (hit := _continue(pending[0], text, whole, svc, turn, propose)) is not None:
        parts = [hit["part"]]
        pending = ([hit["pending"]] if hit["pending"] else []) + pending[1:]
    else:
        new_pending: list[dict] = []
        pieces = [(text, whole)] if whole.get("wants_person") else (  # a person takes the whole message
            reading.bare_values(text, whole, state, svc, calls) or reading.pieces(text, whole, state, svc, calls))
        recent = state.get("recent") or {}
        topic = next((reading.TOPIC.get(t["intent"]) for _, t in pieces if reading.kind(t) == "action"),
                     reading.TOPIC.get(recent.get("intent")) if turn - recent.get("turn", -9) <= 2 else None)
        for index, (piece, tri) in enumerate(pieces):
            piece, tri = reading.in_context(piece, tri, topic, state, svc, calls)
            spec = svc.taxonomy.describe(tri["intent"])
            if reading.kind(tri) == "action" and tri.get("action") == spec.get("action"):
                got, waiting = _action_parts(index, piece, tri, spec, turn, propose)
                parts += got
                new_pending += waiting
            else:
                parts.append({"index": index, "request": piece, "triage": tri})
        news = any(reading.kind(p["triage"]) in ("action", "escalation") for p in parts)
        if news or whole.get("intent") == "goodbye":
            pending = new_pending  # a new request replaces what was waiting
        else:
            if pending and any(reading.kind(p["triage"]) == "question" for p in parts):
                parts.append({"index": len(parts), "request": text, "triage": whole,
                              "reply": {"text": slots.reminder(pending[0]), "outcome": "answered"}})
            pending = new_pending + pending
    return _start(parts, pending, calls)


def _start(parts: list[dict], pending: list[dict], calls: list) -> dict:
    """Questions and small talk run first, actions after them (a review pause then holds only actions);
    parts whose reply is already written run nothing and come last."""
    def rank(p: dict) -> tuple[int, int]:
        ready = 2 if p.get("reply") else (1 if reading.kind(p["triage"]) in ("action", "escalation") else 0)
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
