"""The stacks of an edition: which exist, in which order they deploy, and their checks.

Everything here runs before anything touches Docker: a malformed topology, a
wrong stack name or a bad stack file stops the command with an error that
names the file, the field and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from replicator.errors import InputError
from replicator.inputs import check_edition_name, check_stack_name
from replicator.topology import (
    StackSettings,
    Topology,
    check_stack_set,
    list_stacks,
    load_edition,
    load_stack_settings,
)


@dataclass(frozen=True)
class CheckedStack:
    name: str
    settings: StackSettings
    topology: Topology


def check_stack(project_root: Path, stack: str) -> CheckedStack:
    known = list_stacks(project_root)
    if stack not in known:
        raise InputError(
            f"no stack named {stack!r} (no stacks/Pulumi.{stack}.yaml)",
            fix=f"use one of: {', '.join(known) or 'none defined'}",
        )
    settings = load_stack_settings(project_root, stack)
    topology = load_edition(project_root, settings.edition)
    settings.check_against(topology)
    return CheckedStack(stack, settings, topology)


def edition_stacks(project_root: Path, edition: str) -> list[CheckedStack]:
    """The stacks of an edition, the WAN owner first (the others reference it)."""
    topology = load_edition(project_root, edition)
    names = [s for s in list_stacks(project_root) if s.startswith(f"{edition}-")]
    if not names:
        raise InputError(
            f"edition {edition!r} has no stacks (no stacks/Pulumi.{edition}-<site>.yaml)",
            fix="create one stack file per site, e.g. stacks/Pulumi.{edition}-itl.yaml",
        )
    checked = [check_stack(project_root, n) for n in names]
    check_stack_set([c.settings for c in checked], topology)
    owner = topology.wan.owner
    checked.sort(key=lambda c: (c.settings.site != owner, c.name))
    if checked[0].settings.site != owner:
        raise InputError(
            f"edition {edition} has no stack for site {owner}, which owns the inter-site networks",
            fix=f"add stacks/Pulumi.{edition}-{owner}.yaml",
        )
    return checked


def resolve_targets(project_root: Path, stack: str | None, edition: str | None) -> list[CheckedStack]:
    if stack and edition:
        raise InputError("give a STACK or --edition, not both",
                         fix="e.g. `replicator up paris2024-itl` or `replicator up --edition paris2024`")
    if stack:
        return [check_stack(project_root, check_stack_name(stack, "STACK"))]
    if edition:
        return edition_stacks(project_root, check_edition_name(edition, "--edition"))
    raise InputError("which stack? give a STACK or --edition",
                     fix=f"stacks: {', '.join(list_stacks(project_root)) or 'none'}")
