"""CPU accounting for `bench serve`, read from /proc (Linux), so a worker-count ratio can be judged against what
the machine allowed rather than against wall time alone.

Three readings, each a snapshot to subtract:
- the CPU seconds of one process session (the server and its workers);
- the CPU seconds of the local database server's processes (PostgreSQL's backends do a share of every turn's
  work on the same cores, and a ceiling that left them out would promise more than two cores can give);
- the machine's busy and idle time: idle cores during a run mean the service was waiting, not computing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> list[tuple[int, str, list[str]]]:
    """(pid, command name, the fields after it) of every live process."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        head, _, rest = text.rpartition(")")
        out.append((int(stat.parent.name), head.partition("(")[2], rest.split()))
    return out


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def session_cpu(sid: int) -> dict[int, float]:
    """CPU seconds used so far by each live process of session `sid`. Unlike wall time, this hardly changes when
    other programs compete for the cores."""
    return {pid: _cpu(f) for pid, _, f in _stats() if int(f[3]) == sid}


def database_cpu(name: str = "postgres") -> float:
    """CPU seconds used so far by the local database server's processes (0 when none runs here)."""
    return sum(_cpu(f) for _, comm, f in _stats() if comm == name or comm.startswith(f"{name}:"))


@dataclass(frozen=True)
class Machine:
    busy: float   # seconds of CPU time spent on anything, summed over cores
    idle: float   # seconds of cores idle or waiting on I/O

    @staticmethod
    def now() -> Machine:
        with open("/proc/stat") as fh:
            user, nice, system, idle, iowait, irq, softirq, steal = (int(x) / TICK for x in fh.readline().split()[1:9])
        return Machine(user + nice + system + irq + softirq + steal, idle + iowait)

    def since(self, before: Machine) -> float:
        """The share of the machine's CPU time that was busy between `before` and this reading."""
        busy, idle = self.busy - before.busy, self.idle - before.idle
        return busy / (busy + idle) if busy + idle > 0 else 0.0


def loadavg() -> list[float]:
    """The machine's 1/5/15-minute load: other processes competing for the cores make a ratio meaningless."""
    return [round(x, 2) for x in os.getloadavg()]


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
