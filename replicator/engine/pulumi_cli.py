"""The same stacks under a real Pulumi CLI, through the Automation API.

Used where a `pulumi` binary is installed (not on these machines: no Pulumi
download host is reachable). The backend is a local file backend under the
work dir, so nothing leaves the machine; the stack config files are the same
ones the embedded engine reads (`stackConfigDir: stacks`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from replicator.engine.deployment import Mode
from replicator.engine.events import Diagnostic, EventSink
from replicator.engine.runner import RunResult
from replicator.engine.secrets import SecretsManager


class PulumiCliRunner:
    def __init__(self, project_root: Path, workdir: Path) -> None:
        self.project_root = project_root
        self.workdir = workdir

    def _stack(self, name: str):
        from pulumi import automation as auto

        backend = self.workdir / "pulumi-backend"
        backend.mkdir(parents=True, exist_ok=True)
        # The passphrase secrets provider gets the project's own key, never a literal.
        passphrase = (self.workdir / "secrets.key")
        SecretsManager.for_workdir(self.workdir)
        env = {"PULUMI_BACKEND_URL": f"file://{backend}",
               "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase),
               "PULUMI_SKIP_UPDATE_CHECK": "true"}
        ws = auto.LocalWorkspaceOptions(work_dir=str(self.project_root), env_vars={**os.environ, **env})
        return auto.create_or_select_stack(stack_name=name, work_dir=str(self.project_root),
                                           opts=ws)

    def load_state(self, stack: str):
        raise NotImplementedError("use `pulumi stack export` with the file backend")

    def run(self, stack: str, verb: Mode, sink: EventSink, *, refresh_first: bool = False) -> RunResult:
        started = time.monotonic()
        s = self._stack(stack)

        def on_output(line: str) -> None:
            sink.diagnostic(Diagnostic("info", line))

        error = ""
        try:
            if verb == Mode.PREVIEW:
                s.preview(on_output=on_output)
            elif verb == Mode.UP:
                s.up(on_output=on_output, refresh=refresh_first)
            elif verb == Mode.DESTROY:
                s.destroy(on_output=on_output)
            elif verb == Mode.REFRESH:
                s.refresh(on_output=on_output)
            outputs = {k: v.value for k, v in s.outputs().items()}
        except Exception as exc:  # noqa: BLE001 - the CLI's own message is the best one
            error, outputs = str(exc), {}
        return RunResult(stack=stack, verb=verb.value, succeeded=not error, steps=[],
                         diagnostics=[], seconds=time.monotonic() - started, error=error,
                         outputs=outputs)
