"""The collection's readiness helpers (module_utils/supervisor.py), which `program` and
`config_files` (its `ensure_running`) share, against a supervisord stand-in.

The modules themselves run in the containers: tests/integration/configure stops
programs by hand and checks one configure run starts them again.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PATH = ROOT / "collections/ansible_collections/replicator/replica/plugins/module_utils/supervisor.py"


def _load():
    spec = importlib.util.spec_from_file_location("replica_supervisor", PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sup_utils = _load()


class FakeSupervisor:
    def __init__(self, states: list[str]) -> None:
        self.states = list(states)
        self.calls: list[str] = []

    def state(self, name: str) -> str:
        return self.states[0] if len(self.states) == 1 else self.states.pop(0)

    def describe(self, name: str) -> str:
        return f"{name} {self.states[0]}"

    def update(self):
        self.calls.append("update")
        return [], [], []

    def start(self, name: str) -> None:
        self.calls.append(f"start {name}")


@pytest.mark.parametrize("state", ["RUNNING", "STARTING", "BACKOFF"])
def test_a_running_program_is_left_alone(state):
    sup = FakeSupervisor([state])
    assert sup_utils.start(sup, "nginx") is False
    assert sup.calls == []


def test_a_stopped_program_is_started():
    sup = FakeSupervisor(["STOPPED"])
    assert sup_utils.start(sup, "nginx") is True
    assert sup.calls == ["start nginx"]


def test_a_new_program_file_is_read_first_and_its_autostart_counts():
    sup = FakeSupervisor(["MISSING", "STARTING"])
    assert sup_utils.start(sup, "replicator-app") is True
    assert sup.calls == ["update"]  # update added and started it: no second start


def test_check_mode_says_it_would_start_and_touches_nothing():
    sup = FakeSupervisor(["STOPPED"])
    assert sup_utils.start(sup, "nginx", check_mode=True) is True
    assert sup.calls == []


def test_ready_by_command_and_by_state():
    sup = FakeSupervisor(["RUNNING"])
    assert sup_utils.ready({"wait_command": [sys.executable, "-c", "pass"]}, sup, "x")
    assert not sup_utils.ready({"wait_command": [sys.executable, "-c", "raise SystemExit(1)"]},
                               sup, "x")
    assert sup_utils.ready({}, sup, "x")


def test_waiting_on_a_program_supervisord_gave_up_on_fails_at_once():
    sup = FakeSupervisor(["FATAL"])
    with pytest.raises(sup_utils.SupervisorError) as caught:
        sup_utils.wait_ready({"wait_command": [sys.executable, "-c", "raise SystemExit(1)"],
                              "timeout": 60}, sup, "postgresql")
    assert "postgresql is not ready" in str(caught.value)


def test_waiting_stops_at_the_timeout(monkeypatch):
    sup = FakeSupervisor(["STARTING"])
    monkeypatch.setattr(sup_utils, "POLL_INTERVAL", 0.01)
    with pytest.raises(sup_utils.SupervisorError, match="not ready"):
        sup_utils.wait_ready({"wait_url": "http://127.0.0.1:9/health", "timeout": 0}, sup, "app")
