"""A runbook step: an Ansible playbook run on the replica with the inventory and
secrets `replicator configure` uses, its outcome summarised as evidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProcedureResult:
    succeeded: bool
    evidence: list[str]


def run_procedure(root: Path, edition: str, playbook: Path) -> ProcedureResult:
    from replicator.configure import prepare
    from replicator.configure.run import run_playbook
    from replicator.stacks import edition_stacks

    prepared = prepare(root, edition_stacks(root, edition), label=f"{edition}-campaign")
    result = run_playbook(root=root, run_dir=prepared.run_dir,
                          inventory=prepared.inventory_path, playbook=playbook,
                          secrets_env=prepared.secrets.env(), label=f"{edition}-procedure")
    evidence = [f"{host}: ok={s.ok} changed={s.changed} failed={s.failed} "
                f"unreachable={s.unreachable}" for host, s in sorted(result.hosts.items())]
    evidence += [f"FAILED: {f.host} {f.task}: {f.message}" for f in result.failures]
    return ProcedureResult(result.succeeded, evidence)
