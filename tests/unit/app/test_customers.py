"""The customer directory (app/customers.py): the console's only source of who a customer is and what they may do.

The console's sign-in through a real page: tests/integration/test_console_customers.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from agents.compliance.reviewers import hash_token
from app.customers import (
    CustomerDirectoryError,
    CustomerSignInError,
    demo_customers,
    load_directory,
    password_hash,
    password_matches,
    sign_in,
)
from app.settings import CONFIG_DIR

SHIPPED = CONFIG_DIR / "customers.yaml"


def settings(path: Path = SHIPPED, demo_mode: bool = False):
    return SimpleNamespace(customers_file=path, demo_mode=demo_mode)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "customers.yaml"
    path.write_text(body, encoding="utf-8")
    return path


ONE = """customers:
  - id: cus-9
    name: Nine
    verified: true
    tier: plus
    account_age_days: 40
    password_hash: "{hash}"
"""


def test_the_shipped_demo_directory_signs_in_with_its_demo_passwords():
    directory = load_directory(SHIPPED)
    assert len(directory.customers) >= 3 and all(c.demo for c in directory.customers)
    assert {c.verified for c in directory.customers} == {True, False}  # both sides of the account-change rule
    for entry in directory.customers:
        who = sign_in(settings(), entry.id, f"demo-{entry.id}")
        assert (who.id, who.verified, who.tier, who.name) == (entry.id, entry.verified, entry.tier, entry.name)


def test_verified_and_tier_come_from_the_file(tmp_path):
    path = write(tmp_path, ONE.format(hash=password_hash("pw-9")))
    who = sign_in(settings(path), " cus-9 ", "pw-9")
    assert who.facts() == {"id": "cus-9", "verified": True, "tier": "plus", "account_age_days": 40}


def test_the_hash_is_salted_scrypt_and_its_cost_cannot_be_lowered_by_the_file():
    one, two = password_hash("demo-cus-1001"), password_hash("demo-cus-1001")
    assert one.startswith("scrypt:16384:8:1:") and one != two  # salted: equal passwords, different hashes
    assert password_matches("demo-cus-1001", one) and password_matches("demo-cus-1001", two)
    assert not password_matches("demo-cus-1002", one)
    assert "demo-cus-1001" not in one and hash_token("demo-cus-1001").split(":")[1] not in one
    cheap = one.replace("scrypt:16384:", "scrypt:2:", 1)
    assert not password_matches("demo-cus-1001", cheap)


@pytest.mark.parametrize(("cid", "password"), [("cus-1001", "wrong"), ("cus-404", "demo-cus-404"),
                                               ("cus-1001", "DEMO-CUS-1001"), ("cus-1001 x", "demo-cus-1001")])
def test_a_wrong_password_and_an_unknown_id_read_the_same(cid, password):
    with pytest.raises(CustomerSignInError) as err:
        sign_in(settings(), cid, password)
    assert str(err.value) == "Unknown customer id or wrong password."


@pytest.mark.parametrize(("cid", "password"), [("", "x"), ("cus-1001", ""), ("   ", "x")])
def test_missing_fields_are_asked_for(cid, password):
    with pytest.raises(CustomerSignInError, match="Enter your customer id and password"):
        sign_in(settings(), cid, password)


def test_a_customer_without_a_password_hash_cannot_sign_in_with_any_password(tmp_path):
    path = write(tmp_path, "customers:\n  - {id: cus-7, name: Seven}\n")
    for password in ("", "x", "sha256:" + "0" * 64):
        with pytest.raises(CustomerSignInError):
            sign_in(settings(path), "cus-7", password or "x")


def test_demo_customers_only_in_demo_mode_and_only_those_marked_demo(tmp_path):
    assert demo_customers(settings()) == []
    assert [c.id for c in demo_customers(settings(demo_mode=True))] == ["cus-1001", "cus-1002", "cus-1003"]
    path = write(tmp_path, "customers:\n  - {id: cus-1, name: Real}\n  - {id: cus-2, name: Demo, demo: true}\n")
    assert [c.id for c in demo_customers(settings(path, demo_mode=True))] == ["cus-2"]


@pytest.mark.parametrize(("body", "expected"), [
    ("customers:\n  - {id: jane.roe@example.com, name: J}\n", "customer 'jane.roe@example.com', field id: "
                                                                "customer id looks like personal data"),
    ("customers:\n  - {id: '+1 415 555 0100', name: J}\n", "field id"),
    ("customers:\n  - {id: cus-1, name: J, password_hash: abc}\n", "customer 'cus-1', field password_hash"),
    ("customers:\n  - {id: cus-1, name: J, tier: gold}\n", "customer 'cus-1', field tier"),
    ("customers:\n  - {id: cus-1, name: J, verified: maybe}\n", "customer 'cus-1', field verified"),
    ("customers:\n  - {id: cus-1, name: J, account_age_days: -1}\n", "field account_age_days"),
    ("customers:\n  - {id: cus-1, name: J, is_admin: true}\n", "field is_admin"),
    ("customers:\n  - {id: cus-1, name: J}\n  - {id: cus-1, name: K}\n", "duplicate customer id(s): cus-1"),
    ("- just a list\n", "expected a mapping with 'customers'"),
    ("customers: [\n", "not valid YAML"),
])
def test_an_invalid_directory_names_the_file_and_the_field(tmp_path, body, expected):
    path = write(tmp_path, body)
    with pytest.raises(CustomerDirectoryError) as err:
        sign_in(settings(path), "cus-1", "x")
    assert str(path) in str(err.value) and expected in str(err.value), str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CustomerDirectoryError, match="cannot read customer directory"):
        sign_in(settings(tmp_path / "nope.yaml"), "cus-1", "x")


def test_edits_to_the_file_are_seen_without_a_restart(tmp_path):
    path = write(tmp_path, ONE.format(hash=password_hash("old")))
    assert sign_in(settings(path), "cus-9", "old").verified
    path.write_text(ONE.format(hash=password_hash("new-password")).replace("verified: true", "verified: false"))
    os.utime(path, ns=(path.stat().st_mtime_ns + 1_000_000, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(CustomerSignInError):
        sign_in(settings(path), "cus-9", "old")
    assert not sign_in(settings(path), "cus-9", "new-password").verified


def test_demo_mode_is_off_unless_make_run_turns_it_on():
    from app.settings import Settings

    assert Settings.model_fields["demo_mode"].default is False
    makefile = (CONFIG_DIR.parent.parent / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "SUPPORT_DEMO_MODE=true $(VENV)/bin/streamlit run streamlit_app.py" in run
    assert makefile.count("SUPPORT_DEMO_MODE") == 1  # the console alone (`streamlit run`) and every other target: off
