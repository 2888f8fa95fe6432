"""Make sure a Docker engine is reachable, starting a local `dockerd` if needed.

There is no systemd on the machines this runs on, so when the default local
socket does not answer, `ensure_engine` starts `dockerd` itself: in the
background, in its own session, with its own pid file
(`/var/run/replicator-dockerd.pid`) and log (`/var/log/replicator-dockerd.log`).
`stop_engine` stops only a dockerd started that way (found by that pid file);
an engine started by anything else is never touched.

A pid file left behind by a dockerd that is gone (machine reset, killed
process, pid reused by another program) is detected and removed before
starting, so a stale file never blocks a start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from replicator.errors import EngineUnavailableError, ExitCode, ReplicatorError

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_DOCKER_HOST = f"unix://{DEFAULT_SOCKET}"
# Hosts that mean "the local engine on the default socket" (/var/run -> /run on Debian).
_DEFAULT_HOSTS = {
    DEFAULT_DOCKER_HOST,
    "unix:///run/docker.sock",
    "unix://" + str(Path(DEFAULT_SOCKET).resolve()),
}

PIDFILE = Path("/var/run/replicator-dockerd.pid")
LOGFILE = Path("/var/log/replicator-dockerd.log")
DOCKERD = "dockerd"  # looked up on PATH
START_TIMEOUT = 30.0  # seconds to wait for the socket after starting dockerd
STOP_TIMEOUT = 60.0  # dockerd stops running containers before it exits

INSTALL_FIX = (
    "run scripts/setup.sh as root (it installs and starts the engine), "
    "or `apt-get install docker.io` and then `replicator engine start`"
)


@dataclass(frozen=True)
class EngineInfo:
    """What answered on `docker_host`."""

    id: str
    name: str
    server_version: str
    api_version: str
    docker_host: str
    # The pid of the dockerd replicator started (from its pid file), if it is that one.
    managed_pid: int | None = None
    # True when the engine did not answer at first and this call brought it up
    # (started dockerd, or waited for a start already in progress).
    started: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- hosts


def resolve_host(docker_host: str | None = None) -> str:
    """The engine address to use: the argument, else DOCKER_HOST, else the default socket."""
    host = docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    if host.startswith("/"):  # a bare socket path
        host = "unix://" + host
    return host


def is_default_local(docker_host: str) -> bool:
    """True for the default local unix socket, the only engine we may start ourselves."""
    return docker_host.rstrip("/") in _DEFAULT_HOSTS


def connect(docker_host: str | None = None, *, timeout: float | None = None):
    """A docker-py client for `docker_host` (API version negotiated, every call bounded:
    REPLICATOR_DOCKER_TIMEOUT unless `timeout`), or raise."""
    from replicator.docker_client import DockerTimeoutError, docker_client

    host = resolve_host(docker_host)
    try:
        client = docker_client(host, timeout=timeout)
        client.ping()
    except DockerTimeoutError:
        raise
    except Exception as exc:  # DockerException, requests errors, FileNotFoundError...
        raise EngineUnavailableError(
            f"no Docker engine answers on {host}: {_short(exc)}",
            fix=INSTALL_FIX
            if is_default_local(host)
            else f"start the engine behind {host}, or unset DOCKER_HOST to use the local one",
        ) from exc
    return client


def _ping(docker_host: str, timeout: int = 5) -> bool:
    try:
        client = connect(docker_host, timeout=timeout)
    except EngineUnavailableError:
        return False
    client.close()
    return True


def engine_info(client, docker_host: str) -> EngineInfo:
    info = client.info()
    version = client.version()
    pid = managed_pid()
    return EngineInfo(
        id=info.get("ID", ""),
        name=info.get("Name", ""),
        server_version=version.get("Version", ""),
        api_version=version.get("ApiVersion", ""),
        docker_host=docker_host,
        managed_pid=pid if is_default_local(docker_host) else None,
    )


# --------------------------------------------------------------------------- pid file


def _process_name(pid: int) -> str | None:
    """The command name of a live process, or None if there is no such process."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None


def _is_dockerd(pid: int) -> bool:
    name = _process_name(pid)
    if name is None:
        return False
    if name == "dockerd":
        return True
    # A zombie or renamed process: look at its executable.
    with contextlib.suppress(OSError):
        return Path(os.readlink(f"/proc/{pid}/exe")).name == "dockerd"
    return False


def read_pidfile(pidfile: Path | None = None, *, remove_stale: bool = True) -> int | None:
    """The pid of the live dockerd recorded in `pidfile`, or None.

    A pid file that is empty, unreadable as a number, names a process that no
    longer exists, or names a process that is not dockerd (its pid was reused)
    is stale: it is removed when `remove_stale` is true.
    """
    pidfile = pidfile or PIDFILE
    try:
        text = pidfile.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        pid = int(text)
    except ValueError:
        pid = None
    if pid is not None and pid > 0 and _is_dockerd(pid) and not _is_zombie(pid):
        return pid
    if remove_stale:
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
    return None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # Field 3, after the parenthesised command name.
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def managed_pid(pidfile: Path | None = None) -> int | None:
    """The pid of the dockerd replicator started, if it is still running."""
    return read_pidfile(pidfile, remove_stale=False)


# --------------------------------------------------------------------------- start / stop


def _find_dockerd(binary: str) -> str:
    path = shutil.which(binary) or (
        binary if os.path.isabs(binary) and os.access(binary, os.X_OK) else None
    )
    if path is None:
        raise EngineUnavailableError(
            f"the Docker engine is not running and `{binary}` is not installed",
            fix=INSTALL_FIX,
        )
    return path


def _tail(path: Path, lines: int = 15) -> str:
    try:
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines)).rstrip()
    except OSError:
        return ""


def start_engine(
    *,
    console: Console | None = None,
    pidfile: Path | None = None,
    logfile: Path | None = None,
    binary: str | None = None,
    timeout: float | None = None,
    docker_host: str = DEFAULT_DOCKER_HOST,
) -> int | None:
    """Start dockerd in the background and wait until it answers on `docker_host`.

    Returns the pid of the dockerd replicator manages, or None when an engine
    not started by replicator answered meanwhile. If a dockerd recorded in
    `pidfile` is still running (another start in progress), only waits for it.
    Raises EngineUnavailableError when dockerd is missing, we are not root, it
    exits early or does not answer within `timeout` seconds.
    Defaults: PIDFILE, LOGFILE, DOCKERD, START_TIMEOUT, the default socket
    (`ensure_engine` only ever starts that one).
    """
    pidfile = pidfile or PIDFILE
    logfile = logfile or LOGFILE
    binary = binary or DOCKERD
    timeout = START_TIMEOUT if timeout is None else timeout
    console = console or Console(stderr=True)
    path = _find_dockerd(binary)
    if os.geteuid() != 0:
        raise EngineUnavailableError(
            "the Docker engine is not running and starting dockerd needs root",
            fix="run `replicator engine start` (or scripts/setup.sh) as root",
        )
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    # One starter at a time (parallel test workers, two CLI runs): the others
    # wait here, then find the engine answering or its pid file.
    with _start_lock(pidfile.with_name(pidfile.name + ".lock")):
        pid = read_pidfile(pidfile)  # removes a stale pid file
        if pid is not None:
            console.print(f"dockerd (pid {pid}) from {pidfile} is running; waiting for its socket")
            _wait_for_socket(pid, None, logfile, timeout, docker_host)
            return pid
        if _ping(docker_host):
            return None  # an engine started meanwhile, not by replicator
        cmd = [path, "--pidfile", str(pidfile), "-H", docker_host]
        with logfile.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"\n--- {stamp} replicator: {' '.join(cmd)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives this process and its terminal
                close_fds=True,  # in particular not the start lock
            )
        console.print(f"starting dockerd (pid {proc.pid}), log: {logfile}")
        _wait_for_socket(proc.pid, proc, logfile, timeout, docker_host)
        return proc.pid


@contextlib.contextmanager
def _start_lock(path: Path):
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _wait_for_socket(
    pid: int, proc: subprocess.Popen | None, logfile: Path, timeout: float, docker_host: str
) -> None:
    socket = docker_host.removeprefix("unix://")
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        if proc is not None:
            rc = proc.poll()
            if rc is not None:
                raise EngineUnavailableError(
                    f"dockerd (pid {pid}) exited with code {rc} while starting; "
                    f"last lines of {logfile}:\n{_tail(logfile)}",
                    fix=f"read {logfile}; another engine may hold /var/lib/docker or the socket",
                )
        elif _process_name(pid) is None:
            raise EngineUnavailableError(
                f"dockerd (pid {pid}) exited while starting; last lines of {logfile}:\n{_tail(logfile)}",
                fix=f"read {logfile}, then `replicator engine start` again",
            )
        if os.path.exists(socket) and _ping(docker_host, timeout=5):
            return
        if time.monotonic() >= deadline:
            raise EngineUnavailableError(
                f"dockerd (pid {pid}) did not answer on {docker_host} within "
                f"{timeout:.0f} s; last lines of {logfile}:\n{_tail(logfile)}",
                fix=f"read {logfile}; stop it with `replicator engine stop` and retry",
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def stop_engine(
    *,
    console: Console | None = None,
    pidfile: Path | None = None,
    timeout: float | None = None,
) -> int | None:
    """Stop the dockerd replicator started (found by `pidfile`). Returns its pid, or None.

    Never touches an engine started any other way.
    """
    pidfile = pidfile or PIDFILE
    timeout = STOP_TIMEOUT if timeout is None else timeout
    console = console or Console(stderr=True)
    pid = read_pidfile(pidfile)
    if pid is None:
        return None
    console.print(f"stopping dockerd (pid {pid})")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_dockerd(pid) or _is_zombie(pid):
            _reap(pid)
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()  # dockerd removes it itself on a clean exit
            return pid
        time.sleep(0.2)
    raise ReplicatorError(
        f"dockerd (pid {pid}) did not stop within {timeout:.0f} s after SIGTERM",
        fix=f"wait for it to finish stopping containers, or `kill -9 {pid}`",
        exit_code=ExitCode.FAILED,
    )


def _reap(pid: int) -> None:
    """Collect the exit status if dockerd is our own child (else it is init's job)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


# --------------------------------------------------------------------------- entry point


def ensure_engine(
    docker_host: str | None = None,
    *,
    start: bool = True,
    console: Console | None = None,
) -> EngineInfo:
    """Return facts about a reachable engine on `docker_host`, starting dockerd if allowed.

    `docker_host` defaults to DOCKER_HOST, then the local default socket. Only
    the default local socket is ever started (when `start` is true); any other
    host that does not answer raises EngineUnavailableError.
    """
    host = resolve_host(docker_host)
    try:
        client = connect(host, timeout=10)
    except EngineUnavailableError:
        if not (start and is_default_local(host)):
            raise
        start_engine(console=console)
        client = connect(host)
        started = True
    else:
        started = False
    try:
        info = engine_info(client, host)
    finally:
        client.close()
    if started:
        info = EngineInfo(**{**info.to_dict(), "started": True})
    return info


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
