"""Starts the Pulumi program in a child process, wired to the embedded engine.

A child process per deployment isolates the program's module state (the SDK
keeps globals, and the program's imports stay in `sys.modules`), as the Pulumi
CLI does with its language host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.engine.host_protocol import MISSING_CONFIG_MARKER
from replicator.engine.deployment import Deployment
from replicator.engine.events import Diagnostic
from replicator.engine.monitor import MonitorServer


@dataclass
class ProgramResult:
    exit_code: int
    shutdown_signalled: bool
    errors: list[str]
    # The config key the program required and the stack does not set, if that stopped it.
    missing_config: str = ""

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.shutdown_signalled


def run_program(
    deployment: Deployment,
    *,
    project_root: Path,
    program: Path,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool,
    parallel: int = DEFAULT_PARALLEL,
) -> ProgramResult:
    with MonitorServer(deployment) as server:
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(config)
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)
        env["PYTHONUNBUFFERED"] = "1"
        env["REPLICATOR_EMBEDDED_ENGINE"] = "1"
        cmd = [
            sys.executable, "-m", "replicator.engine._program_host",
            "--project", project, "--stack", stack,
            "--monitor", server.address, "--engine", server.address,
            "--parallel", str(parallel), "--pwd", str(project_root),
            *(["--dry-run"] if preview else []),
            str(program),
        ]
        proc = subprocess.Popen(cmd, cwd=project_root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        try:
            assert proc.stdout is not None
            missing = ""
            for line in proc.stdout:
                line = line.rstrip("\n")
                if line.startswith(MISSING_CONFIG_MARKER):
                    missing = line[len(MISSING_CONFIG_MARKER):]
                elif line:
                    deployment.sink.diagnostic(Diagnostic("info", line))
            code = proc.wait()
        except BaseException:
            # Interrupted (Ctrl-C): stop the program, keep the checkpointed state.
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        return ProgramResult(code, server.monitor.shutdown_signalled.is_set(),
                             list(server.monitor.errors), missing if code == 2 else "")
