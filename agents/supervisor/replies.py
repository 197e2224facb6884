"""Templated replies for conversational turns, in the customer's language (English when we have no template).

Templates, not generated text: these replies carry no facts, so there is nothing for a model to add, and a fixed
wording can be reviewed once, in every language, by the people who own the desk's tone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HELP_TOPICS = {
    "en": "orders and delivery, returns and refunds, payments and invoices, your account and our products",
    "fr": "les commandes et la livraison, les retours et remboursements, les paiements et factures, votre compte "
          "et nos produits",
    "de": "Bestellungen und Lieferung, Rücksendungen und Erstattungen, Zahlungen und Rechnungen, Ihr Konto und "
          "unsere Produkte",
    "es": "pedidos y envíos, devoluciones y reembolsos, pagos y facturas, su cuenta y nuestros productos",
    "it": "ordini e consegne, resi e rimborsi, pagamenti e fatture, il suo account e i nostri prodotti",
    "nl": "bestellingen en levering, retouren en terugbetalingen, betalingen en facturen, uw account en onze producten",
    "pt": "encomendas e entregas, devoluções e reembolsos, pagamentos e faturas, a sua conta e os nossos produtos",
}

REPLIES: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hello! I'm Brightwave's support assistant. How can I help you today? I can help with {topics}.",
        "fr": "Bonjour ! Je suis l'assistant du support Brightwave. Comment puis-je vous aider ? Je peux vous aider "
              "pour {topics}.",
        "de": "Hallo! Ich bin der Support-Assistent von Brightwave. Wie kann ich Ihnen helfen? Ich helfe bei "
              "{topics}.",
        "es": "¡Hola! Soy el asistente de soporte de Brightwave. ¿En qué puedo ayudarle? Puedo ayudarle con "
              "{topics}.",
        "it": "Salve! Sono l'assistente dell'assistenza Brightwave. Come posso aiutarla? Posso aiutarla con {topics}.",
        "nl": "Hallo! Ik ben de supportassistent van Brightwave. Hoe kan ik u helpen? Ik help met {topics}.",
        "pt": "Olá! Sou o assistente de apoio da Brightwave. Como posso ajudar? Posso ajudar com {topics}.",
    },
    "thanks": {
        "en": "You're welcome! Is there anything else I can help you with?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "de": "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        "es": "¡De nada! ¿Puedo ayudarle con algo más?",
        "it": "Prego! Posso aiutarla con qualcos'altro?",
        "nl": "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        "pt": "De nada! Posso ajudar com mais alguma coisa?",
    },
    "goodbye": {
        "en": "Thanks for contacting Brightwave. Have a great day!",
        "fr": "Merci d'avoir contacté Brightwave. Bonne journée !",
        "de": "Danke, dass Sie Brightwave kontaktiert haben. Einen schönen Tag noch!",
        "es": "Gracias por contactar con Brightwave. ¡Que tenga un buen día!",
        "it": "Grazie per aver contattato Brightwave. Buona giornata!",
        "nl": "Bedankt voor uw bericht aan Brightwave. Een fijne dag nog!",
        "pt": "Obrigado por contactar a Brightwave. Tenha um bom dia!",
    },
    "acknowledgement": {
        "en": "Glad I could help. Is there anything else you need?",
        "fr": "Parfait. Avez-vous besoin d'autre chose ?",
        "de": "Prima. Brauchen Sie sonst noch etwas?",
        "es": "Perfecto. ¿Necesita algo más?",
        "it": "Perfetto. Le serve altro?",
        "nl": "Prima. Heeft u nog iets nodig?",
        "pt": "Perfeito. Precisa de mais alguma coisa?",
    },
    "bot_question": {  # honest, and a person is one sentence away; no ticket unless they ask for one
        "en": "I'm Brightwave's automated support assistant, not a person. I can help with {topics}. If you'd "
              "rather talk to someone from our team, just say so and I'll pass you on.",
        "fr": "Je suis l'assistant automatique du support Brightwave, pas une personne. Je peux vous aider pour "
              "{topics}. Si vous préférez parler à quelqu'un de l'équipe, dites-le et je transmets votre demande.",
        "de": "Ich bin der automatische Support-Assistent von Brightwave, kein Mensch. Ich helfe bei {topics}. Wenn "
              "Sie lieber mit jemandem aus dem Team sprechen möchten, sagen Sie es einfach, dann leite ich Sie weiter.",
        "es": "Soy el asistente automático de soporte de Brightwave, no una persona. Puedo ayudarle con {topics}. "
              "Si prefiere hablar con alguien del equipo, dígamelo y le paso con ellos.",
        "it": "Sono l'assistente automatico dell'assistenza Brightwave, non una persona. Posso aiutarla con {topics}. "
              "Se preferisce parlare con qualcuno del team, me lo dica e la metto in contatto.",
        "nl": "Ik ben de automatische supportassistent van Brightwave, geen mens. Ik help met {topics}. Wilt u liever "
              "iemand van ons team spreken? Zeg het en ik stuur u door.",
        "pt": "Sou o assistente automático de apoio da Brightwave, não uma pessoa. Posso ajudar com {topics}. Se "
              "preferir falar com alguém da equipa, diga-me e eu passo o seu pedido.",
    },
    "out_of_scope": {
        "en": "Sorry, that's not something I can help with. I can help with {topics}. Is there anything like that "
              "I can do for you?",
        "fr": "Désolé, je ne peux pas vous aider sur ce sujet. Je peux vous aider pour {topics}. Puis-je faire "
              "quelque chose dans ce domaine ?",
        "de": "Dabei kann ich leider nicht helfen. Ich helfe bei {topics}. Kann ich dabei etwas für Sie tun?",
        "es": "Lo siento, no puedo ayudarle con eso. Puedo ayudarle con {topics}. ¿Hay algo de eso en lo que pueda "
              "ayudarle?",
    },
    "unclear": {  # the first clarifying question
        "en": "I'd like to help, but I need a little more detail. What is it about: an order or delivery, a return "
              "or refund, a payment, your account, or a product? If a device isn't working, which one, and what "
              "happens?",
        "fr": "Je souhaite vous aider, mais il me faut un peu plus de détails. De quoi s'agit-il : une commande ou "
              "une livraison, un retour ou un remboursement, un paiement, votre compte ou un produit ? Si un "
              "appareil ne fonctionne pas, lequel, et que se passe-t-il ?",
        "de": "Ich helfe gern, brauche aber etwas mehr Details. Worum geht es: eine Bestellung oder Lieferung, eine "
              "Rücksendung oder Erstattung, eine Zahlung, Ihr Konto oder ein Produkt? Wenn ein Gerät nicht "
              "funktioniert: welches, und was passiert?",
        "es": "Quiero ayudarle, pero necesito un poco más de detalle. ¿De qué se trata: un pedido o envío, una "
              "devolución o reembolso, un pago, su cuenta o un producto? Si un dispositivo no funciona, ¿cuál es y "
              "qué ocurre?",
    },
    "unclear_again": {  # the second: an example of what helps, then a person takes over
        "en": "Sorry, I still can't tell what you need. Could you describe it in one sentence, for example \"my "
              "headphones won't pair\" or \"where is order BW-12345?\" If it's easier, ask for a person.",
        "fr": "Désolé, je ne comprends toujours pas votre demande. Pouvez-vous la décrire en une phrase, par "
              "exemple « mon casque ne se connecte pas » ou « où en est la commande BW-12345 ? » Vous pouvez aussi "
              "demander à parler à une personne.",
        "de": "Entschuldigung, ich verstehe Ihr Anliegen noch nicht. Können Sie es in einem Satz beschreiben, z. B. "
              "„Meine Kopfhörer verbinden sich nicht“ oder „Wo ist Bestellung BW-12345?“ Sie können auch nach "
              "einem Mitarbeiter fragen.",
        "es": "Lo siento, sigo sin entender qué necesita. ¿Puede describirlo en una frase, por ejemplo «mis "
              "auriculares no se conectan» o «¿dónde está el pedido BW-12345?»? También puede pedir hablar con una "
              "persona.",
    },
}

BARE_VALUES = {  # a bare order number or amount with nothing waiting for it: what should we do with it?
    "en": "What would you like me to do with {what}? For example: track the order, cancel it, or ask for a "
          "refund.",
    "fr": "Que souhaitez-vous faire pour {what} ? Par exemple : suivre la commande, l'annuler ou demander un "
          "remboursement.",
    "de": "Was möchten Sie mit {what} tun? Zum Beispiel: die Bestellung verfolgen, sie stornieren oder eine "
          "Erstattung beantragen.",
    "es": "¿Qué desea hacer con {what}? Por ejemplo: seguir el pedido, cancelarlo o pedir un reembolso.",
}
WHAT = {"en": ("order {}", "that amount"), "fr": ("la commande {}", "ce montant"),
        "de": ("Bestellung {}", "diesem Betrag"), "es": ("el pedido {}", "ese importe")}

ANSWER_NOTE = {  # offline answers come from the English help centre: say so in the customer's language
    "fr": "Voici la réponse de notre centre d'aide (en anglais) :",
    "de": "Hier ist die Antwort aus unserem Hilfe-Center (auf Englisch):",
    "es": "Esta es la respuesta de nuestro centro de ayuda (en inglés):",
    "it": "Ecco la risposta del nostro centro assistenza (in inglese):",
    "pt": "Aqui está a resposta da nossa central de ajuda (em inglês):",
    "nl": "Hier is het antwoord uit ons helpcentrum (in het Engels):",
}


HOLDING = {  # an answer withheld for a person (agents/research/answer_guard.py): neutral, it says nothing of why
    "en": "Thanks for your question. A colleague will check this and get back to you shortly.",
    "fr": "Merci pour votre question. Un collègue va vérifier et reviendra vers vous rapidement.",
    "de": "Danke für Ihre Frage. Eine Kollegin oder ein Kollege prüft das und meldet sich in Kürze bei Ihnen.",
    "es": "Gracias por su pregunta. Un compañero lo revisará y le responderá en breve.",
}


PASSED = {  # a request for a person (or an escalation) became a ticket: who has it, and the reference
    "en": "I've passed this to our {team} team as ticket {ticket} (priority {priority}). A person will get back to "
          "you.",
    "fr": "J'ai transmis votre demande à notre équipe ({team}) sous le ticket {ticket}. Une personne vous répondra.",
    "de": "Ich habe Ihr Anliegen an unser Team ({team}) weitergegeben, Ticket {ticket}. Ein Mensch meldet sich bei "
          "Ihnen.",
    "es": "He pasado su consulta a nuestro equipo ({team}) con el ticket {ticket}. Una persona le responderá.",
    "it": "Ho passato la sua richiesta al nostro team ({team}) con il ticket {ticket}. Una persona le risponderà.",
    "nl": "Ik heb uw vraag doorgegeven aan ons team ({team}) onder ticket {ticket}. Een medewerker neemt contact met "
          "u op.",
    "pt": "Encaminhei o seu pedido à nossa equipa ({team}) com o ticket {ticket}. Uma pessoa vai responder-lhe.",
}


def passed_on(triage: dict, ticket: dict) -> str:
    """The reply when a person takes over, in the customer's language (English otherwise)."""
    lang = (triage or {}).get("language") or "en"
    return PASSED.get(lang, PASSED["en"]).format(team=ticket.get("queue") or "support", ticket=ticket["id"],
                                                  priority=ticket.get("priority"))


def holding(triage: dict) -> str:
    """The reply when an answer was withheld for a person, in the customer's language (English otherwise)."""
    return HOLDING.get((triage or {}).get("language") or "en", HOLDING["en"])


def conversational(triage: dict) -> str:
    """The reply to a greeting, thanks, goodbye, acknowledgement, off-topic or unclear message."""
    intent = triage.get("intent", "greeting")
    if triage.get("bare_values"):
        lang = triage.get("language") if triage.get("language") in BARE_VALUES else "en"
        orders = (triage.get("entities") or {}).get("order_ids") or []
        order, amount = WHAT[lang]
        return BARE_VALUES[lang].format(what=order.format(orders[0]) if orders else amount)
    if intent == "unclear" and (triage.get("clarification") or 1) > 1:
        intent = "unclear_again"
    lang = triage.get("language") or "en"
    templates = REPLIES.get(intent, REPLIES["greeting"])
    lang = lang if lang in templates else "en"
    return templates[lang].format(topics=HELP_TOPICS[lang])


# Said before the answer when a message asks whether the desk is a bot and also asks something else.
BOT_NOTE = {"en": "(I'm Brightwave's automated assistant, not a person; just ask if you'd like a colleague.)",
            "fr": "(Je suis l'assistant automatique de Brightwave, pas une personne ; demandez si vous préférez un "
                  "collègue.)",
            "de": "(Ich bin der automatische Assistent von Brightwave, kein Mensch; sagen Sie Bescheid, wenn Sie "
                  "lieber mit einem Kollegen sprechen.)",
            "es": "(Soy el asistente automático de Brightwave, no una persona; pídalo si prefiere a un compañero.)",
            "it": "(Sono l'assistente automatico di Brightwave, non una persona; se preferisce un collega, lo dica.)",
            "nl": "(Ik ben de automatische assistent van Brightwave, geen mens; vraag het als u liever een collega "
                  "spreekt.)",
            "pt": "(Sou o assistente automático da Brightwave, não uma pessoa; peça se preferir um colega.)"}


def bot_note(lang: str | None) -> str:
    return BOT_NOTE.get(lang or "en", BOT_NOTE["en"]) + "\n\n"


def answer_note(triage: dict, research: dict) -> str:
    """The sentence that introduces an English help-centre answer to a customer who wrote in another language."""
    lang = (triage or {}).get("language") or "en"
    if lang == "en" or research.get("answered_by") == "llm" or lang not in ANSWER_NOTE:
        return ""
    return ANSWER_NOTE[lang] + "\n\n"


def edited_note(decision: dict, args: dict, amount: Callable[[Any, str | None], str]) -> str:
    """When a reviewer approved less than the customer asked for, the customer is told so, with the reviewer's
    reason, before the reply says what was done ("approved … USD 700" alone, after asking for $900, read as an
    error)."""
    review = decision.get("review") or {}
    asked, now = review.get("asked_amount"), args.get("amount")
    if review.get("decision") != "edit" or not isinstance(asked, int | float) or not isinstance(now, int | float) \
            or now >= asked:
        return ""
    why = (review.get("message") or "").strip()
    return (f"After review, our team approved {amount(now, args.get('currency'))} of the "
            f"{amount(asked, args.get('currency'))} you asked for" + (f": {why.rstrip('.')}." if why else ".") + " ")
