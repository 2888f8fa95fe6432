"""One dockerd per simulated host, inside the host's network namespace.

`nsenter --net=/var/run/netns/NAME dockerd ...`: `ip netns exec` would remount
/sys, and dockerd then fails ("Devices cgroup isn't mounted"). Each engine has
its own data-root, exec-root, pid file, socket, daemon config and cgroup
parent, so it shares nothing with the main engine or with the other hosts.
It is stopped by the pid it wrote, never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from replicator.dockerd import DOCKERD, connect, read_pidfile
from replicator.errors import EngineUnavailableError
from replicator.hosts.model import SimHost
from replicator.hosts.netns import NETNS_DIR

START_TIMEOUT = 180.0  # a restart brings its containers back first: slow under load
STOP_TIMEOUT = 60.0
CGROUP_ROOT = Path("/sys/fs/cgroup")


def running_pid(host: SimHost) -> int | None:
    return read_pidfile(Path(host.pidfile), remove_stale=True)


def answers(host: SimHost, timeout: int = 5) -> bool:
    try:
        connect(host.docker_host, timeout=timeout).close()
    except EngineUnavailableError:
        return False
    return True


def start(host: SimHost) -> int:
    """Start the host's dockerd unless it runs; wait until it answers. Returns its pid."""
    pid = running_pid(host)
    if pid is None:
        pid = _spawn(host)
    _wait(host, pid)
    return pid


def _spawn(host: SimHost) -> int:
    for d in (host.data_root, host.exec_root):
        Path(d).mkdir(parents=True, exist_ok=True)
    config = Path(host.pidfile).with_name("daemon.json")
    # Never /etc/docker/daemon.json (the main engine's); and an own trust key: the
    # engine's ID derives from it, and /etc/docker/key.json would give every host the
    # main engine's ID (one "physical host" for verify and the report).
    config.write_text(json.dumps({"deprecated-key-path": str(config.with_name("key.json"))}))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(host.socket)  # a socket left by a killed dockerd blocks the bind
    cmd = ["nsenter", f"--net={NETNS_DIR / host.namespace}", DOCKERD,
           "--config-file", str(config), "-H", host.docker_host,
           "--data-root", host.data_root, "--exec-root", host.exec_root,
           "--pidfile", host.pidfile, "--cgroup-parent", host.cgroup_parent]
    with open(host.logfile, "ab") as log:
        # nsenter execs dockerd, so the pid we get is dockerd's own.
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    return proc.pid


def _wait(host: SimHost, pid: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not (os.path.exists(host.socket) and answers(host)):
        alive = Path(f"/proc/{pid}").exists() and _state(pid) != "Z"
        if not alive or time.monotonic() > deadline:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            raise EngineUnavailableError(
                f"dockerd of simulated host {host.name} (pid {pid}) "
                + ("exited" if not alive else f"did not answer within {START_TIMEOUT:.0f} s")
                + f"; last lines of {host.logfile}:\n{_tail(Path(host.logfile))}",
                fix=f"read {host.logfile}; `replicator hosts down` then `hosts up` starts clean")
        time.sleep(0.2)


def stop(host: SimHost) -> int | None:
    """Stop the host's dockerd by its pid (SIGTERM, then wait). Returns the pid stopped."""
    pid = running_pid(host)
    if pid is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # ours, by pid: containers stop with their shims
            break
        time.sleep(0.2)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)
    return pid


def leftover_pids(host: SimHost) -> list[int]:
    """Processes still using the host's exec-root (containerd, shims of a killed dockerd)."""
    mark = host.exec_root.encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if mark in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
    return found


def remove_cgroups(host: SimHost) -> list[Path]:
    """rmdir the (empty) cgroup directories the host's containers left, deepest first."""
    removed = []
    for top in CGROUP_ROOT.glob(f"*/{host.cgroup_parent}"):
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                d.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()
            removed.append(top)
    return removed


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return "?"


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
