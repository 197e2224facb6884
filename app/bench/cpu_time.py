"""CPU time for `bench serve`, read through psutil, so a worker-count ratio can be judged against what the machine
allowed rather than against wall time alone.

Three readings, each a snapshot to subtract:
- the CPU seconds of one process session (the server and its workers);
- the CPU seconds of the local database server's processes (PostgreSQL's backends do a share of every turn's
  work on the same cores, and a ceiling that left them out would promise more than two cores can give);
- the machine's busy and idle time: idle cores during a run mean the service was waiting, not computing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def session_cpu(sid: int) -> dict[int, float]:
    """CPU seconds used so far by each live process of session `sid`. Unlike wall time, this hardly changes when
    other programs compete for the cores."""
    out = {}
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid:
                out[proc.pid] = _cpu(proc)
        except (OSError, psutil.Error):  # ended meanwhile, or not ours to read
            continue
    return out


def database_cpu(name: str = "postgres") -> float:
    """CPU seconds used so far by the local database server's processes (0 when none runs here)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] == name:
                total += _cpu(proc)
        except psutil.Error:
            continue
    return total


@dataclass(frozen=True)
class Machine:
    busy: float   # seconds of CPU time spent on anything, summed over cores
    idle: float   # seconds of cores idle or waiting on I/O

    @staticmethod
    def now() -> Machine:
        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0)
        return Machine(sum(t) - idle - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0), idle)

    def since(self, before: Machine) -> float:
        """The share of the machine's CPU time that was busy between `before` and this reading."""
        busy, idle = self.busy - before.busy, self.idle - before.idle
        return busy / (busy + idle) if busy + idle > 0 else 0.0


def loadavg() -> list[float]:
    """The machine's 1/5/15-minute load: other processes competing for the cores make a ratio meaningless."""
    return [round(x, 2) for x in os.getloadavg()]


def alive(pid: int) -> bool:
    return psutil.pid_exists(pid)
