"""Where a message is cut into requests (agents/turn/splitting.py): only at clear boundaries. How the parts are
triaged and joined again is tests/unit/agents/test_reading.py; whole turns, tests/integration/test_slots.py."""

from __future__ import annotations

import pytest

from agents.turn.splitting import split_requests


@pytest.mark.parametrize("text,parts", [
    ("Two things: how do I reset my password, and can you cancel order BW-31313?", 2),
    ("1) reset my password 2) cancel order BW-12345", 2),
    ("Where is my order BW-10001? Can you cancel it?", 2),
    ("I want a refund for BW-10001 and also how long will it take?", 2),
    ("Can I return opened earphones? I bought them last week.", 1),
    ("My earphones broke. Can I return them?", 1),
    ("Refund $450 for #55120 and $450 for #55121", 1),  # one request, two orders: see the entities
    ("Do Brightwave Plus members pay for express shipping?", 1),
])
def test_split_only_at_clear_request_boundaries(text, parts):
    assert len(split_requests(text)) == parts


def test_a_yes_no_question_that_narrows_the_first_is_one_request():
    assert len(split_requests("Which payment methods do you accept? Can I use PayPal?")) == 2  # cut, then joined
    assert split_requests("quick question - where is my order BW-12345") == [
        "quick question - where is my order BW-12345"]
