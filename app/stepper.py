"""Driving an operation written as a generator of steps (app/threads.py): one step at a time, by whichever
driver (sync or async) runs it, so the operation itself is written once."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


class Stepper:
    """Advances a generator of steps; a step's failure is thrown into it, so its cleanup (a claim) runs now."""

    def __init__(self, steps: Generator):
        self.steps, self.done, self.value = steps, False, None
        self._advance(lambda: next(steps))

    def feed(self, do) -> None:
        try:
            result = do(self.step)
        except BaseException as exc:
            self.fail(exc)
            return
        self.reply(result)

    def reply(self, result: Any) -> None:
        self._advance(lambda: self.steps.send(result))

    def fail(self, exc: BaseException) -> None:
        self._advance(lambda: self.steps.throw(exc))

    def _advance(self, move) -> None:
        try:
            self.step = move()
        except StopIteration as stop:
            self.done, self.value = True, stop.value
