"""Whether a text tells the customer to hand over a secret: a card number, a security code, a PIN, a password, a
one-time code.

A help centre mentions these all the time ("we will never ask for your PIN", "enter the six-digit code to
confirm", "choose a new password and confirm it"); what a planted document adds is a *directive* whose object is
the secret: "send your full card number and CVV to …", "reply with the 16 digits on the front of your card",
"text the code we sent you to …". So a sentence is judged by its grammar, not by a list of phrases, with the
vocabulary of agents/research/secret_words.py:

* a **secret**, however it is described ("the 3 digits on the back", "the code we texted you", "login details");
* the object of a **disclosure verb** (send, share, reply with, text, tell, read out, …), with nothing between
  them that makes the secret something else's ("include a symbol in your password" hands nothing over);
* in a **directive frame**: an imperative (also as a conjunct, "open the app and send …", "confirm it by
  sending …"), an instruction to the customer ("you can/must/will need to …", "customers should …"), the desk
  asking ("we need your …", "our agent will ask you to …", "make sure to …") or a passive ("your CVV must be
  emailed to …");
* **not negated** in its clause ("never share", "we will never ask you to send", "do not reply or share").

Entering a secret (enter, type, confirm, verify) is what customers do in our own product every day, so it counts
only towards a channel a person reads (a reply, a chat, an email, "to us", "here"); where a link leads is the link
allowlist's business (agents/research/links.py). A pronoun object ("send them to …") stands for a secret the same
or the previous sentence states in a main clause, not negated ("your PIN is private; never share it" and "if a
message asks for your PIN, forward it" hand nothing over), or for a code it says was sent ("we'll text you a code;
reply with it"). English only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.research import secret_words as w
from knowledge.text import split_sentences


@dataclass(frozen=True)
class Solicitation:
    secret: str  # the kind of secret asked for ("card number", "PIN", …)
    sentence: str  # the sentence, as written


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe and dash, contractions expanded ("don't" → "do not")."""
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"[‐‑‒–—―]", "-", t)
    for pattern, repl in ((r"\bwon't\b", "will not"), (r"\b(ca|sha)n't\b", r"\1n not"), (r"n't\b", " not"),
                          (r"'ll\b", " will"), (r"'re\b", " are"), (r"'d\b", " would"), (r"'ve\b", " have")):
        t = re.sub(pattern, repl, t)
    return re.sub(r"\s+", " ", t).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[\w\[\]'-]+", text)


def _boundary(s: str, end: int) -> tuple[int, int, str]:
    """(start, end, text) of the last clause boundary before `end`; (0, 0, "") when the clause opens the sentence."""
    last = None
    for last in w.BOUNDARY.finditer(s, 0, end):  # noqa: B007 - the last one is wanted
        pass
    return (last.start(), last.end(), last.group()) if last else (0, 0, "")


def _negates(words: list[str]) -> bool:
    """A negation among `words`, unless it negates "forget" and its like ("do not forget to send …")."""
    return any(x in w.NEGATIONS and not (i + 1 < len(words) and words[i + 1] in w.AFFIRMING)
               for i, x in enumerate(words))


def _negated_before(s: str, comma: int) -> bool:
    """A bare negation in the comma-separated chunks before `comma`: "never, under any circumstances, share …"
    (but "don't worry, just send …" negates the worrying)."""
    for chunk in reversed(s[:comma].split(",")):
        *earlier, last = re.split(r"[.;:!?]", chunk)
        words = [x for x in _words(last) if x not in w.ADVERBS]
        if words and all(x in w.NEGATIONS or x in ("do", "ever") for x in words):
            return True
        if earlier or not words or words[0] not in w.TRANSPARENT:
            return False
    return False


def _directive(s: str, verb: re.Match) -> bool:
    """Whether `verb` is said to the customer as something to do."""
    b_start, b_end, kind = _boundary(s, verb.start())
    lead = _words(s[b_end:verb.start()])
    if _negates(lead):
        return False
    core = [x for x in lead if x not in w.ADVERBS]
    first = verb.group().split()[0]
    if first.endswith("ing") and len(first) > 4 and kind != "by":  # "…, including the CVV" lists, asks nothing
        return bool(core) and _addressed(core, kind, [], lambda: False)
    if core:
        return _addressed(core, kind, _words(s[:b_start]), lambda: _clause_directive(s, b_start))
    if kind in w.SUBORDINATORS:
        return False
    if kind in w.COORDINATORS:  # a conjunct: "open the app and send …", "confirm it by sending …"
        if kind in ("or", "nor") and _negates(_words(s[_boundary(s, b_start)[1]:b_start])):
            return False
        return _clause_directive(s, b_start)
    return not (kind == "," and _negated_before(s, b_start))


def _clause_directive(s: str, end: int) -> bool:
    """Whether the clause ending at `end` is a directive: it opens with a verb, or tells the customer what to do."""
    b_start, b_end, kind = _boundary(s, end)
    if kind in w.COORDINATORS:
        return _clause_directive(s, b_start)
    words = [x for x in _words(s[b_end:end]) if x not in w.ADVERBS]
    if kind in w.SUBORDINATORS or not words or _negates(words) or (kind == "," and _negated_before(s, b_start)):
        return False
    if words[0] in w.ADDRESSEES:
        return any(x in w.MODALS for x in words[1:4] if x in w.AUX)
    return not w.FIRST_PARTY.match(" ".join(words)) and words[0] not in w.NOT_IMPERATIVE


def _addressed(core: list[str], kind: str, before: list[str], conjunct) -> bool:
    """A lead such as "you will need to", "customers who … must", "our agent will ask you to", "make sure to";
    `conjunct()` judges the clause before a coordinator ("scammers may call and ask you to …")."""
    tail = 0
    while tail < len(core) and core[-1 - tail] in w.AUX:
        tail += 1
    head, run = core[:len(core) - tail], core[len(core) - tail:]
    if any(x in w.MODALS for x in run) and not w.NARRATIVE & set(run):
        if head and head[-1] in w.ADDRESSEES:
            return True
        if kind in ("who", "that") and before and before[-1] in w.ADDRESSEES:  # "customers who … must send"
            return True
    if kind == "that" and before and before[-1] in w.CONTROL and core[0] in w.ADDRESSEES:  # "we ask that you send"
        return True
    if run[-2:] in (["is", "to"], ["are", "to"]):  # "the fastest way is to send …"
        return True
    if core[-1] == "to" and any(x in w.CONTROL for x in core):
        subject = " ".join(x for x in head if x not in w.CONTROL | w.AUX | w.NEGATIONS and x != "you")
        if not subject:
            return conjunct() if kind in w.COORDINATORS else kind not in w.SUBORDINATORS
        return bool(w.FIRST_PARTY.match(subject)) or subject.split()[0] in w.ADDRESSEES or subject == "it"
    return False


def _requested(s: str, verb: re.Match) -> bool:
    """Whether a request verb is the desk's own: "we need …", "our agent will ask for …", "you will be asked for"."""
    lead = [x for x in _words(s[_boundary(s, verb.start())[1]:verb.start()]) if x not in w.ADVERBS]
    if _negates(lead):
        return False
    while lead and lead[-1] in w.AUX:
        lead.pop()
    if not lead:
        return False
    return (bool(w.FIRST_PARTY.match(" ".join(lead[-3:])) or w.FIRST_PARTY.match(lead[-1]))
            or (lead[-1] in w.ADDRESSEES and verb.group().startswith("asked")))


def _kind(m: re.Match) -> str:
    return w.KINDS[int(next(k for k, v in m.groupdict().items() if v is not None)[1:])]


def _object(s: str, end: int, secrets: list[re.Match], antecedent: str | None) -> tuple[str, int] | None:
    """(kind, end) of the secret the verb ending at `end` takes as its object: the nearest one, a few words on,
    with no preposition or clause in between; or a pronoun standing for `antecedent` ("send them to …")."""
    for m in secrets:
        if m.start() < end:
            continue
        gap = w.CHANNEL.sub(" ", s[end:m.start()])  # "reply to this email with your password"
        words = _words(gap)
        if len(words) > 8 or re.search(r"[.;:!?()]", gap) or w.GAP_BLOCKERS & set(words):
            break
        return _kind(m), m.end()
    earlier = next((_kind(m) for m in reversed(secrets) if m.end() <= end and _stated(s, m.start())), antecedent)
    it = w.PRONOUN_OBJECT.match(s[end:]) if earlier else None
    return (earlier, end + it.end()) if it else None


def _stated(s: str, start: int) -> bool:
    """Whether the secret at `start` sits in a main clause, not negated: what a later "it" can point back to
    ("your PIN is private; never share it" and "if a message asks for your PIN, forward it" give nothing)."""
    clause_start = max((m.end() for m in re.finditer(r"[.;:!?]", s[:start])), default=0)
    before = s[clause_start:start]
    return not _negates(_words(before)) and not w.SUBORDINATORS & set(_words(before))


def antecedent(s: str) -> str | None:
    """The secret a normalised sentence leaves for the next one's "it": one it states, or a code it sent."""
    if w.SENT_CODE.search(s):
        return "one-time code"
    return next((_kind(m) for m in reversed(list(w.SECRET.finditer(s))) if _stated(s, m.start())), None)


def _passive(s: str, m: re.Match) -> bool:
    """"your card number and CVV must be emailed to …"; a secret that must be *entered* needs a channel too."""
    p = w.PASSIVE.match(s[m.end():])
    if not p or _negates(_words(p.group(0))):
        return False
    if p.group("verb") and w.DISCLOSE.match(p.group("verb")):
        return True
    return (p.group("verb") is None or bool(w.INPUT.match(p.group("verb")))) and bool(
        w.CHANNEL.search(s[m.end() + p.end():]))


def asked_for(s: str, previous: str | None = None) -> str | None:
    """The kind of secret the normalised sentence `s` asks the customer to hand over, or None.
    `previous`: the secret the sentence before left for a pronoun (`antecedent`)."""
    secrets = list(w.SECRET.finditer(s))
    if w.SENT_CODE.search(s):
        previous = "one-time code"
    if not secrets and not previous:
        return None
    for verbs, needs_channel in ((w.DISCLOSE, False), (w.INPUT, True)):
        for v in verbs.finditer(s):
            if not _directive(s, v) or (obj := _object(s, v.end(), secrets, previous)) is None:
                continue
            if not needs_channel or w.CHANNEL.search(s[obj[1]:]):
                return obj[0]
    for v in w.REQUEST.finditer(s):
        if _requested(s, v) and (obj := _object(s, v.end(), secrets, None)):
            return obj[0]
    return next((_kind(m) for m in secrets if _passive(s, m)), None)


def solicitations(text: str) -> list[Solicitation]:
    """Each sentence of `text` that asks the customer to hand over a secret."""
    out, previous = [], None
    for sentence in split_sentences(text):
        s = normalise(sentence)
        if secret := asked_for(s, previous):
            out.append(Solicitation(secret, sentence))
        previous = antecedent(s)
    return out
