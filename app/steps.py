"""The steps a thread operation is written in, and the `Stepper` that feeds each step's result back.

A turn (`send_steps`), a carry-on, a review decision (app/review/door.py) or a message for a paused review
(app/review/customer_notes.py) is a generator: it yields a step, gets the step's result back, and returns its
outcome. It is written once; `ThreadRunner` (app/threads.py) runs it synchronously (`run`), asynchronously
(`arun`) or streaming progress (`stream`), each in one dispatch (`_execute`, `arun`, `_drive`), and holds the
thread's lock from the first step that needs it to the end. The steps are typed, so an editor follows from an
operation to the graph call each one makes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ReadState:
    """The thread's snapshot (`graph.get_state`), read under the thread's lock."""

    config: dict


@dataclass(frozen=True)
class Peek:
    """The thread's snapshot read without taking the lock: reviewers racing on one item must both get as far as
    the claim, which decides between them."""

    config: dict


@dataclass(frozen=True)
class Run:
    """`graph.invoke(input, config)` with the options of `kind` (app/threads.py `INVOKES`): "save" records a new
    message as the thread's input, "finish" runs the thread to its end (or next pause), "invoke" resumes a review
    with every step's checkpoint written. `progress`: the run a streaming driver shows (a turn's own run, not a
    carry-on or a resume). Its result is None: operations read the thread afterwards."""

    input: Any
    config: dict
    kind: Literal["invoke", "save", "finish"]
    progress: bool = False


@dataclass(frozen=True)
class Call:
    """`fn(runner)` under the thread's lock (in a worker thread by the async driver), e.g. a sub-graph run on its
    own for a message that arrives while the thread waits for a review."""

    fn: Callable[[Any], Any]
    config: dict


Step = ReadState | Peek | Run | Call
Steps = Generator[Step, Any, T]


class Stepper:
    """Advances a generator of steps; a step's failure is thrown into it, so its cleanup (a claim) runs now."""

    def __init__(self, steps: Steps):
        self.steps, self.done, self.value = steps, False, None
        self._advance(lambda: next(steps))

    def reply(self, result: Any) -> None:
        self._advance(lambda: self.steps.send(result))

    def fail(self, exc: BaseException) -> None:
        self._advance(lambda: self.steps.throw(exc))

    def _advance(self, move) -> None:
        try:
            self.step: Step = move()
        except StopIteration as stop:
            self.done, self.value = True, stop.value
