"""`stack export` / `stack import`: a stack's state as a Pulumi v3 deployment.

Export prints what `pulumi stack export` prints (`{"version": 3, "deployment":
...}`, secret values as ciphertext). Import checks the deployment against our
model of the format, that it belongs to this stack, and that its secrets
decrypt with this backend's key, then replaces the state atomically under the
stack's lock. An export imported back gives a no-op `up`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replicator.engine.state import StackState, command_line
from replicator.errors import InputError


def export_deployment(runner: Any, stack: str) -> dict[str, Any]:
    store = runner.store(stack)
    if not store.exists():
        raise InputError(f"stack {stack} has no state to export: it has not been deployed",
                         fix=f"run `replicator up {stack}` first")
    checkpoint = store.checkpoint(store.load())
    return {"version": checkpoint["version"], "deployment": checkpoint["checkpoint"]["latest"]}


def import_deployment(runner: Any, stack: str, data: Any, *, source: Path | str = "") -> StackState:
    if not isinstance(data, dict) or data.get("version") != 3 or "deployment" not in data:
        raise InputError("not a Pulumi deployment of version 3", file=source or None,
                         path="version",
                         fix="give the output of `pulumi stack export` or `replicator stack export`")
    store = runner.store(stack)
    deployment = runner.secrets.decrypt_tree(data["deployment"], where=str(source or "the import"))
    state = store.from_deployment(deployment, where=source)
    prefix = f"urn:pulumi:{stack}::{runner.project.name}::"
    foreign = next((r.urn for r in state.resources if not r.urn.startswith(prefix)), None)
    if foreign:
        raise InputError(f"the deployment holds {foreign}, which is not a resource of stack "
                         f"{stack} of project {runner.project.name}", file=source or None,
                         path="deployment.resources",
                         fix="import it into the stack it was exported from")
    store.acquire_lock(command_line())
    try:
        store.save(state)
    finally:
        store.release_lock()
    return state
