"""The environment variables replicator reads, each checked before it is used.

`check_environment` runs when the CLI starts, so a bad value is exit 2 naming
the variable and a fix before any command does anything. Secret values are
never shown in the message.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from replicator.errors import InputError
from replicator.inputs.docker_host import DOCKER_HOST_FIX, docker_host_problem

DOCKER_TIMEOUT_ENV = "REPLICATOR_DOCKER_TIMEOUT"
DEFAULT_DOCKER_TIMEOUT = 120.0  # seconds for one Docker API call (a network create under load)
MAX_DOCKER_TIMEOUT = 3600.0
_MAX_PATH = 4096


def _env_error(name: str, problem: str, fix: str) -> InputError:
    return InputError(problem, path=f"environment variable {name}", fix=fix)


def env_path(name: str) -> Path | None:
    """The path in `name`, or None when unset or empty."""
    value = os.environ.get(name)
    if not value:
        return None
    if len(value) > _MAX_PATH or not value.isprintable():
        raise _env_error(name, "is not a usable path (too long, or control characters)",
                         f"set {name} to a directory path, or unset it")
    return Path(value)


def docker_host_env() -> str | None:
    """DOCKER_HOST if set (checked), else None."""
    value = os.environ.get("DOCKER_HOST")
    if not value:
        return None
    problem = docker_host_problem(value)
    if problem:
        raise _env_error("DOCKER_HOST", problem, DOCKER_HOST_FIX + ", or unset DOCKER_HOST")
    return value


def docker_timeout() -> float:
    """Seconds one Docker API call may take (REPLICATOR_DOCKER_TIMEOUT, default 120)."""
    value = os.environ.get(DOCKER_TIMEOUT_ENV)
    if not value:
        return DEFAULT_DOCKER_TIMEOUT
    fix = (f"set {DOCKER_TIMEOUT_ENV} to a number of seconds from 1 to {MAX_DOCKER_TIMEOUT:.0f}, "
           f"or unset it for {DEFAULT_DOCKER_TIMEOUT:.0f}")
    try:
        seconds = float(value)
    except ValueError:
        raise _env_error(DOCKER_TIMEOUT_ENV, f"{value[:40]!r} is not a number", fix) from None
    if not 1 <= seconds <= MAX_DOCKER_TIMEOUT:
        raise _env_error(DOCKER_TIMEOUT_ENV, f"{seconds:g} s is out of range", fix)
    return seconds


def _check_secrets_key() -> None:
    value = os.environ.get("REPLICATOR_SECRETS_KEY")
    if not value:
        return
    try:
        ok = len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32
    except (binascii.Error, UnicodeEncodeError, ValueError):
        ok = False
    if not ok:  # the value is a secret: never echo it
        raise _env_error("REPLICATOR_SECRETS_KEY",
                         "is not a Fernet key (32 bytes, url-safe base64)",
                         "unset it to use .replicator/secrets.key, or give the key that "
                         "encrypted the state")


def check_environment() -> None:
    """Check every variable replicator reads; raise an InputError for the first bad one."""
    env_path("REPLICATOR_PROJECT")
    home = env_path("REPLICATOR_HOME")
    if home is not None and home.exists() and not home.is_dir():
        raise _env_error("REPLICATOR_HOME", f"{home} exists and is not a directory",
                         "point REPLICATOR_HOME at a directory, or unset it")
    docker_host_env()
    docker_timeout()
    _check_secrets_key()
    profile = env_path("REPLICATOR_PROFILE_PROGRAM")  # a developer's aid: the program's profile
    if profile is not None and not profile.parent.is_dir():
        raise _env_error("REPLICATOR_PROFILE_PROGRAM", f"{profile.parent} is not a directory",
                         "name a file in an existing directory, or unset it")
