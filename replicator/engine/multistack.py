"""Several stacks in one run: concurrently, each waiting only for what it references.

The site stacks of an edition reference the WAN owner's outputs. Rather than
running them one after the other, every stack starts at once (the program
start-up, the reading of the model, the diffs of the site's own networks all
overlap) and a StackReference to a stack of the same run waits until that
stack has finished, then reads its fresh outputs. If the referenced stack
failed, the reference fails with a message naming it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from replicator.engine.deployment import Mode
from replicator.engine.events import EventSink
from replicator.engine.runner import RunResult, StackRunner


class StackBarrier:
    """Completion of the stacks of one run, for StackReferences to wait on."""

    def __init__(self, stacks: list[str]) -> None:
        self._done = {s: threading.Event() for s in stacks}
        self._ok: dict[str, bool] = {}

    def __contains__(self, stack: str) -> bool:
        return stack in self._done

    def finished(self, stack: str, ok: bool) -> None:
        self._ok[stack] = ok
        self._done[stack].set()

    def wait(self, stack: str, timeout: float = 3600.0) -> bool:
        if not self._done[stack].wait(timeout):
            return False
        return self._ok.get(stack, False)


def run_stacks(
    runner: StackRunner,
    stacks: list[str],
    verb: Mode,
    make_sink: Callable[[str], EventSink],
    *,
    refresh_first: bool = False,
) -> list[RunResult]:
    """Run `verb` on `stacks` (listed owner first) and return results in that order.

    Destroy goes the other way round in two waves: every stack but the first
    (their containers sit on the first one's networks), then the first.
    """
    if len(stacks) <= 1:
        return [runner.run(s, verb, make_sink(s), refresh_first=refresh_first) for s in stacks]
    if verb == Mode.DESTROY:
        results = _concurrently(runner, stacks[1:], verb, make_sink, refresh_first)
        if all(r.succeeded for r in results):
            results = [runner.run(stacks[0], verb, make_sink(stacks[0])), *results]
        return results
    barrier = StackBarrier(stacks)
    runner.barrier = barrier
    try:
        return _concurrently(runner, stacks, verb, make_sink, refresh_first, barrier)
    finally:
        runner.barrier = None


def _concurrently(runner: StackRunner, stacks: list[str], verb: Mode,
                  make_sink: Callable[[str], EventSink], refresh_first: bool,
                  barrier: StackBarrier | None = None) -> list[RunResult]:
    def one(stack: str) -> RunResult:
        ok = False
        try:
            result = runner.run(stack, verb, make_sink(stack), refresh_first=refresh_first)
            ok = result.succeeded
            return result
        finally:
            if barrier is not None:
                barrier.finished(stack, ok)

    with ThreadPoolExecutor(max_workers=len(stacks), thread_name_prefix="stack") as pool:
        return list(pool.map(one, stacks))
