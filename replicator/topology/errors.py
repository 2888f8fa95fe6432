"""The error every topology or stack-config problem becomes.

A `TopologyError` names the file, the path inside it (``suites[0].services[2].site``),
the 1-based line and a fix. Checks that run before the file is known (model
validators, `Topology` methods) raise it with a path only; the loader then
re-raises it with the file and the lines filled in, so the line logic lives in
one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic_core import PydanticCustomError

from replicator.errors import InputError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    message: str
    path: str | None = None
    fix: str | None = None
    line: int | None = None

    def render(self, file: Path | None) -> str:
        where = []
        if file is not None:
            where.append(f"{file}:{self.line}" if self.line else str(file))
        if self.path:
            where.append(self.path)
        head = ": ".join(where)
        return f"{head}: {self.message}" if head else self.message


MAX_SHOWN = 10  # problems listed after the first: a message stays short, even for a bad 1 MB file


class TopologyError(InputError):
    """A malformed topology file or stack config file (exit code 2).

    `problems` holds every problem found; the first one is also the error's own
    location and fix, and the others are listed after it so one run shows them all.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        path: str | None = None,
        line: int | None = None,
        fix: str | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        first = Problem(message, path, fix, line)
        self.problems: list[Problem] = [first, *(problems or [])[1:]] if problems else [first]
        super().__init__(message, file=file, path=path, line=line, fix=fix)

    @classmethod
    def from_problems(
        cls, problems: Sequence[Problem], *, file: Path | str | None = None
    ) -> TopologyError:
        first = problems[0]
        return cls(
            first.message,
            file=file,
            path=first.path,
            line=first.line,
            fix=first.fix,
            problems=problems,
        )

    def located(self, file: Path | str, line_of: Callable[[str], int | None]) -> TopologyError:
        """The same problems, now naming `file` and the line of each path."""
        problems = [
            replace(p, line=p.line or (line_of(p.path) if p.path else None)) for p in self.problems
        ]
        return TopologyError.from_problems(problems, file=file)

    def render(self) -> str:
        text = super().render()
        others = getattr(self, "problems", [])[1:]
        if others:
            file = self.location.file
            text += f"\n  {len(others)} more problem(s):"
            for problem in others[:MAX_SHOWN]:
                text += f"\n  - {problem.render(file)}"
                if problem.fix:
                    text += f"\n    fix: {problem.fix}"
            if len(others) > MAX_SHOWN:
                text += "\n  ... and more not shown: fix these first, then run again"
        return text


def invalid(message: str, fix: str) -> PydanticCustomError:
    """A validator error that carries its fix through pydantic (as `ctx["fix"]`)."""
    # The message goes through the context, so braces in it are not template fields.
    return PydanticCustomError("invalid", "{message}", {"message": message, "fix": fix})
