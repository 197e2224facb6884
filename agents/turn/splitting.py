"""Several requests in one message: cut it where the customer clearly starts another request.

Only clear markers split: an enumeration ("Two things: …", numbered or bulleted lists), a new
sentence or clause that opens like a request or question ("Also, …", "…, and can you …", "…? Where is …"),
never a plain full stop, because "My earphones broke. Can I return them?" is one request. The planner then
classifies each part and merges parts that turn out to be the same request.
"""

from __future__ import annotations

import re

from agents.turn.correction import repaired

MAX_PARTS = 4
MIN_WORDS = 3

_INTRO = re.compile(r"^[^:\n]{0,40}?\b(?:two|three|four|2|3|4|a (?:couple|few)|couple|few|some|several|multiple|quick)"
                    r"(?: of)? (?:quick |more |small )?(?:things|questions"
                    r"|requests|issues|problems)\b[^:\n]{0,20}?(?:[:\-–—]|\.(?=\s)|$)\s*", re.I)
# Numbered items may run inline ("1) … 2) …"); a dash or bullet starts an item only at the start of a line, since
# mid-line " - " is a dash ("refund $28 for BW-1 - sorry, I meant BW-2").
_LIST = re.compile(r"(?:(?:^|\n|\s)\(?\d{1,2}[.)]|(?:^|\n)\s*[-•*])\s+(?=\S)")
# How a new request opens: a connective (also, and, plus…) and/or a question word, a polite ask or an action verb.
_CONNECT = r"(?:(?:and also|and|also|plus|oh and|another thing|one more thing|separately|besides|p\.?s\.?)[,:]?\s+)"
_OPENER = (r"(?:can|could|would|will|please|pls|how|what|when|where|why|which|who|is|are|do|does|did|i(?:'d| would)"
           r" (?:like|also like)|i (?:also )?(?:want|need)|cancel|refund|change|update|close|delete|reset|track"
           r"|send|give)\b")
_ACTION_WITH_ORDER = r"(?:cancel|refund|return|change|update)\b[^.?!]*(?:#\s?\d|\bBW-\d|\border\s+\d)"
_WHOLE_ACTION = re.compile(_ACTION_WITH_ORDER, re.I)
_AFTER_QUESTION = re.compile(rf"(?<=\?)\s+(?={_CONNECT}?{_OPENER})", re.I)
_CONNECTED = re.compile(
    rf"(?:[.;!]\s+|,\s*|\n\s*)(?=(?:also|plus|and also|another thing|one more thing|separately|p\.?s\.?)[,:]?\s+\S)"
    rf"|\s+(?=and also\s+\S)|,\s*(?=and\s+{_OPENER})|\s+(?=and\s+(?:can|could|would|will|please|pls)\b)"
    rf"|\s+(?=and\s+{_ACTION_WITH_ORDER})"
    rf"|(?<=\?)\s+(?=and\s)|\s+(?=and\s+(?![^?]*\b(?:it|its|that|this|they|them|those|these)\b)"  # "…and how fast is
    rf"(?:do|does|is|are|how|what|when|where|which|who|why)\s+\w+\s+\w+[^?]*\?\s*$)",  # it?" asks about the same thing
    re.I)
_LEAD = re.compile(rf"^\s*{_CONNECT}", re.I)
_TRAIL = re.compile(r"(?:[\s,;]+(?:and|also)|[,;]\s*plus)?[\s,;]*$", re.I)  # "…, plus" joins; "Brightwave Plus" stays


def _pieces(text: str) -> list[str]:
    body = _INTRO.sub("", text, count=1)
    enumerated = body != text
    items = [p for p in _LIST.split(body) if p.strip()]
    parts: list[str] = []
    for item in items if len(items) > 1 else [body]:
        for chunk in _AFTER_QUESTION.split(item):
            parts.extend(c for c in _CONNECTED.split(chunk) if c and c.strip())
    if enumerated and len(parts) == 1:  # "Two things: A and B" with no opener before B
        parts = [p for p in re.split(r",?\s+and\s+", body) if p.strip()]
    return parts


def split_requests(text: str) -> list[str]:
    """The message's requests in order; one element (the whole text) when it holds a single request."""
    parts = [_TRAIL.sub("", _LEAD.sub("", p)).strip(" ,;") for p in _pieces(text)]
    parts = [p for p in parts if p and not _INTRO.fullmatch(p)]
    merged: list[str] = []
    carry = ""
    for part in parts:
        if merged and repaired(part):  # a correction belongs to the request it corrects
            merged[-1] = f"{merged[-1]} {part}"
            continue
        if len(part.split()) < MIN_WORDS and not _WHOLE_ACTION.match(part):  # too short to stand alone: joins a
            # neighbour; "cancel BW-66021" is short but whole
            if merged:
                merged[-1] = f"{merged[-1]} {part}"
            else:
                carry = f"{carry} {part}".strip()
            continue
        merged.append(f"{carry} {part}".strip() if carry else part)
        carry = ""
    if len(merged) < 2 or len(merged) > MAX_PARTS:
        return [text]
    return merged
