"""`python -m app bench review-groups` (registered in app/cli/bench.py): generated escalations of 5 kinds through
the real graph, then the inbox and the grouping, timed. Runs on a throwaway copy of the data directory."""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from app.bench import NO_SYSTEMS
from app.services import Services
from app.settings import Settings

KINDS = {
    "damaged": ["I want a refund of ${a} for order #{o}, the laptop arrived broken.",
                "Please refund ${a} for order #{o}; the screen was cracked when it arrived.",
                "Refund me ${a} for order #{o}, the item came damaged.",
                "My order #{o} arrived broken, I need a refund of ${a}."],
    "large": ["Please refund ${a} for order #{o}, the sofa was delivered damaged.",
              "I want my money back, ${a} for order #{o}, the TV does not work.",
              "Refund ${a} for order #{o} please, the fridge arrived dented.",
              "I need a refund of ${a} for order #{o}, wrong model delivered."],
    "no_amount": ["I'd like a refund for order #{o}, I don't know the amount.",
                  "Can I get a refund for order #{o}? It doesn't fit. I don't remember the amount.",
                  "Please refund order #{o}, I changed my mind. I don't know how much it was.",
                  "I want a refund for my order #{o}, it is the wrong colour. Not sure of the amount."],
    "fraud": ["Refund ${a} for order #{o}, it was an unauthorized purchase on my card.",
              "I didn't make this purchase, order #{o} for ${a} is fraud, refund it.",
              "My account was hacked and someone ordered #{o} for ${a}, please refund.",
              "Unauthorised charge of ${a} on order #{o}, I want a refund."],
    "legal": ["Refund ${a} for order #{o} or my lawyer will take legal action.",
              "I will sue you unless you refund ${a} for order #{o}.",
              "Give me my ${a} back for order #{o} or I'm going to small claims court.",
              "My attorney says you must refund ${a} for order #{o}."],
}
AMOUNTS = {"damaged": (550, 950), "large": (1300, 1950), "no_amount": None, "fraud": (40, 400), "legal": (100, 450)}
EXPECTED_RULE = {"damaged": "refund-over-limit", "large": "refund-over-limit", "no_amount": "refund-amount-unknown",
                 "fraud": "refund-fraud-signal", "legal": "legal-threat-review"}


def escalation(kind: str, rng: random.Random) -> str:
    amount = f"{rng.randint(*AMOUNTS[kind]):,}" if AMOUNTS[kind] else ""
    return rng.choice(KINDS[kind]).format(a=amount, o=rng.randint(10000, 99999))


def run(data_dir: Path, threads: int = 100, seed: int = 21) -> dict:
    from app.desk import SupportDesk  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy)
        desk = SupportDesk(services=Services.from_settings(Settings(**NO_SYSTEMS, data_dir=copy, offline=True)))
        rng, kind_of, sends = random.Random(seed), {}, []
        for i in range(threads):
            kind = list(KINDS)[i % len(KINDS)]
            t = time.perf_counter()
            r = desk.send(escalation(kind, rng))
            sends.append(time.perf_counter() - t)
            kind_of[r.thread_id] = kind
        t = time.perf_counter()
        items = desk.inbox(limit=None)
        inbox_s = time.perf_counter() - t
        t = time.perf_counter()
        groups = desk.review_groups()
        groups_s = time.perf_counter() - t
        desk.close()
    return {"threads": threads, "kinds": len(KINDS), "paused": len(items), "groups": len(groups),
            "group_sizes": [g["count"] for g in groups],
            # reviews already pending in DATA_DIR may join a group; purity is judged on the generated ones
            "pure": all(len({kind_of[x] for x in g["thread_ids"] if x in kind_of}) <= 1 for g in groups),
            "send_seconds_median": round(statistics.median(sends), 3), "inbox_seconds": round(inbox_s, 3),
            "groups_seconds_incl_inbox": round(groups_s, 3)}
