"""The vocabulary the solicitation check (agents/research/solicitation.py) reads sentences with.

Kept apart from the grammar so that a security reviewer can add a kind of secret or a way of handing one over
without touching how sentences are read. Everything is matched on normalised text: lower case, one apostrophe,
one dash, contractions expanded ("don't" → "do not", "you'll" → "you will").
"""

from __future__ import annotations

import re

_A_FEW = r"(?:[\w'-]+\W+){0,6}?"
# kind → how it is written, described as well as named ("the 3 digits on the back", "the code we texted you").
SECRETS: dict[str, str] = {
    "card number": r"card(?:'s)? (?:long )?(?:number|no|num|details|info(?:rmation)?|data)s?"
                   r"|(?:16|sixteen|15|fifteen)[- ]digits?(?! code)"
                   r"|(?:long )?(?:numbers?|digits) (?:printed |embossed |shown )?(?:on|across|from) "
                   r"(?:the front of )?(?:your |the )(?:credit |debit |bank |payment )?card"
                   r"|(?:photo|picture|scan|image|copy|screenshot)s? of " + _A_FEW
                   + r"(?:your|the) (?:credit |debit )?card",
    "card security code": r"cvv2?|cvc2?|cvn|csc|card verification (?:value|code|number)|(?:card )?security number"
                          r"|(?:3|three|4|four)[- ]digits? (?:code |number )?(?:on|at|from) the back"
                          r"|(?:codes?|numbers?|digits) (?:printed |written )?on the back(?: of (?:your|the) card)?",
    "PIN": r"pin (?:code|number)s?|pins?",
    "password": r"pass ?words?|passcodes?|pass ?phrases?|(?:log-?in|sign-?in) (?:details|credentials|info(?:rmation)?)"
                r"|credentials|your (?:log-?in|sign-?in)(?! (?:page|screen|button|link|history|attempts?|method))"
                r"|memorable (?:word|information)|security (?:questions? )?answers?"
                r"|answers? to (?:your |the )?security questions?|mother's maiden name",
    "one-time code": r"(?:one-time|verification|confirmation|authentication|authori[sz]ation|security|log-?in|"
                     r"sign-?in|access|sms|2fa|mfa|two-step|two-factor|otp|\d+-digit|four-digit|five-digit|"
                     r"six-digit|eight-digit) (?:pass)?codes?|one-time pass(?:word|code)s?|otps?"
                     r"|(?:backup|recovery) codes?"
                     r"|codes? (?:that )?(?:we|i|you|you have|brightwave) (?:just )?"
                     r"(?:sent|texted|emailed|messaged|received|got)"
                     r"|codes? (?:sent|texted|emailed|delivered) to you"
                     r"|codes? (?:from|in) (?:the|your|our|that|this) (?:text|sms|email|message)",
    "recovery phrase": r"(?:recovery|seed|secret) (?:phrase|words|key)|private keys?",
    "gift card code": r"gift card (?:codes?|numbers?|pins?)",
    "social security number": r"social security numbers?|ssn",
}
SECRET = re.compile("|".join(rf"\b(?P<k{i}>{p})\b" for i, p in enumerate(SECRETS.values())))
KINDS = list(SECRETS)
# A code the text says reaches the customer ("we'll text you a code"): what a following "reply with it" hands over.
SENT_CODE = re.compile(r"\b(?:send|text|email|sms|message)(?:s|ed)? you (?:a|an|the) (?:[\w-]+ )?code\b")

# A pronoun as a verb's object, after who gets it: "send them to …", "reply with it", "read it back to the agent".
PRONOUN_OBJECT = re.compile(r"\s+(?:(?:us|me|the agent|our agent|our team|back)\s+)*(?:with\s+)?"
                            r"(?:it|them|these|those|this|both)\b")

_S = r"(?:s|es|ed|d|ing)?"
# Verbs that hand something to a person; multi-word ones first, so "read out" wins over a bare "read".
DISCLOSE = re.compile(
    r"\b(?:let (?:us|me|the agent|them|our team) (?:know|have)"
    r"|read(?:s|ing)?(?=(?: [\w'-]+){0,6} (?:out|back|aloud|to (?:us|me|the|our)\b))"
    r"|hand(?:s|ed|ing)? over|pass(?:es|ed|ing)? on|give(?:s|n|ing)? out|write back|gave"
    rf"|(?:re)?send{_S}|sent|shar(?:e|es|ed|ing)|e-?mail{_S}|mail{_S}|text{_S}|sms|message{_S}|messaging|dm"
    r"|tell(?:s|ing)?|told|giv(?:e|es|en|ing)|provid(?:e|es|ed|ing)|suppl(?:y|ies|ied|ying)|repl(?:y|ies|ied|ying)"
    r"|respond(?:s|ed|ing)?|forward(?:s|ed|ing)?|recit(?:e|ed|ing)|dictat(?:e|ed|ing)|disclos(?:e|ed|ing)"
    r"|includ(?:e|ed|ing)|attach(?:es|ed|ing)?|post(?:s|ed|ing)?|past(?:e|ed|ing)"
    r"|upload(?:s|ed|ing)?|call(?:s|ed|ing)?|ring|phone|whatsapp|quot(?:e|ed|ing))\b")
# Verbs of putting something into a form: in our own product that is everyday help ("enter the code to confirm").
INPUT = re.compile(r"\b(?:enter(?:s|ed|ing)?|re-enter|type(?:d|s)?|typing|input(?:ting)?|key(?:ed)? in|fill in"
                   r"|confirm(?:s|ed|ing)?|verif(?:y|ied|ying)|validat(?:e|ed|ing)|submit(?:s|ted|ting)?|use|using"
                   r"|log in with|sign in with)\b")
# The desk asking for a thing itself: "we need your …", "our agent will ask for …".
REQUEST = re.compile(r"\b(?:need(?:s|ed)?|requir(?:e|es|ed)|request(?:s|ed)?|ask(?:s|ed)? (?:you )?for"
                     r"|want(?:s|ed)?|collect(?:s|ed)?)\b")
# Where a person, not our product, reads what is entered.
CHANNEL = re.compile(r"\b(?:in|into|via|through|by|over|on|at|to|with|using)\s+(?:(?:a|an|the|this|that|your|our|"
                     r"my|following|new)\s+)*(?:repl(?:y|ies)|response|messages?|chat|conversation|thread|e-?mail|"
                     r"text(?: message)?|sms|dm|whatsapp|telegram|phone(?: call)?|call|link|us|me|agent|team|"
                     r"colleague|support team|\[email\]|\[phone\])\b|\b(?:here|below)\b")
# "must be emailed to …", "should be shared with …", "is required in your reply".
PASSIVE = re.compile(r"^(?P<mid>[^.;:!?]{0,40}?)\b(?:(?:must|should|need to|needs to|has to|have to|will need to|"
                     r"will have to|is to|are to|can|may|will|shall)\s+(?:\w+\s+)?be\s+(?P<verb>\w+(?: \w+)?)"
                     r"|(?:is|are)\s+(?:\w+\s+)?(?:required|needed|necessary|mandatory))\b")
FIRST_PARTY = re.compile(r"^(?:we|brightwave|support|staff|agents?|(?:our|the|an?) (?:support )?(?:agents?|team|"
                         r"colleagues?|advisors?|representatives?|staff|specialists?|fraud team|security team)"
                         r"|our \w+)\b")

BOUNDARY = re.compile(r"[.;:!?()\"“”,]|\b(?:and|or|nor|then|but|so|by|if|when|whenever|unless|because|while|"
                      r"although|though|once|after|before|until|where|which|who|whom|that)\b")
COORDINATORS = {"and", "or", "nor", "then", "by"}
SUBORDINATORS = {"if", "when", "whenever", "unless", "because", "while", "although", "though", "once", "after",
                 "before", "until", "where", "which", "who", "whom", "that"}
NEGATIONS = {"never", "not", "no", "nobody", "none", "neither", "nor", "without", "avoid", "refuse", "stop"}
AFFIRMING = {"forget", "hesitate", "fail", "delay"}  # "do not forget to send …" asks for it
TRANSPARENT = {"under", "for", "in", "at", "on", "by", "with", "even", "ever", "whatever"}  # "never, under any …,"
ADVERBS = {"please", "kindly", "just", "simply", "now", "first", "also", "then", "immediately", "quickly",
           "directly", "securely", "safely", "always", "instead", "today", "again", "only", "still", "right", "away"}
AUX = {"will", "would", "can", "could", "should", "must", "may", "might", "need", "needs", "to", "have", "has",
       "had", "are", "is", "am", "was", "were", "be", "been", "being", "required", "asked", "expected", "requested",
       "going", "able", "allowed", "supposed", "ought", "do", "does", "just", "only", "simply", "also", "then",
       "now", "please", "first", "want", "wants", "invited", "encouraged", "welcome", "free", "shall"}
MODALS = {"can", "could", "should", "must", "may", "need", "needs", "have", "has", "required", "asked", "expected",
          "requested", "supposed", "ought", "will", "shall", "welcome", "invited", "encouraged"}
NARRATIVE = {"was", "were", "had"}  # "customers who were asked to send …" tells what happened, asks nothing
CONTROL = {"ask", "asks", "need", "needs", "require", "requires", "want", "wants", "like", "request", "expect",
           "remind", "invite", "encourage", "urge", "advise", "instruct", "sure", "remember", "forget", "free",
           "ready", "important", "essential", "necessary", "mandatory", "required", "prepared", "try", "make", "be"}
ADDRESSEES = {"you", "customers", "customer", "users", "user", "members", "member", "cardholders", "cardholder",
              "holders", "shoppers", "buyers", "clients", "everyone", "applicants"}
NOT_IMPERATIVE = {"i", "we", "they", "he", "she", "it", "there", "this", "that", "these", "those", "the", "a", "an",
                  "your", "their", "its", "my", "his", "her", "someone", "anyone", "scammers", "fraudsters",
                  "criminals"}  # how a clause that states something, rather than asks it, opens
GAP_BLOCKERS = {"in", "into", "inside", "within", "for", "about", "from", "on", "at", "by", "via", "through", "to",
                "if", "when", "that", "which", "who", "because", "so", "then", "but", "unless", "until", "after",
                "before", "while", "never", "not", "without", "how", "why", "where", "what", "whether"}
