"""Research: retrieval from the knowledge base, a cited answer (extractive offline, an LLM when configured), the
screen that withholds an answer telling the customer to hand over a secret or follow a link outside the allowlist
(retrieved text is data), and the grounding check that withholds an answer its sources do not support."""
