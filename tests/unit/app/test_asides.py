"""Exchanges kept beside a paused thread (app/store/asides.py) and shown in place in its history."""

from __future__ import annotations

from app.store.asides import Asides, merged


def test_an_aside_is_kept_once_and_shown_after_the_messages_it_followed(tmp_path):
    store = Asides(tmp_path / "app.db")
    store.add("t1", "m1", 1, "how do I reset my password?", "Use Forgot password.")
    store.add("t1", "m1", 1, "how do I reset my password?", "Use Forgot password.")  # sent again: once
    history = [{"role": "human", "content": "refund $900", "name": None},
               {"role": "ai", "content": "the team reviews it", "name": None}]
    shown = merged(history, store.of_thread("t1"))
    assert [m["content"] for m in shown] == ["refund $900", "how do I reset my password?", "Use Forgot password.",
                                            "the team reviews it"]
    assert [bool(m.get("aside")) for m in shown] == [False, True, True, False]
    assert merged(history, store.of_thread("other")) == history
