"""Docker host URLs (`DOCKER_HOST`, `-H`, a stack's `dockerHost`), checked before use.

docker-py accepts `tcp://` with no address and then talks to localhost:2375;
an address that says nothing must be refused where it was written instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from replicator.errors import InputError

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# The local engine under both of its socket paths (/var/run is /run on Debian).
LOCAL_DOCKER_HOSTS = (DEFAULT_DOCKER_HOST, "unix:///run/docker.sock")


def is_local_docker_host(docker_host: str) -> bool:
    """Whether `docker_host` names this machine's own engine socket."""
    return docker_host.rstrip("/") in LOCAL_DOCKER_HOSTS
DOCKER_HOST_FIX = (f"use unix:///<socket path>, tcp://<host>:<port> or ssh://[user@]<host>; "
                   f"the default is {DEFAULT_DOCKER_HOST}")


def check_docker_host_option(value: str | None) -> str | None:
    """The `-H/--docker-host` option's value, checked (a bare socket path is allowed)."""
    if value is None:
        return None
    problem = docker_host_problem("unix://" + value if value.startswith("/") else value)
    if problem:
        raise InputError(problem, path="--docker-host", fix=DOCKER_HOST_FIX)
    return value


def docker_host_problem(value: str) -> str | None:
    """Why `value` is not a usable Docker host URL, or None if it is one."""
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        return f"{value!r} is not a Docker host URL (empty, or blanks or control characters)"
    url = urlsplit(value)
    try:
        port = url.port
    except ValueError:
        return f"{value!r} has a port that is not a number from 1 to 65535"
    if url.scheme in ("unix", "npipe"):
        if url.netloc or not url.path.startswith("/") or url.path == "/":
            return f"{value!r} names no socket: write {url.scheme}:///<absolute path>"
        return None
    if url.scheme == "tcp":
        if not url.hostname or port is None or url.path not in ("", "/"):
            return f"{value!r} needs a host and a port: tcp://<host>:<port>"
        return None
    if url.scheme == "ssh":
        return None if url.hostname else f"{value!r} names no host: ssh://[user@]<host>"
    return f"{value!r} is not a Docker host URL (unix://, tcp:// or ssh://)"
