"""The entry points: deploy, configure, verify, report. Each takes one options object,
reports through `on_event` and returns a typed result.

They raise `replicator.errors` exceptions when they cannot run (bad input: exit 2; no
engine: exit 3; ...). An operation that ran and failed is in the result
(`succeeded`, `exit_code`): the caller decides what to show and how to exit.
Heavy modules (the engine, Ansible, pytest) load only when a verb runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replicator.api.events import (
    AnsibleEvent,
    ConfigureFinished,
    ConfigureStarted,
    DiagnosticEvent,
    EventHandler,
    PassFinished,
    PassStarted,
    ReportStarted,
    ResourceEvent,
    StackFinished,
    StackStarted,
    VerifyStarted,
    ignore,
)
from replicator.api.options import ConfigureOptions, DeployOptions, ReportOptions, VerifyOptions
from replicator.api.targets import Targets, resolve
from replicator.errors import ExitCode, InputError
from replicator.paths import find_project_root, work_dir
from replicator.stacks import CheckedStack, resolve_targets

if TYPE_CHECKING:
    from replicator.configure import ConfigureResult
    from replicator.configure.results import PlaybookResult
    from replicator.engine.events import Diagnostic, Step
    from replicator.engine.runner import RunResult
    from replicator.report import ReportResult
    from replicator.verification.result import VerificationResult


def project_root(root: Path | None) -> Path:
    return root if root is not None else find_project_root()


# --------------------------------------------------------------------------- deploy
@dataclass
class DeployResult:
    verb: str
    results: list[RunResult]  # one per stack that ran, in the order they ran

    @property
    def succeeded(self) -> bool:
        return bool(self.results) and all(r.succeeded for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.succeeded else ExitCode.FAILED

    @property
    def changes(self) -> int:
        return sum(r.changes for r in self.results)

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.results]


class _ForwardingSink:
    """The engine's `EventSink` for one stack, turned into API events."""

    def __init__(self, stack: str, on_event: EventHandler) -> None:
        self.stack = stack
        self.on_event = on_event

    def step_planned(self, step: Step) -> None:
        self.on_event(ResourceEvent(self.stack, "planned", step))

    def step_started(self, step: Step) -> None:
        self.on_event(ResourceEvent(self.stack, "started", step))

    def step_finished(self, step: Step) -> None:
        self.on_event(ResourceEvent(self.stack, "finished", step))

    def diagnostic(self, diag: Diagnostic) -> None:
        self.on_event(DiagnosticEvent(self.stack, diag))


def deploy(options: DeployOptions, on_event: EventHandler = ignore) -> DeployResult:
    """preview | up | destroy | refresh on the stacks the options name."""
    targets = resolve(options.stack, options.edition, cwd=options.cwd, engine=options.engine,
                      backend_url=options.backend_url, parallel=options.parallel,
                      root=options.root)
    return run_targets(targets, options.verb, on_event, refresh=options.refresh)


def run_targets(targets: Targets, verb: str, on_event: EventHandler = ignore, *,
                refresh: bool = False) -> DeployResult:
    """Run `verb` on resolved targets: concurrently with the embedded engine, else one by one."""
    from replicator.engine import Mode, StackRunner
    from replicator.engine.multistack import run_stacks

    mode = Mode(verb)
    runner = targets.runner
    names = targets.names
    concurrent = isinstance(runner, StackRunner) and len(names) > 1

    def make_sink(stack: str) -> _ForwardingSink:
        on_event(StackStarted(stack, mode.value, concurrent))
        return _ForwardingSink(stack, on_event)

    results: list[RunResult] = []
    if concurrent:
        results = run_stacks(runner, names, mode, make_sink, refresh_first=refresh)
    else:
        # One by one: dependents are destroyed before the stack they reference.
        for name in reversed(names) if mode == Mode.DESTROY else names:
            result = runner.run(name, mode, make_sink(name), refresh_first=refresh)
            results.append(result)
            if not result.succeeded:
                break
    for result in results:
        on_event(StackFinished(result))
    return DeployResult(mode.value, results)


# --------------------------------------------------------------------------- configure
@dataclass
class ConfigureRun:
    result: ConfigureResult
    seconds: float

    @property
    def succeeded(self) -> bool:
        return self.result.succeeded

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.succeeded else ExitCode.FAILED

    def to_json(self) -> dict[str, Any]:
        doc = self.result.to_json()
        doc["seconds"] = round(self.seconds, 2)
        return doc


def configure(options: ConfigureOptions, on_event: EventHandler = ignore) -> ConfigureRun:
    """The Ansible roles over the deployed containers (inventory from the stack outputs)."""
    root = project_root(options.root)
    return configure_targets(root, resolve_targets(root, options.stack, options.edition),
                             options, on_event)


def configure_targets(root: Path, targets: Sequence[CheckedStack], options: ConfigureOptions,
                      on_event: EventHandler = ignore) -> ConfigureRun:
    from replicator.configure import configure as run_passes
    from replicator.configure import prepare
    from replicator.configure.results import EventHandler as AnsibleHandler

    started = time.monotonic()
    prepared = prepare(root, targets)
    hosts = prepared.inventory.hosts
    if options.limit:
        from replicator.configure.inventory import limit_hosts

        hosts = limit_hosts(prepared.inventory_path, options.limit)
        if not hosts:
            raise InputError(f"--limit {options.limit!r} matches no container of "
                             f"{prepared.label}",
                             fix="use a container name or a group: svc_<service>, "
                                 "site_<site>, app, web, db, venue_<code>...")
    on_event(ConfigureStarted(prepared.label, tuple(hosts), len(prepared.inventory.hosts),
                              prepared.inventory_path, bool(options.limit)))

    def on_pass(number: int, name: str) -> AnsibleHandler:
        on_event(PassStarted(number, name, tuple(hosts)))

        def forward(data: Any) -> None:
            on_event(AnsibleEvent(number, data))

        return forward

    def after_pass(number: int, result: PlaybookResult) -> None:
        on_event(PassFinished(number, result))

    result = run_passes(prepared, check=options.check, limit=options.limit,
                        idempotence=options.idempotence, forks=options.forks,
                        strategy=options.strategy, verbosity=options.verbosity, on_pass=on_pass, after_pass=after_pass)
    run = ConfigureRun(result, time.monotonic() - started)
    on_event(ConfigureFinished(result, run.seconds))
    return run


# --------------------------------------------------------------------------- verify, report
def verify(options: VerifyOptions, on_event: EventHandler = ignore) -> VerificationResult:
    """The testinfra suite against the replica; `result.passed`, `result.exit_code` (6)."""
    root = project_root(options.root)
    names = [t.name for t in resolve_targets(root, options.stack, options.edition)]
    return verify_stacks(root, names, options, on_event)


def verify_stacks(root: Path, names: list[str], options: VerifyOptions,
                  on_event: EventHandler = ignore) -> VerificationResult:
    from replicator.verification import run_verification

    on_event(VerifyStarted(tuple(names), options.level))
    return run_verification(root, names, options.output, level=options.level,
                            workers=options.workers, isolation_sample=options.isolation_sample,
                            seed=options.seed)


def report(options: ReportOptions, on_event: EventHandler = ignore) -> ReportResult:
    """Measure the replica and write the sustainability report."""
    from replicator.report import generate_report

    root = project_root(options.root)
    on_event(ReportStarted(options.stack or options.edition or ""))
    return generate_report(root, work_dir(root), stack=options.stack, edition=options.edition,
                           params_file=options.params_file, sets=options.sets,
                           output=options.output, workers=options.workers)
