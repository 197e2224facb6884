"""The supervisor's own steps: intake (validate and redact the newest message), the deterministic planner that
picks each request's specialists, and the reply composed from what they did."""
