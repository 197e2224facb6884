"""Conversational turns: greetings, thanks, goodbyes, acknowledgements, out-of-scope and unclear messages.

Recognised by rules before the classifier, because these are the messages a classifier trained on support
requests handles worst: "hello?? anyone there" looks like a request for a human, "ok great, bye" like closing
the account. The rules are deliberately narrow: a message is small talk only when *every* word of it is a
known phrase, so "hi, cancel order BW-1" still goes to the classifier. Their replies are templates in the
customer's language; no specialist runs and nothing is opened for a person.
"""

from __future__ import annotations

import re
from functools import cache

from agents.language import fold
from agents.turn.speech_act import explicit_request

# category → language → phrases (folded: lower case, no accents). "any" phrases say nothing about the language.
LEXICON: dict[str, dict[str, list[str]]] = {
    "greeting": {
        "any": ["hi+", "hello+", "hey+", "hiya", "howdy", "yo", "greetings", "good (morning|afternoon|evening|day)",
                "ciao", "moin", "servus", "hoi", "ola", "dear (team|support|sir|madam)",
                "(is )?(anyone|anybody|someone|somebody) (there|here|around|home|available)"],
        "fr": ["bonjour", "bonsoir", "coucou", "allo", "salut", "(il y a )?quelqu'un( la)?"],
        "de": ["guten (morgen|tag|abend)", "gruss gott", "gruezi", "hallo+", "(ist )?(da )?jemand( da)?"],
        "es": ["buen(os|as) (dias|tardes|noches)", "buenas", "que tal", "hola+", "(hay )?alguien( ahi| ahi)?"],
        "it": ["buongiorno", "buonasera", "salve", "(c'e )?qualcuno"],
        "nl": ["goedemorgen", "goedemiddag", "goedenavond", "hallo+", "(is )?(er )?iemand( daar)?"],
        "pt": ["bom dia", "boa (tarde|noite)", "oi", "(tem )?alguem( ai)?"],
    },
    "thanks": {
        "any": ["thanks?( you)?", "thank u", "thx", "ty", "ta", "tysm", "cheers", "much appreciated", "many thanks",
                "(i )?appreciate (it|that)", "thanks a (lot|bunch|million)"],
        "fr": ["merci( beaucoup| bien)?", "je vous remercie"],
        "de": ["danke( schon| sehr)?", "vielen dank", "dankeschon"],
        "es": ["(muchas )?gracias", "mil gracias"],
        "it": ["grazie( mille| tante)?", "(ti|vi|la) ringrazio"],
        "nl": ["(hartelijk )?dank( je| u)?( wel)?", "bedankt", "dankjewel", "dankuwel"],
        "pt": ["(muito )?obrigad[oa]s?", "valeu"],
    },
    "goodbye": {
        "any": ["bye+", "bye bye", "goodbye", "good bye", "see (you|ya)( later| soon)?", "cya", "take care",
                "have a (nice|good|great) (day|one|evening|weekend)", "(that's|that is|thats) (all|it)", "nothing else",
                "no more questions", "no thanks?( you)?", "(no|nope) (that's|thats|that is) (all|it)",
                "i'm (done|good|all set)", "im (done|good|all set)", "all set", "later"],
        "fr": ["au revoir", "bonne (journee|soiree)", "a bientot", "c'est tout", "ciao"],
        "de": ["tschuss", "auf wiedersehen", "bis (bald|dann|spater)", "das wars?", "schonen tag"],
        "es": ["adios", "hasta (luego|pronto|manana)", "chao", "eso es todo", "buen dia"],
        "it": ["arrivederci", "a presto", "buona (giornata|serata)", "(e|questo e) tutto"],
        "nl": ["doei", "tot (ziens|later|snel)", "fijne dag", "dat was (het|alles)"],
        "pt": ["tchau", "adeus", "ate (logo|mais|breve)", "(e|isso e) tudo"],
    },
    "acknowledgement": {
        "any": ["ok(ay|ey)?", "k+", "kk", "great", "cool", "nice", "perfect", "awesome", "got it", "understood",
                "sounds (good|great)( to me)?", "alright", "all right", "fine", "good", "sure", "yes", "yep", "yeah",
                "yup", "no", "nope", "noted", "i see",
                "ah", "oh", "wonderful", "excellent", "super", "brilliant", "lovely", "makes sense", "will do",
                "good to know", "that helps", "that helped", "it worked", "that worked", "all good", "no problem",
                "np", "fair enough", "amazing", "lol", "haha+", "wow", "ok(ey|ie)? dok(ey|ie)", "oki",
                "(that|this|it) (did it|did the trick|fixed it|solved it|sorted it)", "(that|this) works",
                "(it('s| is)? )?(works|working) (now|again)", "(all )?sorted( now)?", "problem solved", "solved",
                "(you('re| are) )?(a )?(star|legend|lifesaver)", "nice one", "good stuff", "will try( that)?",
                "i'll try( that)?", "i will try( that)?", "let me try( that)?", "gotcha", "roger", "right"],
        "fr": ["d'accord", "dac", "parfait", "tres bien", "compris", "oui", "non", "genial", "entendu"],
        "de": ["alles klar", "genau", "gut", "prima", "verstanden", "ja", "nein", "klasse", "toll"],
        "es": ["vale", "perfecto", "entendido", "claro", "bien", "si", "genial", "de acuerdo", "muy bien"],
        "it": ["va bene", "perfetto", "capito", "certo", "si", "benissimo", "d'accordo", "ottimo"],
        "nl": ["oke", "prima", "top", "begrepen", "ja", "nee", "duidelijk", "helemaal goed", "perfect", "goed"],
        "pt": ["certo", "perfeito", "entendi", "sim", "nao", "combinado", "beleza", "otimo"],
    },
    "filler": {  # words that ride along with the phrases above
        "any": ["there", "(is )?(anyone|anybody|someone|somebody)( there| here| around| home)?", "everyone", "team",
                "folks", "guys", "all", "again", "so much", "very much", "a lot", "then", "for (the|your|ur) help",
                "for helping( me)?", "for (that|this|everything)", "for the (info|information|answer|quick reply)",
                "please", "pls", "plz", "really", "just", "and", "but", "so", "well", "well then", "friend", "mate",
                "bot", "brightwave", "support", "you too", "u too", "too", "now"],
        "fr": ["a vous", "tout le monde", "(l')?equipe", "pour (votre|ton|l') aide", "encore", "madame", "monsieur"],
        "de": ["zusammen", "fur (ihre|die|deine) hilfe", "nochmal", "euch", "ihnen"],
        "es": ["a todos", "por (su|tu|la) ayuda", "por la (rapidez|respuesta)", "equipo", "senor(a)?"],
        "it": ["a tutti", "gentilissim[aio]", "molto gentil[ei]", "per (l'|il (tuo|vostro) )?aiuto",
               "per la (risposta|rapidita)", "davvero", "ancora"],
        "nl": ["iedereen", "voor (de|je|uw) hulp", "voor het (snelle )?antwoord", "nogmaals"],
        "pt": ["a todos", "pela (ajuda|resposta|rapidez)", "de novo", "equipe"],
    },
    "vague": {  # too little to act on: one clarifying question
        "any": ["help( me)?", "helpp+", "(i )?need (some )?help", "(can|could) (you|u|someone|anyone) help( me)?",
                "(please|pls) help( me)?", "sos", "(i have |i've got |there is |there's )?(a )?(problem|issue)s?",
                "((it|this|that) )?(still )?(doesn't|does not|doesnt|dont|don't|won't|will not|wont) work( anymore)?",
                "((it's|its|it is) )?(still )?not working", "((it's|its|it is) )?broken", "it broke",
                "something('s| is) (wrong|broken|not right)", "what's wrong", "(an )?error", "it failed",
                "(my|the|this|that) (thing|stuff|issue|problem)", "thing", "stuff", "(i have )?(a )?(quick )?question",
                "hmm+", "hm+", "um+", "uh+", "huh", "what", "why", "how", "i don't know", "idk", "whatever",
                "same (problem|issue)", "still", "(can|could) you"],
        "fr": ["aide( ?moi)?", "aidez( ?moi)?", "au secours", "(j'ai )?un probleme", "probleme",
               "(ca|cela) (ne )?(marche|fonctionne) pas", "(j'ai )?une question"],
        "de": ["hilfe", "ich brauche hilfe", "(ich habe )?ein problem", "problem", "(es )?(geht|funktioniert) nicht",
               "(ich habe )?eine frage"],
        "es": ["ayuda", "(necesito )?ayuda", "ayudame", "(tengo )?un problema", "problema", "no funciona",
               "(tengo )?una pregunta"],
    },
}
PRIORITY = ("goodbye", "thanks", "greeting", "acknowledgement")  # "ok great, bye" is a goodbye

# Asking whether the desk is a person or a machine, in the languages served (matched on folded text). It deserves
# an honest answer and the offer of a person, not a ticket: the question is not a request for one.
_WHAT = (r"(?:a |an |un |une |uno |una |um |uma |ein |eine |einem |einer |een |el |la |o |a )?"
         r"(?:real |vraie |vera |echte? |actual |live |de verdad )?"
         r"(?:bot|chat ?bot|robot|robo|roboter|ai|a\.i\.|ia|ki|machine|maquina|macchina|maschine|computer"
         r"|human|humain|humano|umano|mens|mensch|person|personne|persona|pessoa|persoon|agent)s?")
_ASKING = {  # how "are you / am I talking to …" opens, per language
    "en": r"(?:are|r) (?:you|u)|is (?:this|that|it)|am i (?:talking|speaking|chatting|writing)(?: to| with)"
          r"|i'?m (?:talking|speaking|chatting) (?:to|with)",
    "fr": r"es-?tu|etes-?vous|tu es|vous etes|je (?:parle|discute) (?:a|avec)",
    "it": r"sei|sto (?:parlando|scrivendo|chattando) con|parlo con|e",
    "de": r"bist du|sind sie|(?:rede|spreche|chatte|schreibe) ich(?: mit)?",
    "es": r"eres|es usted|(?:estoy )?(?:hablando|chateando|escribiendo) con",
    "nl": r"ben je|bent u|(?:praat|chat|spreek) ik(?: met)?",
    "pt": r"(?:voce|vc) e|es|(?:estou )?(?:falando|a falar|conversando) com",
}
# A question by its mark, by ending right there, or as an alternative ("r u a real person or some AI thing lol").
BOT_QUESTION = re.compile(r"\b(?:" + "|".join(f"(?P<{lang}>{p})" for lang, p in _ASKING.items()) + r")\s+" + _WHAT
                          + r"\b(?=[^.!?\n]*\?|\W*(?:\w+\W*){0,2}$|\s+(?:or|ou|o|oder|of)\s)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def asks_if_bot(text: str) -> bool:
    return bool(BOT_QUESTION.search(fold(text)))


def bot_question_language(text: str) -> str | None:
    """The language the question is asked in, from its wording (short questions are too short for the detector)."""
    m = BOT_QUESTION.search(fold(text))
    return m.lastgroup if m and m.lastgroup in _ASKING else None


def without_bot_question(text: str) -> str:
    """The message without its sentences that ask whether the desk is a bot: what else the customer wants."""
    return " ".join(s for s in _SENTENCE.split(text) if s.strip() and not asks_if_bot(s)).strip()

# Topics a support desk for an electronics shop has no business answering, unless the message is also about us.
OFF_TOPIC = re.compile(
    r"\b(weather|forecast|rain(ing|y)?|snow(ing)?|sunny|meteo|wetter|clima|que tiempo hace|jokes?|blague|witz|chiste|"
    r"riddle|football|soccer|basketball|baseball|hockey|nba|nfl|world cup|champions league|premier league|"
    r"super ?bowl|olympics|formula 1|f1 race|fussball|futbol|who won|match score|recipe|cook(ing)?|bake|"
    r"horoscope|zodiac|lottery|bitcoin|crypto\w*|stock (price|market)|capital (city )?of|president of|"
    r"prime minister|election|movie|film|song lyrics|lyrics|poem|homework|meaning of life|"
    r"flight|airline|hotel|train ticket|restaurant|pizza|dentist|doctor)\b")
OTHER_COMPANY = re.compile(
    r"\b(netflix|spotify|uber|airbnb|instagram|facebook|whatsapp|tiktok|twitter|youtube|disney\+?|hulu|gmail|"
    r"outlook|icloud|steam|playstation network|xbox live|ryanair|easyjet|deliveroo|doordash)\b")
OUR_BUSINESS = re.compile(
    r"\b(brightwave|orders?|refunds?|return(s|ed|ing)?|deliver\w*|ship\w*|parcel|package|account|password|invoice|"
    r"payment|pay|card|charge\w*|warrant\w*|headphones?|earbuds?|earphones?|laptop|tablet|tv|speaker|"
    r"product|purchase\w*|bought|buy|membership|plus|bw-?\d+|#\d+)\b")
OURS_FOR_SURE = re.compile(
    r"\b(brightwave|bw-?\d+|#\d+|order (number|no|id)|(from|with) (you|your)|your (shop|store|site|website))\b")


@cache
def _pattern() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    """One alternation of every phrase, longest first, each in a named group that says its category and language."""
    groups, names = [], {}
    for cat, by_lang in LEXICON.items():
        for lang, phrases in by_lang.items():
            name = f"{cat}_{lang}"
            names[name] = (cat, lang)
            groups.append(f"(?P<{name}>{'|'.join(sorted(phrases, key=len, reverse=True))})")
    return re.compile(r"(?:" + "|".join(groups) + r")(?![\w'])"), names


def match(text: str) -> tuple[str, str | None] | None:
    """(conversational intent, language the wording gives away or None), or None when the message says more.

    A message is conversational when, once punctuation and emoji are set aside, every word belongs to a phrase
    of the lexicon: any vague phrase makes it `unclear`; otherwise goodbye > thanks > greeting > acknowledgement.
    """
    folded = fold(text)
    if not any(c.isalnum() for c in folded):
        return ("unclear" if "?" in folded else "acknowledgement"), None
    words = re.sub(r"[^\w' ]+", " ", folded).replace(" '", " ").split()
    if not words or len(words) > 12 or any(c.isdigit() for c in folded):
        return None
    pattern, names = _pattern()
    rest, cats, langs = " ".join(words), set(), set()
    while rest:
        m = pattern.match(rest)
        if not m:
            return ("thanks", langs.pop() if len(langs) == 1 else None) if _remark(cats, rest, folded) else None
        cat, lang = names[m.lastgroup]
        cats.add(cat)
        if lang != "any":
            langs.add(lang)
        rest = rest[m.end():].lstrip()
    lang = langs.pop() if len(langs) == 1 else None
    if "vague" in cats:
        return "unclear", lang
    found = next((c for c in PRIORITY if c in cats), None)
    return (found, lang) if found else None


# Words that say there is more to it than thanks: contrast, negation, continuation ("thanks, but it still …").
_MORE = re.compile(r"\b(?:but|however|though|although|not|no|never|still|yet|except|only|n't|nicht|pas|non|pero|ma"
                   r"|mais|aber|maar|mas|also|and)\b|n't\b")
REMARK_WORDS = 6


def _remark(cats: set[str], rest: str, folded: str) -> bool:
    """Thanks, then a short remark that asks and reports nothing ("thank you so much, that was quick!!", and the
    name that signs it): still thanks. A question, a number, or a word of contrast or negation is more."""
    return ("thanks" in cats and len(rest.split()) <= REMARK_WORDS and "?" not in folded and not _MORE.search(rest)
            and not explicit_request(rest))


def off_topic(text: str) -> bool:
    """About something we don't do (weather, sport, jokes) and not about us, or about another company's service."""
    folded = fold(text)
    if OTHER_COMPANY.search(folded):
        return not OURS_FOR_SURE.search(folded)
    return bool(OFF_TOPIC.search(folded)) and not OUR_BUSINESS.search(folded)
