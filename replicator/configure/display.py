"""Progress and summaries of configure runs on a rich console."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Self

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from replicator.configure.results import DONE_TASK, PlaybookResult, _task_of, failure_message


class PassProgress:
    """Live view of one playbook pass: hosts done / total, the slowest host, running counts.

    Fed with ansible-runner events (`on_event`); failures are printed as they
    happen, above the bar. The slowest host is the one that has been running
    longest among those not done (once all are done: the one that took longest),
    timed from its first task.
    """

    def __init__(self, console: Console, hosts: list[str], title: str) -> None:
        self.console = console
        self.hosts = set(hosts)
        self.title = title
        self.done: set[str] = set()
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0}
        self.task = ""
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self._progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.fields[title]}[/]"), BarColumn(),
            MofNCompleteColumn(), TextColumn("hosts"), TimeElapsedColumn(),
            TextColumn("{task.fields[counts]}"), TextColumn("[dim]{task.fields[current]}[/]"),
            console=console, transient=False, disable=not console.is_terminal)
        self._bar = self._progress.add_task("pass", total=len(self.hosts) or None,
                                            title=title, counts="", current="")

    def slowest(self, now: float | None = None) -> tuple[str, float] | None:
        """(host, seconds): the longest-running unfinished host, else the longest overall."""
        now = time.monotonic() if now is None else now
        running = {h: now - t for h, t in self.started.items() if h not in self.done}
        if not running:
            running = {h: self.finished[h] - t for h, t in self.started.items()
                       if h in self.finished}
        if not running:
            return None
        host = max(running, key=lambda h: running[h])
        return host, running[host]

    def _finish(self, host: str) -> None:
        self.done.add(host)
        self.finished.setdefault(host, time.monotonic())
        self._last_line = 0

    def __enter__(self) -> Self:
        self._progress.start()
        if not self.console.is_terminal:
            self.console.print(f"[bold]{escape(self.title)}[/]: {len(self.hosts)} hosts",
                               highlight=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self._refresh()
        self._progress.stop()

    def _refresh(self) -> None:
        c = self.counts
        counts = f"ok={c['ok']} changed={c['changed']}"
        if c["failed"] or c["unreachable"]:
            counts += f" [red]failed={c['failed']} unreachable={c['unreachable']}[/]"
        slowest = self.slowest()
        current = f"slowest {slowest[0]} {slowest[1]:.0f} s" if slowest else self.task[:60]
        self._progress.update(self._bar, completed=len(self.done), counts=counts,
                              current=escape(current))

    def on_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        host = data.get("host")
        if host and kind.startswith("runner_on_"):
            self.started.setdefault(host, time.monotonic())
        if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            task, role = _task_of(data)
            self.task = f"{role} : {task}" if role else task
        elif kind == "runner_on_ok":
            self.counts["ok"] += 1
            if (data.get("res") or {}).get("changed"):
                self.counts["changed"] += 1
            task, _role = _task_of(data)
            if task == DONE_TASK and host:
                self._finish(host)
                seconds = self.finished[host] - self.started.get(host, self.finished[host])
                self._plain(f"  {host}: configured in {seconds:.1f} s "
                            f"({len(self.done)}/{len(self.hosts)})")
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            self.counts["failed"] += 1
            task, role = _task_of(data)
            if host:
                self._finish(host)
            label = f"{role} : {task}" if role else task
            self._progress.console.print(
                f"[red]failed:[/] {escape(str(host))}: {escape(label)}: "
                f"{escape(failure_message(data.get('res')))}", highlight=False)
        elif kind == "runner_on_unreachable":
            self.counts["unreachable"] += 1
            if host:
                self._finish(host)
            self._progress.console.print(
                f"[red]unreachable:[/] {escape(str(host))}: "
                f"{escape(failure_message(data.get('res')))}", highlight=False)
        elif not kind.startswith("runner_on_"):
            return
        self._refresh()

    def _plain(self, text: str) -> None:
        # Without a terminal (CI logs) the bar is off: print a line per host instead.
        if not self.console.is_terminal:
            self.console.print(escape(text), highlight=False)


def host_table(result: PlaybookResult, title: str) -> Table:
    """The per-host recap: ok / changed / failed / unreachable (and skipped)."""
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    table.add_column("Host", no_wrap=True, overflow="ellipsis")
    for col in ("ok", "changed", "failed", "unreachable", "skipped"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for host in sorted(result.hosts):
        stats = result.hosts[host]
        changed = f"[yellow]{stats.changed}[/]" if stats.changed else "0"
        failed = f"[red]{stats.failed}[/]" if stats.failed else "0"
        unreachable = f"[red]{stats.unreachable}[/]" if stats.unreachable else "0"
        table.add_row(host, str(stats.ok), changed, failed, unreachable, str(stats.skipped))
    return table


def summary_line(result: PlaybookResult) -> str:
    hosts = result.hosts.values()
    return (f"{len(result.hosts)} hosts in {result.seconds:.1f} s: "
            f"ok={sum(h.ok for h in hosts)} changed={sum(h.changed for h in hosts)} "
            f"failed={sum(h.failed for h in hosts)} unreachable={sum(h.unreachable for h in hosts)}")
