"""Retrieved text is data: an answer that tells the customer to hand over a secret, or to go somewhere the operator
has not allowed, is withheld for a person.

Whoever can upload a document can write the desk's answers: a planted page that says "send your full card number
and CVV to …" is retrieved, quoted and cited like any other, and the grounding check passes it, because it *is*
in the sources. So every answer (extractive or LLM) and every citation snippet the customer would see is screened
for what it tells the customer to do: hand over a card number, security code, PIN, password or one-time code
(agents/research/solicitation.py), or follow a link, a bare domain or an email address outside `link_allowlist`
(agents/research/links.py).

A withheld answer takes the path of an answer that failed its grounding check, on purpose: the customer gets a
neutral holding reply, and the planner opens a follow-up ticket, here at high priority with what was found, so a
person answers the customer and someone looks at the document. A ticket, not the review `interrupt()`, because
that is what a support team expects for "a person must answer this": review pauses the thread for a qualified
approver to approve, edit or reject a proposed *action* within their limits, and a question has no action to
approve; a paused thread would also hold the customer's next message back. Nothing of the withheld text reaches
the customer or the thread's messages; the findings stay on the team's side (state, the ticket, the audit trail).
"""

from __future__ import annotations

from agents.research.links import allowed_domains, outside_links
from agents.research.solicitation import solicitations

PRIORITY = "high"  # a person should see a possibly planted document before many customers ask the same question
QUOTE_CHARS = 300


def findings(text: str, allowed: tuple[str, ...]) -> list[dict]:
    """What in `text` the desk must not tell a customer: secrets asked for, links outside the allowlist."""
    out = [{"kind": "secret_request", "what": s.secret, "text": s.sentence[:QUOTE_CHARS]}
           for s in solicitations(text)]
    out += [{"kind": "outside_link", "what": link.host or link.text, "text": link.text[:QUOTE_CHARS]}
            for link in outside_links(text, allowed)]
    return out


def reason(finding: dict) -> str:
    if finding["kind"] == "secret_request":
        return f"asks the customer for a {finding['what']}"
    return f"links to {finding['what']}, outside the link allowlist"


def screen(research: dict, link_allowlist: str | None) -> dict:
    """`research` as it was, or with its answer withheld: no answer, no citations, not grounded, and `withheld`
    saying why (reasons, findings, the documents it came from, the ticket priority)."""
    allowed = allowed_domains(link_allowlist)
    shown = [research.get("answer") or "", *((c.get("snippet") or "") for c in research.get("citations") or [])]
    found = [f for text in shown for f in findings(text, allowed)]
    if not found:
        return research
    unique = list({(f["kind"], f["what"], f["text"]): f for f in found}.values())
    withheld = {"reasons": list(dict.fromkeys(reason(f) for f in unique)), "findings": unique,
                "documents": [c["doc_id"] for c in research.get("citations") or []] or research.get("retrieved", []),
                "answered_by": research.get("answered_by"), "priority": PRIORITY}
    return {**research, "answer": "", "citations": [], "grounded": False, "unsupported": [],
            "grounding_by": "answer guard", "withheld": withheld}
