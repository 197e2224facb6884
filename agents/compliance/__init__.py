"""Compliance: policy-as-code on the proposed action (amounts in their currency, limits, risk), the reviewer
registry, the human-review payloads and the review loop (`review.review`, the node that calls `interrupt()`)."""
