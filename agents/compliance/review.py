"""The human-review loop of the compliance sub-graph (`review`, then `record`), kept with the compliance agent.

`evaluate` has no side effects, and `review` does nothing before `interrupt()` that a re-run would repeat
differently, because a node re-runs from the top when the run resumes: every earlier answer is replayed, so
whatever the loop writes is keyed by the review (interrupt) id. The decision itself is audited by `record`, the
node after `review`, from state that is already checkpointed (a crash after `review` returns can therefore never
leave an audit entry naming a decision that did not take effect). Side effects wait for ticketing.

Every answer, whichever client sent it (the API and CLI, Studio, the SDK), must prove who decided: a reviewer
token or the API's signature; then the reviewer's role and limit are checked, and the review is claimed.

The customer may write while the review waits. The desk (app/review/customer_notes.py) resumes the loop with a
signed `{"customer": ...}` value, which carries no reviewer and so can decide nothing: a note is kept and shown with
the re-asked review (`metadata.customer_notes`, with `opened`, so the item keeps its age), a withdrawal ends the
review with status `withdrawn` (no ticket), audited by `record` with the customer as the actor.
"""

from itertools import count

from langgraph.config import get_config
from langgraph.types import Interrupt, interrupt

from agents.audit_events import record_edit, record_refusal
from agents.compliance import approval
from agents.compliance import nodes as compliance
from agents.compliance.hitl import (
    CustomerMessage,
    Edit,
    Withdraw,
    check_edit,
    check_limits,
    decision_digest,
    from_customer,
    parse_customer,
)
from agents.state import SpecialistState


def review_id(checkpoint_ns: str, index: int) -> str:
    """The id LangGraph gives this node's `index`-th interrupt (the one the API resumes by), computed before it
    is raised so the payload can carry it: answers are signed and claimed against it."""
    return Interrupt.from_ns(None, checkpoint_ns if index == 0 else f"{checkpoint_ns}|{index}").id


def _claimed_by(value) -> tuple[str, str | None]:
    """Who an answer says it is from, and its decision type, for refusing it (it may be malformed)."""
    try:
        d = value["decisions"][0]
        return str(d.get("reviewer") or "?")[:200], str(d.get("type"))[:20]
    except (TypeError, KeyError, IndexError, AttributeError):
        return "?", None


def _digest(thread_id: str, rid: str, value) -> str:
    try:
        check_limits(value)
        return decision_digest(thread_id, rid, value["decisions"][0])
    except Exception:  # noqa: BLE001 - malformed in any way: one key for all such answers to this review
        return "malformed"


MAX_NOTES = 20  # the latest customer notes a review shows
WITHDRAWN_REPLY = "As you asked, I've withdrawn that request: nothing was changed, and our team won't act on it."


def _ask(decision: dict, error: str | None, rid: str, previous: dict | None, notes: list, opened: dict | None) -> dict:
    payload = compliance.review_request(decision, error, rid, previous)
    if notes:
        payload["metadata"]["customer_notes"] = list(notes)
    if opened:
        payload["metadata"]["opened"] = dict(opened)
    return payload


def _from_customer(value, thread_id: str, rid: str, svc) -> CustomerMessage | Withdraw:
    """A customer's message for this review, valid and signed by the desk; ReviewPayloadError otherwise."""
    message = parse_customer(value)
    if not message.signature or not svc.verify_decision(thread_id, rid, value["customer"]):
        raise compliance.ReviewPayloadError("a customer message for a pending review must come through the desk, "
                                            "which signs it; nothing was changed")
    return message


def _withdrawn(decision: dict, message: Withdraw, rid: str) -> dict:
    withdrawal = {"by": "customer", "review_id": rid, "message_id": message.message_id, "at": message.at,
                  "text": message.text, "rule_id": decision["rule_id"]}
    return {**decision, "status": "withdrawn", "message": WITHDRAWN_REPLY, "review": None, "withdrawal": withdrawal}


def review(state: SpecialistState, svc) -> dict:
    """Pause for a human; an unproven, malformed, unqualified or already-claimed answer re-asks with the error.
    A customer's note re-asks with the note attached; a customer's withdrawal ends the review."""
    conf = get_config()["configurable"]
    thread_id, ns = str(conf.get("thread_id") or "no-thread"), conf.get("checkpoint_ns", "")
    decision, error, previous = state["compliance"], None, None
    notes: list[dict] = []
    opened: dict | None = None
    for index in count():
        rid = review_id(ns, index)
        value = interrupt(_ask(decision, error, rid, previous, notes, opened))
        if previous:  # its re-ask has been answered, so the edit that caused it is on disk
            record_edit(svc, thread_id, previous)
        if from_customer(value):
            try:
                message = _from_customer(value, thread_id, rid, svc)
            except compliance.ReviewPayloadError as exc:
                error, previous = str(exc), None
                record_refusal(svc, thread_id, rid, _digest(thread_id, rid, {"decisions": [value.get("customer")]}),
                               "unverified:customer", error, {"rule_id": decision["rule_id"], "decision": "customer",
                                                              "args": decision["action"]["args"]})
                continue
            if isinstance(message, Withdraw):
                return {"compliance": _withdrawn(decision, message, rid), "outcome": None}
            opened = opened or (message.opened.model_dump() if message.opened else {"review_id": rid, "at": message.at})
            notes = [*notes, {"text": message.text, "at": message.at, "message_id": message.message_id,
                              "review_id": rid}][-MAX_NOTES:]
            error, previous = None, None
            continue
        proven = False
        try:
            choice = compliance.parse_resume(value)
            raw = value["decisions"][0]
            proof = approval.prove_reviewer(choice, raw, thread_id, rid, svc)
            proven = True
            if isinstance(choice, Edit):  # same action, no argument blanked, a valid amount
                check_edit(choice.edited_action, decision["action"])
            approval.check_reviewer(decision, choice, svc)  # role and approval limit, from the registry
            digest = decision_digest(thread_id, rid, raw)
            try:
                svc.claims.take(thread_id, rid, choice.reviewer, choice.type, digest)
            except LookupError as exc:
                raise compliance.ReviewPayloadError(str(exc)) from None
        except compliance.ReviewPayloadError as exc:
            error, previous = str(exc), None
            who, kind = _claimed_by(value)
            record_refusal(svc, thread_id, rid, _digest(thread_id, rid, value),
                           f"reviewer:{who}" if proven else f"unverified:{who}", error,
                           {"rule_id": decision["rule_id"], "decision": kind, "args": decision["action"]["args"]})
            continue
        # `via` is the signer's word (the API/CLI's); a token proves the reviewer, not which client sent it.
        via = choice.via if proof == "signature" and choice.via else f"graph:{proof}"
        meta = {"review_id": rid, "via": via, "proof": proof, "digest": digest}
        decided = compliance.apply_decision(decision, choice, state, svc, meta)
        if decided["status"] != "pending":
            return {"compliance": decided, "outcome": None}
        # An edit landed on another rule that needs review: ask again, saying what led here.
        previous = {"review_id": rid, "reviewer": choice.reviewer, "via": meta["via"], "decision": "edit",
                    "edited_args": decided["review"].get("edited_args"), "rule_from": decision["rule_id"],
                    "rule_to": decided["rule_id"], "max_amount": decided.get("max_amount")}
        decision, error, opened = decided, None, None  # another rule's review: a new item, notes still shown


def record_decision(state: SpecialistState, svc) -> dict:
    """Nothing to change: its audit entry (agents/audit_events.py; a withdrawal's here) is the point, written after
    the checkpoint, keyed by the review id so a replay logs nothing new."""
    d = state.get("compliance") or {}
    if w := d.get("withdrawal"):
        thread_id = str(get_config()["configurable"].get("thread_id") or "no-thread")
        svc.audit.record(f"{thread_id}:review_withdrawn:{w['review_id']}", thread_id, "compliance", "review_withdrawn",
                         f"the customer withdrew the request pending review under rule {d['rule_id']}",
                         actor="customer", evidence={"rule_id": d["rule_id"], "policy_version": d.get("policy_version"),
                                                     "action": d.get("action"), "withdrawal": w})
    return {}
