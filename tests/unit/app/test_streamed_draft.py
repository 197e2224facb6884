"""The LLM answer draft a streamed turn shows (app/streaming.py `Progress`) is screened like the answer: shown a
finished sentence at a time, and nothing more once a sentence asks for a secret or links outside the allowlist."""

from __future__ import annotations

from langchain_core.messages import AIMessageChunk

from app.streaming import DRAFT_NODE, Progress

META = {"langgraph_node": DRAFT_NODE}


def _tokens(progress: Progress, pieces: list[str]) -> list[str]:
    out = []
    for piece in pieces:
        out += [e.text for e in progress.events((), "messages", (AIMessageChunk(content=piece), META))]
    return out


def test_a_safe_draft_is_shown_sentence_by_sentence():
    shown = _tokens(Progress(), ["You can reset your pass", "word in Settings. ", "It takes a minute. ", "Thanks"])
    assert shown == ["You can reset your password in Settings.", "You can reset your password in Settings. "
                     "It takes a minute."]


def test_a_draft_asking_for_a_card_number_stops_before_that_sentence():
    pieces = ["Refunds are quick. ", "To speed it up, reply with your full card number ", "and CVV. ", "Then wait. "]
    shown = _tokens(Progress(), pieces)
    assert shown == ["Refunds are quick."]
    assert not any("card" in s for s in shown)


def test_a_link_outside_the_allowlist_stops_the_draft_and_an_allowed_one_passes():
    assert _tokens(Progress(("example.com",)), ["See https://help.example.com/refunds. "]) == [
        "See https://help.example.com/refunds."]
    assert _tokens(Progress(("example.com",)), ["See https://evil-refunds.top/claim now. ", "More. "]) == []
