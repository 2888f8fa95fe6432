"""The CLI's renderers of API events (`replicator.api.events`) on the console."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from replicator.api import events as ev

if TYPE_CHECKING:
    from replicator.configure.display import PassProgress
    from replicator.engine.display import ConsoleSink


class DeployRenderer:
    """A `pulumi preview`-like plan and progress lines per stack; `quiet` with --json."""

    def __init__(self, out: Console, *, show_same: bool = False, quiet: bool = False) -> None:
        self.out = out
        self.show_same = show_same
        self.quiet = quiet
        self.sinks: dict[str, ConsoleSink] = {}
        self.lock = threading.Lock()  # stacks run concurrently: one console, one writer

    def __call__(self, event: ev.Event) -> None:
        if self.quiet:
            return
        with self.lock:
            self._render(event)

    def _render(self, event: ev.Event) -> None:
        from replicator.engine.display import ConsoleSink

        if isinstance(event, ev.StackStarted):
            sink = ConsoleSink(self.out, stack=event.stack, verb=event.verb,
                               show_same=self.show_same,
                               prefix=f"{event.stack}: " if event.concurrent else "",
                               live=not event.concurrent)
            sink.__enter__()
            self.sinks[event.stack] = sink
        elif isinstance(event, ev.ResourceEvent):
            sink = self.sinks[event.stack]
            {"planned": sink.step_planned, "started": sink.step_started,
             "finished": sink.step_finished}[event.phase](event.step)
        elif isinstance(event, ev.DiagnosticEvent):
            self.sinks[event.stack].diagnostic(event.diagnostic)
        elif isinstance(event, ev.StackFinished):
            result = event.result
            done = self.sinks.pop(result.stack, None)
            if done is not None:
                done.__exit__(None, None, None)
                if result.verb == "preview":
                    done.print_plan()
                done.print_summary(result.steps, preview=result.verb == "preview",
                                   seconds=result.seconds)

    def outcome(self, results: list[Any], verb: str) -> None:
        """After the run: the errors, and how to finish the job."""
        for result in results:
            if not result.succeeded:
                self.out.print(f"[bold red]error:[/] {escape(f'{result.stack}: {result.error}')}",
                               highlight=False)
        if any(not r.succeeded for r in results) and verb != "preview":
            self.out.print("[dim]The state holds every step that finished: fix the cause and "
                           "run the same command again to finish the job.[/]")


_PASS_TITLES = {"configure": "configure", "check": "dry run (--check)",
                "idempotence": "idempotence pass"}


class ConfigureRenderer:
    """A progress bar per Ansible pass, then its per-host table; nothing when `quiet`."""

    def __init__(self, out: Console, *, quiet: bool = False, root: Any = None) -> None:
        self.out = out
        self.quiet = quiet
        self.root = root
        self.bars: dict[int, PassProgress] = {}

    def __call__(self, event: ev.Event) -> None:
        from replicator.configure.display import PassProgress, host_table, summary_line

        if self.quiet:
            return
        if isinstance(event, ev.ConfigureStarted):
            path = event.inventory_path
            shown = path.relative_to(self.root) if self.root and path.is_relative_to(self.root) \
                else path
            what = f"{len(event.hosts)} of {event.total_hosts}" if event.limited \
                else str(len(event.hosts))
            self.out.print(f"[bold]configure[/] {escape(event.label)}: {what} containers, "
                           f"inventory {escape(str(shown))}", highlight=False)
        elif isinstance(event, ev.PassStarted):
            bar = PassProgress(self.out, list(event.hosts),
                               f"pass {event.number}: {_PASS_TITLES.get(event.name, event.name)}")
            bar.__enter__()
            self.bars[event.number] = bar
        elif isinstance(event, ev.AnsibleEvent):
            if event.number in self.bars:
                self.bars[event.number].on_event(event.data)
        elif isinstance(event, ev.PassFinished):
            done = self.bars.pop(event.number, None)
            if done is not None:
                done.__exit__(None, None, None)
            title = {1: "Pass 1", 2: "Pass 2 (idempotence)"}.get(event.number,
                                                                 f"Pass {event.number}")
            self.out.print(host_table(event.result, f"{title}: {summary_line(event.result)}"))
            slowest = done.slowest() if done is not None else None
            if slowest:
                self.out.print(f"slowest host: {escape(slowest[0])} ({slowest[1]:.1f} s)",
                               highlight=False)
        elif isinstance(event, ev.ConfigureFinished):
            print_configure_outcome(self.out, event.result, event.seconds)


def print_configure_outcome(out: Console, result: Any, seconds: float) -> None:
    last = result.passes[-1] if result.passes else None
    if last is not None and not last.succeeded:
        for f in [*last.failures, *last.unreachable]:
            what = "unreachable" if f in last.unreachable else "failed"
            out.print(f"[bold red]error:[/] {escape(f.host)}: task [{escape(f.label)}] {what}: "
                      f"{escape(f.message or 'no message')}", highlight=False)
        if not last.failures and not last.unreachable:
            tail = ""
            if last.artifact_dir and (last.artifact_dir / "stdout").exists():
                lines = (last.artifact_dir / "stdout").read_text(errors="replace").splitlines()
                tail = "\n".join(lines[-15:])
            out.print(f"[bold red]error:[/] ansible-playbook ended with status {last.status} "
                      f"(rc {last.rc})\n{escape(tail)}", highlight=False)
        if last.artifact_dir:
            out.print(f"[dim]artifacts: {escape(str(last.artifact_dir))}[/]", highlight=False)
        return
    if result.idempotence is not None:
        lines = result.idempotence.lines()
        if result.idempotence.passed:
            out.print(f"[green]{escape(lines[0])}[/] (second pass: changed=0 on every host)",
                      highlight=False)
        else:
            out.print(f"[bold red]error:[/] {escape(lines[0])}", highlight=False)
            for line in lines[1:]:
                out.print(f"  {escape(line)}", highlight=False)
            return
    changed = last.changed_total if last else 0
    if last is not None and last.check:
        out.print(f"[green]dry run[/] of {escape(result.prepared.label)} in {seconds:.1f} s: "
                  f"{changed} task results would change", highlight=False)
        return
    out.print(f"[green]configured[/] {escape(result.prepared.label)} in {seconds:.1f} s "
              f"(changed {changed} task results)", highlight=False)
