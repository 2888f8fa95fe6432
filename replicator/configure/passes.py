"""Several passes of the site playbook in one ansible-playbook run.

The idempotence gate plays site.yml twice. Two ansible-playbook runs would
start everything twice: the controller (inventory, collections, strategy) and,
under Mitogen, one Python interpreter in every container, fed Mitogen's core
and the modules again (about 0.7 s of a core a container, issue #9). One run
given the playbook twice (`ansible-playbook site.yml site.yml`) keeps them all:
Mitogen's contexts live for the whole process, across playbooks.

Ansible sends its recap (`playbook_on_stats`) at the end of every playbook, each
one the running total of the run so far: a pass ends at its recap, and its host
stats are that recap less the one before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from replicator.configure.results import EventHandler, HostStats, PlaybookResult, parse_events

PassStart = Callable[[int], EventHandler | None]
PassEnd = Callable[[int, PlaybookResult], None]


def less(total: dict[str, HostStats], before: dict[str, HostStats]) -> dict[str, HostStats]:
    """Per-host stats of a pass: the run's totals at its end less those at its start."""
    out: dict[str, HostStats] = {}
    for host, stats in total.items():
        prior = before.get(host, HostStats())
        out[host] = HostStats(**{f.name: getattr(stats, f.name) - getattr(prior, f.name)
                                 for f in fields(HostStats)})
    return out


class PassSplitter:
    """Cuts the event stream of one run into passes, as the events arrive.

    `on_start(n)` gives the handler for pass n's events; `on_end(n, result)`
    hears each pass as soon as its recap arrives, so progress and the per-pass
    table show as they would for separate runs. A pass that failed stops the
    run (`cancel_requested`): the next pass would only repeat the failure.
    """

    def __init__(self, labels: Sequence[str], *, check: bool,
                 on_start: PassStart | None = None, on_end: PassEnd | None = None) -> None:
        self.labels = list(labels)
        self.count = len(self.labels)
        self.check = check
        self.results: list[PlaybookResult] = []
        self._on_start = on_start
        self._on_end = on_end
        self._events: list[Mapping[str, Any]] | None = None  # None: between passes
        self._handler: EventHandler | None = None
        self._totals: dict[str, HostStats] = {}
        self._started = time.monotonic()
        self._stop = False

    def handle(self, event: Mapping[str, Any]) -> None:
        if self._stop:
            return  # the run is being cancelled: a failed pass is not repeated
        if self._events is None:
            self._open()
        assert self._events is not None
        self._events.append(event)
        if self._handler is not None:
            self._handler(event)
        if event.get("event") == "playbook_on_stats":
            self._close(status=None, rc=None)

    def cancel_requested(self) -> bool:
        return self._stop

    def finish(self, *, status: str, rc: int, artifact_dir: Any) -> list[PlaybookResult]:
        """The passes, once the run is over: the one it ended in takes the run's status."""
        if self._events is not None or not self.results:
            self._close(status=status, rc=rc)  # ended without a recap (or before any event)
        elif len(self.results) == self.count and not self._stop:
            last = self.results[-1]
            last.status, last.rc = status, rc
        for result in self.results:
            result.artifact_dir = artifact_dir
        return self.results

    # ------------------------------------------------------------------ internals
    def _open(self) -> None:
        self._events = []
        self._handler = self._on_start(len(self.results) + 1) if self._on_start else None

    def _close(self, *, status: str | None, rc: int | None) -> None:
        events = self._events or []
        self._events = None
        totals, changes, failures, unreachable = parse_events(events)
        hosts = less(totals, self._totals)
        self._totals = totals or self._totals
        if status is None:
            status, rc = ("successful", 0) if not failures and not unreachable else ("failed", 2)
        number = len(self.results) + 1
        now = time.monotonic()
        result = PlaybookResult(status=status, rc=int(rc if rc is not None else 2),
                                seconds=now - self._started, check=self.check, hosts=hosts,
                                changes=changes, failures=failures, unreachable=unreachable,
                                label=self.labels[min(number, self.count) - 1])
        self._started = now
        self.results.append(result)
        if self._on_end:
            self._on_end(number, result)
        if not result.succeeded and number < self.count:
            self._stop = True
