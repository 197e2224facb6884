"""The console's signed sign-in cookie (app/ui/session.py): only a token this deployment signed, of the right
kind and not expired, names anyone."""

from __future__ import annotations

import jwt

from app.store.keys import subkey
from app.ui import session
from tests.helpers import make_settings


def test_a_signed_token_names_its_subject_for_its_kind_only(tmp_path):
    settings = make_settings(tmp_path)
    token = session.issue(settings, "team", "ana")
    assert session.subject(settings, "team", token) == "ana"
    assert session.subject(settings, "customer", token) is None  # a team cookie is not a customer sign-in


def test_tampered_expired_foreign_or_missing_tokens_name_nobody(tmp_path):
    settings = make_settings(tmp_path)
    token = session.issue(settings, "team", "ana")
    head, body, sig = token.split(".")
    assert session.subject(settings, "team", f"{head}.{body}.{sig[::-1]}") is None
    assert session.subject(settings, "team", session.issue(settings, "team", "ana", lifetime_s=-10)) is None
    other = make_settings(tmp_path / "other")  # another deployment's secret key
    assert session.subject(other, "team", token) is None
    forged = jwt.encode({"sub": "max", "kind": "team", "aud": session.AUDIENCE, "exp": 2**40}, "guess", "HS256")
    assert session.subject(settings, "team", forged) is None
    assert session.subject(settings, "team", None) is None and session.subject(settings, "team", "junk") is None
    no_expiry = jwt.encode({"sub": "max", "kind": "team", "aud": session.AUDIENCE},
                           subkey(settings, "console-session"), "HS256")
    assert session.subject(settings, "team", no_expiry) is None  # a cookie that never expires is refused
