"""The async graph and its saver, which live and die with one event loop.

An async saver belongs to the loop it was opened on: aiosqlite runs a non-daemon thread until the connection
is closed (a script that awaited `desk.asend` and never called `aclose()` hung at exit), and a PostgreSQL
async pool's workers are that loop's tasks. So the saver is closed when its loop shuts down, and a later loop
(another `asyncio.run`) opens its own.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.store.checkpoints import aclose_saver, async_checkpointer

_log = logging.getLogger("supportflow.threads")
_sized_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _size_executor(workers: int) -> None:
    """Sync nodes run on the loop's default executor (min(32, cpus + 4) threads): far too few for
    conversations that mostly wait on an LLM. Give this loop a bigger one, once."""
    loop = asyncio.get_running_loop()
    if loop not in _sized_loops:
        loop.set_default_executor(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="supportflow"))
        _sized_loops.add(loop)


async def _closes_with_loop(saver):
    """Parked at its `yield` for the saver's life. `asyncio.run` finalises pending async generators before it
    closes the loop (`shutdown_asyncgens`, public asyncio behaviour), which closes the saver then."""
    try:
        yield
    finally:
        await aclose_saver(saver)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class LoopGraph:
    """The async graph for the running loop: opened on first use, closed with the loop or by `aclose`."""

    def __init__(self, settings: Any, build: Callable[..., Any]):
        self.settings, self.build = settings, build
        self._graph: Any = None
        self._guard: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    async def graph(self):
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new loop: the last one's saver goes (if its loop left it open)
            stale, self._graph, self._guard, self._lock, self._loop = self._guard, None, None, asyncio.Lock(), loop
            if stale is not None and stale.ag_frame is not None:
                try:
                    await stale.aclose()
                except Exception as exc:  # bound to its old loop (a pool's tasks): dropped, not closed
                    _log.warning("could not close the async checkpointer of an earlier event loop: %s", exc)
        if self._graph is None:
            async with self._lock:  # many first calls at once must share one saver
                if self._graph is None:
                    _size_executor(self.settings.async_workers)
                    saver = await async_checkpointer(self.settings)
                    guard = _closes_with_loop(saver)
                    await guard.asend(None)
                    self._graph, self._guard = self.build(checkpointer=saver), guard
        return self._graph

    async def aclose(self) -> None:
        guard, self._graph, self._guard = self._guard, None, None
        if guard is not None:
            await guard.aclose()

    def close(self) -> None:
        guard, loop = self._guard, self._loop
        if guard is None or guard.ag_frame is None:  # nothing open, or its loop's shutdown closed it
            self._graph = self._guard = None
            return
        if loop.is_running() or _loop_running():
            return  # called from inside a loop, which cannot be driven from here: its shutdown closes the saver
        if not loop.is_closed():
            loop.run_until_complete(self.aclose())
        else:  # closed without finalising its async generators: finish the saver on a loop of our own
            asyncio.run(self.aclose())
