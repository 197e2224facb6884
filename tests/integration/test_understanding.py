"""Understanding what the customer asked (#27), through `SupportDesk.send` offline. Each test fails on the code
before the change it names."""

from __future__ import annotations

VERIFIED = {"id": "cu-understanding", "verified": True}


def test_a_quoted_approval_under_a_new_question_is_history_not_a_request(desk):
    """Item 1: the quoted reply used to be read with the question, so the old approval became a new refund."""
    mail = ("Hi, where can I download the invoice for that order? Our accounts team needs it.\n\nThanks, Robin\n\n"
            "On Tue, Dec 1, 2026 at 10:02 AM Brightwave Support <support@brightwave.example> wrote:\n"
            "> Hi Robin, your refund of $75.00 for order BW-77310 has been approved.\n> Best, Brightwave Support")
    r = desk.send(mail, thread_id="t-quoted-invoice", customer=VERIFIED)
    assert r.ticket_id is None and r.pending_review is None and r.outcome == "answered", r.answer
    assert "invoices-and-receipts.md" in [c["doc_id"] for c in r.citations], r.answer
    assert "75.00" not in r.answer
