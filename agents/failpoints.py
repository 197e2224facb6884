"""Failpoints: named places where a test or benchmark may make this process die on the spot, as `kill -9` would.

`SUPPORTFLOW_FAILPOINTS=execute.after_call` (a comma-separated list of names) makes `hit("execute.after_call")`
send SIGKILL to the process: no cleanup, no checkpoint, no `finally`. That is how the crash tests put a kill at an
exact point (after a write reached the company's system, before its outcome was saved) instead of hoping a random
kill lands there. Unset, `hit` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "SUPPORTFLOW_FAILPOINTS"


def hit(name: str) -> None:
    armed = os.environ.get(VARIABLE)
    if armed and name in {n.strip() for n in armed.split(",")}:
        os.kill(os.getpid(), signal.SIGKILL)
