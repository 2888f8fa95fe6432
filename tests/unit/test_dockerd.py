"""dockerd start/stop logic that can be checked without touching the real engine.

Fake `dockerd` programs live in tmp_path; every pid file, log and socket is a
temporary path; processes a test starts are ended by that test, by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replicator import dockerd
from replicator.errors import EngineUnavailableError, ExitCode


@pytest.fixture
def quiet_console():
    from rich.console import Console

    return Console(quiet=True)


@pytest.fixture
def fake_dockerd(tmp_path: Path):
    """A long-running process whose command name is `dockerd` (a copy of sleep)."""
    exe = tmp_path / "bin" / "dockerd"
    exe.parent.mkdir()
    shutil.copy(shutil.which("sleep"), exe)
    procs: list[subprocess.Popen] = []

    def spawn() -> subprocess.Popen:
        proc = subprocess.Popen([str(exe), "300"])
        procs.append(proc)
        deadline = time.monotonic() + 5
        while dockerd._process_name(proc.pid) != "dockerd" and time.monotonic() < deadline:
            time.sleep(0.01)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- hosts


def test_resolve_host_prefers_argument_then_env(monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert dockerd.resolve_host() == dockerd.DEFAULT_DOCKER_HOST
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/other.sock")
    assert dockerd.resolve_host() == "unix:///tmp/other.sock"
    assert dockerd.resolve_host("tcp://127.0.0.1:2375") == "tcp://127.0.0.1:2375"
    assert dockerd.resolve_host("/tmp/x.sock") == "unix:///tmp/x.sock"


def test_only_the_default_socket_is_local():
    assert dockerd.is_default_local("unix:///var/run/docker.sock")
    assert dockerd.is_default_local("unix:///run/docker.sock")
    assert not dockerd.is_default_local("unix:///tmp/docker.sock")
    assert not dockerd.is_default_local("tcp://127.0.0.1:2375")


# --------------------------------------------------------------------------- pid file


def test_missing_pidfile_is_none(tmp_path):
    assert dockerd.read_pidfile(tmp_path / "none.pid") is None


@pytest.mark.parametrize("content", ["", "garbage\n", "-5", "0"])
def test_unreadable_pidfile_is_stale_and_removed(tmp_path, content):
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(content)
    assert dockerd.read_pidfile(pidfile) is None
    assert not pidfile.exists()


def test_pidfile_of_dead_process_is_stale_and_removed(tmp_path):
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(f"{_dead_pid()}\n")
    assert dockerd.read_pidfile(pidfile) is None
    assert not pidfile.exists()


def test_pidfile_of_reused_pid_is_stale(tmp_path):
    """A live process that is not dockerd (the pid was reused) never counts."""
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(str(os.getpid()))
    assert dockerd.read_pidfile(pidfile, remove_stale=False) is None
    assert pidfile.exists()
    assert dockerd.read_pidfile(pidfile) is None
    assert not pidfile.exists()


def test_pidfile_of_live_dockerd_is_kept(tmp_path, fake_dockerd):
    proc = fake_dockerd()
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(str(proc.pid))
    assert dockerd.read_pidfile(pidfile) == proc.pid
    assert dockerd.managed_pid(pidfile) == proc.pid
    assert pidfile.exists()


def test_stop_engine_stops_only_the_recorded_dockerd(tmp_path, fake_dockerd, quiet_console):
    proc = fake_dockerd()
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(str(proc.pid))
    assert dockerd.stop_engine(console=quiet_console, pidfile=pidfile, timeout=10) == proc.pid
    proc.wait(timeout=5)  # stop_engine may already have reaped its child
    assert dockerd._process_name(proc.pid) is None
    assert not pidfile.exists()


def test_stop_engine_without_our_dockerd_does_nothing(tmp_path, quiet_console):
    pidfile = tmp_path / "d.pid"
    assert dockerd.stop_engine(console=quiet_console, pidfile=pidfile) is None
    pidfile.write_text(str(os.getpid()))  # stale: not a dockerd
    assert dockerd.stop_engine(console=quiet_console, pidfile=pidfile) is None
    assert not pidfile.exists()


# --------------------------------------------------------------------------- start


def test_missing_dockerd_binary_names_the_fix(tmp_path, quiet_console):
    with pytest.raises(EngineUnavailableError) as err:
        dockerd.start_engine(
            console=quiet_console,
            binary="replicator-no-such-dockerd",
            pidfile=tmp_path / "d.pid",
            logfile=tmp_path / "d.log",
        )
    assert err.value.exit_code == ExitCode.ENGINE_UNAVAILABLE
    assert "not installed" in err.value.message
    assert "scripts/setup.sh" in err.value.fix
    assert "apt-get install docker.io" in err.value.fix


def test_ensure_engine_without_dockerd_raises_clear_error(monkeypatch, quiet_console):
    def unreachable(host, **_):
        raise EngineUnavailableError(f"no Docker engine answers on {host}")

    monkeypatch.setattr(dockerd, "connect", unreachable)
    monkeypatch.setattr(dockerd, "DOCKERD", "replicator-no-such-dockerd")
    with pytest.raises(EngineUnavailableError) as err:
        dockerd.ensure_engine(dockerd.DEFAULT_DOCKER_HOST, console=quiet_console)
    assert "scripts/setup.sh" in err.value.render()


def test_ensure_engine_never_starts_a_non_default_host(monkeypatch, tmp_path):
    def forbidden(**_):
        raise AssertionError("must not start dockerd for a non-default host")

    monkeypatch.setattr(dockerd, "start_engine", forbidden)
    with pytest.raises(EngineUnavailableError) as err:
        dockerd.ensure_engine(f"unix://{tmp_path}/absent.sock", start=True)
    assert "DOCKER_HOST" in err.value.fix


def test_ensure_engine_start_false_does_not_start(monkeypatch):
    def unreachable(host, **_):
        raise EngineUnavailableError(f"no Docker engine answers on {host}")

    def forbidden(**_):
        raise AssertionError("must not start dockerd when start=False")

    monkeypatch.setattr(dockerd, "connect", unreachable)
    monkeypatch.setattr(dockerd, "start_engine", forbidden)
    with pytest.raises(EngineUnavailableError):
        dockerd.ensure_engine(dockerd.DEFAULT_DOCKER_HOST, start=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="starting dockerd needs root")
def test_start_reports_early_exit_with_log_tail(tmp_path, quiet_console):
    exe = tmp_path / "dockerd"
    exe.write_text("#!/bin/sh\necho 'failed to start daemon: fake reason'\nexit 1\n")
    exe.chmod(0o755)
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(f"{_dead_pid()}\n")  # a stale pid file does not block the start
    with pytest.raises(EngineUnavailableError) as err:
        dockerd.start_engine(
            console=quiet_console,
            binary=str(exe),
            pidfile=pidfile,
            logfile=tmp_path / "d.log",
            docker_host=f"unix://{tmp_path}/d.sock",
            timeout=10,
        )
    assert "exited with code 1" in err.value.message
    assert "fake reason" in err.value.message
    assert not pidfile.exists()
    assert "--pidfile" in (tmp_path / "d.log").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="starting dockerd needs root")
def test_start_times_out_when_socket_never_answers(tmp_path, quiet_console):
    exe = tmp_path / "dockerd"
    exe.write_text("#!/bin/sh\necho starting\nexec sleep 60\n")
    exe.chmod(0o755)
    pidfile = tmp_path / "d.pid"
    started = time.monotonic()
    with pytest.raises(EngineUnavailableError) as err:
        dockerd.start_engine(
            console=quiet_console,
            binary=str(exe),
            pidfile=pidfile,
            logfile=tmp_path / "d.log",
            docker_host=f"unix://{tmp_path}/d.sock",
            timeout=1,
        )
    assert time.monotonic() - started < 10
    assert "did not answer" in err.value.message
    # End the fake daemon we started (its pid is in the message: "dockerd (pid N)").
    pid = int(err.value.message.split("(pid ", 1)[1].split(")", 1)[0])
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_start_waits_for_an_already_running_managed_dockerd(
    tmp_path, fake_dockerd, quiet_console, monkeypatch
):
    """A live dockerd in our pid file is waited for, not started twice."""
    proc = fake_dockerd()
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(str(proc.pid))
    sock = tmp_path / "d.sock"
    sock.touch()
    monkeypatch.setattr(dockerd, "_ping", lambda host, timeout=5: host == f"unix://{sock}")
    pid = dockerd.start_engine(
        console=quiet_console,
        binary=shutil.which("sleep"),
        pidfile=pidfile,
        logfile=tmp_path / "d.log",
        docker_host=f"unix://{sock}",
        timeout=5,
    )
    assert pid == proc.pid
    assert not (tmp_path / "d.log").exists()  # nothing new was started


@pytest.mark.skipif(os.geteuid() != 0, reason="starting dockerd needs root")
def test_start_does_nothing_when_an_engine_answered_meanwhile(tmp_path, quiet_console, monkeypatch):
    """After waiting for the start lock, an engine that answers is not started twice."""
    marker = tmp_path / "started"
    exe = tmp_path / "dockerd"
    exe.write_text(f"#!/bin/sh\ntouch {marker}\n")
    exe.chmod(0o755)
    monkeypatch.setattr(dockerd, "_ping", lambda host, timeout=5: True)
    pid = dockerd.start_engine(
        console=quiet_console,
        binary=str(exe),
        pidfile=tmp_path / "d.pid",
        logfile=tmp_path / "d.log",
        docker_host=f"unix://{tmp_path}/d.sock",
    )
    assert pid is None
    assert not marker.exists()
