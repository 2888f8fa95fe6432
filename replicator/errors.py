"""Errors a user can act on.

Every error the tool raises on bad input or a broken environment is a
`ReplicatorError`: it names the file, the place inside it, the line and the
fix, and carries the process exit code the CLI uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the operation ran and failed (a resource, a check)
    BAD_INPUT = 2  # malformed topology, stack config or command line
    ENGINE_UNAVAILABLE = 3  # no Docker engine, missing image, missing tool
    CONFLICT = 4  # the stack is locked by another run
    CANCELLED = 5  # the user declined the confirmation prompt or interrupted the run
    VERIFY_FAILED = 6  # the replica does not match the declared topology


@dataclass
class Location:
    """Where in a file a problem is: `path` is the dotted/indexed path inside it."""

    file: Path | None = None
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file) + (f":{self.line}" if self.line else ""))
        if self.path:
            parts.append(self.path)
        return ": ".join(parts)


class ReplicatorError(Exception):
    """An error with a message a user can act on."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        path: str | None = None,
        line: int | None = None,
        fix: str | None = None,
        exit_code: ExitCode | None = None,
    ) -> None:
        self.message = message
        self.location = Location(Path(file) if file else None, path, line)
        self.fix = fix
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.render())

    def render(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class InputError(ReplicatorError):
    """Bad user input: topology, stack config, command-line arguments."""

    exit_code = ExitCode.BAD_INPUT


class EngineUnavailableError(ReplicatorError):
    """The Docker engine, an image or a tool is missing."""

    exit_code = ExitCode.ENGINE_UNAVAILABLE


class StackLockedError(ReplicatorError):
    exit_code = ExitCode.CONFLICT


class CancelledError(ReplicatorError):
    """The user interrupted a run (Ctrl-C, SIGTERM) and it stopped cleanly."""

    exit_code = ExitCode.CANCELLED
