"""A console sign-in that survives a reload: a signed, expiring token in a cookie, checked on every new session.

Streamlit forgets `st.session_state` on a reload or a typed URL, which signed agents out mid-shift. The browser
keeps a cookie instead: a JWT (PyJWT, already the customer-token library: one signing library in the project)
signed with its own subkey of the deployment secret, naming only *who* (a team member's or customer's id) and
until when. Roles, limits, tier and verified flag are read again from the registry or directory each time, so a
revoked reviewer or a changed tier takes effect at the next reload, and a forged or expired cookie is ignored.

Streamlit reads cookies (`st.context.cookies`) but cannot set them from Python, so a script of our own
(`st.html(..., unsafe_allow_javascript=True)`, no user text in it) writes `document.cookie` (SameSite=Strict,
path /). We chose this over streamlit-authenticator, which brings its
own credential file and cookie component; the registry and the directory stay the one source of who may sign in.
The cookie is readable by page scripts (not HttpOnly); the console renders no third-party script.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import streamlit as st

from app.store.keys import subkey

AUDIENCE = "supportflow-console"
LIFETIME_S = 8 * 3600  # one shift
COOKIE = {"team": "sf_team", "customer": "sf_customer"}


def issue(settings: Any, kind: str, subject: str, lifetime_s: int = LIFETIME_S) -> str:
    now = int(time.time())
    claims = {"sub": subject, "kind": kind, "aud": AUDIENCE, "iat": now, "exp": now + lifetime_s}
    return jwt.encode(claims, subkey(settings, "console-session"), algorithm="HS256")


def subject(settings: Any, kind: str, token: str | None) -> str | None:
    """The id a valid token of this kind names, else None (tampered, expired, other kind or no token)."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, subkey(settings, "console-session"), algorithms=["HS256"], audience=AUDIENCE,
                            options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    return claims["sub"] if claims.get("kind") == kind else None


def remember(settings: Any, kind: str, subject_id: str) -> None:
    """After a sign-in: the cookie is written on the next run (the caller reruns right away)."""
    st.session_state.setdefault("cookie-writes", []).append((COOKIE[kind], issue(settings, kind, subject_id)))
    st.session_state.pop(f"signed-out-{kind}", None)


def forget(kind: str) -> None:
    """After a sign-out: clear the cookie, and stop this session from signing in again from the one it started
    with (`st.context.cookies` keeps the value the page was loaded with)."""
    st.session_state.setdefault("cookie-writes", []).append((COOKIE[kind], ""))
    st.session_state[f"signed-out-{kind}"] = True


def restored(settings: Any, kind: str) -> str | None:
    """The id this browser's cookie signs in, unless this session signed out."""
    if st.session_state.get(f"signed-out-{kind}"):
        return None
    return subject(settings, kind, st.context.cookies.get(COOKIE[kind]))


def write_cookies() -> None:
    """Write (or clear) the cookies that sign-ins and sign-outs asked for. Runs once per page run."""
    writes = st.session_state.pop("cookie-writes", [])
    if not writes:
        return
    lines = []
    for name, value in writes:
        age = LIFETIME_S if value else 0
        lines.append(f"document.cookie = {json.dumps(f'{name}={value}; path=/; max-age={age}; SameSite=Strict')};")
    st.html("<script>" + "\n".join(lines) + "</script>", unsafe_allow_javascript=True)
