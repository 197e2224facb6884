"""Only what the customer wrote now is a request: the quoted reply, the forwarded mail and the signature under it
are history.

A customer who answers from their mail client sends the desk's own "Your refund of $89.00 … has been approved"
back with every reply. Read as a request, that approves a second refund; read as a question, its words pull the
answer towards the old topic. mail-parser-reply (maintained, MIT, no dependencies of its own) knows the reply
headers of Gmail, Outlook, Apple Mail and other clients in the languages the desk serves ("On … wrote:",
"-----Original Message-----", "Am … schrieb …:", "Il giorno … ha scritto:"), `>` quoting, forwards, and mobile and
legal signatures; hand-written patterns would know only the clients someone here happened to use.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

LANGUAGES = ["en", "de", "fr", "it", "es", "nl", "pt"]
_PARSER = EmailReplyParser(languages=LANGUAGES)
# A forward's own header line, left at the end of the new text when the customer forwarded mail to us.
_FORWARD_LINE = re.compile(r"\n\s*-{2,}\s*[^\n]{0,40}-{2,}\s*$")


def split_quoted(text: str) -> tuple[str, str]:
    """(the new text, the quoted history). The new text is the latest reply without its signature: a sign-off,
    a name and title, an address, a phone number and a legal notice ("… legally privileged … any unauthorised
    use … is strictly prohibited") are nobody's request, and the notice read as a legal threat once. The whole
    text is new when the parser finds nothing new in it, so a message that is all quote still reaches the desk
    rather than vanishing."""
    try:
        replies = _PARSER.read(text=text).replies
    except Exception:  # the parser is a reader of untrusted text; a failure there must not lose the message
        return text, ""
    latest = replies[0] if replies else None
    new = _clean(latest.content if latest else "")
    body = _clean(latest.body if latest else "") or new
    at = text.find(new) if new else -1
    if at < 0:  # nothing new found
        return text, ""
    quoted = text[at + len(new):].strip()
    return (body, quoted) if quoted or body != text.strip() else (text, "")


def _clean(text: str) -> str:
    return _quote_block(_FORWARD_LINE.sub("", text or "")).strip()


def _quote_block(text: str) -> str:
    """The text without a trailing block of `>`-quoted lines (the quoting convention of RFC 3676, whatever client
    or language wrote it) and the attribution line ending in ":" just above it ("El mié, … escribió:"), for the
    clients whose header the parser does not know."""
    lines = text.rstrip().split("\n")
    end = len(lines)
    while end and (lines[end - 1].lstrip().startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end == len(lines) or not any(line.lstrip().startswith(">") for line in lines[end:]):
        return text
    if end and lines[end - 1].rstrip().endswith(":") and len(lines[end - 1]) < 200:
        end -= 1
    return "\n".join(lines[:end]) if end else text


def new_text(text: str) -> str:
    return split_quoted(text)[0]
