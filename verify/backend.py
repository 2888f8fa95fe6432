"""A testinfra backend for containers on any Docker engine: ``docker -H HOST exec``.

testinfra's own docker backend (`testinfra/backend/docker.py`) runs
``docker exec NAME ...`` and so reaches only the engine DOCKER_HOST names. A
replica's stacks may each live on their own engine (the ``dockerHost`` output of
the stack), so this subclass passes ``-H <docker host>`` on every command.

    host = engine_host("unix:///var/run/docker.sock", "paris2024-itl-wrs-app-1")
    host.file("/etc/replicator/app.json").content_string

Hosts are cached per (engine, container) like `testinfra.get_host` does, and
`run_stdin` feeds a script or a secret on standard input (never on the command
line, where `ps` would show it).
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from typing import Any

import testinfra.host
from testinfra.backend import base
from testinfra.backend.docker import DockerBackend
from testinfra.modules.process import PosixProcess
from testinfra.modules.socket import LinuxSocketSS

# The images are Debian 12 (replicator/images/recipes/base, with procps and iproute2):
# knowing it saves the `docker exec`s testinfra would spend per container to find out
# (system_info: 4, the process module: 3, the socket module: 1).
DEBIAN_SYSINFO = {"type": "linux", "distribution": "debian", "codename": "bookworm",
                  "release": "12", "arch": "x86_64"}


class EngineDockerBackend(DockerBackend):
    """`docker -H <docker_host> exec <container> /bin/sh -c <command>`."""

    NAME = "docker"

    def __init__(self, name: str, *args: Any, docker_host: str = "", timeout: float = 60.0,
                 **kwargs: Any) -> None:
        self.docker_host = docker_host
        self.timeout = timeout
        super().__init__(name, *args, **kwargs)

    def _docker(self) -> str:
        return f"docker -H {shlex.quote(self.docker_host)}" if self.docker_host else "docker"

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        cmd = self.get_command(command, *args)
        user = f"-u {shlex.quote(self.user)} " if self.user is not None else ""
        out = self.run_local(f"{self._docker()} exec {user}%s /bin/sh -c %s", self.name, cmd)
        out.command = self.encode(cmd)
        return out

    def run_local(self, command: str, *args: str) -> base.CommandResult:
        # As base.run_local, with a timeout: a hung exec must fail the check, not the run.
        command = self.quote(command, *args)
        cmd = self.encode(command)
        try:
            proc = subprocess.run(cmd, shell=True, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return self.result(124, cmd, exc.stdout or b"",
                               (exc.stderr or b"") + f"timed out after {self.timeout}s".encode())
        return self.result(proc.returncode, cmd, proc.stdout, proc.stderr)

    def run_stdin(self, argv: list[str], stdin: bytes, timeout: float | None = None
                  ) -> base.CommandResult:
        """Run `argv` in the container with `stdin` on its standard input (`exec -i`)."""
        cmd = ["docker", *(["-H", self.docker_host] if self.docker_host else []), "exec", "-i",
               *(["-u", self.user] if self.user is not None else []), self.name, *argv]
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True,
                                  timeout=timeout or self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return self.result(124, shlex.join(cmd).encode(), exc.stdout or b"",
                               f"timed out after {timeout or self.timeout}s".encode())
        return self.result(proc.returncode, shlex.join(cmd).encode(), proc.stdout, proc.stderr)

    def get_pytest_id(self) -> str:
        return f"docker://{self.name}"


_hosts: dict[tuple[str, str], testinfra.host.Host] = {}
_lock = threading.Lock()


def engine_host(docker_host: str, container: str, *, timeout: float = 60.0
                ) -> testinfra.host.Host:
    """The testinfra `Host` of a container on the engine at `docker_host` (cached)."""
    key = (docker_host, container)
    with _lock:
        host = _hosts.get(key)
        if host is None:
            backend = EngineDockerBackend(container, docker_host=docker_host, timeout=timeout)
            host = testinfra.host.Host(backend)
            backend.set_host(host)
            # Seed the cached system facts (see DEBIAN_SYSINFO).
            host.system_info.__dict__["sysinfo"] = dict(DEBIAN_SYSINFO)
            host.__dict__["has_command_v"] = True  # a POSIX shell (dash)
            # The modules testinfra would pick after probing the container (procps ps,
            # iproute2 ss: both in the base image), bound to this host without the probes.
            host.process = type("PosixProcess", (PosixProcess,), {"_host": host})()
            host.socket = type("LinuxSocketSS", (LinuxSocketSS,),
                               {"_command": "ss", "_host": host})
            _hosts[key] = host
        return host
