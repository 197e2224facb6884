"""Triage: what a message is (intent, kind, urgency, risk, entities), read offline by a trained classifier and
rules, with the cheap LLM only when the classifier is unsure. Its steps run as the triage sub-graph, and only
there (graphs/triage.py; `Services.triage` for a part of a message), so every triage is measured and audited."""
