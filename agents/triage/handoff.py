"""A customer who wants a person gets one: asked for outright, or said by coming back again and again.

Read as a dialogue act on the whole message, whatever the classifier made of it, because the request for a person
rides along with everything else ("done all that already … I want someone to actually look at it", "this is the
third time I'm writing … I want to speak to a manager"), and the classifier reads the topic, not the act. Matched on
the folded text (no case, no accents) and on its English gloss (agents/glossary.yaml renders "voglio parlare con
un operatore" as "i want talk to an agent"), with the direct forms of the served languages besides.
"""

from __future__ import annotations

import re

from agents.language import fold

_WHO = (r"(?:a |an |the |some |one of your |someone from (?:the |your )?)?(?:real |actual |live |human |proper )?"
        r"(?:human(?: being| agent)?s?|person|people|someone|somebody|agent|representative|rep|manager|supervisor"
        r"|team ?lead(?:er)?|operator|staff(?: member)?|colleague|employee|advisor|adviser)")
_ASK = re.compile(
    r"\b(?:speak|talk|chat|get through|be put through|be transferred|be connected|connect me|transfer me"
    r"|put me through|pass me|escalate (?:this|it|me)?)\s+(?:to|with)\s+" + _WHO + r"\b"
    r"|\b(?:i (?:want|need|demand|would like|'d like)|let me|can i (?:have|get)|could i (?:have|get)|get me|give me"
    r"|i'm asking for|i am asking for)\s+(?:to (?:speak|talk) (?:to|with) )?" + _WHO + r"\b"
    r"|\b(?:human|person|agent|manager|supervisor|operator)\s+(?:please|pls|now|asap)\b"
    r"|\b(?:someone|somebody|a (?:real )?person|a human)\s+(?:to |who (?:can |will )?)?"
    r"(?:(?:actually |finally |really )?(?:look at|check|read|deal with|call me)"
    r"|(?:actually|finally|really) (?:help|answer|reply))\b"
    r"|\b(?:not|no|stop|enough of)\s+(?:a |another |the |this |talking to (?:a )?)?(?:bot|robot|machine|chatbot"
    r"|automated (?:reply|replies|answer|answers|message|messages))\b"
    r"|\b(?:no|not one|not a single|never (?:got|had) (?:a|any)|still no|without (?:a|any)) (?:\w+ ){0,2}"
    r"(?:reply|replies|response|answer|human|person) from (?:an? )?(?:actual |real )?(?:human|person|anyone|you)\b"
    # the served languages, in their own words
    r"|\bparler (?:a|avec) (?:un |une |le |la )?(?:humain|personne|vraie personne|conseill\w+|responsable|agent"
    r"|superieur|manager)\b"
    r"|\b(?:mit )?(?:einem |einer |dem )?(?:menschen|mitarbeiter(?:in)?|vorgesetzten|manager|echten person"
    r"|person) (?:sprechen|reden)\b"
    r"|\bhablar con (?:un |una |el |la )?(?:humano|persona|agente|supervisor|encargad\w|responsable|gerente)\b"
    r"|\bparlare con (?:un |una |il |lo |la |l')?(?:operatore|persona|umano|responsabile|supervisore|manager)\b"
    r"|\b(?:met )?(?:een |de )?(?:mens|medewerker|echt persoon|leidinggevende|manager) (?:spreken|praten)\b"
    r"|\bfalar com (?:um |uma |o |a )?(?:atendente|pessoa|humano|supervisor|gerente|responsavel)\b"
    # "put me through to …", in the served languages' own verbs of transfer
    r"|\b(?:paseme|pasame|comuniqueme|comunicame|transfierame|pongame|ponme|passez-moi|passe-moi|mettez-moi en "
    r"relation|passami|mi passi|mi metta in contatto|verbinden sie mich|verbinde mich|stellen sie mich durch"
    r"|verbind me door|verbind mij door|verbind me|passe-me|me passe|transfira-me|me transfira)"
    r"\s+(?:\w+ ){0,2}(?:un |una |uno |une |le |la |el |il |lo |o |a |einen |einem |mit (?:einem |dem )?"
    r"|met (?:een |de )?|a (?:un |una )?|com (?:um |uma |o |a )?|con (?:un |una |il |el |la )?"
    r"|avec (?:un |une |le |la )?|para (?:um |o )?)?"
    r"(?:humano|persona|agente|supervisor|supervisore|encargad\w|responsable|responsabile|gerente|operatore"
    r"|humain|personne|conseill\w+|superieur|manager|vorgesetzten|mitarbeiter(?:in)?|menschen|medewerker"
    r"|leidinggevende|atendente|pessoa|responsavel)\b")
# Coming back: "the third time I'm writing", "my 4th message", "I have emailed you three times".
_AGAIN = re.compile(
    r"\b(?:third|3rd|fourth|4th|fifth|5th|sixth|6th|tenth|umpteenth|nth) "
    r"(?:time|message|email|mail|attempt|request)s?\b"
    r"|\b(?:several|multiple|so many|countless) (?:messages|emails|mails|requests|calls)\b"
    r"|\b(?:written|wrote|emailed|messaged|contacted|called|asked|chased)(?: to)?(?: you| this| about this)? "
    r"(?:now )?(?:two|three|four|five"
    r"|several|multiple|many|\d+) times\b"
    r"|\b(?:done|tried) (?:all|everything) (?:of )?(?:that|this|you said|you suggested)? ?already\b"
    r"|\balready (?:done|tried) (?:all|everything)\b"
    r"|\b(?:troisieme|quatrieme|cinquieme) fois\b|\b(?:dritte|vierte|funfte)[ns]? mal\b"
    r"|\b(?:tercera|cuarta|quinta) vez\b"
    r"|\b(?:terza|quarta|quinta) volta\b|\b(?:derde|vierde|vijfde) keer\b|\b(?:terceira|quarta|quinta) vez\b")


# "How do I talk to a human?" asks how, and the help centre answers it; "can I talk to a human?" asks for one.
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_HOW = re.compile(r"^\W*(?:how|where|when|what|comment|wie|como|come|hoe)\b")


def wants_person(text: str, english: str | None = None) -> bool:
    """The customer asks for a person, or has come back so often that a person should take over."""
    folded = [t for t in (fold(text), fold(english or "")) if t]
    if any(_AGAIN.search(t) for t in folded):
        return True
    # Judged per sentence: "where is my order? I'd like to speak with an agent" asks for one, though it opens
    # with a question word; "how do I talk to a human?" does not.
    return any(_ASK.search(s) and not _HOW.search(s) for t in folded for s in _SENTENCE.split(t))
