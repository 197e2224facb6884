"""The sample shop's ledger (app/shop): writes act once per idempotency key, reads and writes are scoped to the
customer, and a refund never exceeds what is left. Real SQLite in a temporary file."""

from __future__ import annotations

import threading

import pytest

from app.shop.fixture import Fixture, FixtureError, load_fixture, parse_day
from app.shop.ledger import Ledger

FIXTURE = {
    "customers": [{"id": "a", "verified": True}, {"id": "b", "verified": True}],
    "orders": [
        {"id": "BW-1", "customer": "a", "status": "delivered", "placed": "today-9", "delivered": "today-5",
         "total": 40.0, "currency": "USD"},
        {"id": "BW-2", "customer": "a", "status": "shipped", "placed": "today-2", "total": 120.0},
        {"id": "BW-3", "customer": "b", "status": "placed", "placed": "today", "total": 10.0},
    ],
}


@pytest.fixture
def shop(tmp_path) -> Ledger:
    ledger = Ledger(tmp_path / "shop.db")
    ledger.seed(Fixture.model_validate(FIXTURE), replace=True)
    return ledger


def test_the_same_key_refunds_once_and_replays_the_first_result(shop):
    first = shop.refund("a", "BW-1", 40.0, "USD", "k-1")
    again = shop.refund("a", "BW-1", 40.0, "USD", "k-1")
    assert first["ok"] and again["ok"] and again.get("replayed")
    assert shop.get_order("a", "BW-1")["order"]["refunded"] == pytest.approx(40.0)


def test_racing_workers_on_one_key_act_once(shop):
    results = []
    threads = [threading.Thread(target=lambda: results.append(shop.refund("a", "BW-1", 30.0, "USD", "k-race")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r["ok"] for r in results)
    assert shop.get_order("a", "BW-1")["order"]["refunded"] == pytest.approx(30.0)


def test_a_refund_over_what_is_left_is_refused(shop):
    assert shop.refund("a", "BW-1", 30.0, "USD", "k-a")["ok"]
    over = shop.refund("a", "BW-1", 20.0, "USD", "k-b")
    assert not over["ok"] and over["error"]["code"] == "over_refundable"


def test_another_customers_order_reads_exactly_like_a_missing_one(shop):
    theirs, missing = shop.get_order("b", "BW-1"), shop.get_order("b", "BW-999")
    assert not theirs["ok"] and theirs["error"]["code"] == missing["error"]["code"] == "not_found"
    assert "BW-1" not in str(shop.list_orders("b"))
    refused = shop.refund("b", "BW-1", 1.0, "USD", "k-x")
    assert not refused["ok"] and shop.get_order("a", "BW-1")["order"]["refunded"] == 0


def test_a_shipped_order_cannot_be_cancelled_and_a_key_cannot_be_reused_for_another_write(shop):
    assert shop.cancel_order("a", "BW-2", "k-c")["error"]["code"] == "already_shipped"
    assert shop.cancel_order("b", "BW-3", "k-d")["ok"]
    reused = shop.refund("b", "BW-3", 1.0, "USD", "k-d")
    assert not reused["ok"] and reused["error"]["code"] == "idempotency_conflict"


def test_contact_updates_are_validated(shop):
    assert shop.update_contact("a", "email", "not-an-address", "k-e")["error"]["code"] == "invalid_value"
    assert shop.update_contact("a", "email", "ada@example.com", "k-f")["ok"]


def test_relative_dates_and_clear_fixture_errors(tmp_path):
    import datetime as dt

    assert parse_day("today-5", dt.date(2026, 12, 7)) == "2026-12-02"
    bad = tmp_path / "bad.json"
    bad.write_text('{"customers": [], "orders": [{"id": "X", "customer": "nobody", "status": "lost", "total": 1}]}')
    with pytest.raises(FixtureError, match=r"orders\[0\]\.status"):
        load_fixture(bad)
