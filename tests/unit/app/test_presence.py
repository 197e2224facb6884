"""Who else has a conversation open (app/store/presence.py), on a real SQLite file."""

from __future__ import annotations

from app.store.presence import FRESH_S, Presence


def test_viewers_of_an_item_lapse_and_move_with_the_member(tmp_path):
    p = Presence(tmp_path / "app.db")
    p.seen("ticket:T-1", "ana", now=1000.0)
    p.seen("ticket:T-1", "bo", now=1000.0)
    assert p.others("ticket:T-1", "ana", now=1001.0) == ["bo"]
    assert p.others("ticket:T-1", "ana", now=1000.0 + FRESH_S + 1) == []  # a closed tab lapses
    p.seen("ticket:T-2", "bo", now=1002.0)  # bo opened another ticket
    assert p.others("ticket:T-1", "ana", now=1003.0) == [] and p.others("ticket:T-2", "ana", now=1003.0) == ["bo"]
    p.left("bo")
    assert p.others("ticket:T-2", "ana", now=1003.0) == []
