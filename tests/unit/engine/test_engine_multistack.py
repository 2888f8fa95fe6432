"""Several stacks in one run: ordering, barriers, and the engine choice."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from replicator.engine.deployment import Mode
from replicator.engine.multistack import StackBarrier, run_stacks
from replicator.engine.runner import RunResult
from replicator.engine.selection import select_backend
from replicator.errors import EngineUnavailableError, InputError


class FakeRunner:
    """Records when each stack ran; `slow` stacks take a while; `fail` ones fail."""

    def __init__(self, slow: set[str] = frozenset(), fail: set[str] = frozenset()) -> None:
        self.slow, self.fail = slow, fail
        self.barrier = None
        self.events: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()

    def run(self, stack: str, verb: Mode, sink: object, *, refresh_first: bool = False) -> RunResult:
        with self._lock:
            self.events.append(("start", stack, time.monotonic()))
        if stack in self.slow:
            time.sleep(0.3)
        ok = stack not in self.fail
        # A dependent stack reads the owner's outputs through the barrier.
        if self.barrier is not None and stack != "e-ctoc" and "e-ctoc" in self.barrier:
            ok = ok and self.barrier.wait("e-ctoc")
        with self._lock:
            self.events.append(("end", stack, time.monotonic()))
        return RunResult(stack=stack, verb=verb.value, succeeded=ok, steps=[], diagnostics=[],
                         seconds=0.0, error="" if ok else "failed")


def _order(events: list[tuple[str, str, float]], kind: str) -> list[str]:
    return [s for k, s, _ in sorted(events, key=lambda e: e[2]) if k == kind]


def test_up_starts_every_stack_at_once_and_dependents_wait_for_the_owner() -> None:
    runner = FakeRunner(slow={"e-ctoc"})
    results = run_stacks(runner, ["e-ctoc", "e-itl", "e-toc"], Mode.UP, lambda s: None)  # type: ignore[arg-type]
    assert [r.stack for r in results] == ["e-ctoc", "e-itl", "e-toc"]
    assert all(r.succeeded for r in results)
    starts = {s: t for k, s, t in runner.events if k == "start"}
    ends = {s: t for k, s, t in runner.events if k == "end"}
    # The dependents started before the owner ended, and ended after it.
    assert starts["e-itl"] < ends["e-ctoc"] and starts["e-toc"] < ends["e-ctoc"]
    assert ends["e-itl"] >= ends["e-ctoc"] and ends["e-toc"] >= ends["e-ctoc"]
    assert runner.barrier is None  # reset after the run


def test_a_failed_owner_fails_its_dependents() -> None:
    runner = FakeRunner(fail={"e-ctoc"})
    results = run_stacks(runner, ["e-ctoc", "e-itl"], Mode.UP, lambda s: None)  # type: ignore[arg-type]
    assert [r.succeeded for r in results] == [False, False]


def test_destroy_removes_the_dependents_before_the_owner() -> None:
    runner = FakeRunner(slow={"e-itl"})
    results = run_stacks(runner, ["e-ctoc", "e-itl", "e-toc"], Mode.DESTROY, lambda s: None)  # type: ignore[arg-type]
    assert {r.stack for r in results} == {"e-ctoc", "e-itl", "e-toc"}
    assert _order(runner.events, "start")[-1] == "e-ctoc"
    ends = {s: t for k, s, t in runner.events if k == "end"}
    starts = {s: t for k, s, t in runner.events if k == "start"}
    assert starts["e-ctoc"] >= max(ends["e-itl"], ends["e-toc"])


def test_destroy_keeps_the_owner_when_a_dependent_fails() -> None:
    runner = FakeRunner(fail={"e-toc"})
    results = run_stacks(runner, ["e-ctoc", "e-itl", "e-toc"], Mode.DESTROY, lambda s: None)  # type: ignore[arg-type]
    assert "e-ctoc" not in {r.stack for r in results}


def test_barrier_times_out_as_a_failure() -> None:
    barrier = StackBarrier(["a"])
    assert "a" in barrier and "b" not in barrier
    assert barrier.wait("a", timeout=0.01) is False
    barrier.finished("a", True)
    assert barrier.wait("a") is True


def test_engine_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    monkeypatch.setattr("shutil.which", lambda name: None)
    from replicator.engine import StackRunner

    assert isinstance(select_backend("auto", repo, tmp_path), StackRunner)
    assert isinstance(select_backend("embedded", repo, tmp_path), StackRunner)
    with pytest.raises(EngineUnavailableError, match="no `pulumi` is on PATH"):
        select_backend("pulumi", repo, tmp_path)
    with pytest.raises(InputError, match="unknown engine"):
        select_backend("terraform", repo, tmp_path)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/local/bin/pulumi")
    from replicator.engine.pulumi_cli import PulumiCliRunner

    assert isinstance(select_backend("auto", repo, tmp_path), PulumiCliRunner)
