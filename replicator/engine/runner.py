"""One verb (preview, up, destroy, refresh) over one stack, start to finish.

Order of a run: take the stack's lock, load its state, clean what an
interrupted run left half-made, run the program against a `Deployment`, and
only when the program succeeded delete what it no longer declares. The state
is checkpointed after every step, so an error or a kill at any point leaves a
state the next run completes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.engine.backend import Backend, parse_stack_reference
from replicator.engine.deployment import Deployment, Mode, StepFailed
from replicator.engine.events import Diagnostic, EventSink, FanOutSink, RecordingSink, Step
from replicator.engine.program import run_program
from replicator.engine.secrets import SecretsManager
from replicator.engine.state import StackState, StateStore, _now, command_line
from replicator.engine.workspace import Project
from replicator.errors import ExitCode, InputError, ReplicatorError


@dataclass
class RunResult:
    stack: str
    verb: str
    succeeded: bool
    steps: list[Step]
    diagnostics: list[Diagnostic]
    seconds: float
    error: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        from replicator.engine.display import count_steps

        return {op.value: n for op, n in count_steps(self.steps).items()}

    @property
    def changes(self) -> int:
        return sum(n for op, n in self.counts.items() if op != "same")

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.succeeded else ExitCode.FAILED)

    def to_json(self) -> dict[str, Any]:
        from replicator.engine.properties import mask

        return {"stack": self.stack, "verb": self.verb, "succeeded": self.succeeded,
                "error": self.error, "seconds": round(self.seconds, 3), "counts": self.counts,
                "changes": self.changes, "steps": [s.to_json() for s in self.steps],
                "diagnostics": [{"severity": d.severity, "message": d.message, "urn": d.urn}
                                for d in self.diagnostics if d.severity != "debug"],
                "outputs": mask(self.outputs)}


class StackRunner:
    """Runs verbs on the stacks of one project with the embedded engine."""

    def __init__(self, project_root: Path, workdir: Path, *, parallel: int = DEFAULT_PARALLEL,
                 backend: Backend | None = None, new_stacks: bool = False) -> None:
        self.project = Project.load(project_root)
        self.workdir = workdir
        self.parallel = parallel
        self.backend = backend or Backend.for_workdir(workdir)
        # A stack without a stack file runs with an empty config (`pulumi stack init`).
        self.new_stacks = new_stacks
        self.secrets = SecretsManager.for_workdir(self.backend.secrets_dir)
        # Set by multistack.run_stacks while several stacks run at once.
        self.barrier: Any = None

    def store(self, stack: str, project: str | None = None) -> StateStore:
        project = project or self.project.name
        legacy = self.backend.legacy_path(stack) if project == self.project.name else None
        return StateStore(self.workdir, stack, project, self.secrets,
                          path=self.backend.state_path(project, stack), legacy_path=legacy)

    def load_state(self, stack: str) -> StackState:
        return self.store(stack).load()

    def config(self, stack: str) -> tuple[dict[str, str], list[str]]:
        """The stack's config, secure values decrypted; validates the stack name first."""
        return self.project.stack_config(stack, secrets=self.secrets,
                                         must_exist=not self.new_stacks)

    def read_stack_outputs(self, ref: str) -> dict[str, Any] | None:
        """Outputs of another stack, for StackReference (`org/project/stack` or `stack`)."""
        project, stack = parse_stack_reference(ref, self.project.name)
        barrier = self.barrier
        if project == self.project.name and barrier is not None and stack in barrier \
                and not barrier.wait(stack):
            raise StepFailed(f"stack reference {ref}: stack {stack} did not finish successfully "
                             "in this run, so this stack cannot use its outputs")
        store = self.store(stack, project)
        if not store.exists():
            return None
        state = store.load()
        return state.outputs or None

    def run(self, stack: str, verb: Mode, sink: EventSink, *, refresh_first: bool = False) -> RunResult:
        config, secret_keys = self.config(stack)
        store = self.store(stack)
        recorder = RecordingSink()
        fan = FanOutSink(recorder, sink)
        started_wall, started = _now(), time.monotonic()
        locked = verb != Mode.PREVIEW
        if locked:
            store.acquire_lock(command_line())
        deployment: Deployment | None = None
        error = ""
        try:
            old = store.load()
            if refresh_first and verb == Mode.UP and old.resources:
                Deployment(stack=stack, project=self.project.name, store=store, old=old,
                           mode=Mode.REFRESH, sink=fan).refresh()
                old = store.load()
            deployment = Deployment(stack=stack, project=self.project.name, store=store, old=old,
                                    mode=verb, sink=fan, read_stack_outputs=self.read_stack_outputs,
                                    parallel=self.parallel, config=config,
                                    program_dir=self.project.root)
            deployment.resolve_pending()
            if verb == Mode.DESTROY:
                deployment.destroy_all()
            elif verb == Mode.REFRESH:
                deployment.refresh()
            else:
                result = run_program(deployment, project_root=self.project.root,
                                     program=self.project.program, project=self.project.name,
                                     stack=stack, config=config, secret_keys=secret_keys,
                                     preview=verb == Mode.PREVIEW, parallel=self.parallel)
                if result.succeeded and not deployment.failed:
                    deployment.finish()
                elif result.missing_config:
                    error = f"missing required configuration value {result.missing_config}"
                    raise self._missing_config(stack, result.missing_config)
                else:
                    error = _program_error(result.exit_code, result.errors, recorder.diagnostics)
        except StepFailed as exc:
            error = str(exc)
        except ReplicatorError:
            raise
        except KeyboardInterrupt:
            error = "interrupted; the state holds every finished step: run the same command again"
            raise
        finally:
            if deployment is not None and locked:
                deployment.save_final("failed" if error else "succeeded", started_wall)
            if locked:
                store.release_lock()
        if deployment is not None and deployment.engine_error is not None:
            raise deployment.engine_error  # exit 3: the engine, the call, what to do
        outputs = deployment.stack_outputs if deployment else {}
        return RunResult(stack=stack, verb=verb.value, succeeded=not error,
                         steps=list(deployment.steps) if deployment else [],
                         diagnostics=recorder.diagnostics, seconds=time.monotonic() - started,
                         error=error, outputs=outputs)


    def _missing_config(self, stack: str, key: str) -> InputError:
        short = key.split(":", 1)[1] if key.startswith(f"{self.project.name}:") else key
        return InputError(
            f"the program requires the configuration value {key}, which stack {stack} does not set",
            file=self.project.stack_file(stack), path=f"config.{key}",
            fix=f"replicator config set {short} VALUE --stack {stack} --cwd {self.project.root} "
                "(add --secret for a secret)")


def _program_error(code: int, monitor_errors: list[str], diags: list[Diagnostic]) -> str:
    if monitor_errors:
        return monitor_errors[0]
    errors = [d.message.strip() for d in diags if d.severity == "error"]
    if errors:
        lines = errors[-1].splitlines()
        if lines and lines[0].startswith("Traceback"):
            return f"the program failed: {lines[-1]}"
        return lines[0] if lines else "the program failed"
    return f"the program exited with code {code} before finishing"
