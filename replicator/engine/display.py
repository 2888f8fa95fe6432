"""What a person sees while the engine runs: a plan like `pulumi preview`, live progress.

`ConsoleSink` receives the deployment's events. In preview it collects the
steps and prints the plan as a tree at the end; during up/destroy it prints a
line per finished step (as `pulumi up --non-interactive` does) under a live
status line on a terminal.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Self

from rich.console import Console
from rich.status import Status
from rich.table import Table
from rich.text import Text

from replicator.engine.diff import Op
from replicator.engine.events import Diagnostic, Step
from replicator.engine.properties import MASK

_STYLE = {Op.CREATE: "green", Op.UPDATE: "yellow", Op.REPLACE: "magenta", Op.DELETE: "red",
          Op.SAME: "dim", Op.READ: "cyan", Op.REFRESH: "yellow"}
_PLAN_WORD = {Op.CREATE: "create", Op.UPDATE: "update", Op.REPLACE: "replace", Op.DELETE: "delete",
              Op.SAME: "", Op.READ: "read", Op.REFRESH: "refresh"}
_SUMMARY_ORDER = [Op.CREATE, Op.UPDATE, Op.REPLACE, Op.DELETE, Op.SAME]


class ConsoleSink:
    def __init__(self, console: Console, *, stack: str, verb: str, show_same: bool = False,
                 secrets: list[str] | None = None, prefix: str = "", live: bool = True) -> None:
        self.console = console
        self.stack = stack
        self.verb = verb
        self.show_same = show_same
        # Several stacks at once: lines carry the stack's name, no live status line
        # (a terminal has room for one).
        self.prefix = prefix
        self.live = live
        self.planned: list[Step] = []
        self.finished: list[Step] = []
        self.running: set[str] = set()
        self._secrets = [s for s in (secrets or []) if s]
        self._lock = threading.Lock()
        self._status: Status | None = None

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> Self:
        title = {"preview": "Previewing update", "up": "Updating", "destroy": "Destroying",
                 "refresh": "Refreshing"}.get(self.verb, self.verb)
        self.console.print(f"[bold]{title}[/] ([cyan]{self.stack}[/])")
        if self.console.is_terminal and self.verb != "preview" and self.live:
            self._status = self.console.status(self._status_text())
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _status_text(self) -> str:
        return (f"{self.verb} {self.stack}: {len(self.finished)} done, "
                f"{len(self.running)} in progress")

    # -- events ------------------------------------------------------------------
    def step_planned(self, step: Step) -> None:
        with self._lock:
            self.planned.append(step)

    def step_started(self, step: Step) -> None:
        with self._lock:
            self.running.add(step.urn)
            if self._status is not None:
                self._status.update(self._status_text())

    def step_finished(self, step: Step) -> None:
        with self._lock:
            self.running.discard(step.urn)
            self.finished.append(step)
            if self._status is not None:
                self._status.update(self._status_text())
        if step.op == Op.SAME and not self.show_same and not step.error:
            return
        if not step.custom and step.op == Op.SAME:
            return
        style = "red" if step.error else _STYLE.get(step.op, "")
        word = f"{step.op.value} failed" if step.error else step.op.past
        line = Text(self.prefix, style="cyan")
        line.append(f" {step.op.symbol:<2} ", style=style)
        line.append(f"{_short_type(step.type):<28} ", style="bold" if step.custom else "")
        line.append(f"{step.name} ")
        line.append(f"{word} ({step.seconds:.1f}s)", style=style)
        if step.diff and step.diff.describe() and step.op != Op.SAME:
            line.append(f"  [{self._scrub(step.diff.describe())}]", style="dim")
        self.console.print(line, soft_wrap=True)
        if step.error:
            self.console.print(Text(f"    {self._scrub(step.error)}", style="red"), soft_wrap=True)

    def diagnostic(self, diag: Diagnostic) -> None:
        if diag.severity == "debug":
            return
        message = self._scrub(_readable(diag.message.rstrip()))
        style = {"error": "red", "warning": "yellow"}.get(diag.severity, "")
        prefix = f"{diag.severity}: " if diag.severity in ("error", "warning") else ""
        where = f"{diag.urn.split('::')[-1]}: " if diag.urn else ""
        line = Text(self.prefix, style="cyan")
        line.append(f"    {prefix}{where}{message}", style=style)
        self.console.print(line, soft_wrap=True)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    # -- rendering -----------------------------------------------------------------
    def print_plan(self) -> None:
        self.console.print(render_plan(self.planned, show_same=self.show_same))

    def print_summary(self, steps: list[Step], *, preview: bool, seconds: float) -> None:
        if self.prefix:
            self.console.print(f"[bold]{self.stack}[/]")
        self.console.print(render_summary(steps, preview=preview))
        self.console.print(f"Duration: {seconds:.1f}s")


_RPC_DETAILS = re.compile(r'^\s*details = "(.*)"$', re.M)


def _readable(message: str) -> str:
    """A failed resource seen from the program: the SDK's gRPC traceback says only what
    the engine said (its `details`), which is all the user needs."""
    if message.startswith("Traceback") and "_InactiveRpcError" in message:
        found = _RPC_DETAILS.search(message)
        if found:
            return found.group(1)
    return message


def _short_type(type_: str) -> str:
    return type_.replace("docker:index/", "docker:").replace("replicator:index:", "replicator:")


def _tree_prefixes(steps: list[Step]) -> list[tuple[Step, str]]:
    by_urn = {s.urn: s for s in steps}
    children: dict[str, list[Step]] = {}
    roots: list[Step] = []
    for s in steps:
        if s.parent and s.parent in by_urn and s.parent != s.urn:
            children.setdefault(s.parent, []).append(s)
        else:
            roots.append(s)
    out: list[tuple[Step, str]] = []

    def walk(step: Step, prefix: str, last: bool, depth: int) -> None:
        out.append((step, prefix + ("" if depth == 0 else ("└─ " if last else "├─ "))))
        kids = children.get(step.urn, [])
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("" if depth == 0 else ("   " if last else "│  ")), i == len(kids) - 1,
                 depth + 1)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1, 0)
    return out


def render_plan(steps: list[Step], *, show_same: bool = False) -> Table:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("", width=2)
    table.add_column("Type")
    table.add_column("Name")
    table.add_column("Plan")
    table.add_column("Info", style="dim")
    for step, prefix in _tree_prefixes(steps):
        if step.op == Op.SAME and not show_same and step.custom:
            continue
        style = _STYLE.get(step.op, "")
        table.add_row(Text(step.op.symbol, style=style), Text(prefix + _short_type(step.type)),
                      step.name, Text(_PLAN_WORD.get(step.op, ""), style=style),
                      step.diff.describe() if step.diff else "")
    return table


def count_steps(steps: list[Step]) -> Counter[Op]:
    counts: Counter[Op] = Counter()
    for s in steps:
        if s.op == Op.READ or (not s.custom and s.op == Op.SAME):
            continue
        if s.type.startswith("pulumi:providers:"):
            continue
        counts[s.op] += 1
    return counts


def render_summary(steps: list[Step], *, preview: bool) -> Text:
    counts = count_steps(steps)
    text = Text("Resources:\n", style="bold")
    for op in _SUMMARY_ORDER:
        n = counts.get(op, 0)
        if not n:
            continue
        if op == Op.SAME:
            text.append(f"    {n} unchanged\n")
            continue
        verb = {Op.CREATE: "create", Op.UPDATE: "update", Op.REPLACE: "replace",
                Op.DELETE: "delete"}[op]
        phrase = f"to {verb}" if preview else _PAST[op]
        text.append(f"    {op.symbol} {n} {phrase}\n", style=_STYLE[op])
    if not any(counts.get(op) for op in _SUMMARY_ORDER):
        text.append("    no resources\n")
    return text


_PAST = {Op.CREATE: "created", Op.UPDATE: "updated", Op.REPLACE: "replaced", Op.DELETE: "deleted"}
