"""Is the customer asking us to do something, or asking about it?

"Can I cancel just one item?" and "cancel order BW-1" share every content word, so a classifier trained on
topics calls both a cancellation; the difference is the form of the sentence. A message counts as a question
about an action only on clear interrogative cues and no cue of a request, so an ambiguous message keeps the
action (and with it the policy check), never the other way round:

* strong question cues are hypothetical or informational whatever follows ("is it possible", "how long",
  "what happens if", "do you allow");
* weak ones ("can I", "how do I") are questions unless the customer names the order or the amount, which is
  how people ask for the thing itself ("can I cancel order BW-61616?");
* request cues win over both: imperatives ("cancel order BW-1"), "can you …", "I want …", "please", "just do it".
"""

from __future__ import annotations

import re

from knowledge.text import split_sentences

_LEAD = (r"^(?:(?:hi|hello|hey|ok(?:ay)?|so|well|also|and|but|great|fine|thanks|quick question|just wondering|"
         r"sorry)\W+)*")
STRONG = re.compile(
    _LEAD + r"(how (long|many|much|soon|often|quickly|fast)|what (happens|if|is (your|the)|are (your|the))|"
    r"what's (your|the)|when (can|do|does|will|would|is|are|should)|is (it|there|this) (possible|a way|allowed|ok)|"
    r"is it too late|are (you|we) allowed|do you (allow|accept|let|offer|do|have|take|charge|refund|cancel|accept)|"
    r"does (a|an|the|your|it|my|cancelling|canceling|closing|returning)|will i|would i|if i|are .{0,40} "
    r"(refundable|returnable|cancell?able)|is .{0,40}(refundable|returnable|cancell?able)|which|who)\b"
    r"|\b((can|could) you (tell|explain|let me know|say|confirm whether|clarify)|i was wondering|i'm wondering|"
    r"im wondering|wondering (if|whether)|(want|like|need) to know|"
    r"curious (if|whether|about)|policy (on|for|about)|in general|hypothetically)\b", re.I)
WEAK = re.compile(_LEAD + r"(how\b|can i|could i|may i|am i (able|allowed)|do i|should i|is it|is there|are there|"
                  r"can (we|one|customers?|members?|people|you guys)\b)", re.I)
REQUEST = re.compile(
    r"(^(?:(?:ok(?:ay)?|so|well|great|fine|right|then|yes|actually|also|and|now)\W+)*"
    r"(please |pls |plz |kindly )?(cancel|refund|close|delete|remove|deactivate|terminate|change|update|switch|"
    r"process|give|send|stop|void|kill|revoke|erase|shut|end|modify|set|replace|correct|add|return my|"
    r"get rid|make|issue|reverse|credit)\b)"
    r"|\b(can|could|would|will|won't) (you|u|ya|someone|somebody)(?! (tell|explain|let me know|say|confirm whether|"
    r"clarify))\b"
    r"|(?<!do )(?<!did )(?<!will )(?<!would )(?<!should )(?<!what )"  # "do I need to…?" asks
    r"\b(i want|i'd like|i would like|i wish|i need|i demand|i'm requesting|i am requesting|i request|"
    r"i'm asking you|please|pls|plz|just do it|right away|asap|immediately|go ahead|(it|this|that|them) for me)\b"
    r"(?! to (know|understand|check|ask|find out|learn))", re.I)
SPECIFIC = re.compile(r"(#\s?[A-Z]{0,3}-?\d{3,}|\bBW-?\d{3,}|\border\s*(number|no\.?|id)?\s*[:#]?\s*\d{4,}|"
                      r"[$€£]\s?\d|\d\s?(dollars?|usd|euros?|eur|pounds?|gbp|bucks)\b)", re.I)


LOOSE_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
CLAUSES = re.compile(r",\s+|\s+[-–—]\s+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in split_sentences(text) if s.strip()] or [text]


def request_sentences(text: str) -> list[str]:
    """The sentences of a longer message that ask us to do something ("The charger was the wrong model.
    Refund 75 dollars to my card."); in a message of one sentence, its clauses ("my account was hacked and someone
    placed an order with it, cancel it now")."""
    for cut in (LOOSE_SENTENCES, CLAUSES):  # chat: "hacked!! someone…"
        parts = [s.strip() for s in cut.split(text) if s.strip()]
        if len(parts) > 1:
            return [s for s in parts if REQUEST.search(s)]
    return []


def explicit_request(text: str) -> bool:
    """Whether the message itself says "do it" (an imperative, "can you", "I want", "please", ...)."""
    return any(REQUEST.search(s) for s in _sentences(text))


def speech_act(text: str) -> str:
    """'question' when the message asks about something, 'request' when it asks us to do it."""
    sentences = _sentences(text)
    if explicit_request(text):
        return "request"
    if any(STRONG.search(s) for s in sentences):
        return "question"
    if any(WEAK.search(s) for s in sentences) and not SPECIFIC.search(text):
        return "question"
    return "request"
