"""The untracked host override of the stacks' engines.

`replicator hosts up` writes `.replicator/hosts/<edition>/override.json`:
stack -> the `replicator:*` settings that point it at the simulated hosts
(`dockerHost`, `dockerHosts`, `wanEncrypted`). Every reader of a stack's
settings (the CLI and the Pulumi program alike) lays it over the tracked stack
file, so no tracked file changes; `hosts down` deletes it and the stacks are
back on their files' engines.

Kept free of Docker and of the topology model: the settings loader imports it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from replicator.errors import InputError
from replicator.paths import work_dir

OVERRIDE_FILE = "override.json"


class StackOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dockerHost: str  # noqa: N815 - the stack file's own key
    dockerHosts: list[str] | None = None  # noqa: N815
    wanEncrypted: bool | None = None  # noqa: N815


class HostOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edition: str
    stacks: dict[str, StackOverride]


def override_path(project_root: Path, edition: str) -> Path:
    return work_dir(project_root) / "hosts" / edition / OVERRIDE_FILE


def read_override(project_root: Path, edition: str) -> HostOverride | None:
    path = override_path(project_root, edition)
    try:
        return HostOverride.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, ValidationError) as exc:
        raise InputError(f"the host override is not valid: {str(exc).splitlines()[0]}",
                         file=path, fix=f"run `replicator hosts up --edition {edition}` again "
                                        "to rewrite it, or `replicator hosts down` to drop it"
                         ) from None


def override_config(project_root: Path | None, edition: object, stack: str) -> dict[str, object]:
    """The `replicator:*` keys the override sets for `stack` ({} when there is none)."""
    if project_root is None or not isinstance(edition, str) or not edition:
        return {}
    found = read_override(project_root, edition)
    entry = found.stacks.get(stack) if found else None
    if entry is None:
        return {}
    return {f"replicator:{k}": v for k, v in entry.model_dump(exclude_none=True).items()}
