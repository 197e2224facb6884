"""The sample shop's books: customers, orders and payments in SQLite, and writes that happen once per key.

Every write runs in one `BEGIN IMMEDIATE` transaction with its idempotency record, as Stripe's API does: the first
call with a key is carried out and its result stored with it; a repeat with the same arguments gets that stored
result back (`replayed: true`), even when the first was a refusal; a repeat with other arguments is refused
(`idempotency_conflict`). Orders are scoped to the customer: another customer's order reads exactly as a missing
one, so order numbers cannot be probed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.shop.fixture import Fixture
from app.shop.validate import clean_contact

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, address TEXT,
    tier TEXT NOT NULL, verified INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL, placed TEXT, shipped TEXT, delivered TEXT, expected TEXT, total_cents INTEGER NOT NULL,
    currency TEXT NOT NULL, items TEXT NOT NULL, refunded_cents INTEGER NOT NULL, carrier TEXT, tracking TEXT);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
CREATE TABLE IF NOT EXISTS payments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, kind TEXT NOT NULL,
    amount REAL NOT NULL, currency TEXT NOT NULL, reference TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS writes (idempotency_key TEXT PRIMARY KEY, operation TEXT NOT NULL, customer_id TEXT,
    args_hash TEXT NOT NULL, result_json TEXT NOT NULL, created_at REAL NOT NULL);
"""
CONTACT_FIELDS = ("email", "phone", "name", "address")


def refusal(code: str, message: str, **extra: Any) -> dict:
    return {"ok": False, "error": {"code": code, "message": message, **extra}}


def _cents(amount: float) -> int:
    return int(round(amount * 100))


def _norm(order_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(order_id).upper())


class Ledger:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as c:
            c.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    # ---- seeding -------------------------------------------------------------------------------------------
    def seed(self, fixture: Fixture, replace: bool = False, if_empty: bool = False) -> dict[str, int]:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            if if_empty and c.execute("SELECT COUNT(*) FROM customers").fetchone()[0]:
                c.execute("ROLLBACK")
                return {"customers": 0, "orders": 0, "skipped": 1}
            if replace:
                for table in ("writes", "payments", "orders", "customers"):
                    c.execute(f"DELETE FROM {table}")
            for cu in fixture.customers:
                c.execute("INSERT INTO customers (id, name, email, phone, tier, verified) VALUES (?, ?, ?, ?, ?, ?)",
                          (cu.id, cu.name, cu.email, cu.phone, cu.tier, int(cu.verified)))
            for o in fixture.orders:
                c.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (o.id, o.customer, o.status, o.placed, o.shipped, o.delivered, o.expected,
                           _cents(o.total), o.currency, json.dumps([i.model_dump() for i in o.items]),
                           _cents(o.refunded), o.carrier, o.tracking))
                c.execute("INSERT INTO payments (order_id, kind, amount, currency, created_at) VALUES "
                          "(?, 'charge', ?, ?, ?)", (o.id, o.total, o.currency, time.time()))
        except sqlite3.IntegrityError as exc:
            c.execute("ROLLBACK")
            raise ValueError(f"the shop already holds an id of this fixture ({exc}); use --replace") from None
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        return {"customers": len(fixture.customers), "orders": len(fixture.orders)}

    # ---- reads ---------------------------------------------------------------------------------------------
    def lookup_customer(self, customer_id: str) -> dict:
        row = self._conn().execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            return refusal("not_found", "I couldn't find that customer account.")
        return {"ok": True, "customer": {"id": row["id"], "name": row["name"], "email": row["email"],
                                         "phone": row["phone"], "tier": row["tier"], "verified": bool(row["verified"])}}

    def list_orders(self, customer_id: str) -> dict:
        rows = self._conn().execute("SELECT * FROM orders WHERE customer_id = ? ORDER BY placed DESC, id DESC",
                                    (customer_id,)).fetchall()
        return {"ok": True, "orders": [self._order(r) for r in rows]}

    def get_order(self, customer_id: str, order_id: str) -> dict:
        row = self._find(self._conn(), customer_id, order_id)
        if row is None:
            return self._not_found(order_id)
        return {"ok": True, "order": self._order(row)}

    @staticmethod
    def _not_found(order_id: str) -> dict:
        return refusal("not_found", f"There is no order {str(order_id)[:40]} on this account.")

    @staticmethod
    def _find(c: sqlite3.Connection, customer_id: str, order_id: str) -> sqlite3.Row | None:
        """The customer's order this id names: the same id ignoring case, `#`, spaces and dashes, or the same
        number without its letter prefix when exactly one order has it."""
        want = _norm(order_id)
        if not want:
            return None
        rows = c.execute("SELECT * FROM orders WHERE customer_id = ?", (customer_id,)).fetchall()
        exact = [r for r in rows if _norm(r["id"]) == want]
        if exact:
            return exact[0]
        bare = [r for r in rows if re.sub(r"^[A-Z]+", "", _norm(r["id"])) == re.sub(r"^[A-Z]+", "", want)]
        return bare[0] if len(bare) == 1 else None

    @staticmethod
    def _order(r: sqlite3.Row) -> dict:
        total, refunded = r["total_cents"] / 100, r["refunded_cents"] / 100
        return {"id": r["id"], "customer": r["customer_id"], "status": r["status"], "placed": r["placed"],
                "shipped": r["shipped"], "delivered": r["delivered"], "expected": r["expected"], "total": total,
                "currency": r["currency"], "items": json.loads(r["items"]), "refunded": refunded,
                "refundable": max(0.0, round(total - refunded, 2)), "carrier": r["carrier"],
                "tracking": r["tracking"]}

    # ---- writes, once per idempotency key ------------------------------------------------------------------------
    def _write(self, operation: str, customer_id: str, args: dict, key: str,
               effect: Callable[[sqlite3.Connection], dict]) -> dict:
        if not key or not str(key).strip():
            return refusal("invalid_request", "A write needs an idempotency key.")
        digest = hashlib.sha256(json.dumps([operation, customer_id, args], sort_keys=True).encode()).hexdigest()
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            seen = c.execute("SELECT * FROM writes WHERE idempotency_key = ?", (key,)).fetchone()
            if seen is not None:
                c.execute("ROLLBACK")
                if seen["args_hash"] != digest or seen["operation"] != operation:
                    return refusal("idempotency_conflict", "This idempotency key was already used for another "
                                                           "request.")
                return {**json.loads(seen["result_json"]), "replayed": True}
            result = {**effect(c), "replayed": False}
            c.execute("INSERT INTO writes VALUES (?, ?, ?, ?, ?, ?)",
                      (key, operation, customer_id, digest, json.dumps(result), time.time()))
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        return result

    def refund(self, customer_id: str, order_id: str, amount: float, currency: str, idempotency_key: str) -> dict:
        args = {"order_id": str(order_id), "amount": amount, "currency": currency}

        def effect(c: sqlite3.Connection) -> dict:
            row = self._find(c, customer_id, order_id)
            if row is None:
                return self._not_found(order_id)
            if not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
                return refusal("invalid_amount", "The refund amount must be a positive number.")
            if str(currency).upper() != row["currency"]:
                return refusal("currency_mismatch", f"Order {row['id']} was paid in {row['currency']}; refunds go "
                                                    f"back in {row['currency']}.")
            left = row["total_cents"] - row["refunded_cents"]
            if left <= 0:
                return refusal("already_refunded", f"Order {row['id']} has already been refunded in full.")
            if _cents(amount) > left:
                return refusal("over_refundable", f"At most {left / 100:.2f} {row['currency']} can still be refunded "
                                                  f"for order {row['id']}.", refundable=left / 100)
            reference = "RF-" + secrets.token_hex(4).upper()
            c.execute("UPDATE orders SET refunded_cents = refunded_cents + ? WHERE id = ?", (_cents(amount), row["id"]))
            c.execute("INSERT INTO payments (order_id, kind, amount, currency, reference, created_at) VALUES "
                      "(?, 'refund', ?, ?, ?, ?)", (row["id"], round(amount, 2), row["currency"], reference,
                                                    time.time()))
            total = (row["refunded_cents"] + _cents(amount)) / 100
            return {"ok": True, "refund": {"reference": reference, "order_id": row["id"], "amount": round(amount, 2),
                                           "currency": row["currency"], "refunded_total": total,
                                           "refundable": round(row["total_cents"] / 100 - total, 2)}}

        return self._write("refund", customer_id, args, idempotency_key, effect)

    def cancel_order(self, customer_id: str, order_id: str, idempotency_key: str) -> dict:
        def effect(c: sqlite3.Connection) -> dict:
            row = self._find(c, customer_id, order_id)
            if row is None:
                return self._not_found(order_id)
            if row["status"] == "cancelled":
                return refusal("already_cancelled", f"Order {row['id']} is already cancelled.")
            if row["status"] in ("shipped", "delivered"):
                return refusal("already_shipped", f"Order {row['id']} has already shipped, so it can no longer be "
                                                  "cancelled; you can return it within 30 days of delivery for a "
                                                  "refund.")
            back = row["total_cents"] - row["refunded_cents"]
            reference = "CX-" + secrets.token_hex(4).upper()
            c.execute("UPDATE orders SET status = 'cancelled', refunded_cents = total_cents WHERE id = ?", (row["id"],))
            if back > 0:
                c.execute("INSERT INTO payments (order_id, kind, amount, currency, reference, created_at) VALUES "
                          "(?, 'refund', ?, ?, ?, ?)", (row["id"], back / 100, row["currency"], reference,
                                                        time.time()))
            return {"ok": True, "cancellation": {"reference": reference, "order_id": row["id"],
                                                 "refunded": back / 100, "currency": row["currency"]}}

        return self._write("cancel_order", customer_id, {"order_id": str(order_id)}, idempotency_key, effect)

    def update_contact(self, customer_id: str, field: str, value: str, idempotency_key: str) -> dict:
        def effect(c: sqlite3.Connection) -> dict:
            if c.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
                return refusal("not_found", "I couldn't find that customer account.")
            if field not in CONTACT_FIELDS:
                return refusal("unknown_field", f"Only these details can be changed here: {', '.join(CONTACT_FIELDS)}.")
            clean, problem = clean_contact(field, value)
            if problem:
                return refusal("invalid_value", problem)
            c.execute(f"UPDATE customers SET {field} = ? WHERE id = ?", (clean, customer_id))
            return {"ok": True, "update": {"reference": "UC-" + secrets.token_hex(4).upper(), "field": field,
                                           "value": clean}}

        return self._write("update_contact", customer_id, {"field": field, "value": value}, idempotency_key, effect)
