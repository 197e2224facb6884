"""Every text a person reads in the console is written for them: a walk over every page, as a customer and as a
signed-in team member, fails on snake_case words and raw enum values (#28: toasts read "Editd by bo:
ticket_created", summaries "[human_agent] escalate (order_id=…)").

What is read: titles, headings, markdown, captions, alerts, metric labels and values, table headers and cells,
expander and button labels, widget labels and options. Formatted JSON (the "Action and policy" tab, an
explicit technical view) and what the customer wrote are not the console's words and are left out.
"""

from __future__ import annotations

import re

from app.identity import Principal
from tests.helpers import REFUND, sign_in

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PAGES = ("app/ui/workspace.py", "app/ui/review.py", "app/ui/dashboard.py", "app/ui/knowledge.py")
WROTE = ("Do you ship to Antarctica by drone?", REFUND, "please refund $40 for order #48213",
         "How do I reset my password?")


def visible(at) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "text"):
        texts += [str(e.value) for e in at.get(kind)]
    for m in at.get("metric"):
        texts += [str(m.label), str(m.value)]
    for e in at.get("expander"):
        texts.append(str(e.label))
    for kind in ("button", "selectbox", "multiselect", "text_input", "text_area", "number_input", "toggle",
                 "checkbox", "radio", "button_group"):
        for w in at.get(kind):
            texts.append(str(getattr(w, "label", "") or ""))
            texts += [str(o) for o in getattr(w, "options", None) or []]
    for table in at.dataframe:
        frame = table.value
        texts += [str(c) for c in frame.columns]
        texts += [str(v) for v in frame.astype(str).to_numpy().ravel()]
    return texts


def raw_words(at) -> list[str]:
    out = []
    for text in visible(at):
        for wrote in WROTE:  # the customer's own words may contain anything
            text = text.replace(wrote, "")
        out += [f"{w!r} in {text[:90]!r}" for w in SNAKE.findall(text)]
    return out


def test_every_page_reads_in_words(app, second_desk):
    second_desk.send(WROTE[0], customer={"id": "cust-77"})  # a ticket for a person
    second_desk.send(WROTE[1], customer={"id": "cust-99"})  # a review
    second_desk.send(WROTE[2], customer={"id": "cust-88"})  # approved by policy
    second_desk.send(WROTE[3], customer={"id": "cust-11"})  # answered
    second_desk.send(WROTE[0], caller=Principal("console"))  # a guest: stored as "anonymous:console"
    found = {"chat": raw_words(app)}
    app.switch_page(PAGES[0]).run()
    sign_in(app)
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page
        found[page] = raw_words(app) + [t for t in visible(app) if "anonymous:" in t]
    assert not {p: w for p, w in found.items() if w}, found
