"""The probe script (run here on loopback only), the prober's batching, the backend's command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from verify.backend import EngineDockerBackend, engine_host
from verify.observe import PROBE_SCRIPT, Prober, ProbeTarget


def run_script(spec: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE_SCRIPT, json.dumps(spec)],
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_probe_script_classifies_open_refused_and_names() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        started = time.monotonic()
        res = run_script({"timeout": 1.0, "deadline": 5, "items": [
            {"id": "a", "name": "localhost", "ips": [], "ports": [open_port]},
            {"id": "b", "name": None, "ips": ["127.0.0.1"], "ports": [closed_port]},
            {"id": "c", "name": "no-such-host.invalid", "ips": [], "ports": [80]},
        ]})
        assert time.monotonic() - started < 10
    finally:
        listener.close()
    assert res["a"]["resolved"] == ["127.0.0.1"]
    assert res["a"]["connect"] == {f"127.0.0.1:{open_port}": "open"}
    assert res["b"]["connect"] == {f"127.0.0.1:{closed_port}": "refused"}
    assert res["c"]["resolved"] == [] and res["c"]["resolve_error"]
    assert res["c"]["connect"] == {}


class FakeHost:
    def __init__(self, answers: dict, calls: list) -> None:
        self.answers, self.calls = answers, calls

    def run(self, command: str, *args: str):
        spec = json.loads(args[1])
        self.calls.append([i["id"] for i in spec["items"]])

        class R:
            rc = 0
            stdout = json.dumps({i["id"]: self.answers[i["id"]] for i in spec["items"]})
            stderr = ""
        return R()


def test_prober_batches_per_container_and_repeats_on_demand() -> None:
    answers = {"x": {"resolved": ["10.0.0.2"], "resolve_error": "", "connect": {
        "10.0.0.2:80": "open"}}, "y": {"resolved": [], "resolve_error": "nope", "connect": {
            "10.0.0.3:80": "timeout"}}}
    calls: list = []
    prober = Prober(lambda host, name: FakeHost(answers, calls))
    targets = [ProbeTarget("x", "a", (), (80,)), ProbeTarget("y", "b", ("10.0.0.3",), (80,))]
    prober.run({("h", "c1"): targets})
    prober.run({("h", "c1"): targets})  # cached: no second exec
    assert calls == [["x", "y"]]
    assert prober.result("c1", "x").open == ["10.0.0.2:80"]
    assert prober.result("c1", "y").answered == []
    assert "unresolved (nope)" in prober.result("c1", "y").describe()
    prober.run({("h", "c1"): targets[:1]}, again=True)
    assert calls[-1] == ["x"] and ("c1", "x") in prober.repeated


def test_prober_confirms_a_failure_until_it_clears_or_the_pauses_run_out() -> None:
    unresolved = {"resolved": [], "resolve_error": "Temporary failure", "connect": {}}
    resolved = {"resolved": ["10.0.0.2"], "resolve_error": "", "connect": {"10.0.0.2:80": "open"}}
    answers = {"x": resolved, "y": unresolved}
    calls: list = []
    prober = Prober(lambda host, name: FakeHost(answers, calls))
    batches = {("h", "c1"): [ProbeTarget("x", "a", (), (80,)), ProbeTarget("y", "b", (), (80,))]}
    prober.run(batches)

    def suspect(target, result) -> bool:
        return result is None or not result.resolved

    slept: list[float] = []

    def sleep(pause: float) -> None:  # the name resolves after the second pause
        slept.append(pause)
        if len(slept) == 2:
            answers["y"] = resolved

    prober.confirm(batches, suspect, (0.5, 1.5, 3.0), sleep)
    assert slept == [0.5, 1.5] and calls == [["x", "y"], ["y"], ["y"]]
    assert prober.result("c1", "y").resolved == ["10.0.0.2"]
    answers["y"] = unresolved  # a real failure: every pause, then the last answer stands
    prober.run(batches, again=True)
    slept.clear()
    prober.confirm(batches, suspect, (0.5, 1.5, 3.0), lambda pause: slept.append(pause))
    assert slept == [0.5, 1.5, 3.0] and not prober.result("c1", "y").resolved
    slept.clear()
    prober.confirm({("h", "c1"): batches[("h", "c1")][:1]}, suspect, (0.5,), slept.append)
    assert slept == []  # nothing suspect: no wait


def test_prober_reports_a_failed_exec() -> None:
    class Broken:
        def run(self, *a):
            class R:
                rc, stdout, stderr = 1, "", "Error: No such container: c1"
            return R()

    prober = Prober(lambda h, n: Broken())
    prober.run({("h", "c1"): [ProbeTarget("x", "a", (), (80,))]})
    assert prober.result("c1", "x").error == "exit 1: Error: No such container: c1"


def test_backend_passes_the_docker_host(monkeypatch) -> None:
    seen = []
    backend = EngineDockerBackend("box-1", docker_host="tcp://10.1.2.3:2375")
    monkeypatch.setattr(backend, "run_local",
                        lambda cmd, *args: seen.append(backend.quote(cmd, *args)) or
                        backend.result(0, b"", b"ok", b""))
    backend.run("cat %s", "/etc/os-release")
    assert seen == [("docker -H tcp://10.1.2.3:2375 exec box-1 /bin/sh -c "
                    "'cat /etc/os-release'")]


def test_engine_host_is_cached_and_knows_debian() -> None:
    a = engine_host("unix:///x.sock", "c1")
    assert engine_host("unix:///x.sock", "c1") is a
    assert engine_host("unix:///y.sock", "c1") is not a
    assert a.system_info.distribution == "debian"
    assert a.backend.get_pytest_id() == "docker://c1"
