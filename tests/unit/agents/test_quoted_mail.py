"""Only the new text of a mail reply is a request (#27, item 1). Before the split, the desk read the quoted
history as part of the message: the desk's own old approval under a new question became a new refund."""

from __future__ import annotations

import pytest

from agents.turn.quoted import split_quoted

REPLIES = [
    ("Thanks, got it. Can I pay the rest with PayPal?",
     "On Fri, Nov 27, 2026 at 4:15 PM Brightwave Help <help@brightwave.example> wrote:\n"
     "> We have approved your refund of $120.00 for order BW-11223.\n> Kind regards"),
    ("Is there a receipt I can print for this one?",
     "-----Original Message-----\nFrom: Brightwave Help <help@brightwave.example>\nSent: Monday, 30 November 2026\n"
     "To: Pat\nSubject: RE: refund\n\nYour refund of $64.00 has been approved."),
    ("Vielen Dank! Und wann kommt das Paket an?",
     "Am Di., 1. Dez. 2026 um 09:30 Uhr schrieb Brightwave Hilfe <hilfe@brightwave.example>:\n"
     "> Ihre Erstattung von 30,00 € wurde genehmigt."),
    ("¡Gracias! ¿Y cuándo llega el paquete?",  # a header the parser does not know: the `>` block and its line
     "El lun, 30 nov 2026 a las 9:00, Brightwave Ayuda <ayuda@brightwave.example> escribió:\n"
     "> Su reembolso de 18,00 € ha sido aprobado."),
]


@pytest.mark.parametrize(("new", "quoted"), REPLIES)
def test_the_quoted_history_is_split_off_the_new_text(new, quoted):
    got_new, got_quoted = split_quoted(f"{new}\n\n{quoted}")
    assert got_new == new
    assert any(word in got_quoted for word in ("approved", "genehmigt", "aprobado"))


@pytest.mark.parametrize("text", [
    "Please refund $40 for order BW-50001, it arrived broken.",
    "I wrote to you on Monday: nothing happened. > this is not a quote, just an arrow",
    "> quoted only, nothing new",
])
def test_a_message_with_nothing_quoted_or_nothing_new_is_read_whole(text):
    new, quoted = split_quoted(text)
    assert new == text or new.strip() == text.strip()
    assert not quoted or new


def test_a_signature_and_its_legal_notice_are_not_part_of_the_request():
    """A company's mail footer ("… privileged … unauthorised use … prohibited") was read as a legal threat."""
    mail = ("Hello,\n\nCould you send me a copy of the receipt for BW-41120? I can't find it.\n\nKind regards\n"
            "Jon Ekberg\nPurchasing | Fjord Supplies AB\nTel +46 8 555 0101\n\nDISCLAIMER: This message is intended "
            "only for the named recipient and may contain privileged information. Unauthorised disclosure is "
            "prohibited and may be unlawful.")
    new, quoted = split_quoted(mail)
    assert new.endswith("I can't find it.") and "DISCLAIMER" not in new and "Tel" not in new
    assert "DISCLAIMER" not in quoted  # nor is it history to read a follow-up by
    assert split_quoted("please cancel BW-20002.\nThanks,\nAnna")[0] == "please cancel BW-20002."
    short = "Thanks! Also, can I get a refund for BW-10001?"
    assert split_quoted(short) == (short, "")
