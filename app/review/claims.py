"""The review claim table, where review code has always imported it from.

It lives in app/store/review_claims.py: the services hand it to the graph's review node too, so that a decision
sent straight to the graph (Studio, SDK) is claimed like one sent through the API.
"""

from app.store.review_claims import ClaimTakenError, ReviewClaims, holder_gone, this_process

__all__ = ["ClaimTakenError", "ReviewClaims", "holder_gone", "this_process"]
