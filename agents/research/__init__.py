"""Research: retrieval from the knowledge base, a cited answer (extractive offline, an LLM when configured) and
the grounding check that withholds an answer its sources do not support."""
