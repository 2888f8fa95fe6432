"""Which engine runs the stacks: the embedded one, or a real Pulumi CLI.

`auto` picks the Pulumi CLI when one is on PATH and the embedded engine
otherwise; both run the same program on the same stack files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.engine.runner import StackRunner
from replicator.errors import EngineUnavailableError, InputError

ENGINES = ("auto", "embedded", "pulumi")


def select_backend(engine: str, project_root: Path, workdir: Path, *, parallel: int = DEFAULT_PARALLEL):
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", path="--engine", fix=f"use one of: {', '.join(ENGINES)}")
    has_cli = shutil.which("pulumi") is not None
    if engine == "pulumi" and not has_cli:
        raise EngineUnavailableError(
            "--engine pulumi needs the Pulumi CLI, and no `pulumi` is on PATH",
            fix="install the Pulumi CLI, or use --engine embedded (the default here)",
        )
    if engine == "pulumi" or (engine == "auto" and has_cli):
        from replicator.engine.pulumi_cli import PulumiCliRunner

        return PulumiCliRunner(project_root, workdir)
    return StackRunner(project_root, workdir, parallel=parallel)
